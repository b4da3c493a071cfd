//! What the guest should see, read straight from the Proxmox config, and the comparison with
//! what it did see.
//!
//! Deliberately independent of the converter's own parser (a check that reused it would agree
//! with any bug in it): only the handful of keys the guest can observe are read, with Proxmox's
//! defaults (docs/proxmox-config.md).

use super::facts::Facts;
use std::collections::BTreeMap;

const MIB: u64 = 1024 * 1024;

#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub what: String,
    pub expected: String,
    pub measured: String,
    pub pass: bool,
}

impl Check {
    pub fn new(what: &str, expected: impl Into<String>, measured: impl Into<String>, pass: bool) -> Self {
        Check { what: what.into(), expected: expected.into(), measured: measured.into(), pass }
    }
}

/// The main section of a Proxmox VM config: `key: value` lines up to the first `[snapshot]`.
pub fn parse_config(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .take_while(|l| !l.starts_with('['))
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// `virtio=BC:24:…,bridge=vmbr0` → the value of `key`; a bare first item counts as `first_key`.
fn prop<'a>(value: &'a str, key: &str) -> Option<&'a str> {
    value.split(',').find_map(|kv| kv.split_once('=').filter(|(k, _)| *k == key).map(|(_, v)| v))
}

fn indexed<'a>(conf: &'a BTreeMap<String, String>, prefix: &str) -> Vec<(u32, &'a str)> {
    let mut v: Vec<_> =
        conf.iter().filter_map(|(k, v)| Some((k.strip_prefix(prefix)?.parse::<u32>().ok()?, v.as_str()))).collect();
    v.sort();
    v
}

pub fn is_q35(conf: &BTreeMap<String, String>) -> bool {
    conf.get("machine").is_some_and(|m| m.contains("q35"))
}

/// Every check of what the guest sees against the config. `facts.done` false means the guest
/// never finished reporting: that alone fails, the rest would only repeat it.
pub fn checks(conf: &BTreeMap<String, String>, f: &Facts) -> Vec<Check> {
    let mut out = vec![Check::new("guest reported", "DONE", if f.done { "DONE" } else { "no DONE" }, f.done)];
    if !f.done {
        return out;
    }
    if !f.insmod_failed.is_empty() {
        out.push(Check::new("drivers loaded", "all", f.insmod_failed.join(" "), false));
    }
    if let Some(uuid) = conf.get("smbios1").and_then(|s| prop(s, "uuid")) {
        let seen = f.uuid.clone().unwrap_or_default();
        out.push(Check::new("SMBIOS UUID", uuid.to_ascii_lowercase(), &seen, seen.eq_ignore_ascii_case(uuid)));
    }

    let num = |k: &str, default: u64| conf.get(k).and_then(|v| v.parse().ok()).unwrap_or(default);
    let vcpus = conf.get("vcpus").and_then(|v| v.parse().ok()).unwrap_or(num("sockets", 1) * num("cores", 1)) as usize;
    let seen = f.cpus_online.map_or("?".into(), |n| n.to_string());
    out.push(Check::new("vCPUs online", vcpus.to_string(), seen, f.cpus_online == Some(vcpus)));

    // `memory: 2048` or `memory: current=2048`; 512 MiB when absent.
    let memory =
        conf.get("memory").map(|m| prop(m, "current").unwrap_or(m)).and_then(|m| m.parse::<u64>().ok()).unwrap_or(512);
    out.push(memory_check(memory, f));

    out.extend(nic_checks(conf, f));
    out.extend(disk_checks(conf, f));

    let rng_expected = conf.contains_key("rng0");
    let rng_seen = f.rngs.iter().any(|r| r.starts_with("virtio_rng"));
    out.push(Check::new("virtio rng", present(rng_expected), present(rng_seen), rng_expected == rng_seen));
    let tpm_expected = conf.contains_key("tpmstate0");
    let tpm_seen = !f.tpms.is_empty();
    out.push(Check::new("TPM", present(tpm_expected), present(tpm_seen), tpm_expected == tpm_seen));
    out
}

fn present(b: bool) -> &'static str {
    if b {
        "present"
    } else {
        "absent"
    }
}

/// The firmware's "System RAM" ranges add up to the configured size less the legacy holes below
/// 1 MiB and SeaBIOS's ACPI area (256 MiB showed as 255.5 MiB); 4 MiB of slack still catches a
/// MB/MiB mix-up (256 MB = 244 MiB) or a balloon target taken for the size.
fn memory_check(mib: u64, f: &Facts) -> Check {
    let want = mib * MIB;
    let ok = f.ram_bytes <= want && f.ram_bytes + 4 * MIB >= want;
    let seen = format!(
        "{:.1} MiB RAM (MemTotal {:.1} MiB)",
        f.ram_bytes as f64 / MIB as f64,
        f.mem_total_kb.unwrap_or(0) as f64 / 1024.0
    );
    Check::new("memory", format!("{mib} MiB"), seen, ok)
}

/// Proxmox puts net0–net5 at slots 0x12–0x17 of its first PCI bus (PCI.pm): the root bus on
/// i440fx, the pci-bridge at slot 1 behind the DMI bridge at 0x1e on q35 (docs/mapping.md#pci-layout).
fn expected_nic_path(q35: bool, index: u32) -> Option<Vec<(u8, u8)>> {
    let slot = (index <= 5).then(|| 0x12 + index as u8)?;
    Some(if q35 { vec![(0x1e, 0), (0x01, 0), (slot, 0)] } else { vec![(slot, 0)] })
}

fn show_path(p: &[(u8, u8)]) -> String {
    if p.is_empty() {
        return "?".into();
    }
    p.iter().map(|(s, f)| format!("{s:02x}.{f}")).collect::<Vec<_>>().join("/")
}

fn nic_checks(conf: &BTreeMap<String, String>, f: &Facts) -> Vec<Check> {
    let q35 = is_q35(conf);
    let nets = indexed(conf, "net");
    let mut out =
        vec![Check::new("NIC count", nets.len().to_string(), f.nics.len().to_string(), nets.len() == f.nics.len())];
    for (i, value) in nets {
        // The MAC is the value of the model key: `virtio=BC:24:…`, `e1000=…`.
        let mac = value
            .split(',')
            .next()
            .and_then(|first| first.split_once('='))
            .map(|(_, m)| m.to_ascii_lowercase())
            .filter(|m| m.len() == 17);
        let path = expected_nic_path(q35, i);
        let seen = match &mac {
            Some(m) => f.nics.iter().find(|n| &n.mac == m),
            None => f.nics.iter().find(|n| Some(&n.pci_path) == path.as_ref()),
        };
        let expected = format!(
            "{} at {}",
            mac.clone().unwrap_or_else(|| "any MAC".into()),
            path.as_deref().map_or("any slot".into(), show_path)
        );
        let (measured, ok) = match seen {
            Some(n) => (
                format!("{} ({}) at {}", n.mac, n.name, show_path(&n.pci_path)),
                path.as_ref().is_none_or(|p| p == &n.pci_path),
            ),
            None => ("not found".into(), false),
        };
        out.push(Check::new(&format!("net{i} MAC and PCI slot"), expected, measured, ok));
    }
    out
}

/// The guest-side name of the controller a Proxmox disk key ends up on.
fn expected_bus(conf: &BTreeMap<String, String>, key: &str) -> &'static str {
    match key.trim_end_matches(|c: char| c.is_ascii_digit()) {
        "virtio" => "virtio-blk",
        "sata" => "ahci",
        // q35 has no IDE controller: Proxmox (and libvirt) use the ICH9 AHCI ports.
        "ide" if is_q35(conf) => "ahci",
        "ide" => "ata_piix",
        _ => match conf.get("scsihw").map(String::as_str) {
            Some("virtio-scsi-pci" | "virtio-scsi-single") => "virtio-scsi",
            Some("megasas") => "megasas",
            Some("pvscsi") => "pvscsi",
            _ => "lsi", // lsi (the default) and lsi53c810 are both sym53c8xx to Linux
        },
    }
}

fn disk_checks(conf: &BTreeMap<String, String>, f: &Facts) -> Vec<Check> {
    let mut expected: Vec<(String, Option<&str>)> = Vec::new();
    for prefix in ["ide", "sata", "scsi", "virtio"] {
        for (i, value) in indexed(conf, prefix) {
            let key = format!("{prefix}{i}");
            let cdrom = prop(value, "media") == Some("cdrom") || value.split(',').next() == Some("none");
            let kind = if cdrom { "cdrom" } else { "disk" };
            expected.push((format!("{} {kind}", expected_bus(conf, &key)), prop(value, "serial")));
        }
    }
    let mut want: Vec<String> = expected.iter().map(|(d, _)| d.clone()).collect();
    let mut seen: Vec<String> =
        f.disks.iter().map(|d| format!("{} {}", d.bus, if d.cdrom { "cdrom" } else { "disk" })).collect();
    want.sort();
    seen.sort();
    let mut out = vec![Check::new("disks (bus, kind)", summarise(&want), summarise(&seen), want == seen)];
    let cd_want = want.iter().any(|d| d.ends_with("cdrom"));
    let cd_seen = seen.iter().any(|d| d.ends_with("cdrom"));
    out.push(Check::new("CD-ROM", present(cd_want), present(cd_seen), cd_want == cd_seen));
    for (what, serial) in &expected {
        if let Some(serial) = serial {
            let found = f.disks.iter().any(|d| d.serial.as_deref() == Some(serial));
            let seen: Vec<_> = f.disks.iter().filter_map(|d| d.serial.clone()).collect();
            out.push(Check::new(&format!("serial of {what}"), *serial, seen.join(", "), found));
        }
    }
    out
}

/// `["lsi disk", "lsi disk", "ahci cdrom"]` → `2× lsi disk, ahci cdrom`.
fn summarise(items: &[String]) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for i in items {
        *counts.entry(i).or_default() += 1;
    }
    if counts.is_empty() {
        return "none".into();
    }
    counts.iter().map(|(k, n)| if *n > 1 { format!("{n}× {k}") } else { k.to_string() }).collect::<Vec<_>>().join(", ")
}

/// How many bytes a virtio-rng limited to `max_bytes` per `period_ms` can deliver in a window of
/// `window_ms`: QEMU refills the quota at each period boundary, and the window can catch a
/// partial period at either end, so between `max_bytes × (window/period − 1)` and
/// `max_bytes × (window/period + 1)`. The low end also allows for the one 64-byte read the
/// measurement can lose when it is cut off.
pub fn rate_bounds(max_bytes: u64, period_ms: u64, window_ms: u64) -> (u64, u64) {
    let periods = window_ms as f64 / period_ms as f64;
    let lo = (max_bytes as f64 * (periods - 1.0)).max(0.0) as u64;
    let hi = (max_bytes as f64 * (periods + 1.0)) as u64;
    (lo.saturating_sub(64), hi)
}

#[cfg(test)]
mod tests {
    use super::super::facts;
    use super::*;

    const CONF: &str = "# TEST: q35 with ide cdroms\nbootdisk: scsi0\ncores: 2\n\
ide0: cifs-store:iso/zero.iso,media=cdrom,size=112M\nide2: none,media=cdrom\nmachine: q35\n\
memory: 256\nnet0: virtio=2E:01:68:F9:9C:87,bridge=vmbr0\nscsi0: local:100/vm-100-disk-2.qcow2,size=10G,serial=S1\n\
scsihw: virtio-scsi-pci\nsmbios1: uuid=3dd750ce-d910-44d0-9493-525c0be4e687\n\n[snap]\nmemory: 9\n";

    fn good_facts() -> facts::Facts {
        facts::parse(
            "FACT uuid=3dd750ce-d910-44d0-9493-525c0be4e687\nFACT cpus.online=0-1\n\
FACT mem.ram=00001000-0009fbff\nFACT mem.ram=00100000-0ffdffff\n\
FACT net.eth0.mac=2e:01:68:f9:9c:87\nFACT net.eth0.path=/sys/devices/pci0000:00/0000:00:1e.0/0000:01:01.0/0000:02:12.0/virtio1\n\
FACT disk.sr0.driver=ahci\nFACT disk.sr0.scsi_type=5\nFACT disk.sr1.driver=ahci\nFACT disk.sr1.scsi_type=5\n\
FACT disk.sda.path=/sys/devices/pci0000:00/0000:00:05.0/virtio2/host2\nFACT disk.sda.scsi_type=0\n\
FACT disk.sda.vpd80=00800002533120\nFACT rng.available=\nFACT tpm=\nDONE\n",
        )
    }

    #[test]
    fn config_main_section_only() {
        let c = parse_config(CONF);
        assert_eq!(c["memory"], "256");
        assert_eq!(c["net0"], "virtio=2E:01:68:F9:9C:87,bridge=vmbr0");
        assert!(!c.contains_key("# TEST"));
    }

    #[test]
    fn matching_guest_passes_everything() {
        let checks = checks(&parse_config(CONF), &good_facts());
        let failed: Vec<_> = checks.iter().filter(|c| !c.pass).collect();
        assert!(failed.is_empty(), "{failed:#?}");
        let disks = checks.iter().find(|c| c.what == "disks (bus, kind)").unwrap();
        assert_eq!(disks.expected, "2× ahci cdrom, virtio-scsi disk");
    }

    #[test]
    fn reports_each_mismatch() {
        let mut f = good_facts();
        f.nics[0].pci_path = vec![(0x01, 0), (0x00, 0)]; // libvirt's own pcie-root-port layout
        f.uuid = Some("00000000-0000-0000-0000-000000000000".into());
        f.ram_bytes = 244 * MIB; // 256 MB read as 10^6 bytes
        f.disks.retain(|d| !d.cdrom);
        let failed: Vec<_> = checks(&parse_config(CONF), &f).into_iter().filter(|c| !c.pass).map(|c| c.what).collect();
        assert_eq!(failed, ["SMBIOS UUID", "memory", "net0 MAC and PCI slot", "disks (bus, kind)", "CD-ROM"]);
    }

    #[test]
    fn defaults_apply() {
        let c = parse_config("scsi0: lvm:vm-1-disk-0\nnet1: e1000=AA:BB:CC:DD:EE:FF\n");
        assert_eq!(expected_bus(&c, "scsi0"), "lsi");
        assert_eq!(expected_nic_path(false, 1), Some(vec![(0x13, 0)]));
        assert_eq!(expected_nic_path(false, 6), None);
        let mut f = good_facts();
        f.cpus_online = Some(1);
        let by = |w: &str| checks(&c, &f).into_iter().find(|x| x.what == w).unwrap();
        assert_eq!(by("memory").expected, "512 MiB");
        assert!(by("vCPUs online").pass);
    }

    #[test]
    fn rate_bounds_match_the_probe() {
        // Measured by the guest probe on this project's CI host (QEMU 7.2, TCG): 7,104 and 53,120
        // bytes read in 6 s.
        let (lo, hi) = rate_bounds(1024, 1000, 6000);
        assert_eq!((lo, hi), (5120 - 64, 7168));
        assert!((lo..=hi).contains(&7104));
        let (lo, hi) = rate_bounds(4096, 500, 6000);
        assert_eq!((lo, hi), (45056 - 64, 53248));
        assert!((lo..=hi).contains(&53120));
    }
}
