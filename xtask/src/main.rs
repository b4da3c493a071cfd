//! Developer tasks that drive real libvirt + QEMU: `cargo xtask <task>`.
mod bench;
mod conformance;
mod dist;
mod guest;
mod libvirt;
mod process;
mod target;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <task> [--target debian12|debian13 --uri URI]

--target/--uri: the libvirt to run against (default qemu:///system); `.ci/libvirt-up NAME`
prints the URI of the one it brings up.

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
        Some(task @ ("conformance" | "guest")) => {
            let args = match target::take_args(args.collect()) {
                Ok(args) => args,
                Err(e) => {
                    eprintln!("xtask {task}: {e}");
                    return ExitCode::from(2);
                }
            };
            if task == "conformance" {
                conformance::main(args)
            } else {
                ExitCode::from(guest::cli(args).clamp(0, 255) as u8)
            }
        }
        Some("bench-batch") => bench::main(args.collect()),
        Some("dist") => dist::main(args.collect()),
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
