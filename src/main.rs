//! The `pve2virt` command: argument parsing, files, exit codes. No translation logic lives here.

use std::fs;
use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use pve2virt::libvirt::DomainType;
use pve2virt::report::{render_human, to_json};
use pve2virt::map::TpmBackend;
use pve2virt::pve::storage::StorageConfig;
use pve2virt::{convert_bytes, vmid_from_path, Conversion, MapOptions, Note, Options, Selection, Source};

/// Exit codes, stable for scripts.
mod exit {
    pub const INPUT: u8 = 1;
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
    /// Convert a config (`/etc/pve/qemu-server/<vmid>.conf`, or `-` for standard input) to domain XML.
    Convert {
        /// The config file; `-` reads standard input (then --vmid is required).
        input: PathBuf,
        /// Write the XML to FILE (atomically) instead of standard output.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Overwrite an existing output file.
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
            },
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Convert { input, output, force, common } => {
            let Some((source, result)) = run(&input, &common) else {
                return ExitCode::from(exit::IO);
            };
            match result {
                Ok(conversion) => {
                    report(&conversion.notes, &source, common.report);
                    if common.strict && conversion.notes.iter().any(Note::is_lossy) {
                        eprintln!(
                            "error: --strict: the conversion is lossy (see the warnings above); nothing was written"
                        );
                        return ExitCode::from(exit::STRICT);
                    }
                    match write_output(&conversion, output.as_deref(), force) {
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
                        eprintln!(
                            "error: {} could not be converted ({} error{})",
                            source.name,
                            errors.len(),
                            if errors.len() == 1 { "" } else { "s" }
                        );
                    }
                    ExitCode::from(exit::INPUT)
                }
            }
        }
        Command::Explain { input, common } => {
            let Some((source, result)) = run(&input, &common) else {
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
fn run(input: &Path, common: &Common) -> Option<(Source, Result<Conversion, Vec<Note>>)> {
    let (name, bytes) = if input.as_os_str() == "-" {
        let mut bytes = Vec::new();
        if let Err(e) = io::stdin().read_to_end(&mut bytes) {
            eprintln!("error: cannot read standard input: {e}");
            return None;
        }
        ("<stdin>".to_owned(), bytes)
    } else {
        match fs::read(input) {
            Ok(bytes) => (input.display().to_string(), bytes),
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", input.display());
                return None;
            }
        }
    };
    let storage = common.storage().ok()?;
    Some(convert_bytes(&name, &bytes, &common.options(input, storage)))
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

/// Writes the XML to standard output, or to FILE through a temporary file and a rename, so a
/// reader never sees half a domain and an interrupted run leaves no partial file.
fn write_output(conversion: &Conversion, output: Option<&Path>, force: bool) -> io::Result<()> {
    let Some(path) = output else {
        return io::stdout().lock().write_all(conversion.xml.as_bytes());
    };
    if path.exists() && !force {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} exists; pass --force to overwrite it", path.display()),
        ));
    }
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the output path has no file name"))?;
    let tmp = dir.join(format!(".{}.{}.tmp", file_name.to_string_lossy(), std::process::id()));
    let result = (|| {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(conversion.xml.as_bytes())?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
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
