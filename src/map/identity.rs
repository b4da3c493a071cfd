//! Who the VM is: name, SMBIOS UUID and system strings, VM generation ID, description, and the
//! Proxmox management settings that libvirt keeps only as metadata (docs/mapping.md#identity,
//! #no-libvirt-form).

use crate::libvirt::{
    Domain, DomainMetadata, DomainOsSmbios, DomainSysinfoEntry, DomainSysinfoSmbios, DomainSysinfoSystem, PveMetadata,
    PveMetadataSetting, PVE_METADATA_NS,
};
use crate::map::Ctx;
use crate::pve::schema::Key;
use crate::pve::schema::Smbios1Opts;
use crate::report::{code, Note};

/// Management-only keys: kept in `<metadata>` so `virsh metadata` still shows them.
const METADATA_KEYS: &[Key] = &[
    Key::onboot,
    Key::startup,
    Key::tags,
    Key::protection,
    Key::lock,
    Key::template,
    Key::meta,
    Key::parent,
    Key::snaptime,
];

pub fn map(ctx: &mut Ctx, domain: &mut Domain) {
    name(ctx, domain);
    if let Some(description) = &ctx.vm.description {
        domain.description = Some(description.value.clone());
    }
    if let Some(smbios) = ctx.vm.keys().smbios1() {
        smbios1(ctx, domain, smbios);
    }
    vmgenid(ctx, domain);
    metadata(ctx, domain);
}

/// `name`: Proxmox does without one (its UI shows `VM <vmid>`), libvirt needs a name.
fn name(ctx: &mut Ctx, domain: &mut Domain) {
    domain.name = match ctx.vm.keys().name() {
        Some(name) => {
            ctx.mapped(Key::name, "name");
            name.to_owned()
        }
        None => format!("vm{}", ctx.vm.vmid),
    };
}

/// `smbios1`: the UUID is the domain's `<uuid>`, the type-1 strings a `<sysinfo>`.
fn smbios1(ctx: &mut Ctx, domain: &mut Domain, smbios: Smbios1Opts<'_>) {
    if let Some(uuid) = smbios.uuid() {
        domain.uuid = Some(uuid.to_ascii_lowercase());
        ctx.mapped(Key::smbios1, "uuid");
    }
    let mut entries = Vec::new();
    // libvirt's order of type-1 entries.
    for (name, raw) in [
        ("manufacturer", smbios.manufacturer()),
        ("product", smbios.product()),
        ("version", smbios.version()),
        ("serial", smbios.serial()),
        ("sku", smbios.sku()),
        ("family", smbios.family()),
    ] {
        let Some(raw) = raw else {
            continue;
        };
        if let Some(value) = smbios_value(ctx, smbios, name, raw) {
            entries.push(DomainSysinfoEntry { name: name.into(), value });
        }
    }
    if !entries.is_empty() {
        if let Some(uuid) = &domain.uuid {
            // libvirt requires the sysinfo uuid to equal <uuid> ("UUID mismatch").
            entries.push(DomainSysinfoEntry { name: "uuid".into(), value: uuid.clone() });
        }
        *domain.sysinfo_smbios() =
            DomainSysinfoSmbios { system: Some(DomainSysinfoSystem { entries }), ..Default::default() };
        domain.os.smbios = Some(DomainOsSmbios { mode: "sysinfo".into() });
        ctx.mapped(Key::smbios1, "sysinfo");
    }
    if smbios.base64().is_some() {
        ctx.mapped(Key::smbios1, "sysinfo");
    }
    if smbios.props.props.is_empty() {
        ctx.mapped(Key::smbios1, "(empty)");
    }
}

/// One SMBIOS string as the guest reads it: with `base64=1` Proxmox stores every value encoded
/// (so it may hold commas), and the decoded text must still be XML. `None` after an error note.
fn smbios_value(ctx: &mut Ctx, smbios: Smbios1Opts<'_>, name: &'static str, raw: &str) -> Option<String> {
    if !smbios.base64().unwrap_or(false) {
        return Some(raw.to_owned());
    }
    match decode_base64(raw) {
        // Decoded text can hold what the config's own text cannot (decode.rs refuses
        // control characters only in the raw value): refuse it here, at the value.
        Some(v) if !v.chars().all(crate::libvirt::write::is_xml_char) => {
            let c = v.chars().find(|&c| !crate::libvirt::write::is_xml_char(c)).unwrap_or_default();
            ctx.note_on(
                Key::smbios1,
                Note::error(
                    code::CONTROL_CHARACTER,
                    format!("'{name}' decodes to the control character U+{:04X}, which XML cannot carry", c as u32),
                )
                .at(smbios.span_of(name))
                .label("base64 of a control character")
                .help("SMBIOS strings are printable text; re-encode the value without it"),
            );
            None
        }
        Some(v) => Some(v),
        None => {
            ctx.note_on(
                Key::smbios1,
                Note::error(code::BAD_VALUE, format!("'{name}' is not valid base64 text, but base64=1 is set"))
                    .at(smbios.span_of(name))
                    .label("not base64")
                    .help("with base64=1 every SMBIOS value must be base64-encoded UTF-8"),
            );
            None
        }
    }
}

/// `vmgenid`: besides a UUID, Proxmox takes two markers that are not ids.
fn vmgenid(ctx: &mut Ctx, domain: &mut Domain) {
    let Some(genid) = ctx.vm.keys().vmgenid() else { return };
    match genid {
        // `0` turns the device off; `1` asks Proxmox to generate one on the next API write.
        "0" => ctx.mapped(Key::vmgenid, "(none)"),
        "1" => {
            domain.genid = Some(String::new());
            ctx.mapped(Key::vmgenid, "genid");
            ctx.note_on(
                Key::vmgenid,
                Note::advice(
                    code::VMGENID_GENERATED,
                    "vmgenid: 1 asks for a new generation ID; libvirt generates one at define",
                )
                .label("libvirt generates the id"),
            );
        }
        uuid => {
            domain.genid = Some(uuid.to_ascii_lowercase());
            ctx.mapped(Key::vmgenid, "genid");
        }
    }
}

/// The management-only keys, kept in `<metadata>`; a lock and a template also get a warning,
/// since they say the VM should not simply be started elsewhere.
fn metadata(ctx: &mut Ctx, domain: &mut Domain) {
    let vm = ctx.vm;
    let mut settings = Vec::new();
    for key in METADATA_KEYS {
        if let Some(entry) = vm.get(key.as_str()) {
            settings.push(PveMetadataSetting { key: key.to_string(), value: super::value_text(entry) });
            ctx.mapped(key, "metadata/pve:setting");
        }
    }
    if let Some(lock) = vm.keys().lock() {
        ctx.note_on(
            Key::lock,
            Note::warning(
                code::VM_LOCKED,
                format!(
                    "the VM is locked by a Proxmox '{}' operation: its disks or config may be mid-change",
                    lock.as_str()
                ),
            )
            .help("finish or clear the operation in Proxmox (qm unlock) before moving the VM"),
        );
    }
    if vm.keys().template() == Some(true) {
        ctx.note_on(
            Key::template,
            Note::warning(
                code::TEMPLATE,
                "this is a Proxmox template: libvirt has no templates, the result is an ordinary domain",
            )
            .help("Proxmox never starts templates; clone the disks before starting this domain"),
        );
    }
    domain.metadata =
        Some(DomainMetadata { pve: PveMetadata { xmlns: PVE_METADATA_NS.into(), vmid: vm.vmid, settings } });
}

/// Standard base64 (with or without padding) to UTF-8 text; `None` when either fails.
fn decode_base64(s: &str) -> Option<String> {
    let mut bits = 0u32;
    let mut nbits = 0;
    let mut out = Vec::new();
    for c in s.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32;
        bits = bits << 6 | v;
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            out.push((bits >> nbits) as u8);
            bits &= (1 << nbits) - 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64() {
        assert_eq!(super::decode_base64("UHJveG1veA==").as_deref(), Some("Proxmox"));
        assert_eq!(super::decode_base64("w4RwZmVsLCBJbmM=").as_deref(), Some("Äpfel, Inc"));
        assert_eq!(super::decode_base64("a*b"), None);
    }
}
