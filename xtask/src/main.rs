//! Developer tasks that drive real libvirt + QEMU: `cargo xtask <task>`.
mod bench;
mod conformance;
mod dist;
mod guest;
mod libvirt;
mod process;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <task>

tasks:
  conformance [--corpus DIR] [--storage-cfg FILE] [--no-targets]
              [--only SUBSTRING]... [--keep-artifacts] [--converter PATH]
      convert every Proxmox cfg2cmd config and fixture, define and start it
      under qemu:///system, and compare the live QEMU with Proxmox's command
      line; writes target/conformance.md
  guest [--only SUBSTRING] [--jobs N] [--cache DIR] [--domain FILE]
      boot a small Linux guest in converted domains and measure what it sees
      (entropy rate per rng0 limiter, UUID, vCPUs, memory, NICs, disks, TPM);
      writes target/guest.md
  bench-batch [N] [--runs R] [--bin PATH]
      generate N configs (default 10000) and time `pve2virt convert
      in/*.conf --out-dir out` with the release build in both report modes:
      VMs/s, CPU time and peak RSS of the batch
  dist
      build target/dist/pve2virt_<version>_<arch>.deb: the LTO release binary,
      man pages and bash/zsh/fish completions generated from the clap
      definition, copyright and README (packed with dpkg-deb)";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("conformance") => conformance::main(args.collect()),
        Some("dist") => dist::main(args.collect()),
        Some("bench-batch") => bench::main(args.collect()),
        Some("guest") => ExitCode::from(guest::cli(args.collect()).clamp(0, 255) as u8),
        Some("-h" | "--help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// The repository's root (xtask lives in `xtask/`).
fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives inside the repository").to_owned()
}
