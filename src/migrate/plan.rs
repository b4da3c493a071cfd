//! The migration plan: every volume the translated state uses, where Proxmox opens it, where its
//! copy goes, and the commands that bring it there. Built from [`Conversion::volumes`], the very
//! resolutions that gave the domain its sources (`map::disk`, `map::firmware`): there is no
//! second resolver. The JSON form is documented in `docs/plan-schema.md`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::shell;
use crate::map::{UsedVolume, VolumeRole};
use crate::pve::storage::{split_volume_id, NetworkVolume, Source, StorageType};
use crate::Conversion;

/// Bumped on any change a reader of the JSON could notice (docs/plan-schema.md).
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum TargetFormat {
    Raw,
    Qcow2,
}

impl TargetFormat {
    pub fn name(self) -> &'static str {
        match self {
            TargetFormat::Raw => "raw",
            TargetFormat::Qcow2 => "qcow2",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub schema: &'static str,
    pub version: u32,
    pub vms: Vec<VmPlan>,
}

#[derive(Debug, Clone, Serialize)]
pub struct VmPlan {
    pub vmid: u32,
    /// The libvirt domain name.
    pub name: String,
    pub uuid: Option<String>,
    /// The config read (path on the Proxmox side).
    pub config: String,
    /// Where the domain XML is written (target side).
    pub domain_xml: String,
    pub volumes: Vec<PlanVolume>,
    /// Drives with nothing to copy (empty CD-ROM, the host's CD-ROM) and unused volumes left out.
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub key: String,
    pub file: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanStorage {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanSource {
    /// The path, device or URI as Proxmox (and `qemu-img`) opens it.
    pub path: String,
    /// `file`, `block` or `network` (`nbd` only while `migrate --from ssh://` copies).
    pub kind: &'static str,
    pub format: String,
    /// `--snapshot NAME` of a qcow2 image: the internal snapshot read (`qemu-img convert -l`,
    /// `qemu-nbd -l`); block storages name their snapshot in `path` instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanTarget {
    pub path: String,
    pub format: String,
    /// The size of the copy when it differs from the source's (the efidisk's varstore).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// tpmstate0: the swtpm state directory libvirt's emulator uses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_dir: Option<String>,
}

/// What is done with a volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Copied (and converted to the target format).
    Copy,
    /// The efidisk: its first `target.bytes` bytes become the raw vars file.
    CutVars,
    /// The tpmstate: copied, then converted into libvirt's swtpm state directory.
    TpmState,
    /// On a `--map-storage` storage: already on the target, used in place.
    Reference,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanVolume {
    pub key: String,
    pub role: VolumeRole,
    /// The config's `file`.
    pub file: String,
    pub storage: Option<PlanStorage>,
    pub source: PlanSource,
    /// The virtual size in bytes, if known.
    pub bytes: Option<u64>,
    /// Where `bytes` comes from: `qemu-img-info` (the source was read), `config` (its `size=`)
    /// or `unknown`.
    pub bytes_from: &'static str,
    pub target: PlanTarget,
    pub action: Action,
    pub steps: Vec<Step>,
}

/// One command of a volume's steps.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// `activate`, `copy`, `verify`, `rename`, `convert-tpm`.
    pub action: &'static str,
    /// Where it runs: `source` (the Proxmox node) or `target`.
    pub on: &'static str,
    pub argv: Vec<String>,
}

/// What [`plan_vm`] needs besides the conversion.
pub struct PlanOptions<'a> {
    pub target_dir: &'a Path,
    pub format: TargetFormat,
    pub include_unused: bool,
    /// libvirt's `swtpm_storage_dir` on the target (qemu.conf; default /var/lib/libvirt/swtpm).
    pub swtpm_dir: &'a Path,
    pub storage_map: &'a BTreeMap<String, PathBuf>,
    /// Where the Proxmox storage definitions come from (for storage types of volume ids).
    pub storage: &'a crate::pve::storage::StorageConfig,
    /// `--snapshot NAME`: the volumes as they were in that snapshot.
    pub snapshot: Option<&'a str>,
    /// The virtual size of `(path, format)` where it can be read; `None` otherwise.
    pub probe: &'a dyn Fn(&str, &str) -> Option<u64>,
}

/// A volume as `qemu-img` names it: the path, or for network volumes the URI QEMU's rbd and
/// iscsi drivers take (QEMU `block/rbd.c` `qemu_rbd_parse_filename`, `block/iscsi.c`).
fn source_of(volume: &crate::pve::storage::Volume, file: &str) -> PlanSource {
    let (path, kind) = match &volume.source {
        Source::File(p) => (p.clone(), "file"),
        Source::Block(p) => (p.clone(), "block"),
        Source::Network(n) => (network_uri(n, file), "network"),
        Source::Empty => (String::new(), "file"),
    };
    PlanSource { path, kind, format: volume.format.clone(), snapshot: None }
}

/// The source of a volume as it was at snapshot `snap` (pve-storage: each plugin's
/// `volume_snapshot` and where it leaves the snapshot): qcow2 images keep internal snapshots;
/// LVM-thin makes the LV `snap_<lv>_<snap>` (LVMThinPlugin.pm), ZFS the dataset snapshot
/// `<vol>@<snap>` (its zvol node appears with `snapdev=visible`), RBD the image snapshot
/// `<image>@<snap>`. Returns the source and the step that makes it readable, if any.
fn snapshot_source(
    volume: &crate::pve::storage::Volume,
    source: &PlanSource,
    snap: &str,
) -> Result<(PlanSource, Option<Step>), String> {
    let mut s = source.clone();
    if source.format == "qcow2" && matches!(volume.source, Source::File(_)) {
        s.snapshot = Some(snap.to_owned());
        return Ok((s, None));
    }
    match (volume.storage, &volume.source) {
        (Some(StorageType::LvmThin), Source::Block(dev)) => {
            let (dir, lv) = dev.rsplit_once('/').ok_or("bad LV path")?;
            s.path = format!("{dir}/snap_{lv}_{snap}");
            let lv_name = s.path.trim_start_matches("/dev/").to_owned();
            // Thin snapshots are created with the activation-skip flag: `-K` overrides it.
            let argv = vec!["lvchange".into(), "-ay".into(), "-K".into(), lv_name];
            Ok((s, Some(Step { action: "activate", on: "source", argv })))
        }
        (Some(StorageType::ZfsPool), Source::Block(dev)) => {
            s.path = format!("{dev}@{snap}");
            let dataset = dev.trim_start_matches("/dev/zvol/").to_owned();
            let argv = vec!["zfs".into(), "set".into(), "snapdev=visible".into(), dataset];
            Ok((s, Some(Step { action: "activate", on: "source", argv })))
        }
        (Some(StorageType::Rbd), Source::Network(_)) => {
            let (head, tail) = source.path.split_once(':').unwrap_or((&source.path, ""));
            let (image, opts) = tail.split_once(':').map_or((tail, String::new()), |(i, o)| (i, format!(":{o}")));
            s.path = format!("{head}:{image}@{snap}{opts}");
            Ok((s, None))
        }
        _ => Err(format!(
            "cannot read snapshot '{snap}' of a {} {} volume: pve2virt reads snapshots of qcow2 files, LVM-thin, ZFS and RBD only",
            volume.storage.map_or("plain", |k| k.name()),
            source.format
        )),
    }
}

fn network_uri(n: &NetworkVolume, file: &str) -> String {
    if n.protocol == "rbd" {
        // RBDPlugin.pm `path`: rbd:<pool>/<image> with the monitors, user and the storage's keyring.
        let esc = |s: &str| s.replace(':', "\\:").replace(';', "\\;");
        let mut uri = format!("rbd:{}", esc(&n.name));
        if !n.hosts.is_empty() {
            let hosts: Vec<String> = n.hosts.iter().map(|(h, p)| format!("{}\\:{p}", esc(h))).collect();
            uri.push_str(&format!(":mon_host={}", hosts.join("\\;")));
        }
        if let Some(conf) = &n.config {
            uri.push_str(&format!(":conf={}", esc(conf)));
        }
        if let Some((user, _)) = &n.auth {
            uri.push_str(&format!(":auth_supported=cephx:id={}", esc(user)));
        }
        if let Some((store, _)) = split_volume_id(file) {
            uri.push_str(&format!(":keyring=/etc/pve/priv/ceph/{store}.keyring"));
        }
        uri
    } else {
        let (host, port) = n.hosts.first().cloned().unwrap_or_default();
        let host = if host.contains(':') { format!("[{host}]") } else { host };
        format!("{}://{host}:{port}/{}", n.protocol, n.name)
    }
}

/// The target file name of a volume: from the VMID and the key only, so no name from the
/// Proxmox side ever reaches a target path.
fn target_name(vmid: u32, key: &str, role: VolumeRole, format: &str) -> String {
    match role {
        VolumeRole::Efidisk => format!("{vmid}-efidisk0_VARS.fd"),
        VolumeRole::Tpmstate => format!("{vmid}-tpmstate0.swtpm.raw"),
        VolumeRole::Cdrom | VolumeRole::Cloudinit => format!("{vmid}-{key}.iso"),
        _ => format!("{vmid}-{key}.{format}"),
    }
}

/// The part file a copy is written to before it is verified and renamed.
pub fn part_path(target: &str) -> String {
    let p = Path::new(target);
    let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    p.with_file_name(format!(".{name}.part")).display().to_string()
}

/// A `json:` filename that shows only the first `bytes` bytes of an image (QEMU's raw driver
/// `offset`/`size` options over the image's own format driver).
pub fn cut_filename(source: &PlanSource, bytes: u64) -> String {
    let protocol = match source.kind {
        "block" => serde_json::json!({ "driver": "host_device", "filename": source.path }),
        // `--from ssh://`: the volume as the node's qemu-nbd serves it over the forwarded socket.
        "nbd" => serde_json::json!({ "driver": "nbd", "server": { "type": "unix", "path": source.path } }),
        "network" => {
            let driver = if source.path.starts_with("rbd:") { "rbd" } else { "iscsi" };
            serde_json::json!({ "driver": driver, "filename": source.path })
        }
        _ => serde_json::json!({ "driver": "file", "filename": source.path }),
    };
    let image = if source.format == "raw" {
        protocol
    } else {
        serde_json::json!({ "driver": source.format, "file": protocol })
    };
    format!("json:{}", serde_json::json!({ "driver": "raw", "size": bytes, "file": image }))
}

/// Runs a command against a qcow2 internal snapshot (which `qemu-img compare` and `json:`
/// filenames cannot name): `qemu-nbd -l` serves it read-only on a private socket, and the
/// command's words `@NBD@` and `@NBD_CUT_<bytes>@` become that export's URI and a `json:`
/// filename of its first bytes.
/// `sh -c SNAPSHOT_WRAP pve2virt-snapshot <snapshot> <image> -- <command…>`.
pub const SNAPSHOT_WRAP: &str = r#"set -eu
snap=$1 img=$2; shift 3
d=$(mktemp -d)
trap 'kill "$(cat "$d/pid" 2>/dev/null)" 2>/dev/null; rm -rf "$d"' EXIT
qemu-nbd --fork --read-only --shared=4 -l "snapshot.name=$snap" -f qcow2 --socket="$d/s" --pid-file="$d/pid" "$img"
for a do
  shift
  case $a in
    @NBD@) set -- "$@" "nbd+unix:///?socket=$d/s" ;;
    @NBD_CUT_*@) n=${a#@NBD_CUT_}; n=${n%@}
      set -- "$@" "json:{\"driver\":\"raw\",\"size\":$n,\"file\":{\"driver\":\"nbd\",\"server\":{\"type\":\"unix\",\"path\":\"$d/s\"}}}" ;;
    *) set -- "$@" "$a" ;;
  esac
done
"$@"
"#;

/// A step's argv; for a qcow2 snapshot source, wrapped in [`SNAPSHOT_WRAP`].
fn snapshot_wrapped(source: &PlanSource, argv: Vec<String>) -> Vec<String> {
    let Some(snap) = &source.snapshot else { return argv };
    let mut out: Vec<String> = vec![
        "sh".into(),
        "-c".into(),
        SNAPSHOT_WRAP.into(),
        "pve2virt-snapshot".into(),
        snap.clone(),
        source.path.clone(),
        "--".into(),
    ];
    out.extend(argv);
    out
}

/// The source as the wrapped command sees it: raw over NBD.
fn via_nbd_placeholder() -> PlanSource {
    PlanSource { path: "@NBD@".into(), kind: "nbd-placeholder", format: "raw".into(), snapshot: None }
}

/// Step argv for a plan (the script and the JSON): copy, verify, cut, verify-cut.
pub fn plan_copy_argv(source: &PlanSource, format: &str, dst: &str) -> Vec<String> {
    match source.snapshot {
        None => copy_argv(source, format, dst),
        Some(_) => snapshot_wrapped(source, copy_argv(&via_nbd_placeholder(), format, dst)),
    }
}

pub fn plan_verify_argv(source: &PlanSource, format: &str, dst: &str) -> Vec<String> {
    match source.snapshot {
        None => verify_argv(source, format, dst),
        Some(_) => snapshot_wrapped(source, verify_argv(&via_nbd_placeholder(), format, dst)),
    }
}

pub fn plan_cut_argv(source: &PlanSource, bytes: u64, dst: &str) -> Vec<String> {
    match source.snapshot {
        None => cut_argv(source, bytes, dst),
        Some(_) => snapshot_wrapped(
            source,
            vec![
                "qemu-img".into(),
                "convert".into(),
                "-O".into(),
                "raw".into(),
                format!("@NBD_CUT_{bytes}@"),
                dst.into(),
            ],
        ),
    }
}

pub fn plan_cut_verify_argv(source: &PlanSource, bytes: u64, dst: &str) -> Vec<String> {
    match source.snapshot {
        None => cut_verify_argv(source, bytes, dst),
        Some(_) => snapshot_wrapped(
            source,
            vec![
                "qemu-img".into(),
                "compare".into(),
                "-q".into(),
                "-s".into(),
                "-F".into(),
                "raw".into(),
                format!("@NBD_CUT_{bytes}@"),
                dst.into(),
            ],
        ),
    }
}

/// The name qemu-img opens: the path, or the forwarded NBD socket's URI.
fn qemu_name(source: &PlanSource) -> String {
    if source.kind == "nbd" {
        format!("nbd+unix:///?socket={}", source.path)
    } else {
        source.path.clone()
    }
}

/// `qemu-img convert`: sparse by default (it skips zero and unallocated areas, `-S 4k`) and
/// reads only what the source's block status says is allocated.
pub fn copy_argv(source: &PlanSource, format: &str, dst: &str) -> Vec<String> {
    let mut argv: Vec<String> = vec!["qemu-img".into(), "convert".into(), "-p".into()];
    if !source.kind.starts_with("nbd") {
        argv.extend(["-U".into()]);
    }
    argv.extend(["-f".into(), source.format.clone(), "-O".into(), format.into(), qemu_name(source), dst.into()]);
    argv
}

/// `qemu-img compare`: guest-visible contents, whatever the two formats.
pub fn verify_argv(source: &PlanSource, format: &str, dst: &str) -> Vec<String> {
    let mut argv: Vec<String> = vec!["qemu-img".into(), "compare".into(), "-q".into()];
    if !source.kind.starts_with("nbd") {
        argv.push("-U".into());
    }
    argv.extend(["-f".into(), source.format.clone(), "-F".into(), format.into(), qemu_name(source), dst.into()]);
    argv
}

pub fn cut_argv(source: &PlanSource, bytes: u64, dst: &str) -> Vec<String> {
    vec!["qemu-img".into(), "convert".into(), "-O".into(), "raw".into(), cut_filename(source, bytes), dst.into()]
}

pub fn cut_verify_argv(source: &PlanSource, bytes: u64, dst: &str) -> Vec<String> {
    vec![
        "qemu-img".into(),
        "compare".into(),
        "-q".into(),
        "-s".into(),
        "-F".into(),
        "raw".into(),
        cut_filename(source, bytes),
        dst.into(),
    ]
}

/// Builds one VM's plan.
pub fn plan_vm(conversion: &Conversion, config: &str, opts: &PlanOptions) -> Result<VmPlan, Vec<String>> {
    let vmid = conversion.vmid;
    let mut errors = Vec::new();
    let mut volumes = Vec::new();
    let mut skipped = Vec::new();
    let dir = opts.target_dir.display().to_string();
    let dir = dir.trim_end_matches('/');
    let uuid = conversion.domain.uuid.clone();
    for used in &conversion.volumes {
        if used.role == VolumeRole::Unused && !opts.include_unused {
            skipped.push(Skipped {
                key: used.key.clone(),
                file: used.file.clone(),
                reason: "unused volume (pass --include-unused to copy it)".into(),
            });
            continue;
        }
        if used.file == "none" || used.file == "cdrom" {
            let reason = if used.file == "none" { "empty drive" } else { "the Proxmox host's physical CD-ROM" };
            skipped.push(Skipped { key: used.key.clone(), file: used.file.clone(), reason: reason.into() });
            continue;
        }
        let volume = match &used.volume {
            Ok(v) => v,
            Err(n) => {
                errors.push(format!("{}: {}", used.key, n.message));
                continue;
            }
        };
        match plan_volume(vmid, dir, used, volume, uuid.as_deref(), opts) {
            Ok(v) => volumes.push(v),
            Err(e) => errors.push(format!("{}: {e}", used.key)),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(VmPlan {
        vmid,
        name: conversion.domain.name.clone(),
        uuid,
        config: config.to_owned(),
        domain_xml: format!("{dir}/{vmid}.xml"),
        volumes,
        skipped,
    })
}

fn plan_volume(
    vmid: u32,
    dir: &str,
    used: &UsedVolume,
    volume: &crate::pve::storage::Volume,
    uuid: Option<&str>,
    opts: &PlanOptions,
) -> Result<PlanVolume, String> {
    let store = split_volume_id(&used.file).map(|(s, _)| s.to_owned());
    let storage = store.as_ref().map(|id| PlanStorage {
        id: id.clone(),
        kind: opts.storage.get(id).map(|s| s.kind.name()).unwrap_or("mapped"),
    });
    let mut source = source_of(volume, &used.file);
    let mut snapshot_step = None;
    // The cloud-init seed and CD-ROM images are not part of a Proxmox snapshot: the current ones.
    if let (Some(snap), VolumeRole::Disk | VolumeRole::Efidisk | VolumeRole::Tpmstate) = (opts.snapshot, used.role) {
        let (s, step) = snapshot_source(volume, &source, snap)?;
        source = s;
        snapshot_step = step;
    }
    let (bytes, bytes_from) = match (opts.probe)(&source.path, &source.format) {
        Some(b) => (Some(b), "qemu-img-info"),
        None => match used.size {
            Some(b) => (Some(b), "config"),
            None => (None, "unknown"),
        },
    };
    let mapped = store.as_ref().is_some_and(|s| opts.storage_map.contains_key(s));
    if mapped && !matches!(used.role, VolumeRole::Efidisk | VolumeRole::Tpmstate) {
        // `--map-storage ID=DIR` says the storage's volumes are already files on this host.
        return Ok(PlanVolume {
            key: used.key.clone(),
            role: used.role,
            file: used.file.clone(),
            storage,
            target: PlanTarget {
                path: source.path.clone(),
                format: source.format.clone(),
                bytes: None,
                state_dir: None,
            },
            source,
            bytes,
            bytes_from,
            action: Action::Reference,
            steps: Vec::new(),
        });
    }
    let format = match used.role {
        VolumeRole::Disk | VolumeRole::Unused => opts.format.name(),
        _ => "raw",
    };
    let target = format!("{dir}/{}", target_name(vmid, &used.key, used.role, format));
    let part = part_path(&target);
    let mut steps = Vec::new();
    if let Some(StorageType::Lvm | StorageType::LvmThin) = volume.storage {
        if let Source::Block(dev) = &volume.source {
            // Proxmox 9 no longer activates LVs at boot (pve-storage `activate_volume` does it
            // when a VM starts): a stopped VM's LV has no device node until activated.
            let lv = dev.trim_start_matches("/dev/").to_owned();
            steps.push(Step { action: "activate", on: "source", argv: vec!["lvchange".into(), "-ay".into(), lv] });
        }
    }
    steps.extend(snapshot_step);
    let mut target_bytes = None;
    let mut state_dir = None;
    let action = match used.role {
        VolumeRole::Efidisk => {
            let varstore = used.varstore.unwrap_or(540_672);
            target_bytes = Some(varstore);
            steps.push(Step { action: "copy", on: "target", argv: plan_cut_argv(&source, varstore, &part) });
            steps.push(Step { action: "verify", on: "target", argv: plan_cut_verify_argv(&source, varstore, &part) });
            Action::CutVars
        }
        _ => {
            steps.push(Step { action: "copy", on: "target", argv: plan_copy_argv(&source, format, &part) });
            steps.push(Step { action: "verify", on: "target", argv: plan_verify_argv(&source, format, &part) });
            if used.role == VolumeRole::Tpmstate {
                Action::TpmState
            } else {
                Action::Copy
            }
        }
    };
    steps.push(Step { action: "rename", on: "target", argv: vec!["mv".into(), "-f".into(), part, target.clone()] });
    if action == Action::TpmState {
        let uuid = uuid.ok_or(
            "the VM has no smbios1 uuid: libvirt keeps TPM state per domain UUID, so the state \
             cannot be placed before the domain exists (add smbios1: uuid=… to the config)",
        )?;
        if target.contains(',') {
            // swtpm splits its option values on ',' (swtpm `options.c`): no way to quote one.
            return Err(format!("swtpm cannot open a state file whose path has a ',': {target}"));
        }
        let v2 = used.tpm_version != Some("1.2");
        let dir = opts.swtpm_dir.join(uuid).join(if v2 { "tpm2" } else { "tpm1.2" });
        let dir = dir.display().to_string();
        steps.push(Step {
            action: "convert-tpm",
            on: "target",
            argv: vec![
                "sh".into(),
                "-c".into(),
                super::tpm::CONVERT_SCRIPT.into(),
                "pve2virt-tpm".into(),
                target.clone(),
                dir.clone(),
                if v2 { "--tpm2".into() } else { "--tpm1.2".into() },
            ],
        });
        state_dir = Some(dir);
    }
    Ok(PlanVolume {
        key: used.key.clone(),
        role: used.role,
        file: used.file.clone(),
        storage,
        source,
        bytes,
        bytes_from,
        target: PlanTarget { path: target, format: format.into(), bytes: target_bytes, state_dir },
        action,
        steps,
    })
}

// -------------------------------------------------------------------------------------------------
// Output forms

pub fn to_json(plan: &Plan) -> String {
    serde_json::to_string_pretty(plan).unwrap_or_default()
}

fn human_bytes(b: Option<u64>) -> String {
    let Some(b) = b else { return "?".into() };
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut i = 0;
    while v >= 1024.0 && i + 1 < units.len() {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", units[i])
    }
}

/// The human table.
pub fn to_table(plan: &Plan) -> String {
    let mut out = String::new();
    for vm in &plan.vms {
        out.push_str(&format!("VM {} ({}) from {} → {}\n", vm.vmid, vm.name, vm.config, vm.domain_xml));
        let header = ["KEY", "STORAGE", "SOURCE", "FORMAT", "SIZE", "TARGET", "ACTION"];
        let rows: Vec<[String; 7]> = vm
            .volumes
            .iter()
            .map(|v| {
                let storage = v.storage.as_ref().map(|s| format!("{} ({})", s.id, s.kind)).unwrap_or("-".into());
                let size =
                    format!("{}{}", human_bytes(v.bytes), if v.bytes_from == "config" { " (config)" } else { "" });
                let action = match v.action {
                    Action::Copy => "copy",
                    Action::CutVars => "cut vars",
                    Action::TpmState => "tpm state",
                    Action::Reference => "reference",
                };
                [
                    v.key.clone(),
                    storage,
                    v.source.path.clone(),
                    v.source.format.clone(),
                    size,
                    format!("{} ({})", v.target.path, v.target.format),
                    action.into(),
                ]
            })
            .collect();
        let widths: Vec<usize> = (0..7)
            .map(|i| rows.iter().map(|r| r[i].chars().count()).chain([header[i].len()]).max().unwrap_or(0))
            .collect();
        for row in std::iter::once(header.map(str::to_owned)).chain(rows) {
            let line: Vec<String> = row.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
            out.push_str("  ");
            out.push_str(line.join("  ").trim_end());
            out.push('\n');
        }
        for s in &vm.skipped {
            out.push_str(&format!("  skipped {} ({}): {}\n", s.key, s.file, s.reason));
        }
    }
    out
}

fn action_name(a: Action) -> &'static str {
    match a {
        Action::Copy => "copy",
        Action::CutVars => "cut-vars",
        Action::TpmState => "tpm-state",
        Action::Reference => "reference",
    }
}

/// The plan as a POSIX sh script: `set -eu`, each volume skipped when its final file exists and
/// verifies, every word single-quoted; then the domain XML (`xmls`, one per VM, naming the
/// copies) is written and defined with virsh.
pub fn to_script(plan: &Plan, xmls: &[String]) -> String {
    let mut out = String::from(
        "#!/bin/sh\n# Generated by pve2virt plan: review, then run on the target host.\n\
         # Idempotent: a volume whose copy exists and verifies is skipped; the first error stops it.\n\
         set -eu\n",
    );
    for (i, vm) in plan.vms.iter().enumerate() {
        out.push_str(&format!("\n# ---- VM {} ----\n", vm.vmid));
        if let Some(dir) = Path::new(&vm.domain_xml).parent() {
            out.push_str(&format!("mkdir -p {}\n", shell::quote(&dir.display().to_string())));
        }
        for v in &vm.volumes {
            out.push_str(&format!(
                "\n# {} ({}): {}\n",
                v.key,
                action_name(v.action),
                shell::quote(&v.file).replace('\n', " ")
            ));
            if v.action == Action::Reference {
                out.push_str(&format!("test -e {}\n", shell::quote(&v.target.path)));
                continue;
            }
            let verify = v.steps.iter().find(|s| s.action == "verify").map(|s| {
                let mut argv = s.argv.clone();
                if let Some(last) = argv.last_mut() {
                    *last = v.target.path.clone();
                }
                shell::join(&argv)
            });
            let verify = verify.unwrap_or_else(|| "false".into());
            out.push_str(&format!("if [ -e {} ] && {verify}; then\n", shell::quote(&v.target.path)));
            out.push_str(&format!(
                "  echo {}\n",
                shell::quote(&format!("{}: {} verified, skipped", v.key, v.target.path))
            ));
            out.push_str("else\n");
            for s in v.steps.iter().filter(|s| s.action != "convert-tpm") {
                if s.action == "activate" {
                    // An active LV has its device node already.
                    out.push_str(&format!("  [ -e {} ] || {}\n", shell::quote(&v.source.path), shell::join(&s.argv)));
                } else {
                    out.push_str(&format!("  {}\n", shell::join(&s.argv)));
                }
            }
            out.push_str("fi\n");
            for s in v.steps.iter().filter(|s| s.action == "convert-tpm") {
                let dir = v.target.state_dir.clone().unwrap_or_default();
                out.push_str(&format!(
                    "if [ -e {} ]; then\n  echo {}\nelse\n  {}\nfi\n",
                    shell::quote(&format!("{dir}/tpm2-00.permall")),
                    shell::quote(&format!("{}: TPM state {dir} exists, skipped", v.key)),
                    shell::join(&s.argv)
                ));
            }
        }
        if let Some(xml) = xmls.get(i) {
            // A quoted here-document delimiter: the XML is data, nothing in it is expanded.
            let part = part_path(&vm.domain_xml);
            out.push_str(&format!(
                "\n# the domain, naming the copies\ncat > {} <<'PVE2VIRT_DOMAIN_XML_END'\n{xml}PVE2VIRT_DOMAIN_XML_END\n\
                 mv -f {} {}\nvirsh -c \"${{LIBVIRT_DEFAULT_URI:-qemu:///system}}\" define {}\n",
                shell::quote(&part),
                shell::quote(&part),
                shell::quote(&vm.domain_xml),
                shell::quote(&vm.domain_xml)
            ));
        }
    }
    out
}

pub fn plan_of(vms: Vec<VmPlan>) -> Plan {
    Plan { schema: "pve2virt-plan", version: SCHEMA_VERSION, vms }
}
