//! The `pve2virt` command: parse the arguments, run them ([`pve2virt::app`]), exit with its code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    ExitCode::from(pve2virt::app::run(pve2virt::cli::Cli::parse()))
}
