//! Comments and documents cite what a reader of the repository can open: every
//! `docs/<page>.md#<anchor>` named in the sources, the README and the docs themselves exists, and
//! nothing cites the reference material outside the repository.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::root;

fn files(dir: &Path, exts: &[&str], out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, exts, out);
        } else if path.extension().and_then(|e| e.to_str()).is_some_and(|e| exts.contains(&e)) {
            out.push(path);
        }
    }
}

fn sources() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in ["src", "xtask/src", "tests", "benches", "fuzz", "docs", ".ci", ".cargo"] {
        files(&root().join(dir), &["rs", "md", "sh", "toml"], &mut out);
    }
    out.push(root().join("README.md"));
    // This file names example links.
    out.retain(|p| !p.ends_with("tests/docs.rs"));
    out.sort();
    out
}

/// The anchors of a page: explicit `<a id="…">` and GitHub's slugs of its headings.
fn anchors(page: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(root().join("docs").join(page)).unwrap_or_default();
    let mut out = BTreeSet::new();
    for line in text.lines() {
        if let Some(rest) = line.trim().strip_prefix("<a id=\"") {
            out.insert(rest.split('"').next().unwrap_or_default().to_owned());
        }
        if line.starts_with('#') {
            let title = line.trim_start_matches('#').trim().to_lowercase();
            let slug: String = title
                .chars()
                .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
                .map(|c| if c == ' ' { '-' } else { c })
                .collect();
            out.insert(slug);
        }
    }
    out
}

fn ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// `(page, anchor, where)` for `docs/<page>.md#<anchor>` (and, inside docs/, `<page>.md#<anchor>`),
/// plus the `#anchor` shorthands that follow a link on the same line (`docs/a.md#x, #y`).
fn links() -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for path in sources() {
        let text = std::fs::read_to_string(&path).unwrap();
        let in_docs = path.starts_with(root().join("docs"));
        let rel = path.strip_prefix(root()).unwrap().display().to_string();
        for (n, line) in text.lines().enumerate() {
            let at_line = format!("{rel}:{}", n + 1);
            // (position, page) of every link on the line.
            let mut pages: Vec<(usize, String)> = Vec::new();
            let mut i = 0;
            while let Some(at) = line[i..].find(".md#").map(|a| a + i) {
                let start = line[..at].rfind(|c: char| !ident(c)).map_or(0, |s| s + 1);
                let page = format!("{}.md", &line[start..at]);
                let prefixed = line[..start].ends_with("docs/");
                let anchor: String = line[at + 4..].chars().take_while(|&c| ident(c)).collect();
                if (prefixed || in_docs && !line[..start].ends_with('/')) && !anchor.is_empty() {
                    out.push((page.clone(), anchor, at_line.clone()));
                    pages.push((at, page));
                }
                i = at + 4;
            }
            // `, #other` after a link names another anchor of the same page.
            for sep in [", #", "; #"] {
                for (p, _) in line.match_indices(sep) {
                    let Some((_, page)) = pages.iter().rev().find(|(at, _)| *at < p) else { continue };
                    let anchor: String = line[p + sep.len()..].chars().take_while(|&c| ident(c)).collect();
                    if !anchor.is_empty() && !anchor.starts_with(|c: char| c.is_ascii_digit()) {
                        out.push((page.clone(), anchor, at_line.clone()));
                    }
                }
            }
        }
    }
    out
}

#[test]
fn every_cited_docs_anchor_exists() {
    let links = links();
    assert!(links.len() > 60, "only {} links found; is the scan broken?", links.len());
    let mut broken = Vec::new();
    for (page, anchor, at) in &links {
        if !root().join("docs").join(page).is_file() {
            broken.push(format!("{at}: docs/{page} does not exist"));
        } else if !anchors(page).contains(anchor) {
            broken.push(format!("{at}: docs/{page}#{anchor} is not an anchor of the page"));
        }
    }
    assert!(broken.is_empty(), "broken documentation links:\n{}", broken.join("\n"));
}

#[test]
fn nothing_cites_documents_outside_the_repository() {
    // Built from pieces so this file does not match itself.
    let forbidden = [["..", "/shared"].concat(), ["pve-config", ".md"].concat(), ["libvirt-mapping", ".md"].concat()];
    let mut found = Vec::new();
    for path in sources() {
        let rel = path.strip_prefix(root()).unwrap().display().to_string();
        if !["src/", "xtask/", "fuzz/", "tests/", "benches/", "README.md"].iter().any(|p| rel.starts_with(p)) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().enumerate() {
            let issue =
                line.match_indices("issue ").any(|(i, _)| line[i + 6..].starts_with(|c: char| c.is_ascii_digit()));
            if issue || forbidden.iter().any(|f| line.contains(f.as_str())) || line.contains(&["/wo", "rk/"].concat()) {
                found.push(format!("{rel}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "cite an in-repository docs/ page or the upstream file and function instead:\n{}",
        found.join("\n")
    );
}
