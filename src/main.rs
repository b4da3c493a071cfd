//! The `pve2virt` command: argument parsing, files, exit codes. No translation logic lives here.

use std::fs;
use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use std::collections::HashMap;

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::Serialize;

use pve2virt::libvirt::DomainType;
use pve2virt::map::TpmBackend;
use pve2virt::output::write_atomic;
use pve2virt::pve::storage::StorageConfig;
use pve2virt::report::{render_human, to_json};
use pve2virt::{convert_bytes, vmid_from_path, Conversion, MapOptions, Note, Options, Selection, Source};

/// Exit codes, stable for scripts.
mod exit {
    pub const INPUT: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const STRICT: u8 = 3;
    pub const IO: u8 = 4;
}

#[derive(Parser)]
#[command(name = "pve2virt", version, about = "Convert Proxmox VE VM configs into libvirt domain XML")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Convert configs (`/etc/pve/qemu-server/<vmid>.conf`, or `-` for standard input) to domain XML.
    ///
    /// One config: XML on standard output (or `-o FILE`). Several: `--out-dir DIR` gets `<vmid>.xml`
    /// for each, and a summary says what converted and what failed.
    Convert {
        /// The config files; `-` reads standard input (then --vmid is required).
        #[arg(required = true, value_name = "CONFIG")]
        inputs: Vec<PathBuf>,
        /// Write the XML to FILE (atomically) instead of standard output.
        #[arg(short, long, value_name = "FILE", conflicts_with = "out_dir")]
        output: Option<PathBuf>,
        /// Write `DIR/<vmid>.xml` for every config (atomically; a failure leaves no file).
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
        /// Overwrite existing output files.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Show, for every key of a config, what it becomes in libvirt and the note if any.
    Explain {
        input: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// List every volume a VM uses, where Proxmox opens it and how it is carried (table, --json, --script).
    Plan {
        #[command(flatten)]
        args: pve2virt::migrate::PlanArgs,
        #[command(flatten)]
        common: Common,
    },
    /// Copy a VM's volumes, verify them, and define (and with --start, start) its domain on --to.
    Migrate {
        #[command(flatten)]
        args: pve2virt::migrate::MigrateArgs,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Args)]
struct Common {
    /// The VMID (default: from the file name `<vmid>.conf`).
    #[arg(long)]
    vmid: Option<u32>,
    /// Translate the state saved in this snapshot section instead of the current configuration.
    #[arg(long, value_name = "NAME", conflicts_with = "pending")]
    snapshot: Option<String>,
    /// Apply the [PENDING] section (including its `delete:`) before translating.
    #[arg(long)]
    pending: bool,
    /// Domain type: `kvm` (hardware virtualisation) or `qemu` (TCG emulation). Default: from `kvm:`.
    #[arg(long, value_enum)]
    domain_type: Option<DomainTypeArg>,
    /// The target host's QEMU version (e.g. `7.2`): newer machine versions are lowered to it, with a note.
    #[arg(long, value_name = "X.Y", value_parser = parse_version)]
    host_qemu_version: Option<(u32, u32)>,
    /// How to print notes on standard error.
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    report: ReportFormat,
    /// Fail (exit 3, no output) when anything was approximated or dropped.
    #[arg(long)]
    strict: bool,
    /// The Proxmox storage.cfg volume ids are resolved against (default: /etc/pve/storage.cfg
    /// where readable, else the layout of a fresh Proxmox install).
    #[arg(long, value_name = "FILE")]
    storage_cfg: Option<PathBuf>,
    /// Storage ID's volumes are files under DIR on this host (`ID:VOLNAME` → `DIR/VOLNAME`,
    /// format kept). Repeatable.
    #[arg(long, value_name = "ID=DIR", value_parser = parse_storage_map)]
    map_storage: Vec<(String, PathBuf)>,
    /// Attach NICs on Proxmox bridge FROM to bridge TO. Repeatable.
    #[arg(long, value_name = "FROM=TO", value_parser = parse_bridge_map)]
    map_bridge: Vec<(String, String)>,
    /// Pass the config's raw `args:` to QEMU (`<qemu:commandline>`); otherwise they are reported.
    #[arg(long)]
    allow_qemu_args: bool,
    /// Let libvirt place PCI devices instead of keeping Proxmox's slots (guest NIC names may change).
    #[arg(long)]
    libvirt_addresses: bool,
    /// How the TPM state is carried: `external` keeps Proxmox's state (swtpm started outside
    /// libvirt); `emulator` gives a libvirt-managed TPM with fresh state.
    #[arg(long, value_enum, default_value_t = TpmBackendArg::External)]
    tpm_backend: TpmBackendArg,
    /// Where the OVMF firmware files are on the target host.
    #[arg(long, value_name = "DIR", default_value = "/usr/share/OVMF")]
    firmware_dir: PathBuf,
}

#[derive(Clone, Copy, ValueEnum)]
enum TpmBackendArg {
    External,
    Emulator,
}

fn parse_storage_map(s: &str) -> Result<(String, PathBuf), String> {
    let (id, dir) = s.split_once('=').ok_or("expected ID=DIR")?;
    if id.is_empty() || dir.is_empty() {
        return Err("expected ID=DIR".into());
    }
    Ok((id.to_owned(), PathBuf::from(dir)))
}

fn parse_bridge_map(s: &str) -> Result<(String, String), String> {
    let (from, to) = s.split_once('=').ok_or("expected FROM=TO")?;
    let valid = |b: &str| !b.is_empty() && b.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if !valid(from) || !valid(to) {
        return Err("bridge names are letters, digits, '-', '_' and '.'".into());
    }
    Ok((from.to_owned(), to.to_owned()))
}

#[derive(Clone, Copy, ValueEnum)]
enum DomainTypeArg {
    Kvm,
    Qemu,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ReportFormat {
    Human,
    Json,
}

fn parse_version(s: &str) -> Result<(u32, u32), String> {
    let (a, b) = s.split_once('.').ok_or("expected MAJOR.MINOR, e.g. 7.2")?;
    Ok((a.parse().map_err(|_| "bad major version")?, b.parse().map_err(|_| "bad minor version")?))
}

const DEFAULT_STORAGE_CFG: &str = "/etc/pve/storage.cfg";

impl Common {
    /// Reads the storage layout; `Err` after printing why.
    fn storage(&self) -> Result<StorageConfig, ()> {
        let (path, required) = match &self.storage_cfg {
            Some(p) => (p.clone(), true),
            None => (PathBuf::from(DEFAULT_STORAGE_CFG), false),
        };
        let text = match fs::read(&path) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(_) if !required => return Ok(StorageConfig::fresh_install()),
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", path.display());
                return Err(());
            }
        };
        StorageConfig::parse(&text).map_err(|errors| {
            report(&errors, &Source::new(path.display().to_string(), text), self.report);
        })
    }

    fn options(&self, input: &Path, storage: StorageConfig) -> Options {
        Options {
            vmid: self.vmid.or_else(|| vmid_from_path(input)),
            selection: match (&self.snapshot, self.pending) {
                (Some(name), _) => Selection::Snapshot(name.clone()),
                (None, true) => Selection::Pending,
                (None, false) => Selection::Current,
            },
            map: MapOptions {
                domain_type: self.domain_type.map(|t| match t {
                    DomainTypeArg::Kvm => DomainType::Kvm,
                    DomainTypeArg::Qemu => DomainType::Qemu,
                }),
                host_qemu: self.host_qemu_version,
                storage,
                storage_map: self.map_storage.iter().cloned().collect(),
                bridge_map: self.map_bridge.iter().cloned().collect(),
                allow_qemu_args: self.allow_qemu_args,
                libvirt_addresses: self.libvirt_addresses,
                tpm_backend: match self.tpm_backend {
                    TpmBackendArg::External => TpmBackend::External,
                    TpmBackendArg::Emulator => TpmBackend::Emulator,
                },
                firmware_dir: self.firmware_dir.clone(),
                relocate: Default::default(),
            },
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Convert { inputs, output, out_dir, force, common } => match out_dir {
            Some(dir) => convert_batch(&inputs, &dir, force, &common),
            None if inputs.len() > 1 => {
                eprintln!("error: {} configs given: pass --out-dir DIR to write one XML file per VM", inputs.len());
                ExitCode::from(exit::USAGE)
            }
            None => convert_one(&inputs[0], output.as_deref(), force, &common),
        },
        Command::Plan { args, common } => {
            let opts = common.options(Path::new(""), StorageConfig::default());
            ExitCode::from(pve2virt::migrate::plan_main(&args, opts, common.report == ReportFormat::Json))
        }
        Command::Migrate { args, common } => {
            let opts = common.options(Path::new(""), StorageConfig::default());
            ExitCode::from(pve2virt::migrate::migrate_main(&args, opts, common.report == ReportFormat::Json))
        }
        Command::Explain { input, common } => {
            let Ok(storage) = common.storage() else { return ExitCode::from(exit::IO) };
            let Some((source, result)) = run(&input, &common, &storage) else {
                return ExitCode::from(exit::IO);
            };
            match result {
                Ok(conversion) => {
                    print!("{}", explain_table(&conversion));
                    ExitCode::SUCCESS
                }
                Err(errors) => {
                    report(&errors, &source, common.report);
                    ExitCode::from(exit::INPUT)
                }
            }
        }
    }
}

/// Reads the input and converts it; `None` (after printing why) when it cannot be read.
fn run(input: &Path, common: &Common, storage: &StorageConfig) -> Option<(Source, Result<Conversion, Vec<Note>>)> {
    // Read at most one byte past the limit: a 100 MB file costs no more than a 4 MB one.
    let limit = pve2virt::MAX_CONFIG_BYTES as u64 + 1;
    let mut bytes = Vec::new();
    let (name, read) = if input.as_os_str() == "-" {
        ("<stdin>".to_owned(), io::stdin().take(limit).read_to_end(&mut bytes))
    } else {
        let read = fs::File::open(input).and_then(|f| f.take(limit).read_to_end(&mut bytes));
        (input.display().to_string(), read)
    };
    if let Err(e) = read {
        eprintln!("error: cannot read {name}: {e}");
        return None;
    }
    Some(convert_bytes(&name, &bytes, &common.options(input, storage.clone())))
}

fn report(notes: &[Note], source: &Source, format: ReportFormat) {
    if notes.is_empty() {
        return;
    }
    let mut stderr = io::stderr().lock();
    let _ = match format {
        ReportFormat::Human => stderr.write_all(render_human(notes, source, stderr.is_terminal()).as_bytes()),
        ReportFormat::Json => {
            writeln!(stderr, "{}", serde_json::to_string_pretty(&to_json(notes, source)).unwrap_or_default())
        }
    };
}

fn convert_one(input: &Path, output: Option<&Path>, force: bool, common: &Common) -> ExitCode {
    let Ok(storage) = common.storage() else { return ExitCode::from(exit::IO) };
    let Some((source, result)) = run(input, common, &storage) else {
        return ExitCode::from(exit::IO);
    };
    match result {
        Ok(conversion) => {
            report(&conversion.notes, &source, common.report);
            if common.strict && conversion.notes.iter().any(Note::is_lossy) {
                eprintln!("error: --strict: the conversion is lossy (see the warnings above); nothing was written");
                return ExitCode::from(exit::STRICT);
            }
            let written = match output {
                Some(path) => write_atomic(path, conversion.xml.as_bytes(), force),
                None => io::stdout().lock().write_all(conversion.xml.as_bytes()),
            };
            match written {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(exit::IO)
                }
            }
        }
        Err(errors) => {
            report(&errors, &source, common.report);
            if common.report == ReportFormat::Human {
                eprintln!("error: {} could not be converted ({})", source.name, count(errors.len(), "error"));
            }
            ExitCode::from(exit::INPUT)
        }
    }
}

/// One config's fate in a batch.
#[derive(Serialize)]
struct BatchResult {
    input: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    output: Option<String>,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    notes: serde_json::Value,
}

/// Converts many configs into `DIR/<vmid>.xml`. A failing config neither stops the others nor
/// leaves a file; two configs that would give the same file or domain name fail the second.
fn convert_batch(inputs: &[PathBuf], dir: &Path, force: bool, common: &Common) -> ExitCode {
    let Ok(storage) = common.storage() else { return ExitCode::from(exit::IO) };
    if let Err(e) = fs::create_dir_all(dir) {
        eprintln!("error: cannot create {}: {e}", dir.display());
        return ExitCode::from(exit::IO);
    }
    let json = common.report == ReportFormat::Json;
    let mut results = Vec::new();
    let mut names: HashMap<String, String> = HashMap::new();
    let mut files: HashMap<PathBuf, String> = HashMap::new();
    for input in inputs {
        let shown = input.display().to_string();
        let mut result = BatchResult {
            input: shown.clone(),
            output: None,
            status: "failed",
            reason: None,
            notes: serde_json::Value::Null,
        };
        // A bug must not take the rest of the batch down with it.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(input, common, &storage)));
        match outcome {
            Err(_) => {
                result.reason = Some("internal error (a bug in pve2virt): please report it with this config".into())
            }
            Ok(None) => result.reason = Some("cannot read the file".into()),
            Ok(Some((source, Err(errors)))) => {
                if !json {
                    report(&errors, &source, common.report);
                }
                result.reason = Some(count(errors.len(), "error"));
                result.notes = serde_json::to_value(to_json(&errors, &source)).unwrap_or_default();
            }
            Ok(Some((source, Ok(conversion)))) => {
                if !json {
                    report(&conversion.notes, &source, common.report);
                }
                result.notes = serde_json::to_value(to_json(&conversion.notes, &source)).unwrap_or_default();
                let path = dir.join(format!("{}.xml", conversion.vmid));
                let name = conversion.domain.name.clone();
                result.reason = if common.strict && conversion.notes.iter().any(Note::is_lossy) {
                    Some("--strict: the conversion is lossy".into())
                } else if let Some(first) = files.get(&path) {
                    Some(format!(
                        "{} would be written twice (also by {first}); give each VM its own VMID",
                        path.display()
                    ))
                } else if let Some(first) = names.get(&name) {
                    Some(format!("domain name '{name}' is already used by {first}; libvirt names must be unique"))
                } else {
                    match write_atomic(&path, conversion.xml.as_bytes(), force) {
                        Ok(()) => {
                            files.insert(path.clone(), shown.clone());
                            names.insert(name, shown.clone());
                            result.status = "converted";
                            result.output = Some(path.display().to_string());
                            None
                        }
                        Err(e) => Some(e.to_string()),
                    }
                };
                if result.status == "converted" && !json {
                    eprintln!("converted {shown} → {} ({})", path.display(), count(conversion.notes.len(), "note"));
                }
            }
        }
        if result.status == "failed" && !json {
            eprintln!("FAILED    {shown}: {}", result.reason.as_deref().unwrap_or_default());
        }
        results.push(result);
    }
    let failed = results.iter().filter(|r| r.status == "failed").count();
    let converted = results.len() - failed;
    if json {
        let summary = serde_json::json!({ "converted": converted, "failed": failed, "results": results });
        println!("{}", serde_json::to_string_pretty(&summary).unwrap_or_default());
    } else {
        eprintln!("{converted} converted, {failed} failed");
    }
    if failed > 0 {
        ExitCode::from(exit::INPUT)
    } else {
        ExitCode::SUCCESS
    }
}

fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

fn explain_table(conversion: &Conversion) -> String {
    let rows: Vec<[String; 4]> = conversion
        .outcomes
        .iter()
        .map(|o| {
            let became = if o.became.is_empty() { "—".to_owned() } else { o.became.join(", ") };
            let mut value = o.value.clone();
            if value.chars().count() > 48 {
                value = value.chars().take(47).collect::<String>() + "…";
            }
            [o.key.clone(), value, became, o.notes.join(", ")]
        })
        .collect();
    let header = ["KEY", "VALUE", "BECAME", "NOTES"];
    let widths: Vec<usize> =
        (0..4).map(|i| rows.iter().map(|r| r[i].chars().count()).chain([header[i].len()]).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for row in std::iter::once(header.map(str::to_owned)).chain(rows) {
        let line: Vec<String> = row.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}
