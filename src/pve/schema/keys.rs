//! Every top-level key of a VM config (QemuServer.pm `$confdesc`, docs/proxmox-config.md#keys), plus the
//! snapshot-internal `snapstate`.
//!
//! Proxmox's config parser does not check top-level `enum`, `pattern`, `minimum` or `maximum`
//! (only the API does, docs/proxmox-config.md#the-file); we do, with the ranges exactly as the
//! schema gives them.

use super::checks;
use super::enums::*;
use super::formats::*;
use super::KeySpec;
use super::KeyType::{Props, Scalar, Verbatim};
use super::ValueType::{Bool, Enum, Int, Number, Parsed, Text};
use crate::pve::decode::Entry;
use crate::pve::model::lists::HotplugFeatures;
use crate::pve::vm::Keys;
use std::borrow::Cow;
use std::fmt;

/// The name of a top-level key, as the map hands it to the key accounting
/// ([`Ctx::mapped`](crate::map::Ctx::mapped), [`Ctx::note_on`](crate::map::Ctx::note_on)).
///
/// Made only by the constants and functions `pve_keys!` declares (`Key::kvm`, `Key::net(0)`) or
/// from a name the config itself carried (an entry's key, a drive's key), never from a string
/// literal: a misspelt key is a compile error, not a key silently reported as untranslated.
///
/// ```compile_fail
/// let _: pve2virt::pve::schema::Key = "kvm".into();
/// ```
/// ```
/// use pve2virt::pve::schema::Key;
/// assert_eq!(Key::kvm.as_str(), "kvm");
/// assert_eq!(Key::net(3).as_str(), "net3");
/// assert_eq!(Key::allow_ksm.as_str(), "allow-ksm");
/// assert_eq!(Key::numa_nodes(1).as_str(), "numa1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key(Cow<'static, str>);

impl Key {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Entry `index` of an indexed family (`net` and 3: `net3`).
    fn indexed(family: &'static str, index: u16) -> Key {
        Key(Cow::Owned(format!("{family}{index}")))
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<Key> for String {
    fn from(key: Key) -> String {
        key.0.into_owned()
    }
}

impl From<&Key> for Key {
    fn from(key: &Key) -> Key {
        key.clone()
    }
}

/// A key name the config carried (a decoded entry's or a drive's), which the decoder checked
/// against [`KEYS`].
impl From<&String> for Key {
    fn from(name: &String) -> Key {
        Key(Cow::Owned(name.clone()))
    }
}

impl From<&Entry> for Key {
    fn from(entry: &Entry) -> Key {
        Key(Cow::Owned(entry.key.value.clone()))
    }
}

/// Declares every top-level key once: its schema entry in `KEYS`, and a typed accessor of the
/// same name on [`Keys`](crate::pve::vm::Keys) (`vm.keys().kvm() -> Option<bool>`), so the map
/// reads a key through a method the compiler checks and in the type the schema checked.
///
/// `field [= "name"] [[count]]: Kind[(args)] [= default];` where Kind is `Bool`, `Int(min..)`,
/// `Int(min..=max)`, `Number(min..)`, `Number(min..=max)`, `Enum(RustEnum)`, `Text(check)`,
/// `Parsed(check => typed: Type)` (text whose check reads a value, which a second accessor
/// named `typed` returns),
/// `Opts(View)` (a property string whose format is declared with `pve_format!`, read through
/// its typed view) or `Verbatim`. An indexed family's accessor iterates its entries by index. A
/// default (booleans, enums, integers and numbers) also gives `VmConfig` a method of the same
/// name that applies it (`vm.kvm() -> bool`, `vm.cores() -> i64`). A default Proxmox computes
/// from other keys is a hand-written `VmConfig` method instead, named in the key's comment.
macro_rules! pve_keys {
    (@name $field:ident) => { stringify!($field) };
    (@name $field:ident $name:literal) => { $name };
    (@count) => { 0 };
    (@count $count:literal) => { $count };

    (@ty Bool ()) => { Scalar(Bool) };
    (@ty Int ($min:literal ..)) => { Scalar(Int { min: Some($min), max: None }) };
    (@ty Int ($min:literal ..= $max:literal)) => { Scalar(Int { min: Some($min), max: Some($max) }) };
    (@ty Number ($min:literal ..)) => { Scalar(Number { min: Some($min), max: None }) };
    (@ty Number ($min:literal ..= $max:literal)) => { Scalar(Number { min: Some($min), max: Some($max) }) };
    (@ty Enum ($e:ident)) => { Scalar(Enum($e::NAMES)) };
    (@ty Text ($check:path)) => { Scalar(Text($check)) };
    (@ty Parsed ($check:path => $typed:ident: $t:ty)) => { Scalar(Parsed($check)) };
    (@ty Opts ($view:ident)) => { Props($view::FORMAT) };
    (@ty Verbatim ()) => { Verbatim };

    (@fn $(#[$m:meta])* $field:ident, $name:expr, [$count:literal], $kind:ident $args:tt) => {
        $(#[$m])*
        pub fn $field(&self) -> impl Iterator<Item = (u16, &'a Entry)> + 'a {
            self.vm.indexed($name)
        }
    };
    (@fn $(#[$m:meta])* $field:ident, $name:expr, [], Bool ()) => {
        $(#[$m])*
        pub fn $field(&self) -> Option<bool> {
            self.vm.scalar($name).and_then(|s| s.as_bool())
        }
    };
    (@fn $(#[$m:meta])* $field:ident, $name:expr, [], Int $args:tt) => {
        $(#[$m])*
        pub fn $field(&self) -> Option<i64> {
            self.vm.scalar($name).and_then(|s| s.as_int())
        }
    };
    (@fn $(#[$m:meta])* $field:ident, $name:expr, [], Number $args:tt) => {
        $(#[$m])*
        pub fn $field(&self) -> Option<f64> {
            self.vm.scalar($name).and_then(|s| s.as_number())
        }
    };
    (@fn $(#[$m:meta])* $field:ident, $name:expr, [], Enum ($e:ident)) => {
        $(#[$m])*
        pub fn $field(&self) -> Option<$e> {
            self.vm.scalar($name).and_then(|s| s.as_member::<$e>())
        }
    };
    (@fn $(#[$m:meta])* $field:ident, $name:expr, [], Text $args:tt) => {
        $(#[$m])*
        pub fn $field(&self) -> Option<&'a str> {
            self.vm.text($name)
        }
    };
    (@fn $(#[$m:meta])* $field:ident, $name:expr, [], Parsed ($check:path => $typed:ident: $t:ty)) => {
        $(#[$m])*
        pub fn $field(&self) -> Option<&'a str> {
            self.vm.text($name)
        }
        /// The value the decoder's check read from this key, at its text.
        pub fn $typed(&self) -> Option<crate::report::Spanned<&'a $t>> {
            let scalar = self.vm.scalar($name)?;
            Some(crate::report::Spanned::new(scalar.as_typed()?, scalar.span))
        }
    };
    (@fn $(#[$m:meta])* $field:ident, $name:expr, [], Verbatim ()) => {
        $(#[$m])*
        pub fn $field(&self) -> Option<&'a Entry> {
            self.vm.get($name)
        }
    };

    (@fn $(#[$m:meta])* $field:ident, $name:expr, [], Opts ($view:ident)) => {
        $(#[$m])*
        pub fn $field(&self) -> Option<$view<'a>> {
            self.vm.props($name).map(|props| $view { props })
        }
    };

    (@key $field:ident, $name:expr, [$count:literal]) => {
        #[doc = concat!("`", $name, "N`, entry `N` of the family.")]
        pub fn $field(index: u16) -> Key {
            Key::indexed($name, index)
        }
    };
    (@key $field:ident, $name:expr, []) => {
        #[doc = concat!("`", $name, "`")]
        pub const $field: Key = Key(Cow::Borrowed($name));
    };

    (@default $name:expr, $field:ident, Bool ()) => {};
    (@default $name:expr, $field:ident, Bool (), $default:expr) => {
        #[doc = concat!("`", $name, "`, or Proxmox's default (`", stringify!($default), "`) when unset.")]
        pub fn $field(&self) -> bool {
            self.keys().$field().unwrap_or($default)
        }
    };
    (@default $name:expr, $field:ident, Enum ($e:ident)) => {};
    (@default $name:expr, $field:ident, Enum ($e:ident), $default:expr) => {
        #[doc = concat!("`", $name, "`, or Proxmox's default (`", stringify!($default), "`) when unset.")]
        pub fn $field(&self) -> $e {
            self.keys().$field().unwrap_or($default)
        }
    };
    (@default $name:expr, $field:ident, Int $args:tt, $default:expr) => {
        #[doc = concat!("`", $name, "`, or Proxmox's default (`", stringify!($default), "`) when unset.")]
        pub fn $field(&self) -> i64 {
            self.keys().$field().unwrap_or($default)
        }
    };
    (@default $name:expr, $field:ident, Number $args:tt, $default:expr) => {
        #[doc = concat!("`", $name, "`, or Proxmox's default (`", stringify!($default), "`) when unset.")]
        pub fn $field(&self) -> f64 {
            self.keys().$field().unwrap_or($default)
        }
    };
    (@default $name:expr, $field:ident, $kind:ident $args:tt) => {};

    ($(
        $(#[$m:meta])*
        $field:ident $(= $name:literal)? $([$count:literal])? : $kind:ident $(($($args:tt)*))? $(= $default:expr)?;
    )*) => {
        pub static KEYS: &[KeySpec] = &[$(
            KeySpec {
                name: pve_keys!(@name $field $($name)?),
                count: pve_keys!(@count $($count)?),
                ty: pve_keys!(@ty $kind ($($($args)*)?)),
            },
        )*];

        /// One name per key, so that the map names a key the compiler checks.
        #[allow(non_upper_case_globals)]
        impl Key {
            $(pve_keys!(@key $field, pve_keys!(@name $field $($name)?), [$($count)?]);)*
        }

        impl<'a> Keys<'a> {
            $(pve_keys!(@fn $(#[$m])* $field, pve_keys!(@name $field $($name)?), [$($count)?], $kind ($($($args)*)?));)*
        }

        /// Proxmox's defaults, for the keys declared with one (`kvm: Bool = true`).
        impl crate::pve::vm::VmConfig {
            $(pve_keys!(@default pve_keys!(@name $field $($name)?), $field, $kind ($($($args)*)?) $(, $default)?);)*
        }
    };
}

pve_keys! {
    /// `$confdesc` default 1.
    acpi: Bool = true;
    affinity: Text(checks::cpuset);
    agent: Opts(AgentOpts);
    allow_ksm = "allow-ksm": Bool;
    amd_sev = "amd-sev": Opts(AmdSevOpts);
    args: Verbatim;
    /// The host's, which Proxmox assumes is x86_64 (`get_vm_arch`).
    arch: Enum(Arch) = Arch::X86_64;
    audio0: Opts(AudioOpts);
    autostart: Bool;
    balloon: Int(0..);
    bios: Enum(Bios) = Bios::SeaBios;
    boot: Opts(BootOpts);
    bootdisk: Text(checks::bootdisk);
    // An alias of ide2 (QemuServer.pm `$confdesc->{cdrom}` has format `pve-qm-ide`); the decoder
    // renames it.
    cdrom: Opts(IdeOpts);
    cicustom: Opts(CiCustomOpts);
    cipassword: Text(checks::any);
    citype: Enum(CiType);
    ciupgrade: Bool;
    ciuser: Text(checks::any);
    /// `$confdesc` default 1 (config_to_command: `$conf->{cores} || 1`).
    cores: Int(1..) = 1;
    cpu: Opts(CpuOpts);
    cpulimit: Number(0.0..=128.0);
    cpuunits: Int(1..=262_144);
    description: Verbatim;
    efidisk0: Opts(EfiDiskOpts);
    freeze: Bool;
    hookscript: Text(checks::volume_id);
    hostpci[16]: Opts(HostPciOpts);
    hotplug: Parsed(checks::hotplug => hotplug_features: HotplugFeatures);
    hugepages: Enum(Hugepages);
    ide[4]: Opts(IdeOpts);
    intel_tdx = "intel-tdx": Opts(IntelTdxOpts);
    ipconfig[32]: Opts(IpConfigOpts);
    ivshmem: Opts(IvshmemOpts);
    keephugepages: Bool;
    keyboard: Enum(Keyboard);
    /// Hardware virtualization, on unless turned off.
    kvm: Bool = true;
    /// On for Windows unless set (QemuServer.pm `config_to_command`): `VmConfig::localtime`.
    localtime: Bool;
    lock: Enum(Lock);
    machine: Opts(MachineOpts);
    memory: Opts(MemoryOpts);
    meta: Opts(MetaOpts);
    migrate_downtime: Number(0.0..);
    migrate_speed: Int(0..);
    name: Text(checks::dns_name);
    nameserver: Text(checks::address_list);
    net[32]: Opts(NetOpts);
    numa: Bool = false;
    /// `numa0`–`numa7`; `numa` itself is the boolean above.
    numa_nodes = "numa"[8]: Opts(NumaOpts);
    onboot: Bool;
    ostype: Enum(OsType) = OsType::Other;
    parallel[3]: Text(checks::parallel_port);
    parent: Text(checks::snapshot_name);
    protection: Bool;
    /// A guest reboot restarts the VM unless turned off.
    reboot: Bool = true;
    rng0: Opts(RngOpts);
    running_nets_host_mtu = "running-nets-host-mtu": Text(checks::running_nets_host_mtu);
    runningcpu: Text(checks::qemu_cpu_cmdline);
    runningmachine: Opts(MachineOpts);
    sata[6]: Opts(SataOpts);
    scsi[31]: Opts(ScsiOpts);
    scsihw: Enum(ScsiHw) = ScsiHw::Lsi;
    searchdomain: Text(checks::any);
    serial[4]: Text(checks::serial_port);
    shares: Int(0..=50_000);
    smbios1: Opts(Smbios1Opts);
    smp: Int(1..);
    snaptime: Int(0..);
    // Not in `$confdesc`: parse_vm_config matches `snapstate:\s*(prepare|delete)\s*$` itself.
    snapstate: Enum(SnapState);
    /// `$confdesc` default 1, after the deprecated `smp` (QemuServer.pm `config_to_command`):
    /// `VmConfig::sockets`.
    sockets: Int(1..);
    spice_enhancements: Opts(SpiceEnhancementsOpts);
    sshkeys: Text(checks::urlencoded);
    startdate: Text(checks::startdate);
    startup: Opts(StartupOpts);
    /// `$confdesc` default 1, but off with a SPICE or serial display (QemuServer.pm
    /// `config_to_command`): `VmConfig::tablet`.
    tablet: Bool;
    tags: Text(checks::tag_list);
    /// `$confdesc` default 0, but on for Windows with ACPI (QemuServer.pm `config_to_command`):
    /// `VmConfig::tdf`.
    tdf: Bool;
    template: Bool;
    tpmstate0: Opts(TpmStateOpts);
    unused[256]: Opts(UnusedOpts);
    usb[14]: Opts(UsbOpts);
    vcpus: Int(1..);
    vga: Opts(VgaOpts);
    virtio[16]: Opts(VirtioOpts);
    virtiofs[10]: Opts(VirtiofsOpts);
    vmgenid: Text(checks::vmgenid);
    vmstate: Text(checks::volume_id);
    vmstatestorage: Text(checks::storage_id);
    watchdog: Opts(WatchdogOpts);
}

#[cfg(test)]
mod tests {
    use super::super::{formats, lookup, Format, ValueType};
    use super::*;
    use std::collections::HashSet;
    use std::path::PathBuf;

    /// Every key of QemuServer.pm `$confdesc` (qemu-server 9.2), written down independently of
    /// `KEYS`; indexed families as their first and last key.
    const REFERENCE_KEYS: &[&str] = &[
        "acpi",
        "affinity",
        "agent",
        "allow-ksm",
        "amd-sev",
        "args",
        "arch",
        "audio0",
        "autostart",
        "balloon",
        "bios",
        "boot",
        "bootdisk",
        "cdrom",
        "cicustom",
        "cipassword",
        "citype",
        "ciupgrade",
        "ciuser",
        "cores",
        "cpu",
        "cpulimit",
        "cpuunits",
        "description",
        "efidisk0",
        "freeze",
        "hookscript",
        "hostpci0",
        "hostpci15",
        "hotplug",
        "hugepages",
        "ide0",
        "ide3",
        "intel-tdx",
        "ipconfig0",
        "ipconfig31",
        "ivshmem",
        "keephugepages",
        "keyboard",
        "kvm",
        "localtime",
        "lock",
        "machine",
        "memory",
        "meta",
        "migrate_downtime",
        "migrate_speed",
        "name",
        "nameserver",
        "net0",
        "net31",
        "numa",
        "numa0",
        "numa7",
        "onboot",
        "ostype",
        "parallel0",
        "parallel2",
        "parent",
        "protection",
        "reboot",
        "rng0",
        "running-nets-host-mtu",
        "runningcpu",
        "runningmachine",
        "sata0",
        "sata5",
        "scsi0",
        "scsi30",
        "scsihw",
        "searchdomain",
        "serial0",
        "serial3",
        "shares",
        "smbios1",
        "smp",
        "snaptime",
        "sockets",
        "spice_enhancements",
        "sshkeys",
        "startdate",
        "startup",
        "tablet",
        "tags",
        "tdf",
        "template",
        "tpmstate0",
        "unused0",
        "unused255",
        "usb0",
        "usb13",
        "vcpus",
        "vga",
        "virtio0",
        "virtio15",
        "virtiofs0",
        "virtiofs9",
        "vmgenid",
        "vmstate",
        "vmstatestorage",
        "watchdog",
    ];

    #[test]
    fn every_reference_key_is_known() {
        let missing: Vec<_> = REFERENCE_KEYS.iter().filter(|k| lookup(k).is_none()).collect();
        assert!(missing.is_empty(), "keys missing from KEYS: {missing:?}");
        // One past each family's end is not a key.
        for k in [
            "hostpci16",
            "ide4",
            "ipconfig32",
            "net32",
            "numa8",
            "parallel3",
            "sata6",
            "scsi31",
            "serial4",
            "unused256",
            "usb14",
            "virtio16",
            "virtiofs10",
        ] {
            assert!(lookup(k).is_none(), "{k} should not exist");
        }
    }

    #[test]
    fn no_key_beyond_the_reference() {
        let reference: HashSet<String> =
            REFERENCE_KEYS.iter().map(|k| k.trim_end_matches(|c: char| c.is_ascii_digit()).to_string()).collect();
        for spec in KEYS {
            let base = spec.name.trim_end_matches(|c: char| c.is_ascii_digit());
            // `snapstate` is matched by parse_vm_config's own line pattern, not `$confdesc`.
            assert!(reference.contains(base) || spec.name == "snapstate", "{} is not in the reference", spec.name);
        }
    }

    #[test]
    fn names_are_unique() {
        let mut seen = HashSet::new();
        for spec in KEYS {
            assert!(seen.insert((spec.name, spec.is_indexed())), "duplicate {}", spec.name);
        }
    }

    #[test]
    fn lookup_indexed_keys() {
        assert_eq!(lookup("net31").map(|(s, i)| (s.name, i)), Some(("net", Some(31))));
        assert_eq!(lookup("net0").map(|(s, i)| (s.name, i)), Some(("net", Some(0))));
        for bad in ["net32", "net01", "net", "net-1", "net1a", "Net0", "digest", "delete", "volume"] {
            assert!(lookup(bad).is_none(), "{bad} should not be a key");
        }
        assert_eq!(lookup("unused255").map(|(_, i)| i), Some(Some(255)));
        // `numa` is both a boolean and a family of property strings.
        assert!(matches!(lookup("numa"), Some((s, None)) if matches!(s.ty, Scalar(Bool))));
        assert!(matches!(lookup("numa7"), Some((s, Some(7))) if matches!(s.ty, Props(f) if f.name == "numa")));
    }

    #[test]
    fn lookup_single_keys_with_digits() {
        for k in ["rng0", "efidisk0", "tpmstate0", "audio0", "smbios1"] {
            let (spec, index) = lookup(k).unwrap_or_else(|| panic!("{k}"));
            assert_eq!((spec.name, spec.count, index), (k, 0, None));
        }
        for k in ["rng1", "efidisk1", "tpmstate1", "audio1", "smbios0", "smbios"] {
            assert!(lookup(k).is_none(), "{k}");
        }
    }

    #[test]
    fn key_types() {
        let ty = |k: &str| &lookup(k).unwrap().0.ty;
        assert!(matches!(ty("cdrom"), Props(f) if std::ptr::eq(*f, &DRIVE_IDE)));
        assert!(matches!(ty("ide2"), Props(f) if std::ptr::eq(*f, &DRIVE_IDE)));
        assert!(matches!(ty("sata1"), Props(f) if std::ptr::eq(*f, &DRIVE_SATA)));
        assert!(matches!(ty("scsi1"), Props(f) if std::ptr::eq(*f, &DRIVE_SCSI)));
        assert!(matches!(ty("virtio1"), Props(f) if std::ptr::eq(*f, &DRIVE_VIRTIO)));
        assert!(matches!(ty("runningmachine"), Props(f) if std::ptr::eq(*f, &MACHINE)));
        assert!(matches!(ty("description"), Verbatim));
        assert!(matches!(ty("args"), Verbatim));
        assert!(matches!(ty("cpuunits"), Scalar(Int { min: Some(1), max: Some(262_144) })));
        assert!(matches!(ty("shares"), Scalar(Int { min: Some(0), max: Some(50_000) })));
        assert!(matches!(ty("cpulimit"), Scalar(Number { min: Some(0.0), max: Some(128.0) })));
        assert!(matches!(ty("hugepages"), Scalar(Enum(["any", "2", "1024"]))));
        let Scalar(Enum(kb)) = ty("keyboard") else { panic!() };
        assert_eq!(kb.len(), 25);
        let Scalar(Enum(os)) = ty("ostype") else { panic!() };
        assert_eq!(os.len(), 13);
        let Scalar(Enum(locks)) = ty("lock") else { panic!() };
        assert_eq!(locks.len(), 9);
    }

    #[test]
    fn every_format_is_used_by_a_key() {
        let used: Vec<&Format> = KEYS
            .iter()
            .filter_map(|s| match s.ty {
                Props(f) => Some(f),
                _ => None,
            })
            .collect();
        for f in formats::tests::ALL {
            assert!(used.iter().any(|u| std::ptr::eq(*u, *f)), "{} unused", f.name);
        }
        for f in &used {
            assert!(
                formats::tests::ALL.iter().any(|a| std::ptr::eq(*a, *f)),
                "{} missing from formats::tests::ALL",
                f.name
            );
        }
    }

    // ---- corpus -------------------------------------------------------------------------------

    /// Proxmox's cfg2cmd configs, read in place (they are AGPL): `$PVE_CORPUS/cfg2cmd`, where
    /// PVE_CORPUS is a folder laid out like qemu-server's `src/test/`. `.cargo/config.toml` gives
    /// cargo a default; the README's "Conformance" section says where to get the files.
    fn corpus_dir() -> PathBuf {
        PathBuf::from(std::env::var_os("PVE_CORPUS").unwrap_or_default()).join("cfg2cmd")
    }

    /// `*.conf` in the folder and its direct subfolders (`aarch64/`).
    fn corpus_files() -> Option<Vec<PathBuf>> {
        let dir = corpus_dir();
        if !dir.is_dir() {
            eprintln!(
                "SKIPPED: corpus folder {} is missing; schema not checked against Proxmox's configs",
                dir.display()
            );
            return None;
        }
        let mut files = Vec::new();
        let mut dirs = vec![dir];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    dirs.push(p);
                } else if p.extension().is_some_and(|x| x == "conf") {
                    files.push(p);
                }
            }
        }
        files.sort();
        Some(files)
    }

    /// `key: value` lines of the main section, with their line numbers.
    fn main_section(text: &str) -> Vec<(usize, &str, &str)> {
        let mut out = Vec::new();
        for (n, line) in text.lines().enumerate() {
            if line.starts_with('[') {
                break;
            }
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some((k, v)) = line.split_once(':') {
                out.push((n + 1, k, v.trim()));
            }
        }
        out
    }

    /// A rough value check (the decoder does the real one): enough to catch a wrong check, enum
    /// or sub-key name in this table against real configs.
    fn check_scalar(ty: &ValueType, v: &str) -> Result<(), String> {
        match ty {
            Bool => {
                matches!(v.to_ascii_lowercase().as_str(), "1" | "on" | "yes" | "true" | "0" | "off" | "no" | "false")
                    .then_some(())
                    .ok_or("is not a boolean".into())
            }
            Int { min, max } => {
                let n: i64 = v.parse().map_err(|_| "is not an integer".to_string())?;
                (min.is_none_or(|m| n >= m) && max.is_none_or(|m| n <= m)).then_some(()).ok_or("is out of range".into())
            }
            Number { min, max } => {
                let n: f64 = v.parse().map_err(|_| "is not a number".to_string())?;
                (min.is_none_or(|m| n >= m) && max.is_none_or(|m| n <= m)).then_some(()).ok_or("is out of range".into())
            }
            Enum(values) => values.contains(&v).then_some(()).ok_or(format!("is not one of {values:?}")),
            ValueType::Size => Ok(()),
            Text(check) => check(v),
            ValueType::Parsed(parse) => parse(v).map(drop),
        }
    }

    fn check_props(f: &Format, v: &str) -> Result<(), String> {
        for part in v.split(',').filter(|p| !p.trim().is_empty()) {
            let (k, val) = match part.split_once('=') {
                Some(kv) => kv,
                None => (f.default_key.ok_or("has no default key")?, part),
            };
            if let Some(ka) = f.key_alias {
                let model = f.keys.iter().find(|s| s.name == ka.model_key).unwrap();
                if let Enum(models) = model.ty {
                    if models.contains(&k) {
                        continue;
                    }
                }
            }
            let sub = f.keys.iter().find(|s| s.name == k).ok_or(format!("has unknown sub-key '{k}'"))?;
            check_scalar(&sub.ty, val).map_err(|e| format!("{k}: '{val}' {e}"))?;
        }
        Ok(())
    }

    #[test]
    fn corpus_keys_and_values() {
        let Some(files) = corpus_files() else { return };
        assert!(!files.is_empty());
        let mut unknown = Vec::new();
        let mut bad_values = Vec::new();
        let mut checked = 0;
        for file in &files {
            let text = std::fs::read_to_string(file).unwrap();
            let expects_error = text.contains("EXPECT_ERROR:");
            let name = file.strip_prefix(corpus_dir()).unwrap().display().to_string();
            for (line, k, v) in main_section(&text) {
                checked += 1;
                let Some((spec, _)) = lookup(k) else {
                    unknown.push(format!("{name}:{line}: unknown key '{k}'"));
                    continue;
                };
                let result = match spec.ty {
                    Scalar(ty) => check_scalar(&ty, v),
                    Props(f) => check_props(f, v),
                    Verbatim => Ok(()),
                };
                if let Err(e) = result {
                    let msg = format!("{name}:{line}: {k}: value '{v}' {e}");
                    if expects_error {
                        eprintln!("(expected-error config) {msg}");
                    } else {
                        bad_values.push(msg);
                    }
                }
            }
        }
        assert!(checked > 500, "only {checked} keys found: corpus parsing broke");
        assert!(unknown.is_empty(), "unknown keys:\n{}", unknown.join("\n"));
        assert!(bad_values.is_empty(), "rejected values:\n{}", bad_values.join("\n"));
    }
}
