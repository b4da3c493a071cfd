//! Developer tasks that drive real libvirt + QEMU: `cargo xtask <task>`.
mod guest;

fn main() {
    if std::env::args().nth(1).as_deref() == Some("guest") {
        std::process::exit(guest::cli(std::env::args().skip(2).collect()));
    }
    eprintln!("usage: cargo xtask <task>");
    std::process::exit(2);
}
