//! Typed views of Proxmox devices, read from checked property strings, with defaults applied.
pub mod drive;
pub mod rng;
