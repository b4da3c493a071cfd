//! Every Proxmox key is accounted for: for each key of the schema (`pve::schema::KEYS`), a fixture
//! that sets it converts, and the key either became XML or got a note with a reason — never the
//! generic "not yet translated" fallback, never silence. The fixtures are the samples: a key that
//! no fixture sets fails the test, so a new key comes with its handler and a fixture.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::*;
use pve2virt::pve::schema::{lookup, KEYS};
use pve2virt::{convert_bytes, Options};

const NOT_YET_TRANSLATED: &str = "pve2virt::map::not_yet_translated";

/// Per key as written: the libvirt elements it became, and the codes of its notes.
type Outcomes = BTreeMap<String, (Vec<String>, Vec<String>)>;

/// The keys a fixture sets, as written: those of its main section (before any `[snapshot]` or
/// `[PENDING]` header), `description` for its `#` comment lines; and with `--snapshot NAME`, those
/// of section `[NAME]` too, the one translated (`snapstate` and `snaptime` live only there).
fn keys_set(text: &str, snapshot: Option<&str>) -> Vec<String> {
    let mut keys = Vec::new();
    let mut section: Option<&str> = None;
    for line in text.lines() {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = Some(name);
        } else if section.is_some() && section != snapshot {
            continue;
        } else if line.starts_with('#') {
            keys.push("description".to_owned());
        } else if let Some((key, _)) = line.split_once(':') {
            keys.push(key.trim().to_owned());
        }
    }
    keys
}

/// What a fixture's conversion did with each key: `key → (became, notes)`; `None` when it does
/// not convert. Without `.args` the library converts it, with the options `run_fixture` gives
/// the binary (`--vmid 100`; no /etc/pve here); with `.args`, `pve2virt explain` runs with them.
fn outcomes(rel: &Path, args: Option<&str>) -> Option<Outcomes> {
    if args.is_none() {
        let bytes = std::fs::read(root().join("fixtures").join(rel)).unwrap();
        let opts = Options { vmid: Some(100), ..Default::default() };
        let conversion = convert_bytes(&rel.display().to_string(), &bytes, &opts).1.ok()?;
        let mut map: Outcomes = conversion
            .outcomes
            .into_iter()
            .map(|o| (o.key, (o.became, o.notes.into_iter().map(str::to_owned).collect())))
            .collect();
        // The description is no `key: value` line and has no outcome: it is translated when the
        // domain has it.
        if conversion.domain.description.is_some() {
            map.insert("description".into(), (vec!["description".into()], Vec::new()));
        }
        return Some(map);
    }
    // The explain table has no row for the description: these fixtures do not count for it.
    let run = explain_fixture(rel);
    let rows = parse_explain_table(&run.stdout);
    (run.exit == 0).then(|| rows.into_iter().map(|r| (r.key, (r.became, r.notes))).collect())
}

#[test]
fn every_key_is_set_by_a_fixture_and_handled() {
    // Schema key name → the fixtures that set it, and whether one of them accounts for it.
    let mut seen: BTreeMap<&str, (Vec<String>, bool)> = BTreeMap::new();
    for rel in fixture_paths().into_iter().filter(|r| !r.starts_with("errors")) {
        let path = root().join("fixtures").join(&rel);
        let args = std::fs::read_to_string(path.with_extension("args")).ok();
        let words: Vec<&str> = args.as_deref().unwrap_or_default().split_whitespace().collect();
        let snapshot = words.iter().position(|w| *w == "--snapshot").and_then(|i| words.get(i + 1).copied());
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        let set = keys_set(&text, snapshot);
        let Some(outcomes) = outcomes(&rel, args.as_deref()).filter(|_| !set.is_empty()) else { continue };
        for key in set {
            let spec = if key == "description" {
                KEYS.iter().find(|k| k.name == "description")
            } else {
                lookup(&key).map(|(spec, _)| spec)
            };
            let Some(spec) = spec else { continue };
            // `cdrom` is reported as its canonical name, ide2.
            let reported = if key == "cdrom" { "ide2" } else { key.as_str() };
            let accounted = outcomes.get(reported).is_some_and(|(became, notes)| {
                (!became.is_empty() || !notes.is_empty()) && !notes.iter().any(|n| n == NOT_YET_TRANSLATED)
            });
            let entry = seen.entry(spec.name).or_default();
            entry.0.push(format!("{} ({key})", rel.display()));
            entry.1 |= accounted;
        }
    }
    let mut unset = Vec::new();
    let mut unhandled = Vec::new();
    for spec in KEYS {
        let shown = if spec.is_indexed() { format!("{}N", spec.name) } else { spec.name.to_owned() };
        match seen.get(spec.name) {
            None => unset.push(shown),
            Some((_, true)) => {}
            Some((fixtures, false)) => unhandled.push(format!(
                "{shown}: neither translated nor reported with a reason (or only 'not yet translated') in {}",
                fixtures.join(", ")
            )),
        }
    }
    assert!(
        unset.is_empty() && unhandled.is_empty(),
        "{} key(s) not accounted for.\n\
         No fixture that converts sets these (in its main section, or its --snapshot section): {unset:?}\n\
         To add one: write fixtures/<family>/<name>.conf setting the key as a Proxmox host writes it \
         (arguments, if any, in <name>.args), run `cargo test -p pve2virt --test fixtures`, read \
         snapshots/<family>__<name>.snap.new and rename it to .snap if the XML is right for the key.\n{}",
        unset.len() + unhandled.len(),
        unhandled.join("\n")
    );
}
