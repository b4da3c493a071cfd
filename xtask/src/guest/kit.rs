//! The guest kit: a stock Debian kernel (with its modules) and a static busybox, fetched with
//! `apt-get download` and unpacked with `dpkg-deb -x` into a cache directory that later runs reuse.
//!
//! Debian's packages rather than a kernel built here: they are signed by the archive and need
//! no toolchain. The `-unsigned` image is the same kernel without the Secure Boot signature wrapper, which direct kernel boot does not need.

use super::exec::output;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Kit {
    pub kernel: PathBuf,
    /// `…/lib/modules/<version>`: holds `kernel/…/*.ko[.xz]`.
    pub modules: PathBuf,
    pub busybox: PathBuf,
}

/// Returns the kit in `cache`, downloading and unpacking it first when it is not there yet.
pub fn ensure(cache: &Path) -> Result<Kit, String> {
    let root = cache.join("root");
    if let Ok(kit) = find(&root) {
        return Ok(kit);
    }
    let debs = cache.join("debs");
    fs::create_dir_all(&debs).map_err(|e| format!("{}: {e}", debs.display()))?;
    let kernel_pkg = kernel_package()?;
    eprintln!("guest kit: downloading {kernel_pkg} and busybox-static into {}", debs.display());
    output(Command::new("apt-get").args(["download", &kernel_pkg, "busybox-static"]).current_dir(&debs))?;
    // Unpack into a scratch directory and rename it into place, so an interrupted run never
    // leaves a half-unpacked kit that `find` would accept.
    let partial = cache.join("root.partial");
    let _ = fs::remove_dir_all(&partial);
    for entry in fs::read_dir(&debs).map_err(|e| e.to_string())? {
        let deb = entry.map_err(|e| e.to_string())?.path();
        let name = deb.file_name().unwrap_or_default().to_string_lossy();
        let wanted = name.starts_with(&format!("{kernel_pkg}_")) || name.starts_with("busybox-static_");
        if wanted && name.ends_with(".deb") {
            output(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&partial))?;
        }
    }
    let _ = fs::remove_dir_all(&root);
    fs::rename(&partial, &root).map_err(|e| e.to_string())?;
    find(&root)
}

/// The unsigned flavour of whatever kernel `linux-image-amd64` currently points at, so the kit
/// follows Debian's point releases instead of pinning an ABI that will vanish from the mirror.
fn kernel_package() -> Result<String, String> {
    let depends = || output(Command::new("apt-cache").args(["depends", "linux-image-amd64"]));
    let found = depends().ok().and_then(|o| signed_image(&o));
    let signed = match found {
        Some(p) => p,
        None => {
            // Fresh containers ship without package lists.
            eprintln!("guest kit: no package lists yet, running apt-get update");
            output(Command::new("apt-get").arg("update"))?;
            signed_image(&depends()?).ok_or("apt-cache depends linux-image-amd64: no kernel image")?
        }
    };
    Ok(format!("{signed}-unsigned"))
}

fn signed_image(apt_cache_depends: &str) -> Option<String> {
    apt_cache_depends.lines().find_map(|l| {
        let pkg = l.trim().strip_prefix("Depends: ")?;
        (pkg.starts_with("linux-image-") && pkg.ends_with("-amd64")).then(|| pkg.to_string())
    })
}

fn find(root: &Path) -> Result<Kit, String> {
    let busybox = root.join("bin/busybox");
    let boot = root.join("boot");
    let kernel = fs::read_dir(&boot)
        .map_err(|e| format!("{}: {e}", boot.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("vmlinuz-")))
        .ok_or("no vmlinuz in the kit")?;
    let version = kernel.file_name().unwrap().to_string_lossy()["vmlinuz-".len()..].to_string();
    let modules = root.join("lib/modules").join(version);
    if !busybox.is_file() || !modules.join("kernel").is_dir() {
        return Err("kit incomplete".into());
    }
    Ok(Kit { kernel, modules, busybox })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_kernel_the_metapackage_depends_on() {
        let out = "linux-image-amd64\n  Depends: linux-image-6.1.0-57-amd64\n";
        assert_eq!(signed_image(out).as_deref(), Some("linux-image-6.1.0-57-amd64"));
        assert_eq!(signed_image("linux-image-amd64\n"), None);
    }
}
