//! The libvirt side: the domain model (serde structs named by XML path, as libvirt's Go bindings
//! name them), the reader that parses domain XML into it and the writer that prints it the way
//! `virsh dumpxml` does.
pub mod domain;
pub mod read;
pub mod write;

pub use domain::*;
pub use read::{from_xml, ReadError};
pub use write::{to_xml, WriteError};
