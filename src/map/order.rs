//! The order the device families run in, and the check that keeps that order honest.
//!
//! Every family adds its part to one shared [`Domain`]. Adding is safe in any order: a family that
//! appends to a list (`<controller>`s, `<disk>`s) only decides where its entries come, and the
//! table below fixes that. What is not safe is a family changing what another family wrote: the
//! result then depends on which ran first. A few families do it on purpose (`cpu` sets the mode of
//! the `<cpu>` that `memory` made for the NUMA cells; `args` refines whatever Proxmox's own
//! options produced, as QEMU reads it last). Each of them is
//! declared in [`FAMILIES`] (`refines`), and [`Ledger`] checks, after every family, that it changed
//! nothing another family wrote unless it declared so. The check runs in debug builds, so every
//! test and every fixture exercises it; an undeclared dependency fails there, not in a user's XML.

use std::collections::BTreeMap;

use serde_json::Value;

use super::Ctx;
use crate::libvirt::Domain;

/// One device family of the map stage.
pub(super) struct Family {
    pub name: &'static str,
    pub map: fn(&mut Ctx, &mut Domain),
    /// The earlier families whose parts of the domain this one may change (not only add to).
    pub refines: &'static [&'static str],
}

/// The families in the order they run.
pub(super) const FAMILIES: &[Family] = &[
    // First: the machine decides the bus layout every later family places its devices on.
    Family { name: "machine", map: super::machine_and_layout, refines: &[] },
    Family { name: "boot", map: super::boot_accounting, refines: &[] },
    Family { name: "identity", map: super::identity::map, refines: &[] },
    // Memory settings libvirt has no element for go into the `<pve:vm>` metadata identity made.
    Family { name: "memory", map: super::memory::map, refines: &["identity"] },
    // `<cpu>` keeps the NUMA cells memory put in it; Hyper-V's EOI refines machine's `<apic>`.
    Family { name: "cpu", map: super::cpu::map, refines: &["machine", "memory"] },
    Family { name: "firmware", map: super::firmware::map, refines: &[] },
    Family { name: "disk", map: super::disk::map, refines: &[] },
    Family { name: "net", map: super::net::map, refines: &[] },
    Family { name: "hostpci", map: super::hostpci::map, refines: &[] },
    Family { name: "usb", map: super::usb::map, refines: &[] },
    Family { name: "devices", map: super::devices::map, refines: &[] },
    Family { name: "rng", map: super::rng::map, refines: &[] },
    // The Proxmox bridges the devices were placed behind.
    Family { name: "bridges", map: super::pci_bridges, refines: &[] },
    // Last: QEMU reads `args` after Proxmox's own options, so they refine or replace them. It adds
    // no controllers; it sees every slot taken, the bridges' too.
    Family { name: "args", map: super::args::map, refines: &["*"] },
];

/// Runs every family in order; in debug builds, checks each against the declared dependencies.
pub(super) fn run(ctx: &mut Ctx, domain: &mut Domain) {
    let mut ledger = cfg!(debug_assertions).then(|| Ledger::new(domain));
    for family in FAMILIES {
        (family.map)(ctx, domain);
        if let Some(ledger) = &mut ledger {
            if let Err(why) = ledger.record(family, domain) {
                panic!("map order: {why}");
            }
        }
    }
}

/// Which family wrote each part of the domain so far.
///
/// A part is a child of `<domain>`, or a child of one of its children (`devices/disk`,
/// `features/hyperv`, `cpu/numa`), as the model serializes it; a list part is compared entry by
/// entry, so that appending is told apart from changing.
pub(super) struct Ledger {
    parts: BTreeMap<String, Vec<String>>,
    writers: BTreeMap<String, Vec<&'static str>>,
}

impl Ledger {
    pub fn new(domain: &Domain) -> Self {
        Ledger { parts: parts(domain), writers: BTreeMap::new() }
    }

    /// Records what `family` changed; an error if it changed another family's part undeclared.
    pub fn record(&mut self, family: &Family, domain: &Domain) -> Result<(), String> {
        let now = parts(domain);
        let names: Vec<&String> = self.parts.keys().chain(now.keys()).collect();
        let mut undeclared = None;
        for name in names {
            let (old, new) = (self.parts.get(name), now.get(name));
            if old == new {
                continue;
            }
            let old = old.map(Vec::as_slice).unwrap_or_default();
            let new = new.map(Vec::as_slice).unwrap_or_default();
            let appended = new.starts_with(old);
            let writers = self.writers.entry(name.clone()).or_default();
            if !appended {
                let declared = |w: &&str| *w == family.name || family.refines.iter().any(|r| r == w || *r == "*");
                if let Some(other) = writers.iter().find(|w| !declared(w)) {
                    undeclared.get_or_insert(format!(
                        "`{}` changed {name}, which `{other}` wrote, without declaring it in FAMILIES",
                        family.name
                    ));
                }
            }
            if !writers.contains(&family.name) {
                writers.push(family.name);
            }
        }
        self.parts = now;
        undeclared.map_or(Ok(()), Err)
    }
}

/// The domain's parts, each as its entries' JSON text.
fn parts(domain: &Domain) -> BTreeMap<String, Vec<String>> {
    let mut parts = BTreeMap::new();
    let Ok(Value::Object(top)) = serde_json::to_value(domain) else { unreachable!("a domain serializes to an object") };
    for (name, value) in top {
        match value {
            Value::Object(children) => {
                for (child, value) in children {
                    parts.insert(format!("{name}/{child}"), entries(value));
                }
            }
            value => {
                parts.insert(name, entries(value));
            }
        }
    }
    parts
}

fn entries(value: Value) -> Vec<String> {
    match value {
        Value::Null => Vec::new(),
        Value::Array(items) => items.iter().map(Value::to_string).collect(),
        value => vec![value.to_string()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn family(name: &'static str, refines: &'static [&'static str]) -> Family {
        Family { name, map: |_, _| {}, refines }
    }

    #[test]
    fn every_declared_dependency_is_an_earlier_family() {
        for (at, family) in FAMILIES.iter().enumerate() {
            for dep in family.refines.iter().filter(|d| **d != "*") {
                let earlier = FAMILIES[..at].iter().any(|f| f.name == *dep);
                assert!(earlier, "{} refines {dep}, which does not run before it", family.name);
            }
        }
    }

    #[test]
    fn appending_to_another_family_list_is_allowed() {
        let mut domain = Domain::default();
        let mut ledger = Ledger::new(&domain);
        domain.devices.controllers.push(Default::default());
        ledger.record(&family("disk", &[]), &domain).unwrap();
        domain.devices.controllers.push(Default::default());
        ledger.record(&family("usb", &[]), &domain).unwrap();
    }

    #[test]
    fn changing_another_family_part_needs_a_declaration() {
        let mut domain = Domain::default();
        let mut ledger = Ledger::new(&domain);
        domain.features.hyperv = Some(Default::default());
        ledger.record(&family("cpu", &[]), &domain).unwrap();
        let written = domain.clone();

        domain.features.hyperv = None;
        let why = ledger.record(&family("hostpci", &[]), &domain).unwrap_err();
        assert!(why.contains("`hostpci` changed features/hyperv, which `cpu` wrote"), "{why}");

        let mut ledger = Ledger::new(&Domain::default());
        ledger.record(&family("cpu", &[]), &written).unwrap();
        ledger.record(&family("hostpci", &["cpu"]), &domain).unwrap();
    }

    #[test]
    fn a_family_may_change_its_own_part() {
        let mut domain = Domain::default();
        let mut ledger = Ledger::new(&domain);
        domain.devices.controllers.push(Default::default());
        ledger.record(&family("usb", &[]), &domain).unwrap();
        domain.devices.controllers.clear();
        ledger.record(&family("usb", &[]), &domain).unwrap();
    }
}
