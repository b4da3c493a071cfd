//! The cluster's own files under `/etc/pve` (`--pve-root`) that a VM config refers to: device and
//! directory mappings, custom CPU models, the firewall. Read once, before any VM is translated;
//! a missing file is simply absent, one that cannot be read gives a note (docs/cluster.md).

pub mod args;
pub mod cpu_models;
pub mod firewall;
pub mod mapping;

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use crate::report::{code, Note};

pub use cpu_models::CpuModel;
pub use mapping::{Mapping, MappingKind};

/// What the cluster's files say, as far as pve2virt uses them.
#[derive(Debug, Clone, Default)]
pub struct Cluster {
    /// Where the files were read from; `None`: no cluster files (the library default).
    pub root: Option<PathBuf>,
    /// Whether the root is a directory (a Proxmox node, or a copy of its /etc/pve).
    pub present: bool,
    /// `--pve-node`, else this host's name.
    pub node: Option<String>,
    /// Whether `node` was given (`--pve-node`) rather than taken from the host name.
    pub node_given: bool,
    /// `mapping/pci.cfg`, `mapping/usb.cfg`, `mapping/directory.cfg`, by mapping id.
    pub pci: BTreeMap<String, Mapping>,
    pub usb: BTreeMap<String, Mapping>,
    pub dir: BTreeMap<String, Mapping>,
    /// `virtual-guest/cpu-models.conf`, by model name (without `custom-`).
    pub cpu_models: BTreeMap<String, CpuModel>,
    /// `firewall/cluster.fw`.
    pub cluster_fw: Option<firewall::FwFile>,
    /// `firewall/<vmid>.fw`.
    pub vm_fw: BTreeMap<u32, firewall::FwFile>,
    /// Problems reading the files, reported with every conversion.
    pub notes: Vec<Note>,
}

/// Where the cluster files are read from: this host ([`LocalFiles`]), or the Proxmox node that
/// `pve2virt plan/migrate --from ssh://` reads its configs from (`migrate::source::Host`), so that
/// mappings, CPU models and firewall rules come from the same node as the VM config.
pub trait ClusterFiles {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
    /// The file names in a folder.
    fn list(&self, dir: &Path) -> io::Result<Vec<String>>;
    fn is_dir(&self, path: &Path) -> bool;
    /// The node's short name, as Proxmox's `PVE::INotify::nodename` (up to the first dot).
    fn host_name(&self) -> Option<String>;
}

/// This host's file system.
pub struct LocalFiles;

impl ClusterFiles for LocalFiles {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        std::fs::read(path)
    }
    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        Ok(std::fs::read_dir(dir)?.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
    }
    fn is_dir(&self, path: &Path) -> bool {
        path.is_dir()
    }
    fn host_name(&self) -> Option<String> {
        short_host_name(&std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?)
    }
}

impl Cluster {
    /// Reads the cluster files under `root` on this host.
    pub fn load(root: &Path, node: Option<&str>) -> Cluster {
        Cluster::load_from(&LocalFiles, root, node)
    }

    /// Reads the cluster files under `root` through `files`; `node` is `--pve-node`, else the
    /// name of the host the files are on.
    pub fn load_from(files: &dyn ClusterFiles, root: &Path, node: Option<&str>) -> Cluster {
        let mut c = Cluster { root: Some(root.to_owned()), ..Default::default() };
        c.node_given = node.is_some();
        c.present = files.is_dir(root);
        c.node = node.map(str::to_owned).or_else(|| files.host_name());
        if let Some(text) = c.read(files, "mapping/pci.cfg") {
            c.pci = mapping::parse(&text, MappingKind::Pci);
        }
        if let Some(text) = c.read(files, "mapping/usb.cfg") {
            c.usb = mapping::parse(&text, MappingKind::Usb);
        }
        // Proxmox's file is directory.cfg (PVE/Mapping/Dir.pm); dir.cfg is accepted too.
        if let Some(text) = c.read(files, "mapping/directory.cfg").or_else(|| c.read(files, "mapping/dir.cfg")) {
            c.dir = mapping::parse(&text, MappingKind::Dir);
        }
        if let Some(text) = c.read(files, "virtual-guest/cpu-models.conf") {
            let (models, problems) = cpu_models::parse(&text);
            c.cpu_models = models;
            c.notes.extend(problems.into_iter().map(|p| Note::warning(code::CLUSTER_VALUE, p)));
        }
        if let Some(text) = c.read(files, "firewall/cluster.fw") {
            c.cluster_fw = Some(firewall::FwFile::parse(&text));
        }
        let mut names = files.list(&root.join("firewall")).unwrap_or_default();
        names.sort();
        for name in names {
            let Some(vmid) = name.strip_suffix(".fw").and_then(|s| s.parse::<u32>().ok()) else { continue };
            if let Some(text) = c.read(files, &format!("firewall/{name}")) {
                c.vm_fw.insert(vmid, firewall::FwFile::parse(&text));
            }
        }
        c
    }

    /// A file under the root; `None` when it does not exist (a note when it exists but cannot be read).
    fn read(&mut self, files: &dyn ClusterFiles, rel: &str) -> Option<String> {
        let path = self.root.as_ref()?.join(rel);
        match files.read(&path) {
            Ok(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => {
                self.notes.push(Note::warning(code::CLUSTER_FILE, format!("cannot read {}: {e}", path.display())));
                None
            }
        }
    }

    /// The entries of mapping `m` for this node, and a note on how the node was chosen when it
    /// was not certain. `Err`: why no entry applies.
    pub fn node_entries<'m>(&self, m: &'m Mapping) -> Result<(Vec<&'m MapEntry>, Option<String>), String> {
        let nodes: std::collections::BTreeSet<&str> = m.maps.iter().filter_map(MapEntry::node).collect();
        if let Some(node) = &self.node {
            let here: Vec<_> = m.maps.iter().filter(|e| e.node() == Some(node.as_str())).collect();
            if !here.is_empty() {
                return Ok((here, None));
            }
            if self.node_given {
                return Err(format!("has no entry for node '{node}' (it has: {})", join(&nodes)));
            }
        }
        match nodes.len() {
            0 => Err("has no `map` entry".into()),
            1 => {
                let only = nodes.iter().next().copied().unwrap_or_default();
                let entries = m.maps.iter().filter(|e| e.node() == Some(only)).collect();
                Ok((
                    entries,
                    Some(format!(
                        "node '{only}' assumed: the only node of the mapping, and this host's name is not in it; pass --pve-node to choose"
                    )),
                ))
            }
            _ => Err(format!(
                "is ambiguous: it has entries for nodes {} and this host's name is none of them; pass --pve-node NAME",
                join(&nodes)
            )),
        }
    }
}

fn join(nodes: &std::collections::BTreeSet<&str>) -> String {
    nodes.iter().copied().collect::<Vec<_>>().join(", ")
}

/// A host name's short form (up to the first dot), as Proxmox's `PVE::INotify::nodename`.
pub fn short_host_name(name: &str) -> Option<String> {
    let short = name.trim().split('.').next()?.to_owned();
    (!short.is_empty()).then_some(short)
}

/// One `map node=…,path=…` line of a mapping (pve-guest-common `PVE/Mapping/*.pm`
/// `$map_fmt`), read through the keys the translation uses.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MapEntry(pub BTreeMap<String, String>);

impl MapEntry {
    pub fn node(&self) -> Option<&str> {
        self.0.get("node").map(String::as_str)
    }
    /// PCI: `;`-separated addresses; USB: the port; directory: the host path.
    pub fn path(&self) -> Option<&str> {
        self.0.get("path").map(String::as_str)
    }
    /// PCI: `vendor:device`; USB: `vendor:product`.
    pub fn id(&self) -> Option<&str> {
        self.0.get("id").map(String::as_str)
    }
}

/// A section of a section-config file: type (empty for the bare-id mapping files), id, properties.
pub(crate) type Section = (String, String, Vec<(String, String)>);

/// Proxmox's section-config files (PVE::SectionConfig): a header line (`type: id`, or the bare
/// `id` of the mapping files), then indented `key value` lines; `#` comments. Returns
/// `(type, id, properties)` with repeated keys kept in order.
pub(crate) fn sections(text: &str) -> Vec<Section> {
    let mut out: Vec<Section> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some(section) = out.last_mut() {
                let t = line.trim();
                let (k, v) = t.split_once([' ', '\t']).unwrap_or((t, ""));
                section.2.push((k.to_owned(), v.trim().to_owned()));
            }
        } else {
            let t = line.trim();
            let (kind, id) = match t.split_once(':') {
                Some((k, id)) => (k.trim().to_owned(), id.trim().to_owned()),
                None => (String::new(), t.to_owned()),
            };
            out.push((kind, id, Vec::new()));
        }
    }
    out
}

/// `k=v,k=v` property strings of the mapping and CPU-model files.
pub(crate) fn property_string(s: &str) -> BTreeMap<String, String> {
    s.split(',')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.trim().to_owned(), v.trim().to_owned()),
            None => (p.trim().to_owned(), String::new()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::io;
    use std::path::{Path, PathBuf};

    use super::{Cluster, ClusterFiles};

    /// A node's files held in memory, as `migrate --from ssh://` sees them through its `Host`.
    struct Node {
        name: &'static str,
        files: BTreeMap<PathBuf, &'static str>,
    }

    impl ClusterFiles for Node {
        fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
            self.files.get(path).map(|t| t.as_bytes().to_vec()).ok_or_else(|| io::ErrorKind::NotFound.into())
        }
        fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
            Ok(self
                .files
                .keys()
                .filter(|p| p.parent() == Some(dir))
                .filter_map(|p| Some(p.file_name()?.to_string_lossy().into_owned()))
                .collect())
        }
        fn is_dir(&self, path: &Path) -> bool {
            self.files.keys().any(|p| p.starts_with(path))
        }
        fn host_name(&self) -> Option<String> {
            Some(self.name.to_owned())
        }
    }

    /// The files and the node name come from where the configs are, not from this host: the
    /// mapping's entry for the source node applies.
    #[test]
    fn reads_the_node_it_is_given() {
        let node = Node {
            name: "pve2",
            files: [
                ("/etc/pve/mapping/pci.cfg", "gpu\n\tmap node=pve1,path=0000:01:00\n\tmap node=pve2,path=0000:41:00\n"),
                ("/etc/pve/virtual-guest/cpu-models.conf", "cpu-model: lab\n\treported-model EPYC-Rome\n"),
                ("/etc/pve/firewall/120.fw", "[OPTIONS]\nenable: 1\n"),
                ("/etc/pve/firewall/notes.txt", "not a VM's firewall\n"),
            ]
            .into_iter()
            .map(|(p, t)| (PathBuf::from(p), t))
            .collect(),
        };
        let c = Cluster::load_from(&node, Path::new("/etc/pve"), None);
        assert!(c.present);
        assert_eq!(c.node.as_deref(), Some("pve2"));
        let (entries, note) = c.node_entries(&c.pci["gpu"]).unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].path(), Some("0000:41:00"));
        assert_eq!(note, None);
        assert!(c.cpu_models.contains_key("lab"));
        assert_eq!(c.vm_fw.keys().copied().collect::<Vec<_>>(), [120]);
        assert!(c.notes.is_empty(), "{:?}", c.notes);

        // --pve-node wins over the node's own name.
        let c = Cluster::load_from(&node, Path::new("/etc/pve"), Some("pve1"));
        assert_eq!(c.node_entries(&c.pci["gpu"]).unwrap().0[0].path(), Some("0000:01:00"));
    }
}
