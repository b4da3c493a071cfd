//! The translation: a checked Proxmox VM in, a libvirt [`Domain`] and the notes out. One file per
//! device family; each records, for every key it reads, what the key became or why it was not
//! translated ([`Ctx::mapped`], [`Ctx::note`]), so that no key is dropped silently.

mod args;
pub mod boot;
pub mod cloudinit;
mod cpu;
mod devices;
mod disk;
mod firmware;
mod hostpci;
mod identity;
pub mod machine;
mod memory;
mod net;
pub mod nwfilter;
mod order;
pub mod pci;
mod rng;
mod usb;
pub mod vlan;
mod x86_features;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::libvirt::{Domain, DomainAddress, DomainBootOrder, DomainType};
use crate::pve::schema::Key;
use crate::pve::storage::StorageConfig;
use crate::pve::vm::VmConfig;
use crate::report::{code, Note};
use pci::{PciDevice, PciLayout};
pub use vlan::VlanMode;

/// Choices the user makes about the target host.
#[derive(Debug, Clone)]
pub struct MapOptions {
    /// Overrides the domain type (`kvm` from `kvm: 1`, `qemu` from `kvm: 0`).
    pub domain_type: Option<DomainType>,
    /// The target host's QEMU version (`major.minor`): newer machine versions are lowered to it.
    pub host_qemu: Option<(u32, u32)>,
    /// The Proxmox storage layout that volume ids are resolved against.
    pub storage: StorageConfig,
    /// `--map-storage ID=DIR`: that storage's volumes become files under DIR on the target.
    pub storage_map: BTreeMap<String, PathBuf>,
    /// `--map-bridge FROM=TO`: NICs on Proxmox bridge FROM attach to TO on the target.
    pub bridge_map: BTreeMap<String, String>,
    /// Pass the `args:` options that have no libvirt form to QEMU through `<qemu:commandline>`.
    pub allow_qemu_args: bool,
    /// Leave PCI placement to libvirt instead of keeping Proxmox's slots.
    pub libvirt_addresses: bool,
    pub tpm_backend: TpmBackend,
    /// Where the OVMF firmware files are on the target (Debian: /usr/share/OVMF).
    pub firmware_dir: PathBuf,
    /// `--vlan-mode`: how a NIC's `tag`/`trunks` reach the target's bridge.
    pub vlan_mode: VlanMode,
    /// `--host-sysfs DIR`: the host's `/sys/bus/pci/devices`, to list a device's functions.
    pub host_sysfs: Option<PathBuf>,
    /// `--pve-root DIR`: the cluster's files (mappings, CPU models, firewall).
    pub cluster: crate::pve::cluster::Cluster,
    /// `--regenerate-cloudinit DIR`: rebuild the cloud-init seed into `DIR/<vmid>-cloudinit.iso`.
    pub regenerate_cloudinit: Option<PathBuf>,
    /// `--target`/`--target-caps`: what the target host runs; machine type, domain type,
    /// firmware, CPU model and device models are fitted to it. `None`: Proxmox-faithful output.
    pub target: Option<crate::target::TargetCaps>,
    /// Volumes copied by `pve2virt migrate`: key (`scsi0`, `efidisk0`, `tpmstate0`, the cloud-init
    /// drive's key) → the copy on the target. The domain then names the copies, and a carried TPM
    /// state becomes a libvirt-managed emulator.
    pub relocate: BTreeMap<String, Relocated>,
}

/// Where `pve2virt migrate` put a volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relocated {
    /// The copy's path (for `tpmstate0`: the converted state lives in libvirt's own directory).
    pub path: String,
    pub format: String,
}

/// What a volume is to the VM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VolumeRole {
    Disk,
    Cdrom,
    Cloudinit,
    Efidisk,
    Tpmstate,
    Unused,
}

/// A volume the translated state uses, resolved by the same [`Resolver`](crate::pve::storage::Resolver)
/// call that produced the domain's source for it.
#[derive(Debug, Clone, PartialEq)]
pub struct UsedVolume {
    pub key: String,
    pub role: VolumeRole,
    /// The config's `file` (volume id or path).
    pub file: String,
    /// The config's `size=`, if any.
    pub size: Option<u64>,
    pub volume: Result<crate::pve::storage::Volume, crate::report::Note>,
    /// efidisk0: the OVMF varstore size of its efitype.
    pub varstore: Option<u64>,
    /// tpmstate0: `2.0` or `1.2`.
    pub tpm_version: Option<&'static str>,
}

impl Default for MapOptions {
    fn default() -> Self {
        MapOptions {
            domain_type: None,
            host_qemu: None,
            storage: StorageConfig::fresh_install(),
            storage_map: BTreeMap::new(),
            bridge_map: BTreeMap::new(),
            allow_qemu_args: false,
            libvirt_addresses: false,
            tpm_backend: TpmBackend::External,
            firmware_dir: PathBuf::from("/usr/share/OVMF"),
            vlan_mode: VlanMode::default(),
            host_sysfs: None,
            cluster: crate::pve::cluster::Cluster::default(),
            regenerate_cloudinit: None,
            target: None,
            relocate: BTreeMap::new(),
        }
    }
}

/// How a `tpmstate0` is carried over (docs/mapping.md#tpm).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TpmBackend {
    /// Keep the Proxmox TPM state: libvirt connects to a swtpm started on the state volume outside
    /// libvirt (`<backend type='external'>`), as Proxmox runs it.
    #[default]
    External,
    /// libvirt-managed swtpm with fresh state: the guest's TPM secrets (BitLocker keys, …) are lost.
    Emulator,
}

/// A file the conversion writes beside the domain XML (`<vmid>.nwfilter.xml`, `<vmid>.qemu-hook`).
#[derive(Debug, Clone, PartialEq)]
pub struct SideFile {
    /// The file name, without folder.
    pub name: String,
    pub contents: String,
    /// Whether the file is a script to be made executable.
    pub executable: bool,
}

/// What became of one Proxmox key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyOutcome {
    pub key: String,
    pub value: String,
    /// The libvirt element(s) the key became, empty if none.
    pub became: Vec<String>,
    /// Codes of the notes about this key.
    pub notes: Vec<&'static str>,
}

/// The translation's working state: the domain being built, the notes, and the key accounting.
pub struct Ctx<'a> {
    pub vm: &'a VmConfig,
    pub opts: &'a MapOptions,
    pub notes: Vec<Note>,
    /// The machine type chosen (set first, by `machine::map`).
    pub machine: machine::MachineType,
    pci: PciLayout,
    boot: BTreeMap<String, u32>,
    outcomes: BTreeMap<String, (Vec<String>, Vec<&'static str>)>,
    /// One row per option of `args` (`args[0]`, …), listed after `args` by `explain`.
    args_rows: Vec<KeyOutcome>,
    /// Files to write beside the XML.
    pub files: Vec<SideFile>,
    /// The drive that attaches Proxmox's cloud-init seed volume, if any (set by `disk::map`).
    pub cloudinit_seed: Option<String>,
    /// The seed rebuilt under `--regenerate-cloudinit`, to be written with the XML.
    pub seed: Option<cloudinit::Seed>,
    /// Every volume resolved, in the order the families met them.
    pub volumes: Vec<UsedVolume>,
}

impl<'a> Ctx<'a> {
    fn new(vm: &'a VmConfig, opts: &'a MapOptions) -> Self {
        Ctx {
            vm,
            opts,
            notes: Vec::new(),
            machine: machine::MachineType::parse("pc").expect("pc is a machine type"),
            pci: PciLayout::new(false, !opts.libvirt_addresses),
            boot: boot::boot_indices(vm),
            outcomes: BTreeMap::new(),
            args_rows: Vec::new(),
            files: Vec::new(),
            cloudinit_seed: None,
            seed: None,
            volumes: Vec::new(),
        }
    }

    /// Whether the machine is q35 (PCIe) rather than i440fx.
    pub fn is_q35(&self) -> bool {
        self.machine.is_q35()
    }

    /// The PCI address Proxmox gives `dev` (`None` with `--libvirt-addresses`).
    pub fn pci_address(&mut self, dev: PciDevice) -> Option<DomainAddress> {
        self.pci.address(dev)
    }

    /// A fresh PCI controller index, for controllers a family adds itself (pcie-root-ports), taken
    /// from the same sequence as the Proxmox bridges so that libvirt sees no gaps.
    pub fn pci_controller_index(&mut self) -> u32 {
        self.pci.take_index()
    }

    /// The device's `<boot order>`: Proxmox's bootindex for it (`scsi0`, `net0`, `hostpci1`, `usb0`).
    pub fn boot_order(&self, device: &str) -> Option<DomainBootOrder> {
        self.boot.get(device).map(|&order| DomainBootOrder { order })
    }

    /// Records that `key` was translated into `element` (an XML path such as `devices/rng`).
    pub fn mapped(&mut self, key: impl Into<Key>, element: &str) {
        let entry = self.outcomes.entry(key.into().into()).or_default();
        if !entry.0.iter().any(|e| e == element) {
            entry.0.push(element.to_owned());
        }
    }

    /// Adds a note; a note with a key also counts as that key's account.
    pub fn note(&mut self, note: Note) {
        if let Some(key) = &note.key {
            self.outcomes.entry(key.clone()).or_default().1.push(note.code);
        }
        self.notes.push(note);
    }

    /// A note about `key`, pointing at the key's line when it is set.
    pub fn note_on(&mut self, key: impl Into<Key>, note: Note) {
        let key = key.into();
        let span = self.vm.get(key.as_str()).map(|e| e.span());
        let mut note = note.key(key);
        if note.span.is_none() {
            if let Some(span) = span {
                note = note.at(span);
            }
        }
        self.note(note);
    }

    fn is_accounted(&self, key: &str) -> bool {
        self.outcomes.contains_key(key)
    }
}

/// The machine type, and with it the PCI layout (PCIe on q35) the other families place devices in.
fn machine_and_layout(ctx: &mut Ctx, domain: &mut Domain) {
    machine::map(ctx, domain);
    ctx.pci = PciLayout::new(ctx.is_q35(), !ctx.opts.libvirt_addresses);
}

/// `boot`/`bootdisk` become each device's `<boot order>`, which the families set as they place it.
fn boot_accounting(ctx: &mut Ctx, _: &mut Domain) {
    let vm = ctx.vm;
    if vm.keys().boot().is_some() {
        ctx.mapped(Key::boot, "devices/*/boot@order");
    }
    if vm.keys().bootdisk().is_some() {
        ctx.mapped(Key::bootdisk, "devices/*/boot@order");
    }
    let bootable = !vm.drives().is_empty() || vm.keys().net().next().is_some();
    if ctx.boot.is_empty() && bootable {
        // No device has a bootindex in Proxmox (the firmware's own order); libvirt cannot say
        // that: with no boot element it boots from the first disk (`<boot dev='hd'/>`).
        ctx.note_on(
            Key::boot,
            Note::advice(
                code::BOOT_LIBVIRT_DEFAULT,
                "no device is marked bootable; libvirt will boot from the first disk",
            )
            .help("Proxmox leaves the order to the firmware here; add <boot order='1'/> to a device to choose"),
        );
    }
}

/// The PCI bridges (`pci-bridge`, `pcie-root-port`) the devices were placed behind.
fn pci_bridges(ctx: &mut Ctx, domain: &mut Domain) {
    domain.devices.controllers.extend(ctx.pci.controllers());
}

/// The result of the map stage.
#[derive(Debug, Clone)]
pub struct Mapped {
    pub domain: Domain,
    pub notes: Vec<Note>,
    pub outcomes: Vec<KeyOutcome>,
    pub files: Vec<SideFile>,
    pub seed: Option<cloudinit::Seed>,
    /// The volumes the domain uses (and the unused ones), as resolved for it.
    pub volumes: Vec<UsedVolume>,
}

/// Translates a checked VM. Errors are notes of severity error (e.g. a combination libvirt cannot
/// express and the user must decide about).
pub fn translate(vm: &VmConfig, opts: &MapOptions) -> Result<Mapped, Vec<Note>> {
    let mut ctx = Ctx::new(vm, opts);
    let mut domain = Domain::default();
    for note in &opts.cluster.notes {
        ctx.note(note.clone());
    }

    order::run(&mut ctx, &mut domain);

    // Anything no family claimed is reported, never dropped silently.
    for entry in &vm.entries {
        if !ctx.is_accounted(&entry.key.value) {
            let key = entry.key.value.clone();
            ctx.note(
                Note::warning(code::NOT_YET_TRANSLATED, "this setting is not translated yet and was left out")
                    .key(key)
                    .at(entry.span())
                    .label("left out")
                    .help("the guest will not have this setting; add it to the domain by hand if it matters"),
            );
        }
    }

    let errors: Vec<Note> = ctx.notes.iter().filter(|n| n.is_error()).cloned().collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut outcomes = Vec::new();
    for e in &vm.entries {
        let (became, notes) = ctx.outcomes.get(&e.key.value).cloned().unwrap_or_default();
        // A cloud-init password is a secret: never echo it.
        let value = if e.key.value == Key::cipassword.as_str() { "********".to_owned() } else { value_text(e) };
        outcomes.push(KeyOutcome { key: e.key.value.clone(), value, became, notes });
        if e.key.value == Key::args.as_str() {
            outcomes.append(&mut ctx.args_rows);
        }
    }
    Ok(Mapped { domain, notes: ctx.notes, outcomes, files: ctx.files, seed: ctx.seed, volumes: ctx.volumes })
}

fn value_text(entry: &crate::pve::decode::Entry) -> String {
    use crate::pve::decode::Value;
    match &entry.value {
        Value::Scalar(s) => s.value.to_string(),
        Value::Props(p) => {
            p.props.iter().map(|p| format!("{}={}", p.name, p.value.value)).collect::<Vec<_>>().join(",")
        }
        Value::Verbatim(v) => v.value.clone(),
    }
}
