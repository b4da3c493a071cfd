//! `cargo xtask bench-batch [N]`: the batch benchmark of the README, rerunnable.
//!
//! Generates N configs (copies of `fixtures/example/100.conf` with distinct VMIDs, names and MACs)
//! in a temporary folder, then times `pve2virt convert in/*.conf --out-dir out` with the release
//! build, once in each report mode, reading the child's CPU time and peak memory from `wait4(2)`'s
//! rusage (the child alone: not cargo, not this process).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

/// The figures measured before the batch ran in parallel (one thread, two fsyncs per file; release build, 10,000 configs,
/// this project's 2-core CI machine): VMs/s and peak RSS in MB, per report mode.
const BEFORE: [(&str, f64, f64); 2] = [("human", 746.0, 47.7), ("json", 500.0, 109.0)];

pub fn main(args: Vec<String>) -> ExitCode {
    let mut n = 10_000usize;
    let mut bin: Option<PathBuf> = None;
    let mut runs = 1usize;
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--bin" => bin = it.next().map(PathBuf::from),
            "--runs" => runs = it.next().and_then(|r| r.parse().ok()).unwrap_or(1).max(1),
            n_arg => match n_arg.parse() {
                Ok(v) if v > 0 => n = v,
                _ => {
                    eprintln!("usage: cargo xtask bench-batch [N] [--runs R] [--bin PATH]");
                    return ExitCode::from(2);
                }
            },
        }
    }
    let root = crate::root();
    let bin = match bin {
        Some(b) => b,
        None => {
            let built = Command::new(env!("CARGO"))
                .args(["build", "--release", "--quiet", "--package", "pve2virt", "--bin", "pve2virt"])
                .current_dir(&root)
                .status();
            if !built.is_ok_and(|s| s.success()) {
                eprintln!("error: cargo build --release failed");
                return ExitCode::FAILURE;
            }
            root.join("target/release/pve2virt")
        }
    };
    let work = std::env::temp_dir().join(format!("pve2virt-bench-{}", std::process::id()));
    let result = run(&root, &bin, &work, n, runs);
    let _ = fs::remove_dir_all(&work);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(root: &Path, bin: &Path, work: &Path, n: usize, runs: usize) -> Result<(), String> {
    let example = fs::read_to_string(root.join("fixtures/example/100.conf")).map_err(|e| e.to_string())?;
    let inputs = generate(&example, work, n)?;
    println!("pve2virt convert in/*.conf --out-dir out: {n} configs, {} ({runs} run(s), best)", bin.display());
    println!();
    println!("| report | wall | VMs/s | user | system | peak RSS | before (one thread) |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for (mode, before_rate, before_rss) in BEFORE {
        let mut best: Option<Sample> = None;
        for r in 0..runs {
            let out = format!("out-{mode}-{r}");
            let sample = time_batch(bin, work, &inputs, mode, &out)?;
            let produced = fs::read_dir(work.join(&out)).map_err(|e| e.to_string())?.count();
            if produced != n {
                return Err(format!("{mode}: {produced} files written for {n} configs"));
            }
            if best.as_ref().is_none_or(|b| sample.wall < b.wall) {
                best = Some(sample);
            }
        }
        let s = best.expect("at least one run");
        let rate = n as f64 / s.wall;
        println!(
            "| {mode} | {:.2} s | {:.0} | {:.2} s | {:.2} s | {:.1} MB | {before_rate:.0} VMs/s, {before_rss} MB ({:.1}× faster) |",
            s.wall,
            rate,
            s.user,
            s.system,
            s.max_rss_kb as f64 / 1000.0,
            rate / before_rate
        );
    }
    Ok(())
}

/// Writes `work/in/<vmid>.conf` for N VMs; returns the relative paths, as a shell glob would.
fn generate(example: &str, work: &Path, n: usize) -> Result<Vec<String>, String> {
    let dir = work.join("in");
    fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    if !example.contains("name: web01") || !example.contains("BC:24:11:2C:69:EC") {
        return Err("fixtures/example/100.conf no longer has the name and MAC this benchmark replaces".into());
    }
    let mut inputs = Vec::with_capacity(n);
    for i in 0..n {
        let vmid = 10_000 + i;
        // Proxmox's own prefix BC:24:11 with the index in the last three bytes: distinct for 2^24 VMs.
        let mac = format!("BC:24:11:{:02X}:{:02X}:{:02X}", (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
        let text = example.replace("name: web01", &format!("name: web{vmid}")).replace("BC:24:11:2C:69:EC", &mac);
        let name = format!("in/{vmid}.conf");
        fs::write(work.join(&name), text).map_err(|e| e.to_string())?;
        inputs.push(name);
    }
    Ok(inputs)
}

struct Sample {
    wall: f64,
    user: f64,
    system: f64,
    max_rss_kb: i64,
}

/// Runs one batch into the new folder `work/out`. Nothing is deleted before the timed runs: ext4
/// skips inodes freed in the last minutes when it allocates new ones (`fs/ext4/ialloc.c`,
/// `recently_deleted`), which made a run right after `rm -rf` of the previous output about a third
/// slower, measuring the deletion rather than the batch.
fn time_batch(bin: &Path, work: &Path, inputs: &[String], mode: &str, out: &str) -> Result<Sample, String> {
    // The summary goes to a file, as a pipeline would keep it.
    let summary = fs::File::create(work.join(format!("summary.{mode}"))).map_err(|e| e.to_string())?;
    let (stdout, stderr) =
        if mode == "json" { (Stdio::from(summary), Stdio::null()) } else { (Stdio::null(), Stdio::from(summary)) };
    let start = Instant::now();
    let child = Command::new(bin)
        .arg("convert")
        .args(inputs)
        .args(["--out-dir", out, "--report", mode])
        .current_dir(work)
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    let (status, usage) = wait4(child.id() as libc::pid_t)?;
    let wall = start.elapsed().as_secs_f64();
    if status != 0 {
        return Err(format!("{mode}: the batch failed (wait status {status})"));
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Ok(Sample { wall, user: secs(usage.ru_utime), system: secs(usage.ru_stime), max_rss_kb: usage.ru_maxrss })
}

/// Waits for one child and returns its wait status and its own resource usage.
fn wait4(pid: libc::pid_t) -> Result<(i32, libc::rusage), String> {
    let mut status = 0;
    // SAFETY: rusage is plain data that wait4 fills in; zeroes are a valid value of it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: valid pointers to a status word and a rusage that live across the call.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            return Ok((status, usage));
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(format!("wait4: {err}"));
        }
    }
}
