//! pve2virt: Proxmox VE VM config → libvirt domain XML.
pub mod pve;
