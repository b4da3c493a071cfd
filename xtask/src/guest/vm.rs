//! One boot: define the rewritten domain on the target's libvirt, start it, wait for init.sh's DONE
//! on the serial log, then tear it down again whatever happened.

use super::domain::{self, Boot};
use super::exec::{output, path_str, virsh};
use super::kit::Kit;
use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

pub struct Outcome {
    pub serial_log: String,
    pub elapsed: Duration,
}

/// How a boot's error starts when libvirt/QEMU refused to start the domain at all (as opposed
/// to a guest that started and then failed), so that a KVM refusal can be retried under TCG.
pub const START_FAILED: &str = "start failed: ";

/// Boots `domain_xml` as `guest-<case>` with the kit's kernel and returns the serial log.
/// `entropy_secs` > 0 asks init.sh to measure /dev/hwrng for that long; `kvm` runs it under KVM.
#[allow(clippy::too_many_arguments)]
pub fn boot(
    case: &str,
    domain_xml: &str,
    kit: &Kit,
    initrd: &Path,
    work: &Path,
    entropy_secs: u32,
    timeout: Duration,
    kvm: bool,
) -> Result<Outcome, String> {
    boot_with(case, domain_xml, kit, initrd, work, entropy_secs, timeout, None, kvm)
}

/// [`boot`], keeping the domain's disks and firmware as they are (`keep`: extra kernel
/// parameters for init.sh), for a domain whose storage is itself under test.
#[allow(clippy::too_many_arguments)]
pub fn boot_with(
    case: &str,
    domain_xml: &str,
    kit: &Kit,
    initrd: &Path,
    work: &Path,
    entropy_secs: u32,
    timeout: Duration,
    keep: Option<&str>,
    kvm: bool,
) -> Result<Outcome, String> {
    let scratch = work.join(case);
    let _ = fs::remove_dir_all(&scratch);
    fs::create_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
    let scratch = scratch.canonicalize().map_err(|e| e.to_string())?;
    // A kept-storage boot runs a domain under test: `case` is its full name (the caller's prefix).
    let name = if keep.is_some() { case.to_owned() } else { format!("guest-{case}") };
    let serial_log = scratch.join("serial.log");
    // rng_core.default_quality=0 keeps the kernel's hwrng feeder thread from reading the device
    // in parallel with the measurement, so /dev/hwrng sees the device's whole output.
    let cmdline = format!(
        "console=ttyS0 loglevel=4 panic=-1 rng_core.default_quality=0 pve2virt.entropy={entropy_secs} {}",
        keep.unwrap_or("")
    );
    let cmdline = cmdline.trim_end();
    let mut dom = pve2virt::libvirt::from_xml(domain_xml).map_err(|e| e.to_string())?;
    let kvm = kvm && keep.is_none();
    let images = domain::rewrite(
        &mut dom,
        &Boot {
            name: &name,
            kernel: &kit.kernel,
            initrd,
            cmdline,
            serial_log: &serial_log,
            scratch: &scratch,
            // A kept-storage boot runs the domain as `pve2virt migrate` made it (its type included: TCG in `.ci/migrate`).
            kvm,
            keep_storage: keep.is_some(),
        },
    )?;
    for image in &images {
        output(Command::new("qemu-img").args(["create", "-q", "-f", &image.format]).arg(&image.path).arg("64M"))?;
    }
    let xml_path = scratch.join("domain.xml");
    let xml = pve2virt::libvirt::to_xml(&dom).map_err(|e| e.to_string())?;
    fs::write(&xml_path, xml).map_err(|e| e.to_string())?;

    remove_domain(&name); // left over from an interrupted run
    virsh(&["define", path_str(&xml_path)?])?;
    let started = Instant::now();
    let result = virsh(&["start", &name])
        .map_err(|e| format!("{START_FAILED}{e}"))
        .and_then(|_| wait_for_done(&name, &serial_log, timeout, kvm));
    remove_domain(&name);
    result?;
    Ok(Outcome { serial_log: fs::read_to_string(&serial_log).unwrap_or_default(), elapsed: started.elapsed() })
}

/// How long a KVM guest may stay silent on its console. Seen on this nested host: under KVM the
/// kit's kernel can spin without printing a line; such a boot counts as KVM refusing the domain,
/// so the case runs again under TCG (and its row says so).
const KVM_SILENCE: Duration = Duration::from_secs(30);
/// Part of the error of such a boot.
pub const KVM_SILENT_MARK: &str = "no console output under KVM";

fn wait_for_done(name: &str, log: &Path, timeout: Duration, kvm: bool) -> Result<(), String> {
    let start = Instant::now();
    loop {
        let text = fs::read_to_string(log).unwrap_or_default();
        if text.lines().any(|l| l.trim_end() == "DONE") {
            return Ok(());
        }
        if kvm && text.trim().is_empty() && start.elapsed() > KVM_SILENCE {
            return Err(format!("{START_FAILED}{KVM_SILENT_MARK} within {} s (nested KVM)", KVM_SILENCE.as_secs()));
        }
        if start.elapsed() > timeout {
            return Err(format!("no DONE within {}s (see {})", timeout.as_secs(), log.display()));
        }
        // A guest that powered off (or crashed QEMU) early will never print DONE.
        if virsh(&["domstate", name]).is_ok_and(|s| s.trim() == "shut off") {
            let text = fs::read_to_string(log).unwrap_or_default();
            if !text.lines().any(|l| l.trim_end() == "DONE") {
                return Err(format!("guest stopped before DONE (see {})", log.display()));
            }
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Destroys and undefines `name` if it exists. `--keep-nvram`, never `--nvram`: with a real
/// efidisk as nvram, `--nvram` deletes the VM's firmware variables (docs/mapping.md#undefine-and-nvram).
fn remove_domain(name: &str) {
    if virsh(&["domstate", name]).is_err() {
        return;
    }
    let _ = virsh(&["destroy", name]);
    let _ = virsh(&["undefine", "--keep-nvram", name]);
}
