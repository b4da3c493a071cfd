//! `tag`/`trunks` of a NIC on a bridge, under `--vlan-mode` (docs/vlan.md).
//!
//! libvirt applies `<vlan>` only on Open vSwitch ports; on a Linux bridge the domain does not
//! start ("vlan tag not supported for this connection type"). Proxmox itself tags in its
//! `pve-bridge` script (PVE::Network `tap_plug`): on a VLAN-aware Linux bridge with `bridge vlan`
//! on the tap, on one that is not VLAN-aware by attaching the tap to bridge `<bridge>v<tag>`
//! (`activate_bridge_vlan`), on Open vSwitch as port tags. Each mode reproduces one of these.

use std::collections::BTreeSet;

use crate::libvirt::{DomainInterface, DomainInterfaceVirtualport, DomainInterfaceVlan, DomainInterfaceVlanTag};
use crate::map::{Ctx, SideFile};
use crate::pve::model::net::Net;
use crate::pve::props::Props;
use crate::pve::schema::NetOpts;
use crate::report::{code, Note, Span};

/// How VLANs reach the target's bridge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VlanMode {
    /// `<vlan>` plus `<virtualport type='openvswitch'/>`: the target bridge is Open vSwitch.
    Ovs,
    /// Proxmox's own layout for bridges that are not VLAN-aware (its default): the NIC attaches
    /// to `<bridge>v<tag>`, which carries the VLAN untagged. The default: the XML alone says it
    /// all, nothing runs on the host, and a missing VLAN bridge stops the start instead of
    /// putting the guest on the wrong network.
    #[default]
    BridgePerVlan,
    /// A libvirt hook (`<vmid>.qemu-hook`) runs `bridge vlan` on the tap, as Proxmox does on a
    /// VLAN-aware bridge.
    Hook,
}

/// The hook's view of one NIC.
struct HookNic {
    key: String,
    tap: String,
    bridge: String,
    tag: Option<u32>,
    trunks: Vec<u32>,
}

/// A NIC with `tag`/`trunks` on Proxmox bridge `bridge`, attached to `target` on the host.
pub struct VlanNic<'a> {
    pub key: &'a String,
    pub net: &'a Net,
    pub props: &'a Props,
    pub bridge: &'a str,
    pub target: &'a str,
}

/// `--map-bridge vmbr0=vmbr0v20` already picked the per-VLAN bridge: it does the tagging, and
/// the NIC needs nothing more (unless it also has trunks).
fn carried_by_mapped_bridge(ctx: &mut Ctx, nic: &VlanNic, span: Span) -> bool {
    let (bridge, target) = (nic.bridge, nic.target);
    let Some(tag) = nic.net.tag.filter(|t| target != bridge && target.ends_with(&format!("v{t}"))) else {
        return false;
    };
    if !nic.net.trunks.is_empty() {
        return false;
    }
    ctx.note_on(
        nic.key,
        Note::advice(code::VLAN_PER_VLAN_BRIDGE, format!("VLAN {tag} is carried by bridge {target}"))
            .at(span)
            .label("tag")
            .help(format!("{target} must be the bridge of VLAN {tag} on the target (as Proxmox's {bridge}v{tag})")),
    );
    true
}

/// What the NICs of one VM need from the target, collected over all of them.
#[derive(Default)]
pub struct Vlans {
    /// bridge-per-vlan: the bridges the target needs, and the first NIC that needs one.
    bridges: BTreeSet<String>,
    first: Option<String>,
    hook: Vec<HookNic>,
}

impl Vlans {
    /// Applies `tag`/`trunks` of the NIC, in the way `--vlan-mode` chose.
    pub fn nic(&mut self, ctx: &mut Ctx, nic: &VlanNic, iface: &mut DomainInterface) {
        let net = nic.net;
        if net.tag.is_none() && net.trunks.is_empty() {
            return;
        }
        let span = NetOpts { props: nic.props }.vlan_span();
        if carried_by_mapped_bridge(ctx, nic, span) {
            return;
        }
        match ctx.opts.vlan_mode {
            VlanMode::Ovs => ovs(ctx, nic.key, net, span, iface),
            VlanMode::BridgePerVlan => self.bridge_per_vlan(ctx, nic, span, iface),
            VlanMode::Hook => {
                let tap = iface.target.as_ref().map(|t| t.dev.clone()).unwrap_or_default();
                self.hook.push(HookNic {
                    key: nic.key.to_owned(),
                    tap,
                    bridge: nic.target.to_owned(),
                    tag: net.tag,
                    trunks: net.trunks.clone(),
                });
            }
        }
    }

    /// Proxmox's `<bridge>v<tag>` for a bridge that is not VLAN-aware (`activate_bridge_vlan`):
    /// the NIC moves to that bridge, which carries the one VLAN untagged, so a trunk is lost.
    fn bridge_per_vlan(&mut self, ctx: &mut Ctx, nic: &VlanNic, span: Span, iface: &mut DomainInterface) {
        let (key, net, target) = (nic.key, nic.net, nic.target);
        if !net.trunks.is_empty() {
            ctx.note_on(
                key,
                Note::warning(
                    code::VLAN_TRUNKS_DROPPED,
                    format!(
                        "trunks {} cannot be carried by a per-VLAN bridge, which carries one VLAN untagged; the trunk was left out",
                        ranges(&net.trunks)
                    ),
                )
                .at(nic.props.span_of(NetOpts::SUB.trunks))
                .label("trunks")
                .help("use --vlan-mode hook (a VLAN-aware Linux bridge) or --vlan-mode ovs to keep the trunk"),
            );
        }
        let Some(tag) = net.tag else {
            return;
        };
        let name = format!("{target}v{tag}");
        // Linux limits interface names to 15 bytes (IFNAMSIZ − 1); Proxmox has the
        // same limit on its `vmbrNvTAG` names.
        if name.len() > 15 {
            ctx.note_on(
                key,
                Note::warning(
                    code::VLAN_BRIDGE_NAME_TOO_LONG,
                    format!("bridge name {name} is longer than Linux allows (15 characters)"),
                )
                .at(span)
                .label("tag")
                .help(format!("map the bridge to a shorter name: --map-bridge {}=<short>", nic.bridge)),
            );
        }
        iface.source = crate::libvirt::DomainInterfaceSource::Bridge { bridge: name.clone() };
        self.bridges.insert(name);
        self.first.get_or_insert_with(|| key.to_owned());
    }

    /// The one note listing the VLAN bridges, or the hook file.
    pub fn finish(self, ctx: &mut Ctx, domain_name: &str) {
        if let Some(first) = &self.first {
            let list: Vec<&str> = self.bridges.iter().map(String::as_str).collect();
            let example = list[0];
            let (base, tag) = example.rsplit_once('v').unwrap_or((example, "1"));
            ctx.note_on(
                first,
                Note::advice(
                    code::VLAN_BRIDGE_PER_VLAN,
                    format!(
                        "VLAN-tagged NICs attach to per-VLAN bridges, as Proxmox does on a bridge that is not VLAN-aware; the target needs: {}",
                        list.join(", ")
                    ),
                )
                .help(format!(
                    "create each as a Linux bridge over a VLAN interface of {base}'s uplink, e.g. `ip link add link <uplink> name <uplink>.{tag} type vlan id {tag}; ip link add {example} type bridge; ip link set <uplink>.{tag} master {example}`; or use --vlan-mode hook or ovs"
                )),
            );
        }
        if self.hook.is_empty() {
            return;
        }
        let vmid = ctx.vm.vmid;
        let file = format!("{vmid}.qemu-hook");
        let mut bridges: Vec<&str> = self.hook.iter().map(|n| n.bridge.as_str()).collect();
        bridges.dedup();
        ctx.files.push(SideFile {
            name: file.clone(),
            contents: hook_script(domain_name, &self.hook),
            executable: true,
        });
        for nic in &self.hook {
            ctx.note_on(
                &nic.key,
                Note::advice(
                    code::VLAN_HOOK,
                    format!(
                        "the VLANs of {} ({}) are set by the libvirt hook {file}, written beside the XML with -o or --out-dir (not with the XML on standard output)",
                        nic.tap,
                        match (nic.tag, nic.trunks.is_empty()) {
                            (Some(t), true) => format!("tag {t}"),
                            (Some(t), false) => format!("tag {t} untagged, trunks {}", ranges(&nic.trunks)),
                            (None, _) => format!("trunks {}", ranges(&nic.trunks)),
                        },
                    ),
                )
                .help(format!(
                    "install it as /etc/libvirt/hooks/qemu.d/pve2virt-{vmid} (executable; libvirtd looks for hooks when it starts) and make {} VLAN-aware (`ip link set {} type bridge vlan_filtering 1`)",
                    bridges.join(", "),
                    bridges[0]
                )),
            );
        }
    }
}

/// Open vSwitch: the port carries the tags (libvirt sets them with `ovs-vsctl`, as Proxmox's
/// `ovs_bridge_add_port`: `tag=`, `trunks=`, `vlan_mode=native-untagged` with both).
fn ovs(ctx: &mut Ctx, key: &String, net: &Net, span: Span, iface: &mut DomainInterface) {
    let mut tags = Vec::new();
    if let Some(tag) = net.tag {
        tags.push(DomainInterfaceVlanTag {
            id: tag,
            native_mode: (!net.trunks.is_empty()).then_some("untagged".into()),
        });
    }
    tags.extend(
        net.trunks.iter().filter(|t| Some(**t) != net.tag).map(|&id| DomainInterfaceVlanTag { id, native_mode: None }),
    );
    iface.vlan = Some(DomainInterfaceVlan { trunk: (!net.trunks.is_empty()).then_some("yes".into()), tags });
    iface.virtualport = Some(DomainInterfaceVirtualport { virtualport_type: "openvswitch".into() });
    let what = match net.tag {
        Some(tag) => format!("VLAN tag {tag}"),
        None => "VLAN trunks".to_owned(),
    };
    ctx.note_on(
        key,
        Note::advice(
            code::VLAN_OPENVSWITCH,
            format!("{what} on an Open vSwitch port (--vlan-mode ovs): the target bridge must be Open vSwitch"),
        )
        .at(span)
        .label("VLAN")
        .help("on a Linux bridge the domain will not start with <vlan>; use --vlan-mode bridge-per-vlan or hook there"),
    );
}

/// `[10, 30, 31, 32]` → `10;30-32`, Proxmox's spelling of `trunks`.
fn ranges(ids: &[u32]) -> String {
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        let mut end = start;
        while i + 1 < sorted.len() && sorted[i + 1] == end + 1 {
            i += 1;
            end = sorted[i];
        }
        parts.push(if start == end { start.to_string() } else { format!("{start}-{end}") });
        i += 1;
    }
    parts.join(";")
}

/// A `/etc/libvirt/hooks/qemu` script doing what PVE::Network `tap_plug` does on a VLAN-aware
/// bridge. It runs at `started begin`, which libvirt's hooks page (libvirt `docs/hooks.rst`) places after
/// QEMU has started, so the taps exist (`<target dev>` names them); libvirt starts QEMU with `-S`
/// and lets the vCPUs run only after this hook. `prepare begin` runs before any resource exists.
fn hook_script(domain_name: &str, nics: &[HookNic]) -> String {
    let mut s = String::new();
    s.push_str("#!/bin/sh\n");
    s.push_str("# Written by pve2virt: the VLANs of this domain's NICs, set on their taps as Proxmox does on a\n");
    s.push_str("# VLAN-aware bridge (PVE::Network tap_plug). Install as /etc/libvirt/hooks/qemu.d/<name>\n");
    s.push_str("# (executable; libvirt runs every script there with: domain operation sub-operation).\n");
    s.push_str("# The bridges must have vlan_filtering 1.\n");
    s.push_str(&format!("[ \"$1\" = {} ] || exit 0\n", sh_quote(domain_name)));
    s.push_str("[ \"$2\" = started ] && [ \"$3\" = begin ] || exit 0\n");
    s.push_str("set -e\n");
    for nic in nics {
        let tap = sh_quote(&nic.tap);
        s.push_str(&format!("# {} on {}\n", nic.key, nic.bridge));
        s.push_str(&format!("bridge vlan del dev {tap} vid 1-4094\n"));
        for part in ranges(&nic.trunks).split(';').filter(|p| !p.is_empty()) {
            s.push_str(&format!("bridge vlan add dev {tap} vid {part}\n"));
        }
        s.push_str(&format!("bridge vlan add dev {tap} vid {} pvid untagged\n", nic.tag.unwrap_or(1)));
    }
    s
}

/// Single-quoted for sh: nothing inside is expanded.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trunk_ranges() {
        assert_eq!(ranges(&[32, 10, 30, 31]), "10;30-32");
        assert_eq!(ranges(&[]), "");
    }

    #[test]
    fn hook_tags_like_tap_plug() {
        let nics = [
            HookNic {
                key: "net0".into(),
                tap: "tap100i0".into(),
                bridge: "vmbr0".into(),
                tag: Some(20),
                trunks: vec![],
            },
            HookNic {
                key: "net1".into(),
                tap: "tap100i1".into(),
                bridge: "vmbr0".into(),
                tag: None,
                trunks: vec![10, 11, 12],
            },
        ];
        let s = hook_script("it's", &nics);
        assert!(s.contains("[ \"$1\" = 'it'\\''s' ] || exit 0\n"), "{s}");
        assert!(s.contains(
            "bridge vlan del dev 'tap100i0' vid 1-4094\nbridge vlan add dev 'tap100i0' vid 20 pvid untagged\n"
        ));
        assert!(s.contains(
            "bridge vlan add dev 'tap100i1' vid 10-12\nbridge vlan add dev 'tap100i1' vid 1 pvid untagged\n"
        ));
    }
}
