//! The command-line options of the cluster work (`--vlan-mode`, `--host-sysfs`, `--pve-root`,
//! `--pve-node`), flattened into `convert`/`explain`.

use std::path::PathBuf;
use std::sync::OnceLock;

use clap::{Args, ValueEnum};

use crate::map::{MapOptions, VlanMode};
use crate::pve::cluster::Cluster;

const DEFAULT_PVE_ROOT: &str = "/etc/pve";

#[derive(Clone, Copy, ValueEnum)]
pub enum VlanModeArg {
    /// `<vlan>` and `<virtualport type='openvswitch'/>`: the target bridge is Open vSwitch.
    Ovs,
    /// Attach to `<bridge>v<tag>`, as Proxmox does on a bridge that is not VLAN-aware.
    BridgePerVlan,
    /// Write `<vmid>.qemu-hook`, a libvirt hook that sets `bridge vlan` on the tap.
    Hook,
}

#[derive(Args, Default)]
pub struct ClusterArgs {
    /// How a NIC's VLAN tag reaches the target: `bridge-per-vlan` (bridge `vmbr0v20`, Proxmox's
    /// layout for bridges that are not VLAN-aware), `hook` (a libvirt hook script `<vmid>.qemu-hook`
    /// beside the XML sets `bridge vlan` on the tap of a VLAN-aware bridge) or `ovs` (Open vSwitch).
    #[arg(long, value_enum, value_name = "MODE", default_value = "bridge-per-vlan")]
    pub vlan_mode: Option<VlanModeArg>,
    /// The host's `/sys/bus/pci/devices` (or a copy of it): `hostpciN: 01:00` then passes every
    /// function of the device, as Proxmox does.
    #[arg(long, value_name = "DIR")]
    pub host_sysfs: Option<PathBuf>,
    /// The Proxmox cluster file system (default /etc/pve): storage.cfg, mapping/,
    /// virtual-guest/cpu-models.conf, firewall/ are read from here where they exist.
    #[arg(long, value_name = "DIR")]
    pub pve_root: Option<PathBuf>,
    /// The Proxmox node whose entries of the cluster's device and directory mappings apply
    /// (default: this host's name).
    #[arg(long, value_name = "NAME")]
    pub pve_node: Option<String>,
    /// Rebuild the cloud-init seed from the ci* keys as Proxmox does (same instance id) into
    /// `DIR/<vmid>-cloudinit.iso` (with genisoimage) and attach it, instead of Proxmox's own seed volume.
    #[arg(long, value_name = "DIR")]
    pub regenerate_cloudinit: Option<PathBuf>,
    #[arg(skip)]
    loaded: OnceLock<Cluster>,
}

impl ClusterArgs {
    /// `DIR/storage.cfg`, read when `--storage-cfg` is not given.
    pub fn storage_cfg(&self) -> PathBuf {
        self.root().join("storage.cfg")
    }

    /// `--pve-root`, or /etc/pve.
    pub fn root(&self) -> PathBuf {
        self.pve_root.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_PVE_ROOT))
    }

    /// Sets this struct's options in `map`; the cluster files are read once per run.
    pub fn apply(&self, map: &mut MapOptions) {
        map.vlan_mode = match self.vlan_mode {
            Some(VlanModeArg::Ovs) => VlanMode::Ovs,
            Some(VlanModeArg::Hook) => VlanMode::Hook,
            Some(VlanModeArg::BridgePerVlan) | None => VlanMode::BridgePerVlan,
        };
        map.host_sysfs = self.host_sysfs.clone();
        map.regenerate_cloudinit = self.regenerate_cloudinit.clone();
        map.cluster = self
            .loaded
            .get_or_init(|| {
                let mut c = Cluster::load(&self.root(), self.pve_node.as_deref());
                // A folder given by hand that is not there is a mistake; /etc/pve missing is not
                // (pve2virt usually runs off the Proxmox host).
                if let Some(root) = self.pve_root.as_ref().filter(|r| !r.is_dir()) {
                    c.notes.push(crate::report::Note::warning(
                        crate::report::code::CLUSTER_FILE,
                        format!("--pve-root {} is not a folder; no cluster files were read", root.display()),
                    ));
                }
                c
            })
            .clone();
    }
}
