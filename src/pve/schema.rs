//! The shape of Proxmox's config schema (`$confdesc` in QemuServer.pm and the property-string
//! formats of pve-common's JSONSchema.pm), as data. The tables themselves live in
//! `schema/keys.rs` (top-level keys) and `schema/formats.rs` (property-string formats).
//!
//! Everything the decoder needs to check a value is here, so the check happens in one place
//! (`pve::decode`) and every later stage sees only values that passed it.

mod checks;
#[macro_use]
mod enums;
mod formats;
mod keys;

pub use checks::*;
pub use enums::*;
pub use formats::*;
pub use keys::{Key, KEYS};

/// A format check for a string value: `Err(reason)` when the value does not match.
/// `reason` finishes the sentence "value '<v>' …", e.g. "is not a MAC address".
pub type Check = fn(&str) -> Result<(), String>;

/// A format check that also reads the value (a [`crate::pve::props::Typed`]), kept by the decoder
/// so that the model does not parse the text again. `Ok(None)`: the text matches, but has no
/// typed value (a number too large for the model).
pub type Parse = fn(&str) -> Result<Option<crate::pve::props::Typed>, String>;

/// The type of a scalar value, top-level or inside a property string.
#[derive(Debug, Clone, Copy)]
pub enum ValueType {
    /// `1|on|yes|true` / `0|off|no|false`, any case (JSONSchema.pm `parse_boolean`).
    Bool,
    /// `[+-]?\d+`, then the bounds.
    Int { min: Option<i64>, max: Option<i64> },
    /// Perl number syntax, then the bounds.
    Number { min: Option<f64>, max: Option<f64> },
    /// Exact match against one of the listed strings.
    Enum(&'static [&'static str]),
    /// `disk-size`: `^(\d+(\.\d+)?)([KMGT](iB)?)?$`, binary multiples, bytes.
    Size,
    /// Any string accepted by the check.
    Text(Check),
    /// Any string accepted by the check, which also gives the parsed value.
    Parsed(Parse),
}

/// One sub-key of a property-string format.
#[derive(Debug, Clone, Copy)]
pub struct SubKey {
    pub name: &'static str,
    pub ty: ValueType,
    /// Proxmox rejects the property string when this sub-key is missing.
    pub required: bool,
    /// The sub-key is an alias (`alias => 'target'` in the schema): it is stored as `target`,
    /// and setting both is an error.
    pub alias_of: Option<&'static str>,
}

/// A property-string format such as `pve-qm-drive` or the rng0 format.
#[derive(Debug)]
pub struct Format {
    /// The schema's name, used in messages (`rng0`, `drive`, `net`, …).
    pub name: &'static str,
    /// A part without `=` is the value of this sub-key (JSONSchema.pm `default_key`).
    pub default_key: Option<&'static str>,
    pub keys: &'static [SubKey],
    /// Network devices only (`keyAlias` in Network.pm): a part `<model>=<mac>` where `<model>` is one
    /// of the enum values of this sub-key sets it and `mac_key` at once (`virtio=BC:24:…`).
    pub key_alias: Option<KeyAlias>,
}

#[derive(Debug, Clone, Copy)]
pub struct KeyAlias {
    pub model_key: &'static str,
    pub mac_key: &'static str,
}

/// The type of a top-level key's value.
#[derive(Debug, Clone, Copy)]
pub enum KeyType {
    Scalar(ValueType),
    /// A property string in the given format.
    Props(&'static Format),
    /// Kept verbatim, no check (`args`, `description`).
    Verbatim,
}

/// One top-level key (or family of indexed keys such as `net0`–`net31`).
#[derive(Debug)]
pub struct KeySpec {
    /// The key, or for indexed keys its prefix (`net`).
    pub name: &'static str,
    /// For indexed keys, how many indices exist (`net` → 32 means `net0`…`net31`); 0 for plain keys.
    pub count: u16,
    pub ty: KeyType,
}

// Specs are statics: two are the same spec only if they are the same object.
impl PartialEq for KeySpec {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}

impl PartialEq for Format {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}

impl KeySpec {
    pub fn is_indexed(&self) -> bool {
        self.count > 0
    }
}

/// Finds the spec for a key as written in a config (`net3` → (`net` spec, Some(3))).
/// `None` for unknown keys and out-of-range indices.
pub fn lookup(key: &str) -> Option<(&'static KeySpec, Option<u16>)> {
    let digits_at = key.find(|c: char| c.is_ascii_digit()).unwrap_or(key.len());
    let (prefix, digits) = key.split_at(digits_at);
    KEYS.iter().find_map(|spec| {
        if spec.is_indexed() {
            if spec.name != prefix || digits.is_empty() || (digits.len() > 1 && digits.starts_with('0')) {
                return None;
            }
            let index: u16 = digits.parse().ok()?;
            (index < spec.count).then_some((spec, Some(index)))
        } else {
            (spec.name == key).then_some((spec, None))
        }
    })
}
