//! The list-valued settings Proxmox splits with PVE::Tools `split_list` (`[;,\s]+`): the boot
//! order and the hotplug features. The schema check reads them once; the map reads these.

use crate::pve::schema::HotplugFeature;

/// boot `order=scsi0;net0`: the devices in the order Proxmox numbers their bootindex
/// (QemuServer.pm `device_bootorder`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BootOrder {
    pub devices: Vec<String>,
}

/// `hotplug`: the features that are hot-pluggable. `1` is Proxmox's default set, `0` none
/// (QemuServer.pm `parse_hotplug_features`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HotplugFeatures {
    pub features: Vec<HotplugFeature>,
}

impl HotplugFeatures {
    /// `network,disk,usb`: what `hotplug: 1` and an unset `hotplug` mean.
    pub fn proxmox_default() -> Self {
        HotplugFeatures { features: vec![HotplugFeature::Network, HotplugFeature::Disk, HotplugFeature::Usb] }
    }
    pub fn none() -> Self {
        HotplugFeatures { features: Vec::new() }
    }
    pub fn has(&self, feature: HotplugFeature) -> bool {
        self.features.contains(&feature)
    }
}
