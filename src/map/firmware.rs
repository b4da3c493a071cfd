//! `bios`, `efidisk0` and `tpmstate0` → `<loader>`, `<nvram>`, `<tpm>` (docs/mapping.md#uefi,
//! #tpm; docs/proxmox-config.md#firmware, #tpm).
//!
//! The EFI variables and the TPM state stay on their Proxmox volumes: `<nvram>` names the efidisk
//! itself and the TPM is an external swtpm on the tpmstate volume, so Secure Boot keys, boot
//! entries and BitLocker secrets survive the move. libvirt 9.0 has no format and no size for a
//! pflash, which is what most of the notes below are about.

use crate::libvirt::{
    Domain, DomainDiskAuth, DomainDiskSecret, DomainDiskSource, DomainDiskSourceNetwork, DomainFeatureState,
    DomainLoader, DomainNvram, DomainTpm, DomainTpmBackend, DomainTpmSource,
};
use crate::map::{Ctx, TpmBackend, UsedVolume, VolumeRole};
use crate::pve::model::drive::StateVolume;
use crate::pve::schema::Key;
use crate::pve::schema::{Arch, Bios, EfiDiskOpts, EfiType, MsCert, TpmStateOpts, TpmVersion};
use crate::pve::storage::{Resolver, Source, Volume};
use crate::report::{code, Note};
use std::path::{Path, PathBuf};

/// OVMF varstore sizes (OVMF.pm): what Proxmox cuts an efidisk down to with raw `size=`.
const VARS_4M: u64 = 540_672;
const VARS_2M: u64 = 131_072;

pub fn map(ctx: &mut Ctx, domain: &mut Domain) {
    efi(ctx, domain);
    tpm(ctx, domain);
    target_tpm(ctx, domain);
}

/// Says where the target's libvirt cannot run the TPM as translated (`<devices><tpm>` enums of its
/// domcapabilities: libvirt before 9.0 has no external backend).
fn target_tpm(ctx: &mut Ctx, domain: &Domain) {
    let (Some(target), Some(tpm)) = (&ctx.opts.target, domain.devices.tpms.first()) else { return };
    if let (Some(v), "external") = (target.libvirt_version, tpm.backend.backend_type()) {
        // libvirt 10.10 gave the emulator backend a `<source>` for its state: libvirt could then run
        // swtpm on the Proxmox state itself. Not written here: the XML must also validate on 9.0.
        if v >= (10, 10, 0) {
            ctx.note_on(
                Key::tpmstate0,
                Note::advice(
                    code::TARGET_TPM_STATE_FILE,
                    format!("the target's libvirt {}.{} can keep a TPM's state in a given file", v.0, v.1),
                )
                .help("instead of the external swtpm, <backend type='emulator'> with a <source> naming the state volume lets libvirt start swtpm on it (libvirt formatdomain, 'TPM device')"),
            );
        }
    }
    let Some(dc) = target.domcaps_for(&domain.os.os_type.arch, ctx.is_q35(), domain.domain_type) else { return };
    let lacks = [("model", tpm.model.as_str()), ("backendModel", tpm.backend.backend_type())]
        .into_iter()
        .chain(tpm.backend.version().map(|v| ("backendVersion", v)))
        .filter(|(name, value)| crate::target::TargetCaps::tpm_allows(dc, name, value) == Some(false))
        .map(|(name, value)| format!("{name} '{value}'"))
        .collect::<Vec<_>>();
    if !lacks.is_empty() {
        let describe = target.describe();
        ctx.note_on(
            Key::tpmstate0,
            Note::warning(code::TARGET_TPM, format!("the target ({describe}) has no TPM {}", lacks.join(", ")))
                .help("the domain will not start there with this TPM; try --tpm-backend emulator"),
        );
    }
}

/// `bios` and `efidisk0` → `<loader>` and `<nvram>`. Proxmox ignores an efidisk0 under SeaBIOS,
/// and boots OVMF without one from a fresh copy of the varstore template.
fn efi(ctx: &mut Ctx, domain: &mut Domain) {
    let vm = ctx.vm;
    let ovmf = vm.bios() == Bios::Ovmf;
    if vm.keys().bios().is_some() {
        ctx.mapped(Key::bios, if ovmf { "os/loader" } else { "os (SeaBIOS, libvirt's default)" });
    }
    let efidisk = vm.keys().efidisk0();
    if !ovmf {
        if efidisk.is_some() {
            ctx.note_on(
                Key::efidisk0,
                Note::advice(code::EFIDISK_UNUSED, "efidisk0 is unused: the VM boots SeaBIOS")
                    .label("ignored by Proxmox too"),
            );
        }
        return;
    }
    if vm.keys().acpi().is_some() && vm.keys().acpi() == Some(false) {
        ctx.note_on(
            Key::bios,
            Note::error(code::UEFI_WITHOUT_ACPI, "libvirt refuses UEFI without ACPI")
                .help("remove `acpi: 0` or use SeaBIOS"),
        );
    }
    let choice = OvmfChoice::of(ctx, efidisk);
    let pflash = pflash(ctx, domain, choice);
    loader(domain, &pflash);
    let template = pflash.vars.display().to_string();
    if choice.two_mib_on_4m {
        fresh_4m_nvram(ctx, domain, efidisk.is_some(), &pflash.code, template);
        return;
    }
    let Some(efidisk) = efidisk else {
        missing_efidisk(ctx, domain, template);
        return;
    };
    let varstore = if choice.efi4m { VARS_4M } else { VARS_2M };
    efidisk_nvram(ctx, domain, efidisk, varstore, template);
}

/// What picks the OVMF build, as Proxmox picks it (OVMF.pm).
#[derive(Debug, Clone, Copy)]
struct OvmfChoice {
    aarch64: bool,
    /// `efitype=4m` (x86 only: AAVMF has one varstore size).
    efi4m: bool,
    /// `pre-enrolled-keys=1`: the varstore template with Microsoft's keys enrolled.
    keys: bool,
    /// Debian 13 and the RHEL family ship no 2 MiB OVMF build any more: there a 2 MiB VM gets the
    /// target's 4 MiB build without Secure Boot (as Proxmox's 2 MiB build), with fresh variables.
    two_mib_on_4m: bool,
}

impl OvmfChoice {
    fn of(ctx: &Ctx, efidisk: Option<EfiDiskOpts>) -> Self {
        let aarch64 = ctx.vm.arch() == Arch::Aarch64;
        let efi4m = !aarch64 && efidisk.is_some_and(|e| e.efitype() == EfiType::Mib4);
        let keys = efidisk.is_some_and(|e| e.pre_enrolled_keys());
        let two_mib_on_4m = !efi4m && !aarch64 && target_lacks_2m_build(ctx);
        OvmfChoice { aarch64, efi4m, keys, two_mib_on_4m }
    }
}

/// The firmware files of an OVMF VM: the pflash code, the varstore template, and whether the
/// build needs SMM.
struct Pflash {
    code: PathBuf,
    vars: PathBuf,
    smm: bool,
}

/// The build Proxmox would boot under --firmware-dir, unless the target names its own.
fn pflash(ctx: &mut Ctx, domain: &Domain, choice: OvmfChoice) -> Pflash {
    let default = default_pflash(ctx, choice);
    let fitted = if choice.two_mib_on_4m {
        target_firmware(ctx, domain, true, false, choice.keys)
    } else {
        target_firmware(ctx, domain, choice.efi4m && !choice.aarch64, ctx.is_q35(), choice.keys)
    };
    match fitted {
        Some(fw) => Pflash { code: fw.code.into(), vars: fw.vars.into(), smm: fw.requires_smm && ctx.is_q35() },
        None => default,
    }
}

/// Proxmox's own file names (OVMF.pm) in --firmware-dir.
fn default_pflash(ctx: &Ctx, choice: OvmfChoice) -> Pflash {
    let dir = &ctx.opts.firmware_dir;
    let keys = choice.keys;
    if choice.aarch64 {
        // Debian's qemu-efi-aarch64 ships the enrolled variant as `.ms.fd`.
        let d = if dir.ends_with("OVMF") { dir.with_file_name("AAVMF") } else { dir.clone() };
        let (c, v) = if keys { ("AAVMF_CODE.ms.fd", "AAVMF_VARS.ms.fd") } else { ("AAVMF_CODE.fd", "AAVMF_VARS.fd") };
        Pflash { code: d.join(c), vars: d.join(v), smm: false }
    } else if choice.efi4m {
        // OVMF.pm: the SMM (secure boot capable) build on q35 only.
        let q35 = ctx.is_q35();
        let c = if q35 { "OVMF_CODE_4M.secboot.fd" } else { "OVMF_CODE_4M.fd" };
        let v = if keys { "OVMF_VARS_4M.ms.fd" } else { "OVMF_VARS_4M.fd" };
        Pflash { code: dir.join(c), vars: dir.join(v), smm: q35 }
    } else {
        Pflash { code: dir.join("OVMF_CODE.fd"), vars: dir.join("OVMF_VARS.fd"), smm: false }
    }
}

/// The SMM build needs SMM on; Proxmox does not mark the flash secure (no
/// `cfi.pflash01.secure=on`), so neither does this (libvirt's secure='yes' would).
fn loader(domain: &mut Domain, pflash: &Pflash) {
    domain.os.loader = Some(DomainLoader {
        readonly: "yes".into(),
        secure: None,
        loader_type: "pflash".into(),
        path: pflash.code.display().to_string(),
    });
    if pflash.smm {
        // OVMF's secboot build refuses to run without SMM.
        domain.features.smm = Some(DomainFeatureState::ON);
    }
}

/// A 2 MiB varstore cannot back the 4 MiB build (QEMU refuses a flash of the wrong size, and
/// the layouts differ): libvirt makes the domain's own varstore from the 4 MiB template.
fn fresh_4m_nvram(ctx: &mut Ctx, domain: &mut Domain, has_efidisk: bool, code_file: &Path, template: String) {
    let key = if has_efidisk { Key::efidisk0 } else { Key::bios };
    let note = Note::warning(
        code::EFIDISK_2M_ON_4M,
        format!(
            "the target has no 2 MiB OVMF build: the VM gets its 4 MiB build {} with fresh variables from {template}",
            code_file.display()
        ),
    )
    .help(
        "the 2 MiB efidisk's variables (boot entries, Secure Boot keys) cannot back the 4 MiB build; OVMF \
         boots the disk's \\EFI\\BOOT\\BOOTX64.EFI and re-creates its boot entries. Convert without --target \
         to keep Proxmox's 2 MiB build where the target still has it",
    );
    domain.os.nvram = Some(DomainNvram { template: Some(template), source: None, path: None });
    ctx.mapped(&key, "os/nvram (fresh, from the target's 4 MiB template)");
    ctx.note_on(key, note);
}

/// Without an efidisk0 Proxmox throws the variables away at every start; libvirt keeps its copy.
fn missing_efidisk(ctx: &mut Ctx, domain: &mut Domain, template: String) {
    let note =
        Note::advice(code::EFIDISK_MISSING, "no efidisk0: libvirt keeps the EFI variables, starting from the template")
            .help(format!(
                "Proxmox starts such VMs from a fresh copy of {template} every time; \
                 `virsh start --reset-nvram` does the same"
            ));
    domain.os.nvram = Some(DomainNvram { template: Some(template), source: None, path: None });
    ctx.note_on(Key::bios, note);
}

/// `<nvram>` on the efidisk itself (or on the copy `pve2virt migrate` made of it), so boot
/// entries and Secure Boot keys survive the move.
fn efidisk_nvram(ctx: &mut Ctx, domain: &mut Domain, efidisk: EfiDiskOpts, varstore: u64, template: String) {
    let span = efidisk.volume().file_span;
    let Some(volume) = resolve(ctx, Key::efidisk0, efidisk.volume(), VolumeRole::Efidisk, Some(varstore), None) else {
        return;
    };
    let opts = ctx.opts;
    if let Some(copy) = opts.relocate.get(Key::efidisk0.as_str()) {
        // `pve2virt migrate` cut the efidisk to the varstore: a raw file OVMF reads as it is.
        domain.os.nvram = Some(DomainNvram { template: Some(template), source: None, path: Some(copy.path.clone()) });
        ctx.mapped(Key::efidisk0, "os/nvram");
        ctx.note_on(
            Key::efidisk0,
            Note::advice(
                code::EFIDISK_CARRIED,
                format!("the EFI variables were copied into a {varstore}-byte varstore file"),
            )
            .at(span)
            .help(UNDEFINE_HELP),
        );
        return;
    }
    for n in &volume.notes {
        ctx.note_on(Key::efidisk0, n.clone().at(span));
    }
    let Some(nvram) = nvram_on(ctx, &volume, efidisk.volume(), template) else { return };
    domain.os.nvram = Some(nvram);
    ctx.mapped(Key::efidisk0, "os/nvram");
    efidisk_format(ctx, efidisk, &volume, varstore);
    if let Some(cert) = efidisk.ms_cert().map(MsCert::as_str) {
        ctx.note_on(
            Key::efidisk0,
            Note::advice(
                code::EFIDISK_MS_CERT,
                format!("ms-cert={cert} only records which Microsoft keys the variables hold"),
            )
            .at(efidisk.span_of(EfiDiskOpts::SUB.ms_cert))
            .label("informational"),
        );
    }
}

/// libvirt's `--nvram` deletes the varstore the domain names: here the Proxmox efidisk itself.
const UNDEFINE_HELP: &str = "undefine this domain with `virsh undefine --keep-nvram`: --nvram deletes the file";

/// The `<nvram>` of a resolved efidisk: a file keeps the template beside it (libvirt wants one
/// for a file), a block device or RBD image is named by `<source>`.
fn nvram_on(ctx: &mut Ctx, volume: &Volume, state: StateVolume, template: String) -> Option<DomainNvram> {
    let nvram = match &volume.source {
        Source::File(f) => DomainNvram { template: Some(template), source: None, path: Some(f.clone()) },
        Source::Block(b) => {
            DomainNvram { template: None, source: Some(DomainDiskSource::Block { dev: Some(b.clone()) }), path: None }
        }
        Source::Network(n) => DomainNvram {
            template: None,
            source: Some(DomainDiskSource::Network(DomainDiskSourceNetwork {
                // libvirt wants an nvram's auth inside <source>, a disk's beside it.
                auth: n.auth.as_ref().map(|(user, usage)| DomainDiskAuth {
                    username: user.clone(),
                    secret: DomainDiskSecret { secret_type: "ceph".into(), usage: usage.clone() },
                }),
                ..super::disk::network_source(n)
            })),
            path: None,
        },
        Source::Empty => {
            ctx.note_on(
                Key::efidisk0,
                Note::error(code::DISK_INVALID, format!("'{}' cannot hold EFI variables", state.file))
                    .at(state.file_span)
                    .help("efidisk0 must be a volume or a file"),
            );
            return None;
        }
    };
    Some(nvram)
}

/// libvirt 9.0 has no format and no size for a pflash: OVMF reads the efidisk as a raw image
/// of exactly the varstore's size, or reads the variables at the wrong place.
fn efidisk_format(ctx: &mut Ctx, efidisk: EfiDiskOpts, volume: &Volume, varstore: u64) {
    let span = efidisk.volume().file_span;
    if volume.format != "raw" {
        ctx.note_on(
            Key::efidisk0,
            Note::warning(
                code::EFIDISK_NOT_RAW,
                format!("the efidisk is {}, but libvirt 9.0 reads EFI variables as raw only", volume.format),
            )
            .at(span)
            .label(format!("{} efidisk", volume.format))
            .help(format!(
                "convert it before starting: qemu-img convert -O raw <efidisk> <efidisk>.raw, then point <nvram> at it \
                 (and {UNDEFINE_HELP})"
            )),
        );
    }
    let oversized = match &volume.source {
        Source::File(_) => efidisk.size().is_some_and(|s| s > varstore),
        // LVM, ZFS, RBD and iSCSI volumes are allocated in whole MiB (Proxmox: 4 MiB).
        Source::Block(_) | Source::Network(_) | Source::Empty => efidisk.size() != Some(varstore),
    };
    if oversized {
        ctx.note_on(
            Key::efidisk0,
            Note::warning(
                code::EFIDISK_OVERSIZED,
                format!("the efidisk is larger than the {varstore}-byte varstore; libvirt 9.0 cannot cut it down"),
            )
            .at(span)
            .help(format!(
                "OVMF would read the variables at the wrong address: copy the first {varstore} bytes into a raw file \
                 (dd if=<efidisk> of=<vars>.fd bs={varstore} count=1) and point <nvram> at it; {UNDEFINE_HELP}"
            )),
        );
    }
    if volume.format == "raw" && !oversized {
        ctx.note_on(
            Key::efidisk0,
            Note::advice(code::EFIDISK_NVRAM, "the EFI variables stay on the Proxmox efidisk")
                .at(span)
                .help(UNDEFINE_HELP),
        );
    }
}

/// The target's own OVMF build for a 4 MiB efidisk: the Secure Boot (SMM) build on q35 as
/// Proxmox uses it (OVMF.pm), the Microsoft-enrolled varstore template with pre-enrolled-keys.
/// `None` (the default paths stay) without a target, with --firmware-dir, for Proxmox's 2 MiB
/// build (targets list only 4 MiB builds) or when the target lists no fitting build (noted).
fn target_firmware(
    ctx: &mut Ctx,
    domain: &Domain,
    efi4m: bool,
    secure_boot: bool,
    keys: bool,
) -> Option<crate::target::Firmware> {
    let target = ctx.opts.target.as_ref().filter(|t| t.use_firmware)?;
    if !efi4m {
        return None;
    }
    let q35 = ctx.is_q35();
    let arch = domain.os.os_type.arch.clone();
    let found = target.firmware_for(&arch, q35, domain.domain_type, secure_boot, keys);
    let build = if secure_boot { "OVMF build with Secure Boot (SMM)" } else { "OVMF build without Secure Boot" };
    match found {
        Some(fw) => {
            ctx.note_on(
                Key::bios,
                Note::advice(
                    code::TARGET_FIRMWARE,
                    format!(
                        "the target's own {build}: {} with varstore template {} (from its {})",
                        fw.code, fw.vars, fw.from
                    ),
                ),
            );
            Some(fw)
        }
        None => {
            let describe = target.describe();
            ctx.note_on(
                Key::bios,
                Note::warning(
                    code::TARGET_FIRMWARE_MISSING,
                    format!("the target ({describe}) lists no {build}; the default OVMF paths are kept"),
                )
                .help("give the target's domcapabilities for this machine and domain type, or pass --firmware-dir"),
            );
            None
        }
    }
}

/// Whether a target is given whose firmware has no 2 MiB OVMF build. Targets list only 4 MiB
/// builds (domcapabilities, firmware descriptors), so the file itself decides, where it can be
/// seen: on this host's own libvirt. Saved capabilities or another host's: assumed absent, as on
/// every current distribution.
fn target_lacks_2m_build(ctx: &Ctx) -> bool {
    let Some(target) = ctx.opts.target.as_ref().filter(|t| t.use_firmware) else { return false };
    if target.source == "qemu:///system" {
        return !ctx.opts.firmware_dir.join("OVMF_CODE.fd").exists();
    }
    true
}

/// A TPM whose swtpm libvirt starts and manages itself (`<backend type='emulator'>`).
fn emulator_tpm(ctx: &mut Ctx, domain: &mut Domain, version: &'static str) {
    domain.devices.tpms.push(DomainTpm {
        model: "tpm-tis".into(),
        backend: DomainTpmBackend::Emulator { version: Some(version.into()), source: None },
    });
    ctx.mapped(Key::tpmstate0, "devices/tpm");
}

/// `tpmstate0` → `<tpm>`: the state `migrate` carried, a fresh emulator, or an external swtpm on
/// the Proxmox state volume (--tpm-backend).
fn tpm(ctx: &mut Ctx, domain: &mut Domain) {
    let Some(state) = ctx.vm.keys().tpmstate0() else {
        return;
    };
    let version = if state.version() == TpmVersion::V2_0 { "2.0" } else { "1.2" };
    if ctx.opts.relocate.contains_key(Key::tpmstate0.as_str()) {
        carried_tpm(ctx, domain, state, version);
        return;
    }
    match ctx.opts.tpm_backend {
        TpmBackend::Emulator => fresh_tpm(ctx, domain, state, version),
        TpmBackend::External => external_tpm(ctx, domain, state, version),
    }
}

/// `pve2virt migrate` converted Proxmox's linear swtpm state into the directory libvirt's
/// own swtpm uses (libvirt `src/qemu/qemu_tpm.c`: <swtpm_storage>/<uuid>/tpm2), so the
/// emulator libvirt starts finds it and does not run swtpm_setup.
fn carried_tpm(ctx: &mut Ctx, domain: &mut Domain, state: TpmStateOpts, version: &'static str) {
    resolve(ctx, Key::tpmstate0, state.volume(), VolumeRole::Tpmstate, None, Some(version));
    emulator_tpm(ctx, domain, version);
    ctx.note_on(
        Key::tpmstate0,
        Note::advice(code::TPM_STATE_CARRIED, "the TPM state was carried into libvirt's swtpm state directory")
            .at(state.volume().file_span)
            .help("undefine with `virsh undefine --keep-tpm` to keep it (plain undefine deletes it)"),
    );
}

/// `--tpm-backend emulator`: the volume is recorded for `pve2virt plan`/`migrate` (which carry
/// the state whatever this option says); the domain itself starts fresh, so a resolution error
/// is no error here.
fn fresh_tpm(ctx: &mut Ctx, domain: &mut Domain, state: TpmStateOpts, version: &'static str) {
    let file = state.volume().file;
    let resolver = Resolver { storage: &ctx.opts.storage, storage_map: &ctx.opts.storage_map };
    let volume = resolver.resolve(file, state.volume().format, false);
    ctx.volumes.push(UsedVolume {
        key: Key::tpmstate0.into(),
        role: VolumeRole::Tpmstate,
        file: file.to_owned(),
        size: state.size(),
        volume,
        varstore: None,
        tpm_version: Some(version),
    });
    emulator_tpm(ctx, domain, version);
    ctx.note_on(
        Key::tpmstate0,
        Note::warning(code::TPM_STATE_FRESH, "the TPM starts empty: the Proxmox TPM state is not used")
            .at(state.volume().file_span)
            .label("state left behind")
            .help(
                "BitLocker keys, measured-boot secrets and enrolled TPM keys are lost; keep the state with \
                 --tpm-backend external",
            ),
    );
}

/// `--tpm-backend external`: the TPM state stays on its Proxmox volume, served by an swtpm the
/// user starts as Proxmox does (libvirt 9.0's emulator cannot be given a state file).
fn external_tpm(ctx: &mut Ctx, domain: &mut Domain, state: TpmStateOpts, version: &'static str) {
    let Some(path) = swtpm_state_path(ctx, state, version) else { return };
    let socket = format!("/run/pve2virt/{}.swtpm", ctx.vm.vmid);
    domain.devices.tpms.push(DomainTpm {
        model: "tpm-tis".into(),
        backend: DomainTpmBackend::External {
            source: Some(DomainTpmSource {
                source_type: Some("unix".into()),
                mode: Some("connect".into()),
                path: Some(socket.clone()),
            }),
        },
    });
    ctx.mapped(Key::tpmstate0, "devices/tpm");
    let tpm2 = if state.version() == TpmVersion::V2_0 { " --tpm2" } else { "" };
    ctx.note_on(
        Key::tpmstate0,
        Note::warning(
            code::TPM_EXTERNAL_SWTPM,
            format!("the TPM {version} is an swtpm that must be running before every start"),
        )
        .at(state.volume().file_span)
        .label("state kept on this volume")
        .help(format!(
            "start it as Proxmox does (a hook or systemd unit; it exits when the VM stops): \
             mkdir -p /run/pve2virt && swtpm socket --tpmstate backend-uri=file://{path},mode=0600 \
             --ctrl type=unixio,path={socket},mode=0600 --terminate --daemon{tpm2}"
        )),
    );
}

/// The local file or device swtpm reads the state from, raw. `None` (noted) when the volume
/// cannot be resolved or holds no state.
fn swtpm_state_path(ctx: &mut Ctx, state: TpmStateOpts, version: &'static str) -> Option<String> {
    let file = state.volume().file;
    let span = state.volume().file_span;
    let volume = resolve(ctx, Key::tpmstate0, state.volume(), VolumeRole::Tpmstate, None, Some(version))?;
    let path = match &volume.source {
        Source::File(p) | Source::Block(p) => p.clone(),
        Source::Network(n) => {
            // swtpm needs a local file: Proxmox maps rbd state volumes with krbd first.
            ctx.note_on(
                Key::tpmstate0,
                Note::warning(code::TPM_STATE_NOT_LOCAL, "swtpm needs the TPM state as a local file or device")
                    .at(span)
                    .help(format!("map {} on the target (rbd map) and use that device", n.name)),
            );
            format!("/dev/rbd/{}", n.name)
        }
        Source::Empty => {
            ctx.note_on(
                Key::tpmstate0,
                Note::error(code::DISK_INVALID, format!("'{file}' cannot hold TPM state")).at(span),
            );
            return None;
        }
    };
    if volume.format != "raw" {
        ctx.note_on(
            Key::tpmstate0,
            Note::warning(
                code::TPM_STATE_NOT_LOCAL,
                format!("swtpm reads its state as a raw file, not {}", volume.format),
            )
            .at(span)
            .help("convert it with qemu-img convert -O raw first"),
        );
    }
    Some(path)
}

/// Resolves the `file` of an efidisk0 or tpmstate0; a volume that cannot be resolved is reported
/// on `key` and gives `None`.
fn resolve(
    ctx: &mut Ctx,
    key: Key,
    volume: StateVolume,
    role: VolumeRole,
    varstore: Option<u64>,
    tpm_version: Option<&'static str>,
) -> Option<Volume> {
    let file = volume.file;
    let resolver = Resolver { storage: &ctx.opts.storage, storage_map: &ctx.opts.storage_map };
    let resolved = resolver.resolve(file, volume.format, false);
    ctx.volumes.push(UsedVolume {
        key: key.to_string(),
        role,
        file: file.to_owned(),
        size: volume.size,
        volume: resolved.clone(),
        varstore,
        tpm_version,
    });
    match resolved {
        Ok(volume) => Some(volume),
        Err(n) => {
            ctx.note_on(key, n.at(volume.file_span).label("cannot resolve"));
            None
        }
    }
}
