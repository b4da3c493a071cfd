//! The libvirt model reads what it writes: every snapshot's XML parses back into the model and
//! writes out byte for byte the same.

mod common;

use common::root;

/// The XML of an insta snapshot: between `--- stdout\n` and `--- stderr`.
fn snapshot_xml(snap: &str) -> Option<&str> {
    let start = snap.find("--- stdout\n")? + "--- stdout\n".len();
    let end = start + snap[start..].find("--- stderr")?;
    let xml = &snap[start..end];
    xml.trim_start().starts_with("<domain").then_some(xml)
}

#[test]
fn every_snapshot_round_trips() {
    let mut paths: Vec<_> = std::fs::read_dir(root().join("snapshots"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "snap"))
        .collect();
    paths.sort();
    let (mut checked, mut failures) = (0, Vec::new());
    for path in &paths {
        let snap = std::fs::read_to_string(path).unwrap();
        let Some(xml) = snapshot_xml(&snap) else { continue };
        checked += 1;
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        match pve2virt::libvirt::from_xml(xml) {
            Err(e) => failures.push(format!("{name}: {e}")),
            Ok(domain) => {
                let again = pve2virt::libvirt::to_xml(&domain).unwrap();
                if again != xml {
                    let line = xml.lines().zip(again.lines()).position(|(a, b)| a != b).unwrap_or(0);
                    let (want, got) = (xml.lines().nth(line), again.lines().nth(line));
                    failures.push(format!("{name}: line {}: want {want:?}, got {got:?}", line + 1));
                }
            }
        }
    }
    assert!(checked > 100, "only {checked} snapshots hold XML");
    eprintln!("{}/{checked} snapshots round-trip byte for byte", checked - failures.len());
    assert!(failures.is_empty(), "{}/{checked} snapshots do not round-trip:\n{}", failures.len(), failures.join("\n"));
}
