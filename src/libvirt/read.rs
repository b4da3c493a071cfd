//! Reads libvirt domain XML into the model. Elements and attributes the model does not carry are
//! skipped, so `virsh dumpxml` output and libvirt's own test XML parse; what the model carries
//! writes back as [`to_xml`](super::to_xml) lays it out.

use super::Domain;

#[derive(Debug, thiserror::Error)]
#[error("cannot read the domain XML: {0}")]
pub struct ReadError(#[from] quick_xml::DeError);

/// Parses a `<domain>` document.
pub fn from_xml(xml: &str) -> Result<Domain, ReadError> {
    Ok(quick_xml::de::from_str(&xml10_line_ends(xml))?)
}

/// quick-xml's deserializer ends lines the XML 1.1 way, turning U+0085 and U+2028 in text into
/// `\n` (`BytesText::xml_content`); libvirt's libxml2 reads XML 1.0, where both are ordinary
/// characters. As character references they reach the model unchanged. (Inside CDATA, which
/// libvirt never writes, the reference would stay literal.)
fn xml10_line_ends(xml: &str) -> std::borrow::Cow<'_, str> {
    if !xml.contains(['\u{85}', '\u{2028}']) {
        return xml.into();
    }
    xml.replace('\u{85}', "&#x85;").replace('\u{2028}', "&#x2028;").into()
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

    /// Found by tests/properties.rs: a description with U+0085 came back with a newline.
    #[test]
    fn next_line_and_line_separator_stay_characters() {
        let xml = "<domain type='kvm'><name>v</name><description>a\u{85}b\u{2028}c\r\nd</description>
            <memory unit='MiB'>1</memory><os><type arch='x86_64' machine='pc'>hvm</type></os></domain>";
        assert_eq!(from_xml(xml).unwrap().description.as_deref(), Some("a\u{85}b\u{2028}c\nd"));
    }

    /// libvirt's `disk-nvme.xml` shape: the source has its own type, a host PCI address and
    /// LUKS encryption inside it.
    #[test]
    fn an_nvme_disk_reads_its_namespace_address_and_encryption() {
        let disk = "<disk type='nvme' device='disk'><driver name='qemu' type='qcow2'/>
            <source type='pci' managed='no' namespace='2'>
            <address domain='0x0001' bus='0x02' slot='0x00' function='0x0'/>
            <encryption format='luks' engine='qemu'><secret type='passphrase' uuid='0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f'/></encryption>
            </source><target dev='vdd' bus='virtio'/></disk>";
        let xml = format!(
            "<domain type='kvm'><name>v</name><memory unit='MiB'>1</memory>
            <os><type arch='x86_64' machine='pc'>hvm</type></os><devices>{disk}</devices></domain>"
        );
        let d = from_xml(&xml).unwrap();
        let DomainDiskSource::Nvme(nvme) = &d.devices.disks[0].source else {
            panic!("{:?}", d.devices.disks[0].source)
        };
        assert_eq!((nvme.managed.as_deref(), nvme.namespace), (Some("no"), Some(2)));
        let address = nvme.address.as_ref().unwrap();
        assert_eq!((address.domain.as_deref(), address.bus.as_deref()), (Some("0x0001"), Some("0x02")));
        let encryption = nvme.encryption.as_ref().unwrap();
        assert_eq!((encryption.format.as_str(), encryption.engine.as_deref()), ("luks", Some("qemu")));
        assert_eq!(encryption.secrets[0].uuid.as_deref(), Some("0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f"));
        let written = to_xml(&d).unwrap();
        assert!(written.contains("<source type='pci' managed='no' namespace='2'>"), "{written}");
        assert_eq!(from_xml(&written).unwrap(), d);
        let other = xml.replace("type='pci'", "type='usb'");
        assert!(from_xml(&other).unwrap_err().to_string().contains("unknown NVMe source type 'usb'"));
    }

    /// Found by the conformance run's edits: a domain without `<vcpu>` was written back as
    /// `<vcpu placement=''>0</vcpu>`, which libvirt refuses.
    #[test]
    fn a_missing_vcpu_is_libvirts_default_of_one() {
        let xml = "<domain type='kvm'><name>v</name><memory unit='MiB'>1</memory>
            <os><type arch='x86_64' machine='pc'>hvm</type></os></domain>";
        let written = to_xml(&from_xml(xml).unwrap()).unwrap();
        assert!(written.contains("<vcpu placement='static'>1</vcpu>"), "{written}");
    }

    #[test]
    fn an_unknown_variant_is_an_error() {
        let xml = "<domain type='kvm'><name>v</name><memory unit='MiB'>1</memory>
            <os><type arch='x86_64' machine='pc'>hvm</type></os><devices>
            <disk type='vhostuser' device='disk'><target dev='vda' bus='virtio'/></disk></devices></domain>";
        let err = from_xml(xml).unwrap_err().to_string();
        assert!(err.contains("unknown disk source type 'vhostuser'"), "{err}");
    }
}
