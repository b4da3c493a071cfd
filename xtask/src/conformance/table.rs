//! The report: one Markdown table row per config, the mismatches with their
//! explanations, totals, and whether the pass marks were met.

use std::fmt::Write as _;

use super::facts::Comparison;
use super::host_limits::Gate;
use super::{CaseKind, CaseResult, Note, Stage, Virt};
use crate::target::Target;

/// What one run was: against which libvirt, with which QEMU, under KVM or not.
pub struct Run<'a> {
    pub target: &'a Target,
    /// The target's QEMU as `X.Y`.
    pub qemu_version: Option<String>,
    /// KVM was tried first (it answers here).
    pub kvm: bool,
    pub invocation: String,
    pub elapsed_secs: u64,
}

impl Run<'_> {
    /// `debian12`, `debian13`; any other URI reduced to file-name characters.
    pub fn file_stem(&self) -> String {
        self.target.name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect()
    }
}

/// The pass marks of the conformance run, in one place: every accepted config defines, 90 % of
/// the startable ones start, and 95 % of the compared facts agree with Proxmox's command line.
pub const DEFINE_TARGET: f64 = 1.0;
pub const START_TARGET: f64 = 0.90;
pub const FACT_TARGET: f64 = 0.95;

#[derive(Debug, Default)]
pub struct Totals {
    pub accepted: usize,
    pub converted: usize,
    pub valid: usize,
    pub defined: usize,
    pub startable: usize,
    pub started: usize,
    pub define_only: usize,
    pub facts: usize,
    pub facts_matched: usize,
    pub unexplained: usize,
    pub skipped: usize,
    pub fixtures: usize,
}

impl Totals {
    /// Counts only the corpus configs Proxmox accepts (they have a `.cmd`):
    /// those are the ones the targets speak about.
    pub fn of(results: &[CaseResult]) -> Self {
        let mut t = Totals::default();
        for r in results {
            match r.kind {
                CaseKind::Skipped(_) => {
                    t.skipped += 1;
                    continue;
                }
                CaseKind::Fixture => {
                    t.fixtures += 1;
                    continue;
                }
                CaseKind::Corpus { accepted: false } => continue,
                CaseKind::Corpus { accepted: true } => {}
            }
            t.accepted += 1;
            t.converted += usize::from(r.converted.ok());
            t.valid += usize::from(r.valid.ok());
            t.defined += usize::from(r.defined.ok());
            if matches!(r.started, Stage::DefineOnly(_)) {
                t.define_only += 1;
            } else {
                t.startable += 1;
                t.started += usize::from(r.started.ok());
            }
            t.facts += r.comparisons.len();
            t.facts_matched += r.comparisons.iter().filter(|c| c.matches()).count();
            t.unexplained +=
                r.comparisons.iter().filter(|c| !c.matches() && explained_by(c, &r.notes).is_empty()).count();
        }
        t
    }

    /// The targets missed, as sentences (empty: all met).
    pub fn missed(&self) -> Vec<String> {
        let mut missed = Vec::new();
        let ratio = |n: usize, d: usize| if d == 0 { 1.0 } else { n as f64 / d as f64 };
        if ratio(self.defined, self.accepted) < DEFINE_TARGET {
            missed.push(format!("{} of {} accepted configs defined (target: all)", self.defined, self.accepted));
        }
        if ratio(self.started, self.startable) < START_TARGET {
            missed.push(format!(
                "{} of {} startable configs started paused (target: {:.0}%)",
                self.started,
                self.startable,
                START_TARGET * 100.0
            ));
        }
        if self.facts == 0 || ratio(self.facts_matched, self.facts) < FACT_TARGET {
            missed.push(format!(
                "{} of {} facts matched (target: {:.0}%)",
                self.facts_matched,
                self.facts,
                FACT_TARGET * 100.0
            ));
        }
        if self.unexplained > 0 {
            missed.push(format!("{} mismatches without a converter note", self.unexplained));
        }
        missed
    }
}

/// A note saying "not translated yet" names a gap, not a deliberate
/// difference: it is shown, but does not count as an explanation.
pub fn is_gap(code: &str) -> bool {
    code.ends_with("not_yet_translated")
}

/// Note codes on any of the Proxmox keys that decide the fact (`net0` also
/// covers a note keyed `net0.mtu`), gaps included.
pub fn notes_on<'a>(c: &Comparison, notes: &'a [Note]) -> Vec<&'a str> {
    let mut codes: Vec<&str> = notes
        .iter()
        .filter(|n| {
            // A template runs in Proxmox's minimal mode (qemu64, no display, …); the converter
            // warns that it translates it as an ordinary VM, which explains every difference.
            n.key == "template"
                || c.keys.iter().any(|k| {
                    n.key == *k
                        || n.key.strip_prefix(k.as_str()).is_some_and(|rest| rest.starts_with(['.', ':', '[', '/']))
                })
        })
        .map(|n| n.code.as_str())
        .collect();
    codes.sort_unstable();
    codes.dedup();
    codes
}

/// Note codes that explain a mismatch (gaps excluded).
pub fn explained_by<'a>(c: &Comparison, notes: &'a [Note]) -> Vec<&'a str> {
    notes_on(c, notes).into_iter().filter(|code| !is_gap(code)).collect()
}

pub fn render(results: &[CaseResult], run: &Run, gate: &Gate) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# Conformance on {}: pve2virt under libvirt + QEMU vs Proxmox's own command lines\n",
        run.target.name
    );
    let under_kvm = results.iter().filter(|r| r.converted.ok() && r.virt == Virt::Kvm).count();
    let under_tcg = results.iter().filter(|r| r.converted.ok() && r.virt != Virt::Kvm).count();
    let accel = if run.kvm {
        format!("KVM where it starts ({under_kvm} configs), TCG where this host's KVM refuses the config ({under_tcg}; the row says why)")
    } else {
        format!("TCG for all {under_tcg} configs (no usable /dev/kvm, or --tcg)")
    };
    let _ = writeln!(
        md,
        "Target `{}` (QEMU {}); accelerator: {accel}. Each config is converted, validated, defined and \
         started paused; the running QEMU is compared with the `.conf.cmd` Proxmox generated for it. \
         Run took {} s.\n",
        run.target.uri,
        run.qemu_version.as_deref().unwrap_or("?"),
        run.elapsed_secs
    );
    let _ = writeln!(md, "Converter run as: `{}`\n", run.invocation);
    let _ = writeln!(md, "| Config | Accel | Converted | Valid | Defined | Started | Facts matched |");
    let _ = writeln!(md, "|---|---|---|---|---|---|---|");
    for r in results {
        let facts = if r.comparisons.is_empty() {
            "—".to_owned()
        } else {
            format!("{} of {}", r.comparisons.iter().filter(|c| c.matches()).count(), r.comparisons.len())
        };
        let accel = match &r.virt {
            Virt::Kvm => "KVM".to_owned(),
            Virt::Tcg => "TCG".to_owned(),
            Virt::TcgAfterKvm(why) => format!("TCG ({}; CPU facts from libvirt's KVM command line)", cell(why)),
        };
        let _ = writeln!(
            md,
            "| {} | {accel} | {} | {} | {} | {} | {} |",
            cell(&r.label()),
            r.converted.cell(),
            r.valid.cell(),
            r.defined.cell(),
            r.started.cell(),
            facts
        );
    }

    let _ = writeln!(md, "\n## Mismatches\n");
    let _ = writeln!(md, "| Config | Fact | Proxmox | pve2virt + libvirt | Explained by |");
    let _ = writeln!(md, "|---|---|---|---|---|");
    for r in results {
        for c in r.comparisons.iter().filter(|c| !c.matches()) {
            let explained = explanation(c, &r.notes);
            let _ = writeln!(
                md,
                "| {} | `{}` | {} | {} | {} |",
                cell(&r.name),
                c.name,
                value(c.proxmox.as_deref()),
                value(c.libvirt.as_deref()),
                explained
            );
        }
    }

    let t = Totals::of(results);
    let _ = writeln!(md, "\n## Totals\n");
    let _ = writeln!(md, "Corpus configs Proxmox accepts (with a `.conf.cmd`): {}", t.accepted);
    let pct = |n: usize, d: usize| {
        if d == 0 {
            0.0
        } else {
            100.0 * n as f64 / d as f64
        }
    };
    let _ = writeln!(md, "- converted: {} of {}", t.converted, t.accepted);
    let _ = writeln!(md, "- valid (virt-xml-validate): {} of {}", t.valid, t.accepted);
    let _ = writeln!(md, "- defined: {} of {} ({:.1}%)", t.defined, t.accepted, pct(t.defined, t.accepted));
    let _ = writeln!(
        md,
        "- started paused: {} of {} startable ({:.1}%); {} define-only (need host hardware or storage this host lacks)",
        t.started,
        t.startable,
        pct(t.started, t.startable),
        t.define_only
    );
    let _ = writeln!(
        md,
        "- facts matched: {} of {} ({:.1}%); mismatches without a converter note: {}",
        t.facts_matched,
        t.facts,
        pct(t.facts_matched, t.facts),
        t.unexplained
    );
    let _ = writeln!(
        md,
        "- skipped: {}; project fixtures run (no Proxmox command line to compare): {}",
        t.skipped, t.fixtures
    );
    let _ = writeln!(
        md,
        "\nProject fixtures on the real driver ({}): {} converted, {} defined, {} started, {} define-only \
         (host devices or storage the harness cannot provide), {} not started for a listed host limit, \
         {} failed.",
        run.target.name,
        gate.fixtures,
        gate.defined,
        gate.started,
        gate.define_only,
        gate.allowed.len(),
        gate.failures.len()
    );
    let mut missed = t.missed();
    missed.extend(gate.failures.iter().map(|f| f.to_string()));
    if !gate.allowed.is_empty() {
        let _ = writeln!(md, "\nNot started, for a reviewed host limit (`fixtures/host-limits.txt`):\n");
        for (fixture, reason, why) in &gate.allowed {
            let _ = writeln!(md, "- {fixture}: {reason}: {}", cell(why));
        }
    }
    if !gate.stale.is_empty() {
        let _ = writeln!(md, "\nListed as host-limited but started here (the entry may go): {}", gate.stale.join(", "));
    }
    if missed.is_empty() {
        let _ = writeln!(md, "\nAll targets met.");
    } else {
        let _ = writeln!(md, "\nTargets missed:");
        for m in missed {
            let _ = writeln!(md, "- {m}");
        }
    }
    let _ = writeln!(md, "\n## Mismatches by fact\n");
    let _ = writeln!(md, "| Fact family | Mismatches | Configs |");
    let _ = writeln!(md, "|---|---|---|");
    let mut by_family: std::collections::BTreeMap<String, (usize, Vec<&str>)> = Default::default();
    for r in results {
        for c in r.comparisons.iter().filter(|c| !c.matches()) {
            let family = fact_family(&c.name);
            let entry = by_family.entry(family).or_default();
            entry.0 += 1;
            if entry.1.last() != Some(&r.name.as_str()) {
                entry.1.push(&r.name);
            }
        }
    }
    for (family, (n, configs)) in by_family {
        let _ = writeln!(md, "| `{family}` | {n} | {} |", configs.len());
    }
    md
}

/// `disk.scsi0.cache` → `disk.*.cache`, `net1.mtu` → `netN.mtu`.
fn fact_family(name: &str) -> String {
    let parts: Vec<&str> = name.split('.').collect();
    match parts.as_slice() {
        ["disk", _, rest @ ..] => format!("disk.*.{}", rest.join(".")),
        [first, rest @ ..] if first.starts_with("net") || first.starts_with("serial") => {
            let stem = first.trim_end_matches(|c: char| c.is_ascii_digit() || c == ']');
            let stem = stem.split('[').next().unwrap_or(stem);
            format!("{stem}N.{}", rest.join("."))
        }
        _ => name.to_owned(),
    }
}

/// The "Explained by" cell: the explaining note codes; gap notes are shown
/// but flagged, since a feature not translated yet is still a miss.
fn explanation(c: &Comparison, notes: &[Note]) -> String {
    let quote = |codes: &[&str]| codes.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ");
    let all = notes_on(c, notes);
    let explaining = explained_by(c, notes);
    if !explaining.is_empty() {
        quote(&explaining)
    } else if !all.is_empty() {
        format!("**not translated yet** ({})", quote(&all))
    } else {
        "**unexplained**".to_owned()
    }
}

fn value(v: Option<&str>) -> String {
    match v {
        None => "*(absent)*".to_owned(),
        Some(v) => format!("`{}`", v.replace('|', "\\|")),
    }
}

pub fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

impl Stage {
    fn cell(&self) -> String {
        match self {
            Stage::Yes => "yes".to_owned(),
            Stage::No(why) => format!("**no**: {}", cell(&shorten(why))),
            Stage::NotReached => "—".to_owned(),
            Stage::DefineOnly(why) => format!("define-only: {}", cell(&shorten(why))),
            Stage::Skipped(why) => format!("skipped: {}", cell(why)),
        }
    }
}

fn shorten(text: &str) -> String {
    const MAX: usize = 300;
    if text.chars().count() <= MAX {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(MAX).collect::<String>())
    }
}
