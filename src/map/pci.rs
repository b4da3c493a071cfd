//! The guest-visible PCI layout (PCI.pm `get_pci_addr_map`, docs/proxmox-config.md#pci-slot-map,
//! docs/mapping.md#pci-layout).
//!
//! Proxmox places every device at a fixed slot (PCI.pm `get_pci_addr_map`): net0 at 0x12 on its
//! first bus, virtio0 at 0xa, and so on. Linux derives NIC names (`ens18`) from these slots and
//! Windows binds drivers and settings to them, so the converted domain keeps them: each device gets
//! an explicit `<address>`, and the Proxmox bridges it sits behind are re-created as libvirt
//! controllers. `--libvirt-addresses` leaves placement to libvirt instead.
//!
//! On i440fx Proxmox's `pci.0` is the root bus. On q35 it is a pci-bridge behind a DMI-to-PCI
//! bridge at pcie.0 slot 0x1e (`pve-q35-4.0.cfg`), and `pci.1`–`pci.3` sit next to it.

use std::collections::BTreeMap;

use crate::libvirt::{DomainAddress, DomainController, DomainControllerTarget};

/// A device with a place in Proxmox's PCI map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PciDevice {
    Vga,
    Balloon,
    Watchdog,
    /// The n-th SCSI controller (not virtio-scsi-single).
    ScsiHw(u32),
    /// The n-th AHCI controller (sata0–5 on the first).
    Ahci(u32),
    /// The guest agent's virtio-serial.
    Qga,
    /// SPICE's virtio-serial.
    Spice,
    Virtio(u32),
    Hostpci(u32),
    Net(u32),
    /// Additional qxl heads (vga1–vga3).
    VgaHead(u32),
    Xhci,
    Rng,
    /// The controller of `scsiN` with virtio-scsi-single.
    VirtioScsi(u32),
    Ivshmem,
    Audio,
}

/// A Proxmox bridge (`pci.1` … `pci.4`; `pci.0` is the root bus on i440fx).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Bridge(u32);

/// Where Proxmox puts a device: bus (0 = Proxmox's pci.0) and slot.
fn proxmox_slot(dev: PciDevice) -> Option<(u32, u32)> {
    use PciDevice::*;
    Some(match dev {
        Vga => (0, 0x2),
        Balloon => (0, 0x3),
        Watchdog => (0, 0x4),
        ScsiHw(0) => (0, 0x5),
        ScsiHw(1) => (0, 0x6),
        ScsiHw(n @ 2..=4) => (4, n - 1),
        Ahci(0) => (0, 0x7),
        Qga => (0, 0x8),
        Spice => (0, 0x9),
        Virtio(n @ 0..=5) => (0, 0xa + n),
        Virtio(n @ 6..=15) => (2, n - 5),
        Hostpci(n @ 0..=1) => (0, 0x10 + n),
        Hostpci(n @ 2..=3) => (0, 0x1b + n - 2),
        Hostpci(n @ 4..=15) => (2, 13 + n - 4),
        Net(n @ 0..=5) => (0, 0x12 + n),
        Net(n @ 6..=31) => (1, n - 5),
        VgaHead(n @ 1..=3) => (0, 0x18 + n - 1),
        Xhci => (1, 27),
        Rng => (1, 29),
        VirtioScsi(n @ 0..=30) => (3, n + 1),
        Ivshmem => (2, 11),
        Audio => (2, 12),
        _ => return None,
    })
}

/// Where each Proxmox bridge sits: (parent bus, slot). On q35, pci.0–pci.3 hang off the DMI bridge.
fn bridge_slot(bridge: Bridge, q35: bool) -> (Option<u32>, u32) {
    match (bridge.0, q35) {
        (4, _) => (Some(1), 28),
        (n, true) => (None, n + 1),
        (1, false) => (Some(0), 0x1e),
        (2, false) => (Some(0), 0x1f),
        (3, false) => (Some(0), 0x5),
        (n, _) => (Some(0), n),
    }
}

/// Hands out addresses and remembers which bridges must exist.
#[derive(Debug)]
pub struct PciLayout {
    q35: bool,
    enabled: bool,
    /// Proxmox bus number → libvirt controller index, in the order they were needed.
    buses: BTreeMap<u32, u32>,
    next_index: u32,
    dmi_index: Option<u32>,
}

impl PciLayout {
    pub fn new(q35: bool, enabled: bool) -> Self {
        let mut layout = PciLayout { q35, enabled, buses: BTreeMap::new(), next_index: 1, dmi_index: None };
        if !q35 {
            layout.buses.insert(0, 0);
        }
        layout
    }

    /// The address Proxmox gives `dev`, or `None` where libvirt should place it.
    pub fn address(&mut self, dev: PciDevice) -> Option<DomainAddress> {
        if !self.enabled {
            return None;
        }
        // On q35 Proxmox puts the VGA on the root complex (`print_pcie_addr`).
        if self.q35 && dev == PciDevice::Vga {
            return Some(DomainAddress::pci(0, 0x1, 0));
        }
        let (bus, slot) = proxmox_slot(dev)?;
        let index = self.bus_index(bus);
        Some(DomainAddress::pci(index, slot, 0))
    }

    /// The libvirt controller index of Proxmox bus `bus`, creating it (and its parents) if needed.
    fn bus_index(&mut self, bus: u32) -> u32 {
        if let Some(&index) = self.buses.get(&bus) {
            return index;
        }
        if let (Some(parent), _) = bridge_slot(Bridge(bus), self.q35) {
            self.bus_index(parent);
        } else if self.dmi_index.is_none() {
            self.dmi_index = Some(self.take_index());
        }
        let index = self.take_index();
        self.buses.insert(bus, index);
        index
    }

    pub fn take_index(&mut self) -> u32 {
        let i = self.next_index;
        self.next_index += 1;
        i
    }

    /// The controllers for the bridges handed out, in index order (libvirt wants no gaps: a gap
    /// makes it invent controllers of its own).
    pub fn controllers(&self) -> Vec<DomainController> {
        let mut out = Vec::new();
        if let Some(dmi) = self.dmi_index {
            out.push(DomainController {
                controller_type: "pci".into(),
                index: dmi,
                model: Some("dmi-to-pci-bridge".into()),
                address: Some(DomainAddress::pci(0, 0x1e, 0)),
                ..Default::default()
            });
        }
        for (&bus, &index) in &self.buses {
            if index == 0 {
                continue;
            }
            let (parent, slot) = bridge_slot(Bridge(bus), self.q35);
            let parent_index = match parent {
                Some(p) => self.buses[&p],
                None => self.dmi_index.unwrap_or(0),
            };
            out.push(DomainController {
                controller_type: "pci".into(),
                index,
                model: Some("pci-bridge".into()),
                target: Some(DomainControllerTarget { chassis_nr: Some(index), ..Default::default() }),
                address: Some(DomainAddress::pci(parent_index, slot, 0)),
                ..Default::default()
            });
        }
        out.sort_by_key(|c| c.index);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn i440fx_net0_on_the_root_bus() {
        let mut layout = PciLayout::new(false, true);
        assert_eq!(layout.address(PciDevice::Net(0)), Some(DomainAddress::pci(0, 0x12, 0)));
        assert!(layout.controllers().is_empty());
    }

    #[test]
    fn i440fx_bridges_are_contiguous() {
        let mut layout = PciLayout::new(false, true);
        // virtio-scsi-single's pci.3 first, then pci.4 (which needs pci.1).
        assert_eq!(layout.address(PciDevice::VirtioScsi(0)), Some(DomainAddress::pci(1, 1, 0)));
        assert_eq!(layout.address(PciDevice::ScsiHw(2)), Some(DomainAddress::pci(3, 1, 0)));
        let c = layout.controllers();
        assert_eq!(c.iter().map(|c| c.index).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(c[0].address, Some(DomainAddress::pci(0, 0x5, 0))); // pci.3
        assert_eq!(c[1].address, Some(DomainAddress::pci(0, 0x1e, 0))); // pci.1
        assert_eq!(c[2].address, Some(DomainAddress::pci(2, 28, 0))); // pci.4 on pci.1
    }

    #[test]
    fn q35_uses_the_dmi_bridge() {
        let mut layout = PciLayout::new(true, true);
        assert_eq!(layout.address(PciDevice::Vga), Some(DomainAddress::pci(0, 1, 0)));
        assert_eq!(layout.address(PciDevice::Net(0)), Some(DomainAddress::pci(2, 0x12, 0)));
        let c = layout.controllers();
        assert_eq!(c[0].model.as_deref(), Some("dmi-to-pci-bridge"));
        assert_eq!(c[1].address, Some(DomainAddress::pci(1, 1, 0)));
    }

    #[test]
    fn disabled_leaves_placement_to_libvirt() {
        let mut layout = PciLayout::new(false, false);
        assert_eq!(layout.address(PciDevice::Net(0)), None);
    }
}
