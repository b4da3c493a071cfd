//! The command line's definition (clap): every subcommand and option, and how the shared options
//! become conversion [`Options`]. It lives in the library so that tools other than the binary can
//! reach it: `cargo xtask dist` generates the man pages and shell completions from [`command`].

use std::fs;
use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

use crate::libvirt::DomainType;
use crate::map::TpmBackend;
use crate::pve::storage::StorageConfig;
use crate::report::{render_human, to_json};
use crate::{convert_bytes, vmid_from_path, Conversion, MapOptions, Note, Options, Selection, Source};

/// The whole command line, as clap sees it (for man pages and completions).
pub fn command() -> clap::Command {
    Cli::command()
}

/// Reads a config (`-`: standard input) and converts it with the options of `common`.
pub fn read_and_convert(
    input: &Path,
    common: &Common,
    storage: &StorageConfig,
) -> io::Result<(Source, Result<Conversion, Vec<Note>>)> {
    // Read at most one byte past the limit: a 100 MB file costs no more than a 4 MB one.
    let limit = crate::MAX_CONFIG_BYTES as u64 + 1;
    let mut bytes = Vec::new();
    let name = if input.as_os_str() == "-" {
        io::stdin().take(limit).read_to_end(&mut bytes)?;
        "<stdin>".to_owned()
    } else {
        let file = fs::File::open(input)?;
        // `take` hides the file's size from `read_to_end`: reserve it here, so that a config is
        // read in one call rather than in doubling steps.
        let size = file.metadata().map_or(0, |m| m.len()).min(limit);
        bytes.reserve_exact(size as usize + 1);
        file.take(limit).read_to_end(&mut bytes)?;
        input.display().to_string()
    };
    Ok(convert_bytes(&name, &bytes, &common.options(input, storage.clone())))
}

/// Exit codes, stable for scripts.
pub mod exit {
    pub const OK: u8 = 0;
    pub const INPUT: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const STRICT: u8 = 3;
    pub const IO: u8 = 4;
}

#[derive(Parser)]
#[command(name = "pve2virt", version, about = "Convert Proxmox VE VM configs into libvirt domain XML")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
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
    /// List every volume a VM uses, where Proxmox opens it and how it is carried (table, --json, --script).
    Plan {
        #[command(flatten)]
        args: crate::migrate::PlanArgs,
        #[command(flatten)]
        common: Common,
    },
    /// Copy a VM's volumes, verify them, and define (and with --start, start) its domain on --to.
    Migrate {
        #[command(flatten)]
        args: crate::migrate::MigrateArgs,
        #[command(flatten)]
        common: Common,
    },
    /// Show, for every key of a config, what it becomes in libvirt and the note if any; or, with
    /// `--code CODE`, what a note code means and what to do about it.
    Explain {
        #[arg(required_unless_present = "code")]
        input: Option<PathBuf>,
        #[command(flatten)]
        code: crate::report::codes::ExplainCode,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Args)]
pub struct Common {
    /// The VMID (default: from the file name `<vmid>.conf`).
    #[arg(long)]
    pub vmid: Option<u32>,
    /// Translate the state saved in this snapshot section instead of the current configuration.
    #[arg(long, value_name = "NAME", conflicts_with = "pending")]
    pub snapshot: Option<String>,
    /// Apply the [PENDING] section (including its `delete:`) before translating.
    #[arg(long)]
    pub pending: bool,
    /// Domain type: `kvm` (hardware virtualisation) or `qemu` (TCG emulation). Default: from `kvm:`.
    #[arg(long, value_enum)]
    pub domain_type: Option<DomainTypeArg>,
    /// The target host's QEMU version (e.g. `7.2`): newer machine versions are lowered to it, with a note.
    #[arg(long, value_name = "X.Y", value_parser = parse_version)]
    pub host_qemu_version: Option<(u32, u32)>,
    /// How to print notes on standard error.
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    pub report: ReportFormat,
    /// Fail (exit 3, no output) when anything was approximated or dropped.
    #[arg(long)]
    pub strict: bool,
    /// The Proxmox storage.cfg volume ids are resolved against (default: /etc/pve/storage.cfg
    /// where readable, else the layout of a fresh Proxmox install).
    #[arg(long, value_name = "FILE")]
    pub storage_cfg: Option<PathBuf>,
    /// Storage ID's volumes are files under DIR on this host (`ID:VOLNAME` → `DIR/VOLNAME`,
    /// format kept). Repeatable.
    #[arg(long, value_name = "ID=DIR", value_parser = parse_storage_map)]
    pub map_storage: Vec<(String, PathBuf)>,
    /// Attach NICs on Proxmox bridge FROM to bridge TO. Repeatable.
    #[arg(long, value_name = "FROM=TO", value_parser = parse_bridge_map)]
    pub map_bridge: Vec<(String, String)>,
    /// Pass the `args:` options that have no libvirt form to QEMU (`<qemu:commandline>`); otherwise each is reported.
    #[arg(long)]
    pub allow_qemu_args: bool,
    /// Let libvirt place PCI devices instead of keeping Proxmox's slots (guest NIC names may change).
    #[arg(long)]
    pub libvirt_addresses: bool,
    /// How the TPM state is carried: `external` keeps Proxmox's state (swtpm started outside
    /// libvirt); `emulator` gives a libvirt-managed TPM with fresh state.
    #[arg(long, value_enum, default_value_t = TpmBackendArg::External)]
    pub tpm_backend: TpmBackendArg,
    /// Where the OVMF firmware files are on the target host (default: /usr/share/OVMF, or the
    /// target's own with --target/--target-caps).
    #[arg(long, value_name = "DIR")]
    pub firmware_dir: Option<PathBuf>,
    #[command(flatten)]
    pub target: crate::target::cli::TargetArgs,
    #[command(flatten)]
    pub cluster: crate::pve::cluster::args::ClusterArgs,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum TpmBackendArg {
    External,
    Emulator,
}

pub fn parse_storage_map(s: &str) -> Result<(String, PathBuf), String> {
    let (id, dir) = s.split_once('=').ok_or("expected ID=DIR")?;
    if id.is_empty() || dir.is_empty() {
        return Err("expected ID=DIR".into());
    }
    Ok((id.to_owned(), PathBuf::from(dir)))
}

pub fn parse_bridge_map(s: &str) -> Result<(String, String), String> {
    let (from, to) = s.split_once('=').ok_or("expected FROM=TO")?;
    let valid = |b: &str| !b.is_empty() && b.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if !valid(from) || !valid(to) {
        return Err("bridge names are letters, digits, '-', '_' and '.'".into());
    }
    Ok((from.to_owned(), to.to_owned()))
}

#[derive(Clone, Copy, ValueEnum)]
pub enum DomainTypeArg {
    Kvm,
    Qemu,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Human,
    Json,
}

pub fn parse_version(s: &str) -> Result<(u32, u32), String> {
    let (a, b) = s.split_once('.').ok_or("expected MAJOR.MINOR, e.g. 7.2")?;
    Ok((a.parse().map_err(|_| "bad major version")?, b.parse().map_err(|_| "bad minor version")?))
}

impl Common {
    /// Reads the storage layout; `Err` after printing why (so there is nothing left to carry).
    #[allow(clippy::result_unit_err)]
    pub fn storage(&self) -> Result<StorageConfig, ()> {
        if let Err(e) = self.target.load(self.host_qemu_version, self.firmware_dir.is_some()) {
            eprintln!("error: target: {e}");
            return Err(());
        }
        let (path, required) = match &self.storage_cfg {
            Some(p) => (p.clone(), true),
            None => (self.cluster.storage_cfg(), false),
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

    pub fn options(&self, input: &Path, storage: StorageConfig) -> Options {
        let mut options = Options {
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
                firmware_dir: self.firmware_dir.clone().unwrap_or_else(|| PathBuf::from("/usr/share/OVMF")),
                target: self.target.load(self.host_qemu_version, self.firmware_dir.is_some()).ok().flatten(),
                ..Default::default()
            },
        };
        self.cluster.apply(&mut options.map);
        options
    }
}

pub fn report(notes: &[Note], source: &Source, format: ReportFormat) {
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
