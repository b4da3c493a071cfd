//! Where the Proxmox side is: this host, or a node reached with ssh (`--from ssh://[USER@]HOST[:PORT]`).
//! Every remote action is one `ssh … -- <sh command>` whose words are quoted with
//! [`shell::quote`](super::shell::quote).

use std::io;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use super::shell::quote;
use crate::pve::cluster::{short_host_name, ClusterFiles, LocalFiles};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    Local,
    Ssh {
        /// `[user@]host`.
        target: String,
        port: Option<u16>,
        /// `-o` options (`--ssh-option`), e.g. `IdentityFile=…`.
        options: Vec<String>,
    },
}

impl Host {
    /// `local`, or `ssh://[USER@]HOST[:PORT]`.
    pub fn parse(s: &str, options: &[String]) -> Result<Host, String> {
        if s == "local" {
            return Ok(Host::Local);
        }
        let rest = s.strip_prefix("ssh://").ok_or("expected `local` or ssh://[USER@]HOST[:PORT]")?;
        let rest = rest.trim_end_matches('/');
        let (target, port) = match rest.rsplit_once(':') {
            Some((t, p)) => match p.parse::<u16>() {
                Ok(port) => (t.to_owned(), Some(port)),
                Err(_) => return Err(format!("'{p}' is not a port")),
            },
            None => (rest.to_owned(), None),
        };
        let host = target.rsplit('@').next().unwrap_or_default();
        let valid = |c: char| c.is_ascii_alphanumeric() || "-._[]:@".contains(c);
        if host.is_empty() || !target.chars().all(valid) || target.starts_with('-') {
            return Err(format!("'{target}' is not a [USER@]HOST"));
        }
        Ok(Host::Ssh { target, port, options: options.to_vec() })
    }

    pub fn is_local(&self) -> bool {
        *self == Host::Local
    }

    /// The ssh command line up to (not including) the remote command.
    pub fn ssh_base(&self) -> Option<Command> {
        let Host::Ssh { target, port, options } = self else { return None };
        let mut cmd = Command::new("ssh");
        cmd.args(["-o", "BatchMode=yes"]);
        for o in options {
            cmd.arg("-o").arg(o);
        }
        if let Some(p) = port {
            cmd.arg("-p").arg(p.to_string());
        }
        cmd.arg(target);
        Some(cmd)
    }

    /// A command for a POSIX sh `script` on the Proxmox side.
    pub fn command(&self, script: &str) -> Command {
        match self.ssh_base() {
            None => {
                let mut c = Command::new("sh");
                c.arg("-c").arg(script);
                c
            }
            Some(mut c) => {
                c.arg("--").arg(script);
                c
            }
        }
    }

    pub fn run(&self, script: &str) -> io::Result<Output> {
        self.command(script).stdin(Stdio::null()).output()
    }

    /// Reads a file of the Proxmox side.
    pub fn read(&self, path: &str) -> io::Result<Vec<u8>> {
        if self.is_local() {
            return std::fs::read(path);
        }
        let out = self.run(&format!("cat -- {}", quote(path)))?;
        if !out.status.success() {
            return Err(io::Error::other(format!(
                "cannot read {path} on the source: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(out.stdout)
    }

    /// Whether VM `vmid` runs there: Proxmox's pid file (`/var/run/qemu-server/<vmid>.pid`,
    /// QemuServer.pm `check_running`) names a live process whose command line has `-id <vmid>`.
    pub fn vm_running(&self, vmid: u32) -> io::Result<bool> {
        let script = format!(
            "pid=$(cat /var/run/qemu-server/{vmid}.pid 2>/dev/null) || exit 1; \
             [ -n \"$pid\" ] && [ -r /proc/$pid/cmdline ] || exit 1; \
             tr '\\000' ' ' < /proc/$pid/cmdline | grep -q -e ' -id {vmid} '"
        );
        Ok(self.run(&script)?.status.success())
    }

    /// The virtual size of an image, from `qemu-img info` run where the image is.
    pub fn virtual_size(&self, path: &str, format: &str) -> Option<u64> {
        let script = format!("qemu-img info --output=json -U -f {} {}", quote(format), quote(path));
        let out = self.run(&script).ok()?;
        if !out.status.success() {
            return None;
        }
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
        v.get("virtual-size")?.as_u64()
    }

    /// Whether a path exists there.
    pub fn exists(&self, path: &str) -> bool {
        if self.is_local() {
            return std::path::Path::new(path).exists();
        }
        self.run(&format!("test -e {}", quote(path))).is_ok_and(|o| o.status.success())
    }
}

/// The cluster files of the Proxmox side (`/etc/pve/mapping/…`, `cpu-models.conf`, `firewall/`),
/// read where the VM configs are read.
impl ClusterFiles for Host {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        if self.is_local() {
            return std::fs::read(path);
        }
        let path = path.display().to_string();
        // `cat` gives no errno; ask first, so that a missing file is NotFound as it is locally.
        if !self.exists(&path) {
            return Err(io::Error::new(io::ErrorKind::NotFound, format!("{path}: no such file on the source")));
        }
        Host::read(self, &path)
    }
    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        if self.is_local() {
            return LocalFiles.list(dir);
        }
        let out = self.run(&format!("cd {} && ls -1A", quote(&dir.display().to_string())))?;
        if !out.status.success() {
            return Err(io::Error::new(io::ErrorKind::NotFound, format!("{}: no folder on the source", dir.display())));
        }
        Ok(String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect())
    }
    fn is_dir(&self, path: &Path) -> bool {
        if self.is_local() {
            return path.is_dir();
        }
        self.run(&format!("test -d {}", quote(&path.display().to_string()))).is_ok_and(|o| o.status.success())
    }
    fn host_name(&self) -> Option<String> {
        if self.is_local() {
            return LocalFiles.host_name();
        }
        let out = self.run("cat /proc/sys/kernel/hostname").ok().filter(|o| o.status.success())?;
        short_host_name(&String::from_utf8_lossy(&out.stdout))
    }
}

#[cfg(test)]
mod tests {
    use super::Host;

    #[test]
    fn parse() {
        assert_eq!(Host::parse("local", &[]), Ok(Host::Local));
        assert_eq!(
            Host::parse("ssh://root@pve1:2222", &[]),
            Ok(Host::Ssh { target: "root@pve1".into(), port: Some(2222), options: vec![] })
        );
        assert!(Host::parse("ssh://-oProxyCommand=x", &[]).is_err());
        assert!(Host::parse("http://x", &[]).is_err());
    }
}
