//! Every Proxmox enum, declared once: the Rust type and its spellings. The schema's
//! `ValueType::Enum` lists are the generated `NAMES`, so the decoder accepts exactly the values
//! the Rust type has, and a `match` over one is exhaustive over what Proxmox allows.
//!
//! Variants are listed in the schema's order (QemuServer.pm `$confdesc`, Drive.pm, Network.pm,
//! …): error messages list the allowed values in that order.

/// A Proxmox enum: its values and their spellings in the config.
pub trait PveEnum: Copy + 'static {
    /// The spellings, in schema order.
    const NAMES: &'static [&'static str];
    /// The variants, in the same order.
    const ALL: &'static [Self];
    fn as_str(self) -> &'static str;
    /// `None` only for a spelling outside the schema's enum, which decode refuses.
    fn parse(s: &str) -> Option<Self>;
}

/// Declares an enum and its Proxmox spellings: `pve_enum! { pub enum Bios { SeaBios = "seabios", … } }`.
macro_rules! pve_enum {
    ($(#[$m:meta])* $vis:vis enum $name:ident { $($(#[$vm:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $($(#[$vm])* $variant),+
        }

        impl $crate::pve::schema::PveEnum for $name {
            const NAMES: &'static [&'static str] = &[$($text),+];
            const ALL: &'static [Self] = &[$($name::$variant),+];
            fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
            fn parse(s: &str) -> Option<Self> {
                match s {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl $name {
            pub const NAMES: &'static [&'static str] = <$name as $crate::pve::schema::PveEnum>::NAMES;
            pub fn as_str(self) -> &'static str {
                <$name as $crate::pve::schema::PveEnum>::as_str(self)
            }
            pub fn parse(s: &str) -> Option<Self> {
                <$name as $crate::pve::schema::PveEnum>::parse(s)
            }
        }
    };
}

// ---- top-level keys (QemuServer.pm `$confdesc`) ----------------------------------------------

pve_enum! {
    pub enum Arch { X86_64 = "x86_64", Aarch64 = "aarch64" }
}

pve_enum! {
    pub enum Bios { SeaBios = "seabios", Ovmf = "ovmf" }
}

pve_enum! {
    pub enum CiType { ConfigDrive2 = "configdrive2", NoCloud = "nocloud", OpenNebula = "opennebula" }
}

pve_enum! {
    /// One feature of the `hotplug` list (`pve-hotplug-features`, QemuServer.pm `parse_hotplug_features`).
    pub enum HotplugFeature {
        Network = "network",
        Disk = "disk",
        Cpu = "cpu",
        Memory = "memory",
        Usb = "usb",
        Cloudinit = "cloudinit",
    }
}

pve_enum! {
    /// `hugepages`: any size, 2 MiB or 1 GiB pages.
    pub enum Hugepages { Any = "any", Mib2 = "2", Mib1024 = "1024" }
}

pve_enum! {
    pub enum Keyboard {
        De = "de", DeCh = "de-ch", Da = "da", EnGb = "en-gb", EnUs = "en-us", Es = "es", Fi = "fi", Fr = "fr",
        FrBe = "fr-be", FrCa = "fr-ca", FrCh = "fr-ch", Hu = "hu", Is = "is", It = "it", Ja = "ja", Lt = "lt",
        Mk = "mk", Nl = "nl", No = "no", Pl = "pl", Pt = "pt", PtBr = "pt-br", Sv = "sv", Sl = "sl", Tr = "tr",
    }
}

pve_enum! {
    pub enum Lock {
        Backup = "backup",
        Clone = "clone",
        Create = "create",
        Migrate = "migrate",
        Rollback = "rollback",
        Snapshot = "snapshot",
        SnapshotDelete = "snapshot-delete",
        Suspending = "suspending",
        Suspended = "suspended",
    }
}

pve_enum! {
    pub enum OsType {
        Other = "other", Wxp = "wxp", W2k = "w2k", W2k3 = "w2k3", W2k8 = "w2k8", WVista = "wvista", Win7 = "win7",
        Win8 = "win8", Win10 = "win10", Win11 = "win11", L24 = "l24", L26 = "l26", Solaris = "solaris",
    }
}

pve_enum! {
    /// `scsihw` (QemuServer.pm `scsihw_infos`, docs/proxmox-config.md#disks).
    pub enum ScsiHw {
        Lsi = "lsi",
        Lsi53c810 = "lsi53c810",
        VirtioScsi = "virtio-scsi-pci",
        VirtioScsiSingle = "virtio-scsi-single",
        Megasas = "megasas",
        Pvscsi = "pvscsi",
    }
}

pve_enum! {
    /// Not in `$confdesc`: parse_vm_config matches `snapstate:\s*(prepare|delete)\s*$` itself.
    pub enum SnapState { Prepare = "prepare", Delete = "delete" }
}

// ---- property-string sub-keys ----------------------------------------------------------------

pve_enum! {
    /// `pve-qm-image-format` (Drive.pm).
    pub enum ImageFormat { Raw = "raw", Qcow = "qcow", Qed = "qed", Qcow2 = "qcow2", Vmdk = "vmdk", Cloop = "cloop" }
}

pve_enum! {
    pub enum Media { Cdrom = "cdrom", Disk = "disk" }
}

pve_enum! {
    pub enum Cache {
        None = "none",
        Writethrough = "writethrough",
        Writeback = "writeback",
        Unsafe = "unsafe",
        Directsync = "directsync",
    }
}

pve_enum! {
    pub enum Rerror { Ignore = "ignore", Report = "report", Stop = "stop" }
}

pve_enum! {
    pub enum Werror { Enospc = "enospc", Ignore = "ignore", Report = "report", Stop = "stop" }
}

pve_enum! {
    pub enum Aio { Native = "native", Threads = "threads", IoUring = "io_uring" }
}

pve_enum! {
    pub enum Discard { Ignore = "ignore", On = "on" }
}

pve_enum! {
    pub enum EfiType { Mib2 = "2m", Mib4 = "4m" }
}

pve_enum! {
    pub enum MsCert { Y2011 = "2011", Y2023 = "2023", Y2023w = "2023w", Y2023k = "2023k" }
}

pve_enum! {
    /// Drive.pm `$tpmstate_fmt` `format`.
    pub enum TpmFormat { Raw = "raw", Qcow2 = "qcow2", Vmdk = "vmdk" }
}

pve_enum! {
    pub enum TpmVersion { V1_2 = "v1.2", V2_0 = "v2.0" }
}

pve_enum! {
    /// Network.pm `$nic_model_list`.
    pub enum NetModel {
        E1000 = "e1000",
        E1000_82540em = "e1000-82540em",
        E1000_82544gc = "e1000-82544gc",
        E1000_82545em = "e1000-82545em",
        E1000e = "e1000e",
        I82551 = "i82551",
        I82557b = "i82557b",
        I82559er = "i82559er",
        Ne2kIsa = "ne2k_isa",
        Ne2kPci = "ne2k_pci",
        Pcnet = "pcnet",
        Rtl8139 = "rtl8139",
        Virtio = "virtio",
        Vmxnet3 = "vmxnet3",
    }
}

pve_enum! {
    pub enum HostPciDriver { Vfio = "vfio", Keep = "keep" }
}

pve_enum! {
    /// `vga: type=` (QemuServer.pm `$vga_fmt`).
    pub enum Vga {
        Cirrus = "cirrus",
        Qxl = "qxl",
        Qxl2 = "qxl2",
        Qxl3 = "qxl3",
        Qxl4 = "qxl4",
        None = "none",
        Serial0 = "serial0",
        Serial1 = "serial1",
        Serial2 = "serial2",
        Serial3 = "serial3",
        Std = "std",
        Virtio = "virtio",
        VirtioGl = "virtio-gl",
        Vmware = "vmware",
    }
}

pve_enum! {
    pub enum Clipboard { Vnc = "vnc" }
}

pve_enum! {
    pub enum Viommu { Intel = "intel", Virtio = "virtio" }
}

pve_enum! {
    pub enum NumaPolicy { Preferred = "preferred", Bind = "bind", Interleave = "interleave" }
}

pve_enum! {
    pub enum AgentType { Virtio = "virtio", Isa = "isa" }
}

pve_enum! {
    pub enum WatchdogModel { I6300esb = "i6300esb", Ib700 = "ib700" }
}

pve_enum! {
    pub enum WatchdogAction {
        Reset = "reset",
        Shutdown = "shutdown",
        Poweroff = "poweroff",
        Pause = "pause",
        Debug = "debug",
        None = "none",
    }
}

pve_enum! {
    /// rng0 `source` (RNG.pm).
    pub enum RngSource { Urandom = "/dev/urandom", Random = "/dev/random", Hwrng = "/dev/hwrng" }
}

pve_enum! {
    pub enum AudioDevice { Ich9IntelHda = "ich9-intel-hda", IntelHda = "intel-hda", Ac97 = "AC97" }
}

pve_enum! {
    pub enum AudioDriver { Spice = "spice", None = "none" }
}

pve_enum! {
    pub enum VideoStreaming { Off = "off", All = "all", Filter = "filter" }
}

pve_enum! {
    pub enum VirtiofsCache { Auto = "auto", Always = "always", Metadata = "metadata", Never = "never" }
}

pve_enum! {
    pub enum SevType { Std = "std", Es = "es", Snp = "snp" }
}

pve_enum! {
    pub enum TdxType { Tdx = "tdx" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_round_trip() {
        fn check<E: PveEnum + PartialEq + std::fmt::Debug>() {
            assert_eq!(E::NAMES.len(), E::ALL.len());
            for (name, v) in E::NAMES.iter().zip(E::ALL) {
                assert_eq!(E::parse(name), Some(*v));
                assert_eq!(v.as_str(), *name);
            }
            assert_eq!(E::parse("no such value"), None);
        }
        check::<ScsiHw>();
        check::<Vga>();
        check::<NetModel>();
        check::<Keyboard>();
        check::<RngSource>();
        check::<OsType>();
    }
}
