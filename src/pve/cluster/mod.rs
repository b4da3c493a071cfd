//! The cluster's own files under `/etc/pve` (`--pve-root`) that a VM config refers to: device and
//! directory mappings, custom CPU models, the firewall. Read once, before any VM is translated;
//! a file that is missing is simply absent, one that cannot be parsed gives notes.

pub mod args;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::report::Note;

/// What the cluster's files say, as far as pve2virt uses them.
#[derive(Debug, Clone, Default)]
pub struct Cluster {
    /// Where the files were read from; `None`: no cluster files (library default).
    pub root: Option<PathBuf>,
    /// `--pve-node`, else this host's name.
    pub node: Option<String>,
    /// Whether `node` was given (`--pve-node`) rather than taken from the host name.
    pub node_given: bool,
    /// Problems reading the files, reported with every conversion.
    pub notes: Vec<Note>,
    pub files: BTreeMap<String, String>,
}

impl Cluster {
    pub fn load(root: &Path, node: Option<&str>) -> Cluster {
        let mut cluster = Cluster { root: Some(root.to_owned()), ..Default::default() };
        cluster.node_given = node.is_some();
        cluster.node = node.map(str::to_owned).or_else(host_name);
        cluster
    }
}

/// This host's short name, as Proxmox's `PVE::INotify::nodename` (the name up to the first dot).
fn host_name() -> Option<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    let short = name.trim().split('.').next()?.to_owned();
    (!short.is_empty()).then_some(short)
}
