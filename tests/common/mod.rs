//! Shared by the integration tests: the fixture cases, running the real binary on them, and the
//! libvirt tools that judge the output.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `fixtures/**/*.conf`, relative to `fixtures/`, sorted.
pub fn fixture_paths() -> Vec<PathBuf> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir).expect("read fixtures").flatten().map(|e| e.path()).collect();
        entries.sort();
        for path in entries {
            // `pve-root` folders are copies of a cluster's /etc/pve (for --pve-root), whose
            // `virtual-guest/cpu-models.conf` is not a VM config.
            if path.is_dir() && path.file_name().is_some_and(|n| n == "pve-root") {
                continue;
            } else if path.is_dir() {
                walk(&path, base, out);
            } else if path.extension().is_some_and(|e| e == "conf") {
                out.push(path.strip_prefix(base).unwrap().to_path_buf());
            }
        }
    }
    let base = root().join("fixtures");
    let mut out = Vec::new();
    walk(&base, &base, &mut out);
    out
}

/// What running `pve2virt` on a fixture gave.
pub struct Run {
    pub command: String,
    pub exit: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `pve2virt convert` on a fixture, with the arguments in its `.args` file if any
/// (default `--vmid 100`). `--no-vmid` in `.args` feeds the config on standard input without a
/// VMID, to pin that error.
pub fn run_fixture(rel: &Path) -> Run {
    run_fixture_as("convert", rel)
}

/// Runs `pve2virt explain` on a fixture with the same arguments as [`run_fixture`]: the
/// KEY/VALUE/BECAME/NOTES table of what each key became.
pub fn explain_fixture(rel: &Path) -> Run {
    run_fixture_as("explain", rel)
}

fn run_fixture_as(subcommand: &str, rel: &Path) -> Run {
    let fixtures = root().join("fixtures");
    let extra: Vec<String> = std::fs::read_to_string(fixtures.join(rel).with_extension("args"))
        .map(|s| s.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    let stdin = extra.iter().any(|a| a == "--no-vmid");
    let mut args: Vec<String> = vec![subcommand.into()];
    if stdin {
        args.push("-".into());
    } else {
        args.push(rel.display().to_string());
        if !extra.iter().any(|a| a == "--vmid") {
            args.extend(["--vmid".into(), "100".into()]);
        }
    }
    args.extend(extra.into_iter().filter(|a| a != "--no-vmid"));
    run(&fixtures, &args, stdin.then(|| std::fs::read(fixtures.join(rel)).unwrap()))
}

/// One row of an `explain` table: a key, what it became, and the codes of its notes.
pub struct ExplainRow {
    pub key: String,
    pub became: Vec<String>,
    pub notes: Vec<String>,
}

/// The rows of an `explain` table. The columns are padded to their widest cell, so the header's
/// words mark where each cell starts.
pub fn parse_explain_table(table: &str) -> Vec<ExplainRow> {
    let mut lines = table.lines();
    let header = lines.next().unwrap_or_default();
    let start = |word: &str| header.find(word).map(|at| header[..at].chars().count());
    // No table (a failed run prints none): no rows.
    let (Some(value), Some(became), Some(notes)) = (start("VALUE"), start("BECAME"), start("NOTES")) else {
        return Vec::new();
    };
    let starts = [0, value, became, notes];
    let list = |cell: String| -> Vec<String> {
        if cell.is_empty() || cell == "—" {
            Vec::new()
        } else {
            cell.split(", ").map(str::to_owned).collect()
        }
    };
    lines
        .map(|line| {
            let chars: Vec<char> = line.chars().collect();
            let cell = |i: usize| {
                let end = starts.get(i + 1).map_or(chars.len(), |&e| e.min(chars.len()));
                chars[starts[i].min(end)..end].iter().collect::<String>().trim().to_owned()
            };
            ExplainRow { key: cell(0), became: list(cell(2)), notes: list(cell(3)) }
        })
        .collect()
}

pub fn run(dir: &Path, args: &[String], stdin: Option<Vec<u8>>) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pve2virt"))
        .args(args)
        .current_dir(dir)
        .env_remove("CLICOLOR_FORCE")
        .env("NO_COLOR", "1")
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run pve2virt");
    if let Some(bytes) = stdin {
        child.stdin.take().unwrap().write_all(&bytes).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let mut command = String::from("pve2virt");
    for a in args {
        command.push(' ');
        command.push_str(a);
    }
    Run {
        command,
        exit: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Whether this run must not skip checks that need libvirt (CI sets `CI=true`).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

pub fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The libvirt tools, or `None` after a loud message (and a failure under CI).
pub fn libvirt_tools_or_skip(test: &str) -> Option<()> {
    if have("virt-xml-validate") && have("virsh") {
        return Some(());
    }
    let message = format!(
        "\n\n!!! {test}: SKIPPED — virt-xml-validate/virsh not found. Install libvirt-clients \
         (apt-get install -y libvirt-clients) to let libvirt judge the output.\n\n"
    );
    if in_ci() {
        panic!("{message}(CI=true: a skipped libvirt check is a failure)");
    }
    eprintln!("{message}");
    None
}

/// Judges one domain XML: `virt-xml-validate` and a define on libvirt's test driver.
/// Returns the problems found (empty when libvirt accepts it).
pub fn libvirt_judge(xml: &str, scratch: &Path, name: &str) -> Vec<String> {
    let file = scratch.join(format!("{}.xml", name.replace('/', "__")));
    std::fs::write(&file, xml).unwrap();
    let mut problems = Vec::new();
    let validate = Command::new("virt-xml-validate").arg(&file).arg("domain").output().unwrap();
    if !validate.status.success() {
        problems.push(format!(
            "virt-xml-validate: {}{}",
            String::from_utf8_lossy(&validate.stdout),
            String::from_utf8_lossy(&validate.stderr)
        ));
    }
    let define = Command::new("virsh").args(["-q", "-c", "test:///default", "define"]).arg(&file).output().unwrap();
    if !define.status.success() {
        problems.push(format!("virsh define (test:///default): {}", String::from_utf8_lossy(&define.stderr).trim()));
    }
    problems
}
