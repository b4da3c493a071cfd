//! Arbitrary text as `/etc/pve/storage.cfg` (pve-config.md §4). On a branch where the parser is a
//! placeholder this only proves the entry point; after the real parser lands it fuzzes that.
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
