//! `usb0`–`usb13`, `tablet` and the USB controllers (docs/mapping.md#usb; docs/proxmox-config.md#usb,
//! USB.pm `get_usb_controllers`/`get_usb_devices`).
//!
//! The controllers are always written, as Proxmox always has them: piix3-uhci at 0x1.2 on i440fx,
//! and on q35 the two ICH9 EHCI sets of `pve-q35-4.0.cfg` (0x1d.x, 0x1a.x). Left to itself libvirt
//! would add a qemu-xhci on q35 instead. qemu-xhci (machine ≥ 7.1 with ostype l26 or Windows > 7)
//! or nec-xhci (`usb3=1`) is added when a USB device needs it.

use crate::libvirt::{
    Domain, DomainAddress, DomainController, DomainControllerMaster, DomainHostdev, DomainHostdevId,
    DomainHostdevSource, DomainHostdevUsb, DomainInput, DomainRedirdev,
};
use crate::map::net::machine_at_least;
use crate::map::pci::PciDevice;
use crate::map::Ctx;
use crate::pve::defaults;
use crate::pve::model::rules;
use crate::pve::model::usb::{Usb, UsbHost};
use crate::pve::props::Props;
use crate::pve::schema::Key;
use crate::pve::schema::{OsType, UsbOpts};
use crate::report::{code, Note};

pub(super) fn usb_address(bus: u32, port: Option<u32>) -> DomainAddress {
    DomainAddress::usb(bus, port)
}

pub fn map(ctx: &mut Ctx, domain: &mut Domain) {
    let vm = ctx.vm;
    let layout = Layout::of(ctx);
    let devices: Vec<UsbEntry> = vm
        .keys()
        .usb()
        .filter_map(|(index, e)| {
            let props = e.props()?;
            Some(UsbEntry { index, key: e.key.value.clone(), props, usb: Usb::from_props(props) })
        })
        .collect();
    let buses = controllers(ctx, domain, &layout, &devices);
    for dev in devices {
        device(ctx, domain, &layout, &buses, dev);
    }
    tablet(ctx, domain, &layout, buses.first);
}

/// What decides the controllers and addresses: the machine, and whether addresses are written.
struct Layout {
    q35: bool,
    explicit: bool,
    qemu_xhci: bool,
}

impl Layout {
    fn of(ctx: &Ctx) -> Layout {
        let vm = ctx.vm;
        let ostype = vm.keys().ostype();
        // USB.pm: an unset ostype never gets qemu-xhci, although `other` is its default.
        let qemu_xhci = machine_at_least(ctx, 7, 1)
            && ostype.is_some()
            && (ostype == Some(OsType::L26) || vm.windows_version() > 7);
        Layout { q35: ctx.is_q35(), explicit: !ctx.opts.libvirt_addresses, qemu_xhci }
    }

    /// A controller's address, unless libvirt is to choose it.
    fn at(&self, a: DomainAddress) -> Option<DomainAddress> {
        self.explicit.then_some(a)
    }
}

/// One written `usbN`.
struct UsbEntry<'a> {
    index: u16,
    key: String,
    props: &'a Props,
    usb: Usb,
}

/// The controllers' indexes the devices are put on.
struct Buses {
    /// The bus the tablet goes to (Proxmox: uhci.0 on i440fx, ehci.0 on q35, port 1).
    first: u32,
    xhci: Option<u32>,
}

/// The USB controllers written so far, and the index the next one gets.
struct Controllers {
    list: Vec<DomainController>,
    next: u32,
}

impl Controllers {
    /// libvirt's ich9-ehci1 with its three UHCI companions, as pve-q35-4.0.cfg / pve-usb.cfg.
    fn ehci_set(&mut self, layout: &Layout, slot: u32) -> u32 {
        let index = self.next;
        self.next += 1;
        self.list.push(DomainController {
            controller_type: "usb".into(),
            index,
            model: Some("ich9-ehci1".into()),
            address: layout.at(DomainAddress::pci(0, slot, 7)),
            ..Default::default()
        });
        for (n, model) in ["ich9-uhci1", "ich9-uhci2", "ich9-uhci3"].into_iter().enumerate() {
            let n = n as u32;
            let mut a = DomainAddress::pci(0, slot, n);
            if let (0, DomainAddress::Pci(pci)) = (n, &mut a) {
                pci.multifunction = Some("on".into());
            }
            self.list.push(DomainController {
                controller_type: "usb".into(),
                index,
                model: Some(model.into()),
                master: Some(DomainControllerMaster { startport: n * 2 }),
                address: layout.at(a),
                ..Default::default()
            });
        }
        index
    }
}

/// Proxmox always has the machine's own USB controllers, and adds an xHCI when a device needs it
/// (USB.pm `get_usb_controllers`).
fn controllers(ctx: &mut Ctx, domain: &mut Domain, layout: &Layout, devices: &[UsbEntry]) -> Buses {
    let any_usb2 = devices.iter().any(|d| !d.usb.usb3);
    let any_usb3 = devices.iter().any(|d| d.usb.usb3);
    // On i440fx the piix3-uhci is controller 0.
    let mut c = Controllers { list: Vec::new(), next: if layout.q35 { 0 } else { 1 } };
    let first =
        if layout.q35 { q35_controllers(ctx, layout, &mut c) } else { i440fx_controllers(layout, &mut c, any_usb2) };
    let xhci = if (layout.qemu_xhci && !devices.is_empty()) || any_usb3 {
        Some(xhci_controller(ctx, layout, &mut c))
    } else {
        None
    };
    domain.devices.controllers.extend(c.list);
    Buses { first, xhci }
}

/// q35: the two ICH9 EHCI sets of `pve-q35-4.0.cfg`; the first set's EHCI is returned.
fn q35_controllers(ctx: &mut Ctx, layout: &Layout, c: &mut Controllers) -> u32 {
    let first = c.ehci_set(layout, 0x1d);
    c.ehci_set(layout, 0x1a);
    // Proxmox's second set are QEMU's ich9-usb-ehci2 and ich9-usb-uhci4..6 (other PCI device
    // ids); libvirt 9.0 only has the models of the first set.
    ctx.note_on(
        Key::machine,
        Note::advice(
            code::USB_ICH9_SECOND_SET,
            "q35: the second ICH9 USB set (slot 0x1a) uses the device ids of the first (EHCI1/UHCI1-3); \
             libvirt has no ich9-ehci2 or ich9-uhci4-6 model",
        )
        .help("guests load the same drivers for both; only the PCI device ids differ"),
    );
    first
}

/// i440fx: the PIIX3 UHCI (controller 0), and an EHCI set for USB 2 devices without xHCI.
fn i440fx_controllers(layout: &Layout, c: &mut Controllers, any_usb2: bool) -> u32 {
    c.list.push(DomainController {
        controller_type: "usb".into(),
        index: 0,
        model: Some("piix3-uhci".into()),
        address: layout.at(DomainAddress::pci(0, 0x1, 2)),
        ..Default::default()
    });
    if !layout.qemu_xhci && any_usb2 {
        // USB.pm: pve-usb.cfg adds an EHCI for USB 2 devices on pre-xHCI i440fx machines.
        c.ehci_set(layout, 0x1d);
    }
    0
}

/// qemu-xhci where Proxmox uses it, else nec-xhci for `usb3=1` devices.
fn xhci_controller(ctx: &mut Ctx, layout: &Layout, c: &mut Controllers) -> u32 {
    let index = c.next;
    c.list.push(DomainController {
        controller_type: "usb".into(),
        index,
        model: Some(if layout.qemu_xhci { "qemu-xhci".into() } else { "nec-xhci".into() }),
        ports: layout.qemu_xhci.then_some(defaults::XHCI_PORTS),
        address: ctx.pci_address(PciDevice::Xhci),
        ..Default::default()
    });
    index
}

/// One usbN: a host device or a SPICE redirection port, or a note on why it was left out.
fn device(ctx: &mut Ctx, domain: &mut Domain, layout: &Layout, buses: &Buses, mut dev: UsbEntry) {
    let key = dev.key.clone();
    if let Err(r) = rules::usb_index(dev.index, layout.qemu_xhci) {
        ctx.note_on(
            &key,
            Note::error(code::USB_INDEX_NEEDS_XHCI, r.message)
                .help("use usb0–usb4, or set ostype: l26 / a newer machine"),
        );
        return;
    }
    let address = device_address(layout, buses, &dev);
    if !apply_mapping(ctx, &mut dev) {
        return;
    }
    let element = match &dev.usb.host {
        Some(UsbHost::Spice) => {
            spice_port(ctx, domain, &key, address);
            "devices/redirdev"
        }
        Some(UsbHost::VendorProduct { vendor, product }) => {
            domain.devices.hostdevs.push(host_device(ctx, &key, vendor, product, address));
            "devices/hostdev"
        }
        Some(UsbHost::BusPort { bus, port }) => {
            bus_port_note(ctx, &dev, bus, port);
            return;
        }
        None => return,
    };
    ctx.mapped(&key, element);
}

/// With qemu-xhci Proxmox pins usbN to port N+1; usb3 devices otherwise go to the xHCI.
fn device_address(layout: &Layout, buses: &Buses, dev: &UsbEntry) -> Option<DomainAddress> {
    match (layout.qemu_xhci, dev.usb.usb3, buses.xhci) {
        (true, _, Some(x)) => Some(usb_address(x, Some(u32::from(dev.index) + 1))),
        (false, true, Some(x)) => Some(usb_address(x, None)),
        _ => None,
    }
}

/// `mapping=NAME` names a cluster resource that only `mapping/usb.cfg` (read with --pve-root)
/// turns into a device; `false` (with a note) when the device has to be left out.
fn apply_mapping(ctx: &mut Ctx, dev: &mut UsbEntry) -> bool {
    let span = dev.props.span_of(UsbOpts::SUB.mapping);
    if let Some(mapping) = dev.usb.mapping.clone().filter(|_| !ctx.opts.cluster.usb.is_empty()) {
        match resolve_mapping(ctx, &mapping) {
            Ok((host, note)) => {
                ctx.note_on(&dev.key, note.at(span).label("cluster mapping"));
                dev.usb.host = Some(host);
                dev.usb.mapping = None;
            }
            Err(why) => {
                ctx.note_on(
                    &dev.key,
                    Note::warning(
                        code::USB_MAPPING,
                        format!("the USB resource mapping '{mapping}' {why}; the device was left out"),
                    )
                    .at(span)
                    .label("cluster mapping")
                    .help("fix mapping/usb.cfg or --pve-node, or write `host=<vendor:product>` instead"),
                );
                return false;
            }
        }
    }
    if let Some(mapping) = &dev.usb.mapping {
        ctx.note_on(
            &dev.key,
            Note::warning(code::USB_MAPPING, format!("the USB resource mapping '{mapping}' cannot be resolved outside the Proxmox cluster; the device was left out"))
                .at(span)
                .label("cluster mapping")
                .help("pass --pve-root with the cluster's /etc/pve (or a copy) to resolve it from mapping/usb.cfg, or write `host=<vendor:product>` instead"),
        );
        return false;
    }
    true
}

/// `host=spice`: a SPICE USB redirection port, which cannot boot.
fn spice_port(ctx: &mut Ctx, domain: &mut Domain, key: &String, address: Option<DomainAddress>) {
    domain.devices.redirdevs.push(DomainRedirdev { bus: "usb".into(), redirdev_type: "spicevmc".into(), address });
    if ctx.boot_order(key).is_some() {
        ctx.note_on(
            key,
            Note::advice(
                code::USB_SPICE_BOOT,
                "a SPICE USB port cannot boot; Proxmox ignores it in the boot order too",
            ),
        );
    }
}

/// `host=vendor:product`: a host device selected by its ids.
fn host_device(ctx: &Ctx, key: &str, vendor: &str, product: &str, address: Option<DomainAddress>) -> DomainHostdev {
    DomainHostdev {
        managed: Some("yes".into()),
        source: DomainHostdevSource::Usb(DomainHostdevUsb {
            // QEMU waits for a missing device under Proxmox; libvirt resolves the
            // device at start, and `optional` starts the domain without it.
            startup_policy: Some("optional".into()),
            vendor: Some(DomainHostdevId { id: format!("0x{vendor}") }),
            product: Some(DomainHostdevId { id: format!("0x{product}") }),
            ..Default::default()
        }),
        boot: ctx.boot_order(key),
        address,
        driver: None,
        rom: None,
        alias: None,
    }
}

/// `host=bus-port`: libvirt 9.0 selects a host device by vendor/product or by bus + *device
/// number*, which changes on every replug; there is no form for a port path.
fn bus_port_note(ctx: &mut Ctx, dev: &UsbEntry, bus: &str, port: &str) {
    ctx.note_on(
        &dev.key,
        Note::warning(code::USB_BUS_PORT, format!("USB host bus {bus} port {port} cannot be expressed in libvirt; the device was left out"))
            .at(dev.props.span_of(UsbOpts::SUB.host))
            .label("bus-port")
            .help("find the device's vendor:product with `lsusb` on the target and add <hostdev type='usb'> with <vendor>/<product>"),
    );
}

/// `tablet`, with Proxmox's default (`VmConfig::tablet`: off with vga qxl* or serialN).
fn tablet(ctx: &mut Ctx, domain: &mut Domain, layout: &Layout, first_bus: u32) {
    let vm = ctx.vm;
    if vm.tablet() {
        domain.devices.inputs.push(DomainInput {
            input_type: "tablet".into(),
            bus: "usb".into(),
            address: layout.at(usb_address(first_bus, Some(1))),
        });
    }
    if vm.keys().tablet().is_some() {
        ctx.mapped(Key::tablet, "devices/input");
    }
}

/// `usbN: mapping=NAME` through `mapping/usb.cfg` (pve-guest-common `PVE/Mapping/USB.pm`): this
/// node's entry gives `id=vendor:product` and perhaps `path=bus-port`; libvirt selects by
/// vendor/product only, so the id is used, as Proxmox does when no path is given.
fn resolve_mapping(ctx: &Ctx, name: &str) -> Result<(UsbHost, Note), String> {
    let cluster = &ctx.opts.cluster;
    let m = cluster.usb.get(name).ok_or("is not in mapping/usb.cfg")?;
    let (entries, node_note) = cluster.node_entries(m)?;
    let entry = entries[0];
    let id = entry.id().ok_or("has no id for this node")?;
    let host = UsbHost::parse(id).filter(|h| matches!(h, UsbHost::VendorProduct { .. }));
    let host = host.ok_or_else(|| format!("has id '{id}', which is not vendor:product"))?;
    let node = entry.node().unwrap_or("?");
    let mut msg = format!("USB mapping '{name}' is device {id} on node {node} (mapping/usb.cfg)");
    if let Some(path) = entry.path() {
        msg.push_str(&format!("; its port {path} cannot be expressed in libvirt, so the device is selected by id"));
    }
    let mut note = Note::advice(code::MAPPING_RESOLVED, msg);
    if let Some(n) = node_note {
        note = note.help(n);
    }
    Ok((host, note))
}
