//! The property-string formats (docs/proxmox-config.md#keys: Drive.pm, Network.pm, PCI.pm, …),
//! one static per format.

use super::checks;
use super::enums::*;
use super::ValueType::{self, Bool, Enum, Int, Number, Size, Text};
use super::{Format, KeyAlias, SubKey};

const fn opt(name: &'static str, ty: ValueType) -> SubKey {
    SubKey { name, ty, required: false, alias_of: None }
}

const fn req(name: &'static str, ty: ValueType) -> SubKey {
    SubKey { name, ty, required: true, alias_of: None }
}

/// An alias carries its target's type: JSONSchema.pm renames the key first and then checks the
/// value against the target's schema.
const fn alias(name: &'static str, target: &'static str, ty: ValueType) -> SubKey {
    SubKey { name, ty, required: false, alias_of: Some(target) }
}

const fn int(min: i64) -> ValueType {
    Int { min: Some(min), max: None }
}

const fn int_range(min: i64, max: i64) -> ValueType {
    Int { min: Some(min), max: Some(max) }
}

const INT: ValueType = Int { min: None, max: None };
const NUMBER: ValueType = Number { min: None, max: None };

/// `pve-qm-image-format` (Drive.pm).
const IMAGE_FORMATS: ValueType = Enum(ImageFormat::NAMES);

/// Drive.pm `%drivedesc_base` plus the per-bus extras. The removed geometry keys
/// `cyls heads secs trans` are left out: `parse_drive` skips them, but `parse_vm_config`'s
/// `check_type` does not, so Proxmox rejects a config line that has them
/// (docs/proxmox-config.md#property-strings).
/// `import-from` is left out too: it exists only in the API's allocation schema
/// (`$drivedesc_hash_with_alloc`), never in a saved config.
macro_rules! drive_format {
    ($name:literal, [$($extra:expr),* $(,)?]) => {
        Format {
            name: $name,
            default_key: Some("file"),
            key_alias: None,
            keys: &[
                req("file", Text(checks::drive_file)),
                alias("volume", "file", Text(checks::drive_file)),
                opt("media", Enum(Media::NAMES)),
                opt("snapshot", Bool),
                opt("cache", Enum(Cache::NAMES)),
                opt("format", IMAGE_FORMATS),
                opt("size", Size),
                opt("backup", Bool),
                opt("replicate", Bool),
                opt("rerror", Enum(Rerror::NAMES)),
                opt("werror", Enum(Werror::NAMES)),
                opt("aio", Enum(Aio::NAMES)),
                opt("discard", Enum(Discard::NAMES)),
                opt("detect_zeroes", Bool),
                opt("serial", Text(checks::drive_serial)),
                opt("shared", Bool),
                opt("mbps", NUMBER),
                opt("mbps_rd", NUMBER),
                opt("mbps_wr", NUMBER),
                opt("mbps_max", NUMBER),
                opt("mbps_rd_max", NUMBER),
                opt("mbps_wr_max", NUMBER),
                opt("iops", INT),
                opt("iops_rd", INT),
                opt("iops_wr", INT),
                opt("iops_max", INT),
                opt("iops_rd_max", INT),
                opt("iops_wr_max", INT),
                opt("bps_max_length", int(1)),
                opt("bps_rd_max_length", int(1)),
                opt("bps_wr_max_length", int(1)),
                opt("iops_max_length", int(1)),
                opt("iops_rd_max_length", int(1)),
                opt("iops_wr_max_length", int(1)),
                opt("bps", INT),
                opt("bps_rd", INT),
                opt("bps_wr", INT),
                alias("bps_rd_length", "bps_rd_max_length", int(1)),
                alias("bps_wr_length", "bps_wr_max_length", int(1)),
                alias("iops_rd_length", "iops_rd_max_length", int(1)),
                alias("iops_wr_length", "iops_wr_max_length", int(1)),
                $($extra,)*
            ],
        }
    };
}

pub static DRIVE_IDE: Format =
    drive_format!("ide", [opt("model", Text(checks::drive_model)), opt("ssd", Bool), opt("wwn", Text(checks::wwn)),]);

pub static DRIVE_SATA: Format = drive_format!("sata", [opt("ssd", Bool), opt("wwn", Text(checks::wwn))]);

pub static DRIVE_SCSI: Format = drive_format!(
    "scsi",
    [
        opt("iothread", Bool),
        opt("ro", Bool),
        opt("ssd", Bool),
        opt("wwn", Text(checks::wwn)),
        opt("vendor", Text(checks::scsi_vendor)),
        opt("product", Text(checks::scsi_product)),
        opt("queues", int(2)),
        opt("scsiblock", Bool),
    ]
);

pub static DRIVE_VIRTIO: Format = drive_format!("virtio", [opt("iothread", Bool), opt("ro", Bool)]);

pub static EFIDISK: Format = Format {
    name: "efidisk0",
    default_key: Some("file"),
    key_alias: None,
    keys: &[
        req("file", Text(checks::drive_file)),
        alias("volume", "file", Text(checks::drive_file)),
        opt("format", IMAGE_FORMATS),
        opt("size", Size),
        opt("efitype", Enum(EfiType::NAMES)),
        opt("pre-enrolled-keys", Bool),
        opt("ms-cert", Enum(MsCert::NAMES)),
    ],
};

pub static TPMSTATE: Format = Format {
    name: "tpmstate0",
    default_key: Some("file"),
    key_alias: None,
    keys: &[
        req("file", Text(checks::drive_file)),
        // Drive.pm `$tpmstate_fmt` has the same `volume` alias as every other drive format.
        alias("volume", "file", Text(checks::drive_file)),
        opt("format", Enum(TpmFormat::NAMES)),
        opt("size", Size),
        opt("version", Enum(TpmVersion::NAMES)),
    ],
};

pub static UNUSED: Format = Format {
    name: "unused",
    default_key: Some("file"),
    key_alias: None,
    keys: &[
        // Unlike drives, `$unused_fmt` takes only a volume ID (`pve-volume-id`), no path.
        req("file", Text(checks::volume_id)),
        alias("volume", "file", Text(checks::volume_id)),
    ],
};

pub static NET: Format = Format {
    name: "net",
    default_key: Some("model"),
    keys: &[
        req("model", Enum(NetModel::NAMES)),
        opt("macaddr", Text(checks::mac_addr)),
        opt("bridge", Text(checks::bridge_id)),
        opt("queues", int_range(0, 64)),
        opt("rate", Number { min: Some(0.0), max: None }),
        opt("tag", int_range(1, 4094)),
        opt("trunks", Text(checks::id_range_list)),
        opt("firewall", Bool),
        opt("link_down", Bool),
        opt("mtu", int_range(1, 65520)),
        opt("host-tunnel", Bool),
    ],
    // Network.pm: every model name is also a key (`virtio=BC:24:…`) that sets model and MAC.
    key_alias: Some(KeyAlias { model_key: "model", mac_key: "macaddr" }),
};

pub static HOSTPCI: Format = Format {
    name: "hostpci",
    default_key: Some("host"),
    key_alias: None,
    keys: &[
        // Optional since resource mappings: exactly one of host/mapping is checked at start.
        opt("host", Text(checks::pci_host)),
        opt("mapping", Text(checks::config_id)),
        opt("rombar", Bool),
        opt("romfile", Text(checks::romfile)),
        opt("pcie", Bool),
        opt("x-vga", Bool),
        opt("legacy-igd", Bool),
        opt("mdev", Text(checks::mdev)),
        opt("vendor-id", Text(checks::pci_id)),
        opt("device-id", Text(checks::pci_id)),
        opt("sub-vendor-id", Text(checks::pci_id)),
        opt("sub-device-id", Text(checks::pci_id)),
        opt("driver", Enum(HostPciDriver::NAMES)),
    ],
};

pub static USB: Format = Format {
    name: "usb",
    default_key: Some("host"),
    key_alias: None,
    keys: &[opt("host", Text(checks::usb_host)), opt("mapping", Text(checks::config_id)), opt("usb3", Bool)],
};

pub static VGA: Format = Format {
    name: "vga",
    default_key: Some("type"),
    key_alias: None,
    keys: &[opt("type", Enum(Vga::NAMES)), opt("memory", int_range(4, 512)), opt("clipboard", Enum(Clipboard::NAMES))],
};

/// `pve-qemu-machine` (Machine.pm); also the format of the snapshot-internal `runningmachine`.
pub static MACHINE: Format = Format {
    name: "machine",
    default_key: Some("type"),
    key_alias: None,
    keys: &[
        opt("type", Text(checks::machine_type)),
        opt("viommu", Enum(Viommu::NAMES)),
        opt("aw-bits", Number { min: Some(32.0), max: Some(64.0) }),
        opt("enable-s3", Bool),
        opt("enable-s4", Bool),
    ],
};

/// `pve-vm-cpu-conf` (CPUConfig.pm `$cpu_fmt` with the VM-config validator).
pub static CPU: Format = Format {
    name: "cpu",
    default_key: Some("cputype"),
    key_alias: None,
    keys: &[
        // Optional in `$cpu_fmt`, but `validate_cpu_conf` dies "CPU is missing cputype".
        req("cputype", Text(checks::cpu_type)),
        // Kept as a key so the error says why, as `validate_vm_cpu_conf` does.
        opt("reported-model", Text(checks::reported_model_forbidden)),
        opt("hidden", Bool),
        opt("hv-vendor-id", Text(checks::hv_vendor_id)),
        opt("flags", Text(checks::cpu_flags)),
        opt("guest-phys-bits", int_range(32, 64)),
        opt("phys-bits", Text(checks::phys_bits)),
        opt("level", int_range(0, 4_294_967_295)),
    ],
};

pub static MEMORY: Format =
    Format { name: "memory", default_key: Some("current"), key_alias: None, keys: &[req("current", int(16))] };

pub static NUMA: Format = Format {
    name: "numa",
    default_key: None,
    key_alias: None,
    keys: &[
        req("cpus", Text(checks::id_range_list)),
        opt("memory", NUMBER),
        opt("hostnodes", Text(checks::id_range_list)),
        opt("policy", Enum(NumaPolicy::NAMES)),
    ],
};

pub static BOOT: Format = Format {
    name: "boot",
    default_key: Some("legacy"),
    key_alias: None,
    keys: &[opt("legacy", Text(checks::boot_legacy)), opt("order", Text(checks::boot_order))],
};

pub static AGENT: Format = Format {
    name: "agent",
    default_key: Some("enabled"),
    key_alias: None,
    keys: &[
        req("enabled", Bool),
        opt("fstrim_cloned_disks", Bool),
        opt("freeze-fs", Bool),
        alias("freeze-fs-on-backup", "freeze-fs", Bool),
        alias("guest-fsfreeze", "freeze-fs", Bool),
        opt("type", Enum(AgentType::NAMES)),
    ],
};

pub static WATCHDOG: Format = Format {
    name: "watchdog",
    default_key: Some("model"),
    key_alias: None,
    keys: &[opt("model", Enum(WatchdogModel::NAMES)), opt("action", Enum(WatchdogAction::NAMES))],
};

pub static RNG: Format = Format {
    name: "rng0",
    default_key: Some("source"),
    key_alias: None,
    keys: &[
        req("source", Enum(RngSource::NAMES)),
        opt("max_bytes", int(0)),
        // Proxmox sets no minimum; period=0 is rejected by design: a zero period is meaningless.
        opt("period", int(1)),
    ],
};

pub static AUDIO: Format = Format {
    name: "audio0",
    default_key: None,
    key_alias: None,
    keys: &[req("device", Enum(AudioDevice::NAMES)), opt("driver", Enum(AudioDriver::NAMES))],
};

pub static SPICE_ENHANCEMENTS: Format = Format {
    name: "spice_enhancements",
    default_key: None,
    key_alias: None,
    keys: &[opt("foldersharing", Bool), opt("videostreaming", Enum(VideoStreaming::NAMES))],
};

pub static IVSHMEM: Format = Format {
    name: "ivshmem",
    default_key: None,
    key_alias: None,
    keys: &[req("size", int(1)), opt("name", Text(checks::ivshmem_name))],
};

pub static SMBIOS1: Format = Format {
    name: "smbios1",
    default_key: None,
    key_alias: None,
    keys: &[
        opt("uuid", Text(checks::uuid)),
        opt("version", Text(checks::smbios_text)),
        opt("serial", Text(checks::smbios_text)),
        opt("manufacturer", Text(checks::smbios_text)),
        opt("product", Text(checks::smbios_text)),
        opt("sku", Text(checks::smbios_text)),
        opt("family", Text(checks::smbios_text)),
        opt("base64", Bool),
    ],
};

/// `pve-startup-order` is not a property string in Proxmox but a custom parser
/// (JSONSchema.pm `pve_parse_startup_order`): `[order=]\d+`, `up=\d+`, `down=\d+`. Written as a
/// format it reads the same.
pub static STARTUP: Format = Format {
    name: "startup",
    default_key: Some("order"),
    key_alias: None,
    keys: &[opt("order", int(0)), opt("up", int(0)), opt("down", int(0))],
};

pub static META: Format = Format {
    name: "meta",
    default_key: None,
    key_alias: None,
    keys: &[opt("ctime", INT), opt("creation-qemu", Text(checks::qemu_version))],
};

pub static IPCONFIG: Format = Format {
    name: "ipconfig",
    default_key: None,
    key_alias: None,
    keys: &[
        opt("ip", Text(checks::ipv4_config)),
        opt("gw", Text(checks::ipv4)),
        opt("ip6", Text(checks::ipv6_config)),
        opt("gw6", Text(checks::ipv6)),
    ],
};

pub static CICUSTOM: Format = Format {
    name: "cicustom",
    default_key: None,
    key_alias: None,
    keys: &[
        opt("meta", Text(checks::volume_id)),
        opt("network", Text(checks::volume_id)),
        opt("user", Text(checks::volume_id)),
        opt("vendor", Text(checks::volume_id)),
    ],
};

pub static VIRTIOFS: Format = Format {
    name: "virtiofs",
    default_key: Some("dirid"),
    key_alias: None,
    keys: &[
        req("dirid", Text(checks::config_id)),
        opt("cache", Enum(VirtiofsCache::NAMES)),
        opt("direct-io", Bool),
        opt("expose-xattr", Bool),
        opt("expose-acl", Bool),
    ],
};

pub static AMD_SEV: Format = Format {
    name: "amd-sev",
    default_key: Some("type"),
    key_alias: None,
    keys: &[
        req("type", Enum(SevType::NAMES)),
        opt("no-debug", Bool),
        opt("no-key-sharing", Bool),
        opt("allow-smt", Bool),
        opt("kernel-hashes", Bool),
    ],
};

pub static INTEL_TDX: Format = Format {
    name: "intel-tdx",
    default_key: Some("type"),
    key_alias: None,
    keys: &[
        // CPUConfig.pm `$tdx_fmt` lacks `optional` on both `type` and `attestation` (despite
        // attestation's `default => 1`), so Proxmox requires both.
        req("type", Enum(TdxType::NAMES)),
        req("attestation", Bool),
        opt("vsock-cid", int(2)),
        opt("vsock-port", int(0)),
    ],
};

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::mem::discriminant;

    pub(crate) const ALL: &[&Format] = &[
        &DRIVE_IDE,
        &DRIVE_SATA,
        &DRIVE_SCSI,
        &DRIVE_VIRTIO,
        &EFIDISK,
        &TPMSTATE,
        &UNUSED,
        &NET,
        &HOSTPCI,
        &USB,
        &VGA,
        &MACHINE,
        &CPU,
        &MEMORY,
        &NUMA,
        &BOOT,
        &AGENT,
        &WATCHDOG,
        &RNG,
        &AUDIO,
        &SPICE_ENHANCEMENTS,
        &IVSHMEM,
        &SMBIOS1,
        &STARTUP,
        &META,
        &IPCONFIG,
        &CICUSTOM,
        &VIRTIOFS,
        &AMD_SEV,
        &INTEL_TDX,
    ];

    fn sub<'a>(f: &'a Format, name: &str) -> Option<&'a SubKey> {
        f.keys.iter().find(|k| k.name == name)
    }

    fn names(f: &Format) -> Vec<&'static str> {
        let mut v: Vec<_> = f.keys.iter().map(|k| k.name).collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn sub_key_names_are_unique() {
        for f in ALL {
            let mut seen = HashSet::new();
            for k in f.keys {
                assert!(seen.insert(k.name), "{}: duplicate sub-key {}", f.name, k.name);
            }
        }
    }

    #[test]
    fn default_keys_exist_and_are_not_aliases() {
        for f in ALL {
            if let Some(d) = f.default_key {
                let k = sub(f, d).unwrap_or_else(|| panic!("{}: default key {d} missing", f.name));
                assert!(k.alias_of.is_none(), "{}: default key {d} is an alias", f.name);
            }
        }
    }

    #[test]
    fn aliases_point_to_real_sub_keys_of_the_same_type() {
        for f in ALL {
            for k in f.keys.iter().filter(|k| k.alias_of.is_some()) {
                let target = k.alias_of.unwrap();
                let t = sub(f, target).unwrap_or_else(|| panic!("{}: {} aliases missing {target}", f.name, k.name));
                assert!(t.alias_of.is_none(), "{}: alias chain {} -> {target}", f.name, k.name);
                assert!(!k.required, "{}: alias {} marked required", f.name, k.name);
                assert_eq!(discriminant(&k.ty), discriminant(&t.ty), "{}: {}", f.name, k.name);
            }
        }
    }

    #[test]
    fn key_alias_names_an_enum_model_and_a_mac_key() {
        for f in ALL {
            if let Some(ka) = f.key_alias {
                assert!(matches!(sub(f, ka.model_key).map(|k| k.ty), Some(Enum(_))), "{}", f.name);
                assert!(sub(f, ka.mac_key).is_some(), "{}", f.name);
            }
        }
        let ka = NET.key_alias.expect("net has keyAlias");
        assert_eq!((ka.model_key, ka.mac_key), ("model", "macaddr"));
    }

    #[test]
    fn drive_formats_per_bus() {
        let base: HashSet<_> = names(&DRIVE_VIRTIO).into_iter().filter(|n| !matches!(*n, "iothread" | "ro")).collect();
        assert_eq!(base.len(), 41);
        let extra = |f: &Format| {
            let mut e: Vec<_> = names(f).into_iter().filter(|n| !base.contains(n)).collect();
            e.sort_unstable();
            e
        };
        assert_eq!(extra(&DRIVE_IDE), ["model", "ssd", "wwn"]);
        assert_eq!(extra(&DRIVE_SATA), ["ssd", "wwn"]);
        assert_eq!(extra(&DRIVE_SCSI), ["iothread", "product", "queues", "ro", "scsiblock", "ssd", "vendor", "wwn"]);
        assert_eq!(extra(&DRIVE_VIRTIO), ["iothread", "ro"]);
        for f in [&DRIVE_IDE, &DRIVE_SATA, &DRIVE_SCSI, &DRIVE_VIRTIO] {
            for removed in ["cyls", "heads", "secs", "trans", "import-from", "readonly"] {
                assert!(sub(f, removed).is_none(), "{}: {removed}", f.name);
            }
            assert_eq!(sub(f, "volume").unwrap().alias_of, Some("file"));
            assert!(sub(f, "file").unwrap().required);
            for (a, t) in [
                ("bps_rd_length", "bps_rd_max_length"),
                ("bps_wr_length", "bps_wr_max_length"),
                ("iops_rd_length", "iops_rd_max_length"),
                ("iops_wr_length", "iops_wr_max_length"),
            ] {
                assert_eq!(sub(f, a).unwrap().alias_of, Some(t));
            }
            assert!(matches!(sub(f, "iops_max_length").unwrap().ty, Int { min: Some(1), max: None }));
        }
        assert!(matches!(sub(&DRIVE_SCSI, "queues").unwrap().ty, Int { min: Some(2), max: None }));
    }

    #[test]
    fn small_drive_formats() {
        assert_eq!(names(&EFIDISK), ["efitype", "file", "format", "ms-cert", "pre-enrolled-keys", "size", "volume"]);
        assert_eq!(names(&TPMSTATE), ["file", "format", "size", "version", "volume"]);
        assert_eq!(names(&UNUSED), ["file", "volume"]);
        // unusedN holds only volume IDs, never paths.
        let Text(check) = sub(&UNUSED, "file").unwrap().ty else { panic!() };
        assert!(check("local:100/vm-100-disk-1.qcow2").is_ok());
        assert!(check("/dev/sdb").is_err());
        let Text(check) = sub(&EFIDISK, "file").unwrap().ty else { panic!() };
        assert!(check("/dev/sdb").is_ok());
    }

    #[test]
    fn rng_matches_the_design() {
        assert_eq!(RNG.default_key, Some("source"));
        let source = sub(&RNG, "source").unwrap();
        assert!(source.required);
        assert!(matches!(source.ty, Enum(["/dev/urandom", "/dev/random", "/dev/hwrng"])));
        assert!(matches!(sub(&RNG, "max_bytes").unwrap().ty, Int { min: Some(0), max: None }));
        // period=0 must be rejected.
        assert!(matches!(sub(&RNG, "period").unwrap().ty, Int { min: Some(1), max: None }));
        assert_eq!(RNG.keys.len(), 3);
    }

    #[test]
    fn required_and_default_keys() {
        let required = |f: &Format| -> Vec<&str> { f.keys.iter().filter(|k| k.required).map(|k| k.name).collect() };
        for (f, default, req) in [
            (&NET, Some("model"), &["model"][..]),
            (&AGENT, Some("enabled"), &["enabled"]),
            (&MEMORY, Some("current"), &["current"]),
            (&NUMA, None, &["cpus"]),
            (&AUDIO, None, &["device"]),
            (&IVSHMEM, None, &["size"]),
            (&VIRTIOFS, Some("dirid"), &["dirid"]),
            (&AMD_SEV, Some("type"), &["type"]),
            (&INTEL_TDX, Some("type"), &["type", "attestation"]),
            (&STARTUP, Some("order"), &[]),
            (&HOSTPCI, Some("host"), &[]),
            (&USB, Some("host"), &[]),
            (&VGA, Some("type"), &[]),
            (&WATCHDOG, Some("model"), &[]),
            (&BOOT, Some("legacy"), &[]),
            (&MACHINE, Some("type"), &[]),
            (&CPU, Some("cputype"), &["cputype"]),
            (&SMBIOS1, None, &[]),
            (&IPCONFIG, None, &[]),
        ] {
            assert_eq!(f.default_key, default, "{}", f.name);
            assert_eq!(required(f), req, "{}", f.name);
        }
    }

    #[test]
    fn agent_freeze_fs_aliases() {
        assert_eq!(sub(&AGENT, "freeze-fs-on-backup").unwrap().alias_of, Some("freeze-fs"));
        assert_eq!(sub(&AGENT, "guest-fsfreeze").unwrap().alias_of, Some("freeze-fs"));
    }

    #[test]
    fn net_format() {
        let Enum(models) = sub(&NET, "model").unwrap().ty else { panic!() };
        assert_eq!(models.len(), 14);
        assert!(models.contains(&"virtio") && models.contains(&"e1000-82545em"));
        assert!(matches!(sub(&NET, "tag").unwrap().ty, Int { min: Some(1), max: Some(4094) }));
        assert!(matches!(sub(&NET, "queues").unwrap().ty, Int { min: Some(0), max: Some(64) }));
        assert!(matches!(sub(&NET, "mtu").unwrap().ty, Int { min: Some(1), max: Some(65520) }));
    }
}
