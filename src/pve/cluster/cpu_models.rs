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

/// The models of the file, and what was left out of them (a message per invalid value).
pub fn parse(text: &str) -> (BTreeMap<String, CpuModel>, Vec<String>) {
    let mut out = BTreeMap::new();
    let mut problems = Vec::new();
    for (kind, id, props) in super::sections(text) {
        if kind != "cpu-model" {
            continue;
        }
        let mut m = CpuModel::default();
        for (k, v) in props {
            match k.as_str() {
                "reported-model" => m.reported_model = Some(v),
                "flags" if flags_valid(&v) => m.flags = Some(v),
                "flags" => problems.push(format!(
                    "virtual-guest/cpu-models.conf: cpu-model {id}: flags '{v}' are not +FLAG;-FLAG…; ignored, as Proxmox ignores them"
                )),
                "hidden" => m.hidden = Some(v == "1"),
                "hv-vendor-id" => m.hv_vendor_id = Some(v),
                "phys-bits" => m.phys_bits = Some(v),
                _ => m.other.push((k, v)),
            }
        }
        out.insert(id, m);
    }
    (out, problems)
}

/// A custom model's `flags`: CPUConfig.pm checks them against `$cpu_flag_any_re` (a sign, then
/// `[a-zA-Z0-9\-_.]+`), joined by `;`. Unlike a VM's own flags, any flag name is allowed.
fn flags_valid(flags: &str) -> bool {
    flags.split(';').all(|flag| {
        let name = flag.strip_prefix(['+', '-']).unwrap_or("");
        !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn models() {
        let (m, problems) = super::parse("cpu-model: epyc-lab\n\tflags +aes;-pcid\n\treported-model EPYC\n\thidden 1\n\ncpu-model: plain\n\tphys-bits 40\n");
        assert_eq!(m["epyc-lab"].reported_model.as_deref(), Some("EPYC"));
        assert_eq!(m["epyc-lab"].flags.as_deref(), Some("+aes;-pcid"));
        assert_eq!(m["epyc-lab"].hidden, Some(true));
        assert_eq!(m["plain"].phys_bits.as_deref(), Some("40"));
        assert!(problems.is_empty(), "{problems:?}");
    }

    /// Proxmox leaves invalid `flags` out of the model and keeps the rest of it.
    #[test]
    fn invalid_flags_are_left_out_with_a_message() {
        for flags in ["é", "+aes;é", "aes", "+aes;", "+", "+a b"] {
            let (m, problems) = super::parse(&format!("cpu-model: lab\n\tflags {flags}\n\treported-model EPYC\n"));
            assert_eq!(m["lab"].flags, None, "{flags}");
            assert_eq!(m["lab"].reported_model.as_deref(), Some("EPYC"));
            assert_eq!(problems.len(), 1, "{flags}");
            assert!(problems[0].contains("cpu-model lab"), "{}", problems[0]);
        }
        let (m, problems) = super::parse("cpu-model: lab\n\tflags +aes;-x2apic;+avx512.vl;+hv_x\n");
        assert_eq!(m["lab"].flags.as_deref(), Some("+aes;-x2apic;+avx512.vl;+hv_x"));
        assert!(problems.is_empty());
    }
}
