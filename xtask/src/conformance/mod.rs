//! `cargo xtask conformance`: prove a converted VM is the same machine.
//!
//! For each Proxmox config (the corpus of Proxmox's own cfg2cmd tests, and the
//! project's fixtures): convert it with the project's binary, provide its
//! storage as placeholder images, define and start it paused on
//! qemu:///system, read the running QEMU and compare its guest-visible facts
//! with the command line Proxmox generates for the same config (`X.conf.cmd`).
//! Writes `target/conformance-<target>.md`; exits non-zero when a pass mark
//! (every config defines, 90 % start, 95 % of compared facts agree: `table.rs`)
//! is missed or a fixture fails libvirt's real driver (unless `--no-targets`).
//!
//! Runs under KVM where `/dev/kvm` answers, falling back to TCG per case where
//! this host's KVM refuses what the case needs (each row says which ran).
//!
//! Needs a libvirtd: `.ci/libvirt-up [debian12|debian13]` (as root) prints its URI.

pub mod domain_xml;
pub mod facts;
pub mod host_limits;
pub mod images;
pub mod proxmox_cmd;
pub mod qemu_args;
pub mod qemu_live;
pub mod table;
mod testbed;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::libvirt;
use crate::process;
use crate::target;
use facts::{Comparison, Facts, Side, SideContext};
use proxmox_cmd::ProxmoxRun;
use qemu_live::LiveVm;

/// Domains this task defines are named `conf-…`; nothing else uses the prefix
/// (the guest tests use `guest-`), so leftovers of a killed run can be removed.
const DOMAIN_PREFIX: &str = "conf-";
/// The VMID of every cfg2cmd config (see the corpus README).
const VMID: &str = "8006";

struct Options {
    /// Use this converter instead of building the project's (development aid).
    converter: Option<PathBuf>,
    corpus: PathBuf,
    storage_cfg: PathBuf,
    no_targets: bool,
    only: Vec<String>,
    keep_artifacts: bool,
    /// `--tcg`: never try KVM.
    tcg_only: bool,
}

/// How QEMU ran a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Virt {
    Kvm,
    Tcg,
    /// KVM was tried and refused the case (the reason); TCG ran it. The CPU facts (model,
    /// flags, Hyper-V enlightenments) are then read from the command line libvirt generates for
    /// the KVM domain (`virsh domxml-to-native`), which is what a KVM host that accepts them runs.
    TcgAfterKvm(String),
}

impl Virt {
    fn domain_type(&self) -> &'static str {
        match self {
            Virt::Kvm => "kvm",
            Virt::Tcg | Virt::TcgAfterKvm(_) => "qemu",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseKind {
    /// A cfg2cmd config; `accepted` when Proxmox produced a `.cmd` for it.
    Corpus {
        accepted: bool,
    },
    /// One of the project's own fixtures: run, but nothing to compare with.
    Fixture,
    Skipped(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    Yes,
    No(String),
    NotReached,
    DefineOnly(String),
    Skipped(String),
}

impl Stage {
    pub fn ok(&self) -> bool {
        *self == Stage::Yes
    }
}

/// One converter note (`--report json`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub code: String,
    pub severity: String,
    pub key: String,
    pub message: String,
}

#[derive(Debug)]
pub struct CaseResult {
    pub name: String,
    pub kind: CaseKind,
    pub converted: Stage,
    pub valid: Stage,
    pub defined: Stage,
    pub started: Stage,
    pub comparisons: Vec<Comparison>,
    pub notes: Vec<Note>,
    pub virt: Virt,
}

impl CaseResult {
    fn new(name: &str, kind: CaseKind, virt: Virt) -> Self {
        CaseResult {
            name: name.to_owned(),
            kind,
            converted: Stage::NotReached,
            valid: Stage::NotReached,
            defined: Stage::NotReached,
            started: Stage::NotReached,
            comparisons: Vec::new(),
            notes: Vec::new(),
            virt,
        }
    }

    pub fn label(&self) -> String {
        match &self.kind {
            CaseKind::Corpus { accepted: false } => format!("{} (Proxmox refuses it)", self.name),
            CaseKind::Fixture => format!("{} (fixture)", self.name),
            _ => self.name.clone(),
        }
    }
}

struct Case {
    name: String,
    conf: PathBuf,
    kind: CaseKind,
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives inside the repository").to_owned()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| repo_root().join("target"))
}

/// Without `--corpus`: `$PVE_CORPUS/cfg2cmd`. PVE_CORPUS is a folder laid out like Proxmox
/// qemu-server's `src/test/` (`cfg2cmd/*.conf` with their `.conf.cmd`, and here also the
/// `storage.cfg` those configs assume). `.cargo/config.toml` sets it for cargo, to the place
/// this project's CI keeps a snapshot beside the checkout; a user sets it, or passes
/// `--corpus DIR`, to point at a clone of qemu-server (see the README, "Conformance").
pub fn default_corpus() -> PathBuf {
    corpus_root().unwrap_or_default().join("cfg2cmd")
}

/// `$PVE_CORPUS`, if set (see [`default_corpus`]).
pub fn corpus_root() -> Option<PathBuf> {
    std::env::var_os("PVE_CORPUS").filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// The corpus for unit tests, read in place (it is AGPL: never copied into
/// the repository). Absent in a user's fresh clone: skip loudly.
#[cfg(test)]
pub fn corpus_dir_for_tests() -> Option<PathBuf> {
    let dir = default_corpus();
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("SKIPPED: corpus not found at {} (set PVE_CORPUS; see the README, \"Conformance\")", dir.display());
        None
    }
}

fn parse_options(args: Vec<String>) -> Result<Options, String> {
    let mut corpus = default_corpus();
    let mut storage_cfg = None;
    let mut no_targets = false;
    let mut only = Vec::new();
    let mut keep_artifacts = false;
    let mut tcg_only = false;
    let mut converter = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| args.next().ok_or(format!("{flag} needs a value"));
        match arg.as_str() {
            "--corpus" => corpus = PathBuf::from(value("--corpus")?),
            "--storage-cfg" => storage_cfg = Some(PathBuf::from(value("--storage-cfg")?)),
            "--only" => only.push(value("--only")?),
            "--converter" => converter = Some(PathBuf::from(value("--converter")?)),
            "--no-targets" => no_targets = true,
            "--keep-artifacts" => keep_artifacts = true,
            "--tcg" => tcg_only = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    // storage.cfg sits beside cfg2cmd/ in the corpus.
    let storage_cfg = storage_cfg.unwrap_or_else(|| corpus.join("../storage.cfg"));
    // The converter runs from fixtures/ (fixture arguments are relative to it): keep paths absolute.
    let absolute = |p: PathBuf| std::path::absolute(&p).unwrap_or(p);
    let (corpus, storage_cfg) = (absolute(corpus), absolute(storage_cfg));
    let converter = converter.map(absolute);
    Ok(Options { converter, corpus, storage_cfg, no_targets, only, keep_artifacts, tcg_only })
}

pub fn main(args: Vec<String>) -> ExitCode {
    let options = match parse_options(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("conformance: {e}");
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("conformance: {e}");
            ExitCode::from(2)
        }
    }
}

/// Runs everything; `Ok(false)` when a target was missed.
fn run(options: &Options) -> Result<bool, String> {
    let started = Instant::now();
    if !libvirt::daemon_answers() {
        return Err(format!("{} does not answer; run .ci/libvirt-up as root first", target::get().uri));
    }
    let converter = match &options.converter {
        Some(path) => path.clone(),
        None => build_converter()?,
    };
    let storage_ids = storage_ids(&options.storage_cfg)?;
    let cases = discover(options)?;
    eprintln!("conformance: {} configs", cases.len());

    // Leftovers of an interrupted run would block define (same UUIDs).
    for name in libvirt::domains_with_prefix(DOMAIN_PREFIX) {
        libvirt::destroy_and_undefine(&name);
    }

    let scratch_root = std::env::temp_dir().join(format!("pve2virt-conformance-{}", std::process::id()));
    let artifacts_root = target_dir().join("conformance");
    let flags = converter_flags(&converter);
    let kvm = !options.tcg_only && target::kvm_usable();
    let host_limits = host_limits::load(&repo_root().join(host_limits::FILE))?;
    for missing in &flags.missing {
        eprintln!("conformance: the converter has no {missing} yet; running without it");
    }
    let env = Env {
        flags,
        converter,
        storage_cfg: options.storage_cfg.clone(),
        storage_ids,
        scratch_root: scratch_root.clone(),
        artifacts_root,
        kvm,
    };
    let mut results = Vec::new();
    for case in &cases {
        let t = Instant::now();
        let result = run_case(case, &env);
        eprintln!(
            "  {:<50} {:>5.1}s {:<4} converted={} defined={} started={} facts={}/{}",
            case.name,
            t.elapsed().as_secs_f64(),
            result.virt.domain_type(),
            result.converted.ok(),
            result.defined.ok(),
            result.started.ok(),
            result.comparisons.iter().filter(|c| c.matches()).count(),
            result.comparisons.len(),
        );
        results.push(result);
    }
    if !options.keep_artifacts {
        let _ = std::fs::remove_dir_all(&scratch_root);
    }
    testbed::remove_bridges();

    let gate = host_limits::judge(&results, &host_limits);
    let run = table::Run {
        target: target::get(),
        qemu_version: env.flags.host_qemu_version.clone(),
        kvm,
        invocation: env.flags.describe(),
        elapsed_secs: started.elapsed().as_secs(),
    };
    let report = table::render(&results, &run, &gate);
    let out = target_dir().join(format!("conformance-{}.md", run.file_stem()));
    std::fs::write(&out, &report).map_err(|e| format!("{}: {e}", out.display()))?;
    println!("{report}");
    eprintln!("conformance: report written to {}", out.display());
    let mut missed = table::Totals::of(&results).missed();
    missed.extend(gate.failures.iter().map(|f| f.to_string()));
    for m in &missed {
        eprintln!("conformance: MISSED: {m}");
    }
    Ok(options.no_targets || missed.is_empty())
}

struct Env {
    converter: PathBuf,
    /// Converter options this run passes (see [`converter_flags`]).
    flags: ConverterFlags,
    storage_cfg: PathBuf,
    storage_ids: Vec<String>,
    scratch_root: PathBuf,
    artifacts_root: PathBuf,
    /// Try KVM first (it answers here).
    kvm: bool,
}

/// Which of the options this run wants the converter supports. The converter
/// is being written alongside this task: an option it lacks is left out (and
/// said so in the report) rather than failing every conversion.
struct ConverterFlags {
    storage_cfg: bool,
    map_storage: bool,
    tpm_backend: bool,
    /// `--target URI`: the converter reads the target's capabilities itself.
    target: bool,
    /// The host QEMU's `X.Y`, so newer Proxmox machine versions are lowered
    /// (with a note) the way a user on this host would have to.
    host_qemu_version: Option<String>,
    missing: Vec<&'static str>,
}

impl ConverterFlags {
    fn describe(&self) -> String {
        let mut text = String::from("pve2virt convert --vmid 8006 --domain-type kvm|qemu --report json");
        if self.target {
            text.push_str(&format!(" --target {}", target::get().uri));
        }
        if self.storage_cfg {
            text.push_str(" --storage-cfg …/storage.cfg");
        }
        if self.tpm_backend {
            text.push_str(" --tpm-backend emulator");
        }
        if let (false, Some(v)) = (self.target, &self.host_qemu_version) {
            text.push_str(&format!(" --host-qemu-version {v}"));
        }
        if self.map_storage {
            text.push_str(" --map-storage ID=DIR…");
        }
        if !self.missing.is_empty() {
            text.push_str(&format!(" (converter lacks: {})", self.missing.join(", ")));
        }
        text
    }
}

fn converter_flags(converter: &Path) -> ConverterFlags {
    let help = process::run(Command::new(converter).args(["convert", "--help"]), Duration::from_secs(10))
        .map(|o| o.stdout)
        .unwrap_or_default();
    let has = |flag: &str| help.contains(flag);
    let mut missing = Vec::new();
    for flag in ["--storage-cfg", "--map-storage", "--tpm-backend"] {
        if !has(flag) {
            missing.push(flag);
        }
    }
    let host_qemu_version = host_qemu_version();
    ConverterFlags {
        target: has("--target "),
        storage_cfg: has("--storage-cfg"),
        map_storage: has("--map-storage"),
        tpm_backend: has("--tpm-backend"),
        host_qemu_version,
        missing,
    }
}

/// The target's QEMU as `X.Y`, from `virsh version` (`Running hypervisor: QEMU 7.2.22`).
fn host_qemu_version() -> Option<String> {
    let out = libvirt::virsh(&["version"], Duration::from_secs(10));
    let line = out.stdout.lines().find(|l| l.contains("Running hypervisor"))?;
    let version = line.split_whitespace().last()?;
    let mut parts = version.split('.');
    Some(format!("{}.{}", parts.next()?, parts.next()?))
}

/// `cargo build` of the main crate (debug), so the run tests the current tree.
fn build_converter() -> Result<PathBuf, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    eprintln!("conformance: building pve2virt");
    let status = Command::new(cargo)
        .args(["build", "--quiet", "--package", "pve2virt", "--bin", "pve2virt"])
        .current_dir(repo_root())
        .status()
        .map_err(|e| format!("cargo build: {e}"))?;
    if !status.success() {
        return Err("cargo build of pve2virt failed".to_owned());
    }
    let binary = target_dir().join("debug/pve2virt");
    binary.exists().then_some(binary).ok_or_else(|| "target/debug/pve2virt missing after build".to_owned())
}

/// Section ids of a storage.cfg (`dir: local` → `local`).
fn storage_ids(path: &Path) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(text
        .lines()
        .filter(|l| !l.starts_with(char::is_whitespace) && !l.starts_with('#'))
        .filter_map(|l| l.split_once(':'))
        .map(|(_, id)| id.trim().to_owned())
        .filter(|id| !id.is_empty())
        .collect())
}

fn discover(options: &Options) -> Result<Vec<Case>, String> {
    let mut cases = Vec::new();
    let mut confs = conf_files(&options.corpus);
    confs.sort();
    for conf in confs {
        let rel = conf.strip_prefix(&options.corpus).unwrap_or(&conf);
        let name = rel.with_extension("").to_string_lossy().into_owned();
        let kind = if rel.components().count() > 1 && rel.starts_with("aarch64") {
            CaseKind::Skipped("aarch64 guest; this host runs x86_64 QEMU only".to_owned())
        } else {
            CaseKind::Corpus { accepted: conf.with_extension("conf.cmd").exists() }
        };
        cases.push(Case { name, conf, kind });
    }
    if cases.is_empty() {
        return Err(format!("no configs under {}", options.corpus.display()));
    }
    let fixtures = repo_root().join("fixtures");
    let mut fixture_confs = conf_files(&fixtures);
    fixture_confs.sort();
    for conf in fixture_confs {
        let rel = conf.strip_prefix(&fixtures).unwrap_or(&conf);
        let name = format!("fixtures/{}", rel.with_extension("").to_string_lossy());
        cases.push(Case { name, conf, kind: CaseKind::Fixture });
    }
    if !options.only.is_empty() {
        cases.retain(|c| options.only.iter().any(|o| c.name.contains(o.as_str())));
    }
    Ok(cases)
}

fn conf_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            out.extend(conf_files(&path));
        } else if path.extension().is_some_and(|e| e == "conf") {
            out.push(path);
        }
    }
    out
}

/// `conf-` + the config's name, restricted to characters that are safe in a
/// libvirt name and a file name.
fn domain_name(case_name: &str) -> String {
    let safe: String = case_name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+') { c } else { '-' })
        .collect();
    format!("{DOMAIN_PREFIX}{safe}")
}

/// Runs a case under KVM when it answers; when KVM refuses to start it (this host's nested KVM
/// has no SMM and refuses some Hyper-V features), once more under TCG, saying why in the row.
fn run_case(case: &Case, env: &Env) -> CaseResult {
    if !env.kvm {
        return run_case_as(case, env, Virt::Tcg, None);
    }
    let under_kvm = run_case_as(case, env, Virt::Kvm, None);
    match &under_kvm.started {
        Stage::No(why) if under_kvm.defined.ok() => {
            let why = format!("KVM refused: {}", kvm_refusal(why));
            let kvm_xml = env.artifacts_root.join(domain_name(&case.name)).join("domain.xml");
            let kvm_args = kvm_command_line(&kvm_xml);
            run_case_as(case, env, Virt::TcgAfterKvm(why), kvm_args.as_ref())
        }
        _ => under_kvm,
    }
}

/// The QEMU command line libvirt would run for the KVM domain (`virsh domxml-to-native`).
fn kvm_command_line(xml: &Path) -> Option<qemu_args::QemuArgs> {
    let out = libvirt::virsh(&["domxml-to-native", "qemu-argv", &xml.to_string_lossy()], Duration::from_secs(30));
    if !out.success() {
        return None;
    }
    let words = proxmox_cmd::shell_words(out.stdout.trim());
    // Environment assignments (`LC_ALL=C …`) come before the binary.
    let start = words.iter().position(|w| w.contains("qemu-system"))?;
    Some(qemu_args::QemuArgs::from_argv(&words[start..]))
}

/// The line of a start failure that says what KVM refused (libvirt wraps QEMU's message).
fn kvm_refusal(why: &str) -> String {
    // QEMU prints warnings before the error that stopped it: take the last line that is not one.
    let lines: Vec<&str> = why.lines().filter(|l| !l.trim().is_empty()).collect();
    let line = lines.iter().rev().find(|l| !l.contains("warning:")).or(lines.last()).copied().unwrap_or(why);
    let line = line.rsplit("qemu-system-x86_64: ").next().unwrap_or(line);
    line.trim().chars().take(160).collect()
}

fn run_case_as(case: &Case, env: &Env, virt: Virt, kvm_args: Option<&qemu_args::QemuArgs>) -> CaseResult {
    let mut result = CaseResult::new(&case.name, case.kind.clone(), virt);
    if let CaseKind::Skipped(why) = &case.kind {
        result.converted = Stage::Skipped(why.clone());
        return result;
    }
    let domain = domain_name(&case.name);
    let artifacts = env.artifacts_root.join(&domain);
    let scratch = env.scratch_root.join(&domain);
    let _ = std::fs::remove_dir_all(&artifacts);
    let _ = std::fs::create_dir_all(&artifacts);
    run_stages(case, env, &domain, &scratch, &artifacts, kvm_args, &mut result);
    // Always: nothing of this run may survive it (`--keep-nvram`, see libvirt.rs).
    libvirt::destroy_and_undefine(&domain);
    for filter in nwfilters(&artifacts) {
        if let Some(name) = std::fs::read_to_string(&filter).ok().as_deref().and_then(filter_name) {
            let _ = libvirt::virsh(&["nwfilter-undefine", &name], Duration::from_secs(20));
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

fn run_stages(
    case: &Case,
    env: &Env,
    domain: &str,
    scratch: &Path,
    artifacts: &Path,
    kvm_args: Option<&qemu_args::QemuArgs>,
    result: &mut CaseResult,
) {
    // 1. convert (Proxmox's test mocks use PCI addresses no real host has: a copy with valid ones)
    let _ = std::fs::create_dir_all(scratch);
    let text = std::fs::read_to_string(&case.conf).unwrap_or_default();
    let (conf, mock_note) = match testbed::real_pci_addresses(&text) {
        Some((rewritten, note)) => {
            let copy = scratch.join("config.conf");
            if let Err(e) = std::fs::write(&copy, rewritten) {
                result.converted = Stage::No(format!("{}: {e}", copy.display()));
                return;
            }
            (copy, Some(note))
        }
        None => (case.conf.clone(), None),
    };
    // A fixture's `X.args` holds its own converter arguments (`--snapshot NAME`, `--storage-cfg
    // real-world/storage.cfg`), relative to fixtures/ as in the snapshot tests; they win.
    // `--no-vmid` (the snapshot tests feed such a config on standard input) leaves the VMID to
    // the file name, as the converter would see it.
    let mut extra: Vec<String> = std::fs::read_to_string(case.conf.with_extension("args"))
        .map(|e| e.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    let no_vmid = extra.iter().any(|a| a == "--no-vmid");
    extra.retain(|a| a != "--no-vmid");
    let sets = |flag: &str| extra.iter().any(|a| a == flag);
    // A fixture converted for a target of its own (`--target-caps target-caps/<name>/…`) is judged
    // on that target only: another's machine types and firmware are not this one's.
    if let Some(caps_target) = caps_target(&extra).filter(|t| *t != target::get().name) {
        result.converted = Stage::Skipped(format!(
            "converted for the {caps_target} target (--target-caps); judged by libvirt on that target's run"
        ));
        return;
    }
    let mut cmd = Command::new(&env.converter);
    cmd.current_dir(repo_root().join("fixtures"));
    cmd.arg("convert").arg(&conf).args(["--report", "json"]);
    if !sets("--domain-type") {
        cmd.args(["--domain-type", result.virt.domain_type()]);
    }
    if !sets("--vmid") && !no_vmid {
        cmd.args(["--vmid", VMID]);
    }
    if env.flags.storage_cfg && !sets("--storage-cfg") {
        cmd.arg("--storage-cfg").arg(&env.storage_cfg);
    }
    if env.flags.tpm_backend && !sets("--tpm-backend") {
        cmd.args(["--tpm-backend", "emulator"]);
    }
    let own_target = sets("--target") || sets("--target-caps");
    if env.flags.target && !own_target {
        cmd.arg("--target").arg(&target::get().uri);
    } else if let (false, Some(version)) = (sets("--host-qemu-version") || own_target, &env.flags.host_qemu_version) {
        cmd.args(["--host-qemu-version", version]);
    }
    if env.flags.map_storage {
        for id in &env.storage_ids {
            let dir = scratch.join(id);
            let _ = std::fs::create_dir_all(&dir);
            cmd.arg("--map-storage").arg(format!("{id}={}", dir.display()));
        }
    }
    cmd.args(&extra);
    // Into a file, as a user converts: the files written beside it (the firewall's nwfilters) are
    // defined before the domain.
    let out_xml = artifacts.join("converted.xml");
    cmd.arg("-o").arg(&out_xml).arg("--force");
    let converted = match process::run(&mut cmd, Duration::from_secs(30)) {
        Ok(o) => o,
        Err(e) => {
            result.converted = Stage::No(format!("cannot run converter: {e}"));
            return;
        }
    };
    result.notes = parse_notes(&converted.stderr);
    let _ = std::fs::write(artifacts.join("notes.json"), &converted.stderr);
    if !converted.success() {
        // With --report json the errors are notes too; they say more than the exit code.
        let errors: Vec<String> = result
            .notes
            .iter()
            .filter(|n| n.severity == "error")
            .map(|n| format!("{}: {} ({})", n.key, n.message, n.code))
            .collect();
        result.converted = Stage::No(if errors.is_empty() { converted.failure_reason() } else { errors.join("; ") });
        return;
    }
    let converted_xml = std::fs::read_to_string(&out_xml).unwrap_or_default();
    let (model, xml) = match domain_xml::prepare(&converted_xml, domain) {
        Ok(prepared) => prepared,
        Err(e) => {
            result.converted = Stage::No(format!("the output does not read back: {e}"));
            return;
        }
    };
    result.converted = Stage::Yes;
    let xml_path = artifacts.join("domain.xml");
    if let Err(e) = std::fs::write(&xml_path, &xml) {
        result.valid = Stage::No(format!("{}: {e}", xml_path.display()));
        return;
    }

    // 2. validate (a failure is reported; libvirt still gets to judge define)
    let valid = libvirt::validate(&xml_path);
    result.valid = if valid.success() { Stage::Yes } else { Stage::No(valid.failure_reason()) };

    let proxmox = match ProxmoxRun::load(&case.conf) {
        Ok(p) => p,
        Err(e) => {
            result.defined = Stage::No(format!("reading the Proxmox side: {e}"));
            return;
        }
    };
    let efidisk = proxmox.as_ref().and_then(|p| p.conf("efidisk0")).map(str::to_owned).or_else(|| {
        proxmox_cmd::parse_conf(&std::fs::read_to_string(&case.conf).unwrap_or_default()).remove("efidisk0")
    });
    let tpm2 = proxmox_cmd::parse_conf(&text).get("tpmstate0").is_some_and(|t| t.contains("version=v2.0"));
    let provided = match images::provide(&model, scratch, efidisk.as_deref(), tpm2) {
        Ok(p) => p,
        Err(e) => {
            result.defined = Stage::No(format!("placeholder storage: {e}"));
            return;
        }
    };

    let mut provided = provided;
    if model.memory_backing.as_ref().is_some_and(|m| m.hugepages.is_some()) {
        provided.define_only.push("needs hugepages reserved on the host".to_owned());
    }
    if let Some(note) = mock_note {
        provided.define_only.push(note);
    }
    for filter in nwfilters(artifacts) {
        let defined = libvirt::virsh(&["nwfilter-define", &filter.to_string_lossy()], Duration::from_secs(20));
        if !defined.success() {
            result.defined = Stage::No(format!("nwfilter {}: {}", filter.display(), defined.failure_reason()));
            return;
        }
    }
    if let Err(e) = testbed::bridges_for(&model) {
        result.defined = Stage::No(format!("test bridge: {e}"));
        return;
    }

    // 3. define, start paused
    let defined = libvirt::define(&xml_path);
    if !defined.success() {
        result.defined = Stage::No(defined.failure_reason());
        return;
    }
    result.defined = Stage::Yes;
    if !provided.define_only.is_empty() {
        result.started = Stage::DefineOnly(provided.define_only.join("; "));
        return;
    }
    let start = libvirt::start_paused(domain);
    let _ = std::fs::write(artifacts.join("start.log"), format!("{}{}", start.stdout, start.stderr));
    if !start.success() {
        result.started = Stage::No(start.failure_reason());
        return;
    }
    result.started = Stage::Yes;

    // 4. compare
    let Some(proxmox) = proxmox else { return };
    let live = match LiveVm::read(domain) {
        Ok(l) => l,
        Err(e) => {
            result.started = Stage::No(format!("started, but reading it failed: {e}"));
            return;
        }
    };
    let _ = std::fs::write(artifacts.join("qemu.argv"), live.argv.join("\n"));
    let _ = std::fs::write(artifacts.join("query-pci.json"), &live.query_pci);
    let _ = std::fs::write(artifacts.join("qtree.txt"), &live.qtree);
    let proxmox_facts = facts::extract(&proxmox.args, Side::Proxmox, &proxmox_context(&proxmox));
    // A paused guest's firmware has not numbered the buses behind bridges yet, so query-pci
    // misses their devices; QEMU placed them exactly where its command line says.
    let mut pci_paths = live.pci_paths.clone();
    let live_q35 = live.args.values("machine").any(|m| m.contains("q35"));
    let roots: &[&str] = if live_q35 { &["pcie.0"] } else { &["pci.0"] };
    for (id, path) in facts::pci_paths_from_args(&live.args.devices(), roots) {
        pci_paths.entry(id).or_insert(path);
    }
    let libvirt_ctx = SideContext {
        pci_paths,
        vcpus_present: live.vcpus_present,
        tpm_version: live.tpm_version.clone().or_else(|| xml_tpm_version(&xml)),
        vars_template: provided.vars_template.clone(),
        mac_to_net: mac_to_net(&proxmox_facts),
    };
    let mut libvirt_facts = facts::extract(&live.args, Side::Libvirt, &libvirt_ctx);
    if let Some(kvm_args) = kvm_args {
        let under_kvm = facts::extract(kvm_args, Side::Libvirt, &libvirt_ctx);
        for name in ["cpu.model", "cpu.flags"] {
            match under_kvm.get(name) {
                Some(fact) => libvirt_facts.insert(name.to_owned(), fact.clone()),
                None => libvirt_facts.remove(name),
            };
        }
    }
    result.comparisons = facts::compare(&proxmox_facts, &libvirt_facts);
    let _ = std::fs::write(artifacts.join("facts.txt"), facts_text(&result.comparisons));
}

/// `target-caps/<name>/…` of a fixture's `--target-caps` → `<name>`.
fn caps_target(extra: &[String]) -> Option<String> {
    let i = extra.iter().position(|a| a == "--target-caps")?;
    let path = Path::new(extra.get(i + 1)?);
    let mut parts = path.components().map(|c| c.as_os_str().to_string_lossy().into_owned());
    parts.find(|p| p == "target-caps")?;
    parts.next()
}

/// The nwfilter documents the converter wrote beside the XML (`<vmid>[-netN].nwfilter.xml`).
fn nwfilters(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    found.retain(|p| p.to_string_lossy().ends_with(".nwfilter.xml"));
    found.sort();
    found
}

/// `<filter name='pve-vm-130' …>` → `pve-vm-130`.
fn filter_name(xml: &str) -> Option<String> {
    /// An nwfilter document is not a domain, so the libvirt model does not carry it; its name
    /// is all this run needs.
    #[derive(serde::Deserialize)]
    struct Filter {
        #[serde(rename = "@name")]
        name: String,
    }
    quick_xml::de::from_str::<Filter>(xml).ok().map(|f| f.name)
}

#[cfg(test)]
mod filter_tests {
    #[test]
    fn the_filter_name_is_the_root_attribute() {
        let xml = "<filter name='pve-vm-130' chain='root' priority='-700'>\n  <rule action='accept' direction='in' priority='1'/>\n</filter>\n";
        assert_eq!(super::filter_name(xml).as_deref(), Some("pve-vm-130"));
        assert_eq!(super::filter_name("<domain/>"), None);
    }
}

/// What the Proxmox side knows beyond its command line.
pub fn proxmox_context(run: &ProxmoxRun) -> SideContext {
    let devices = run.args.devices();
    let q35 = run
        .args
        .values("machine")
        .any(|m| qemu_args::parse_props(m, "type").get("type").is_some_and(|t| t.contains("q35")));
    // On i440fx Proxmox's `pci.0` is the root bus; on q35 the root is `pcie.0`
    // and `pci.0` is a bridge behind the DMI bridge (pve-q35-4.0.cfg).
    let roots: &[&str] = if q35 { &["pcie.0"] } else { &["pci.0"] };
    let tpm_version =
        run.conf("tpmstate0").map(|t| if t.contains("version=v2.0") { "v2.0" } else { "v1.2" }.to_owned());
    let uses_pflash =
        run.args.block_nodes().contains_key("pflash0") || run.args.values("drive").any(|d| d.contains("if=pflash"));
    let vars_template = (run.conf("bios") == Some("ovmf") && uses_pflash).then(|| {
        let code = run
            .args
            .values("blockdev")
            .chain(run.args.values("drive"))
            .find(|v| v.contains("OVMF_CODE"))
            .map(str::to_owned);
        images::vars_for(code.as_deref(), run.conf("efidisk0"))
    });
    SideContext {
        pci_paths: facts::pci_paths_from_args(&devices, roots),
        vcpus_present: None,
        tpm_version,
        vars_template,
        mac_to_net: Default::default(),
    }
}

fn mac_to_net(proxmox: &Facts) -> std::collections::BTreeMap<String, String> {
    proxmox
        .iter()
        .filter_map(|(name, fact)| {
            let net = name.strip_suffix(".mac")?;
            Some((fact.value.clone(), net.to_owned()))
        })
        .collect()
}

fn xml_tpm_version(xml: &str) -> Option<String> {
    let domain = pve2virt::libvirt::from_xml(xml).ok()?;
    let tpm = domain.devices.tpms.first()?;
    Some(format!("v{}", tpm.backend.version().unwrap_or("1.2")))
}

/// `--report json` writes a JSON array of notes on stderr; anything else
/// there (a panic, a miette rendering) yields no notes rather than an error.
pub fn parse_notes(stderr: &str) -> Vec<Note> {
    let json = match (stderr.find('['), stderr.rfind(']')) {
        (Some(a), Some(b)) if a < b => &stderr[a..=b],
        _ => return Vec::new(),
    };
    let Ok(Value::Array(items)) = serde_json::from_str::<Value>(json) else {
        return Vec::new();
    };
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    items
        .iter()
        .map(|n| Note {
            code: text(n, "code"),
            severity: text(n, "severity"),
            key: text(n, "key"),
            message: text(n, "message"),
        })
        .collect()
}

fn facts_text(comparisons: &[Comparison]) -> String {
    comparisons
        .iter()
        .map(|c| {
            format!(
                "{} {}\n  proxmox: {}\n  libvirt: {}\n",
                if c.matches() { "ok  " } else { "DIFF" },
                c.name,
                c.proxmox.as_deref().unwrap_or("(absent)"),
                c.libvirt.as_deref().unwrap_or("(absent)")
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_from_report_json() {
        let notes = parse_notes(
            r#"[{"code":"pve2virt::map::vlan_trunks_dropped","severity":"warning","key":"net0","message":"m"}]"#,
        );
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].key, "net0");
        assert!(parse_notes("thread 'main' panicked").is_empty());
    }

    #[test]
    fn domain_names_are_safe() {
        assert_eq!(domain_name("win11-host-11.0+pve2"), "conf-win11-host-11.0+pve2");
        assert_eq!(domain_name("fixtures/rng/basic"), "conf-fixtures-rng-basic");
    }

    #[test]
    fn storage_ids_of_the_corpus() {
        let Some(dir) = corpus_dir_for_tests() else {
            return;
        };
        let ids = storage_ids(&dir.join("../storage.cfg")).unwrap();
        assert!(ids.contains(&"local".to_owned()));
        assert!(ids.contains(&"local-lvm".to_owned()));
        assert_eq!(ids.len(), 10);
    }
}
