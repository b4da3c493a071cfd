//! A disk's `<driver>`: Proxmox's cache, aio, discard and detect_zeroes defaults written out
//! (they differ from libvirt's), the error policies and the iothread.

use super::Layout;
use crate::libvirt::DomainDiskDriver;
use crate::map::Ctx;
use crate::pve::model::drive::{Bus, Drive};
use crate::pve::schema::{Aio, Cache, Discard, ScsiHw, ScsiOpts, Werror};
use crate::pve::storage::{Source, StorageType, Volume};
use crate::report::{code, Note};

/// Written out in full, since libvirt's defaults are not Proxmox's; an empty CD-ROM gets only
/// its name and format.
pub(super) fn driver(ctx: &mut Ctx, layout: &mut Layout, d: &Drive, cdrom: bool, volume: &Volume) -> DomainDiskDriver {
    let cache = cache(d, cdrom, volume);
    let io = aio(ctx, d, volume, cache);
    let discard_on = d.opts().discard() == Some(Discard::On);
    let detect_zeroes = match (d.opts().detect_zeroes(), discard_on) {
        (Some(false), _) => "off",
        (_, true) => "unmap",
        _ => "on",
    };
    let mut driver =
        DomainDiskDriver { name: Some("qemu".into()), format: Some(volume.format.clone()), ..Default::default() };
    if volume.source != Source::Empty {
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
    iothread(ctx, layout, d, &mut driver);
    driver
}

/// Cache: Proxmox uses direct I/O except for CD-ROMs and btrfs (no O_DIRECT on CoW files).
fn cache(d: &Drive, cdrom: bool, volume: &Volume) -> &'static str {
    d.opts().cache().map(cache_name).unwrap_or(if cdrom || volume.storage == Some(StorageType::Btrfs) {
        "writeback"
    } else {
        "none"
    })
}

/// `aio`, or Proxmox's default for the storage: `io_uring`, except `native`/`threads` on LVM and
/// CIFS and `threads` for krbd without direct I/O.
fn aio(ctx: &mut Ctx, d: &Drive, volume: &Volume, cache: &str) -> Option<&'static str> {
    let direct = matches!(cache, "none" | "directsync");
    // Proxmox sets aio only for its file and host-device drivers: a volume that Proxmox reads
    // through librbd or libiscsi keeps QEMU's default even when mapped to a file here.
    let proxmox_network = match volume.storage {
        Some(StorageType::Rbd) => !volume.krbd,
        Some(StorageType::Zfs | StorageType::IscsiDirect) => true,
        _ => false,
    };
    let local = matches!(volume.source, Source::File(_) | Source::Block(_)) && !proxmox_network;
    if !local {
        return None;
    }
    let default = match volume.storage {
        Some(StorageType::Lvm | StorageType::Cifs) => Some(if direct { "native" } else { "threads" }),
        _ if volume.krbd && !direct => Some("threads"),
        _ => Some("io_uring"),
    };
    match d.opts().aio() {
        Some(Aio::Native) if !direct => {
            ctx.note_on(
                &d.key,
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
}

/// `iothread=1`: a thread of the disk's own on virtio-blk; on virtio-scsi-single the controller
/// has it (scsi_controllers); anything else Proxmox ignores.
fn iothread(ctx: &mut Ctx, layout: &mut Layout, d: &Drive, driver: &mut DomainDiskDriver) {
    if !d.iothread() {
        return;
    }
    match d.bus {
        Bus::Virtio => {
            layout.next_iothread += 1;
            driver.iothread = Some(layout.next_iothread);
        }
        Bus::Scsi if layout.scsihw == ScsiHw::VirtioScsiSingle => {}
        Bus::Ide | Bus::Sata | Bus::Scsi => ctx.note_on(
            &d.key,
            Note::warning(
                code::DISK_OPTION_DROPPED,
                "iothread is only valid with virtio disks or scsihw virtio-scsi-single: ignored",
            )
            .at(d.props.span_of(ScsiOpts::SUB.iothread))
            .help("Proxmox ignores it too"),
        ),
    }
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
