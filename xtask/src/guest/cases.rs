//! The cases: which Proxmox configs to convert and boot, and what to check in each.
//!
//! Two families: entropy-rate cases (one small config per rng0 source and limiter form, with
//! the measured bytes held to what the limiter allows) and what-the-guest-sees cases (real-world
//! fixtures and a sample of Proxmox's own cfg2cmd configs, compared key by key).

use super::expect::{self, rate_bounds, Check};
use super::facts::{self, Facts};
use super::kit::Kit;
use super::table::{self, Row};
use super::{exec, vm, Options};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// TCG boots of this kernel take ~25 s alone; two at a time on a busy 2-core host, longer.
pub const BOOT_TIMEOUT: Duration = Duration::from_secs(240);
/// The entropy measuring window. Long enough that the ±1 period at either end stays small
/// against the total (6 periods of the default limiter), short enough to keep boots cheap.
const ENTROPY_SECS: u32 = 6;
/// Proxmox's limiter default (`rng0`: max_bytes 1024 per period 1000 ms, docs/proxmox-config.md#other-devices).
const DEFAULT_LIMIT: (u64, u64) = (1024, 1000);

/// Proxmox's own test configs (`cfg2cmd`), chosen to cover what the guest can tell apart:
const CORPUS_SAMPLE: &[&str] = &[
    "simple1",                 // i440fx, virtio-scsi disk, empty IDE CD-ROM, one NIC
    "simple-virtio-blk",       // virtio-blk with iothread
    "q35-ide",                 // q35: four IDE CD-ROMs on AHCI, NIC behind the DMI bridge
    "scsihw-lsi",              // default LSI HBA, five LVM disks at sparse indices
    "efi-secboot-and-tpm-q35", // OVMF + efidisk and a TPM
];

enum Kind {
    /// `limit`: (max_bytes, period_ms); `None` is `max_bytes=0`, no limiter.
    Rng {
        limit: Option<(u64, u64)>,
    },
    Config,
}

struct Case {
    name: String,
    config: String,
    extra_args: Vec<String>,
    kind: Kind,
    skip: Option<String>,
}

struct Done {
    case: Case,
    facts: Option<Facts>,
    rows: Vec<Check>,
    elapsed: Duration,
}

pub fn run_all(root: &Path, target: &Path, kit: &Kit, initrd: &Path, opts: &Options) -> Result<bool, String> {
    let started = Instant::now();
    let mut cases = rng_cases();
    cases.extend(fixture_cases(root, &opts.work)?);
    cases.extend(corpus_cases(&opts.work)?);
    if let Some(only) = &opts.only {
        cases.retain(|c| c.name.contains(only.as_str()));
    }
    eprintln!("building the converter (cargo build -p pve2virt)");
    exec::output(Command::new(env!("CARGO")).args(["build", "--quiet", "-p", "pve2virt"]).current_dir(root))?;
    let converter = target.join("debug/pve2virt");
    // Proxmox machine versions newer than this host's QEMU are lowered, as a user here would.
    let host_qemu = exec::output(Command::new("qemu-system-x86_64").arg("--version"))
        .ok()
        .and_then(|v| v.split_whitespace().nth(3).map(str::to_owned))
        .and_then(|v| {
            let mut parts = v.split('.');
            Some(format!("{}.{}", parts.next()?, parts.next()?))
        });
    if let Some(version) = &host_qemu {
        for c in &mut cases {
            c.extra_args.extend(["--host-qemu-version".into(), version.clone()]);
        }
    }

    // A guest larger than this host's RAM cannot start here (QEMU's allocation is refused);
    // such a case is reported as skipped, with the reason.
    let host_mib = host_memory_mib();
    for c in &mut cases {
        let conf = expect::parse_config(&c.config);
        let mib = conf
            .get("memory")
            .map(|m| m.split(',').find_map(|p| p.strip_prefix("current=")).unwrap_or(m).to_owned())
            .and_then(|m| m.parse::<u64>().ok())
            .unwrap_or(512);
        if c.skip.is_none() && host_mib.is_some_and(|host| mib > host) {
            c.skip = Some(format!("needs {mib} MiB of RAM; this host has {} MiB", host_mib.unwrap_or_default()));
        }
    }

    // Domains sharing an SMBIOS UUID cannot be defined at the same time (several corpus
    // configs reuse one), so such cases form a group that runs in sequence.
    let mut groups: BTreeMap<String, Vec<Case>> = BTreeMap::new();
    for c in cases {
        let conf = expect::parse_config(&c.config);
        // The /dev/hwrng cases share the host's device: run them one after another, or each
        // would measure only its share of it.
        let shares_host_rng = c.config.contains("source=/dev/hwrng");
        let key = conf
            .get("smbios1")
            .and_then(|s| s.split(',').find_map(|p| p.strip_prefix("uuid=")))
            .map_or_else(|| c.name.clone(), |u| u.to_ascii_lowercase());
        let key = if shares_host_rng { "host /dev/hwrng".to_string() } else { key };
        groups.entry(key).or_default().push(c);
    }
    let host_hwrng = if groups.contains_key("host /dev/hwrng") { host_rng_rate() } else { None };
    let queue = Mutex::new(groups.into_values().collect::<Vec<_>>());
    let done = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..opts.jobs.max(1) {
            s.spawn(|| loop {
                let Some(group) = queue.lock().unwrap().pop() else {
                    break;
                };
                for case in group {
                    let d = run_case(case, &converter, kit, initrd, opts);
                    let verdict = if d.rows.iter().all(|r| r.pass) { "ok" } else { "FAILED" };
                    eprintln!("  {} {verdict} ({:.0}s)", d.case.name, d.elapsed.as_secs_f64());
                    done.lock().unwrap().push(d);
                }
            });
        }
    });
    let mut done = done.into_inner().unwrap();
    done.sort_by(|a, b| a.case.name.cmp(&b.case.name));
    add_unlimited_checks(&mut done, host_hwrng);

    let rows: Vec<Row> =
        done.iter().flat_map(|d| d.rows.iter().map(|c| Row { case: d.case.name.clone(), check: c.clone() })).collect();
    let all_pass = rows.iter().all(|r| r.check.pass);
    let took = started.elapsed().as_secs();
    let preamble = format!(
        "{} cases, {} boots, {} jobs, {}m{:02}s in total; entropy window {ENTROPY_SECS} s; \
         kernel {}.",
        done.len(),
        done.iter().filter(|d| d.facts.is_some()).count(),
        opts.jobs,
        took / 60,
        took % 60,
        kit.kernel.display(),
    );
    print!("{}", table::text(&rows));
    println!("{preamble}");
    let md = target.join(format!("guest-{}.md", crate::target::get().name));
    std::fs::write(&md, table::markdown(&rows, &preamble)).map_err(|e| e.to_string())?;
    eprintln!("wrote {}", md.display());
    Ok(all_pass)
}

fn rng_cases() -> Vec<Case> {
    let hwrng_skip = match std::fs::File::open("/dev/hwrng") {
        Ok(_) => None,
        Err(e) => Some(format!("host /dev/hwrng not usable: {e}")),
    };
    let mut cases = Vec::new();
    for source in ["/dev/urandom", "/dev/random", "/dev/hwrng"] {
        let short = source.trim_start_matches("/dev/");
        for (label, opts, limit) in [
            ("default", "", Some(DEFAULT_LIMIT)),
            ("4096-per-500ms", ",max_bytes=4096,period=500", Some((4096, 500))),
            ("unlimited", ",max_bytes=0", None),
        ] {
            cases.push(Case {
                name: format!("rng-{short}-{label}"),
                config: format!("memory: 256\nostype: l26\nrng0: source={source}{opts}\n"),
                extra_args: vec!["--vmid".into(), "9000".into()],
                kind: Kind::Rng { limit },
                skip: if source == "/dev/hwrng" { hwrng_skip.clone() } else { None },
            });
        }
    }
    cases
}

/// Fixtures that stand for real-world VMs (the rest exercise one parser or mapping corner and
/// add nothing a guest could see): everything under `fixtures/real-world/`, plus these.
const FIXTURE_SAMPLE: &[&str] = &[
    "example/100.conf",              // the README's example: scsi, cdrom, NIC, rng, uuid
    "core/windows-created-9.2.conf", // a Windows guest as created by Proxmox 8.3
    "core/windows-pinned.conf",      // Windows 11 on q35
];

fn fixture_cases(root: &Path, work: &Path) -> Result<Vec<Case>, String> {
    let fixtures = root.join("fixtures");
    let mut files: Vec<PathBuf> = FIXTURE_SAMPLE.iter().map(|f| fixtures.join(f)).filter(|f| f.is_file()).collect();
    collect_confs(&fixtures.join("real-world"), &mut files);
    files.sort();
    files
        .into_iter()
        .map(|f| {
            let stem = f.file_stem().unwrap_or_default().to_string_lossy();
            // A fixture's `.args` (paths relative to fixtures/) as the snapshot tests use them.
            let mut extra_args: Vec<String> = std::fs::read_to_string(f.with_extension("args"))
                .map(|a| a.split_whitespace().map(str::to_owned).collect())
                .unwrap_or_default();
            if !extra_args.iter().any(|a| a == "--vmid") {
                extra_args.extend(["--vmid".into(), "100".into()]);
            }
            if let Some(i) = extra_args.iter().position(|a| a == "--storage-cfg") {
                if let Some(cfg) = extra_args.get_mut(i + 1) {
                    let path = fixtures.join(&*cfg);
                    // Every storage becomes a directory of files: the boot swaps them for
                    // scratch images anyway, and this host has no LVM, Ceph or ZFS.
                    let ids = storage_ids(&std::fs::read_to_string(&path).unwrap_or_default());
                    *cfg = path.to_string_lossy().into_owned();
                    for id in ids {
                        extra_args.push("--map-storage".into());
                        extra_args.push(format!("{id}={}", work.join("storage").join(&id).display()));
                    }
                }
            }
            Ok(Case {
                name: format!("fixture-{stem}"),
                config: std::fs::read_to_string(&f).map_err(|e| format!("{}: {e}", f.display()))?,
                extra_args,
                kind: Kind::Config,
                skip: None,
            })
        })
        .collect()
}

fn collect_confs(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_confs(&p, out);
        } else if p.extension().is_some_and(|x| x == "conf") {
            out.push(p);
        }
    }
}

fn corpus_cases(work: &Path) -> Result<Vec<Case>, String> {
    // The folder holding cfg2cmd/ and storage.cfg (see conformance::default_corpus).
    let Some(corpus) = crate::conformance::corpus_root() else {
        eprintln!("PVE_CORPUS is not set: corpus cases left out");
        return Ok(Vec::new());
    };
    let storage_cfg = corpus.join("storage.cfg");
    let Ok(storage) = std::fs::read_to_string(&storage_cfg) else {
        eprintln!("no corpus at {}: corpus cases left out", corpus.display());
        return Ok(Vec::new());
    };
    let mut cases = Vec::new();
    for name in CORPUS_SAMPLE {
        let file = corpus.join("cfg2cmd").join(format!("{name}.conf"));
        let config = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        let mut extra_args = vec!["--vmid".into(), "8006".into(), "--storage-cfg".into()];
        extra_args.push(storage_cfg.to_string_lossy().into());
        // Every storage becomes a directory of files; the boot redirects them to scratch
        // images anyway, this only keeps the converter from needing LVM, Ceph or iSCSI.
        for id in storage_ids(&storage) {
            let dir = work.join("storage").join(&id);
            extra_args.push("--map-storage".into());
            extra_args.push(format!("{id}={}", dir.display()));
        }
        cases.push(Case { name: format!("corpus-{name}"), config, extra_args, kind: Kind::Config, skip: None });
    }
    Ok(cases)
}

/// `dir: local` → `local`, for each section header of storage.cfg.
fn storage_ids(cfg: &str) -> Vec<String> {
    cfg.lines()
        .filter(|l| !l.starts_with(char::is_whitespace) && !l.starts_with('#'))
        .filter_map(|l| l.split_once(':'))
        .map(|(_, id)| id.trim().to_string())
        .filter(|id| !id.is_empty())
        .collect()
}

fn run_case(case: Case, converter: &Path, kit: &Kit, initrd: &Path, opts: &Options) -> Done {
    let started = Instant::now();
    let mut done = Done { facts: None, rows: Vec::new(), elapsed: Duration::ZERO, case };
    if let Some(reason) = &done.case.skip {
        done.rows.push(Check::new("skipped", "-", reason.clone(), true));
        return done;
    }
    // KVM where it answers; where this host's KVM refuses the domain (no SMM, some Hyper-V
    // features), the same case converted for TCG, and the row says so.
    // A KVM whose guests print nothing (vm::KVM_SILENCE) does so for every case: after the first,
    // the rest go to TCG at once instead of each waiting for it.
    let mut accel = match (opts.kvm, KVM_SILENT.load(Ordering::Relaxed)) {
        (true, false) => Accel::Kvm,
        (true, true) => Accel::TcgAfterKvm("KVM gave an earlier case no console output".into()),
        (false, _) => Accel::Tcg,
    };
    let mut converted = convert(&done.case, converter, &opts.work, &accel);
    let secs = if matches!(done.case.kind, Kind::Rng { .. }) { ENTROPY_SECS } else { 0 };
    let mut first_boot = None;
    if let (Accel::Kvm, Ok(xml)) = (&accel, &converted) {
        match vm::boot(&done.case.name, xml, kit, initrd, &opts.work, secs, BOOT_TIMEOUT, true) {
            Err(e) if e.starts_with(vm::START_FAILED) => {
                if e.contains(vm::KVM_SILENT_MARK) {
                    KVM_SILENT.store(true, Ordering::Relaxed);
                }
                accel = Accel::TcgAfterKvm(one_line(&e));
                converted = convert(&done.case, converter, &opts.work, &accel);
            }
            boot => first_boot = Some(boot),
        }
    }
    done.rows.push(Check::new("accelerator", "KVM, else TCG", accel.to_string(), true));
    match converted {
        Err(e) => done.rows.push(Check::new("converted", "domain XML", one_line(&e), false)),
        Ok(xml) => {
            let kvm = accel == Accel::Kvm;
            // A TCG guest that dies before printing anything (seen once in ~40 boots of a 4-vCPU
            // 8 GiB guest beside another boot) gets one more try; the retry is reported.
            let mut boot = first_boot
                .unwrap_or_else(|| vm::boot(&done.case.name, &xml, kit, initrd, &opts.work, secs, BOOT_TIMEOUT, kvm));
            if let Err(first) = &boot {
                if first.contains("stopped before DONE") {
                    eprintln!("  {}: {first}; booting once more", done.case.name);
                    let retry = vm::boot(&done.case.name, &xml, kit, initrd, &opts.work, secs, BOOT_TIMEOUT, kvm);
                    if retry.is_ok() {
                        done.rows.push(Check::new(
                            "booted",
                            "DONE",
                            format!("DONE on the second try ({})", one_line(first)),
                            true,
                        ));
                    }
                    boot = retry;
                }
            }
            match boot {
                Err(e) => done.rows.push(Check::new("booted", "DONE", one_line(&e), false)),
                Ok(out) => {
                    let f = facts::parse(&out.serial_log);
                    let conf = expect::parse_config(&done.case.config);
                    done.rows.extend(expect::checks(&conf, &f));
                    if let Kind::Rng { limit: Some((max_bytes, period)) } = done.case.kind {
                        done.rows.push(entropy_check(max_bytes, period, &f));
                    }
                    done.facts = Some(f);
                }
            }
        }
    }
    done.elapsed = started.elapsed();
    done
}

/// Set once a KVM boot stayed silent (see `vm::KVM_SILENCE`).
static KVM_SILENT: AtomicBool = AtomicBool::new(false);

/// How QEMU ran a case.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Accel {
    Kvm,
    Tcg,
    /// KVM refused the domain (why); TCG ran it.
    TcgAfterKvm(String),
}

impl std::fmt::Display for Accel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Accel::Kvm => f.write_str("KVM"),
            Accel::Tcg => f.write_str("TCG"),
            Accel::TcgAfterKvm(why) => write!(f, "TCG ({why})"),
        }
    }
}

fn convert(case: &Case, converter: &Path, work: &Path, accel: &Accel) -> Result<String, String> {
    let domain_type = if *accel == Accel::Kvm { "kvm" } else { "qemu" };
    // The boot owns work/<case> (it wipes it first); configs live beside it.
    std::fs::create_dir_all(work.join("configs")).map_err(|e| e.to_string())?;
    let conf = work.join("configs").join(format!("{}.conf", case.name));
    std::fs::write(&conf, &case.config).map_err(|e| e.to_string())?;
    exec::output(
        Command::new(converter).arg("convert").arg(&conf).args(&case.extra_args).args(["--domain-type", domain_type]),
    )
}

fn entropy_check(max_bytes: u64, period: u64, f: &Facts) -> Check {
    let what = format!("entropy: {max_bytes} B/{period} ms");
    let Some(e) = f.entropy else {
        return Check::new(&what, "a measurement", "none", false);
    };
    let (lo, hi) = rate_bounds(max_bytes, period, e.window_ms);
    let expected = format!("{lo}..={hi} B in {} ms", e.window_ms);
    Check::new(&what, expected, format!("{} B", e.bytes), (lo..=hi).contains(&e.bytes))
}

/// Bytes per second the host's /dev/hwrng delivers, read for 2 s before any guest runs. A
/// guest with `source=/dev/hwrng` and no limiter cannot get more than this, and on a host that
/// is itself a VM it can be below 10 × the default limiter.
fn host_rng_rate() -> Option<u64> {
    use std::io::Read;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::Arc;
    let mut dev = std::fs::File::open("/dev/hwrng").ok()?;
    let (count, stop) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicBool::new(false)));
    let (c, st) = (count.clone(), stop.clone());
    // A blocking read cannot be timed out: the reader stops at its next 64-byte chunk.
    std::thread::spawn(move || {
        let mut buf = [0u8; 64];
        while !st.load(Ordering::Relaxed) {
            match dev.read(&mut buf) {
                Ok(n) if n > 0 => c.fetch_add(n as u64, Ordering::Relaxed),
                _ => break,
            };
        }
    });
    std::thread::sleep(Duration::from_secs(2));
    stop.store(true, Ordering::Relaxed);
    let rate = count.load(Ordering::Relaxed) / 2;
    eprintln!("host /dev/hwrng: {rate} B/s");
    Some(rate)
}

/// `max_bytes=0` must mean "no limiter": far above the default limiter from the same source —
/// 10 ×, or for /dev/hwrng at least half of what the host device itself delivers in the window
/// when that is less.
fn add_unlimited_checks(done: &mut [Done], host_hwrng: Option<u64>) {
    let measured = |name: &str, done: &[Done]| {
        done.iter()
            .find(|d| d.case.name == name)
            .and_then(|d| d.facts.as_ref()?.entropy)
            .map(|e| (e.bytes, e.window_ms))
    };
    for i in 0..done.len() {
        if !matches!(done[i].case.kind, Kind::Rng { limit: None }) || done[i].case.skip.is_some() {
            continue;
        }
        let default_name = done[i].case.name.replace("-unlimited", "-default");
        let host_bound = host_hwrng.filter(|_| done[i].case.config.contains("/dev/hwrng"));
        let check = match (measured(&done[i].case.name, done), measured(&default_name, done)) {
            (Some((u, window_ms)), Some((d, _))) => {
                let mut want = 10 * d;
                let mut expected = format!("≥ 10 × {default_name} = {want} B");
                if let Some(rate) = host_bound {
                    let half_host = rate * window_ms / 1000 / 2;
                    if half_host < want {
                        want = half_host;
                        expected = format!("≥ ½ host /dev/hwrng ({rate} B/s) = {want} B");
                    }
                }
                Check::new("entropy: no limiter", expected, format!("{u} B"), u >= want && u > d)
            }
            (u, _) => Check::new(
                "entropy: no limiter",
                format!("≥ 10 × {default_name}"),
                format!("{} B; {default_name}: no measurement", u.map_or(0, |u| u.0)),
                false,
            ),
        };
        done[i].rows.push(check);
    }
}

fn one_line(s: &str) -> String {
    let s = s.replace('\n', " ");
    if s.chars().count() > 160 {
        format!("{}…", s.chars().take(160).collect::<String>())
    } else {
        s
    }
}

/// `MemTotal` of this host, in MiB.
fn host_memory_mib() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib: u64 =
        meminfo.lines().find_map(|l| l.strip_prefix("MemTotal:"))?.split_whitespace().next()?.parse().ok()?;
    Some(kib / 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_ids_from_sections() {
        let cfg = "dir: local\n\tpath /var/lib/vz\n\nrbd: rbd-store\n\tpool cpool\n";
        assert_eq!(storage_ids(cfg), ["local", "rbd-store"]);
    }

    #[test]
    fn nine_rng_cases_with_proxmox_option_forms() {
        let cases = rng_cases();
        assert_eq!(cases.len(), 9);
        assert!(cases.iter().any(|c| c.config.ends_with("rng0: source=/dev/random,max_bytes=0\n")));
        assert!(cases.iter().any(|c| c.config.ends_with("rng0: source=/dev/urandom\n")));
    }

    fn rng_done(name: &str, bytes: u64, limit: Option<(u64, u64)>) -> Done {
        let facts = facts::parse(&format!("FACT entropy.window_ms=6000\nFACT entropy.bytes={bytes}\nDONE\n"));
        Done {
            case: Case {
                name: name.into(),
                config: String::new(),
                extra_args: vec![],
                kind: Kind::Rng { limit },
                skip: None,
            },
            facts: Some(facts),
            rows: vec![],
            elapsed: Duration::ZERO,
        }
    }

    #[test]
    fn unlimited_must_be_far_above_default() {
        let mut done = [
            rng_done("rng-urandom-default", 7104, Some(DEFAULT_LIMIT)),
            rng_done("rng-urandom-unlimited", 1_297_408, None),
            rng_done("rng-random-default", 7104, Some(DEFAULT_LIMIT)),
            rng_done("rng-random-unlimited", 8000, None),
        ];
        add_unlimited_checks(&mut done, None);
        assert!(done[1].rows[0].pass);
        assert!(!done[3].rows[0].pass, "{:?}", done[3].rows);
        assert!(done[0].rows.is_empty());
    }

    #[test]
    fn unlimited_hwrng_is_bounded_by_the_host() {
        let mut a = rng_done("rng-hwrng-default", 7104, Some(DEFAULT_LIMIT));
        let mut b = rng_done("rng-hwrng-unlimited", 58240, None);
        a.case.config = "rng0: source=/dev/hwrng\n".into();
        b.case.config = "rng0: source=/dev/hwrng,max_bytes=0\n".into();
        let mut done = [a, b];
        add_unlimited_checks(&mut done, Some(9700));
        assert!(done[1].rows[0].pass, "{:?}", done[1].rows);
        assert!(done[1].rows[0].expected.contains("host"));
    }

    #[test]
    fn entropy_check_uses_the_window() {
        let f = facts::parse("FACT entropy.window_ms=6000\nFACT entropy.bytes=7104\nDONE\n");
        assert!(entropy_check(1024, 1000, &f).pass);
        assert!(!entropy_check(4096, 500, &f).pass);
    }
}
