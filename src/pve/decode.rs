//! Checks every `key: value` of a section against the schema (docs/proxmox-config.md#keys) and picks the
//! section to translate (current, a snapshot, or current + `[PENDING]`).

use crate::pve::file::{ConfigFile, RawEntry, Section};
use crate::pve::props::{parse_props, parse_scalar, Props, Scalar};
use crate::pve::schema::{self, KeySpec, KeyType};
use crate::report::{code, Note, Span, Spanned};

/// A checked top-level value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Scalar(Spanned<Scalar>),
    Props(Props),
    Verbatim(Spanned<String>),
}

impl Value {
    pub fn span(&self) -> Span {
        match self {
            Value::Scalar(s) => s.span,
            Value::Props(p) => p.span,
            Value::Verbatim(v) => v.span,
        }
    }
}

/// A checked key.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The key as it will be reported (`cdrom` is reported as `ide2`, its canonical name).
    pub key: Spanned<String>,
    pub spec: &'static KeySpec,
    /// The index of an indexed key (`net3` → 3).
    pub index: Option<u16>,
    pub value: Value,
}

impl Entry {
    pub fn props(&self) -> Option<&Props> {
        match &self.value {
            Value::Props(p) => Some(p),
            _ => None,
        }
    }
    pub fn scalar(&self) -> Option<&Spanned<Scalar>> {
        match &self.value {
            Value::Scalar(s) => Some(s),
            _ => None,
        }
    }
    pub fn text(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(s) => s.as_str(),
            Value::Verbatim(v) => Some(&v.value),
            Value::Props(_) => None,
        }
    }
    /// From the key through the end of the value.
    pub fn span(&self) -> Span {
        self.key.span.to(self.value.span())
    }
}

/// Which state of the VM to translate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Selection {
    /// The current configuration (the main section).
    #[default]
    Current,
    /// The state saved in the named snapshot section.
    Snapshot(String),
    /// The current configuration with `[PENDING]` applied, including its `delete:`.
    Pending,
}

/// The section chosen for translation, with its keys checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub entries: Vec<Entry>,
    pub description: Option<Spanned<String>>,
    /// Notes about the selection itself (untranslated snapshots, pending changes left out).
    pub notes: Vec<Note>,
}

/// Selects the section to translate and checks all its keys. Reports every error at once.
pub fn decode(file: &ConfigFile, selection: &Selection) -> Result<Decoded, Vec<Note>> {
    let mut notes = Vec::new();
    let (entries, description) = match selection {
        Selection::Current => (file.main.entries.clone(), file.main.description.clone()),
        Selection::Snapshot(name) => {
            let Some(section) = file
                .snapshots
                .iter()
                .find(|s| matches!(&s.kind, crate::pve::file::SectionKind::Snapshot(n) if n == name))
            else {
                let known: Vec<_> = file.snapshots.iter().map(|s| s.name()).collect();
                let help = if known.is_empty() {
                    "this config has no snapshot sections".to_owned()
                } else {
                    format!("snapshots in this config: {}", known.join(", "))
                };
                return Err(
                    vec![Note::error(code::NO_SUCH_SNAPSHOT, format!("no snapshot named '{name}'")).help(help)],
                );
            };
            (section.entries.clone(), section.description.clone())
        }
        Selection::Pending => {
            let Some(pending) = &file.pending else {
                return Err(vec![Note::error(
                    code::NO_PENDING,
                    "--pending was given, but the config has no [PENDING] section",
                )]);
            };
            apply_pending(&file.main, pending, &mut notes)
        }
    };

    if *selection != Selection::Pending {
        if let Some(pending) = &file.pending {
            let mut note = Note::advice(
                code::PENDING_NOT_APPLIED,
                "the [PENDING] section (changes not yet applied by Proxmox) was not translated",
            )
            .help("use --pending to translate the configuration with the pending changes applied");
            if let Some(span) = pending.header {
                note = note.at(span).label("left out");
            }
            notes.push(note);
        }
    }
    let other_snapshots = file.snapshots.iter().filter(|s| !matches!((&s.kind, selection), (crate::pve::file::SectionKind::Snapshot(n), Selection::Snapshot(want)) if n == want)).count();
    if other_snapshots > 0 {
        let names: Vec<_> = file.snapshots.iter().map(|s| s.name()).collect();
        notes.push(
            Note::advice(code::SNAPSHOTS_NOT_TRANSLATED, format!("{other_snapshots} snapshot section(s) not translated: {}", names.join(", ")))
                .help("libvirt snapshots cannot be made from Proxmox's; use --snapshot NAME to translate a snapshot's state instead"),
        );
    }
    for special in &file.special {
        let mut note = Note::advice(
            code::CLOUDINIT_SECTION,
            format!("{} holds Proxmox-internal state and was not translated", special.name()),
        );
        if let Some(span) = special.header {
            note = note.at(span).label("skipped");
        }
        notes.push(note);
    }

    let mut errors = Vec::new();
    // Control characters cannot be carried by XML at all (XML 1.0 `Char`); refuse them here, at
    // their line, rather than fail in the writer.
    if let Some(d) = &description {
        if let Some(c) = d.value.chars().find(|&c| !crate::libvirt::write::is_xml_char(c)) {
            errors.push(
                Note::error(
                    code::CONTROL_CHARACTER,
                    format!(
                        "the description contains the control character U+{:04X}, which XML cannot carry",
                        c as u32
                    ),
                )
                .key("description")
                .at(d.span)
                .label("decoded from a %XX escape")
                .help("remove the character from the VM's notes in Proxmox"),
            );
        }
    }
    for raw in &entries {
        if let Some(c) = raw.value.value.chars().find(|&c| !crate::libvirt::write::is_xml_char(c)) {
            errors.push(
                Note::error(
                    code::CONTROL_CHARACTER,
                    format!("the value contains the control character U+{:04X}, which XML cannot carry", c as u32),
                )
                .key(raw.key.value.clone())
                .at(raw.value.span)
                .label("control character in here"),
            );
        }
    }
    let mut checked = Vec::with_capacity(entries.len());
    let has_ide2 = entries.iter().any(|e| e.key.value == "ide2");
    for raw in &entries {
        if errors.len() > crate::pve::file::MAX_ERRORS {
            break;
        }
        match check_entry(raw, has_ide2) {
            Ok(entry) => checked.push(entry),
            Err(mut e) => errors.append(&mut e),
        }
    }
    if errors.is_empty() {
        Ok(Decoded { entries: checked, description, notes })
    } else {
        Err(errors)
    }
}

/// The current section's entries with the pending ones laid over them and `delete:` applied
/// (AbstractConfig.pm `parse_pending_delete`: `[,;]` and blanks separate keys, `!key` forces).
fn apply_pending(main: &Section, pending: &Section, notes: &mut Vec<Note>) -> (Vec<RawEntry>, Option<Spanned<String>>) {
    let mut entries = main.entries.clone();
    let mut description = main.description.clone();
    if let Some(delete) = &pending.delete {
        let present: std::collections::HashSet<&str> = main.entries.iter().map(|e| e.key.value.as_str()).collect();
        let mut deleted = std::collections::HashSet::new();
        let mut offset = delete.span.offset;
        for word in delete.value.split([',', ';', ' ', '\t']) {
            let span = Span::new(offset, word.len());
            offset += word.len() + 1;
            if word.is_empty() {
                continue;
            }
            let key = word.strip_prefix('!').unwrap_or(word);
            if key == "description" {
                description = None;
            } else if present.contains(key) {
                deleted.insert(key.to_owned());
            } else {
                notes.push(
                    Note::advice(
                        code::PENDING_DELETE_UNKNOWN,
                        format!("pending delete of '{key}', which the configuration does not set"),
                    )
                    .key(key)
                    .at(span)
                    .label("nothing to delete"),
                );
            }
        }
        entries.retain(|e| !deleted.contains(&e.key.value));
    }
    let mut position: std::collections::HashMap<String, usize> =
        entries.iter().enumerate().map(|(i, e)| (e.key.value.clone(), i)).collect();
    for entry in &pending.entries {
        match position.get(&entry.key.value) {
            Some(&i) => entries[i] = entry.clone(),
            None => {
                position.insert(entry.key.value.clone(), entries.len());
                entries.push(entry.clone());
            }
        }
    }
    if pending.description.is_some() {
        description = pending.description.clone();
    }
    (entries, description)
}

fn check_entry(raw: &RawEntry, has_ide2: bool) -> Result<Entry, Vec<Note>> {
    let key = &raw.key.value;
    // `cdrom` is an old alias of `ide2` (QemuServer.pm `parse_vm_config`).
    let canonical = if key == "cdrom" {
        if has_ide2 {
            return Err(vec![Note::error(code::DUPLICATE_KEY, "both 'cdrom' and its alias 'ide2' are set")
                .key("ide2")
                .at(raw.key.span)
                .label("cdrom is another name for ide2")
                .help("keep one of them")]);
        }
        "ide2"
    } else {
        key.as_str()
    };
    let Some((spec, index)) = schema::lookup(canonical) else {
        return Err(vec![unknown_key(raw)]);
    };
    let value = match spec.ty {
        KeyType::Verbatim => Value::Verbatim(raw.value.clone()),
        KeyType::Scalar(ty) => {
            // Strings without a format lose one pair of surrounding quotes (QemuServer.pm `check_type`).
            let text = raw.value.value.as_str();
            let unquoted = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(text);
            match parse_scalar(ty, unquoted) {
                Ok(s) => Value::Scalar(Spanned::new(s, raw.value.span)),
                Err(reason) => {
                    return Err(vec![Note::error(code::BAD_VALUE, format!("invalid value: value '{text}' {reason}"))
                        .key(canonical)
                        .at(raw.value.span)
                        .label(format!("invalid {canonical}"))])
                }
            }
        }
        KeyType::Props(format) => Value::Props(parse_props(format, canonical, &raw.value)?),
    };
    Ok(Entry { key: Spanned::new(canonical.to_owned(), raw.key.span), spec, index, value })
}

fn unknown_key(raw: &RawEntry) -> Note {
    let key = &raw.key.value;
    let mut note = Note::error(code::UNKNOWN_KEY, format!("unknown setting '{key}'"))
        .key(key.clone())
        .at(raw.key.span)
        .label("not a Proxmox VM setting");
    let prefix = key.trim_end_matches(|c: char| c.is_ascii_digit());
    if let Some(spec) = schema::KEYS.iter().find(|s| s.name == prefix && s.is_indexed()) {
        note = note.help(format!("{prefix} takes an index from 0 to {}", spec.count - 1));
    } else if let Some(spec) =
        schema::KEYS.iter().find(|s| s.name.len() > 2 && (s.name.starts_with(key.as_str()) || key.starts_with(s.name)))
    {
        note = note.help(format!("did you mean '{}'?", spec.name));
    }
    note
}
