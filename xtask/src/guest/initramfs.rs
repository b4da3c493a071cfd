//! The initramfs: busybox, the drivers a Proxmox-shaped VM needs for its disks, NICs and rng,
//! and `/init` (init.sh), which reports what the guest sees and measures the entropy rate.
//!
//! Built from the kit at every run (it takes well under a second) so that a change to init.sh
//! never meets a stale image.

use super::cpio::Archive;
use super::kit::Kit;
use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const INIT: &str = include_str!("init.sh");

/// Drivers for every device family the facts look at. Their dependencies (virtio_ring before
/// virtio, scsi_mod before sd_mod, …) come from each module's `depends=`, not from this list.
const ROOT_MODULES: &[&str] = &[
    // virtio transport: modern and legacy PCI (Proxmox machines up to 7.x use both)
    "virtio_pci",
    "virtio_pci_modern_dev",
    "virtio_pci_legacy_dev",
    "virtio-rng",
    // NICs: every model Proxmox offers with a Linux driver
    "virtio_net",
    "e1000",
    "e1000e",
    "8139cp",
    "8139too",
    "vmxnet3",
    // disks and CD-ROMs: virtio-blk, every scsihw, ide (piix) and sata (ahci), nvme
    "virtio_blk",
    "virtio_scsi",
    "sym53c8xx",
    "megaraid_sas",
    "vmw_pvscsi",
    "ata_piix",
    "ahci",
    "nvme",
    "sd_mod",
    "sr_mod",
];

pub fn build(kit: &Kit, out: &Path) -> Result<(), String> {
    let index = index_modules(&kit.modules.join("kernel"))?;
    let mut modules: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let order = load_order(ROOT_MODULES, |name| {
        let path = index.get(name).ok_or_else(|| format!("module {name} is not in this kernel"))?;
        let ko = ko_bytes(path)?;
        let deps = modinfo_depends(&ko);
        modules.insert(name.to_string(), ko);
        Ok(deps)
    })?;

    let mut a = Archive::default();
    for d in ["bin", "dev", "proc", "sys", "tmp", "lib", "lib/modules"] {
        a.dir(d);
    }
    a.char_dev("dev/console", 0o600, 5, 1);
    let busybox = fs::read(&kit.busybox).map_err(|e| e.to_string())?;
    a.file("bin/busybox", 0o755, &busybox);
    // init.sh runs `busybox --install` for the rest; the shell must exist before that.
    a.symlink("bin/sh", "busybox");
    a.file("init", 0o755, INIT.as_bytes());

    let mut list = String::new();
    for name in &order {
        a.file(&format!("lib/modules/{name}.ko"), 0o644, &modules[name]);
        list.push_str(name);
        list.push_str(".ko\n");
    }
    // One module per line, dependencies first: init.sh insmods them in this order.
    a.file("lib/modules/load-order", 0o644, list.as_bytes());
    fs::write(out, a.finish()).map_err(|e| format!("{}: {e}", out.display()))
}

/// Module name → file, for every `*.ko[.xz|.zst|.gz]` under `dir`.
fn index_modules(dir: &Path) -> Result<BTreeMap<String, PathBuf>, String> {
    let mut index = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).map_err(|e| format!("{}: {e}", d.display()))? {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Some(name) = path.file_name().and_then(|n| n.to_str()) {
                if strip_compression_suffix(name).ends_with(".ko") {
                    index.insert(module_name(name), path.clone());
                }
            }
        }
    }
    Ok(index)
}

/// The `depends=` entry of a module's `.modinfo` section: NUL-separated `key=value` strings, so
/// a byte search finds it without parsing the ELF. Debian's kernel package carries no
/// `modules.dep` (its postinst runs depmod), and depmod may not be installed here.
fn modinfo_depends(ko: &[u8]) -> Vec<String> {
    let key = b"\0depends=";
    let Some(at) = ko.windows(key.len()).position(|w| w == key) else {
        return Vec::new();
    };
    let value = &ko[at + key.len()..];
    let value = &value[..value.iter().position(|&b| b == 0).unwrap_or(value.len())];
    String::from_utf8_lossy(value).split(',').filter(|d| !d.is_empty()).map(|d| d.replace('-', "_")).collect()
}

/// Module names in an order where each comes after everything it depends on (depth-first
/// post-order), each once. Names are normalised with `-` read as `_`, as modprobe does.
fn load_order(
    roots: &[&str],
    mut depends: impl FnMut(&str) -> Result<Vec<String>, String>,
) -> Result<Vec<String>, String> {
    fn visit(
        name: String,
        depends: &mut dyn FnMut(&str) -> Result<Vec<String>, String>,
        seen: &mut HashSet<String>,
        order: &mut Vec<String>,
    ) -> Result<(), String> {
        if !seen.insert(name.clone()) {
            return Ok(());
        }
        for d in depends(&name)? {
            visit(d, depends, seen, order)?;
        }
        order.push(name);
        Ok(())
    }
    let (mut seen, mut order) = (HashSet::new(), Vec::new());
    for root in roots {
        visit(root.replace('-', "_"), &mut depends, &mut seen, &mut order)?;
    }
    Ok(order)
}

fn strip_compression_suffix(name: &str) -> &str {
    name.strip_suffix(".xz").or_else(|| name.strip_suffix(".zst")).or_else(|| name.strip_suffix(".gz")).unwrap_or(name)
}

/// `virtio-rng.ko.xz` → `virtio_rng`.
fn module_name(file: &str) -> String {
    let name = strip_compression_suffix(file);
    name.strip_suffix(".ko").unwrap_or(name).replace('-', "_")
}

/// The module's ELF bytes. Debian 12's 6.1 kernels ship plain `.ko`, later ones `.ko.xz`;
/// busybox's insmod takes only plain ELF, so compressed modules are unpacked here.
fn ko_bytes(path: &Path) -> Result<Vec<u8>, String> {
    let tool = match path.extension().and_then(|e| e.to_str()) {
        Some("xz") => "xz",
        Some("zst") => "zstd",
        Some("gz") => "gzip",
        _ => return fs::read(path).map_err(|e| format!("{}: {e}", path.display())),
    };
    let out = Command::new(tool).arg("-dc").arg(path).output().map_err(|e| format!("{tool}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{tool} -dc {} failed", path.display()));
    }
    Ok(out.stdout)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake(name: &str) -> Result<Vec<String>, String> {
        let deps: &[&str] = match name {
            "virtio" => &["virtio_ring"],
            "virtio_rng" => &["virtio_ring", "virtio"],
            "virtio_net" => &["virtio_ring", "virtio", "net_failover"],
            "net_failover" => &["failover"],
            "virtio_ring" | "failover" => &[],
            other => return Err(format!("module {other} is not in this kernel")),
        };
        Ok(deps.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn dependencies_come_first_and_once() {
        let order = load_order(&["virtio-rng", "virtio_net"], fake).unwrap();
        assert_eq!(order, ["virtio_ring", "virtio", "virtio_rng", "failover", "net_failover", "virtio_net"]);
    }

    #[test]
    fn unknown_module_is_an_error() {
        let err = load_order(&["nope"], fake).unwrap_err();
        assert!(err.contains("nope"), "{err}");
    }

    #[test]
    fn reads_depends_from_modinfo() {
        let ko = b"\x7fELF...\0license=GPL\0depends=virtio_ring,virtio,net-failover\0retpoline=Y\0";
        assert_eq!(modinfo_depends(ko), ["virtio_ring", "virtio", "net_failover"]);
        assert!(modinfo_depends(b"\0depends=\0").is_empty());
    }

    #[test]
    fn compressed_names_are_stored_plain() {
        assert_eq!(strip_compression_suffix("virtio-rng.ko.xz"), "virtio-rng.ko");
        assert_eq!(module_name("virtio-rng.ko.zst"), "virtio_rng");
    }
}
