//! Random *valid* configs through the library: no panic, every key accounted for, the XML
//! well-formed with the description intact, and (for a sample) valid by libvirt's schema.
//! Bounded: 256 cases, each a millisecond-scale conversion; 10 schema validations per run.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::Config;

use pve2virt::{convert, Options};

const MACHINES: &[&str] = &[
    "pc",
    "q35",
    "pc-i440fx-8.1",
    "pc-q35-7.2",
    "pc-q35-9.2+pve1",
    "pc-i440fx-5.1",
    "type=q35,viommu=virtio",
    "type=pc-q35-8.0,viommu=intel",
];
const OSTYPES: &[&str] =
    &["other", "wxp", "w2k", "w2k3", "w2k8", "wvista", "win7", "win8", "win10", "win11", "l24", "l26", "solaris"];
const CPUS: &[&str] = &[
    "kvm64",
    "qemu64",
    "host",
    "max",
    "x86-64-v2-AES",
    "x86-64-v3",
    "Skylake-Server",
    "EPYC",
    "cputype=host,flags=+aes;-pcid",
    "kvm64,hidden=1",
];
const NET_MODELS: &[&str] = &["virtio", "e1000", "rtl8139", "vmxnet3", "e1000e"];
const RNG_SOURCES: &[&str] = &["/dev/urandom", "/dev/random", "/dev/hwrng"];

fn rng0() -> impl Strategy<Value = String> {
    (select(RNG_SOURCES), any::<bool>(), proptest::option::of(0u32..100_000), proptest::option::of(1u32..10_000))
        .prop_map(|(source, named, max_bytes, period)| {
            let mut s = if named { format!("source={source}") } else { source.to_owned() };
            if let Some(m) = max_bytes {
                s.push_str(&format!(",max_bytes={m}"));
            }
            if let Some(p) = period {
                s.push_str(&format!(",period={p}"));
            }
            s
        })
}

fn net() -> impl Strategy<Value = String> {
    (select(NET_MODELS), any::<[u8; 3]>(), proptest::option::of(1u16..4095), any::<bool>()).prop_map(
        |(model, mac, tag, firewall)| {
            let mut s = format!("{model}=BC:24:11:{:02X}:{:02X}:{:02X},bridge=vmbr0", mac[0], mac[1], mac[2]);
            if let Some(t) = tag {
                s.push_str(&format!(",tag={t}"));
            }
            if firewall {
                s.push_str(",firewall=1");
            }
            s
        },
    )
}

fn scsi(index: usize) -> impl Strategy<Value = String> {
    (1u32..2048, any::<bool>(), any::<bool>()).prop_map(move |(size, discard, ssd)| {
        let mut s = format!("local-lvm:vm-100-disk-{index},size={size}G");
        if discard {
            s.push_str(",discard=on");
        }
        if ssd {
            s.push_str(",ssd=1");
        }
        s
    })
}

/// A `#` line: any text XML can carry, with the markup characters made likely.
fn description_line() -> impl Strategy<Value = String> {
    let specials = select(vec!["<", ">", "&", "'", "\"", "]]>", "<![CDATA[", "&amp;", "%3C", "%26", "</description>"]);
    let chunk = prop_oneof![
        specials.prop_map(str::to_owned),
        "[ -~]{0,8}",
        any::<char>()
            .prop_filter("XML chars only", |&c| pve2virt::libvirt::write::is_xml_char(c)
                && c != '\n'
                && c != '\r'
                && c != '%')
            .prop_map(String::from),
    ];
    proptest::collection::vec(chunk, 0..8).prop_map(|parts| parts.concat())
}

/// One config as (key, value) lines plus `#` lines.
fn config() -> impl Strategy<Value = (Vec<String>, Vec<(String, String)>)> {
    let topology = (1u32..=8, 1u32..=4, any::<bool>()).prop_flat_map(|(cores, sockets, with_vcpus)| {
        (
            Just(cores),
            Just(sockets),
            if with_vcpus { (1..=cores * sockets).prop_map(Some).boxed() } else { Just(None).boxed() },
        )
    });
    (
        proptest::collection::vec(description_line(), 0..4),
        proptest::option::of(16u32..=65536),
        topology,
        proptest::option::of("[a-z][a-z0-9]{0,10}(-[a-z0-9]{1,5})?(\\.[a-z]{2,5})?"),
        proptest::option::of(rng0()),
        proptest::option::of(select(MACHINES)),
        proptest::option::of(select(OSTYPES)),
        proptest::option::of(select(CPUS)),
        proptest::collection::vec(net(), 0..3),
        proptest::collection::vec(any::<bool>(), 0..3),
        proptest::option::of(select(vec![
            "none,media=cdrom",
            "local:iso/debian-12.iso,media=cdrom",
            "cdrom,media=cdrom",
        ])),
        any::<bool>(),
    )
        .prop_flat_map(
            |(desc, memory, (cores, sockets, vcpus), name, rng, machine, ostype, cpu, nets, disks, ide2, smp)| {
                let disks = disks.iter().enumerate().map(|(i, _)| scsi(i)).collect::<Vec<_>>();
                (
                    Just(desc),
                    Just((memory, cores, sockets, vcpus, name, rng, machine, ostype, cpu, nets, ide2, smp)),
                    disks,
                )
            },
        )
        .prop_map(
            |(desc, (memory, cores, sockets, vcpus, name, rng, machine, ostype, cpu, nets, ide2, smp), disks)| {
                let mut keys: Vec<(String, String)> = Vec::new();
                if let Some(m) = memory {
                    keys.push(("memory".into(), m.to_string()));
                }
                if smp {
                    keys.push(("cores".into(), cores.to_string()));
                    keys.push(("sockets".into(), sockets.to_string()));
                    if let Some(v) = vcpus {
                        keys.push(("vcpus".into(), v.to_string()));
                    }
                }
                let optional = [
                    ("name", name),
                    ("rng0", rng),
                    ("machine", machine.map(str::to_owned)),
                    ("ostype", ostype.map(str::to_owned)),
                    ("cpu", cpu.map(str::to_owned)),
                    ("ide2", ide2.map(str::to_owned)),
                ];
                for (k, v) in optional {
                    if let Some(v) = v {
                        keys.push((k.into(), v));
                    }
                }
                for (i, n) in nets.into_iter().enumerate() {
                    keys.push((format!("net{i}"), n));
                }
                for (i, d) in disks.into_iter().enumerate() {
                    keys.push((format!("scsi{i}"), d));
                }
                (desc, keys)
            },
        )
}

fn render(desc: &[String], keys: &[(String, String)]) -> String {
    let mut text: String = desc.iter().map(|l| format!("#{l}\n")).collect();
    for (k, v) in keys {
        text.push_str(&format!("{k}: {v}\n"));
    }
    text
}

/// The text of `<description>`, read back through the libvirt model, which must also write the
/// document out byte for byte again; panics when the XML is not well-formed.
fn parsed_description(xml: &str) -> Option<String> {
    assert_well_formed(xml);
    let domain = pve2virt::libvirt::from_xml(xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    assert_eq!(pve2virt::libvirt::to_xml(&domain).unwrap(), xml, "the model does not round-trip");
    domain.description
}

/// One closed root element and nothing but elements and text. The model's reader is lenient
/// (it skips what it does not carry), so this stays an event scan.
fn assert_well_formed(xml: &str) {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let (mut depth, mut roots) = (0usize, 0);
    loop {
        match reader.read_event().unwrap_or_else(|e| panic!("not well-formed: {e}\n{xml}")) {
            Event::Start(_) => {
                if depth == 0 {
                    roots += 1;
                }
                depth += 1;
            }
            Event::Empty(_) if depth == 0 => roots += 1,
            Event::End(_) => depth -= 1,
            Event::CData(_) | Event::DocType(_) | Event::PI(_) | Event::Comment(_) => panic!("unexpected node\n{xml}"),
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!((depth, roots), (0, 1), "one closed root element\n{xml}");
}

static VALIDATED: AtomicUsize = AtomicUsize::new(0);
const VALIDATE_SAMPLE: usize = 10;

fn validate_with_libvirt(xml: &str) {
    if VALIDATED.fetch_add(1, Ordering::SeqCst) >= VALIDATE_SAMPLE {
        return;
    }
    if common::libvirt_tools_or_skip("random_valid_configs_convert (virt-xml-validate sample)").is_none() {
        return;
    }
    let n = VALIDATED.load(Ordering::SeqCst);
    let scratch = std::env::temp_dir().join(format!("pve2virt-prop-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    let problems = common::libvirt_judge(xml, &scratch, "prop");
    let _ = std::fs::remove_dir_all(&scratch);
    assert!(problems.is_empty(), "libvirt rejects:\n{}\n{xml}", problems.join("\n"));
}

proptest! {
    #![proptest_config(Config { cases: 256, failure_persistence: None, ..Config::default() })]

    #[test]
    fn random_valid_configs_convert((desc, keys) in config()) {
        let text = render(&desc, &keys);
        let opts = Options { vmid: Some(100), ..Options::default() };
        let result = std::panic::catch_unwind(|| convert(&text, &opts));
        let result = result.unwrap_or_else(|_| panic!("panicked on\n{text}"));
        match result {
            Ok(c) => {
                prop_assert!(c.notes.iter().all(|n| !n.is_error()), "error note in a success: {:?}", c.notes);
                for (key, _) in &keys {
                    let outcome = c.outcomes.iter().find(|o| &o.key == key);
                    prop_assert!(outcome.is_some(), "{key} missing from outcomes\n{text}");
                    let outcome = outcome.unwrap();
                    prop_assert!(!outcome.became.is_empty() || !outcome.notes.is_empty(), "{key} unaccounted\n{text}");
                }
                // The description arrives as Proxmox decodes it (`#` lines percent-decoded,
                // joined, trailing blanks trimmed), whatever markup it holds.
                let file = pve2virt::pve::file::parse(&text).unwrap();
                let expected = file.main.description.map(|d| d.value);
                prop_assert_eq!(parsed_description(&c.xml), expected, "{}", c.xml);
                validate_with_libvirt(&c.xml);
            }
            Err(notes) => {
                prop_assert!(notes.iter().any(|n| n.is_error()), "failure without an error note: {notes:?}");
                // Valid configs convert: the only refusals allowed are description text that XML
                // cannot carry (the generator's characters never are, so this should not happen).
                let unexpected: Vec<_> = notes.iter().filter(|n| n.code != pve2virt::report::code::CONTROL_CHARACTER).collect();
                prop_assert!(unexpected.is_empty(), "a valid config was refused: {unexpected:#?}\n{text}");
            }
        }
    }
}
