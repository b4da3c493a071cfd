//! A writer for the "newc" cpio format, the only one the kernel unpacks as an initramfs
//! (Documentation/driver-api/early-userspace/buffer-format.rst). Written here rather than
//! pulled from a crate: it is sixty lines, and the xtask stays dependency-free.

const S_IFDIR: u32 = 0o040000;
const S_IFREG: u32 = 0o100000;
const S_IFLNK: u32 = 0o120000;
const S_IFCHR: u32 = 0o020000;

/// Builds an archive in memory; entries keep the order they are added in, so parents must come
/// before their children (the kernel creates paths as it reads them).
#[derive(Default)]
pub struct Archive {
    out: Vec<u8>,
    next_ino: u32,
}

impl Archive {
    pub fn dir(&mut self, path: &str) {
        self.entry(path, S_IFDIR | 0o755, 2, (0, 0), &[]);
    }

    pub fn file(&mut self, path: &str, mode: u32, data: &[u8]) {
        self.entry(path, S_IFREG | mode, 1, (0, 0), data);
    }

    pub fn symlink(&mut self, path: &str, target: &str) {
        self.entry(path, S_IFLNK | 0o777, 1, (0, 0), target.as_bytes());
    }

    /// A character device node. The kernel opens `/dev/console` for init's stdio *before* init
    /// can mount devtmpfs, so the archive has to carry that node itself.
    pub fn char_dev(&mut self, path: &str, mode: u32, major: u32, minor: u32) {
        self.entry(path, S_IFCHR | mode, 1, (major, minor), &[]);
    }

    /// Appends the `TRAILER!!!` record and returns the archive bytes.
    pub fn finish(mut self) -> Vec<u8> {
        self.entry("TRAILER!!!", 0, 1, (0, 0), &[]);
        self.out
    }

    fn entry(&mut self, path: &str, mode: u32, nlink: u32, rdev: (u32, u32), data: &[u8]) {
        let name = path.trim_start_matches('/');
        self.next_ino += 1;
        let size = u32::try_from(data.len()).expect("cpio newc entries are limited to 4 GiB");
        let name_size = name.len() as u32 + 1; // counts the NUL terminator
        let fields = [
            self.next_ino,
            mode,
            0, // uid
            0, // gid
            nlink,
            0, // mtime: fixed, so the archive is reproducible
            size,
            0, // devmajor
            0, // devminor
            rdev.0,
            rdev.1,
            name_size,
            0, // check: only used by the "crc" variant (070702)
        ];
        self.out.extend_from_slice(b"070701");
        for f in fields {
            self.out.extend_from_slice(format!("{f:08X}").as_bytes());
        }
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(0);
        self.pad4();
        self.out.extend_from_slice(data);
        self.pad4();
    }

    /// The header (110 bytes) plus name, and the data, are each padded to a 4-byte boundary.
    fn pad4(&mut self) {
        while !self.out.len().is_multiple_of(4) {
            self.out.push(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn file_entry_layout() {
        let mut a = Archive::default();
        a.file("/init", 0o755, b"hi\n");
        let bytes = a.finish();
        let header = std::str::from_utf8(&bytes[..110]).unwrap();
        assert_eq!(&header[..6], "070701");
        assert_eq!(&header[6..14], "00000001", "inode");
        assert_eq!(&header[14..22], "000081ED", "mode = S_IFREG | 0755");
        assert_eq!(&header[54..62], "00000003", "file size");
        assert_eq!(&header[94..102], "00000005", "name size incl. NUL");
        // 110 + "init\0" = 115 → padded to 116; then the data.
        assert_eq!(&bytes[110..116], b"init\0\0");
        assert_eq!(&bytes[116..119], b"hi\n");
        assert_eq!(bytes[119], 0, "data padded to 4");
        assert_eq!(&bytes[120..126], b"070701", "trailer follows");
        assert!(bytes.ends_with(&[0]));
        assert_eq!(bytes.len() % 4, 0);
    }

    #[test]
    fn trailer_and_device() {
        let mut a = Archive::default();
        a.char_dev("dev/console", 0o600, 5, 1);
        let bytes = a.finish();
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("TRAILER!!!"));
        let header = std::str::from_utf8(&bytes[..110]).unwrap();
        assert_eq!(&header[14..22], "00002180", "S_IFCHR | 0600");
        assert_eq!(&header[78..86], "00000005", "rdevmajor");
        assert_eq!(&header[86..94], "00000001", "rdevminor");
    }

    #[test]
    fn cpio_tool_can_read_it() {
        // Cross-check against GNU cpio when it is installed; the layout test above is the
        // portable one.
        let Ok(mut child) = std::process::Command::new("cpio")
            .args(["-t", "--quiet"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
        else {
            return;
        };
        let mut a = Archive::default();
        a.dir("bin");
        a.file("bin/x", 0o755, b"abcde");
        a.symlink("bin/sh", "x");
        child.stdin.take().unwrap().write_all(&a.finish()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "bin\nbin/x\nbin/sh\n");
    }
}
