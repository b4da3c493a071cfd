//! vCPUs, topology and the CPU model (libvirt-mapping.md §3; pve-config.md §6 "CPU", "Topology").

use crate::libvirt::{
    Domain, DomainCpu, DomainCpuFeature, DomainCpuModel, DomainCpuTopology, DomainFeatureApic, DomainFeatureKvm,
    DomainFeatureState, DomainType, DomainVcpu,
};
use crate::map::Ctx;
use crate::pve::defaults;
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

pub fn map(ctx: &mut Ctx, domain: &mut Domain) {
    let vm = ctx.vm;
    // `smp` is the legacy name of `sockets`.
    let sockets = vm.int("sockets").or_else(|| vm.int("smp")).map_or(defaults::SOCKETS, |v| v as u32);
    let cores = vm.int("cores").map_or(defaults::CORES, |v| v as u32);
    let max = sockets * cores;
    let current = vm.int("vcpus").map(|v| v as u32).filter(|&v| v > 0 && v < max);
    domain.vcpu = DomainVcpu { placement: "static", cpuset: None, current, value: max };
    for key in ["sockets", "smp", "cores"] {
        if vm.get(key).is_some() {
            ctx.mapped(key, "cpu/topology");
        }
    }
    if let Some(v) = vm.int("vcpus") {
        ctx.mapped("vcpus", "vcpu@current");
        if v as u32 > max {
            ctx.note_on(
                "vcpus",
                Note::error(code::BAD_VALUE, format!("vcpus ({v}) is more than sockets × cores ({max})"))
                    .label("too many"),
            );
        }
    }

    let tcg = domain.domain_type == DomainType::Qemu;
    let props = vm.props("cpu");
    let default_model = if vm.bool("kvm").unwrap_or(true) { defaults::CPU_MODEL_KVM } else { defaults::CPU_MODEL_TCG };
    let model = props.and_then(|p| p.str("cputype")).unwrap_or(default_model);
    let mut cpu = DomainCpu {
        mode: "custom",
        match_: Some("exact"),
        check: Some("none"),
        topology: Some(DomainCpuTopology { sockets, dies: 1, cores, threads: 1 }),
        ..Default::default()
    };

    match model {
        "host" | "max" if tcg => {
            cpu.mode = "maximum";
            cpu.match_ = None;
            ctx.note_on(
                "cpu",
                Note::warning(
                    code::CPU_HOST_UNDER_TCG,
                    format!("cpu '{model}' cannot pass the host CPU through without KVM; using QEMU's 'max' model"),
                ),
            );
        }
        "host" => {
            cpu.mode = "host-passthrough";
            cpu.match_ = None;
            cpu.migratable = Some("on");
        }
        "max" => {
            cpu.mode = "maximum";
            cpu.match_ = None;
        }
        _ => {
            let (qemu_model, extra) = match builtin_model_flags(model) {
                Some(flags) => ("qemu64", flags),
                None => (model, &[][..]),
            };
            // Proxmox renames a deprecated model (CPUConfig.pm `$depreacated_cpu_map`).
            let qemu_model = match qemu_model {
                "Icelake-Client" => "Icelake-Server",
                "Icelake-Client-noTSX" => "Icelake-Server-noTSX",
                other => other,
            };
            cpu.model = Some(DomainCpuModel { fallback: "forbid", value: qemu_model.to_owned() });
            for flag in extra {
                cpu.features.push(DomainCpuFeature { policy: "require", name: (*flag).to_owned() });
            }
            // Proxmox adds these to kvm64/kvm32 (CPUConfig.pm).
            if matches!(qemu_model, "kvm64" | "kvm32") {
                if qemu_model == "kvm64" {
                    cpu.features.push(DomainCpuFeature { policy: "require", name: "lahf_lm".into() });
                }
                cpu.features.push(DomainCpuFeature { policy: "require", name: "sep".into() });
            }
        }
    }
    if props.is_some() {
        ctx.mapped("cpu", "cpu");
    }

    if let Some(props) = props {
        if let Some(flags) = props.str("flags") {
            for flag in flags.split(';').filter(|f| !f.is_empty()) {
                let (policy, name) = match flag.split_at(1) {
                    ("+", name) => ("require", name),
                    ("-", name) => ("disable", name),
                    _ => ("require", flag),
                };
                cpu.features.retain(|f| f.name != name);
                cpu.features.push(DomainCpuFeature { policy, name: name.to_owned() });
            }
        }
        if props.bool("hidden") == Some(true) {
            domain.features.kvm = Some(DomainFeatureKvm { hidden: Some(DomainFeatureState::ON) });
        }
    }
    // Proxmox turns on PV EOI and PV unhalt for every KVM x86 guest (CPUConfig.pm); in libvirt they
    // are features of the domain, not CPU flags (libvirt-mapping.md §3).
    if !tcg && cpu.mode != "host-passthrough" {
        domain.features.apic = Some(DomainFeatureApic { eoi: Some("on") });
        domain.features.pvspinlock = Some(DomainFeatureState::ON);
    }
    domain.cpu = Some(cpu);
}
