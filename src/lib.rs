//! pve2virt: turns a Proxmox VE VM config into libvirt domain XML that boots the same guest.
//!
//! The pipeline, one module per arrow, data flowing forward only:
//!
//! ```text
//! bytes ─pve::file─▶ sections ─pve::decode─▶ checked keys ─map─▶ libvirt::Domain + notes ─libvirt::write─▶ XML
//! ```
//!
//! [`convert`] runs all of it; every error of the input is reported at once, and nothing is
//! written unless the whole conversion succeeded.

pub mod app;
pub mod batch;
pub mod cli;
pub mod libvirt;
pub mod map;
pub mod migrate;
pub mod output;
pub mod pve;
pub mod report;
pub mod target;

use std::path::Path;

pub use map::{KeyOutcome, MapOptions, SideFile};
pub use pve::decode::Selection;
pub use report::{Note, Severity, Source};

use report::code;

/// What to convert and how.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The VMID; when `None` it must come from the file name (`<vmid>.conf`).
    pub vmid: Option<u32>,
    pub selection: Selection,
    pub map: MapOptions,
}

/// A successful conversion.
#[derive(Debug, Clone)]
pub struct Conversion {
    pub vmid: u32,
    pub domain: libvirt::Domain,
    /// The domain XML, as `virsh dumpxml` would lay it out.
    pub xml: String,
    /// Lossy notes and advice (no errors).
    pub notes: Vec<Note>,
    /// For every key of the translated section: what it became, and the notes about it.
    pub outcomes: Vec<KeyOutcome>,
    /// Files that go beside the XML (nwfilter, hook fragment), named `<vmid>.…`.
    pub files: Vec<SideFile>,
    /// The cloud-init seed to build (`--regenerate-cloudinit`), which the XML attaches.
    pub seed: Option<map::cloudinit::Seed>,
    /// Every volume the translated state uses, resolved as the domain names it.
    pub volumes: Vec<map::UsedVolume>,
}

/// The VMID from a Proxmox config path: `/etc/pve/qemu-server/100.conf` → 100.
pub fn vmid_from_path(path: &Path) -> Option<u32> {
    let stem = path.file_name()?.to_str()?.strip_suffix(".conf")?;
    if stem.is_empty() || !stem.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    stem.parse().ok()
}

/// The largest config accepted. Proxmox's cluster file system keeps configs far smaller (its
/// description alone is capped at 8 KiB); anything bigger is not a VM config, and refusing it
/// bounds time and memory.
pub const MAX_CONFIG_BYTES: usize = 4 << 20;

/// Converts raw config bytes. Returns the source (for rendering notes) and the result.
pub fn convert_bytes(name: &str, bytes: &[u8], opts: &Options) -> (Source, Result<Conversion, Vec<Note>>) {
    if bytes.len() > MAX_CONFIG_BYTES {
        let note = Note::error(code::TOO_LARGE, format!("the config is larger than {MAX_CONFIG_BYTES} bytes"))
            .help("a Proxmox VM config is a few kilobytes; is this the right file?");
        return (Source::new(name, String::new()), Err(vec![note]));
    }
    match pve::file::decode_bytes(bytes) {
        Ok(text) => {
            let result = convert(&text, opts);
            (Source::new(name, text), result)
        }
        Err((lossy, notes)) => (Source::new(name, lossy), Err(notes)),
    }
}

/// Converts a config's text.
pub fn convert(text: &str, opts: &Options) -> Result<Conversion, Vec<Note>> {
    convert_unbounded(text, opts).map_err(cap_errors)
}

/// Past [`pve::file::MAX_ERRORS`] errors the input is not a VM config; listing every one would
/// only cost time (each is drawn with its snippet).
fn cap_errors(mut errors: Vec<Note>) -> Vec<Note> {
    let max = pve::file::MAX_ERRORS;
    if errors.len() > max {
        let dropped = errors.len() - max;
        errors.truncate(max);
        errors.push(Note::error(code::TOO_MANY_ERRORS, format!("{dropped} more errors not shown")));
    }
    errors
}

fn convert_unbounded(text: &str, opts: &Options) -> Result<Conversion, Vec<Note>> {
    let file = pve::file::parse(text)?;
    let decoded = pve::decode::decode(&file, &opts.selection)?;
    let Some(vmid) = opts.vmid else {
        return Err(vec![Note::error(code::NO_VMID, "the VMID is unknown")
            .help("name the file <vmid>.conf as Proxmox does, or pass --vmid N")]);
    };
    let vm = pve::vm::VmConfig { vmid, entries: decoded.entries, description: decoded.description };
    let mapped = map::translate(&vm, &opts.map)?;
    let xml = libvirt::write::to_xml(&mapped.domain).map_err(|e| {
        vec![Note::error(code::UNREPRESENTABLE, e.to_string())
            .help("remove control characters from the config's values (they cannot appear in XML)")]
    })?;
    let mut notes = decoded.notes;
    notes.extend(mapped.notes);
    Ok(Conversion {
        vmid,
        domain: mapped.domain,
        xml,
        notes,
        outcomes: mapped.outcomes,
        files: mapped.files,
        seed: mapped.seed,
        volumes: mapped.volumes,
    })
}
