//! `net0`–`net31` → `<interface>` (docs/mapping.md#network; docs/proxmox-config.md#network).
//!
//! A NIC on a bridge becomes `type='bridge'` with Proxmox's tap name (`tap<vmid>i<N>`), one without
//! becomes user-mode networking, as Proxmox's `-netdev type=user`. Proxmox applies VLANs, rate
//! limits and its firewall in the `pve-bridge` hook, not in QEMU, so those become libvirt's
//! `<vlan>`/`<bandwidth>` where libvirt can do the same and notes where it cannot.

use std::collections::BTreeSet;

use crate::libvirt::{
    Domain, DomainInterface, DomainInterfaceBandwidth, DomainInterfaceBandwidthParams, DomainInterfaceDriver,
    DomainInterfaceLink, DomainInterfaceMac, DomainInterfaceModel, DomainInterfaceMtu, DomainInterfaceSource,
    DomainInterfaceTarget,
};
use crate::map::nwfilter::Filter;
use crate::map::pci::PciDevice;
use crate::map::vlan::{VlanNic, Vlans};
use crate::map::Ctx;
use crate::pve::defaults;
use crate::pve::model::net::Net;
use crate::pve::model::rules;
use crate::pve::props::Props;
use crate::pve::schema::{NetModel, NetOpts};
use crate::report::{code, Note, Span};

pub fn map(ctx: &mut Ctx, domain: &mut Domain) {
    let vm = ctx.vm;
    let mut nics = Nics::default();
    for (index, entry) in vm.keys().net() {
        let Some(props) = entry.props() else {
            continue;
        };
        let nic = Nic { key: entry.key.value.clone(), index: u32::from(index), props, net: Net::from_props(props) };
        let iface = interface(ctx, &nic, &mut nics);
        domain.devices.interfaces.push(iface);
        ctx.mapped(&nic.key, "devices/interface");
    }
    nics.vlans.finish(ctx, &domain.name);
    firewall(ctx, domain, &nics.firewalled);
}

/// One written `netN`.
struct Nic<'a> {
    key: String,
    index: u32,
    props: &'a Props,
    net: Net,
}

impl Nic<'_> {
    fn span(&self, name: &str) -> Span {
        self.props.span_of(name)
    }
}

/// What the NICs add up to, finished once all are mapped: the VLAN set-up and the NICs the
/// VM's firewall filters.
#[derive(Default)]
struct Nics {
    vlans: Vlans,
    firewalled: Vec<String>,
}

/// One netN as `<interface>`, option by option.
fn interface(ctx: &mut Ctx, nic: &Nic, nics: &mut Nics) -> DomainInterface {
    let mut iface = DomainInterface { mac: mac(ctx, nic), ..Default::default() };
    match &nic.net.bridge {
        Some(bridge) => on_bridge(ctx, nic, bridge, nics, &mut iface),
        None => user_mode(ctx, nic, &mut iface),
    }
    iface.bandwidth = bandwidth(&nic.net);
    iface.model = Some(DomainInterfaceModel { model_type: model(ctx, &nic.key, &nic.net, nic.props) });
    iface.driver = driver(ctx, nic);
    if nic.net.link_down {
        iface.link = Some(DomainInterfaceLink { state: "down".into() });
    }
    iface.mtu = mtu(ctx, nic);
    host_tunnel(ctx, nic);
    iface.boot = ctx.boot_order(&nic.key);
    iface.address = ctx.pci_address(PciDevice::Net(nic.index));
    iface
}

/// `macaddr`; Proxmox draws a new one at each parse when it is missing.
fn mac(ctx: &mut Ctx, nic: &Nic) -> Option<DomainInterfaceMac> {
    match &nic.net.macaddr {
        // libvirt stores MACs lower case; the address is the same.
        Some(mac) => Some(DomainInterfaceMac { address: mac.to_ascii_lowercase() }),
        None => {
            // Proxmox draws a random MAC each time it parses such a config (Network.pm
            // `parse_net`) until the API writes one back, so there is no MAC to keep. libvirt
            // draws one at define time and keeps it, which is at least stable from then on.
            let key = &nic.key;
            ctx.note_on(
                key,
                Note::advice(code::NET_MAC_MISSING, format!("{key} has no MAC address; libvirt will pick one"))
                    .at(nic.props.span)
                    .label("no macaddr")
                    .help("Proxmox would have drawn a random one at every start too; add `<mac address=…>` to keep a specific one"),
            );
            None
        }
    }
}

/// `bridge=`: a tap on the (mapped) bridge; VLANs and the firewall are Proxmox's bridge hook's.
fn on_bridge(ctx: &mut Ctx, nic: &Nic, bridge: &str, nics: &mut Nics, iface: &mut DomainInterface) {
    let vmid = ctx.vm.vmid;
    let target = ctx.opts.bridge_map.get(bridge).cloned().unwrap_or_else(|| bridge.to_owned());
    iface.source = DomainInterfaceSource::Bridge { bridge: target.clone() };
    // Proxmox's tap name (QemuServer.pm `print_netdev_full`); host firewall rules and
    // scripts often match it.
    iface.target = Some(DomainInterfaceTarget { dev: format!("tap{vmid}i{}", nic.index) });
    let vlan_nic = VlanNic { key: &nic.key, net: &nic.net, props: nic.props, bridge, target: &target };
    nics.vlans.nic(ctx, &vlan_nic, iface);
    if nic.net.firewall && ctx.opts.cluster.vm_fw.contains_key(&vmid) {
        nics.firewalled.push(nic.key.clone());
    } else if nic.net.firewall {
        ctx.note_on(
            &nic.key,
            Note::warning(code::NET_FIREWALL, format!("the Proxmox firewall rules (firewall/{vmid}.fw) were not read; the NIC is unfiltered"))
                .at(nic.span(NetOpts::SUB.firewall))
                .label("firewall=1")
                .help("pass --pve-root with the cluster's /etc/pve (or a copy) to turn them into an nwfilter, or recreate them on the target (host nftables on the tap device)"),
        );
    }
}

/// No bridge: user-mode networking, where the bridge-hook options have nothing to act on.
fn user_mode(ctx: &mut Ctx, nic: &Nic, iface: &mut DomainInterface) {
    iface.source = DomainInterfaceSource::User;
    let sub = NetOpts::SUB;
    let opts = NetOpts { props: nic.props };
    let written = [opts.tag().is_some(), opts.trunks().is_some(), opts.is_set(sub.firewall)];
    for (opt, written) in [sub.tag, sub.trunks, sub.firewall].into_iter().zip(written) {
        if written {
            let why = "Proxmox applies it on the bridge, and this NIC has none";
            ignored(ctx, &nic.key, nic.span(opt), opt, why);
        }
    }
}

/// `rate=` as libvirt's `<bandwidth>`, in and out.
fn bandwidth(net: &Net) -> Option<DomainInterfaceBandwidth> {
    let rate = net.rate.filter(|r| *r > 0.0)?;
    // Proxmox: rate MiB/s → `int(rate * 1048576)` bytes/s, burst 1 MiB (PVE::Network
    // `tap_rate_limit`). libvirt hands `average` to tc as kbps, which is 1000 bytes/s.
    let average = ((rate * 1_048_576.0 / 1000.0).round() as u64).max(1);
    let params = DomainInterfaceBandwidthParams { average, burst: Some(1024) };
    Some(DomainInterfaceBandwidth { inbound: params.clone(), outbound: params })
}

/// virtio-net's `<driver>`: `queues=` and the ring sizes Proxmox sets; other models ignore
/// `queues`.
fn driver(ctx: &mut Ctx, nic: &Nic) -> Option<DomainInterfaceDriver> {
    let net = &nic.net;
    if !net.is_virtio() {
        if net.queues.is_some() {
            ignored(ctx, &nic.key, nic.span(NetOpts::SUB.queues), "queues", "Proxmox only uses it for virtio NICs");
        }
        return None;
    }
    let queues = net.queues.filter(|q| *q > 1);
    // Proxmox sets these on virtio-net for machine versions from 7.1.
    let sizes = machine_at_least(ctx, 7, 1);
    (queues.is_some() || sizes).then(|| DomainInterfaceDriver {
        name: queues.filter(|_| net.bridge.is_some()).map(|_| "vhost".into()),
        queues,
        rx_queue_size: sizes.then_some(defaults::NET_RX_QUEUE_SIZE),
        tx_queue_size: sizes.then_some(defaults::NET_TX_QUEUE_SIZE),
    })
}

/// `mtu=`, which Proxmox only gives virtio NICs on a bridge (1: the bridge's own).
fn mtu(ctx: &mut Ctx, nic: &Nic) -> Option<DomainInterfaceMtu> {
    let net = &nic.net;
    match net.mtu {
        // From machine 10.0+pve1 Proxmox always tells a virtio NIC on a bridge the bridge's
        // MTU (`host_mtu`); libvirt does only with an explicit <mtu>, and the target bridge's
        // MTU is not known here. The tap still gets the bridge's MTU.
        None | Some(1) if net.is_virtio() && net.bridge.is_some() && ctx.machine.at_least(10, 0, 1) => {
            ctx.note_on(
                &nic.key,
                Note::advice(
                    code::NET_HOST_MTU,
                    "Proxmox announces the bridge's MTU to the guest (virtio host_mtu); libvirt does only with <mtu>",
                )
                .help(
                    "add <mtu size='…'/> with the bridge's MTU (e.g. 1500) if the guest should learn it from the NIC",
                ),
            );
        }
        // 1: the bridge's MTU, which libvirt gives the tap by itself.
        None | Some(1) => {}
        Some(_) if !net.is_virtio() => {
            ignored(ctx, &nic.key, nic.span(NetOpts::SUB.mtu), "mtu", "Proxmox only sets the MTU of virtio NICs");
        }
        // libvirt refuses <mtu> on user networking, and Proxmox only sets it with a bridge.
        Some(_) if net.bridge.is_none() => {
            ignored(ctx, &nic.key, nic.span(NetOpts::SUB.mtu), "mtu", "Proxmox only sets the MTU of NICs on a bridge");
        }
        Some(mtu) => match rules::net_mtu(mtu) {
            Ok(()) => return Some(DomainInterfaceMtu { size: mtu }),
            Err(r) => {
                let at = r.span_in(nic.props);
                ctx.note_on(
                    &nic.key,
                    Note::error(code::NET_MTU_TOO_SMALL, r.message)
                        .at(at)
                        .label("too small")
                        .help("use an MTU of at least 576, or mtu=1 for the bridge's MTU"),
                );
            }
        },
    }
    None
}

/// `host-tunnel=`: QEMU 7.2 has no virtio-net tunnel offload to turn on or off.
fn host_tunnel(ctx: &mut Ctx, nic: &Nic) {
    let Some(on) = nic.net.host_tunnel else {
        return;
    };
    let note = if on {
        Note::warning(code::NET_HOST_TUNNEL, "host-tunnel=1 (virtio-net tunnel offload) is not available on QEMU 7.2")
    } else {
        Note::advice(code::NET_HOST_TUNNEL_OFF, "host-tunnel=0 needs nothing: QEMU 7.2 has no tunnel offload")
    };
    ctx.note_on(&nic.key, note.at(nic.span(NetOpts::SUB.host_tunnel)).label("host-tunnel"));
}

/// NICs with `firewall=1` of a VM whose `firewall/<vmid>.fw` was read: the rules become the
/// nwfilter `pve-vm-<vmid>`, written beside the XML, which each of these NICs references.
fn firewall(ctx: &mut Ctx, domain: &mut Domain, keys: &[String]) {
    if keys.is_empty() {
        return;
    }
    let vmid = ctx.vm.vmid;
    let cluster = &ctx.opts.cluster;
    let Some(vm_fw) = cluster.vm_fw.get(&vmid) else { return };
    // One filter for all the VM's NICs, or one per NIC when a rule names a NIC (`-i netN`).
    let nics: Vec<Option<&str>> =
        if crate::map::nwfilter::per_nic(vm_fw) { keys.iter().map(|k| Some(k.as_str())).collect() } else { vec![None] };
    let mut reported = BTreeSet::new();
    for nic in nics {
        let built = crate::map::nwfilter::build(vmid, vm_fw, cluster.cluster_fw.as_ref(), nic);
        let keys: Vec<&String> = keys.iter().filter(|k| nic.is_none_or(|n| n == k.as_str())).collect();
        let filter = match built {
            Ok(f) => f,
            Err(why) => {
                no_filter_notes(ctx, &keys, &why);
                continue;
            }
        };
        let file = match nic {
            Some(n) => format!("{vmid}-{n}.nwfilter.xml"),
            None => format!("{vmid}.nwfilter.xml"),
        };
        let nf = NicFilter { filter, file, keys };
        attach_filter(domain, vmid, &nf);
        filter_note(ctx, &nf);
        dropped_notes(ctx, vmid, &nf, &mut reported);
        ctx.files.push(crate::map::SideFile { name: nf.file, contents: nf.filter.xml, executable: false });
    }
}

/// One nwfilter, the side file it is written to, and the NICs (keys) that reference it.
struct NicFilter<'a> {
    filter: Filter,
    file: String,
    keys: Vec<&'a String>,
}

/// Proxmox's firewall is off for these NICs (the files say so), and so is the filter.
fn no_filter_notes(ctx: &mut Ctx, keys: &[&String], why: &str) {
    for key in keys {
        ctx.note_on(
            *key,
            Note::advice(code::FIREWALL_NWFILTER, format!("firewall=1, but {why}; no nwfilter"))
                .help("enable the firewall in Proxmox's files, or leave the NIC unfiltered as Proxmox does"),
        );
    }
}

/// Each NIC's `<filterref>`, found by Proxmox's tap name `tap<vmid>i<N>`.
fn attach_filter(domain: &mut Domain, vmid: u32, nf: &NicFilter) {
    for iface in domain.devices.interfaces.iter_mut() {
        let tap = iface.target.as_ref().map(|t| t.dev.clone()).unwrap_or_default();
        if nf.keys.iter().any(|k| tap == format!("tap{vmid}i{}", k.trim_start_matches("net"))) {
            iface.filterref = Some(crate::libvirt::DomainInterfaceFilterref { filter: nf.filter.name.clone() });
        }
    }
}

/// The nwfilter is a side file, which has to be defined before the domain.
fn filter_note(ctx: &mut Ctx, nf: &NicFilter) {
    let names: Vec<&str> = nf.keys.iter().map(|k| k.as_str()).collect();
    let file = &nf.file;
    ctx.note_on(
        nf.keys[0],
        Note::advice(
            code::FIREWALL_NWFILTER,
            format!(
                "the Proxmox firewall of this VM ({} rule(s) and the policies) becomes nwfilter {} in {file}, written beside the XML with -o or --out-dir (not with the XML on standard output); NICs: {}",
                nf.filter.rules,
                nf.filter.name,
                names.join(", ")
            ),
        )
        .help(format!("define it before the domain: virsh nwfilter-define {file}")),
    );
}

/// Rules and `[OPTIONS]` nwfilter cannot express; `reported` keeps each to one note over all
/// the NICs' filters.
fn dropped_notes(ctx: &mut Ctx, vmid: u32, nf: &NicFilter, reported: &mut BTreeSet<(String, usize)>) {
    let first = nf.keys[0];
    for (from, line, text, why) in &nf.filter.dropped {
        // The same rule left out of each NIC's filter is reported once.
        if !reported.insert((from.clone(), *line)) {
            continue;
        }
        ctx.note_on(
            first,
            Note::warning(
                code::FIREWALL_RULE_DROPPED,
                format!("{from} line {line}: `{text}` was left out of the nwfilter: {why}"),
            )
            .help("add an equivalent <rule> to the nwfilter by hand, or filter on the host"),
        );
    }
    let options_left = &nf.filter.options_left;
    if !options_left.is_empty() && reported.insert((format!("firewall/{vmid}.fw"), 0)) {
        ctx.note_on(
            first,
            Note::warning(
                code::FIREWALL_RULE_DROPPED,
                format!("firewall/{vmid}.fw options not carried by the nwfilter: {}", options_left.join(", ")),
            )
            .help("ipfilter (IP spoofing protection) can be added with libvirt's clean-traffic filter and an IP parameter"),
        );
    }
}

/// The libvirt model name. libvirt 9.0 passes model names it does not know to QEMU as the device
/// name, and Proxmox's names are QEMU device names (`e1000-82540em`, `i82551`, `pcnet`, …); only
/// `virtio` (→ virtio-net-pci) needs libvirt's own spelling, which is the same word.
fn model(ctx: &mut Ctx, key: &String, net: &Net, props: &Props) -> String {
    if net.model == NetModel::Ne2kIsa {
        // An ISA card: libvirt puts every NIC on PCI (it would try `-device ne2k_isa,bus=pci.0`).
        ctx.note_on(
            key,
            Note::warning(
                code::NET_MODEL_SUBSTITUTED,
                "ne2k_isa (an ISA card) cannot be attached by libvirt; using ne2k_pci",
            )
            .at(props.span_of(NetOpts::SUB.model))
            .label("ISA NIC")
            .help("ne2k_pci is the same NE2000 chip on PCI; the guest needs its ne2k-pci driver"),
        );
        return "ne2k_pci".to_owned();
    }
    net.model.as_str().to_owned()
}

fn ignored(ctx: &mut Ctx, key: &String, span: Span, opt: &str, why: &str) {
    ctx.note_on(
        key,
        Note::advice(code::NET_OPTION_IGNORED, format!("{opt} is ignored: {why}"))
            .at(span)
            .label("ignored, as by Proxmox"),
    );
}

/// Whether the effective machine version is at least `major.minor`; an unversioned machine runs
/// at the installed QEMU's version, which Proxmox takes to be current.
pub(crate) fn machine_at_least(ctx: &Ctx, major: u32, minor: u32) -> bool {
    ctx.machine.version.is_none_or(|(a, b, _)| (a, b) >= (major, minor))
}
