//! `/etc/pve/storage.cfg` and volume resolution (docs/proxmox-config.md#storage-cfg, #volumes).
//!
//! The file is a SectionConfig (pve-common `SectionConfig.pm parse_config`): a `<type>: <id>`
//! header, indented `key value` lines, a blank line ending the section. A volume id
//! `storeid:volname` is resolved the way the storage plugin's `path()` (or, for librbd and libiscsi,
//! `qemu_blockdev_options`) would resolve it on the Proxmox node, so the domain names the same file,
//! block device or network volume.

// A failed resolution is one error `Note`, pushed into the conversion's notes at once; boxing it
// would buy nothing on a path taken once per drive.
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::pve::defaults;
use crate::report::{code, Note, Span};

/// The storage types pve-storage knows (docs/proxmox-config.md#volumes). GlusterFS was dropped upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageType {
    Dir,
    Nfs,
    Cifs,
    CephFs,
    Btrfs,
    Lvm,
    LvmThin,
    ZfsPool,
    /// ZFS over iSCSI.
    Zfs,
    Rbd,
    Iscsi,
    IscsiDirect,
    Pbs,
    Esxi,
}

impl StorageType {
    fn parse(name: &str) -> Option<Self> {
        use StorageType::*;
        Some(match name {
            "dir" => Dir,
            "nfs" => Nfs,
            "cifs" => Cifs,
            "cephfs" => CephFs,
            "btrfs" => Btrfs,
            "lvm" => Lvm,
            "lvmthin" => LvmThin,
            "zfspool" => ZfsPool,
            "zfs" => Zfs,
            "rbd" => Rbd,
            "iscsi" => Iscsi,
            "iscsidirect" => IscsiDirect,
            "pbs" => Pbs,
            "esxi" => Esxi,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        use StorageType::*;
        match self {
            Dir => "dir",
            Nfs => "nfs",
            Cifs => "cifs",
            CephFs => "cephfs",
            Btrfs => "btrfs",
            Lvm => "lvm",
            LvmThin => "lvmthin",
            ZfsPool => "zfspool",
            Zfs => "zfs",
            Rbd => "rbd",
            Iscsi => "iscsi",
            IscsiDirect => "iscsidirect",
            Pbs => "pbs",
            Esxi => "esxi",
        }
    }

    /// The plugin's default `content` when the section has none.
    fn default_content(self) -> &'static [&'static str] {
        use StorageType::*;
        match self {
            Dir | Btrfs | LvmThin | ZfsPool => &["images", "rootdir"],
            CephFs | Pbs => &["backup"],
            Esxi => &["import"],
            _ => &["images"],
        }
    }

    /// Storages whose volumes are files below `path` (Plugin.pm's directory layout).
    fn is_dir_like(self) -> bool {
        matches!(
            self,
            StorageType::Dir | StorageType::Nfs | StorageType::Cifs | StorageType::CephFs | StorageType::Btrfs
        )
    }
}

/// One storage section.
#[derive(Debug, Clone, PartialEq)]
pub struct Storage {
    pub id: String,
    pub kind: StorageType,
    /// Properties as written; a key without value is `1`.
    pub props: BTreeMap<String, String>,
    pub content: Vec<String>,
}

impl Storage {
    fn new(id: &str, kind: StorageType, props: &[(&str, &str)]) -> Self {
        let mut s = Storage {
            id: id.to_owned(),
            kind,
            props: props.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            content: Vec::new(),
        };
        s.apply_defaults();
        s
    }

    pub fn prop(&self, key: &str) -> Option<&str> {
        self.props.get(key).map(String::as_str)
    }

    fn flag(&self, key: &str) -> bool {
        self.prop(key).is_some_and(|v| crate::pve::props::parse_bool(v) == Some(true))
    }

    fn apply_defaults(&mut self) {
        self.content = match self.prop("content") {
            Some(c) => c.split([',', ';', ' ']).filter(|s| !s.is_empty()).map(str::to_owned).collect(),
            None => self.kind.default_content().iter().map(|s| (*s).to_owned()).collect(),
        };
        // Plugin `check_config`: network file systems are mounted below /mnt/pve/<id> by default.
        if matches!(self.kind, StorageType::Nfs | StorageType::Cifs | StorageType::CephFs)
            && self.prop("path").is_none()
        {
            self.props.insert("path".into(), format!("/mnt/pve/{}", self.id));
        }
    }

    fn path(&self) -> &str {
        self.prop("path").unwrap_or("/var/lib/vz")
    }
}

/// A parsed `/etc/pve/storage.cfg`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StorageConfig {
    pub storages: Vec<Storage>,
    /// Sections skipped because their type is unknown: (id, type).
    pub skipped: Vec<(String, String)>,
    /// Warnings about the file (spans point into storage.cfg, not into the VM config).
    pub notes: Vec<Note>,
}

impl StorageConfig {
    /// The layout of a fresh Proxmox install (ext4/xfs on LVM, the installer's default).
    pub fn fresh_install() -> Self {
        StorageConfig {
            storages: vec![
                Storage::new(
                    "local",
                    StorageType::Dir,
                    &[("path", "/var/lib/vz"), ("content", "iso,vztmpl,backup,import")],
                ),
                Storage::new(
                    "local-lvm",
                    StorageType::LvmThin,
                    &[("thinpool", "data"), ("vgname", "pve"), ("content", "rootdir,images")],
                ),
                // What the installer writes instead of local-lvm on a ZFS root (pve-installer
                // `Proxmox/Install.pm`: `zfspool: local-zfs`, `pool rpool/data`, `sparse`).
                Storage::new(
                    "local-zfs",
                    StorageType::ZfsPool,
                    &[("pool", "rpool/data"), ("content", "images,rootdir"), ("sparse", "1")],
                ),
            ],
            skipped: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub fn get(&self, id: &str) -> Option<&Storage> {
        self.storages.iter().find(|s| s.id == id)
    }
}

use code::{
    STORAGE_BAD_ID as BAD_STORAGE_ID, STORAGE_DUPLICATE_ATTRIBUTE as DUPLICATE_ATTRIBUTE,
    STORAGE_DUPLICATE_ID as DUPLICATE_STORAGE, STORAGE_SYNTAX as SYNTAX, STORAGE_UNKNOWN_TYPE as UNKNOWN_TYPE,
};

struct Section {
    id: String,
    kind: Option<StorageType>,
    type_name: String,
    header: Span,
    props: BTreeMap<String, (String, Span)>,
}

impl StorageConfig {
    /// Parses a storage.cfg text, reporting every error of the file at once.
    pub fn parse(text: &str) -> Result<StorageConfig, Vec<Note>> {
        let mut errors = Vec::new();
        let mut notes = Vec::new();
        let mut sections: Vec<Section> = Vec::new();
        let mut current: Option<Section> = None;
        let mut offset = 0;
        for raw_line in text.split_inclusive('\n') {
            let line_start = offset;
            offset += raw_line.len();
            let line = raw_line.trim_end_matches(['\n', '\r']);
            let span = Span::new(line_start, line.len());
            if line.trim().is_empty() {
                sections.extend(current.take());
                continue;
            }
            if line.trim_start().starts_with('#') {
                continue;
            }
            let indented = line.starts_with([' ', '\t']);
            if let Some(section) = current.as_mut().filter(|_| indented) {
                let body = line.trim();
                let (key, value) = match body.split_once([' ', '\t']) {
                    Some((k, v)) => (k, v.trim()),
                    // SectionConfig: a key without value is boolean 1.
                    None => (body, "1"),
                };
                let key_span = Span::new(line_start + (line.len() - line.trim_start().len()), key.len());
                if let Some((_, first)) = section.props.get(key) {
                    let _ = first;
                    errors.push(
                        Note::error(
                            DUPLICATE_ATTRIBUTE,
                            format!("duplicate attribute '{key}' in storage '{}'", section.id),
                        )
                        .at(key_span)
                        .label("set again here")
                        .help("keep one of them (Proxmox refuses the whole file)"),
                    );
                    continue;
                }
                section.props.insert(key.to_owned(), (value.to_owned(), key_span));
                continue;
            }
            if indented {
                errors.push(
                    Note::error(SYNTAX, "property line outside a storage section")
                        .at(span)
                        .label("no `<type>: <id>` header above")
                        .help("start a section with a line such as `dir: local`"),
                );
                continue;
            }
            // A header: `^(\S+):\s*(\S+)\s*$`.
            let header = line.split_once(':').and_then(|(t, id)| {
                let id = id.trim();
                (!t.is_empty()
                    && !t.contains(char::is_whitespace)
                    && !id.is_empty()
                    && !id.contains(char::is_whitespace))
                .then_some((t, id))
            });
            let Some((type_name, id)) = header else {
                errors.push(
                    Note::error(SYNTAX, format!("cannot parse storage.cfg line '{line}'"))
                        .at(span)
                        .label("not a `<type>: <id>` header")
                        .help("sections start with `<type>: <id>` and their properties are indented"),
                );
                continue;
            };
            if current.is_some() {
                // Proxmox only warns ("ignore config line") and drops the header: the section it
                // starts would be silently merged away, so refuse instead.
                errors.push(
                    Note::error(SYNTAX, format!("section header '{line}' without a blank line before it"))
                        .at(span)
                        .label("Proxmox ignores this line")
                        .help("separate sections with an empty line"),
                );
                continue;
            }
            if crate::pve::schema::storage_id(id).is_err() {
                errors.push(
                    Note::error(BAD_STORAGE_ID, format!("'{id}' is not a valid storage ID"))
                        .at(span)
                        .label("invalid storage ID")
                        .help("a storage ID starts with a letter and has letters, digits, '-', '_' or '.'"),
                );
            }
            current = Some(Section {
                id: id.to_owned(),
                kind: StorageType::parse(type_name),
                type_name: type_name.to_owned(),
                header: span,
                props: BTreeMap::new(),
            });
        }
        sections.extend(current.take());

        let mut cfg = StorageConfig::default();
        for section in sections {
            if cfg.get(&section.id).is_some() || cfg.skipped.iter().any(|(id, _)| *id == section.id) {
                errors.push(
                    Note::error(DUPLICATE_STORAGE, format!("storage '{}' is defined twice", section.id))
                        .at(section.header)
                        .label("defined again here"),
                );
                continue;
            }
            let Some(kind) = section.kind else {
                notes.push(
                    Note::advice(
                        UNKNOWN_TYPE,
                        format!("storage '{}' has unknown type '{}': skipped", section.id, section.type_name),
                    )
                    .at(section.header)
                    .label("unknown storage type")
                    .help("Proxmox skips such sections too; volumes on this storage cannot be resolved"),
                );
                cfg.skipped.push((section.id, section.type_name));
                continue;
            };
            let mut storage = Storage {
                id: section.id,
                kind,
                props: section.props.into_iter().map(|(k, (v, _))| (k, v)).collect(),
                content: Vec::new(),
            };
            storage.apply_defaults();
            cfg.storages.push(storage);
        }
        force_local(&mut cfg);
        cfg.notes = notes;
        if errors.is_empty() {
            Ok(cfg)
        } else {
            Err(errors)
        }
    }
}

/// pve-storage forces `local` to be a dir storage at /var/lib/vz.
fn force_local(cfg: &mut StorageConfig) {
    match cfg.storages.iter_mut().find(|s| s.id == "local") {
        Some(local) if local.kind == StorageType::Dir => {
            local.props.insert("path".into(), defaults::LOCAL_PATH.into());
        }
        other => {
            let fresh = Storage::new(
                "local",
                StorageType::Dir,
                &[("path", "/var/lib/vz"), ("content", "backup,images,iso,rootdir,snippets,vztmpl")],
            );
            match other {
                Some(local) => *local = fresh,
                None => cfg.storages.insert(0, fresh),
            }
        }
    }
}

// -------------------------------------------------------------------------------------------------
// Volume resolution

/// A network volume (librbd or libiscsi).
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkVolume {
    pub protocol: &'static str,
    /// `pool/image` (rbd) or `target/lun` (iscsi).
    pub name: String,
    pub hosts: Vec<(String, String)>,
    /// rbd: the user the ceph secret belongs to, and the secret's usage name.
    pub auth: Option<(String, String)>,
    /// rbd without `monhost`: the cluster's ceph.conf.
    pub config: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    File(String),
    Block(String),
    Network(NetworkVolume),
    /// `none`: an empty CD-ROM drive.
    Empty,
}

/// What a drive's `file` resolves to on the target.
#[derive(Debug, Clone, PartialEq)]
pub struct Volume {
    pub source: Source,
    /// The image format (`raw`, `qcow2`, …).
    pub format: String,
    /// The storage type, for Proxmox's per-storage defaults (cache, aio); `None` for paths.
    pub storage: Option<StorageType>,
    /// krbd-mapped rbd image (a block device).
    pub krbd: bool,
    /// Proxmox's content type of the volume (`images`, `iso`, …).
    pub vtype: &'static str,
    /// Notes raised while resolving (the caller sets their key and span).
    pub notes: Vec<Note>,
}

/// Where a resolution takes its inputs from.
pub struct Resolver<'a> {
    pub storage: &'a StorageConfig,
    pub storage_map: &'a BTreeMap<String, PathBuf>,
}

/// The format a volume name implies (Plugin.pm: the extension), if any.
fn format_of(name: &str) -> Option<&'static str> {
    let ext = name.rsplit_once('.')?.1;
    ["raw", "qcow2", "vmdk", "qcow", "qed", "cloop", "subvol"].into_iter().find(|f| *f == ext)
}

/// pve-storage `parse_volume_id`; the schema already checked the shape.
pub fn split_volume_id(volid: &str) -> Option<(&str, &str)> {
    volid.split_once(':').filter(|(s, n)| crate::pve::schema::storage_id(s).is_ok() && !n.is_empty())
}

impl Resolver<'_> {
    /// Resolves a drive `file` (volume id, absolute path, `none`, `cdrom`). `format` is the drive's
    /// `format=`; `cdrom` says the drive is a CD-ROM. `Err` is an error note.
    pub fn resolve(&self, file: &str, format: Option<&str>, cdrom: bool) -> Result<Volume, Note> {
        let plain = |source: Source, vtype: &'static str| Volume {
            format: format.unwrap_or("raw").to_owned(),
            source,
            storage: None,
            krbd: false,
            vtype,
            notes: Vec::new(),
        };
        if file == "none" {
            return Ok(plain(Source::Empty, "iso"));
        }
        if file == "cdrom" {
            // Drive.pm `get_cdrom_path`: the first of /dev/cdrom{,1,2} on the Proxmox host.
            return Ok(plain(Source::Block("/dev/cdrom".into()), "iso"));
        }
        if file.starts_with('/') {
            // Unmanaged paths: Proxmox stats them; everything under /dev is a device node.
            let source = if file.starts_with("/dev/") { Source::Block(file.into()) } else { Source::File(file.into()) };
            let vtype = if cdrom { "iso" } else { "images" };
            return Ok(plain(source, vtype));
        }
        let Some((store, volname)) = split_volume_id(file) else {
            return Err(Note::error(code::UNKNOWN_STORAGE, format!("'{file}' is not a volume ID")));
        };
        let storage = self.storage.get(store);
        if let Some(dir) = self.storage_map.get(store) {
            return self.mapped(dir, store, volname, format, storage);
        }
        let Some(storage) = storage else {
            return Err(self.unknown_storage(store));
        };
        let mut vol = resolve_on(storage, volname, format)?;
        check_content(storage, vol.vtype)?;
        vol.storage = Some(storage.kind);
        Ok(vol)
    }

    fn unknown_storage(&self, store: &str) -> Note {
        if let Some((_, ty)) = self.storage.skipped.iter().find(|(id, _)| id == store) {
            return Note::error(
                code::UNKNOWN_STORAGE,
                format!("storage '{store}' has type '{ty}', which pve2virt cannot resolve"),
            )
            .help(format!("pass --map-storage {store}=DIR to use files under DIR instead"));
        }
        let known: Vec<&str> = self.storage.storages.iter().map(|s| s.id.as_str()).collect();
        Note::error(code::UNKNOWN_STORAGE, format!("storage '{store}' does not exist (known: {})", known.join(", ")))
            .help(format!(
                "pass the node's storage.cfg with --storage-cfg, or --map-storage {store}=DIR to use files under DIR"
            ))
    }

    /// `--map-storage ID=DIR`: the volume is the file DIR/<volname>, whatever the storage type.
    fn mapped(
        &self,
        dir: &std::path::Path,
        store: &str,
        volname: &str,
        format: Option<&str>,
        storage: Option<&Storage>,
    ) -> Result<Volume, Note> {
        let escapes =
            volname.starts_with('/') || volname.contains('\0') || volname.split('/').any(|c| c == ".." || c == ".");
        if escapes {
            return Err(Note::error(
                code::VOLUME_ESCAPES,
                format!("volume name '{volname}' would leave the directory mapped for storage '{store}'"),
            )
            .help("volume names mapped with --map-storage must be relative and without '.' or '..'"));
        }
        let vtype = match storage {
            Some(s) if s.kind.is_dir_like() => dir_volname(volname).map_or("images", |(t, _)| t),
            _ => "images",
        };
        if let Some(s) = storage {
            check_content(s, vtype)?;
        }
        let name = volname.rsplit('/').next().unwrap_or(volname);
        Ok(Volume {
            source: Source::File(dir.join(volname).display().to_string()),
            format: format.or_else(|| format_of(name).filter(|f| *f != "subvol")).unwrap_or("raw").to_owned(),
            // The Proxmox storage type still decides Proxmox's cache and aio defaults, so the
            // mapped disk runs with the settings it had (Proxmox picks them per storage type).
            storage: storage.map(|s| s.kind),
            krbd: storage.is_some_and(|s| s.kind == StorageType::Rbd && s.flag("krbd")),
            vtype,
            notes: Vec::new(),
        })
    }
}

fn check_content(storage: &Storage, vtype: &str) -> Result<(), Note> {
    if storage.content.iter().any(|c| c == vtype) {
        return Ok(());
    }
    Err(Note::error(code::CONTENT_TYPE, format!("storage '{}' does not support content-type '{vtype}'", storage.id))
        .help(format!("Proxmox refuses this too; add '{vtype}' to the storage's content in storage.cfg")))
}

/// Plugin.pm `parse_volname` for directory storages: (vtype, path below the storage's path).
fn dir_volname(volname: &str) -> Option<(&'static str, String)> {
    for (prefix, vtype, sub) in [
        ("iso/", "iso", "template/iso"),
        ("vztmpl/", "vztmpl", "template/cache"),
        ("backup/", "backup", "dump"),
        ("snippets/", "snippets", "snippets"),
        ("import/", "import", "import"),
    ] {
        if let Some(rest) = volname.strip_prefix(prefix) {
            return (!rest.is_empty() && !rest.contains('/')).then(|| (vtype, format!("{sub}/{rest}")));
        }
    }
    // `<vmid>/<name>` or the linked clone `<bvmid>/<bname>/<vmid>/<name>`.
    let parts: Vec<&str> = volname.split('/').collect();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let (vmid, name) = match parts.as_slice() {
        [vmid, name] if digits(vmid) => (*vmid, *name),
        [b, _, vmid, name] if digits(b) && digits(vmid) => (*vmid, *name),
        _ => return None,
    };
    format_of(name)?;
    Some(("images", format!("images/{vmid}/{name}")))
}

/// The image name of a block-style volname (`base-100-disk-0/vm-101-disk-0` → `vm-101-disk-0`).
fn image_name(volname: &str) -> &str {
    volname.rsplit('/').next().unwrap_or(volname)
}

fn resolve_on(storage: &Storage, volname: &str, format: Option<&str>) -> Result<Volume, Note> {
    let bad = |what: &str| {
        Note::error(
            code::BAD_VOLUME_NAME,
            format!("'{volname}' is not a valid {what} volume name on storage '{}'", storage.id),
        )
    };
    let mut vol = Volume {
        source: Source::Empty,
        format: "raw".into(),
        storage: Some(storage.kind),
        krbd: false,
        vtype: "images",
        notes: Vec::new(),
    };
    let name = image_name(volname);
    let need = |key: &str| -> Result<&str, Note> {
        storage.prop(key).ok_or_else(|| {
            Note::error(
                code::STORAGE_INCOMPLETE,
                format!("storage '{}' ({}) has no '{key}'", storage.id, storage.kind.name()),
            )
            .help("add it to storage.cfg")
        })
    };
    use StorageType::*;
    match storage.kind {
        Dir | Nfs | Cifs | CephFs | Btrfs => {
            let (vtype, rel) = dir_volname(volname).ok_or_else(|| bad(storage.kind.name()))?;
            vol.vtype = vtype;
            let file_name = rel.rsplit('/').next().unwrap_or(&rel).to_owned();
            vol.format = match vtype {
                "images" => format_of(&file_name).unwrap_or("raw").to_owned(),
                _ => "raw".to_owned(),
            };
            // nfs/cifs/cephfs got their default path at parse time; dir and btrfs must have one.
            let base = if matches!(storage.kind, Dir | Btrfs) { need("path")? } else { storage.path() };
            let mut path = format!("{}/{rel}", base.trim_end_matches('/'));
            if storage.kind == Btrfs && vtype == "images" && vol.format == "raw" {
                // BTRFSPlugin: every raw image lives in its own subvolume as `disk.raw`.
                path = format!("{}/disk.raw", path.trim_end_matches(".raw"));
            }
            if vol.format == "subvol" {
                return Err(Note::error(
                    code::BAD_VOLUME_NAME,
                    format!("'{volname}' is a container subvolume, not a VM disk"),
                ));
            }
            vol.source = Source::File(path);
        }
        Lvm | LvmThin => {
            if !owned_name(volname, &["vm", "base"]) {
                return Err(bad(storage.kind.name()));
            }
            vol.format = if storage.kind == Lvm && name.ends_with(".qcow2") { "qcow2" } else { "raw" }.into();
            vol.source = Source::Block(format!("/dev/{}/{name}", need("vgname")?));
        }
        ZfsPool => {
            if !block_volname(volname, &["vm", "base", "subvol", "basevol"]) {
                return Err(bad("zfspool"));
            }
            vol.source = Source::Block(format!("/dev/zvol/{}/{name}", need("pool")?));
        }
        Rbd => {
            if !block_volname(volname, &["vm", "base"]) {
                return Err(bad("rbd"));
            }
            resolve_rbd(storage, name, &mut vol)
        }
        Iscsi => {
            // ISCSIPlugin `parse_volname`: `^\d+\.\d+\.\d+\.(\S+)$`.
            let mut it = volname.splitn(4, '.');
            let ok = (0..3).all(|_| it.next().is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())));
            let by_id = it.next().filter(|r| ok && !r.is_empty() && !r.contains(char::is_whitespace));
            let by_id = by_id.ok_or_else(|| bad("iscsi"))?;
            vol.source = Source::Block(format!("/dev/disk/by-id/{by_id}"));
        }
        IscsiDirect => {
            let lun = volname.strip_prefix("lun").filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
            let lun = lun.ok_or_else(|| bad("iscsidirect"))?;
            vol.source = Source::Network(NetworkVolume {
                protocol: "iscsi",
                name: format!("{}/{lun}", need("target")?),
                hosts: vec![portal(need("portal")?)],
                auth: None,
                config: None,
            });
            vol.notes.push(initiator_note());
        }
        Zfs => {
            if !block_volname(volname, &["vm", "base", "subvol", "basevol"]) {
                return Err(bad("zfs"));
            }
            vol.source = Source::Network(NetworkVolume {
                protocol: "iscsi",
                name: format!("{}/0", need("target")?),
                hosts: vec![portal(need("portal")?)],
                auth: None,
                config: None,
            });
            vol.notes.push(Note::warning(code::ZFS_ISCSI_LUN, format!("the LUN of '{name}' on the ZFS-over-iSCSI target is looked up at start by Proxmox; LUN 0 is assumed")).help(format!(
                    "check the LUN of {name} on the target ({}) and change the `/0` in the source name",
                    storage.prop("iscsiprovider").unwrap_or("provider unknown")
                )));
            vol.notes.push(initiator_note());
        }
        Pbs | Esxi => {
            return Err(Note::error(
                code::NOT_ATTACHABLE,
                format!("storage '{}' ({}) holds no attachable disk images", storage.id, storage.kind.name()),
            ));
        }
    }
    // A drive's explicit `format=` wins (QemuServer: `$drive->{format} // storage format`).
    if let Some(f) = format {
        vol.format = f.to_owned();
    }
    Ok(vol)
}

/// `(vm|base|…)-<vmid>-<rest>`, the image names the block storage plugins accept.
fn owned_name(name: &str, prefixes: &[&str]) -> bool {
    let Some((prefix, rest)) = name.split_once('-') else {
        return false;
    };
    let Some((vmid, tail)) = rest.split_once('-') else {
        return false;
    };
    prefixes.contains(&prefix)
        && !vmid.is_empty()
        && vmid.bytes().all(|b| b.is_ascii_digit())
        && !tail.is_empty()
        && !tail.contains(|c: char| c.is_whitespace() || c == '/')
}

/// An image name, optionally below its linked-clone base (`base-100-disk-0/vm-101-disk-0`).
fn block_volname(volname: &str, prefixes: &[&str]) -> bool {
    match volname.split_once('/') {
        Some((base, name)) => owned_name(base, &["base", "basevol"]) && owned_name(name, prefixes),
        None => owned_name(volname, prefixes),
    }
}

fn initiator_note() -> Note {
    Note::advice(code::ISCSI_INITIATOR, "QEMU logs in to the iSCSI target with its own initiator name, not the node's")
        .help(
            "if the target restricts initiators, add <initiator><iqn name='…'/></initiator> to the disk's <source> \
             with the name from /etc/iscsi/initiatorname.iscsi",
        )
}

/// An iSCSI portal `host[:port]` (port 3260 by default).
fn portal(p: &str) -> (String, String) {
    split_host_port(p, defaults::ISCSI_PORT)
}

/// `host`, `host:port`, `[v6]:port` or a bare IPv6 address.
fn split_host_port(p: &str, default_port: &str) -> (String, String) {
    if let Some(rest) = p.strip_prefix('[') {
        if let Some((host, tail)) = rest.split_once(']') {
            let port = tail.strip_prefix(':').filter(|s| !s.is_empty()).unwrap_or(default_port);
            return (host.to_owned(), port.to_owned());
        }
    }
    match p.split_once(':') {
        Some((host, port)) if !port.contains(':') && !port.is_empty() => (host.to_owned(), port.to_owned()),
        _ => (p.to_owned(), default_port.to_owned()),
    }
}

fn resolve_rbd(storage: &Storage, image: &str, vol: &mut Volume) {
    let pool = storage.prop("pool").unwrap_or(defaults::RBD_POOL);
    let namespace = storage.prop("namespace");
    let krbd = storage.flag("krbd");
    let pool_ns = match namespace {
        Some(ns) => format!("{pool}/{ns}"),
        None => pool.to_owned(),
    };
    if krbd || namespace.is_some() {
        vol.krbd = true;
        // RBDPlugin `get_rbd_dev_path`: /dev/rbd-pve/<fsid>/… is the udev link Proxmox's rules
        // create; without the cluster fsid only the kernel's own /dev/rbd/<pool>/<image> is known.
        let path = match storage.prop("fsid") {
            Some(fsid) => format!("/dev/rbd-pve/{fsid}/{pool_ns}/{image}"),
            None => {
                vol.notes.push(Note::advice(
                    code::RBD_KRBD,
                    format!(
                        "the ceph cluster fsid of storage '{}' is unknown: the kernel's /dev/rbd path is used",
                        storage.id
                    ),
                ));
                format!("/dev/rbd/{pool_ns}/{image}")
            }
        };
        if !krbd {
            vol.notes.push(
                Note::warning(
                    code::RBD_NAMESPACE,
                    format!(
                        "libvirt 9.0 cannot name rbd namespace '{}': the image is used through the kernel rbd driver",
                        namespace.unwrap_or_default()
                    ),
                )
                .help(format!("map it on the target before starting the VM: rbd map {pool_ns}/{image}")),
            );
        } else {
            vol.notes.push(
                Note::advice(
                    code::RBD_KRBD,
                    format!(
                        "storage '{}' uses krbd: the image must be mapped on the target before the VM starts",
                        storage.id
                    ),
                )
                .help(format!("rbd map {pool_ns}/{image} (Proxmox maps it on VM start)")),
            );
        }
        vol.source = Source::Block(path);
        return;
    }
    let user = storage.prop("username").unwrap_or(defaults::RBD_USER).to_owned();
    let (hosts, config) = match storage.prop("monhost") {
        // Proxmox's blockdev splits monhost on `[,; ]` and puts port 3300 (msgr2) on bare hosts.
        Some(mons) => (
            mons.split([',', ';', ' '])
                .filter(|m| !m.is_empty())
                .map(|m| split_host_port(m, defaults::CEPH_MON_PORT))
                .collect(),
            None,
        ),
        // PVE-managed (hyper-converged) ceph: monitors come from the cluster's ceph.conf.
        None => (Vec::new(), Some("/etc/pve/ceph.conf".to_owned())),
    };
    let usage = format!("pve2virt-{}", storage.id);
    vol.notes.push(Note::warning(code::RBD_SECRET, format!("the ceph key of user '{user}' must be defined as libvirt secret '{usage}' on the target")).help(format!(
            "virsh secret-define a <secret ephemeral='no' private='yes'><usage type='ceph'><name>{usage}</name></usage></secret>, \
             then virsh secret-set-value with the key from /etc/pve/priv/ceph/{}.keyring",
            storage.id
        )));
    if config.is_some() {
        vol.notes.push(
            Note::advice(
                code::RBD_CEPH_CONF,
                format!("storage '{}' has no monhost: the monitors are read from /etc/pve/ceph.conf", storage.id),
            )
            .help("copy the cluster's ceph.conf to that path on the target, or add <host> elements"),
        );
    }
    vol.source = Source::Network(NetworkVolume {
        protocol: "rbd",
        name: format!("{pool}/{image}"),
        hosts,
        auth: Some((user, usage)),
        config,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(cfg: &StorageConfig, file: &str) -> Result<Volume, Note> {
        let map = BTreeMap::new();
        Resolver { storage: cfg, storage_map: &map }.resolve(file, None, false)
    }

    #[test]
    fn fresh_install_layout() {
        let cfg = StorageConfig::fresh_install();
        let v = resolve(&cfg, "local-lvm:vm-100-disk-0").unwrap();
        assert_eq!(v.source, Source::Block("/dev/pve/vm-100-disk-0".into()));
        assert!(resolve(&cfg, "local:100/vm-100-disk-0.qcow2").is_err(), "fresh local has no images");
        let v = resolve(&cfg, "local-zfs:vm-100-disk-0").unwrap();
        assert_eq!(v.source, Source::Block("/dev/zvol/rpool/data/vm-100-disk-0".into()));
    }

    #[test]
    fn sections_and_flags() {
        let text = "dir: local\n\tpath /srv\n\ncifs: smb\n\tserver 1.2.3.4\n\tshare s\n\tcontent images\n\n\
                    zfspool: zp\n\tpool rpool/data\n\tsparse\n\nglusterfs: gl\n\tserver x\n";
        let cfg = StorageConfig::parse(text).unwrap();
        assert_eq!(cfg.get("local").unwrap().prop("path"), Some("/var/lib/vz"));
        assert_eq!(cfg.get("smb").unwrap().prop("path"), Some("/mnt/pve/smb"));
        assert_eq!(cfg.get("zp").unwrap().prop("sparse"), Some("1"));
        assert_eq!(cfg.skipped, vec![("gl".to_owned(), "glusterfs".to_owned())]);
        let v = resolve(&cfg, "zp:vm-1-disk-0").unwrap();
        assert_eq!(v.source, Source::Block("/dev/zvol/rpool/data/vm-1-disk-0".into()));
    }

    #[test]
    fn all_errors_at_once() {
        let text = "dir: a1\n\tpath /x\n\tpath /y\nnot a header\n\n\tloose\nlvm: 1bad\n";
        let errs = StorageConfig::parse(text).unwrap_err();
        let codes: Vec<_> = errs.iter().map(|n| n.code).collect();
        assert_eq!(codes, [DUPLICATE_ATTRIBUTE, SYNTAX, SYNTAX, BAD_STORAGE_ID]);
    }

    #[test]
    fn host_ports() {
        assert_eq!(split_host_port("::1", "3300"), ("::1".into(), "3300".into()));
        assert_eq!(split_host_port("[::1]:6789", "3300"), ("::1".into(), "6789".into()));
        assert_eq!(split_host_port("10.0.0.1:6789", "3300"), ("10.0.0.1".into(), "6789".into()));
    }
}
