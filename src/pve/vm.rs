//! The checked Proxmox VM: every key of the selected section, typed by the schema, plus the
//! VMID. Device families read their typed view from here (`pve::model`).

use crate::pve::decode::Entry;
use crate::pve::props::{Props, Scalar};
use crate::report::Spanned;

#[derive(Debug, Clone, PartialEq)]
pub struct VmConfig {
    pub vmid: u32,
    pub entries: Vec<Entry>,
    pub description: Option<Spanned<String>>,
}

impl VmConfig {
    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.key.value == key)
    }
    pub fn scalar(&self, key: &str) -> Option<&Spanned<Scalar>> {
        self.get(key).and_then(Entry::scalar)
    }
    pub fn props(&self, key: &str) -> Option<&Props> {
        self.get(key).and_then(Entry::props)
    }
    pub fn bool(&self, key: &str) -> Option<bool> {
        self.scalar(key).and_then(|s| s.as_bool())
    }
    pub fn int(&self, key: &str) -> Option<i64> {
        self.scalar(key).and_then(|s| s.as_int())
    }
    pub fn number(&self, key: &str) -> Option<f64> {
        self.scalar(key).and_then(|s| s.as_number())
    }
    pub fn text(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Entry::text)
    }
    /// The entries of an indexed family (`net` → net0, net3, …), by index.
    pub fn indexed<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (u16, &'a Entry)> + 'a {
        let mut found: Vec<_> = self
            .entries
            .iter()
            .filter(move |e| e.spec.name == prefix && e.index.is_some())
            .map(|e| (e.index.unwrap_or_default(), e))
            .collect();
        found.sort_by_key(|(i, _)| *i);
        found.into_iter()
    }
    /// The guest OS type (`ostype`), `other` by default.
    pub fn ostype(&self) -> &str {
        self.text("ostype").unwrap_or(crate::pve::defaults::OSTYPE)
    }
    /// Proxmox's `windows_version`: wxp/w2k/w2k3 → 5, w2k8/wvista → 6, winN → N, else 0.
    pub fn windows_version(&self) -> u32 {
        match self.ostype() {
            "wxp" | "w2k" | "w2k3" => 5,
            "w2k8" | "wvista" => 6,
            other => other.strip_prefix("win").and_then(|n| n.parse().ok()).unwrap_or(0),
        }
    }
}
