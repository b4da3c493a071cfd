//! The libvirt side: the domain model (serde structs named by XML path, as libvirt's Go bindings
//! name them) and the writer that prints it the way `virsh dumpxml` does.
pub mod domain;
pub mod write;

pub use domain::*;
