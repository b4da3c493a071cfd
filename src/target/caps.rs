//! The documents libvirt describes a host with, as typed structs: `virsh capabilities`
//! (`<capabilities>`, libvirt `src/conf/capabilities.c` virCapabilitiesFormatXML), `virsh
//! domcapabilities` (`<domainCapabilities>`, libvirt `src/conf/domain_capabilities.c`
//! virDomainCapsFormat) and QEMU's firmware descriptors (QEMU `docs/interop/firmware.json`).
//! Only what the mapper asks is modelled; everything else in the documents is ignored.

use serde::Deserialize;

/// `<capabilities>`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Capabilities {
    #[serde(default)]
    pub host: Host,
    #[serde(default, rename = "guest")]
    pub guests: Vec<Guest>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Host {
    pub cpu: Option<HostCpu>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct HostCpu {
    pub arch: Option<String>,
    pub model: Option<String>,
    pub vendor: Option<String>,
    #[serde(default, rename = "feature")]
    pub features: Vec<Named>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Named {
    #[serde(rename = "@name")]
    pub name: String,
}

/// `<guest>`: one OS type and architecture, the machine types QEMU has for it and the domain
/// types (`qemu`, `kvm`) that can run it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Guest {
    #[serde(default)]
    pub os_type: String,
    pub arch: GuestArch,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct GuestArch {
    #[serde(rename = "@name")]
    pub name: String,
    pub emulator: Option<String>,
    #[serde(default, rename = "machine")]
    pub machines: Vec<Machine>,
    #[serde(default, rename = "domain")]
    pub domains: Vec<GuestDomain>,
}

/// `<machine canonical='pc-q35-7.2'>q35</machine>`: an alias names its canonical machine.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Machine {
    #[serde(rename = "@canonical")]
    pub canonical: Option<String>,
    #[serde(rename = "@deprecated")]
    pub deprecated: Option<String>,
    #[serde(rename = "$text", default)]
    pub name: String,
}

/// `<domain type='kvm'>`; older libvirt lists the machines of a domain type that differ from the
/// architecture's here.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct GuestDomain {
    #[serde(rename = "@type")]
    pub domain_type: String,
    pub emulator: Option<String>,
    #[serde(default, rename = "machine")]
    pub machines: Vec<Machine>,
}

/// `<domainCapabilities>`: what one emulator can do for one machine family and domain type.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DomainCapabilities {
    pub path: Option<String>,
    #[serde(default)]
    pub domain: String,
    /// The canonical machine type these capabilities are for (`pc-q35-7.2`).
    pub machine: Option<String>,
    #[serde(default)]
    pub arch: String,
    pub os: Option<DcOs>,
    pub cpu: Option<DcCpu>,
    pub devices: Option<DcDevices>,
}

/// `<enum name='…'><value>…</value>…</enum>`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DcEnum {
    #[serde(rename = "@name")]
    pub name: String,
    #[serde(default, rename = "value")]
    pub values: Vec<String>,
}

/// The value list of the enum `name`, `None` when the document has no such enum.
pub fn enum_values<'a>(enums: &'a [DcEnum], name: &str) -> Option<&'a [String]> {
    enums.iter().find(|e| e.name == name).map(|e| e.values.as_slice())
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct DcOs {
    #[serde(rename = "@supported")]
    pub supported: Option<String>,
    #[serde(default, rename = "enum")]
    pub enums: Vec<DcEnum>,
    pub loader: Option<DcLoader>,
}

/// `<loader>`: the firmware images libvirt found (from the firmware descriptors, or its
/// `nvram` setting in qemu.conf) and the loader attributes the emulator allows.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DcLoader {
    #[serde(rename = "@supported")]
    pub supported: Option<String>,
    #[serde(default, rename = "value")]
    pub values: Vec<String>,
    #[serde(default, rename = "enum")]
    pub enums: Vec<DcEnum>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct DcCpu {
    #[serde(default, rename = "mode")]
    pub modes: Vec<DcCpuMode>,
}

/// `<mode name='host-passthrough|maximum|host-model|custom' supported='yes|no'>`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DcCpuMode {
    #[serde(rename = "@name")]
    pub name: String,
    #[serde(rename = "@supported")]
    pub supported: Option<String>,
    /// custom: every model with `usable`; host-model: the one model the host CPU is expanded to.
    #[serde(default, rename = "model")]
    pub models: Vec<DcCpuModel>,
    pub vendor: Option<String>,
    /// host-model: the features added to or removed from its model.
    #[serde(default, rename = "feature")]
    pub features: Vec<DcCpuFeature>,
    /// custom (libvirt ≥ 10): the host features each unusable model lacks.
    #[serde(default, rename = "blockers")]
    pub blockers: Vec<DcBlockers>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct DcCpuModel {
    #[serde(rename = "@usable")]
    pub usable: Option<String>,
    #[serde(rename = "@vendor")]
    pub vendor: Option<String>,
    /// libvirt ≥ 10 names the versioned model an alias stands for (`Skylake-Server-v1`).
    #[serde(rename = "@canonical")]
    pub canonical: Option<String>,
    #[serde(rename = "$text", default)]
    pub name: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct DcCpuFeature {
    #[serde(rename = "@policy")]
    pub policy: String,
    #[serde(rename = "@name")]
    pub name: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct DcBlockers {
    #[serde(rename = "@model")]
    pub model: String,
    #[serde(default, rename = "feature")]
    pub features: Vec<Named>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct DcDevices {
    pub disk: Option<DcDevice>,
    pub graphics: Option<DcDevice>,
    pub video: Option<DcDevice>,
    pub hostdev: Option<DcDevice>,
    pub rng: Option<DcDevice>,
    pub filesystem: Option<DcDevice>,
    pub tpm: Option<DcDevice>,
    pub redirdev: Option<DcDevice>,
    pub channel: Option<DcDevice>,
    pub sound: Option<DcDevice>,
}

/// A device family's `supported` and enums (`modelType`, `backendModel`, …).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DcDevice {
    #[serde(rename = "@supported")]
    pub supported: Option<String>,
    #[serde(default, rename = "enum")]
    pub enums: Vec<DcEnum>,
}

impl DcDevice {
    /// Whether libvirt lists `value` in the enum `name`; `None` when the enum is not reported.
    pub fn allows(&self, name: &str, value: &str) -> Option<bool> {
        if self.supported.as_deref() == Some("no") {
            return Some(false);
        }
        enum_values(&self.enums, name).map(|v| v.iter().any(|x| x == value))
    }
}

/// A QEMU firmware descriptor (`/usr/share/qemu/firmware/*.json`, QEMU `docs/interop/firmware.json`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct FirmwareDescriptor {
    #[serde(default, rename = "interface-types")]
    pub interface_types: Vec<String>,
    #[serde(default)]
    pub mapping: FirmwareMapping,
    #[serde(default)]
    pub targets: Vec<FirmwareTarget>,
    #[serde(default)]
    pub features: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct FirmwareMapping {
    #[serde(default)]
    pub device: String,
    #[serde(default)]
    pub mode: Option<String>,
    pub executable: Option<FirmwareFile>,
    #[serde(rename = "nvram-template")]
    pub nvram_template: Option<FirmwareFile>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct FirmwareFile {
    pub filename: String,
    #[serde(default)]
    pub format: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct FirmwareTarget {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub machines: Vec<String>,
}

/// Which document a saved file is, by its root element.
#[derive(Debug)]
pub enum Document {
    Capabilities(Capabilities),
    DomainCapabilities(Box<DomainCapabilities>),
}

/// Parses a saved `virsh capabilities` or `virsh domcapabilities` output.
pub fn parse_document(text: &str) -> Result<Document, String> {
    let root = root_element(text).ok_or("not an XML document")?;
    match root.as_str() {
        "capabilities" => quick_xml::de::from_str(text).map(Document::Capabilities).map_err(|e| e.to_string()),
        "domainCapabilities" => {
            quick_xml::de::from_str(text).map(|d| Document::DomainCapabilities(Box::new(d))).map_err(|e| e.to_string())
        }
        other => Err(format!(
            "the root element is <{other}>, not <capabilities> (virsh capabilities) or <domainCapabilities> \
             (virsh domcapabilities)"
        )),
    }
}

/// The name of the first element, skipping the XML declaration, comments and doctype.
fn root_element(text: &str) -> Option<String> {
    let mut reader = quick_xml::Reader::from_str(text);
    loop {
        match reader.read_event().ok()? {
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                return Some(String::from_utf8_lossy(e.name().as_ref()).into_owned())
            }
            quick_xml::events::Event::Eof => return None,
            _ => {}
        }
    }
}
