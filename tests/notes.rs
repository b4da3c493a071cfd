//! The note registry as users meet it: `pve2virt explain --code`, and the `doc` link of every
//! note in `--report json`, which must name an entry of `docs/notes.md`.

mod common;

use common::*;

fn explain(code: &str) -> Run {
    run(&root(), &["explain".into(), "--code".into(), code.into()], None)
}

#[test]
fn explain_code_prints_the_entry_by_full_code_or_last_segment() {
    for query in ["pve2virt::map::efidisk_oversized", "efidisk_oversized", "EFIDISK_OVERSIZED"] {
        let run = explain(query);
        assert_eq!(run.exit, 0, "{query}: {}", run.stderr);
        assert!(run.stdout.starts_with("pve2virt::map::efidisk_oversized\n  severity: warning\n"), "{}", run.stdout);
        assert!(run.stdout.contains("docs/notes.md#map-efidisk_oversized"), "{}", run.stdout);
    }
    // A shared last segment prints every entry it names.
    let run = explain("syntax");
    assert_eq!(run.exit, 0);
    assert!(run.stdout.contains("pve2virt::parse::syntax\n") && run.stdout.contains("pve2virt::storage::syntax\n"));
    let run = explain("no_such_code");
    assert_eq!(run.exit, 2);
    assert!(run.stdout.is_empty() && run.stderr.contains("no note code matches 'no_such_code'"), "{}", run.stderr);
}

#[test]
fn json_notes_link_to_their_entry_in_docs_notes_md() {
    let doc = std::fs::read_to_string(root().join("docs/notes.md")).unwrap();
    let mut seen = 0;
    for rel in ["disk/disk-none.conf", "errors/unknown-key.conf", "storage/error-storage-incomplete.conf"] {
        let args_file = root().join("fixtures").join(rel).with_extension("args");
        let mut args: Vec<String> = vec!["convert".into(), rel.into(), "--vmid".into(), "100".into()];
        args.extend(std::fs::read_to_string(args_file).unwrap_or_default().split_whitespace().map(String::from));
        args.extend(["--report".into(), "json".into()]);
        let run = run(&root().join("fixtures"), &args, None);
        let notes: serde_json::Value =
            serde_json::from_str(&run.stderr).unwrap_or_else(|e| panic!("{rel}: {e}: {}", run.stderr));
        for note in notes.as_array().unwrap() {
            // The fields pipelines read are unchanged; `doc` is added.
            for field in ["file", "code", "severity", "message"] {
                assert!(note[field].is_string(), "{rel}: {note}");
            }
            let code = note["code"].as_str().unwrap();
            let link = note["doc"].as_str().unwrap_or_else(|| panic!("{rel}: no doc link: {note}"));
            let anchor = link.strip_prefix("docs/notes.md#").unwrap_or_else(|| panic!("{link}"));
            assert_eq!(anchor, code.trim_start_matches("pve2virt::").replace("::", "-"));
            assert!(doc.contains(&format!("<a id=\"{anchor}\"></a>\n### `{code}`")), "{link} is not in docs/notes.md");
            seen += 1;
        }
    }
    assert!(seen >= 4, "only {seen} notes seen");
}
