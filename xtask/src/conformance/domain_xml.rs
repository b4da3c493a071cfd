//! The one edit the conformance run makes to a converted domain: its `<name>`. What the XML
//! refers to is read through the converter's own libvirt model (`images.rs`).

/// The same XML with `<name>` replaced, so runs do not collide with real
/// domains or each other. Nothing else is touched.
pub fn with_name(xml: &str, name: &str) -> Option<String> {
    let start = xml.find("<name>")? + "<name>".len();
    let end = start + xml[start..].find("</name>")?;
    Some(format!("{}{}{}", &xml[..start], name, &xml[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const XML: &str = "<domain type='qemu'>
  <name>simple-8006</name>
  <os>
    <loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>
    <nvram template='/usr/share/OVMF/OVMF_VARS_4M.fd'>/tmp/v/local/100/vm-100-disk-0.raw</nvram>
  </os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' cache='none'/>
      <source file='/tmp/v/local/8006/vm-8006-disk-0.qcow2'/>
      <target dev='sda' bus='scsi'/>
    </disk>
    <disk type='file' device='cdrom'>
      <target dev='hdc' bus='ide'/>
    </disk>
  </devices>
</domain>";

    #[test]
    fn renames_only_the_name() {
        let renamed = with_name(XML, "conf-simple1").unwrap();
        assert!(renamed.contains("<name>conf-simple1</name>"));
        assert_eq!(renamed.len(), XML.len() - "simple-8006".len() + "conf-simple1".len());
    }
}
