//! Format checks for string values (the `format`s and `pattern`s of Proxmox's schema), hand-written.
//!
//! Each check mirrors one Proxmox verifier or anchored pattern; JSONSchema.pm anchors every
//! `pattern` as `m/^$pattern$/`, so all checks here match the whole value. A check's `Err` finishes
//! the sentence "value '<v>' …". The checks whose value the model uses (machine type, PCI and USB
//! host, boot order, hotplug) return it, so that it is parsed once ([`super::ValueType::Parsed`]).

use crate::pve::model::hostpci::{HostPciId, HostPciIdError};
use crate::pve::model::lists::{BootOrder, HotplugFeatures};
use crate::pve::model::machine::{strip_version, MachineType, MachineTypeError};
use crate::pve::model::usb::UsbHost;
use crate::pve::props::Typed;
use std::net::{Ipv4Addr, Ipv6Addr};

type CheckResult = Result<(), String>;

/// The result of a [`super::Parse`] check: the value it read, if it has one.
type ParseResult = Result<Option<Typed>, String>;

fn fail(reason: &str) -> CheckResult {
    Err(reason.to_string())
}

fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// `\d+(?:-\d+)?`
fn is_id_or_range(s: &str) -> bool {
    match s.split_once('-') {
        Some((a, b)) => is_digits(a) && is_digits(b),
        None => is_digits(s),
    }
}

/// `prefix` followed by an index in `0..count` written without leading zeros, i.e. a key that
/// exists in `$confdesc` (`net01` is not a key, so QemuServer.pm `verify_bootdev` rejects it).
fn is_indexed(s: &str, prefix: &str, count: u32) -> bool {
    let Some(digits) = s.strip_prefix(prefix) else {
        return false;
    };
    if !is_digits(digits) || (digits.len() > 1 && digits.starts_with('0')) {
        return false;
    }
    digits.parse::<u32>().is_ok_and(|i| i < count)
}

/// PVE::Tools `split_list`: `,` and `;` and whitespace all separate; empty items vanish.
fn split_list(v: &str) -> impl Iterator<Item = &str> {
    v.split(|c: char| c == ',' || c == ';' || c.is_whitespace()).filter(|s| !s.is_empty())
}

/// Perl's `split(/,/, …)` drops trailing empty fields (but keeps leading and inner ones).
fn perl_split_comma(v: &str) -> Vec<&str> {
    let mut parts: Vec<&str> = v.split(',').collect();
    while parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    parts
}

/// Any value: plain strings without a format (`ciuser`, `searchdomain`, …).
pub fn any(_v: &str) -> CheckResult {
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Identifiers and volumes

/// JSONSchema.pm `parse_id` (`pve-storage-id`): `^[a-z][a-z0-9\-\_\.]*[a-z0-9]$`i.
pub fn storage_id(v: &str) -> CheckResult {
    let b = v.as_bytes();
    let ok = b.len() >= 2
        && b[0].is_ascii_alphabetic()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        fail("is not a valid storage ID")
    }
}

/// pve-storage `parse_volume_id` (`pve-volume-id`): `^([a-z][a-z0-9\-\_\.]*[a-z0-9]):(.+)$`i.
pub fn volume_id(v: &str) -> CheckResult {
    // The storage ID cannot contain ':', so the first ':' ends it, as in the greedy-but-restricted
    // regex.
    match v.split_once(':') {
        Some((store, name)) if storage_id(store).is_ok() && !name.is_empty() => Ok(()),
        _ => fail("is not a valid volume ID (<storage>:<volume>)"),
    }
}

/// QemuServer.pm `verify_volume_id_or_qm_path` (`pve-volume-id-or-qm-path`, drive `file`).
pub fn drive_file(v: &str) -> CheckResult {
    if v == "none" || v == "cdrom" || v.starts_with('/') || volume_id(v).is_ok() {
        Ok(())
    } else {
        fail("is not a volume ID, an absolute path, 'none' or 'cdrom'")
    }
}

/// JSONSchema.pm `$CONFIGID_RE` (`pve-configid`): `[a-z][a-z0-9_-]+`i, so at least 2 characters.
pub fn config_id(v: &str) -> CheckResult {
    let b = v.as_bytes();
    let ok = b.len() >= 2
        && b[0].is_ascii_alphabetic()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        fail("is not a valid ID (a letter, then letters, digits, '_' or '-')")
    }
}

/// `pve-snapshot-name` (top-level `parent`): a config ID of at most 40 characters.
pub fn snapshot_name(v: &str) -> CheckResult {
    if v.len() > 40 {
        return fail("is longer than 40 characters, too long for a snapshot name");
    }
    config_id(v).map_err(|_| "is not a valid snapshot name".to_string())
}

/// JSONSchema.pm `pve_verify_dns_name`: dot-separated labels `[a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?`.
pub fn dns_name(v: &str) -> CheckResult {
    let label_ok = |l: &str| {
        let b = l.as_bytes();
        !b.is_empty()
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric()
            && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
    };
    if v.split('.').all(label_ok) {
        Ok(())
    } else {
        fail("is not a valid DNS name")
    }
}

/// JSONSchema.pm `pve_verify_urlencoded`: `^[-%a-zA-Z0-9_.!~*'()]*$`.
pub fn urlencoded(v: &str) -> CheckResult {
    let ok = v.bytes().all(|c| c.is_ascii_alphanumeric() || b"-%_.!~*'()".contains(&c));
    if ok {
        Ok(())
    } else {
        fail("is not URL-encoded (only A-Z a-z 0-9 - _ . ! ~ * ' ( ) and %XX)")
    }
}

// ---------------------------------------------------------------------------------------------
// Drives (Drive.pm)

/// Drive `serial`: urlencoded, `maxLength => 20 * 3` (20 bytes, each possibly `%xx`).
pub fn drive_serial(v: &str) -> CheckResult {
    if v.len() > 60 {
        return fail("is longer than 60 characters (20 URL-encoded bytes)");
    }
    urlencoded(v)
}

/// ide `model`: urlencoded, `maxLength => 40 * 3`.
pub fn drive_model(v: &str) -> CheckResult {
    if v.len() > 120 {
        return fail("is longer than 120 characters (40 URL-encoded bytes)");
    }
    urlencoded(v)
}

/// `wwn`: `^(0x)[0-9a-fA-F]{16}`, anchored again by JSONSchema.pm, so exactly 0x + 16 hex digits.
pub fn wwn(v: &str) -> CheckResult {
    match v.strip_prefix("0x") {
        Some(h) if h.len() == 16 && is_hex(h) => Ok(()),
        _ => fail("is not a WWN ('0x' and 16 hex digits)"),
    }
}

fn scsi_inquiry_text(v: &str, max: usize, what: &str) -> CheckResult {
    // `[A-Za-z0-9\-_\s]{,N}`: `{,N}` is a quantifier only since Perl 5.34, which every Proxmox
    // release that has these keys (8.1+, Perl 5.36) ships.
    let ok =
        v.len() <= max && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c.is_whitespace());
    if ok {
        Ok(())
    } else {
        Err(format!("is not a valid SCSI {what} (up to {max} of A-Z a-z 0-9 - _ and spaces)"))
    }
}

/// scsi `vendor`: `[A-Za-z0-9\-_\s]{,8}`.
pub fn scsi_vendor(v: &str) -> CheckResult {
    scsi_inquiry_text(v, 8, "vendor")
}

/// scsi `product`: `[A-Za-z0-9\-_\s]{,16}`.
pub fn scsi_product(v: &str) -> CheckResult {
    scsi_inquiry_text(v, 16, "product")
}

/// Drive.pm `is_valid_drivename` minus `unused`: the drive keys of `$drivedesc_hash`.
fn is_drive_name(v: &str) -> bool {
    is_indexed(v, "ide", 4)
        || is_indexed(v, "sata", 6)
        || is_indexed(v, "scsi", 31)
        || is_indexed(v, "virtio", 16)
        || v == "efidisk0"
        || v == "tpmstate0"
}

/// `bootdisk`: Drive.pm `verify_bootdisk` (a drive key) and the key's own pattern
/// `(ide|sata|scsi|virtio)\d+`, which rules out efidisk0 and tpmstate0.
pub fn bootdisk(v: &str) -> CheckResult {
    let bus = ["ide", "sata", "scsi", "virtio"].iter().any(|p| v.strip_prefix(p).is_some_and(is_digits));
    if bus && is_drive_name(v) {
        Ok(())
    } else {
        fail("is not a disk name (ide0-3, sata0-5, scsi0-30, virtio0-15)")
    }
}

// ---------------------------------------------------------------------------------------------
// Boot (QemuServer.pm `$boot_fmt`)

/// boot `legacy`: `[acdn]{1,4}`.
pub fn boot_legacy(v: &str) -> CheckResult {
    if (1..=4).contains(&v.len()) && v.bytes().all(|c| b"acdn".contains(&c)) {
        Ok(())
    } else {
        fail("is not a legacy boot order (1 to 4 of the letters a, c, d, n)")
    }
}

/// boot `order` (`pve-qm-bootdev-list`): `split_list`, each item QemuServer.pm `verify_bootdev`.
pub fn boot_order(v: &str) -> ParseResult {
    let devices: Vec<&str> = split_list(v).collect();
    for &dev in &devices {
        let special = dev.starts_with("efidisk") || dev.starts_with("tpmstate");
        let ok = (is_drive_name(dev) && !special)
            || is_indexed(dev, "net", 32)
            || is_indexed(dev, "usb", 14)
            || is_indexed(dev, "hostpci", 16);
        if !ok {
            return Err(format!("has an invalid boot device '{dev}'"));
        }
    }
    Ok(Some(Typed::BootOrder(BootOrder { devices: devices.into_iter().map(str::to_owned).collect() })))
}

// ---------------------------------------------------------------------------------------------
// Lists and sets

/// `affinity` (`pve-cpuset`): PVE::CpuSet `parse_cpuset`, parts `^\s*(\d+)(?:-(\d+))?\s*$` with
/// from ≤ to, split with Perl's `split(/,/)` (a trailing comma is dropped, a leading one is not).
pub fn cpuset(v: &str) -> CheckResult {
    for part in perl_split_comma(v) {
        let p = part.trim_matches(|c: char| c.is_ascii_whitespace());
        let (from, to) = p.split_once('-').unwrap_or((p, p));
        if !is_digits(from) || !is_digits(to) {
            return Err(format!("has an invalid CPU range '{part}'"));
        }
        // Compare as numbers of any length, like Perl's numeric `<` on digit strings.
        let num = |s: &str| {
            let t = s.trim_start_matches('0');
            (t.len(), t.to_string())
        };
        if num(to) < num(from) {
            return Err(format!("has an invalid CPU range '{part}' (end before start)"));
        }
    }
    Ok(())
}

/// `hotplug` (`pve-hotplug-features`): `0`, `1`, or a `split_list` of the known features.
pub fn hotplug(v: &str) -> ParseResult {
    let features = match v {
        "0" => HotplugFeatures::none(),
        "1" => HotplugFeatures::proxmox_default(),
        list => {
            let mut features = Vec::new();
            for f in split_list(list) {
                let Some(feature) = super::HotplugFeature::parse(f) else {
                    return Err(format!(
                        "has an invalid hotplug feature '{f}' ({}, or 0/1)",
                        super::HotplugFeature::NAMES.join(", ")
                    ));
                };
                features.push(feature);
            }
            HotplugFeatures { features }
        }
    };
    Ok(Some(Typed::Hotplug(features)))
}

/// `tags` (`pve-tag-list`): `split_list`, each `$PVE_TAG_RE` = `[a-z0-9_][a-z0-9_\-\+\.]*`i.
pub fn tag_list(v: &str) -> CheckResult {
    for tag in split_list(v) {
        let b = tag.as_bytes();
        let ok = (b[0].is_ascii_alphanumeric() || b[0] == b'_')
            && b.iter().all(|c| c.is_ascii_alphanumeric() || b"_-+.".contains(c));
        if !ok {
            return Err(format!("has an invalid tag '{tag}'"));
        }
    }
    Ok(())
}

/// `nameserver` (`address-list`): `split_list`, each an IP address or a DNS name
/// (JSONSchema.pm `pve_verify_address`).
pub fn address_list(v: &str) -> CheckResult {
    for a in split_list(v) {
        if ipv4(a).is_err() && ipv6(a).is_err() && dns_name(a).is_err() {
            return Err(format!("has an invalid address '{a}'"));
        }
    }
    Ok(())
}

/// `\d+(?:-\d+)?(?:;\d+(?:-\d+)?)*`: net `trunks`, numaN `cpus` and `hostnodes`.
pub fn id_range_list(v: &str) -> CheckResult {
    if v.split(';').all(is_id_or_range) {
        Ok(())
    } else {
        fail("is not a list of IDs or ranges (id[-id];…)")
    }
}

// ---------------------------------------------------------------------------------------------
// Network (Network.pm, JSONSchema.pm)

/// JSONSchema.pm `pve_verify_mac_addr`: `^[a-f0-9][02468ace](?::[a-f0-9]{2}){5}$`i; the I/G
/// (multicast) bit must be clear.
pub fn mac_addr(v: &str) -> CheckResult {
    let parts: Vec<&str> = v.split(':').collect();
    if parts.len() != 6 || !parts.iter().all(|p| p.len() == 2 && is_hex(p)) {
        return fail("is not a valid MAC address");
    }
    let second = parts[0].as_bytes()[1].to_ascii_lowercase();
    if !b"02468ace".contains(&second) {
        return fail("is a multicast MAC address (I/G bit set), only unicast is allowed");
    }
    Ok(())
}

/// JSONSchema.pm `parse_bridge_id` (`pve-bridge-id`): `^[-_.\w\d]+$`.
pub fn bridge_id(v: &str) -> CheckResult {
    let ok = !v.is_empty() && v.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        fail("is not a valid bridge name")
    }
}

/// PVE::Tools `$IPV4RE` (no leading zeros in octets, which `Ipv4Addr` also rejects).
pub fn ipv4(v: &str) -> CheckResult {
    v.parse::<Ipv4Addr>().map(|_| ()).map_err(|_| "is not a valid IPv4 address".to_string())
}

/// PVE::Tools `$IPV6RE` (RFC 4291 text forms, optionally ending in dotted IPv4).
pub fn ipv6(v: &str) -> CheckResult {
    v.parse::<Ipv6Addr>().map(|_| ()).map_err(|_| "is not a valid IPv6 address".to_string())
}

/// `CIDRv4` / `CIDRv6`: address, `/`, prefix with `$1 > 7` and `$1 <= max`.
fn cidr(v: &str, max: u32, addr_ok: fn(&str) -> CheckResult) -> bool {
    let Some((addr, prefix)) = v.split_once('/') else {
        return false;
    };
    // `(\d+)` allows leading zeros; compare numerically.
    let len = is_digits(prefix)
        .then(|| prefix.trim_start_matches('0'))
        .filter(|p| p.len() <= 3)
        .map(|p| p.parse::<u32>().unwrap_or(0));
    addr_ok(addr).is_ok() && len.is_some_and(|n| n > 7 && n <= max)
}

/// ipconfig `ip` (`pve-ipv4-config`): `dhcp`, `manual` or an IPv4 CIDR (prefix 8–32).
pub fn ipv4_config(v: &str) -> CheckResult {
    if v == "dhcp" || v == "manual" || cidr(v, 32, ipv4) {
        Ok(())
    } else {
        fail("is not 'dhcp', 'manual' or an IPv4 address with prefix length (8-32)")
    }
}

/// ipconfig `ip6` (`pve-ipv6-config`): `auto`, `dhcp`, `manual` or an IPv6 CIDR (prefix 8–128).
pub fn ipv6_config(v: &str) -> CheckResult {
    if v == "auto" || v == "dhcp" || v == "manual" || cidr(v, 128, ipv6) {
        Ok(())
    } else {
        fail("is not 'auto', 'dhcp', 'manual' or an IPv6 address with prefix length (8-128)")
    }
}

/// `running-nets-host-mtu`: `net\d+=\d+(,net\d+=\d+)*`.
pub fn running_nets_host_mtu(v: &str) -> CheckResult {
    let ok = v.split(',').all(|p| {
        p.split_once('=').is_some_and(|(k, mtu)| k.strip_prefix("net").is_some_and(is_digits) && is_digits(mtu))
    });
    if ok {
        Ok(())
    } else {
        fail("is not a list of netN=MTU")
    }
}

// ---------------------------------------------------------------------------------------------
// PCI and USB passthrough (PCI.pm, USB.pm)

/// hostpci `host`: `$PCIRE(;$PCIRE)*`, each entry read by [`HostPciId`]. A domain too large for
/// it still matches the pattern (`HostPci::from_props` reports it).
pub fn pci_host(v: &str) -> ParseResult {
    let mut ids = Vec::new();
    let mut too_large = None;
    for id in v.split(';') {
        match id.parse::<HostPciId>() {
            Ok(parsed) => ids.push(parsed),
            Err(HostPciIdError::DomainTooLarge) => {
                too_large.get_or_insert_with(|| id.to_owned());
            }
            Err(HostPciIdError::Invalid) => {
                return Err("is not a PCI address list ([dddd:]bb:dd[.f];…, lowercase hex)".to_string())
            }
        }
    }
    Ok(Some(Typed::PciHosts(too_large.map_or(Ok(ids), Err))))
}

/// hostpci `vendor-id` etc.: `^0x[0-9a-fA-F]{4}$`.
pub fn pci_id(v: &str) -> CheckResult {
    match v.strip_prefix("0x") {
        Some(h) if h.len() == 4 && is_hex(h) => Ok(()),
        _ => fail("is not a PCI ID ('0x' and 4 hex digits)"),
    }
}

/// hostpci `romfile`: `[^,;]+`.
pub fn romfile(v: &str) -> CheckResult {
    if !v.is_empty() && !v.contains([',', ';']) {
        Ok(())
    } else {
        fail("is not a valid ROM file name")
    }
}

/// hostpci `mdev`: `[^/\.:]+`.
pub fn mdev(v: &str) -> CheckResult {
    if !v.is_empty() && !v.contains(['/', '.', ':']) {
        Ok(())
    } else {
        fail("is not a valid mediated device type (no '/', '.' or ':')")
    }
}

/// usb `host` (USB.pm `parse_usb_device`): the three shapes [`UsbHost`] reads.
pub fn usb_host(v: &str) -> ParseResult {
    match v.parse::<UsbHost>() {
        Ok(host) => Ok(Some(Typed::UsbHost(host))),
        Err(_) => Err("is not a USB device (vendor:product, bus-port or 'spice')".to_string()),
    }
}

// ---------------------------------------------------------------------------------------------
// Machine and CPU (Machine.pm, CPUConfig.pm)

/// machine `type` (Machine.pm `$PVE_MACHINE_REGEX`, maxLength 40): the grammar [`MachineType`]
/// reads. Numbers too large for it still match the pattern (the translation falls back).
pub fn machine_type(v: &str) -> ParseResult {
    match v.parse::<MachineType>() {
        Ok(machine) => Ok(Some(Typed::Machine(machine))),
        Err(MachineTypeError::OutOfRange) => Ok(None),
        Err(MachineTypeError::TooLong) => Err("is longer than 40 characters".to_string()),
        Err(MachineTypeError::Invalid) => {
            Err("is not a valid machine type (pc, q35, virt, pc-i440fx-X.Y, pc-q35-X.Y, virt-X.Y, optionally +pveN)"
                .to_string())
        }
    }
}

/// cpu `cputype`. Proxmox checks it against the host's QEMU model list
/// (`/usr/share/kvm/cpu-models-<arch>.json`) and `/etc/pve/virtual-guest/cpu-models.conf`, neither
/// of which exists where we convert; we check only the shape: a QEMU model name, or `custom-`
/// and a config ID.
pub fn cpu_type(v: &str) -> CheckResult {
    if let Some(custom) = v.strip_prefix("custom-") {
        return config_id(custom).map_err(|_| "is not a valid custom CPU model name".into());
    }
    let b = v.as_bytes();
    let ok = !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        fail("is not a CPU model name")
    }
}

/// cpu `reported-model`: CPUConfig.pm `validate_vm_cpu_conf` rejects it in a VM config (it is
/// only for custom model definitions).
pub fn reported_model_forbidden(_v: &str) -> CheckResult {
    fail("is not allowed: 'reported-model' is only valid in custom CPU model definitions")
}

/// cpu `hv-vendor-id`: `[a-zA-Z0-9]{1,12}`.
pub fn hv_vendor_id(v: &str) -> CheckResult {
    if (1..=12).contains(&v.len()) && v.bytes().all(|c| c.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        fail("is not a Hyper-V vendor ID (1 to 12 letters or digits)")
    }
}

/// CPUConfig.pm `$supported_cpu_flags`: the only flags a VM config may set.
const VM_CPU_FLAGS: &[&str] = &[
    "nested-virt",
    "md-clear",
    "pcid",
    "spec-ctrl",
    "ssbd",
    "ibpb",
    "virt-ssbd",
    "amd-ssbd",
    "amd-no-ssb",
    "pdpe1gb",
    "hv-tlbflush",
    "hv-evmcs",
    "aes",
];

/// cpu `flags`: `[+-]flag(;[+-]flag)*`, and in a VM config (`validate_vm_cpu_conf`) each flag must
/// be one of `$supported_cpu_flags`.
pub fn cpu_flags(v: &str) -> CheckResult {
    for f in v.split(';') {
        let Some(name) = f.strip_prefix(['+', '-']) else {
            return Err(format!("has a flag '{f}' without leading '+' or '-'"));
        };
        if !VM_CPU_FLAGS.contains(&name) {
            return Err(format!(
                "has flag '{f}', but VM-specific CPU flags must be a subset of: {}",
                VM_CPU_FLAGS.join(", ")
            ));
        }
    }
    Ok(())
}

/// cpu `phys-bits` (CPUConfig.pm `parse_phys_bits`): `host` or `\d{1,2}` between 8 and 64.
pub fn phys_bits(v: &str) -> CheckResult {
    if v == "host" || (is_digits(v) && v.len() <= 2 && (8..=64).contains(&v.parse::<u32>().unwrap_or(0))) {
        Ok(())
    } else {
        fail("is not an integer between 8 and 64 or 'host'")
    }
}

/// `runningcpu` (CPUConfig.pm `$qemu_cmdline_cpu_re`): `^((?>[+-]?[\w\-\._=]+,?)+)$`.
pub fn qemu_cpu_cmdline(v: &str) -> CheckResult {
    let word = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b'=');
    let b = v.as_bytes();
    let mut i = 0;
    let mut tokens = 0;
    while i < b.len() {
        // The atomic group makes each token greedy: sign, word characters, optional comma.
        if matches!(b[i], b'+' | b'-') && b.get(i + 1).is_some_and(|c| word(*c)) {
            i += 1;
        }
        let start = i;
        while i < b.len() && word(b[i]) {
            i += 1;
        }
        if i == start {
            return fail("is not a QEMU -cpu argument");
        }
        if i < b.len() && b[i] == b',' {
            i += 1;
        }
        tokens += 1;
    }
    if tokens > 0 {
        Ok(())
    } else {
        fail("is not a QEMU -cpu argument")
    }
}

// ---------------------------------------------------------------------------------------------
// Other top-level patterns (QemuServer.pm `$confdesc`)

/// `serialN`: `(/dev/[^,]+|socket)`.
pub fn serial_port(v: &str) -> CheckResult {
    let dev = v.strip_prefix("/dev/").is_some_and(|r| !r.is_empty() && !r.contains(','));
    // Proxmox's `/dev/.+` lets `/dev/../etc/shadow` through to QEMU; a config must not name a host
    // file outside /dev, so `..` is refused (stricter than Proxmox on purpose).
    if dev && v.split('/').any(|c| c == "..") {
        return fail("leaves /dev through a '..' component");
    }
    if dev || v == "socket" {
        Ok(())
    } else {
        fail("is not 'socket' or a /dev/ path")
    }
}

/// `parallelN`: `/dev/parport\d+|/dev/usb/lp\d+`. JSONSchema.pm's `m/^$pattern$/` binds `^` and
/// `$` to one alternative each; we anchor both alternatives, which is what the pattern means.
pub fn parallel_port(v: &str) -> CheckResult {
    let ok = ["/dev/parport", "/dev/usb/lp"].iter().any(|p| v.strip_prefix(p).is_some_and(is_digits));
    if ok {
        Ok(())
    } else {
        fail("is not /dev/parportN or /dev/usb/lpN")
    }
}

/// `startdate`: `(now|\d{4}-\d{1,2}-\d{1,2}(T\d{1,2}:\d{1,2}:\d{1,2})?)`.
pub fn startdate(v: &str) -> CheckResult {
    if v == "now" {
        return Ok(());
    }
    let field = |s: &str, min: usize, max: usize| is_digits(s) && (min..=max).contains(&s.len());
    let (date, time) = match v.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (v, None),
    };
    let date_ok = matches!(date.split('-').collect::<Vec<_>>().as_slice(),
        [y, m, d] if field(y, 4, 4) && field(m, 1, 2) && field(d, 1, 2));
    let time_ok = time.is_none_or(|t| {
        matches!(t.split(':').collect::<Vec<_>>().as_slice(),
            [h, m, s] if field(h, 1, 2) && field(m, 1, 2) && field(s, 1, 2))
    });
    if date_ok && time_ok {
        Ok(())
    } else {
        fail("is not 'now', YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS")
    }
}

/// `[a-fA-F0-9]{8}(?:-[a-fA-F0-9]{4}){3}-[a-fA-F0-9]{12}`.
fn is_uuid(v: &str) -> bool {
    let parts: Vec<&str> = v.split('-').collect();
    parts.len() == 5 && parts.iter().zip([8, 4, 4, 4, 12]).all(|(p, n)| p.len() == n && is_hex(p))
}

/// `vmgenid`: a UUID, or `0`/`1`.
pub fn vmgenid(v: &str) -> CheckResult {
    if v == "0" || v == "1" || is_uuid(v) {
        Ok(())
    } else {
        fail("is not a UUID, '0' or '1'")
    }
}

/// smbios1 `uuid`.
pub fn uuid(v: &str) -> CheckResult {
    if is_uuid(v) {
        Ok(())
    } else {
        fail("is not a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)")
    }
}

/// smbios1 text fields: `[A-Za-z0-9+\/]+={0,2}` (the base64 alphabet, so that `base64=1` values
/// fit; plain values are limited to it too).
pub fn smbios_text(v: &str) -> CheckResult {
    let body = v.trim_end_matches('=');
    let pad = v.len() - body.len();
    let ok = !body.is_empty() && pad <= 2 && body.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/');
    if ok {
        Ok(())
    } else {
        fail("has characters outside A-Z a-z 0-9 + / (set base64=1 and encode the value)")
    }
}

/// ivshmem `name`: `[a-zA-Z0-9\-]+`.
pub fn ivshmem_name(v: &str) -> CheckResult {
    if !v.is_empty() && v.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-') {
        Ok(())
    } else {
        fail("is not a valid name (letters, digits and '-')")
    }
}

/// meta `creation-qemu`: `\d+(\.\d+)+`.
pub fn qemu_version(v: &str) -> CheckResult {
    if strip_version(v).is_some_and(str::is_empty) {
        Ok(())
    } else {
        fail("is not a QEMU version (X.Y[.Z])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A check that parses, as a plain one.
    fn checked(parse: fn(&str) -> ParseResult) -> impl Fn(&str) -> CheckResult {
        move |v| parse(v).map(drop)
    }

    fn accepts(check: impl Fn(&str) -> CheckResult, values: &[&str]) {
        for v in values {
            assert!(check(v).is_ok(), "should accept '{v}': {:?}", check(v));
        }
    }

    fn rejects(check: impl Fn(&str) -> CheckResult, values: &[&str]) {
        for v in values {
            assert!(check(v).is_err(), "should reject '{v}'");
        }
    }

    #[test]
    fn volumes_and_ids() {
        accepts(
            volume_id,
            &[
                "local:100/vm-100-disk-0.qcow2",
                "local:iso/x.iso",
                "local-lvm:vm-100-disk-0",
                "rbd-store:vm-100-disk-0",
                "Local.Store_1:x",
                "local:snippets/hook.pl",
            ],
        );
        rejects(volume_id, &["local", "local:", "l:x", "1local:x", "local-:x", "/dev/sdb"]);
        accepts(drive_file, &["none", "cdrom", "/dev/sdb", "/mnt/x.raw", "local:iso/x.iso"]);
        rejects(drive_file, &["None", "x.raw", "dev/sdb", "local:"]);
        accepts(storage_id, &["local", "local-lvm", "ceph.ext", "a1"]);
        rejects(storage_id, &["a", "1abc", "abc-", "ab c", "ab:c"]);
        accepts(config_id, &["someGpu", "my_dir-1", "ab"]);
        rejects(config_id, &["a", "1a", "a.b", "a b"]);
        accepts(snapshot_name, &["before-upgrade", &"s".repeat(40)]);
        rejects(snapshot_name, &[&"s".repeat(41), "1st", "x"]);
        accepts(dns_name, &["vm100", "web-1.example.com", "a", "8006"]);
        rejects(dns_name, &["-web", "web-", "a..b", "a.", "under_score", "vm 1"]);
    }

    #[test]
    fn drive_texts() {
        accepts(urlencoded, &["", "abc%20def", "ssh-rsa%20AAAA%2B%2F"]);
        rejects(urlencoded, &["a b", "a+b", "a/b", "a,b"]);
        accepts(drive_serial, &["ABC123", &"%41".repeat(20)]);
        rejects(drive_serial, &[&"a".repeat(61), "a b"]);
        accepts(drive_model, &["QEMU%20HARDDISK", &"m".repeat(120)]);
        rejects(drive_model, &[&"m".repeat(121)]);
        accepts(wwn, &["0x5000c500a1b2c3d4", "0xABCDEFabcdef0123"]);
        rejects(wwn, &["5000c500a1b2c3d4", "0x5000c500a1b2c3d", "0x5000c500a1b2c3d45", "0X5000c500a1b2c3d4"]);
        accepts(scsi_vendor, &["QEMU", "ACME Co", "12345678"]);
        rejects(scsi_vendor, &["123456789", "AC.ME"]);
        accepts(scsi_product, &["QEMU HARDDISK", "0123456789abcdef"]);
        rejects(scsi_product, &["0123456789abcdefg", "disk/1"]);
    }

    #[test]
    fn boot() {
        accepts(bootdisk, &["scsi0", "ide2", "virtio15", "sata5", "scsi30"]);
        rejects(bootdisk, &["efidisk0", "tpmstate0", "scsi31", "ide4", "unused0", "net0", "scsi01"]);
        accepts(boot_legacy, &["cdn", "c", "acdn", "ndc"]);
        rejects(boot_legacy, &["", "cdnac", "e", "CDN"]);
        accepts(checked(boot_order), &["scsi0;ide2;net0", "hostpci0", "usb13;net31;virtio0", "sata0"]);
        rejects(checked(boot_order), &["efidisk0", "tpmstate0", "net32", "usb14", "net01", "unused0", "floppy"]);
        // `split_list` separates on any whitespace, a tab too.
        let Ok(Some(Typed::BootOrder(order))) = boot_order("scsi0;ide2,net0\tusb1 hostpci0") else { panic!() };
        assert_eq!(order.devices, ["scsi0", "ide2", "net0", "usb1", "hostpci0"]);
    }

    #[test]
    fn lists() {
        accepts(cpuset, &["0,5,8-11", "0", "3-3", " 1 , 2", "1,"]);
        rejects(cpuset, &["5-3", "a", "1;2", ",1", "1-", "-1"]);
        accepts(checked(hotplug), &["0", "1", "network,disk,usb", "cpu;memory", "cloudinit", "disk network"]);
        rejects(checked(hotplug), &["2", "network,floppy", "Network"]);
        let read = |v| match hotplug(v) {
            Ok(Some(Typed::Hotplug(h))) => h.features,
            other => panic!("{other:?}"),
        };
        use crate::pve::schema::HotplugFeature::*;
        assert_eq!(read("cpu;memory\tdisk"), [Cpu, Memory, Disk]);
        assert_eq!(read("1"), [Network, Disk, Usb]);
        assert_eq!(read("0"), []);
        accepts(tag_list, &["prod;web", "a,b c", "_x", "v1.2+build"]);
        rejects(tag_list, &["-x", "a;b!c", "ümlaut"]);
        accepts(address_list, &["1.1.1.1", "1.1.1.1 2001:db8::1", "dns.example.com;8.8.8.8"]);
        rejects(address_list, &["1.1.1.1;bad_name", "-x"]);
        accepts(id_range_list, &["0", "0-3", "0-3;8-11", "10;20;30"]);
        rejects(id_range_list, &["", "0,1", "0-", "a", "0;;1", "1-2-3"]);
    }

    #[test]
    fn network() {
        accepts(mac_addr, &["BC:24:11:2C:69:EC", "02:00:00:00:00:01", "a2:b4:c6:d8:e0:f2"]);
        rejects(
            mac_addr,
            &[
                "01:00:5e:00:00:01",
                "BD:24:11:2C:69:EC",
                "BC:24:11:2C:69",
                "BC-24-11-2C-69-EC",
                "BC:24:11:2C:69:E",
                "GC:24:11:2C:69:EC",
            ],
        );
        accepts(bridge_id, &["vmbr0", "vmbr0.100", "vxlan_bridge", "br-lan"]);
        rejects(bridge_id, &["vmbr 0", "vmbr0:1"]);
        accepts(ipv4, &["10.0.0.1", "255.255.255.255"]);
        rejects(ipv4, &["10.0.0", "10.0.0.256", "010.0.0.1"]);
        accepts(ipv6, &["2001:db8::1", "::1", "::ffff:10.0.0.1"]);
        rejects(ipv6, &["2001:db8:::1", "fe80::1%eth0", "10.0.0.1"]);
        accepts(ipv4_config, &["dhcp", "manual", "10.0.0.5/24", "10.0.0.5/8", "10.0.0.5/32"]);
        rejects(ipv4_config, &["auto", "10.0.0.5", "10.0.0.5/7", "10.0.0.5/33", "DHCP"]);
        accepts(ipv6_config, &["auto", "dhcp", "manual", "2001:db8::5/64", "2001:db8::5/128"]);
        rejects(ipv6_config, &["2001:db8::5", "2001:db8::5/129", "2001:db8::5/7", "10.0.0.5/24"]);
        accepts(running_nets_host_mtu, &["net0=1500", "net0=1500,net1=0"]);
        rejects(running_nets_host_mtu, &["net0", "net0=1500,", "eth0=1500", "net0=x"]);
    }

    #[test]
    fn passthrough() {
        accepts(checked(pci_host), &["0000:01:00.4", "01:00.4", "01:00", "0000:00:43.1;0000:00:f4.0", "1234:f0:43.1"]);
        rejects(
            checked(pci_host),
            &["0000:01:00.4;", "0000:01:0.4", "0000:01:00.10", "0000:0F:F2.0", "000:01:00.0", "someGpu"],
        );
        // The pattern allows a domain of any length, though the model's u32 cannot hold it.
        accepts(checked(pci_host), &["123456789:01:00.4"]);
        accepts(pci_id, &["0x10de", "0xABcd"]);
        rejects(pci_id, &["10de", "0x10d", "0x10de1"]);
        accepts(romfile, &["vbios.bin", "sub/dir.rom"]);
        rejects(romfile, &["a;b"]);
        accepts(mdev, &["nvidia-63", "i915-GVTg_V5_4"]);
        rejects(mdev, &["a/b", "a.b", "a:b"]);
        accepts(checked(usb_host), &["046d:c52b", "0x046d:0xc52b", "1-2", "1-2.3.4", "spice", "SPICE"]);
        rejects(checked(usb_host), &["046d:c52", "1-", "1-2.", "host", "046d"]);
    }

    #[test]
    fn machine_and_cpu() {
        accepts(
            checked(machine_type),
            &[
                "pc",
                "q35",
                "virt",
                "pc-i440fx-9.2",
                "pc-i440fx-2.12+pve1",
                "pc-q35-4.1+pve2",
                "pc-q35-10.0.pxe",
                "pc-q35-8.1+pve0.pxe",
                "pc-1.2",
                "virt-9.2+pve1",
                "virt+pve1",
                "pc-i440fx-42.9.1",
            ],
        );
        // Numbers the model's u32 cannot hold still match the pattern.
        accepts(checked(machine_type), &["pc-q35-99999999999.1", "pc-q35-9.2+pve99999999999"]);
        rejects(
            checked(machine_type),
            &[
                "pc-q35",
                "pc-q35-9",
                "pc-q35-9.",
                "q35-9.2",
                "virt-9.2.pxe",
                "pc-q35-9.2+pve",
                "pc-i440fx-9.2+pve1.pxe.pxe",
                "microvm",
            ],
        );
        accepts(cpu_type, &["kvm64", "host", "x86-64-v2-AES", "Icelake-Server-noTSX", "custom-mymodel", "Opteron_G5"]);
        rejects(cpu_type, &["custom-", "custom-1x", "", "-host", "bad model"]);
        rejects(reported_model_forbidden, &["kvm64"]);
        accepts(hv_vendor_id, &["proxmox", "ABCDEF123456"]);
        rejects(hv_vendor_id, &["ABCDEF1234567", "pro-xmox"]);
        accepts(cpu_flags, &["+aes", "+pcid;-spec-ctrl;+md-clear", "-nested-virt"]);
        rejects(cpu_flags, &["aes", "+avx", "+aes;", "+aes;avx", "+kvm_pv_unhalt"]);
        accepts(phys_bits, &["host", "8", "46", "64"]);
        rejects(phys_bits, &["7", "65", "046", "Host", "-8"]);
        accepts(
            qemu_cpu_cmdline,
            &[
                "kvm64,enforce,+kvm_pv_eoi,+kvm_pv_unhalt,+lahf_lm,+sep",
                "host,+kvm_pv_eoi,vendor=GenuineIntel",
                "qemu64,",
            ],
        );
        rejects(qemu_cpu_cmdline, &["", ",kvm64", "kvm64,,enforce", "kvm64 enforce", "kvm64,+", "kvm64++sep"]);
    }

    #[test]
    fn top_level_patterns() {
        accepts(serial_port, &["socket", "/dev/ttyS0", "/dev/serial/by-id/usb-x"]);
        rejects(serial_port, &["/dev/", "/dev/tty,S0", "tcp:1234", "Socket"]);
        accepts(parallel_port, &["/dev/parport0", "/dev/usb/lp1"]);
        rejects(parallel_port, &["/dev/parport", "/dev/parport0x", "x/dev/usb/lp1", "/dev/lp0"]);
        accepts(startdate, &["now", "2006-06-17", "2006-06-17T16:01:21", "2006-6-7T1:2:3"]);
        rejects(startdate, &["Now", "06-06-17", "2006-06-17T16:01", "2006-06-17 16:01:21", "2006-006-17"]);
        accepts(vmgenid, &["0", "1", "c773c261-d800-4348-9f5d-167fadd53cf8"]);
        rejects(vmgenid, &["2", "c773c261-d800-4348-9f5d-167fadd53cf", "c773c261d80043489f5d167fadd53cf8"]);
        accepts(uuid, &["7b10d7af-b932-4c66-b2c3-3996152ec465"]);
        rejects(uuid, &["7b10d7af-b932-4c66-b2c3-3996152ec46g", "1"]);
        accepts(smbios_text, &["QEMU", "cHJveG1veA==", "a+b/c", "ab="]);
        rejects(smbios_text, &["Proxmox VE", "a===", "=", "x-y", "a=b"]);
        accepts(serial_port, &["/dev/ttyS0", "/dev/serial/by-id/usb-x..y", "socket"]);
        rejects(serial_port, &["/dev/../etc/shadow", "/dev/pts/../../root/x", "/dev/..", "/tmp/x"]);
        accepts(ivshmem_name, &["foo", "shm-1"]);
        rejects(ivshmem_name, &["foo_bar", "a.b"]);
        accepts(qemu_version, &["6.1", "9.2.0", "10.0.2"]);
        rejects(qemu_version, &["9", "9.", "v9.2", "9..2"]);
    }
}
