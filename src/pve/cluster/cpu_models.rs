//! `virtual-guest/cpu-models.conf` (qemu-server `PVE/QemuServer/CPUConfig.pm`): custom CPU models
//! that a VM names as `cpu: custom-<name>`.

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct CpuModel {
    /// The QEMU model the guest sees (`reported-model`, default kvm64).
    pub reported_model: Option<String>,
    /// `+aes;-pcid`, as in a VM's `flags`.
    pub flags: Option<String>,
    pub hidden: Option<bool>,
    pub hv_vendor_id: Option<String>,
    pub phys_bits: Option<String>,
    /// Other keys, kept to report them.
    pub other: Vec<(String, String)>,
}

pub fn parse(text: &str) -> BTreeMap<String, CpuModel> {
    let mut out = BTreeMap::new();
    for (kind, id, props) in super::sections(text) {
        if kind != "cpu-model" {
            continue;
        }
        let mut m = CpuModel::default();
        for (k, v) in props {
            match k.as_str() {
                "reported-model" => m.reported_model = Some(v),
                "flags" => m.flags = Some(v),
                "hidden" => m.hidden = Some(v == "1"),
                "hv-vendor-id" => m.hv_vendor_id = Some(v),
                "phys-bits" => m.phys_bits = Some(v),
                _ => m.other.push((k, v)),
            }
        }
        out.insert(id, m);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn models() {
        let m = super::parse("cpu-model: epyc-lab\n\tflags +aes;-pcid\n\treported-model EPYC\n\thidden 1\n\ncpu-model: plain\n\tphys-bits 40\n");
        assert_eq!(m["epyc-lab"].reported_model.as_deref(), Some("EPYC"));
        assert_eq!(m["epyc-lab"].flags.as_deref(), Some("+aes;-pcid"));
        assert_eq!(m["epyc-lab"].hidden, Some(true));
        assert_eq!(m["plain"].phys_bits.as_deref(), Some("40"));
    }
}
