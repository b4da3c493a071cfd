//! The result table: plain text on stdout, Markdown in target/guest.md.

use super::expect::Check;

pub struct Row {
    pub case: String,
    pub check: Check,
}

pub fn text(rows: &[Row]) -> String {
    let cells: Vec<[String; 5]> = rows.iter().map(cells).collect();
    let header = ["case", "check", "expected", "measured", "result"].map(String::from);
    let mut width = header.clone().map(|h| h.chars().count());
    for r in &cells {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    for r in std::iter::once(&header).chain(&cells) {
        let line: Vec<String> = r.iter().zip(width).map(|(c, w)| format!("{c:<w$}")).collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

pub fn markdown(rows: &[Row], preamble: &str) -> String {
    let mut out = format!("# Guest's-eye check (`cargo xtask guest`)\n\n{preamble}\n\n");
    out.push_str("| case | check | expected | measured | result |\n|---|---|---|---|---|\n");
    for r in rows {
        let c = cells(r).map(|c| c.replace('|', "\\|"));
        out.push_str(&format!("| {} |\n", c.join(" | ")));
    }
    out
}

fn cells(r: &Row) -> [String; 5] {
    let result = if r.check.pass { "pass" } else { "FAIL" };
    let result = if r.check.what == "skipped" { "skip" } else { result };
    [r.case.clone(), r.check.what.clone(), r.check.expected.clone(), r.check.measured.clone(), result.into()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Vec<Row> {
        vec![
            Row { case: "rng-a".into(), check: Check::new("entropy", "5056..=7168", "7104", true) },
            Row { case: "x".into(), check: Check::new("serial", "a|b", "none", false) },
        ]
    }

    #[test]
    fn aligned_text() {
        let t = text(&rows());
        let lines: Vec<_> = t.lines().collect();
        assert_eq!(lines[0], "case   check    expected     measured  result");
        assert_eq!(lines[1], "rng-a  entropy  5056..=7168  7104      pass");
        assert_eq!(lines[2], "x      serial   a|b          none      FAIL");
    }

    #[test]
    fn markdown_escapes_pipes() {
        let md = markdown(&rows(), "run");
        assert!(md.contains("| x | serial | a\\|b | none | FAIL |"), "{md}");
    }
}
