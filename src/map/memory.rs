//! Memory size, NUMA cells, hugepages, memory hotplug and the balloon (docs/mapping.md#cpu,
//! #memory; docs/proxmox-config.md#memory, Memory.pm).

use crate::libvirt::{
    Domain, DomainCpu, DomainCpuNuma, DomainCpuNumaCell, DomainMaxMemory, DomainMemballoon, DomainMemory,
    DomainMemoryBacking, DomainMemoryDevice, DomainMemoryDeviceTarget, DomainMemoryHugepage, DomainMemoryHugepages,
    DomainNumatune, DomainNumatuneMemnode, Empty, PveMetadataSetting,
};
use crate::map::pci::PciDevice;
use crate::map::Ctx;
use crate::pve::defaults;
use crate::pve::model::rules::{self, Refusal};
use crate::pve::schema::Key;
use crate::pve::schema::{HotplugFeature, Hugepages, NumaOpts, NumaPolicy};
use crate::report::{code, Note};

/// Memory.pm `$STATICMEM`: the boot memory with memory hotplug; the rest is DIMMs.
const HOTPLUG_STATIC_MIB: u64 = 1024;

pub fn map(ctx: &mut Ctx, domain: &mut Domain) {
    let vm = ctx.vm;
    let memory = vm.memory_mib();
    if vm.keys().memory().is_some() {
        ctx.mapped(Key::memory, "memory");
    }
    let numa = vm.numa();
    let sockets = vm.sockets().max(1);
    let cores = vm.cores() as u32;
    let hugepages = vm.keys().hugepages();
    let mem_hotplug = vm.hotplug_has(HotplugFeature::Memory);
    if vm.keys().hotplug().is_some() && !mem_hotplug && !vm.hotplug_has(HotplugFeature::Cpu) {
        // Disks, NICs and USB devices are always hot-pluggable in libvirt.
        ctx.mapped(Key::hotplug, "devices");
    }

    let mut total = memory;
    let mut cells = Vec::new();
    if mem_hotplug {
        ctx.mapped(Key::hotplug, "maxMemory");
        let huge_1g = hugepages == Some(Hugepages::Mib1024);
        let Some((static_cells, hotplug_total)) = hotplug_memory(ctx, domain, memory, sockets, cores, huge_1g) else {
            return;
        };
        total = hotplug_total;
        cells = static_cells;
    } else if numa {
        cells = numa_cells(ctx, domain, memory, sockets, cores);
    }
    if vm.keys().numa().is_some() {
        ctx.mapped(Key::numa, if numa { "cpu/numa" } else { "(no NUMA)" });
    }
    if !numa {
        ignored_numa_nodes(ctx);
    }
    if !cells.is_empty() {
        domain.cpu.get_or_insert_with(DomainCpu::default).numa = Some(DomainCpuNuma { cells });
    }

    domain.memory = DomainMemory::mib(total);
    // Guests boot with all of `memory`; `balloon` is only the floor for Proxmox's auto-ballooning,
    // so currentMemory must not be set from it (it would shrink the guest at boot).
    domain.current_memory = Some(DomainMemory::mib(total));

    backing(ctx, domain, numa);
    balloon(ctx, domain, total);
}

/// `hotplug: memory` → `<maxMemory>` and the DIMMs of [`hotplug_layout`]; the boot cells and the
/// memory the guest starts with (boot memory plus DIMMs), or `None` where no layout fits.
fn hotplug_memory(
    ctx: &mut Ctx,
    domain: &mut Domain,
    memory: u64,
    sockets: u32,
    cores: u32,
    huge_1g: bool,
) -> Option<(Vec<DomainCpuNumaCell>, u64)> {
    let (max, static_cells, dimms) = hotplug_layout(ctx, memory, sockets, cores, huge_1g)?;
    let total = static_cells.iter().map(|c| c.memory).sum::<u64>() + dimms.iter().map(|d| d.0).sum::<u64>();
    domain.max_memory = Some(DomainMaxMemory { slots: 255, unit: "MiB".into(), value: max });
    domain.devices.memory_devices = dimms
        .into_iter()
        .map(|(size, node)| DomainMemoryDevice {
            model: "dimm".into(),
            target: DomainMemoryDeviceTarget { size: DomainMemory::mib(size), node },
        })
        .collect();
    Some((static_cells, total))
}

/// Proxmox reads numaN only with `numa: 1`.
fn ignored_numa_nodes(ctx: &mut Ctx) {
    let vm = ctx.vm;
    for (i, _) in vm.keys().numa_nodes() {
        ctx.note_on(
            &format!("numa{i}"),
            Note::advice(code::IGNORED_BY_PROXMOX, "Proxmox ignores numaN without `numa: 1`; left out as well")
                .label("ignored"),
        );
    }
}

/// Memory hotplug (Memory.pm `config`, `foreach_dimm`, `get_max_mem`): 1024 MiB (per socket with
/// 1 GiB pages) at boot split over one NUMA cell per socket, the rest as DIMMs of 512 MiB (1 GiB
/// with 1 GiB pages) doubling every 32, round-robin over the cells. Returns the maximum, the
/// cells and the DIMMs (size, node).
#[allow(clippy::type_complexity)]
fn hotplug_layout(
    ctx: &mut Ctx,
    memory: u64,
    sockets: u32,
    cores: u32,
    gib_pages: bool,
) -> Option<(u64, Vec<DomainCpuNumaCell>, Vec<(u64, u32)>)> {
    let vm = ctx.vm;
    let fail = |ctx: &mut Ctx, r: Refusal| {
        ctx.note_on(
            Key::hotplug,
            Note::error(code::MEMORY_HOTPLUG, r.message)
                .label("memory hotplug")
                .help("Proxmox refuses to start this VM too"),
        );
        None
    };
    if let Err(r) = rules::memory_hotplug_numa(vm.numa(), vm.keys().numa_nodes().next().is_some()) {
        return fail(ctx, r);
    }
    let max = max_memory(ctx);
    let static_mib = if gib_pages { HOTPLUG_STATIC_MIB * sockets as u64 } else { HOTPLUG_STATIC_MIB };
    if let Err(r) = rules::memory_hotplug_size(memory, max, static_mib) {
        return fail(ctx, r);
    }
    let per_node = static_mib / sockets as u64;
    let cells = (0..sockets).map(|i| socket_cell(i, cores, per_node)).collect();

    let mut dimms = Vec::new();
    let mut current = static_mib;
    let mut size = if gib_pages { 1024 } else { 512 };
    'rows: for _ in 0..8 {
        for i in 0..32u32 {
            if current >= memory {
                break 'rows;
            }
            current += size;
            dimms.push((size, i % sockets));
        }
        size *= 2;
    }
    Some((max, cells, dimms))
}

/// Memory.pm `get_max_mem`: `1 << (bits - 21)` MiB, at most 4 TiB, with bits from phys-bits, else
/// the host's for `host`/`max`, else min(host, 40).
fn max_memory(ctx: &mut Ctx) -> u64 {
    let cpu = ctx.vm.keys().cpu();
    let model = cpu.and_then(|p| p.cputype()).unwrap_or(defaults::CPU_MODEL_KVM);
    let bits = match cpu.and_then(|p| p.phys_bits()) {
        Some(n) if n != "host" => n.parse().ok(),
        Some(_) => None,
        None if matches!(model, "host" | "max") => None,
        None => Some(40),
    };
    let bits = bits.unwrap_or_else(|| {
        ctx.note_on(
            Key::hotplug,
            Note::advice(
                code::MEMORY_HOTPLUG_MAXIMUM,
                "the hotplug maximum depends on the Proxmox host's physical address bits; 4 TiB (43 bits or more) was assumed",
            )
            .help("lower <maxMemory> if the Proxmox host had fewer address bits"),
        );
        46
    });
    let bits: u32 = bits;
    (1u64 << (bits.clamp(21, 63) - 21)).min(4 * 1024 * 1024)
}

fn socket_cell(i: u32, cores: u32, memory: u64) -> DomainCpuNumaCell {
    let first = i * cores;
    let cpus = if cores > 1 { format!("{first}-{}", first + cores - 1) } else { first.to_string() };
    DomainCpuNumaCell { id: i, cpus, memory, unit: "MiB".into() }
}

/// `numa: 1`: the numaN nodes, or one cell per socket with the memory split evenly (Memory.pm).
fn numa_cells(ctx: &mut Ctx, domain: &mut Domain, memory: u64, sockets: u32, cores: u32) -> Vec<DomainCpuNumaCell> {
    let vm = ctx.vm;
    let nodes: Vec<_> = vm.keys().numa_nodes().collect();
    if nodes.is_empty() {
        if let Err(r) = rules::numa_even_split(memory, sockets) {
            numa_error(ctx, &Key::numa, r.message);
            return Vec::new();
        }
        return (0..sockets).map(|i| socket_cell(i, cores, memory / sockets as u64)).collect();
    }

    let max_cpus = sockets.saturating_mul(cores);
    let mut cells = Vec::new();
    let mut memnodes = Vec::new();
    let mut sum = 0.0;
    for (pos, (index, entry)) in nodes.iter().enumerate() {
        let Some(props) = NumaOpts::of(entry) else { continue };
        let node = NumaNode { key: Key::numa_nodes(*index), pos, index: *index as u32, props };
        let Some(cell) = numa_cell(ctx, &node, max_cpus, &mut sum) else { continue };
        cells.push(cell);
        ctx.mapped(&node.key, "cpu/numa/cell");
        memnodes.extend(numa_memnode(ctx, &node));
    }
    // Only once every node was read: a node left out has already had its error.
    let total = if cells.len() == nodes.len() { rules::numa_total(sum, memory) } else { Ok(()) };
    if let Err(r) = total {
        numa_error(ctx, &Key::numa, r.message);
    }
    if !memnodes.is_empty() {
        domain.numatune = Some(DomainNumatune { memnodes });
    }
    cells
}

/// A NUMA layout libvirt or Proxmox refuses is an error on the key that wrote it.
fn numa_error(ctx: &mut Ctx, key: &Key, message: String) {
    ctx.note_on(key, Note::error(code::NUMA_LAYOUT, message).label("NUMA layout"));
}

/// One `numaN` entry, at position `pos` among the written ones.
struct NumaNode<'a> {
    key: Key,
    pos: usize,
    index: u32,
    props: NumaOpts<'a>,
}

/// `numaN: cpus=…,memory=…` → a `<cell>`, or `None` (with an error) where libvirt cannot take
/// it. `sum` adds up the memory written, as Proxmox's check on the total does.
fn numa_cell(ctx: &mut Ctx, node: &NumaNode, max_cpus: u32, sum: &mut f64) -> Option<DomainCpuNumaCell> {
    let (key, index, props) = (&node.key, node.index, node.props);
    if index as usize != node.pos {
        // libvirt wants cells 0..n-1; QEMU (and so Proxmox) takes any node ids.
        let pos = node.pos;
        numa_error(ctx, key, format!("libvirt needs NUMA nodes numbered from 0 without gaps; numa{pos} is missing"));
        return None;
    }
    let cpus = props.cpus().unwrap_or_default().replace(';', ",");
    let highest = cpus.split(',').filter_map(|r| r.rsplit('-').next()?.parse::<u32>().ok()).max();
    if highest.is_some_and(|h| h >= max_cpus) {
        numa_error(ctx, key, format!("cpus {cpus} names a vCPU beyond the {max_cpus} the VM has (sockets × cores)"));
        return None;
    }
    let mib = match rules::numa_node_memory(index, props.memory()) {
        Ok(mib) => mib,
        Err(r) => {
            numa_error(ctx, key, r.message);
            return None;
        }
    };
    *sum += mib;
    if mib.fract() != 0.0 || mib < 1.0 {
        numa_error(ctx, key, format!("libvirt takes NUMA node memory in whole MiB, not {mib}"));
        return None;
    }
    Some(DomainCpuNumaCell { id: index, cpus, memory: mib as u64, unit: "MiB".into() })
}

/// `hostnodes` and `policy` → `<numatune><memnode>`; Proxmox needs both.
fn numa_memnode(ctx: &mut Ctx, node: &NumaNode) -> Option<DomainNumatuneMemnode> {
    let key = &node.key;
    let (hostnodes, policy) = (node.props.hostnodes(), node.props.policy());
    if let Err(r) = rules::numa_policy(hostnodes, policy) {
        numa_error(ctx, key, r.message);
        return None;
    }
    match (hostnodes, policy) {
        (Some(hostnodes), Some(policy)) => {
            // QEMU's bind is libvirt's strict.
            let mode = match policy {
                NumaPolicy::Bind => "strict",
                NumaPolicy::Preferred => "preferred",
                NumaPolicy::Interleave => "interleave",
            };
            ctx.mapped(key, "numatune/memnode");
            return Some(DomainNumatuneMemnode {
                cellid: node.index,
                mode: mode.into(),
                nodeset: hostnodes.replace(';', ","),
            });
        }
        // Refused above (rules::numa_policy).
        (Some(_), None) => {}
        (None, Some(_)) => ctx.note_on(
            key,
            Note::advice(code::IGNORED_BY_PROXMOX, "policy without hostnodes is ignored by Proxmox; left out")
                .at(node.props.span_of(NumaOpts::SUB.policy))
                .label("ignored"),
        ),
        (None, None) => {}
    }
    None
}

/// `hugepages`, `keephugepages`, `allow-ksm`.
fn backing(ctx: &mut Ctx, domain: &mut Domain, numa: bool) {
    let vm = ctx.vm;
    let mut backing = DomainMemoryBacking::default();
    if let Some(size) = vm.keys().hugepages() {
        if let Err(r) = rules::hugepages_need_numa(true, numa) {
            ctx.note_on(Key::hugepages, Note::error(code::HUGEPAGES_NEEDS_NUMA, r.message).label("needs NUMA"));
        }
        let page = match size {
            Hugepages::Mib2 => Some(DomainMemoryHugepage { size: 2048, unit: "KiB".into() }),
            Hugepages::Mib1024 => Some(DomainMemoryHugepage { size: 1_048_576, unit: "KiB".into() }),
            Hugepages::Any => None,
        };
        let help = if page.is_none() {
            "Proxmox picks 1 GiB pages when the host has them and the memory is a multiple of 1 GiB, else 2 MiB; libvirt uses the host's default hugepage size. Reserve pages on the target (hugetlbfs mounted before libvirtd starts)"
        } else {
            "reserve enough pages of this size on the target (hugetlbfs mounted before libvirtd starts), or the domain will not start"
        };
        backing.hugepages = Some(DomainMemoryHugepages { page });
        ctx.mapped(Key::hugepages, "memoryBacking/hugepages");
        ctx.note_on(
            Key::hugepages,
            Note::advice(code::HUGEPAGES, "the guest memory is backed by host hugepages").help(help),
        );
    }
    match vm.keys().keephugepages() {
        Some(true) => ctx.note_on(
            Key::keephugepages,
            Note::advice(code::KEEPHUGEPAGES, "libvirt has no setting to keep hugepages reserved after the VM stops")
                .help("reserve the pages persistently on the target (vm.nr_hugepages or the kernel command line)"),
        ),
        Some(false) => ctx.mapped(Key::keephugepages, "(default)"),
        None => {}
    }
    match vm.keys().allow_ksm() {
        // `-machine mem-merge=off`.
        Some(false) => {
            backing.nosharepages = Some(Empty);
            ctx.mapped(Key::allow_ksm, "memoryBacking/nosharepages");
        }
        Some(true) => ctx.mapped(Key::allow_ksm, "(default)"),
        None => {}
    }
    if backing != DomainMemoryBacking::default() {
        domain.memory_backing = Some(backing);
    }
}

/// The balloon device, its free page reporting, `balloon` (auto-balloon floor) and `shares`.
fn balloon(ctx: &mut Ctx, domain: &mut Domain, mib: u64) {
    let vm = ctx.vm;
    let mut metadata = Vec::new();
    match vm.keys().balloon() {
        Some(0) => {
            domain.devices.memballoon = Some(DomainMemballoon { model: "none".into(), ..Default::default() });
            ctx.mapped(Key::balloon, "devices/memballoon");
        }
        balloon => {
            let address = ctx.pci_address(PciDevice::Balloon);
            // Proxmox adds free-page-reporting=on from machine 6.2.
            let free_page_reporting = ctx.machine.at_least(6, 2, 0).then_some("on".into());
            domain.devices.memballoon =
                Some(DomainMemballoon { model: "virtio".into(), free_page_reporting, address, ..Default::default() });
            if let Some(min) = balloon {
                ctx.mapped(Key::balloon, "devices/memballoon");
                metadata.push(PveMetadataSetting { key: Key::balloon.into(), value: min.to_string() });
                if min as u64 != mib {
                    ctx.note_on(
                        Key::balloon,
                        Note::warning(code::BALLOON_TARGET, format!("Proxmox would shrink this guest towards {min} MiB under host memory pressure; libvirt has no auto-ballooning"))
                            .label("auto-balloon minimum")
                            .help("the guest keeps its full memory; use `virsh setmem` to balloon by hand"),
                    );
                }
            }
        }
    }
    if let Some(shares) = vm.keys().shares() {
        metadata.push(PveMetadataSetting { key: Key::shares.into(), value: shares.to_string() });
        ctx.note_on(
            Key::shares,
            Note::advice(
                code::MEMORY_SHARES,
                "shares is the weight for Proxmox's auto-ballooning (not CPU shares); kept in <metadata> only",
            )
            .label("auto-balloon weight"),
        );
    }
    if let Some(meta) = domain.metadata.as_mut() {
        meta.pve.settings.extend(metadata);
    }
}
