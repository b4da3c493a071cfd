//! The commands of `pve2virt`, as the binary runs them: which library call each subcommand makes,
//! what is printed where, and which exit code ([`exit`]) the result maps to. `main.rs` only parses
//! the arguments and hands them here, so that this policy can be tested and reused.

use std::io::{self, Write};
use std::path::Path;

use crate::batch::{self, count};
use crate::cli::{exit, read_and_convert, report, Cli, Command, Common, ReportFormat};
use crate::map::cloudinit::write_iso;
use crate::output::{write_atomic, write_side_files};
use crate::pve::storage::StorageConfig;
use crate::{Conversion, Note, Source};

/// Runs one parsed command line; returns the process's exit code.
pub fn run(cli: Cli) -> u8 {
    match cli.command {
        Command::Convert { inputs, output, out_dir, force, common } => match out_dir {
            Some(dir) => batch::convert_batch(&inputs, &dir, force, &common),
            None if inputs.len() > 1 => {
                eprintln!("error: {} configs given: pass --out-dir DIR to write one XML file per VM", inputs.len());
                exit::USAGE
            }
            None => convert_one(&inputs[0], output.as_deref(), force, &common),
        },
        Command::Plan { mut args, common } => {
            args.source.pve_root = common.cluster.root();
            let opts = common.options(Path::new(""), StorageConfig::default());
            crate::migrate::plan_main(&args, opts, common.report == ReportFormat::Json)
        }
        Command::Migrate { mut args, common } => {
            args.source.pve_root = common.cluster.root();
            let opts = common.options(Path::new(""), StorageConfig::default());
            crate::migrate::migrate_main(&args, opts, common.report == ReportFormat::Json)
        }
        Command::Explain { code: crate::report::codes::ExplainCode { code: Some(code) }, .. } => {
            match crate::report::codes::explain(&code) {
                Ok(text) => {
                    print!("{text}");
                    exit::OK
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    exit::USAGE
                }
            }
        }
        Command::Explain { input, common, .. } => {
            let input = input.unwrap_or_default();
            let Ok(storage) = common.storage() else { return exit::IO };
            let Some((source, result)) = read(&input, &common, &storage) else {
                return exit::IO;
            };
            match result {
                Ok(conversion) => {
                    print!("{}", explain_table(&conversion));
                    exit::OK
                }
                Err(errors) => {
                    report(&errors, &source, common.report);
                    exit::INPUT
                }
            }
        }
    }
}

/// Reads the input and converts it; `None` (after printing why) when it cannot be read.
fn read(input: &Path, common: &Common, storage: &StorageConfig) -> Option<(Source, Result<Conversion, Vec<Note>>)> {
    read_and_convert(input, common, storage)
        .map_err(|e| {
            let name = if input.as_os_str() == "-" { "<stdin>".into() } else { input.display().to_string() };
            eprintln!("error: cannot read {name}: {e}");
        })
        .ok()
}

/// `pve2virt convert IN [-o OUT]`: one config to standard output or to OUT (all or nothing).
fn convert_one(input: &Path, output: Option<&Path>, force: bool, common: &Common) -> u8 {
    let Ok(storage) = common.storage() else { return exit::IO };
    let Some((source, result)) = read(input, common, &storage) else {
        return exit::IO;
    };
    match result {
        Ok(conversion) => {
            report(&conversion.notes, &source, common.report);
            if common.strict && conversion.notes.iter().any(Note::is_lossy) {
                eprintln!("error: --strict: the conversion is lossy (see the warnings above); nothing was written");
                return exit::STRICT;
            }
            if let Some(Err(e)) = conversion.seed.as_ref().map(|seed| write_iso(seed, force)) {
                eprintln!("error: {e}");
                return exit::IO;
            }
            let written = match output {
                // The files beside the XML first: the XML, the result, appears last.
                Some(path) => {
                    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
                    write_side_files(dir, &conversion.files, force)
                        .and_then(|_| write_atomic(path, conversion.xml.as_bytes(), force))
                }
                None => io::stdout().lock().write_all(conversion.xml.as_bytes()),
            };
            match written {
                Ok(()) => exit::OK,
                Err(e) => {
                    eprintln!("error: {e}");
                    exit::IO
                }
            }
        }
        Err(errors) => {
            report(&errors, &source, common.report);
            if common.report == ReportFormat::Human {
                eprintln!("error: {} could not be converted ({})", source.name, count(errors.len(), "error"));
            }
            exit::INPUT
        }
    }
}

/// `pve2virt explain IN`: what each key became, as a table.
fn explain_table(conversion: &Conversion) -> String {
    let rows: Vec<[String; 4]> = conversion
        .outcomes
        .iter()
        .map(|o| {
            let became = if o.became.is_empty() { "—".to_owned() } else { o.became.join(", ") };
            let mut value = o.value.clone();
            if value.chars().count() > 48 {
                value = value.chars().take(47).collect::<String>() + "…";
            }
            [o.key.clone(), value, became, o.notes.join(", ")]
        })
        .collect();
    let header = ["KEY", "VALUE", "BECAME", "NOTES"];
    let widths: Vec<usize> =
        (0..4).map(|i| rows.iter().map(|r| r[i].chars().count()).chain([header[i].len()]).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for row in std::iter::once(header.map(str::to_owned)).chain(rows) {
        let line: Vec<String> = row.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}
