//! Arbitrary text as `/etc/pve/storage.cfg` (pve-common `SectionConfig.pm parse_config`,
//! docs/proxmox-config.md#storage-cfg), through the real parser.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pve2virt::pve::storage::StorageConfig;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(notes) = StorageConfig::parse(text) {
            let source = pve2virt::Source::new("storage.cfg", text);
            let _ = pve2virt::report::render_human(&notes, &source, false);
        }
    }
});
