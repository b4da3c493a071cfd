//! One snapshot per fixture (`fixtures/**/*.conf` → `snapshots/<family>__<name>.snap`), holding
//! the command, its exit code, the XML and the rendered notes, so a reviewer reads one file per
//! case. Each fixture is converted once, and that one run is checked for every property below;
//! libvirt itself then judges every XML.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use common::*;

fn snapshot_body(run: &Run) -> String {
    format!("$ {}\nexit: {}\n--- stdout\n{}--- stderr\n{}", run.command, run.exit, run.stdout, run.stderr)
}

#[test]
fn every_fixture() {
    let judge = libvirt_tools_or_skip("every_fixture: libvirt's judgement");
    let scratch = std::env::temp_dir().join(format!("pve2virt-judge-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    let mut failures = Vec::new();
    let (mut runs, mut judged) = (0, 0);
    for rel in fixture_paths() {
        let run = run_fixture(&rel);
        runs += 1;
        let mut problems = Vec::new();
        if !matches_snapshot(&rel, &run) {
            problems.push("differs from its snapshot (see the diff above)".to_owned());
        }
        problems.extend(whole_or_nothing(&run));
        problems.extend(error_position(&rel, &run));
        if judge.is_some() && run.exit == 0 {
            judged += 1;
            problems.extend(libvirt_judge(&run.stdout, &scratch, &rel.display().to_string()));
        }
        failures.extend(problems.into_iter().map(|p| format!("{}: {p}", rel.display())));
    }
    let _ = std::fs::remove_dir_all(&scratch);
    assert!(runs > 0, "no fixture found");
    assert!(judge.is_none() || judged > 0, "no fixture converted");
    assert!(failures.is_empty(), "{} problem(s) in {runs} fixtures:\n{}", failures.len(), failures.join("\n"));
}

fn matches_snapshot(rel: &Path, run: &Run) -> bool {
    let name = rel.with_extension("").display().to_string().replace('/', "__");
    let body = snapshot_body(run);
    catch_unwind(AssertUnwindSafe(|| {
        insta::with_settings!({
            snapshot_path => root().join("snapshots"),
            prepend_module_to_snapshot => false,
            omit_expression => true,
            description => format!("fixtures/{}", rel.display()),
        }, {
            insta::assert_snapshot!(name.clone(), body);
        });
    }))
    .is_ok()
}

/// Output is all or nothing: a failed conversion prints no XML and says why, a successful one
/// prints a whole domain.
fn whole_or_nothing(run: &Run) -> Option<String> {
    if run.exit == 0 {
        let whole = run.stdout.starts_with("<domain ") && run.stdout.ends_with("</domain>\n");
        (!whole).then(|| format!("exit 0 but the output is not one whole domain:\n{}", run.stdout))
    } else if !run.stdout.is_empty() {
        Some(format!("failed (exit {}) but wrote: {}", run.exit, run.stdout))
    } else if run.stderr.is_empty() {
        Some(format!("failed (exit {}) without saying why", run.exit))
    } else {
        None
    }
}

/// Input errors name the file, line and column of the offending text.
fn error_position(rel: &Path, run: &Run) -> Option<String> {
    let positionless = run.stderr.contains("VMID")
        || run.stderr.contains("--pending was given")
        || run.stderr.contains("no snapshot named")
        // An over-long line is named by number: drawing its snippet would print all of it.
        || run.stderr.contains("bytes long; at most");
    if run.exit != 1 || positionless {
        return None;
    }
    let shown = format!("[{}:", rel.display());
    let placed = run.stderr.contains(&shown) || run.stderr.contains("[<stdin>:");
    (!placed).then(|| format!("no file:line:column in\n{}", run.stderr))
}
