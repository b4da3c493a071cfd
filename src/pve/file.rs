//! The config file grammar (QemuServer.pm `parse_vm_config`, docs/proxmox-config.md#the-file): lines, sections,
//! the `#` description. Values are not interpreted here; `pve::decode` checks them against the
//! schema. Every error of the file is collected, not just the first.

use crate::report::{code, Note, Span, Spanned};

/// A whole `<vmid>.conf`: the current configuration and the sections after it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigFile {
    pub main: Section,
    pub pending: Option<Section>,
    pub snapshots: Vec<Section>,
    /// `[special:cloudinit]`, `[special:fleecing]`.
    pub special: Vec<Section>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SectionKind {
    Main,
    Pending,
    Snapshot(String),
    Special(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub kind: SectionKind,
    /// The `[name]` header line (none for the main section).
    pub header: Option<Span>,
    /// The section's `#` lines, percent-decoded and joined, trailing whitespace trimmed (Proxmox
    /// strips it at section end). The span covers the first through the last `#` line.
    pub description: Option<Spanned<String>>,
    pub entries: Vec<RawEntry>,
    /// `delete: <keys>` (only allowed in `[PENDING]`).
    pub delete: Option<Spanned<String>>,
}

impl Section {
    fn new(kind: SectionKind, header: Option<Span>) -> Self {
        Section { kind, header, description: None, entries: Vec::new(), delete: None }
    }

    pub fn get(&self, key: &str) -> Option<&RawEntry> {
        self.entries.iter().find(|e| e.key.value == key)
    }

    pub fn name(&self) -> String {
        match &self.kind {
            SectionKind::Main => "the current configuration".into(),
            SectionKind::Pending => "[PENDING]".into(),
            SectionKind::Snapshot(n) => format!("[{n}]"),
            SectionKind::Special(n) => format!("[special:{n}]"),
        }
    }
}

/// A `key: value` line. The value is trimmed, as Proxmox trims it.
#[derive(Debug, Clone, PartialEq)]
pub struct RawEntry {
    pub key: Spanned<String>,
    pub value: Spanned<String>,
}

impl RawEntry {
    /// From the key through the end of the value: the whole line minus trailing blanks.
    pub fn span(&self) -> Span {
        self.key.span.to(self.value.span)
    }
}

/// Turns raw bytes into text: a UTF-8 BOM is dropped, bytes that are not UTF-8 are an error on
/// their line. On error the returned text is a lossy rendering, so the error can still be shown.
pub fn decode_bytes(bytes: &[u8]) -> Result<String, (String, Vec<Note>)> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text.to_owned()),
        Err(_) => {
            let mut notes = Vec::new();
            let mut lossy = String::with_capacity(bytes.len());
            for line in bytes.split_inclusive(|&b| b == b'\n') {
                let start = lossy.len();
                let text = String::from_utf8_lossy(line);
                if std::str::from_utf8(line).is_err() {
                    let content = text.trim_end_matches(['\n', '\r']).len();
                    notes.push(
                        Note::error(code::NOT_UTF8, "this line is not valid UTF-8")
                            .at(Span::new(start, content))
                            .label("invalid bytes shown as \u{fffd}")
                            .help(
                                "Proxmox writes configs as UTF-8; re-encode the file (e.g. `iconv -f latin1 -t utf-8`)",
                            ),
                    );
                }
                lossy.push_str(&text);
            }
            Err((lossy, notes))
        }
    }
}

/// The longest line accepted.
pub const MAX_LINE_BYTES: usize = 64 << 10;

/// The most errors reported for one file: past this the file is not a VM config at all.
pub const MAX_ERRORS: usize = 100;

/// Parses the file grammar. Returns the file, or every error found.
pub fn parse(text: &str) -> Result<ConfigFile, Vec<Note>> {
    let mut errors = Vec::new();
    let mut main = Section::new(SectionKind::Main, None);
    let mut others: Vec<Section> = Vec::new();
    // Lines of an unknown section are skipped up to the next known header, as Proxmox does.
    let mut skipping = false;
    let mut offset = 0;
    // Keys seen in the current section: a hash set keeps configs with many keys linear.
    let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut section_names: std::collections::HashSet<String> = std::collections::HashSet::new();

    for raw_line in text.split_inclusive('\n') {
        let start = offset;
        offset += raw_line.len();
        let line = raw_line.trim_end_matches('\n').trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let line_span = Span::new(start, line.trim_end().len());
        if line.len() > MAX_LINE_BYTES {
            // No span: drawing the snippet would print the whole line.
            let number = text[..start].matches('\n').count() + 1;
            errors.push(
                Note::error(
                    code::TOO_LARGE,
                    format!("line {number} is {} bytes long; at most {MAX_LINE_BYTES} are accepted", line.len()),
                )
                .help("no Proxmox setting is this long (a description line is at most 8 KiB)"),
            );
            continue;
        }
        if errors.len() >= MAX_ERRORS {
            errors.push(
                Note::error(
                    code::TOO_MANY_ERRORS,
                    format!("more than {MAX_ERRORS} errors; the rest of the file was not read"),
                )
                .at(line_span)
                .label("stopped here"),
            );
            break;
        }

        if let Some(kind) = section_header(line) {
            match kind {
                Ok(kind) => {
                    let duplicate = !section_names.insert(describe(&kind));
                    if duplicate {
                        errors.push(
                            Note::error(code::DUPLICATE_SECTION, format!("duplicate section {}", describe(&kind)))
                                .at(line_span)
                                .label("second section of this name")
                                .help("Proxmox would silently keep only the later one; merge or rename the sections"),
                        );
                    }
                    others.push(Section::new(kind, Some(line_span)));
                    seen.clear();
                    skipping = false;
                }
                Err(name) => {
                    errors.push(
                        Note::error(code::UNKNOWN_SECTION, format!("unknown section '{name}'"))
                            .at(line_span)
                            .label("not a snapshot, [PENDING] or [special:cloudinit|fleecing] section")
                            .help("snapshot names start with a letter and have at least two characters [a-z0-9_-]"),
                    );
                    skipping = true;
                }
            }
            continue;
        }
        if skipping {
            continue;
        }
        let section = others.last_mut().unwrap_or(&mut main);

        if let Some(comment) = line.strip_prefix('#') {
            let decoded = percent_decode(comment);
            match &mut section.description {
                Some(d) => {
                    d.value.push_str(&decoded);
                    d.value.push('\n');
                    d.span = d.span.to(line_span);
                }
                None => section.description = Some(Spanned::new(decoded + "\n", line_span)),
            }
            continue;
        }

        match key_value(line, start) {
            Some((key, value)) => {
                if key.value == "delete" {
                    if section.kind != SectionKind::Pending {
                        errors.push(
                            Note::error(code::DELETE_OUTSIDE_PENDING, "'delete' is only allowed in [PENDING]")
                                .at(key.span)
                                .key("delete"),
                        );
                    } else if section.delete.is_some() {
                        errors.push(duplicate_key(&key));
                    } else {
                        section.delete = Some(value);
                    }
                    continue;
                }
                if key.value == "description" {
                    // Legacy `description:` line (docs/proxmox-config.md#the-file): appended without a newline.
                    let decoded = percent_decode(&value.value);
                    match &mut section.description {
                        Some(d) => {
                            d.value.push_str(&decoded);
                            d.span = d.span.to(value.span);
                        }
                        None => section.description = Some(Spanned::new(decoded, value.span)),
                    }
                    continue;
                }
                if !seen.insert(key.value.clone()) {
                    errors.push(duplicate_key(&key));
                    continue;
                }
                section.entries.push(RawEntry { key, value });
            }
            None => errors.push(
                Note::error(code::SYNTAX, "unable to parse this line")
                    .at(line_span)
                    .label("expected `key: value`, `#comment` or `[section]`")
                    .help(syntax_help(line)),
            ),
        }
    }

    for section in std::iter::once(&mut main).chain(others.iter_mut()) {
        if let Some(d) = &mut section.description {
            let trimmed = d.value.trim_end().len();
            d.value.truncate(trimmed);
        }
    }

    if !errors.is_empty() {
        return Err(errors);
    }
    let mut file = ConfigFile { main, pending: None, snapshots: Vec::new(), special: Vec::new() };
    for section in others {
        match section.kind {
            SectionKind::Pending => file.pending = Some(section),
            SectionKind::Snapshot(_) => file.snapshots.push(section),
            SectionKind::Special(_) => file.special.push(section),
            SectionKind::Main => unreachable!("the main section has no header"),
        }
    }
    Ok(file)
}

fn describe(kind: &SectionKind) -> String {
    match kind {
        SectionKind::Main => "main".into(),
        SectionKind::Pending => "[PENDING]".into(),
        SectionKind::Snapshot(n) => format!("[{n}]"),
        SectionKind::Special(n) => format!("[special:{n}]"),
    }
}

fn duplicate_key(key: &Spanned<String>) -> Note {
    Note::error(code::DUPLICATE_KEY, format!("duplicate key '{}'", key.value))
        .at(key.span)
        .key(key.value.clone())
        .label("set again here")
        .help("Proxmox would silently keep the last value; remove one of the lines")
}

fn syntax_help(line: &str) -> String {
    if line.starts_with(char::is_whitespace) {
        "Proxmox allows no leading whitespace before a key or `#`".into()
    } else if line.starts_with(|c: char| c.is_ascii_uppercase()) {
        "keys are lowercase, e.g. `memory: 2048`".into()
    } else {
        "a key is lowercase letters, `_` or `-`, digits only at the end, then `:` and a value".into()
    }
}

/// `[PENDING]`, `[special:NAME]`, `[snapshot]`: `Some(Ok(kind))`; any other `[...]` line:
/// `Some(Err(name))`; not a header: `None`. Tried in Proxmox's order (docs/proxmox-config.md#the-file).
fn section_header(line: &str) -> Option<Result<SectionKind, String>> {
    let rest = line.strip_prefix('[')?;
    let close = rest.find(']')?;
    if !rest[close + 1..].trim().is_empty() {
        return None;
    }
    let name = &rest[..close];
    if name.eq_ignore_ascii_case("pending") {
        return Some(Ok(SectionKind::Pending));
    }
    if name.len() > 8 && name[..8].eq_ignore_ascii_case("special:") {
        let special = &name[8..];
        if special == "cloudinit" || special == "fleecing" {
            return Some(Ok(SectionKind::Special(special.to_owned())));
        }
        return Some(Err(name.to_owned()));
    }
    let mut chars = name.chars();
    let valid_snapshot = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.len() >= 2
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    Some(if valid_snapshot { Ok(SectionKind::Snapshot(name.to_owned())) } else { Err(name.to_owned()) })
}

/// `^([a-z][a-z_\-]*\d*):\s*(.+?)\s*$` with spans. A value of only blanks is the empty string
/// (Proxmox matches `boot: ` with a blank value; the schema then decides).
fn key_value(line: &str, line_start: usize) -> Option<(Spanned<String>, Spanned<String>)> {
    let colon = line.find(':')?;
    let key = &line[..colon];
    let mut chars = key.chars();
    if !chars.next().is_some_and(|c| c.is_ascii_lowercase()) {
        return None;
    }
    let letters_end = key.find(|c: char| c.is_ascii_digit()).unwrap_or(key.len());
    if !key[..letters_end].chars().all(|c| c.is_ascii_lowercase() || c == '_' || c == '-')
        || !key[letters_end..].chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let after = &line[colon + 1..];
    if after.is_empty() {
        return None;
    }
    let value = after.trim();
    let lead = after.len() - after.trim_start().len();
    let value_start = line_start + colon + 1 + if value.is_empty() { 0 } else { lead };
    Some((
        Spanned::new(key.to_owned(), Span::new(line_start, colon)),
        Spanned::new(value.to_owned(), Span::new(value_start, value.len())),
    ))
}

/// Proxmox's `decode_text`: `uri_unescape` then UTF-8 decode. Invalid `%` sequences stay as they are.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(high), Some(low)) = (hex_digit(bytes[i + 1]), hex_digit(bytes[i + 2])) {
                out.push(high << 4 | low);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_digit(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_follows_decode_text() {
        assert_eq!(percent_decode("TEST%3A x"), "TEST: x");
        assert_eq!(percent_decode("%C3%84pfel"), "Äpfel");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }

    #[test]
    fn sections_and_description() {
        let f = parse(
            "#hello%3A\n# world\nmemory: 512\n\n[PENDING]\nmemory: 1024\ndelete: cores\n\n[snap1]\nmemory: 256\n",
        )
        .unwrap();
        assert_eq!(f.main.description.as_ref().unwrap().value, "hello:\n world");
        assert_eq!(f.main.get("memory").unwrap().value.value, "512");
        assert_eq!(f.pending.as_ref().unwrap().delete.as_ref().unwrap().value, "cores");
        assert_eq!(f.snapshots[0].kind, SectionKind::Snapshot("snap1".into()));
    }

    #[test]
    fn all_errors_are_collected() {
        let errors =
            parse(" memory: 1\nmemory: 2\nmemory: 3\n[x]\n[PENDING]\n[PENDING]\ndelete: a\nFoo: 1\n").unwrap_err();
        let codes: Vec<_> = errors.iter().map(|e| e.code).collect();
        assert_eq!(
            codes,
            [code::SYNTAX, code::DUPLICATE_KEY, code::UNKNOWN_SECTION, code::DUPLICATE_SECTION, code::SYNTAX]
        );
    }

    #[test]
    fn crlf_and_blank_value() {
        let f = parse("boot: \r\nmemory: 512\r\n").unwrap();
        assert_eq!(f.main.get("boot").unwrap().value.value, "");
        assert_eq!(f.main.get("memory").unwrap().value.value, "512");
    }

    #[test]
    fn non_utf8_points_at_the_line() {
        let (_, notes) = decode_bytes(b"memory: 512\nname: caf\xe9\n").unwrap_err();
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].span.unwrap().offset, 12);
    }
}
