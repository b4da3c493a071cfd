//! The edits the conformance run makes to a converted domain, made on the converter's own
//! libvirt model (which reads its XML back byte for byte, tests/roundtrip.rs): the `<name>`, so
//! that runs do not collide with real domains or each other, and one file per disk use.

use std::collections::BTreeMap;

use pve2virt::libvirt::{from_xml, to_xml, Domain, DomainDiskSource};

/// The converted XML read into the model, renamed to `name`, with [`distinct_disk_files`]
/// applied; and the XML written from it.
pub fn prepare(xml: &str, name: &str) -> Result<(Domain, String), String> {
    let mut domain = from_xml(xml).map_err(|e| e.to_string())?;
    domain.name = name.to_owned();
    distinct_disk_files(&mut domain);
    let xml = to_xml(&domain).map_err(|e| e.to_string())?;
    Ok((domain, xml))
}

/// Corpus configs attach one volume to several drives; QEMU's image locking refuses that for
/// placeholders that are real files, so every second and later use of a disk's file gets its
/// own name (`<file>.useN`).
fn distinct_disk_files(domain: &mut Domain) {
    let mut seen: BTreeMap<String, u32> = BTreeMap::new();
    for disk in &mut domain.devices.disks {
        if let DomainDiskSource::File { file: Some(file) } = &mut disk.source {
            let uses = seen.entry(file.clone()).or_insert(0);
            *uses += 1;
            if *uses > 1 {
                *file = format!("{file}.use{uses}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const XML: &str = "<domain type='qemu'>
  <name>simple-8006</name>
  <memory unit='KiB'>524288</memory>
  <vcpu placement='static'>1</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>
    <nvram template='/usr/share/OVMF/OVMF_VARS_4M.fd'>/tmp/v/local/100/vm-100-disk-0.raw</nvram>
  </os>
  <features/>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <disk type='file' device='disk'>
      <source file='/t/a.qcow2'/>
      <target dev='sda' bus='scsi'/>
    </disk>
    <disk type='file' device='disk'>
      <source file='/t/a.qcow2'/>
      <target dev='sdb' bus='scsi'/>
    </disk>
    <disk type='file' device='cdrom'>
      <target dev='hdc' bus='ide'/>
    </disk>
  </devices>
</domain>
";

    #[test]
    fn renames_and_gives_repeated_disk_files_their_own_copy() {
        let (domain, xml) = prepare(XML, "conf-simple1").unwrap();
        assert_eq!(domain.name, "conf-simple1");
        let files: Vec<_> = domain.devices.disks.iter().map(|d| d.source.clone()).collect();
        assert_eq!(
            files,
            [
                DomainDiskSource::File { file: Some("/t/a.qcow2".into()) },
                DomainDiskSource::File { file: Some("/t/a.qcow2.use2".into()) },
                DomainDiskSource::File { file: None },
            ]
        );
        let expected = XML.replace("simple-8006", "conf-simple1").replacen(
            "<source file='/t/a.qcow2'/>\n      <target dev='sdb'",
            "<source file='/t/a.qcow2.use2'/>\n      <target dev='sdb'",
            1,
        );
        assert_eq!(xml, expected);
    }
}
