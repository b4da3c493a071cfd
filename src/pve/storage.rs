//! Placeholder for storage.cfg and volume resolution (pve-config.md §4).

/// A parsed `/etc/pve/storage.cfg`.
#[derive(Debug, Clone, Default)]
pub struct StorageConfig {}

impl StorageConfig {
    /// The layout of a fresh Proxmox install (ext4/xfs on LVM, the installer's default).
    pub fn fresh_install() -> Self {
        StorageConfig {}
    }
}

impl StorageConfig {
    /// Parses a storage.cfg text.
    pub fn parse(_text: &str) -> Result<StorageConfig, Vec<crate::report::Note>> {
        Ok(StorageConfig {})
    }
}
