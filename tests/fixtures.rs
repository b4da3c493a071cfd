//! One snapshot per fixture (`fixtures/**/*.conf` → `snapshots/<family>__<name>.snap`), holding
//! the command, its exit code, the XML and the rendered notes, so a reviewer reads one file per
//! case. Every XML is then judged by libvirt itself.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};

use common::*;

fn snapshot_body(run: &Run) -> String {
    format!("$ {}\nexit: {}\n--- stdout\n{}--- stderr\n{}", run.command, run.exit, run.stdout, run.stderr)
}

#[test]
fn every_fixture_matches_its_snapshot() {
    let mut failures = Vec::new();
    for rel in fixture_paths() {
        let run = run_fixture(&rel);
        let name = rel.with_extension("").display().to_string().replace('/', "__");
        let body = snapshot_body(&run);
        let result = catch_unwind(AssertUnwindSafe(|| {
            insta::with_settings!({
                snapshot_path => root().join("snapshots"),
                prepend_module_to_snapshot => false,
                omit_expression => true,
                description => format!("fixtures/{}", rel.display()),
            }, {
                insta::assert_snapshot!(name.clone(), body);
            });
        }));
        if result.is_err() {
            failures.push(name);
        }
    }
    assert!(failures.is_empty(), "{} snapshot(s) differ: {failures:?}", failures.len());
}

/// Output is all or nothing: a failed conversion prints no XML, a successful one a whole domain.
#[test]
fn failures_write_nothing_and_successes_a_whole_domain() {
    for rel in fixture_paths() {
        let run = run_fixture(&rel);
        if run.exit == 0 {
            assert!(
                run.stdout.starts_with("<domain ") && run.stdout.ends_with("</domain>\n"),
                "{}: {}",
                rel.display(),
                run.stdout
            );
        } else {
            assert!(run.stdout.is_empty(), "{} failed (exit {}) but wrote: {}", rel.display(), run.exit, run.stdout);
            assert!(!run.stderr.is_empty(), "{} failed without saying why", rel.display());
        }
    }
}

/// Errors name the line and column of the offending text.
#[test]
fn errors_point_at_line_and_column() {
    for rel in fixture_paths() {
        let run = run_fixture(&rel);
        if run.exit == 1
            && !run.stderr.contains("VMID")
            && !run.stderr.contains("--pending was given")
            && !run.stderr.contains("no snapshot named")
            // An over-long line is named by number: drawing its snippet would print all of it.
            && !run.stderr.contains("bytes long; at most")
        {
            let shown = format!("[{}:", rel.display());
            let stdin = "[<stdin>:";
            assert!(
                run.stderr.contains(&shown) || run.stderr.contains(stdin),
                "{}: no file:line:column in\n{}",
                rel.display(),
                run.stderr
            );
        }
    }
}

#[test]
fn libvirt_accepts_every_converted_fixture() {
    if libvirt_tools_or_skip("libvirt_accepts_every_converted_fixture").is_none() {
        return;
    }
    let scratch = std::env::temp_dir().join(format!("pve2virt-judge-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    let mut judged = 0;
    let mut failures = Vec::new();
    for rel in fixture_paths() {
        let run = run_fixture(&rel);
        if run.exit != 0 {
            continue;
        }
        judged += 1;
        for problem in libvirt_judge(&run.stdout, &scratch, &rel.display().to_string()) {
            failures.push(format!("{}: {problem}", rel.display()));
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    assert!(judged > 0, "no fixture converted");
    assert!(failures.is_empty(), "libvirt rejected {} output(s):\n{}", failures.len(), failures.join("\n"));
}
