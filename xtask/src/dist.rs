//! `cargo xtask dist`: the Debian package `target/dist/pve2virt_<version>_<arch>.deb`.
//!
//! The tree is staged by hand and packed with Debian's own `dpkg-deb --build`, so the result is
//! whatever Debian's tools make of a plain tree (no packaging crate to install in CI):
//!
//! - `/usr/bin/pve2virt`: the `dist` profile (release, fat LTO, one codegen unit, stripped);
//! - `/usr/share/man/man1/pve2virt.1.gz` and `pve2virt-<subcommand>.1.gz`, generated from the clap
//!   definition (`pve2virt::cli::command`) with clap_mangen, compressed with `gzip -9n` as Debian
//!   policy 12.1 asks;
//! - completions from clap_complete where Debian's shells look for them: bash-completion's
//!   `/usr/share/bash-completion/completions/pve2virt` (loaded on demand), zsh's
//!   `/usr/share/zsh/vendor-completions/_pve2virt`, fish's
//!   `/usr/share/fish/vendor_completions.d/pve2virt.fish`;
//! - `/usr/share/doc/pve2virt/copyright` (machine-readable, with the licence) and `README.md`;
//! - `DEBIAN/control` whose `Depends` comes from `dpkg-shlibdeps` (the shared libraries the binary
//!   links and the symbol versions it uses), or `libc6 (>= 2.34)` where dpkg-dev is missing.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use clap_complete::Shell;

pub fn main(args: Vec<String>) -> ExitCode {
    if !args.is_empty() {
        eprintln!("usage: cargo xtask dist");
        return ExitCode::from(2);
    }
    match build() {
        Ok(deb) => {
            println!("{}", deb.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn build() -> Result<PathBuf, String> {
    let root = crate::root();
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    run(Command::new(env!("CARGO"))
        .args(["build", "--locked", "--profile", "dist", "--package", "pve2virt", "--bin", "pve2virt"])
        .current_dir(&root))?;

    let cmd = pve2virt::cli::command();
    let version = cmd.get_version().ok_or("the clap definition has no version")?.to_owned();
    let arch = output(Command::new("dpkg").arg("--print-architecture"))?;
    let dist = target.join("dist");
    let stage = dist.join(format!("pve2virt_{version}_{arch}"));
    let _ = fs::remove_dir_all(&stage);

    let bin = stage.join("usr/bin/pve2virt");
    mkdir(bin.parent().unwrap())?;
    fs::copy(target.join("dist/pve2virt"), &bin).map_err(|e| format!("copying the binary: {e}"))?;

    // Man pages: pve2virt(1), and pve2virt-<sub>(1) for each subcommand, as git and cargo do.
    let man = stage.join("usr/share/man/man1");
    mkdir(&man)?;
    let mut full = cmd.clone();
    full.build();
    write_man(&man, full.clone())?;
    for sub in full.get_subcommands().filter(|s| s.get_name() != "help") {
        // clap wants a `&'static str` here (without its `string` feature); xtask exits soon after.
        let name: &'static str = Box::leak(format!("pve2virt-{}", sub.get_name()).into_boxed_str());
        let version: &'static str = Box::leak(version.clone().into_boxed_str());
        write_man(&man, sub.clone().name(name).bin_name(name).version(version))?;
    }

    for (shell, path) in [
        (Shell::Bash, "usr/share/bash-completion/completions/pve2virt"),
        (Shell::Zsh, "usr/share/zsh/vendor-completions/_pve2virt"),
        (Shell::Fish, "usr/share/fish/vendor_completions.d/pve2virt.fish"),
    ] {
        let path = stage.join(path);
        mkdir(path.parent().unwrap())?;
        let mut buf = Vec::new();
        clap_complete::generate(shell, &mut cmd.clone(), "pve2virt", &mut buf);
        write(&path, &buf)?;
    }

    let doc = stage.join("usr/share/doc/pve2virt");
    mkdir(&doc)?;
    let licence = read(&root.join("LICENSE"))?;
    write(&doc.join("copyright"), copyright(&licence).as_bytes())?;
    write(&doc.join("README.md"), read(&root.join("README.md"))?.as_bytes())?;

    mkdir(&stage.join("DEBIAN"))?;
    let depends = depends(&dist, &bin);
    let size_kb = output(Command::new("du").args(["-sk", "--exclude=DEBIAN"]).arg(&stage))?
        .split_whitespace()
        .next()
        .unwrap_or("0")
        .to_owned();
    let about = cmd.get_about().map(|a| a.to_string()).unwrap_or_default();
    let control = format!(
        "Package: pve2virt\n\
         Version: {version}\n\
         Architecture: {arch}\n\
         Maintainer: The pve2virt authors <pve2virt@localhost>\n\
         Installed-Size: {size_kb}\n\
         Depends: {depends}\n\
         Suggests: libvirt-clients\n\
         Section: admin\n\
         Priority: optional\n\
         Description: {about}\n \
         pve2virt reads Proxmox VE VM configs (/etc/pve/qemu-server/<vmid>.conf) and\n \
         writes libvirt domain XML that virsh define accepts and that boots the same\n \
         guest; whatever cannot be carried over is reported with a stable code.\n"
    );
    write(&stage.join("DEBIAN/control"), control.as_bytes())?;

    let deb = dist.join(format!("pve2virt_{version}_{arch}.deb"));
    run(Command::new("dpkg-deb").args(["--root-owner-group", "-Zxz", "--build"]).arg(&stage).arg(&deb))?;
    Ok(deb)
}

fn write_man(dir: &Path, cmd: clap::Command) -> Result<(), String> {
    let name = cmd.get_name().to_owned();
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd).render(&mut page).map_err(|e| format!("man page {name}: {e}"))?;
    let path = dir.join(format!("{name}.1.gz"));
    // -n: no name or time stamp inside, so the same sources give the same package.
    let mut gzip = Command::new("gzip")
        .args(["-9n", "-c"])
        .stdin(Stdio::piped())
        .stdout(fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?)
        .spawn()
        .map_err(|e| format!("gzip: {e}"))?;
    gzip.stdin.take().expect("piped").write_all(&page).map_err(|e| format!("gzip: {e}"))?;
    let status = gzip.wait().map_err(|e| format!("gzip: {e}"))?;
    if !status.success() {
        return Err(format!("gzip failed for {name}"));
    }
    Ok(())
}

/// `Depends:` from `dpkg-shlibdeps`, which wants to run inside a source package (a scratch one
/// with just `debian/control` is enough) on a binary inside a staged tree (`DEBIAN/` beside `usr/`).
fn depends(dist: &Path, bin: &Path) -> String {
    const FALLBACK: &str = "libc6 (>= 2.34)";
    let scratch = dist.join("shlibdeps");
    let _ = fs::remove_dir_all(&scratch);
    if fs::create_dir_all(scratch.join("debian")).is_err()
        || fs::write(scratch.join("debian/control"), "Source: pve2virt\n\nPackage: pve2virt\nArchitecture: any\n")
            .is_err()
    {
        return FALLBACK.into();
    }
    // The binary's package root is found by its DEBIAN folder (made before this runs).
    let found = output(Command::new("dpkg-shlibdeps").args(["-O", "-e"]).arg(bin).current_dir(&scratch));
    let _ = fs::remove_dir_all(&scratch);
    match found.ok().and_then(|o| o.lines().find_map(|l| l.strip_prefix("shlibs:Depends=").map(str::to_owned))) {
        Some(deps) if !deps.is_empty() => deps,
        _ => {
            eprintln!("warning: dpkg-shlibdeps (package dpkg-dev) gave nothing; Depends: {FALLBACK}");
            FALLBACK.into()
        }
    }
}

/// Debian's machine-readable copyright format (copyright-format 1.0), holding the licence.
fn copyright(licence: &str) -> String {
    let holder = licence.lines().find_map(|l| l.strip_prefix("Copyright (c) ")).unwrap_or("The pve2virt authors");
    // The licence's text after its title and copyright line, each line indented, blank ones as ".".
    let body: Vec<String> = licence
        .lines()
        .skip_while(|l| !l.starts_with("Permission"))
        .map(|l| if l.trim().is_empty() { " .".to_owned() } else { format!(" {l}") })
        .collect();
    format!(
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\
         Upstream-Name: pve2virt\n\n\
         Files: *\n\
         Copyright: {holder}\n\
         License: MIT\n{}\n",
        body.join("\n")
    )
}

fn mkdir(dir: &Path) -> Result<(), String> {
    fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))
}

fn read(path: &Path) -> Result<String, String> {
    fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let status = cmd.status().map_err(|e| format!("{cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed ({status})"))
    }
}

fn output(cmd: &mut Command) -> Result<String, String> {
    let out = cmd.stderr(Stdio::inherit()).output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{cmd:?} failed ({})", out.status));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}
