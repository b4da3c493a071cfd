//! Every top-level key of a VM config (QemuServer.pm `$confdesc`, docs/proxmox-config.md#keys), plus the
//! snapshot-internal `snapstate`.
//!
//! Proxmox's config parser does not check top-level `enum`, `pattern`, `minimum` or `maximum`
//! (only the API does, docs/proxmox-config.md#the-file); we do, with the ranges exactly as the
//! schema gives them.

use super::checks;
use super::enums::*;
use super::formats::*;
use super::KeyType::{self, Props, Scalar, Verbatim};
use super::ValueType::{self, Bool, Enum, Int, Number, Text};
use super::{Format, KeySpec};

const fn key(name: &'static str, ty: KeyType) -> KeySpec {
    KeySpec { name, count: 0, ty }
}

const fn indexed(name: &'static str, count: u16, ty: KeyType) -> KeySpec {
    KeySpec { name, count, ty }
}

const fn scalar(ty: ValueType) -> KeyType {
    Scalar(ty)
}

const fn props(format: &'static Format) -> KeyType {
    Props(format)
}

const BOOL: KeyType = Scalar(Bool);

const fn int_min(min: i64) -> KeyType {
    Scalar(Int { min: Some(min), max: None })
}

const fn text(check: super::Check) -> KeyType {
    Scalar(Text(check))
}

pub static KEYS: &[KeySpec] = &[
    key("acpi", BOOL),
    key("affinity", text(checks::cpuset)),
    key("agent", props(&AGENT)),
    key("allow-ksm", BOOL),
    key("amd-sev", props(&AMD_SEV)),
    key("args", Verbatim),
    key("arch", scalar(Enum(Arch::NAMES))),
    key("audio0", props(&AUDIO)),
    key("autostart", BOOL),
    key("balloon", int_min(0)),
    key("bios", scalar(Enum(Bios::NAMES))),
    key("boot", props(&BOOT)),
    key("bootdisk", text(checks::bootdisk)),
    // An alias of ide2 (QemuServer.pm `$confdesc->{cdrom}` has format `pve-qm-ide`); the decoder
    // renames it.
    key("cdrom", props(&DRIVE_IDE)),
    key("cicustom", props(&CICUSTOM)),
    key("cipassword", text(checks::any)),
    key("citype", scalar(Enum(CiType::NAMES))),
    key("ciupgrade", BOOL),
    key("ciuser", text(checks::any)),
    key("cores", int_min(1)),
    key("cpu", props(&CPU)),
    key("cpulimit", scalar(Number { min: Some(0.0), max: Some(128.0) })),
    key("cpuunits", scalar(Int { min: Some(1), max: Some(262_144) })),
    key("description", Verbatim),
    key("efidisk0", props(&EFIDISK)),
    key("freeze", BOOL),
    key("hookscript", text(checks::volume_id)),
    indexed("hostpci", 16, props(&HOSTPCI)),
    key("hotplug", text(checks::hotplug)),
    key("hugepages", scalar(Enum(Hugepages::NAMES))),
    indexed("ide", 4, props(&DRIVE_IDE)),
    key("intel-tdx", props(&INTEL_TDX)),
    indexed("ipconfig", 32, props(&IPCONFIG)),
    key("ivshmem", props(&IVSHMEM)),
    key("keephugepages", BOOL),
    key("keyboard", scalar(Enum(Keyboard::NAMES))),
    key("kvm", BOOL),
    key("localtime", BOOL),
    key("lock", scalar(Enum(Lock::NAMES))),
    key("machine", props(&MACHINE)),
    key("memory", props(&MEMORY)),
    key("meta", props(&META)),
    key("migrate_downtime", scalar(Number { min: Some(0.0), max: None })),
    key("migrate_speed", int_min(0)),
    key("name", text(checks::dns_name)),
    key("nameserver", text(checks::address_list)),
    indexed("net", 32, props(&NET)),
    key("numa", BOOL),
    indexed("numa", 8, props(&NUMA)),
    key("onboot", BOOL),
    key("ostype", scalar(Enum(OsType::NAMES))),
    indexed("parallel", 3, text(checks::parallel_port)),
    key("parent", text(checks::snapshot_name)),
    key("protection", BOOL),
    key("reboot", BOOL),
    key("rng0", props(&RNG)),
    key("running-nets-host-mtu", text(checks::running_nets_host_mtu)),
    key("runningcpu", text(checks::qemu_cpu_cmdline)),
    key("runningmachine", props(&MACHINE)),
    indexed("sata", 6, props(&DRIVE_SATA)),
    indexed("scsi", 31, props(&DRIVE_SCSI)),
    key("scsihw", scalar(Enum(ScsiHw::NAMES))),
    key("searchdomain", text(checks::any)),
    indexed("serial", 4, text(checks::serial_port)),
    key("shares", scalar(Int { min: Some(0), max: Some(50_000) })),
    key("smbios1", props(&SMBIOS1)),
    key("smp", int_min(1)),
    key("snaptime", int_min(0)),
    // Not in `$confdesc`: parse_vm_config matches `snapstate:\s*(prepare|delete)\s*$` itself.
    key("snapstate", scalar(Enum(SnapState::NAMES))),
    key("sockets", int_min(1)),
    key("spice_enhancements", props(&SPICE_ENHANCEMENTS)),
    key("sshkeys", text(checks::urlencoded)),
    key("startdate", text(checks::startdate)),
    key("startup", props(&STARTUP)),
    key("tablet", BOOL),
    key("tags", text(checks::tag_list)),
    key("tdf", BOOL),
    key("template", BOOL),
    key("tpmstate0", props(&TPMSTATE)),
    indexed("unused", 256, props(&UNUSED)),
    indexed("usb", 14, props(&USB)),
    key("vcpus", int_min(1)),
    key("vga", props(&VGA)),
    indexed("virtio", 16, props(&DRIVE_VIRTIO)),
    indexed("virtiofs", 10, props(&VIRTIOFS)),
    key("vmgenid", text(checks::vmgenid)),
    key("vmstate", text(checks::volume_id)),
    key("vmstatestorage", text(checks::storage_id)),
    key("watchdog", props(&WATCHDOG)),
];

#[cfg(test)]
mod tests {
    use super::super::{formats, lookup};
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
