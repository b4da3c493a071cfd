//! Every Proxmox key is accounted for: for each key of the schema (`pve::schema::KEYS`), a config
//! that sets it converts, and the key either became XML or got a note with a reason — never the
//! generic "not yet translated" fallback, never silence. Adding a key to the schema without a
//! sample here fails the test, so every new key gets a handler.

use pve2virt::pve::schema::KEYS;
use pve2virt::{convert, Options};

/// A valid value for every key (indexed families by their first index), with the lines it needs
/// beside it.
const SAMPLES: &[(&str, &str, &str)] = &[
    ("acpi", "0", ""),
    ("affinity", "0-1", ""),
    ("agent", "1,fstrim_cloned_disks=1", ""),
    ("allow-ksm", "0", ""),
    ("amd-sev", "type=std", "bios: ovmf\n"),
    ("args", "-global kvm-pit.lost_tick_policy=discard", ""),
    ("arch", "x86_64", ""),
    ("audio0", "device=ich9-intel-hda,driver=spice", ""),
    ("autostart", "1", ""),
    ("balloon", "256", ""),
    ("bios", "ovmf", ""),
    (
        "boot",
        "order=scsi0;net0",
        "scsi0: local-lvm:vm-100-disk-0,size=8G\nnet0: virtio=BC:24:11:00:00:01,bridge=vmbr0\n",
    ),
    ("bootdisk", "scsi0", "boot: c\nscsi0: local-lvm:vm-100-disk-0,size=8G\n"),
    ("cdrom", "none", ""),
    ("cicustom", "user=local:snippets/user.yaml", ""),
    ("cipassword", "$5$secret", ""),
    ("citype", "nocloud", ""),
    ("ciupgrade", "0", ""),
    ("ciuser", "admin", ""),
    ("cores", "4", ""),
    ("cpu", "host,flags=+aes", ""),
    ("cpulimit", "1.5", ""),
    ("cpuunits", "200", ""),
    ("description", "a web server", ""),
    ("efidisk0", "local-lvm:vm-100-disk-1,efitype=4m,pre-enrolled-keys=1,size=4M", "bios: ovmf\nmachine: q35\n"),
    ("freeze", "1", ""),
    ("hookscript", "local:snippets/hook.pl", ""),
    ("hostpci0", "0000:01:00.0,pcie=1", "machine: q35\n"),
    ("hotplug", "disk,network,usb", ""),
    ("hugepages", "2", "numa: 1\n"),
    ("ide0", "local:iso/debian.iso,media=cdrom", ""),
    ("intel-tdx", "type=tdx,attestation=1", "bios: ovmf\n"),
    ("ipconfig0", "ip=dhcp", ""),
    ("ivshmem", "size=32", ""),
    ("keephugepages", "1", "numa: 1\nhugepages: 2\n"),
    ("keyboard", "de", ""),
    ("kvm", "0", ""),
    ("localtime", "1", ""),
    ("lock", "backup", ""),
    ("machine", "pc-q35-8.1+pve0,viommu=intel", ""),
    ("memory", "2048", ""),
    ("meta", "creation-qemu=9.0.2,ctime=1725975013", ""),
    ("migrate_downtime", "0.5", ""),
    ("migrate_speed", "100", ""),
    ("name", "web01", ""),
    ("nameserver", "10.0.0.1", ""),
    ("net0", "virtio=BC:24:11:00:00:01,bridge=vmbr0,tag=20", ""),
    ("numa", "1", ""),
    ("numa0", "cpus=0-1,memory=512,hostnodes=0,policy=bind", "numa: 1\ncores: 2\n"),
    ("onboot", "1", ""),
    ("ostype", "win11", ""),
    ("parallel0", "/dev/parport0", ""),
    ("parent", "snap1", ""),
    ("protection", "1", ""),
    ("reboot", "0", ""),
    ("rng0", "source=/dev/urandom", ""),
    ("running-nets-host-mtu", "net0=1500", ""),
    ("runningcpu", "kvm64,enforce,+kvm_pv_eoi", ""),
    ("runningmachine", "pc-i440fx-9.0+pve0", ""),
    ("sata0", "local-lvm:vm-100-disk-2,size=8G", ""),
    ("scsi0", "local-lvm:vm-100-disk-0,iothread=1,size=8G", "scsihw: virtio-scsi-single\n"),
    ("scsihw", "virtio-scsi-pci", "scsi0: local-lvm:vm-100-disk-0,size=8G\n"),
    ("searchdomain", "example.com", ""),
    ("serial0", "socket", ""),
    ("shares", "500", ""),
    ("smbios1", "uuid=3dd750ce-d910-44d0-9493-525c0be4e687,manufacturer=Proxmox", ""),
    ("smp", "2", ""),
    ("snapstate", "prepare", ""),
    ("snaptime", "1737548747", ""),
    ("sockets", "2", ""),
    ("spice_enhancements", "foldersharing=1", "vga: qxl\n"),
    ("sshkeys", "ssh-ed25519%20AAAAC3Nza%20me%40host", ""),
    ("startdate", "2006-06-17T16:01:21", ""),
    ("startup", "order=1,up=30", ""),
    ("tablet", "0", ""),
    ("tags", "prod;web", ""),
    ("tdf", "1", ""),
    ("template", "1", ""),
    ("tpmstate0", "local-lvm:vm-100-disk-3,size=4M,version=v2.0", ""),
    ("unused0", "local-lvm:vm-100-disk-9", ""),
    ("usb0", "host=046d:c52b", ""),
    ("vcpus", "1", "cores: 2\n"),
    ("vga", "qxl2,memory=32", ""),
    ("virtio0", "local-lvm:vm-100-disk-4,iothread=1,size=8G", ""),
    ("virtiofs0", "dirid=share", ""),
    ("vmgenid", "7079e97c-50e3-4079-afe7-23e67566b946", ""),
    ("vmstate", "local-lvm:vm-100-state-snap1", ""),
    ("vmstatestorage", "local-lvm", ""),
    ("watchdog", "model=i6300esb,action=reset", ""),
];

fn written_key(spec_name: &str, indexed: bool) -> String {
    if indexed {
        format!("{spec_name}0")
    } else {
        spec_name.to_owned()
    }
}

#[test]
fn every_schema_key_has_a_sample() {
    let missing: Vec<String> = KEYS
        .iter()
        .map(|k| written_key(k.name, k.is_indexed()))
        .filter(|key| !SAMPLES.iter().any(|(s, _, _)| s == key))
        .collect();
    assert!(missing.is_empty(), "keys without a sample (add one to SAMPLES): {missing:?}");
}

#[test]
fn every_key_is_translated_or_reported() {
    let opts = Options { vmid: Some(100), ..Default::default() };
    let mut problems = Vec::new();
    for spec in KEYS {
        let key = written_key(spec.name, spec.is_indexed());
        let Some((_, value, extra)) = SAMPLES.iter().find(|(s, _, _)| *s == key) else { continue };
        // `cdrom` is reported as its canonical name, ide2.
        let reported = if key == "cdrom" { "ide2".to_owned() } else { key.clone() };
        let config = if key == "description" {
            format!("#{value}\nmemory: 512\n{extra}")
        } else if key == "memory" {
            format!("{extra}{key}: {value}\n")
        } else {
            format!("memory: 512\n{extra}{key}: {value}\n")
        };
        match convert(&config, &opts) {
            Err(errors) => problems.push(format!(
                "{key}: the sample does not convert: {:?}",
                errors.iter().map(|e| &e.message).collect::<Vec<_>>()
            )),
            Ok(conversion) => {
                if key == "description" {
                    if conversion.domain.description.as_deref() != Some(*value) {
                        problems.push("description: not in <description>".into());
                    }
                    continue;
                }
                let Some(outcome) = conversion.outcomes.iter().find(|o| o.key == reported) else {
                    problems.push(format!("{key}: no outcome recorded"));
                    continue;
                };
                if outcome.became.is_empty() && outcome.notes.is_empty() {
                    problems.push(format!("{key}: neither translated nor reported"));
                }
                if outcome.notes.contains(&"pve2virt::map::not_yet_translated") {
                    problems.push(format!("{key}: falls back to 'not yet translated'"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{} key(s) not accounted for:\n{}", problems.len(), problems.join("\n"));
}
