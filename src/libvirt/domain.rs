//! The libvirt domain model. One struct per element, named by its XML path (`DomainRngRate` is
//! `<domain><devices><rng><rate>`); field order is libvirt's element order, so the output diffs
//! cleanly against `virsh dumpxml`. Attributes are `@name`, text content is `$text`
//! (quick-xml's serde conventions). `None` and empty lists are left out.
//!
//! The model reads too ([`from_xml`](super::from_xml)): fields it lacks are skipped, never
//! refused. quick-xml's deserializer matches elements by local name (`vm` for `pve:vm`), hence
//! the separate serialize and deserialize names of the namespaced elements.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DomainType {
    #[default]
    Kvm,
    Qemu,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename = "domain")]
pub struct Domain {
    #[serde(rename = "@type")]
    pub domain_type: DomainType,
    #[serde(rename = "@xmlns:qemu", skip_serializing_if = "Option::is_none")]
    pub xmlns_qemu: Option<String>,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub genid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<DomainMetadata>,
    #[serde(rename = "maxMemory", skip_serializing_if = "Option::is_none")]
    pub max_memory: Option<DomainMaxMemory>,
    pub memory: DomainMemory,
    #[serde(rename = "currentMemory", skip_serializing_if = "Option::is_none")]
    pub current_memory: Option<DomainMemory>,
    #[serde(rename = "memoryBacking", skip_serializing_if = "Option::is_none")]
    pub memory_backing: Option<DomainMemoryBacking>,
    #[serde(default)]
    pub vcpu: DomainVcpu,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vcpus: Option<DomainVcpus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iothreads: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cputune: Option<DomainCputune>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub numatune: Option<DomainNumatune>,
    /// `<sysinfo type='smbios'>` and `<sysinfo type='fwcfg'>` (at most one of each, smbios first).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sysinfo: Vec<DomainSysinfo>,
    pub os: DomainOs,
    // libvirt's input XML may leave these out (its defaults apply); written back, they appear.
    #[serde(default)]
    pub features: DomainFeatures,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu: Option<DomainCpu>,
    #[serde(default = "DomainClock::utc")]
    pub clock: DomainClock,
    #[serde(default)]
    pub on_poweroff: DomainLifecycleAction,
    #[serde(default = "DomainLifecycleAction::restart")]
    pub on_reboot: DomainLifecycleAction,
    #[serde(default)]
    pub on_crash: DomainLifecycleAction,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pm: Option<DomainPm>,
    #[serde(default)]
    pub devices: DomainDevices,
    #[serde(
        rename(serialize = "qemu:commandline", deserialize = "commandline"),
        skip_serializing_if = "Option::is_none"
    )]
    pub qemu_commandline: Option<DomainQemuCommandline>,
    #[serde(rename(serialize = "qemu:override", deserialize = "override"), skip_serializing_if = "Option::is_none")]
    pub qemu_override: Option<DomainQemuOverride>,
}

// ---------------------------------------------------------------------------------------------
// Metadata

/// `<metadata><pve:vm xmlns:pve='urn:x-proxmox:qemu-server:1'>…</pve:vm></metadata>`: the Proxmox
/// settings libvirt has no element for, kept where `virsh metadata` can read them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DomainMetadata {
    #[serde(rename(serialize = "pve:vm", deserialize = "vm"))]
    pub pve: PveMetadata,
}

pub const PVE_METADATA_NS: &str = "urn:x-proxmox:qemu-server:1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct PveMetadata {
    #[serde(rename = "@xmlns:pve")]
    pub xmlns: String,
    #[serde(rename(serialize = "pve:vmid", deserialize = "vmid"))]
    pub vmid: u32,
    /// `pve:key` elements, one per Proxmox setting kept as metadata, in config order.
    #[serde(
        rename(serialize = "pve:setting", deserialize = "setting"),
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub settings: Vec<PveMetadataSetting>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PveMetadataSetting {
    #[serde(rename = "@key")]
    pub key: String,
    #[serde(rename = "$text")]
    pub value: String,
}

// ---------------------------------------------------------------------------------------------
// Memory and CPU resources

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainMemory {
    #[serde(rename = "@unit")]
    pub unit: String,
    #[serde(rename = "$text")]
    pub value: u64,
}

impl DomainMemory {
    pub fn mib(value: u64) -> Self {
        DomainMemory { unit: "MiB".into(), value }
    }
}

impl Default for DomainMemory {
    fn default() -> Self {
        Self::mib(512)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainMaxMemory {
    #[serde(rename = "@slots")]
    pub slots: u32,
    #[serde(rename = "@unit")]
    pub unit: String,
    #[serde(rename = "$text")]
    pub value: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DomainMemoryBacking {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hugepages: Option<DomainMemoryHugepages>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nosharepages: Option<Empty>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<DomainMemorySource>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access: Option<DomainMemoryAccess>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DomainMemoryHugepages {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<DomainMemoryHugepage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainMemoryHugepage {
    #[serde(rename = "@size")]
    pub size: u64,
    #[serde(rename = "@unit")]
    pub unit: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainMemorySource {
    #[serde(rename = "@type")]
    pub source_type: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainMemoryAccess {
    #[serde(rename = "@mode")]
    pub mode: String,
}

/// An empty element such as `<acpi/>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Empty;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainVcpu {
    #[serde(rename = "@placement", default = "static_placement")]
    pub placement: String,
    #[serde(rename = "@cpuset", skip_serializing_if = "Option::is_none")]
    pub cpuset: Option<String>,
    #[serde(rename = "@current", skip_serializing_if = "Option::is_none")]
    pub current: Option<u32>,
    #[serde(rename = "$text")]
    pub value: u32,
}

fn static_placement() -> String {
    "static".into()
}

/// What libvirt assumes for a domain without `<vcpu>`: one vCPU, placed statically
/// (`src/conf/domain_conf.c` `virDomainVcpuParse`).
impl Default for DomainVcpu {
    fn default() -> Self {
        DomainVcpu { placement: static_placement(), cpuset: None, current: None, value: 1 }
    }
}

/// `<vcpus>`: per-vCPU state, for hotpluggable vCPUs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DomainVcpus {
    #[serde(rename = "vcpu")]
    pub vcpus: Vec<DomainVcpusVcpu>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainVcpusVcpu {
    #[serde(rename = "@id")]
    pub id: u32,
    #[serde(rename = "@enabled")]
    pub enabled: String,
    #[serde(rename = "@hotpluggable")]
    pub hotpluggable: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DomainCputune {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shares: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub global_period: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub global_quota: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DomainNumatune {
    #[serde(rename = "memnode", default, skip_serializing_if = "Vec::is_empty")]
    pub memnodes: Vec<DomainNumatuneMemnode>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainNumatuneMemnode {
    #[serde(rename = "@cellid")]
    pub cellid: u32,
    #[serde(rename = "@mode")]
    pub mode: String,
    #[serde(rename = "@nodeset")]
    pub nodeset: String,
}

// ---------------------------------------------------------------------------------------------
// SMBIOS

/// `<sysinfo>`, one variant per `type` (libvirt `src/conf/domain_conf.c`
/// `virSysinfoParseXML`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "DomainSysinfoXml", into = "DomainSysinfoXml")]
pub enum DomainSysinfo {
    Smbios(DomainSysinfoSmbios),
    /// Firmware configuration blobs (QEMU `-fw_cfg`).
    Fwcfg(DomainSysinfoFwcfg),
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct DomainSysinfoSmbios {
    pub bios: Option<DomainSysinfoSystem>,
    pub system: Option<DomainSysinfoSystem>,
    pub base_board: Option<DomainSysinfoSystem>,
    pub chassis: Option<DomainSysinfoSystem>,
    pub oem_strings: Option<DomainSysinfoOemStrings>,
}

/// `<sysinfo type='fwcfg'>`: each entry a string or a file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DomainSysinfoFwcfg {
    pub entries: Vec<DomainSysinfoFwcfgEntry>,
}

/// The wire form of [`DomainSysinfo`]: every variant's children in libvirt's order.
#[derive(Serialize, Deserialize)]
struct DomainSysinfoXml {
    #[serde(rename = "@type")]
    sysinfo_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    bios: Option<DomainSysinfoSystem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<DomainSysinfoSystem>,
    #[serde(rename = "baseBoard", skip_serializing_if = "Option::is_none")]
    base_board: Option<DomainSysinfoSystem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    chassis: Option<DomainSysinfoSystem>,
    #[serde(rename = "oemStrings", skip_serializing_if = "Option::is_none")]
    oem_strings: Option<DomainSysinfoOemStrings>,
    #[serde(rename = "entry", default, skip_serializing_if = "Vec::is_empty")]
    entries: Vec<DomainSysinfoFwcfgEntry>,
}

impl TryFrom<DomainSysinfoXml> for DomainSysinfo {
    type Error = String;
    fn try_from(x: DomainSysinfoXml) -> Result<Self, String> {
        match x.sysinfo_type.as_str() {
            "smbios" => Ok(DomainSysinfo::Smbios(DomainSysinfoSmbios {
                bios: x.bios,
                system: x.system,
                base_board: x.base_board,
                chassis: x.chassis,
                oem_strings: x.oem_strings,
            })),
            "fwcfg" => Ok(DomainSysinfo::Fwcfg(DomainSysinfoFwcfg { entries: x.entries })),
            other => Err(format!("unknown sysinfo type '{other}'")),
        }
    }
}

impl From<DomainSysinfo> for DomainSysinfoXml {
    fn from(s: DomainSysinfo) -> Self {
        let mut x = DomainSysinfoXml {
            sysinfo_type: String::new(),
            bios: None,
            system: None,
            base_board: None,
            chassis: None,
            oem_strings: None,
            entries: Vec::new(),
        };
        match s {
            DomainSysinfo::Smbios(s) => {
                x.sysinfo_type = "smbios".into();
                (x.bios, x.system, x.base_board, x.chassis, x.oem_strings) =
                    (s.bios, s.system, s.base_board, s.chassis, s.oem_strings);
            }
            DomainSysinfo::Fwcfg(f) => {
                x.sysinfo_type = "fwcfg".into();
                x.entries = f.entries;
            }
        }
        x
    }
}

impl Domain {
    /// The `<sysinfo type='smbios'>`, added (before any fwcfg one) when missing.
    pub fn sysinfo_smbios(&mut self) -> &mut DomainSysinfoSmbios {
        if !self.sysinfo.iter().any(|s| matches!(s, DomainSysinfo::Smbios(_))) {
            self.sysinfo.insert(0, DomainSysinfo::Smbios(DomainSysinfoSmbios::default()));
        }
        self.sysinfo
            .iter_mut()
            .find_map(|s| match s {
                DomainSysinfo::Smbios(s) => Some(s),
                _ => None,
            })
            .expect("just added")
    }

    /// The `<sysinfo type='fwcfg'>`, added (last) when missing.
    pub fn sysinfo_fwcfg(&mut self) -> &mut DomainSysinfoFwcfg {
        if !self.sysinfo.iter().any(|s| matches!(s, DomainSysinfo::Fwcfg(_))) {
            self.sysinfo.push(DomainSysinfo::Fwcfg(DomainSysinfoFwcfg::default()));
        }
        self.sysinfo
            .iter_mut()
            .find_map(|s| match s {
                DomainSysinfo::Fwcfg(f) => Some(f),
                _ => None,
            })
            .expect("just added")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainSysinfoFwcfgEntry {
    #[serde(rename = "@name")]
    pub name: String,
    #[serde(rename = "@file", skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(rename = "$text", skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// `<oemStrings>`: entries without a name (SMBIOS type 11).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DomainSysinfoOemStrings {
    #[serde(rename = "entry")]
    pub entries: Vec<DomainSysinfoOemString>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainSysinfoOemString {
    #[serde(rename = "$text")]
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DomainSysinfoSystem {
    #[serde(rename = "entry")]
    pub entries: Vec<DomainSysinfoEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainSysinfoEntry {
    #[serde(rename = "@name")]
    pub name: String,
    #[serde(rename = "$text")]
    pub value: String,
}

// ---------------------------------------------------------------------------------------------
// OS and firmware

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DomainOs {
    #[serde(rename = "type")]
    pub os_type: DomainOsType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loader: Option<DomainLoader>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nvram: Option<DomainNvram>,
    /// Direct kernel boot (pve2virt never writes it; its guest proof boots a test kernel).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initrd: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cmdline: Option<String>,
    #[serde(rename = "boot", default, skip_serializing_if = "Vec::is_empty")]
    pub boot: Vec<DomainOsBoot>,
    #[serde(rename = "bootmenu", skip_serializing_if = "Option::is_none")]
    pub boot_menu: Option<DomainBootMenu>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smbios: Option<DomainOsSmbios>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DomainOsType {
    #[serde(rename = "@arch")]
    pub arch: String,
    #[serde(rename = "@machine")]
    pub machine: String,
    #[serde(rename = "$text")]
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainLoader {
    #[serde(rename = "@readonly")]
    pub readonly: String,
    #[serde(rename = "@secure", skip_serializing_if = "Option::is_none")]
    pub secure: Option<String>,
    #[serde(rename = "@type")]
    pub loader_type: String,
    #[serde(rename = "$text")]
    pub path: String,
}

/// `<nvram>`: a path as text, or (libvirt 8.5+) a typed `<source>` like a disk's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "DomainNvramXml", into = "DomainNvramXml")]
pub struct DomainNvram {
    pub template: Option<String>,
    /// `<source>` and the nvram's `type`.
    pub source: Option<DomainDiskSource>,
    pub path: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct DomainNvramXml {
    #[serde(rename = "@template", skip_serializing_if = "Option::is_none")]
    template: Option<String>,
    #[serde(rename = "@type", skip_serializing_if = "Option::is_none")]
    nvram_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<DomainDiskSourceXml>,
    #[serde(rename = "$text", skip_serializing_if = "Option::is_none")]
    path: Option<String>,
}

impl TryFrom<DomainNvramXml> for DomainNvram {
    type Error = String;
    fn try_from(x: DomainNvramXml) -> Result<Self, String> {
        let source = match x.nvram_type {
            Some(t) => Some(DomainDiskSource::from_xml(&t, x.source)?),
            None => None,
        };
        Ok(DomainNvram { template: x.template, source, path: x.path })
    }
}

impl From<DomainNvram> for DomainNvramXml {
    fn from(n: DomainNvram) -> Self {
        let (nvram_type, source) = match n.source.map(DomainDiskSource::into_xml) {
            Some((t, source)) => (Some(t.to_owned()), source),
            None => (None, None),
        };
        DomainNvramXml { template: n.template, nvram_type, source, path: n.path }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainOsBoot {
    #[serde(rename = "@dev")]
    pub dev: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainBootMenu {
    #[serde(rename = "@enable")]
    pub enable: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainOsSmbios {
    #[serde(rename = "@mode")]
    pub mode: String,
}

// ---------------------------------------------------------------------------------------------
// Features

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DomainFeatures {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acpi: Option<Empty>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub apic: Option<DomainFeatureApic>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hyperv: Option<DomainFeatureHyperV>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kvm: Option<DomainFeatureKvm>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pvspinlock: Option<DomainFeatureState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smm: Option<DomainFeatureState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ioapic: Option<DomainFeatureIoapic>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DomainFeatureApic {
    #[serde(rename = "@eoi", skip_serializing_if = "Option::is_none")]
    pub eoi: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainFeatureState {
    #[serde(rename = "@state")]
    pub state: OnOff,
}

impl DomainFeatureState {
    pub const ON: Self = DomainFeatureState { state: OnOff::On };
    pub const OFF: Self = DomainFeatureState { state: OnOff::Off };
}

/// libvirt's `virTristateSwitch` as written (`on`/`off`; absent is the third state).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnOff {
    On,
    Off,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainFeatureIoapic {
    #[serde(rename = "@driver")]
    pub driver: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DomainFeatureKvm {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hidden: Option<DomainFeatureState>,
}

/// `<hyperv mode='custom'>`: the enlightenments, in libvirt's element order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DomainFeatureHyperV {
    #[serde(rename = "@mode")]
    pub mode: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relaxed: Option<DomainFeatureState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vapic: Option<DomainFeatureState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spinlocks: Option<DomainFeatureHyperVSpinlocks>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpindex: Option<DomainFeatureState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runtime: Option<DomainFeatureState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub synic: Option<DomainFeatureState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stimer: Option<DomainFeatureState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reset: Option<DomainFeatureState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor_id: Option<DomainFeatureHyperVVendorId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frequencies: Option<DomainFeatureState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reenlightenment: Option<DomainFeatureState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tlbflush: Option<DomainFeatureState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipi: Option<DomainFeatureState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evmcs: Option<DomainFeatureState>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainFeatureHyperVSpinlocks {
    #[serde(rename = "@state")]
    pub state: OnOff,
    #[serde(rename = "@retries")]
    pub retries: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainFeatureHyperVVendorId {
    #[serde(rename = "@state")]
    pub state: OnOff,
    #[serde(rename = "@value")]
    pub value: String,
}

// ---------------------------------------------------------------------------------------------
// CPU

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DomainCpu {
    #[serde(rename = "@mode")]
    pub mode: String,
    #[serde(rename = "@match", skip_serializing_if = "Option::is_none")]
    pub match_: Option<String>,
    #[serde(rename = "@check", skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
    #[serde(rename = "@migratable", skip_serializing_if = "Option::is_none")]
    pub migratable: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<DomainCpuModel>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topology: Option<DomainCpuTopology>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maxphysaddr: Option<DomainCpuMaxPhysAddr>,
    #[serde(rename = "feature", default, skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<DomainCpuFeature>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub numa: Option<DomainCpuNuma>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainCpuModel {
    #[serde(rename = "@fallback")]
    pub fallback: String,
    #[serde(rename = "@vendor_id", skip_serializing_if = "Option::is_none")]
    pub vendor_id: Option<String>,
    #[serde(rename = "$text")]
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainCpuTopology {
    #[serde(rename = "@sockets")]
    pub sockets: u32,
    #[serde(rename = "@dies")]
    pub dies: u32,
    #[serde(rename = "@cores")]
    pub cores: u32,
    #[serde(rename = "@threads")]
    pub threads: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainCpuMaxPhysAddr {
    #[serde(rename = "@mode")]
    pub mode: String,
    #[serde(rename = "@bits", skip_serializing_if = "Option::is_none")]
    pub bits: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainCpuFeature {
    #[serde(rename = "@policy")]
    pub policy: String,
    #[serde(rename = "@name")]
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DomainCpuNuma {
    #[serde(rename = "cell")]
    pub cells: Vec<DomainCpuNumaCell>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainCpuNumaCell {
    #[serde(rename = "@id")]
    pub id: u32,
    #[serde(rename = "@cpus")]
    pub cpus: String,
    #[serde(rename = "@memory")]
    pub memory: u64,
    #[serde(rename = "@unit")]
    pub unit: String,
}

// ---------------------------------------------------------------------------------------------
// Clock, lifecycle, power management

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DomainClock {
    #[serde(rename = "@offset", default = "utc")]
    pub offset: String,
    #[serde(rename = "@start", skip_serializing_if = "Option::is_none")]
    pub start: Option<i64>,
    #[serde(rename = "timer", default, skip_serializing_if = "Vec::is_empty")]
    pub timers: Vec<DomainTimer>,
}

fn utc() -> String {
    "utc".into()
}

impl DomainClock {
    /// libvirt's clock when `<clock>` is left out.
    fn utc() -> Self {
        DomainClock { offset: utc(), ..Default::default() }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainTimer {
    #[serde(rename = "@name")]
    pub name: String,
    #[serde(rename = "@tickpolicy", skip_serializing_if = "Option::is_none")]
    pub tickpolicy: Option<String>,
    #[serde(rename = "@present", skip_serializing_if = "Option::is_none")]
    pub present: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum DomainLifecycleAction {
    #[default]
    #[serde(rename = "destroy")]
    Destroy,
    #[serde(rename = "restart")]
    Restart,
    #[serde(rename = "preserve")]
    Preserve,
}

impl DomainLifecycleAction {
    /// libvirt's default `on_reboot` (`virDomainDefParseXML`).
    fn restart() -> Self {
        DomainLifecycleAction::Restart
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DomainPm {
    #[serde(rename = "suspend-to-mem", skip_serializing_if = "Option::is_none")]
    pub suspend_to_mem: Option<DomainPmPolicy>,
    #[serde(rename = "suspend-to-disk", skip_serializing_if = "Option::is_none")]
    pub suspend_to_disk: Option<DomainPmPolicy>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainPmPolicy {
    #[serde(rename = "@enabled")]
    pub enabled: String,
}

// ---------------------------------------------------------------------------------------------
// Devices

/// `<devices>`, in libvirt's element order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DomainDevices {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emulator: Option<String>,
    #[serde(rename = "disk", default, skip_serializing_if = "Vec::is_empty")]
    pub disks: Vec<DomainDisk>,
    #[serde(rename = "controller", default, skip_serializing_if = "Vec::is_empty")]
    pub controllers: Vec<DomainController>,
    #[serde(rename = "filesystem", default, skip_serializing_if = "Vec::is_empty")]
    pub filesystems: Vec<DomainFilesystem>,
    #[serde(rename = "interface", default, skip_serializing_if = "Vec::is_empty")]
    pub interfaces: Vec<DomainInterface>,
    #[serde(rename = "serial", default, skip_serializing_if = "Vec::is_empty")]
    pub serials: Vec<DomainChardev>,
    #[serde(rename = "parallel", default, skip_serializing_if = "Vec::is_empty")]
    pub parallels: Vec<DomainChardev>,
    #[serde(rename = "console", default, skip_serializing_if = "Vec::is_empty")]
    pub consoles: Vec<DomainChardev>,
    #[serde(rename = "channel", default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<DomainChardev>,
    #[serde(rename = "input", default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<DomainInput>,
    #[serde(rename = "tpm", default, skip_serializing_if = "Vec::is_empty")]
    pub tpms: Vec<DomainTpm>,
    #[serde(rename = "graphics", default, skip_serializing_if = "Vec::is_empty")]
    pub graphics: Vec<DomainGraphics>,
    #[serde(rename = "sound", default, skip_serializing_if = "Vec::is_empty")]
    pub sounds: Vec<DomainSound>,
    #[serde(rename = "audio", default, skip_serializing_if = "Vec::is_empty")]
    pub audios: Vec<DomainAudio>,
    #[serde(rename = "video", default, skip_serializing_if = "Vec::is_empty")]
    pub videos: Vec<DomainVideo>,
    #[serde(rename = "hostdev", default, skip_serializing_if = "Vec::is_empty")]
    pub hostdevs: Vec<DomainHostdev>,
    #[serde(rename = "redirdev", default, skip_serializing_if = "Vec::is_empty")]
    pub redirdevs: Vec<DomainRedirdev>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub watchdog: Option<DomainWatchdog>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memballoon: Option<DomainMemballoon>,
    #[serde(rename = "rng", default, skip_serializing_if = "Vec::is_empty")]
    pub rngs: Vec<DomainRng>,
    #[serde(rename = "shmem", default, skip_serializing_if = "Vec::is_empty")]
    pub shmems: Vec<DomainShmem>,
    #[serde(rename = "memory", default, skip_serializing_if = "Vec::is_empty")]
    pub memory_devices: Vec<DomainMemoryDevice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iommu: Option<DomainIommu>,
}

/// A device's guest address, one variant per `type` (libvirt `src/conf/device_conf.c`
/// `virDomainDeviceInfoParseXML`, formatted by `virDomainDeviceInfoFormat` in
/// `src/conf/domain_conf.c`). Numbers that libvirt writes in hex (PCI) stay as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "DomainAddressXml", into = "DomainAddressXml")]
pub enum DomainAddress {
    /// `<address type='pci' domain='0x0000' bus='0x00' slot='0x12' function='0x0'/>`
    Pci(DomainAddressPci),
    /// A disk's position on its controller.
    Drive(DomainAddressDrive),
    Usb(DomainAddressUsb),
    VirtioSerial(DomainAddressVirtioSerial),
    Ccid(DomainAddressCcid),
    Isa(DomainAddressIsa),
    VirtioMmio,
    /// A PowerPC sPAPR VIO bus address (`reg='0x00002000'`).
    SpaprVio {
        reg: Option<String>,
    },
    Unassigned,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct DomainAddressPci {
    pub domain: Option<String>,
    pub bus: Option<String>,
    pub slot: Option<String>,
    pub function: Option<String>,
    pub multifunction: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct DomainAddressDrive {
    pub controller: Option<u32>,
    pub bus: Option<u32>,
    pub target: Option<u32>,
    pub unit: Option<u32>,
}

/// `port` is a hub path such as `1.2`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DomainAddressUsb {
    pub bus: Option<u32>,
    pub port: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct DomainAddressVirtioSerial {
    pub controller: Option<u32>,
    pub bus: Option<u32>,
    pub port: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct DomainAddressCcid {
    pub controller: Option<u32>,
    pub slot: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct DomainAddressIsa {
    pub iobase: Option<String>,
    pub irq: Option<String>,
}

/// The wire form of [`DomainAddress`]: every variant's attributes, in the order libvirt writes
/// each type's.
#[derive(Default, Serialize, Deserialize)]
struct DomainAddressXml {
    #[serde(rename = "@type")]
    address_type: String,
    #[serde(rename = "@domain", skip_serializing_if = "Option::is_none")]
    domain: Option<String>,
    #[serde(rename = "@controller", skip_serializing_if = "Option::is_none")]
    controller: Option<String>,
    #[serde(rename = "@bus", skip_serializing_if = "Option::is_none")]
    bus: Option<String>,
    #[serde(rename = "@target", skip_serializing_if = "Option::is_none")]
    target: Option<String>,
    #[serde(rename = "@slot", skip_serializing_if = "Option::is_none")]
    slot: Option<String>,
    #[serde(rename = "@unit", skip_serializing_if = "Option::is_none")]
    unit: Option<String>,
    #[serde(rename = "@port", skip_serializing_if = "Option::is_none")]
    port: Option<String>,
    #[serde(rename = "@function", skip_serializing_if = "Option::is_none")]
    function: Option<String>,
    #[serde(rename = "@multifunction", skip_serializing_if = "Option::is_none")]
    multifunction: Option<String>,
    #[serde(rename = "@iobase", skip_serializing_if = "Option::is_none")]
    iobase: Option<String>,
    #[serde(rename = "@irq", skip_serializing_if = "Option::is_none")]
    irq: Option<String>,
    #[serde(rename = "@reg", skip_serializing_if = "Option::is_none")]
    reg: Option<String>,
}

/// An optional decimal attribute.
fn parse_u32(what: &str, value: Option<String>) -> Result<Option<u32>, String> {
    value.map(|v| v.parse().map_err(|_| format!("{what}='{v}' is not a number"))).transpose()
}

fn show(value: Option<u32>) -> Option<String> {
    value.map(|v| v.to_string())
}

impl TryFrom<DomainAddressXml> for DomainAddress {
    type Error = String;
    fn try_from(x: DomainAddressXml) -> Result<Self, String> {
        Ok(match x.address_type.as_str() {
            "pci" => DomainAddress::Pci(DomainAddressPci {
                domain: x.domain,
                bus: x.bus,
                slot: x.slot,
                function: x.function,
                multifunction: x.multifunction,
            }),
            "drive" => DomainAddress::Drive(DomainAddressDrive {
                controller: parse_u32("controller", x.controller)?,
                bus: parse_u32("bus", x.bus)?,
                target: parse_u32("target", x.target)?,
                unit: parse_u32("unit", x.unit)?,
            }),
            "usb" => DomainAddress::Usb(DomainAddressUsb { bus: parse_u32("bus", x.bus)?, port: x.port }),
            "virtio-serial" => DomainAddress::VirtioSerial(DomainAddressVirtioSerial {
                controller: parse_u32("controller", x.controller)?,
                bus: parse_u32("bus", x.bus)?,
                port: parse_u32("port", x.port)?,
            }),
            "ccid" => DomainAddress::Ccid(DomainAddressCcid {
                controller: parse_u32("controller", x.controller)?,
                slot: parse_u32("slot", x.slot)?,
            }),
            "isa" => DomainAddress::Isa(DomainAddressIsa { iobase: x.iobase, irq: x.irq }),
            "virtio-mmio" => DomainAddress::VirtioMmio,
            "spapr-vio" => DomainAddress::SpaprVio { reg: x.reg },
            "unassigned" => DomainAddress::Unassigned,
            other => return Err(format!("unknown address type '{other}'")),
        })
    }
}

impl From<DomainAddress> for DomainAddressXml {
    fn from(a: DomainAddress) -> Self {
        let typed = |t: &str| DomainAddressXml { address_type: t.to_owned(), ..Default::default() };
        match a {
            DomainAddress::Pci(p) => DomainAddressXml {
                domain: p.domain,
                bus: p.bus,
                slot: p.slot,
                function: p.function,
                multifunction: p.multifunction,
                ..typed("pci")
            },
            DomainAddress::Drive(d) => DomainAddressXml {
                controller: show(d.controller),
                bus: show(d.bus),
                target: show(d.target),
                unit: show(d.unit),
                ..typed("drive")
            },
            DomainAddress::Usb(u) => DomainAddressXml { bus: show(u.bus), port: u.port, ..typed("usb") },
            DomainAddress::VirtioSerial(v) => DomainAddressXml {
                controller: show(v.controller),
                bus: show(v.bus),
                port: show(v.port),
                ..typed("virtio-serial")
            },
            DomainAddress::Ccid(c) => {
                DomainAddressXml { controller: show(c.controller), slot: show(c.slot), ..typed("ccid") }
            }
            DomainAddress::Isa(i) => DomainAddressXml { iobase: i.iobase, irq: i.irq, ..typed("isa") },
            DomainAddress::VirtioMmio => typed("virtio-mmio"),
            DomainAddress::SpaprVio { reg } => DomainAddressXml { reg, ..typed("spapr-vio") },
            DomainAddress::Unassigned => typed("unassigned"),
        }
    }
}

impl DomainAddress {
    /// A PCI address in libvirt's own formatting.
    pub fn pci(bus: u32, slot: u32, function: u32) -> Self {
        DomainAddress::Pci(DomainAddressPci {
            domain: Some("0x0000".into()),
            bus: Some(format!("0x{bus:02x}")),
            slot: Some(format!("0x{slot:02x}")),
            function: Some(format!("0x{function:x}")),
            multifunction: None,
        })
    }
    /// A disk's position on its controller.
    pub fn drive(controller: u32, bus: u32, target: u32, unit: u32) -> Self {
        DomainAddress::Drive(DomainAddressDrive {
            controller: Some(controller),
            bus: Some(bus),
            target: Some(target),
            unit: Some(unit),
        })
    }
    /// The PCI attributes, when this is a PCI address.
    pub fn pci_mut(&mut self) -> Option<&mut DomainAddressPci> {
        match self {
            DomainAddress::Pci(p) => Some(p),
            _ => None,
        }
    }
    /// A port on a USB controller (`port` absent: libvirt picks one).
    pub fn usb(bus: u32, port: Option<u32>) -> Self {
        DomainAddress::Usb(DomainAddressUsb { bus: Some(bus), port: port.map(|p| p.to_string()) })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainBootOrder {
    #[serde(rename = "@order")]
    pub order: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainAlias {
    #[serde(rename = "@name")]
    pub name: String,
}

/// `<disk>`. Its `type` is the variant of its source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(try_from = "DomainDiskXml", into = "DomainDiskXml")]
pub struct DomainDisk {
    pub device: String,
    pub sgio: Option<String>,
    pub driver: Option<DomainDiskDriver>,
    pub auth: Option<DomainDiskAuth>,
    /// `<source>` and the disk's `type`.
    pub source: DomainDiskSource,
    pub target: DomainDiskTarget,
    pub iotune: Option<DomainDiskIotune>,
    pub boot: Option<DomainBootOrder>,
    pub readonly: Option<Empty>,
    pub transient: Option<Empty>,
    pub serial: Option<String>,
    pub wwn: Option<String>,
    pub vendor: Option<String>,
    pub product: Option<String>,
    pub alias: Option<DomainAlias>,
    pub address: Option<DomainAddress>,
}

#[derive(Default, Serialize, Deserialize)]
struct DomainDiskXml {
    #[serde(rename = "@type")]
    disk_type: String,
    #[serde(rename = "@device")]
    device: String,
    #[serde(rename = "@sgio", skip_serializing_if = "Option::is_none")]
    sgio: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    driver: Option<DomainDiskDriver>,
    #[serde(skip_serializing_if = "Option::is_none")]
    auth: Option<DomainDiskAuth>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<DomainDiskSourceXml>,
    target: DomainDiskTarget,
    #[serde(skip_serializing_if = "Option::is_none")]
    iotune: Option<DomainDiskIotune>,
    #[serde(skip_serializing_if = "Option::is_none")]
    boot: Option<DomainBootOrder>,
    #[serde(skip_serializing_if = "Option::is_none")]
    readonly: Option<Empty>,
    #[serde(skip_serializing_if = "Option::is_none")]
    transient: Option<Empty>,
    #[serde(skip_serializing_if = "Option::is_none")]
    serial: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    wwn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vendor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    product: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    alias: Option<DomainAlias>,
    #[serde(skip_serializing_if = "Option::is_none")]
    address: Option<DomainAddress>,
}

impl TryFrom<DomainDiskXml> for DomainDisk {
    type Error = String;
    fn try_from(x: DomainDiskXml) -> Result<Self, String> {
        Ok(DomainDisk {
            source: DomainDiskSource::from_xml(&x.disk_type, x.source)?,
            device: x.device,
            sgio: x.sgio,
            driver: x.driver,
            auth: x.auth,
            target: x.target,
            iotune: x.iotune,
            boot: x.boot,
            readonly: x.readonly,
            transient: x.transient,
            serial: x.serial,
            wwn: x.wwn,
            vendor: x.vendor,
            product: x.product,
            alias: x.alias,
            address: x.address,
        })
    }
}

impl From<DomainDisk> for DomainDiskXml {
    fn from(d: DomainDisk) -> Self {
        let (disk_type, source) = d.source.into_xml();
        DomainDiskXml {
            disk_type: disk_type.to_owned(),
            source,
            device: d.device,
            sgio: d.sgio,
            driver: d.driver,
            auth: d.auth,
            target: d.target,
            iotune: d.iotune,
            boot: d.boot,
            readonly: d.readonly,
            transient: d.transient,
            serial: d.serial,
            wwn: d.wwn,
            vendor: d.vendor,
            product: d.product,
            alias: d.alias,
            address: d.address,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DomainDiskDriver {
    // Both optional in libvirt (`<driver cache='default'/>`, `<driver name='qemu'/>` in its tests).
    #[serde(rename = "@name", skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(rename = "@type", skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(rename = "@cache", skip_serializing_if = "Option::is_none")]
    pub cache: Option<String>,
    #[serde(rename = "@error_policy", skip_serializing_if = "Option::is_none")]
    pub error_policy: Option<String>,
    #[serde(rename = "@rerror_policy", skip_serializing_if = "Option::is_none")]
    pub rerror_policy: Option<String>,
    #[serde(rename = "@io", skip_serializing_if = "Option::is_none")]
    pub io: Option<String>,
    #[serde(rename = "@iothread", skip_serializing_if = "Option::is_none")]
    pub iothread: Option<u32>,
    #[serde(rename = "@discard", skip_serializing_if = "Option::is_none")]
    pub discard: Option<String>,
    #[serde(rename = "@detect_zeroes", skip_serializing_if = "Option::is_none")]
    pub detect_zeroes: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainDiskAuth {
    #[serde(rename = "@username")]
    pub username: String,
    pub secret: DomainDiskSecret,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainDiskSecret {
    #[serde(rename = "@type")]
    pub secret_type: String,
    #[serde(rename = "@usage")]
    pub usage: String,
}

/// `<source>` of a disk or nvram, one variant per the parent's `type` (libvirt
/// `src/conf/domain_conf.c` `virDomainStorageSourceParseBase`). The element is written only
/// when it has something to say (an empty CD-ROM has none).
#[derive(Debug, Clone, PartialEq)]
pub enum DomainDiskSource {
    File {
        file: Option<String>,
    },
    Block {
        dev: Option<String>,
    },
    Dir {
        dir: Option<String>,
    },
    Network(DomainDiskSourceNetwork),
    /// A libvirt storage pool's volume.
    Volume {
        pool: Option<String>,
        volume: Option<String>,
        mode: Option<String>,
    },
    /// A namespace of a host NVMe controller, which QEMU drives from user space (libvirt
    /// `src/conf/domain_conf.c` `virDomainDiskSourceNVMeParse`).
    Nvme(DomainDiskSourceNvme),
}

/// `<source type='pci' managed='yes' namespace='1'>` with the controller's host PCI address;
/// `pci` is the only source type libvirt knows for NVMe.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DomainDiskSourceNvme {
    pub managed: Option<String>,
    pub namespace: Option<u64>,
    pub address: Option<DomainHostPciAddress>,
    /// A LUKS layer QEMU opens inside the namespace (libvirt puts `<encryption>` in `<source>`).
    pub encryption: Option<DomainDiskEncryption>,
}

/// A host PCI device, `<address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DomainHostPciAddress {
    #[serde(rename = "@domain", skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(rename = "@bus", skip_serializing_if = "Option::is_none")]
    pub bus: Option<String>,
    #[serde(rename = "@slot", skip_serializing_if = "Option::is_none")]
    pub slot: Option<String>,
    #[serde(rename = "@function", skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
}

/// `<encryption format='luks' engine='qemu'>` and the secrets that unlock it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainDiskEncryption {
    #[serde(rename = "@format")]
    pub format: String,
    #[serde(rename = "@engine", skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
    #[serde(rename = "secret", default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<DomainDiskEncryptionSecret>,
}

/// A `<secret>` by UUID or by usage name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainDiskEncryptionSecret {
    #[serde(rename = "@type")]
    pub secret_type: String,
    #[serde(rename = "@uuid", skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    #[serde(rename = "@usage", skip_serializing_if = "Option::is_none")]
    pub usage: Option<String>,
}

impl Default for DomainDiskSource {
    fn default() -> Self {
        DomainDiskSource::File { file: None }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct DomainDiskSourceNetwork {
    pub protocol: String,
    pub name: Option<String>,
    pub hosts: Vec<DomainDiskSourceHost>,
    pub config: Option<DomainDiskSourceConfig>,
    /// An nvram's auth (a disk's is beside its source).
    pub auth: Option<DomainDiskAuth>,
    pub initiator: Option<DomainDiskSourceInitiator>,
}

#[derive(Default, Serialize, Deserialize)]
struct DomainDiskSourceXml {
    /// Only an NVMe source has a type of its own (`pci`).
    #[serde(rename = "@type", skip_serializing_if = "Option::is_none")]
    source_type: Option<String>,
    #[serde(rename = "@managed", skip_serializing_if = "Option::is_none")]
    managed: Option<String>,
    #[serde(rename = "@namespace", skip_serializing_if = "Option::is_none")]
    namespace: Option<u64>,
    #[serde(rename = "@file", skip_serializing_if = "Option::is_none")]
    file: Option<String>,
    #[serde(rename = "@dev", skip_serializing_if = "Option::is_none")]
    dev: Option<String>,
    #[serde(rename = "@dir", skip_serializing_if = "Option::is_none")]
    dir: Option<String>,
    #[serde(rename = "@pool", skip_serializing_if = "Option::is_none")]
    pool: Option<String>,
    #[serde(rename = "@volume", skip_serializing_if = "Option::is_none")]
    volume: Option<String>,
    #[serde(rename = "@mode", skip_serializing_if = "Option::is_none")]
    mode: Option<String>,
    #[serde(rename = "@protocol", skip_serializing_if = "Option::is_none")]
    protocol: Option<String>,
    #[serde(rename = "@name", skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(rename = "host", default, skip_serializing_if = "Vec::is_empty")]
    hosts: Vec<DomainDiskSourceHost>,
    #[serde(skip_serializing_if = "Option::is_none")]
    config: Option<DomainDiskSourceConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    auth: Option<DomainDiskAuth>,
    #[serde(skip_serializing_if = "Option::is_none")]
    initiator: Option<DomainDiskSourceInitiator>,
    #[serde(skip_serializing_if = "Option::is_none")]
    address: Option<DomainHostPciAddress>,
    #[serde(skip_serializing_if = "Option::is_none")]
    encryption: Option<DomainDiskEncryption>,
}

impl DomainDiskSource {
    fn from_xml(source_type: &str, x: Option<DomainDiskSourceXml>) -> Result<Self, String> {
        let x = x.unwrap_or_default();
        Ok(match source_type {
            "file" => DomainDiskSource::File { file: x.file },
            "block" => DomainDiskSource::Block { dev: x.dev },
            "dir" => DomainDiskSource::Dir { dir: x.dir },
            "network" => DomainDiskSource::Network(DomainDiskSourceNetwork {
                protocol: x.protocol.ok_or("a network <source> without protocol")?,
                name: x.name,
                hosts: x.hosts,
                config: x.config,
                auth: x.auth,
                initiator: x.initiator,
            }),
            "volume" => DomainDiskSource::Volume { pool: x.pool, volume: x.volume, mode: x.mode },
            "nvme" => {
                if let Some(other) = x.source_type.as_deref().filter(|t| *t != "pci") {
                    return Err(format!("unknown NVMe source type '{other}'"));
                }
                DomainDiskSource::Nvme(DomainDiskSourceNvme {
                    managed: x.managed,
                    namespace: x.namespace,
                    address: x.address,
                    encryption: x.encryption,
                })
            }
            other => return Err(format!("unknown disk source type '{other}'")),
        })
    }

    /// The `type` attribute and the `<source>` element, if it has content.
    fn into_xml(self) -> (&'static str, Option<DomainDiskSourceXml>) {
        let none = DomainDiskSourceXml::default();
        let (source_type, x) = match self {
            DomainDiskSource::File { file } => ("file", DomainDiskSourceXml { file, ..none }),
            DomainDiskSource::Block { dev } => ("block", DomainDiskSourceXml { dev, ..none }),
            DomainDiskSource::Dir { dir } => ("dir", DomainDiskSourceXml { dir, ..none }),
            DomainDiskSource::Network(n) => (
                "network",
                DomainDiskSourceXml {
                    protocol: Some(n.protocol),
                    name: n.name,
                    hosts: n.hosts,
                    config: n.config,
                    auth: n.auth,
                    initiator: n.initiator,
                    ..none
                },
            ),
            DomainDiskSource::Volume { pool, volume, mode } => {
                ("volume", DomainDiskSourceXml { pool, volume, mode, ..none })
            }
            DomainDiskSource::Nvme(n) => (
                "nvme",
                DomainDiskSourceXml {
                    source_type: Some("pci".to_owned()),
                    managed: n.managed,
                    namespace: n.namespace,
                    address: n.address,
                    encryption: n.encryption,
                    ..none
                },
            ),
        };
        let empty = x.file.is_none()
            && x.dev.is_none()
            && x.dir.is_none()
            && x.pool.is_none()
            && x.volume.is_none()
            && x.mode.is_none()
            && x.protocol.is_none()
            && x.source_type.is_none();
        (source_type, (!empty).then_some(x))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainDiskSourceHost {
    #[serde(rename = "@name", skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(rename = "@port", skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    /// `unix` with `socket` instead of a name (NBD over a Unix socket).
    #[serde(rename = "@transport", skip_serializing_if = "Option::is_none")]
    pub transport: Option<String>,
    #[serde(rename = "@socket", skip_serializing_if = "Option::is_none")]
    pub socket: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainDiskSourceConfig {
    #[serde(rename = "@file")]
    pub file: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainDiskSourceInitiator {
    pub iqn: DomainDiskSourceIqn,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainDiskSourceIqn {
    #[serde(rename = "@name")]
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DomainDiskTarget {
    #[serde(rename = "@dev")]
    pub dev: String,
    #[serde(rename = "@bus")]
    pub bus: String,
    #[serde(rename = "@rotation_rate", skip_serializing_if = "Option::is_none")]
    pub rotation_rate: Option<u32>,
}

/// `<iotune>`: Proxmox MB/s limits become bytes per second (Proxmox MB = MiB).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DomainDiskIotune {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_bytes_sec: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_bytes_sec: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_bytes_sec: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_iops_sec: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_iops_sec: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_iops_sec: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_bytes_sec_max: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_bytes_sec_max: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_bytes_sec_max: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_iops_sec_max: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_iops_sec_max: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_iops_sec_max: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_bytes_sec_max_length: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_bytes_sec_max_length: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_bytes_sec_max_length: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_iops_sec_max_length: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_iops_sec_max_length: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_iops_sec_max_length: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DomainController {
    #[serde(rename = "@type")]
    pub controller_type: String,
    #[serde(rename = "@index")]
    pub index: u32,
    #[serde(rename = "@model", skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(rename = "@ports", skip_serializing_if = "Option::is_none")]
    pub ports: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<DomainControllerDriver>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master: Option<DomainControllerMaster>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<DomainControllerTarget>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<DomainAddress>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DomainControllerDriver {
    #[serde(rename = "@queues", skip_serializing_if = "Option::is_none")]
    pub queues: Option<u32>,
    #[serde(rename = "@iothread", skip_serializing_if = "Option::is_none")]
    pub iothread: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainControllerMaster {
    #[serde(rename = "@startport")]
    pub startport: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DomainControllerTarget {
    #[serde(rename = "@chassisNr", skip_serializing_if = "Option::is_none")]
    pub chassis_nr: Option<u32>,
    #[serde(rename = "@chassis", skip_serializing_if = "Option::is_none")]
    pub chassis: Option<u32>,
    #[serde(rename = "@port", skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    #[serde(rename = "@hotplug", skip_serializing_if = "Option::is_none")]
    pub hotplug: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DomainFilesystem {
    #[serde(rename = "@type")]
    pub fs_type: String,
    #[serde(rename = "@accessmode")]
    pub accessmode: String,
    pub driver: DomainFilesystemDriver,
    pub source: DomainFilesystemSource,
    pub target: DomainFilesystemTarget,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DomainFilesystemDriver {
    #[serde(rename = "@type")]
    pub driver_type: String,
    #[serde(rename = "@queue", skip_serializing_if = "Option::is_none")]
    pub queue: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DomainFilesystemSource {
    #[serde(rename = "@dir")]
    pub dir: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DomainFilesystemTarget {
    #[serde(rename = "@dir")]
    pub dir: String,
}

/// `<interface>`. Its `type` is the variant of its source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(try_from = "DomainInterfaceXml", into = "DomainInterfaceXml")]
pub struct DomainInterface {
    pub mac: Option<DomainInterfaceMac>,
    pub source: DomainInterfaceSource,
    pub virtualport: Option<DomainInterfaceVirtualport>,
    pub vlan: Option<DomainInterfaceVlan>,
    pub bandwidth: Option<DomainInterfaceBandwidth>,
    pub target: Option<DomainInterfaceTarget>,
    pub model: Option<DomainInterfaceModel>,
    pub driver: Option<DomainInterfaceDriver>,
    pub filterref: Option<DomainInterfaceFilterref>,
    pub link: Option<DomainInterfaceLink>,
    pub mtu: Option<DomainInterfaceMtu>,
    pub boot: Option<DomainBootOrder>,
    pub rom: Option<DomainRom>,
    pub address: Option<DomainAddress>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainInterfaceMac {
    #[serde(rename = "@address")]
    pub address: String,
}

/// Where an interface connects, one variant per `type` (libvirt `src/conf/domain_conf.c`
/// `virDomainNetDefParseXML`).
#[derive(Debug, Clone, PartialEq, Default)]
pub enum DomainInterfaceSource {
    Bridge {
        bridge: String,
    },
    Network {
        network: String,
        portgroup: Option<String>,
    },
    /// macvtap on a host device; `mode` is vepa, bridge, private or passthrough.
    Direct {
        dev: String,
        mode: Option<String>,
    },
    /// QEMU's user-mode (slirp/passt) networking.
    #[default]
    User,
    Ethernet,
    Vhostuser {
        source_type: Option<String>,
        path: Option<String>,
        mode: Option<String>,
    },
    Server {
        address: Option<String>,
        port: Option<u32>,
    },
    Client {
        address: Option<String>,
        port: Option<u32>,
    },
    Mcast {
        address: Option<String>,
        port: Option<u32>,
    },
    Udp {
        address: Option<String>,
        port: Option<u32>,
    },
    Vdpa {
        dev: String,
    },
    Null,
}

#[derive(Default, Serialize, Deserialize)]
struct DomainInterfaceXml {
    #[serde(rename = "@type")]
    interface_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    mac: Option<DomainInterfaceMac>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<DomainInterfaceSourceXml>,
    #[serde(skip_serializing_if = "Option::is_none")]
    virtualport: Option<DomainInterfaceVirtualport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vlan: Option<DomainInterfaceVlan>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bandwidth: Option<DomainInterfaceBandwidth>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<DomainInterfaceTarget>,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<DomainInterfaceModel>,
    #[serde(skip_serializing_if = "Option::is_none")]
    driver: Option<DomainInterfaceDriver>,
    #[serde(skip_serializing_if = "Option::is_none")]
    filterref: Option<DomainInterfaceFilterref>,
    #[serde(skip_serializing_if = "Option::is_none")]
    link: Option<DomainInterfaceLink>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mtu: Option<DomainInterfaceMtu>,
    #[serde(skip_serializing_if = "Option::is_none")]
    boot: Option<DomainBootOrder>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rom: Option<DomainRom>,
    #[serde(skip_serializing_if = "Option::is_none")]
    address: Option<DomainAddress>,
}

#[derive(Default, Serialize, Deserialize)]
struct DomainInterfaceSourceXml {
    #[serde(rename = "@type", skip_serializing_if = "Option::is_none")]
    source_type: Option<String>,
    #[serde(rename = "@network", skip_serializing_if = "Option::is_none")]
    network: Option<String>,
    #[serde(rename = "@portgroup", skip_serializing_if = "Option::is_none")]
    portgroup: Option<String>,
    #[serde(rename = "@bridge", skip_serializing_if = "Option::is_none")]
    bridge: Option<String>,
    #[serde(rename = "@dev", skip_serializing_if = "Option::is_none")]
    dev: Option<String>,
    #[serde(rename = "@path", skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    #[serde(rename = "@mode", skip_serializing_if = "Option::is_none")]
    mode: Option<String>,
    #[serde(rename = "@address", skip_serializing_if = "Option::is_none")]
    address: Option<String>,
    #[serde(rename = "@port", skip_serializing_if = "Option::is_none")]
    port: Option<u32>,
}

impl TryFrom<DomainInterfaceXml> for DomainInterface {
    type Error = String;
    fn try_from(x: DomainInterfaceXml) -> Result<Self, String> {
        let s = x.source.unwrap_or_default();
        let need = |v: Option<String>, what: &str| {
            v.ok_or_else(|| format!("<interface type='{}'> without source {what}", x.interface_type))
        };
        let source = match x.interface_type.as_str() {
            "bridge" => DomainInterfaceSource::Bridge { bridge: need(s.bridge, "bridge")? },
            "network" => {
                DomainInterfaceSource::Network { network: need(s.network, "network")?, portgroup: s.portgroup }
            }
            "direct" => DomainInterfaceSource::Direct { dev: need(s.dev, "dev")?, mode: s.mode },
            "user" => DomainInterfaceSource::User,
            "ethernet" => DomainInterfaceSource::Ethernet,
            "vhostuser" => DomainInterfaceSource::Vhostuser { source_type: s.source_type, path: s.path, mode: s.mode },
            "server" => DomainInterfaceSource::Server { address: s.address, port: s.port },
            "client" => DomainInterfaceSource::Client { address: s.address, port: s.port },
            "mcast" => DomainInterfaceSource::Mcast { address: s.address, port: s.port },
            "udp" => DomainInterfaceSource::Udp { address: s.address, port: s.port },
            "vdpa" => DomainInterfaceSource::Vdpa { dev: need(s.dev, "dev")? },
            "null" => DomainInterfaceSource::Null,
            other => return Err(format!("unknown interface type '{other}'")),
        };
        Ok(DomainInterface {
            source,
            mac: x.mac,
            virtualport: x.virtualport,
            vlan: x.vlan,
            bandwidth: x.bandwidth,
            target: x.target,
            model: x.model,
            driver: x.driver,
            filterref: x.filterref,
            link: x.link,
            mtu: x.mtu,
            boot: x.boot,
            rom: x.rom,
            address: x.address,
        })
    }
}

impl From<DomainInterface> for DomainInterfaceXml {
    fn from(i: DomainInterface) -> Self {
        let none = DomainInterfaceSourceXml::default();
        let (interface_type, source) = match i.source {
            DomainInterfaceSource::Bridge { bridge } => {
                ("bridge", Some(DomainInterfaceSourceXml { bridge: Some(bridge), ..none }))
            }
            DomainInterfaceSource::Network { network, portgroup } => {
                ("network", Some(DomainInterfaceSourceXml { network: Some(network), portgroup, ..none }))
            }
            DomainInterfaceSource::Direct { dev, mode } => {
                ("direct", Some(DomainInterfaceSourceXml { dev: Some(dev), mode, ..none }))
            }
            DomainInterfaceSource::User => ("user", None),
            DomainInterfaceSource::Ethernet => ("ethernet", None),
            DomainInterfaceSource::Vhostuser { source_type, path, mode } => {
                ("vhostuser", Some(DomainInterfaceSourceXml { source_type, path, mode, ..none }))
            }
            DomainInterfaceSource::Server { address, port } => {
                ("server", Some(DomainInterfaceSourceXml { address, port, ..none }))
            }
            DomainInterfaceSource::Client { address, port } => {
                ("client", Some(DomainInterfaceSourceXml { address, port, ..none }))
            }
            DomainInterfaceSource::Mcast { address, port } => {
                ("mcast", Some(DomainInterfaceSourceXml { address, port, ..none }))
            }
            DomainInterfaceSource::Udp { address, port } => {
                ("udp", Some(DomainInterfaceSourceXml { address, port, ..none }))
            }
            DomainInterfaceSource::Vdpa { dev } => ("vdpa", Some(DomainInterfaceSourceXml { dev: Some(dev), ..none })),
            DomainInterfaceSource::Null => ("null", None),
        };
        DomainInterfaceXml {
            interface_type: interface_type.to_owned(),
            source,
            mac: i.mac,
            virtualport: i.virtualport,
            vlan: i.vlan,
            bandwidth: i.bandwidth,
            target: i.target,
            model: i.model,
            driver: i.driver,
            filterref: i.filterref,
            link: i.link,
            mtu: i.mtu,
            boot: i.boot,
            rom: i.rom,
            address: i.address,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainInterfaceFilterref {
    #[serde(rename = "@filter")]
    pub filter: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainInterfaceVirtualport {
    #[serde(rename = "@type")]
    pub virtualport_type: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DomainInterfaceVlan {
    #[serde(rename = "@trunk", skip_serializing_if = "Option::is_none")]
    pub trunk: Option<String>,
    #[serde(rename = "tag")]
    pub tags: Vec<DomainInterfaceVlanTag>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainInterfaceVlanTag {
    #[serde(rename = "@id")]
    pub id: u32,
    #[serde(rename = "@nativeMode", skip_serializing_if = "Option::is_none")]
    pub native_mode: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainInterfaceBandwidth {
    pub inbound: DomainInterfaceBandwidthParams,
    pub outbound: DomainInterfaceBandwidthParams,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainInterfaceBandwidthParams {
    #[serde(rename = "@average")]
    pub average: u64,
    #[serde(rename = "@burst", skip_serializing_if = "Option::is_none")]
    pub burst: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainInterfaceTarget {
    #[serde(rename = "@dev")]
    pub dev: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainInterfaceModel {
    #[serde(rename = "@type")]
    pub model_type: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DomainInterfaceDriver {
    #[serde(rename = "@name", skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(rename = "@queues", skip_serializing_if = "Option::is_none")]
    pub queues: Option<u32>,
    #[serde(rename = "@rx_queue_size", skip_serializing_if = "Option::is_none")]
    pub rx_queue_size: Option<u32>,
    #[serde(rename = "@tx_queue_size", skip_serializing_if = "Option::is_none")]
    pub tx_queue_size: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainInterfaceLink {
    #[serde(rename = "@state")]
    pub state: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainInterfaceMtu {
    #[serde(rename = "@size")]
    pub size: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DomainRom {
    #[serde(rename = "@bar", skip_serializing_if = "Option::is_none")]
    pub bar: Option<String>,
    #[serde(rename = "@file", skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(rename = "@enabled", skip_serializing_if = "Option::is_none")]
    pub enabled: Option<String>,
}

/// `<serial>`, `<parallel>`, `<console>`, `<channel>`: a character device. Its `type` is the
/// variant of its source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(try_from = "DomainChardevXml", into = "DomainChardevXml")]
pub struct DomainChardev {
    pub source: DomainChardevSource,
    pub target: Option<DomainChardevTarget>,
    pub address: Option<DomainAddress>,
}

/// A chardev's backend, one variant per `type` (libvirt `src/conf/domain_conf.c`
/// `virDomainChrSourceDefParseXML`); the `<source>` element is written only when it has
/// something to say.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum DomainChardevSource {
    #[default]
    Null,
    Vc,
    /// `path` is the pty libvirt allocated, in live XML.
    Pty {
        path: Option<String>,
    },
    Dev {
        path: Option<String>,
    },
    File {
        path: Option<String>,
    },
    Pipe {
        path: Option<String>,
    },
    Stdio,
    Tcp {
        mode: Option<String>,
        host: Option<String>,
        service: Option<String>,
    },
    /// Two `<source>`s: `mode='bind'` and `mode='connect'`.
    Udp {
        bind_host: Option<String>,
        bind_service: Option<String>,
        connect_host: Option<String>,
        connect_service: Option<String>,
    },
    /// `path` absent: libvirt picks one under its channel directory.
    Unix {
        mode: Option<String>,
        path: Option<String>,
    },
    Spicevmc,
    Spiceport {
        channel: Option<String>,
    },
    QemuVdagent {
        clipboard: Option<DomainChardevClipboard>,
        mouse: Option<DomainChardevMouse>,
    },
}

#[derive(Default, Serialize, Deserialize)]
struct DomainChardevXml {
    #[serde(rename = "@type")]
    chardev_type: String,
    /// A list: `udp` has two sources (bind and connect); the model keeps the first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    source: Vec<DomainChardevSourceXml>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<DomainChardevTarget>,
    #[serde(skip_serializing_if = "Option::is_none")]
    address: Option<DomainAddress>,
}

#[derive(Default, Serialize, Deserialize)]
struct DomainChardevSourceXml {
    #[serde(rename = "@mode", skip_serializing_if = "Option::is_none")]
    mode: Option<String>,
    #[serde(rename = "@host", skip_serializing_if = "Option::is_none")]
    host: Option<String>,
    #[serde(rename = "@service", skip_serializing_if = "Option::is_none")]
    service: Option<String>,
    #[serde(rename = "@path", skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    #[serde(rename = "@channel", skip_serializing_if = "Option::is_none")]
    channel: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    clipboard: Option<DomainChardevClipboard>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mouse: Option<DomainChardevMouse>,
}

impl TryFrom<DomainChardevXml> for DomainChardev {
    type Error = String;
    fn try_from(x: DomainChardevXml) -> Result<Self, String> {
        if x.chardev_type == "udp" {
            let (mut bind, mut connect) = (None, None);
            for s in x.source {
                match s.mode.as_deref() {
                    Some("bind") => bind = Some(s),
                    _ => connect = Some(s),
                }
            }
            let (bind, connect) = (bind.unwrap_or_default(), connect.unwrap_or_default());
            let source = DomainChardevSource::Udp {
                bind_host: bind.host,
                bind_service: bind.service,
                connect_host: connect.host,
                connect_service: connect.service,
            };
            return Ok(DomainChardev { source, target: x.target, address: x.address });
        }
        let s = x.source.into_iter().next().unwrap_or_default();
        let source = match x.chardev_type.as_str() {
            "null" => DomainChardevSource::Null,
            "vc" => DomainChardevSource::Vc,
            "pty" => DomainChardevSource::Pty { path: s.path },
            "dev" => DomainChardevSource::Dev { path: s.path },
            "file" => DomainChardevSource::File { path: s.path },
            "pipe" => DomainChardevSource::Pipe { path: s.path },
            "stdio" => DomainChardevSource::Stdio,
            "tcp" => DomainChardevSource::Tcp { mode: s.mode, host: s.host, service: s.service },
            "unix" => DomainChardevSource::Unix { mode: s.mode, path: s.path },
            "spicevmc" => DomainChardevSource::Spicevmc,
            "spiceport" => DomainChardevSource::Spiceport { channel: s.channel },
            "qemu-vdagent" => DomainChardevSource::QemuVdagent { clipboard: s.clipboard, mouse: s.mouse },
            other => return Err(format!("unknown chardev type '{other}'")),
        };
        Ok(DomainChardev { source, target: x.target, address: x.address })
    }
}

impl From<DomainChardev> for DomainChardevXml {
    fn from(c: DomainChardev) -> Self {
        let none = DomainChardevSourceXml::default();
        if let DomainChardevSource::Udp { bind_host, bind_service, connect_host, connect_service } = c.source {
            let mut source = Vec::new();
            if bind_host.is_some() || bind_service.is_some() {
                source.push(DomainChardevSourceXml {
                    mode: Some("bind".into()),
                    host: bind_host,
                    service: bind_service,
                    ..Default::default()
                });
            }
            source.push(DomainChardevSourceXml {
                mode: Some("connect".into()),
                host: connect_host,
                service: connect_service,
                ..none
            });
            return DomainChardevXml { chardev_type: "udp".into(), source, target: c.target, address: c.address };
        }
        let (chardev_type, s) = match c.source {
            DomainChardevSource::Null => ("null", none),
            DomainChardevSource::Vc => ("vc", none),
            DomainChardevSource::Pty { path } => ("pty", DomainChardevSourceXml { path, ..none }),
            DomainChardevSource::Dev { path } => ("dev", DomainChardevSourceXml { path, ..none }),
            DomainChardevSource::File { path } => ("file", DomainChardevSourceXml { path, ..none }),
            DomainChardevSource::Pipe { path } => ("pipe", DomainChardevSourceXml { path, ..none }),
            DomainChardevSource::Stdio => ("stdio", none),
            DomainChardevSource::Tcp { mode, host, service } => {
                ("tcp", DomainChardevSourceXml { mode, host, service, ..none })
            }
            DomainChardevSource::Unix { mode, path } => ("unix", DomainChardevSourceXml { mode, path, ..none }),
            DomainChardevSource::Udp { .. } => unreachable!("written above"),
            DomainChardevSource::Spicevmc => ("spicevmc", none),
            DomainChardevSource::Spiceport { channel } => ("spiceport", DomainChardevSourceXml { channel, ..none }),
            DomainChardevSource::QemuVdagent { clipboard, mouse } => {
                ("qemu-vdagent", DomainChardevSourceXml { clipboard, mouse, ..none })
            }
        };
        let empty = s.mode.is_none()
            && s.host.is_none()
            && s.service.is_none()
            && s.path.is_none()
            && s.channel.is_none()
            && s.clipboard.is_none()
            && s.mouse.is_none();
        DomainChardevXml {
            chardev_type: chardev_type.to_owned(),
            source: if empty { Vec::new() } else { vec![s] },
            target: c.target,
            address: c.address,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainChardevClipboard {
    #[serde(rename = "@copypaste")]
    pub copypaste: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainChardevMouse {
    #[serde(rename = "@mode")]
    pub mode: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DomainChardevTarget {
    #[serde(rename = "@type", skip_serializing_if = "Option::is_none")]
    pub target_type: Option<String>,
    #[serde(rename = "@name", skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(rename = "@port", skip_serializing_if = "Option::is_none")]
    pub port: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainInput {
    #[serde(rename = "@type")]
    pub input_type: String,
    #[serde(rename = "@bus")]
    pub bus: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<DomainAddress>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainTpm {
    #[serde(rename = "@model")]
    pub model: String,
    pub backend: DomainTpmBackend,
}

/// `<tpm><backend>`, one variant per `type` (libvirt `src/conf/domain_conf.c`
/// `virDomainTPMDefParseXML`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "DomainTpmBackendXml", into = "DomainTpmBackendXml")]
pub enum DomainTpmBackend {
    /// The host's TPM: `<device path='/dev/tpm0'/>`.
    Passthrough { device: Option<String> },
    /// A swtpm that libvirt starts.
    Emulator { version: Option<String>, source: Option<DomainTpmSource> },
    /// A swtpm started by someone else, reached over its socket.
    External { source: Option<DomainTpmSource> },
}

impl DomainTpmBackend {
    /// The `type` attribute.
    pub fn backend_type(&self) -> &'static str {
        match self {
            DomainTpmBackend::Passthrough { .. } => "passthrough",
            DomainTpmBackend::Emulator { .. } => "emulator",
            DomainTpmBackend::External { .. } => "external",
        }
    }
    pub fn version(&self) -> Option<&str> {
        match self {
            DomainTpmBackend::Emulator { version, .. } => version.as_deref(),
            _ => None,
        }
    }
}

/// `<backend><source type='unix' mode='connect' path='…'/>` (external) or `<source
/// type='file|dir' path='…'/>` (emulator state): unlike a chardev's, this source names its type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainTpmSource {
    #[serde(rename = "@type", skip_serializing_if = "Option::is_none")]
    pub source_type: Option<String>,
    #[serde(rename = "@mode", skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    #[serde(rename = "@path", skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct DomainTpmDevice {
    #[serde(rename = "@path")]
    path: String,
}

#[derive(Serialize, Deserialize)]
struct DomainTpmBackendXml {
    #[serde(rename = "@type")]
    backend_type: String,
    #[serde(rename = "@version", skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    device: Option<DomainTpmDevice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<DomainTpmSource>,
}

impl TryFrom<DomainTpmBackendXml> for DomainTpmBackend {
    type Error = String;
    fn try_from(x: DomainTpmBackendXml) -> Result<Self, String> {
        Ok(match x.backend_type.as_str() {
            "passthrough" => DomainTpmBackend::Passthrough { device: x.device.map(|d| d.path) },
            "emulator" => DomainTpmBackend::Emulator { version: x.version, source: x.source },
            "external" => DomainTpmBackend::External { source: x.source },
            other => return Err(format!("unknown TPM backend type '{other}'")),
        })
    }
}

impl From<DomainTpmBackend> for DomainTpmBackendXml {
    fn from(b: DomainTpmBackend) -> Self {
        let backend_type = b.backend_type().to_owned();
        let (version, device, source) = match b {
            DomainTpmBackend::Passthrough { device } => (None, device.map(|path| DomainTpmDevice { path }), None),
            DomainTpmBackend::Emulator { version, source } => (version, None, source),
            DomainTpmBackend::External { source } => (None, None, source),
        };
        DomainTpmBackendXml { backend_type, version, device, source }
    }
}

/// `<graphics>`, one variant per `type` (libvirt `src/conf/domain_conf.c`
/// `virDomainGraphicsDefParseXML`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "DomainGraphicsXml", into = "DomainGraphicsXml")]
pub enum DomainGraphics {
    Vnc(DomainGraphicsVnc),
    Spice(DomainGraphicsSpice),
    Sdl(DomainGraphicsSdl),
    /// OpenGL rendering for a display without its own GL (`<gl rendernode='…'/>`).
    EglHeadless {
        gl: Option<DomainGraphicsGl>,
    },
    Dbus {
        gl: Option<DomainGraphicsGl>,
    },
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct DomainGraphicsVnc {
    /// Signed: older XML writes `-1` for "pick one" (libvirt `src/conf/domain_conf.c`
    /// `virDomainGraphicsDefParseXMLVNC`).
    pub port: Option<i32>,
    pub autoport: Option<String>,
    pub keymap: Option<String>,
    pub passwd: Option<String>,
    pub listen: Option<DomainGraphicsListen>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct DomainGraphicsSpice {
    pub port: Option<i32>,
    pub tls_port: Option<i32>,
    pub autoport: Option<String>,
    pub keymap: Option<String>,
    pub passwd: Option<String>,
    pub listen: Option<DomainGraphicsListen>,
    pub image: Option<DomainGraphicsCompression>,
    pub jpeg: Option<DomainGraphicsCompression>,
    pub zlib: Option<DomainGraphicsCompression>,
    pub playback: Option<DomainGraphicsCompression>,
    pub streaming: Option<DomainGraphicsStreaming>,
    pub mouse: Option<DomainChardevMouse>,
    pub gl: Option<DomainGraphicsGl>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct DomainGraphicsSdl {
    pub display: Option<String>,
    pub xauth: Option<String>,
    pub fullscreen: Option<String>,
    pub gl: Option<DomainGraphicsGl>,
}

/// The wire form of [`DomainGraphics`]: every variant's attributes and children.
#[derive(Default, Serialize, Deserialize)]
struct DomainGraphicsXml {
    #[serde(rename = "@type")]
    graphics_type: String,
    #[serde(rename = "@port", skip_serializing_if = "Option::is_none")]
    port: Option<i32>,
    #[serde(rename = "@tlsPort", skip_serializing_if = "Option::is_none")]
    tls_port: Option<i32>,
    #[serde(rename = "@autoport", skip_serializing_if = "Option::is_none")]
    autoport: Option<String>,
    #[serde(rename = "@keymap", skip_serializing_if = "Option::is_none")]
    keymap: Option<String>,
    #[serde(rename = "@passwd", skip_serializing_if = "Option::is_none")]
    passwd: Option<String>,
    #[serde(rename = "@display", skip_serializing_if = "Option::is_none")]
    display: Option<String>,
    #[serde(rename = "@xauth", skip_serializing_if = "Option::is_none")]
    xauth: Option<String>,
    #[serde(rename = "@fullscreen", skip_serializing_if = "Option::is_none")]
    fullscreen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    listen: Option<DomainGraphicsListen>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<DomainGraphicsCompression>,
    #[serde(skip_serializing_if = "Option::is_none")]
    jpeg: Option<DomainGraphicsCompression>,
    #[serde(skip_serializing_if = "Option::is_none")]
    zlib: Option<DomainGraphicsCompression>,
    #[serde(skip_serializing_if = "Option::is_none")]
    playback: Option<DomainGraphicsCompression>,
    #[serde(skip_serializing_if = "Option::is_none")]
    streaming: Option<DomainGraphicsStreaming>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mouse: Option<DomainChardevMouse>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gl: Option<DomainGraphicsGl>,
}

impl TryFrom<DomainGraphicsXml> for DomainGraphics {
    type Error = String;
    fn try_from(x: DomainGraphicsXml) -> Result<Self, String> {
        Ok(match x.graphics_type.as_str() {
            "vnc" => DomainGraphics::Vnc(DomainGraphicsVnc {
                port: x.port,
                autoport: x.autoport,
                keymap: x.keymap,
                passwd: x.passwd,
                listen: x.listen,
            }),
            "spice" => DomainGraphics::Spice(DomainGraphicsSpice {
                port: x.port,
                tls_port: x.tls_port,
                autoport: x.autoport,
                keymap: x.keymap,
                passwd: x.passwd,
                listen: x.listen,
                image: x.image,
                jpeg: x.jpeg,
                zlib: x.zlib,
                playback: x.playback,
                streaming: x.streaming,
                mouse: x.mouse,
                gl: x.gl,
            }),
            "sdl" => DomainGraphics::Sdl(DomainGraphicsSdl {
                display: x.display,
                xauth: x.xauth,
                fullscreen: x.fullscreen,
                gl: x.gl,
            }),
            "egl-headless" => DomainGraphics::EglHeadless { gl: x.gl },
            "dbus" => DomainGraphics::Dbus { gl: x.gl },
            other => return Err(format!("unknown graphics type '{other}'")),
        })
    }
}

impl From<DomainGraphics> for DomainGraphicsXml {
    fn from(g: DomainGraphics) -> Self {
        let typed = |t: &str| DomainGraphicsXml { graphics_type: t.to_owned(), ..Default::default() };
        match g {
            DomainGraphics::Vnc(v) => DomainGraphicsXml {
                port: v.port,
                autoport: v.autoport,
                keymap: v.keymap,
                passwd: v.passwd,
                listen: v.listen,
                ..typed("vnc")
            },
            DomainGraphics::Spice(s) => DomainGraphicsXml {
                port: s.port,
                tls_port: s.tls_port,
                autoport: s.autoport,
                keymap: s.keymap,
                passwd: s.passwd,
                listen: s.listen,
                image: s.image,
                jpeg: s.jpeg,
                zlib: s.zlib,
                playback: s.playback,
                streaming: s.streaming,
                mouse: s.mouse,
                gl: s.gl,
                ..typed("spice")
            },
            DomainGraphics::Sdl(s) => DomainGraphicsXml {
                display: s.display,
                xauth: s.xauth,
                fullscreen: s.fullscreen,
                gl: s.gl,
                ..typed("sdl")
            },
            DomainGraphics::EglHeadless { gl } => DomainGraphicsXml { gl, ..typed("egl-headless") },
            DomainGraphics::Dbus { gl } => DomainGraphicsXml { gl, ..typed("dbus") },
        }
    }
}

/// `<image|jpeg|zlib|playback compression='…'/>` of a SPICE display.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainGraphicsCompression {
    #[serde(rename = "@compression")]
    pub compression: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainGraphicsGl {
    #[serde(rename = "@enable")]
    pub enable: String,
    #[serde(rename = "@rendernode", skip_serializing_if = "Option::is_none")]
    pub rendernode: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainGraphicsListen {
    #[serde(rename = "@type")]
    pub listen_type: String,
    #[serde(rename = "@address", skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(rename = "@socket", skip_serializing_if = "Option::is_none")]
    pub socket: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainGraphicsStreaming {
    #[serde(rename = "@mode")]
    pub mode: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainSound {
    #[serde(rename = "@model")]
    pub model: String,
    /// An HDA card has one codec per `<codec>` (libvirt's test `sound-device.xml` has three).
    #[serde(rename = "codec", default, skip_serializing_if = "Vec::is_empty")]
    pub codecs: Vec<DomainSoundCodec>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audio: Option<DomainSoundAudio>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<DomainAddress>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainSoundCodec {
    #[serde(rename = "@type")]
    pub codec_type: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainSoundAudio {
    #[serde(rename = "@id")]
    pub id: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainAudio {
    #[serde(rename = "@id")]
    pub id: u32,
    #[serde(rename = "@type")]
    pub audio_type: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainVideo {
    pub model: DomainVideoModel,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<DomainAddress>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DomainVideoModel {
    #[serde(rename = "@type")]
    pub model_type: String,
    #[serde(rename = "@ram", skip_serializing_if = "Option::is_none")]
    pub ram: Option<u32>,
    #[serde(rename = "@vram", skip_serializing_if = "Option::is_none")]
    pub vram: Option<u32>,
    #[serde(rename = "@vgamem", skip_serializing_if = "Option::is_none")]
    pub vgamem: Option<u32>,
    #[serde(rename = "@heads", skip_serializing_if = "Option::is_none")]
    pub heads: Option<u32>,
    #[serde(rename = "@primary", skip_serializing_if = "Option::is_none")]
    pub primary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acceleration: Option<DomainVideoAcceleration>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainVideoAcceleration {
    #[serde(rename = "@accel3d")]
    pub accel3d: String,
}

/// `<hostdev mode='subsystem'>`. Its `type` is the variant of its source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "DomainHostdevXml", into = "DomainHostdevXml")]
pub struct DomainHostdev {
    pub managed: Option<String>,
    pub driver: Option<DomainHostdevDriver>,
    pub source: DomainHostdevSource,
    pub boot: Option<DomainBootOrder>,
    pub rom: Option<DomainRom>,
    pub alias: Option<DomainAlias>,
    pub address: Option<DomainAddress>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainHostdevDriver {
    #[serde(rename = "@name", skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A vendor VFIO variant driver (`vfio-pci-igb`).
    #[serde(rename = "@model", skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

/// The host device, one variant per subsystem `type` (libvirt `src/conf/domain_conf.c`
/// `virDomainHostdevDefParseXMLSubsys`).
#[derive(Debug, Clone, PartialEq)]
pub enum DomainHostdevSource {
    /// `<source><address domain bus slot function/></source>`
    Pci(DomainHostdevPci),
    Usb(DomainHostdevUsb),
    /// A SCSI LUN on a host adapter.
    Scsi(DomainHostdevScsi),
    /// A mediated device (vGPU); `model` and `display` are attributes of the `<hostdev>`.
    Mdev(DomainHostdevMdev),
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct DomainHostdevPci {
    pub domain: Option<String>,
    pub bus: Option<String>,
    pub slot: Option<String>,
    pub function: Option<String>,
}

/// By vendor and product, or by bus and device number.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DomainHostdevUsb {
    pub startup_policy: Option<String>,
    pub vendor: Option<DomainHostdevId>,
    pub product: Option<DomainHostdevId>,
    pub bus: Option<String>,
    pub device: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct DomainHostdevScsi {
    pub adapter: Option<String>,
    pub bus: Option<String>,
    pub target: Option<String>,
    pub unit: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct DomainHostdevMdev {
    pub model: Option<String>,
    pub display: Option<String>,
    pub uuid: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainHostdevId {
    #[serde(rename = "@id")]
    pub id: String,
}

#[derive(Serialize, Deserialize)]
struct DomainHostdevXml {
    #[serde(rename = "@mode")]
    mode: String,
    #[serde(rename = "@type")]
    hostdev_type: String,
    #[serde(rename = "@managed", skip_serializing_if = "Option::is_none")]
    managed: Option<String>,
    #[serde(rename = "@model", skip_serializing_if = "Option::is_none")]
    model: Option<String>,
    #[serde(rename = "@display", skip_serializing_if = "Option::is_none")]
    display: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    driver: Option<DomainHostdevDriver>,
    #[serde(default)]
    source: DomainHostdevSourceXml,
    #[serde(skip_serializing_if = "Option::is_none")]
    boot: Option<DomainBootOrder>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rom: Option<DomainRom>,
    #[serde(skip_serializing_if = "Option::is_none")]
    alias: Option<DomainAlias>,
    #[serde(skip_serializing_if = "Option::is_none")]
    address: Option<DomainAddress>,
}

#[derive(Default, Serialize, Deserialize)]
struct DomainHostdevSourceXml {
    #[serde(rename = "@startupPolicy", skip_serializing_if = "Option::is_none")]
    startup_policy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vendor: Option<DomainHostdevId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    product: Option<DomainHostdevId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    adapter: Option<DomainHostdevAdapterXml>,
    #[serde(skip_serializing_if = "Option::is_none")]
    address: Option<DomainHostdevSourceAddressXml>,
}

#[derive(Serialize, Deserialize)]
struct DomainHostdevAdapterXml {
    #[serde(rename = "@name")]
    name: String,
}

#[derive(Default, Serialize, Deserialize)]
struct DomainHostdevSourceAddressXml {
    #[serde(rename = "@uuid", skip_serializing_if = "Option::is_none")]
    uuid: Option<String>,
    #[serde(rename = "@domain", skip_serializing_if = "Option::is_none")]
    domain: Option<String>,
    #[serde(rename = "@bus", skip_serializing_if = "Option::is_none")]
    bus: Option<String>,
    #[serde(rename = "@target", skip_serializing_if = "Option::is_none")]
    target: Option<String>,
    #[serde(rename = "@slot", skip_serializing_if = "Option::is_none")]
    slot: Option<String>,
    #[serde(rename = "@unit", skip_serializing_if = "Option::is_none")]
    unit: Option<String>,
    #[serde(rename = "@function", skip_serializing_if = "Option::is_none")]
    function: Option<String>,
    #[serde(rename = "@device", skip_serializing_if = "Option::is_none")]
    device: Option<String>,
}

impl TryFrom<DomainHostdevXml> for DomainHostdev {
    type Error = String;
    fn try_from(x: DomainHostdevXml) -> Result<Self, String> {
        if x.mode != "subsystem" {
            return Err(format!("<hostdev mode='{}'> is not modelled", x.mode));
        }
        let s = x.source;
        let a = s.address.unwrap_or_default();
        let source = match x.hostdev_type.as_str() {
            "pci" => DomainHostdevSource::Pci(DomainHostdevPci {
                domain: a.domain,
                bus: a.bus,
                slot: a.slot,
                function: a.function,
            }),
            "usb" => DomainHostdevSource::Usb(DomainHostdevUsb {
                startup_policy: s.startup_policy,
                vendor: s.vendor,
                product: s.product,
                bus: a.bus,
                device: a.device,
            }),
            "scsi" => DomainHostdevSource::Scsi(DomainHostdevScsi {
                adapter: s.adapter.map(|a| a.name),
                bus: a.bus,
                target: a.target,
                unit: a.unit,
            }),
            "mdev" => DomainHostdevSource::Mdev(DomainHostdevMdev { model: x.model, display: x.display, uuid: a.uuid }),
            other => return Err(format!("unknown hostdev type '{other}'")),
        };
        Ok(DomainHostdev {
            managed: x.managed,
            driver: x.driver,
            source,
            boot: x.boot,
            rom: x.rom,
            alias: x.alias,
            address: x.address,
        })
    }
}

impl From<DomainHostdev> for DomainHostdevXml {
    fn from(h: DomainHostdev) -> Self {
        let mut source = DomainHostdevSourceXml::default();
        let (mut model, mut display) = (None, None);
        let (hostdev_type, address) = match h.source {
            DomainHostdevSource::Pci(p) => (
                "pci",
                DomainHostdevSourceAddressXml {
                    domain: p.domain,
                    bus: p.bus,
                    slot: p.slot,
                    function: p.function,
                    ..Default::default()
                },
            ),
            DomainHostdevSource::Usb(u) => {
                (source.startup_policy, source.vendor, source.product) = (u.startup_policy, u.vendor, u.product);
                ("usb", DomainHostdevSourceAddressXml { bus: u.bus, device: u.device, ..Default::default() })
            }
            DomainHostdevSource::Scsi(s) => {
                source.adapter = s.adapter.map(|name| DomainHostdevAdapterXml { name });
                (
                    "scsi",
                    DomainHostdevSourceAddressXml { bus: s.bus, target: s.target, unit: s.unit, ..Default::default() },
                )
            }
            DomainHostdevSource::Mdev(m) => {
                (model, display) = (m.model, m.display);
                ("mdev", DomainHostdevSourceAddressXml { uuid: m.uuid, ..Default::default() })
            }
        };
        let empty = address.uuid.is_none()
            && address.domain.is_none()
            && address.bus.is_none()
            && address.target.is_none()
            && address.slot.is_none()
            && address.unit.is_none()
            && address.function.is_none()
            && address.device.is_none();
        source.address = (!empty).then_some(address);
        DomainHostdevXml {
            mode: "subsystem".to_owned(),
            hostdev_type: hostdev_type.to_owned(),
            managed: h.managed,
            model,
            display,
            driver: h.driver,
            source,
            boot: h.boot,
            rom: h.rom,
            alias: h.alias,
            address: h.address,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainRedirdev {
    #[serde(rename = "@bus")]
    pub bus: String,
    #[serde(rename = "@type")]
    pub redirdev_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<DomainAddress>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainWatchdog {
    #[serde(rename = "@model")]
    pub model: String,
    #[serde(rename = "@action", skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<DomainAddress>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DomainMemballoon {
    #[serde(rename = "@model")]
    pub model: String,
    #[serde(rename = "@freePageReporting", skip_serializing_if = "Option::is_none")]
    pub free_page_reporting: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats: Option<DomainMemballoonStats>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<DomainAddress>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainMemballoonStats {
    #[serde(rename = "@period")]
    pub period: u32,
}

/// `<rng model='virtio'>`: the VirtIO RNG, Proxmox's `rng0`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainRng {
    #[serde(rename = "@model")]
    pub model: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate: Option<DomainRngRate>,
    pub backend: DomainRngBackend,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<DomainAddress>,
}

/// `<rate bytes='N' period='MS'/>`: at most `bytes` every `period` milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainRngRate {
    #[serde(rename = "@bytes")]
    pub bytes: u64,
    #[serde(rename = "@period")]
    pub period: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainRngBackend {
    #[serde(rename = "@model")]
    pub model: String,
    #[serde(rename = "$text")]
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainShmem {
    #[serde(rename = "@name")]
    pub name: String,
    pub model: DomainShmemModel,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<DomainMemory>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<DomainShmemServer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msi: Option<DomainShmemMsi>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<DomainAddress>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainShmemServer {
    #[serde(rename = "@path", skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainShmemMsi {
    #[serde(rename = "@vectors", skip_serializing_if = "Option::is_none")]
    pub vectors: Option<u32>,
    #[serde(rename = "@ioeventfd", skip_serializing_if = "Option::is_none")]
    pub ioeventfd: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainShmemModel {
    #[serde(rename = "@type")]
    pub model_type: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainMemoryDevice {
    #[serde(rename = "@model")]
    pub model: String,
    pub target: DomainMemoryDeviceTarget,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainMemoryDeviceTarget {
    pub size: DomainMemory,
    pub node: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainIommu {
    #[serde(rename = "@model")]
    pub model: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<DomainIommuDriver>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DomainIommuDriver {
    #[serde(rename = "@intremap", skip_serializing_if = "Option::is_none")]
    pub intremap: Option<String>,
    #[serde(rename = "@caching_mode", skip_serializing_if = "Option::is_none")]
    pub caching_mode: Option<String>,
    #[serde(rename = "@aw_bits", skip_serializing_if = "Option::is_none")]
    pub aw_bits: Option<u32>,
}

// ---------------------------------------------------------------------------------------------
// QEMU namespace

pub const QEMU_NS: &str = "http://libvirt.org/schemas/domain/qemu/1.0";

impl Domain {
    /// Sets QEMU frontend properties of the device with user alias `alias` (`ua-…`), through
    /// `<qemu:override>`: for properties libvirt has no element for.
    pub fn qemu_override(&mut self, alias: String, properties: Vec<DomainQemuProperty>) {
        self.xmlns_qemu = Some(QEMU_NS.into());
        self.qemu_override
            .get_or_insert_with(Default::default)
            .devices
            .push(DomainQemuOverrideDevice { alias, frontend: DomainQemuFrontend { properties } });
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DomainQemuCommandline {
    #[serde(rename(serialize = "qemu:arg", deserialize = "arg"))]
    pub args: Vec<DomainQemuArg>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainQemuArg {
    #[serde(rename = "@value")]
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DomainQemuOverride {
    #[serde(rename(serialize = "qemu:device", deserialize = "device"))]
    pub devices: Vec<DomainQemuOverrideDevice>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainQemuOverrideDevice {
    #[serde(rename = "@alias")]
    pub alias: String,
    #[serde(rename(serialize = "qemu:frontend", deserialize = "frontend"))]
    pub frontend: DomainQemuFrontend,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainQemuFrontend {
    #[serde(rename(serialize = "qemu:property", deserialize = "property"))]
    pub properties: Vec<DomainQemuProperty>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainQemuProperty {
    #[serde(rename = "@name")]
    pub name: String,
    #[serde(rename = "@type")]
    pub property_type: String,
    #[serde(rename = "@value")]
    pub value: String,
}
