//! A QEMU command line as data, whichever way it was spelled.
//!
//! Proxmox writes options in QEMU's legacy `key=value,key=value` syntax (with
//! `,,` escaping a comma), and nests `-blockdev` chains as JSON objects;
//! libvirt 9.0 writes `-device`, `-object` and `-blockdev` as flat JSON objects
//! whose `file` refers to another node by name. Both are read into the same
//! model here so that fact extraction (`facts.rs`) has one code path.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// A QEMU property bag. Values are kept as text; JSON numbers and booleans
/// become their literal spelling (`1024`, `true`).
pub type Props = BTreeMap<String, String>;

#[derive(Debug, Default, Clone)]
pub struct QemuArgs {
    /// Every `-option value` pair in order; flag options have an empty value.
    pub options: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Device {
    pub driver: String,
    pub props: Props,
}

impl Device {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.props.get(key).map(String::as_str)
    }

    pub fn id(&self) -> Option<&str> {
        self.get("id")
    }
}

impl QemuArgs {
    /// Splits an argv (program first) into `-option value` pairs.
    pub fn from_argv<S: AsRef<str>>(argv: &[S]) -> Self {
        let mut options = Vec::new();
        let mut words = argv.iter().map(AsRef::as_ref).skip(1).peekable();
        while let Some(word) = words.next() {
            let Some(name) = word.strip_prefix('-') else {
                continue; // stray positional (QEMU takes none that matter here)
            };
            // No value in these command lines starts with `-` (CPU flag lists
            // such as `kvm64,-x2apic` are glued to the model name), so a word
            // starting with `-` is always the next option.
            let value = match words.peek() {
                Some(next) if !next.starts_with('-') => words.next().unwrap_or_default().to_owned(),
                _ => String::new(),
            };
            options.push((name.trim_start_matches('-').to_owned(), value));
        }
        QemuArgs { options }
    }

    pub fn values<'a>(&'a self, option: &str) -> impl Iterator<Item = &'a str> + 'a {
        let option = option.to_owned();
        self.options.iter().filter(move |(name, _)| *name == option).map(|(_, value)| value.as_str())
    }

    pub fn first(&self, option: &str) -> Option<&str> {
        self.values(option).next()
    }

    pub fn devices(&self) -> Vec<Device> {
        self.values("device")
            .map(|v| {
                let mut props = parse_props(v, "driver");
                let driver = props.remove("driver").unwrap_or_default();
                Device { driver, props }
            })
            .collect()
    }

    /// `-object`s (qom-type in `qom-type`), JSON or key=value.
    pub fn objects(&self) -> Vec<Props> {
        self.values("object").map(|v| parse_props(v, "qom-type")).collect()
    }

    /// All block nodes by node-name. Nested JSON nodes (Proxmox) are lifted
    /// out and their parent's `file`/`backing` replaced by the child's name,
    /// which is the flat form libvirt uses.
    pub fn block_nodes(&self) -> BTreeMap<String, Map<String, Value>> {
        let mut nodes = BTreeMap::new();
        for value in self.values("blockdev") {
            if let Ok(Value::Object(obj)) = serde_json::from_str::<Value>(value) {
                lift_node(obj, &mut nodes);
            }
        }
        nodes
    }

    /// Legacy `-drive` options by id.
    pub fn drives(&self) -> BTreeMap<String, Props> {
        self.values("drive").map(|v| parse_props(v, "file")).filter_map(|p| Some((p.get("id")?.clone(), p))).collect()
    }
}

fn lift_node(mut obj: Map<String, Value>, nodes: &mut BTreeMap<String, Map<String, Value>>) -> String {
    for link in ["file", "backing"] {
        if let Some(Value::Object(child)) = obj.get(link).cloned() {
            let child_name = lift_node(child, nodes);
            obj.insert(link.to_owned(), Value::String(child_name));
        }
    }
    let name = obj
        .get("node-name")
        .and_then(Value::as_str)
        .map(str::to_owned)
        // Proxmox leaves the file node under `pflash0` unnamed; QEMU would
        // invent a name, so do we (children are lifted first, so unique).
        .unwrap_or_else(|| format!("#anon{}", nodes.len()));
    nodes.insert(name.clone(), obj);
    name
}

/// Parses one option value, JSON (`{…}`) or QEMU key=value. In key=value
/// form a first item without `=` is the `implied` key (`virtio-net-pci,…`
/// is the driver), later items without `=` are flags with an empty value.
pub fn parse_props(value: &str, implied: &str) -> Props {
    if value.trim_start().starts_with('{') {
        if let Ok(Value::Object(obj)) = serde_json::from_str::<Value>(value) {
            return obj.into_iter().map(|(k, v)| (k, json_text(&v))).collect();
        }
    }
    let mut props = Props::new();
    for (i, item) in split_qemu_list(value).into_iter().enumerate() {
        match item.split_once('=') {
            Some((k, v)) => {
                props.insert(k.to_owned(), v.to_owned());
            }
            None if i == 0 => {
                props.insert(implied.to_owned(), item);
            }
            None => {
                props.insert(item, String::new());
            }
        }
    }
    props
}

/// Splits QEMU's comma list, where `,,` stands for a literal comma.
pub fn split_qemu_list(value: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut current = String::new();
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ',' {
            if chars.peek() == Some(&',') {
                chars.next();
                current.push(',');
            } else {
                items.push(std::mem::take(&mut current));
            }
        } else {
            current.push(c);
        }
    }
    if !current.is_empty() || !items.is_empty() {
        items.push(current);
    }
    items
}

pub fn json_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// QEMU spells booleans on/off, true/false, yes/no; compare them as on/off.
pub fn normalize_bool(v: &str) -> &str {
    match v {
        "on" | "true" | "yes" | "" => "on",
        "off" | "false" | "no" => "off",
        other => other,
    }
}

/// Parses a QEMU size (`768`, `768M`, `786432k`, `1G`, bytes as JSON number)
/// into MiB. `default_unit_mib` says whether a bare number is MiB (`-m`) or
/// bytes (`size` of memory backends in JSON).
pub fn size_mib(v: &str, bare_is_mib: bool) -> Option<u64> {
    let v = v.trim();
    let (digits, unit) = v.split_at(v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len()));
    let n: u64 = digits.parse().ok()?;
    let bytes = match unit.to_ascii_lowercase().as_str() {
        "" if bare_is_mib => n << 20,
        "" | "b" => n,
        "k" => n << 10,
        "m" => n << 20,
        "g" => n << 30,
        "t" => n << 40,
        _ => return None,
    };
    Some(bytes >> 20)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_value_with_escaped_comma() {
        let p = parse_props("type=1,manufacturer=A,, Inc,uuid=u", "type");
        assert_eq!(p["manufacturer"], "A, Inc");
        assert_eq!(p["uuid"], "u");
    }

    #[test]
    fn implied_first_key_and_flags() {
        let p = parse_props("kvm64,enforce,+lahf_lm", "model");
        assert_eq!(p["model"], "kvm64");
        assert_eq!(p["enforce"], "");
        assert!(p.contains_key("+lahf_lm"));
    }

    #[test]
    fn json_values_become_text() {
        let p = parse_props(r#"{"driver":"virtio-rng-pci","max-bytes":1024,"mq":true}"#, "driver");
        assert_eq!(p["driver"], "virtio-rng-pci");
        assert_eq!(p["max-bytes"], "1024");
        assert_eq!(p["mq"], "true");
    }

    #[test]
    fn sizes() {
        assert_eq!(size_mib("768", true), Some(768));
        assert_eq!(size_mib("786432k", true), Some(768));
        assert_eq!(size_mib("536870912", false), Some(512));
        assert_eq!(size_mib("2G", true), Some(2048));
    }

    #[test]
    fn nested_blockdev_nodes_are_lifted() {
        let args = QemuArgs::from_argv(&[
            "kvm",
            "-blockdev",
            r#"{"driver":"throttle","node-name":"drive-scsi0","file":{"driver":"raw","node-name":"f","file":{"driver":"file","filename":"/x","node-name":"e"}}}"#,
        ]);
        let nodes = args.block_nodes();
        assert_eq!(nodes.len(), 3);
        assert_eq!(nodes["drive-scsi0"]["file"], "f");
        assert_eq!(nodes["f"]["file"], "e");
    }
}
