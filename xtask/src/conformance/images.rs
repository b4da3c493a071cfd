//! Placeholder storage for a converted domain: every image file it names is
//! created (small, in the format the XML says), NVRAM is a raw copy of the
//! matching OVMF variables template, and an external TPM gets the swtpm the
//! converter's note tells the user to start. What cannot be provided on this
//! host (block devices, network disks, host PCI/USB devices, another
//! distribution's firmware) makes the domain define-only; nothing in the XML is
//! rewritten to work around it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use pve2virt::libvirt::{
    Domain, DomainDisk, DomainDiskSource, DomainHostdevSource, DomainNvram, DomainSysinfo, DomainTpmBackend,
    DomainTpmSource,
};

use crate::process;

/// Where OVMF lives inside the target (Debian's ovmf package on both targets).
pub const OVMF_DIR: &str = "/usr/share/OVMF";

#[derive(Debug, Default)]
pub struct Provided {
    /// Why the domain can be defined but not started here, if it cannot.
    pub define_only: Vec<String>,
    /// Basename of the vars template the NVRAM was made from.
    pub vars_template: Option<String>,
    /// The swtpm serving an external TPM backend; stopped when this is dropped.
    pub swtpm: Option<ExternalSwtpm>,
}

/// An swtpm started the way the converter's `tpm_external_swtpm` note says, on scratch state.
#[derive(Debug)]
pub struct ExternalSwtpm(std::process::Child);

impl Drop for ExternalSwtpm {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Creates what the domain refers to. Only paths under `scratch` are ever created;
/// anything else must already exist. `tpm2`: the config's TPM is version 2.0.
pub fn provide(domain: &Domain, scratch: &Path, efidisk_conf: Option<&str>, tpm2: bool) -> Result<Provided, String> {
    let mut provided = Provided::default();
    if let Some(loader) = &domain.os.loader {
        // A loader outside the target's firmware directory names another distribution's
        // firmware (`--firmware-dir /usr/share/edk2/ovmf` for a RHEL target): correct for that
        // target, not startable on this one. A missing file inside it is a real failure.
        let path = &loader.path;
        if !path.is_empty() && !path.starts_with(OVMF_DIR) && !crate::target::get().host_path(path).exists() {
            provided.define_only.push(format!("firmware {path} is another target's (not on this one)"));
        }
    }
    // Host files and services a Proxmox host has and a test host does not: an Ignition config in
    // the Proxmox storage's snippets (`-fw_cfg file=`), the ivshmem-server of an ivshmem-doorbell.
    let fwcfg = domain.sysinfo.iter().filter_map(|s| match s {
        DomainSysinfo::Fwcfg(f) => Some(f),
        _ => None,
    });
    for entry in fwcfg.flat_map(|f| &f.entries) {
        if let Some(file) = entry.file.as_ref().filter(|f| !crate::target::get().host_path(f).exists()) {
            provided.define_only.push(format!("the Proxmox host's file {file} (fw_cfg)"));
        }
    }
    for shmem in &domain.devices.shmems {
        let server = shmem.server.as_ref().and_then(|s| s.path.as_ref());
        if let Some(socket) = server.filter(|p| !crate::target::get().host_path(p).exists()) {
            provided.define_only.push(format!("an ivshmem-server listening on {socket}"));
        }
    }
    for tpm in &domain.devices.tpms {
        let DomainTpmBackend::External { source: Some(DomainTpmSource { path: Some(socket), .. }) } = &tpm.backend
        else {
            continue;
        };
        provided.swtpm = Some(start_swtpm(socket, scratch, tpm2)?);
    }
    for hostdev in &domain.devices.hostdevs {
        let what = match hostdev.source {
            DomainHostdevSource::Pci(_) => "host PCI device (hostpci)",
            DomainHostdevSource::Usb(_) => "host USB device",
            DomainHostdevSource::Mdev(_) => "mediated device (mdev)",
            _ => "host device",
        };
        provided.define_only.push(format!("needs a {what}"));
    }
    for disk in &domain.devices.disks {
        provide_disk(disk, scratch, &mut provided)?;
    }
    if let Some(nvram) = &domain.os.nvram {
        let loader = domain.os.loader.as_ref().map(|l| l.path.as_str());
        provide_nvram(loader, nvram, scratch, efidisk_conf, &mut provided)?;
    }
    provided.define_only.dedup();
    Ok(provided)
}

fn provide_disk(disk: &DomainDisk, scratch: &Path, provided: &mut Provided) -> Result<(), String> {
    match &disk.source {
        DomainDiskSource::Block { dev: Some(dev) } => {
            provided.define_only.push(format!("block device {dev}"));
        }
        DomainDiskSource::Network(n) => {
            let name = n.name.as_deref().unwrap_or("?");
            provided.define_only.push(format!("network disk {}:{name}", n.protocol));
        }
        DomainDiskSource::File { file: Some(file) } => {
            let format = disk.driver.as_ref().and_then(|d| d.format.as_deref()).unwrap_or("raw");
            ensure_image(Path::new(file), format, scratch, provided)?;
        }
        // An empty CD-ROM tray, or a source this host is never given.
        _ => {}
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
    loader: Option<&str>,
    nvram: &DomainNvram,
    scratch: &Path,
    efidisk_conf: Option<&str>,
    provided: &mut Provided,
) -> Result<(), String> {
    let template = nvram.template.as_deref().map(basename);
    provided.vars_template = template.clone();
    let path = match &nvram.source {
        Some(DomainDiskSource::Block { dev }) => {
            provided.define_only.push(format!("NVRAM on block device {}", dev.clone().unwrap_or_default()));
            return Ok(());
        }
        Some(DomainDiskSource::Network(_)) => {
            provided.define_only.push("NVRAM on a network disk".to_owned());
            return Ok(());
        }
        Some(DomainDiskSource::File { file }) => file.as_ref().map(PathBuf::from),
        _ => nvram.path.as_ref().map(PathBuf::from).filter(|p| !p.as_os_str().is_empty()),
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
    let source = template.unwrap_or_else(|| vars_for(loader, efidisk_conf));
    provided.vars_template.get_or_insert(source.clone());
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    let from = crate::target::get().host_path(OVMF_DIR).join(&source);
    // A template of another target's firmware (already made define-only by its loader) has no file
    // here to copy: the define still judges the XML.
    let foreign = nvram.template.as_ref().is_some_and(|t| !t.starts_with(OVMF_DIR));
    if foreign && !from.exists() {
        return Ok(());
    }
    std::fs::copy(&from, &path).map_err(|e| format!("copy {} → {}: {e}", from.display(), path.display()))?;
    Ok(())
}

/// `swtpm socket … --ctrl type=unixio,path=SOCKET --terminate`, as the converter's note says,
/// with the state in scratch instead of the Proxmox volume.
fn start_swtpm(socket: &str, scratch: &Path, tpm2: bool) -> Result<ExternalSwtpm, String> {
    let socket = crate::target::get().host_path(socket);
    if let Some(dir) = socket.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let _ = std::fs::remove_file(&socket);
    std::fs::create_dir_all(scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
    let state = scratch.join("tpmstate.swtpm");
    let mut cmd = Command::new("swtpm");
    cmd.arg("socket")
        .arg(format!("--tpmstate=backend-uri=file://{}", state.display()))
        .arg(format!("--ctrl=type=unixio,path={}", socket.display()))
        .arg("--terminate");
    if tpm2 {
        cmd.arg("--tpm2");
    }
    let child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("swtpm: {e}"))?;
    let swtpm = ExternalSwtpm(child);
    for _ in 0..50 {
        if socket.exists() {
            return Ok(swtpm);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!("swtpm did not create {} within 5 s", socket.display()))
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
        // What libvirt itself requires (name, memory, os, a disk's target) is required by the model.
        let xml = "<domain type='kvm'><name>vm8006</name><memory unit='MiB'>512</memory>
            <os><type arch='x86_64' machine='pc'>hvm</type></os><devices>
            <disk type='block' device='disk'><source dev='/dev/veegee/vm-8006-disk-0'/><target dev='sda' bus='scsi'/></disk>
            <disk type='network' device='disk'><source protocol='rbd' name='cpool/vm-8006-disk-0'/><target dev='sdb' bus='scsi'/></disk>
            <hostdev mode='subsystem' type='pci'/></devices></domain>";
        let domain = pve2virt::libvirt::from_xml(xml).unwrap();
        let p = provide(&domain, Path::new("/nonexistent-scratch"), None, false).unwrap();
        assert_eq!(p.define_only.len(), 3);
        assert!(p.define_only.iter().any(|r| r.contains("rbd:cpool/vm-8006-disk-0")));
    }
}
