//! Prints a [`Domain`] the way `virsh dumpxml` does: two-space indentation, single-quoted
//! attributes, `&apos;`/`&quot;` escaped in text. quick-xml's serde serializer produces the
//! document; a second pass re-reads it as events and lays it out, so the layout lives in one place.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::Domain;

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("cannot serialize the domain: {0}")]
    Serialize(#[from] quick_xml::SeError),
    #[error("the serialized domain is not well-formed XML: {0}")]
    Reread(String),
    #[error("{0} contains a character that XML 1.0 cannot carry (U+{1:04X})")]
    InvalidChar(String, u32),
}

/// Serializes a domain to libvirt-style XML (ends with a newline).
pub fn to_xml(domain: &Domain) -> Result<String, WriteError> {
    let raw = quick_xml::se::to_string(domain)?;
    layout(&raw)
}

/// XML 1.0 `Char`: tab, newline, carriage return and everything from U+0020 except the
/// surrogates (impossible in Rust) and U+FFFE/U+FFFF.
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
}

fn check_chars(what: &str, text: &str) -> Result<(), WriteError> {
    match text.chars().find(|&c| !is_xml_char(c)) {
        Some(c) => Err(WriteError::InvalidChar(what.to_owned(), c as u32)),
        None => Ok(()),
    }
}

fn layout(raw: &str) -> Result<String, WriteError> {
    let mut reader = Reader::from_str(raw);
    let mut out = String::with_capacity(raw.len() + raw.len() / 4);
    let mut depth = 0usize;
    // Whether the element just opened has had child elements (so its end tag goes on a new line).
    let mut had_children: Vec<bool> = Vec::new();
    let reread = |e: &dyn std::fmt::Display| WriteError::Reread(e.to_string());

    loop {
        match reader.read_event().map_err(|e| reread(&e))? {
            Event::Start(tag) => {
                if let Some(parent) = had_children.last_mut() {
                    *parent = true;
                }
                open_tag(&mut out, depth, &tag, false)?;
                had_children.push(false);
                depth += 1;
            }
            Event::Empty(tag) => {
                if let Some(parent) = had_children.last_mut() {
                    *parent = true;
                }
                open_tag(&mut out, depth, &tag, true)?;
            }
            Event::Text(text) => {
                let text = text.decode().map_err(|e| reread(&e))?;
                check_chars("a text value", &text)?;
                escape_into(&mut out, &text);
            }
            // quick-xml reports `&amp;`, `&#1;`, … as separate events inside text.
            Event::GeneralRef(reference) => {
                let c = match reference.resolve_char_ref().map_err(|e| reread(&e))? {
                    Some(c) => c,
                    None => {
                        let name = reference.decode().map_err(|e| reread(&e))?;
                        let resolved = quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or_else(|| WriteError::Reread(format!("unknown entity &{name};")))?;
                        resolved.chars().next().unwrap_or_default()
                    }
                };
                check_chars("a text value", c.encode_utf8(&mut [0; 4]))?;
                escape_into(&mut out, c.encode_utf8(&mut [0; 4]));
            }
            Event::End(tag) => {
                depth -= 1;
                if had_children.pop().unwrap_or(false) {
                    newline(&mut out, depth);
                }
                out.push_str("</");
                out.push_str(&String::from_utf8_lossy(tag.name().as_ref()));
                out.push('>');
            }
            Event::Eof => break,
            other => return Err(WriteError::Reread(format!("unexpected {other:?}"))),
        }
    }
    if out.starts_with('\n') {
        out.remove(0);
    }
    out.push('\n');
    Ok(out)
}

fn newline(out: &mut String, depth: usize) {
    out.push('\n');
    for _ in 0..depth {
        out.push_str("  ");
    }
}

fn open_tag(out: &mut String, depth: usize, tag: &BytesStart, empty: bool) -> Result<(), WriteError> {
    newline(out, depth);
    out.push('<');
    out.push_str(&String::from_utf8_lossy(tag.name().as_ref()));
    for attr in tag.attributes() {
        let attr = attr.map_err(|e| WriteError::Reread(e.to_string()))?;
        let value = attr.unescape_value().map_err(|e| WriteError::Reread(e.to_string()))?;
        let name = String::from_utf8_lossy(attr.key.as_ref()).into_owned();
        check_chars(&format!("attribute {name}"), &value)?;
        out.push(' ');
        out.push_str(&name);
        out.push_str("='");
        escape_into(out, &value);
        out.push('\'');
    }
    out.push_str(if empty { "/>" } else { ">" });
    Ok(())
}

/// libvirt's `virBufferEscapeString`: `<`, `>`, `&`, `'`, `"` as entities, in text and in the
/// single-quoted attribute values alike.
fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\'' => out.push_str("&apos;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::libvirt::*;

    fn minimal() -> Domain {
        Domain {
            name: "vm100".into(),
            os: DomainOs {
                os_type: DomainOsType { arch: "x86_64".into(), machine: "pc".into(), value: "hvm".into() },
                ..Default::default()
            },
            vcpu: DomainVcpu { placement: "static".into(), value: 1, ..Default::default() },
            clock: DomainClock { offset: "utc".into(), ..Default::default() },
            ..Default::default()
        }
    }

    #[test]
    fn layout_matches_dumpxml_style() {
        let mut d = minimal();
        d.description = Some("a <b> & 'c' \"d\"".into());
        d.devices.rngs.push(DomainRng {
            model: "virtio".into(),
            rate: Some(DomainRngRate { bytes: 1024, period: 1000 }),
            backend: DomainRngBackend { model: "random".into(), source: "/dev/urandom".into() },
            address: None,
        });
        let xml = to_xml(&d).unwrap();
        assert!(xml.starts_with("<domain type='kvm'>\n  <name>vm100</name>\n"), "{xml}");
        assert!(xml.contains("  <description>a &lt;b&gt; &amp; &apos;c&apos; &quot;d&quot;</description>\n"), "{xml}");
        assert!(xml.contains(
            "    <rng model='virtio'>\n      <rate bytes='1024' period='1000'/>\n      <backend model='random'>/dev/urandom</backend>\n    </rng>\n"
        ), "{xml}");
        assert!(xml.ends_with("</domain>\n"));
    }

    #[test]
    fn control_characters_are_refused() {
        let mut d = minimal();
        d.title = Some("bad\u{1}title".into());
        assert!(matches!(to_xml(&d), Err(WriteError::InvalidChar(_, 1))));
    }
}
