//! Just enough reading of the converter's domain XML to provide what it refers
//! to (image files, NVRAM) and to say why a domain cannot start here.
//!
//! The converter writes libvirt's own formatting, so a small scanner suffices;
//! the XML is never rewritten except for `<name>` (see [`with_name`]).

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    pub attrs: BTreeMap<String, String>,
    /// Text between the start and end tag (empty for `<x/>`).
    pub inner: String,
}

impl Element {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.get(name).map(String::as_str)
    }

    pub fn children(&self, tag: &str) -> Vec<Element> {
        elements(&self.inner, tag)
    }

    pub fn child(&self, tag: &str) -> Option<Element> {
        self.children(tag).into_iter().next()
    }

    pub fn text(&self) -> String {
        unescape(self.inner.trim())
    }
}

/// All `<tag …>` elements in `xml`, outermost first. Elements of the same
/// name do not nest in a domain XML, which this relies on.
pub fn elements(xml: &str, tag: &str) -> Vec<Element> {
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        // `<disk` must not match `<diskx`.
        if !after.starts_with(|c: char| c.is_whitespace() || c == '>' || c == '/') {
            rest = after;
            continue;
        }
        let Some(tag_end) = find_tag_end(after) else {
            break;
        };
        let head = &after[..tag_end];
        let self_closing = head.ends_with('/');
        let attrs = parse_attrs(head.trim_end_matches('/'));
        let body = &after[tag_end + 1..];
        let (inner, consumed) = if self_closing {
            (String::new(), 0)
        } else {
            match body.find(&close) {
                Some(end) => (body[..end].to_owned(), end + close.len()),
                None => (body.to_owned(), body.len()),
            }
        };
        out.push(Element { attrs, inner });
        rest = &body[consumed..];
    }
    out
}

/// Index of the `>` ending a start tag, skipping quoted attribute values.
fn find_tag_end(s: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(i),
            _ => {}
        }
    }
    None
}

fn parse_attrs(head: &str) -> BTreeMap<String, String> {
    let mut attrs = BTreeMap::new();
    let mut rest = head.trim();
    while let Some(eq) = rest.find('=') {
        let name = rest[..eq].trim().to_owned();
        let after = rest[eq + 1..].trim_start();
        let Some(q) = after.chars().next().filter(|c| *c == '\'' || *c == '"') else {
            break;
        };
        let Some(end) = after[1..].find(q) else { break };
        attrs.insert(name, unescape(&after[1..1 + end]));
        rest = after[end + 2..].trim_start();
    }
    attrs
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&")
}

/// The same XML with `<name>` replaced, so runs do not collide with real
/// domains or each other. Nothing else is touched.
pub fn with_name(xml: &str, name: &str) -> Option<String> {
    let start = xml.find("<name>")? + "<name>".len();
    let end = start + xml[start..].find("</name>")?;
    Some(format!("{}{}{}", &xml[..start], name, &xml[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const XML: &str = "<domain type='qemu'>
  <name>simple-8006</name>
  <os>
    <loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>
    <nvram template='/usr/share/OVMF/OVMF_VARS_4M.fd'>/tmp/v/local/100/vm-100-disk-0.raw</nvram>
  </os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' cache='none'/>
      <source file='/tmp/v/local/8006/vm-8006-disk-0.qcow2'/>
      <target dev='sda' bus='scsi'/>
    </disk>
    <disk type='file' device='cdrom'>
      <target dev='hdc' bus='ide'/>
    </disk>
  </devices>
</domain>";

    #[test]
    fn scans_disks_and_nvram() {
        let disks = elements(XML, "disk");
        assert_eq!(disks.len(), 2);
        assert_eq!(disks[0].child("driver").unwrap().attr("type"), Some("qcow2"));
        assert_eq!(disks[0].child("source").unwrap().attr("file"), Some("/tmp/v/local/8006/vm-8006-disk-0.qcow2"));
        assert!(disks[1].child("source").is_none());
        let nvram = &elements(XML, "nvram")[0];
        assert_eq!(nvram.text(), "/tmp/v/local/100/vm-100-disk-0.raw");
        assert_eq!(nvram.attr("template"), Some("/usr/share/OVMF/OVMF_VARS_4M.fd"));
    }

    #[test]
    fn renames_only_the_name() {
        let renamed = with_name(XML, "conf-simple1").unwrap();
        assert!(renamed.contains("<name>conf-simple1</name>"));
        assert_eq!(renamed.len(), XML.len() - "simple-8006".len() + "conf-simple1".len());
    }
}
