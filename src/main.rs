//! The `pve2virt` command: argument parsing, files, exit codes. No translation logic lives here.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use std::collections::HashMap;

use clap::Parser;
use serde::Serialize;

use pve2virt::cli::{exit, report, Cli, Command, Common, ReportFormat};
use pve2virt::output::write_atomic;
use pve2virt::pve::storage::StorageConfig;
use pve2virt::report::to_json;
use pve2virt::{convert_bytes, Conversion, Note, Source};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Convert { inputs, output, out_dir, force, common } => match out_dir {
            Some(dir) => convert_batch(&inputs, &dir, force, &common),
            None if inputs.len() > 1 => {
                eprintln!("error: {} configs given: pass --out-dir DIR to write one XML file per VM", inputs.len());
                ExitCode::from(exit::USAGE)
            }
            None => convert_one(&inputs[0], output.as_deref(), force, &common),
        },
        Command::Explain { input, common } => {
            let Ok(storage) = common.storage() else { return ExitCode::from(exit::IO) };
            let Some((source, result)) = run(&input, &common, &storage) else {
                return ExitCode::from(exit::IO);
            };
            match result {
                Ok(conversion) => {
                    print!("{}", explain_table(&conversion));
                    ExitCode::SUCCESS
                }
                Err(errors) => {
                    report(&errors, &source, common.report);
                    ExitCode::from(exit::INPUT)
                }
            }
        }
    }
}

/// Reads the input and converts it; `None` (after printing why) when it cannot be read.
fn run(input: &Path, common: &Common, storage: &StorageConfig) -> Option<(Source, Result<Conversion, Vec<Note>>)> {
    // Read at most one byte past the limit: a 100 MB file costs no more than a 4 MB one.
    let limit = pve2virt::MAX_CONFIG_BYTES as u64 + 1;
    let mut bytes = Vec::new();
    let (name, read) = if input.as_os_str() == "-" {
        ("<stdin>".to_owned(), io::stdin().take(limit).read_to_end(&mut bytes))
    } else {
        let read = fs::File::open(input).and_then(|f| f.take(limit).read_to_end(&mut bytes));
        (input.display().to_string(), read)
    };
    if let Err(e) = read {
        eprintln!("error: cannot read {name}: {e}");
        return None;
    }
    Some(convert_bytes(&name, &bytes, &common.options(input, storage.clone())))
}

fn convert_one(input: &Path, output: Option<&Path>, force: bool, common: &Common) -> ExitCode {
    let Ok(storage) = common.storage() else { return ExitCode::from(exit::IO) };
    let Some((source, result)) = run(input, common, &storage) else {
        return ExitCode::from(exit::IO);
    };
    match result {
        Ok(conversion) => {
            report(&conversion.notes, &source, common.report);
            if common.strict && conversion.notes.iter().any(Note::is_lossy) {
                eprintln!("error: --strict: the conversion is lossy (see the warnings above); nothing was written");
                return ExitCode::from(exit::STRICT);
            }
            let written = match output {
                Some(path) => write_atomic(path, conversion.xml.as_bytes(), force),
                None => io::stdout().lock().write_all(conversion.xml.as_bytes()),
            };
            match written {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(exit::IO)
                }
            }
        }
        Err(errors) => {
            report(&errors, &source, common.report);
            if common.report == ReportFormat::Human {
                eprintln!("error: {} could not be converted ({})", source.name, count(errors.len(), "error"));
            }
            ExitCode::from(exit::INPUT)
        }
    }
}

/// One config's fate in a batch.
#[derive(Serialize)]
struct BatchResult {
    input: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    output: Option<String>,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    notes: serde_json::Value,
}

/// Converts many configs into `DIR/<vmid>.xml`. A failing config neither stops the others nor
/// leaves a file; two configs that would give the same file or domain name fail the second.
fn convert_batch(inputs: &[PathBuf], dir: &Path, force: bool, common: &Common) -> ExitCode {
    let Ok(storage) = common.storage() else { return ExitCode::from(exit::IO) };
    if let Err(e) = fs::create_dir_all(dir) {
        eprintln!("error: cannot create {}: {e}", dir.display());
        return ExitCode::from(exit::IO);
    }
    let json = common.report == ReportFormat::Json;
    let mut results = Vec::new();
    let mut names: HashMap<String, String> = HashMap::new();
    let mut files: HashMap<PathBuf, String> = HashMap::new();
    for input in inputs {
        let shown = input.display().to_string();
        let mut result = BatchResult {
            input: shown.clone(),
            output: None,
            status: "failed",
            reason: None,
            notes: serde_json::Value::Null,
        };
        // A bug must not take the rest of the batch down with it.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(input, common, &storage)));
        match outcome {
            Err(_) => {
                result.reason = Some("internal error (a bug in pve2virt): please report it with this config".into())
            }
            Ok(None) => result.reason = Some("cannot read the file".into()),
            Ok(Some((source, Err(errors)))) => {
                if !json {
                    report(&errors, &source, common.report);
                }
                result.reason = Some(count(errors.len(), "error"));
                result.notes = serde_json::to_value(to_json(&errors, &source)).unwrap_or_default();
            }
            Ok(Some((source, Ok(conversion)))) => {
                if !json {
                    report(&conversion.notes, &source, common.report);
                }
                result.notes = serde_json::to_value(to_json(&conversion.notes, &source)).unwrap_or_default();
                let path = dir.join(format!("{}.xml", conversion.vmid));
                let name = conversion.domain.name.clone();
                result.reason = if common.strict && conversion.notes.iter().any(Note::is_lossy) {
                    Some("--strict: the conversion is lossy".into())
                } else if let Some(first) = files.get(&path) {
                    Some(format!(
                        "{} would be written twice (also by {first}); give each VM its own VMID",
                        path.display()
                    ))
                } else if let Some(first) = names.get(&name) {
                    Some(format!("domain name '{name}' is already used by {first}; libvirt names must be unique"))
                } else {
                    match write_atomic(&path, conversion.xml.as_bytes(), force) {
                        Ok(()) => {
                            files.insert(path.clone(), shown.clone());
                            names.insert(name, shown.clone());
                            result.status = "converted";
                            result.output = Some(path.display().to_string());
                            None
                        }
                        Err(e) => Some(e.to_string()),
                    }
                };
                if result.status == "converted" && !json {
                    eprintln!("converted {shown} → {} ({})", path.display(), count(conversion.notes.len(), "note"));
                }
            }
        }
        if result.status == "failed" && !json {
            eprintln!("FAILED    {shown}: {}", result.reason.as_deref().unwrap_or_default());
        }
        results.push(result);
    }
    let failed = results.iter().filter(|r| r.status == "failed").count();
    let converted = results.len() - failed;
    if json {
        let summary = serde_json::json!({ "converted": converted, "failed": failed, "results": results });
        println!("{}", serde_json::to_string_pretty(&summary).unwrap_or_default());
    } else {
        eprintln!("{converted} converted, {failed} failed");
    }
    if failed > 0 {
        ExitCode::from(exit::INPUT)
    } else {
        ExitCode::SUCCESS
    }
}

fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

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
