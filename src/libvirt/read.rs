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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::libvirt::*;

    /// What the model does not carry is skipped, wherever it is (libvirt adds ids, aliases,
    /// seclabels and elements newer than the model to live XML).
    #[test]
    fn unknown_elements_and_attributes_are_skipped() {
        let xml = "<domain type='kvm' id='7'><name>vm100</name><resource><partition>/machine</partition></resource>
            <memory unit='MiB' dumpCore='on'>512</memory><os firmware='efi'><type arch='x86_64' machine='q35'>hvm</type></os>
            <devices><disk type='file' device='disk' snapshot='no'><source file='/a.qcow2' index='1'><seclabel/></source>
            <backingStore/><target dev='vda' bus='virtio'/><alias name='virtio-disk0'/></disk>
            <interface type='bridge'><source bridge='vmbr0'/><rom enabled='no'/><acpi index='3'/></interface>
            <panic model='isa'/></devices><seclabel type='dynamic' model='apparmor'/></domain>";
        let d = from_xml(xml).unwrap();
        assert_eq!(d.name, "vm100");
        assert_eq!(d.devices.disks[0].source, DomainDiskSource::File { file: Some("/a.qcow2".into()) });
        assert_eq!(d.devices.interfaces[0].source, DomainInterfaceSource::Bridge { bridge: "vmbr0".into() });
    }

    #[test]
    fn union_variants_come_from_the_type_attribute() {
        let xml = "<domain type='kvm'><name>v</name><memory unit='MiB'>1</memory>
            <os><type arch='x86_64' machine='pc'>hvm</type></os><devices>
            <serial type='tcp'><source mode='bind' host='0.0.0.0' service='4555'/><target port='0'/></serial>
            <tpm model='tpm-crb'><backend type='passthrough'><device path='/dev/tpm0'/></backend></tpm>
            <hostdev mode='subsystem' type='usb'><source><vendor id='0x1234'/><product id='0xbeef'/></source>
            <address type='usb' bus='0' port='1.2'/></hostdev></devices></domain>";
        let d = from_xml(xml).unwrap();
        let serial = &d.devices.serials[0].source;
        assert!(matches!(serial, DomainChardevSource::Tcp { service: Some(s), .. } if s == "4555"), "{serial:?}");
        assert_eq!(d.devices.tpms[0].backend, DomainTpmBackend::Passthrough { device: Some("/dev/tpm0".into()) });
        let hostdev = &d.devices.hostdevs[0];
        assert!(matches!(&hostdev.source, DomainHostdevSource::Usb(u) if u.vendor.as_ref().unwrap().id == "0x1234"));
        assert_eq!(
            hostdev.address,
            Some(DomainAddress::Usb(DomainAddressUsb { bus: Some(0), port: Some("1.2".into()) }))
        );
        let again = from_xml(&to_xml(&d).unwrap()).unwrap();
        assert_eq!(again, d);
    }

    #[test]
    fn an_unknown_variant_is_an_error() {
        let xml = "<domain type='kvm'><name>v</name><memory unit='MiB'>1</memory>
            <os><type arch='x86_64' machine='pc'>hvm</type></os><devices>
            <disk type='nvme' device='disk'><target dev='vda' bus='virtio'/></disk></devices></domain>";
        let err = from_xml(xml).unwrap_err().to_string();
        assert!(err.contains("unknown disk source type 'nvme'"), "{err}");
    }
}
