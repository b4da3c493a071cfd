//! The libvirt side: what the QEMU that libvirt started actually runs with.
//!
//! The command line comes from `/proc/<pid>/cmdline` (libvirt's JSON
//! `-device {…}` syntax). It is not the whole truth: libvirt hot-plugs extra
//! vCPUs over QMP after start, and the guest sees PCI topology, not QEMU bus
//! names. So the PCI layout is read from `query-pci` and vCPUs from
//! `query-cpus-fast`, on the paused VM.

use std::collections::BTreeMap;

use serde_json::Value;

use super::qemu_args::QemuArgs;
use crate::libvirt;

#[derive(Debug, Default)]
pub struct LiveVm {
    pub argv: Vec<String>,
    pub args: QemuArgs,
    /// qdev id → guest PCI path (`1e.0/01.0/12.0`), see [`pci_paths`].
    pub pci_paths: BTreeMap<String, String>,
    pub vcpus_present: Option<u32>,
    /// From the swtpm libvirt started for the domain, if any.
    pub tpm_version: Option<String>,
    /// Raw monitor answers, kept as artifacts for whoever reads a mismatch.
    pub query_pci: String,
    pub qtree: String,
}

impl LiveVm {
    pub fn read(domain: &str) -> Result<Self, String> {
        let pid_file = libvirt::pid_file(domain);
        let pid = std::fs::read_to_string(&pid_file).map_err(|e| format!("{}: {e}", pid_file.display()))?;
        let argv = read_cmdline(pid.trim())?;
        let args = QemuArgs::from_argv(&argv);

        let query_pci = libvirt::qmp(domain, r#"{"execute":"query-pci"}"#);
        let pci_paths = if query_pci.success() {
            pci_paths(&query_pci.stdout)?
        } else {
            return Err(format!("query-pci: {}", query_pci.failure_reason()));
        };
        let cpus = libvirt::qmp(domain, r#"{"execute":"query-cpus-fast"}"#);
        let vcpus_present = serde_json::from_str::<Value>(&cpus.stdout)
            .ok()
            .and_then(|v| Some(v.get("return")?.as_array()?.len() as u32));
        let qtree = libvirt::hmp(domain, "info qtree").stdout;
        let tpm_version = libvirt::swtpm_pid_file(domain)
            .and_then(|p| std::fs::read_to_string(p).ok())
            .and_then(|pid| read_cmdline(pid.trim()).ok())
            .map(|argv| if argv.iter().any(|a| a == "--tpm2") { "v2.0".to_owned() } else { "v1.2".to_owned() });
        Ok(LiveVm { argv, args, pci_paths, vcpus_present, tpm_version, query_pci: query_pci.stdout, qtree })
    }
}

fn read_cmdline(pid: &str) -> Result<Vec<String>, String> {
    let path = format!("/proc/{pid}/cmdline");
    let bytes = std::fs::read(&path).map_err(|e| format!("{path}: {e}"))?;
    Ok(split_cmdline(&bytes))
}

/// `/proc/<pid>/cmdline` is the argv, each word NUL-terminated.
pub fn split_cmdline(bytes: &[u8]) -> Vec<String> {
    bytes.split(|b| *b == 0).filter(|w| !w.is_empty()).map(|w| String::from_utf8_lossy(w).into_owned()).collect()
}

/// Guest PCI paths from a `query-pci` answer: each device's `slot.function`,
/// prefixed by its bridge's path. Bus *numbers* are left out on purpose: the
/// firmware assigns them at boot by enumeration order, whereas the chain of
/// slots is what Linux interface names (`enp1s18`-style paths, `ens18`) and
/// Windows' device instance ids are built from.
pub fn pci_paths(query_pci: &str) -> Result<BTreeMap<String, String>, String> {
    let v: Value = serde_json::from_str(query_pci).map_err(|e| format!("query-pci: {e}"))?;
    let mut out = BTreeMap::new();
    let buses = v.get("return").and_then(Value::as_array).ok_or("query-pci: no return array")?;
    for bus in buses {
        walk(bus.get("devices"), "", &mut out);
    }
    Ok(out)
}

fn walk(devices: Option<&Value>, prefix: &str, out: &mut BTreeMap<String, String>) {
    for dev in devices.and_then(Value::as_array).into_iter().flatten() {
        let slot = dev.get("slot").and_then(Value::as_u64).unwrap_or(0);
        let func = dev.get("function").and_then(Value::as_u64).unwrap_or(0);
        let path = format!("{prefix}{slot:02x}.{func}");
        if let Some(id) = dev.get("qdev_id").and_then(Value::as_str).filter(|s| !s.is_empty()) {
            out.insert(id.to_owned(), path.clone());
        }
        if let Some(bridge) = dev.get("pci_bridge") {
            walk(bridge.get("devices"), &format!("{path}/"), out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::facts::{extract, Side, SideContext};

    /// Words of a `/proc/<pid>/cmdline` captured from libvirt 9.0 / QEMU 7.2
    /// running a converted i440fx VM (abridged: only the options facts use).
    const LIBVIRT_ARGV: &[&str] = &[
        "/usr/bin/qemu-system-x86_64",
        "-name",
        "guest=conf-simple1,debug-threads=on",
        "-machine",
        "pc-i440fx-7.2,usb=off,dump-guest-core=off,memory-backend=pc.ram",
        "-accel",
        "tcg",
        "-cpu",
        "kvm64,lahf-lm=on,sep=on,kvm-pv-eoi=on,kvm-pv-unhalt=on",
        "-m",
        "768",
        "-object",
        r#"{"qom-type":"memory-backend-ram","id":"pc.ram","size":805306368}"#,
        "-smp",
        "3,sockets=1,dies=1,cores=3,threads=1",
        "-uuid",
        "7b10d7af-b932-4c66-b2c3-3996152ec465",
        "-device",
        r#"{"driver":"virtio-scsi-pci","id":"scsi0","bus":"pci.0","addr":"0x5"}"#,
        "-blockdev",
        r#"{"driver":"file","filename":"/tmp/x/local/8006/vm-8006-disk-0.qcow2","node-name":"libvirt-1-storage","cache":{"direct":true,"no-flush":false},"auto-read-only":true,"discard":"unmap","aio":"io_uring"}"#,
        "-blockdev",
        r#"{"node-name":"libvirt-1-format","read-only":false,"discard":"unmap","detect-zeroes":"unmap","cache":{"direct":true,"no-flush":false},"driver":"qcow2","file":"libvirt-1-storage"}"#,
        "-device",
        r#"{"driver":"scsi-hd","bus":"scsi0.0","channel":0,"scsi-id":0,"lun":0,"device_id":"drive-scsi0-0-0-0","drive":"libvirt-1-format","id":"scsi0-0-0-0","bootindex":1,"write-cache":"on"}"#,
        "-device",
        r#"{"driver":"ide-cd","bus":"ide.1","unit":0,"id":"ide0-1-0","bootindex":2}"#,
        "-netdev",
        r#"{"type":"tap","fd":"30","vhost":true,"vhostfd":"32","id":"hostnet0"}"#,
        "-device",
        r#"{"driver":"virtio-net-pci","netdev":"hostnet0","id":"net0","mac":"a2:c0:43:77:08:a0","bus":"pci.0","addr":"0x12","bootindex":3}"#,
        "-device",
        r#"{"driver":"virtio-rng-pci","rng":"objrng0","id":"rng0","max-bytes":1024,"period":1000,"bus":"pci.1","addr":"0x1d"}"#,
        "-object",
        r#"{"qom-type":"rng-random","id":"objrng0","filename":"/dev/urandom"}"#,
    ];

    #[test]
    fn cmdline_is_nul_separated() {
        assert_eq!(split_cmdline(b"qemu\x00-m\x00768\x00"), ["qemu", "-m", "768"]);
    }

    #[test]
    fn libvirt_json_syntax() {
        let args = QemuArgs::from_argv(LIBVIRT_ARGV);
        let ctx = SideContext {
            vcpus_present: Some(3),
            mac_to_net: [("a2:c0:43:77:08:a0".to_owned(), "net0".to_owned())].into(),
            pci_paths: [("net0".to_owned(), "12.0".to_owned())].into(),
            ..Default::default()
        };
        let f = extract(&args, Side::Libvirt, &ctx);
        let v = |n: &str| f.get(n).map(|f| f.value.as_str()).unwrap_or("<missing>");
        assert_eq!(v("machine.family"), "i440fx");
        assert_eq!(v("memory.total-mib"), "768");
        assert_eq!(v("smp"), "vcpus=3,sockets=1,cores=3,threads=1,maxcpus=3");
        assert_eq!(v("cpu.flags"), "lahf-lm=on,sep=on");
        assert_eq!(v("disk.scsi0.cache"), "none");
        assert_eq!(v("disk.scsi0.aio"), "io_uring");
        assert_eq!(v("disk.scsi0.discard"), "unmap");
        assert_eq!(v("disk.scsi0.medium"), "qcow2");
        assert_eq!(v("disk.scsi0.device_id"), "drive-scsi0-0-0-0");
        assert_eq!(v("disk.ide2.medium"), "empty");
        assert_eq!(v("net0.pci"), "12.0");
        assert_eq!(v("boot.order"), "scsi0,ide2,net0");
        assert_eq!(v("smbios.uuid?"), "7b10d7af-b932-4c66-b2c3-3996152ec465");
        assert_eq!(v("rng0.filename"), "/dev/urandom");
        assert_eq!(v("rng0.period"), "1000");
    }

    #[test]
    fn query_pci_paths_follow_bridges() {
        let answer = r#"{"return":[{"bus":0,"devices":[
            {"bus":0,"slot":18,"function":0,"qdev_id":"net0"},
            {"bus":0,"slot":30,"function":0,"qdev_id":"pci.1","pci_bridge":{"bus":{"number":1},
              "devices":[{"bus":1,"slot":1,"function":0,"qdev_id":"pci.2","pci_bridge":{"bus":{"number":2},
                "devices":[{"bus":2,"slot":18,"function":0,"qdev_id":"net1"}]}}]}}]}],"id":"libvirt-1"}"#;
        let paths = pci_paths(answer).unwrap();
        assert_eq!(paths["net0"], "12.0");
        assert_eq!(paths["net1"], "1e.0/01.0/12.0");
    }
}
