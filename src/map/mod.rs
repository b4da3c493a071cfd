//! The translation: a checked Proxmox VM in, a libvirt [`Domain`] and the notes out. One file per
//! device family; each records, for every key it reads, what the key became or why it was not
//! translated ([`Ctx::mapped`], [`Ctx::note`]), so that no key is dropped silently.

mod cpu;
mod identity;
mod machine;
mod memory;
mod rng;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::libvirt::{Domain, DomainType};
use crate::pve::vm::VmConfig;
use crate::report::{code, Note};

/// Choices the user makes about the target host.
#[derive(Debug, Clone, Default)]
pub struct MapOptions {
    /// Overrides the domain type (`kvm` from `kvm: 1`, `qemu` from `kvm: 0`).
    pub domain_type: Option<DomainType>,
    /// The target host's QEMU version (`major.minor`): newer machine versions are lowered to it.
    pub host_qemu: Option<(u32, u32)>,
}

/// What became of one Proxmox key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyOutcome {
    pub key: String,
    pub value: String,
    /// The libvirt element(s) the key became, empty if none.
    pub became: Vec<String>,
    /// Codes of the notes about this key.
    pub notes: Vec<&'static str>,
}

/// The translation's working state: the domain being built, the notes, and the key accounting.
pub struct Ctx<'a> {
    pub vm: &'a VmConfig,
    pub opts: &'a MapOptions,
    pub notes: Vec<Note>,
    outcomes: BTreeMap<String, (Vec<String>, Vec<&'static str>)>,
}

impl<'a> Ctx<'a> {
    fn new(vm: &'a VmConfig, opts: &'a MapOptions) -> Self {
        Ctx { vm, opts, notes: Vec::new(), outcomes: BTreeMap::new() }
    }

    /// Records that `key` was translated into `element` (an XML path such as `devices/rng`).
    pub fn mapped(&mut self, key: &str, element: &str) {
        let entry = self.outcomes.entry(key.to_owned()).or_default();
        if !entry.0.iter().any(|e| e == element) {
            entry.0.push(element.to_owned());
        }
    }

    /// Adds a note; a note with a key also counts as that key's account.
    pub fn note(&mut self, note: Note) {
        if let Some(key) = &note.key {
            self.outcomes.entry(key.clone()).or_default().1.push(note.code);
        }
        self.notes.push(note);
    }

    /// A note about `key`, pointing at the key's line when it is set.
    pub fn note_on(&mut self, key: &str, note: Note) {
        let span = self.vm.get(key).map(|e| e.span());
        let mut note = note.key(key);
        if note.span.is_none() {
            if let Some(span) = span {
                note = note.at(span);
            }
        }
        self.note(note);
    }

    fn is_accounted(&self, key: &str) -> bool {
        self.outcomes.contains_key(key)
    }
}

/// The result of the map stage.
#[derive(Debug, Clone)]
pub struct Mapped {
    pub domain: Domain,
    pub notes: Vec<Note>,
    pub outcomes: Vec<KeyOutcome>,
}

/// Translates a checked VM. Errors are notes of severity error (e.g. a combination libvirt cannot
/// express and the user must decide about).
pub fn translate(vm: &VmConfig, opts: &MapOptions) -> Result<Mapped, Vec<Note>> {
    let mut ctx = Ctx::new(vm, opts);
    let mut domain = Domain::default();

    identity::map(&mut ctx, &mut domain);
    machine::map(&mut ctx, &mut domain);
    memory::map(&mut ctx, &mut domain);
    cpu::map(&mut ctx, &mut domain);
    rng::map(&mut ctx, &mut domain);

    // Anything no family claimed is reported, never dropped silently.
    for entry in &vm.entries {
        if !ctx.is_accounted(&entry.key.value) {
            let key = entry.key.value.clone();
            ctx.note(
                Note::warning(code::NOT_YET_TRANSLATED, "this setting is not translated yet and was left out")
                    .key(key)
                    .at(entry.span())
                    .label("left out")
                    .help("the guest will not have this setting; add it to the domain by hand if it matters"),
            );
        }
    }

    let errors: Vec<Note> = ctx.notes.iter().filter(|n| n.is_error()).cloned().collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    let outcomes = vm
        .entries
        .iter()
        .map(|e| {
            let (became, notes) = ctx.outcomes.get(&e.key.value).cloned().unwrap_or_default();
            KeyOutcome { key: e.key.value.clone(), value: value_text(e), became, notes }
        })
        .collect();
    Ok(Mapped { domain, notes: ctx.notes, outcomes })
}

fn value_text(entry: &crate::pve::decode::Entry) -> String {
    use crate::pve::decode::Value;
    match &entry.value {
        Value::Scalar(s) => match &s.value {
            crate::pve::props::Scalar::Bool(b) => u8::from(*b).to_string(),
            crate::pve::props::Scalar::Int(i) => i.to_string(),
            crate::pve::props::Scalar::Number(n) => n.to_string(),
            crate::pve::props::Scalar::Str(s) => s.clone(),
            crate::pve::props::Scalar::Size(s) => s.to_string(),
        },
        Value::Props(p) => p
            .props
            .iter()
            .map(|p| match &p.value.value {
                crate::pve::props::Scalar::Str(s) => format!("{}={s}", p.name),
                crate::pve::props::Scalar::Bool(b) => format!("{}={}", p.name, u8::from(*b)),
                crate::pve::props::Scalar::Int(i) => format!("{}={i}", p.name),
                crate::pve::props::Scalar::Number(n) => format!("{}={n}", p.name),
                crate::pve::props::Scalar::Size(s) => format!("{}={s}", p.name),
            })
            .collect::<Vec<_>>()
            .join(","),
        Value::Verbatim(v) => v.value.clone(),
    }
}
