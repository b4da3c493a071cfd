//! The property-string formats (docs/proxmox-config.md#keys: Drive.pm, Network.pm, PCI.pm, …),
//! one static per format.

use super::checks;
use super::enums::*;
use super::ValueType::{self, Bool, Enum, Int, Number, Parsed, Size, Text};
use super::{Format, KeyAlias, SubKey};
use crate::pve::model::hostpci::HostPciIds;
use crate::pve::model::lists::BootOrder;
use crate::pve::model::machine::MachineType;
use crate::pve::model::usb::UsbHost;
use crate::pve::props::Props;

/// Declares a property-string format once: the `Format` static the decoder checks against, and
/// a typed view of a checked value with one accessor per sub-key, in the type the schema
/// checked (`vm.keys().vga().and_then(|v| v.kind())` is an `Option<Vga>`).
///
/// `pub static VGA: VgaOpts, VgaSub = "vga", default_key: …, key_alias: …, { fields }` declares
/// the static, the view `VgaOpts` and `VgaSub`, the sub-keys' names (`VgaOpts::SUB.memory`, for
/// pointing a note at one). Each field is
/// `field [= "name"] [@required | @alias("target")]: Kind[(args)];` where Kind is `Bool`,
/// `Int`, `Int(min..)`, `Int(min..=max)`, `Number`, `Number(min..=max)`, `Size`, `Enum(RustEnum)`
/// `Text(check)` or `Parsed(check => typed: Type)`, optionally followed by `= default` (booleans,
/// enums and integers: the accessor then returns the value with Proxmox's default applied). An
/// alias gets no accessor: the decoder stores it as its target. A `Parsed` sub-key has two: the
/// text, and `typed()`, the `Type` the check read (`Spanned`, at the text), so it is not parsed again.
macro_rules! pve_format {
    (@name $field:ident) => { stringify!($field) };
    (@name $field:ident $name:literal) => { $name };

    (@ty Bool ()) => { Bool };
    (@ty Int ()) => { INT };
    (@ty Int ($min:literal ..)) => { int($min) };
    (@ty Int ($min:literal ..= $max:literal)) => { int_range($min, $max) };
    (@ty Number ()) => { NUMBER };
    (@ty Number ($min:literal ..)) => { Number { min: Some($min), max: None } };
    (@ty Number ($min:literal ..= $max:literal)) => { Number { min: Some($min), max: Some($max) } };
    (@ty Size ()) => { Size };
    (@ty Enum ($e:ident)) => { Enum($e::NAMES) };
    (@ty Text ($check:path)) => { Text($check) };
    (@ty Parsed ($check:path => $typed:ident: $t:ty)) => { Parsed($check) };

    (@subkey $name:expr, $ty:expr, []) => { opt($name, $ty) };
    (@subkey $name:expr, $ty:expr, [required]) => { req($name, $ty) };
    (@subkey $name:expr, $ty:expr, [alias $target:literal]) => { alias($name, $target, $ty) };

    (@fn $(#[$m:meta])* $field:ident, $name:expr, [alias $target:literal], $kind:ident $args:tt {}) => {};
    (@fn $(#[$m:meta])* $field:ident, $name:expr, [], Bool () {$default:expr}) => {
        $(#[$m])*
        #[doc = concat!("Proxmox's default when unset: `", stringify!($default), "`.")]
        pub fn $field(&self) -> bool {
            self.props.bool($name).unwrap_or($default)
        }
    };
    (@fn $(#[$m:meta])* $field:ident, $name:expr, [], Enum ($e:ident) {$default:expr}) => {
        $(#[$m])*
        #[doc = concat!("Proxmox's default when unset: `", stringify!($default), "`.")]
        pub fn $field(&self) -> $e {
            self.props.member::<$e>($name).unwrap_or($default)
        }
    };
    (@fn $(#[$m:meta])* $field:ident, $name:expr, [], Int $args:tt {$default:expr}) => {
        $(#[$m])*
        #[doc = concat!("Proxmox's default when unset: `", stringify!($default), "`.")]
        pub fn $field(&self) -> i64 {
            self.props.int($name).unwrap_or($default)
        }
    };
    (@fn $(#[$m:meta])* $field:ident, $name:expr, [$($flag:ident)?], Bool () {}) => {
        $(#[$m])*
        pub fn $field(&self) -> Option<bool> {
            self.props.bool($name)
        }
    };
    (@fn $(#[$m:meta])* $field:ident, $name:expr, [$($flag:ident)?], Int $args:tt {}) => {
        $(#[$m])*
        pub fn $field(&self) -> Option<i64> {
            self.props.int($name)
        }
    };
    (@fn $(#[$m:meta])* $field:ident, $name:expr, [$($flag:ident)?], Number $args:tt {}) => {
        $(#[$m])*
        pub fn $field(&self) -> Option<f64> {
            self.props.number($name)
        }
    };
    (@fn $(#[$m:meta])* $field:ident, $name:expr, [$($flag:ident)?], Size () {}) => {
        $(#[$m])*
        pub fn $field(&self) -> Option<u64> {
            self.props.size($name)
        }
    };
    (@fn $(#[$m:meta])* $field:ident, $name:expr, [$($flag:ident)?], Enum ($e:ident) {}) => {
        $(#[$m])*
        pub fn $field(&self) -> Option<$e> {
            self.props.member::<$e>($name)
        }
    };
    (@fn $(#[$m:meta])* $field:ident, $name:expr, [$($flag:ident)?], Text $args:tt {}) => {
        $(#[$m])*
        pub fn $field(&self) -> Option<&'a str> {
            self.props.str($name)
        }
    };
    (@fn $(#[$m:meta])* $field:ident, $name:expr, [$($flag:ident)?], Parsed ($check:path => $typed:ident: $t:ty) {}) => {
        $(#[$m])*
        pub fn $field(&self) -> Option<&'a str> {
            self.props.str($name)
        }
        /// The value the decoder's check read from this sub-key, at its text; `None` when unset
        /// or when the text has no typed value (see the check).
        pub fn $typed(&self) -> Option<crate::report::Spanned<&'a $t>> {
            self.props.typed($name)
        }
    };

    (
        $(#[$sm:meta])*
        pub static $stat:ident: $view:ident, $sub:ident = $fname:literal, default_key: $dk:expr, key_alias: $ka:expr, {
            $(
                $(#[$m:meta])*
                $field:ident $(= $name:literal)? $(@ $flag:ident $(($target:literal))?)? : $kind:ident $(($($args:tt)*))? $(= $default:expr)?;
            )*
        }
    ) => {
        $(#[$sm])*
        pub static $stat: Format = Format {
            name: $fname,
            default_key: $dk,
            key_alias: $ka,
            keys: &[$(
                pve_format!(@subkey pve_format!(@name $field $($name)?), pve_format!(@ty $kind ($($($args)*)?)), [$($flag $($target)?)?]),
            )*],
        };

        #[doc = concat!("The sub-key names of `", $fname, "`, for pointing notes at one (`", stringify!($view), "::SUB`).")]
        #[derive(Debug, Clone, Copy)]
        pub struct $sub {
            $(pub $field: &'static str,)*
        }

        #[doc = concat!("A checked `", $fname, "` value, read through its sub-keys (see [`", stringify!($stat), "`]).")]
        #[derive(Debug, Clone, Copy)]
        pub struct $view<'a> {
            pub props: &'a Props,
        }

        impl<'a> $view<'a> {
            pub const FORMAT: &'static Format = &$stat;
            /// The sub-keys' names as the config spells them.
            pub const SUB: $sub = $sub { $($field: pve_format!(@name $field $($name)?),)* };
            /// The typed view of a key's value, if the key has this format (one entry of an
            /// indexed family such as `numa3`).
            pub fn of(entry: &'a crate::pve::decode::Entry) -> Option<Self> {
                entry.props().filter(|p| std::ptr::eq(p.format, &$stat)).map(|props| Self { props })
            }
            /// The whole value.
            pub fn span(&self) -> crate::report::Span {
                self.props.span
            }
            /// Whether the sub-key is written (for sub-keys read with their default).
            pub fn is_set(&self, name: &'static str) -> bool {
                self.props.get(name).is_some()
            }
            /// Where to point a note about a sub-key: the sub-option if written, else the value.
            pub fn span_of(&self, name: &'static str) -> crate::report::Span {
                self.props.span_of(name)
            }
            $(pve_format!(@fn $(#[$m])* $field, pve_format!(@name $field $($name)?), [$($flag $($target)?)?], $kind ($($($args)*)?) {$($default)?});)*
        }
    };
}

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

/// Drive.pm `%drivedesc_base` plus the per-bus extras. The removed geometry keys
/// `cyls heads secs trans` are left out: `parse_drive` skips them, but `parse_vm_config`'s
/// `check_type` does not, so Proxmox rejects a config line that has them
/// (docs/proxmox-config.md#property-strings).
/// `import-from` is left out too: it exists only in the API's allocation schema
/// (`$drivedesc_hash_with_alloc`), never in a saved config.
macro_rules! drive_format {
    ($(#[$m:meta])* $stat:ident: $view:ident, $sub:ident = $name:literal, { $($extra:tt)* }) => {
        pve_format! {
            $(#[$m])*
            pub static $stat: $view, $sub = $name, default_key: Some("file"), key_alias: None, {
                file @required: Text(checks::drive_file);
                volume @alias("file"): Text(checks::drive_file);
                media: Enum(Media);
                snapshot: Bool = false;
                cache: Enum(Cache);
                format: Enum(ImageFormat);
                size: Size;
                backup: Bool;
                replicate: Bool;
                rerror: Enum(Rerror);
                werror: Enum(Werror);
                aio: Enum(Aio);
                discard: Enum(Discard);
                detect_zeroes: Bool;
                serial: Text(checks::drive_serial);
                shared: Bool;
                mbps: Number;
                mbps_rd: Number;
                mbps_wr: Number;
                mbps_max: Number;
                mbps_rd_max: Number;
                mbps_wr_max: Number;
                iops: Int;
                iops_rd: Int;
                iops_wr: Int;
                iops_max: Int;
                iops_rd_max: Int;
                iops_wr_max: Int;
                bps_max_length: Int(1..);
                bps_rd_max_length: Int(1..);
                bps_wr_max_length: Int(1..);
                iops_max_length: Int(1..);
                iops_rd_max_length: Int(1..);
                iops_wr_max_length: Int(1..);
                bps: Int;
                bps_rd: Int;
                bps_wr: Int;
                bps_rd_length @alias("bps_rd_max_length"): Int(1..);
                bps_wr_length @alias("bps_wr_max_length"): Int(1..);
                iops_rd_length @alias("iops_rd_max_length"): Int(1..);
                iops_wr_length @alias("iops_wr_max_length"): Int(1..);
                $($extra)*
            }
        }
    };
}

drive_format!(DRIVE_IDE: IdeOpts, IdeSub = "ide", {
    model: Text(checks::drive_model);
    ssd: Bool = false;
    wwn: Text(checks::wwn);
});

drive_format!(DRIVE_SATA: SataOpts, SataSub = "sata", {
    ssd: Bool = false;
    wwn: Text(checks::wwn);
});

drive_format!(DRIVE_SCSI: ScsiOpts, ScsiSub = "scsi", {
    iothread: Bool = false;
    ro: Bool = false;
    ssd: Bool = false;
    wwn: Text(checks::wwn);
    vendor: Text(checks::scsi_vendor);
    product: Text(checks::scsi_product);
    queues: Int(2..);
    scsiblock: Bool = false;
});

drive_format!(DRIVE_VIRTIO: VirtioOpts, VirtioSub = "virtio", {
    iothread: Bool = false;
    ro: Bool = false;
});

pve_format! {
    pub static EFIDISK: EfiDiskOpts, EfiDiskSub = "efidisk0", default_key: Some("file"), key_alias: None, {
        file @required: Text(checks::drive_file);
        volume @alias("file"): Text(checks::drive_file);
        format: Enum(ImageFormat);
        size: Size;
        /// Drive.pm `$efidisk_fmt` default: `2m`, the old 2 MiB OVMF build.
        efitype: Enum(EfiType) = EfiType::Mib2;
        /// Drive.pm `$efidisk_fmt` default: 0, no Secure Boot keys enrolled.
        pre_enrolled_keys = "pre-enrolled-keys": Bool = false;
        ms_cert = "ms-cert": Enum(MsCert);
    }
}

pve_format! {
    pub static TPMSTATE: TpmStateOpts, TpmStateSub = "tpmstate0", default_key: Some("file"), key_alias: None, {
        file @required: Text(checks::drive_file);
        // Drive.pm `$tpmstate_fmt` has the same `volume` alias as every other drive format.
        volume @alias("file"): Text(checks::drive_file);
        format: Enum(TpmFormat);
        size: Size;
        /// Drive.pm `$tpmstate_fmt` default: v1.2, although the GUI creates v2.0.
        version: Enum(TpmVersion) = TpmVersion::V1_2;
    }
}

pve_format! {
    pub static UNUSED: UnusedOpts, UnusedSub = "unused", default_key: Some("file"), key_alias: None, {
        // Unlike drives, `$unused_fmt` takes only a volume ID (`pve-volume-id`), no path.
        file @required: Text(checks::volume_id);
        volume @alias("file"): Text(checks::volume_id);
    }
}

pve_format! {
    pub static NET: NetOpts, NetSub = "net", default_key: Some("model"),
        // Network.pm: every model name is also a key (`virtio=BC:24:…`) that sets model and MAC.
        key_alias: Some(KeyAlias { model_key: "model", mac_key: "macaddr" }), {
        model @required: Enum(NetModel);
        macaddr: Text(checks::mac_addr);
        bridge: Text(checks::bridge_id);
        queues: Int(0..=64);
        rate: Number(0.0..);
        tag: Int(1..=4094);
        trunks: Text(checks::id_range_list);
        firewall: Bool = false;
        link_down: Bool = false;
        mtu: Int(1..=65520);
        host_tunnel = "host-tunnel": Bool;
    }
}

pve_format! {
    pub static HOSTPCI: HostPciOpts, HostPciSub = "hostpci", default_key: Some("host"), key_alias: None, {
        // Optional since resource mappings: exactly one of host/mapping is checked at start.
        host: Parsed(checks::pci_host => host_ids: HostPciIds);
        mapping: Text(checks::config_id);
        // PCI.pm `$hostpci_fmt`: the ROM BAR is on unless turned off.
        rombar: Bool = true;
        romfile: Text(checks::romfile);
        pcie: Bool = false;
        x_vga = "x-vga": Bool = false;
        legacy_igd = "legacy-igd": Bool = false;
        mdev: Text(checks::mdev);
        vendor_id = "vendor-id": Text(checks::pci_id);
        device_id = "device-id": Text(checks::pci_id);
        sub_vendor_id = "sub-vendor-id": Text(checks::pci_id);
        sub_device_id = "sub-device-id": Text(checks::pci_id);
        driver: Enum(HostPciDriver);
    }
}

pve_format! {
    pub static USB: UsbOpts, UsbSub = "usb", default_key: Some("host"), key_alias: None, {
        host: Parsed(checks::usb_host => usb_host: UsbHost);
        mapping: Text(checks::config_id);
        usb3: Bool = false;
    }
}

pve_format! {
    pub static VGA: VgaOpts, VgaSub = "vga", default_key: Some("type"), key_alias: None, {
        kind = "type": Enum(Vga);
        memory: Int(4..=512);
        clipboard: Enum(Clipboard);
    }
}

pve_format! {
    /// `pve-qemu-machine` (Machine.pm); also the format of the snapshot-internal `runningmachine`.
    pub static MACHINE: MachineOpts, MachineSub = "machine", default_key: Some("type"), key_alias: None, {
        kind = "type": Parsed(checks::machine_type => machine_type: MachineType);
        viommu: Enum(Viommu);
        aw_bits = "aw-bits": Number(32.0..=64.0);
        enable_s3 = "enable-s3": Bool;
        enable_s4 = "enable-s4": Bool;
    }
}

pve_format! {
    /// `pve-vm-cpu-conf` (CPUConfig.pm `$cpu_fmt` with the VM-config validator).
    pub static CPU: CpuOpts, CpuSub = "cpu", default_key: Some("cputype"), key_alias: None, {
        // Optional in `$cpu_fmt`, but `validate_cpu_conf` dies "CPU is missing cputype".
        cputype @required: Text(checks::cpu_type);
        // Kept as a key so the error says why, as `validate_vm_cpu_conf` does.
        reported_model = "reported-model": Text(checks::reported_model_forbidden);
        hidden: Bool;
        hv_vendor_id = "hv-vendor-id": Text(checks::hv_vendor_id);
        flags: Text(checks::cpu_flags);
        guest_phys_bits = "guest-phys-bits": Int(32..=64);
        phys_bits = "phys-bits": Text(checks::phys_bits);
        level: Int(0..=4_294_967_295);
    }
}

pve_format! {
    pub static MEMORY: MemoryOpts, MemorySub = "memory", default_key: Some("current"), key_alias: None, {
        current @required: Int(16..);
    }
}

pve_format! {
    pub static NUMA: NumaOpts, NumaSub = "numa", default_key: None, key_alias: None, {
        cpus @required: Text(checks::id_range_list);
        memory: Number;
        hostnodes: Text(checks::id_range_list);
        policy: Enum(NumaPolicy);
    }
}

pve_format! {
    pub static BOOT: BootOpts, BootSub = "boot", default_key: Some("legacy"), key_alias: None, {
        legacy: Text(checks::boot_legacy);
        order: Parsed(checks::boot_order => boot_devices: BootOrder);
    }
}

pve_format! {
    pub static AGENT: AgentOpts, AgentSub = "agent", default_key: Some("enabled"), key_alias: None, {
        enabled @required: Bool;
        fstrim_cloned_disks: Bool;
        freeze_fs = "freeze-fs": Bool;
        freeze_fs_on_backup = "freeze-fs-on-backup" @alias("freeze-fs"): Bool;
        guest_fsfreeze = "guest-fsfreeze" @alias("freeze-fs"): Bool;
        kind = "type": Enum(AgentType);
    }
}

pve_format! {
    pub static WATCHDOG: WatchdogOpts, WatchdogSub = "watchdog", default_key: Some("model"), key_alias: None, {
        model: Enum(WatchdogModel) = WatchdogModel::I6300esb;
        action: Enum(WatchdogAction);
    }
}

pve_format! {
    pub static RNG: RngOpts, RngSub = "rng0", default_key: Some("source"), key_alias: None, {
        source @required: Enum(RngSource);
        /// RNG.pm `$rng_fmt` default: 1024 bytes per period; 0 turns the limiter off.
        max_bytes: Int(0..) = 1024;
        // Proxmox sets no minimum; period=0 is rejected by design: a zero period is meaningless.
        /// RNG.pm `$rng_fmt` default: 1000 ms.
        period: Int(1..) = 1000;
    }
}

pve_format! {
    pub static AUDIO: AudioOpts, AudioSub = "audio0", default_key: None, key_alias: None, {
        device @required: Enum(AudioDevice);
        driver: Enum(AudioDriver);
    }
}

pve_format! {
    pub static SPICE_ENHANCEMENTS: SpiceEnhancementsOpts, SpiceEnhancementsSub = "spice_enhancements", default_key: None, key_alias: None, {
        foldersharing: Bool;
        videostreaming: Enum(VideoStreaming);
    }
}

pve_format! {
    pub static IVSHMEM: IvshmemOpts, IvshmemSub = "ivshmem", default_key: None, key_alias: None, {
        size @required: Int(1..);
        name: Text(checks::ivshmem_name);
    }
}

pve_format! {
    pub static SMBIOS1: Smbios1Opts, Smbios1Sub = "smbios1", default_key: None, key_alias: None, {
        uuid: Text(checks::uuid);
        version: Text(checks::smbios_text);
        serial: Text(checks::smbios_text);
        manufacturer: Text(checks::smbios_text);
        product: Text(checks::smbios_text);
        sku: Text(checks::smbios_text);
        family: Text(checks::smbios_text);
        base64: Bool;
    }
}

pve_format! {
    /// `pve-startup-order` is not a property string in Proxmox but a custom parser
    /// (JSONSchema.pm `pve_parse_startup_order`): `[order=]\d+`, `up=\d+`, `down=\d+`. Written as a
    /// format it reads the same.
    pub static STARTUP: StartupOpts, StartupSub = "startup", default_key: Some("order"), key_alias: None, {
        order: Int(0..);
        up: Int(0..);
        down: Int(0..);
    }
}

pve_format! {
    pub static META: MetaOpts, MetaSub = "meta", default_key: None, key_alias: None, {
        ctime: Int;
        creation_qemu = "creation-qemu": Text(checks::qemu_version);
    }
}

pve_format! {
    pub static IPCONFIG: IpConfigOpts, IpConfigSub = "ipconfig", default_key: None, key_alias: None, {
        ip: Text(checks::ipv4_config);
        gw: Text(checks::ipv4);
        ip6: Text(checks::ipv6_config);
        gw6: Text(checks::ipv6);
    }
}

pve_format! {
    pub static CICUSTOM: CiCustomOpts, CiCustomSub = "cicustom", default_key: None, key_alias: None, {
        meta: Text(checks::volume_id);
        network: Text(checks::volume_id);
        user: Text(checks::volume_id);
        vendor: Text(checks::volume_id);
    }
}

pve_format! {
    pub static VIRTIOFS: VirtiofsOpts, VirtiofsSub = "virtiofs", default_key: Some("dirid"), key_alias: None, {
        dirid @required: Text(checks::config_id);
        cache: Enum(VirtiofsCache);
        direct_io = "direct-io": Bool;
        expose_xattr = "expose-xattr": Bool;
        expose_acl = "expose-acl": Bool;
    }
}

pve_format! {
    pub static AMD_SEV: AmdSevOpts, AmdSevSub = "amd-sev", default_key: Some("type"), key_alias: None, {
        kind = "type" @required: Enum(SevType);
        no_debug = "no-debug": Bool;
        no_key_sharing = "no-key-sharing": Bool;
        allow_smt = "allow-smt": Bool;
        kernel_hashes = "kernel-hashes": Bool;
    }
}

pve_format! {
    pub static INTEL_TDX: IntelTdxOpts, IntelTdxSub = "intel-tdx", default_key: Some("type"), key_alias: None, {
        // CPUConfig.pm `$tdx_fmt` lacks `optional` on both `type` and `attestation` (despite
        // attestation's `default => 1`), so Proxmox requires both.
        kind = "type" @required: Enum(TdxType);
        attestation @required: Bool;
        vsock_cid = "vsock-cid": Int(2..);
        vsock_port = "vsock-port": Int(0..);
    }
}

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
