//! The VM's Proxmox firewall (`firewall/<vmid>.fw`, with `cluster.fw`'s aliases, IP sets and
//! security groups) → one libvirt nwfilter, `pve-vm-<vmid>`, referenced by every NIC with
//! `firewall=1` (docs/cluster.md).
//!
//! Proxmox runs the rules in order, first match wins, then the policy (pve-firewall
//! `Firewall.pm` `ruleset_generate_vm_rules`, `ruleset_add_chain_policy`); nwfilter rules run in
//! priority order, so each rule gets the next priority and the policies come last. Replies to
//! accepted connections pass as with Proxmox's conntrack rule: nwfilter's rules are stateful by
//! default (`statematch`). A Proxmox `IN` rule is about packets to the guest, nwfilter's
//! `direction='in'` too; `-source` is the packet's source in both.

use crate::pve::cluster::firewall::{FwFile, FwRule};

/// The nwfilter document and what could not be carried.
pub struct Filter {
    pub name: String,
    pub xml: String,
    pub rules: usize,
    /// `(file, line, rule text, why)` of rules left out.
    pub dropped: Vec<(String, usize, String, String)>,
    /// `[OPTIONS]` of the VM's file that the filter does not carry (`ipfilter: 1`, log levels, …).
    pub options_left: Vec<String>,
}

/// Proxmox's macros (pve-firewall `Firewall.pm` `$pve_fw_macros`), the common ones: each is a
/// list of (protocol, destination port).
fn macro_entries(name: &str) -> Option<&'static [(&'static str, &'static str)]> {
    Some(match name.to_ascii_lowercase().as_str() {
        "ssh" => &[("tcp", "22")],
        "http" => &[("tcp", "80")],
        "https" => &[("tcp", "443")],
        "web" => &[("tcp", "80"), ("tcp", "443")],
        "dns" => &[("udp", "53"), ("tcp", "53")],
        "ping" => &[("icmp", "echo-request")],
        "rdp" => &[("tcp", "3389")],
        "smtp" => &[("tcp", "25")],
        "smtps" => &[("tcp", "465")],
        "submission" => &[("tcp", "587")],
        "imap" => &[("tcp", "143")],
        "imaps" => &[("tcp", "993")],
        "pop3" => &[("tcp", "110")],
        "pop3s" => &[("tcp", "995")],
        "mysql" => &[("tcp", "3306")],
        "postgresql" => &[("tcp", "5432")],
        "ntp" => &[("udp", "123")],
        "telnet" => &[("tcp", "23")],
        "ftp" => &[("tcp", "21")],
        "vnc" => &[("tcp", "5900:5999")],
        "snmp" => &[("udp", "161:162"), ("tcp", "161")],
        _ => return None,
    })
}

/// ICMP type names pve-firewall accepts for `-icmp-type`, the common ones.
fn icmp_type(name: &str) -> Option<u8> {
    if let Ok(n) = name.parse() {
        return Some(n);
    }
    Some(match name {
        "echo-reply" => 0,
        "destination-unreachable" => 3,
        "redirect" => 5,
        "echo-request" => 8,
        "time-exceeded" => 11,
        _ => return None,
    })
}

/// An address of a rule: v6 or not, and its nwfilter attributes for `src` or `dst`.
#[derive(Clone)]
struct Addr {
    v6: bool,
    /// `(ipaddr, mask)` or `(from, to)` with `range`.
    a: String,
    b: String,
    range: bool,
}

impl Addr {
    fn parse(s: &str) -> Option<Addr> {
        if let Some((from, to)) = s.split_once('-') {
            let v6 = from.contains(':');
            return Some(Addr { v6, a: from.to_owned(), b: to.to_owned(), range: true });
        }
        let (ip, mask) = s.split_once('/').map_or((s, None), |(i, m)| (i, Some(m)));
        let v6 = ip.contains(':');
        if ip.parse::<std::net::IpAddr>().is_err() {
            return None;
        }
        let mask = mask.map_or(if v6 { "128" } else { "32" }.to_owned(), str::to_owned);
        Some(Addr { v6, a: ip.to_owned(), b: mask, range: false })
    }

    fn attrs(&self, side: &str) -> String {
        if self.range {
            format!(" {side}ipfrom='{}' {side}ipto='{}'", esc(&self.a), esc(&self.b))
        } else {
            format!(" {side}ipaddr='{}' {side}ipmask='{}'", esc(&self.a), esc(&self.b))
        }
    }
}

struct Scope<'a> {
    vm: &'a FwFile,
    cluster: Option<&'a FwFile>,
}

impl Scope<'_> {
    /// `-source`/`-dest`: a list of addresses, CIDRs, ranges, aliases (`name`, `dc/name`,
    /// `guest/name`) or one IP set (`+name`, `+dc/name`, `+guest/name`). Negated IP set entries
    /// (`!addr`) are reported: nwfilter has no "except".
    fn addresses(&self, value: &str) -> Result<Vec<Addr>, String> {
        let lookup = |name: &str, vm: bool, dc: bool| -> Option<String> {
            let n = name.to_ascii_lowercase();
            vm.then(|| self.vm.aliases.get(&n).cloned())
                .flatten()
                .or_else(|| dc.then(|| self.cluster.and_then(|c| c.aliases.get(&n).cloned())).flatten())
        };
        let scoped = |name: &str| -> (String, bool, bool) {
            if let Some(n) = name.strip_prefix("dc/") {
                (n.to_owned(), false, true)
            } else if let Some(n) = name.strip_prefix("guest/") {
                (n.to_owned(), true, false)
            } else {
                (name.to_owned(), true, true)
            }
        };
        if let Some(set) = value.strip_prefix('+') {
            let (name, vm, dc) = scoped(set);
            let n = name.to_ascii_lowercase();
            let entries = vm
                .then(|| self.vm.ipsets.get(&n))
                .flatten()
                .or_else(|| dc.then(|| self.cluster.and_then(|c| c.ipsets.get(&n))).flatten())
                .ok_or_else(|| format!("IP set '{set}' is not defined"))?;
            if entries.iter().any(|(neg, _)| *neg) {
                return Err(format!("IP set '{set}' has negated entries (!addr), which nwfilter cannot express"));
            }
            let mut out = Vec::new();
            for (_, e) in entries {
                out.extend(self.addresses(e)?);
            }
            if out.is_empty() {
                return Err(format!("IP set '{set}' is empty"));
            }
            return Ok(out);
        }
        let mut out = Vec::new();
        for part in value.split(',').filter(|p| !p.is_empty()) {
            if let Some(a) = Addr::parse(part) {
                out.push(a);
                continue;
            }
            let (name, vm, dc) = scoped(part);
            let cidr = lookup(&name, vm, dc).ok_or_else(|| format!("alias '{part}' is not defined"))?;
            out.push(Addr::parse(&cidr).ok_or_else(|| format!("alias '{part}' is '{cidr}', not an address"))?);
        }
        Ok(out)
    }
}

/// `22`, `80:443`, `22,80,8000:8100` → `(start, end)` pairs; service names of common ports.
/// A port or a range of ports: `(start, end)`.
type PortRange = (u16, Option<u16>);

fn ports(value: &str) -> Result<Vec<PortRange>, String> {
    let named = |s: &str| -> Option<u16> {
        s.parse().ok().or(match s {
            "ssh" => Some(22),
            "http" => Some(80),
            "https" => Some(443),
            "domain" => Some(53),
            _ => None,
        })
    };
    value
        .split(',')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once(':') {
            Some((a, b)) => Ok((named(a).ok_or(p)?, Some(named(b).ok_or(p)?))),
            None => Ok((named(p).ok_or(p)?, None)),
        })
        .collect::<Result<_, &str>>()
        .map_err(|p| format!("port '{p}' is not a number or a known service name"))
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('\'', "&apos;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Builds the filter; `None` when the firewall is off for this VM (as Proxmox: `enable: 1` is
/// needed in both cluster.fw and the VM's file), with the reason.
/// Whether a rule of the VM (or of a group it uses) is for one NIC only (`-i netN`): then every
/// NIC gets its own filter, holding the VM's rules and its own, in order.
pub fn per_nic(vm: &FwFile) -> bool {
    vm.rules.iter().any(|r| r.enabled && (r.opt("i").is_some() || r.opt("iface").is_some()))
}

/// A rule left out: `(file, line, rule text, why)`.
type Dropped = (String, usize, String, String);

/// `nic`: build the filter of this NIC (`net1`) only, named `pve-vm-<vmid>-<nic>`; rules for
/// other NICs are left out, as they are in Proxmox's chain for this tap.
pub fn build(vmid: u32, vm: &FwFile, cluster: Option<&FwFile>, nic: Option<&str>) -> Result<Filter, String> {
    firewall_on(vmid, vm, cluster)?;
    let scope = Scope { vm, cluster };
    let name = match nic {
        Some(n) => format!("pve-vm-{vmid}-{n}"),
        None => format!("pve-vm-{vmid}"),
    };
    let mut body = fixed_rules(vm);
    let mut dropped = Vec::new();
    let mut priority = 100;
    let mut count = 0;
    for (from, rule) in expand_rules(vmid, vm, cluster, nic, &mut dropped) {
        match rule_xml(&scope, &rule, &mut priority) {
            Ok(xml) => {
                body.push_str(&xml);
                count += 1;
            }
            Err(why) => dropped.push((from, rule.line, rule.text.clone(), why)),
        }
    }
    body.push_str(&policy_rules(vm));
    let xml = format!("<filter name='{name}' chain='root'>\n{body}</filter>\n");
    let carried = ["enable", "policy_in", "policy_out", "macfilter", "dhcp", "ndp"];
    let options_left =
        vm.options.iter().filter(|(k, _)| !carried.contains(&k.as_str())).map(|(k, v)| format!("{k}: {v}")).collect();
    Ok(Filter { name, xml, rules: count, dropped, options_left })
}

/// Proxmox applies rules only when `enable: 1` is in both cluster.fw and the VM's file.
fn firewall_on(vmid: u32, vm: &FwFile, cluster: Option<&FwFile>) -> Result<(), String> {
    if cluster.and_then(|c| c.option("enable")) != Some("1") {
        return Err(
            "the cluster firewall is off (firewall/cluster.fw has no `enable: 1`), so Proxmox applies no rules".into(),
        );
    }
    if vm.option("enable") != Some("1") {
        return Err(format!(
            "the VM's firewall is off (firewall/{vmid}.fw has no `enable: 1`), so Proxmox applies no rules"
        ));
    }
    Ok(())
}

/// The rules pve-firewall puts before the user's: MAC spoofing protection, replies of established
/// connections, and DHCP/NDP when the VM's options allow them.
fn fixed_rules(vm: &FwFile) -> String {
    let mut body = String::new();
    // MAC spoofing protection is on unless `macfilter: 0` (pve-firewall VM option, default 1):
    // frames from the guest with another source MAC are dropped. Written out rather than as a
    // reference to libvirt's `no-mac-spoofing`, which is not installed everywhere (Debian ships
    // it in libvirt-daemon-config-nwfilter); `$MAC` is the NIC's address, set by libvirt.
    if vm.option("macfilter") != Some("0") {
        body.push_str("  <rule action='drop' direction='out' priority='-500'>\n    <mac match='no' srcmacaddr='$MAC'/>\n  </rule>\n");
    }
    // Proxmox accepts packets of established connections before any rule (pve-firewall's
    // `-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT` at the head of each chain); libvirt
    // mirrors drop rules into both directions, so without this a DROP rule or policy would also
    // cut the replies to the guest's own connections. libvirt's schema allows `state` on IPv4
    // elements only (nwfilter.rng `common-ip-attributes-p2`), so IPv6 replies rely on the
    // policies' own state matching.
    body.push_str("  <rule action='accept' direction='inout' priority='-400'>\n    <all state='ESTABLISHED,RELATED'/>\n  </rule>\n");
    if vm.option("dhcp") == Some("1") {
        body.push_str("  <rule action='accept' direction='in' priority='90'>\n    <udp srcportstart='67' dstportstart='68'/>\n  </rule>\n");
        body.push_str("  <rule action='accept' direction='in' priority='90'>\n    <udp-ipv6 srcportstart='547' dstportstart='546'/>\n  </rule>\n");
    }
    if vm.option("ndp") == Some("1") {
        for dir in ["in", "out"] {
            for t in 133..=136 {
                body.push_str(&format!(
                    "  <rule action='accept' direction='{dir}' priority='90'>\n    <icmpv6 type='{t}'/>\n  </rule>\n"
                ));
            }
        }
    }
    body
}

const PER_NIC_ONLY: &str = "rules for one NIC (-i) need a filter per NIC, which is not written";

/// The VM's enabled rules that apply to this filter, with security groups (`GROUP name`) replaced
/// by their rules from cluster.fw, each with the file it comes from; the others go to `dropped`.
fn expand_rules(
    vmid: u32,
    vm: &FwFile,
    cluster: Option<&FwFile>,
    nic: Option<&str>,
    dropped: &mut Vec<Dropped>,
) -> Vec<(String, FwRule)> {
    let file = format!("firewall/{vmid}.fw");
    let iface = |r: &FwRule| r.opt("i").or(r.opt("iface")).map(str::to_owned);
    let mut drop = |rule: &FwRule, why: String| dropped.push((file.clone(), rule.line, rule.text.clone(), why));
    let mut expanded = Vec::new();
    for rule in vm.rules.iter().filter(|r| r.enabled) {
        // A rule for another NIC does not apply to this one; with one filter for all NICs it
        // cannot be placed (per_nic avoids that case).
        let rule = match (iface(rule), nic) {
            (None, _) => rule.clone(),
            (Some(i), Some(n)) if i == n => {
                let mut r = rule.clone();
                r.opts.retain(|(k, _)| k != "i" && k != "iface");
                r
            }
            (Some(_), Some(_)) => continue,
            (Some(_), None) => {
                drop(rule, PER_NIC_ONLY.into());
                continue;
            }
        };
        if rule.direction != "GROUP" {
            expanded.push((file.clone(), rule));
            continue;
        }
        match cluster.and_then(|c| c.groups.get(&rule.action.to_ascii_lowercase())) {
            Some(rules) if rule.opt("i").is_none() => expanded
                .extend(rules.iter().filter(|r| r.enabled).map(|r| ("firewall/cluster.fw".to_owned(), r.clone()))),
            Some(_) => drop(&rule, PER_NIC_ONLY.into()),
            None => drop(&rule, format!("security group '{}' is not in cluster.fw", rule.action)),
        }
    }
    expanded
}

/// The VM's default policies (`policy_in` DROP, `policy_out` ACCEPT), for both address families.
fn policy_rules(vm: &FwFile) -> String {
    let policy = |p: Option<&str>, default: &str| match p.unwrap_or(default).to_ascii_uppercase().as_str() {
        "ACCEPT" => "accept",
        "REJECT" => "reject",
        _ => "drop",
    };
    // Accepting policies first: libvirt writes a drop-all rule into both directions' chains, where
    // it would otherwise shadow the other direction's accept-all.
    let mut policies =
        [("in", policy(vm.option("policy_in"), "DROP")), ("out", policy(vm.option("policy_out"), "ACCEPT"))];
    policies.sort_by_key(|(_, action)| *action != "accept");
    let mut body = String::new();
    for (dir, action) in policies {
        for proto in ["all", "all-ipv6"] {
            body.push_str(&format!(
                "  <rule action='{action}' direction='{dir}' priority='900'>\n    <{proto}/>\n  </rule>\n"
            ));
        }
    }
    body
}

/// One protocol a rule matches: (protocol, destination ports, source ports or `icmp:<type>`).
type Proto = (String, Option<String>, Option<String>);

/// One Proxmox rule → nwfilter `<rule>` elements (one per protocol × port range × address).
fn rule_xml(scope: &Scope, rule: &FwRule, priority: &mut i32) -> Result<String, String> {
    let (direction, action) = verbs(rule)?;
    let protocols = protocols(rule)?;
    let src = rule.opt("source").map(|v| scope.addresses(v)).transpose()?;
    let dst = rule.opt("dest").map(|v| scope.addresses(v)).transpose()?;
    let mut out = String::new();
    for (proto, dport, sport) in protocols {
        let (v4, v6, ported) = protocol_elements(&proto)?;
        if !ported
            && (dport.is_some() || sport.is_some())
            && !proto.starts_with("icmp")
            && sport.as_deref().is_none_or(|s| !s.starts_with("icmp:"))
        {
            return Err("ports need -p tcp or -p udp".into());
        }
        let matches = if ported {
            port_attrs(dport.as_deref(), sport.as_deref())?
        } else {
            icmp_attrs(&proto, sport.as_deref(), rule)?
        };
        for (s, d) in address_pairs(src.as_deref(), dst.as_deref()) {
            let elements: Vec<&str> = match s.or(d).map(|a| a.v6) {
                Some(true) => vec![v6],
                Some(false) => vec![v4],
                None => vec![v4, v6],
            };
            for element in elements.into_iter().filter(|e| !e.is_empty()) {
                for m in &matches {
                    let mut attrs = String::new();
                    if let Some(a) = s {
                        attrs.push_str(&a.attrs("src"));
                    }
                    if let Some(a) = d {
                        attrs.push_str(&a.attrs("dst"));
                    }
                    attrs.push_str(m);
                    out.push_str(&format!(
                        "  <rule action='{action}' direction='{direction}' priority='{priority}'>\n    <{element}{attrs}/>\n  </rule>\n"
                    ));
                }
            }
        }
    }
    if out.is_empty() {
        return Err("the rule matches no address family (IPv4 source with IPv6 destination?)".into());
    }
    *priority = (*priority + 1).min(899);
    Ok(out)
}

/// The rule's direction and action in nwfilter's words; `Err` also for options nwfilter cannot carry.
fn verbs(rule: &FwRule) -> Result<(&'static str, &'static str), String> {
    let direction = match rule.direction.as_str() {
        "IN" => "in",
        "OUT" => "out",
        other => return Err(format!("direction '{other}' is not IN or OUT")),
    };
    let action = match rule.action.as_str() {
        "ACCEPT" => "accept",
        "DROP" => "drop",
        "REJECT" => "reject",
        other => return Err(format!("action '{other}' is not ACCEPT, DROP or REJECT")),
    };
    for (name, _) in &rule.opts {
        match name.as_str() {
            "source" | "dest" | "p" | "dport" | "sport" | "icmp-type" | "log" => {}
            "i" | "iface" => return Err(PER_NIC_ONLY.into()),
            other => return Err(format!("option -{other} is not translated")),
        }
    }
    Ok((direction, action))
}

/// What the rule matches: its macro's entries, or its own `-p`, `-dport` and `-sport`.
fn protocols(rule: &FwRule) -> Result<Vec<Proto>, String> {
    let Some(m) = &rule.macro_name else {
        let p = rule.opt("p").map(str::to_ascii_lowercase);
        return Ok(vec![(
            p.unwrap_or_default(),
            rule.opt("dport").map(str::to_owned),
            rule.opt("sport").map(str::to_owned),
        )]);
    };
    let entries = macro_entries(m).ok_or_else(|| format!("macro '{m}' is not translated"))?;
    Ok(entries
        .iter()
        .map(|(p, port)| match *p {
            "icmp" => ("icmp".into(), None, Some(format!("icmp:{port}"))),
            _ => ((*p).into(), Some((*port).into()), None),
        })
        .collect())
}

/// A protocol's nwfilter elements for IPv4 and IPv6 (empty: none in that family), and whether it
/// has ports.
fn protocol_elements(proto: &str) -> Result<(&'static str, &'static str, bool), String> {
    Ok(match proto {
        "tcp" | "6" => ("tcp", "tcp-ipv6", true),
        "udp" | "17" => ("udp", "udp-ipv6", true),
        "icmp" | "1" => ("icmp", "", false),
        "icmpv6" | "ipv6-icmp" | "58" => ("", "icmpv6", false),
        "" => ("all", "all-ipv6", false),
        other => {
            return Err(format!(
                "protocol '{other}' is not translated (nwfilter rules here cover tcp, udp, icmp, icmpv6, all)"
            ))
        }
    })
}

/// The port attributes, one set per (destination range × source range).
fn port_attrs(dport: Option<&str>, sport: Option<&str>) -> Result<Vec<String>, String> {
    let ranges = |v: Option<&str>| -> Result<Vec<Option<PortRange>>, String> {
        Ok(v.map(ports).transpose()?.map_or(vec![None], |v| v.into_iter().map(Some).collect()))
    };
    let range = |side: &str, r: &Option<PortRange>| match r {
        Some((lo, Some(hi))) => format!(" {side}portstart='{lo}' {side}portend='{hi}'"),
        Some((lo, None)) => format!(" {side}portstart='{lo}'"),
        None => String::new(),
    };
    let (d, s) = (ranges(dport)?, ranges(sport)?);
    Ok(d.iter().flat_map(|dp| s.iter().map(move |sp| range("src", sp) + &range("dst", dp))).collect())
}

/// The ICMP type attribute (from a macro's `icmp:<type>` or `-icmp-type`), or none.
fn icmp_attrs(proto: &str, sport: Option<&str>, rule: &FwRule) -> Result<Vec<String>, String> {
    if !(proto.starts_with("icmp") || proto == "1" || proto == "58") {
        return Ok(vec![String::new()]);
    }
    match sport.and_then(|s| s.strip_prefix("icmp:")).or(rule.opt("icmp-type")) {
        Some(t) => {
            Ok(vec![format!(" type='{}'", icmp_type(t).ok_or_else(|| format!("ICMP type '{t}' is not translated"))?)])
        }
        None => Ok(vec![String::new()]),
    }
}

/// Addresses decide the family; without any, the rule is for both (Proxmox writes it to
/// iptables and ip6tables). A source and a destination of different families never pair.
fn address_pairs<'a>(src: Option<&'a [Addr]>, dst: Option<&'a [Addr]>) -> Vec<(Option<&'a Addr>, Option<&'a Addr>)> {
    match (src, dst) {
        (None, None) => vec![(None, None)],
        (Some(s), None) => s.iter().map(|a| (Some(a), None)).collect(),
        (None, Some(d)) => d.iter().map(|a| (None, Some(a))).collect(),
        (Some(s), Some(d)) => {
            s.iter().flat_map(|a| d.iter().filter(move |b| b.v6 == a.v6).map(move |b| (Some(a), Some(b)))).collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(vm: &str, cluster: &str) -> Result<Filter, String> {
        build(100, &FwFile::parse(vm), Some(&FwFile::parse(cluster)), None)
    }

    #[test]
    fn off_unless_enabled_twice() {
        assert!(filter("[OPTIONS]\nenable: 1\n", "[OPTIONS]\nenable: 0\n").is_err());
        assert!(filter("[RULES]\nIN ACCEPT -p tcp -dport 22\n", "[OPTIONS]\nenable: 1\n").is_err());
    }

    #[test]
    fn rules_in_order_then_policy() {
        let f = filter(
            "[OPTIONS]\nenable: 1\npolicy_in: DROP\n[ALIASES]\nadmin 192.168.1.10\n[IPSET web]\n10.1.0.0/16\n2001:db8::/32\n[RULES]\nIN SSH(ACCEPT) -source admin\nIN ACCEPT -p tcp -dport 80,8000:8080 -source +web\nIN DROP -p gre\n|IN ACCEPT -p udp\nIN ACCEPT -p icmp -icmp-type echo-request\nGROUP base\n",
            "[OPTIONS]\nenable: 1\n[group base]\nOUT REJECT -dest dc/lan -p tcp -dport 25\n[ALIASES]\nlan 10.0.0.0/8\n",
        )
        .unwrap();
        let x = &f.xml;
        assert!(x.starts_with("<filter name='pve-vm-100' chain='root'>\n  <rule action='drop' direction='out' priority='-500'>\n    <mac match='no' srcmacaddr='$MAC'/>\n"), "{x}");
        assert!(x.contains("<rule action='accept' direction='in' priority='100'>\n    <tcp srcipaddr='192.168.1.10' srcipmask='32' dstportstart='22'/>"), "{x}");
        assert!(x.contains("<tcp srcipaddr='10.1.0.0' srcipmask='16' dstportstart='8000' dstportend='8080'/>"), "{x}");
        assert!(x.contains("<tcp-ipv6 srcipaddr='2001:db8::' srcipmask='32' dstportstart='80'/>"), "{x}");
        assert!(x.contains("<icmp type='8'/>"), "{x}");
        assert!(x.contains("<rule action='reject' direction='out' priority='103'>\n    <tcp dstipaddr='10.0.0.0' dstipmask='8' dstportstart='25'/>"), "{x}");
        // The accepting policy comes before the dropping one (libvirt mirrors drop-all rules).
        let accept = x.find("<rule action='accept' direction='out' priority='900'>").unwrap();
        assert!(accept < x.find("<rule action='drop' direction='in' priority='900'>").unwrap(), "{x}");
        assert!(
            x.ends_with("<rule action='drop' direction='in' priority='900'>\n    <all-ipv6/>\n  </rule>\n</filter>\n"),
            "{x}"
        );
        assert_eq!(f.rules, 4);
        assert_eq!(f.dropped.len(), 1, "{:?}", f.dropped);
        assert!(f.dropped[0].3.contains("gre"));
    }

    #[test]
    fn a_filter_per_nic_keeps_its_own_rules_in_order() {
        let vm = FwFile::parse("[OPTIONS]\nenable: 1\n[RULES]\nIN ACCEPT -p tcp -dport 22\nIN ACCEPT -i net1 -p tcp -dport 9100\nIN DROP -i net0 -p udp\n");
        let cluster = FwFile::parse("[OPTIONS]\nenable: 1\n");
        assert!(per_nic(&vm));
        let f = build(100, &vm, Some(&cluster), Some("net1")).unwrap();
        assert_eq!(f.name, "pve-vm-100-net1");
        assert_eq!((f.rules, f.dropped.len()), (2, 0));
        assert!(f.xml.contains("priority='101'>\n    <tcp dstportstart='9100'/>"), "{}", f.xml);
        assert!(!f.xml.contains("<udp"), "{}", f.xml);
        let all = build(100, &vm, Some(&cluster), None).unwrap();
        assert_eq!((all.rules, all.dropped.len()), (1, 2));
    }

    #[test]
    fn negated_ipset_is_reported() {
        let f = filter(
            "[OPTIONS]\nenable: 1\n[IPSET x]\n10.0.0.0/8\n!10.0.0.1\n[RULES]\nIN ACCEPT -source +x\n",
            "[OPTIONS]\nenable: 1\n",
        )
        .unwrap();
        assert_eq!(f.rules, 0);
        assert!(f.dropped[0].3.contains("negated"));
    }

    /// The whole filter for rules that cross every path of rule_xml: source and destination port
    /// ranges, both families on each side (only same-family pairs are written), a macro with
    /// ICMP, ICMPv6 and an address range. The expected file was written by the code before
    /// build/rule_xml were split into small functions.
    #[test]
    fn whole_filter() {
        let vm = "[OPTIONS]\nenable: 1\nndp: 1\npolicy_out: DROP\n[IPSET mixed]\n10.0.0.1\n2001:db8::1\n[RULES]\nIN ACCEPT -p udp -sport 1000:1010,53 -dport 5000:5001 -source +mixed -dest +mixed\nOUT ACCEPT -p icmpv6\nIN Ping(ACCEPT)\nOUT DROP -dest 192.0.2.0-192.0.2.9\n";
        let f = build(100, &FwFile::parse(vm), Some(&FwFile::parse("[OPTIONS]\nenable: 1\n")), None).unwrap();
        assert_eq!(f.xml, include_str!("testdata/nwfilter-whole.xml"));
    }
}
