//! Boot order (QemuServer.pm `device_bootorder`, docs/proxmox-config.md#boot-order).
//!
//! Proxmox gives each bootable device a QEMU `bootindex`; libvirt's per-device `<boot order='N'/>`
//! becomes exactly that `bootindex`, so the same numbers are kept and firmware sees the same order.
//! `order=a;b;c` numbers the listed devices 100, 101, …; the legacy letters (`cdn`, the default)
//! give letter i the base (i+1)·100: CD-ROMs count up from the `d` base in drive order, only the
//! `bootdisk` gets the `c` base plus its position among disks, NICs count up from the `n` base.

use std::collections::BTreeMap;

use crate::pve::vm::VmConfig;

/// The bootindex of each device (`scsi0`, `net1`, `hostpci0`, `usb2`).
pub fn boot_indices(vm: &VmConfig) -> BTreeMap<String, u32> {
    let mut out = BTreeMap::new();
    let boot = vm.keys().boot();
    if let Some(order) = boot.and_then(|b| b.boot_devices()) {
        for (i, dev) in order.value.devices.iter().enumerate() {
            // A device listed but absent gets no index: Proxmox skips it too.
            if vm.get(dev).is_some() {
                out.insert(dev.to_owned(), 100 + i as u32);
            }
        }
        return out;
    }
    let legacy = match boot {
        Some(b) => match b.legacy() {
            Some(l) => l.to_owned(),
            // `boot:` with an empty value: no device gets a bootindex.
            None => return out,
        },
        None => "cdn".to_owned(),
    };
    let base = |letter: char| legacy.find(letter).map(|i| (i as u32 + 1) * 100);
    let bootdisk = vm.keys().bootdisk();
    let (mut cdroms, mut disks) = (0, 0);
    for drive in vm.drives() {
        let key = drive.key.clone();
        let is_cdrom = drive.cdrom;
        let file = drive.file;
        if is_cdrom {
            if is_cloudinit(file) {
                continue;
            }
            if let Some(b) = base('d') {
                out.insert(key.clone(), b + cdroms);
            }
            cdroms += 1;
        } else {
            if bootdisk == Some(key.as_str()) {
                if let Some(b) = base('c') {
                    out.insert(key.clone(), b + disks);
                }
            }
            disks += 1;
        }
    }
    if let Some(b) = base('n') {
        for (k, (i, _)) in vm.keys().net().enumerate() {
            out.insert(format!("net{i}"), b + k as u32);
        }
    }
    out
}

/// A Proxmox cloud-init drive (QemuServer.pm `drive_is_cloudinit`).
pub fn is_cloudinit(file: &str) -> bool {
    let name = file.rsplit([':', '/']).next().unwrap_or(file);
    let stem = name.split_once('.').map_or(name, |(s, ext)| {
        if ["raw", "qcow", "qcow2", "qed", "vmdk", "cloop"].contains(&ext) {
            s
        } else {
            name
        }
    });
    stem == "cloudinit" || (stem.starts_with("vm-") && stem.ends_with("-cloudinit"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn cloudinit_names() {
        assert!(super::is_cloudinit("local-lvm:vm-120-cloudinit"));
        assert!(super::is_cloudinit("local:120/vm-120-cloudinit.qcow2"));
        assert!(!super::is_cloudinit("local:iso/cloudinit-guide.iso"));
    }
}
