//! The checked Proxmox VM: every key of the selected section, typed by the schema, plus the
//! VMID. Device families read their typed view from here (`pve::model`).

use crate::pve::decode::Entry;
use crate::pve::defaults::{MEMORY_MIB, SOCKETS};
use crate::pve::model::lists::HotplugFeatures;
use crate::pve::props::{Props, Scalar};
use crate::pve::schema::{HostPciOpts, HotplugFeature, OsType, Vga};
use crate::report::Spanned;

#[derive(Debug, Clone, PartialEq)]
pub struct VmConfig {
    pub vmid: u32,
    pub entries: Vec<Entry>,
    pub description: Option<Spanned<String>>,
}

/// Typed access to the top-level keys: one method per key of the schema, generated with `KEYS`
/// (schema/keys.rs `pve_keys!`). `None` when the key is not set.
#[derive(Clone, Copy)]
pub struct Keys<'a> {
    pub(crate) vm: &'a VmConfig,
}

impl VmConfig {
    pub fn keys(&self) -> Keys<'_> {
        Keys { vm: self }
    }
    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.key.value == key)
    }
    pub fn scalar(&self, key: &str) -> Option<&Spanned<Scalar>> {
        self.get(key).and_then(Entry::scalar)
    }
    pub fn props(&self, key: &str) -> Option<&Props> {
        self.get(key).and_then(Entry::props)
    }
    pub fn bool(&self, key: &str) -> Option<bool> {
        self.scalar(key).and_then(|s| s.as_bool())
    }
    pub fn int(&self, key: &str) -> Option<i64> {
        self.scalar(key).and_then(|s| s.as_int())
    }
    pub fn number(&self, key: &str) -> Option<f64> {
        self.scalar(key).and_then(|s| s.as_number())
    }
    pub fn text(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Entry::text)
    }
    /// The entries of an indexed family (`net` → net0, net3, …), by index.
    pub fn indexed<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (u16, &'a Entry)> + 'a {
        let mut found: Vec<_> = self
            .entries
            .iter()
            .filter(move |e| e.spec.name == prefix && e.index.is_some())
            .map(|e| (e.index.unwrap_or_default(), e))
            .collect();
        found.sort_by_key(|(i, _)| *i);
        found.into_iter()
    }
    /// Proxmox's `windows_version`: wxp/w2k/w2k3 → 5, w2k8/wvista → 6, winN → N, else 0.
    pub fn windows_version(&self) -> u32 {
        match self.ostype() {
            OsType::Wxp | OsType::W2k | OsType::W2k3 => 5,
            OsType::W2k8 | OsType::WVista => 6,
            OsType::Win7 => 7,
            OsType::Win8 => 8,
            OsType::Win10 => 10,
            OsType::Win11 => 11,
            OsType::Other | OsType::L24 | OsType::L26 | OsType::Solaris => 0,
        }
    }
    /// `sockets`, else the deprecated `smp`, else 1.
    pub fn sockets(&self) -> u32 {
        self.keys().sockets().or_else(|| self.keys().smp()).map_or(SOCKETS, |v| v as u32)
    }
    /// The display type (`vga: type`), with Proxmox's default (QemuServer.pm `get_default_vga`):
    /// a passed-through GPU (x-vga) is the display, so no emulated VGA; Windows XP/2003 get cirrus;
    /// everything else std.
    pub fn vga_type(&self) -> Vga {
        self.keys().vga().and_then(|v| v.kind()).unwrap_or_else(|| {
            if self.gpu_passthrough() {
                Vga::None
            } else if self.windows_version() == 5 {
                Vga::Cirrus
            } else {
                Vga::Std
            }
        })
    }
    /// Whether Proxmox treats the VM as doing GPU passthrough: a hostpci with `x-vga=1`.
    pub fn gpu_passthrough(&self) -> bool {
        self.keys().hostpci().any(|(_, e)| HostPciOpts::of(e).is_some_and(|p| p.x_vga()))
    }
    /// Whether `hotplug` has `feature`: unset is Proxmox's default `network,disk,usb` (as `1`).
    pub fn hotplug_has(&self, feature: HotplugFeature) -> bool {
        match self.keys().hotplug_features() {
            Some(features) => features.value.has(feature),
            None => HotplugFeatures::proxmox_default().has(feature),
        }
    }
    /// `memory` in MiB, 512 by default.
    pub fn memory_mib(&self) -> u64 {
        self.keys().memory().and_then(|m| m.current()).map_or(MEMORY_MIB, |m| m as u64)
    }
    /// `tablet`, with Proxmox's default (QemuServer.pm `config_to_command`): on, but off when the
    /// display is SPICE (`qxl*`) or a serial console.
    pub fn tablet(&self) -> bool {
        self.keys().tablet().unwrap_or_else(|| {
            let vga = self.vga_type();
            !(vga.qxl_heads().is_some() || vga.serial_console().is_some())
        })
    }
    /// `tdf` (the RTC drift fix), with Proxmox's default (QemuServer.pm `config_to_command`): on
    /// for Windows (`windows_version` ≥ 5) unless ACPI is off.
    pub fn tdf(&self) -> bool {
        self.keys().tdf().unwrap_or(self.windows_version() >= 5 && self.acpi())
    }
    /// `localtime`, with Proxmox's default (QemuServer.pm `config_to_command`): on for Windows
    /// (`windows_version` ≥ 5).
    pub fn localtime(&self) -> bool {
        self.keys().localtime().unwrap_or(self.windows_version() >= 5)
    }
}
