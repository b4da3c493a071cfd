//! Typed views of Proxmox devices, read from checked property strings, with defaults applied.
pub mod args;
pub mod display;
pub mod drive;
pub mod hostpci;
pub mod lists;
pub mod machine;
pub mod net;
pub mod rng;
pub mod rules;
pub mod usb;
