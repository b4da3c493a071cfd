//! Machine type, architecture, accelerator, ACPI, clock and lifecycle
//! (docs/mapping.md#global-rules, #identity, #machine-type; docs/proxmox-config.md#machine,
//! #time-and-ostype).

use crate::libvirt::{
    Domain, DomainClock, DomainFeatureApic, DomainFeatureIoapic, DomainIommu, DomainIommuDriver, DomainLifecycleAction,
    DomainOsType, DomainPm, DomainPmPolicy, DomainTimer, DomainType, Empty,
};
use crate::map::Ctx;
use crate::pve::model::rules;
use crate::pve::schema::Key;
use crate::pve::schema::{Bios, EfiType, MachineOpts, OsType, Viommu};
use crate::report::{code, Note};
use crate::target::TargetCaps;

pub use crate::pve::model::machine::MachineType;

pub fn map(ctx: &mut Ctx, domain: &mut Domain) {
    let vm = ctx.vm;
    let arch = vm.arch().as_str().to_owned();
    if vm.keys().arch().is_some() {
        ctx.mapped(Key::arch, "os/type@arch");
    }

    domain.domain_type = domain_type(ctx, &arch);

    let machine = machine_type(ctx, &arch, domain.domain_type);
    domain.os.os_type = DomainOsType { arch, machine: machine.qemu_name(), value: "hvm".into() };
    ctx.machine = machine;

    // Without <acpi/> libvirt passes -no-acpi (docs/mapping.md#global-rules).
    if vm.acpi() {
        domain.features.acpi = Some(Empty);
    }
    if vm.keys().acpi().is_some() {
        ctx.mapped(Key::acpi, "features/acpi");
    }
    domain.features.apic = Some(DomainFeatureApic::default());

    // `reboot: 0` makes QEMU exit instead of rebooting (-no-reboot).
    domain.on_poweroff = DomainLifecycleAction::Destroy;
    domain.on_reboot = if vm.reboot() { DomainLifecycleAction::Restart } else { DomainLifecycleAction::Destroy };
    domain.on_crash = DomainLifecycleAction::Destroy;
    if vm.keys().reboot().is_some() {
        ctx.mapped(Key::reboot, "on_reboot");
    }

    viommu(ctx, domain);
    domain.pm = power_management(ctx);
    domain.clock = clock(ctx);
    freeze(ctx);
}

/// Accelerator: `kvm: 0` means TCG. `--domain-type` overrides it for the target host.
fn domain_type(ctx: &mut Ctx, arch: &str) -> DomainType {
    let kvm = ctx.vm.kvm();
    let domain_type = match (ctx.opts.domain_type, &ctx.opts.target) {
        (Some(t), _) => t,
        (None, Some(target)) => target_domain_type(ctx, target, kvm, arch),
        (None, None) => {
            if kvm {
                DomainType::Kvm
            } else {
                DomainType::Qemu
            }
        }
    };
    if ctx.vm.keys().kvm().is_some() {
        ctx.mapped(Key::kvm, "domain@type");
    }
    domain_type
}

/// `freeze: 1` is Proxmox's `-S`: a start option, not part of the machine.
fn freeze(ctx: &mut Ctx) {
    if let Some(freeze) = ctx.vm.keys().freeze() {
        if freeze {
            ctx.note_on(
                Key::freeze,
                Note::warning(code::FREEZE, "the domain cannot be told to start paused in its XML")
                    .label("start paused")
                    .help("start it with `virsh start --paused` to keep Proxmox's behaviour"),
            );
        } else {
            ctx.mapped(Key::freeze, "(default: starts running)");
        }
    }
}

/// `machine: …,viommu=intel|virtio,aw-bits=N` (docs/mapping.md#machine-type).
fn viommu(ctx: &mut Ctx, domain: &mut Domain) {
    let Some(props) = ctx.vm.keys().machine() else {
        return;
    };
    let aw_bits = props.aw_bits().map(|n| n as u32);
    let intel_refused = rules::intel_viommu_needs_q35(props.viommu(), ctx.is_q35()).err();
    match (props.viommu(), intel_refused) {
        (None, _) => {
            if let Err(r) = rules::aw_bits_need_viommu(props.aw_bits(), props.viommu()) {
                let at = r.span_in(props.props);
                ctx.note_on(
                    Key::machine,
                    Note::error(code::BAD_VALUE, r.message).label("aw-bits without viommu").at(at),
                );
            }
        }
        (Some(Viommu::Intel), Some(r)) => {
            let at = r.span_in(props.props);
            ctx.note_on(
                Key::machine,
                Note::error(code::VIOMMU_NEEDS_Q35, r.message)
                    .at(at)
                    .label("not on i440fx")
                    .help("set the machine type to q35, or remove viommu"),
            );
        }
        (Some(Viommu::Virtio), _) if !ctx.is_q35() => {
            // Proxmox allows it; libvirt 9.0 does not ("'virtio' is only supported with Q35 and ARM
            // Virt"). The VM is still useful without it: leave the IOMMU out and say so.
            ctx.note_on(
                Key::machine,
                Note::warning(
                    code::VIOMMU_VIRTIO_DROPPED,
                    "libvirt supports the VirtIO vIOMMU only on q35 machines: left out of this i440fx guest",
                )
                .at(props.span_of(MachineOpts::SUB.viommu))
                .label("not on i440fx")
                .help("the guest loses its IOMMU (nested device assignment, DMA isolation); switch to q35 to keep it"),
            );
        }
        (Some(Viommu::Intel), None) => {
            // Proxmox: intel-iommu,intremap=on,caching-mode=on + kernel-irqchip=split.
            domain.devices.iommu = Some(DomainIommu {
                model: "intel".into(),
                driver: Some(DomainIommuDriver {
                    intremap: Some("on".into()),
                    caching_mode: Some("on".into()),
                    aw_bits,
                }),
            });
            domain.features.ioapic = Some(DomainFeatureIoapic { driver: "qemu".into() });
            ctx.mapped(Key::machine, "devices/iommu");
        }
        (Some(Viommu::Virtio), _) => virtio_iommu(ctx, domain, props, aw_bits),
    }
}

/// `viommu=virtio` on q35 → `<iommu model='virtio'>`, without the aw-bits it cannot carry.
fn virtio_iommu(ctx: &mut Ctx, domain: &mut Domain, props: MachineOpts, aw_bits: Option<u32>) {
    domain.devices.iommu = Some(DomainIommu { model: "virtio".into(), driver: None });
    ctx.mapped(Key::machine, "devices/iommu");
    if let Some(bits) = aw_bits {
        // libvirt 9.0 allows no driver attributes on a virtio IOMMU, and QEMU 7.2's
        // virtio-iommu-pci has no aw-bits property.
        ctx.note_on(
            Key::machine,
            Note::warning(
                code::VIOMMU_AW_BITS,
                format!("aw-bits={bits} cannot be set on a VirtIO vIOMMU in libvirt 9.0; QEMU's default is used"),
            )
            .at(props.span_of(MachineOpts::SUB.aw_bits))
            .label("dropped"),
        );
    }
}

/// S3/S4: Proxmox disables both by default from machine 9.2+pve1 (`enable-s3`/`enable-s4`), not on
/// `virt` (Machine.pm, docs/proxmox-config.md#machine). Enabled is QEMU's default: no element.
fn power_management(ctx: &mut Ctx) -> Option<DomainPm> {
    if ctx.machine.family == "virt" {
        return None;
    }
    let props = ctx.vm.keys().machine();
    let default = !ctx.machine.at_least(9, 2, 1);
    let policy = |written: Option<bool>| {
        let enabled = written.unwrap_or(default);
        (!enabled).then_some(DomainPmPolicy { enabled: "no".into() })
    };
    let (s3, s4) = (props.and_then(|p| p.enable_s3()), props.and_then(|p| p.enable_s4()));
    let pm = DomainPm { suspend_to_mem: policy(s3), suspend_to_disk: policy(s4) };
    if s3.is_some() || s4.is_some() {
        ctx.mapped(Key::machine, "pm");
    }
    (pm.suspend_to_mem.is_some() || pm.suspend_to_disk.is_some()).then_some(pm)
}

/// The machine type, with Proxmox's own rules applied: Windows guests pinned to a version,
/// `+pveN` and `.pxe` removed, and lowered to the target host's QEMU when asked.
fn machine_type(ctx: &mut Ctx, arch: &str, domain_type: DomainType) -> MachineType {
    let vm = ctx.vm;
    let written = vm.keys().machine().and_then(|p| p.kind());
    let default = if arch == "aarch64" { "virt" } else { "pc" };
    // The decoder's check read the type; without one (unset, or a number too large) the default.
    let parsed = vm.keys().machine().and_then(|p| p.machine_type()).map(|m| m.value.clone());
    let mut machine = parsed.unwrap_or(MachineType {
        family: default.into(),
        version: None,
        pve: None,
        pxe: false,
        proxmox: None,
        downstream: None,
    });
    if vm.keys().machine().is_some() {
        ctx.mapped(Key::machine, "os/type@machine");
    }
    // Notes on a machine Proxmox chose itself point at `ostype`, which made the choice.
    let key = if written.is_some() { Key::machine } else { Key::ostype };
    pin_windows(ctx, &mut machine, arch, &key);
    strip_proxmox_suffixes(ctx, &mut machine);

    if let (None, Some(target)) = (ctx.opts.host_qemu, &ctx.opts.target) {
        fit_machine(ctx, target, &mut machine, arch, domain_type, &key);
        return machine;
    }
    lower_to_host_qemu(ctx, &mut machine, &key);
    machine
}

/// Proxmox pins Windows guests to a machine version (Machine.pm `get_vm_machine`): 5.1, or the
/// creation QEMU's major.minor from 9.1 on, so Windows does not see new hardware on upgrades.
fn pin_windows(ctx: &mut Ctx, machine: &mut MachineType, arch: &str, key: &Key) {
    let vm = ctx.vm;
    if !(machine.version.is_none() && vm.windows_version() > 0 && arch != "aarch64") {
        return;
    }
    let created = vm.keys().meta().and_then(|m| m.creation_qemu()).and_then(|v| {
        let mut it = v.split('.').map(|p| p.parse::<u32>().ok());
        Some((it.next()??, it.next()??))
    });
    let (major, minor) = created.filter(|&v| v >= (9, 1)).unwrap_or((5, 1));
    machine.family = if machine.is_q35() { "pc-q35".into() } else { "pc-i440fx".into() };
    machine.version = Some((major, minor, None));
    machine.proxmox = Some((major, minor, 0));
    ctx.note_on(
        key,
        Note::advice(
            code::MACHINE_PINNED,
            format!("Windows guest: machine pinned to {} as Proxmox does", machine.qemu_name()),
        )
        .help("Proxmox keeps Windows VMs on a fixed machine version so the guest does not re-detect its hardware"),
    );
}

/// `+pveN` and `.pxe` are Proxmox-only: upstream QEMU (and so libvirt) has no such machines.
fn strip_proxmox_suffixes(ctx: &mut Ctx, machine: &mut MachineType) {
    if let Some(n) = machine.pve.take() {
        let note = if n == 0 {
            Note::advice(
                code::MACHINE_PVE0_SUFFIX,
                format!(
                    "'+pve0' removed from the machine type: {} is the same machine in upstream QEMU",
                    machine.qemu_name()
                ),
            )
        } else {
            Note::warning(
                code::MACHINE_PVE_SUFFIX,
                format!(
                    "'+pve{n}' removed from the machine type: it is a Proxmox-only revision; libvirt runs upstream {}",
                    machine.qemu_name()
                ),
            )
            .help("Proxmox's revision changes small device defaults; the guest may notice")
        };
        ctx.note_on(Key::machine, note);
    }
    if machine.pxe {
        machine.pxe = false;
        ctx.note_on(
            Key::machine,
            Note::warning(
                code::MACHINE_PXE,
                "'.pxe' removed from the machine type: libvirt uses QEMU's default (iPXE EFI) NIC ROMs",
            )
            .help("the NIC option ROM differs from Proxmox's pxe-*.rom; network boot menus may look different"),
        );
    }
}

/// `--host-qemu-version`: a machine newer than the target's QEMU does not exist there.
fn lower_to_host_qemu(ctx: &mut Ctx, machine: &mut MachineType, key: &Key) {
    if let (Some(host), Some((major, minor, _))) = (ctx.opts.host_qemu, machine.version) {
        if (major, minor) > host {
            let from = machine.qemu_name();
            machine.version = Some((host.0, host.1, None));
            ctx.note_on(
                key,
                Note::warning(code::MACHINE_DOWNGRADED, format!("machine {from} is newer than the target QEMU {}.{}; lowered to {}", host.0, host.1, machine.qemu_name()))
                    .help("a lower machine version changes device defaults the guest can see; upgrade QEMU on the target to keep it"),
            );
        }
    }
}

/// The domain type on a known target: KVM where the config asks for it and the target runs KVM
/// guests of this architecture, and where the target's KVM accepts what the guest needs (SMM for
/// OVMF's Secure Boot build, Proxmox's Hyper-V enlightenments for Windows); TCG otherwise.
fn target_domain_type(ctx: &mut Ctx, target: &TargetCaps, kvm: bool, arch: &str) -> DomainType {
    if !kvm {
        return DomainType::Qemu;
    }
    let written = ctx.vm.keys().kvm().is_some() || ctx.vm.keys().machine().is_some();
    let key = if ctx.vm.keys().kvm().is_some() { Key::kvm } else { Key::machine };
    let tcg = move |ctx: &mut Ctx, why: String| {
        let note =
            Note::warning(code::TARGET_NO_KVM, format!("{why}: the domain runs under TCG emulation (type 'qemu')"))
                .help("TCG is much slower than KVM; pass --domain-type kvm to insist");
        if written {
            ctx.note_on(&key, note);
        } else {
            ctx.note(note);
        }
        DomainType::Qemu
    };
    if target.machines(arch, "kvm").is_empty() && target.machines(arch, "qemu").is_empty() {
        // No emulator for the architecture at all: fit_machine says so.
        return DomainType::Kvm;
    }
    if !target.has_domain_type(arch, "kvm") {
        return tcg(ctx, format!("the target ({}) offers no KVM for {arch} guests", target.describe()));
    }
    let vm = ctx.vm;
    let Some(limits) = target.kvm_limits else { return DomainType::Kvm };
    let ovmf = vm.bios() == Bios::Ovmf;
    let q35 = vm.keys().machine().and_then(|p| p.kind()).is_some_and(|t| t.contains("q35"));
    let efi4m = vm.keys().efidisk0().is_some_and(|e| e.efitype() == EfiType::Mib4);
    // Proxmox runs the Secure Boot build, which needs SMM, for 4 MiB OVMF on q35 (OVMF.pm).
    if ovmf && q35 && efi4m && arch == "x86_64" && !limits.smm {
        return tcg(
            ctx,
            "the target's KVM has no System Management Mode, which OVMF's Secure Boot build needs".to_owned(),
        );
    }
    let winversion = vm.windows_version();
    if winversion >= 6 && arch == "x86_64" && !(ovmf && winversion < 8) && !limits.hyperv {
        return tcg(
            ctx,
            "the target's KVM refuses the Hyper-V enlightenments Proxmox gives Windows guests (hv-vpindex)".to_owned(),
        );
    }
    DomainType::Kvm
}

/// Fits the machine to what the target has: Proxmox's version where it is there; else the closest
/// lower version of the same family; else the lowest higher one; else (a distribution that ships
/// only its own machine types, as RHEL does) the distribution's machine of that family.
fn fit_machine(
    ctx: &mut Ctx,
    target: &TargetCaps,
    machine: &mut MachineType,
    arch: &str,
    domain_type: DomainType,
    key: &Key,
) {
    derived_qemu_version_note(ctx, target);
    let available = available_machines(target, arch, domain_type);
    let name = machine.qemu_name();
    if available.is_empty() && target.caps.is_some() {
        let key = if ctx.vm.keys().arch().is_some() { &Key::arch } else { key };
        ctx.note_on(
            key,
            Note::warning(
                code::TARGET_NO_ARCH,
                format!(
                    "the target ({}) has no emulator for {arch} guests; libvirt there will refuse this domain",
                    target.describe()
                ),
            )
            .help("install the target's QEMU for this architecture (Debian: qemu-system-arm for aarch64)"),
        );
        return;
    }
    if available.is_empty() || available.iter().any(|(n, _)| *n == name) {
        return;
    }
    let Some(wanted) = machine.version else { return };
    let mut fit = MachineFit { ctx, target, available: &available, name: &name, key };
    if !fit.upstream_version(machine, wanted) {
        fit.downstream(machine);
    }
}

/// Saved capabilities carry no QEMU version, so the one used was guessed; say from what.
fn derived_qemu_version_note(ctx: &mut Ctx, target: &TargetCaps) {
    if let Some(from) = &target.qemu_version_derived_from {
        if let Some((a, b, _)) = target.qemu_version {
            ctx.note(
                Note::advice(
                    code::TARGET_QEMU_VERSION,
                    format!(
                        "the target's QEMU version {a}.{b} was read from {from}: saved capabilities carry no version"
                    ),
                )
                .help("pass --host-qemu-version X.Y to state it"),
            );
        }
    }
}

/// One QEMU binary serves both domain types: a document of the other type (saved domcapabilities
/// of `--virttype kvm` only) lists the same machines.
fn available_machines(target: &TargetCaps, arch: &str, domain_type: DomainType) -> Vec<(String, Option<String>)> {
    let available = target.machines(arch, crate::target::domain_type_name(domain_type));
    if !available.is_empty() {
        return available;
    }
    let other = if domain_type == DomainType::Kvm { DomainType::Qemu } else { DomainType::Kvm };
    target.machines(arch, crate::target::domain_type_name(other))
}

/// A machine the target lacks, with what the target has (`(name, canonical)` pairs).
struct MachineFit<'c, 'a, 't> {
    ctx: &'c mut Ctx<'a>,
    target: &'t TargetCaps,
    available: &'t [(String, Option<String>)],
    /// The machine's QEMU name as Proxmox would run it.
    name: &'t str,
    /// The key the notes point at.
    key: &'t Key,
}

impl MachineFit<'_, '_, '_> {
    /// Another upstream version of the same family, the closest lower one first (a lower version
    /// keeps the guest on device defaults it knows). Whether one was found.
    fn upstream_version(&mut self, machine: &mut MachineType, wanted: (u32, u32, Option<u32>)) -> bool {
        let (name, describe) = (self.name, self.target.describe());
        let upstream: Vec<(u32, u32, Option<u32>)> = self
            .available
            .iter()
            .filter_map(|(n, _)| MachineType::parse(n))
            .filter(|m| m.family == machine.family && m.pve.is_none() && !m.pxe)
            .filter_map(|m| m.version)
            .collect();
        let order = |v: &(u32, u32, Option<u32>)| (v.0, v.1, v.2.unwrap_or(0));
        let lower = upstream.iter().filter(|v| order(v) < order(&wanted)).max_by_key(|v| order(v));
        let higher = upstream.iter().filter(|v| order(v) > order(&wanted)).min_by_key(|v| order(v));
        let Some(&v) = lower.or(higher) else { return false };
        machine.version = Some(v);
        let to = machine.qemu_name();
        let note = if lower.is_some() {
            Note::warning(
                code::MACHINE_DOWNGRADED,
                format!("the target ({describe}) has no machine {name}; lowered to the closest it has, {to}"),
            )
            .help("a lower machine version changes device defaults the guest can see; upgrade QEMU on the target to keep it")
        } else {
            Note::warning(
                code::MACHINE_RAISED,
                format!("the target ({describe}) no longer has machine {name}; raised to the oldest it has, {to}"),
            )
            .help("a newer machine version changes device defaults the guest can see")
        };
        self.ctx.note_on(self.key, note);
        true
    }

    /// Downstream names: `pc-q35-rhel9.4.0`; the family's alias (`q35`, `pc`) names the default.
    fn downstream(&mut self, machine: &mut MachineType) {
        let family = machine.family.clone();
        let alias = if machine.is_q35() { "q35" } else { "pc" };
        let prefix = format!("{family}-");
        let available = self.available;
        let default =
            available.iter().find(|(n, _)| n == alias).and_then(|(_, c)| c.clone()).filter(|c| c.starts_with(&prefix));
        let newest = || {
            available
                .iter()
                .map(|(n, _)| n)
                .filter(|n| n.starts_with(&prefix))
                .max_by_key(|n| {
                    n.split(|c: char| !c.is_ascii_digit()).filter_map(|p| p.parse::<u32>().ok()).collect::<Vec<_>>()
                })
                .cloned()
        };
        let Some(downstream) = default.or_else(newest) else { return };
        self.ctx.note_on(
            self.key,
            Note::warning(
                code::MACHINE_DOWNSTREAM,
                format!(
                    "the target ({}) has no upstream {family} machine types; {} becomes its own {downstream}",
                    self.target.describe(),
                    self.name
                ),
            )
            .help("a distribution's machine type is its own revision of an upstream one; the guest may see other device defaults"),
        );
        machine.downstream = Some(downstream);
    }
}

/// `localtime` (default on for Windows), `startdate`, `tdf` and the Windows/Linux timers
/// (Cfg2Cmd/Timer.pm, docs/proxmox-config.md#time-and-ostype; docs/mapping.md#windows).
fn clock(ctx: &mut Ctx) -> DomainClock {
    let vm = ctx.vm;
    let mut clock = DomainClock { offset: "utc".into(), ..Default::default() };
    let winversion = vm.windows_version();
    if vm.keys().ostype().is_some() {
        ctx.mapped(Key::ostype, "clock");
    }
    // `tdf` is `-rtc driftfix=slew`, which libvirt writes for an rtc timer with tickpolicy catchup.
    if vm.tdf() {
        clock.timers.push(DomainTimer { name: "rtc".into(), tickpolicy: Some("catchup".into()), present: None });
    }
    if vm.keys().tdf().is_some() {
        ctx.mapped(Key::tdf, "clock/timer[@name='rtc']@tickpolicy");
    }
    if winversion >= 6 {
        // `-global kvm-pit.lost_tick_policy=discard` and `hpet=off`.
        clock.timers.push(DomainTimer { name: "pit".into(), tickpolicy: Some("discard".into()), present: None });
        clock.timers.push(DomainTimer { name: "hpet".into(), tickpolicy: None, present: Some("no".into()) });
    } else if vm.ostype() == OsType::L26 && ctx.machine.at_least(10, 1, 0) {
        clock.timers.push(DomainTimer { name: "hpet".into(), tickpolicy: None, present: Some("no".into()) });
    }
    if vm.localtime() {
        clock.offset = "localtime".into();
    }
    if vm.keys().localtime().is_some() {
        ctx.mapped(Key::localtime, "clock@offset");
    }
    if let Some(start) = vm.keys().startdate() {
        if start != "now" {
            match startdate_epoch(start) {
                Some(epoch) => {
                    // QEMU reads the date as UTC; Proxmox ignores localtime when startdate is set.
                    clock.offset = "absolute".into();
                    clock.start = Some(epoch);
                }
                None => ctx.note_on(
                    Key::startdate,
                    Note::error(code::BAD_VALUE, format!("'{start}' is not a valid date")).label("invalid date"),
                ),
            }
        }
        ctx.mapped(Key::startdate, "clock@start");
    }
    clock
}

/// `YYYY-MM-DD[THH:MM:SS]` as UTC Unix seconds.
fn startdate_epoch(s: &str) -> Option<i64> {
    let (date, time) = s.split_once('T').unwrap_or((s, "0:0:0"));
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.split(':').map(|p| p.parse::<i64>().ok());
    let (hh, mm, ss) = (t.next()??, t.next()??, t.next()??);
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || hh > 23 || mm > 59 || ss > 59 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    Some(days * 86400 + hh * 3600 + mm * 60 + ss)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_types() {
        let m = MachineType::parse("pc-q35-8.1+pve1.pxe").unwrap();
        assert_eq!((m.qemu_name().as_str(), m.pve, m.pxe, m.is_q35()), ("pc-q35-8.1", Some(1), true, true));
        assert_eq!(MachineType::parse("pc-i440fx-2.11").unwrap().qemu_name(), "pc-i440fx-2.11");
        assert_eq!(MachineType::parse("q35").unwrap().qemu_name(), "q35");
        assert_eq!(MachineType::parse("pc-q35-4.0.1").unwrap().qemu_name(), "pc-q35-4.0.1");
    }

    #[test]
    fn startdate_is_utc() {
        assert_eq!(startdate_epoch("2006-06-17T16:01:21"), Some(1150560081));
        assert_eq!(startdate_epoch("1970-01-01"), Some(0));
        assert_eq!(startdate_epoch("2006-13-01"), None);
    }
}
