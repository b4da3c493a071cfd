//! `firewall/<vmid>.fw` and `firewall/cluster.fw` (pve-firewall `src/PVE/Firewall.pm`,
//! `parse_fw_config`): `[OPTIONS]`, `[ALIASES]`, `[IPSET name]`, `[RULES]`, `[group name]`.

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct FwFile {
    pub options: BTreeMap<String, String>,
    /// Alias name (lower case, as Proxmox compares them) → address or CIDR.
    pub aliases: BTreeMap<String, String>,
    /// IP set name (lower case) → entries, `!` negated ones flagged.
    pub ipsets: BTreeMap<String, Vec<(bool, String)>>,
    pub rules: Vec<FwRule>,
    /// Security groups (cluster.fw), by lower-case name.
    pub groups: BTreeMap<String, Vec<FwRule>>,
}

/// One rule line: `[|]IN ACCEPT -p tcp -dport 22 # comment`, `IN SSH(ACCEPT) …`, `GROUP web …`.
#[derive(Debug, Clone, PartialEq)]
pub struct FwRule {
    /// 1-based line in its file.
    pub line: usize,
    /// The rule as written, without comment.
    pub text: String,
    /// `|` at the start disables a rule.
    pub enabled: bool,
    /// `IN`, `OUT` or `GROUP`.
    pub direction: String,
    /// `ACCEPT`, `DROP`, `REJECT`; for GROUP the group name.
    pub action: String,
    /// `SSH` of `SSH(ACCEPT)`.
    pub macro_name: Option<String>,
    /// `-p tcp` → `p`: `tcp`, in order.
    pub opts: Vec<(String, String)>,
}

impl FwRule {
    pub fn opt(&self, name: &str) -> Option<&str> {
        self.opts.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn parse(line: usize, raw: &str) -> Option<FwRule> {
        let text = raw.split('#').next().unwrap_or("").trim();
        let (enabled, text) = match text.strip_prefix('|') {
            Some(rest) => (false, rest.trim()),
            None => (true, text),
        };
        let mut words = text.split_whitespace();
        let direction = words.next()?.to_ascii_uppercase();
        let action_word = words.next()?;
        let (action, macro_name) = match action_word.split_once('(') {
            Some((m, a)) => (a.trim_end_matches(')').to_ascii_uppercase(), Some(m.to_owned())),
            None if direction == "GROUP" => (action_word.to_owned(), None),
            None => (action_word.to_ascii_uppercase(), None),
        };
        let mut opts = Vec::new();
        let rest: Vec<&str> = words.collect();
        let mut i = 0;
        while i < rest.len() {
            let name = rest[i].trim_start_matches('-').to_owned();
            let value = rest.get(i + 1).filter(|v| !v.starts_with('-')).map(|v| (*v).to_owned());
            i += if value.is_some() { 2 } else { 1 };
            opts.push((name, value.unwrap_or_default()));
        }
        Some(FwRule { line, text: text.to_owned(), enabled, direction, action, macro_name, opts })
    }
}

impl FwFile {
    pub fn parse(text: &str) -> FwFile {
        enum Sec {
            None,
            Options,
            Aliases,
            Ipset(String),
            Rules,
            Group(String),
        }
        let mut f = FwFile::default();
        let mut sec = Sec::None;
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(head) = line.strip_prefix('[') {
                let head = head.split(']').next().unwrap_or("").trim();
                let (kind, name) = head.split_once(char::is_whitespace).unwrap_or((head, ""));
                sec = match kind.to_ascii_uppercase().as_str() {
                    "OPTIONS" => Sec::Options,
                    "ALIASES" => Sec::Aliases,
                    "RULES" => Sec::Rules,
                    "IPSET" => Sec::Ipset(name.trim().to_ascii_lowercase()),
                    "GROUP" => Sec::Group(name.trim().to_ascii_lowercase()),
                    _ => Sec::None,
                };
                if let Sec::Ipset(name) = &sec {
                    f.ipsets.entry(name.clone()).or_default();
                }
                continue;
            }
            let body = line.split('#').next().unwrap_or("").trim();
            match &sec {
                Sec::Options => {
                    if let Some((k, v)) = body.split_once(':') {
                        f.options.insert(k.trim().to_owned(), v.trim().to_owned());
                    }
                }
                Sec::Aliases => {
                    let mut w = body.split_whitespace();
                    if let (Some(name), Some(cidr)) = (w.next(), w.next()) {
                        f.aliases.insert(name.to_ascii_lowercase(), cidr.to_owned());
                    }
                }
                Sec::Ipset(name) => {
                    let entry = body.split_whitespace().next().unwrap_or("");
                    if !entry.is_empty() {
                        let (neg, e) = match entry.strip_prefix('!') {
                            Some(e) => (true, e),
                            None => (false, entry),
                        };
                        f.ipsets.entry(name.clone()).or_default().push((neg, e.to_owned()));
                    }
                }
                Sec::Rules => f.rules.extend(FwRule::parse(n + 1, line)),
                Sec::Group(name) => {
                    if let Some(rule) = FwRule::parse(n + 1, line) {
                        f.groups.entry(name.clone()).or_default().push(rule);
                    }
                }
                Sec::None => {}
            }
        }
        f
    }

    pub fn option(&self, name: &str) -> Option<&str> {
        self.options.get(name).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_and_rules() {
        let f = FwFile::parse(
            "[OPTIONS]\nenable: 1\npolicy_in: DROP\n\n[ALIASES]\nweb 10.0.0.5 # the server\n\n[IPSET trusted] # ok\n192.168.1.0/24\n!192.168.1.5\n\n[RULES]\nIN SSH(ACCEPT) -source +trusted -log nolog # ssh\n|OUT DROP -dest 10.0.0.0/8\nGROUP webservers -i net0\n",
        );
        assert_eq!(f.option("policy_in"), Some("DROP"));
        assert_eq!(f.aliases["web"], "10.0.0.5");
        assert_eq!(f.ipsets["trusted"], [(false, "192.168.1.0/24".to_owned()), (true, "192.168.1.5".to_owned())]);
        assert_eq!(f.rules.len(), 3);
        assert_eq!(f.rules[0].macro_name.as_deref(), Some("SSH"));
        assert_eq!(f.rules[0].action, "ACCEPT");
        assert_eq!(f.rules[0].opt("source"), Some("+trusted"));
        assert_eq!(f.rules[0].line, 13);
        assert!(!f.rules[1].enabled);
        assert_eq!((f.rules[2].direction.as_str(), f.rules[2].action.as_str()), ("GROUP", "webservers"));
    }
}
