//! Carrying out a plan: refuse a running VM, copy each volume to a part file, verify it against
//! the source, rename it; convert the TPM state; define the domain only when every volume is in
//! place; start it on request.
//!
//! Idempotent: a copy whose final file exists and verifies is skipped, an unchanged domain is not
//! redefined. Crash-safe: nothing gets its final name before it is verified, and the domain is
//! defined last, so a SIGKILL leaves part files (overwritten by the next run) and no domain.

use std::io::{IsTerminal, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use super::plan::{self, Action, PlanSource, PlanVolume};
use super::shell::{self, quote};
use super::source::Host;
use super::{exit, MigrateArgs, Planned};
use crate::output::write_atomic;

/// Where progress and results go.
struct Report {
    json: bool,
    tty: bool,
}

impl Report {
    fn event(&self, value: serde_json::Value) {
        if self.json {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{value}");
            let _ = out.flush();
        }
    }
    fn say(&self, text: &str) {
        if !self.json {
            eprintln!("{text}");
        }
    }
}

/// A command that dies with pve2virt: a SIGKILL of the migration must not leave a copy running
/// into a part file the next run writes too.
fn command(program: &str) -> Command {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new(program);
    // SAFETY: prctl(PR_SET_PDEATHSIG) is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    cmd
}

/// Holds `<target-dir>/.pve2virt-<vmid>.lock` (flock) while a VM is migrated: two runs never
/// write the same part files.
fn lock(dir: &Path, vmid: u32) -> Result<std::fs::File, String> {
    use std::os::unix::io::AsRawFd;
    let path = dir.join(format!(".pve2virt-{vmid}.lock"));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    // SAFETY: flock on a descriptor this function owns.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        return Err(format!("another pve2virt migrate of VM {vmid} holds {}", path.display()));
    }
    Ok(file)
}

fn run_argv(argv: &[String]) -> Result<(), String> {
    let out = command(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", argv[0]))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{} failed: {}", shell::join(argv), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

fn succeeds(argv: &[String]) -> bool {
    command(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn human(b: f64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b;
    let mut i = 0;
    while v >= 1024.0 && i + 1 < units.len() {
        v /= 1024.0;
        i += 1;
    }
    format!("{v:.1} {}", units[i])
}

/// Runs a `qemu-img convert -p`, turning its `(NN.NN/100%)` lines into progress: a bar on a TTY,
/// JSON lines with `--report json`, nothing otherwise.
fn copy_with_progress(
    argv: &[String],
    key: &str,
    vmid: u32,
    total: Option<u64>,
    report: &Report,
) -> Result<(), String> {
    let mut child = command(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", argv[0]))?;
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let err_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let mut last = Instant::now();
    let mut buf = [0u8; 4096];
    let mut pending = String::new();
    let mut percent = 0.0f64;
    loop {
        let n = stdout.read(&mut buf).unwrap_or(0);
        if n == 0 {
            break;
        }
        pending.push_str(&String::from_utf8_lossy(&buf[..n]));
        while let Some(i) = pending.find(['\r', '\n']) {
            let line: String = pending.drain(..=i).collect();
            if let Some(p) =
                line.trim().strip_prefix('(').and_then(|l| l.split('/').next()).and_then(|p| p.parse().ok())
            {
                percent = p;
            }
        }
        if last.elapsed().as_millis() >= 500 {
            last = Instant::now();
            progress(report, key, vmid, total, percent, start);
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    let err = err_thread.join().unwrap_or_default();
    if status.success() {
        progress(report, key, vmid, total, 100.0, start);
        if report.tty && !report.json {
            eprintln!();
        }
        Ok(())
    } else {
        if report.tty && !report.json {
            eprintln!();
        }
        Err(format!("{} failed: {}", shell::join(argv), err.trim()))
    }
}

fn progress(report: &Report, key: &str, vmid: u32, total: Option<u64>, percent: f64, start: Instant) {
    let secs = start.elapsed().as_secs_f64().max(0.001);
    let total_f = total.unwrap_or(0) as f64;
    let done = total_f * percent / 100.0;
    let rate = done / secs;
    let eta = if rate > 0.0 && percent < 100.0 { (total_f - done) / rate } else { 0.0 };
    if report.json {
        report.event(serde_json::json!({
            "event": "progress", "vmid": vmid, "key": key, "percent": (percent * 100.0).round() / 100.0,
            "bytes": done as u64, "total": total, "rate": rate as u64, "eta_seconds": eta.round() as u64,
        }));
    } else if report.tty {
        let width = 30usize;
        let fill = ((percent / 100.0) * width as f64) as usize;
        eprint!(
            "\r  {key:<10} [{}{}] {:5.1}%  {} / {}  {}/s  ETA {:.0}s   ",
            "#".repeat(fill.min(width)),
            " ".repeat(width - fill.min(width)),
            percent,
            human(done),
            human(total_f),
            human(rate),
            eta
        );
    }
}

/// A volume served by `qemu-nbd` (read-only) where it lives: on the Proxmox node, reached
/// through an ssh stream-local forward, so qemu-img here sees the source's allocation (NBD
/// `base:allocation`) and moves only allocated data, as virt-v2v does with nbdkit; or on this host
/// for a qcow2 snapshot (`qemu-nbd -l`), which `qemu-img compare` cannot name.
///
/// One shell holds the server: it starts `qemu-nbd --fork`, prints `ready`, then waits for its
/// standard input to close and stops the server. That input is a pipe from this process, so
/// however pve2virt ends (even SIGKILL: the ssh client dies with it), the node's qemu-nbd stops.
struct NbdForward {
    holder: std::process::Child,
    local_dir: std::path::PathBuf,
    /// Whether `holder` is the ssh client (its /proc io counts what crossed the network).
    over_ssh: bool,
}

const HOLD_SCRIPT: &str = r#"set -eu
d=$1 fmt=$2 src=$3 snap=$4
mkdir -m 700 -- "$d"
trap 'kill "$(cat "$d/pid" 2>/dev/null)" 2>/dev/null; rm -rf -- "$d"' EXIT
set -- --fork --read-only --persistent --shared=8 --cache=none -f "$fmt" --socket="$d/nbd.sock" --pid-file="$d/pid"
[ -z "$snap" ] || set -- "$@" -l "snapshot.name=$snap"
qemu-nbd "$@" "$src"
echo ready
cat >/dev/null
"#;

impl NbdForward {
    fn open(host: &Host, source: &PlanSource) -> Result<(NbdForward, PlanSource), String> {
        let n = unique();
        let pid = std::process::id();
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let remote_dir = format!("/tmp/pve2virt-nbd-{pid}-{n}-{nanos}");
        let local_dir = std::env::temp_dir().join(format!("pve2virt-nbd-fwd-{pid}-{n}-{nanos}"));
        let hold = format!(
            "sh -c {} pve2virt-nbd {} {} {} {}",
            quote(HOLD_SCRIPT),
            quote(&remote_dir),
            quote(&source.format),
            quote(&source.path),
            quote(source.snapshot.as_deref().unwrap_or(""))
        );
        let (mut cmd, served) = match host.ssh_base() {
            None => {
                // Not tied to this process's death: the shell must outlive a SIGKILL of pve2virt
                // to stop qemu-nbd when its input closes.
                let mut c = Command::new("sh");
                c.arg("-c").arg(&hold);
                (c, format!("{remote_dir}/nbd.sock"))
            }
            Some(base) => {
                std::fs::create_dir_all(&local_dir).map_err(|e| e.to_string())?;
                let local = local_dir.join("nbd.sock");
                // ssh_base ends with the target; the forward options go before it.
                let args: Vec<String> = base.get_args().map(|a| a.to_string_lossy().into_owned()).collect();
                let (target, opts) = args.split_last().ok_or("no ssh target")?;
                let mut c = command("ssh");
                c.args(opts)
                    .args(["-o", "ExitOnForwardFailure=yes", "-o", "StreamLocalBindUnlink=yes", "-L"])
                    .arg(format!("{}:{remote_dir}/nbd.sock", local.display()))
                    .arg(target)
                    .arg("--")
                    .arg(&hold);
                (c, local.display().to_string())
            }
        };
        let mut holder = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start qemu-nbd: {e}"))?;
        let mut line = String::new();
        let mut out = holder.stdout.take().expect("piped");
        let mut byte = [0u8; 1];
        while out.read(&mut byte).unwrap_or(0) == 1 && byte[0] != b'\n' {
            line.push(byte[0] as char);
        }
        let fwd = NbdForward { holder, local_dir, over_ssh: !host.is_local() };
        if line.trim() != "ready" {
            let mut fwd = fwd;
            let _ = fwd.holder.kill();
            let mut err = String::new();
            if let Some(mut e) = fwd.holder.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            return Err(format!("qemu-nbd on the source did not start: {}", err.trim()));
        }
        // The forward may accept before it listens: wait for the local socket.
        for _ in 0..200 {
            if Path::new(&served).exists() {
                return Ok((fwd, PlanSource { path: served, kind: "nbd", format: "raw".into(), snapshot: None }));
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        Err("the ssh forward to the source's qemu-nbd did not come up".into())
    }

    /// What the ssh client has read so far (`rchar` of /proc/<pid>/io): the bytes that crossed
    /// the network, plus ssh's small local reads.
    fn bytes_read(&self) -> Option<u64> {
        if !self.over_ssh {
            return None;
        }
        let io = std::fs::read_to_string(format!("/proc/{}/io", self.holder.id())).ok()?;
        io.lines().find_map(|l| l.strip_prefix("rchar:")).and_then(|v| v.trim().parse().ok())
    }
}

impl Drop for NbdForward {
    fn drop(&mut self) {
        // Closing the holder's input stops qemu-nbd and removes its directory.
        drop(self.holder.stdin.take());
        for _ in 0..100 {
            if let Ok(Some(_)) = self.holder.try_wait() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = self.holder.kill();
        let _ = self.holder.wait();
        let _ = std::fs::remove_dir_all(&self.local_dir);
    }
}

fn unique() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

fn copy_argv(v: &PlanVolume, src: &PlanSource, dst: &str) -> Vec<String> {
    match v.action {
        Action::CutVars => plan::cut_argv(src, v.target.bytes.unwrap_or(0), dst),
        _ => plan::copy_argv(src, &v.target.format, dst),
    }
}

fn verify_argv(v: &PlanVolume, src: &PlanSource, dst: &str) -> Vec<String> {
    match v.action {
        Action::CutVars => plan::cut_verify_argv(src, v.target.bytes.unwrap_or(0), dst),
        _ => plan::verify_argv(src, &v.target.format, dst),
    }
}

/// Brings one volume to its target. `Ok(true)` when it was copied, `Ok(false)` when an existing
/// copy verified.
fn carry(v: &PlanVolume, vmid: u32, host: &Host, args: &MigrateArgs, report: &Report) -> Result<bool, (u8, String)> {
    let io = |e: String| (exit::IO, e);
    for step in v.steps.iter().filter(|s| s.action == "activate") {
        // An LV whose device node exists is active already (Proxmox leaves it so after a start).
        if !host.exists(&v.source.path) {
            let out = host.run(&shell::join(&step.argv)).map_err(|e| io(e.to_string()))?;
            if !out.status.success() {
                return Err(io(format!(
                    "{}: {} failed: {}",
                    v.key,
                    shell::join(&step.argv),
                    String::from_utf8_lossy(&out.stderr).trim()
                )));
            }
        }
    }
    if !host.exists(&v.source.path) && v.source.kind != "network" {
        return Err(io(format!("{}: the source volume {} does not exist", v.key, v.source.path)));
    }
    let mut forward = None;
    let src = if host.is_local() && v.source.snapshot.is_none() {
        v.source.clone()
    } else {
        let (f, s) = NbdForward::open(host, &v.source).map_err(|e| io(format!("{}: {e}", v.key)))?;
        forward = Some(f);
        s
    };
    let target = &v.target.path;
    if Path::new(target).exists() {
        if succeeds(&verify_argv(v, &src, target)) {
            report.say(&format!("  {}: {target} exists and verifies: kept", v.key));
            report.event(serde_json::json!({"event": "volume", "vmid": vmid, "key": v.key, "status": "verified", "target": target}));
            return Ok(false);
        }
        if !args.force {
            return Err((
                exit::REFUSED,
                format!("{}: {target} exists and differs from the source; pass --force to replace it", v.key),
            ));
        }
    }
    let part = plan::part_path(target);
    let _ = std::fs::remove_file(&part);
    report.say(&format!("  {}: {} → {target}", v.key, v.source.path));
    let started = Instant::now();
    copy_with_progress(&copy_argv(v, &src, &part), &v.key, vmid, v.target.bytes.or(v.bytes), report).map_err(io)?;
    let over_ssh = forward.as_ref().and_then(NbdForward::bytes_read);
    let copy_seconds = started.elapsed().as_secs_f64();
    if let Err(e) = run_argv(&verify_argv(v, &src, &part)) {
        let _ = std::fs::remove_file(&part);
        return Err(io(format!("{}: the copy does not verify: {e}", v.key)));
    }
    if let Ok(f) = std::fs::File::open(&part) {
        let _ = f.sync_all();
    }
    std::fs::rename(&part, target).map_err(|e| io(format!("{}: cannot rename {part}: {e}", v.key)))?;
    let allocated = std::fs::metadata(target).map(|m| std::os::unix::fs::MetadataExt::blocks(&m) * 512).unwrap_or(0);
    report.event(serde_json::json!({
        "event": "volume", "vmid": vmid, "key": v.key, "status": "copied", "target": target,
        "copy_seconds": copy_seconds, "seconds": started.elapsed().as_secs_f64(), "allocated_bytes": allocated, "ssh_bytes_read": over_ssh,
    }));
    Ok(true)
}

fn tpm_state(v: &PlanVolume, args: &MigrateArgs, report: &Report) -> Result<(), (u8, String)> {
    let Some(dir) = &v.target.state_dir else { return Ok(()) };
    let permall = Path::new(dir).join("tpm2-00.permall");
    let any_state = std::fs::read_dir(dir).map(|mut d| d.next().is_some()).unwrap_or(false);
    if permall.exists() || any_state {
        if !args.force {
            report.say(&format!("  {}: TPM state {dir} exists: kept", v.key));
            return Ok(());
        }
        std::fs::remove_dir_all(dir).map_err(|e| (exit::IO, format!("cannot remove {dir}: {e}")))?;
    }
    let step = v.steps.iter().find(|s| s.action == "convert-tpm").ok_or((exit::IO, "no TPM step".to_owned()))?;
    run_argv(&step.argv).map_err(|e| (exit::IO, format!("{}: converting the TPM state: {e}", v.key)))?;
    report.say(&format!("  {}: TPM state → {dir}", v.key));
    Ok(())
}

fn virsh(uri: &str, args: &[&str]) -> std::io::Result<std::process::Output> {
    Command::new("virsh").arg("-c").arg(uri).args(args).stdin(Stdio::null()).output()
}

/// Migrates one planned VM; returns the exit code.
pub fn migrate_vm(p: &Planned, args: &MigrateArgs, host: &Host, json: bool) -> u8 {
    let report = Report { json, tty: std::io::stderr().is_terminal() };
    match migrate_inner(p, args, host, &report) {
        Ok(()) => exit::OK,
        Err((code, msg)) => {
            eprintln!("error: VM {}: {msg}", p.plan.vmid);
            report.event(serde_json::json!({"event": "failed", "vmid": p.plan.vmid, "error": msg}));
            code
        }
    }
}

fn migrate_inner(p: &Planned, args: &MigrateArgs, host: &Host, report: &Report) -> Result<(), (u8, String)> {
    let vm = &p.plan;
    let io = |e: String| (exit::IO, e);
    match host.vm_running(vm.vmid) {
        Ok(true) if !args.allow_running => {
            return Err((
                exit::REFUSED,
                "the VM is running on the source; shut it down, or pass --allow-running for a crash-consistent copy"
                    .into(),
            ))
        }
        Ok(true) => eprintln!(
            "warning: VM {} is running on the source: the copy is crash-consistent only (as after a power cut)",
            vm.vmid
        ),
        Ok(false) => {}
        Err(e) => return Err(io(format!("cannot check whether the VM runs: {e}"))),
    }
    // A domain that exists is left alone unless it is the one this plan defines.
    let exists = virsh(&args.to, &["domuuid", &vm.name]).is_ok_and(|o| o.status.success());
    let recorded = std::fs::read_to_string(&vm.domain_xml).ok();
    let unchanged = recorded.as_deref() == Some(p.xml.as_str());
    if exists && !unchanged && !args.force {
        return Err((
            exit::REFUSED,
            format!(
                "domain '{}' exists on {} and differs from this migration; pass --force to redefine it",
                vm.name, args.to
            ),
        ));
    }
    if !exists && recorded.is_some() && !unchanged && !args.force {
        return Err((
            exit::REFUSED,
            format!("{} exists and differs from this migration's domain; pass --force to replace it", vm.domain_xml),
        ));
    }
    std::fs::create_dir_all(&args.source.target_dir)
        .map_err(|e| io(format!("cannot create {}: {e}", args.source.target_dir.display())))?;
    let _lock = lock(&args.source.target_dir, vm.vmid).map_err(|e| (exit::REFUSED, e))?;
    report.say(&format!("VM {} ({}):", vm.vmid, vm.name));
    let mut changed = false;
    for v in &vm.volumes {
        if v.action == Action::Reference {
            continue;
        }
        changed |= carry(v, vm.vmid, host, args, report)?;
        if v.action == Action::TpmState {
            tpm_state(v, args, report)?;
        }
    }
    if exists && unchanged {
        report.say(&format!("  domain '{}' is defined as planned: unchanged", vm.name));
    } else {
        write_atomic(Path::new(&vm.domain_xml), p.xml.as_bytes(), true).map_err(|e| io(e.to_string()))?;
        let out = virsh(&args.to, &["define", &vm.domain_xml]).map_err(|e| io(format!("cannot run virsh: {e}")))?;
        if !out.status.success() {
            return Err(io(format!("virsh define failed: {}", String::from_utf8_lossy(&out.stderr).trim())));
        }
        changed = true;
        report.say(&format!("  domain '{}' defined on {}", vm.name, args.to));
    }
    report.event(serde_json::json!({"event": "defined", "vmid": vm.vmid, "name": vm.name, "changed": changed}));
    if args.start {
        let state =
            virsh(&args.to, &["domstate", &vm.name]).map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
        if state.as_deref().ok() != Some("running") {
            let out = virsh(&args.to, &["start", &vm.name]).map_err(|e| io(e.to_string()))?;
            if !out.status.success() {
                return Err(io(format!("virsh start failed: {}", String::from_utf8_lossy(&out.stderr).trim())));
            }
            report.say(&format!("  domain '{}' started", vm.name));
            report.event(serde_json::json!({"event": "started", "vmid": vm.vmid, "name": vm.name}));
        }
    }
    Ok(())
}
