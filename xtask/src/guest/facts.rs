//! Parses what init.sh printed on the serial console into typed facts.

use std::collections::BTreeMap;

#[derive(Debug, Default, PartialEq)]
pub struct Facts {
    /// init.sh reached its end (everything below is complete).
    pub done: bool,
    pub uuid: Option<String>,
    pub cpus_online: Option<usize>,
    /// Sum of the top-level "System RAM" ranges in /proc/iomem.
    pub ram_bytes: u64,
    pub mem_total_kb: Option<u64>,
    pub nics: Vec<Nic>,
    pub disks: Vec<Disk>,
    /// Names from /sys/class/misc/hw_random/rng_available (`virtio_rng.0`, `tpm-rng-0`, …).
    pub rngs: Vec<String>,
    pub tpms: Vec<String>,
    pub entropy: Option<Entropy>,
    pub insmod_failed: Vec<String>,
}

#[derive(Debug, PartialEq)]
pub struct Nic {
    pub name: String,
    pub mac: String,
    /// (slot, function) of each PCI hop from the root bus to the NIC, e.g. `[(0x12, 0)]` on pc
    /// or `[(0x1e, 0), (0x01, 0), (0x12, 0)]` behind q35's DMI-to-PCI bridge. Bus *numbers* are
    /// left out: the guest assigns them while enumerating, so only the path is stable.
    pub pci_path: Vec<(u8, u8)>,
}

#[derive(Debug, PartialEq)]
pub struct Disk {
    pub name: String,
    /// The controller as the guest sees it: `virtio-blk`, `virtio-scsi`, `lsi`, `megasas`,
    /// `pvscsi`, `ahci`, `ata_piix`, `nvme`, or else the PCI driver's name.
    pub bus: String,
    pub cdrom: bool,
    pub serial: Option<String>,
    /// ASCII designators of SCSI VPD page 0x83 (QEMU puts the `device_id` there).
    pub device_ids: Vec<String>,
}

#[derive(Debug, PartialEq, Clone, Copy)]
pub struct Entropy {
    pub bytes: u64,
    pub window_ms: u64,
}

pub fn parse(log: &str) -> Facts {
    let mut f = Facts::default();
    // Per-device attributes arrive as `net.eth0.mac=…`, `disk.sda.path=…`: group them first.
    let mut nets: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut disks: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut window_ms = None;
    let mut bytes = None;
    for line in log.lines() {
        let line = line.trim_end_matches('\r');
        if line == "DONE" {
            f.done = true;
            continue;
        }
        let Some((key, value)) = line.strip_prefix("FACT ").and_then(|l| l.split_once('=')) else {
            continue;
        };
        let value = value.trim();
        match key {
            "uuid" if !value.is_empty() => f.uuid = Some(value.to_ascii_lowercase()),
            "cpus.online" => f.cpus_online = count_cpu_list(value),
            "mem.ram" => f.ram_bytes += range_len(value).unwrap_or(0),
            "mem.total_kb" => f.mem_total_kb = value.parse().ok(),
            "rng.available" => f.rngs = value.split_whitespace().map(String::from).collect(),
            "tpm" => f.tpms = value.split_whitespace().map(String::from).collect(),
            "entropy.window_ms" => window_ms = value.parse().ok(),
            "entropy.bytes" => bytes = value.parse().ok(),
            "insmod.failed" => f.insmod_failed.push(value.to_string()),
            _ => {
                let (group, rest) = match key.split_once('.') {
                    Some(("net", rest)) => (&mut nets, rest),
                    Some(("disk", rest)) => (&mut disks, rest),
                    _ => continue,
                };
                if let Some((dev, attr)) = rest.rsplit_once('.') {
                    group.entry(dev.into()).or_default().insert(attr.into(), value.into());
                }
            }
        }
    }
    if let (Some(bytes), Some(window_ms)) = (bytes, window_ms) {
        f.entropy = Some(Entropy { bytes, window_ms });
    }
    f.nics = nets
        .into_iter()
        .map(|(name, a)| Nic {
            mac: a.get("mac").cloned().unwrap_or_default().to_ascii_lowercase(),
            pci_path: a.get("path").map(|p| pci_path(p)).unwrap_or_default(),
            name,
        })
        .collect();
    f.disks = disks.into_iter().map(|(name, a)| disk(name, &a)).collect();
    f
}

fn disk(name: String, a: &BTreeMap<String, String>) -> Disk {
    let path = a.get("path").map(String::as_str).unwrap_or("");
    let driver = a.get("driver").map(String::as_str).unwrap_or("");
    let bus = if name.starts_with("vd") {
        "virtio-blk"
    } else if name.starts_with("nvme") {
        "nvme"
    } else if path.contains("/virtio") {
        "virtio-scsi"
    } else {
        match driver {
            "sym53c8xx" => "lsi",
            "megaraid_sas" => "megasas",
            "vmw_pvscsi" => "pvscsi",
            other => other,
        }
    };
    let serial = a
        .get("serial")
        .map(|s| s.trim().to_string())
        .or_else(|| a.get("vpd80").and_then(|h| vpd80_serial(&unhex(h))))
        .filter(|s| !s.is_empty());
    Disk {
        bus: bus.to_string(),
        cdrom: a.get("scsi_type").map(String::as_str) == Some("5") || name.starts_with("sr"),
        serial,
        device_ids: a.get("vpd83").map(|h| vpd83_ascii(&unhex(h))).unwrap_or_default(),
        name,
    }
}

/// `0-3,5` → 5.
fn count_cpu_list(list: &str) -> Option<usize> {
    list.split(',')
        .map(|part| match part.split_once('-') {
            Some((a, b)) => Some(b.parse::<usize>().ok()? + 1 - a.parse::<usize>().ok()?),
            None => part.parse::<usize>().ok().map(|_| 1),
        })
        .sum()
}

/// `00100000-0fffffff` → 0x0ff00000 (inclusive range).
fn range_len(range: &str) -> Option<u64> {
    let (a, b) = range.split_once('-')?;
    let (a, b) = (u64::from_str_radix(a, 16).ok()?, u64::from_str_radix(b, 16).ok()?);
    Some(b.checked_sub(a)? + 1)
}

fn pci_path(sysfs: &str) -> Vec<(u8, u8)> {
    sysfs
        .split('/')
        .filter_map(|seg| {
            // dddd:bb:ss.f
            let (_, rest) = seg.split_once(':')?;
            let (bus, sf) = rest.split_once(':')?;
            let (slot, func) = sf.split_once('.')?;
            if seg.len() != 12 || bus.len() != 2 {
                return None;
            }
            Some((u8::from_str_radix(slot, 16).ok()?, func.parse().ok()?))
        })
        .collect()
}

fn unhex(h: &str) -> Vec<u8> {
    (0..h.len() / 2).filter_map(|i| u8::from_str_radix(h.get(2 * i..2 * i + 2)?, 16).ok()).collect()
}

/// VPD page 0x80 (Unit Serial Number): 4-byte header, length at bytes 2–3, then the serial,
/// space padded (ATA serials are 20 characters).
fn vpd80_serial(page: &[u8]) -> Option<String> {
    let len = u16::from_be_bytes([*page.get(2)?, *page.get(3)?]) as usize;
    let body = page.get(4..(4 + len).min(page.len()))?;
    Some(String::from_utf8_lossy(body).trim_matches(|c: char| c == ' ' || c == '\0').to_string())
}

/// VPD page 0x83 (Device Identification): designators of `[code set, type, 0, len, id…]` after a
/// 4-byte header; the ASCII (code set 2) and UTF-8 (3) ones.
fn vpd83_ascii(page: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 4;
    while i + 4 <= page.len() {
        let len = page[i + 3] as usize;
        let Some(id) = page.get(i + 4..i + 4 + len) else {
            break;
        };
        if matches!(page[i] & 0x0f, 2 | 3) {
            out.push(String::from_utf8_lossy(id).trim_end_matches('\0').trim().to_string());
        }
        i += 4 + len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "\
[    0.000000] Linux version 6.1.0
FACT uuid=7B10D7AF-B932-4C66-B2C3-3996152EC465\r
FACT cpus.online=0-1,3
FACT mem.ram=00001000-0009fbff
FACT mem.ram=00100000-0ffdffff
FACT mem.total_kb=215000
FACT net.eth0.mac=BC:24:11:2A:3B:4C
FACT net.eth0.path=/sys/devices/pci0000:00/0000:00:1e.0/0000:01:01.0/0000:02:12.0/virtio3
FACT disk.vda.path=/sys/devices/pci0000:00/0000:00:0a.0/virtio2
FACT disk.vda.driver=virtio-pci
FACT disk.vda.serial=abc
FACT disk.sda.path=/sys/devices/pci0000:00/0000:00:05.0/virtio1/host2/target2:0:0/2:0:0:0
FACT disk.sda.driver=virtio-pci
FACT disk.sda.scsi_type=0
FACT disk.sda.vpd83=0083000c0200000864726976652d7330
FACT disk.sr0.path=/sys/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0
FACT disk.sr0.driver=ahci
FACT disk.sr0.scsi_type=5
FACT disk.sdb.path=/sys/devices/pci0000:00/0000:00:01.1/ata2/host1/target1:0:0/1:0:0:0
FACT disk.sdb.driver=ata_piix
FACT disk.sdb.scsi_type=0
FACT disk.sdb.vpd80=00800014514d30303030312020202020202020202020202020
FACT rng.available=virtio_rng.0 tpm-rng-0
FACT tpm=tpm0 
FACT entropy.window_ms=6000
FACT entropy.bytes=7104
DONE
";

    #[test]
    fn parses_every_fact() {
        let f = parse(LOG);
        assert!(f.done);
        assert_eq!(f.uuid.as_deref(), Some("7b10d7af-b932-4c66-b2c3-3996152ec465"));
        assert_eq!(f.cpus_online, Some(3));
        assert_eq!(f.ram_bytes, 0x9ec00 + 0xfee0000);
        assert_eq!(f.mem_total_kb, Some(215000));
        assert_eq!(
            f.nics,
            [Nic {
                name: "eth0".into(),
                mac: "bc:24:11:2a:3b:4c".into(),
                pci_path: vec![(0x1e, 0), (0x01, 0), (0x12, 0)],
            }]
        );
        let by_name = |n: &str| f.disks.iter().find(|d| d.name == n).unwrap();
        assert_eq!(by_name("vda").bus, "virtio-blk");
        assert_eq!(by_name("vda").serial.as_deref(), Some("abc"));
        assert_eq!(by_name("sda").bus, "virtio-scsi");
        assert_eq!(by_name("sda").device_ids, ["drive-s0"]);
        assert!(by_name("sr0").cdrom && by_name("sr0").bus == "ahci");
        assert_eq!(by_name("sdb").bus, "ata_piix");
        assert_eq!(by_name("sdb").serial.as_deref(), Some("QM00001"));
        assert_eq!(f.rngs, ["virtio_rng.0", "tpm-rng-0"]);
        assert_eq!(f.tpms, ["tpm0"]);
        assert_eq!(f.entropy, Some(Entropy { bytes: 7104, window_ms: 6000 }));
    }

    #[test]
    fn an_interrupted_boot_is_not_done() {
        let f = parse("FACT uuid=x\nKernel panic - not syncing\n");
        assert!(!f.done);
        assert_eq!(f.entropy, None);
    }

    #[test]
    fn cpu_lists() {
        assert_eq!(count_cpu_list("0"), Some(1));
        assert_eq!(count_cpu_list("0-7"), Some(8));
        assert_eq!(count_cpu_list("x"), None);
    }
}
