//! Drives (`ideN`, `sataN`, `scsiN`, `virtioN`) and their controllers → `<disk>` and
//! `<controller>` (docs/mapping.md#disks, docs/proxmox-config.md#disks).
//!
//! Proxmox's drive defaults differ from libvirt's, so every one is written out: cache `none`
//! (direct I/O) except CD-ROMs and btrfs, aio `io_uring` except LVM/CIFS/krbd, `detect_zeroes`
//! on, discard `ignore`. Each disk gets an explicit `<address type='drive'>` so it lands on the
//! controller, target and unit Proxmox puts it on; the controllers get Proxmox's PCI slots.

mod driver;
mod volume;

use crate::libvirt::{DomainAlias, DomainQemuProperty};
use crate::pve::schema::Key;
use std::collections::BTreeMap;

use crate::libvirt::{
    Domain, DomainAddress, DomainController, DomainControllerDriver, DomainDisk, DomainDiskAuth, DomainDiskIotune,
    DomainDiskSecret, DomainDiskSource, DomainDiskSourceConfig, DomainDiskSourceHost, DomainDiskSourceNetwork,
    DomainDiskTarget, Empty,
};
use crate::map::boot::is_cloudinit;
use crate::map::pci::PciDevice;
use crate::map::{Ctx, UsedVolume, VolumeRole};
use crate::pve::model::drive::{url_decode, Bus, Drive, Limit};
use crate::pve::model::rules;
use crate::pve::schema::{IdeOpts, ScsiHw, ScsiOpts, UnusedOpts};
use crate::pve::storage::{Resolver, Source};
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

impl Layout {
    /// Proxmox puts SCSI disk N on controller N / (disks per controller); libvirt numbers the
    /// controllers in use without gaps.
    fn new(scsihw: ScsiHw, drives: &[Drive]) -> Self {
        let mut layout = Layout { scsihw, scsi_index: BTreeMap::new(), next_sd: 0, next_iothread: 0 };
        for d in drives.iter().filter(|d| d.bus == Bus::Scsi) {
            let n = layout.scsi_index.len() as u32;
            layout.scsi_index.entry(d.index / scsihw.per_controller()).or_insert(n);
        }
        layout
    }
}

/// How Proxmox reads a drive's `file` and `media`: a cloud-init volume is always a CD-ROM, and
/// `file=cdrom` is the host's CD drive.
#[derive(Debug, Clone, Copy)]
struct Medium {
    cloudinit: bool,
    cdrom: bool,
}

impl Medium {
    fn of(d: &Drive) -> Self {
        let cloudinit = is_cloudinit(d.file);
        Medium { cloudinit, cdrom: d.cdrom || cloudinit || d.file == "cdrom" }
    }
}

pub fn map(ctx: &mut Ctx, domain: &mut Domain) {
    storage_notes(ctx);
    let vm = ctx.vm;
    let drives = vm.drives();
    let mut layout = Layout::new(vm.scsihw(), &drives);
    controllers(ctx, domain, &mut layout, &drives);
    disks(ctx, domain, &mut layout, &drives);
    unused(ctx);
    vmstate(ctx);
}

/// storage.cfg notes point into storage.cfg, not into the VM config.
fn storage_notes(ctx: &mut Ctx) {
    let opts = ctx.opts;
    for note in &opts.storage.notes {
        let mut note = note.clone();
        note.span = None;
        note.label = None;
        ctx.note(note);
    }
}

/// The controllers the drives sit on: the SCSI ones of `scsihw`, and the AHCI Proxmox adds for
/// SATA drives.
fn controllers(ctx: &mut Ctx, domain: &mut Domain, layout: &mut Layout, drives: &[Drive]) {
    let scsi: Vec<&Drive> = drives.iter().filter(|d| d.bus == Bus::Scsi).collect();
    scsi_controllers(ctx, domain, layout, &scsi);
    if ctx.vm.keys().scsihw().is_some() {
        if scsi.is_empty() {
            ctx.mapped(Key::scsihw, "(no SCSI disks)");
        } else {
            ctx.mapped(Key::scsihw, "devices/controller@model");
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
}

/// The `<disk>`s, in Proxmox's drive order (which is also the order `sd` names are handed out
/// in), and the iothreads their drivers and controllers use.
fn disks(ctx: &mut Ctx, domain: &mut Domain, layout: &mut Layout, drives: &[Drive]) {
    let opts = ctx.opts;
    let resolver = Resolver { storage: &opts.storage, storage_map: &opts.storage_map };
    let mut device_ids = Vec::new();
    for drive in drives {
        if let Some(disk) = disk(ctx, &resolver, layout, drive) {
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
    scsi_device_ids(ctx, &device_ids);
    if layout.next_iothread > 0 {
        domain.iothreads = Some(domain.iothreads.unwrap_or(0).max(layout.next_iothread));
    }
}

/// libvirt names SCSI device ids itself; the `<qemu:override>`s that keep Proxmox's get one
/// note, on the first such drive.
fn scsi_device_ids(ctx: &mut Ctx, device_ids: &[String]) {
    let Some(first) = device_ids.first() else { return };
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

/// `unusedN`: volumes Proxmox keeps detached. They are listed (`pve2virt migrate` can copy
/// them), never attached.
fn unused(ctx: &mut Ctx) {
    let opts = ctx.opts;
    let resolver = Resolver { storage: &opts.storage, storage_map: &opts.storage_map };
    let vm = ctx.vm;
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
}

/// `vmstate` and `vmstatestorage`: Proxmox's saved RAM, which a libvirt domain cannot resume from.
fn vmstate(ctx: &mut Ctx) {
    let vm = ctx.vm;
    let keys = vm.keys();
    if keys.vmstate().is_some() {
        ctx.note_on(
            Key::vmstate,
            Note::warning(code::VMSTATE_DROPPED, "the saved RAM state (hibernation or snapshot) is not carried over")
                .label("not restored")
                .help("the guest cold-boots; resume or shut it down on Proxmox first to keep its running state"),
        );
    }
    if keys.vmstatestorage().is_some() {
        ctx.note_on(
            Key::vmstatestorage,
            Note::advice(code::VMSTATE_STORAGE, "where Proxmox saves RAM state has no libvirt equivalent")
                .label("Proxmox only"),
        );
    }
}

fn scsi_controllers(ctx: &mut Ctx, domain: &mut Domain, layout: &mut Layout, scsi: &[&Drive]) {
    let hw = layout.scsihw;
    if hw == ScsiHw::Lsi53c810 && !scsi.is_empty() {
        ctx.note_on(
            Key::scsihw,
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
                ScsiHw::VirtioScsi | ScsiHw::VirtioScsiSingle | ScsiHw::Megasas => (0, d.index),
            };
            (sd(), "scsi", Some(DomainAddress::drive(controller, 0, target, unit)))
        }
    }
}

/// One drive → `<disk>`; `None` (with the note saying why) for a drive that cannot be attached.
fn disk(ctx: &mut Ctx, resolver: &Resolver, layout: &mut Layout, d: &Drive) -> Option<DomainDisk> {
    let key = &d.key;
    let medium = Medium::of(d);
    let cdrom = medium.cdrom;
    if let Err(r) = rules::virtio_cdrom(d.bus, cdrom) {
        let at = r.span_in(d.props);
        ctx.note_on(
            key,
            Note::error(code::DISK_INVALID, r.message)
                .at(at)
                .help("Proxmox refuses this too; put the CD-ROM on ide, sata or scsi"),
        );
        return None;
    }
    volume::record(ctx, resolver, d, medium);
    let volume = volume::volume(ctx, resolver, d, medium)?;
    if !volume::attachable(ctx, d, cdrom, &volume) {
        return None;
    }
    let (dev, bus, address) = placement(ctx, layout, d);
    let empty = volume.source == Source::Empty;
    let driver = driver::driver(ctx, layout, d, cdrom, &volume);
    let device = device(ctx, d, cdrom, &volume.source);
    let (disk_type, source, auth) = source(&volume.source);
    let readonly = cdrom || (matches!(d.bus, Bus::Scsi | Bus::Virtio) && d.ro());
    let transient = transient(ctx, d, readonly || empty, disk_type);
    let serial = serial(ctx, d);
    // Proxmox's SCSI disks show the guest the device id `drive-scsiN` (QEMU's default for its
    // drive names, explicit from machine 10.0); the guest's /dev/disk/by-id/scsi-0QEMU_QEMU_HARDDISK_…
    // links and Windows' disk ids are built from it. libvirt would give `drive-scsi0-0-0-N`, and a
    // serial would add a unit serial Proxmox's disks do not report: the device property is set
    // as it is, through <qemu:override> on the disk's alias.
    let lun = device == "lun";
    let alias = (serial.is_none() && d.bus == Bus::Scsi && !lun).then(|| DomainAlias { name: format!("ua-{key}") });
    ide_model(ctx, d);
    management_only(ctx, d);
    let wwn = wwn(ctx, d, device, bus);
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
            Bus::Ide | Bus::Sata | Bus::Scsi => address,
        },
        ..Default::default()
    })
}

/// `<disk device>`: `scsiblock=1` passes a host SCSI device through (`lun`), which needs a host
/// block device to pass.
fn device(ctx: &mut Ctx, d: &Drive, cdrom: bool, source: &Source) -> &'static str {
    if cdrom {
        return "cdrom";
    }
    if d.bus == Bus::Scsi && d.scsiblock() {
        if matches!(source, Source::Block(_)) {
            return "lun";
        }
        ctx.note_on(
            &d.key,
            Note::warning(
                code::DISK_OPTION_DROPPED,
                "scsiblock needs a host block device: the volume is attached as a plain disk",
            )
            .at(d.props.span_of(ScsiOpts::SUB.scsiblock)),
        );
    }
    "disk"
}

/// `<disk type>`, `<source>` and, for Ceph, `<auth>`: an empty drive is a `file` disk without
/// a file.
fn source(source: &Source) -> (&'static str, DomainDiskSource, Option<DomainDiskAuth>) {
    match source {
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
    }
}

/// `snapshot=1` (writes thrown away at shutdown) is libvirt's `<transient/>`, which only
/// writable file disks take.
fn transient(ctx: &mut Ctx, d: &Drive, read_only_or_empty: bool, disk_type: &str) -> Option<Empty> {
    if !d.snapshot() {
        return None;
    }
    if read_only_or_empty {
        ctx.note_on(
            &d.key,
            Note::warning(code::DISK_OPTION_DROPPED, "snapshot=1 on a read-only drive has no effect: ignored")
                .at(d.props.span_of(ScsiOpts::SUB.snapshot)),
        );
        None
    } else if disk_type != "file" {
        // libvirt 9.0: "transient disk supported only with 'file' type". Writing through to
        // the real volume instead would keep what the guest expects to be thrown away.
        ctx.note_on(
            &d.key,
            Note::error(code::DISK_INVALID, "snapshot=1 (discard writes) needs a file-backed disk in libvirt 9.0")
                .at(d.props.span_of(ScsiOpts::SUB.snapshot))
                .help("remove snapshot=1, or copy the volume to a file and use --map-storage"),
        );
        None
    } else {
        Some(Empty)
    }
}

/// `serial` (URL-encoded in the config): libvirt takes a narrower alphabet than QEMU.
fn serial(ctx: &mut Ctx, d: &Drive) -> Option<String> {
    let s = url_decode(d.opts().serial()?);
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "_.+- ".contains(c)) {
        return Some(s);
    }
    ctx.note_on(
        &d.key,
        Note::warning(code::DISK_OPTION_DROPPED, format!("libvirt cannot express the disk serial '{s}': left out"))
            .at(d.props.span_of(ScsiOpts::SUB.serial))
            .help("libvirt serials may only contain letters, digits, '_', '.', '+', '-' and spaces"),
    );
    None
}

/// `model` (the IDE model string) has no libvirt form.
fn ide_model(ctx: &mut Ctx, d: &Drive) {
    let Some(model) = d.opts().model() else { return };
    ctx.note_on(
        &d.key,
        Note::warning(
            code::DISK_OPTION_DROPPED,
            format!("libvirt cannot set the IDE model string '{}'", url_decode(model)),
        )
        .at(d.props.span_of(IdeOpts::SUB.model))
        .help("the guest sees QEMU's default model (QEMU HARDDISK)"),
    );
}

/// `backup=0`, `replicate=0` and `shared=1` steer Proxmox's jobs, not the guest's disk.
fn management_only(ctx: &mut Ctx, d: &Drive) {
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
    if management.is_empty() {
        return;
    }
    ctx.note_on(
        &d.key,
        Note::advice(
            code::DISK_MANAGEMENT_ONLY,
            format!("{} only steer Proxmox's backup and replication", management.join(", ")),
        )
        .at(d.props.span)
        .label("Proxmox management only"),
    );
}

/// `wwn`. libvirt's QEMU driver: "Only ide and scsi disk support wwn" (bus='sata' included, which
/// is also what q35 IDE drives become).
fn wwn(ctx: &mut Ctx, d: &Drive, device: &str, bus: &str) -> Option<String> {
    let w = d.opts().wwn()?.trim_start_matches("0x").to_owned();
    // scsi-block passes the host device's own identity through (libvirt: "Setting wwn is not
    // supported for lun device").
    if device == "lun" {
        return None;
    }
    if bus == "sata" {
        ctx.note_on(
            &d.key,
            Note::warning(
                code::DISK_OPTION_DROPPED,
                format!("libvirt cannot set a WWN on a SATA disk: wwn=0x{w} left out"),
            )
            .at(d.props.span_of(ScsiOpts::SUB.wwn))
            .help("the guest sees no WWN on this disk; put it on scsi to keep one"),
        );
        return None;
    }
    Some(w)
}

/// `<iotune>`. libvirt refuses the combinations Proxmox's `parse_drive` refuses too (total with
/// read/write, a burst without its base rate, a burst length without its burst).
fn iotune(ctx: &mut Ctx, d: &Drive) -> Option<DomainDiskIotune> {
    let t = d.throttle();
    if !t.bytes.iter().chain(&t.iops).any(Limit::is_set) {
        return None;
    }
    if let Err(r) = rules::throttling(&t) {
        let at = r.span_in(d.props);
        ctx.note_on(
            &d.key,
            Note::error(code::DISK_INVALID, r.message)
                .at(at)
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
