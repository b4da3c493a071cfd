//! The command-line side of the target: `--target URI` and `--target-caps FILE`, read once per run.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use super::TargetCaps;

/// How long one `virsh` call may take before the target is given up on.
const VIRSH_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(clap::Args, Debug, Default)]
pub struct TargetArgs {
    /// Fit the domain to this libvirt connection (e.g. `qemu:///system`): its machine types,
    /// domain types, OVMF files, CPU and device models, read with virsh.
    #[arg(long, value_name = "URI", conflicts_with = "target_caps")]
    pub target: Option<String>,
    /// Fit the domain to a target described by saved `virsh capabilities` / `virsh
    /// domcapabilities` outputs (repeatable: one capabilities, any number of domcapabilities).
    #[arg(long, value_name = "FILE")]
    pub target_caps: Vec<PathBuf>,
    #[arg(skip)]
    loaded: OnceLock<Result<Option<TargetCaps>, String>>,
}

impl TargetArgs {
    /// Reads the target (once). `host_qemu` (`--host-qemu-version`) replaces its QEMU version;
    /// `firmware_dir_given` (`--firmware-dir`) keeps the firmware paths from the user.
    pub fn load(&self, host_qemu: Option<(u32, u32)>, firmware_dir_given: bool) -> Result<Option<TargetCaps>, String> {
        self.loaded
            .get_or_init(|| {
                let mut target = if let Some(uri) = &self.target {
                    TargetCaps::from_uri(uri, VIRSH_TIMEOUT)?
                } else if !self.target_caps.is_empty() {
                    let mut docs = Vec::new();
                    for path in &self.target_caps {
                        let text = std::fs::read_to_string(path)
                            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                        docs.push((path.display().to_string(), text));
                    }
                    TargetCaps::from_documents(&docs)?
                } else {
                    return Ok(None);
                };
                if let Some(v) = host_qemu {
                    target.set_qemu_version(v);
                }
                target.use_firmware = !firmware_dir_given;
                Ok(Some(target))
            })
            .clone()
    }
}
