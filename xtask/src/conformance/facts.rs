//! Guest-visible facts of one QEMU invocation, and their comparison.
//!
//! A fact is a name (`net0.mtu`, `disk.scsi0.cache`, `cpu.flags`) and a
//! normalised value, plus the Proxmox config keys that decide it (so a
//! mismatch can be tied to a converter note about those keys). Both sides are
//! extracted by the same code from a [`QemuArgs`]; what differs per side is in
//! [`SideContext`]: how devices are named, and what could only be read from
//! the running VM.

use std::collections::{BTreeMap, BTreeSet};

use super::qemu_args::{normalize_bool, parse_props, size_mib, Device, Props, QemuArgs};
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    pub value: String,
    /// Proxmox keys (`net0`, `cpu`, `scsihw`, …) whose notes explain a mismatch.
    pub keys: Vec<String>,
}

pub type Facts = BTreeMap<String, Fact>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Proxmox,
    Libvirt,
}

/// What facts need beyond the command line.
#[derive(Debug, Default)]
pub struct SideContext {
    /// qdev id → guest PCI path. For the live VM from `query-pci`; otherwise
    /// computed from the command line's `bus`/`addr` (see [`pci_paths_from_args`]).
    pub pci_paths: BTreeMap<String, String>,
    /// vCPUs present (libvirt hot-plugs the extra ones over QMP after start).
    pub vcpus_present: Option<u32>,
    /// `v1.2`/`v2.0`: Proxmox's is in the config (swtpm runs outside QEMU),
    /// libvirt's from the swtpm it started (`--tpm2`) or the domain XML.
    pub tpm_version: Option<String>,
    /// Basename of the OVMF variables template the VM's NVRAM was made from,
    /// when known (Proxmox: from `efidisk0`; libvirt: `<nvram template=…>`).
    pub vars_template: Option<String>,
    /// MAC (lower case) → Proxmox `netN`, taken from the Proxmox side, so that
    /// libvirt's NICs (ids numbered by XML order) line up with Proxmox's.
    pub mac_to_net: BTreeMap<String, String>,
}

pub fn extract(args: &QemuArgs, side: Side, ctx: &SideContext) -> Facts {
    let mut x = Extractor {
        args,
        side,
        ctx,
        devices: args.devices(),
        objects: args.objects(),
        facts: Facts::new(),
        boot: Vec::new(),
    };
    x.machine();
    x.memory();
    x.smp();
    x.cpu();
    x.disks();
    x.nics();
    x.rng();
    x.firmware();
    x.tpm();
    x.display();
    x.usb();
    x.watchdog();
    x.serial();
    x.identity();
    x.balloon();
    x.rtc();
    x.boot_order();
    x.facts
}

struct Extractor<'a> {
    args: &'a QemuArgs,
    side: Side,
    ctx: &'a SideContext,
    devices: Vec<Device>,
    objects: Vec<Props>,
    facts: Facts,
    /// (bootindex, Proxmox key) of every bootable device seen.
    boot: Vec<(u32, String)>,
}

impl Extractor<'_> {
    fn put(&mut self, name: impl Into<String>, value: impl Into<String>, keys: &[&str]) {
        self.facts
            .insert(name.into(), Fact { value: value.into(), keys: keys.iter().map(|k| (*k).to_owned()).collect() });
    }

    fn machine_props(&self) -> Props {
        // Proxmox writes `type=pc+pve0`, libvirt `pc-i440fx-7.2,usb=off,…`.
        self.args.values("machine").flat_map(|m| parse_props(m, "type")).collect()
    }

    fn is_q35(&self) -> bool {
        self.machine_props().get("type").is_some_and(|t| t.contains("q35"))
    }

    fn machine(&mut self) {
        let props = self.machine_props();
        let ty = props.get("type").cloned().unwrap_or_default();
        let family = if ty.contains("q35") {
            "q35"
        } else if ty.starts_with("pc") {
            "i440fx"
        } else {
            ty.as_str()
        };
        self.put("machine.family", family, &["machine"]);
        // A pinned version is guest-visible (device defaults, ACPI tables); an
        // unversioned Proxmox machine means "newest", which a different host
        // QEMU resolves differently, so only pins are compared.
        if self.side == Side::Proxmox {
            if let Some(version) = pinned_version(&ty) {
                self.put("machine.version", version, &["machine"]);
            }
        } else if let Some(version) = pinned_version(&ty) {
            // Recorded only if Proxmox pinned one too (see `compare`).
            self.put("machine.version?", version, &["machine"]);
        }
        let smm = props.get("smm").map_or("on", |v| normalize_bool(v));
        self.put("machine.smm", smm, &["machine", "bios", "vga"]);
        // ACPI is on unless turned off (`acpi=off`, or the older `-no-acpi`): libvirt 11 spells the
        // default out (`acpi=on`), Proxmox and libvirt 9 leave it implied.
        let acpi = match props.get("acpi") {
            Some(v) => normalize_bool(v),
            None if self.args.first("no-acpi").is_some() => "off",
            None => "on",
        };
        self.put("machine.acpi", acpi, &["acpi"]);
    }

    fn memory(&mut self) {
        let Some(m) = self.args.first("m") else {
            return;
        };
        let props = parse_props(m, "size");
        let base = props.get("size").and_then(|s| size_mib(s, true)).unwrap_or(0);
        let dimms: u64 = self
            .devices
            .iter()
            .filter(|d| d.driver == "pc-dimm")
            .filter_map(|d| self.backend_size_mib(d.get("memdev")?))
            .sum();
        self.put("memory.total-mib", (base + dimms).to_string(), &["memory", "hotplug"]);
        if let Some(max) = props.get("maxmem").and_then(|s| size_mib(s, true)) {
            self.put("memory.max-mib", max.to_string(), &["memory", "hotplug"]);
        }
        let mut nodes = Vec::new();
        for numa in self.args.values("numa") {
            let p = parse_props(numa, "type");
            let size = p
                .get("memdev")
                .and_then(|m| self.backend_size_mib(m))
                .map_or_else(|| "?".to_owned(), |s| s.to_string());
            nodes.push(format!(
                "node{}:cpus={}:{}M",
                p.get("nodeid").map_or("?", String::as_str),
                p.get("cpus").map_or("?", String::as_str),
                size
            ));
        }
        if !nodes.is_empty() {
            self.put("memory.numa", nodes.join(" "), &["numa", "memory", "hugepages"]);
        }
    }

    fn backend_size_mib(&self, id: &str) -> Option<u64> {
        let obj = self.objects.iter().find(|o| o.get("id").is_some_and(|i| i == id))?;
        // key=value sizes default to bytes too, but Proxmox always adds a unit.
        size_mib(obj.get("size")?, false)
    }

    fn smp(&mut self) {
        let Some(smp) = self.args.first("smp") else {
            return;
        };
        let p = parse_props(smp, "cpus");
        let num = |k: &str| p.get(k).and_then(|v| v.parse::<u32>().ok());
        let sockets = num("sockets").unwrap_or(1);
        let cores = num("cores").unwrap_or(1);
        let threads = num("threads").unwrap_or(1);
        let boot_cpus = num("cpus").unwrap_or(1);
        let maxcpus = num("maxcpus").unwrap_or(boot_cpus);
        // Proxmox hot-plugs extra vCPUs as `-device <model>-x86_64-cpu`;
        // libvirt adds them over QMP after start (counted live).
        let present = self.ctx.vcpus_present.unwrap_or_else(|| {
            boot_cpus + self.devices.iter().filter(|d| d.driver.ends_with("-x86_64-cpu")).count() as u32
        });
        self.put(
            "smp",
            format!("vcpus={present},sockets={sockets},cores={cores},threads={threads},maxcpus={maxcpus}"),
            &["sockets", "cores", "vcpus", "smp", "maxcpus", "hotplug"],
        );
    }

    fn cpu(&mut self) {
        let Some(cpu) = self.args.first("cpu") else {
            self.put("cpu.model", "(qemu default)", &["cpu"]);
            return;
        };
        let mut items = super::qemu_args::split_qemu_list(cpu).into_iter();
        let model = items.next().unwrap_or_default();
        self.put("cpu.model", model, &["cpu"]);
        let flags: BTreeSet<String> = items.filter_map(|f| normalize_cpu_flag(&f)).collect();
        self.put("cpu.flags", flags.into_iter().collect::<Vec<_>>().join(","), &["cpu", "ostype", "hostpci"]);
    }

    fn disks(&mut self) {
        let nodes = self.args.block_nodes();
        let drives = self.args.drives();
        let scsi_controllers: BTreeMap<String, String> = self
            .devices
            .iter()
            .filter(|d| matches!(d.driver.as_str(), "lsi" | "lsi53c810" | "megasas" | "pvscsi" | "virtio-scsi-pci"))
            .filter_map(|d| Some((d.id()?.to_owned(), d.driver.clone())))
            .collect();
        let q35 = self.is_q35();
        for dev in self.devices.clone() {
            if !matches!(
                dev.driver.as_str(),
                "scsi-hd" | "scsi-cd" | "scsi-block" | "scsi-generic" | "ide-hd" | "ide-cd" | "virtio-blk-pci"
            ) {
                continue;
            }
            let key = match self.side {
                Side::Proxmox => dev.id().unwrap_or("?").to_owned(),
                Side::Libvirt => libvirt_disk_key(&dev, &scsi_controllers, q35),
            };
            // A SCSI disk's controller model is the `scsihw` key's doing.
            let controller = if key.starts_with("scsi") { "scsihw" } else { key.as_str() };
            let keys = [key.as_str(), controller];
            let name = |f: &str| format!("disk.{key}.{f}");
            self.put(name("device"), dev.driver.clone(), &keys);
            let backend = dev
                .get("drive")
                .and_then(|d| backend_from_blockdev(&nodes, d).or_else(|| backend_from_drive(drives.get(d)?)));
            match backend {
                None => self.put(name("medium"), "empty", &keys),
                Some(b) => {
                    self.put(name("medium"), b.format, &keys);
                    let write_cache = dev.get("write-cache").map_or("on", normalize_bool) == "on";
                    self.put(name("cache"), cache_mode(b.direct, b.no_flush, write_cache), &keys);
                    self.put(name("aio"), b.aio, &keys);
                    self.put(name("discard"), b.discard, &keys);
                    self.put(name("readonly"), if b.read_only { "on" } else { "off" }, &keys);
                }
            }
            // Properties the guest sees in its disk identity (/dev/disk/by-id,
            // Windows' device ids). Compared only where either side sets them.
            for prop in ["device_id", "serial", "rotation_rate", "wwn", "vendor", "product", "model"] {
                if let Some(v) = dev.get(prop) {
                    self.put(name(prop), v, &keys);
                }
            }
            if dev.driver == "virtio-blk-pci" {
                if let Some(path) = dev.id().and_then(|id| self.ctx.pci_paths.get(id)) {
                    self.put(name("pci"), path.clone(), &keys);
                }
            }
            self.note_boot(&dev, &key);
        }
    }

    fn nics(&mut self) {
        let netdevs: BTreeMap<String, Props> = self
            .args
            .values("netdev")
            .map(|v| parse_props(v, "type"))
            .filter_map(|p| Some((p.get("id")?.clone(), p)))
            .collect();
        for dev in self.devices.clone() {
            let Some(mac) = dev.get("mac").map(str::to_ascii_lowercase) else {
                continue;
            };
            let key = match self.side {
                Side::Proxmox => dev.id().unwrap_or("?").to_owned(),
                Side::Libvirt => self.ctx.mac_to_net.get(&mac).cloned().unwrap_or_else(|| format!("net[{mac}]")),
            };
            let keys = [key.as_str()];
            let name = |f: &str| format!("{key}.{f}");
            self.put(name("model"), dev.driver.clone(), &keys);
            self.put(name("mac"), mac.clone(), &keys);
            if let Some(path) = dev.id().and_then(|id| self.ctx.pci_paths.get(id)) {
                self.put(name("pci"), path.clone(), &keys);
            }
            if let Some(mtu) = dev.get("host_mtu") {
                self.put(name("mtu"), mtu, &keys);
            }
            // Queues: vectors = 2·queues + 2 on both sides; the netdev says it too.
            let queues = dev
                .get("vectors")
                .filter(|_| dev.get("mq").is_some_and(|m| normalize_bool(m) == "on"))
                .and_then(|v| v.parse::<u32>().ok())
                .map(|v| (v.saturating_sub(2) / 2).max(1))
                .or_else(|| {
                    let netdev = netdevs.get(dev.get("netdev")?)?;
                    netdev.get("queues")?.parse().ok()
                })
                .unwrap_or(1);
            self.put(name("queues"), queues.to_string(), &keys);
            for prop in ["rx_queue_size", "tx_queue_size"] {
                if let Some(v) = dev.get(prop) {
                    self.put(name(prop), v, &keys);
                }
            }
            // Proxmox picks the ROM from the machine type's `.pxe` suffix.
            if let Some(v) = dev.get("romfile") {
                self.put(name("romfile"), v, &[key.as_str(), "machine"]);
            }
            self.note_boot(&dev, &key);
        }
    }

    fn rng(&mut self) {
        for dev in self.devices.clone() {
            if !dev.driver.starts_with("virtio-rng") {
                continue;
            }
            let keys = ["rng0"];
            let filename = dev
                .get("rng")
                .and_then(|id| self.objects.iter().find(|o| o.get("id").is_some_and(|i| i == id)))
                .and_then(|o| o.get("filename").cloned())
                .unwrap_or_else(|| "(builtin)".to_owned());
            self.put("rng0.filename", filename, &keys);
            self.put("rng0.max-bytes", dev.get("max-bytes").unwrap_or("(none)"), &keys);
            self.put("rng0.period", dev.get("period").unwrap_or("(none)"), &keys);
        }
    }

    fn firmware(&mut self) {
        let keys = ["bios", "efidisk0"];
        let nodes = self.args.block_nodes();
        // Proxmox: node `pflash0` (≥10.0) or `-drive if=pflash,unit=0`; libvirt:
        // node `libvirt-pflash0-storage`. SEV/TDX Proxmox VMs use `-bios`.
        let code = nodes
            .iter()
            .find(|(name, _)| name.as_str() == "pflash0" || name.starts_with("libvirt-pflash0"))
            .and_then(|(name, _)| {
                chain(&nodes, name).iter().find_map(|n| n.get("filename")?.as_str().map(str::to_owned))
            })
            .or_else(|| {
                self.args
                    .values("drive")
                    .map(|d| parse_props(d, "file"))
                    .find(|p| p.get("if").is_some_and(|i| i == "pflash") && p.get("unit").is_none_or(|u| u == "0"))
                    .and_then(|p| p.get("file").cloned())
            })
            .or_else(|| self.args.first("bios").map(str::to_owned));
        let Some(code) = code else {
            self.put("firmware.code", "seabios", &keys);
            return;
        };
        // Proxmox ships OVMF as /usr/share/pve-edk2-firmware/, Debian as /usr/share/OVMF/;
        // the build (and so the guest) is identified by the file name.
        let base = code.rsplit('/').next().unwrap_or(&code).to_owned();
        self.put("firmware.code", base, &keys);
        let secure = self
            .args
            .values("global")
            .any(|g| g.starts_with("driver=cfi.pflash01,property=secure,value=on") || g == "cfi.pflash01.secure=on");
        self.put("firmware.secure-flash", if secure { "on" } else { "off" }, &keys);
        if let Some(vars) = &self.ctx.vars_template {
            self.put("firmware.vars-template", vars.clone(), &keys);
        }
    }

    fn tpm(&mut self) {
        let Some(dev) = self.devices.iter().find(|d| d.driver.starts_with("tpm-")) else {
            return;
        };
        let model = dev.driver.clone();
        self.put("tpm.model", model, &["tpmstate0"]);
        if let Some(v) = &self.ctx.tpm_version {
            self.put("tpm.version", v.clone(), &["tpmstate0"]);
        }
    }

    fn display(&mut self) {
        const VGA: &[&str] = &[
            "VGA",
            "cirrus-vga",
            "vmware-svga",
            "qxl-vga",
            "virtio-vga",
            "virtio-vga-gl",
            "virtio-gpu-pci",
            "virtio-gpu-gl-pci",
            "bochs-display",
            "ramfb",
            "qxl",
        ];
        let models: Vec<&str> = self.devices.iter().map(|d| d.driver.as_str()).filter(|d| VGA.contains(d)).collect();
        let value = if models.is_empty() { "none".to_owned() } else { models.join("+") };
        self.put("vga.model", value, &["vga"]);
    }

    fn usb(&mut self) {
        const CONTROLLERS: &[&str] = &[
            "piix3-usb-uhci",
            "piix4-usb-uhci",
            "qemu-xhci",
            "nec-usb-xhci",
            "usb-ehci",
            "ich9-usb-ehci1",
            "ich9-usb-ehci2",
            "ich9-usb-uhci1",
            "ich9-usb-uhci2",
            "ich9-usb-uhci3",
            "ich9-usb-uhci4",
            "ich9-usb-uhci5",
            "ich9-usb-uhci6",
        ];
        let mut controllers: Vec<&str> =
            self.devices.iter().map(|d| d.driver.as_str()).filter(|d| CONTROLLERS.contains(d)).collect();
        controllers.sort_unstable();
        let value = if controllers.is_empty() { "none".to_owned() } else { controllers.join(",") };
        self.put("usb.controllers", value, &["usb0", "tablet", "ostype", "machine"]);
        let mut devices: Vec<String> = self
            .devices
            .iter()
            .filter(|d| d.driver.starts_with("usb-"))
            .map(|d| match d.driver.as_str() {
                "usb-host" => {
                    let what = match (d.get("vendorid"), d.get("productid")) {
                        (Some(v), Some(p)) => format!("{v}:{p}"),
                        _ => format!("{}-{}", d.get("hostbus").unwrap_or("?"), d.get("hostport").unwrap_or("?")),
                    };
                    format!("usb-host({what})")
                }
                other => other.to_owned(),
            })
            .collect();
        devices.sort();
        if !devices.is_empty() {
            self.put("usb.devices", devices.join(","), &["usb0", "usb1", "usb2", "usb3", "tablet", "vga"]);
        }
    }

    fn watchdog(&mut self) {
        let Some(dev) = self.devices.iter().find(|d| matches!(d.driver.as_str(), "i6300esb" | "ib700")) else {
            return;
        };
        let model = dev.driver.clone();
        self.put("watchdog.model", model, &["watchdog"]);
        // libvirt ≥8 may say `-action watchdog=reset` instead of `-watchdog-action`.
        let action = self
            .args
            .first("watchdog-action")
            .map(str::to_owned)
            .or_else(|| self.args.values("action").find_map(|a| parse_props(a, "").get("watchdog").cloned()))
            .unwrap_or_else(|| "reset".to_owned());
        self.put("watchdog.action", action, &["watchdog"]);
    }

    fn serial(&mut self) {
        // QEMU gives isa-serial devices without `index` the next free port, so
        // Proxmox's lone `serial2` is the guest's ttyS0; compare the port.
        let mut next = 0u32;
        for dev in self.devices.iter().filter(|d| d.driver == "isa-serial").cloned().collect::<Vec<_>>() {
            let index = dev.get("index").and_then(|i| i.parse().ok()).unwrap_or(next);
            next = index + 1;
            let key = match self.side {
                Side::Proxmox => dev.get("chardev").unwrap_or("serial?").to_owned(),
                Side::Libvirt => format!("serial{index}"),
            };
            self.put(format!("{key}.port"), format!("ttyS{index}"), &[key.as_str(), "vga", "agent"]);
        }
    }

    fn identity(&mut self) {
        let smbios: Props = self
            .args
            .values("smbios")
            .map(|s| parse_props(s, "type"))
            .find(|p| p.get("type").is_some_and(|t| t == "1"))
            .unwrap_or_default();
        // Without smbios1 Proxmox gives QEMU no UUID while libvirt always
        // passes `-uuid`: libvirt's is then only compared if Proxmox has one
        // (the `?` suffix, see `compare`).
        if let Some(uuid) = smbios.get("uuid") {
            self.put("smbios.uuid", uuid.to_ascii_lowercase(), &["smbios1"]);
        } else if let Some(uuid) = self.args.first("uuid").filter(|_| self.side == Side::Libvirt) {
            self.put("smbios.uuid?", uuid.to_ascii_lowercase(), &["smbios1"]);
        }
        let others: Vec<String> = smbios
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "type" | "uuid"))
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if !others.is_empty() {
            self.put("smbios.type1", others.join(","), &["smbios1"]);
        }
        if let Some(dev) = self.devices.iter().find(|d| d.driver == "vmgenid") {
            let guid = dev.get("guid").unwrap_or("").to_ascii_lowercase();
            self.put("vmgenid", guid, &["vmgenid"]);
        }
    }

    fn balloon(&mut self) {
        let dev = self.devices.iter().find(|d| d.driver.starts_with("virtio-balloon"));
        let value = match dev {
            None => "none".to_owned(),
            Some(d) => {
                let fpr = d.get("free-page-reporting").map_or("off", normalize_bool);
                format!("{},free-page-reporting={fpr}", d.driver)
            }
        };
        self.put("balloon", value, &["balloon", "memory"]);
    }

    fn rtc(&mut self) {
        let base = self
            .args
            .values("rtc")
            .find_map(|r| parse_props(r, "base").get("base").cloned())
            .unwrap_or_else(|| "utc".to_owned());
        // QEMU reads `2020-01-11` as midnight UTC; libvirt writes it out in full.
        let is_date = base.len() == 10 && base.as_bytes()[4] == b'-' && base.as_bytes()[7] == b'-';
        let base = if is_date { format!("{base}T00:00:00") } else { base };
        self.put("rtc.base", base, &["localtime", "startdate", "ostype"]);
    }

    fn note_boot(&mut self, dev: &Device, key: &str) {
        if let Some(index) = dev.get("bootindex").and_then(|b| b.parse().ok()) {
            self.boot.push((index, key.to_owned()));
        }
    }

    fn boot_order(&mut self) {
        for dev in self.devices.clone() {
            if matches!(dev.driver.as_str(), "vfio-pci" | "usb-host") {
                let key = dev.id().unwrap_or("?");
                let key = key.strip_prefix("ua-").unwrap_or(key).to_owned();
                self.note_boot(&dev, &key);
            }
        }
        let mut boot = std::mem::take(&mut self.boot);
        boot.sort();
        // Proxmox numbers 100, 101, … and libvirt 1, 2, …: only the order counts.
        let order: Vec<String> = boot.into_iter().map(|(_, k)| k).collect();
        let value = if order.is_empty() { "(none)".to_owned() } else { order.join(",") };
        self.put("boot.order", value, &["boot", "bootdisk"]);
    }
}

/// `pc-i440fx-5.1+pve0` → `5.1`; `pc+pve0`, `q35`, `pc-q35-7.2` (libvirt's
/// expansion of an alias) … see the caller for which side keeps what.
fn pinned_version(ty: &str) -> Option<String> {
    let ty = ty.split('+').next().unwrap_or(ty);
    let ty = ty.strip_suffix(".pxe").unwrap_or(ty);
    let version = ty.strip_prefix("pc-i440fx-").or_else(|| ty.strip_prefix("pc-q35-"))?;
    Some(version.to_owned())
}

/// `+lahf_lm` / `lahf-lm=on` / `hv_time` / `hv-time=on` → `lahf-lm=on`, `hv-time=on`.
/// Drops `enforce`: Proxmox's "fail if the host cannot provide it", which
/// libvirt expresses as a start-time check (`check='full'`), not a flag.
pub fn normalize_cpu_flag(flag: &str) -> Option<String> {
    let (name, value) = if let Some(name) = flag.strip_prefix('+') {
        (name, "on")
    } else if let Some(name) = flag.strip_prefix('-') {
        (name, "off")
    } else if let Some((name, value)) = flag.split_once('=') {
        (name, normalize_bool(value))
    } else {
        (flag, "on")
    };
    if name == "enforce" {
        return None;
    }
    // QEMU accepts `_`, `-` and (for sse4.x) `.` interchangeably in feature names.
    let name = name.replace(['_', '.'], "-");
    // KVM paravirtual features (CPUID 0x40000001) exist only under KVM, and
    // this harness runs TCG (`--domain-type qemu`), for which the converter
    // rightly leaves out `<apic eoi='on'/>` and `<pvspinlock/>`.
    if name.starts_with("kvm-pv-") {
        return None;
    }
    // Proxmox forces `vendor=` to the model's own vendor, which QEMU sets from the model anyway;
    // libvirt writes `intel-pt=off` for models whose libvirt definition lacks Intel PT, which
    // QEMU's model of the same name lacks too. Neither changes what the guest sees.
    if name == "vendor" || (name == "intel-pt" && value == "off") {
        return None;
    }
    Some(format!("{name}={value}"))
}

/// The Proxmox drive name (`scsi3`, `ide2`, `virtio0`, `sata1`) of a disk in
/// libvirt's QEMU, from the ids libvirt derives from the disk address:
/// `ua-<alias>` (user alias: taken as is), `virtio-disk<N>`, `scsi<C>-0-<T>-<U>`,
/// `ide<C>-<B>-<U>`, `sata<C>-0-<U>`.
pub fn libvirt_disk_key(dev: &Device, scsi_controllers: &BTreeMap<String, String>, q35: bool) -> String {
    let id = dev.id().unwrap_or("?");
    if let Some(alias) = id.strip_prefix("ua-") {
        return alias.to_owned();
    }
    if let Some(n) = id.strip_prefix("virtio-disk") {
        return format!("virtio{n}");
    }
    let parts: Vec<&str> = id.split('-').collect();
    let num = |i: usize| parts.get(i).and_then(|p| p.parse::<u32>().ok());
    if let Some(c) = parts[0].strip_prefix("scsi").and_then(|c| c.parse::<u32>().ok()) {
        let (t, u) = (num(2).unwrap_or(0), num(3).unwrap_or(0));
        // Proxmox's scsiN sits at: lsi → controller N/7, scsi-id N%7;
        // pvscsi → scsi-id N; everything else → lun N.
        let driver = scsi_controllers.get(&format!("scsi{c}")).map_or("", String::as_str);
        let n = match driver {
            "lsi" | "lsi53c810" => c * 7 + t,
            "pvscsi" => t,
            _ => u,
        };
        return format!("scsi{n}");
    }
    if let Some(c) = parts[0].strip_prefix("ide").and_then(|c| c.parse::<u32>().ok()) {
        return format!("ide{}", c * 4 + num(1).unwrap_or(0) * 2 + num(2).unwrap_or(0));
    }
    if let Some(c) = parts[0].strip_prefix("sata").and_then(|c| c.parse::<u32>().ok()) {
        let u = num(2).unwrap_or(0);
        // On q35 the built-in AHCI (libvirt's controller 0) is where Proxmox
        // puts ide0–3, on ports 0, 2, 1, 3; Proxmox's sataN get an extra AHCI.
        if q35 && c == 0 {
            let ide = [0, 2, 1, 3, 4, 5].get(u as usize).copied().unwrap_or(u);
            return format!("ide{ide}");
        }
        let first = if q35 { c - 1 } else { c };
        return format!("sata{}", first * 6 + u);
    }
    id.to_owned()
}

struct Backend {
    format: String,
    direct: bool,
    no_flush: bool,
    aio: String,
    discard: String,
    read_only: bool,
}

fn chain<'a>(nodes: &'a BTreeMap<String, Map<String, Value>>, top: &str) -> Vec<&'a Map<String, Value>> {
    let mut out = Vec::new();
    let mut next = Some(top.to_owned());
    while let Some(name) = next.take() {
        let Some(node) = nodes.get(&name) else { break };
        out.push(node);
        next = node.get("file").and_then(Value::as_str).map(str::to_owned);
        if out.len() > 8 {
            break; // a cycle would be a parser bug; do not hang on it
        }
    }
    out
}

const FORMATS: &[&str] = &["raw", "qcow2", "vmdk", "qed", "vpc", "vdi", "cloop"];
const PROTOCOLS: &[&str] = &["file", "host_device", "host_cdrom", "rbd", "iscsi", "nbd", "gluster"];

fn backend_from_blockdev(nodes: &BTreeMap<String, Map<String, Value>>, top: &str) -> Option<Backend> {
    let chain = chain(nodes, top);
    if chain.is_empty() {
        return None;
    }
    let find = |pred: &dyn Fn(&str) -> bool| {
        chain.iter().find(|n| n.get("driver").and_then(Value::as_str).is_some_and(pred)).copied()
    };
    let format_node = find(&|d| FORMATS.contains(&d));
    let proto_node = find(&|d| PROTOCOLS.contains(&d)).or(chain.last().copied())?;
    let cache = |key: &str| chain.iter().find_map(|n| n.get("cache")?.get(key)?.as_bool()).unwrap_or(false);
    let text = |node: Option<&Map<String, Value>>, key: &str| {
        node.and_then(|n| n.get(key)).and_then(Value::as_str).map(str::to_owned)
    };
    Some(Backend {
        format: format_node.and_then(|n| n.get("driver")?.as_str()).unwrap_or("raw").to_owned(),
        direct: cache("direct"),
        no_flush: cache("no-flush"),
        aio: text(Some(proto_node), "aio").unwrap_or_else(|| "threads".to_owned()),
        discard: text(format_node, "discard").or_else(|| text(chain.first().copied(), "discard")).map_or_else(
            || "ignore".to_owned(),
            |d| {
                if d == "unmap" || d == "on" {
                    "unmap".into()
                } else {
                    "ignore".into()
                }
            },
        ),
        read_only: chain[0].get("read-only").and_then(Value::as_bool).unwrap_or(false),
    })
}

fn backend_from_drive(drive: &Props) -> Option<Backend> {
    drive.get("file")?; // `-drive if=none,media=cdrom` without file: empty tray
    let (direct, no_flush) = match drive.get("cache").map(String::as_str) {
        Some("none") | Some("directsync") => (true, false),
        Some("unsafe") => (false, true),
        _ => (false, false),
    };
    Some(Backend {
        format: drive.get("format").cloned().unwrap_or_else(|| "raw".to_owned()),
        direct,
        no_flush,
        aio: drive.get("aio").cloned().unwrap_or_else(|| "threads".to_owned()),
        discard: match drive.get("discard").map(String::as_str) {
            Some("on") | Some("unmap") => "unmap".to_owned(),
            _ => "ignore".to_owned(),
        },
        read_only: drive.get("readonly").is_some_and(|r| normalize_bool(r) == "on")
            || drive.get("media").is_some_and(|m| m == "cdrom"),
    })
}

/// QEMU's cache modes are combinations of three switches; name them back.
fn cache_mode(direct: bool, no_flush: bool, write_cache: bool) -> &'static str {
    match (direct, no_flush, write_cache) {
        (_, true, _) => "unsafe",
        (true, false, true) => "none",
        (true, false, false) => "directsync",
        (false, false, true) => "writeback",
        (false, false, false) => "writethrough",
    }
}

/// Guest PCI paths from a command line's `bus`/`addr` properties: each
/// device's slot.function, prefixed by the path of the bridge it sits behind
/// (a bridge's secondary bus is named after its id). `roots` are the names of
/// the host bridge's bus (`pci.0` on i440fx, `pcie.0` on q35).
pub fn pci_paths_from_args(devices: &[Device], roots: &[&str]) -> BTreeMap<String, String> {
    let by_id: BTreeMap<&str, &Device> = devices.iter().filter_map(|d| Some((d.id()?, d))).collect();
    let mut out = BTreeMap::new();
    for id in by_id.keys() {
        if let Some(path) = path_of(id, &by_id, roots, 0) {
            out.insert((*id).to_owned(), path);
        }
    }
    out
}

fn path_of(id: &str, by_id: &BTreeMap<&str, &Device>, roots: &[&str], depth: usize) -> Option<String> {
    let dev = by_id.get(id)?;
    let slot = format_addr(dev.get("addr")?)?;
    let bus = dev.get("bus")?;
    if roots.contains(&bus) {
        return Some(slot);
    }
    if depth > 8 {
        return None;
    }
    let parent = path_of(bus, by_id, roots, depth + 1)?;
    Some(format!("{parent}/{slot}"))
}

/// `0x12` → `12.0`, `0x1.0x2` → `01.2`, `1d.7` → `1d.7`, `1.0` → `01.0`.
pub fn format_addr(addr: &str) -> Option<String> {
    let (slot, func) = addr.split_once('.').unwrap_or((addr, "0"));
    let hex = |s: &str| u32::from_str_radix(s.trim_start_matches("0x"), 16).ok();
    Some(format!("{:02x}.{}", hex(slot)?, hex(func)?))
}

/// One compared fact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    pub name: String,
    pub proxmox: Option<String>,
    pub libvirt: Option<String>,
    pub keys: Vec<String>,
}

impl Comparison {
    pub fn matches(&self) -> bool {
        self.proxmox == self.libvirt
    }
}

/// Pairs the facts of both sides. A fact only one side has is a mismatch,
/// except libvirt-only facts named `…?`: values libvirt always has (resolved
/// machine version, `-uuid`) that count only when Proxmox has the fact too.
pub fn compare(proxmox: &Facts, libvirt: &Facts) -> Vec<Comparison> {
    let mut names: BTreeSet<&String> = proxmox.keys().collect();
    names.extend(libvirt.keys().filter(|n| !n.ends_with('?')));
    names
        .into_iter()
        .map(|name| {
            let p = proxmox.get(name);
            let l = libvirt.get(name).or_else(|| libvirt.get(&format!("{name}?")));
            Comparison {
                name: name.clone(),
                proxmox: p.map(|f| f.value.clone()),
                libvirt: l.map(|f| f.value.clone()),
                keys: p.or(l).map(|f| f.keys.clone()).unwrap_or_default(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::corpus_dir_for_tests;
    use crate::conformance::proxmox_cmd::ProxmoxRun;

    fn proxmox_facts(name: &str) -> Option<Facts> {
        let dir = corpus_dir_for_tests()?;
        let run = ProxmoxRun::load(&dir.join(name)).unwrap().unwrap();
        let ctx = super::super::proxmox_context(&run);
        Some(extract(&run.args, Side::Proxmox, &ctx))
    }

    #[test]
    fn cpu_flags_are_spelled_one_way() {
        assert_eq!(normalize_cpu_flag("+lahf_lm").as_deref(), Some("lahf-lm=on"));
        assert_eq!(normalize_cpu_flag("lahf-lm=on").as_deref(), Some("lahf-lm=on"));
        assert_eq!(normalize_cpu_flag("hv_spinlocks=0x1fff").as_deref(), Some("hv-spinlocks=0x1fff"));
        assert_eq!(normalize_cpu_flag("-x2apic").as_deref(), Some("x2apic=off"));
        assert_eq!(normalize_cpu_flag("+sse4.1").as_deref(), Some("sse4-1=on"));
        assert_eq!(normalize_cpu_flag("enforce"), None);
        assert_eq!(normalize_cpu_flag("+kvm_pv_eoi"), None);
    }

    #[test]
    fn simple1_facts() {
        let Some(f) = proxmox_facts("simple1.conf") else {
            return;
        };
        let v = |n: &str| f.get(n).map(|f| f.value.as_str()).unwrap_or("<missing>");
        assert_eq!(v("machine.family"), "i440fx");
        assert_eq!(v("memory.total-mib"), "768");
        assert_eq!(v("smp"), "vcpus=3,sockets=1,cores=3,threads=1,maxcpus=3");
        assert_eq!(v("cpu.model"), "kvm64");
        assert_eq!(v("cpu.flags"), "lahf-lm=on,sep=on");
        assert_eq!(v("disk.scsi0.device"), "scsi-hd");
        assert_eq!(v("disk.scsi0.cache"), "none");
        assert_eq!(v("disk.scsi0.aio"), "io_uring");
        assert_eq!(v("disk.scsi0.discard"), "unmap");
        assert_eq!(v("disk.scsi0.medium"), "qcow2");
        assert_eq!(v("disk.ide2.medium"), "empty");
        assert_eq!(v("net0.pci"), "12.0");
        assert_eq!(v("net0.mac"), "a2:c0:43:77:08:a0");
        assert_eq!(v("net0.mtu"), "1500");
        assert_eq!(v("boot.order"), "scsi0,ide2,net0");
        assert_eq!(v("smbios.uuid"), "7b10d7af-b932-4c66-b2c3-3996152ec465");
        assert_eq!(v("firmware.code"), "seabios");
    }

    #[test]
    fn q35_paths_go_through_the_dmi_bridge() {
        let Some(f) = proxmox_facts("q35-simple.conf") else {
            return;
        };
        assert_eq!(f["net0.pci"].value, "1e.0/01.0/12.0");
        assert_eq!(f["machine.family"].value, "q35");
        assert!(f["usb.controllers"].value.contains("ich9-usb-ehci1"));
    }

    #[test]
    fn legacy_drive_and_secure_boot_firmware() {
        let Some(f) = proxmox_facts("efi-secboot-and-tpm-q35.conf") else {
            return;
        };
        assert_eq!(f["firmware.code"].value, "OVMF_CODE_4M.secboot.fd");
        assert_eq!(f["firmware.vars-template"].value, "OVMF_VARS_4M.ms.fd");
        assert_eq!(f["tpm.model"].value, "tpm-tis");
        assert_eq!(f["tpm.version"].value, "v2.0");
        let Some(f) = proxmox_facts("efi-raw-old.conf") else {
            return;
        };
        assert_eq!(f["firmware.code"].value, "OVMF_CODE.fd");
    }

    #[test]
    fn rng_and_memory_hotplug() {
        let dir = corpus_dir_for_tests();
        let Some(dir) = dir else { return };
        let rng = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| {
                p.extension().is_some_and(|e| e == "cmd")
                    && std::fs::read_to_string(p).unwrap().contains("virtio-rng-pci")
            })
            .unwrap();
        let conf = rng.with_extension("");
        let f = proxmox_facts(conf.file_name().unwrap().to_str().unwrap()).unwrap();
        assert_eq!(f["rng0.filename"].value, "/dev/urandom");
        assert_eq!(f["rng0.max-bytes"].value, "1024");
        assert_eq!(f["rng0.period"].value, "1000");
        let Some(f) = proxmox_facts("memory-hotplug.conf") else {
            return;
        };
        let conf = std::fs::read_to_string(dir.join("memory-hotplug.conf")).unwrap();
        let memory = conf.lines().find_map(|l| l.strip_prefix("memory: ")).unwrap();
        assert_eq!(f["memory.total-mib"].value, memory.trim());
    }

    #[test]
    fn libvirt_disk_ids_map_back_to_proxmox_names() {
        let dev = |id: &str| Device { driver: "scsi-hd".into(), props: [("id".to_owned(), id.to_owned())].into() };
        let virtio: BTreeMap<String, String> = [("scsi0".to_owned(), "virtio-scsi-pci".to_owned())].into();
        let lsi: BTreeMap<String, String> = [("scsi1".to_owned(), "lsi".to_owned())].into();
        assert_eq!(libvirt_disk_key(&dev("scsi0-0-0-3"), &virtio, false), "scsi3");
        assert_eq!(libvirt_disk_key(&dev("scsi1-0-2-0"), &lsi, false), "scsi9");
        assert_eq!(libvirt_disk_key(&dev("ide0-1-0"), &virtio, false), "ide2");
        assert_eq!(libvirt_disk_key(&dev("sata0-0-1"), &virtio, true), "ide2");
        assert_eq!(libvirt_disk_key(&dev("sata1-0-2"), &virtio, true), "sata2");
        assert_eq!(libvirt_disk_key(&dev("virtio-disk4"), &virtio, false), "virtio4");
        assert_eq!(libvirt_disk_key(&dev("ua-scsi5"), &virtio, false), "scsi5");
    }

    #[test]
    fn comparison_counts_one_sided_facts() {
        let fact = |v: &str| Fact { value: v.into(), keys: vec!["net0".into()] };
        let p: Facts = [("a".into(), fact("1")), ("b".into(), fact("2"))].into();
        let l: Facts =
            [("a".into(), fact("1")), ("c".into(), fact("3")), ("machine.version?".into(), fact("7.2"))].into();
        let c = compare(&p, &l);
        assert_eq!(c.len(), 3);
        assert_eq!(c.iter().filter(|c| c.matches()).count(), 1);
    }
}
