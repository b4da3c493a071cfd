//! Just enough XML to edit libvirt domain documents: elements, attributes, text, comments.
//!
//! A hand-rolled tree instead of an XML crate keeps the xtask free of dependencies. libvirt's
//! domain XML uses no DTDs, CDATA or custom entities, so the grammar needed is small. Text and
//! attribute values are kept *escaped* exactly as read, so unedited parts are written back
//! byte-for-byte; `attr`/`text` unescape on the way out and `set_attr`/`set_text` escape on the
//! way in.

use std::fmt::Write;

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Element(Element),
    /// Escaped character data, as it appeared in the input.
    Text(String),
    /// `<!-- … -->` or `<? … ?>`, verbatim.
    Other(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Element {
    pub name: String,
    /// (name, escaped value)
    attrs: Vec<(String, String)>,
    pub children: Vec<Node>,
}

impl Element {
    pub fn new(name: &str) -> Self {
        Element { name: name.to_string(), attrs: Vec::new(), children: Vec::new() }
    }

    pub fn with_attr(mut self, name: &str, value: &str) -> Self {
        self.set_attr(name, value);
        self
    }

    pub fn with_child(mut self, child: Element) -> Self {
        self.children.push(Node::Element(child));
        self
    }

    pub fn with_text(mut self, text: &str) -> Self {
        self.set_text(text);
        self
    }

    pub fn attr(&self, name: &str) -> Option<String> {
        self.attrs.iter().find(|(n, _)| n == name).map(|(_, v)| unescape(v))
    }

    pub fn set_attr(&mut self, name: &str, value: &str) {
        let value = escape(value);
        match self.attrs.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => self.attrs.push((name.to_string(), value)),
        }
    }

    pub fn remove_attr(&mut self, name: &str) {
        self.attrs.retain(|(n, _)| n != name);
    }

    /// The element's character data, unescaped (child elements are skipped).
    pub fn text(&self) -> String {
        self.children
            .iter()
            .filter_map(|c| match c {
                Node::Text(t) => Some(unescape(t)),
                _ => None,
            })
            .collect()
    }

    pub fn set_text(&mut self, text: &str) {
        self.children = vec![Node::Text(escape(text))];
    }

    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|c| match c {
            Node::Element(e) => Some(e),
            _ => None,
        })
    }

    pub fn elements_mut(&mut self) -> impl Iterator<Item = &mut Element> {
        self.children.iter_mut().filter_map(|c| match c {
            Node::Element(e) => Some(e),
            _ => None,
        })
    }

    pub fn child(&self, name: &str) -> Option<&Element> {
        self.elements().find(|e| e.name == name)
    }

    pub fn child_mut(&mut self, name: &str) -> Option<&mut Element> {
        self.elements_mut().find(|e| e.name == name)
    }

    /// The child named `name`, appended if there is none.
    pub fn child_or_insert(&mut self, name: &str) -> &mut Element {
        if self.child(name).is_none() {
            self.children.push(Node::Element(Element::new(name)));
        }
        self.child_mut(name).unwrap()
    }

    /// Drops the direct children for which `keep` returns false (text and comments stay).
    pub fn retain_elements(&mut self, mut keep: impl FnMut(&Element) -> bool) {
        self.children.retain(|c| match c {
            Node::Element(e) => keep(e),
            _ => true,
        });
    }

    pub fn push(&mut self, child: Element) {
        self.children.push(Node::Element(child));
    }

    /// Serialises in libvirt's style: single-quoted attributes, empty elements as `<a/>`.
    /// Whitespace text nodes from the input are kept, so edited documents stay readable.
    pub fn write(&self, out: &mut String) {
        let _ = write!(out, "<{}", self.name);
        for (n, v) in &self.attrs {
            // Values are stored escaped with &apos; for quotes, so single quotes are safe.
            let _ = write!(out, " {n}='{v}'");
        }
        if self.children.is_empty() {
            out.push_str("/>");
            return;
        }
        out.push('>');
        for c in &self.children {
            match c {
                Node::Element(e) => e.write(out),
                Node::Text(t) | Node::Other(t) => out.push_str(t),
            }
        }
        let _ = write!(out, "</{}>", self.name);
    }

    pub fn to_xml(&self) -> String {
        let mut s = String::new();
        self.write(&mut s);
        s.push('\n');
        s
    }
}

/// Parses a document and returns its root element (leading comments and `<?xml?>` dropped).
pub fn parse(input: &str) -> Result<Element, String> {
    let mut p = Parser { s: input, pos: 0 };
    loop {
        p.skip_ws();
        if p.rest().starts_with("<?") || p.rest().starts_with("<!--") {
            p.other()?;
        } else {
            break;
        }
    }
    let root = p.element()?;
    p.skip_ws();
    while p.rest().starts_with("<!--") {
        p.other()?;
        p.skip_ws();
    }
    if !p.rest().is_empty() {
        return Err(p.error("content after the root element"));
    }
    Ok(root)
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.s[self.pos..]
    }

    fn error(&self, what: &str) -> String {
        let line = self.s[..self.pos].matches('\n').count() + 1;
        format!("XML line {line}: {what}")
    }

    fn skip_ws(&mut self) {
        let trimmed = self.rest().trim_start();
        self.pos = self.s.len() - trimmed.len();
    }

    fn expect(&mut self, token: &str) -> Result<(), String> {
        if self.rest().starts_with(token) {
            self.pos += token.len();
            Ok(())
        } else {
            Err(self.error(&format!("expected {token:?}")))
        }
    }

    fn name(&mut self) -> Result<String, String> {
        let len = self
            .rest()
            .find(|c: char| c.is_whitespace() || matches!(c, '/' | '>' | '=' | '<'))
            .unwrap_or(self.rest().len());
        if len == 0 {
            return Err(self.error("expected a name"));
        }
        let name = self.rest()[..len].to_string();
        self.pos += len;
        Ok(name)
    }

    fn other(&mut self) -> Result<Node, String> {
        let end = if self.rest().starts_with("<!--") { "-->" } else { "?>" };
        let len = self.rest().find(end).ok_or_else(|| self.error("unterminated markup"))?;
        let text = self.rest()[..len + end.len()].to_string();
        self.pos += len + end.len();
        Ok(Node::Other(text))
    }

    fn element(&mut self) -> Result<Element, String> {
        self.expect("<")?;
        let mut e = Element::new(&self.name()?);
        loop {
            self.skip_ws();
            if self.rest().starts_with("/>") {
                self.pos += 2;
                return Ok(e);
            }
            if self.rest().starts_with('>') {
                self.pos += 1;
                break;
            }
            let name = self.name()?;
            self.skip_ws();
            self.expect("=")?;
            self.skip_ws();
            let quote = self.rest().chars().next().filter(|c| *c == '\'' || *c == '"');
            let quote = quote.ok_or_else(|| self.error("expected a quoted value"))?;
            self.pos += 1;
            let len = self.rest().find(quote).ok_or_else(|| self.error("unterminated value"))?;
            // Re-escape so the stored form is always single-quote safe.
            let value = escape(&unescape(&self.rest()[..len]));
            self.pos += len + 1;
            e.attrs.push((name, value));
        }
        loop {
            let rest = self.rest();
            if rest.starts_with("</") {
                self.pos += 2;
                let close = self.name()?;
                if close != e.name {
                    return Err(self.error(&format!("</{close}> closes <{}>", e.name)));
                }
                self.skip_ws();
                self.expect(">")?;
                return Ok(e);
            } else if rest.starts_with("<!--") || rest.starts_with("<?") {
                e.children.push(self.other()?);
            } else if rest.starts_with('<') {
                e.children.push(Node::Element(self.element()?));
            } else if rest.is_empty() {
                return Err(self.error(&format!("<{}> is not closed", e.name)));
            } else {
                let len = rest.find('<').unwrap_or(rest.len());
                e.children.push(Node::Text(rest[..len].to_string()));
                self.pos += len;
            }
        }
    }
}

pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('\'', "&apos;").replace('"', "&quot;")
}

pub fn unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';') else { break };
        let entity = &rest[1..end];
        let ch = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "apos" => Some('\''),
            "quot" => Some('"'),
            _ => entity
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match ch {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_libvirt_style() {
        let src = "<domain type='kvm'>\n  <name>a&amp;b</name>\n  <!-- c -->\n  <devices>\n    <rng model='virtio'>\n      <rate bytes='1024' period='1000'/>\n      <backend model='random'>/dev/urandom</backend>\n    </rng>\n  </devices>\n</domain>\n";
        let root = parse(src).unwrap();
        assert_eq!(root.to_xml(), src);
        assert_eq!(root.child("name").unwrap().text(), "a&b");
        let rng = root.child("devices").unwrap().child("rng").unwrap();
        assert_eq!(rng.child("rate").unwrap().attr("bytes").as_deref(), Some("1024"));
    }

    #[test]
    fn double_quotes_and_prolog() {
        let root = parse("<?xml version=\"1.0\"?>\n<a x=\"it's\"><b/></a>").unwrap();
        assert_eq!(root.attr("x").as_deref(), Some("it's"));
        assert_eq!(root.to_xml(), "<a x='it&apos;s'><b/></a>\n");
    }

    #[test]
    fn errors_name_the_line() {
        let err = parse("<a>\n<b></c></a>").unwrap_err();
        assert!(err.contains("line 2"), "{err}");
    }

    #[test]
    fn unescapes_numeric_entities() {
        assert_eq!(unescape("&#65;&#x42;&unknown;"), "AB&unknown;");
    }
}
