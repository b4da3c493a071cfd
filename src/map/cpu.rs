//! vCPUs, topology, CPU model and flags, CPU tuning and the Windows Hyper-V enlightenments
//! (docs/mapping.md#cpu, #windows; docs/proxmox-config.md#cpu, #hyper-v, #topology).

use crate::libvirt::{
    Domain, DomainCpu, DomainCpuFeature, DomainCpuMaxPhysAddr, DomainCpuModel, DomainCpuTopology, DomainCputune,
    DomainFeatureApic, DomainFeatureHyperV, DomainFeatureHyperVSpinlocks, DomainFeatureHyperVVendorId,
    DomainFeatureKvm, DomainFeatureState, DomainTimer, DomainType, DomainVcpu, DomainVcpus, DomainVcpusVcpu,
};
use crate::map::Ctx;
use crate::pve::cluster::CpuModel;
use crate::pve::defaults;
use crate::pve::model::rules;
use crate::pve::schema::Key;
use crate::pve::schema::{Bios, CpuOpts, HotplugFeature, OsType};
use crate::report::{code, Note};

/// Proxmox's built-in models are qemu64 plus flags (CPUConfig.pm `$builtin_models`).
fn builtin_model_flags(model: &str) -> Option<&'static [&'static str]> {
    const V2: &[&str] = &["popcnt", "pni", "sse4.1", "sse4.2", "ssse3"];
    const V2_AES: &[&str] = &["aes", "popcnt", "pni", "sse4.1", "sse4.2", "ssse3"];
    const V3: &[&str] = &[
        "aes", "popcnt", "pni", "sse4.1", "sse4.2", "ssse3", "avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm",
        "movbe", "xsave",
    ];
    const V4: &[&str] = &[
        "aes", "popcnt", "pni", "sse4.1", "sse4.2", "ssse3", "avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm",
        "movbe", "xsave", "avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl",
    ];
    match model {
        "x86-64-v2" => Some(V2),
        "x86-64-v2-AES" => Some(V2_AES),
        "x86-64-v3" => Some(V3),
        "x86-64-v4" => Some(V4),
        _ => None,
    }
}

/// CPU features by name, later settings replacing earlier ones (CPUConfig.pm resolves PVE <
/// Hyper-V < built-in < custom < VM flags the same way).
#[derive(Default)]
pub(super) struct Features(pub(super) Vec<DomainCpuFeature>);

impl Features {
    pub(super) fn set(&mut self, policy: &'static str, name: &str) {
        match self.0.iter_mut().find(|f| f.name == name) {
            Some(f) => f.policy = policy.into(),
            None => self.0.push(DomainCpuFeature { policy: policy.into(), name: name.to_owned() }),
        }
    }
}

pub fn map(ctx: &mut Ctx, domain: &mut Domain) {
    let topology = vcpus(ctx, domain);
    cputune(ctx, domain);

    let tcg = domain.domain_type == DomainType::Qemu;
    let x86 = domain.os.os_type.arch == "x86_64";
    let props = ctx.vm.keys().cpu();
    if props.is_some() {
        ctx.mapped(Key::cpu, "cpu");
    }

    // memory.rs may have put the NUMA cells here already.
    let mut cpu = domain.cpu.take().unwrap_or_default();
    cpu.check = Some("none".into());
    cpu.topology = Some(topology);
    let mut features = Features::default();

    let chosen = choose_model(ctx, props, x86);
    let fitted = fit_cpu_model(ctx, domain, chosen.model);
    let model: &str = fitted.as_deref().unwrap_or(chosen.model);
    cpu_mode(ctx, &mut cpu, model, tcg);
    pve_flags(ctx, model, x86, chosen.builtin, &mut features);

    let hyperv = hyperv(ctx, domain, props, tcg);
    let mut hyperv = hyperv.unwrap_or_default();
    if let Some(props) = props {
        cpu_options(ctx, domain, props, chosen.custom, &mut features, &mut hyperv, &mut cpu);
    }
    // A GPU passed through with x-vga forces `kvm=off` as hidden=1 does (PCI.pm).
    if ctx.vm.gpu_passthrough() {
        domain.features.kvm = Some(DomainFeatureKvm { hidden: Some(DomainFeatureState::ON) });
    }
    if hyperv != DomainFeatureHyperV::default() {
        hyperv.mode = "custom".into();
        domain.features.hyperv = Some(hyperv);
    }

    // Proxmox adds +kvm_pv_eoi,+kvm_pv_unhalt for KVM x86_64 guests on machine ≥ 2.3, whatever the
    // model (`get_pve_cpu_flags`); in libvirt they are domain features, not CPU features
    // (docs/mapping.md#cpu: libvirt refuses "unknown CPU feature: kvm_pv_eoi").
    if !tcg && x86 && ctx.machine.at_least(2, 3, 0) {
        domain.features.apic = Some(DomainFeatureApic { eoi: Some("on".into()) });
        domain.features.pvspinlock = Some(DomainFeatureState::ON);
    }
    cpu.features = features.0;
    domain.cpu = Some(cpu);
}

/// `sockets`/`cores`/`vcpus`/`affinity` → `<vcpu>`, `<vcpus>`; the topology for `<cpu>`.
/// `smp` is the legacy name of `sockets`.
fn vcpus(ctx: &mut Ctx, domain: &mut Domain) -> DomainCpuTopology {
    let vm = ctx.vm;
    let sockets = vm.sockets();
    let cores = vm.cores() as u32;
    let max = sockets.saturating_mul(cores);
    let keys = vm.keys();
    for (key, set) in [(Key::sockets, keys.sockets()), (Key::smp, keys.smp()), (Key::cores, keys.cores())] {
        if set.is_some() {
            ctx.mapped(key, "cpu/topology");
        }
    }
    let vcpus = vm.keys().vcpus().map_or(max, |v| v.clamp(0, u32::MAX as i64) as u32);
    if vm.keys().vcpus().is_some() {
        ctx.mapped(Key::vcpus, "vcpu@current");
        if let Err(r) = rules::vcpus(vcpus, sockets, cores) {
            ctx.note_on(Key::vcpus, Note::error(code::BAD_VALUE, r.message).label("too many"));
        }
    }
    let current = (vcpus < max).then_some(vcpus);
    domain.vcpu = DomainVcpu { placement: "static".into(), cpuset: None, current, value: max };
    hotplug_vcpus(ctx, domain, max, vcpus);

    // `affinity` is Proxmox's `taskset --cpu-list` around QEMU: all of its threads, as
    // `<vcpu cpuset>` is for libvirt.
    if let Some(affinity) = vm.keys().affinity() {
        domain.vcpu.cpuset = Some(affinity.chars().filter(|c| !c.is_whitespace()).collect());
        ctx.mapped(Key::affinity, "vcpu@cpuset");
    }
    DomainCpuTopology { sockets, dies: 1, cores, threads: 1 }
}

/// With `hotplug: cpu` Proxmox starts one vCPU and adds the others as `-device …-x86_64-cpu`, so
/// every vCPU but the first can be unplugged; libvirt does the same for hotpluggable='yes'.
fn hotplug_vcpus(ctx: &mut Ctx, domain: &mut Domain, max: u32, enabled: u32) {
    if !(ctx.vm.hotplug_has(HotplugFeature::Cpu) && max > 1) {
        return;
    }
    let vcpus = (0..max)
        .map(|id| DomainVcpusVcpu {
            id,
            enabled: if id < enabled { "yes".into() } else { "no".into() },
            hotpluggable: if id == 0 { "no".into() } else { "yes".into() },
        })
        .collect();
    domain.vcpus = Some(DomainVcpus { vcpus });
    ctx.mapped(Key::hotplug, "vcpus/vcpu@hotpluggable");
}

/// The QEMU model a `cputype` stands for, with what it brings along.
struct ChosenModel<'a> {
    /// The QEMU model name (or `host`/`max`/`host-model`), before fitting to the target.
    model: &'a str,
    /// A built-in model's flags on top of qemu64.
    builtin: &'static [&'static str],
    /// The cluster's custom model, when `custom-NAME` was found in cpu-models.conf.
    custom: Option<&'a CpuModel>,
}

/// `cputype` → the QEMU model: Proxmox's default differs with KVM and by architecture, and its
/// `custom-`, built-in and deprecated names are not QEMU models themselves.
fn choose_model<'a>(ctx: &mut Ctx<'a>, props: Option<CpuOpts<'a>>, x86: bool) -> ChosenModel<'a> {
    let default_model = match (x86, ctx.vm.kvm()) {
        (true, true) => defaults::CPU_MODEL_KVM,
        (true, false) => defaults::CPU_MODEL_TCG,
        (false, true) => "host",
        (false, false) => "max",
    };
    let written = props.and_then(|p| p.cputype()).unwrap_or(default_model);
    let chosen = |model| ChosenModel { model, builtin: &[], custom: None };
    let opts = ctx.opts;
    if let Some((name, m)) =
        written.strip_prefix("custom-").and_then(|n| opts.cluster.cpu_models.get(n).map(|m| (n, m)))
    {
        let model = cluster_model(ctx, name, m);
        ChosenModel { custom: Some(m), ..chosen(model) }
    } else if let Some(name) = written.strip_prefix("custom-") {
        missing_cluster_model(ctx, props, name);
        chosen("kvm64")
    } else if let Some(flags) = builtin_model_flags(written) {
        ChosenModel { builtin: flags, ..chosen("qemu64") }
    } else {
        chosen(match written {
            // Proxmox renames deprecated models (CPUConfig.pm `$depreacated_cpu_map`).
            "Icelake-Client" => "Icelake-Server",
            "Icelake-Client-noTSX" => "Icelake-Server-noTSX",
            other => other,
        })
    }
}

/// virtual-guest/cpu-models.conf (CPUConfig.pm): the guest sees `reported-model` (default
/// kvm64) with the model's flags, which the VM's own flags override. Returns the reported model.
fn cluster_model<'a>(ctx: &mut Ctx, name: &str, m: &'a CpuModel) -> &'a str {
    let reported = m.reported_model.as_deref().unwrap_or("kvm64");
    let mut msg = format!("custom CPU model '{name}' (virtual-guest/cpu-models.conf) is {reported}");
    if let Some(flags) = &m.flags {
        msg.push_str(&format!(" with flags {flags}"));
    }
    let mut left: Vec<String> = m.other.iter().map(|(k, v)| format!("{k} {v}")).collect();
    if let Some(v) = &m.phys_bits {
        left.push(format!("phys-bits {v}"));
    }
    if let Some(v) = &m.hv_vendor_id {
        left.push(format!("hv-vendor-id {v}"));
    }
    if !left.is_empty() {
        msg.push_str(&format!("; not carried: {}", left.join(", ")));
    }
    ctx.note_on(Key::cpu, Note::advice(code::CPU_MODEL_FROM_CLUSTER, msg));
    reported
}

/// The model is defined in the cluster file /etc/pve/virtual-guest/cpu-models.conf, which a
/// single VM config does not carry; a custom model without reported-model is kvm64.
fn missing_cluster_model(ctx: &mut Ctx, props: Option<CpuOpts>, name: &str) {
    ctx.note_on(
        Key::cpu,
        Note::warning(
            code::CPU_CUSTOM_MODEL,
            format!("custom CPU model '{name}' is defined in the cluster's cpu-models.conf, which is not available; using kvm64"),
        )
        .at(props.map_or_else(Default::default, |p| p.span_of(CpuOpts::SUB.cputype)))
        .label("custom model")
        .help("pass --pve-root with the cluster's /etc/pve (or a copy) to read virtual-guest/cpu-models.conf, or replace the <cpu> model with the custom model's reported-model and add its flags as <feature> elements"),
    );
}

/// The model → `<cpu mode>`: `host` and `max` are modes in libvirt, not model names.
fn cpu_mode(ctx: &mut Ctx, cpu: &mut DomainCpu, model: &str, tcg: bool) {
    match model {
        "host-model" => cpu.mode = "host-model".into(),
        "host" if tcg => {
            // libvirt refuses host-passthrough for type='qemu'; QEMU's `max` is the closest.
            cpu.mode = "maximum".into();
            ctx.note_on(
                Key::cpu,
                Note::warning(
                    code::CPU_HOST_UNDER_TCG,
                    "cpu 'host' cannot pass the host CPU through without KVM; using QEMU's 'max' model",
                )
                .help("with --domain-type kvm the host CPU is passed through as on Proxmox"),
            );
        }
        "host" => {
            cpu.mode = "host-passthrough".into();
            cpu.migratable = Some("on".into());
        }
        "max" => cpu.mode = "maximum".into(),
        _ => {
            cpu.mode = "custom".into();
            cpu.match_ = Some("exact".into());
            cpu.model = Some(DomainCpuModel { fallback: "forbid".into(), vendor_id: None, value: model.to_owned() });
        }
    }
}

/// Proxmox's own flags (CPUConfig.pm `get_pve_cpu_flags`), keyed on the QEMU model, then a
/// built-in model's flags.
fn pve_flags(ctx: &Ctx, model: &str, x86: bool, builtin: &[&str], features: &mut Features) {
    if model == "kvm64" && x86 {
        features.set("require", "lahf_lm");
    }
    if ctx.vm.ostype() == OsType::Solaris {
        features.set("disable", "x2apic");
    }
    if matches!(model, "kvm64" | "kvm32") {
        features.set("require", "sep");
    }
    if model.starts_with("Opteron") {
        features.set("disable", "rdtscp");
    }
    for flag in builtin {
        features.set("require", flag);
    }
}

/// The `cpu` options past the model: a custom model's flags and `hidden` come before the VM's
/// own, which override them (CPUConfig.pm).
fn cpu_options(
    ctx: &mut Ctx,
    domain: &mut Domain,
    props: CpuOpts,
    custom: Option<&CpuModel>,
    features: &mut Features,
    hyperv: &mut DomainFeatureHyperV,
    cpu: &mut DomainCpu,
) {
    if let Some(flags) = custom.and_then(|m| m.flags.as_deref()) {
        vm_flags(ctx, props, flags, features, hyperv, &cpu.mode);
    }
    if custom.and_then(|m| m.hidden) == Some(true) {
        domain.features.kvm = Some(DomainFeatureKvm { hidden: Some(DomainFeatureState::ON) });
    }
    if let Some(flags) = props.flags() {
        vm_flags(ctx, props, flags, features, hyperv, &cpu.mode);
    }
    if props.hidden() == Some(true) {
        domain.features.kvm = Some(DomainFeatureKvm { hidden: Some(DomainFeatureState::ON) });
    }
    phys_bits(ctx, props, cpu);
    dropped_options(ctx, props);
}

/// `level` and `guest-phys-bits` have no libvirt element (and QEMU 7.2 lacks the latter).
fn dropped_options(ctx: &mut Ctx, props: CpuOpts) {
    for (name, value, what) in [
        ("level", props.level(), "the CPUID level"),
        ("guest-phys-bits", props.guest_phys_bits(), "the guest physical address bits"),
    ] {
        if let Some(value) = value {
            ctx.note_on(
                Key::cpu,
                Note::warning(
                    code::CPU_OPTION_DROPPED,
                    format!("{name}={value} ({what}) has no libvirt element and was left out"),
                )
                .at(props.span_of(name))
                .label("left out")
                .help(if name == "level" {
                    "QEMU's default for the model is used; add `<qemu:commandline>` with `-global <model>-x86_64-cpu.level=N` by hand if the guest needs it"
                } else {
                    "QEMU 7.2 has no guest-phys-bits property; QEMU's default is used"
                }),
            );
        }
    }
}

/// Fits a named CPU model to the target's libvirt: a model it does not know (libvirt 9.0 has no
/// versioned names such as `Skylake-Server-v4`) becomes its unversioned model, or the host-model
/// CPU; a model the target's host cannot run in full is kept and reported (QEMU leaves out the
/// missing features with a warning, as `check='none'` lets it). `Some(replacement)` or `None`.
fn fit_cpu_model(ctx: &mut Ctx, domain: &Domain, model: &str) -> Option<String> {
    if matches!(model, "host" | "max") {
        return None;
    }
    let target = ctx.opts.target.as_ref()?;
    let dc = target.domcaps_for(&domain.os.os_type.arch, ctx.is_q35(), domain.domain_type)?;
    if !crate::target::TargetCaps::lists_cpu_models(dc) {
        return None;
    }
    let describe = target.describe();
    let unusable = |ctx: &mut Ctx, m: &crate::target::CpuModel| {
        if m.usable == Some(false) {
            let lacking =
                if m.blockers.is_empty() { String::new() } else { format!(" (it lacks {})", m.blockers.join(", ")) };
            ctx.note_on(
                Key::cpu,
                Note::warning(
                    code::CPU_MODEL_UNUSABLE,
                    format!("the target's host CPU cannot run every feature of CPU model {}{lacking}; QEMU leaves the missing ones out", m.name),
                )
                .help("the guest sees fewer CPU features than on Proxmox; choose a model the target lists as usable (virsh domcapabilities) to make it exact"),
            );
        }
    };
    if let Some(m) = target.cpu_model(dc, model) {
        unusable(ctx, &m);
        return None;
    }
    // `Name-vN` → `Name`: QEMU's versioned models are revisions of the unversioned one.
    let base = model.rsplit_once("-v").filter(|(_, n)| n.parse::<u32>().is_ok()).map(|(b, _)| b);
    if let Some(m) = base.and_then(|b| target.cpu_model(dc, b)) {
        ctx.note_on(
            Key::cpu,
            Note::warning(
                code::CPU_MODEL_FALLBACK,
                format!("the target ({describe}) does not know CPU model {model}; using {}", m.name),
            )
            .help("the unversioned model is an earlier revision: some CPU features or errata flags may differ"),
        );
        unusable(ctx, &m);
        return Some(m.name);
    }
    let mode = if crate::target::TargetCaps::cpu_mode_supported(dc, "host-model") { "host-model" } else { "max" };
    ctx.note_on(
        Key::cpu,
        Note::warning(
            code::CPU_MODEL_FALLBACK,
            format!("the target ({describe}) does not know CPU model {model}; using the {mode} CPU"),
        )
        .help("the guest sees the target's CPU instead of the model; pick a model the target lists (virsh domcapabilities)"),
    );
    Some(mode.to_owned())
}

/// `cpulimit` and `cpuunits`, which Proxmox gives to systemd as CPUQuota and CPUWeight.
fn cputune(ctx: &mut Ctx, domain: &mut Domain) {
    let vm = ctx.vm;
    let mut tune = DomainCputune::default();
    if let Some(limit) = vm.keys().cpulimit() {
        ctx.mapped(Key::cpulimit, "cputune/global_quota");
        // CPUQuota=int(cpulimit*100)% of one CPU for the whole VM: libvirt's global_* (its plain
        // <period>/<quota> are per vCPU). 0 is "no limit".
        let percent = (limit * 100.0).trunc() as i64;
        if percent > 0 {
            tune.global_period = Some(100_000);
            tune.global_quota = Some(percent * 1000);
        }
    }
    if let Some(units) = vm.keys().cpuunits() {
        ctx.mapped(Key::cpuunits, "cputune/shares");
        // On cgroup v2 Proxmox clamps CPUWeight to 10000, and libvirt writes <shares> to cpu.weight
        // (range 1–10000) as is.
        let shares = units.clamp(1, 10_000) as u64;
        if shares != units as u64 {
            ctx.note_on(
                Key::cpuunits,
                Note::advice(
                    code::CPUUNITS_CLAMPED,
                    format!("cpuunits {units} is {shares} on cgroup v2, as Proxmox clamps it"),
                )
                .label("clamped"),
            );
        }
        tune.shares = Some(shares);
    }
    if tune != DomainCputune::default() {
        domain.cputune = Some(tune);
    }
}

/// `flags=+a;-b`: only Proxmox's VM-allowed flags pass the schema (CPUConfig.pm `$cpu_flag_supported_re`).
fn vm_flags(
    ctx: &mut Ctx,
    props: CpuOpts,
    flags: &str,
    features: &mut Features,
    hyperv: &mut DomainFeatureHyperV,
    mode: &str,
) {
    for flag in flags.split(';').filter(|f| !f.is_empty()) {
        let (on, name) = match (flag.strip_prefix('-'), flag.strip_prefix('+')) {
            (Some(name), _) => (false, name),
            (_, Some(name)) => (true, name),
            _ => (true, flag),
        };
        let state = if on { DomainFeatureState::ON } else { DomainFeatureState::OFF };
        match name {
            "hv-tlbflush" => hyperv.tlbflush = Some(state),
            "hv-evmcs" => hyperv.evmcs = Some(state),
            "nested-virt" => {
                // Proxmox turns it into vmx or svm by the host's vendor. 'optional' lets libvirt
                // resolve each against the host CPU at start: the host's one is required, the
                // other disabled. host-passthrough already has the host's.
                if mode != "host-passthrough" {
                    let policy = if on { "optional" } else { "disable" };
                    features.set(policy, "vmx");
                    features.set(policy, "svm");
                    ctx.note_on(
                        Key::cpu,
                        Note::advice(
                            code::CPU_HOST_VENDOR,
                            "nested-virt is vmx on Intel and svm on AMD hosts; both are listed and libvirt keeps the host's at start",
                        )
                        .at(props.span_of(CpuOpts::SUB.flags))
                        .label("host vendor decides"),
                    );
                } else if !on {
                    features.set("disable", "vmx");
                    features.set("disable", "svm");
                }
            }
            other => features.set(if on { "require" } else { "disable" }, other),
        }
    }
}

/// `phys-bits=host|N` → `<maxphysaddr>`.
fn phys_bits(ctx: &mut Ctx, props: CpuOpts, cpu: &mut DomainCpu) {
    match props.phys_bits() {
        None => {}
        Some("host") if cpu.mode == "custom" => ctx.note_on(
            Key::cpu,
            Note::warning(
                code::CPU_OPTION_DROPPED,
                "phys-bits=host (host-phys-bits) needs a host-passthrough or maximum CPU in libvirt; left out",
            )
            .at(props.span_of(CpuOpts::SUB.phys_bits))
            .label("left out")
            .help("add <maxphysaddr mode='emulate' bits='N'/> with the host's address bits (`grep 'address sizes' /proc/cpuinfo`)"),
        ),
        Some("host") => cpu.maxphysaddr = Some(DomainCpuMaxPhysAddr { mode: "passthrough".into(), bits: None }),
        Some(n) => {
            if let Ok(bits) = n.parse() {
                cpu.maxphysaddr = Some(DomainCpuMaxPhysAddr { mode: "emulate".into(), bits: Some(bits) });
            }
        }
    }
}

/// Proxmox's Hyper-V enlightenments (CPUConfig.pm `get_hyperv_enlightenments`; docs/mapping.md#windows).
fn hyperv(ctx: &mut Ctx, domain: &mut Domain, props: Option<CpuOpts>, tcg: bool) -> Option<DomainFeatureHyperV> {
    if !hyperv_enlightened(ctx, domain, props, tcg) {
        return None;
    }
    let vm = ctx.vm;
    let winversion = vm.windows_version();
    let vendor_id = props.and_then(|p| p.hv_vendor_id());
    if vm.keys().ostype().is_some() {
        ctx.mapped(Key::ostype, "features/hyperv");
    }
    let m = ctx.machine.clone();
    let mut hv = DomainFeatureHyperV::default();
    if ctx.vm.gpu_passthrough() || vendor_id.is_some() {
        hv.vendor_id = Some(DomainFeatureHyperVVendorId {
            state: crate::libvirt::OnOff::On,
            value: vendor_id.unwrap_or("proxmox").to_owned(),
        });
    }
    let on = || Some(DomainFeatureState::ON);
    if m.at_least(2, 3, 0) {
        hv.spinlocks = Some(DomainFeatureHyperVSpinlocks { state: crate::libvirt::OnOff::On, retries: 0x1fff });
        hv.vapic = on();
        // hv_time is libvirt's hypervclock timer, not a <hyperv> child.
        domain.clock.timers.push(DomainTimer {
            name: "hypervclock".into(),
            tickpolicy: None,
            present: Some("yes".into()),
        });
    } else {
        hv.spinlocks = Some(DomainFeatureHyperVSpinlocks { state: crate::libvirt::OnOff::On, retries: 0xffff });
    }
    if m.at_least(2, 6, 0) {
        hv.reset = on();
        hv.vpindex = on();
        hv.runtime = on();
    }
    if winversion >= 7 {
        hv.relaxed = on();
        if m.at_least(2, 12, 0) {
            hv.synic = on();
            hv.stimer = on();
        }
        if m.at_least(3, 1, 0) {
            hv.ipi = on();
        }
    }
    windows11_notes(ctx, winversion);
    Some(hv)
}

/// Whether Proxmox would enlighten this guest (KVM, x86_64, Windows Vista or later, and not
/// OVMF before Windows 8), and whether it can be under the chosen domain type; notes what is lost.
fn hyperv_enlightened(ctx: &mut Ctx, domain: &Domain, props: Option<CpuOpts>, tcg: bool) -> bool {
    let vm = ctx.vm;
    let winversion = vm.windows_version();
    let vendor_id = props.and_then(|p| p.hv_vendor_id());
    let enlightened =
        !tcg && domain.os.os_type.arch == "x86_64" && winversion >= 6 && !(vm.bios() == Bios::Ovmf && winversion < 8);
    let proxmox_would = vm.kvm()
        && domain.os.os_type.arch == "x86_64"
        && winversion >= 6
        && !(vm.bios() == Bios::Ovmf && winversion < 8);
    if tcg && proxmox_would {
        ctx.note_on(
            Key::ostype,
            Note::warning(
                code::CPU_HYPERV_TCG,
                "the Hyper-V enlightenments Proxmox gives Windows guests were left out: the domain type is qemu (TCG), which cannot start them",
            )
            .help("convert with --domain-type kvm on a KVM host to keep them"),
        );
    }
    if !enlightened && vendor_id.is_some() {
        if let Some(props) = props {
            ctx.note_on(
                Key::cpu,
                Note::advice(
                    code::IGNORED_BY_PROXMOX,
                    "hv-vendor-id only applies with Proxmox's Hyper-V enlightenments (KVM, Windows Vista or later); ignored as Proxmox does",
                )
                .at(props.span_of(CpuOpts::SUB.hv_vendor_id))
                .label("no effect"),
            );
        }
    }
    enlightened
}

/// What Proxmox adds for Windows 11 on newer QEMU and that libvirt 9.0 or an unknown host vendor
/// cannot carry.
fn windows11_notes(ctx: &mut Ctx, winversion: u32) {
    if winversion >= 11 {
        // CPUConfig.pm: `-cet-ibt,-cet-ss` for Windows 11 with QEMU 11 and newer. QEMU 7.2 knows
        // neither feature (libvirt refuses unknown names); its named models have no CET anyway.
        ctx.note_on(
            Key::ostype,
            Note::advice(
                code::CPU_CET,
                "Proxmox on QEMU 11 hides CET (cet-ibt, cet-ss) from Windows 11; libvirt 9.0 cannot name these features",
            )
            .help("with cpu: host on a CET-capable host, add <feature policy='disable' name='cet-ibt'/> (and cet-ss) once libvirt knows them"),
        );
    }
    if winversion >= 11 && ctx.machine.at_least(11, 0, 2) {
        // Proxmox adds hv_evmcs only on Intel hosts; it fails to start on AMD.
        ctx.note_on(
            Key::ostype,
            Note::advice(
                code::CPU_HOST_VENDOR,
                "Proxmox adds the Hyper-V enlightened VMCS (hv-evmcs) for Windows 11 on Intel hosts; it was left out because the target's CPU vendor is unknown",
            )
            .help("on an Intel host add <evmcs state='on'/> to <hyperv>"),
        );
    }
}
