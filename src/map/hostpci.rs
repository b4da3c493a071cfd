//! `hostpci0`–`hostpci15` → `<hostdev type='pci'>` / `<hostdev type='mdev'>`
//! (docs/mapping.md#pci-passthrough; docs/proxmox-config.md#hostpci, PCI.pm `print_hostpci_devices`).
//!
//! Placement follows Proxmox: `pcie=1` on q35 puts the device alone behind root port
//! `ich9-pcie-port-<N+1>` (ports 1–4 from `pve-q35-4.0.cfg` at 0x1c.0–3, 5–16 added at
//! 0x10.0–0x11.3), Windows 7 directly on pcie.0; otherwise the device gets its slot in Proxmox's
//! PCI map. Several host functions share one guest slot as functions 0, 1, ….

use crate::libvirt::{
    Domain, DomainAddress, DomainAlias, DomainBootOrder, DomainController, DomainControllerTarget, DomainHostdev,
    DomainHostdevDriver, DomainHostdevMdev, DomainHostdevPci, DomainHostdevSource, DomainQemuProperty, DomainRom,
};
use crate::map::pci::PciDevice;
use crate::map::Ctx;
use crate::pve::model::hostpci::{mdev_uuid, HostPci, HostPciId};
use crate::pve::model::rules;
use crate::pve::props::Props;
use crate::pve::schema::Bios;
use crate::pve::vm::VmConfig;
use crate::report::{code, Note, Span};

/// Where Proxmox puts root port `ich9-pcie-port-<port>` on pcie.0 (PCI.pm `print_pcie_root_port`).
fn root_port_slot(port: u32) -> (u32, u32) {
    match port {
        1..=4 => (0x1c, port - 1),
        5..=12 => (0x10, port - 5),
        _ => (0x11, port - 13),
    }
}

/// PCI.pm `get_pcie_addr_map` `hostpciNbus0`: Windows 7 gets pcie=1 devices on pcie.0 itself.
fn win7_slot(index: u32) -> u32 {
    match index {
        0..=3 => 0x10 + index,
        4..=10 => 0x9 + index - 4,
        _ => 0x15 + index - 11,
    }
}

/// `hostpciN: mapping=NAME` through `mapping/pci.cfg`: this node's first entry, as Proxmox takes
/// the first entry present at start (QemuServer/PCI.pm `parse_hostpci`); its `path` may list
/// several functions (`;`) or name a whole device.
fn resolve_mapping(ctx: &Ctx, name: &str) -> Result<(Vec<HostPciId>, Note), String> {
    let cluster = &ctx.opts.cluster;
    let m = cluster.pci.get(name).ok_or("is not in mapping/pci.cfg")?;
    let (entries, node_note) = cluster.node_entries(m)?;
    let entry = entries[0];
    let path = entry.path().ok_or("has no path for this node")?;
    let host: Option<Vec<HostPciId>> = path.split(';').map(HostPciId::parse).collect();
    let host = host.ok_or_else(|| format!("has path '{path}', which is not a PCI address"))?;
    let node = entry.node().unwrap_or("?");
    let mut msg = format!("PCI mapping '{name}' is {path} on node {node} (mapping/pci.cfg)");
    if let Some(id) = entry.id() {
        msg.push_str(&format!(", device id {id}"));
    }
    if entries.len() > 1 {
        msg.push_str(&format!("; the first of {} entries for this node was taken", entries.len()));
    }
    let mut note = Note::advice(code::MAPPING_RESOLVED, msg);
    if let Some(n) = node_note {
        note = note.help(n);
    }
    Ok((host, note))
}

/// `host=01:00` (no function) is every function of the device: Proxmox lists them from sysfs
/// (QemuServer/PCI.pm `parse_hostpci` through `PVE::SysFSTools::lspci`) and passes them all on one
/// multifunction guest slot. `--host-sysfs DIR` is that host's `/sys/bus/pci/devices`, whose
/// entries are named `dddd:bb:dd.f`.
fn expand_functions(ctx: &mut Ctx, key: &String, span: Span, sysfs: &std::path::Path, host: &mut Vec<HostPciId>) {
    let mut out = Vec::new();
    for id in host.iter() {
        if id.function.is_some() {
            out.push(*id);
            continue;
        }
        let prefix = format!("{:04x}:{:02x}:{:02x}.", id.domain, id.bus, id.slot);
        let mut functions: Vec<u32> = std::fs::read_dir(sysfs)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().to_ascii_lowercase();
                let f = name.strip_prefix(&prefix)?;
                (f.len() == 1).then(|| u32::from_str_radix(f, 16).ok()).flatten().filter(|f| *f <= 7)
            })
            .collect();
        functions.sort_unstable();
        if functions.is_empty() {
            ctx.note_on(
                key,
                Note::warning(
                    code::HOSTPCI_ALL_FUNCTIONS,
                    format!("{} is not under {}; its functions are unknown", id.display(), sysfs.display()),
                )
                .at(span)
                .label("all functions")
                .help("check the address with `lspci -D` on the target, and that --host-sysfs is its /sys/bus/pci/devices"),
            );
            out.push(*id);
            continue;
        }
        let list: Vec<String> = functions.iter().map(|f| format!(".{f}")).collect();
        let message = if functions.len() == 1 {
            format!(
                "{} has only function {} under {}; it is passed through alone",
                id.display(),
                list[0],
                sysfs.display()
            )
        } else {
            format!(
                "{} has functions {} under {}: all are passed through on one multifunction guest slot, as Proxmox does",
                id.display(),
                list.join(", "),
                sysfs.display()
            )
        };
        ctx.note_on(key, Note::advice(code::HOSTPCI_FUNCTIONS_FROM_SYSFS, message).at(span).label("all functions"));
        out.extend(functions.into_iter().map(|f| HostPciId { function: Some(f), ..*id }));
    }
    *host = out;
}

pub fn map(ctx: &mut Ctx, domain: &mut Domain) {
    let vm = ctx.vm;
    let mut root_ports: Vec<u32> = Vec::new();
    for (index, entry) in vm.keys().hostpci() {
        let Some(props) = entry.props() else {
            continue;
        };
        let e = Entry { key: entry.key.value.clone(), index: u32::from(index), props };
        let Some(dev) = checked_device(ctx, &e) else {
            continue;
        };
        device(ctx, domain, &e, &dev, &mut root_ports);
    }
    root_port_controllers(ctx, domain, root_ports);
}

/// One written `hostpciN`: its notes go on the key and point into the value.
struct Entry<'a> {
    key: String,
    index: u32,
    props: &'a Props,
}

impl Entry<'_> {
    fn span(&self, name: &str) -> Span {
        self.props.span_of(name)
    }
}

/// A hostpciN that cannot be passed through, with where and what to do instead.
fn error(c: &'static str, msg: String, at: Span, help: &str) -> Note {
    Note::error(c, msg).at(at).help(help.to_owned())
}

/// The hostpciN as a device to pass through, its mapping resolved and its functions known; `None`
/// (with a note) when it is left out, as Proxmox would refuse to start it or it cannot be resolved.
fn checked_device(ctx: &mut Ctx, e: &Entry) -> Option<HostPci> {
    let mut dev = match HostPci::from_props(e.props) {
        Ok(d) => d,
        Err(id) => {
            let why = format!("PCI domain of '{id}' is too large");
            let note = error(code::HOSTPCI_INVALID, why, e.span("host"), "a PCI domain has at most 4 hex digits");
            ctx.note_on(&e.key, note);
            return None;
        }
    };
    if !apply_mapping(ctx, e, &mut dev) {
        return None;
    }
    if let Some(note) = refused(ctx, e, &dev) {
        ctx.note_on(&e.key, note);
        return None;
    }
    if let Some(sysfs) = &ctx.opts.host_sysfs {
        expand_functions(ctx, &e.key, e.span("host"), sysfs, &mut dev.host);
    }
    if let Some(note) = refused_after_expansion(e, &dev) {
        ctx.note_on(&e.key, note);
        return None;
    }
    Some(dev)
}

/// `mapping=NAME` names a cluster resource that only `mapping/pci.cfg` (read with --pve-root)
/// turns into host addresses; `false` (with a note) when the device has to be left out.
fn apply_mapping(ctx: &mut Ctx, e: &Entry, dev: &mut HostPci) -> bool {
    if let Some(mapping) = dev.mapping.clone().filter(|_| !ctx.opts.cluster.pci.is_empty()) {
        match resolve_mapping(ctx, &mapping) {
            Ok((host, note)) => {
                ctx.note_on(&e.key, note.at(e.span("mapping")).label("cluster mapping"));
                dev.host = host;
                dev.mapping = None;
            }
            Err(why) => {
                ctx.note_on(
                    &e.key,
                    Note::warning(
                        code::HOSTPCI_MAPPING,
                        format!("the PCI resource mapping '{mapping}' {why}; the device was left out"),
                    )
                    .at(e.span("mapping"))
                    .label("cluster mapping")
                    .help("fix mapping/pci.cfg or --pve-node, or write `host=<path>` instead"),
                );
                return false;
            }
        }
    }
    if let Some(mapping) = &dev.mapping {
        // The mapping lives in the cluster's /etc/pve/mapping/pci.cfg, per node.
        ctx.note_on(
            &e.key,
            Note::warning(
                code::HOSTPCI_MAPPING,
                format!("the PCI resource mapping '{mapping}' cannot be resolved outside the Proxmox cluster; the device was left out"),
            )
            .at(e.span("mapping"))
            .label("cluster mapping")
            .help("pass --pve-root with the cluster's /etc/pve (or a copy) to resolve it from mapping/pci.cfg, or write `host=<path>` instead"),
        );
        return false;
    }
    true
}

/// The combinations Proxmox refuses to start (QemuServer/PCI.pm `parse_hostpci`,
/// `print_hostpci_devices`), and addresses libvirt refuses, checked on the written `host` list.
fn refused(ctx: &Ctx, e: &Entry, dev: &HostPci) -> Option<Note> {
    let invalid = |msg: String, at: Span, help: &str| Some(error(code::HOSTPCI_INVALID, msg, at, help));
    let q35 = ctx.is_q35();
    let refusals = [
        (rules::hostpci_host(dev), "Proxmox refuses to start this VM; set host=bb:dd.f"),
        (rules::hostpci_pcie(dev, q35), "remove pcie=1 or set machine: q35"),
        (rules::hostpci_legacy_igd(dev, q35), "use an i440fx machine or remove legacy-igd"),
        (rules::hostpci_mdev(dev), "Proxmox refuses this too: name one function"),
    ];
    if let Some((Err(r), help)) = refusals.into_iter().find(|(r, _)| r.is_err()) {
        let at = r.span_in(e.props);
        return invalid(r.message, at, help);
    }
    // Proxmox's pattern allows any two hex digits (its own tests use 00:ff.1); a real
    // device number is 5 bits and a function 3, and libvirt refuses anything larger.
    if let Some(id) = dev.host.iter().find(|id| id.slot > 0x1f || id.function.is_some_and(|f| f > 7)) {
        let msg = format!("{} is not a PCI address (device ≤ 1f, function ≤ 7)", id.display());
        return invalid(msg, e.span("host"), "use the address `lspci -D` shows on the target");
    }
    None
}

/// What can only be checked once sysfs has named every function: they must fit one guest slot.
/// And `romfile`, which Proxmox only looks up in /usr/share/kvm.
fn refused_after_expansion(e: &Entry, dev: &HostPci) -> Option<Note> {
    // Guest functions are 0–7 of one slot.
    if dev.host.len() > 8 {
        return Some(error(
            code::HOSTPCI_INVALID,
            format!("{} functions cannot share one guest slot (at most 8)", dev.host.len()),
            e.span("host"),
            "split the list over several hostpciN",
        ));
    }
    let rom = dev.romfile.as_ref()?;
    if rom.contains('/') || rom == ".." || rom.starts_with("..") {
        return Some(error(
            code::HOSTPCI_ROMFILE,
            format!("romfile '{rom}' must be a file name in /usr/share/kvm"),
            e.span("romfile"),
            "Proxmox reads ROM files from /usr/share/kvm/; give the bare file name",
        ));
    }
    None
}

/// What the first (or only) `<hostdev>` of a hostpciN carries besides its source and address.
struct Extras {
    boot: Option<DomainBootOrder>,
    rom: Option<DomainRom>,
    /// `ua-hostpciN`, only when a `<qemu:override>` has to find the device by it.
    alias: Option<DomainAlias>,
}

/// The `<hostdev>`s of one checked hostpciN, and what its options add to the domain.
fn device(ctx: &mut Ctx, domain: &mut Domain, e: &Entry, dev: &HostPci, root_ports: &mut Vec<u32>) {
    let address = guest_address(ctx, e.index, dev, root_ports);
    let overrides = qemu_overrides(ctx.vm, dev);
    let alias = format!("ua-{}", e.key);
    let extras = Extras {
        boot: ctx.boot_order(&e.key),
        rom: rom(dev),
        alias: (!overrides.is_empty()).then(|| DomainAlias { name: alias.clone() }),
    };
    if let Some(mdev) = &dev.mdev {
        let uuid = mdev_uuid(ctx.vm.vmid, e.index);
        domain.devices.hostdevs.push(mdev_hostdev(&uuid, extras, address));
        mdev_note(ctx, e, dev.host[0], mdev, &uuid);
    } else {
        domain.devices.hostdevs.extend(pci_hostdevs(dev, extras, address));
        whole_device_note(ctx, e, dev);
    }
    if dev.keep_driver {
        driver_keep_note(ctx, e);
    }
    if dev.legacy_igd {
        legacy_igd_note(ctx, e);
    }
    if !overrides.is_empty() {
        qemu_override(ctx, domain, e, alias, overrides);
    }
    // x-vga's `kvm=off` and hv_vendor_id are cpu.rs's, from `VmConfig::gpu_passthrough`
    // (CPUConfig.pm, docs/proxmox-config.md#cpu, #hyper-v): NVIDIA drivers refuse to load otherwise.
    ctx.mapped(&e.key, "devices/hostdev");
}

/// Where the first function goes in the guest: Proxmox's placement (see the module comment), or
/// none with `--libvirt-addresses`.
fn guest_address(ctx: &mut Ctx, index: u32, dev: &HostPci, root_ports: &mut Vec<u32>) -> Option<DomainAddress> {
    if ctx.opts.libvirt_addresses {
        None
    } else if dev.legacy_igd {
        // Legacy IGD mode needs the IGD at guest 00:02.0 (Proxmox's `legacy-igd` slot).
        Some(DomainAddress::pci(0, 0x2, 0))
    } else if dev.pcie {
        if ctx.vm.windows_version() == 7 {
            Some(DomainAddress::pci(0, win7_slot(index), 0))
        } else {
            let port = index + 1;
            root_ports.push(port);
            // Bus filled in by `root_port_controllers`, once the root port has its controller index.
            Some(DomainAddress::pci(placeholder_bus(port), 0, 0))
        }
    } else {
        ctx.pci_address(PciDevice::Hostpci(index))
    }
}

/// The bus a device behind root port `port` carries until the port's controller index is known.
fn placeholder_bus(port: u32) -> u32 {
    u32::MAX - port
}

/// The vfio-pci properties libvirt has no element for: the ID overrides (PCI.pm
/// `x-pci-$option`) and `x-vga`.
fn qemu_overrides(vm: &VmConfig, dev: &HostPci) -> Vec<DomainQemuProperty> {
    let mut overrides: Vec<DomainQemuProperty> = dev
        .id_overrides
        .iter()
        .map(|(name, value)| DomainQemuProperty {
            name: (*name).into(),
            property_type: "unsigned".into(),
            value: value.to_string(),
        })
        .collect();
    // Proxmox leaves x-vga off with OVMF (the GPU's UEFI GOP does the display).
    if dev.x_vga && vm.bios() != Bios::Ovmf {
        overrides
            .insert(0, DomainQemuProperty { name: "x-vga".into(), property_type: "bool".into(), value: "true".into() });
    }
    overrides
}

/// `rombar=0` and `romfile`, which Proxmox takes from /usr/share/kvm.
fn rom(dev: &HostPci) -> Option<DomainRom> {
    (!dev.rombar || dev.romfile.is_some()).then(|| DomainRom {
        bar: (!dev.rombar).then_some("off".into()),
        file: dev.romfile.as_ref().map(|f| format!("/usr/share/kvm/{f}")),
        enabled: None,
    })
}

/// `mdev=TYPE`: the mediated device Proxmox creates at each start, with its UUID.
fn mdev_hostdev(uuid: &str, extras: Extras, address: Option<DomainAddress>) -> DomainHostdev {
    DomainHostdev {
        source: DomainHostdevSource::Mdev(DomainHostdevMdev {
            model: Some("vfio-pci".into()),
            display: Some("off".into()),
            uuid: Some(uuid.to_owned()),
        }),
        boot: extras.boot,
        rom: extras.rom,
        alias: extras.alias,
        address,
        managed: None,
        driver: None,
    }
}

/// libvirt only attaches a mediated device; Proxmox creates it at each start, so it has to be
/// defined on the target.
fn mdev_note(ctx: &mut Ctx, e: &Entry, parent: HostPciId, mdev: &str, uuid: &str) {
    ctx.note_on(
        &e.key,
        Note::warning(code::HOSTPCI_MDEV, format!("the mediated device {uuid} ({mdev} on {}) must exist on the target before the domain starts", parent.display()))
            .at(e.span("mdev"))
            .label("created by Proxmox at each start")
            .help(format!("create it once, e.g. `mdevctl define -u {uuid} -p {} -t {mdev} --auto`; NVIDIA vGPUs on kernels ≥ 6.8 use the card's own sysfs interface instead", parent.display())),
    );
}

/// One `<hostdev>` per host function, as functions 0, 1, … of one guest slot; the slot is
/// multifunction when it holds several (or a whole device, whose other functions are unknown).
fn pci_hostdevs(dev: &HostPci, extras: Extras, mut address: Option<DomainAddress>) -> Vec<DomainHostdev> {
    let several = dev.host.len() > 1 || dev.host[0].function.is_none();
    if let Some(a) = address.as_mut().filter(|_| several).and_then(DomainAddress::pci_mut) {
        a.multifunction = Some("on".into());
    }
    let mut hostdevs = Vec::new();
    for (j, id) in dev.host.iter().enumerate() {
        let j = j as u32;
        let first = j == 0;
        hostdevs.push(DomainHostdev {
            // driver=keep: the host driver stays bound (e.g. a vendor VFIO variant driver).
            managed: Some(if dev.keep_driver { "no".into() } else { "yes".into() }),
            driver: Some(DomainHostdevDriver { name: Some("vfio".into()), model: None }),
            source: pci_source(id),
            boot: if first { extras.boot.clone() } else { None },
            rom: if first { extras.rom.clone() } else { None },
            alias: if first { extras.alias.clone() } else { None },
            address: function_address(&address, j),
        });
    }
    hostdevs
}

/// A host function as libvirt's `<source><address>`; a whole device (no function) is function 0.
fn pci_source(id: &HostPciId) -> DomainHostdevSource {
    DomainHostdevSource::Pci(DomainHostdevPci {
        domain: Some(format!("0x{:04x}", id.domain)),
        bus: Some(format!("0x{:02x}", id.bus)),
        slot: Some(format!("0x{:02x}", id.slot)),
        function: Some(format!("0x{:x}", id.function.unwrap_or(0))),
    })
}

/// Guest function `j` of the slot; only function 0 carries `multifunction`.
fn function_address(address: &Option<DomainAddress>, j: u32) -> Option<DomainAddress> {
    address.clone().map(|mut a| {
        if let Some(p) = a.pci_mut() {
            p.function = Some(format!("0x{j:x}"));
            if j != 0 {
                p.multifunction = None;
            }
        }
        a
    })
}

/// `host=01:00` without --host-sysfs: only the host knows the device's other functions.
fn whole_device_note(ctx: &mut Ctx, e: &Entry, dev: &HostPci) {
    let whole: Vec<&HostPciId> = dev.host.iter().filter(|id| id.function.is_none()).collect();
    if whole.is_empty() {
        return;
    }
    let names: Vec<String> = whole.iter().map(|id| id.display()).collect();
    ctx.note_on(
        &e.key,
        Note::warning(
            code::HOSTPCI_ALL_FUNCTIONS,
            format!("{} stands for every function of the device, which only the host's sysfs knows; only function 0 was passed through", names.join(", ")),
        )
        .at(e.span("host"))
        .label("all functions")
        .help(format!(
            "pass --host-sysfs /sys/bus/pci/devices (on the target, or a copy of it) to pass every function; or list them (`lspci -s {}`) and add one <hostdev> per further function at the same guest slot with function='0x1', '0x2', …",
            names[0]
        )),
    );
}

/// `driver=keep`: libvirt must not rebind the device, so it is unmanaged.
fn driver_keep_note(ctx: &mut Ctx, e: &Entry) {
    ctx.note_on(
        &e.key,
        Note::advice(
            code::HOSTPCI_DRIVER_KEEP,
            "driver=keep: the hostdev is unmanaged; libvirt will not bind it to vfio-pci",
        )
        .at(e.span("driver"))
        .label("managed='no'")
        .help("bind the device to a VFIO-capable driver on the target before starting the domain"),
    );
}

/// `legacy-igd=1`: Proxmox also moves pci.2, which is not done here.
fn legacy_igd_note(ctx: &mut Ctx, e: &Entry) {
    ctx.note_on(
        &e.key,
        Note::warning(code::HOSTPCI_LEGACY_IGD, "legacy IGD mode: the IGD is placed at guest 00:02.0, but Proxmox's move of pci.2 to pci.1 slot 30 is not reproduced")
            .at(e.span("legacy-igd"))
            .label("legacy-igd")
            .help("QEMU enables legacy mode by itself for an Intel IGD at 00:02.0 on i440fx; devices Proxmox puts on pci.2 (virtio6–15, hostpci4–15) keep their slots behind a bridge at 0x1f"),
    );
}

/// libvirt has no element for these vfio-pci properties; `<qemu:override>` sets them on the
/// device with alias `alias`.
fn qemu_override(ctx: &mut Ctx, domain: &mut Domain, e: &Entry, alias: String, overrides: Vec<DomainQemuProperty>) {
    let names: Vec<&str> = overrides.iter().map(|p| p.name.as_str()).collect();
    ctx.note_on(
        &e.key,
        Note::advice(
            code::HOSTPCI_QEMU_OVERRIDE,
            format!("{} set through <qemu:override> (libvirt has no element for them)", names.join(", ")),
        )
        .at(e.props.span)
        .label("qemu:override"),
    );
    domain.qemu_override(alias, overrides);
}

/// The root ports, in port order; the devices behind them learn their bus index here.
fn root_port_controllers(ctx: &mut Ctx, domain: &mut Domain, root_ports: Vec<u32>) {
    for port in with_builtin_ports(root_ports) {
        let index = ctx.pci_controller_index();
        domain.devices.controllers.push(root_port(index, port));
        let placeholder = format!("0x{:02x}", placeholder_bus(port));
        for hd in domain.devices.hostdevs.iter_mut() {
            if let Some(DomainAddress::Pci(a)) = hd.address.as_mut() {
                if a.bus.as_deref() == Some(placeholder.as_str()) {
                    a.bus = Some(format!("0x{index:02x}"));
                }
            }
        }
    }
}

/// pve-q35-4.0.cfg always has ports 1–4: once one of them is used, all four are written.
fn with_builtin_ports(mut root_ports: Vec<u32>) -> Vec<u32> {
    root_ports.sort_unstable();
    if !root_ports.is_empty() && root_ports.iter().any(|p| *p <= 4) {
        for p in 1..=4 {
            if !root_ports.contains(&p) {
                root_ports.push(p);
            }
        }
        root_ports.sort_unstable();
    }
    root_ports
}

/// Root port `ich9-pcie-port-<port>` as libvirt's pcie-root-port with Proxmox's chassis and port.
fn root_port(index: u32, port: u32) -> DomainController {
    let (slot, function) = root_port_slot(port);
    let mut address = DomainAddress::pci(0, slot, function);
    // Proxmox sets multifunction on every port; only function 0's bit counts.
    if let Some(p) = address.pci_mut() {
        p.multifunction = (function == 0).then_some("on".into());
    }
    DomainController {
        controller_type: "pci".into(),
        index,
        model: Some("pcie-root-port".into()),
        target: Some(DomainControllerTarget {
            chassis: Some(port),
            port: Some(format!("0x{port:x}")),
            ..Default::default()
        }),
        address: Some(address),
        ..Default::default()
    }
}
