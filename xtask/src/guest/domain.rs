//! Turns a converted domain into a test boot of the same virtual hardware.
//!
//! Only what cannot work on a test host is changed: the firmware and boot disk give way to
//! direct kernel boot of the kit, host-side backends (bridges, block devices, Ceph, PCI
//! passthrough) become stand-ins, and the serial console goes to a file. Everything the guest
//! measures — SMBIOS UUID, vCPUs, memory, MACs, PCI addresses, disk buses, serials, rng, TPM —
//! is left exactly as the converter wrote it.

use super::xml::{Element, Node};
use std::path::{Path, PathBuf};

pub struct Boot<'a> {
    pub name: &'a str,
    pub kernel: &'a Path,
    pub initrd: &'a Path,
    pub cmdline: &'a str,
    pub serial_log: &'a Path,
    /// Every disk image the test boots from is created here, whatever the converter's path:
    /// the test must never write where a real VM's disk could live.
    pub scratch: &'a Path,
    /// Run under KVM; otherwise TCG, with what only KVM can do taken out.
    pub kvm: bool,
    /// Keep the domain's own disks and firmware (`pve2virt migrate`'s copies are what is
    /// checked, `.ci/migrate`): only the kernel, initrd and serial console are added.
    pub keep_storage: bool,
}

/// A disk image to create (`qemu-img create -f FORMAT PATH SIZE`) before the domain starts.
#[derive(Debug, PartialEq)]
pub struct Image {
    pub path: PathBuf,
    pub format: String,
}

pub fn rewrite(domain: &mut Element, boot: &Boot) -> Result<Vec<Image>, String> {
    if domain.name != "domain" {
        return Err(format!("expected <domain>, found <{}>", domain.name));
    }
    // KVM where it works; TCG runs anywhere (no /dev/kvm, nested virtualisation quirks). The
    // devices do not change either way.
    domain.set_attr("type", if boot.kvm { "kvm" } else { "qemu" });
    domain.child_or_insert("name").set_text(boot.name);
    rewrite_os(domain, boot, boot.keep_storage);
    rewrite_host_bound(domain, boot.kvm);

    let devices = domain.child_or_insert("devices");
    let mut images = Vec::new();
    // Host passthrough (PCI, USB, parallel ports) and virtiofs need host resources a test machine
    // does not have; the console devices are replaced by the log below.
    devices.retain_elements(|d| {
        !matches!(d.name.as_str(), "hostdev" | "redirdev" | "filesystem" | "serial" | "console" | "parallel")
    });
    for dev in devices.elements_mut() {
        // Direct kernel boot and per-device boot order exclude each other.
        dev.retain_elements(|c| c.name != "boot");
        match dev.name.as_str() {
            "disk" if boot.keep_storage => {}
            "disk" => images.extend(rewrite_disk(dev, boot.scratch)?),
            "interface" => rewrite_interface(dev),
            "tpm" => rewrite_tpm(dev),
            _ => {}
        }
    }
    let log = boot.serial_log.to_string_lossy();
    devices.push(
        Element::new("serial")
            .with_attr("type", "file")
            .with_child(Element::new("source").with_attr("path", &log))
            .with_child(Element::new("target").with_attr("port", "0")),
    );
    devices.push(
        Element::new("console")
            .with_attr("type", "file")
            .with_child(Element::new("source").with_attr("path", &log))
            .with_child(Element::new("target").with_attr("type", "serial").with_attr("port", "0")),
    );
    Ok(images)
}

fn rewrite_os(domain: &mut Element, boot: &Boot, keep_firmware: bool) {
    let os = domain.child_or_insert("os");
    // Firmware auto-selection, OVMF and its varstore: direct kernel boot goes through SeaBIOS,
    // and the efidisk must not be touched by a test (unless the firmware is what is tested:
    // then OVMF loads the kernel).
    if !keep_firmware {
        os.remove_attr("firmware");
    }
    os.retain_elements(|c| match c.name.as_str() {
        "loader" | "nvram" => keep_firmware,
        "boot" | "bootmenu" | "kernel" | "initrd" | "cmdline" => false,
        _ => true,
    });
    let at = os.children.iter().position(|c| matches!(c, Node::Element(e) if e.name == "type")).map_or(0, |i| i + 1);
    let kernel = Element::new("kernel").with_text(&boot.kernel.to_string_lossy());
    let initrd = Element::new("initrd").with_text(&boot.initrd.to_string_lossy());
    let cmdline = Element::new("cmdline").with_text(boot.cmdline);
    for (i, e) in [kernel, initrd, cmdline].into_iter().enumerate() {
        os.children.insert(at + i, Node::Element(e));
    }
}

/// Settings that pin to host CPUs or memory that may not exist here, and under TCG those that
/// only work with KVM.
fn rewrite_host_bound(domain: &mut Element, kvm: bool) {
    if let (false, Some(cpu)) = (kvm, domain.child_mut("cpu")) {
        // TCG cannot pass the host CPU through; `maximum` keeps the topology children.
        if matches!(cpu.attr("mode").as_deref(), Some("host-passthrough" | "host-model")) {
            cpu.set_attr("mode", "maximum");
            cpu.remove_attr("migratable");
        }
    }
    if let (false, Some(features)) = (kvm, domain.child_mut("features")) {
        // Hyper-V enlightenments fail at start under TCG (docs/mapping.md#windows).
        features.retain_elements(|f| f.name != "hyperv");
    }
    if let Some(vcpu) = domain.child_mut("vcpu") {
        vcpu.remove_attr("cpuset");
    }
    if let Some(mb) = domain.child_mut("memoryBacking") {
        mb.retain_elements(|c| c.name != "hugepages");
    }
    // TCG's CPUs address 40 bits; a memory-hotplug maximum sized for the Proxmox host's CPU
    // (up to 4 TiB) does not fit. The boot memory, which the guest sees, is unchanged.
    if let Some(max) = domain.child_mut("maxMemory") {
        let mib = max.text().trim().parse::<u64>().unwrap_or(0);
        if mib > 256 << 10 {
            max.set_text(&(256u64 << 10).to_string());
        }
    }
    domain.retain_elements(|e| !matches!(e.name.as_str(), "numatune" | "cputune"));
}

fn rewrite_disk(disk: &mut Element, scratch: &Path) -> Result<Option<Image>, String> {
    let is_cdrom = disk.attr("device").as_deref() == Some("cdrom");
    if is_cdrom && disk.child("source").is_none() {
        return Ok(None); // an empty drive stays empty
    }
    // scsi-block needs a real SCSI device behind it; the guest still sees a SCSI disk.
    if disk.attr("device").as_deref() == Some("lun") {
        disk.set_attr("device", "disk");
        disk.remove_attr("sgio");
    }
    let target = disk.child("target").and_then(|t| t.attr("dev")).ok_or("a <disk> without <target dev=…>")?;
    let format = match disk.child("driver").and_then(|d| d.attr("type")) {
        Some(f) if f != "raw" && !is_cdrom => f,
        _ => "raw".to_string(),
    };
    let path = scratch.join(format!("{target}.{format}"));
    disk.set_attr("type", "file");
    disk.retain_elements(|c| c.name != "auth");
    let source = disk.child_or_insert("source");
    *source = Element::new("source").with_attr("file", &path.to_string_lossy());
    if let Some(driver) = disk.child_mut("driver") {
        // io='native' is for block devices and O_DIRECT; a sparse scratch file may sit on tmpfs.
        driver.remove_attr("io");
        driver.set_attr("cache", "unsafe");
    }
    Ok(Some(Image { path, format }))
}

/// The guest sees the NIC model, MAC and PCI address; the host side (bridge, VLAN, tap name,
/// bandwidth) is not visible to it and needs host set-up, so user-mode networking stands in.
fn rewrite_interface(iface: &mut Element) {
    iface.set_attr("type", "user");
    iface.retain_elements(|c| matches!(c.name.as_str(), "mac" | "model" | "address" | "link" | "rom"));
}

/// A TPM with an `external` backend needs a swtpm started by hand; libvirt's own emulator gives
/// the guest the same device model.
fn rewrite_tpm(tpm: &mut Element) {
    let Some(backend) = tpm.child_mut("backend") else {
        return;
    };
    if backend.attr("type").as_deref() == Some("external") {
        *backend = Element::new("backend").with_attr("type", "emulator").with_attr("version", "2.0");
    }
}

#[cfg(test)]
mod tests {
    use super::super::xml::parse;
    use super::*;

    const CONVERTED: &str = "<domain type='kvm'>
  <name>web-100</name>
  <uuid>7b10d7af-b932-4c66-b2c3-3996152ec465</uuid>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <loader readonly='yes' secure='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.secboot.fd</loader>
    <nvram>/var/lib/vz/images/100/vm-100-disk-1.raw</nvram>
    <boot dev='hd'/>
  </os>
  <cpu mode='host-passthrough' check='none' migratable='on'><topology sockets='1' dies='1' cores='2' threads='1'/></cpu>
  <devices>
    <disk type='block' device='disk'>
      <driver name='qemu' type='raw' cache='none' io='native'/>
      <source dev='/dev/pve/vm-100-disk-0'/>
      <target dev='sda' bus='scsi'/>
      <serial>drive-scsi0</serial>
      <boot order='1'/>
    </disk>
    <disk type='file' device='cdrom'>
      <target dev='sdb' bus='sata'/>
      <readonly/>
    </disk>
    <interface type='bridge'>
      <mac address='bc:24:11:2a:3b:4c'/>
      <source bridge='vmbr0'/>
      <vlan><tag id='20'/></vlan>
      <model type='virtio'/>
      <address type='pci' domain='0' bus='0' slot='0x12' function='0'/>
    </interface>
    <serial type='unix'><source mode='bind' path='/run/x.sock'/><target port='0'/></serial>
    <rng model='virtio'><rate bytes='1024' period='1000'/><backend model='random'>/dev/urandom</backend></rng>
  </devices>
</domain>
";

    fn boot() -> Boot<'static> {
        Boot {
            name: "guest-x",
            kernel: Path::new("/k/vmlinuz"),
            initrd: Path::new("/k/initrd"),
            cmdline: "console=ttyS0",
            serial_log: Path::new("/s/serial.log"),
            scratch: Path::new("/s"),
            kvm: false,
            keep_storage: false,
        }
    }

    #[test]
    fn swaps_boot_and_backends_and_keeps_guest_visible_parts() {
        let mut d = parse(CONVERTED).unwrap();
        let images = rewrite(&mut d, &boot()).unwrap();
        let xml = d.to_xml();
        assert!(xml.starts_with("<domain type='qemu'>"), "{xml}");
        assert!(xml.contains("<name>guest-x</name>"));
        assert!(xml.contains("<uuid>7b10d7af-b932-4c66-b2c3-3996152ec465</uuid>"));
        assert!(xml.contains("<type arch='x86_64' machine='q35'>hvm</type><kernel>/k/vmlinuz</kernel><initrd>/k/initrd</initrd><cmdline>console=ttyS0</cmdline>"), "{xml}");
        for gone in ["<loader", "<nvram", "<boot", "vmbr0", "<vlan", "/run/x.sock", "/dev/pve", "io='native'"] {
            assert!(!xml.contains(gone), "{gone} left in {xml}");
        }
        assert!(xml
            .contains("<cpu mode='maximum' check='none'><topology sockets='1' dies='1' cores='2' threads='1'/></cpu>"));
        assert!(xml.contains("<disk type='file' device='disk'>"));
        assert!(xml.contains("<source file='/s/sda.raw'/>"));
        assert!(xml.contains("<serial>drive-scsi0</serial>"), "disk serial is guest-visible");
        assert!(xml.contains("<interface type='user'>"));
        assert!(xml.contains("<mac address='bc:24:11:2a:3b:4c'/>"));
        assert!(xml.contains("slot='0x12'"));
        assert!(xml.contains("<rate bytes='1024' period='1000'/>"));
        assert!(xml.contains("<serial type='file'><source path='/s/serial.log'/><target port='0'/></serial>"));
        assert!(xml
            .contains("<console type='file'><source path='/s/serial.log'/><target type='serial' port='0'/></console>"));
        assert_eq!(xml.matches("<serial type=").count(), 1);
        assert_eq!(images, [Image { path: "/s/sda.raw".into(), format: "raw".into() }]);
    }

    #[test]
    fn qcow2_placeholder_and_external_tpm() {
        let mut d = parse(
            "<domain type='kvm'><os><type>hvm</type></os><devices>\
             <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/var/lib/vz/images/1/a.qcow2'/><target dev='vda' bus='virtio'/></disk>\
             <tpm model='tpm-tis'><backend type='external'><source type='unix' mode='connect' path='/run/x'/></backend></tpm>\
             </devices></domain>",
        )
        .unwrap();
        let images = rewrite(&mut d, &boot()).unwrap();
        assert_eq!(images[0].path, Path::new("/s/vda.qcow2"));
        assert_eq!(images[0].format, "qcow2");
        assert!(d.to_xml().contains("<tpm model='tpm-tis'><backend type='emulator' version='2.0'/></tpm>"));
    }

    #[test]
    fn rejects_other_documents() {
        assert!(rewrite(&mut parse("<network/>").unwrap(), &boot()).is_err());
    }
}
