//! Writing results so that a reader (or a crash) never sees half a file.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

/// Temporary files are hidden and end in `.tmp`, so an interrupted run never leaves a file that
/// looks like a result (`*.xml`).
fn temp_path(path: &Path) -> io::Result<PathBuf> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name =
        path.file_name().ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path has no file name"))?;
    static PID: OnceLock<u32> = OnceLock::new();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let pid = PID.get_or_init(std::process::id);
    Ok(dir.join(format!(".{}.{pid}-{n}.tmp", name.to_string_lossy())))
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder, flushed to disk, then
/// moved into place. Without `overwrite` an existing `path` is never replaced, even by a racing
/// writer (the move is a hard link, which fails if the name exists).
pub fn write_atomic(path: &Path, bytes: &[u8], overwrite: bool) -> io::Result<()> {
    let tmp = write_temp(path, bytes)?;
    if let Err(e) = fs::File::open(&tmp).and_then(|f| f.sync_all()) {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    commit(&tmp, path, overwrite)?;
    // The rename is durable only once the folder itself is synced.
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        let _ = sync_dir(dir);
    }
    Ok(())
}

/// Writes `bytes` to a new hidden temporary file next to `path` (see [`temp_path`]), without
/// flushing it: the batch flushes all its temporary files at once ([`sync_filesystem`]) before any
/// of them is moved into place with [`commit`].
pub fn write_temp(path: &Path, bytes: &[u8]) -> io::Result<PathBuf> {
    let tmp = temp_path(path)?;
    let written = fs::OpenOptions::new().write(true).create_new(true).open(&tmp).and_then(|mut f| f.write_all(bytes));
    match written {
        Ok(()) => Ok(tmp),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Moves a temporary file written by [`write_temp`] to `path`; on failure the temporary file is
/// removed. Without `overwrite` an existing `path` is never replaced, even by a racing writer (the
/// move is a hard link, which fails if the name exists). Durable only once the folder is synced
/// ([`sync_dir`]).
pub fn commit(tmp: &Path, path: &Path, overwrite: bool) -> io::Result<()> {
    let result = if overwrite {
        fs::rename(tmp, path)
    } else {
        match rename_noreplace(tmp, path)
            .unwrap_or_else(|| fs::hard_link(tmp, path).and_then(|()| fs::remove_file(tmp)))
        {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} exists; pass --force to overwrite it", path.display()),
            )),
            // File systems without hard links: check, then rename (a small race remains).
            Err(_) if !path.exists() => fs::rename(tmp, path),
            Err(e) => Err(e),
        }
    };
    if result.is_err() {
        let _ = fs::remove_file(tmp);
    }
    result
}

/// `renameat2(RENAME_NOREPLACE)`: a move that fails if the target exists, in one system call
/// instead of link + unlink. `None` where the kernel or file system lacks it (then the caller
/// falls back to a hard link).
fn rename_noreplace(tmp: &Path, path: &Path) -> Option<io::Result<()>> {
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{renameat_with, RenameFlags, CWD};
        match renameat_with(CWD, tmp, CWD, path, RenameFlags::NOREPLACE) {
            Ok(()) => Some(Ok(())),
            Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS | rustix::io::Errno::NOTSUP) => None,
            Err(e) => Some(Err(e.into())),
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (tmp, path);
        None
    }
}

/// Flushes to disk everything written to the file system holding `dir`: one `syncfs(2)` stands
/// for an `fsync` of every temporary file of the batch. Where `syncfs` is missing (not Linux) or
/// fails, each of `files` is fsynced instead, so an error is never swallowed.
pub fn sync_filesystem(dir: &Path, files: &[&Path]) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        // Since Linux 5.8 syncfs reports writeback errors of the file system (earlier it always
        // returned 0, which is why a failure falls through to per-file fsync rather than trusting it).
        let synced = fs::File::open(dir).and_then(|d| rustix::fs::syncfs(&d).map_err(io::Error::from));
        if synced.is_ok() {
            return Ok(());
        }
    }
    for file in files {
        fs::File::open(file)?.sync_all()?;
    }
    Ok(())
}

/// Makes the renames into `dir` durable (one `fsync` of the folder).
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
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
