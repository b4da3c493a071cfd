//! What a drive's `file` becomes: the volume it names, the copy `pve2virt migrate` made of it,
//! or for the cloud-init drive the seed (rebuilt here, Proxmox's own, or none).

use super::Medium;
use crate::map::cloudinit::Seed;
use crate::map::{Ctx, Relocated, UsedVolume, VolumeRole};
use crate::pve::model::drive::Drive;
use crate::pve::model::rules;
use crate::pve::storage::{Resolver, Source, Volume};
use crate::report::{code, Note};

/// Lists the drive's volume (for `pve2virt migrate` and the report) whether or not it ends up
/// attached; an empty drive (`none`) has none.
pub(super) fn record(ctx: &mut Ctx, resolver: &Resolver, d: &Drive, medium: Medium) {
    let role = if medium.cloudinit {
        VolumeRole::Cloudinit
    } else if medium.cdrom {
        VolumeRole::Cdrom
    } else {
        VolumeRole::Disk
    };
    if medium.cloudinit || d.file != "none" {
        let resolved = resolver.resolve(d.file, d.format(), medium.cdrom);
        ctx.volumes.push(UsedVolume {
            key: d.key.clone(),
            role,
            file: d.file.to_owned(),
            size: d.opts().size(),
            volume: resolved,
            varstore: None,
            tpm_version: None,
        });
    }
}

/// The volume the `<disk>` names; `None` after an error note.
pub(super) fn volume(ctx: &mut Ctx, resolver: &Resolver, d: &Drive, medium: Medium) -> Option<Volume> {
    let cloudinit = medium.cloudinit;
    let relocated = ctx.opts.relocate.get(d.key.as_str()).cloned();
    // Proxmox writes the seed (NoCloud or ConfigDrive, from the ci* keys) into this volume at
    // every start (QemuServer/Cloudinit.pm `generate_cloudinitconfig`): the volume holds the last
    // one, with the instance id the guest knows, so it is attached as it is.
    let rebuilt = if cloudinit && relocated.is_none() { regenerate(ctx, d) } else { None };
    let seed = if cloudinit && rebuilt.is_none() && relocated.is_none() {
        resolver.resolve(d.file, d.format(), false).ok()
    } else {
        None
    };
    if let Some(r) = relocated.filter(|_| d.file != "none" && d.file != "cdrom") {
        return Some(relocated_copy(ctx, resolver, d, medium, r));
    }
    if let Some(new) = rebuilt {
        return Some(rebuilt_seed(ctx, d, new));
    }
    if let Some(seed) = seed {
        return Some(proxmox_seed(ctx, d, seed));
    }
    if cloudinit {
        return Some(no_seed(ctx, d));
    }
    match resolver.resolve(d.file, d.format(), medium.cdrom) {
        Ok(v) => Some(v),
        Err(n) => {
            ctx.note_on(&d.key, n.at(d.file_span).label("cannot resolve"));
            None
        }
    }
}

/// `--regenerate-cloudinit DIR`: the seed rebuilt from the ci* keys; `None` (Proxmox's own seed
/// volume is attached then) when that is not asked for or not possible.
fn regenerate(ctx: &mut Ctx, d: &Drive) -> Option<Seed> {
    let dir = ctx.opts.regenerate_cloudinit.as_ref()?;
    match crate::map::cloudinit::seed(ctx, dir) {
        Ok(seed) => Some(seed),
        Err(why) => {
            ctx.note_on(
                &d.key,
                Note::warning(
                    code::CLOUDINIT_NOT_REGENERATED,
                    format!("the cloud-init seed was not rebuilt: {why}; Proxmox's own seed volume is attached"),
                )
                .at(d.file_span),
            );
            None
        }
    }
}

/// `pve2virt migrate` copied this volume: the domain names the copy. The Proxmox storage
/// type still picks Proxmox's cache and aio defaults, as with --map-storage.
fn relocated_copy(ctx: &mut Ctx, resolver: &Resolver, d: &Drive, medium: Medium, r: Relocated) -> Volume {
    let storage = resolver.resolve(d.file, d.format(), medium.cdrom).ok().and_then(|v| v.storage);
    if medium.cloudinit {
        ctx.note_on(
            &d.key,
            Note::advice(code::CLOUDINIT_SEED_CARRIED, "the cloud-init drive attaches the copied Proxmox seed")
                .at(d.file_span)
                .label("instance id and per-instance state kept"),
        );
        ctx.cloudinit_seed = Some(d.key.clone());
    }
    Volume {
        source: Source::File(r.path),
        format: r.format,
        storage,
        krbd: false,
        vtype: if medium.cdrom { "iso" } else { "images" },
        notes: Vec::new(),
    }
}

/// The rebuilt seed: the domain names its ISO, which the CLI writes after the conversion
/// (`cloudinit::write_iso`), so it carries Proxmox's instance id.
fn rebuilt_seed(ctx: &mut Ctx, d: &Drive, new: Seed) -> Volume {
    let mut msg = format!(
        "the cloud-init seed is rebuilt from the ci* keys as Proxmox does ({}, volume label {}), with Proxmox's instance id",
        new.iso.display(),
        new.label
    );
    if new.dns_from_host {
        msg.push_str("; without nameserver/searchdomain Proxmox takes DNS from its host's resolv.conf, which is not known here, so the network config and the instance id differ if that host had any");
    }
    ctx.note_on(&d.key, Note::advice(code::CLOUDINIT_REGENERATED, msg).at(d.file_span).label("cloud-init seed"));
    let source = Source::File(new.iso.display().to_string());
    ctx.cloudinit_seed = Some(d.key.clone());
    ctx.seed = Some(new);
    Volume { source, format: "raw".into(), storage: None, krbd: false, vtype: "iso", notes: Vec::new() }
}

/// Proxmox's own seed volume, as it last wrote it: right until the ci* keys change.
fn proxmox_seed(ctx: &mut Ctx, d: &Drive, seed: Volume) -> Volume {
    ctx.note_on(
        &d.key,
        Note::advice(
            code::CLOUDINIT_SEED_ATTACHED,
            "the cloud-init drive attaches Proxmox's own seed volume, as Proxmox last generated it",
        )
        .at(d.file_span)
        .label("cloud-init seed")
        .help("Proxmox rewrites it from the ci* keys at every start; after changing them here, rebuild the seed (cloud-localds, or genisoimage -V cidata) and insert it with virsh change-media"),
    );
    ctx.cloudinit_seed = Some(d.key.clone());
    seed
}

/// A cloud-init drive whose seed volume cannot be resolved: an empty CD-ROM to insert one into.
fn no_seed(ctx: &mut Ctx, d: &Drive) -> Volume {
    ctx.note_on(
        &d.key,
        Note::warning(code::DISK_CLOUDINIT, "the cloud-init drive becomes an empty CD-ROM")
            .at(d.file_span)
            .label("Proxmox generates this ISO at every start")
            .help(
                "build the NoCloud/ConfigDrive ISO outside libvirt (cloud-localds or genisoimage -V cidata) \
                 and insert it with virsh change-media",
            ),
    );
    Volume { source: Source::Empty, format: "raw".into(), storage: None, krbd: false, vtype: "iso", notes: Vec::new() }
}

/// Passes the resolver's notes on, and refuses what Proxmox would not attach either: a disk
/// without a medium, an ISO image without `media`.
pub(super) fn attachable(ctx: &mut Ctx, d: &Drive, cdrom: bool, volume: &Volume) -> bool {
    let key = &d.key;
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
        return false;
    }
    // Only a missing `media` is refused: an ISO with an explicit media=disk is attached as a disk.
    if let Err(r) = rules::iso_needs_media(cdrom, volume.vtype, d.opts().media().is_some()) {
        ctx.note_on(
            key,
            Note::error(code::DISK_INVALID, r.message).at(d.file_span).label("no media=").help(format!(
                "Proxmox refuses to start this VM too: add media=cdrom to attach the image as a CD/DVD \
                     (`{key}: {},media=cdrom,…`), or media=disk to attach it as a disk, as OpenCore and \
                     macOS recovery images are",
                d.file
            )),
        );
        return false;
    }
    true
}
