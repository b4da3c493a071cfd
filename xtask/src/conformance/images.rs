//! Placeholder storage for a converted domain: every image file it names is
//! created (small, in the format the XML says), and NVRAM is a raw copy of the
//! matching OVMF variables template. What cannot be provided on this host
//! (block devices, network disks, host PCI/USB devices) makes the domain
//! define-only; nothing in the XML is rewritten to work around it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::domain_xml::{elements, Element};
use crate::process;

pub const OVMF_DIR: &str = "/usr/share/OVMF";

#[derive(Debug, Default)]
pub struct Provided {
    /// Why the domain can be defined but not started here, if it cannot.
    pub define_only: Vec<String>,
    /// Basename of the vars template the NVRAM was made from.
    pub vars_template: Option<String>,
}

/// Creates what `xml` refers to. Only paths under `scratch` are ever created;
/// anything else must already exist.
pub fn provide(xml: &str, scratch: &Path, efidisk_conf: Option<&str>) -> Result<Provided, String> {
    let mut provided = Provided::default();
    for hostdev in elements(xml, "hostdev") {
        let what = match hostdev.attr("type") {
            Some("pci") => "host PCI device (hostpci)",
            Some("usb") => "host USB device",
            Some("mdev") => "mediated device (mdev)",
            _ => "host device",
        };
        provided.define_only.push(format!("needs a {what}"));
    }
    for disk in elements(xml, "disk") {
        provide_disk(&disk, scratch, &mut provided)?;
    }
    for nvram in elements(xml, "nvram") {
        provide_nvram(xml, &nvram, scratch, efidisk_conf, &mut provided)?;
    }
    provided.define_only.dedup();
    Ok(provided)
}

fn provide_disk(disk: &Element, scratch: &Path, provided: &mut Provided) -> Result<(), String> {
    let Some(source) = disk.child("source") else {
        return Ok(()); // empty cdrom tray
    };
    match disk.attr("type") {
        Some("block") => {
            let dev = source.attr("dev").unwrap_or("?");
            provided.define_only.push(format!("block device {dev}"));
        }
        Some("network") => {
            let protocol = source.attr("protocol").unwrap_or("?");
            let name = source.attr("name").unwrap_or("?");
            provided.define_only.push(format!("network disk {protocol}:{name}"));
        }
        _ => {
            let Some(file) = source.attr("file") else {
                return Ok(());
            };
            let format = disk
                .child("driver")
                .and_then(|d| d.attr("type").map(str::to_owned))
                .unwrap_or_else(|| "raw".to_owned());
            ensure_image(Path::new(file), &format, scratch, provided)?;
        }
    }
    Ok(())
}

fn ensure_image(path: &Path, format: &str, scratch: &Path, provided: &mut Provided) -> Result<(), String> {
    if path.exists() {
        return Ok(());
    }
    if !path.starts_with(scratch) {
        provided.define_only.push(format!("{} is outside the mapped storage", path.display()));
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    // `qemu-img create` knows every format libvirt may name (raw, qcow2, vmdk…).
    let out = process::run(
        Command::new("qemu-img").args(["create", "-q", "-f", format]).arg(path).arg("16M"),
        Duration::from_secs(30),
    )
    .map_err(|e| format!("qemu-img: {e}"))?;
    if !out.success() {
        return Err(format!("qemu-img create -f {format} {}: {}", path.display(), out.failure_reason()));
    }
    Ok(())
}

fn provide_nvram(
    xml: &str,
    nvram: &Element,
    scratch: &Path,
    efidisk_conf: Option<&str>,
    provided: &mut Provided,
) -> Result<(), String> {
    let template = nvram.attr("template").map(basename);
    provided.vars_template = template.clone();
    let path = match nvram.attr("type") {
        Some("block") => {
            let dev = nvram.child("source").and_then(|s| s.attr("dev").map(str::to_owned));
            provided.define_only.push(format!("NVRAM on block device {}", dev.unwrap_or_default()));
            return Ok(());
        }
        Some("network") => {
            provided.define_only.push("NVRAM on a network disk".to_owned());
            return Ok(());
        }
        Some("file") => nvram.child("source").and_then(|s| s.attr("file").map(PathBuf::from)),
        _ => Some(PathBuf::from(nvram.text())).filter(|p| !p.as_os_str().is_empty()),
    };
    // No path: libvirt makes its own from the template at start.
    let Some(path) = path else { return Ok(()) };
    if path.exists() {
        return Ok(());
    }
    if !path.starts_with(scratch) {
        provided.define_only.push(format!("NVRAM {} is outside the mapped storage", path.display()));
        return Ok(());
    }
    let loader = elements(xml, "loader").into_iter().next().map(|l| l.text());
    let source = template.unwrap_or_else(|| vars_for(loader.as_deref(), efidisk_conf));
    provided.vars_template.get_or_insert(source.clone());
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    let from = Path::new(OVMF_DIR).join(&source);
    std::fs::copy(&from, &path).map_err(|e| format!("copy {} → {}: {e}", from.display(), path.display()))?;
    Ok(())
}

fn basename(path: &str) -> String {
    path.rsplit('/').next().unwrap_or(path).to_owned()
}

/// The vars template a Proxmox efidisk starts from (Proxmox `OVMF.pm`): 4m
/// (from the loader name, or `efitype=4m`) → `OVMF_VARS_4M.fd`, with
/// Microsoft keys when `pre-enrolled-keys=1`; 2m → `OVMF_VARS.fd`.
pub fn vars_for(loader: Option<&str>, efidisk_conf: Option<&str>) -> String {
    let conf = efidisk_conf.unwrap_or("");
    let four_m = loader.is_some_and(|l| l.contains("_4M")) || conf.contains("efitype=4m");
    let enrolled = conf.contains("pre-enrolled-keys=1");
    match (four_m, enrolled) {
        (true, true) => "OVMF_VARS_4M.ms.fd",
        (true, false) => "OVMF_VARS_4M.fd",
        (false, _) => "OVMF_VARS.fd",
    }
    .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vars_template_choice() {
        assert_eq!(vars_for(Some("/usr/share/OVMF/OVMF_CODE_4M.secboot.fd"), None), "OVMF_VARS_4M.fd");
        assert_eq!(
            vars_for(None, Some("local:100/vm-100-disk-0.raw,efitype=4m,pre-enrolled-keys=1")),
            "OVMF_VARS_4M.ms.fd"
        );
        assert_eq!(vars_for(Some("/usr/share/OVMF/OVMF_CODE.fd"), None), "OVMF_VARS.fd");
    }

    #[test]
    fn block_and_network_disks_make_a_domain_define_only() {
        let xml = "<domain><devices>
            <disk type='block' device='disk'><source dev='/dev/veegee/vm-8006-disk-0'/></disk>
            <disk type='network' device='disk'><source protocol='rbd' name='cpool/vm-8006-disk-0'/></disk>
            <hostdev mode='subsystem' type='pci'/></devices></domain>";
        let p = provide(xml, Path::new("/nonexistent-scratch"), None).unwrap();
        assert_eq!(p.define_only.len(), 3);
        assert!(p.define_only.iter().any(|r| r.contains("rbd:cpool/vm-8006-disk-0")));
    }
}
