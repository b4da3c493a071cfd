//! Memory size and the balloon (libvirt-mapping.md §4).

use crate::libvirt::{Domain, DomainMemballoon, DomainMemory};
use crate::map::pci::PciDevice;
use crate::map::Ctx;
use crate::pve::defaults;
use crate::report::{code, Note};

pub fn map(ctx: &mut Ctx, domain: &mut Domain) {
    let vm = ctx.vm;
    let mib = vm.props("memory").and_then(|p| p.int("current")).map_or(defaults::MEMORY_MIB, |m| m as u64);
    domain.memory = DomainMemory::mib(mib);
    // Guests boot with all of `memory`; `balloon` is only the floor for Proxmox's auto-ballooning,
    // so currentMemory must not be set from it (it would shrink the guest at boot).
    domain.current_memory = Some(DomainMemory::mib(mib));
    if vm.get("memory").is_some() {
        ctx.mapped("memory", "memory");
    }

    match vm.int("balloon") {
        Some(0) => {
            domain.devices.memballoon = Some(DomainMemballoon { model: "none", ..Default::default() });
            ctx.mapped("balloon", "devices/memballoon");
        }
        balloon => {
            let address = ctx.pci_address(PciDevice::Balloon);
            domain.devices.memballoon = Some(DomainMemballoon { model: "virtio", address, ..Default::default() });
            if let Some(min) = balloon {
                ctx.mapped("balloon", "devices/memballoon");
                if min as u64 != mib {
                    ctx.note_on(
                        "balloon",
                        Note::warning(code::BALLOON_TARGET, format!("Proxmox would shrink this guest towards {min} MiB under host memory pressure; libvirt has no auto-ballooning"))
                            .label("auto-balloon minimum")
                            .help("the guest keeps its full memory; use `virsh setmem` to balloon by hand"),
                    );
                }
            }
        }
    }
}
