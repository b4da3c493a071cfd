//! Batch conversion: one bad config neither stops the others nor leaves a file, collisions fail
//! the second config, and a batch killed midway leaves only complete XML files.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pve2virt-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("in")).unwrap();
    dir
}

fn xml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<_> = fs::read_dir(dir).unwrap().flatten().map(|e| e.path()).collect();
    files.sort();
    files
}

#[test]
fn a_failure_leaves_no_file_and_does_not_stop_the_batch() {
    let dir = scratch("batch");
    fs::write(dir.join("in/101.conf"), "memory: 512\nname: web\n").unwrap();
    fs::write(dir.join("in/102.conf"), "memory: 512\nname: web\n").unwrap();
    fs::write(dir.join("in/103.conf"), "memory: lots\n").unwrap();
    fs::write(dir.join("in/104.conf"), "memory: 1024\nrng0: /dev/urandom\n").unwrap();
    let args: Vec<String> = ["convert", "in/101.conf", "in/102.conf", "in/103.conf", "in/104.conf", "--out-dir", "out"]
        .map(String::from)
        .into();
    let run = run(&dir, &args, None);
    assert_eq!(run.exit, 1, "{}", run.stderr);
    assert!(run.stdout.is_empty());
    let summary: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("converted") || l.starts_with("FAILED") || l.ends_with("failed"))
        .collect();
    insta::with_settings!({snapshot_path => root().join("snapshots"), prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("batch__summary", summary.join("\n"));
    });
    let out: Vec<String> =
        xml_files(&dir.join("out")).iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(out, ["101.xml", "104.xml"]);

    // Existing files are never overwritten without --force.
    let again = common::run(&dir, &["convert".into(), "in/104.conf".into(), "--out-dir".into(), "out".into()], None);
    assert_eq!(again.exit, 1);
    assert!(again.stderr.contains("exists; pass --force"), "{}", again.stderr);
    let forced = common::run(&dir, &["convert", "in/104.conf", "--out-dir", "out", "--force"].map(String::from), None);
    assert_eq!(forced.exit, 0, "{}", forced.stderr);
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn json_summary_for_pipelines() {
    let dir = scratch("batch-json");
    fs::write(dir.join("in/201.conf"), "memory: 512\nballoon: 256\n").unwrap();
    fs::write(dir.join("in/202.conf"), "memory: 512\nrng0: source=/dev/zero\n").unwrap();
    let run = common::run(
        &dir,
        &["convert", "in/201.conf", "in/202.conf", "--out-dir", "out", "--report", "json"].map(String::from),
        None,
    );
    assert_eq!(run.exit, 1);
    let summary: serde_json::Value = serde_json::from_str(&run.stdout).expect("a JSON summary on stdout");
    assert_eq!(summary["converted"], 1);
    assert_eq!(summary["failed"], 1);
    assert_eq!(summary["results"][0]["status"], "converted");
    assert_eq!(summary["results"][0]["notes"][0]["code"], "pve2virt::map::balloon_target");
    assert_eq!(summary["results"][1]["notes"][0]["code"], "pve2virt::parse::bad_value");
    assert_eq!(summary["results"][1]["notes"][0]["line"], 2);
    assert_eq!(summary["results"][0]["notes"][0]["doc"], "docs/notes.md#map-balloon_target");
    let _ = fs::remove_dir_all(&dir);
}

/// Collisions are decided in input order, whatever thread converted which config first, and
/// across durability groups (`batch::GROUP` is 1024): the first claimant wins, every later one fails.
#[test]
fn collisions_are_decided_in_input_order() {
    let dir = scratch("batch-order");
    let total = 1100;
    let half = total / 2;
    let mut args = vec!["convert".to_owned()];
    for i in 0..total {
        let name = format!("in/{}.conf", 3000 + i);
        fs::write(dir.join(&name), format!("memory: 512\nname: vm{}\n", i % half)).unwrap();
        args.push(name);
    }
    fs::create_dir_all(dir.join("in/b")).unwrap();
    fs::write(dir.join("in/b/3001.conf"), "memory: 512\nname: unique\n").unwrap();
    args.push("in/b/3001.conf".into());
    args.extend(["--out-dir", "out", "--report", "json"].map(String::from));
    let run = common::run(&dir, &args, None);
    assert_eq!(run.exit, 1, "{}", run.stderr);
    let summary: serde_json::Value = serde_json::from_str(&run.stdout).expect("a JSON summary on stdout");
    let results = summary["results"].as_array().unwrap();
    assert_eq!(results.len(), total + 1);
    assert_eq!(summary["converted"], half);
    for (i, r) in results.iter().take(total).enumerate() {
        assert_eq!(r["input"], format!("in/{}.conf", 3000 + i), "summary out of input order");
        if i < half {
            assert_eq!(r["status"], "converted", "{r}");
        } else {
            assert_eq!(r["status"], "failed", "{r}");
            let expected = format!("domain name 'vm{}' is already used by in/{}.conf", i - half, 3000 + i - half);
            assert!(r["reason"].as_str().unwrap().starts_with(&expected), "{r}");
        }
    }
    let last = &results[total];
    assert_eq!(last["status"], "failed");
    assert!(last["reason"].as_str().unwrap().contains("would be written twice (also by in/3001.conf)"), "{last}");
    assert_eq!(xml_files(&dir.join("out")).len(), half);
    let _ = fs::remove_dir_all(&dir);
}

/// SIGKILL in the middle of a batch: every `*.xml` in the output folder is a complete domain, and
/// every config the streamed summary already called converted has its file, complete (a record
/// is printed only once its group is renamed into place and synced; see `src/batch.rs`).
#[test]
fn killed_midway_leaves_only_complete_files() {
    let dir = scratch("batch-kill");
    let example = fs::read_to_string(root().join("fixtures/example/100.conf")).unwrap();
    let total = 3000;
    let mut args = vec!["convert".to_owned()];
    for vmid in 1000..1000 + total {
        let name = format!("in/{vmid}.conf");
        fs::write(dir.join(&name), example.replace("name: web01", &format!("name: web{vmid}"))).unwrap();
        args.push(name);
    }
    args.extend(["--out-dir", "out", "--report", "json"].map(String::from));
    let stdout = fs::File::create(dir.join("summary.json")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_pve2virt"))
        .args(&args)
        .current_dir(&dir)
        .stdout(stdout)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = dir.join("out");
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut saw_only_temporary = false;
    while Instant::now() < deadline {
        if out.exists() {
            let files = xml_files(&out);
            if files.iter().any(|p| p.extension().is_some_and(|e| e == "xml")) {
                break;
            }
            saw_only_temporary |= !files.is_empty();
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // Temporary files come first, then the renames: a kill before them leaves no result at all.
    assert!(saw_only_temporary, "no moment with temporary files only was seen");

    let files = xml_files(&out);
    let xml: Vec<_> = files.iter().filter(|p| p.extension().is_some_and(|e| e == "xml")).collect();
    assert!(!xml.is_empty(), "nothing was written before the kill");
    assert!(xml.len() < total, "the batch finished before the kill; the test proves nothing");
    let complete = |path: &Path| {
        let text = fs::read_to_string(path).unwrap();
        text.starts_with("<domain type=") && text.ends_with("</domain>\n")
    };
    for path in &xml {
        assert!(complete(path), "{} is incomplete", path.display());
    }
    // Anything else is a hidden temporary file, never something that looks like a result.
    for other in files.iter().filter(|p| p.extension().is_none_or(|e| e != "xml")) {
        let name = other.file_name().unwrap().to_string_lossy();
        assert!(name.starts_with('.') && name.ends_with(".tmp"), "unexpected file {name}");
    }
    // The summary streamed so far is one record per line; each converted one has its file.
    let summary = fs::read_to_string(dir.join("summary.json")).unwrap();
    let mut converted = 0;
    for line in summary.lines().filter(|l| l.starts_with("{\"input\"")) {
        let record: serde_json::Value = serde_json::from_str(line.trim_end_matches(',')).unwrap();
        if record["status"] == "converted" {
            let path = dir.join(record["output"].as_str().unwrap());
            assert!(path.exists() && complete(&path), "{} reported but not complete", path.display());
            converted += 1;
        }
    }
    assert!(converted <= xml.len());
    let _ = fs::remove_dir_all(&dir);
}
