//! What this host must look like for a converted domain to define and start, without touching
//! what the domain means: real PCI addresses for Proxmox's mock devices, a bridge for every
//! `<source bridge>`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;

use pve2virt::libvirt::{Domain, DomainInterfaceSource};

/// Bridges this run created (and removes at the end).
static CREATED_BRIDGES: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Proxmox's cfg2cmd tests mock PCI devices at slots no real bus has (`00:ff.1`, `f0:42.0`;
/// a slot is 5 bits). The converter rightly refuses those; for the run, each impossible
/// (domain, bus, slot) gets a real slot from 0x10 on, function and bus kept. Returns the
/// rewritten config and a line for the report, or `None` when nothing needed rewriting.
pub fn real_pci_addresses(conf: &str) -> Option<(String, String)> {
    let mut replaced: BTreeMap<String, String> = BTreeMap::new();
    let mut out = String::with_capacity(conf.len());
    for line in conf.split_inclusive('\n') {
        let is_hostpci = line.split_once(':').is_some_and(|(k, _)| {
            k.strip_prefix("hostpci").is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        });
        if !is_hostpci || line.starts_with('[') {
            out.push_str(line);
            continue;
        }
        let (key, value) = line.split_once(':').unwrap_or((line, ""));
        let parts: Vec<String> = value
            .trim_end_matches('\n')
            .split(',')
            .map(|part| {
                let lead = &part[..part.len() - part.trim_start().len()];
                let (prefix, hosts) = match part.trim_start().split_once('=') {
                    Some(("host", h)) => ("host=", h),
                    Some(_) => return part.to_owned(),
                    None => ("", part.trim_start()),
                };
                let hosts: Vec<String> = hosts.split(';').map(|h| real_address(h.trim(), &mut replaced)).collect();
                format!("{lead}{prefix}{}", hosts.join(";"))
            })
            .collect();
        out.push_str(key);
        out.push(':');
        out.push_str(&parts.join(","));
        out.push('\n');
    }
    if replaced.is_empty() {
        return None;
    }
    let list: Vec<String> = replaced.iter().map(|(from, to)| format!("{from}→{to}")).collect();
    Some((out, format!("needs host PCI devices; Proxmox's mock addresses made real for define ({})", list.join(", "))))
}

/// `[dddd:]bb:ss[.f]` with an impossible slot → the same address on a real slot.
fn real_address(address: &str, replaced: &mut BTreeMap<String, String>) -> String {
    let (base, function) = match address.split_once('.') {
        Some((b, f)) => (b, Some(f)),
        None => (address, None),
    };
    let fields: Vec<&str> = base.split(':').collect();
    let Some(slot) = fields.last().and_then(|s| u32::from_str_radix(s, 16).ok()) else {
        return address.to_owned();
    };
    if slot <= 0x1f {
        return address.to_owned();
    }
    let next = 0x10 + replaced.len() as u32;
    let new_base = replaced.entry(base.to_owned()).or_insert_with(|| {
        let mut f = fields.clone();
        let last = f.len() - 1;
        let slot = format!("{:02x}", next.min(0x1f));
        f[last] = &slot;
        f.join(":")
    });
    match function {
        Some(f) => format!("{new_base}.{f}"),
        None => new_base.clone(),
    }
}

/// Creates a Linux bridge for every `<source bridge='X'/>` this host lacks (no uplink: nothing
/// leaves the machine), so interfaces can start.
pub fn bridges_for(domain: &Domain) -> Result<(), String> {
    for interface in &domain.devices.interfaces {
        let DomainInterfaceSource::Bridge { bridge: name } = &interface.source else {
            continue;
        };
        if name.is_empty() || Path::new("/sys/class/net").join(name).exists() {
            continue;
        }
        ip(&["link", "add", name, "type", "bridge"])?;
        ip(&["link", "set", name, "up"])?;
        CREATED_BRIDGES.lock().unwrap_or_else(|e| e.into_inner()).push(name.to_owned());
    }
    Ok(())
}

pub fn remove_bridges() {
    for name in CREATED_BRIDGES.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
        let _ = ip(&["link", "del", &name]);
    }
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip").args(args).output().map_err(|e| format!("ip: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("ip {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mock_addresses_become_real() {
        let conf = "memory: 512\nhostpci0: 00:ff.1,pcie=1\nhostpci1: host=f0:42.0;f0:42.1\nhostpci2: 01:00.0\n";
        let (out, note) = real_pci_addresses(conf).unwrap();
        assert_eq!(out, "memory: 512\nhostpci0: 00:10.1,pcie=1\nhostpci1: host=f0:11.0;f0:11.1\nhostpci2: 01:00.0\n");
        assert!(note.contains("00:ff→00:10"), "{note}");
        assert!(real_pci_addresses("hostpci0: 01:00.0\n").is_none());
    }
}
