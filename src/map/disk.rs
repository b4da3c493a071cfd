//! Drives (`ideN`, `sataN`, `scsiN`, `virtioN`) and their controllers → `<disk>` and
//! `<controller>` (docs/mapping.md#disks, docs/proxmox-config.md#disks).
//!
//! Proxmox's drive defaults differ from libvirt's, so every one is written out: cache `none`
//! (direct I/O) except CD-ROMs and btrfs, aio `io_uring` except LVM/CIFS/krbd, `detect_zeroes`
//! on, discard `ignore`. Each disk gets an explicit `<address type='drive'>` so it lands on the
//! controller, target and unit Proxmox puts it on; the controllers get Proxmox's PCI slots.

use crate::libvirt::{DomainAlias, DomainQemuProperty};
use std::collections::BTreeMap;

use crate::libvirt::{
    Domain, DomainAddress, DomainController, DomainControllerDriver, DomainDisk, DomainDiskAuth, DomainDiskDriver,
    DomainDiskIotune, DomainDiskSecret, DomainDiskSource, DomainDiskSourceConfig, DomainDiskSourceHost,
    DomainDiskSourceNetwork, DomainDiskTarget, Empty,
};
use crate::map::boot::is_cloudinit;
use crate::map::pci::PciDevice;
use crate::map::{Ctx, UsedVolume, VolumeRole};
use crate::pve::model::drive::{url_decode, Bus, Drive, Limit};
use crate::pve::schema::{Aio, Cache, Discard, IdeOpts, ScsiHw, ScsiOpts, UnusedOpts, Werror};
use crate::pve::storage::{Resolver, Source, StorageType, Volume};
use crate::report::{code, Note};

/// `scsihw` (QemuServer.pm `scsihw_infos`, docs/proxmox-config.md#disks): what libvirt makes of it.
impl ScsiHw {
    /// libvirt's model. lsi53c810 has none: the closest (lsi53c895a) stands in.
    fn model(self) -> &'static str {
        match self {
            ScsiHw::Lsi | ScsiHw::Lsi53c810 => "lsilogic",
            ScsiHw::VirtioScsi | ScsiHw::VirtioScsiSingle => "virtio-scsi",
            ScsiHw::Megasas => "lsisas1078",
            ScsiHw::Pvscsi => "vmpvscsi",
        }
    }
    /// Disks per controller.
    fn per_controller(self) -> u32 {
        match self {
            ScsiHw::Lsi | ScsiHw::Lsi53c810 => 7,
            ScsiHw::VirtioScsiSingle => 1,
            ScsiHw::VirtioScsi | ScsiHw::Megasas | ScsiHw::Pvscsi => 256,
        }
    }
    fn is_virtio(self) -> bool {
        matches!(self, ScsiHw::VirtioScsi | ScsiHw::VirtioScsiSingle)
    }
}

/// `sd` names are shared by SCSI, SATA and q35 IDE disks: handed out in order.
fn disk_letters(mut n: u32) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'a' + (n % 26) as u8);
        if n < 26 {
            break;
        }
        n = n / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

struct Layout {
    scsihw: ScsiHw,
    /// Proxmox SCSI controller number → libvirt index (contiguous: libvirt invents controllers
    /// for gaps, docs/mapping.md#controllers-and-addresses).
    scsi_index: BTreeMap<u32, u32>,
    next_sd: u32,
    next_iothread: u32,
}

pub fn map(ctx: &mut Ctx, domain: &mut Domain) {
    let vm = ctx.vm;
    let opts = ctx.opts;
    for note in &opts.storage.notes {
        // storage.cfg notes point into storage.cfg, not into the VM config.
        let mut note = note.clone();
        note.span = None;
        note.label = None;
        ctx.note(note);
    }
    let resolver = Resolver { storage: &opts.storage, storage_map: &opts.storage_map };

    let drives = vm.drives();

    let scsihw = vm.scsihw();
    let mut layout = Layout { scsihw, scsi_index: BTreeMap::new(), next_sd: 0, next_iothread: 0 };
    let scsi: Vec<&Drive> = drives.iter().filter(|d| d.bus == Bus::Scsi).collect();
    for d in &scsi {
        let n = layout.scsi_index.len() as u32;
        layout.scsi_index.entry(d.index / scsihw.per_controller()).or_insert(n);
    }
    scsi_controllers(ctx, domain, &mut layout, &scsi);
    if vm.keys().scsihw().is_some() {
        if scsi.is_empty() {
            ctx.mapped("scsihw", "(no SCSI disks)");
        } else {
            ctx.mapped("scsihw", "devices/controller@model");
        }
    }
    if drives.iter().any(|d| d.bus == Bus::Sata) {
        // Proxmox adds its own AHCI `ahci0`; on q35 that is a second one next to the ICH9 built-in.
        let index = u32::from(ctx.is_q35());
        let address = ctx.pci_address(PciDevice::Ahci(0));
        domain.devices.controllers.push(DomainController {
            controller_type: "sata".into(),
            index,
            address,
            ..Default::default()
        });
    }

    let mut device_ids = Vec::new();
    for drive in &drives {
        if let Some(disk) = disk(ctx, &resolver, &mut layout, drive) {
            if let Some(alias) = &disk.alias {
                device_ids.push(drive.key.clone());
                domain.qemu_override(
                    alias.name.clone(),
                    vec![DomainQemuProperty {
                        name: "device_id".into(),
                        property_type: "string".into(),
                        value: format!("drive-{}", drive.key),
                    }],
                );
            }
            domain.devices.disks.push(disk);
            ctx.mapped(&drive.key, "devices/disk");
        }
    }
    if let Some(first) = device_ids.first() {
        ctx.note_on(
            first,
            Note::advice(
                code::DISK_SCSI_DEVICE_ID,
                format!("SCSI device ids drive-scsiN kept through <qemu:override> ({})", device_ids.join(", ")),
            )
            .help(
                "libvirt names SCSI device ids itself (drive-scsi0-0-0-N); the guest's \
                 /dev/disk/by-id/scsi-0QEMU_QEMU_HARDDISK_drive-scsiN links need Proxmox's",
            ),
        );
    }
    if layout.next_iothread > 0 {
        domain.iothreads = Some(domain.iothreads.unwrap_or(0).max(layout.next_iothread));
    }

    let opts = ctx.opts;
    let resolver = Resolver { storage: &opts.storage, storage_map: &opts.storage_map };
    for (_, entry) in vm.keys().unused() {
        let key = entry.key.value.clone();
        let file = UnusedOpts::of(entry).and_then(|u| u.file()).unwrap_or_default().to_owned();
        ctx.volumes.push(UsedVolume {
            key: key.clone(),
            role: VolumeRole::Unused,
            file: file.clone(),
            size: None,
            volume: resolver.resolve(&file, None, false),
            varstore: None,
            tpm_version: None,
        });
        ctx.note_on(
            &key,
            Note::advice(code::UNUSED_VOLUME, format!("unused volume '{file}' is not attached"))
                .label("not attached")
                .help("Proxmox keeps detached volumes as unusedN; copy it too if you still need it"),
        );
    }
    if vm.keys().vmstate().is_some() {
        ctx.note_on(
            "vmstate",
            Note::warning(code::VMSTATE_DROPPED, "the saved RAM state (hibernation or snapshot) is not carried over")
                .label("not restored")
                .help("the guest cold-boots; resume or shut it down on Proxmox first to keep its running state"),
        );
    }
    if vm.keys().vmstatestorage().is_some() {
        ctx.note_on(
            "vmstatestorage",
            Note::advice(code::VMSTATE_STORAGE, "where Proxmox saves RAM state has no libvirt equivalent")
                .label("Proxmox only"),
        );
    }
}

fn scsi_controllers(ctx: &mut Ctx, domain: &mut Domain, layout: &mut Layout, scsi: &[&Drive]) {
    let hw = layout.scsihw;
    if hw == ScsiHw::Lsi53c810 && !scsi.is_empty() {
        ctx.note_on(
            "scsihw",
            Note::warning(
                code::SCSIHW_SUBSTITUTED,
                "libvirt has no lsi53c810 model: an LSI 53C895A (lsilogic) is used",
            )
            .label("becomes lsilogic")
            .help("the guest sees a different SCSI controller; it needs a driver for the 53C895A"),
        );
    }
    let mut done: Vec<u32> = Vec::new();
    for d in scsi {
        let n = d.index / hw.per_controller();
        if done.contains(&n) {
            continue;
        }
        done.push(n);
        let index = layout.scsi_index[&n];
        let mut driver = DomainControllerDriver::default();
        if hw.is_virtio() {
            // Proxmox passes the first disk's `queues` to the controller it creates.
            driver.queues = d.opts().scsi().and_then(|o| o.queues()).filter(|q| *q > 1).map(|q| q as u32);
        }
        if hw == ScsiHw::VirtioScsiSingle && d.iothread() {
            layout.next_iothread += 1;
            driver.iothread = Some(layout.next_iothread);
        }
        let address = ctx.pci_address(if hw == ScsiHw::VirtioScsiSingle {
            PciDevice::VirtioScsi(n)
        } else {
            PciDevice::ScsiHw(n)
        });
        domain.devices.controllers.push(DomainController {
            controller_type: "scsi".into(),
            index,
            model: Some(hw.model().into()),
            driver: (driver != DomainControllerDriver::default()).then_some(driver),
            address,
            ..Default::default()
        });
    }
}

/// The guest-visible position: target dev, bus, drive address.
fn placement(ctx: &Ctx, layout: &mut Layout, d: &Drive) -> (String, &'static str, Option<DomainAddress>) {
    let mut sd = || {
        let name = format!("sd{}", disk_letters(layout.next_sd));
        layout.next_sd += 1;
        name
    };
    match d.bus {
        Bus::Virtio => (format!("vd{}", disk_letters(d.index)), "virtio", None),
        Bus::Ide if ctx.is_q35() => {
            // q35 has no IDE: Proxmox puts ide0–3 on the ICH9 AHCI ports 0, 2, 1, 3.
            let unit = [0, 2, 1, 3][d.index as usize % 4];
            (sd(), "sata", Some(DomainAddress::drive(0, 0, 0, unit)))
        }
        Bus::Ide => {
            (format!("hd{}", disk_letters(d.index)), "ide", Some(DomainAddress::drive(0, d.index / 2, 0, d.index % 2)))
        }
        Bus::Sata => (sd(), "sata", Some(DomainAddress::drive(u32::from(ctx.is_q35()), 0, 0, d.index))),
        Bus::Scsi => {
            let hw = layout.scsihw;
            let controller = layout.scsi_index.get(&(d.index / hw.per_controller())).copied().unwrap_or(0);
            let (target, unit) = match hw {
                ScsiHw::Lsi | ScsiHw::Lsi53c810 => (0, d.index % 7),
                ScsiHw::Pvscsi => (d.index, 0),
                _ => (0, d.index),
            };
            (sd(), "scsi", Some(DomainAddress::drive(controller, 0, target, unit)))
        }
    }
}

fn disk(ctx: &mut Ctx, resolver: &Resolver, layout: &mut Layout, d: &Drive) -> Option<DomainDisk> {
    let key = d.key.as_str();
    let cloudinit = is_cloudinit(d.file);
    let cdrom = d.cdrom || cloudinit || d.file == "cdrom";
    if cdrom && d.bus == Bus::Virtio {
        ctx.note_on(
            key,
            Note::error(code::DISK_INVALID, "a VirtIO drive cannot be a CD-ROM")
                .at(d.props.span_of(ScsiOpts::SUB.media))
                .help("Proxmox refuses this too; put the CD-ROM on ide, sata or scsi"),
        );
        return None;
    }
    let relocated = ctx.opts.relocate.get(key).cloned();
    let role = if cloudinit {
        VolumeRole::Cloudinit
    } else if cdrom {
        VolumeRole::Cdrom
    } else {
        VolumeRole::Disk
    };
    if cloudinit || d.file != "none" {
        let resolved = resolver.resolve(d.file, d.format(), cdrom);
        ctx.volumes.push(UsedVolume {
            key: key.to_owned(),
            role,
            file: d.file.to_owned(),
            size: d.opts().size(),
            volume: resolved,
            varstore: None,
            tpm_version: None,
        });
    }
    // Proxmox writes the seed (NoCloud or ConfigDrive, from the ci* keys) into this volume at
    // every start (QemuServer/Cloudinit.pm `generate_cloudinitconfig`): the volume holds the last
    // one, with the instance id the guest knows, so it is attached as it is.
    let mut rebuilt = None;
    if let Some(dir) = ctx.opts.regenerate_cloudinit.as_ref().filter(|_| cloudinit && relocated.is_none()) {
        match crate::map::cloudinit::seed(ctx, dir) {
            Ok(seed) => rebuilt = Some(seed),
            Err(why) => ctx.note_on(
                key,
                Note::warning(
                    code::CLOUDINIT_NOT_REGENERATED,
                    format!("the cloud-init seed was not rebuilt: {why}; Proxmox's own seed volume is attached"),
                )
                .at(d.file_span),
            ),
        }
    }
    let seed = if cloudinit && rebuilt.is_none() && relocated.is_none() {
        resolver.resolve(d.file, d.format(), false).ok()
    } else {
        None
    };
    let volume = if let Some(r) = relocated.filter(|_| d.file != "none" && d.file != "cdrom") {
        // `pve2virt migrate` copied this volume: the domain names the copy. The Proxmox storage
        // type still picks Proxmox's cache and aio defaults, as with --map-storage.
        let storage = resolver.resolve(d.file, d.format(), cdrom).ok().and_then(|v| v.storage);
        if cloudinit {
            ctx.note_on(
                key,
                Note::advice(code::CLOUDINIT_SEED_CARRIED, "the cloud-init drive attaches the copied Proxmox seed")
                    .at(d.file_span)
                    .label("instance id and per-instance state kept"),
            );
            ctx.cloudinit_seed = Some(key.to_owned());
        }
        Volume {
            source: Source::File(r.path),
            format: r.format,
            storage,
            krbd: false,
            vtype: if cdrom { "iso" } else { "images" },
            notes: Vec::new(),
        }
    } else if let Some(new) = rebuilt {
        let mut msg = format!(
            "the cloud-init seed is rebuilt from the ci* keys as Proxmox does ({}, volume label {}), with Proxmox's instance id",
            new.iso.display(),
            new.label
        );
        if new.dns_from_host {
            msg.push_str("; without nameserver/searchdomain Proxmox takes DNS from its host's resolv.conf, which is not known here, so the network config and the instance id differ if that host had any");
        }
        ctx.note_on(key, Note::advice(code::CLOUDINIT_REGENERATED, msg).at(d.file_span).label("cloud-init seed"));
        let source = Source::File(new.iso.display().to_string());
        ctx.cloudinit_seed = Some(key.to_owned());
        ctx.seed = Some(new);
        Volume { source, format: "raw".into(), storage: None, krbd: false, vtype: "iso", notes: Vec::new() }
    } else if let Some(seed) = seed {
        ctx.note_on(
            key,
            Note::advice(
                code::CLOUDINIT_SEED_ATTACHED,
                "the cloud-init drive attaches Proxmox's own seed volume, as Proxmox last generated it",
            )
            .at(d.file_span)
            .label("cloud-init seed")
            .help("Proxmox rewrites it from the ci* keys at every start; after changing them here, rebuild the seed (cloud-localds, or genisoimage -V cidata) and insert it with virsh change-media"),
        );
        ctx.cloudinit_seed = Some(key.to_owned());
        seed
    } else if cloudinit {
        ctx.note_on(
            key,
            Note::warning(code::DISK_CLOUDINIT, "the cloud-init drive becomes an empty CD-ROM")
                .at(d.file_span)
                .label("Proxmox generates this ISO at every start")
                .help(
                    "build the NoCloud/ConfigDrive ISO outside libvirt (cloud-localds or genisoimage -V cidata) \
                     and insert it with virsh change-media",
                ),
        );
        Volume {
            source: Source::Empty,
            format: "raw".into(),
            storage: None,
            krbd: false,
            vtype: "iso",
            notes: Vec::new(),
        }
    } else {
        match resolver.resolve(d.file, d.format(), cdrom) {
            Ok(v) => v,
            Err(n) => {
                ctx.note_on(key, n.at(d.file_span).label("cannot resolve"));
                return None;
            }
        }
    };
    for n in &volume.notes {
        ctx.note_on(key, n.clone().at(d.file_span));
    }
    if !cdrom && volume.source == Source::Empty {
        ctx.note_on(
            key,
            Note::warning(code::DISK_NO_MEDIUM, "a disk with file 'none' has no medium: left out")
                .at(d.file_span)
                .help("add media=cdrom for an empty CD-ROM drive"),
        );
        return None;
    }
    // Only a missing `media` is refused: an ISO with an explicit media=disk is attached as a disk.
    if !cdrom && volume.vtype == "iso" && d.opts().media().is_none() {
        ctx.note_on(
            key,
            Note::error(code::DISK_INVALID, "explicit media parameter is required for iso images")
                .at(d.file_span)
                .label("no media=")
                .help(format!(
                    "Proxmox refuses to start this VM too: add media=cdrom to attach the image as a CD/DVD \
                     (`{key}: {},media=cdrom,…`), or media=disk to attach it as a disk, as OpenCore and \
                     macOS recovery images are",
                    d.file
                )),
        );
        return None;
    }

    let (dev, bus, address) = placement(ctx, layout, d);
    let empty = volume.source == Source::Empty;

    // Cache: Proxmox uses direct I/O except for CD-ROMs and btrfs (no O_DIRECT on CoW files).
    let cache = d.opts().cache().map(cache_name).unwrap_or(if cdrom || volume.storage == Some(StorageType::Btrfs) {
        "writeback"
    } else {
        "none"
    });
    let direct = matches!(cache, "none" | "directsync");
    // Proxmox sets aio only for its file and host-device drivers: a volume that Proxmox reads
    // through librbd or libiscsi keeps QEMU's default even when mapped to a file here.
    let proxmox_network = match volume.storage {
        Some(StorageType::Rbd) => !volume.krbd,
        Some(StorageType::Zfs | StorageType::IscsiDirect) => true,
        _ => false,
    };
    let local = matches!(volume.source, Source::File(_) | Source::Block(_)) && !proxmox_network;
    let io = if !local {
        None
    } else {
        let default = match volume.storage {
            Some(StorageType::Lvm | StorageType::Cifs) => Some(if direct { "native" } else { "threads" }),
            _ if volume.krbd && !direct => Some("threads"),
            _ => Some("io_uring"),
        };
        match d.opts().aio() {
            Some(Aio::Native) if !direct => {
                ctx.note_on(
                    key,
                    Note::warning(
                        code::DISK_OPTION_DROPPED,
                        format!("aio=native needs direct I/O, but cache is {cache}: threads used"),
                    )
                    .at(d.props.span_of(ScsiOpts::SUB.aio))
                    .help("QEMU refuses native AIO without O_DIRECT; set cache=none to keep native"),
                );
                Some("threads")
            }
            Some(a) => Some(aio_name(a)),
            None => default,
        }
    };
    let discard_on = d.opts().discard() == Some(Discard::On);
    let detect_zeroes = match (d.opts().detect_zeroes(), discard_on) {
        (Some(false), _) => "off",
        (_, true) => "unmap",
        _ => "on",
    };
    let mut driver =
        DomainDiskDriver { name: Some("qemu".into()), format: Some(volume.format.clone()), ..Default::default() };
    if !empty {
        driver.cache = Some(cache.into());
        driver.io = io.map(Into::into);
        // Proxmox sets neither on read-only CD-ROM nodes.
        if !cdrom {
            driver.discard = Some(if discard_on { "unmap".into() } else { "ignore".into() });
            driver.detect_zeroes = Some(detect_zeroes.into());
        }
        // libvirt spells QEMU's `enospc` as `enospace`.
        driver.error_policy = d.opts().werror().map(|w| werror_name(w).to_owned());
        driver.rerror_policy = d.opts().rerror().map(|r| r.as_str().to_owned());
    }
    if d.iothread() {
        match d.bus {
            Bus::Virtio => {
                layout.next_iothread += 1;
                driver.iothread = Some(layout.next_iothread);
            }
            Bus::Scsi if layout.scsihw == ScsiHw::VirtioScsiSingle => {}
            _ => ctx.note_on(
                key,
                Note::warning(
                    code::DISK_OPTION_DROPPED,
                    "iothread is only valid with virtio disks or scsihw virtio-scsi-single: ignored",
                )
                .at(d.props.span_of(ScsiOpts::SUB.iothread))
                .help("Proxmox ignores it too"),
            ),
        }
    }

    let mut device = if cdrom { "cdrom" } else { "disk" };
    if d.bus == Bus::Scsi && d.scsiblock() && !cdrom {
        if matches!(volume.source, Source::Block(_)) {
            device = "lun";
        } else {
            ctx.note_on(
                key,
                Note::warning(
                    code::DISK_OPTION_DROPPED,
                    "scsiblock needs a host block device: the volume is attached as a plain disk",
                )
                .at(d.props.span_of(ScsiOpts::SUB.scsiblock)),
            );
        }
    }
    let (disk_type, source, auth) = match &volume.source {
        Source::File(f) => ("file", DomainDiskSource::File { file: Some(f.clone()) }, None),
        Source::Block(b) => ("block", DomainDiskSource::Block { dev: Some(b.clone()) }, None),
        Source::Network(n) => {
            let auth = n.auth.as_ref().map(|(user, usage)| DomainDiskAuth {
                username: user.clone(),
                secret: DomainDiskSecret { secret_type: "ceph".into(), usage: usage.clone() },
            });
            ("network", DomainDiskSource::Network(network_source(n)), auth)
        }
        Source::Empty => ("file", DomainDiskSource::File { file: None }, None),
    };

    let readonly = cdrom || (matches!(d.bus, Bus::Scsi | Bus::Virtio) && d.ro());
    let mut transient = None;
    if d.snapshot() {
        if readonly || empty {
            ctx.note_on(
                key,
                Note::warning(code::DISK_OPTION_DROPPED, "snapshot=1 on a read-only drive has no effect: ignored")
                    .at(d.props.span_of(ScsiOpts::SUB.snapshot)),
            );
        } else if disk_type != "file" {
            // libvirt 9.0: "transient disk supported only with 'file' type". Writing through to
            // the real volume instead would keep what the guest expects to be thrown away.
            ctx.note_on(
                key,
                Note::error(code::DISK_INVALID, "snapshot=1 (discard writes) needs a file-backed disk in libvirt 9.0")
                    .at(d.props.span_of(ScsiOpts::SUB.snapshot))
                    .help("remove snapshot=1, or copy the volume to a file and use --map-storage"),
            );
        } else {
            transient = Some(Empty);
        }
    }

    let serial = d.opts().serial().map(url_decode).and_then(|s| {
        let ok = !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "_.+- ".contains(c));
        if ok {
            Some(s)
        } else {
            ctx.note_on(
                key,
                Note::warning(
                    code::DISK_OPTION_DROPPED,
                    format!("libvirt cannot express the disk serial '{s}': left out"),
                )
                .at(d.props.span_of(ScsiOpts::SUB.serial))
                .help("libvirt serials may only contain letters, digits, '_', '.', '+', '-' and spaces"),
            );
            None
        }
    });
    // Proxmox's SCSI disks show the guest the device id `drive-scsiN` (QEMU's default for its
    // drive names, explicit from machine 10.0); the guest's /dev/disk/by-id/scsi-0QEMU_QEMU_HARDDISK_…
    // links and Windows' disk ids are built from it. libvirt would give `drive-scsi0-0-0-N`, and a
    // serial would add a unit serial Proxmox's disks do not report: the device property is set
    // as it is, through <qemu:override> on the disk's alias.
    let lun = device == "lun";
    let alias = (serial.is_none() && d.bus == Bus::Scsi && !lun).then(|| DomainAlias { name: format!("ua-{key}") });
    if let Some(model) = d.opts().model() {
        ctx.note_on(
            key,
            Note::warning(
                code::DISK_OPTION_DROPPED,
                format!("libvirt cannot set the IDE model string '{}'", url_decode(model)),
            )
            .at(d.props.span_of(IdeOpts::SUB.model))
            .help("the guest sees QEMU's default model (QEMU HARDDISK)"),
        );
    }
    let management: Vec<&str> = [("backup", false), ("replicate", false), ("shared", true)]
        .into_iter()
        .filter(|(k, v)| d.props.bool(k) == Some(*v))
        .map(|(k, v)| {
            if v {
                "shared=1"
            } else if k == "backup" {
                "backup=0"
            } else {
                "replicate=0"
            }
        })
        .collect();
    if !management.is_empty() {
        ctx.note_on(
            key,
            Note::advice(
                code::DISK_MANAGEMENT_ONLY,
                format!("{} only steer Proxmox's backup and replication", management.join(", ")),
            )
            .at(d.props.span)
            .label("Proxmox management only"),
        );
    }

    // libvirt's QEMU driver: "Only ide and scsi disk support wwn" (bus='sata' included, which is
    // also what q35 IDE drives become).
    let wwn = d.opts().wwn().map(|w| w.trim_start_matches("0x").to_owned());
    let wwn = match wwn {
        // scsi-block passes the host device's own identity through (libvirt: "Setting wwn is not
        // supported for lun device").
        Some(_) if device == "lun" => None,
        Some(w) if bus == "sata" => {
            ctx.note_on(
                key,
                Note::warning(
                    code::DISK_OPTION_DROPPED,
                    format!("libvirt cannot set a WWN on a SATA disk: wwn=0x{w} left out"),
                )
                .at(d.props.span_of(ScsiOpts::SUB.wwn))
                .help("the guest sees no WWN on this disk; put it on scsi to keep one"),
            );
            None
        }
        other => other,
    };
    let iotune = if empty { None } else { iotune(ctx, d) };
    Some(DomainDisk {
        device: device.into(),
        driver: Some(driver),
        auth,
        source,
        // Proxmox sets rotation_rate on hard disks only; libvirt refuses it elsewhere.
        target: DomainDiskTarget { dev, bus: bus.into(), rotation_rate: (d.ssd() && device == "disk").then_some(1) },
        iotune,
        boot: ctx.boot_order(key),
        readonly: readonly.then_some(Empty),
        transient,
        serial,
        wwn,
        vendor: d.opts().scsi().and_then(|o| o.vendor()).map(str::to_owned),
        product: d.opts().scsi().and_then(|o| o.product()).map(str::to_owned),
        alias,
        address: match d.bus {
            Bus::Virtio => ctx.pci_address(PciDevice::Virtio(d.index)),
            _ => address,
        },
        ..Default::default()
    })
}

fn cache_name(c: Cache) -> &'static str {
    match c {
        Cache::Writethrough => "writethrough",
        Cache::Writeback => "writeback",
        Cache::Unsafe => "unsafe",
        Cache::Directsync => "directsync",
        Cache::None => "none",
    }
}

fn aio_name(a: Aio) -> &'static str {
    match a {
        Aio::Native => "native",
        Aio::Threads => "threads",
        Aio::IoUring => "io_uring",
    }
}

/// libvirt spells QEMU's `enospc` `enospace`.
fn werror_name(w: Werror) -> &'static str {
    match w {
        Werror::Enospc => "enospace",
        Werror::Ignore => "ignore",
        Werror::Report => "report",
        Werror::Stop => "stop",
    }
}

/// `<iotune>`. libvirt refuses the combinations Proxmox's `parse_drive` refuses too (total with
/// read/write, a burst without its base rate, a burst length without its burst).
fn iotune(ctx: &mut Ctx, d: &Drive) -> Option<DomainDiskIotune> {
    let t = d.throttle();
    if !t.bytes.iter().chain(&t.iops).any(Limit::is_set) {
        return None;
    }
    let mut problems = Vec::new();
    for (unit, limits) in [("mbps", &t.bytes), ("iops", &t.iops)] {
        let [total, rd, wr] = limits;
        if total.rate.is_some() && (rd.rate.is_some() || wr.rate.is_some()) {
            problems.push(format!("{unit} together with {unit}_rd/{unit}_wr"));
        }
        if total.max.is_some() && (rd.max.is_some() || wr.max.is_some()) {
            problems.push(format!("{unit}_max together with {unit}_rd_max/{unit}_wr_max"));
        }
        for (dir, l) in ["", "_rd", "_wr"].iter().zip(limits) {
            if l.max.is_some() && l.rate.is_none() {
                problems.push(format!("{unit}{dir}_max without {unit}{dir}"));
            }
            if l.max_length.is_some() && l.max.is_none() {
                let len = if unit == "mbps" { "bps" } else { "iops" };
                problems.push(format!("{len}{dir}_max_length without {unit}{dir}_max"));
            }
        }
    }
    if !problems.is_empty() {
        ctx.note_on(
            &d.key,
            Note::error(code::DISK_INVALID, format!("invalid throttling: {}", problems.join("; ")))
                .at(d.props.span)
                .help("Proxmox rejects these combinations too (Drive.pm parse_drive)"),
        );
        return None;
    }
    let [bt, br, bw] = t.bytes;
    let [it, ir, iw] = t.iops;
    Some(DomainDiskIotune {
        total_bytes_sec: bt.rate,
        read_bytes_sec: br.rate,
        write_bytes_sec: bw.rate,
        total_iops_sec: it.rate,
        read_iops_sec: ir.rate,
        write_iops_sec: iw.rate,
        total_bytes_sec_max: bt.max,
        read_bytes_sec_max: br.max,
        write_bytes_sec_max: bw.max,
        total_iops_sec_max: it.max,
        read_iops_sec_max: ir.max,
        write_iops_sec_max: iw.max,
        // Proxmox puts every drive in its own throttle group `throttle-drive-<id>`.
        group_name: Some(format!("drive-{}", d.key)),
        total_bytes_sec_max_length: bt.max_length,
        read_bytes_sec_max_length: br.max_length,
        write_bytes_sec_max_length: bw.max_length,
        total_iops_sec_max_length: it.max_length,
        read_iops_sec_max_length: ir.max_length,
        write_iops_sec_max_length: iw.max_length,
    })
}

/// The `<source protocol=…>` of a network volume (disks and nvram alike; auth goes elsewhere).
pub(super) fn network_source(n: &crate::pve::storage::NetworkVolume) -> DomainDiskSourceNetwork {
    DomainDiskSourceNetwork {
        protocol: n.protocol.into(),
        name: Some(n.name.clone()),
        hosts: n
            .hosts
            .iter()
            .map(|(h, p)| DomainDiskSourceHost {
                name: Some(h.clone()),
                port: Some(p.clone()),
                transport: None,
                socket: None,
            })
            .collect(),
        config: n.config.clone().map(|file| DomainDiskSourceConfig { file }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use crate::pve::schema::{lookup, KeyType, ScsiHw, ValueType};

    /// The schema's `scsihw` values are the enum's own spellings (`pve_enum!`), so `ScsiHw::parse`
    /// never fails on a decoded config; decode refuses anything else.
    #[test]
    fn scsihw_is_the_schema_enum() {
        let Some((spec, None)) = lookup("scsihw") else { panic!("scsihw not in the schema") };
        let KeyType::Scalar(ValueType::Enum(values)) = spec.ty else { panic!("scsihw is not an enum") };
        assert_eq!(values, ScsiHw::NAMES);
        assert_eq!(ScsiHw::parse("lsi53c895a"), None);
        let opts = crate::Options { vmid: Some(100), ..Default::default() };
        let errors = crate::convert("scsihw: lsi53c895a\n", &opts).unwrap_err();
        assert_eq!(errors.iter().map(|n| n.code).collect::<Vec<_>>(), [crate::report::code::BAD_VALUE]);
    }

    #[test]
    fn letters() {
        assert_eq!(super::disk_letters(0), "a");
        assert_eq!(super::disk_letters(25), "z");
        assert_eq!(super::disk_letters(26), "aa");
        assert_eq!(super::disk_letters(30), "ae");
    }
}
