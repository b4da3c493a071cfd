//! libvirt's own test domains (`tests/data/libvirt-qemuxml/`, copied from libvirt's
//! `tests/qemuxmlconfdata/`; see the README there) read into the model, and what the model
//! writes reads back into the same model: the reader and the writer agree on everything the model
//! carries, for XML written by people other than us.

mod common;

use common::root;

#[test]
fn libvirt_test_domains_read_and_rewrite_idempotently() {
    let dir = root().join("tests/data/libvirt-qemuxml");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    paths.sort();
    let (mut read, mut identical, mut problems) = (0, 0, Vec::new());
    for path in &paths {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let xml = std::fs::read_to_string(path).unwrap();
        let domain = match pve2virt::libvirt::from_xml(&xml) {
            Ok(d) => d,
            Err(e) => {
                problems.push(format!("{name}: {e}"));
                continue;
            }
        };
        read += 1;
        let written = match pve2virt::libvirt::to_xml(&domain) {
            Ok(x) => x,
            Err(e) => {
                problems.push(format!("{name}: cannot write it back: {e}"));
                continue;
            }
        };
        // Not required (the model leaves out what pve2virt never writes), only counted.
        identical += usize::from(written == xml);
        match pve2virt::libvirt::from_xml(&written) {
            Ok(again) if again == domain => {}
            Ok(_) => problems.push(format!("{name}: written and read again, the model differs")),
            Err(e) => problems.push(format!("{name}: what we wrote does not read back: {e}\n{written}")),
        }
    }
    eprintln!(
        "{read}/{} libvirt test domains read and rewrite idempotently; {identical} are written back byte for byte",
        paths.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
