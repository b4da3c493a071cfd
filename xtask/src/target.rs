//! Which libvirt the runs go against, and whether it can use KVM.
//!
//! `.ci/libvirt-up debian12` brings up this machine's own libvirt (URI `qemu:///system`);
//! `.ci/libvirt-up debian13` a Debian 13 libvirt in a chroot, on its own socket
//! (`qemu+unix:///system?socket=<chroot>/run/libvirt/libvirt-sock`). Both print the URI, which the
//! tasks take as `--uri`. Paths a domain names are seen from the target's root, so files the runs
//! read from the target (its OVMF templates, its pid files) are looked up under [`Target::root`].

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

#[derive(Debug, Clone)]
pub struct Target {
    /// `debian12`, `debian13`, or the URI itself for any other libvirt.
    pub name: String,
    pub uri: String,
    /// The target's file system root as this machine sees it (`/` for the host's own libvirt).
    pub root: PathBuf,
}

static TARGET: OnceLock<Target> = OnceLock::new();

impl Target {
    fn from_uri(name: Option<&str>, uri: &str) -> Target {
        // A chroot's libvirtd listens on <root>/run/libvirt/libvirt-sock.
        let root = uri
            .split_once("socket=")
            .and_then(|(_, socket)| socket.split('&').next())
            .and_then(|socket| socket.strip_suffix("/run/libvirt/libvirt-sock"))
            .map_or_else(|| PathBuf::from("/"), PathBuf::from);
        let name = name.map(str::to_owned).unwrap_or_else(|| match uri {
            "qemu:///system" => "debian12".to_owned(),
            _ => uri.to_owned(),
        });
        Target { name, uri: uri.to_owned(), root }
    }

    /// `path` as named inside the target (`/usr/share/OVMF/…`), as this machine reaches it.
    pub fn host_path(&self, path: impl AsRef<Path>) -> PathBuf {
        let path = path.as_ref();
        self.root.join(path.strip_prefix("/").unwrap_or(path))
    }
}

/// Chooses the target for this process (`--target NAME`, `--uri URI`); call once, before any
/// libvirt call. Without either, this machine's own `qemu:///system`.
pub fn select(name: Option<&str>, uri: Option<&str>) -> Result<(), String> {
    let uri = match (name, uri) {
        (_, Some(uri)) => uri.to_owned(),
        (None | Some("debian12"), None) => "qemu:///system".to_owned(),
        (Some(other), None) => {
            return Err(format!("--target {other} needs --uri (the URI `.ci/libvirt-up {other}` printed)"))
        }
    };
    TARGET.set(Target::from_uri(name, &uri)).map_err(|_| "the libvirt target was already chosen".to_owned())
}

pub fn get() -> &'static Target {
    TARGET.get_or_init(|| Target::from_uri(None, "qemu:///system"))
}

/// Whether QEMU can use KVM here: `/dev/kvm` opens read-write (what QEMU does). Hosts without it,
/// or whose KVM refuses a feature a case needs, run that case under TCG, and the report says so.
pub fn kvm_usable() -> bool {
    std::fs::OpenOptions::new().read(true).write(true).open("/dev/kvm").is_ok()
}

/// Pulls `--target NAME` and `--uri URI` out of a task's arguments and selects the target.
pub fn take_args(args: Vec<String>) -> Result<Vec<String>, String> {
    let (mut name, mut uri, mut rest) = (None, None, Vec::new());
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--target" => name = Some(it.next().ok_or("--target needs a value")?),
            "--uri" => uri = Some(it.next().ok_or("--uri needs a value")?),
            _ => rest.push(arg),
        }
    }
    select(name.as_deref(), uri.as_deref())?;
    Ok(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chroot_root_from_its_socket() {
        let t = Target::from_uri(
            Some("debian13"),
            "qemu+unix:///system?socket=/var/lib/pve2virt-ci/debian13/run/libvirt/libvirt-sock",
        );
        assert_eq!(t.root, PathBuf::from("/var/lib/pve2virt-ci/debian13"));
        assert_eq!(
            t.host_path("/usr/share/OVMF/OVMF_VARS_4M.fd"),
            PathBuf::from("/var/lib/pve2virt-ci/debian13/usr/share/OVMF/OVMF_VARS_4M.fd")
        );
        let host = Target::from_uri(None, "qemu:///system");
        assert_eq!((host.name.as_str(), host.root.as_path()), ("debian12", Path::new("/")));
    }
}
