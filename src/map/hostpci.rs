//! `hostpci0`–`hostpci15` → `<hostdev type='pci'>` / `<hostdev type='mdev'>`
//! (docs/mapping.md#pci-passthrough; docs/proxmox-config.md#hostpci, PCI.pm `print_hostpci_devices`).
//!
//! Placement follows Proxmox: `pcie=1` on q35 puts the device alone behind root port
//! `ich9-pcie-port-<N+1>` (ports 1–4 from `pve-q35-4.0.cfg` at 0x1c.0–3, 5–16 added at
//! 0x10.0–0x11.3), Windows 7 directly on pcie.0; otherwise the device gets its slot in Proxmox's
//! PCI map. Several host functions share one guest slot as functions 0, 1, ….

use crate::libvirt::{
    Domain, DomainAddress, DomainAlias, DomainController, DomainControllerTarget, DomainFeatureHyperVVendorId,
    DomainFeatureKvm, DomainFeatureState, DomainHostdev, DomainHostdevDriver, DomainHostdevMdev, DomainHostdevPci,
    DomainHostdevSource, DomainQemuProperty, DomainRom,
};
use crate::map::pci::PciDevice;
use crate::map::Ctx;
use crate::pve::model::hostpci::{mdev_uuid, HostPci, HostPciId};
use crate::pve::schema::Bios;
use crate::pve::vm::VmConfig;
use crate::report::{code, Note};

/// Whether Proxmox treats the VM as doing GPU passthrough (a hostpci with `x-vga=1`): it then
/// hides KVM (`kvm=off`), sets `hv_vendor_id`, and uses `vga: none` when `vga` is unset.
pub fn gpu_passthrough(vm: &VmConfig) -> bool {
    vm.gpu_passthrough()
}

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
fn expand_functions(
    ctx: &mut Ctx,
    key: &str,
    span: crate::report::Span,
    sysfs: &std::path::Path,
    host: &mut Vec<HostPciId>,
) {
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
        let key = entry.key.value.clone();
        let index = u32::from(index);
        let span = |name: &str| props.span_of(name);
        let error = |c: &'static str, msg: String, at: crate::report::Span, help: &str| {
            Note::error(c, msg).at(at).help(help.to_owned())
        };
        let mut dev = match HostPci::from_props(props) {
            Ok(d) => d,
            Err(id) => {
                ctx.note_on(
                    &key,
                    error(
                        code::HOSTPCI_INVALID,
                        format!("PCI domain of '{id}' is too large"),
                        span("host"),
                        "a PCI domain has at most 4 hex digits",
                    ),
                );
                continue;
            }
        };

        if let Some(mapping) = dev.mapping.clone().filter(|_| !ctx.opts.cluster.pci.is_empty()) {
            match resolve_mapping(ctx, &mapping) {
                Ok((host, note)) => {
                    ctx.note_on(&key, note.at(span("mapping")).label("cluster mapping"));
                    dev.host = host;
                    dev.mapping = None;
                }
                Err(why) => {
                    ctx.note_on(
                        &key,
                        Note::warning(
                            code::HOSTPCI_MAPPING,
                            format!("the PCI resource mapping '{mapping}' {why}; the device was left out"),
                        )
                        .at(span("mapping"))
                        .label("cluster mapping")
                        .help("fix mapping/pci.cfg or --pve-node, or write `host=<path>` instead"),
                    );
                    continue;
                }
            }
        }
        if let Some(mapping) = &dev.mapping {
            // The mapping lives in the cluster's /etc/pve/mapping/pci.cfg, per node.
            ctx.note_on(
                &key,
                Note::warning(
                    code::HOSTPCI_MAPPING,
                    format!("the PCI resource mapping '{mapping}' cannot be resolved outside the Proxmox cluster; the device was left out"),
                )
                .at(span("mapping"))
                .label("cluster mapping")
                .help("pass --pve-root with the cluster's /etc/pve (or a copy) to resolve it from mapping/pci.cfg, or write `host=<path>` instead"),
            );
            continue;
        }
        if dev.host.is_empty() {
            ctx.note_on(
                &key,
                error(
                    code::HOSTPCI_INVALID,
                    "neither 'host' nor 'mapping' is set".into(),
                    props.span,
                    "Proxmox refuses to start this VM; set host=bb:dd.f",
                ),
            );
            continue;
        }
        if dev.pcie && !ctx.is_q35() {
            ctx.note_on(
                &key,
                error(
                    code::HOSTPCI_INVALID,
                    "pcie=1 needs a q35 machine; Proxmox refuses to start this VM".into(),
                    span("pcie"),
                    "remove pcie=1 or set machine: q35",
                ),
            );
            continue;
        }
        if dev.legacy_igd && ctx.is_q35() {
            ctx.note_on(
                &key,
                error(
                    code::HOSTPCI_INVALID,
                    "legacy-igd is not compatible with q35; Proxmox refuses to start this VM".into(),
                    span("legacy-igd"),
                    "use an i440fx machine or remove legacy-igd",
                ),
            );
            continue;
        }
        if dev.mdev.is_some() && dev.host.len() > 1 {
            ctx.note_on(
                &key,
                error(
                    code::HOSTPCI_INVALID,
                    "a mediated device cannot be made from several PCI functions".into(),
                    span("host"),
                    "Proxmox refuses this too: name one function",
                ),
            );
            continue;
        }
        // Proxmox's pattern allows any two hex digits (its own tests use 00:ff.1); a real
        // device number is 5 bits and a function 3, and libvirt refuses anything larger.
        if let Some(id) = dev.host.iter().find(|id| id.slot > 0x1f || id.function.is_some_and(|f| f > 7)) {
            ctx.note_on(
                &key,
                error(
                    code::HOSTPCI_INVALID,
                    format!("{} is not a PCI address (device ≤ 1f, function ≤ 7)", id.display()),
                    span("host"),
                    "use the address `lspci -D` shows on the target",
                ),
            );
            continue;
        }
        if let Some(sysfs) = &ctx.opts.host_sysfs {
            expand_functions(ctx, &key, span("host"), sysfs, &mut dev.host);
        }
        // Guest functions are 0–7 of one slot.
        if dev.host.len() > 8 {
            ctx.note_on(
                &key,
                error(
                    code::HOSTPCI_INVALID,
                    format!("{} functions cannot share one guest slot (at most 8)", dev.host.len()),
                    span("host"),
                    "split the list over several hostpciN",
                ),
            );
            continue;
        }
        if let Some(rom) = &dev.romfile {
            if rom.contains('/') || rom == ".." || rom.starts_with("..") {
                ctx.note_on(
                    &key,
                    error(
                        code::HOSTPCI_ROMFILE,
                        format!("romfile '{rom}' must be a file name in /usr/share/kvm"),
                        span("romfile"),
                        "Proxmox reads ROM files from /usr/share/kvm/; give the bare file name",
                    ),
                );
                continue;
            }
        }

        // Where the first function goes in the guest.
        let mut address = if ctx.opts.libvirt_addresses {
            None
        } else if dev.legacy_igd {
            // Legacy IGD mode needs the IGD at guest 00:02.0 (Proxmox's `legacy-igd` slot).
            Some(DomainAddress::pci(0, 0x2, 0))
        } else if dev.pcie {
            if vm.windows_version() == 7 {
                Some(DomainAddress::pci(0, win7_slot(index), 0))
            } else {
                let port = index + 1;
                root_ports.push(port);
                // Bus filled in below, once the root port has its controller index.
                Some(DomainAddress::pci(u32::MAX - port, 0, 0))
            }
        } else {
            ctx.pci_address(PciDevice::Hostpci(index))
        };

        let boot = ctx.boot_order(&key);
        let alias = format!("ua-{key}");
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
            overrides.insert(
                0,
                DomainQemuProperty { name: "x-vga".into(), property_type: "bool".into(), value: "true".into() },
            );
        }
        let rom = (!dev.rombar || dev.romfile.is_some()).then(|| DomainRom {
            bar: (!dev.rombar).then_some("off".into()),
            file: dev.romfile.as_ref().map(|f| format!("/usr/share/kvm/{f}")),
            enabled: None,
        });

        if let Some(mdev) = &dev.mdev {
            let uuid = mdev_uuid(vm.vmid, index);
            let parent = dev.host[0];
            domain.devices.hostdevs.push(DomainHostdev {
                source: DomainHostdevSource::Mdev(DomainHostdevMdev {
                    model: Some("vfio-pci".into()),
                    display: Some("off".into()),
                    uuid: Some(uuid.clone()),
                }),
                boot,
                rom,
                alias: (!overrides.is_empty()).then(|| DomainAlias { name: alias.clone() }),
                address,
                managed: None,
                driver: None,
            });
            ctx.note_on(
                &key,
                Note::warning(code::HOSTPCI_MDEV, format!("the mediated device {uuid} ({mdev} on {}) must exist on the target before the domain starts", parent.display()))
                    .at(span("mdev"))
                    .label("created by Proxmox at each start")
                    .help(format!("create it once, e.g. `mdevctl define -u {uuid} -p {} -t {mdev} --auto`; NVIDIA vGPUs on kernels ≥ 6.8 use the card's own sysfs interface instead", parent.display())),
            );
        } else {
            let several = dev.host.len() > 1 || dev.host[0].function.is_none();
            if let Some(a) = address.as_mut().filter(|_| several).and_then(DomainAddress::pci_mut) {
                a.multifunction = Some("on".into());
            }
            for (j, id) in dev.host.iter().enumerate() {
                let j = j as u32;
                let first = j == 0;
                let function_address = address.clone().map(|mut a| {
                    if let Some(p) = a.pci_mut() {
                        p.function = Some(format!("0x{j:x}"));
                        if !first {
                            p.multifunction = None;
                        }
                    }
                    a
                });
                domain.devices.hostdevs.push(DomainHostdev {
                    // driver=keep: the host driver stays bound (e.g. a vendor VFIO variant driver).
                    managed: Some(if dev.keep_driver { "no".into() } else { "yes".into() }),
                    driver: Some(DomainHostdevDriver { name: Some("vfio".into()), model: None }),
                    source: DomainHostdevSource::Pci(DomainHostdevPci {
                        domain: Some(format!("0x{:04x}", id.domain)),
                        bus: Some(format!("0x{:02x}", id.bus)),
                        slot: Some(format!("0x{:02x}", id.slot)),
                        function: Some(format!("0x{:x}", id.function.unwrap_or(0))),
                    }),
                    boot: if first { boot.clone() } else { None },
                    rom: if first { rom.clone() } else { None },
                    alias: (first && !overrides.is_empty()).then(|| DomainAlias { name: alias.clone() }),
                    address: function_address,
                });
            }
            let whole: Vec<&HostPciId> = dev.host.iter().filter(|id| id.function.is_none()).collect();
            if !whole.is_empty() {
                let names: Vec<String> = whole.iter().map(|id| id.display()).collect();
                ctx.note_on(
                    &key,
                    Note::warning(
                        code::HOSTPCI_ALL_FUNCTIONS,
                        format!("{} stands for every function of the device, which only the host's sysfs knows; only function 0 was passed through", names.join(", ")),
                    )
                    .at(span("host"))
                    .label("all functions")
                    .help(format!(
                        "pass --host-sysfs /sys/bus/pci/devices (on the target, or a copy of it) to pass every function; or list them (`lspci -s {}`) and add one <hostdev> per further function at the same guest slot with function='0x1', '0x2', …",
                        names[0]
                    )),
                );
            }
        }

        if dev.keep_driver {
            ctx.note_on(
                &key,
                Note::advice(
                    code::HOSTPCI_DRIVER_KEEP,
                    "driver=keep: the hostdev is unmanaged; libvirt will not bind it to vfio-pci",
                )
                .at(span("driver"))
                .label("managed='no'")
                .help("bind the device to a VFIO-capable driver on the target before starting the domain"),
            );
        }
        if dev.legacy_igd {
            ctx.note_on(
                &key,
                Note::warning(code::HOSTPCI_LEGACY_IGD, "legacy IGD mode: the IGD is placed at guest 00:02.0, but Proxmox's move of pci.2 to pci.1 slot 30 is not reproduced")
                    .at(span("legacy-igd"))
                    .label("legacy-igd")
                    .help("QEMU enables legacy mode by itself for an Intel IGD at 00:02.0 on i440fx; devices Proxmox puts on pci.2 (virtio6–15, hostpci4–15) keep their slots behind a bridge at 0x1f"),
            );
        }
        if !overrides.is_empty() {
            let names: Vec<&str> = overrides.iter().map(|p| p.name.as_str()).collect();
            ctx.note_on(
                &key,
                Note::advice(
                    code::HOSTPCI_QEMU_OVERRIDE,
                    format!("{} set through <qemu:override> (libvirt has no element for them)", names.join(", ")),
                )
                .at(props.span)
                .label("qemu:override"),
            );
            domain.qemu_override(alias, overrides);
        }
        if dev.x_vga {
            // Proxmox forces `kvm=off` and, for Windows with Hyper-V enlightenments, hv_vendor_id
            // (CPUConfig.pm, docs/proxmox-config.md#cpu, #hyper-v): NVIDIA drivers refuse to load otherwise.
            domain.features.kvm = Some(DomainFeatureKvm { hidden: Some(DomainFeatureState::ON) });
            if let Some(hv) = domain.features.hyperv.as_mut() {
                hv.vendor_id.get_or_insert(DomainFeatureHyperVVendorId {
                    state: crate::libvirt::OnOff::On,
                    value: "proxmox".into(),
                });
            }
        }
        ctx.mapped(&key, "devices/hostdev");
    }

    // The root ports, in port order; the devices behind them learn their bus index here.
    root_ports.sort_unstable();
    if !root_ports.is_empty() && root_ports.iter().any(|p| *p <= 4) {
        // pve-q35-4.0.cfg always has ports 1–4.
        for p in 1..=4 {
            if !root_ports.contains(&p) {
                root_ports.push(p);
            }
        }
        root_ports.sort_unstable();
    }
    for port in root_ports {
        let index = ctx.pci_controller_index();
        let (slot, function) = root_port_slot(port);
        let mut address = DomainAddress::pci(0, slot, function);
        // Proxmox sets multifunction on every port; only function 0's bit counts.
        if let Some(p) = address.pci_mut() {
            p.multifunction = (function == 0).then_some("on".into());
        }
        domain.devices.controllers.push(DomainController {
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
        });
        let placeholder = format!("0x{:02x}", u32::MAX - port);
        for hd in domain.devices.hostdevs.iter_mut() {
            if let Some(DomainAddress::Pci(a)) = hd.address.as_mut() {
                if a.bus.as_deref() == Some(placeholder.as_str()) {
                    a.bus = Some(format!("0x{index:02x}"));
                }
            }
        }
    }
}
