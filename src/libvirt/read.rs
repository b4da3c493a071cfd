//! Reads libvirt domain XML into the model. Elements and attributes the model does not carry are
//! skipped, so `virsh dumpxml` output and libvirt's own test XML parse; what the model carries
//! writes back as [`to_xml`](super::to_xml) lays it out.

use super::Domain;

#[derive(Debug, thiserror::Error)]
#[error("cannot read the domain XML: {0}")]
pub struct ReadError(#[from] quick_xml::DeError);

/// Parses a `<domain>` document.
pub fn from_xml(xml: &str) -> Result<Domain, ReadError> {
    Ok(quick_xml::de::from_str(xml)?)
}
