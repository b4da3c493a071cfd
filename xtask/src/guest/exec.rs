//! Running host tools (apt-get, dpkg-deb, qemu-img, virsh) with errors that say what failed.

use std::path::Path;
use std::process::Command;

/// Runs `cmd` to completion and returns its stdout; a non-zero exit becomes an error carrying
/// the command line and stderr, which is what one needs to see when libvirt refuses a domain.
pub fn output(cmd: &mut Command) -> Result<String, String> {
    let shown = format!("{cmd:?}");
    let out = cmd.output().map_err(|e| format!("cannot run {shown}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!("{shown} failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr).trim()))
    }
}

pub fn virsh(args: &[&str]) -> Result<String, String> {
    output(Command::new("virsh").arg("-c").arg(&crate::target::get().uri).args(args))
}

pub fn path_str(p: &Path) -> Result<&str, String> {
    p.to_str().ok_or_else(|| format!("{} is not UTF-8", p.display()))
}
