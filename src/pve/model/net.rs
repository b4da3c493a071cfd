//! `netN` (Network.pm `$net_fmt`): a NIC on a bridge or on user-mode networking.

use crate::pve::props::Props;
use crate::pve::schema::{NetModel, NetOpts};
use crate::report::Span;

#[derive(Debug, Clone, PartialEq)]
pub struct Net {
    /// Network.pm's `$nic_model_list` (`virtio`, `e1000`, `e1000-82540em`, …).
    pub model: NetModel,
    /// As written (Proxmox writes it upper case); `None` if the config has none.
    pub macaddr: Option<String>,
    /// `None`: user-mode networking (SLIRP).
    pub bridge: Option<String>,
    pub queues: Option<u32>,
    /// MB/s (MiB/s), both directions.
    pub rate: Option<f64>,
    pub tag: Option<u32>,
    /// VLAN ids, ranges expanded, in written order.
    pub trunks: Vec<u32>,
    pub firewall: bool,
    pub link_down: bool,
    pub mtu: Option<u32>,
    pub host_tunnel: Option<bool>,
}

impl Net {
    pub fn from_props(props: &Props) -> Net {
        let p = NetOpts { props };
        let uint = |v: Option<i64>| v.and_then(|v| u32::try_from(v).ok());
        Net {
            // Required by the schema; virtio is Network.pm's default model.
            model: p.model().unwrap_or(NetModel::Virtio),
            macaddr: p.macaddr().map(str::to_owned),
            bridge: p.bridge().map(str::to_owned),
            queues: uint(p.queues()),
            rate: p.rate(),
            tag: uint(p.tag()),
            trunks: p.trunks().map(parse_trunks).unwrap_or_default(),
            firewall: p.firewall(),
            link_down: p.link_down(),
            mtu: uint(p.mtu()),
            host_tunnel: p.host_tunnel(),
        }
    }

    pub fn is_virtio(&self) -> bool {
        self.model == NetModel::Virtio
    }
}

impl NetOpts<'_> {
    /// Where to point a VLAN note: `tag`, else `trunks`, else the whole value.
    pub fn vlan_span(&self) -> Span {
        self.props.get("tag").or_else(|| self.props.get("trunks")).map_or(self.props.span, |p| p.span())
    }
}

/// `10;20-30` → 10, 20, 21, …, 30. Ids outside 1–4094 (not VLANs) and empty ranges are dropped,
/// as `ip link`/`ovs-vsctl` would refuse them.
pub fn parse_trunks(s: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for part in s.split(';') {
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        let (Ok(a), Ok(b)) = (a.parse::<u32>(), b.parse::<u32>()) else {
            continue;
        };
        for id in a.max(1)..=b.min(4094) {
            if !out.contains(&id) {
                out.push(id);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trunks() {
        assert_eq!(parse_trunks("10;20-22"), [10, 20, 21, 22]);
        assert_eq!(parse_trunks("0-2;5000;7-6"), [1, 2]);
    }
}
