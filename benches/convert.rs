//! How long a conversion takes: `cargo bench`. Figures go in the README.

use std::path::{Path, PathBuf};

use pve2virt::{convert, Options};

fn main() {
    divan::main();
}

fn example() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/example/100.conf")).unwrap()
}

/// Every fixture that converts, to time a realistic mix.
fn fixtures() -> Vec<String> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "conf") {
                out.push(path);
            }
        }
    }
    let mut paths = Vec::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"), &mut paths);
    let opts = options();
    paths
        .into_iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .filter(|text| convert(text, &opts).is_ok())
        .collect()
}

fn options() -> Options {
    Options { vmid: Some(100), ..Default::default() }
}

/// The example config: a typical Linux server.
#[divan::bench]
fn example_config(bencher: divan::Bencher) {
    let text = example();
    let opts = options();
    bencher.bench(|| convert(divan::black_box(&text), &opts).unwrap());
}

/// Parsing and checking only (no mapping, no XML).
#[divan::bench]
fn parse_and_check(bencher: divan::Bencher) {
    let text = example();
    bencher.bench(|| {
        let file = pve2virt::pve::file::parse(divan::black_box(&text)).unwrap();
        pve2virt::pve::decode::decode(&file, &pve2virt::Selection::Current).unwrap()
    });
}

/// Every fixture that converts, one after another.
#[divan::bench]
fn all_fixtures(bencher: divan::Bencher) {
    let texts = fixtures();
    let opts = options();
    bencher.counter(divan::counter::ItemsCount::new(texts.len())).bench(|| {
        for text in &texts {
            let _ = divan::black_box(convert(text, &opts));
        }
    });
}

/// A config with a 3 MiB description: the worst a valid config can be.
#[divan::bench]
fn large_description(bencher: divan::Bencher) {
    let line = format!("#{}\n", "x".repeat(60 << 10));
    let text = format!("{}memory: 512\n", line.repeat(50));
    let opts = options();
    bencher.bench(|| convert(divan::black_box(&text), &opts).unwrap());
}
