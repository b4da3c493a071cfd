//! `mapping/pci.cfg`, `mapping/usb.cfg`, `mapping/directory.cfg` (pve-guest-common
//! `PVE/Mapping/PCI.pm`, `USB.pm`, `Dir.pm`): a logical device or directory, with one
//! `map node=…,path=…,id=…` line per node (or several: Proxmox takes the first that is present).

use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MappingKind {
    Pci,
    Usb,
    Dir,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Mapping {
    pub id: String,
    /// Section-level `mdev 1` (PCI): the device may be split into mediated devices.
    pub mdev: bool,
    /// The `map` lines, each a property string (`node`, `path`, `id`, …).
    pub maps: Vec<super::MapEntry>,
}

pub fn parse(text: &str, _kind: MappingKind) -> BTreeMap<String, Mapping> {
    let mut out = BTreeMap::new();
    for (_, id, props) in super::sections(text) {
        let mut m = Mapping { id: id.clone(), ..Default::default() };
        for (k, v) in props {
            match k.as_str() {
                "map" => m.maps.push(super::MapEntry(super::property_string(&v))),
                "mdev" => m.mdev = v == "1",
                _ => {}
            }
        }
        out.insert(id, m);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pci_mapping() {
        let text = "gpu\n\tmap node=pve1,path=0000:01:00,id=10de:2204,iommugroup=14\n\tmap node=pve2,path=0000:41:00.0;0000:41:00.1,id=10de:2204\n\tdescription RTX\n\nnic\n\tmap node=pve1,path=0000:05:00.0,id=8086:1521\n";
        let m = parse(text, MappingKind::Pci);
        assert_eq!(m.len(), 2);
        assert_eq!(m["gpu"].maps[1].path(), Some("0000:41:00.0;0000:41:00.1"));
        assert_eq!(m["nic"].maps[0].node(), Some("pve1"));
    }
}
