//! `hostpciN` (PCI.pm `$hostpci_fmt`, `parse_hostpci`): host PCI devices passed through with VFIO.

use crate::pve::props::Props;
use crate::pve::schema::{HostPciDriver, HostPciOpts};
use std::str::FromStr;

/// One `[dddd:]bb:dd[.f]` of the `host` list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostPciId {
    pub domain: u32,
    pub bus: u32,
    pub slot: u32,
    /// `None`: every function of the device (Proxmox asks sysfs which exist).
    pub function: Option<u32>,
}

/// The `host` list as the schema's check reads it: `Err` names the first entry whose domain is too
/// large for a u32 (the pattern allows any length).
pub type HostPciIds = Result<Vec<HostPciId>, String>;

/// Why a `host` entry is no [`HostPciId`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostPciIdError {
    /// Not PCI.pm `$PCIRE`.
    Invalid,
    /// `$PCIRE` allows a domain of any length; one too large for a u32 matches but does not fit.
    DomainTooLarge,
}

impl FromStr for HostPciId {
    type Err = HostPciIdError;

    /// PCI.pm `$PCIRE`: `(?:[a-f0-9]{4,}:)?[a-f0-9]{2}:[a-f0-9]{2}(?:\.[a-f0-9])?` (lowercase only:
    /// the pattern has no `/i`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower_hex = |p: &str| !p.is_empty() && p.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'));
        let (rest, function) = match s.split_once('.') {
            Some((r, f)) => (r, Some(f)),
            None => (s, None),
        };
        if function.is_some_and(|f| f.len() != 1 || !lower_hex(f)) {
            return Err(HostPciIdError::Invalid);
        }
        let parts: Vec<&str> = rest.split(':').collect();
        let (domain, bus, slot) = match parts.as_slice() {
            [b, d] => ("0000", *b, *d),
            [dom, b, d] if dom.len() >= 4 && lower_hex(dom) => (*dom, *b, *d),
            _ => return Err(HostPciIdError::Invalid),
        };
        if !(bus.len() == 2 && lower_hex(bus) && slot.len() == 2 && lower_hex(slot)) {
            return Err(HostPciIdError::Invalid);
        }
        let hex = |p: &str| u32::from_str_radix(p, 16).map_err(|_| HostPciIdError::Invalid);
        Ok(HostPciId {
            domain: u32::from_str_radix(domain, 16).map_err(|_| HostPciIdError::DomainTooLarge)?,
            bus: hex(bus)?,
            slot: hex(slot)?,
            function: function.map(hex).transpose()?,
        })
    }
}

impl HostPciId {
    /// `None` for anything [`FromStr`] refuses; after the schema's check, only for a domain too
    /// large for a u32.
    pub fn parse(s: &str) -> Option<HostPciId> {
        s.parse().ok()
    }

    pub fn display(&self) -> String {
        match self.function {
            Some(f) => format!("{:04x}:{:02x}:{:02x}.{f:x}", self.domain, self.bus, self.slot),
            None => format!("{:04x}:{:02x}:{:02x}", self.domain, self.bus, self.slot),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct HostPci {
    /// The `host` list; empty with `mapping`.
    pub host: Vec<HostPciId>,
    /// The raw `host` value, for messages.
    pub host_text: Option<String>,
    pub mapping: Option<String>,
    pub rombar: bool,
    pub romfile: Option<String>,
    pub pcie: bool,
    pub x_vga: bool,
    pub legacy_igd: bool,
    pub mdev: Option<String>,
    /// `vendor-id`, `device-id`, `sub-vendor-id`, `sub-device-id` as numbers, in that order.
    pub id_overrides: Vec<(&'static str, u32)>,
    /// `driver=keep`: Proxmox leaves the host driver bound.
    pub keep_driver: bool,
}

/// The ID overrides and the vfio-pci property each becomes (PCI.pm `x-pci-$option`).
pub const ID_OVERRIDES: [(&str, &str); 4] = [
    ("vendor-id", "x-pci-vendor-id"),
    ("device-id", "x-pci-device-id"),
    ("sub-vendor-id", "x-pci-sub-vendor-id"),
    ("sub-device-id", "x-pci-sub-device-id"),
];

impl HostPci {
    /// `Err` names a `host` entry whose domain does not fit (the schema allows any length).
    pub fn from_props(props: &Props) -> Result<HostPci, String> {
        let p = HostPciOpts { props };
        let host_text = p.host().map(str::to_owned);
        let host = p.host_ids().map_or(Ok(Vec::new()), |ids| ids.value.clone())?;
        let written = [p.vendor_id(), p.device_id(), p.sub_vendor_id(), p.sub_device_id()];
        let id_overrides = ID_OVERRIDES
            .iter()
            .zip(written)
            .filter_map(|((_, prop), value)| {
                let hex = value?.strip_prefix("0x")?;
                Some((*prop, u32::from_str_radix(hex, 16).ok()?))
            })
            .collect();
        Ok(HostPci {
            host,
            host_text,
            mapping: p.mapping().map(str::to_owned),
            rombar: p.rombar(),
            romfile: p.romfile().map(str::to_owned),
            pcie: p.pcie(),
            x_vga: p.x_vga(),
            legacy_igd: p.legacy_igd(),
            mdev: p.mdev().map(str::to_owned),
            id_overrides,
            keep_driver: p.driver() == Some(HostPciDriver::Keep),
        })
    }
}

/// PCI.pm `generate_mdev_uuid`: the mdev Proxmox creates for `hostpci<index>` of VM `vmid`.
pub fn mdev_uuid(vmid: u32, index: u32) -> String {
    format!("{index:08}-0000-0000-0000-{vmid:012}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        let id = HostPciId::parse("1234:f0:43").unwrap();
        assert_eq!((id.domain, id.bus, id.slot, id.function), (0x1234, 0xf0, 0x43, None));
        assert_eq!(HostPciId::parse("01:00.4").unwrap().display(), "0000:01:00.4");
        assert_eq!(HostPciId::parse("123456789:01:00.4"), None);
    }

    #[test]
    fn mdev_uuid_matches_proxmox() {
        assert_eq!(mdev_uuid(8006, 1), "00000001-0000-0000-0000-000000008006");
    }
}
