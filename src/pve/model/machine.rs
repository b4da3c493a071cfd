//! The machine `type` (Machine.pm `$PVE_MACHINE_REGEX`): `pc`, `q35`, `pc-i440fx-8.1+pve1.pxe`,
//! `virt-9.0`, … One grammar, for the schema's check and for the translation.

use std::str::FromStr;

/// A parsed Proxmox machine type: `pc`, `q35`, `pc-i440fx-8.1+pve1.pxe`, `virt-9.0`, …
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineType {
    /// `pc`, `pc-i440fx`, `pc-q35`, `virt` (libvirt/QEMU spelling of the family).
    pub family: String,
    pub version: Option<(u32, u32, Option<u32>)>,
    pub pve: Option<u32>,
    pub pxe: bool,
    /// The machine version Proxmox ran the guest with (`major`, `minor`, `+pveN`), before any
    /// lowering for the target host; `None` for an unversioned type, which Proxmox runs at its
    /// newest version. Proxmox's version-dependent defaults (S3/S4, free page reporting,
    /// Hyper-V flags) follow this, not the target's machine.
    pub proxmox: Option<(u32, u32, u32)>,
    /// A distribution's own machine type (`pc-q35-rhel9.4.0`) chosen for a target that has no
    /// upstream one; it replaces the QEMU name.
    pub downstream: Option<String>,
}

/// Why a text is no machine type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MachineTypeError {
    /// Over the schema's `maxLength` of 40.
    TooLong,
    /// Not `$PVE_MACHINE_REGEX`.
    Invalid,
    /// The pattern matches, but a number does not fit a u32: the schema accepts it, the
    /// translation falls back to its default machine.
    OutOfRange,
}

/// The versioned families: the prefix written, the family it names, whether `.pxe` may follow.
/// `pc-X.Y` is QEMU's old alias of `pc-i440fx-X.Y`; `virt` has no PXE variant.
const VERSIONED: [(&str, &str, bool); 4] = [
    ("pc-i440fx-", "pc-i440fx", true),
    ("pc-q35-", "pc-q35", true),
    ("pc-", "pc-i440fx", true),
    ("virt-", "virt", false),
];

impl FromStr for MachineType {
    type Err = MachineTypeError;

    /// `maxLength` 40 and
    /// `pc|pc(-i440fx)?-\d+(\.\d+)+(\+pve\d+)?(\.pxe)?|q35|pc-q35-\d+(\.\d+)+(\+pve\d+)?(\.pxe)?|virt(?:-\d+(\.\d+)+)?(\+pve\d+)?`.
    fn from_str(v: &str) -> Result<Self, Self::Err> {
        if v.len() > 40 {
            return Err(MachineTypeError::TooLong);
        }
        if v == "pc" || v == "q35" {
            return MachineType::numbered(v, None, None, false);
        }
        for (prefix, family, pxe) in VERSIONED {
            let Some((version, rest)) = v.strip_prefix(prefix).and_then(split_version) else { continue };
            if let Some((pve, pxe)) = suffix(rest, pxe) {
                return MachineType::numbered(family, Some(version), pve, pxe);
            }
        }
        match v.strip_prefix("virt").and_then(|rest| suffix(rest, false)) {
            Some((pve, pxe)) => MachineType::numbered("virt", None, pve, pxe),
            None => Err(MachineTypeError::Invalid),
        }
    }
}

impl MachineType {
    /// `None` for anything [`FromStr`] refuses (a target's machine names Proxmox never writes).
    pub fn parse(s: &str) -> Option<MachineType> {
        s.parse().ok()
    }

    /// Reads the numbers the pattern matched. QEMU's versions have three parts at most: a
    /// fourth matches the pattern but is not kept.
    fn numbered(
        family: &str,
        version: Option<&str>,
        pve: Option<&str>,
        pxe: bool,
    ) -> Result<MachineType, MachineTypeError> {
        let number = |s: &str| s.parse::<u32>().map_err(|_| MachineTypeError::OutOfRange);
        let version = match version.map(|v| v.split('.').collect::<Vec<_>>()) {
            Some(parts) => Some((number(parts[0])?, number(parts[1])?, parts.get(2).map(|p| number(p)).transpose()?)),
            None => None,
        };
        let pve = pve.map(number).transpose()?;
        let proxmox = version.map(|(a, b, _)| (a, b, pve.unwrap_or(0)));
        Ok(MachineType { family: family.to_owned(), version, pve, pxe, proxmox, downstream: None })
    }

    /// Whether Proxmox's machine is at least `major.minor+pveN` (Machine.pm `min_version` on the
    /// effective version; an unversioned type is the newest).
    pub fn at_least(&self, major: u32, minor: u32, pve: u32) -> bool {
        self.proxmox.is_none_or(|v| v >= (major, minor, pve))
    }

    pub fn is_q35(&self) -> bool {
        self.family.contains("q35")
    }

    /// The name QEMU (and so libvirt) knows: no `+pveN`, no `.pxe`.
    pub fn qemu_name(&self) -> String {
        if let Some(name) = &self.downstream {
            return name.clone();
        }
        match self.version {
            None => self.family.clone(),
            Some((a, b, None)) => format!("{}-{a}.{b}", self.family),
            Some((a, b, Some(c))) => format!("{}-{a}.{b}.{c}", self.family),
        }
    }
}

/// `\d+(\.\d+)+` at the start of `s`; returns the rest. Greedy like the regex: `.pxe` can never
/// extend the version because `\.\d+` needs a digit after the dot.
pub(crate) fn strip_version(s: &str) -> Option<&str> {
    let digits = |s: &str| s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let mut rest = s;
    let mut parts = 0;
    loop {
        let n = digits(rest);
        if n == 0 {
            return None;
        }
        rest = &rest[n..];
        parts += 1;
        match rest.strip_prefix('.') {
            Some(r) if r.starts_with(|c: char| c.is_ascii_digit()) => rest = r,
            _ => break,
        }
    }
    (parts >= 2).then_some(rest)
}

/// [`strip_version`], keeping the version: `(version, rest)`.
fn split_version(s: &str) -> Option<(&str, &str)> {
    let rest = strip_version(s)?;
    Some((&s[..s.len() - rest.len()], rest))
}

/// `(\+pve\d+)?` then, if `pxe`, `(\.pxe)?`; must consume everything. Gives the `+pveN` digits
/// and whether `.pxe` ends the type.
fn suffix(rest: &str, pxe: bool) -> Option<(Option<&str>, bool)> {
    let (pve, rest) = match rest.strip_prefix("+pve") {
        Some(r) => {
            let end = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
            if end == 0 {
                return None;
            }
            (Some(&r[..end]), &r[end..])
        }
        None => (None, rest),
    };
    match rest {
        "" => Some((pve, false)),
        ".pxe" if pxe => Some((pve, true)),
        _ => None,
    }
}
