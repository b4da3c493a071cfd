//! `cargo xtask guest`: the guest's-eye proof that a converted VM is the same machine. Boots a small Linux guest in
//! converted VMs and checks what it sees — SMBIOS UUID, vCPUs, memory, NIC MACs and PCI slots,
//! disks, rng, TPM, and the entropy rate the rng limiter lets through — against the Proxmox
//! config the domain came from.
//!
//! kit (kernel + busybox) → initramfs (init.sh) → cases (convert, expect) → vm (rewrite via
//! domain, boot) → facts → table.

mod cases;
mod cpio;
mod domain;
mod exec;
mod expect;
mod facts;
mod initramfs;
mod kit;
mod table;
mod vm;

use std::path::{Path, PathBuf};

pub struct Options {
    pub cache: PathBuf,
    pub work: PathBuf,
    /// Run only the cases whose name contains this.
    pub only: Option<String>,
    /// Boots running at the same time.
    pub jobs: usize,
    /// Boot this domain XML as it is (plus the test rewrite) and print its facts.
    pub domain: Option<PathBuf>,
    /// Boot under KVM (where /dev/kvm answers and `--tcg` is not given).
    pub kvm: bool,
    /// With `--domain`: keep its disks and firmware; the value is extra kernel parameters.
    pub keep_storage: Option<String>,
    /// With `--keep-storage`: the domain name to boot under.
    pub name: Option<String>,
}

/// Entry point from xtask's main: returns the process exit code (0 all passed, 1 a check
/// failed, 2 the run itself could not be done).
pub fn cli(args: Vec<String>) -> i32 {
    match run(&args) {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(e) => {
            eprintln!("xtask guest: {e}");
            2
        }
    }
}

fn run(args: &[String]) -> Result<bool, String> {
    let root = repo_root();
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let mut opts = Options {
        cache: target.join("guest-kit"),
        work: target.join("guest"),
        only: None,
        jobs: 2,
        domain: None,
        kvm: crate::target::kvm_usable(),
        keep_storage: None,
        name: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().cloned().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--cache" => opts.cache = value()?.into(),
            "--only" => opts.only = Some(value()?),
            "--jobs" => opts.jobs = value()?.parse().map_err(|_| "--jobs takes a number")?,
            "--domain" => opts.domain = Some(value()?.into()),
            "--keep-storage" => opts.keep_storage = Some(value()?),
            "--tcg" => opts.kvm = false,
            "--name" => opts.name = Some(value()?),
            "-h" | "--help" => {
                println!("usage: cargo xtask guest [--only SUBSTR] [--jobs N] [--cache DIR] [--domain FILE [--keep-storage KERNEL-PARAMS --name NAME]] [--tcg]");
                return Ok(true);
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    std::fs::create_dir_all(&opts.work).map_err(|e| e.to_string())?;
    let kit = kit::ensure(&opts.cache)?;
    let initrd = opts.work.join("initrd.cpio").canonicalize_or_self();
    initramfs::build(&kit, &initrd)?;

    if let Some(file) = &opts.domain {
        let xml = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
        let keep = opts.keep_storage.as_deref();
        let case = match (&opts.name, keep) {
            (Some(n), Some(_)) => n.as_str(),
            (None, Some(_)) => return Err("--keep-storage needs --name (the domain name to boot under)".into()),
            _ => "adhoc",
        };
        let out = vm::boot_with(case, &xml, &kit, &initrd, &opts.work, 6, cases::BOOT_TIMEOUT, keep, opts.kvm)?;
        println!("{}", out.serial_log);
        println!("{:#?}\nboot took {:.1}s", facts::parse(&out.serial_log), out.elapsed.as_secs_f64());
        return Ok(true);
    }
    cases::run_all(&root, &target, &kit, &initrd, &opts)
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

trait CanonicalizeOrSelf {
    fn canonicalize_or_self(self) -> PathBuf;
}

impl CanonicalizeOrSelf for PathBuf {
    /// libvirt needs absolute paths; the file itself may not exist yet.
    fn canonicalize_or_self(self) -> PathBuf {
        match (self.parent().and_then(|p| p.canonicalize().ok()), self.file_name()) {
            (Some(dir), Some(name)) => dir.join(name),
            _ => self,
        }
    }
}
