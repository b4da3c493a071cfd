//! Thin, bounded wrappers around `virsh -c <the chosen target's URI>` (see `target`).
//!
//! Every call has a deadline (see `process`). Domains are addressed by name;
//! callers are responsible for using names nobody else uses (the conformance
//! run uses the prefix `conf-`, the guest tests `guest-`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::process::{self, Outcome};
use crate::target;

/// Deadlines. A paused start under TCG takes well under a second; swtpm set-up
/// and OVMF variable copies add a few. Anything slower is a hang.
const QUICK: Duration = Duration::from_secs(20);
const START: Duration = Duration::from_secs(60);

pub fn virsh(args: &[&str], timeout: Duration) -> Outcome {
    let mut cmd = Command::new("virsh");
    cmd.arg("-c").arg(&target::get().uri).args(args);
    process::run(&mut cmd, timeout).unwrap_or_else(|e| Outcome {
        status: None,
        stdout: String::new(),
        stderr: format!("cannot run virsh: {e}"),
    })
}

/// Does the daemon answer at all? (`.ci/libvirt-up` makes it so.)
pub fn daemon_answers() -> bool {
    virsh(&["list"], QUICK).success()
}

pub fn define(xml: &Path) -> Outcome {
    virsh(&["define", &xml.to_string_lossy()], QUICK)
}

pub fn start_paused(name: &str) -> Outcome {
    virsh(&["start", "--paused", name], START)
}

/// Stops and forgets a domain. `--keep-nvram` always: with `--nvram` libvirt
/// deletes the variables file, which for a converted VM is the real efidisk.
pub fn destroy_and_undefine(name: &str) {
    let _ = virsh(&["destroy", name], QUICK);
    let _ = virsh(&["undefine", "--keep-nvram", name], QUICK);
}

/// Names of all domains (running or not) that start with `prefix`.
pub fn domains_with_prefix(prefix: &str) -> Vec<String> {
    virsh(&["list", "--all", "--name"], QUICK)
        .stdout
        .lines()
        .map(str::trim)
        .filter(|n| n.starts_with(prefix))
        .map(str::to_owned)
        .collect()
}

/// One QMP command, answered as pretty JSON text.
pub fn qmp(name: &str, command: &str) -> Outcome {
    virsh(&["qemu-monitor-command", name, "--pretty", command], QUICK)
}

pub fn hmp(name: &str, command: &str) -> Outcome {
    virsh(&["qemu-monitor-command", name, "--hmp", command], QUICK)
}

/// The pid file libvirt's QEMU driver keeps for a running domain.
pub fn pid_file(name: &str) -> PathBuf {
    target::get().host_path(format!("/run/libvirt/qemu/{name}.pid"))
}

/// The pid file of the swtpm libvirt started for a domain's emulated TPM
/// (`<id>-<name>-swtpm.pid`; the id varies, so search).
pub fn swtpm_pid_file(name: &str) -> Option<PathBuf> {
    let suffix = format!("-{name}-swtpm.pid");
    std::fs::read_dir(target::get().host_path("/run/libvirt/qemu/swtpm"))
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.file_name().is_some_and(|f| f.to_string_lossy().ends_with(&suffix)))
}

pub fn validate(xml: &Path) -> Outcome {
    let mut cmd = Command::new("virt-xml-validate");
    cmd.arg(xml).arg("domain");
    process::run(&mut cmd, QUICK).unwrap_or_else(|e| Outcome {
        status: None,
        stdout: String::new(),
        stderr: format!("cannot run virt-xml-validate: {e}"),
    })
}
