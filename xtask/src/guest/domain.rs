//! Turns a converted domain into a test boot of the same virtual hardware.
//!
//! Only what cannot work on a test host is changed: the firmware and boot disk give way to
//! direct kernel boot of the kit, host-side backends (bridges, block devices, Ceph, PCI
//! passthrough) become stand-ins, and the serial console goes to a file. Everything the guest
//! measures — SMBIOS UUID, vCPUs, memory, MACs, PCI addresses, disk buses, serials, rng, TPM —
//! is left exactly as the converter wrote it.

use pve2virt::libvirt::{
    Domain, DomainChardev, DomainChardevSource, DomainChardevTarget, DomainDiskSource, DomainInterfaceSource,
    DomainTpmBackend, DomainType,
};
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

/// Edits the converted domain, read through the converter's own libvirt model (which carries
/// all of what the converter writes, tests/roundtrip.rs).
pub fn rewrite(domain: &mut Domain, boot: &Boot) -> Result<Vec<Image>, String> {
    // KVM where it works; TCG runs anywhere (no /dev/kvm, nested virtualisation quirks). The
    // devices do not change either way.
    domain.domain_type = if boot.kvm { DomainType::Kvm } else { DomainType::Qemu };
    boot.name.clone_into(&mut domain.name);
    rewrite_os(domain, boot, boot.keep_storage);
    rewrite_host_bound(domain, boot.kvm);

    let devices = &mut domain.devices;
    // Host passthrough (PCI, USB, parallel ports) and virtiofs need host resources a test machine
    // does not have; the console devices are replaced by the log below.
    devices.hostdevs.clear();
    devices.redirdevs.clear();
    devices.filesystems.clear();
    devices.serials.clear();
    devices.consoles.clear();
    devices.parallels.clear();
    let mut images = Vec::new();
    for disk in &mut devices.disks {
        // Direct kernel boot and per-device boot order exclude each other.
        disk.boot = None;
        if !boot.keep_storage {
            images.extend(rewrite_disk(disk, boot.scratch)?);
        }
    }
    for interface in &mut devices.interfaces {
        interface.boot = None;
        rewrite_interface(interface);
    }
    for tpm in &mut devices.tpms {
        // A TPM with an `external` backend needs a swtpm started by hand; libvirt's own emulator
        // gives the guest the same device model.
        if matches!(tpm.backend, DomainTpmBackend::External { .. }) {
            tpm.backend = DomainTpmBackend::Emulator { version: Some("2.0".into()), source: None };
        }
    }
    let log = Some(boot.serial_log.to_string_lossy().into_owned());
    devices.serials.push(DomainChardev {
        source: DomainChardevSource::File { path: log.clone() },
        target: Some(DomainChardevTarget { target_type: None, name: None, port: Some(0) }),
        address: None,
    });
    devices.consoles.push(DomainChardev {
        source: DomainChardevSource::File { path: log },
        target: Some(DomainChardevTarget { target_type: Some("serial".into()), name: None, port: Some(0) }),
        address: None,
    });
    Ok(images)
}

fn rewrite_os(domain: &mut Domain, boot: &Boot, keep_firmware: bool) {
    let os = &mut domain.os;
    // OVMF and its varstore: direct kernel boot goes through SeaBIOS, and the efidisk must not
    // be touched by a test (unless the firmware is what is tested: then OVMF loads the kernel).
    if !keep_firmware {
        os.loader = None;
        os.nvram = None;
    }
    os.boot.clear();
    os.boot_menu = None;
    os.kernel = Some(boot.kernel.to_string_lossy().into_owned());
    os.initrd = Some(boot.initrd.to_string_lossy().into_owned());
    os.cmdline = Some(boot.cmdline.to_owned());
}

/// Settings that pin to host CPUs or memory that may not exist here, and under TCG those that
/// only work with KVM.
fn rewrite_host_bound(domain: &mut Domain, kvm: bool) {
    if let (false, Some(cpu)) = (kvm, domain.cpu.as_mut()) {
        // TCG cannot pass the host CPU through; `maximum` keeps the topology children.
        if matches!(cpu.mode.as_str(), "host-passthrough" | "host-model") {
            cpu.mode = "maximum".into();
            cpu.migratable = None;
        }
    }
    if !kvm {
        // Hyper-V enlightenments fail at start under TCG (docs/mapping.md#windows).
        domain.features.hyperv = None;
    }
    domain.vcpu.cpuset = None;
    if let Some(backing) = domain.memory_backing.as_mut() {
        backing.hugepages = None;
    }
    // TCG's CPUs address 40 bits; a memory-hotplug maximum sized for the Proxmox host's CPU
    // (up to 4 TiB) does not fit. The boot memory, which the guest sees, is unchanged.
    if let Some(max) = domain.max_memory.as_mut() {
        const CAP_MIB: u64 = 256 << 10;
        let mib = match max.unit.as_str() {
            "KiB" | "k" | "K" => max.value >> 10,
            "GiB" | "G" => max.value << 10,
            "TiB" | "T" => max.value << 20,
            _ => max.value,
        };
        if mib > CAP_MIB {
            (max.value, max.unit) = (CAP_MIB, "MiB".into());
        }
    }
    domain.numatune = None;
    domain.cputune = None;
}

fn rewrite_disk(disk: &mut pve2virt::libvirt::DomainDisk, scratch: &Path) -> Result<Option<Image>, String> {
    let is_cdrom = disk.device == "cdrom";
    if is_cdrom && disk.source == (DomainDiskSource::File { file: None }) {
        return Ok(None); // an empty drive stays empty
    }
    // scsi-block needs a real SCSI device behind it; the guest still sees a SCSI disk.
    if disk.device == "lun" {
        disk.device = "disk".into();
        disk.sgio = None;
    }
    if disk.target.dev.is_empty() {
        return Err("a <disk> without <target dev=…>".into());
    }
    let format = match disk.driver.as_ref().and_then(|d| d.format.as_deref()) {
        Some(f) if f != "raw" && !is_cdrom => f.to_owned(),
        _ => "raw".to_owned(),
    };
    let path = scratch.join(format!("{}.{format}", disk.target.dev));
    disk.auth = None;
    disk.source = DomainDiskSource::File { file: Some(path.to_string_lossy().into_owned()) };
    if let Some(driver) = disk.driver.as_mut() {
        // io='native' is for block devices and O_DIRECT; a sparse scratch file may sit on tmpfs.
        driver.io = None;
        driver.cache = Some("unsafe".into());
    }
    Ok(Some(Image { path, format }))
}

/// The guest sees the NIC model, MAC and PCI address; the host side (bridge, VLAN, tap name,
/// bandwidth) is not visible to it and needs host set-up, so user-mode networking stands in.
fn rewrite_interface(iface: &mut pve2virt::libvirt::DomainInterface) {
    iface.source = DomainInterfaceSource::User;
    iface.virtualport = None;
    iface.vlan = None;
    iface.bandwidth = None;
    iface.target = None;
    iface.driver = None;
    iface.filterref = None;
    iface.mtu = None;
}

#[cfg(test)]
mod tests {
    use super::*;
    use pve2virt::libvirt::{from_xml, to_xml};

    const CONVERTED: &str = "<domain type='kvm'>
  <name>web-100</name>
  <uuid>7b10d7af-b932-4c66-b2c3-3996152ec465</uuid>
  <memory unit='MiB'>512</memory>
  <vcpu placement='static' cpuset='0-1'>2</vcpu>
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
        let mut d = from_xml(CONVERTED).unwrap();
        let images = rewrite(&mut d, &boot()).unwrap();
        let xml = to_xml(&d).unwrap();
        assert!(xml.starts_with("<domain type='qemu'>"), "{xml}");
        assert!(xml.contains("<name>guest-x</name>"));
        assert!(xml.contains("<uuid>7b10d7af-b932-4c66-b2c3-3996152ec465</uuid>"));
        assert!(
            xml.contains(
                "<type arch='x86_64' machine='q35'>hvm</type>\n    <kernel>/k/vmlinuz</kernel>\n    \
                 <initrd>/k/initrd</initrd>\n    <cmdline>console=ttyS0</cmdline>\n  </os>"
            ),
            "{xml}"
        );
        for gone in ["<loader", "<nvram", "<boot", "vmbr0", "<vlan", "/run/x.sock", "/dev/pve", "io='native'", "cpuset"]
        {
            assert!(!xml.contains(gone), "{gone} left in {xml}");
        }
        assert!(xml
            .contains("<cpu mode='maximum' check='none'>\n    <topology sockets='1' dies='1' cores='2' threads='1'/>"));
        assert!(xml.contains("<disk type='file' device='disk'>"));
        assert!(xml.contains("<source file='/s/sda.raw'/>"));
        assert!(xml.contains("<serial>drive-scsi0</serial>"), "disk serial is guest-visible");
        assert!(xml.contains("<interface type='user'>"));
        assert!(xml.contains("<mac address='bc:24:11:2a:3b:4c'/>"));
        assert!(xml.contains("slot='0x12'"));
        assert!(xml.contains("<rate bytes='1024' period='1000'/>"));
        assert!(
            xml.contains("<serial type='file'>\n      <source path='/s/serial.log'/>\n      <target port='0'/>"),
            "{xml}"
        );
        assert!(xml.contains(
            "<console type='file'>\n      <source path='/s/serial.log'/>\n      <target type='serial' port='0'/>"
        ));
        assert_eq!(xml.matches("<serial type=").count(), 1);
        assert_eq!(images, [Image { path: "/s/sda.raw".into(), format: "raw".into() }]);
    }

    #[test]
    fn qcow2_placeholder_and_external_tpm() {
        let mut d = from_xml(
            "<domain type='kvm'><name>t</name><memory unit='MiB'>1</memory><os><type arch='x86_64' machine='pc'>hvm</type></os><devices>\
             <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/var/lib/vz/images/1/a.qcow2'/><target dev='vda' bus='virtio'/></disk>\
             <tpm model='tpm-tis'><backend type='external'><source type='unix' mode='connect' path='/run/x'/></backend></tpm>\
             </devices></domain>",
        )
        .unwrap();
        let images = rewrite(&mut d, &boot()).unwrap();
        assert_eq!(images[0].path, Path::new("/s/vda.qcow2"));
        assert_eq!(images[0].format, "qcow2");
        assert_eq!(d.devices.tpms[0].backend, DomainTpmBackend::Emulator { version: Some("2.0".into()), source: None });
    }

    #[test]
    fn a_hotplug_maximum_too_large_for_tcg_is_capped() {
        let mut d = from_xml(
            "<domain type='kvm'><name>t</name><maxMemory slots='255' unit='KiB'>4294967296</maxMemory>\
             <memory unit='MiB'>1</memory><os><type arch='x86_64' machine='pc'>hvm</type></os></domain>",
        )
        .unwrap();
        rewrite(&mut d, &boot()).unwrap();
        let max = d.max_memory.unwrap();
        assert_eq!((max.value, max.unit.as_str()), (256 << 10, "MiB"));
    }
}
