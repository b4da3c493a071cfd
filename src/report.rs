//! Notes and errors: one diagnostic type for everything the tool tells a user, with a stable code,
//! a severity, the Proxmox key it concerns and a span into the config text.
//!
//! Errors stop a conversion; warnings say something was approximated or dropped (lossy, fatal under
//! `--strict`); advice says something was translated in a way worth knowing but without loss.
//! The CLI renders notes with miette for people and as JSON for pipelines.

use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};
use serde::Serialize;

/// A byte range in the config text. Left out of equality wherever it is carried (see [`Spanned`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub offset: usize,
    pub len: usize,
}

impl Span {
    pub fn new(offset: usize, len: usize) -> Self {
        Span { offset, len }
    }
    pub fn end(&self) -> usize {
        self.offset + self.len
    }
    /// A span covering `self` through `other`.
    pub fn to(&self, other: Span) -> Span {
        Span::new(self.offset, other.end().saturating_sub(self.offset))
    }
}

impl From<Span> for SourceSpan {
    fn from(s: Span) -> Self {
        SourceSpan::new(s.offset.into(), s.len)
    }
}

/// A value and where it was written. Equality ignores the span, so models compare by content.
#[derive(Debug, Clone)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Spanned<U> {
        Spanned { value: f(self.value), span: self.span }
    }
}

impl<T: PartialEq> PartialEq for Spanned<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The input is wrong; nothing is written.
    Error,
    /// Something was approximated or dropped: the converted VM differs from the Proxmox one.
    Warning,
    /// Translated without loss, but in a way the user should know about.
    Advice,
}

/// Stable diagnostic codes. Pipelines match on these strings: never rename one, add a new one.
pub mod code {
    // The file grammar (pve-config.md §1).
    pub const NOT_UTF8: &str = "pve2virt::parse::not_utf8";
    pub const TOO_LARGE: &str = "pve2virt::parse::too_large";
    pub const TOO_MANY_ERRORS: &str = "pve2virt::parse::too_many_errors";
    pub const SYNTAX: &str = "pve2virt::parse::syntax";
    pub const DUPLICATE_KEY: &str = "pve2virt::parse::duplicate_key";
    pub const DUPLICATE_SECTION: &str = "pve2virt::parse::duplicate_section";
    pub const UNKNOWN_SECTION: &str = "pve2virt::parse::unknown_section";
    pub const DELETE_OUTSIDE_PENDING: &str = "pve2virt::parse::delete_outside_pending";
    pub const UNKNOWN_KEY: &str = "pve2virt::parse::unknown_key";
    pub const BAD_VALUE: &str = "pve2virt::parse::bad_value";
    pub const CONTROL_CHARACTER: &str = "pve2virt::parse::control_character";
    // Property strings (pve-config.md §2).
    pub const UNKNOWN_SUBKEY: &str = "pve2virt::parse::unknown_subkey";
    pub const DUPLICATE_SUBKEY: &str = "pve2virt::parse::duplicate_subkey";
    pub const MISSING_SUBKEY: &str = "pve2virt::parse::missing_subkey";
    pub const BARE_VALUE: &str = "pve2virt::parse::bare_value";
    pub const EMPTY_SUBKEY: &str = "pve2virt::parse::empty_subkey";
    pub const ALIAS_CONFLICT: &str = "pve2virt::parse::alias_conflict";
    // Selecting what to translate.
    pub const NO_SUCH_SNAPSHOT: &str = "pve2virt::input::no_such_snapshot";
    pub const NO_PENDING: &str = "pve2virt::input::no_pending";
    pub const NO_VMID: &str = "pve2virt::input::no_vmid";
    pub const PENDING_DELETE_UNKNOWN: &str = "pve2virt::input::pending_delete_unknown";
    // Translation (map stage) notes.
    pub const MACHINE_PVE_SUFFIX: &str = "pve2virt::map::machine_pve_suffix";
    pub const SNAPSHOTS_NOT_TRANSLATED: &str = "pve2virt::map::snapshots_not_translated";
    pub const PENDING_NOT_APPLIED: &str = "pve2virt::map::pending_not_applied";
    pub const CLOUDINIT_SECTION: &str = "pve2virt::map::cloudinit_section";
    pub const MACHINE_PINNED: &str = "pve2virt::map::machine_pinned";
    pub const MACHINE_PXE: &str = "pve2virt::map::machine_pxe";
    pub const MACHINE_DOWNGRADED: &str = "pve2virt::map::machine_downgraded";
    pub const VMGENID_GENERATED: &str = "pve2virt::map::vmgenid_generated";
    pub const BALLOON_TARGET: &str = "pve2virt::map::balloon_target";
    pub const CPU_HOST_UNDER_TCG: &str = "pve2virt::map::cpu_host_under_tcg";
    pub const CPU_CUSTOM_MODEL: &str = "pve2virt::map::cpu_custom_model";
    pub const CPU_HOST_VENDOR: &str = "pve2virt::map::cpu_host_vendor";
    pub const CPU_OPTION_DROPPED: &str = "pve2virt::map::cpu_option_dropped";
    pub const CPUUNITS_CLAMPED: &str = "pve2virt::map::cpuunits_clamped";
    pub const IGNORED_BY_PROXMOX: &str = "pve2virt::map::ignored_by_proxmox";
    pub const FREEZE: &str = "pve2virt::map::freeze";
    pub const VIOMMU_NEEDS_Q35: &str = "pve2virt::map::viommu_needs_q35";
    pub const VIOMMU_AW_BITS: &str = "pve2virt::map::viommu_aw_bits";
    pub const MEMORY_SHARES: &str = "pve2virt::map::memory_shares";
    pub const HUGEPAGES: &str = "pve2virt::map::hugepages";
    pub const KEEPHUGEPAGES: &str = "pve2virt::map::keephugepages";
    pub const NUMA_LAYOUT: &str = "pve2virt::map::numa_layout";
    pub const MEMORY_HOTPLUG: &str = "pve2virt::map::memory_hotplug";
    pub const UNREPRESENTABLE: &str = "pve2virt::write::unrepresentable";
    pub const VGA_GL_NEEDS_RENDER_NODE: &str = "pve2virt::map::vga_gl_needs_render_node";
    pub const VGA_SERIAL_CONSOLE: &str = "pve2virt::map::vga_serial_console";
    pub const SPICE_PLAIN: &str = "pve2virt::map::spice_plain";
    pub const SPICE_ENHANCEMENTS_UNUSED: &str = "pve2virt::map::spice_enhancements_unused";
    pub const SERIAL_SOCKET_AS_PTY: &str = "pve2virt::map::serial_socket_as_pty";
    pub const AGENT_ISA: &str = "pve2virt::map::agent_isa";
    pub const AGENT_PROXMOX_OPTIONS: &str = "pve2virt::map::agent_proxmox_options";
    pub const WATCHDOG_DEBUG: &str = "pve2virt::map::watchdog_debug";
    pub const VIRTIOFS_MAPPING: &str = "pve2virt::map::virtiofs_mapping";
    pub const QEMU_ARGS_DROPPED: &str = "pve2virt::map::qemu_args_dropped";
    pub const QEMU_ARGS_PASSED: &str = "pve2virt::map::qemu_args_passed";
    pub const CLOUDINIT_NOT_GENERATED: &str = "pve2virt::map::cloudinit_not_generated";
    pub const HOOKSCRIPT: &str = "pve2virt::map::hookscript";
    pub const HOTPLUG_POLICY: &str = "pve2virt::map::hotplug_policy";
    pub const MIGRATION_TUNING: &str = "pve2virt::map::migration_tuning";
    pub const VMSTATE_STORAGE: &str = "pve2virt::map::vmstate_storage";
    pub const AUTOSTART: &str = "pve2virt::map::autostart";
    pub const SNAPSHOT_INTERNAL: &str = "pve2virt::map::snapshot_internal";
    pub const CONFIDENTIAL_COMPUTING: &str = "pve2virt::map::confidential_computing";
    pub const VM_LOCKED: &str = "pve2virt::map::vm_locked";
    pub const TEMPLATE: &str = "pve2virt::map::template";
    // Network, PCI and USB passthrough (libvirt-mapping.md §6, §7).
    pub const NET_MAC_MISSING: &str = "pve2virt::map::net_mac_missing";
    pub const NET_MODEL_SUBSTITUTED: &str = "pve2virt::map::net_model_substituted";
    pub const NET_OPTION_IGNORED: &str = "pve2virt::map::net_option_ignored";
    pub const NET_MTU_TOO_SMALL: &str = "pve2virt::map::net_mtu_too_small";
    pub const NET_FIREWALL: &str = "pve2virt::map::net_firewall";
    pub const VLAN_ON_LINUX_BRIDGE: &str = "pve2virt::map::vlan_on_linux_bridge";
    pub const NET_HOST_TUNNEL: &str = "pve2virt::map::net_host_tunnel";
    pub const HOSTPCI_ALL_FUNCTIONS: &str = "pve2virt::map::hostpci_all_functions";
    pub const HOSTPCI_MAPPING: &str = "pve2virt::map::hostpci_mapping";
    pub const HOSTPCI_MDEV: &str = "pve2virt::map::hostpci_mdev";
    pub const HOSTPCI_INVALID: &str = "pve2virt::map::hostpci_invalid";
    pub const HOSTPCI_ROMFILE: &str = "pve2virt::map::hostpci_romfile";
    pub const HOSTPCI_DRIVER_KEEP: &str = "pve2virt::map::hostpci_driver_keep";
    pub const HOSTPCI_LEGACY_IGD: &str = "pve2virt::map::hostpci_legacy_igd";
    pub const HOSTPCI_QEMU_OVERRIDE: &str = "pve2virt::map::hostpci_qemu_override";
    pub const USB_BUS_PORT: &str = "pve2virt::map::usb_bus_port";
    pub const USB_MAPPING: &str = "pve2virt::map::usb_mapping";
    pub const USB_INDEX_NEEDS_XHCI: &str = "pve2virt::map::usb_index_needs_xhci";
    pub const USB_SPICE_BOOT: &str = "pve2virt::map::usb_spice_boot";
    pub const CPU_HYPERV_TCG: &str = "pve2virt::map::cpu_hyperv_tcg";
    pub const CPU_CET: &str = "pve2virt::map::cpu_cet";
    pub const USB_ICH9_SECOND_SET: &str = "pve2virt::map::usb_ich9_second_set";
    pub const BOOT_LIBVIRT_DEFAULT: &str = "pve2virt::map::boot_libvirt_default";
    pub const NET_HOST_MTU: &str = "pve2virt::map::net_host_mtu";
    pub const NOT_YET_TRANSLATED: &str = "pve2virt::map::not_yet_translated";
    pub const UNHANDLED_KEY: &str = "pve2virt::map::unhandled_key";
    // storage.cfg (pve-config.md §4).
    pub const STORAGE_SYNTAX: &str = "pve2virt::storage::syntax";
    pub const STORAGE_DUPLICATE_ATTRIBUTE: &str = "pve2virt::storage::duplicate_attribute";
    pub const STORAGE_DUPLICATE_ID: &str = "pve2virt::storage::duplicate_id";
    pub const STORAGE_BAD_ID: &str = "pve2virt::storage::bad_id";
    pub const STORAGE_UNKNOWN_TYPE: &str = "pve2virt::storage::unknown_type";
    // Volume resolution.
    pub const UNKNOWN_STORAGE: &str = "pve2virt::storage::unknown_storage";
    pub const CONTENT_TYPE: &str = "pve2virt::storage::content_type";
    pub const BAD_VOLUME_NAME: &str = "pve2virt::storage::bad_volume_name";
    pub const STORAGE_INCOMPLETE: &str = "pve2virt::storage::incomplete";
    pub const NOT_ATTACHABLE: &str = "pve2virt::storage::not_attachable";
    pub const VOLUME_ESCAPES: &str = "pve2virt::storage::volume_escapes";
    pub const ZFS_ISCSI_LUN: &str = "pve2virt::storage::zfs_iscsi_lun";
    pub const ISCSI_INITIATOR: &str = "pve2virt::storage::iscsi_initiator";
    pub const RBD_KRBD: &str = "pve2virt::storage::rbd_krbd";
    pub const RBD_NAMESPACE: &str = "pve2virt::storage::rbd_namespace";
    pub const RBD_SECRET: &str = "pve2virt::storage::rbd_secret";
    pub const RBD_CEPH_CONF: &str = "pve2virt::storage::rbd_ceph_conf";
    // Disks and controllers (libvirt-mapping.md §5).
    pub const DISK_CLOUDINIT: &str = "pve2virt::map::disk_cloudinit";
    pub const DISK_READONLY_UNSUPPORTED: &str = "pve2virt::map::disk_readonly_unsupported";
    pub const DISK_OPTION_DROPPED: &str = "pve2virt::map::disk_option_dropped";
    pub const DISK_MANAGEMENT_ONLY: &str = "pve2virt::map::disk_management_only";
    pub const DISK_INVALID: &str = "pve2virt::map::disk_invalid";
    pub const DISK_SCSI_DEVICE_ID: &str = "pve2virt::map::disk_scsi_device_id";
    pub const SCSIHW_SUBSTITUTED: &str = "pve2virt::map::scsihw_substituted";
    pub const UNUSED_VOLUME: &str = "pve2virt::map::unused_volume";
    pub const VMSTATE_DROPPED: &str = "pve2virt::map::vmstate_dropped";
    // Firmware and TPM (libvirt-mapping.md §2.2, §2.3).
    pub const EFIDISK_NVRAM: &str = "pve2virt::map::efidisk_nvram";
    pub const EFIDISK_NOT_RAW: &str = "pve2virt::map::efidisk_not_raw";
    pub const EFIDISK_OVERSIZED: &str = "pve2virt::map::efidisk_oversized";
    pub const EFIDISK_MISSING: &str = "pve2virt::map::efidisk_missing";
    pub const EFIDISK_UNUSED: &str = "pve2virt::map::efidisk_unused";
    pub const EFIDISK_MS_CERT: &str = "pve2virt::map::efidisk_ms_cert";
    pub const UEFI_WITHOUT_ACPI: &str = "pve2virt::map::uefi_without_acpi";
    pub const TPM_EXTERNAL_SWTPM: &str = "pve2virt::map::tpm_external_swtpm";
    pub const TPM_STATE_FRESH: &str = "pve2virt::map::tpm_state_fresh";
    pub const TPM_STATE_NOT_LOCAL: &str = "pve2virt::map::tpm_state_not_local";
    // `pve2virt migrate`: what the copies became.
    pub const EFIDISK_CARRIED: &str = "pve2virt::migrate::efidisk_carried";
    pub const TPM_STATE_CARRIED: &str = "pve2virt::migrate::tpm_state_carried";
    pub const CLOUDINIT_SEED_CARRIED: &str = "pve2virt::migrate::cloudinit_seed_carried";
}

/// One diagnostic: an error, a lossy note or advice.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Note {
    pub code: &'static str,
    pub severity: Severity,
    /// The Proxmox key the note is about (`rng0`, `net1`, …), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub message: String,
    #[serde(skip)]
    pub span: Option<Span>,
    /// Text of the label on the span (defaults to a short form of the message).
    #[serde(skip)]
    pub label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl Note {
    fn new(severity: Severity, code: &'static str, message: impl Into<String>) -> Self {
        Note { code, severity, key: None, message: message.into(), span: None, label: None, help: None }
    }
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, code, message)
    }
    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, code, message)
    }
    pub fn advice(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Severity::Advice, code, message)
    }
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.key = Some(key.into());
        self
    }
    pub fn at(mut self, span: Span) -> Self {
        self.span = Some(span);
        self
    }
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
    /// Lossy notes make `--strict` fail.
    pub fn is_lossy(&self) -> bool {
        self.severity == Severity::Warning
    }
}

/// The config text a set of notes points into, for rendering.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub text: String,
}

impl Source {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Source { name: name.into(), text: text.into() }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..floor_char_boundary(&self.text, offset)];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        (line, before[line_start..].chars().count() + 1)
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A note bound to its source, so miette can draw the snippet.
struct Bound<'a> {
    note: &'a Note,
    source: &'a NamedSource<String>,
}

impl fmt::Debug for Bound<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.note, f)
    }
}

impl fmt::Display for Bound<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.note.key {
            Some(key) => write!(f, "{key}: {}", self.note.message),
            None => f.write_str(&self.note.message),
        }
    }
}

impl std::error::Error for Bound<'_> {}

impl miette::Diagnostic for Bound<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.note.code))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.note.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Advice => miette::Severity::Advice,
        })
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.note.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.note.span.map(|_| self.source as &dyn miette::SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.note.span?;
        let label = self.note.label.clone().unwrap_or_else(|| "here".to_owned());
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(Some(label), span))))
    }
}

/// Renders notes for a terminal. `color: false` gives plain text (used by snapshot tests).
pub fn render_human(notes: &[Note], source: &Source, color: bool) -> String {
    let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100).with_wrap_lines(false).with_links(false);
    let named = NamedSource::new(&source.name, source.text.clone());
    let mut out = String::new();
    for note in notes {
        let bound = Bound { note, source: &named };
        // Writing into a String cannot fail.
        let _ = handler.render_report(&mut out, &bound);
    }
    out
}

/// A note as pipelines read it: the stable code, severity, key, position and text.
#[derive(Debug, Serialize)]
pub struct JsonNote<'a> {
    pub file: &'a str,
    #[serde(flatten)]
    pub note: &'a Note,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
}

pub fn to_json<'a>(notes: &'a [Note], source: &'a Source) -> Vec<JsonNote<'a>> {
    notes
        .iter()
        .map(|note| {
            let pos = note.span.map(|s| source.line_col(s.offset));
            JsonNote { file: &source.name, note, line: pos.map(|p| p.0), column: pos.map(|p| p.1) }
        })
        .collect()
}
