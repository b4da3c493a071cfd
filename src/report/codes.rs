//! The registry of note codes: every code the converter can raise, declared once with its severity,
//! a one-line summary and a help text for users. `docs/notes.md` is generated from it
//! (`UPDATE_DOCS=1 cargo test -p pve2virt --lib report::codes`), `pve2virt explain --code CODE`
//! prints an entry, and the JSON report links each note to its entry.
//!
//! Adding a code: one entry below (append to its group; never rename or re-use a code string,
//! pipelines match on them), then raise it with `Note::error`/`Note::warning`/`Note::advice` as
//! registered. Debug builds panic when a note is raised at another severity than its entry's, and
//! the tests of this module check every call site and every code string in the sources.

use super::Severity;

/// One registered code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The constant's name in [`code`] (`EFIDISK_OVERSIZED`).
    pub name: &'static str,
    /// The stable code (`pve2virt::map::efidisk_oversized`).
    pub code: &'static str,
    /// The only severity the code is raised at.
    pub severity: Severity,
    /// What the note says, in one line.
    pub summary: &'static str,
    /// Why it happens and what the user can do.
    pub help: &'static str,
}

impl Entry {
    /// The anchor of the entry in `docs/notes.md`: the code without `pve2virt::`, `::` as `-`
    /// (`map-efidisk_oversized`; the last segment alone is not unique: `parse::syntax`, `storage::syntax`).
    pub fn anchor(&self) -> String {
        self.code.trim_start_matches("pve2virt::").replace("::", "-")
    }
    /// The link to the entry, relative to the repository root.
    pub fn doc_ref(&self) -> String {
        format!("{DOC_PATH}#{}", self.anchor())
    }
}

/// Where the generated page lives, relative to the repository root.
pub const DOC_PATH: &str = "docs/notes.md";

macro_rules! declare_codes {
    ($( $(#[$group:meta])* $name:ident = $code:literal, $severity:ident, $summary:literal, $help:literal; )*) => {
        /// Stable diagnostic codes. Pipelines match on these strings: never rename one, add a new one
        /// (in `src/report/codes.rs`, with its severity, summary and help).
        pub mod code {
            $( $(#[$group])* #[doc = $summary] pub const $name: &str = $code; )*
        }
        /// Every code, in declaration order.
        pub static REGISTRY: &[Entry] = &[
            $( Entry { name: stringify!($name), code: $code, severity: Severity::$severity, summary: $summary, help: $help }, )*
        ];
    };
}

declare_codes! {
    // The file grammar (docs/proxmox-config.md#the-file).
    NOT_UTF8 = "pve2virt::parse::not_utf8", Error,
        "a line of the config is not valid UTF-8",
        "Proxmox writes its configs as UTF-8, so bytes that are not UTF-8 mean the file is damaged or is not a VM config. Re-read it from /etc/pve/qemu-server/ on the Proxmox node, or fix the line (the invalid bytes are shown as U+FFFD).";
    TOO_LARGE = "pve2virt::parse::too_large", Error,
        "the config, or one of its lines, is larger than pve2virt accepts",
        "A Proxmox config is a few kilobytes and no setting is longer than 8 KiB (a description line), so the limits (4 MiB per file, 64 KiB per line) only stop the wrong file or hostile input. Check that the right file was given.";
    TOO_MANY_ERRORS = "pve2virt::parse::too_many_errors", Error,
        "more errors than are listed for one file",
        "After 100 errors the rest are counted, not shown: the file is probably not a Proxmox VM config. Fix the errors shown and run again.";
    SYNTAX = "pve2virt::parse::syntax", Error,
        "a line is not `key: value`, a `#` comment or a `[section]` header",
        "Proxmox's parser (PVE::QemuServer parse_vm_config) refuses such a line too. Look for a missing colon, a stray character or a line broken in two.";
    DUPLICATE_KEY = "pve2virt::parse::duplicate_key", Error,
        "a key is set twice in one section",
        "Proxmox would keep the later value without a word; pve2virt refuses to guess. Delete the line that is not meant.";
    DUPLICATE_SECTION = "pve2virt::parse::duplicate_section", Error,
        "two snapshot or special sections have the same name",
        "Proxmox would silently keep only the later one. Merge or rename the sections.";
    UNKNOWN_SECTION = "pve2virt::parse::unknown_section", Error,
        "a `[section]` header is not a snapshot, `[PENDING]` or `[special:…]` section",
        "Snapshot names start with a letter and have at least two characters of [a-z0-9_-]; the other sections are `[PENDING]`, `[special:cloudinit]` and `[special:fleecing]`. Fix the header's name.";
    DELETE_OUTSIDE_PENDING = "pve2virt::parse::delete_outside_pending", Error,
        "`delete:` appears outside the `[PENDING]` section",
        "Only pending changes can delete keys. Move the line into `[PENDING]` or remove it.";
    UNKNOWN_KEY = "pve2virt::parse::unknown_key", Error,
        "a key is not a Proxmox VM setting",
        "pve2virt knows every key of qemu-server's schema (PVE::QemuServer $confdesc); an unknown one is a typo or comes from a Proxmox version pve2virt does not know. The help names the key meant when it can tell (a known prefix, or an index out of range).";
    BAD_VALUE = "pve2virt::parse::bad_value", Error,
        "a value does not match its key's format",
        "The schema gives each key a type (number with range, enum, property string…); the message says what was expected. Proxmox's API refuses such a value too (its file parser leaves some top-level ranges unchecked, pve2virt does not).";
    CONTROL_CHARACTER = "pve2virt::parse::control_character", Error,
        "a value or the description contains a control character",
        "XML cannot carry control characters (other than tab and newline), so the domain could not be written. Remove the character from the config.";
    // Property strings (docs/proxmox-config.md#property-strings).
    UNKNOWN_SUBKEY = "pve2virt::parse::unknown_subkey", Error,
        "a property string has an option its format does not know",
        "Each property string (net0, scsi0, …) has a fixed set of options; the help lists them, and names the nearest one. Fix the spelling or remove the option.";
    DUPLICATE_SUBKEY = "pve2virt::parse::duplicate_subkey", Error,
        "an option is set twice in one property string",
        "Keep one of them.";
    MISSING_SUBKEY = "pve2virt::parse::missing_subkey", Error,
        "a property string lacks an option its format requires",
        "Some options are required (the `file` of a drive, the `source` of rng0…). Add it.";
    BARE_VALUE = "pve2virt::parse::bare_value", Error,
        "a property string has a bare value, but its format has no default key",
        "Only the first part of a property string may omit `key=`, and only when the format names a default key (e.g. the file of a drive). Write it as `key=value`.";
    EMPTY_SUBKEY = "pve2virt::parse::empty_subkey", Error,
        "a property string has an empty option name or value",
        "Look for a doubled comma or `key=` without a value.";
    ALIAS_CONFLICT = "pve2virt::parse::alias_conflict", Error,
        "an option is set both under its name and under an alias",
        "Some options have two names (an alias kept for old configs); setting both is ambiguous. Keep one.";
    // Selecting what to translate.
    NO_SUCH_SNAPSHOT = "pve2virt::input::no_such_snapshot", Error,
        "`--snapshot NAME` names a snapshot the config does not have",
        "The help lists the snapshot sections the file has; pass one of them.";
    NO_PENDING = "pve2virt::input::no_pending", Error,
        "`--pending` was given, but the config has no `[PENDING]` section",
        "There are no pending changes to apply: convert without --pending.";
    NO_VMID = "pve2virt::input::no_vmid", Error,
        "the VMID is unknown",
        "The VMID comes from the file name (`<vmid>.conf`, as Proxmox names them) or from --vmid N, which standard input needs.";
    PENDING_DELETE_UNKNOWN = "pve2virt::input::pending_delete_unknown", Advice,
        "a pending `delete:` names a key the configuration does not set",
        "Nothing to delete, so nothing changes; Proxmox ignores it too.";
    // Translation (map stage) notes.
    MACHINE_PVE_SUFFIX = "pve2virt::map::machine_pve_suffix", Warning,
        "a Proxmox-only machine revision (`+pveN`, N ≥ 1) was dropped",
        "Proxmox patches its QEMU with machine revisions that change small device defaults; upstream QEMU, which libvirt runs, has only the base machine. The guest may notice a different device detail. `+pve0` is the base machine and gets machine_pve0_suffix instead.";
    SNAPSHOTS_NOT_TRANSLATED = "pve2virt::map::snapshots_not_translated", Advice,
        "the config's snapshot sections were not translated",
        "libvirt snapshots cannot be made from Proxmox's. The current state is translated; use --snapshot NAME to translate a snapshot's state instead.";
    PENDING_NOT_APPLIED = "pve2virt::map::pending_not_applied", Advice,
        "the `[PENDING]` section was not applied",
        "Pending changes are those Proxmox has not applied yet (they wait for a restart). Use --pending to translate the configuration with them applied.";
    CLOUDINIT_SECTION = "pve2virt::map::cloudinit_section", Advice,
        "a `[special:…]` section holds Proxmox-internal state and was not translated",
        "`[special:cloudinit]` records what Proxmox last put on the cloud-init drive, `[special:fleecing]` its backup fleecing images; neither is hardware.";
    MACHINE_PINNED = "pve2virt::map::machine_pinned", Advice,
        "a Windows guest's machine version was pinned as Proxmox does",
        "Proxmox keeps Windows VMs on the machine version they were created with (PVE::QemuServer::Machine windows_get_pinned_machine_version), so the guest does not re-detect its hardware; the XML names that version.";
    MACHINE_PXE = "pve2virt::map::machine_pxe", Warning,
        "`.pxe` was removed from the machine type",
        "Proxmox's `.pxe` machines load its pxe-*.rom NIC ROMs; libvirt uses QEMU's default (iPXE EFI) ROMs, so network boot menus may look different.";
    MACHINE_DOWNGRADED = "pve2virt::map::machine_downgraded", Warning,
        "the machine version was lowered to what the target's QEMU has",
        "--host-qemu-version said the target's QEMU is older than the machine version; a lower version changes device defaults the guest can see. Upgrade QEMU on the target to keep the version.";
    VMGENID_GENERATED = "pve2virt::map::vmgenid_generated", Advice,
        "`vmgenid: 1` asks for a new generation ID, which libvirt generates",
        "libvirt generates the ID when the domain is defined, as Proxmox would on its side.";
    BALLOON_TARGET = "pve2virt::map::balloon_target", Warning,
        "Proxmox's automatic ballooning target has no libvirt equivalent",
        "Proxmox's pvestatd shrinks guests towards `balloon` MiB under host memory pressure; libvirt does not. The guest keeps its full memory; use `virsh setmem` to balloon by hand.";
    CPU_HOST_UNDER_TCG = "pve2virt::map::cpu_host_under_tcg", Warning,
        "`cpu: host` under TCG became QEMU's `max` model",
        "Without KVM the host CPU cannot be passed through. Convert with --domain-type kvm on a KVM host to keep it.";
    CPU_CUSTOM_MODEL = "pve2virt::map::cpu_custom_model", Warning,
        "a custom CPU model from the cluster's cpu-models.conf is not available",
        "Custom models live in /etc/pve/virtual-guest/cpu-models.conf, outside the VM config; kvm64 was used. Replace the model by the custom model's reported-model and add its flags as <feature> elements.";
    CPU_HOST_VENDOR = "pve2virt::map::cpu_host_vendor", Advice,
        "a CPU setting depends on the target host's CPU vendor",
        "Some of Proxmox's CPU choices differ between Intel and AMD hosts (nested-virt is vmx or svm, hv-evmcs is Intel-only); the message says which choice was made and what to add on which vendor.";
    CPU_OPTION_DROPPED = "pve2virt::map::cpu_option_dropped", Warning,
        "a CPU option has no libvirt element and was left out",
        "The message names the option and what it does in QEMU; libvirt 9.0 cannot set it. If the guest needs it, add it through <qemu:commandline> by hand.";
    CPUUNITS_CLAMPED = "pve2virt::map::cpuunits_clamped", Advice,
        "`cpuunits` was clamped as Proxmox does on cgroup v2",
        "On cgroup v2 Proxmox clamps cpuunits into cpu.weight's range (1–10000) when it writes the VM's systemd scope; the XML carries the value Proxmox would write.";
    IGNORED_BY_PROXMOX = "pve2virt::map::ignored_by_proxmox", Advice,
        "a setting Proxmox ignores was left out as well",
        "The config sets something Proxmox does not act on (numaN without `numa: 1`, a policy without hostnodes); leaving it out keeps the same machine.";
    FREEZE = "pve2virt::map::freeze", Warning,
        "`freeze: 1` (start paused) cannot be written in domain XML",
        "Start the domain with `virsh start --paused` to keep Proxmox's behaviour.";
    VIOMMU_NEEDS_Q35 = "pve2virt::map::viommu_needs_q35", Error,
        "the Intel vIOMMU needs a q35 machine",
        "Proxmox refuses `machine: …,viommu=intel` on i440fx too. Use a q35 machine or remove viommu.";
    VIOMMU_AW_BITS = "pve2virt::map::viommu_aw_bits", Warning,
        "`aw-bits` cannot be set on a VirtIO vIOMMU in libvirt 9.0",
        "libvirt 9.0 has the address-width attribute only for the Intel IOMMU; QEMU's default width is used.";
    MEMORY_SHARES = "pve2virt::map::memory_shares", Advice,
        "`shares` is Proxmox's auto-ballooning weight and is kept in <metadata> only",
        "It is not a CPU or memory cgroup share: it weighs guests against each other when pvestatd balloons, which libvirt does not do.";
    HUGEPAGES = "pve2virt::map::hugepages", Advice,
        "the guest memory is backed by host hugepages",
        "The target must have enough free hugepages of the size when the domain starts (vm.nr_hugepages, or hugepages= on the kernel command line), or the start fails.";
    KEEPHUGEPAGES = "pve2virt::map::keephugepages", Advice,
        "libvirt cannot keep hugepages reserved after the VM stops",
        "Proxmox allocates hugepages at start and frees them at stop unless keephugepages is set. Reserve the pages persistently on the target instead.";
    NUMA_LAYOUT = "pve2virt::map::numa_layout", Error,
        "the NUMA layout cannot be built",
        "Proxmox refuses the same layouts (QemuServer/Memory.pm): memory or CPUs that do not divide into the nodes, nodes that overlap or leave CPUs out. The message says which rule.";
    MEMORY_HOTPLUG = "pve2virt::map::memory_hotplug", Error,
        "memory hotplug cannot be set up as configured",
        "Proxmox's memory hotplug needs `numa: 1`, at least 1024 MiB and no custom numaN nodes; it refuses to start the VM otherwise. The message says which rule.";
    UNREPRESENTABLE = "pve2virt::write::unrepresentable", Error,
        "the domain cannot be written as XML",
        "A value contains characters XML cannot carry. Remove control characters from the config's values.";
    VGA_GL_NEEDS_RENDER_NODE = "pve2virt::map::vga_gl_needs_render_node", Warning,
        "a virtio-gl display needs OpenGL on the target",
        "Proxmox starts virgl with egl-headless; libvirt needs a render node. Add <gl enable='yes' rendernode='/dev/dri/renderD128'/> to the SPICE graphics if the target has a GPU.";
    VGA_SERIAL_CONSOLE = "pve2virt::map::vga_serial_console", Advice,
        "`vga: serialN` means no display, only the serial console",
        "Connect with `virsh console`.";
    SPICE_PLAIN = "pve2virt::map::spice_plain", Advice,
        "SPICE listens on 127.0.0.1 without TLS",
        "Proxmox reaches SPICE through its TLS spiceproxy. Set defaultMode='secure' and spice_tls=1 in the target's qemu.conf for TLS, or tunnel the port over SSH.";
    SPICE_ENHANCEMENTS_UNUSED = "pve2virt::map::spice_enhancements_unused", Advice,
        "`spice_enhancements` has no effect without a SPICE display",
        "Folder sharing and video streaming apply to qxl and virtio displays only; Proxmox ignores them otherwise too.";
    SERIAL_SOCKET_AS_PTY = "pve2virt::map::serial_socket_as_pty", Advice,
        "a serial socket became a pty",
        "Proxmox's `serialN: socket` is for `qm terminal`; on libvirt use `virsh console`.";
    AGENT_ISA = "pve2virt::map::agent_isa", Warning,
        "`agent: type=isa` became a virtio-serial channel",
        "libvirt talks to the guest agent only over virtio-serial. The guest needs the virtio-serial driver (Linux has it; Windows needs virtio-win).";
    AGENT_PROXMOX_OPTIONS = "pve2virt::map::agent_proxmox_options", Advice,
        "agent options that steer Proxmox's own jobs have no libvirt setting",
        "freeze-fs (alias freeze-fs-on-backup) and fstrim_cloned_disks control Proxmox's backup and clone jobs; the agent channel itself is translated.";
    WATCHDOG_DEBUG = "pve2virt::map::watchdog_debug", Warning,
        "watchdog action `debug` has no libvirt form",
        "libvirt's default action (reset) applies. Choose another action if reset is not wanted.";
    VIRTIOFS_MAPPING = "pve2virt::map::virtiofs_mapping", Warning,
        "a virtio-fs share comes from a directory mapping that cannot be resolved",
        "Directory mappings live in the cluster's /etc/pve/mapping/dir.cfg. Add a <filesystem> with the virtiofs driver and shared memory by hand (docs/mapping.md#virtio-fs).";
    QEMU_ARGS_DROPPED = "pve2virt::map::qemu_args_dropped", Warning,
        "raw QEMU arguments (`args:`) were not passed on",
        "They bypass libvirt and can break it. Review them, then convert with --allow-qemu-args to pass them through <qemu:commandline>.";
    QEMU_ARGS_PASSED = "pve2virt::map::qemu_args_passed", Advice,
        "raw QEMU arguments were passed through <qemu:commandline>",
        "Their device and object ids may clash with the ones libvirt generates; check that the domain starts.";
    AUDIO_SPICE_SERVER = "pve2virt::map::audio_spice_server", Advice,
        "spice audio needs a SPICE server: a host-side one was added",
        "libvirt refuses spice audio without SPICE graphics. The server listens on 127.0.0.1; connect a SPICE client (remote-viewer) to hear the guest, or set driver=none on audio0.";
    ARGS_SUBOPTION_DROPPED = "pve2virt::map::args_suboption_dropped", Warning,
        "a sub-option of an `args:` option has no libvirt form and was left out",
        "The rest of the option became native XML. Pass it with --allow-qemu-args if it matters, or drop it.";
    ARGS_SPICE_TICKETING = "pve2virt::map::args_spice_ticketing", Warning,
        "-spice in `args:` has neither password nor disable-ticketing",
        "QEMU admits no SPICE client until a password is set; libvirt without passwd admits every client. Add passwd='…' to the SPICE <graphics> to keep clients out.";
    ARGS_CPU_REPLACES = "pve2virt::map::args_cpu_replaces", Advice,
        "-cpu in `args:` replaces the CPU Proxmox derives from cpu and ostype",
        "QEMU keeps the last -cpu, so Proxmox's VM ran with this one: its model, flags and Hyper-V settings are what the domain gets.";
    ARGS_NO_EFFECT = "pve2virt::map::args_no_effect", Advice,
        "an `args:` option names a device that is not part of this machine; QEMU ignores it",
        "Proxmox's VM ran without it too; nothing is lost.";
    CLOUDINIT_NOT_GENERATED = "pve2virt::map::cloudinit_not_generated", Warning,
        "a cloud-init setting was not translated: libvirt builds no cloud-init ISO",
        "Proxmox builds the cloud-init ISO from ciuser, ipconfigN, sshkeys, … at each start. Build a NoCloud or ConfigDrive ISO (e.g. with cloud-localds) and attach it as a CD-ROM.";
    HOOKSCRIPT = "pve2virt::map::hookscript", Warning,
        "Proxmox hook scripts have no per-VM libvirt equivalent",
        "libvirt's hooks (/etc/libvirt/hooks/qemu) are global; call the script from there for this domain.";
    HOTPLUG_POLICY = "pve2virt::map::hotplug_policy", Advice,
        "Proxmox's `hotplug` list is a policy of its API",
        "libvirt allows hotplug wherever the bus supports it; nothing to translate.";
    MIGRATION_TUNING = "pve2virt::map::migration_tuning", Advice,
        "migration tuning is an argument of `virsh migrate`, not of the domain",
        "Pass --bandwidth and --timeout to `virsh migrate` instead of migrate_speed and migrate_downtime.";
    VMSTATE_STORAGE = "pve2virt::map::vmstate_storage", Advice,
        "where Proxmox stores RAM state has no libvirt setting",
        "vmstatestorage chooses the storage for RAM snapshots and hibernation images; libvirt takes the path at `virsh save`/snapshot time.";
    AUTOSTART = "pve2virt::map::autostart", Advice,
        "`autostart` (restart after a crash) is ignored by Proxmox too",
        "The domain's on_crash policy says what happens after a crash. (Starting at boot is `onboot`, which becomes `virsh autostart`.)";
    SNAPSHOT_INTERNAL = "pve2virt::map::snapshot_internal", Advice,
        "state Proxmox records inside a snapshot section, not hardware",
        "runningmachine, runningcpu, running-nets-host-mtu and snapstate describe the running VM a snapshot was taken of; they are not part of the VM's hardware.";
    CONFIDENTIAL_COMPUTING = "pve2virt::map::confidential_computing", Warning,
        "confidential computing (SEV, TDX) was not translated",
        "It depends on the target host's CPU and firmware. Add <launchSecurity> by hand on a host that supports it (libvirt 9.0 has SEV, not SEV-SNP or TDX).";
    VM_LOCKED = "pve2virt::map::vm_locked", Warning,
        "the VM is locked by a Proxmox operation",
        "A lock (backup, migrate, snapshot…) means the disks or the config may be mid-change. Finish or clear the operation in Proxmox (qm unlock) before moving the VM.";
    TEMPLATE = "pve2virt::map::template", Warning,
        "the VM is a Proxmox template; the result is an ordinary domain",
        "libvirt has no templates and Proxmox never starts one. Clone the disks before starting this domain.";
    // Network, PCI and USB passthrough (docs/mapping.md#network, #pci-passthrough, #usb).
    NET_MAC_MISSING = "pve2virt::map::net_mac_missing", Advice,
        "a NIC has no MAC address; libvirt will pick one",
        "Proxmox would have drawn a random one at every start too. Add <mac address=…> to keep a specific one.";
    NET_MODEL_SUBSTITUTED = "pve2virt::map::net_model_substituted", Warning,
        "a NIC model libvirt cannot attach was replaced",
        "ne2k_isa is an ISA card, which libvirt cannot attach; ne2k_pci is the same chip on PCI. The guest sees another bus.";
    NET_OPTION_IGNORED = "pve2virt::map::net_option_ignored", Advice,
        "a NIC option is ignored, as Proxmox ignores it",
        "The message says why (e.g. queues or mtu on a NIC that is not virtio, where Proxmox uses neither).";
    NET_MTU_TOO_SMALL = "pve2virt::map::net_mtu_too_small", Error,
        "the MTU is below 576",
        "Proxmox refuses to start this VM. Use an MTU of at least 576, or mtu=1 for the bridge's MTU.";
    NET_FIREWALL = "pve2virt::map::net_firewall", Warning,
        "the Proxmox firewall cannot be expressed in libvirt",
        "firewall=1 puts the NIC behind pve-firewall's rules, which live outside the VM config. Recreate them on the target (nwfilter, or nftables on the tap device).";
    NET_HOST_TUNNEL = "pve2virt::map::net_host_tunnel", Warning,
        "`host-tunnel=1` (virtio-net tunnel offload) is not available",
        "QEMU 7.2 has no tunnel offload; the NIC works without it.";
    HOSTPCI_ALL_FUNCTIONS = "pve2virt::map::hostpci_all_functions", Warning,
        "a `hostpciN` without a function stands for every function; only function 0 was passed",
        "Which functions a device has is known only to the host's sysfs. Add a <hostdev> for each further function on the target.";
    HOSTPCI_MAPPING = "pve2virt::map::hostpci_mapping", Warning,
        "a PCI resource mapping cannot be resolved outside the Proxmox cluster",
        "Mappings live in /etc/pve/mapping/pci.cfg. Look up the node's entry and write `host=` instead; the device was left out.";
    HOSTPCI_MDEV = "pve2virt::map::hostpci_mdev", Warning,
        "a mediated device must exist on the target before the domain starts",
        "Proxmox creates the mdev at each start; libvirt only uses it. Create it once (the note's help shows the mdevctl command).";
    HOSTPCI_INVALID = "pve2virt::map::hostpci_invalid", Error,
        "a `hostpciN` setting is invalid",
        "Proxmox refuses to start this VM too. The message says which rule.";
    HOSTPCI_ROMFILE = "pve2virt::map::hostpci_romfile", Error,
        "a `romfile` is not a file name in /usr/share/kvm",
        "Proxmox reads ROM files from /usr/share/kvm/; give the bare file name (paths are refused so a config cannot point at other files).";
    HOSTPCI_DRIVER_KEEP = "pve2virt::map::hostpci_driver_keep", Advice,
        "`driver=keep`: the host device is unmanaged",
        "libvirt will not bind it to vfio-pci; bind it on the target before starting the domain.";
    HOSTPCI_LEGACY_IGD = "pve2virt::map::hostpci_legacy_igd", Warning,
        "legacy IGD passthrough is only partly representable",
        "The IGD is placed at guest 00:02.0, but Proxmox's move of its second PCI bridge cannot be written; devices on it keep their slots.";
    HOSTPCI_QEMU_OVERRIDE = "pve2virt::map::hostpci_qemu_override", Advice,
        "hostpci options were set through <qemu:override>",
        "libvirt has no element for them (e.g. the vendor or device id a guest sees); the override sets the QEMU property directly.";
    USB_BUS_PORT = "pve2virt::map::usb_bus_port", Warning,
        "a USB device given by host bus and port cannot be expressed in libvirt",
        "libvirt selects host USB devices by vendor:product or bus:device. Find the device with `lsusb` on the target and add a <hostdev type='usb'>; the device was left out.";
    USB_MAPPING = "pve2virt::map::usb_mapping", Warning,
        "a USB resource mapping cannot be resolved outside the Proxmox cluster",
        "Mappings live in /etc/pve/mapping/usb.cfg. Look up the node's entry and write `host=<vendor:product>` instead; the device was left out.";
    USB_INDEX_NEEDS_XHCI = "pve2virt::map::usb_index_needs_xhci", Error,
        "usb5 and above need the XHCI controller",
        "Proxmox uses XHCI only with machine type ≥ 7.1 and ostype l26 or Windows newer than 7, and refuses to start this VM otherwise. Use usb0–usb4 or change the machine or ostype.";
    USB_SPICE_BOOT = "pve2virt::map::usb_spice_boot", Advice,
        "a SPICE USB port cannot boot",
        "Proxmox leaves it out of the boot order too.";
    CPU_HYPERV_TCG = "pve2virt::map::cpu_hyperv_tcg", Warning,
        "the Hyper-V enlightenments for Windows were left out under TCG",
        "QEMU cannot start them without KVM. Convert with --domain-type kvm on a KVM host to keep them.";
    CPU_CET = "pve2virt::map::cpu_cet", Advice,
        "Proxmox hides CET from Windows 11, which libvirt 9.0 cannot name",
        "With cpu: host on a CET-capable host, disable cet-ibt and cet-ss as <feature> elements once libvirt knows them.";
    USB_ICH9_SECOND_SET = "pve2virt::map::usb_ich9_second_set", Advice,
        "the second ICH9 USB set uses the device ids of the first",
        "libvirt has no ich9-ehci2 or ich9-uhci4-6 model; the controllers work the same, with other PCI ids.";
    BOOT_LIBVIRT_DEFAULT = "pve2virt::map::boot_libvirt_default", Advice,
        "no device is marked bootable; libvirt boots from the first disk",
        "Proxmox leaves the order to the firmware here. Add <boot order='1'/> to a device to choose.";
    NET_HOST_MTU = "pve2virt::map::net_host_mtu", Advice,
        "the bridge's MTU is not announced to the guest",
        "Proxmox tells virtio guests the bridge's MTU (host_mtu); libvirt does only with <mtu>. Add <mtu size='…'/> if the guest should learn it from the NIC.";
    NOT_YET_TRANSLATED = "pve2virt::map::not_yet_translated", Warning,
        "a setting is not translated yet and was left out",
        "Every key ends in the XML or in a note; this one has no translation yet. Report it with the config line, and set the equivalent in the domain by hand.";
    // storage.cfg (docs/proxmox-config.md#storage-cfg).
    STORAGE_SYNTAX = "pve2virt::storage::syntax", Error,
        "a line of storage.cfg cannot be parsed",
        "storage.cfg is sections of `type: id` followed by indented `key value` lines (PVE::SectionConfig). Fix the line.";
    STORAGE_DUPLICATE_ATTRIBUTE = "pve2virt::storage::duplicate_attribute", Error,
        "a storage.cfg section sets an attribute twice",
        "Keep one of them.";
    STORAGE_DUPLICATE_ID = "pve2virt::storage::duplicate_id", Error,
        "two storage.cfg sections have the same storage ID",
        "Storage IDs are unique in a cluster. Remove or rename one.";
    STORAGE_BAD_ID = "pve2virt::storage::bad_id", Error,
        "a storage ID is not valid",
        "Storage IDs start with a letter and contain letters, digits, `-`, `_` and `.`.";
    STORAGE_UNKNOWN_TYPE = "pve2virt::storage::unknown_type", Advice,
        "a storage.cfg section of an unknown type was skipped",
        "Proxmox skips such sections too (a third-party storage plugin, or a typo). Volumes on that storage cannot be resolved: use --map-storage ID=DIR for them.";
    // Volume resolution (docs/proxmox-config.md#volumes).
    UNKNOWN_STORAGE = "pve2virt::storage::unknown_storage", Error,
        "a volume's storage cannot be resolved",
        "The storage is not in storage.cfg, has a type pve2virt cannot resolve, or the file is not a volume ID. Pass --storage-cfg with the cluster's storage.cfg, or --map-storage ID=DIR to use files under DIR.";
    CONTENT_TYPE = "pve2virt::storage::content_type", Error,
        "a storage does not allow the volume's content type",
        "Proxmox refuses this too. Add the content type (images, iso, …) to the storage's `content` in storage.cfg.";
    BAD_VOLUME_NAME = "pve2virt::storage::bad_volume_name", Error,
        "a volume name is not valid on its storage",
        "Each storage type has its volume names (Plugin.pm parse_volname: `<vmid>/vm-<vmid>-disk-N.qcow2` on directories, `vm-<vmid>-disk-N` on LVM…); container subvolumes are not VM disks.";
    STORAGE_INCOMPLETE = "pve2virt::storage::incomplete", Error,
        "a storage lacks an attribute needed to locate its volumes",
        "E.g. a directory storage without `path` or an iSCSI storage without `portal`. Add it to storage.cfg.";
    NOT_ATTACHABLE = "pve2virt::storage::not_attachable", Error,
        "a storage holds no disk images a VM can attach",
        "Proxmox Backup Server and ESXi storages hold backups or import sources, not disks a VM runs from; the config names one anyway. Import or restore the disk to a real storage first.";
    VOLUME_ESCAPES = "pve2virt::storage::volume_escapes", Error,
        "a volume name would leave the directory mapped with --map-storage",
        "Volume names mapped with --map-storage must be relative and free of `.` and `..`.";
    ZFS_ISCSI_LUN = "pve2virt::storage::zfs_iscsi_lun", Warning,
        "the LUN of a ZFS-over-iSCSI volume is unknown; LUN 0 is assumed",
        "Proxmox looks the LUN up on the target at each start. Check the LUN and change the `/0` at the end of the source name.";
    ISCSI_INITIATOR = "pve2virt::storage::iscsi_initiator", Advice,
        "QEMU logs in to the iSCSI target with its own initiator name",
        "Not the node's /etc/iscsi/initiatorname.iscsi. If the target restricts initiators, add <initiator><iqn name='…'/></initiator> to the disk's <source>.";
    RBD_KRBD = "pve2virt::storage::rbd_krbd", Advice,
        "an rbd image is used through the kernel rbd driver",
        "With krbd (or when the cluster's fsid is unknown) the disk is the kernel's /dev/rbd path, so the image must be mapped on the target (`rbd map`) before the VM starts.";
    RBD_NAMESPACE = "pve2virt::storage::rbd_namespace", Warning,
        "libvirt 9.0 cannot name an rbd namespace",
        "The image is used through the kernel rbd driver instead; map it on the target before the VM starts.";
    RBD_SECRET = "pve2virt::storage::rbd_secret", Warning,
        "the ceph key must be defined as a libvirt secret on the target",
        "Proxmox reads the key from /etc/pve/priv/ceph/<storage>.keyring; libvirt reads it from a secret. The note's help shows the virsh commands.";
    RBD_CEPH_CONF = "pve2virt::storage::rbd_ceph_conf", Advice,
        "an rbd storage has no monhost; the monitors come from /etc/pve/ceph.conf",
        "Copy the cluster's ceph.conf to that path on the target, or add <host> elements to the disk's <source>.";
    // Disks and controllers (docs/mapping.md#disks).
    DISK_CLOUDINIT = "pve2virt::map::disk_cloudinit", Warning,
        "the cloud-init drive became an empty CD-ROM",
        "Proxmox generates this ISO at every start. Build a NoCloud or ConfigDrive ISO and insert it into the drive.";
    DISK_OPTION_DROPPED = "pve2virt::map::disk_option_dropped", Warning,
        "a disk option cannot be kept and was left out",
        "The message names the option and why (e.g. aio=native without direct I/O, iothread on a bus without iothreads, a WWN on a SATA disk).";
    DISK_MANAGEMENT_ONLY = "pve2virt::map::disk_management_only", Advice,
        "disk options that only steer Proxmox's backup and replication",
        "backup=0, replicate=0 and shared=1 are Proxmox bookkeeping, not hardware.";
    DISK_INVALID = "pve2virt::map::disk_invalid", Error,
        "a drive setting is invalid",
        "Proxmox refuses it too (a VirtIO CD-ROM, an ISO without media=cdrom, contradicting throttling limits…). The message says which rule.";
    DISK_SCSI_DEVICE_ID = "pve2virt::map::disk_scsi_device_id", Advice,
        "SCSI device ids `drive-scsiN` were kept through <qemu:override>",
        "Windows and some Linux tools identify SCSI disks by the device id QEMU reports, which Proxmox names drive-scsiN; libvirt would name them otherwise.";
    SCSIHW_SUBSTITUTED = "pve2virt::map::scsihw_substituted", Warning,
        "libvirt has no lsi53c810 model: an LSI 53C895A (lsilogic) is used",
        "The guest sees another SCSI controller of the same family; its driver usually handles both.";
    UNUSED_VOLUME = "pve2virt::map::unused_volume", Advice,
        "an unused volume is not attached",
        "Proxmox keeps detached volumes as unusedN. Copy it too if you still need it.";
    VMSTATE_DROPPED = "pve2virt::map::vmstate_dropped", Warning,
        "the saved RAM state (hibernation or snapshot) is not carried over",
        "The guest cold-boots. Resume or shut it down on Proxmox first to keep its running state.";
    // Firmware and TPM (docs/mapping.md#uefi, #tpm).
    EFIDISK_NVRAM = "pve2virt::map::efidisk_nvram", Advice,
        "the EFI variables stay on the Proxmox efidisk",
        "The domain's <nvram> is the efidisk's volume, so the guest keeps its boot entries and Secure Boot keys. `virsh undefine` would delete it: use --keep-nvram.";
    EFIDISK_NOT_RAW = "pve2virt::map::efidisk_not_raw", Warning,
        "the efidisk is not raw, but libvirt 9.0 reads EFI variables as raw only",
        "Convert the efidisk to raw on the target (qemu-img convert -O raw), or let libvirt start from its template.";
    EFIDISK_OVERSIZED = "pve2virt::map::efidisk_oversized", Warning,
        "the efidisk is larger than the OVMF varstore, which libvirt 9.0 cannot cut down",
        "Proxmox gives QEMU only the varstore's first bytes; libvirt 9.0 passes the whole file, and OVMF then reads the variables at the wrong address. Copy the first varstore bytes to a raw file on the target (the note's help shows the dd command) and use that as <nvram>.";
    EFIDISK_MISSING = "pve2virt::map::efidisk_missing", Advice,
        "no efidisk0: libvirt keeps the EFI variables, starting from the template",
        "Proxmox would start from a fresh varstore at every boot too, without a place to keep changes.";
    EFIDISK_UNUSED = "pve2virt::map::efidisk_unused", Advice,
        "efidisk0 is unused because the VM boots SeaBIOS",
        "Proxmox ignores it too.";
    EFIDISK_MS_CERT = "pve2virt::map::efidisk_ms_cert", Advice,
        "`ms-cert` only records which Microsoft keys the variables hold",
        "The keys themselves are in the variables, which are kept.";
    UEFI_WITHOUT_ACPI = "pve2virt::map::uefi_without_acpi", Error,
        "libvirt refuses UEFI without ACPI",
        "Remove `acpi: 0` or use SeaBIOS.";
    TPM_EXTERNAL_SWTPM = "pve2virt::map::tpm_external_swtpm", Warning,
        "the TPM is an external swtpm that must be running before every start",
        "Proxmox starts swtpm itself on the TPM state volume; libvirt 9.0 can use such state only through an external swtpm socket. The note's help shows the swtpm command to run (e.g. from a systemd unit).";
    TPM_STATE_FRESH = "pve2virt::map::tpm_state_fresh", Warning,
        "the TPM starts empty: the Proxmox TPM state is not used",
        "With --tpm-backend emulator libvirt manages a new TPM; keys sealed to the old one (BitLocker, LUKS with TPM) are lost. Have the recovery keys at hand, or use the default external backend.";
    TPM_STATE_NOT_LOCAL = "pve2virt::map::tpm_state_not_local", Warning,
        "swtpm needs the TPM state as a local raw file or device",
        "Map network volumes on the target (e.g. rbd map) and convert other formats to raw.";
    // Codes added when severities were made one per code (each was raised at two before).
    MACHINE_PVE0_SUFFIX = "pve2virt::map::machine_pve0_suffix", Advice,
        "`+pve0` was removed from the machine type: the same machine in upstream QEMU",
        "Revision 0 is the base machine, which upstream QEMU has too; nothing changes for the guest.";
    VIOMMU_VIRTIO_DROPPED = "pve2virt::map::viommu_virtio_dropped", Warning,
        "the VirtIO vIOMMU was left out of an i440fx guest",
        "libvirt supports the VirtIO IOMMU only on q35 machines, while Proxmox also adds it to i440fx. Use a q35 machine to keep it.";
    HUGEPAGES_NEEDS_NUMA = "pve2virt::map::hugepages_needs_numa", Error,
        "hugepages need `numa: 1`",
        "Proxmox refuses to start a VM with hugepages but without NUMA. Set `numa: 1` or remove hugepages.";
    MEMORY_HOTPLUG_MAXIMUM = "pve2virt::map::memory_hotplug_maximum", Advice,
        "the memory hotplug maximum assumes a Proxmox host with 43 or more address bits",
        "Proxmox derives the maximum from the host's physical address bits (PVE::QemuServer::Memory get_max_mem); 4 TiB was assumed. Lower <maxMemory> if the Proxmox host had fewer.";
    VLAN_PER_VLAN_BRIDGE = "pve2virt::map::vlan_per_vlan_bridge", Advice,
        "a VLAN is carried by the per-VLAN bridge the NIC was mapped to",
        "--map-bridge chose a bridge like vmbr0v20, which does the tagging itself, so the port stays untagged. That bridge must carry the VLAN on the target.";
    NET_HOST_TUNNEL_OFF = "pve2virt::map::net_host_tunnel_off", Advice,
        "`host-tunnel=0` needs nothing",
        "QEMU 7.2 has no tunnel offload, so it is off anyway.";
    DISK_NO_MEDIUM = "pve2virt::map::disk_no_medium", Warning,
        "a disk with file `none` has no medium and was left out",
        "Only CD-ROM drives can be empty. Add media=cdrom for an empty CD-ROM drive.";
    // VLANs on Linux bridges (docs/vlan.md).
    VLAN_BRIDGE_PER_VLAN = "pve2virt::map::vlan_bridge_per_vlan", Advice,
        "a VLAN-tagged NIC attaches to a per-VLAN bridge (Proxmox's vmbr0v20 naming)",
        "--vlan-mode bridge-per-vlan (the default): the bridge does the tagging, as Proxmox's non-VLAN-aware bridges do. The note lists the bridges the target needs.";
    VLAN_BRIDGE_NAME_TOO_LONG = "pve2virt::map::vlan_bridge_name_too_long", Warning,
        "a per-VLAN bridge name is longer than Linux allows (15 characters)",
        "Map the NIC to a shorter bridge with --map-bridge, or use --vlan-mode hook.";
    VLAN_TRUNKS_DROPPED = "pve2virt::map::vlan_trunks_dropped", Warning,
        "VLAN trunks cannot be carried by a per-VLAN bridge and were left out",
        "A per-VLAN bridge carries one VLAN untagged. Use --vlan-mode hook (VLAN-aware Linux bridge) or ovs to keep trunks.";
    VLAN_HOOK = "pve2virt::map::vlan_hook", Advice,
        "the NIC's VLANs are set by a libvirt hook written beside the XML",
        "Install the <vmid>.qemu-hook fragment into /etc/libvirt/hooks/qemu on the target; the bridge must be VLAN-aware (vlan_filtering 1). See docs/vlan.md.";
    VLAN_OPENVSWITCH = "pve2virt::map::vlan_openvswitch", Advice,
        "VLANs on an Open vSwitch port (--vlan-mode ovs)",
        "The target bridge must be an Open vSwitch bridge; on a Linux bridge the domain does not start with <vlan>.";
    // The cluster's own files (--pve-root).
    HOSTPCI_FUNCTIONS_FROM_SYSFS = "pve2virt::map::hostpci_functions_from_sysfs", Advice,
        "all functions of a host PCI device were listed from the host's sysfs",
        "One <hostdev> per function on one multifunction guest slot, as Proxmox passes them.";
    CLUSTER_FILE = "pve2virt::cluster::file", Warning,
        "a file of the Proxmox cluster (--pve-root) could not be read",
        "Check the path and its permissions; what it would have resolved is reported on the keys that need it.";
    CLUSTER_VALUE = "pve2virt::cluster::value", Warning,
        "a value in a file of the Proxmox cluster is not valid and was ignored",
        "Proxmox's section-config parser logs \"unable to parse value\" and leaves such a property out; so does pve2virt. Fix it in the file to have it translated.";
    MAPPING_RESOLVED = "pve2virt::map::mapping_resolved", Advice,
        "a cluster resource mapping was resolved to this node's device or path",
        "Proxmox's mapping/pci.cfg, usb.cfg and directory.cfg hold one entry per node; the one of the node chosen (--pve-node, or this host's name) was used.";
    CPU_MODEL_FROM_CLUSTER = "pve2virt::map::cpu_model_from_cluster", Advice,
        "a custom CPU model was read from the cluster's cpu-models.conf",
        "Its reported model and flags became the domain's <cpu>.";
    FIREWALL_NWFILTER = "pve2virt::map::firewall_nwfilter", Advice,
        "the VM's firewall became a libvirt nwfilter",
        "Define <vmid>.nwfilter.xml on the target (virsh nwfilter-define) before the domain; each NIC with firewall=1 references it.";
    FIREWALL_RULE_DROPPED = "pve2virt::map::firewall_rule_dropped", Warning,
        "a firewall rule has no nwfilter form and was left out",
        "Review the rule (the note names its file and line) and add an equivalent by hand if it matters.";
    CLOUDINIT_SEED_ATTACHED = "pve2virt::map::cloudinit_seed_attached", Advice,
        "the cloud-init drive attaches Proxmox's own seed volume",
        "The seed is as Proxmox last generated it, so the instance id and cloud-init's per-instance state carry over. Copy the volume with the disks (pve2virt plan lists it).";
    CLOUDINIT_REGENERATED = "pve2virt::map::cloudinit_regenerated", Advice,
        "the cloud-init seed was rebuilt from the ci* keys (--regenerate-cloudinit)",
        "Built the way Proxmox's Cloudinit.pm builds it, with the same instance id.";
    CLOUDINIT_NOT_REGENERATED = "pve2virt::map::cloudinit_not_regenerated", Warning,
        "the cloud-init seed could not be rebuilt; Proxmox's own seed volume is attached",
        "The note says why (a missing tool, a setting that cannot be rebuilt); the attached seed is the one Proxmox last generated.";
    // The target host (--target, --target-caps; docs/target.md).
    TARGET_NO_KVM = "pve2virt::target::no_kvm", Warning,
        "the target cannot run this guest under KVM; the domain runs under TCG",
        "The target has no KVM, or its KVM refuses what the guest needs (System Management Mode for Secure Boot firmware, Hyper-V enlightenments for Windows). TCG is much slower; run on a host whose KVM offers them to get KVM.";
    TARGET_QEMU_VERSION = "pve2virt::target::qemu_version", Advice,
        "the target's QEMU version was derived from its machine types",
        "Saved capability documents carry no version; the newest machine type tells it. Pass --host-qemu-version to say otherwise.";
    MACHINE_RAISED = "pve2virt::target::machine_raised", Warning,
        "the target no longer has the machine version; raised to the oldest it has",
        "QEMU drops old machine versions. The guest sees a newer chipset revision, which some guests (Windows activation) notice.";
    MACHINE_DOWNSTREAM = "pve2virt::target::machine_downstream", Warning,
        "the target has only its distribution's machine types; the closest one is used",
        "RHEL-family QEMU ships pc-q35-rhelX.Y.0 instead of upstream versions. The guest sees that chipset revision.";
    TARGET_FIRMWARE = "pve2virt::target::firmware", Advice,
        "the firmware is the target's own OVMF build",
        "Read from the target's firmware descriptors or domcapabilities; the Secure Boot build where Proxmox used one.";
    TARGET_FIRMWARE_MISSING = "pve2virt::target::firmware_missing", Warning,
        "the target lists no matching OVMF build; the default paths are kept",
        "Give the target's domcapabilities for this machine and domain type, or pass --firmware-dir.";
    CPU_MODEL_FALLBACK = "pve2virt::target::cpu_model_fallback", Warning,
        "the target does not know the CPU model; a close one is used",
        "The unversioned model (an earlier revision) or host-model. Some CPU features or errata flags may differ.";
    CPU_MODEL_UNUSABLE = "pve2virt::target::cpu_model_unusable", Warning,
        "the target's host CPU cannot run every feature of the CPU model",
        "QEMU leaves the missing features out, so the guest sees fewer than on Proxmox. Choose a model the target lists as usable (virsh domcapabilities).";
    DEVICE_MODEL_FALLBACK = "pve2virt::target::device_model_fallback", Warning,
        "the target lacks a device model; a fallback is used or the device left out",
        "A video model becomes VGA, a sound model the first the target has; without SPICE in the target's QEMU the SPICE display, channels and audio are left out.";
    TARGET_TPM = "pve2virt::target::tpm", Warning,
        "the target's libvirt has no TPM of this model or backend",
        "The domain will not start there with this TPM; try --tpm-backend emulator.";
    TARGET_TPM_STATE_FILE = "pve2virt::target::tpm_state_file", Advice,
        "the target's libvirt (10.10 or newer) can keep a TPM's state in a given file",
        "Instead of the external swtpm, <backend type='emulator'> with a <source> naming the state volume lets libvirt start swtpm on it; `pve2virt migrate` carries the state into libvirt's own form.";
    // `pve2virt migrate`: what the copies became (docs/plan-schema.md).
    EFIDISK_CARRIED = "pve2virt::migrate::efidisk_carried", Advice,
        "the EFI variables were copied into a varstore file of the firmware's size",
        "The efidisk was cut to the varstore size of its efitype (540,672 bytes for 4m, 131,072 for 2m), keeping the VM's boot entries and Secure Boot keys; <nvram> names the copy.";
    TPM_STATE_CARRIED = "pve2virt::migrate::tpm_state_carried", Advice,
        "the TPM state was carried into libvirt's swtpm state directory",
        "libvirt now starts swtpm on it itself. Undefine with `virsh undefine --keep-tpm` to keep it: a plain undefine deletes it.";
    CLOUDINIT_SEED_CARRIED = "pve2virt::migrate::cloudinit_seed_carried", Advice,
        "the cloud-init drive attaches the copied Proxmox seed",
        "The instance id and cloud-init's per-instance state are kept.";
    EFIDISK_2M_ON_4M = "pve2virt::target::efidisk_2m_on_4m", Warning,
        "the target has no 2 MiB OVMF build: the VM gets the 4 MiB build with fresh variables",
        "A 2 MiB varstore cannot back the 4 MiB build. OVMF boots the disk's \\EFI\\BOOT\\BOOTX64.EFI and re-creates its boot entries; Secure Boot keys enrolled by hand must be enrolled again. Convert without --target to keep Proxmox's 2 MiB build where the target still ships it.";
    TARGET_NO_ARCH = "pve2virt::target::no_arch", Warning,
        "the target has no emulator for the guest's architecture",
        "libvirt on the target will refuse this domain.";
    VIRTIOFS_CACHE = "pve2virt::map::virtiofs_cache", Advice,
        "a virtio-fs cache mode was not carried",
        "libvirt sets virtiofsd's cache through <binary><cache mode>; add it by hand if the mode matters.";
}

/// The entry of a code string, if it is registered.
pub fn lookup(code: &str) -> Option<&'static Entry> {
    REGISTRY.iter().find(|e| e.code == code)
}

/// Entries a user's query names: the full code, the code without `pve2virt::`, its last segment,
/// or the constant's name (any case). Several when a last segment is shared.
pub fn find(query: &str) -> Vec<&'static Entry> {
    let q = query.trim().to_ascii_lowercase();
    let q = q.trim_start_matches("pve2virt::");
    REGISTRY
        .iter()
        .filter(|e| {
            let rest = e.code.trim_start_matches("pve2virt::");
            rest == q || rest.rsplit("::").next() == Some(q) || e.name.eq_ignore_ascii_case(q) || e.anchor() == q
        })
        .collect()
}

/// Checks a note being raised against the registry (debug builds only, so tests catch it).
#[inline]
pub(crate) fn check(code: &'static str, severity: Severity) {
    if cfg!(debug_assertions) {
        match lookup(code) {
            Some(entry) if entry.severity == severity => {}
            Some(entry) => panic!("{code} is registered as {:?} but raised as {severity:?}", entry.severity),
            None => panic!("{code} has no entry in src/report/codes.rs"),
        }
    }
}

fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Advice => "advice",
    }
}

/// One entry as `pve2virt explain --code` prints it.
pub fn render_entry(e: &Entry) -> String {
    format!(
        "{}\n  severity: {}\n  {}\n\n  {}\n\n  {}\n",
        e.code,
        severity_name(e.severity),
        e.summary,
        e.help,
        e.doc_ref()
    )
}

/// The `--code` argument of `pve2virt explain`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ExplainCode {
    /// Print what a note code means and what to do (`pve2virt::map::efidisk_oversized`, or
    /// its last part `efidisk_oversized`) instead of explaining a config.
    #[arg(long, value_name = "CODE", conflicts_with = "input")]
    pub code: Option<String>,
}

/// `pve2virt explain --code QUERY`: the matching entries, or a message saying none matches.
pub fn explain(query: &str) -> Result<String, String> {
    let found = find(query);
    if found.is_empty() {
        let q = query.to_ascii_lowercase();
        let near: Vec<&str> = REGISTRY.iter().filter(|e| e.code.contains(&q)).map(|e| e.code).take(10).collect();
        let mut msg = format!("no note code matches '{query}' (see {DOC_PATH} for every code)");
        if !near.is_empty() {
            msg.push_str(&format!("; codes containing it: {}", near.join(", ")));
        }
        return Err(msg);
    }
    Ok(found.iter().map(|e| render_entry(e)).collect::<Vec<_>>().join("\n"))
}

/// `docs/notes.md`, generated from the registry.
pub fn notes_markdown() -> String {
    let mut out = String::new();
    out.push_str("# Notes: every code pve2virt can raise\n\n");
    out.push_str(
        "<!-- Generated from src/report/codes.rs; do not edit. Regenerate with\n     \
         UPDATE_DOCS=1 cargo test -p pve2virt --lib report::codes -->\n\n",
    );
    out.push_str(
        "Every Proxmox key ends in the domain XML or in a note. A note has a stable code (pipelines \
         match on it: codes are never renamed), one severity and a message:\n\n\
         - **error**: the input is wrong; nothing is written (exit code 1).\n\
         - **warning**: something was approximated or dropped; the converted VM differs from the Proxmox \
         one (`--strict` refuses the conversion, exit code 3).\n\
         - **advice**: translated without loss, in a way worth knowing.\n\n\
         `pve2virt explain --code CODE` prints an entry (the full code, or its last segment). In \
         `--report json` every note has a `doc` field linking to its entry here.\n\n",
    );
    let groups = [
        ("parse", "Reading the config"),
        ("input", "Selecting what to translate"),
        ("map", "Translating"),
        ("storage", "storage.cfg and volumes"),
        ("cluster", "The cluster's files (--pve-root)"),
        ("target", "Fitting the target host (--target, --target-caps)"),
        ("write", "Writing the XML"),
        ("migrate", "Planning and migrating (plan, migrate)"),
    ];
    out.push_str("| code | severity | summary |\n| --- | --- | --- |\n");
    for (group, _) in groups {
        for e in REGISTRY.iter().filter(|e| group_of(e) == group) {
            out.push_str(&format!(
                "| [`{}`](#{}) | {} | {} |\n",
                e.code,
                e.anchor(),
                severity_name(e.severity),
                e.summary.replace('|', "\\|")
            ));
        }
    }
    for (group, title) in groups {
        out.push_str(&format!("\n## {title}\n"));
        let mut entries: Vec<&Entry> = REGISTRY.iter().filter(|e| group_of(e) == group).collect();
        entries.sort_by_key(|e| e.code);
        for e in entries {
            out.push_str(&format!(
                "\n<a id=\"{}\"></a>\n### `{}`\n\n**{}**: {}\n\n{}\n",
                e.anchor(),
                e.code,
                severity_name(e.severity),
                e.summary,
                e.help
            ));
        }
    }
    out
}

fn group_of(e: &Entry) -> &str {
    e.code.split("::").nth(1).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::{Path, PathBuf};

    fn root() -> &'static Path {
        Path::new(env!("CARGO_MANIFEST_DIR"))
    }

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// Every `.rs` file that may raise or name a note code, except this registry.
    fn sources() -> Vec<(PathBuf, String)> {
        let mut files = Vec::new();
        for dir in ["src", "tests", "xtask/src", "benches", "fuzz/fuzz_targets"] {
            rust_files(&root().join(dir), &mut files);
        }
        files.sort();
        files
            .into_iter()
            .filter(|p| !p.ends_with("src/report/codes.rs"))
            .map(|p| {
                let text = std::fs::read_to_string(&p).unwrap();
                (p, text)
            })
            .collect()
    }

    fn is_ident(c: char) -> bool {
        c.is_ascii_alphanumeric() || c == '_'
    }

    /// `FROM as TO` renames in `use` lists, so `Note::error(SYNTAX, …)` after
    /// `use code::STORAGE_SYNTAX as SYNTAX` resolves to STORAGE_SYNTAX.
    fn renames(text: &str) -> BTreeMap<String, String> {
        let mut map = BTreeMap::new();
        let words: Vec<&str> = text.split(|c: char| !is_ident(c)).filter(|w| !w.is_empty()).collect();
        for w in words.windows(3) {
            if w[1] == "as" && lookup_name(w[0]).is_some() {
                map.insert(w[2].to_owned(), w[0].to_owned());
            }
        }
        map
    }

    fn lookup_name(name: &str) -> Option<&'static Entry> {
        REGISTRY.iter().find(|e| e.name == name)
    }

    /// `(severity, constant, file:line)` for every `error(`/`warning(`/`advice(` call whose first
    /// argument is a code constant (`code::X`, `report::code::X` or an imported `X`).
    fn raised() -> Vec<(Severity, String, String)> {
        let mut found = Vec::new();
        for (path, text) in sources() {
            let renames = renames(&text);
            for (sev, word) in
                [(Severity::Error, "error("), (Severity::Warning, "warning("), (Severity::Advice, "advice(")]
            {
                for (at, _) in text.match_indices(word) {
                    if text[..at].chars().next_back().is_some_and(is_ident) {
                        continue;
                    }
                    let rest = text[at + word.len()..].trim_start();
                    let arg: String = rest.chars().take_while(|&c| is_ident(c) || c == ':').collect();
                    let name = arg.rsplit("::").next().unwrap_or("");
                    let name = renames.get(name).map_or(name, String::as_str);
                    if name.is_empty()
                        || !name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
                    {
                        continue;
                    }
                    let line = text[..at].matches('\n').count() + 1;
                    let rel = path.strip_prefix(root()).unwrap_or(&path).display().to_string();
                    found.push((sev, name.to_owned(), format!("{rel}:{line}")));
                }
            }
        }
        found
    }

    #[test]
    fn every_call_site_raises_its_registered_severity() {
        let calls = raised();
        assert!(calls.len() > 150, "the scan found only {} call sites; is it broken?", calls.len());
        let mut wrong = Vec::new();
        for (sev, name, at) in &calls {
            match lookup_name(name) {
                Some(e) if e.severity == *sev => {}
                Some(e) => wrong.push(format!("{at}: {name} raised as {sev:?}, registered as {:?}", e.severity)),
                None => wrong.push(format!("{at}: {name} is not in src/report/codes.rs")),
            }
        }
        assert!(wrong.is_empty(), "notes raised at another severity than their registry entry:\n{}", wrong.join("\n"));
    }

    #[test]
    fn every_code_string_in_the_sources_is_registered() {
        let mut unknown = BTreeSet::new();
        for (path, text) in sources() {
            for (at, _) in text.match_indices("\"pve2virt::") {
                let code: String = text[at + 1..].chars().take_while(|&c| c != '"').collect();
                // `pve2virt::report::…` and the like are Rust paths in strings, not codes.
                let segments: Vec<&str> = code.split("::").collect();
                let is_code = segments.len() == 3
                    && !segments[2].is_empty()
                    && ["parse", "input", "map", "storage", "write"].contains(&segments[1])
                    && segments[2].chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
                if is_code && lookup(&code).is_none() {
                    let line = text[..at].matches('\n').count() + 1;
                    unknown.insert(format!("{}:{line}: {code}", path.display()));
                }
            }
        }
        assert!(
            unknown.is_empty(),
            "codes without a registry entry (add them to src/report/codes.rs):\n{}",
            unknown.into_iter().collect::<Vec<_>>().join("\n")
        );
    }

    #[test]
    fn every_registered_code_is_raised_somewhere() {
        let text: String =
            sources().into_iter().filter(|(p, _)| p.starts_with(root().join("src"))).map(|(_, t)| t).collect();
        let words: BTreeSet<&str> = text.split(|c: char| !is_ident(c)).collect();
        let unused: Vec<&str> = REGISTRY.iter().map(|e| e.name).filter(|n| !words.contains(n)).collect();
        assert!(unused.is_empty(), "registered codes that nothing in src/ raises: {unused:?}");
    }

    #[test]
    fn entries_are_well_formed() {
        let mut codes = BTreeSet::new();
        let mut names = BTreeSet::new();
        let mut anchors = BTreeSet::new();
        for e in REGISTRY {
            assert!(codes.insert(e.code), "{} is registered twice", e.code);
            assert!(names.insert(e.name), "{} is declared twice", e.name);
            assert!(anchors.insert(e.anchor()), "anchor {} is not unique", e.anchor());
            assert!(e.code.starts_with("pve2virt::") && e.code.split("::").count() == 3, "{}", e.code);
            assert!(
                !e.summary.is_empty() && !e.summary.contains('\n') && !e.summary.ends_with('.'),
                "{}: summary",
                e.code
            );
            assert!(e.help.len() > 10 && !e.help.contains('\n'), "{}: help", e.code);
        }
    }

    #[test]
    fn lookup_by_code_segment_and_name() {
        assert_eq!(find("pve2virt::map::efidisk_oversized")[0].name, "EFIDISK_OVERSIZED");
        assert_eq!(find("efidisk_oversized")[0].name, "EFIDISK_OVERSIZED");
        assert_eq!(find("map::efidisk_oversized")[0].name, "EFIDISK_OVERSIZED");
        assert_eq!(find("EFIDISK_OVERSIZED")[0].code, code::EFIDISK_OVERSIZED);
        assert_eq!(find("syntax").len(), 2, "parse::syntax and storage::syntax");
        assert!(find("no_such_thing").is_empty());
        assert!(explain("no_such_thing").unwrap_err().contains("no note code"));
        let text = explain("efidisk_oversized").unwrap();
        assert!(text.starts_with("pve2virt::map::efidisk_oversized\n  severity: warning\n"), "{text}");
        assert!(text.contains("docs/notes.md#map-efidisk_oversized"), "{text}");
    }

    #[test]
    #[should_panic(expected = "registered as Warning but raised as Advice")]
    #[cfg(debug_assertions)]
    fn raising_at_another_severity_panics_in_debug_builds() {
        let _ = crate::report::Note::advice(code::EFIDISK_OVERSIZED, "x");
    }

    #[test]
    #[should_panic(expected = "has no entry")]
    #[cfg(debug_assertions)]
    fn raising_an_unregistered_code_panics_in_debug_builds() {
        let _ = crate::report::Note::warning("pve2virt::map::not_registered", "x");
    }

    /// Every code has its entry in the document, whatever its group (`pve2virt::<group>::…`).
    #[test]
    fn notes_doc_lists_every_code() {
        let doc = notes_markdown();
        let missing: Vec<&str> = REGISTRY
            .iter()
            .filter(|e| !doc.contains(&format!("<a id=\"{}\"></a>", e.anchor())))
            .map(|e| e.code)
            .collect();
        assert!(missing.is_empty(), "codes without an entry in {DOC_PATH}: {missing:?}");
    }

    #[test]
    fn notes_doc_is_current() {
        let path = root().join(DOC_PATH);
        let want = notes_markdown();
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &want).unwrap();
            return;
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            have == want,
            "{DOC_PATH} is not what src/report/codes.rs generates; regenerate it with\n    \
             UPDATE_DOCS=1 cargo test -p pve2virt --lib report::codes"
        );
    }
}
