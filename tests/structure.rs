//! The shape of the map stage, checked on its source: functions short enough to read as a table,
//! and no Proxmox key named by a string where the typed model has a name for it.

use std::path::{Path, PathBuf};

/// No function of `src/map/` is longer than this many lines (its `fn` line to its closing brace,
/// as `cargo fmt` writes it).
const MAX_FUNCTION_LINES: usize = 80;

/// The `.rs` files under `src/map/`, with their text, by path relative to the crate.
fn map_sources() -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|x| x == "rs") {
                out.push(path);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = Vec::new();
    walk(&root.join("src/map"), &mut paths);
    paths.sort();
    let sources: Vec<_> = paths
        .into_iter()
        .map(|p| (p.strip_prefix(root).unwrap().display().to_string(), std::fs::read_to_string(&p).unwrap()))
        .collect();
    assert!(sources.len() > 10, "src/map not found");
    sources
}

/// The functions of `text` longer than `max` lines: (name, first line, length). A function ends
/// at the first line after its `fn` line that is its closing brace at the same indentation.
fn long_functions(text: &str, max: usize) -> Vec<(String, usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut long = Vec::new();
    for (at, line) in lines.iter().enumerate() {
        let body = line.trim_start();
        let indent = &line[..line.len() - body.len()];
        let Some(name) = fn_name(body) else { continue };
        if body.ends_with('}') || body.ends_with(';') {
            continue; // one line, or a declaration without body
        }
        let close = format!("{indent}}}");
        let Some(end) = lines[at + 1..].iter().position(|l| *l == close) else { continue };
        let length = end + 2;
        if length > max {
            long.push((name.to_owned(), at + 1, length));
        }
    }
    long
}

/// The name of the function a line declares, if it does (`pub(super) fn disk<'a>(` → `disk`).
fn fn_name(line: &str) -> Option<&str> {
    let mut rest = line;
    for prefix in ["pub(crate) ", "pub(super) ", "pub ", "const ", "async ", "unsafe "] {
        rest = rest.strip_prefix(prefix).unwrap_or(rest);
    }
    let rest = rest.strip_prefix("fn ")?;
    let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_'))?;
    Some(&rest[..end])
}

#[test]
fn no_map_function_is_longer_than_a_screen() {
    let mut long = Vec::new();
    for (file, text) in map_sources() {
        for (name, line, length) in long_functions(&text, MAX_FUNCTION_LINES) {
            long.push(format!("{file}:{line}: {name} has {length} lines"));
        }
    }
    assert!(long.is_empty(), "split these along what they translate:\n{}", long.join("\n"));
}

#[test]
fn the_length_check_sees_a_long_function() {
    let body = "    let x = 1;\n".repeat(MAX_FUNCTION_LINES);
    let text = format!("/// doc\npub(super) fn long<'a>(ctx: &mut Ctx<'a>) {{\n{body}}}\n\nfn short() {{}}\n");
    assert_eq!(long_functions(&text, MAX_FUNCTION_LINES), [("long".to_owned(), 2, MAX_FUNCTION_LINES + 2)]);
    let nested = format!("impl X {{\n    fn inner(&self) {{\n{body}    }}\n}}\n");
    assert_eq!(long_functions(&nested, MAX_FUNCTION_LINES), [("inner".to_owned(), 2, MAX_FUNCTION_LINES + 2)]);
}

/// String literals in the map that are spelt like a Proxmox key but are something else: libvirt
/// or QEMU names that happen to match. Anything else spelt like a key must be `Key::…` or a typed
/// accessor, so that a misspelling is a compile error.
const NOT_KEYS: &[(&str, &str, &str)] = &[
    ("src/map/args.rs", "*", "QEMU's own option names (`-cpu`, `-machine`, `name=`, `kvm=`)"),
    ("src/map/order.rs", "*", "family names"),
    ("src/map/cpu.rs", "cpu", "libvirt's element path `cpu`"),
    ("src/map/identity.rs", "name", "libvirt's element path `name`"),
    ("src/map/memory.rs", "memory", "libvirt's element path `memory`"),
    ("src/map/devices.rs", "vga", "libvirt's video model `vga`"),
    ("src/map/disk.rs", "cdrom", "a drive's `file=cdrom` value, and libvirt's device `cdrom`"),
    ("src/map/disk/volume.rs", "cdrom", "a drive's `file=cdrom` value"),
    ("src/map/machine.rs", "kvm", "libvirt's domain type `kvm`"),
    ("src/map/machine.rs", "localtime", "libvirt's clock offset `localtime`"),
    ("src/map/usb.rs", "tablet", "libvirt's input type `tablet`"),
    ("src/map/x86_features.rs", "acpi", "a CPU feature flag"),
];

/// Every string literal of `line` outside a comment.
fn literals(line: &str) -> Vec<&str> {
    let code = match line.find("//") {
        Some(at) if !line[..at].contains('"') => &line[..at],
        _ => line,
    };
    code.split('"').skip(1).step_by(2).collect()
}

#[test]
fn map_names_no_key_by_string() {
    let mut found = Vec::new();
    for (file, text) in map_sources() {
        let code = text.split("\n#[cfg(test)]").next().unwrap();
        for (n, line) in code.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            for lit in literals(line) {
                let is_key = pve2virt::pve::schema::lookup(lit).is_some();
                let allowed = NOT_KEYS.iter().any(|(f, l, _)| *f == file && (*l == "*" || *l == lit));
                if is_key && !allowed {
                    found.push(format!("{file}:{}: \"{lit}\" in `{}`", n + 1, line.trim()));
                }
            }
        }
    }
    assert!(found.is_empty(), "Proxmox keys named by a string in src/map (use Key::…):\n{}", found.join("\n"));
}

/// The map reads Proxmox values through the typed model (`vm.keys()`, the `pve_format!` views,
/// `VmConfig`'s defaults), never by name: a misspelt name would be a silent `None`.
#[test]
fn map_reads_no_value_by_name() {
    let mut found = Vec::new();
    for (file, text) in map_sources() {
        for (n, line) in text.lines().enumerate() {
            for read in [
                ".str(\"",
                ".bool(\"",
                ".int(\"",
                ".number(\"",
                ".size(\"",
                ".text(\"",
                ".props(\"",
                ".scalar(\"",
                ".indexed(\"",
                ".flag(\"",
                ".span_of(\"",
                "vm.get(\"",
                // Reads through a name held in a variable are by name too.
                "vm.text(",
                "vm.props(",
                "vm.scalar(",
                "vm.bool(",
                "vm.int(",
                "vm.number(",
                "vm.indexed(",
            ] {
                if line.contains(read) {
                    found.push(format!("{file}:{}: {}", n + 1, line.trim()));
                }
            }
        }
    }
    assert!(found.is_empty(), "string-keyed reads in src/map:\n{}", found.join("\n"));
}
