//! Writing results so that a reader (or a crash) never sees half a file.

use std::fs;
use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

/// Temporary files are hidden and end in `.tmp`, so an interrupted run never leaves a file that
/// looks like a result (`*.xml`).
fn temp_path(path: &Path) -> io::Result<std::path::PathBuf> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name =
        path.file_name().ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path has no file name"))?;
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    Ok(dir.join(format!(".{}.{}-{n}.tmp", name.to_string_lossy(), std::process::id())))
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder, flushed to disk, then
/// moved into place. Without `overwrite` an existing `path` is never replaced, even by a racing
/// writer (the move is a hard link, which fails if the name exists).
pub fn write_atomic(path: &Path, bytes: &[u8], overwrite: bool) -> io::Result<()> {
    let tmp = temp_path(path)?;
    let result = (|| {
        let mut file = fs::OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        if overwrite {
            fs::rename(&tmp, path)
        } else {
            match fs::hard_link(&tmp, path) {
                Ok(()) => fs::remove_file(&tmp),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("{} exists; pass --force to overwrite it", path.display()),
                )),
                // File systems without hard links: check, then rename (a small race remains).
                Err(_) if !path.exists() => fs::rename(&tmp, path),
                Err(e) => Err(e),
            }
        }
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    // The rename is durable only once the folder itself is synced.
    if result.is_ok() {
        if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            let _ = fs::File::open(dir).and_then(|d| d.sync_all());
        }
    }
    result
}

/// Writes the files a conversion puts beside its XML (`<vmid>.nwfilter.xml`, `<vmid>.qemu-hook`)
/// into `dir`, atomically each; scripts are made executable. Returns the paths written.
pub fn write_side_files(dir: &Path, files: &[crate::SideFile], overwrite: bool) -> io::Result<Vec<std::path::PathBuf>> {
    let mut written = Vec::new();
    for file in files {
        let path = dir.join(&file.name);
        write_atomic(&path, file.contents.as_bytes(), overwrite)?;
        if file.executable {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o755))?;
        }
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_clobbers_without_overwrite() {
        let dir = std::env::temp_dir().join(format!("pve2virt-out-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("100.xml");
        write_atomic(&path, b"one", false).unwrap();
        let err = write_atomic(&path, b"two", false).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&path).unwrap(), b"one");
        write_atomic(&path, b"three", true).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"three");
        // No temporary file is left behind.
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        fs::remove_dir_all(&dir).unwrap();
    }
}
