//! Proxmox's defaults, in one place (QemuServer.pm `$confdesc`, RNG.pm, CPUConfig.pm), so the
//! mapping never has to know what an absent key means.

/// `memory` in MiB.
pub const MEMORY_MIB: u64 = 512;
pub const SOCKETS: u32 = 1;
/// `cpu` with KVM; TCG guests get `qemu64` (CPUConfig.pm `get_cpu_options`).
pub const CPU_MODEL_KVM: &str = "kvm64";
pub const CPU_MODEL_TCG: &str = "qemu64";
/// virtio-net ring sizes Proxmox sets from machine version 7.1 (`print_netdevice_full`).
pub const NET_RX_QUEUE_SIZE: u32 = 1024;
pub const NET_TX_QUEUE_SIZE: u32 = 256;
/// Ports on Proxmox's qemu-xhci (`p2=15,p3=15`).
pub const XHCI_PORTS: u32 = 15;
/// rbd storage: pool and ceph user when storage.cfg names none (RBDPlugin, CephConfig.pm).
pub const RBD_POOL: &str = "rbd";
pub const RBD_USER: &str = "admin";
/// The msgr2 monitor port Proxmox's blockdev puts on monhost entries without one.
pub const CEPH_MON_PORT: &str = "3300";
pub const ISCSI_PORT: &str = "3260";
/// Where pve-storage keeps the `local` storage, whatever storage.cfg says.
pub const LOCAL_PATH: &str = "/var/lib/vz";
