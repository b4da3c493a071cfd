//! The fixture gate: libvirt's real QEMU driver judges every project fixture.
//!
//! Every fixture that converts must be valid and define on the target. It must also start, unless
//! the reason it cannot is a limit of this host, listed in one reviewed allow-list
//! ([`FILE`]): each entry names the fixture, one of a few host reasons ([`Reason`]), and what the
//! host lacks. The start failure must then say something that reason explains (a fixture listed
//! for a missing GPU that fails on a bad disk path still fails). A listed fixture that starts is
//! reported as stale, so the list shrinks as hosts get better.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use super::{CaseKind, CaseResult, Stage};

/// The allow-list, relative to the repository root.
pub const FILE: &str = "fixtures/host-limits.txt";

/// Why a host may be unable to start a correct domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// virgl / `<gl>` needs a DRM render node (`/dev/dri/renderD*`).
    GlRenderNode,
    /// A host PCI or USB device (hostpci, usbN: host=…) this machine does not have.
    HostDevice,
    /// More guest memory than this host has.
    Memory,
    /// Host NUMA nodes or CPUs this machine does not have (cpuset, affinity, numa nodes), or a
    /// CPU feature it lacks (invariant TSC).
    HostNumaOrCpus,
    /// A host serial or parallel device (`/dev/ttyS1`, `/dev/parport0`).
    HostSerial,
    /// A host network facility this machine lacks (the `sfq` qdisc that libvirt's bandwidth limits
    /// need, Open vSwitch).
    HostNetwork,
}

impl Reason {
    const ALL: [(Reason, &'static str); 6] = [
        (Reason::GlRenderNode, "gl-render-node"),
        (Reason::HostDevice, "host-device"),
        (Reason::Memory, "memory"),
        (Reason::HostNumaOrCpus, "host-numa-cpus"),
        (Reason::HostSerial, "host-serial"),
        (Reason::HostNetwork, "host-network"),
    ];

    fn parse(s: &str) -> Option<Reason> {
        Reason::ALL.iter().find(|(_, name)| *name == s).map(|(r, _)| *r)
    }

    fn name(self) -> &'static str {
        Reason::ALL.iter().find(|(r, _)| *r == self).map(|(_, n)| *n).unwrap_or("?")
    }

    /// Words one of which a start failure for this reason contains (case-insensitive).
    fn evidence(self) -> &'static [&'static str] {
        match self {
            Reason::GlRenderNode => &["render", "/dev/dri", "egl", "opengl", "-gl"],
            Reason::HostDevice => &["hostdev", "vfio", "pci", "usb"],
            Reason::Memory => &["memory", "cannot allocate", "phys-bits too low"],
            Reason::HostNumaOrCpus => &["numa", "cpuset", "cpu", "affinity", "node", "invariant tsc"],
            Reason::HostSerial => &["/dev/tty", "/dev/parport", "serial", "parallel", "chardev"],
            Reason::HostNetwork => &["qdisc", "tc ", "bandwidth", "sfq", "ovs bridge", "openvswitch"],
        }
    }

    fn explains(self, failure: &str) -> bool {
        let failure = failure.to_lowercase();
        self.evidence().iter().any(|word| failure.contains(word))
    }
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub reason: Reason,
    pub why: String,
}

/// Reads the allow-list: `<fixture> <reason> <what the host lacks…>` per line, `#` comments.
pub fn load(path: &Path) -> Result<BTreeMap<String, Entry>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn parse(text: &str) -> Result<BTreeMap<String, Entry>, String> {
    let mut entries = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let mut words = line.split_whitespace();
        let (fixture, reason) = (words.next(), words.next());
        let why = words.collect::<Vec<_>>().join(" ");
        let (Some(fixture), Some(reason), false) = (fixture, reason, why.is_empty()) else {
            return Err(format!("line {}: want `<fixture> <reason> <what the host lacks>`", n + 1));
        };
        let reason = Reason::parse(reason).ok_or_else(|| {
            let known: Vec<&str> = Reason::ALL.iter().map(|(_, n)| *n).collect();
            format!("line {}: unknown reason `{reason}` (one of {})", n + 1, known.join(", "))
        })?;
        let entry = Entry { reason, why };
        if entries.insert(fixture.to_owned(), entry).is_some() {
            return Err(format!("line {}: {fixture} is listed twice", n + 1));
        }
    }
    Ok(entries)
}

/// A fixture the real driver refused for a reason that is not a listed host limit.
#[derive(Debug, Clone)]
pub struct Failure {
    pub fixture: String,
    pub stage: &'static str,
    pub why: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "fixture {} does not {} on the real driver: {}", self.fixture, self.stage, self.why)
    }
}

#[derive(Debug, Default)]
pub struct Gate {
    pub failures: Vec<Failure>,
    /// Fixtures whose start failed for their listed host reason: (fixture, reason, what lacks).
    pub allowed: Vec<(String, &'static str, String)>,
    /// Listed fixtures that started anyway (the entry may go).
    pub stale: Vec<String>,
    pub fixtures: usize,
    pub defined: usize,
    pub started: usize,
    pub define_only: usize,
}

pub fn judge(results: &[CaseResult], allow: &BTreeMap<String, Entry>) -> Gate {
    let mut gate = Gate::default();
    for r in results.iter().filter(|r| r.kind == CaseKind::Fixture) {
        // Fixtures that pin an error (fixtures/errors, hostile input) do not convert: nothing to judge.
        if !r.converted.ok() {
            continue;
        }
        gate.fixtures += 1;
        let fail = |stage, why: &str| Failure { fixture: r.name.clone(), stage, why: why.to_owned() };
        if let Stage::No(why) = &r.valid {
            gate.failures.push(fail("validate", why));
        }
        match &r.defined {
            Stage::Yes => gate.defined += 1,
            Stage::No(why) => {
                gate.failures.push(fail("define", why));
                continue;
            }
            _ => continue,
        }
        let listed = allow.get(&r.name);
        match (&r.started, listed) {
            (Stage::Yes, None) => gate.started += 1,
            (Stage::Yes, Some(_)) => {
                gate.started += 1;
                gate.stale.push(r.name.clone());
            }
            (Stage::DefineOnly(_), _) => gate.define_only += 1,
            (Stage::No(why), Some(entry)) if entry.reason.explains(why) => {
                gate.allowed.push((r.name.clone(), entry.reason.name(), entry.why.clone()));
            }
            (Stage::No(why), Some(entry)) => gate.failures.push(fail(
                "start",
                &format!("{why} (listed for {}, which does not explain this failure)", entry.reason.name()),
            )),
            (Stage::No(why), None) => gate.failures.push(fail("start", why)),
            _ => {}
        }
    }
    gate
}

#[cfg(test)]
mod tests {
    use super::super::Virt;
    use super::*;

    fn fixture(name: &str, started: Stage) -> CaseResult {
        let mut r = CaseResult::new(name, CaseKind::Fixture, Virt::Tcg);
        r.converted = Stage::Yes;
        r.valid = Stage::Yes;
        r.defined = Stage::Yes;
        r.started = started;
        r
    }

    #[test]
    fn only_listed_host_reasons_excuse_a_start() {
        let allow =
            parse("# comment\nfixtures/gpu memory 64 GiB guest on a 24 GiB host\nfixtures/gl gl-render-node no GPU\n")
                .unwrap();
        let results = vec![
            fixture("fixtures/gpu", Stage::No("cannot set up guest memory 'pc.ram': Cannot allocate memory".into())),
            fixture("fixtures/gl", Stage::No("unable to open /tmp/x.qcow2: No such file".into())),
            fixture("fixtures/other", Stage::No("Spice audio is not supported without spice graphics".into())),
            fixture("fixtures/fine", Stage::Yes),
        ];
        let gate = judge(&results, &allow);
        assert_eq!(gate.allowed.len(), 1);
        let failed: Vec<&str> = gate.failures.iter().map(|f| f.fixture.as_str()).collect();
        assert_eq!(failed, ["fixtures/gl", "fixtures/other"]);
        assert_eq!(gate.started, 1);
    }

    #[test]
    fn a_define_failure_always_fails() {
        let mut r = fixture("fixtures/x", Stage::NotReached);
        r.defined = Stage::No("unsupported configuration".into());
        let allow = parse("fixtures/x memory big\n").unwrap();
        assert_eq!(judge(&[r], &allow).failures.len(), 1);
    }

    #[test]
    fn the_list_is_checked() {
        assert!(parse("fixtures/x because-i-said-so it fails\n").is_err());
        assert!(parse("fixtures/x memory\n").is_err());
        assert!(parse("fixtures/x memory a\nfixtures/x memory b\n").is_err());
    }

    #[test]
    fn the_repository_list_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(FILE);
        let entries = load(&path).unwrap();
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        for name in entries.keys() {
            assert!(fixtures.join(format!("{name}.conf")).is_file(), "{FILE} lists {name}, which is not a fixture");
        }
    }
}
