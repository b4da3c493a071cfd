//! Property strings (JSONSchema.pm `parse_property_string`, docs/proxmox-config.md#property-strings)
//! and scalar values.
//!
//! `a=1,b=2,bare` is split on `,` with no quoting or escaping; a part without `=` belongs to the
//! format's default key. Every sub-key is checked against its [`Format`], and every failure is
//! reported with a span on the offending sub-option.

use crate::pve::model::hostpci::HostPciIds;
use crate::pve::model::lists::{BootOrder, HotplugFeatures};
use crate::pve::model::machine::MachineType;
use crate::pve::model::usb::UsbHost;
use crate::pve::schema::{Format, PveEnum, SubKey, ValueType};
use crate::report::{code, Note, Span, Spanned};

/// A checked scalar value.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Bool(bool),
    Int(i64),
    Number(f64),
    /// Checked text.
    Str(String),
    /// A member of an enum (`ValueType::Enum`): its position in the schema's list, which is
    /// the position of the Rust variant in `PveEnum::ALL`, so the model reads it without
    /// matching the text again; and the text itself.
    Member {
        index: usize,
        text: &'static str,
    },
    /// Text a [`ValueType::Parsed`] check accepted, and the value it read from it.
    Parsed {
        text: String,
        typed: Typed,
    },
    /// A `disk-size`, in bytes.
    Size(u64),
}

/// Declares [`Typed`] and how each of its types is taken back out of it ([`FromTyped`]).
macro_rules! typed_values {
    ($($(#[$m:meta])* $variant:ident($t:ty),)+) => {
        /// The value a [`ValueType::Parsed`] check reads from its text, kept in the
        /// [`Scalar`] next to the text so that later stages do not parse it again.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Typed {
            $($(#[$m])* $variant($t),)+
        }

        $(impl FromTyped for $t {
            fn from_typed(typed: &Typed) -> Option<&Self> {
                match typed {
                    Typed::$variant(v) => Some(v),
                    #[allow(unreachable_patterns)]
                    _ => None,
                }
            }
        })+
    };
}

typed_values! {
    /// machine `type`.
    Machine(MachineType),
    /// hostpci `host`.
    PciHosts(HostPciIds),
    /// usb `host`.
    UsbHost(UsbHost),
    /// boot `order`.
    BootOrder(BootOrder),
    /// `hotplug`.
    Hotplug(HotplugFeatures),
}

/// A type that a [`Typed`] can hold, for the typed accessors of `pve_format!` and `pve_keys!`.
pub trait FromTyped {
    fn from_typed(typed: &Typed) -> Option<&Self>;
}

/// The value as the explain table shows it: booleans as `1`/`0`, sizes in bytes.
impl std::fmt::Display for Scalar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scalar::Bool(b) => write!(f, "{}", u8::from(*b)),
            Scalar::Int(i) => write!(f, "{i}"),
            Scalar::Number(n) => write!(f, "{n}"),
            Scalar::Str(s) => f.write_str(s),
            Scalar::Member { text, .. } => f.write_str(text),
            Scalar::Parsed { text, .. } => f.write_str(text),
            Scalar::Size(s) => write!(f, "{s}"),
        }
    }
}

impl Scalar {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Scalar::Str(s) => Some(s),
            Scalar::Member { text, .. } => Some(text),
            Scalar::Parsed { text, .. } => Some(text),
            _ => None,
        }
    }
    /// What a [`ValueType::Parsed`] check read, if it is a `T`.
    pub fn as_typed<T: FromTyped>(&self) -> Option<&T> {
        match self {
            Scalar::Parsed { typed, .. } => T::from_typed(typed),
            _ => None,
        }
    }
    /// The enum member as its Rust variant.
    /// `None` when the value is not a member of `E`: the schema checked it against another
    /// enum's list, so its index would name the wrong variant.
    pub fn as_member<E: PveEnum>(&self) -> Option<E> {
        match self {
            Scalar::Member { index, text } if E::NAMES.get(*index) == Some(text) => E::ALL.get(*index).copied(),
            _ => None,
        }
    }
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Scalar::Bool(b) => Some(*b),
            _ => None,
        }
    }
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Scalar::Int(i) => Some(*i),
            _ => None,
        }
    }
    pub fn as_number(&self) -> Option<f64> {
        match self {
            Scalar::Number(n) => Some(*n),
            Scalar::Int(i) => Some(*i as f64),
            _ => None,
        }
    }
    pub fn as_size(&self) -> Option<u64> {
        match self {
            Scalar::Size(s) => Some(*s),
            _ => None,
        }
    }
}

/// One checked `key=value` of a property string.
#[derive(Debug, Clone, PartialEq)]
pub struct Prop {
    /// The canonical sub-key name (aliases resolved).
    pub name: &'static str,
    /// Where the sub-key was written; `None` for a bare default-key value.
    pub key_span: Option<Span>,
    pub value: Spanned<Scalar>,
}

impl Prop {
    /// The whole sub-option, `key=value` (or the bare value).
    pub fn span(&self) -> Span {
        self.key_span.map_or(self.value.span, |k| k.to(self.value.span))
    }
}

/// A checked property string.
#[derive(Debug, Clone, PartialEq)]
pub struct Props {
    pub format: &'static Format,
    pub props: Vec<Prop>,
    pub span: Span,
}

impl Props {
    pub fn get(&self, name: &str) -> Option<&Prop> {
        self.props.iter().find(|p| p.name == name)
    }
    pub fn str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(|p| p.value.as_str())
    }
    pub fn bool(&self, name: &str) -> Option<bool> {
        self.get(name).and_then(|p| p.value.as_bool())
    }
    pub fn int(&self, name: &str) -> Option<i64> {
        self.get(name).and_then(|p| p.value.as_int())
    }
    pub fn member<E: PveEnum>(&self, name: &str) -> Option<E> {
        self.get(name).and_then(|p| p.value.as_member())
    }
    pub fn number(&self, name: &str) -> Option<f64> {
        self.get(name).and_then(|p| p.value.as_number())
    }
    pub fn size(&self, name: &str) -> Option<u64> {
        self.get(name).and_then(|p| p.value.as_size())
    }
    /// The value the decoder parsed from `name` ([`ValueType::Parsed`]), at the span of its text.
    pub fn typed<T: FromTyped>(&self, name: &str) -> Option<Spanned<&T>> {
        let prop = self.get(name)?;
        Some(Spanned::new(prop.value.as_typed()?, prop.value.span))
    }
    /// Where to point a note about `name`: the sub-option if written, else the whole value.
    pub fn span_of(&self, name: &str) -> Span {
        self.get(name).map_or(self.span, Prop::span)
    }
}

/// Checks one scalar against its type. `Err` finishes the sentence "value '<raw>' …".
pub fn parse_scalar(ty: ValueType, raw: &str) -> Result<Scalar, String> {
    match ty {
        ValueType::Bool => {
            parse_bool(raw).map(Scalar::Bool).ok_or_else(|| "is not a boolean (1/0, on/off, yes/no, true/false)".into())
        }
        ValueType::Int { min, max } => {
            let digits = raw.strip_prefix(['+', '-']).unwrap_or(raw);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err("is not an integer".into());
            }
            let n: i64 = raw.parse().map_err(|_| "is out of range".to_string())?;
            check_bounds(n as f64, min.map(|m| m as f64), max.map(|m| m as f64))?;
            Ok(Scalar::Int(n))
        }
        ValueType::Number { min, max } => {
            if !is_perl_number(raw) {
                return Err("is not a number".into());
            }
            let n: f64 = raw.parse().map_err(|_| "is not a number".to_string())?;
            check_bounds(n, min, max)?;
            Ok(Scalar::Number(n))
        }
        ValueType::Enum(values) => match values.iter().position(|v| *v == raw) {
            Some(index) => Ok(Scalar::Member { index, text: values[index] }),
            None => Err(format!("is not one of: {}", values.join(", "))),
        },
        ValueType::Size => {
            parse_size(raw).map(Scalar::Size).ok_or_else(|| "is not a size (e.g. 32G, 4M, 128K or bytes)".into())
        }
        ValueType::Text(check) => check(raw).map(|()| Scalar::Str(raw.to_owned())),
        ValueType::Parsed(parse) => parse(raw).map(|typed| match typed {
            Some(typed) => Scalar::Parsed { text: raw.to_owned(), typed },
            None => Scalar::Str(raw.to_owned()),
        }),
    }
}

fn check_bounds(n: f64, min: Option<f64>, max: Option<f64>) -> Result<(), String> {
    match (min, max) {
        (Some(min), Some(max)) if n < min || n > max => Err(format!("is out of range (allowed: {min} to {max})")),
        (Some(min), None) if n < min => Err(format!("is less than the minimum of {min}")),
        (None, Some(max)) if n > max => Err(format!("is greater than the maximum of {max}")),
        _ => Ok(()),
    }
}

/// JSONSchema.pm `parse_boolean`.
pub fn parse_bool(raw: &str) -> Option<bool> {
    match raw.to_ascii_lowercase().as_str() {
        "1" | "on" | "yes" | "true" => Some(true),
        "0" | "off" | "no" | "false" => Some(false),
        _ => None,
    }
}

/// `^[+-]?(\d+\.\d+|\d+\.|\.\d+|\d+)([eE][+-]?\d+)?$`
fn is_perl_number(raw: &str) -> bool {
    let s = raw.strip_prefix(['+', '-']).unwrap_or(raw);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some((a, b)) => (digits(a) && (b.is_empty() || digits(b))) || (a.is_empty() && digits(b)),
        None => digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)));
    mantissa_ok && exponent_ok
}

/// JSONSchema.pm `parse_size`: `^(\d+(\.\d+)?)([KMGT](iB)?)?$`, binary multiples, truncated.
pub fn parse_size(raw: &str) -> Option<u64> {
    let unit_at = raw.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(raw.len());
    let (number, unit) = raw.split_at(unit_at);
    let shift = match unit.strip_suffix("iB").unwrap_or(unit) {
        "" if unit.is_empty() => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => return None,
    };
    let (int, frac) = number.split_once('.').unwrap_or((number, ""));
    if int.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || (number.contains('.') && (frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit())))
    {
        return None;
    }
    let value: f64 = number.parse().ok()?;
    let bytes = value * (1u64 << shift) as f64;
    (bytes < u64::MAX as f64).then_some(bytes as u64)
}

pub const MAX_PARTS: usize = 256;

/// Parses and checks a property string. `key` names the config key in messages.
pub fn parse_props(format: &'static Format, key: &str, value: &Spanned<String>) -> Result<Props, Vec<Note>> {
    let mut errors = Vec::new();
    let mut props: Vec<Prop> = Vec::new();
    // Sub-keys that were written, valid or not: a bad value is not also reported as missing.
    let mut written: Vec<&'static str> = Vec::new();
    let mut offset = value.span.offset;

    // No Proxmox format has more than ~60 sub-keys; a longer list is not a config value, and
    // refusing it keeps the duplicate checks below bounded.
    let parts = value.value.split(',').filter(|p| !p.trim().is_empty()).count();
    if parts > MAX_PARTS {
        return Err(vec![Note::error(
            code::BAD_VALUE,
            format!("{parts} options in one value; at most {MAX_PARTS} are allowed"),
        )
        .key(key)
        .at(value.span)
        .label("too many options")]);
    }
    for part in value.value.split(',') {
        let part_start = offset;
        offset += part.len() + 1;
        if part.trim().is_empty() {
            continue;
        }
        let part_span = Span::new(part_start, part.len());
        let (sub, key_span, raw, raw_span) = match part.split_once('=') {
            Some((k, v)) => {
                if k.is_empty() || v.is_empty() {
                    errors.push(
                        Note::error(code::EMPTY_SUBKEY, format!("'{part}' has an empty key or value"))
                            .key(key)
                            .at(part_span)
                            .label("expected `key=value`"),
                    );
                    continue;
                }
                let key_span = Span::new(part_start, k.len());
                let raw_span = Span::new(part_start + k.len() + 1, v.len());
                match resolve_subkey(format, k) {
                    Some(spec) => (spec, Some(key_span), v, raw_span),
                    None => {
                        if let Some(alias) = format.key_alias.filter(|a| is_model(format, a.model_key, k)) {
                            // `virtio=BC:24:…` sets the model and the MAC at once (Network.pm keyAlias).
                            let model = find(format, alias.model_key);
                            let mac = find(format, alias.mac_key);
                            for (spec, raw, span) in [(model, k, key_span), (mac, v, raw_span)] {
                                written.push(spec.name);
                                push_checked(format, &mut props, &mut errors, key, spec, Some(key_span), raw, span);
                            }
                            continue;
                        }
                        errors.push(unknown_subkey(format, key, k, key_span));
                        continue;
                    }
                }
            }
            None => match format.default_key {
                Some(default) => (find(format, default), None, part, part_span),
                None => {
                    errors.push(
                        Note::error(code::BARE_VALUE, format!("'{part}' has no `key=`, and {key} has no default key"))
                            .key(key)
                            .at(part_span)
                            .label("expected `key=value`")
                            .help(format!("known keys: {}", key_list(format))),
                    );
                    continue;
                }
            },
        };
        written.push(sub.alias_of.unwrap_or(sub.name));
        push_checked(format, &mut props, &mut errors, key, sub, key_span, raw, raw_span);
    }

    for sub in format.keys.iter().filter(|s| s.required && s.alias_of.is_none()) {
        if !written.contains(&sub.name) {
            let how = if format.default_key == Some(sub.name) {
                format!("'{0}=…' or a bare value", sub.name)
            } else {
                format!("'{}=…'", sub.name)
            };
            errors.push(
                Note::error(code::MISSING_SUBKEY, format!("'{}' is required", sub.name))
                    .key(key)
                    .at(value.span)
                    .label(format!("{} is missing here", sub.name))
                    .help(format!("add {how}")),
            );
        }
    }
    if errors.is_empty() {
        Ok(Props { format, props, span: value.span })
    } else {
        Err(errors)
    }
}

#[allow(clippy::too_many_arguments)]
fn push_checked(
    format: &'static Format,
    props: &mut Vec<Prop>,
    errors: &mut Vec<Note>,
    key: &str,
    spec: &'static SubKey,
    key_span: Option<Span>,
    raw: &str,
    raw_span: Span,
) {
    let name = spec.alias_of.unwrap_or(spec.name);
    if props.iter().any(|p| p.name == name) {
        let help = match spec.alias_of {
            Some(_) => format!("'{}' is another name for '{name}'; keep one", spec.name),
            None => "keep one of them".to_owned(),
        };
        errors.push(
            Note::error(
                if spec.alias_of.is_some() { code::ALIAS_CONFLICT } else { code::DUPLICATE_SUBKEY },
                format!("'{name}' is set twice"),
            )
            .key(key)
            .at(key_span.unwrap_or(raw_span))
            .label("set again here")
            .help(help),
        );
        return;
    }
    // An alias is checked as the key it stands for.
    let checked = spec.alias_of.map_or(spec, |target| find(format, target));
    match parse_scalar(checked.ty, raw) {
        Ok(scalar) => props.push(Prop { name, key_span, value: Spanned::new(scalar, raw_span) }),
        Err(reason) => errors.push(
            Note::error(code::BAD_VALUE, format!("invalid value for '{name}': value '{raw}' {reason}"))
                .key(key)
                .at(raw_span)
                .label(format!("invalid {name}"))
                .help(value_help(checked)),
        ),
    }
}

fn value_help(spec: &SubKey) -> String {
    match spec.ty {
        ValueType::Enum(values) => format!("{} must be one of: {}", spec.name, values.join(", ")),
        ValueType::Bool => format!("{} is a boolean: 1 or 0", spec.name),
        ValueType::Int { min: Some(min), max: Some(max) } => format!("{} is an integer from {min} to {max}", spec.name),
        ValueType::Int { min: Some(min), max: None } => format!("{} is an integer of at least {min}", spec.name),
        ValueType::Int { .. } => format!("{} is an integer", spec.name),
        ValueType::Number { .. } => format!("{} is a number", spec.name),
        ValueType::Size => format!("{} is a size such as 32G", spec.name),
        ValueType::Text(_) | ValueType::Parsed(_) => format!("see the Proxmox documentation of '{}'", spec.name),
    }
}

fn resolve_subkey(format: &'static Format, name: &str) -> Option<&'static SubKey> {
    format.keys.iter().find(|s| s.name == name)
}

fn find(format: &'static Format, name: &str) -> &'static SubKey {
    resolve_subkey(format, name).unwrap_or_else(|| panic!("schema bug: format {} has no sub-key {name}", format.name))
}

fn is_model(format: &'static Format, model_key: &str, candidate: &str) -> bool {
    matches!(resolve_subkey(format, model_key).map(|s| s.ty), Some(ValueType::Enum(values)) if values.contains(&candidate))
}

fn key_list(format: &Format) -> String {
    format.keys.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
}

fn unknown_subkey(format: &'static Format, key: &str, sub: &str, span: Span) -> Note {
    let mut note = Note::error(code::UNKNOWN_SUBKEY, format!("unknown option '{sub}'"))
        .key(key)
        .at(span)
        .label(format!("not an option of {key}"));
    let close = format.keys.iter().map(|s| s.name).find(|k| edit_distance(k, sub) <= 2);
    note = match close {
        Some(k) => note.help(format!("did you mean '{k}'? known options: {}", key_list(format))),
        None => note.help(format!("known options: {}", key_list(format))),
    };
    note
}

/// Levenshtein distance, for "did you mean" hints.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("32G"), Some(32 << 30));
        assert_eq!(parse_size("104858K"), Some(104858 << 10));
        assert_eq!(parse_size("1.5M"), Some(1572864));
        assert_eq!(parse_size("4MiB"), Some(4 << 20));
        assert_eq!(parse_size("512"), Some(512));
        assert_eq!(parse_size("4m"), None);
        assert_eq!(parse_size("G"), None);
        assert_eq!(parse_size("1."), None);
    }

    #[test]
    fn numbers() {
        for ok in ["1", "+1", "-1.5", "1.", ".5", "1e3", "2.5E-2"] {
            assert!(is_perl_number(ok), "{ok}");
        }
        for bad in ["", ".", "1..2", "e3", "1e", "0x10", "1,5"] {
            assert!(!is_perl_number(bad), "{bad}");
        }
    }

    #[test]
    fn ints_and_bools() {
        let ty = ValueType::Int { min: Some(0), max: None };
        assert_eq!(parse_scalar(ty, "1024"), Ok(Scalar::Int(1024)));
        assert!(parse_scalar(ty, "-1").is_err());
        assert!(parse_scalar(ty, "1k").is_err());
        assert_eq!(parse_scalar(ValueType::Bool, "YES"), Ok(Scalar::Bool(true)));
        assert_eq!(parse_scalar(ValueType::Bool, "Off"), Ok(Scalar::Bool(false)));
        assert!(parse_scalar(ValueType::Bool, "2").is_err());
    }

    #[test]
    fn enum_members_are_read_as_their_variant_and_only_as_their_enum() {
        use crate::pve::schema::{Arch, Bios};
        let member = parse_scalar(ValueType::Enum(Bios::NAMES), "ovmf").unwrap();
        assert_eq!(member, Scalar::Member { index: 1, text: "ovmf" });
        assert_eq!(member.as_member::<Bios>(), Some(Bios::Ovmf));
        assert_eq!(member.as_str(), Some("ovmf"));
        // Index 1 of Arch is aarch64: another enum's member must not be read as it.
        assert_eq!(member.as_member::<Arch>(), None);
        assert_eq!(Scalar::Str("ovmf".into()).as_member::<Bios>(), None);
    }

    #[test]
    fn parsed_values_are_kept_at_their_text() {
        use crate::pve::schema::{MACHINE, USB};
        let value = Spanned::new("pc-q35-9.2+pve1,viommu=intel".to_owned(), Span::new(9, 28));
        let props = parse_props(&MACHINE, "machine", &value).unwrap();
        let m = props.typed::<MachineType>("type").unwrap();
        assert_eq!((m.value.qemu_name(), m.span), ("pc-q35-9.2".to_owned(), Span::new(9, 15)));
        assert!(props.typed::<UsbHost>("type").is_none());
        // A number too large for the model matches the pattern but has no typed value.
        let value = Spanned::new("pc-q35-99999999999.1".to_owned(), Span::new(0, 20));
        assert!(parse_props(&MACHINE, "machine", &value).unwrap().typed::<MachineType>("type").is_none());
        let value = Spanned::new("host=SPICE".to_owned(), Span::new(0, 10));
        let usb = parse_props(&USB, "usb0", &value).unwrap();
        assert_eq!(
            usb.typed::<UsbHost>("host").map(|h| (h.value.clone(), h.span)),
            Some((UsbHost::Spice, Span::new(5, 5)))
        );
    }

    #[test]
    fn distance() {
        assert_eq!(edit_distance("period", "perod"), 1);
        assert_eq!(edit_distance("max_bytes", "maxbytes"), 1);
    }
}
