//! Proxmox's refusal rules: the configs Proxmox itself refuses to start (its qemu-server code
//! dies on them), one small pure function per rule, on typed values. The map turns a [`Refusal`]
//! into its error note; the limits of libvirt stay in the map, next to the XML they concern.

use crate::pve::model::drive::{Bus, Throttle};
use crate::pve::model::hostpci::HostPci;
use crate::pve::props::Props;
use crate::pve::schema::{HostPciOpts, MachineOpts, NetOpts, NumaPolicy, ScsiOpts, Viommu};
use crate::report::Span;

/// Why Proxmox refuses a value: the note's message, and the sub-key of the property string the
/// rule points at, if it names one.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub message: String,
    pub sub: Option<&'static str>,
}

impl Refusal {
    fn new(message: impl Into<String>) -> Refusal {
        Refusal { message: message.into(), sub: None }
    }
    fn at(message: impl Into<String>, sub: &'static str) -> Refusal {
        Refusal { message: message.into(), sub: Some(sub) }
    }
    /// Where a note on the refused value points: the sub-key the rule names (if written), else
    /// the whole value.
    pub fn span_in(&self, props: &Props) -> Span {
        self.sub.map_or(props.span, |sub| props.span_of(sub))
    }
}

/// `vcpus` is at most `sockets` × `cores`. QemuServer.pm `config_to_command` passes
/// `-smp $vcpus,…,maxcpus=$maxcpus`, which QEMU refuses, and `qemu_cpu_hotplug` dies with "you
/// can't add more vcpus than maxcpus".
pub fn vcpus(vcpus: u32, sockets: u32, cores: u32) -> Result<(), Refusal> {
    let max = sockets.saturating_mul(cores);
    if vcpus > max {
        return Err(Refusal::new(format!("vcpus ({vcpus}) is more than sockets × cores ({max})")));
    }
    Ok(())
}

/// Memory hotplug needs `numa: 1` and no numaN of its own (Memory.pm `config`: "NUMA needs to be
/// enabled for memory hotplug", "Memory hotplug don't work with custom NUMA nodes").
pub fn memory_hotplug_numa(numa: bool, custom_nodes: bool) -> Result<(), Refusal> {
    if !numa {
        return Err(Refusal::new("memory hotplug needs `numa: 1`"));
    }
    if custom_nodes {
        return Err(Refusal::new("memory hotplug cannot be combined with custom NUMA nodes (numaN)"));
    }
    Ok(())
}

/// With memory hotplug, `memory` lies between the static memory and the maximum (Memory.pm
/// `config`: "Total memory is bigger than …MB", "minimum memory must be …MB"). All in MiB.
pub fn memory_hotplug_size(memory: u64, max: u64, static_mib: u64) -> Result<(), Refusal> {
    if memory > max {
        return Err(Refusal::new(format!("memory ({memory} MiB) is more than the hotplug maximum ({max} MiB)")));
    }
    if memory < static_mib {
        return Err(Refusal::new(format!("memory hotplug needs at least {static_mib} MiB of memory")));
    }
    Ok(())
}

/// Without numaN, `numa: 1` splits the memory evenly over one node per socket (Memory.pm
/// `config`); a remainder makes a fractional node size, and the VM does not start.
pub fn numa_even_split(memory: u64, sockets: u32) -> Result<(), Refusal> {
    if memory % sockets as u64 != 0 {
        return Err(Refusal::new(format!(
            "memory ({memory} MiB) cannot be split evenly over {sockets} sockets (Proxmox fails to start it too)"
        )));
    }
    Ok(())
}

/// The numaN memory adds up to `memory` (Memory.pm `config`: "total memory for NUMA nodes must be
/// equal to vm static memory").
pub fn numa_total(sum: f64, memory: u64) -> Result<(), Refusal> {
    if (sum - memory as f64).abs() > f64::EPSILON {
        return Err(Refusal::new(format!(
            "total memory for NUMA nodes ({sum} MiB) must be equal to the VM's memory ({memory} MiB)"
        )));
    }
    Ok(())
}

/// A numaN has `memory` (Memory.pm `config`: "missing NUMA node$i memory value"); its value.
pub fn numa_node_memory(index: u32, memory: Option<f64>) -> Result<f64, Refusal> {
    memory
        .ok_or_else(|| Refusal::new(format!("missing NUMA node{index} memory value (Proxmox refuses to start it too)")))
}

/// A numaN with `hostnodes` has a `policy` (Memory.pm `config`: "you need to define a policy for
/// hostnode $hostnodes").
pub fn numa_policy(hostnodes: Option<&str>, policy: Option<NumaPolicy>) -> Result<(), Refusal> {
    match (hostnodes, policy) {
        (Some(hostnodes), None) => {
            Err(Refusal::new(format!("you need to define a policy for hostnode {hostnodes} (as Proxmox says)")))
        }
        _ => Ok(()),
    }
}

/// `hugepages` needs `numa: 1` (Memory.pm `config`: "numa needs to be enabled to use hugepages").
pub fn hugepages_need_numa(hugepages: bool, numa: bool) -> Result<(), Refusal> {
    if hugepages && !numa {
        return Err(Refusal::new("hugepages need `numa: 1` (Proxmox refuses to start it too)"));
    }
    Ok(())
}

/// The Intel vIOMMU needs q35 (Machine.pm `assert_valid_machine_property`: "to use Intel vIOMMU
/// please set the machine type to q35").
pub fn intel_viommu_needs_q35(viommu: Option<Viommu>, q35: bool) -> Result<(), Refusal> {
    if viommu == Some(Viommu::Intel) && !q35 {
        return Err(Refusal::at(
            "the Intel vIOMMU needs a q35 machine (Proxmox refuses this config too)",
            MachineOpts::SUB.viommu,
        ));
    }
    Ok(())
}

/// `aw-bits` needs a vIOMMU. Proxmox's own test `test/cfg2cmd/q35-no-viommu-with-aw-bits.conf`
/// (qemu-server) expects the error "cannot set aw-bits if no vIOMMU is configured".
pub fn aw_bits_need_viommu(aw_bits: Option<f64>, viommu: Option<Viommu>) -> Result<(), Refusal> {
    if aw_bits.is_some() && viommu.is_none() {
        return Err(Refusal::at("aw-bits needs a vIOMMU (viommu=intel or viommu=virtio)", MachineOpts::SUB.aw_bits));
    }
    Ok(())
}

/// usb0–usb4 work on every controller; usb5+ only with qemu-xhci (USB.pm `$OLD_MAX_USB`).
pub const OLD_MAX_USB: u16 = 5;

/// usb5 and up need Proxmox's qemu-xhci (USB.pm `assert_usb_index_is_useable`: "using usb$index is
/// only possible with machine type >= 7.1 and ostype l26 or windows > 7").
pub fn usb_index(index: u16, qemu_xhci: bool) -> Result<(), Refusal> {
    if index >= OLD_MAX_USB && !qemu_xhci {
        return Err(Refusal::new(format!(
            "usb{index} needs machine type ≥ 7.1 and ostype l26 or Windows > 7; Proxmox refuses to start this VM"
        )));
    }
    Ok(())
}

/// An MTU (other than 1, the bridge's) is at least 576 (QemuServer.pm `print_netdevice_full`:
/// "MTU … is smaller than the IP minimum MTU '576'").
pub fn net_mtu(mtu: u32) -> Result<(), Refusal> {
    if mtu != 1 && mtu < 576 {
        return Err(Refusal::at(format!("MTU {mtu} is below 576; Proxmox refuses to start this VM"), NetOpts::SUB.mtu));
    }
    Ok(())
}

/// A VirtIO drive is no CD-ROM (Drive.pm `parse_drive` returns nothing for `media=cdrom` on
/// virtio).
pub fn virtio_cdrom(bus: Bus, cdrom: bool) -> Result<(), Refusal> {
    if cdrom && bus == Bus::Virtio {
        return Err(Refusal::at("a VirtIO drive cannot be a CD-ROM", ScsiOpts::SUB.media));
    }
    Ok(())
}

/// The throttling combinations Drive.pm `parse_drive` refuses: a total with read/write, a burst
/// without its base rate, a burst length without its burst.
pub fn throttling(t: &Throttle) -> Result<(), Refusal> {
    let mut problems = Vec::new();
    for (unit, limits) in [("mbps", &t.bytes), ("iops", &t.iops)] {
        let [total, rd, wr] = limits;
        if total.rate.is_some() && (rd.rate.is_some() || wr.rate.is_some()) {
            problems.push(format!("{unit} together with {unit}_rd/{unit}_wr"));
        }
        if total.max.is_some() && (rd.max.is_some() || wr.max.is_some()) {
            problems.push(format!("{unit}_max together with {unit}_rd_max/{unit}_wr_max"));
        }
        for (dir, l) in ["", "_rd", "_wr"].iter().zip(limits) {
            if l.max.is_some() && l.rate.is_none() {
                problems.push(format!("{unit}{dir}_max without {unit}{dir}"));
            }
            if l.max_length.is_some() && l.max.is_none() {
                let len = if unit == "mbps" { "bps" } else { "iops" };
                problems.push(format!("{len}{dir}_max_length without {unit}{dir}_max"));
            }
        }
    }
    if !problems.is_empty() {
        return Err(Refusal::new(format!("invalid throttling: {}", problems.join("; "))));
    }
    Ok(())
}

/// A disk drive on an ISO volume names its `media` (QemuServer.pm `print_drive_commandline_full`,
/// Blockdev.pm `generate_drive_blockdev` in newer versions: "explicit media parameter is required
/// for iso images"). `vtype` is the storage's volume type.
pub fn iso_needs_media(cdrom: bool, vtype: &str, media_set: bool) -> Result<(), Refusal> {
    if !cdrom && vtype == "iso" && !media_set {
        return Err(Refusal::new("explicit media parameter is required for iso images"));
    }
    Ok(())
}

/// A hostpciN names `host` or a `mapping` (PCI.pm `parse_hostpci`: "either 'host' or 'mapping'
/// must be set"); `dev.host` is the list once any mapping is resolved.
pub fn hostpci_host(dev: &HostPci) -> Result<(), Refusal> {
    if dev.host.is_empty() {
        return Err(Refusal::new("neither 'host' nor 'mapping' is set"));
    }
    Ok(())
}

/// `pcie=1` needs q35 (PCI.pm `print_hostpci_devices`: "q35 machine model is not enabled").
pub fn hostpci_pcie(dev: &HostPci, q35: bool) -> Result<(), Refusal> {
    if dev.pcie && !q35 {
        return Err(Refusal::at("pcie=1 needs a q35 machine; Proxmox refuses to start this VM", HostPciOpts::SUB.pcie));
    }
    Ok(())
}

/// `legacy-igd=1` needs i440fx (PCI.pm `print_hostpci_devices`: "legacy IGD assignment is not
/// compatible with q35").
pub fn hostpci_legacy_igd(dev: &HostPci, q35: bool) -> Result<(), Refusal> {
    if dev.legacy_igd && q35 {
        return Err(Refusal::at(
            "legacy-igd is not compatible with q35; Proxmox refuses to start this VM",
            HostPciOpts::SUB.legacy_igd,
        ));
    }
    Ok(())
}

/// An `mdev` is made from one function (PCI.pm `print_hostpci_devices` refuses a mediated device
/// on a multifunction `host` list).
pub fn hostpci_mdev(dev: &HostPci) -> Result<(), Refusal> {
    if dev.mdev.is_some() && dev.host.len() > 1 {
        return Err(Refusal::at("a mediated device cannot be made from several PCI functions", HostPciOpts::SUB.host));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pve::model::drive::Limit;
    use crate::pve::model::hostpci::HostPciId;

    fn refused<T: std::fmt::Debug>(r: Result<T, Refusal>) -> String {
        r.unwrap_err().message
    }

    #[test]
    fn vcpus_within_the_topology() {
        assert_eq!(vcpus(4, 2, 2), Ok(()));
        assert_eq!(refused(vcpus(5, 2, 2)), "vcpus (5) is more than sockets × cores (4)");
    }

    #[test]
    fn memory_hotplug() {
        assert_eq!(memory_hotplug_numa(true, false), Ok(()));
        assert_eq!(refused(memory_hotplug_numa(false, false)), "memory hotplug needs `numa: 1`");
        assert_eq!(
            refused(memory_hotplug_numa(true, true)),
            "memory hotplug cannot be combined with custom NUMA nodes (numaN)"
        );
        assert_eq!(memory_hotplug_size(4096, 8192, 1024), Ok(()));
        assert_eq!(
            refused(memory_hotplug_size(9000, 8192, 1024)),
            "memory (9000 MiB) is more than the hotplug maximum (8192 MiB)"
        );
        assert_eq!(refused(memory_hotplug_size(512, 8192, 1024)), "memory hotplug needs at least 1024 MiB of memory");
    }

    #[test]
    fn numa() {
        assert_eq!(numa_even_split(4096, 2), Ok(()));
        assert_eq!(
            refused(numa_even_split(1025, 2)),
            "memory (1025 MiB) cannot be split evenly over 2 sockets (Proxmox fails to start it too)"
        );
        assert_eq!(numa_total(2048.0, 2048), Ok(()));
        assert_eq!(
            refused(numa_total(1024.0, 2048)),
            "total memory for NUMA nodes (1024 MiB) must be equal to the VM's memory (2048 MiB)"
        );
        assert_eq!(numa_node_memory(1, Some(512.0)), Ok(512.0));
        assert_eq!(
            refused(numa_node_memory(1, None)),
            "missing NUMA node1 memory value (Proxmox refuses to start it too)"
        );
        assert_eq!(numa_policy(Some("0"), Some(NumaPolicy::Bind)), Ok(()));
        assert_eq!(numa_policy(None, None), Ok(()));
        assert_eq!(
            refused(numa_policy(Some("0-1"), None)),
            "you need to define a policy for hostnode 0-1 (as Proxmox says)"
        );
    }

    #[test]
    fn hugepages() {
        assert_eq!(hugepages_need_numa(true, true), Ok(()));
        assert_eq!(hugepages_need_numa(false, false), Ok(()));
        assert_eq!(
            refused(hugepages_need_numa(true, false)),
            "hugepages need `numa: 1` (Proxmox refuses to start it too)"
        );
    }

    #[test]
    fn intel_viommu() {
        assert_eq!(intel_viommu_needs_q35(Some(Viommu::Intel), true), Ok(()));
        assert_eq!(intel_viommu_needs_q35(Some(Viommu::Virtio), false), Ok(()));
        let r = intel_viommu_needs_q35(Some(Viommu::Intel), false).unwrap_err();
        assert_eq!(r.message, "the Intel vIOMMU needs a q35 machine (Proxmox refuses this config too)");
        assert_eq!(r.sub, Some("viommu"));
    }

    #[test]
    fn aw_bits() {
        assert_eq!(aw_bits_need_viommu(Some(39.0), Some(Viommu::Intel)), Ok(()));
        assert_eq!(aw_bits_need_viommu(None, None), Ok(()));
        let r = aw_bits_need_viommu(Some(39.0), None).unwrap_err();
        assert_eq!(r.message, "aw-bits needs a vIOMMU (viommu=intel or viommu=virtio)");
        assert_eq!(r.sub, Some("aw-bits"));
    }

    #[test]
    fn usb() {
        assert_eq!(usb_index(4, false), Ok(()));
        assert_eq!(usb_index(5, true), Ok(()));
        assert_eq!(
            refused(usb_index(5, false)),
            "usb5 needs machine type ≥ 7.1 and ostype l26 or Windows > 7; Proxmox refuses to start this VM"
        );
    }

    #[test]
    fn mtu() {
        assert_eq!(net_mtu(1), Ok(()));
        assert_eq!(net_mtu(576), Ok(()));
        let r = net_mtu(575).unwrap_err();
        assert_eq!(r.message, "MTU 575 is below 576; Proxmox refuses to start this VM");
        assert_eq!(r.sub, Some("mtu"));
    }

    #[test]
    fn drives() {
        assert_eq!(virtio_cdrom(Bus::Scsi, true), Ok(()));
        assert_eq!(virtio_cdrom(Bus::Virtio, false), Ok(()));
        assert_eq!(refused(virtio_cdrom(Bus::Virtio, true)), "a VirtIO drive cannot be a CD-ROM");
        assert_eq!(iso_needs_media(false, "iso", true), Ok(()));
        assert_eq!(iso_needs_media(true, "iso", false), Ok(()));
        assert_eq!(iso_needs_media(false, "images", false), Ok(()));
        assert_eq!(
            refused(iso_needs_media(false, "iso", false)),
            "explicit media parameter is required for iso images"
        );
    }

    #[test]
    fn throttle() {
        let limit = |rate, max, max_length| Limit { rate, max, max_length };
        let mut t = Throttle::default();
        t.bytes[1] = limit(Some(1), Some(2), Some(3));
        assert_eq!(throttling(&t), Ok(()));
        t.bytes[0] = limit(Some(1), None, None);
        t.iops[2] = limit(None, Some(5), None);
        t.iops[0] = limit(None, None, Some(1));
        assert_eq!(
            refused(throttling(&t)),
            "invalid throttling: mbps together with mbps_rd/mbps_wr; iops_max_length without iops_max; \
             iops_wr_max without iops_wr"
        );
    }

    fn hostpci(host: &str) -> HostPci {
        HostPci {
            host: host.split(';').filter(|s| !s.is_empty()).filter_map(HostPciId::parse).collect(),
            host_text: Some(host.to_owned()),
            mapping: None,
            rombar: true,
            romfile: None,
            pcie: false,
            x_vga: false,
            legacy_igd: false,
            mdev: None,
            id_overrides: Vec::new(),
            keep_driver: false,
        }
    }

    #[test]
    fn hostpci_rules() {
        let dev = hostpci("01:00.0");
        assert_eq!(hostpci_host(&dev), Ok(()));
        assert_eq!(refused(hostpci_host(&hostpci(""))), "neither 'host' nor 'mapping' is set");

        let pcie = HostPci { pcie: true, ..dev.clone() };
        assert_eq!(hostpci_pcie(&pcie, true), Ok(()));
        assert_eq!(refused(hostpci_pcie(&pcie, false)), "pcie=1 needs a q35 machine; Proxmox refuses to start this VM");

        let igd = HostPci { legacy_igd: true, ..dev.clone() };
        assert_eq!(hostpci_legacy_igd(&igd, false), Ok(()));
        assert_eq!(
            refused(hostpci_legacy_igd(&igd, true)),
            "legacy-igd is not compatible with q35; Proxmox refuses to start this VM"
        );

        let mdev = HostPci { mdev: Some("i915-GVTg_V5_4".into()), ..dev };
        assert_eq!(hostpci_mdev(&mdev), Ok(()));
        let several = HostPci { mdev: mdev.mdev.clone(), ..hostpci("01:00.0;01:00.1") };
        assert_eq!(refused(hostpci_mdev(&several)), "a mediated device cannot be made from several PCI functions");
    }
}
