//! The Proxmox side: `X.conf.cmd` (what `qm showcmd` printed for `X.conf` in
//! Proxmox's own test suite) and the few settings of `X.conf` that never reach
//! the QEMU command line.

use std::collections::BTreeMap;
use std::path::Path;

use super::qemu_args::QemuArgs;

/// Everything known about how Proxmox runs one config.
#[derive(Debug, Clone)]
pub struct ProxmoxRun {
    pub args: QemuArgs,
    /// Top-level keys of the config (the current section only).
    pub conf: BTreeMap<String, String>,
}

impl ProxmoxRun {
    pub fn load(conf_path: &Path) -> std::io::Result<Option<Self>> {
        let cmd_path = conf_path.with_extension("conf.cmd");
        if !cmd_path.exists() {
            return Ok(None);
        }
        let cmd = std::fs::read_to_string(&cmd_path)?;
        let conf = std::fs::read_to_string(conf_path)?;
        Ok(Some(Self::parse(&cmd, &conf)))
    }

    pub fn parse(cmd: &str, conf: &str) -> Self {
        let mut args = QemuArgs::from_argv(&shell_words(cmd));
        if let Some(cfg) = args.first("readconfig").map(str::to_owned) {
            args.options.extend(readconfig_devices(&cfg));
        }
        ProxmoxRun { args, conf: parse_conf(conf) }
    }

    pub fn conf(&self, key: &str) -> Option<&str> {
        self.conf.get(key).map(String::as_str)
    }
}

/// Splits a POSIX shell command as Proxmox prints it: one option per line,
/// continued with `\`, values in single quotes. Handles the general quoting
/// rules (single, double, backslash) rather than relying on that layout.
pub fn shell_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('\n') | None => {}
                Some(escaped) => {
                    word.push(escaped);
                    in_word = true;
                }
            },
            '\'' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    word.push(q);
                }
            }
            '"' => {
                in_word = true;
                while let Some(q) = chars.next() {
                    match q {
                        '"' => break,
                        '\\' if matches!(chars.peek(), Some('"' | '\\' | '$' | '`')) => {
                            word.extend(chars.next());
                        }
                        _ => word.push(q),
                    }
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// Top-level `key: value` lines of a Proxmox config, up to the first
/// `[snapshot]`/`[PENDING]` section; comment lines (the description) skipped.
pub fn parse_conf(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .take_while(|l| !l.starts_with('['))
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

/// The devices Proxmox's q35 machines get from `-readconfig
/// /usr/share/qemu-server/pve-q35-4.0.cfg` (or the older `pve-q35.cfg`,
/// which differs only in using ioh3420 root ports). They are part of the
/// guest's hardware but absent from the command line, so they are added here
/// as if they had been written as `-device`s.
fn readconfig_devices(path: &str) -> Vec<(String, String)> {
    if !path.contains("pve-q35") {
        return Vec::new();
    }
    let port = if path.ends_with("pve-q35-4.0.cfg") { "pcie-root-port" } else { "ioh3420" };
    let mut devices = vec![
        "ich9-usb-ehci1,id=ehci,multifunction=on,bus=pcie.0,addr=1d.7".to_owned(),
        "ich9-usb-uhci1,id=uhci-1,multifunction=on,bus=pcie.0,addr=1d.0,masterbus=ehci.0,firstport=0".to_owned(),
        "ich9-usb-uhci2,id=uhci-2,multifunction=on,bus=pcie.0,addr=1d.1,masterbus=ehci.0,firstport=2".to_owned(),
        "ich9-usb-uhci3,id=uhci-3,multifunction=on,bus=pcie.0,addr=1d.2,masterbus=ehci.0,firstport=4".to_owned(),
        "ich9-usb-ehci2,id=ehci-2,multifunction=on,bus=pcie.0,addr=1a.7".to_owned(),
        "ich9-usb-uhci4,id=uhci-4,multifunction=on,bus=pcie.0,addr=1a.0,masterbus=ehci-2.0,firstport=0".to_owned(),
        "ich9-usb-uhci5,id=uhci-5,multifunction=on,bus=pcie.0,addr=1a.1,masterbus=ehci-2.0,firstport=2".to_owned(),
        "ich9-usb-uhci6,id=uhci-6,multifunction=on,bus=pcie.0,addr=1a.2,masterbus=ehci-2.0,firstport=4".to_owned(),
        "ich9-intel-hda,id=audio0,bus=pcie.0,addr=1b.0".to_owned(),
        "i82801b11-bridge,id=pcidmi,bus=pcie.0,addr=1e.0".to_owned(),
    ];
    for n in 1..=4 {
        devices.push(format!(
            "{port},id=ich9-pcie-port-{n},multifunction=on,bus=pcie.0,addr=1c.{},port={n},chassis={n}",
            n - 1
        ));
    }
    for n in 0..4 {
        devices.push(format!("pci-bridge,id=pci.{n},bus=pcidmi,addr={}.0,chassis_nr={}", n + 1, n + 1));
    }
    devices.into_iter().map(|d| ("device".to_owned(), d)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::corpus_dir_for_tests;

    #[test]
    fn shell_quoting() {
        let words = shell_words("/usr/bin/kvm \\\n  -name 'a b' \\\n  -x \"c\\\"d\" e\\ f");
        assert_eq!(words, ["/usr/bin/kvm", "-name", "a b", "-x", "c\"d", "e f"]);
    }

    #[test]
    fn simple1_from_the_corpus() {
        let Some(dir) = corpus_dir_for_tests() else {
            return;
        };
        let run = ProxmoxRun::load(&dir.join("simple1.conf")).unwrap().unwrap();
        assert_eq!(run.args.first("m"), Some("768"));
        assert_eq!(run.args.first("smp"), Some("3,sockets=1,cores=3,maxcpus=3"));
        assert_eq!(run.args.first("daemonize"), Some(""));
        let net = run.args.devices().into_iter().find(|d| d.driver == "virtio-net-pci").unwrap();
        assert_eq!(net.get("mac"), Some("A2:C0:43:77:08:A0"));
        assert_eq!(net.get("addr"), Some("0x12"));
        let nodes = run.args.block_nodes();
        assert_eq!(nodes["drive-scsi0"]["driver"], "throttle");
        assert_eq!(run.conf("scsihw"), Some("virtio-scsi-pci"));
    }

    #[test]
    fn legacy_drive_syntax_and_q35_readconfig() {
        let Some(dir) = corpus_dir_for_tests() else {
            return;
        };
        let run = ProxmoxRun::load(&dir.join("q35-ide.conf")).unwrap().unwrap();
        let devices = run.args.devices();
        assert!(devices.iter().any(|d| d.id() == Some("pcidmi")));
        assert!(devices.iter().any(|d| d.id() == Some("pci.3")));
        let run = ProxmoxRun::load(&dir.join("efi-raw-old.conf")).unwrap().unwrap();
        let drives = run.args.drives();
        assert_eq!(drives["drive-efidisk0"]["if"], "pflash");
    }
}
