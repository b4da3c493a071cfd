//! The target host: what its libvirt and QEMU can run, read from a live connection
//! (`--target URI`) or from saved documents (`--target-caps FILE`), and the questions the mapper
//! asks of it (machine types, firmware, CPU models, device models).
//!
//! Everything comes from libvirt's own reports (`virsh capabilities`, `virsh domcapabilities`,
//! `virsh version --daemon`) and, for a local target, QEMU's firmware descriptors; nothing is
//! guessed from the distribution's name.

pub mod caps;
pub mod cli;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::libvirt::DomainType;
use caps::{Capabilities, DomainCapabilities, FirmwareDescriptor};

/// `major.minor.micro`.
pub type Version = (u32, u32, u32);

/// What the target host can run.
#[derive(Debug, Clone, Default)]
pub struct TargetCaps {
    /// The connection URI, or the files, the capabilities were read from.
    pub source: String,
    pub caps: Option<Capabilities>,
    pub domcaps: Vec<DomainCapabilities>,
    /// QEMU firmware descriptors of a local target.
    pub firmware: Vec<FirmwareDescriptor>,
    pub libvirt_version: Option<Version>,
    pub qemu_version: Option<Version>,
    /// How the QEMU version was found when it was not reported by libvirt (e.g. "its newest
    /// machine type pc-q35-7.2"); `None` when libvirt reported it or it is unknown.
    pub qemu_version_derived_from: Option<String>,
    /// What the local KVM refuses, when it was probed (`--target` on this host).
    pub kvm_limits: Option<KvmLimits>,
    /// Whether the firmware is taken from the target (false with an explicit --firmware-dir).
    pub use_firmware: bool,
}

/// KVM features that a kernel can lack though `/dev/kvm` answers (nested or restricted hosts).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KvmLimits {
    /// KVM_CAP_X86_SMM: OVMF's Secure Boot build cannot run without it.
    pub smm: bool,
    /// The Hyper-V enlightenments Proxmox gives Windows (hv-vpindex, hv-synic, …).
    pub hyperv: bool,
}

/// One OVMF build on the target: the code image and the variable store template it pairs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Firmware {
    pub code: String,
    pub vars: String,
    pub secure_boot: bool,
    pub enrolled_keys: bool,
    pub requires_smm: bool,
    /// Where it was found: "firmware descriptor" or "domcapabilities".
    pub from: &'static str,
}

/// A CPU model as the target's libvirt reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpuModel {
    pub name: String,
    pub usable: Option<bool>,
    /// The host features it lacks (libvirt ≥ 10 reports them).
    pub blockers: Vec<String>,
}

/// The machine families domcapabilities are asked for (libvirt's `--machine` takes the alias).
pub const MACHINE_FAMILIES: [&str; 2] = ["q35", "pc"];

impl TargetCaps {
    /// Builds the target from saved documents: `(name, text)` each.
    pub fn from_documents(docs: &[(String, String)]) -> Result<TargetCaps, String> {
        let mut target = TargetCaps { source: documents_source(docs), use_firmware: true, ..Default::default() };
        for (name, text) in docs {
            match caps::parse_document(text).map_err(|e| format!("{name}: {e}"))? {
                caps::Document::Capabilities(c) => {
                    if target.caps.is_some() {
                        return Err(format!("{name}: a second capabilities document; give one per target"));
                    }
                    target.caps = Some(c);
                }
                caps::Document::DomainCapabilities(d) => target.domcaps.push(*d),
            }
        }
        target.derive_qemu_version();
        Ok(target)
    }

    /// Reads a live target through `virsh -c URI` (each call bounded by `timeout`). On a local
    /// URI the QEMU firmware descriptors are read too and KVM is probed for what it refuses.
    pub fn from_uri(uri: &str, timeout: Duration) -> Result<TargetCaps, String> {
        let caps_text = virsh(uri, &["capabilities"], timeout)?;
        let caps = match caps::parse_document(&caps_text)? {
            caps::Document::Capabilities(c) => c,
            caps::Document::DomainCapabilities(_) => return Err("virsh capabilities gave domain capabilities".into()),
        };
        let mut target =
            TargetCaps { source: uri.to_owned(), caps: Some(caps), use_firmware: true, ..Default::default() };
        for virttype in ["kvm", "qemu"] {
            if !target.has_domain_type("x86_64", virttype) {
                continue;
            }
            for machine in MACHINE_FAMILIES {
                let args = ["domcapabilities", "--machine", machine, "--virttype", virttype, "--arch", "x86_64"];
                // A machine family the emulator lacks is an error here, not a reason to stop.
                if let Ok(text) = virsh(uri, &args, timeout) {
                    if let Ok(caps::Document::DomainCapabilities(d)) = caps::parse_document(&text) {
                        target.domcaps.push(*d);
                    }
                }
            }
        }
        if let Ok(text) = virsh(uri, &["version", "--daemon"], timeout) {
            let (libvirt, qemu) = parse_virsh_version(&text);
            target.libvirt_version = libvirt;
            target.qemu_version = qemu;
        }
        if target.qemu_version.is_none() {
            target.derive_qemu_version();
        }
        if is_local(uri) {
            target.firmware =
                read_firmware_descriptors(&[Path::new("/etc/qemu/firmware"), Path::new("/usr/share/qemu/firmware")]);
            let emulator = target.domcaps.iter().find(|d| d.domain == "kvm").and_then(|d| d.path.clone());
            if let Some(emulator) = emulator {
                target.kvm_limits = probe_kvm(&emulator, timeout);
            }
        }
        Ok(target)
    }

    /// Sets the QEMU version from the newest upstream machine type (`pc-q35-7.2` → 7.2): saved
    /// documents of libvirt ≥ 8 carry no version.
    fn derive_qemu_version(&mut self) {
        let newest = self.all_machine_names().into_iter().filter_map(|m| upstream_version(&m).map(|v| (v, m))).max();
        if let Some(((a, b), name)) = newest {
            self.qemu_version = Some((a, b, 0));
            self.qemu_version_derived_from = Some(format!("its newest machine type {name}"));
        }
    }

    /// Replaces the QEMU version (`--host-qemu-version`).
    pub fn set_qemu_version(&mut self, v: (u32, u32)) {
        self.qemu_version = Some((v.0, v.1, 0));
        self.qemu_version_derived_from = None;
    }

    fn all_machine_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for g in self.caps.iter().flat_map(|c| &c.guests) {
            for m in g.arch.machines.iter().chain(g.arch.domains.iter().flat_map(|d| &d.machines)) {
                names.push(m.canonical.clone().unwrap_or_else(|| m.name.clone()));
            }
        }
        names.extend(self.domcaps.iter().filter_map(|d| d.machine.clone()));
        names
    }

    /// Whether the target can run `arch` guests with this domain type (`kvm`, `qemu`).
    pub fn has_domain_type(&self, arch: &str, domain_type: &str) -> bool {
        let in_caps = self.caps.iter().flat_map(|c| &c.guests).any(|g| {
            g.os_type == "hvm" && g.arch.name == arch && g.arch.domains.iter().any(|d| d.domain_type == domain_type)
        });
        in_caps || self.domcaps.iter().any(|d| d.arch == arch && d.domain == domain_type)
    }

    /// The machine types for `arch` under `domain_type`: `(name, canonical)`, where an alias
    /// (`q35`) names the machine it stands for. From the capabilities and, lacking them, from the
    /// machines the domcapabilities documents are for.
    pub fn machines(&self, arch: &str, domain_type: &str) -> Vec<(String, Option<String>)> {
        let mut out: Vec<(String, Option<String>)> = Vec::new();
        for g in self.caps.iter().flat_map(|c| &c.guests).filter(|g| g.os_type == "hvm" && g.arch.name == arch) {
            let domain = g.arch.domains.iter().find(|d| d.domain_type == domain_type);
            let own = domain.map(|d| d.machines.as_slice()).unwrap_or_default();
            let list = if own.is_empty() { g.arch.machines.as_slice() } else { own };
            for m in list {
                if !out.iter().any(|(n, _)| *n == m.name) {
                    out.push((m.name.clone(), m.canonical.clone()));
                }
            }
        }
        for d in self.domcaps.iter().filter(|d| d.arch == arch && d.domain == domain_type) {
            if let Some(m) = &d.machine {
                if !out.iter().any(|(n, _)| n == m) {
                    out.push((m.clone(), None));
                }
            }
        }
        out
    }

    /// The domcapabilities for a machine family (q35 or i440fx) and domain type, if given.
    pub fn domcaps_for(&self, arch: &str, q35: bool, domain_type: DomainType) -> Option<&DomainCapabilities> {
        let family = |d: &&DomainCapabilities| {
            let m = d.machine.as_deref().unwrap_or_default();
            d.arch == arch && (m.contains("q35") == q35) && (q35 || m.contains("i440fx") || m == "pc")
        };
        let dt = domain_type_name(domain_type);
        // One QEMU binary serves both domain types: without a document of this one (domcapabilities
        // saved for `--virttype kvm` only), the other's names the same machines, models and firmware.
        self.domcaps.iter().filter(family).find(|d| d.domain == dt).or_else(|| self.domcaps.iter().find(family))
    }

    /// The OVMF build to use: the Secure Boot (SMM) build when `secure_boot`, with the varstore
    /// template holding Microsoft's keys when `enrolled_keys`. From the firmware descriptors when
    /// the target's are at hand, else from the loader images domcapabilities lists.
    pub fn firmware_for(
        &self,
        arch: &str,
        q35: bool,
        domain_type: DomainType,
        secure_boot: bool,
        enrolled_keys: bool,
    ) -> Option<Firmware> {
        let family = if q35 { "pc-q35-" } else { "pc-i440fx-" };
        let mut candidates: Vec<Firmware> = self
            .firmware
            .iter()
            .filter(|d| d.interface_types.iter().any(|t| t == "uefi") && d.mapping.device == "flash")
            .filter(|d| d.mapping.mode.as_deref().unwrap_or("split") == "split")
            .filter(|d| {
                d.targets.iter().any(|t| {
                    t.architecture == arch
                        && t.machines.iter().any(|m| glob_prefix(m).is_some_and(|p| family.starts_with(p)))
                })
            })
            .filter_map(|d| {
                let code = d.mapping.executable.as_ref()?;
                let vars = d.mapping.nvram_template.as_ref()?;
                let raw = |f: &caps::FirmwareFile| f.format.as_deref().unwrap_or("raw") == "raw";
                (raw(code) && raw(vars)).then(|| Firmware {
                    code: code.filename.clone(),
                    vars: vars.filename.clone(),
                    secure_boot: d.features.iter().any(|f| f == "secure-boot"),
                    enrolled_keys: d.features.iter().any(|f| f == "enrolled-keys"),
                    requires_smm: d.features.iter().any(|f| f == "requires-smm"),
                    from: "firmware descriptor",
                })
            })
            .collect();
        if candidates.is_empty() {
            let dc = self.domcaps_for(arch, q35, domain_type)?;
            let loader = dc.os.as_ref()?.loader.as_ref()?;
            if loader.supported.as_deref() == Some("no") {
                return None;
            }
            // A Secure Boot build needs a loader libvirt may mark secure (`<enum name='secure'>`,
            // only 'no' for a machine or accelerator without SMM).
            if secure_boot && caps::enum_values(&loader.enums, "secure").is_some_and(|v| !v.iter().any(|x| x == "yes"))
            {
                return None;
            }
            candidates = loader.values.iter().flat_map(|code| pair_by_name(code)).collect();
            // Proxmox's Secure Boot code is the `.secboot.` build (Debian's `.ms.` code is the same
            // build under a second name): prefer it where both are listed.
            candidates.sort_by_key(|f| !f.code.contains(".secboot."));
        }
        // Descriptors are listed in priority order (their file names); keep the first that fits.
        let fits = |f: &&Firmware| f.secure_boot == secure_boot && (!secure_boot || f.requires_smm == q35);
        let chosen = candidates.iter().filter(fits).find(|f| f.enrolled_keys == enrolled_keys);
        let chosen = chosen.or_else(|| candidates.iter().find(|f| fits(f)));
        chosen.cloned()
    }

    /// The target's CPU model `name` (by name, or by its versioned canonical name).
    pub fn cpu_model(&self, dc: &DomainCapabilities, name: &str) -> Option<CpuModel> {
        let custom = dc.cpu.as_ref()?.modes.iter().find(|m| m.name == "custom")?;
        let model = custom
            .models
            .iter()
            .find(|m| m.name == name)
            .or_else(|| custom.models.iter().find(|m| m.canonical.as_deref() == Some(name)))?;
        let blockers = custom
            .blockers
            .iter()
            .find(|b| b.model == model.name)
            .map(|b| b.features.iter().map(|f| f.name.clone()).collect())
            .unwrap_or_default();
        Some(CpuModel { name: model.name.clone(), usable: model.usable.as_deref().map(|u| u == "yes"), blockers })
    }

    /// Whether the custom CPU mode is reported at all (else nothing can be said of models).
    pub fn lists_cpu_models(dc: &DomainCapabilities) -> bool {
        dc.cpu.as_ref().is_some_and(|c| c.modes.iter().any(|m| m.name == "custom" && !m.models.is_empty()))
    }

    /// Whether a CPU mode (`host-model`, `host-passthrough`, `maximum`) is supported.
    pub fn cpu_mode_supported(dc: &DomainCapabilities, mode: &str) -> bool {
        dc.cpu.as_ref().is_some_and(|c| c.modes.iter().any(|m| m.name == mode && m.supported.as_deref() == Some("yes")))
    }

    /// The host-model expansion: its model and the features it requires.
    pub fn host_model(dc: &DomainCapabilities) -> Option<(String, Vec<String>)> {
        let mode = dc.cpu.as_ref()?.modes.iter().find(|m| m.name == "host-model")?;
        let model = mode.models.first()?.name.clone();
        let features =
            mode.features.iter().filter(|f| f.policy == "require").map(|f| f.name.clone()).collect::<Vec<_>>();
        Some((model, features))
    }

    /// Video models (`<devices><video><enum name='modelType'>`); `None` when not reported.
    pub fn video_models(dc: &DomainCapabilities) -> Option<&[String]> {
        caps::enum_values(&dc.devices.as_ref()?.video.as_ref()?.enums, "modelType")
    }

    /// Sound models (`<devices><sound><enum name='model'>`, libvirt ≥ 11); `None` when not reported.
    pub fn sound_models(dc: &DomainCapabilities) -> Option<&[String]> {
        caps::enum_values(&dc.devices.as_ref()?.sound.as_ref()?.enums, "model")
    }

    /// TPM enums: `model`, `backendModel`, `backendVersion`.
    pub fn tpm_allows(dc: &DomainCapabilities, name: &str, value: &str) -> Option<bool> {
        dc.devices.as_ref()?.tpm.as_ref()?.allows(name, value)
    }

    /// A short description for notes: "libvirt 9.0.0, QEMU 7.2" (else where it was read from).
    pub fn describe(&self) -> String {
        let v = |v: Version| format!("{}.{}.{}", v.0, v.1, v.2);
        let mut parts = Vec::new();
        if let Some(l) = self.libvirt_version {
            parts.push(format!("libvirt {}", v(l)));
        }
        if let Some(q) = self.qemu_version {
            parts.push(format!("QEMU {}.{}", q.0, q.1));
        }
        if parts.is_empty() {
            self.source.clone()
        } else {
            parts.join(", ")
        }
    }
}

/// Names saved documents for notes: their common folder ("the documents in target-caps/rhel9"),
/// else the first file.
fn documents_source(docs: &[(String, String)]) -> String {
    let parents: Vec<Option<&Path>> = docs.iter().map(|(n, _)| Path::new(n).parent()).collect();
    match parents.first() {
        Some(Some(first)) if parents.iter().all(|p| p == &Some(*first)) && !first.as_os_str().is_empty() => {
            format!("saved capabilities in {}", first.display())
        }
        _ => format!("saved capabilities {}", docs.first().map(|(n, _)| n.as_str()).unwrap_or_default()),
    }
}

pub fn domain_type_name(t: DomainType) -> &'static str {
    match t {
        DomainType::Kvm => "kvm",
        DomainType::Qemu => "qemu",
    }
}

/// `pc-q35-7.2` → (7, 2); downstream names (`pc-q35-rhel9.4.0`) and aliases give `None`.
pub fn upstream_version(machine: &str) -> Option<(u32, u32)> {
    let rest = ["pc-q35-", "pc-i440fx-"].iter().find_map(|p| machine.strip_prefix(p))?;
    let mut it = rest.split('.');
    let major = it.next()?.parse().ok()?;
    let minor = it.next()?.parse().ok()?;
    Some((major, minor))
}

/// `pc-q35-*` → `pc-q35-`; a pattern without a trailing `*` is taken as a whole name prefix.
fn glob_prefix(pattern: &str) -> Option<&str> {
    Some(pattern.strip_suffix('*').unwrap_or(pattern))
}

/// The varstore template of a loader image that domcapabilities lists, by the naming the
/// distributions use (Debian's ovmf package, Fedora/RHEL's edk2-ovmf): code `…CODE…` pairs with
/// `…VARS…`; the Secure Boot builds (`.secboot.`, Debian's `.ms.`) pair with both the empty and the
/// Microsoft-enrolled store. An image not named so (a combined or unknown build) gives nothing.
fn pair_by_name(code: &str) -> Vec<Firmware> {
    let path = Path::new(code);
    let (Some(dir), Some(file)) = (path.parent(), path.file_name().and_then(|f| f.to_str())) else {
        return Vec::new();
    };
    if !file.contains("CODE") || !file.ends_with(".fd") {
        return Vec::new();
    }
    let at = |f: String| dir.join(f).display().to_string();
    let base = |f: &str| f.replace("CODE", "VARS");
    let fw = |vars: String, secure_boot, enrolled_keys| Firmware {
        code: code.to_owned(),
        vars: at(vars),
        secure_boot,
        enrolled_keys,
        requires_smm: secure_boot,
        from: "domcapabilities",
    };
    if let Some(stem) = file.strip_suffix(".secboot.fd") {
        let plain = format!("{}.fd", base(stem));
        if dir.starts_with("/usr/share/edk2") {
            // edk2-ovmf: OVMF_VARS.secboot.fd holds the Microsoft keys.
            vec![fw(format!("{}.secboot.fd", base(stem)), true, true), fw(plain, true, false)]
        } else {
            // Debian: OVMF_VARS_4M.ms.fd holds the Microsoft keys.
            vec![fw(format!("{}.ms.fd", base(stem)), true, true), fw(plain, true, false)]
        }
    } else if let Some(stem) = file.strip_suffix(".ms.fd") {
        vec![fw(format!("{}.ms.fd", base(stem)), true, true)]
    } else if file.contains(".snakeoil.") || file.contains("amdsev") || file.contains("inteltdx") {
        Vec::new()
    } else {
        vec![fw(base(file), false, false)]
    }
}

/// `virsh version --daemon`: "Running against daemon: 9.0.0", "Running hypervisor: QEMU 7.2.22".
pub fn parse_virsh_version(text: &str) -> (Option<Version>, Option<Version>) {
    let version = |s: &str| {
        let mut it = s.trim().split('.').map(|p| p.trim().parse::<u32>().ok());
        Some((it.next()??, it.next().flatten().unwrap_or(0), it.next().flatten().unwrap_or(0)))
    };
    let mut libvirt = None;
    let mut qemu = None;
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("Running against daemon:") {
            libvirt = version(v);
        } else if let Some(v) = line.strip_prefix("Running hypervisor:") {
            qemu = v.trim().strip_prefix("QEMU").and_then(version);
        }
    }
    (libvirt, qemu)
}

/// Whether the URI is a QEMU driver on this machine (no host part).
pub fn is_local(uri: &str) -> bool {
    let Some(rest) = uri.strip_prefix("qemu") else { return false };
    rest.starts_with(":///") || rest.starts_with("+unix:///")
}

/// Runs `virsh -c URI ARGS…`, killed after `timeout`.
fn virsh(uri: &str, args: &[&str], timeout: Duration) -> Result<String, String> {
    let shown = format!("virsh -c {uri} {}", args.join(" "));
    let mut child = Command::new("virsh")
        .arg("-c")
        .arg(uri)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{shown}: cannot run virsh: {e}"))?;
    let (status, out, err) = wait_with_timeout(&mut child, timeout)
        .ok_or_else(|| format!("{shown}: no answer within {} s", timeout.as_secs()))?;
    if !status.success() {
        return Err(format!("{shown}: {}", String::from_utf8_lossy(&err).trim()));
    }
    String::from_utf8(out).map_err(|_| format!("{shown}: not UTF-8"))
}

/// Waits for `child`, reading its output; kills it after `timeout` (`None`).
fn wait_with_timeout(
    child: &mut std::process::Child,
    timeout: Duration,
) -> Option<(std::process::ExitStatus, Vec<u8>, Vec<u8>)> {
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    // Readers on threads, so that a full pipe cannot stall the child.
    let out = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(s) = stdout.as_mut() {
            let _ = s.read_to_end(&mut buf);
        }
        buf
    });
    let err = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(s) = stderr.as_mut() {
            let _ = s.read_to_end(&mut buf);
        }
        buf
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() < timeout => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    };
    Some((status, out.join().unwrap_or_default(), err.join().unwrap_or_default()))
}

/// Asks the target's QEMU whether KVM accepts SMM and Proxmox's Hyper-V enlightenments (`None` when
/// KVM cannot be opened at all by this user): a machine
/// is created paused (`-S`) and quit at once. Some kernels (nested, restricted) lack both though
/// `/dev/kvm` works: QEMU then says "System Management Mode not supported by this hypervisor" or
/// "kernel doesn't allow setting HyperV VP_INDEX" (QEMU `target/i386/kvm/kvm.c`).
fn probe_kvm(emulator: &str, timeout: Duration) -> Option<KvmLimits> {
    let run = |machine: &str, cpu: &str| {
        let child = Command::new(emulator)
            .args(["-nodefaults", "-no-user-config", "-display", "none", "-S", "-monitor", "stdio"])
            .args(["-machine", machine, "-cpu", cpu])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let Ok(mut child) = child else { return false };
        if let Some(mut stdin) = child.stdin.take() {
            let _ = stdin.write_all(b"quit\n");
        }
        wait_with_timeout(&mut child, timeout).is_some_and(|(status, _, _)| status.success())
    };
    let hv = "qemu64,hv-relaxed=on,hv-vapic=on,hv-time=on,hv-vpindex=on,hv-runtime=on,hv-synic=on,hv-stimer=on,\
              hv-reset=on,hv-ipi=on,hv-spinlocks=0x1fff";
    // Without KVM at all for this user (no access to /dev/kvm), nothing can be said.
    if !run("q35,accel=kvm,smm=off", "qemu64") {
        return None;
    }
    Some(KvmLimits { smm: run("q35,accel=kvm,smm=on", "qemu64"), hyperv: run("q35,accel=kvm,smm=off", hv) })
}

/// Reads the descriptors in `dirs`, a file name in an earlier directory hiding the same name in a
/// later one, in file-name order (QEMU `docs/interop/firmware.json` "search order").
pub fn read_firmware_descriptors(dirs: &[&Path]) -> Vec<FirmwareDescriptor> {
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else { continue };
        let mut names: Vec<(String, PathBuf)> = entries
            .flatten()
            .filter_map(|e| Some((e.file_name().to_str()?.to_owned(), e.path())))
            .filter(|(n, _)| n.ends_with(".json"))
            .collect();
        names.sort();
        for (name, path) in names {
            if !files.iter().any(|(n, _)| *n == name) {
                files.push((name, path));
            }
        }
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    files
        .into_iter()
        .filter_map(|(_, p)| serde_json::from_slice(&std::fs::read(p).ok()?).ok())
        // An empty file masks a descriptor of the same name; it parses to nothing here.
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_from_virsh() {
        let text = "Compiled against library: libvirt 9.0.0\nUsing library: libvirt 9.0.0\nUsing API: QEMU 9.0.0\n\
                    Running hypervisor: QEMU 7.2.22\nRunning against daemon: 9.0.0\n";
        assert_eq!(parse_virsh_version(text), (Some((9, 0, 0)), Some((7, 2, 22))));
    }

    #[test]
    fn machine_versions() {
        assert_eq!(upstream_version("pc-q35-7.2"), Some((7, 2)));
        assert_eq!(upstream_version("pc-i440fx-10.0"), Some((10, 0)));
        assert_eq!(upstream_version("pc-q35-rhel9.4.0"), None);
        assert_eq!(upstream_version("q35"), None);
    }

    #[test]
    fn firmware_pairs() {
        let d = pair_by_name("/usr/share/OVMF/OVMF_CODE_4M.secboot.fd");
        assert_eq!(d[0].vars, "/usr/share/OVMF/OVMF_VARS_4M.ms.fd");
        assert_eq!(d[1].vars, "/usr/share/OVMF/OVMF_VARS_4M.fd");
        let r = pair_by_name("/usr/share/edk2/ovmf/OVMF_CODE.secboot.fd");
        assert_eq!(r[0].vars, "/usr/share/edk2/ovmf/OVMF_VARS.secboot.fd");
        assert!(r[0].enrolled_keys && r[0].secure_boot);
        assert_eq!(pair_by_name("/usr/share/OVMF/OVMF_CODE_4M.fd")[0].vars, "/usr/share/OVMF/OVMF_VARS_4M.fd");
        assert!(pair_by_name("/usr/share/OVMF/OVMF_CODE_4M.snakeoil.fd").is_empty());
    }

    fn load(dir: &str, files: &[&str]) -> TargetCaps {
        let docs: Vec<(String, String)> = files
            .iter()
            .map(|f| {
                let path = format!("{}/fixtures/target-caps/{dir}/{f}", env!("CARGO_MANIFEST_DIR"));
                let text = std::fs::read_to_string(&path).unwrap();
                (path, text)
            })
            .collect();
        TargetCaps::from_documents(&docs).unwrap()
    }

    #[test]
    fn debian12_from_saved_documents() {
        let t = load("debian12", &["capabilities.xml", "domcapabilities-q35-kvm.xml", "domcapabilities-pc-qemu.xml"]);
        assert_eq!(t.qemu_version, Some((7, 2, 0)));
        assert_eq!(t.qemu_version_derived_from.as_deref(), Some("its newest machine type pc-q35-7.2"));
        let kvm = t.machines("x86_64", "kvm");
        assert!(kvm.contains(&("q35".to_owned(), Some("pc-q35-7.2".to_owned()))), "{kvm:?}");
        assert!(kvm.iter().any(|(n, _)| n == "pc-i440fx-1.4"));
        assert!(t.has_domain_type("x86_64", "kvm") && !t.has_domain_type("aarch64", "qemu"));
        let dc = t.domcaps_for("x86_64", true, DomainType::Kvm).unwrap();
        assert_eq!(dc.machine.as_deref(), Some("pc-q35-7.2"));
        // No pc/kvm document was saved: the pc/qemu one (the same QEMU) stands in.
        assert_eq!(t.domcaps_for("x86_64", false, DomainType::Kvm).map(|d| d.domain.as_str()), Some("qemu"));
        assert!(t.cpu_model(dc, "Skylake-Server-v4").is_none());
        assert_eq!(t.cpu_model(dc, "pentium3").unwrap().usable, Some(true));
        assert_eq!(t.cpu_model(dc, "Skylake-Server").unwrap().usable, Some(false));
        assert!(TargetCaps::video_models(dc).unwrap().iter().any(|m| m == "qxl"));
        assert_eq!(TargetCaps::tpm_allows(dc, "backendModel", "external"), Some(true));
        let fw = t.firmware_for("x86_64", true, DomainType::Kvm, true, true).unwrap();
        assert_eq!(
            (fw.code.as_str(), fw.vars.as_str()),
            ("/usr/share/OVMF/OVMF_CODE_4M.secboot.fd", "/usr/share/OVMF/OVMF_VARS_4M.ms.fd")
        );
        let fw = t.firmware_for("x86_64", true, DomainType::Kvm, true, false).unwrap();
        assert_eq!(fw.vars, "/usr/share/OVMF/OVMF_VARS_4M.fd");
        // The TCG document given is for i440fx: no Secure Boot build there (its secure enum is 'no').
        assert!(t.firmware_for("x86_64", false, DomainType::Qemu, true, false).is_none());
        assert_eq!(
            t.firmware_for("x86_64", false, DomainType::Qemu, false, false).unwrap().code,
            "/usr/share/OVMF/OVMF_CODE_4M.fd"
        );
    }

    #[test]
    fn rhel9_has_only_downstream_machines() {
        let t = load("rhel9", &["capabilities.xml", "domcapabilities-q35-kvm.xml", "domcapabilities-pc-kvm.xml"]);
        assert_eq!(t.qemu_version, None, "no upstream machine type to read a version from");
        let kvm = t.machines("x86_64", "kvm");
        assert!(kvm.contains(&("q35".to_owned(), Some("pc-q35-rhel9.4.0".to_owned()))));
        assert!(kvm.iter().all(|(n, _)| upstream_version(n).is_none()));
        let fw = t.firmware_for("x86_64", true, DomainType::Kvm, true, true).unwrap();
        assert_eq!(fw.code, "/usr/share/edk2/ovmf/OVMF_CODE.secboot.fd");
        assert_eq!(fw.vars, "/usr/share/edk2/ovmf/OVMF_VARS.secboot.fd");
        let fw = t.firmware_for("x86_64", false, DomainType::Kvm, false, false).unwrap();
        assert_eq!(
            (fw.code.as_str(), fw.vars.as_str()),
            ("/usr/share/edk2/ovmf/OVMF_CODE.fd", "/usr/share/edk2/ovmf/OVMF_VARS.fd")
        );
        let dc = t.domcaps_for("x86_64", true, DomainType::Kvm).unwrap();
        assert!(!TargetCaps::video_models(dc).unwrap().iter().any(|m| m == "qxl"));
        assert_eq!(dc.devices.as_ref().unwrap().graphics.as_ref().unwrap().allows("type", "spice"), Some(false));
    }

    #[test]
    fn debian13_models_with_canonical_names_and_blockers() {
        let t = load("debian13", &["capabilities.xml", "domcapabilities-q35-kvm.xml"]);
        assert_eq!(t.qemu_version, Some((10, 0, 0)));
        let dc = t.domcaps_for("x86_64", true, DomainType::Kvm).unwrap();
        let m = t.cpu_model(dc, "Skylake-Server-v4").unwrap();
        assert_eq!(m.usable, Some(false));
        assert!(m.blockers.contains(&"avx512f".to_owned()), "{m:?}");
        // By canonical name: Skylake-Server-v1 is listed itself and as the alias's canonical.
        assert_eq!(t.cpu_model(dc, "Skylake-Server-v1").unwrap().name, "Skylake-Server-v1");
        assert_eq!(t.cpu_model(dc, "qemu64").unwrap().usable, Some(true));
        assert_eq!(TargetCaps::host_model(dc).unwrap().0, "EPYC-Rome");
    }

    #[test]
    fn descriptors_pick_the_enrolled_secure_boot_build() {
        let dir = std::env::temp_dir().join(format!("pve2virt-fw-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let descriptor = |code: &str, vars: &str, features: &str| {
            format!(
                r#"{{"interface-types":["uefi"],"mapping":{{"device":"flash","executable":{{"filename":"{code}","format":"raw"}},
                "nvram-template":{{"filename":"{vars}","format":"raw"}}}},"targets":[{{"architecture":"x86_64","machines":["pc-q35-*"]}}],
                "features":[{features}]}}"#
            )
        };
        std::fs::write(
            dir.join("50-sb.json"),
            descriptor("/fw/CODE.sb.fd", "/fw/VARS.fd", r#""requires-smm","secure-boot""#),
        )
        .unwrap();
        std::fs::write(
            dir.join("40-sb-keys.json"),
            descriptor("/fw/CODE.sb.fd", "/fw/VARS.keys.fd", r#""enrolled-keys","requires-smm","secure-boot""#),
        )
        .unwrap();
        std::fs::write(dir.join("60-plain.json"), descriptor("/fw/CODE.fd", "/fw/VARS.fd", "")).unwrap();
        let t = TargetCaps { firmware: read_firmware_descriptors(&[&dir]), ..Default::default() };
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(t.firmware.len(), 3);
        let keys = t.firmware_for("x86_64", true, DomainType::Kvm, true, true).unwrap();
        assert_eq!((keys.vars.as_str(), keys.from), ("/fw/VARS.keys.fd", "firmware descriptor"));
        assert_eq!(t.firmware_for("x86_64", true, DomainType::Kvm, true, false).unwrap().vars, "/fw/VARS.fd");
        assert_eq!(t.firmware_for("x86_64", true, DomainType::Kvm, false, false).unwrap().code, "/fw/CODE.fd");
        assert!(t.firmware_for("x86_64", false, DomainType::Kvm, false, false).is_none(), "q35-only descriptors");
    }

    /// The live-target path, whose KVM probe depends on the host: a KVM without SMM sends a
    /// Secure Boot OVMF guest to TCG, one without the Hyper-V enlightenments a Windows guest; a
    /// SeaBIOS Linux guest stays on KVM.
    #[test]
    fn kvm_limits_choose_the_domain_type() {
        let mut target = load("debian12", &["capabilities.xml", "domcapabilities-q35-kvm.xml"]);
        target.kvm_limits = Some(KvmLimits { smm: false, hyperv: false });
        let opts = crate::Options {
            vmid: Some(100),
            map: crate::MapOptions { target: Some(target), ..Default::default() },
            ..Default::default()
        };
        let run = |conf: &str| {
            let (_, result) = crate::convert_bytes("t.conf", conf.as_bytes(), &opts);
            let c = result.unwrap();
            (c.domain.domain_type, c.notes.iter().map(|n| n.code).collect::<Vec<_>>())
        };
        let sb = "bios: ovmf\nmachine: q35\nefidisk0: local-lvm:vm-100-disk-0,efitype=4m,size=528K\n";
        let (t, codes) = run(sb);
        assert_eq!(t, DomainType::Qemu);
        assert!(codes.contains(&crate::report::code::TARGET_NO_KVM));
        assert_eq!(run("ostype: win10\n").0, DomainType::Qemu);
        assert_eq!(run("ostype: l26\nmachine: q35\n").0, DomainType::Kvm);
        assert_eq!(run("kvm: 0\n").0, DomainType::Qemu);
    }

    #[test]
    fn the_root_element_decides_the_document() {
        assert!(matches!(
            caps::parse_document("<?xml version='1.0'?>\n<capabilities/>"),
            Ok(caps::Document::Capabilities(_))
        ));
        assert!(caps::parse_document("<domain/>").unwrap_err().contains("<domain>"));
        assert!(caps::parse_document("not xml").is_err());
    }

    #[test]
    fn local_uris() {
        assert!(is_local("qemu:///system") && is_local("qemu+unix:///system?socket=/x"));
        assert!(!is_local("qemu+ssh://host/system") && !is_local("test:///default"));
    }
}
