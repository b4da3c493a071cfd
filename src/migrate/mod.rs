//! `pve2virt plan` and `pve2virt migrate`: carry a VM's volumes (disks, CD-ROM images, the
//! cloud-init seed, EFI variables, TPM state) to the target and define the domain that uses them.
//!
//! Both read the config and storage.cfg from a `/etc/pve`-shaped tree (`--pve-root`) on this host
//! or on a node reached with ssh, convert it once to learn the volumes (the mapper's own
//! resolutions, [`crate::Conversion::volumes`]), build the [`plan`], and convert again with
//! [`crate::MapOptions::relocate`] naming the copies, so the domain points at what the plan
//! creates.

pub mod execute;
pub mod plan;
pub mod shell;
pub mod source;
pub mod tpm;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::map::{Relocated, VolumeRole};
use crate::pve::storage::StorageConfig;
use crate::report::render_human;
use crate::{convert_bytes, Conversion, Options};
use plan::{Action, PlanOptions, TargetFormat, VmPlan};
use source::Host;

/// Exit codes (the same meanings as `convert`'s).
pub mod exit {
    pub const OK: u8 = 0;
    pub const INPUT: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const IO: u8 = 4;
    /// The VM runs on the source, or a target exists and differs (pass --force).
    pub const REFUSED: u8 = 5;
}

/// What `plan` and `migrate` share.
#[derive(clap::Args, Debug, Clone)]
pub struct SourceArgs {
    /// VMIDs (read from `<pve-root>/qemu-server/<vmid>.conf`) or config files.
    #[arg(required = true, value_name = "VMID|CONFIG")]
    pub vms: Vec<String>,
    /// Where the Proxmox side is: `local` or `ssh://[USER@]HOST[:PORT]`.
    #[arg(long, default_value = "local", value_name = "local|ssh://[USER@]HOST[:PORT]")]
    pub from: String,
    /// An ssh `-o` option for `--from ssh://` (e.g. `IdentityFile=…`). Repeatable.
    #[arg(long, value_name = "OPTION")]
    pub ssh_option: Vec<String>,
    /// The Proxmox cluster file system (`qemu-server/<vmid>.conf`, `storage.cfg`): the common
    /// `--pve-root` (default /etc/pve), read on the source (`--from`).
    #[arg(skip)]
    pub pve_root: PathBuf,
    /// Where the copies go on the target.
    #[arg(long, value_name = "DIR", default_value = "/var/lib/libvirt/images")]
    pub target_dir: PathBuf,
    /// The format of copied disks (CD-ROM images, the cloud-init seed, EFI vars and TPM state stay raw).
    #[arg(long, value_enum, default_value_t = TargetFormat::Raw)]
    pub format: TargetFormat,
    /// Copy unused volumes (`unusedN`) too.
    #[arg(long)]
    pub include_unused: bool,
    /// libvirt's `swtpm_storage_dir` on the target (qemu.conf).
    #[arg(long, value_name = "DIR", default_value = "/var/lib/libvirt/swtpm")]
    pub swtpm_dir: PathBuf,
}

#[derive(clap::Args, Debug, Clone)]
pub struct PlanArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// The plan as JSON (docs/plan-schema.md).
    #[arg(long, conflicts_with = "script")]
    pub json: bool,
    /// The plan as a POSIX sh script to review and run.
    #[arg(long)]
    pub script: bool,
}

#[derive(clap::Args, Debug, Clone)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// The libvirt URI the domain is defined on: this host's (`qemu:///system`), since the copies are local files.
    #[arg(long, value_name = "URI")]
    pub to: String,
    /// Start the domain once defined.
    #[arg(long)]
    pub start: bool,
    /// Copy a VM that runs on the source (the copy is crash-consistent only).
    #[arg(long)]
    pub allow_running: bool,
    /// Replace target files and a domain that exist and differ from what the plan makes.
    #[arg(long)]
    pub force: bool,
}

/// One VM read and planned.
pub struct Planned {
    pub plan: VmPlan,
    /// The domain XML naming the copies.
    pub xml: String,
    pub conversion: Conversion,
}

/// Reads, converts and plans every VM; prints errors and notes as it goes. `Err` is the exit code.
pub fn prepare(args: &SourceArgs, base: &Options, host: &Host, json_notes: bool) -> Result<Vec<Planned>, u8> {
    // The cluster files belong to the node the configs come from: read them there too (the
    // common options read this host's /etc/pve, which a libvirt host does not have).
    let remote;
    let base = if host.is_local() {
        base
    } else {
        let given = &base.map.cluster;
        let node = given.node.as_deref().filter(|_| given.node_given);
        let mut options = base.clone();
        options.map.cluster = crate::pve::cluster::Cluster::load_from(host, &args.pve_root, node);
        remote = options;
        &remote
    };
    let root = args.pve_root.display().to_string();
    let root = root.trim_end_matches('/');
    let storage_path = format!("{root}/storage.cfg");
    let storage = match host.read(&storage_path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            match StorageConfig::parse(&text) {
                Ok(s) => s,
                Err(errors) => {
                    eprint!("{}", render_human(&errors, &crate::Source::new(storage_path, text), false));
                    return Err(exit::INPUT);
                }
            }
        }
        Err(e) => {
            eprintln!("error: cannot read {storage_path}: {e}");
            return Err(exit::IO);
        }
    };
    let mut out = Vec::new();
    let mut failed = false;
    for vm in &args.vms {
        let (path, vmid) = match vm.parse::<u32>() {
            Ok(id) => (format!("{root}/qemu-server/{id}.conf"), Some(id)),
            Err(_) => (vm.clone(), crate::vmid_from_path(Path::new(vm))),
        };
        let bytes = match host.read(&path) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("error: cannot read {path}: {e}");
                failed = true;
                continue;
            }
        };
        let mut opts = base.clone();
        opts.vmid = vmid.or(base.vmid);
        opts.map.storage = storage.clone();
        match plan_one(&path, &bytes, &opts, args, host, json_notes) {
            Ok(p) => out.push(p),
            Err(()) => failed = true,
        }
    }
    if failed {
        return Err(exit::INPUT);
    }
    Ok(out)
}

fn print_notes(notes: &[crate::Note], source: &crate::Source, json: bool) {
    if notes.is_empty() {
        return;
    }
    if json {
        eprintln!("{}", serde_json::to_string(&crate::report::to_json(notes, source)).unwrap_or_default());
    } else {
        eprint!("{}", render_human(notes, source, false));
    }
}

fn plan_one(
    path: &str,
    bytes: &[u8],
    opts: &Options,
    args: &SourceArgs,
    host: &Host,
    json_notes: bool,
) -> Result<Planned, ()> {
    let (source, first) = convert_bytes(path, bytes, opts);
    let first = match first {
        Ok(c) => c,
        Err(errors) => {
            print_notes(&errors, &source, json_notes);
            return Err(());
        }
    };
    let probe = |p: &str, f: &str| host.virtual_size(p, f);
    let popts = PlanOptions {
        target_dir: &args.target_dir,
        format: args.format,
        include_unused: args.include_unused,
        swtpm_dir: &args.swtpm_dir,
        storage_map: &opts.map.storage_map,
        storage: &opts.map.storage,
        snapshot: match &opts.selection {
            crate::Selection::Snapshot(name) => Some(name.as_str()),
            _ => None,
        },
        probe: &probe,
    };
    let plan = match plan::plan_vm(&first, path, &popts) {
        Ok(p) => p,
        Err(errors) => {
            for e in errors {
                eprintln!("error: {path}: {e}");
            }
            return Err(());
        }
    };
    let (xml, conversion) = relocated_conversion(path, bytes, opts, &plan).map_err(|errors| {
        print_notes(&errors, &source, json_notes);
    })?;
    print_notes(&conversion.notes, &source, json_notes);
    Ok(Planned { plan, xml, conversion })
}

/// The second conversion: the same config, with the domain naming the copies.
pub fn relocated_conversion(
    path: &str,
    bytes: &[u8],
    opts: &Options,
    plan: &VmPlan,
) -> Result<(String, Conversion), Vec<crate::Note>> {
    let mut opts = opts.clone();
    opts.map.relocate = relocation(plan);
    let (_, result) = convert_bytes(path, bytes, &opts);
    result.map(|c| (c.xml.clone(), c))
}

/// key → copy, for every volume the plan copies.
pub fn relocation(plan: &VmPlan) -> BTreeMap<String, Relocated> {
    plan.volumes
        .iter()
        .filter(|v| v.action != Action::Reference && v.role != VolumeRole::Unused)
        .map(|v| (v.key.clone(), Relocated { path: v.target.path.clone(), format: v.target.format.clone() }))
        .collect()
}

/// `pve2virt plan`.
pub fn plan_main(args: &PlanArgs, base: Options, json_notes: bool) -> u8 {
    let host = match Host::parse(&args.source.from, &args.source.ssh_option) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("error: --from: {e}");
            return exit::USAGE;
        }
    };
    let planned = match prepare(&args.source, &base, &host, json_notes) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let xmls: Vec<String> = planned.iter().map(|p| p.xml.clone()).collect();
    let plan = plan::plan_of(planned.into_iter().map(|p| p.plan).collect());
    if args.json {
        println!("{}", plan::to_json(&plan));
    } else if args.script {
        print!("{}", plan::to_script(&plan, &xmls));
    } else {
        print!("{}", plan::to_table(&plan));
    }
    exit::OK
}

/// Whether a libvirt URI names this host (`driver:///path`, no host part): the copies are local
/// files, so only a local libvirt can use them.
pub fn is_local_uri(uri: &str) -> bool {
    uri.split_once("://").is_some_and(|(scheme, rest)| !scheme.contains('+') && rest.starts_with('/'))
}

/// `pve2virt migrate`.
pub fn migrate_main(args: &MigrateArgs, base: Options, json: bool) -> u8 {
    if !is_local_uri(&args.to) {
        eprintln!(
            "error: --to {}: the copies are written on this host, so the domain must be defined on this host's \
             libvirt (e.g. qemu:///system); run pve2virt on the target host",
            args.to
        );
        return exit::USAGE;
    }
    let host = match Host::parse(&args.source.from, &args.source.ssh_option) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("error: --from: {e}");
            return exit::USAGE;
        }
    };
    let planned = match prepare(&args.source, &base, &host, json) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let mut worst = exit::OK;
    for p in &planned {
        let code = execute::migrate_vm(p, args, &host, json);
        worst = worst.max(code);
    }
    worst
}

#[cfg(test)]
mod tests {
    #[test]
    fn local_uris() {
        assert!(super::is_local_uri("qemu:///system"));
        assert!(super::is_local_uri("test:///default"));
        assert!(!super::is_local_uri("qemu+ssh://root@host/system"));
        assert!(!super::is_local_uri("qemu://host/system"));
        assert!(!super::is_local_uri("system"));
    }
}
