//! `args:`, raw QEMU options, read the way Proxmox and QEMU read them: Proxmox splits the value
//! into words like Perl's `Text::ParseWords::shellwords` (QemuServer.pm `config_to_command`,
//! `PVE::Tools::split_args`) and appends them to its own command line; QEMU then takes each
//! `-option` with its argument (qemu-options.hx: the options without `HAS_ARG`), and most
//! arguments are QemuOpts lists (`util/qemu-option.c` `opts_do_parse`: `key=value,key2=value2`,
//! `,,` for a literal comma, an implied first key for some options).
//!
//! Every piece keeps its byte span in the config text, so a note can point at one option.

use crate::report::Span;

/// One word of the value after shell splitting.
#[derive(Debug, Clone, PartialEq)]
pub struct Word {
    pub text: String,
    pub span: Span,
    /// The word is its source text as written (no quotes, no escapes): offsets into `text` are
    /// offsets into the config.
    pub verbatim: bool,
}

/// Splits like `Text::ParseWords::shellwords`: blanks separate, single and double quotes group,
/// a backslash escapes the next character (inside double quotes too). `base` is the value's
/// offset in the config text. `Err(offset)` points at an unterminated quote or trailing backslash.
pub fn shell_words(s: &str, base: usize) -> Result<Vec<Word>, usize> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut start = None;
    let mut verbatim = true;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                start.get_or_insert(i);
                verbatim = false;
                let (_, next) = chars.next().ok_or(base + i)?;
                word.push(next);
            }
            '\'' | '"' => {
                start.get_or_insert(i);
                verbatim = false;
                loop {
                    let (_, q) = chars.next().ok_or(base + i)?;
                    match q {
                        q if q == c => break,
                        '\\' if c == '"' => word.push(chars.next().ok_or(base + i)?.1),
                        other => word.push(other),
                    }
                }
            }
            c if c.is_whitespace() => {
                if let Some(st) = start.take() {
                    words.push(Word { text: std::mem::take(&mut word), span: Span::new(base + st, i - st), verbatim });
                    verbatim = true;
                }
            }
            c => {
                start.get_or_insert(i);
                word.push(c);
            }
        }
    }
    if let Some(st) = start {
        words.push(Word { text: word, span: Span::new(base + st, s.len() - st), verbatim });
    }
    Ok(words)
}

/// QEMU 7.2 options that take no argument (qemu-options.hx entries without `HAS_ARG`).
const NO_ARGUMENT: &[&str] = &[
    "S",
    "s",
    "snapshot",
    "nographic",
    "no-hpet",
    "no-acpi",
    "no-reboot",
    "no-shutdown",
    "enable-kvm",
    "no-kvm",
    "nodefaults",
    "no-user-config",
    "nodefconfig",
    "daemonize",
    "full-screen",
    "win2k-hack",
    "rtc-td-hack",
    "no-fd-bootchk",
    "usb",
    "enable-fips",
    "only-migratable",
    "alt-grab",
    "ctrl-grab",
    "no-frame",
    "no-quit",
    "semihosting",
    "preconfig",
    "singlestep",
    "mem-prealloc",
    "no-kvm-pit-reinjection",
    "no-kvm-irqchip",
    "portrait",
    "old-param",
    "xen-attach",
    "h",
    "help",
    "version",
];

/// One QEMU option: `-name` and its argument, if it takes one.
#[derive(Debug, Clone, PartialEq)]
pub struct QemuOption {
    /// Without the leading dashes (QEMU accepts `-x` and `--x` alike). Empty for a word that is
    /// not an option (QEMU reads it as a disk image).
    pub name: String,
    pub flag: Word,
    pub arg: Option<Word>,
}

impl QemuOption {
    /// From the option through its argument.
    pub fn span(&self) -> Span {
        match &self.arg {
            Some(arg) => self.flag.span.to(arg.span),
            None => self.flag.span,
        }
    }
    /// The words as QEMU receives them.
    pub fn words(&self) -> Vec<String> {
        std::iter::once(self.flag.text.clone()).chain(self.arg.iter().map(|a| a.text.clone())).collect()
    }
    pub fn arg_text(&self) -> &str {
        self.arg.as_ref().map_or("", |a| a.text.as_str())
    }
    /// The span of `range` (byte offsets into the argument text), or of the whole argument when
    /// quotes or escapes make the offsets differ from the config's.
    pub fn arg_span(&self, range: (usize, usize)) -> Span {
        match &self.arg {
            Some(arg) if arg.verbatim => Span::new(arg.span.offset + range.0, range.1 - range.0),
            Some(arg) => arg.span,
            None => self.flag.span,
        }
    }
}

/// Whether QEMU's option takes an argument (all but the qemu-options.hx entries without `HAS_ARG`).
pub fn takes_argument(name: &str) -> bool {
    !NO_ARGUMENT.contains(&name)
}

/// Groups the words into options and their arguments, as QEMU's `lookup_opt` does.
pub fn options(words: Vec<Word>) -> Vec<QemuOption> {
    let mut out = Vec::new();
    let mut words = words.into_iter();
    while let Some(flag) = words.next() {
        let Some(name) = flag.text.strip_prefix('-').filter(|n| !n.is_empty()) else {
            out.push(QemuOption { name: String::new(), flag, arg: None });
            continue;
        };
        let name = name.strip_prefix('-').unwrap_or(name).to_owned();
        let arg = if NO_ARGUMENT.contains(&name.as_str()) { None } else { words.next() };
        out.push(QemuOption { name, flag, arg });
    }
    out
}

/// One `key=value` of a QemuOpts list.
#[derive(Debug, Clone, PartialEq)]
pub struct Opt {
    pub key: String,
    pub value: String,
    /// Byte range of the whole `key=value` in the argument text.
    pub range: (usize, usize),
}

/// Parses a QemuOpts list (`util/qemu-option.c` `opts_do_parse` / `get_opt_name_value`): names
/// end at `=` or `,`; values end at a single `,` (`,,` is a literal comma); a first element
/// without `=` is the value of `implied` when the option has one, otherwise a flag (`foo` is
/// `foo=on`, `nofoo` is `foo=off`).
pub fn parse_opts(s: &str, implied: Option<&str>) -> Vec<Opt> {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut pos = 0;
    let mut first = true;
    while pos < bytes.len() {
        let start = pos;
        let name_len = s[pos..].find(['=', ',']).unwrap_or(s.len() - pos);
        let has_value = bytes.get(pos + name_len) == Some(&b'=');
        let (key, value, end) = if !has_value && first && implied.is_some() {
            let (value, end) = opt_value(s, pos);
            (implied.unwrap_or_default().to_owned(), value, end)
        } else if !has_value {
            let name = &s[pos..pos + name_len];
            let (key, value) = match name.strip_prefix("no") {
                Some(rest) if !rest.is_empty() => (rest.to_owned(), "off".to_owned()),
                _ => (name.to_owned(), "on".to_owned()),
            };
            (key, value, pos + name_len)
        } else {
            let (value, end) = opt_value(s, pos + name_len + 1);
            (s[pos..pos + name_len].to_owned(), value, end)
        };
        out.push(Opt { key, value, range: (start, end) });
        first = false;
        // Skip the separating comma.
        pos = end + 1;
    }
    out
}

/// A value from `pos` to the next single comma; returns it unescaped and the offset of its end.
fn opt_value(s: &str, mut pos: usize) -> (String, usize) {
    let bytes = s.as_bytes();
    let mut value = Vec::new();
    while pos < bytes.len() {
        if bytes[pos] == b',' {
            if bytes.get(pos + 1) == Some(&b',') {
                value.push(b',');
                pos += 2;
                continue;
            }
            break;
        }
        value.push(bytes[pos]);
        pos += 1;
    }
    (String::from_utf8_lossy(&value).into_owned(), pos)
}

/// A QEMU size (`qemu_strtosz`): a number with an optional binary suffix B, K, M, G, T, P, E (any
/// case); a bare number is bytes. In bytes.
pub fn parse_size(s: &str) -> Option<u64> {
    let digits = s.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let suffix = &s[digits.len()..];
    let n: u64 = digits.parse().ok()?;
    let shift = match suffix.to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        "P" => 50,
        "E" => 60,
        _ => return None,
    };
    n.checked_mul(1u64 << shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<String> {
        shell_words(s, 0).unwrap().into_iter().map(|w| w.text).collect()
    }

    #[test]
    fn shell_splitting() {
        assert_eq!(
            texts("-global 'kvm-pit.lost_tick_policy=discard' -a \"b c\" d\\ e"),
            ["-global", "kvm-pit.lost_tick_policy=discard", "-a", "b c", "d e"]
        );
        assert_eq!(texts("''"), [""]);
        assert_eq!(shell_words("x 'open", 10), Err(12));
        let words = shell_words("  -a  bc", 6).unwrap();
        assert_eq!(words[1].span, Span::new(12, 2));
        assert!(words[1].verbatim);
        // A quoted part inside a word (osk="…") belongs to the word.
        let words = shell_words("isa-applesmc,osk=\"a b\" x", 0).unwrap();
        assert_eq!(words[0].text, "isa-applesmc,osk=a b");
        assert_eq!(words[0].span, Span::new(0, 22));
        assert!(!words[0].verbatim);
    }

    #[test]
    fn option_grouping() {
        let opts = options(shell_words("-nographic -spice port=1 --device x disk.img -S", 0).unwrap());
        let names: Vec<_> = opts.iter().map(|o| (o.name.as_str(), o.arg_text())).collect();
        assert_eq!(names, [("nographic", ""), ("spice", "port=1"), ("device", "x"), ("", ""), ("S", "")]);
        assert_eq!(opts[1].span(), Span::new(11, 13));
    }

    #[test]
    fn qemu_opts() {
        let opts = parse_opts("ivshmem-plain,memdev=a,,b,bus=pcie.0", Some("driver"));
        let kv: Vec<_> = opts.iter().map(|o| (o.key.as_str(), o.value.as_str(), o.range)).collect();
        assert_eq!(
            kv,
            [("driver", "ivshmem-plain", (0, 13)), ("memdev", "a,b", (14, 25)), ("bus", "pcie.0", (26, 36))]
        );
        let kv: Vec<_> =
            parse_opts("disable-ticketing,noagent-mouse", None).into_iter().map(|o| (o.key, o.value)).collect();
        assert_eq!(kv, [("disable-ticketing".into(), "on".into()), ("agent-mouse".into(), "off".into())]);
        assert!(parse_opts("", None).is_empty());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("32M"), Some(32 << 20));
        assert_eq!(parse_size("64m"), Some(64 << 20));
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(parse_size("1G"), Some(1 << 30));
        assert_eq!(parse_size("1X"), None);
    }
}
