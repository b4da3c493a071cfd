//! Proxmox's defaults, in one place (QemuServer.pm `$confdesc`, RNG.pm, CPUConfig.pm), so the
//! mapping never has to know what an absent key means.

/// `memory` in MiB.
pub const MEMORY_MIB: u64 = 512;
pub const SOCKETS: u32 = 1;
pub const CORES: u32 = 1;
/// `cpu` with KVM; TCG guests get `qemu64` (CPUConfig.pm `get_cpu_options`).
pub const CPU_MODEL_KVM: &str = "kvm64";
pub const CPU_MODEL_TCG: &str = "qemu64";
pub const OSTYPE: &str = "other";
/// rng0: at most `RNG_MAX_BYTES` every `RNG_PERIOD_MS` (RNG.pm).
pub const RNG_MAX_BYTES: u64 = 1024;
pub const RNG_PERIOD_MS: u64 = 1000;
pub const SCSIHW: &str = "lsi";
pub const VGA: &str = "std";
pub const ARCH: &str = "x86_64";
