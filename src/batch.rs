//! Batch conversion: `pve2virt convert *.conf --out-dir DIR`.
//!
//! Policy: a config that fails neither stops the others nor leaves a file; two configs that would
//! give the same file (`<vmid>.xml`) or the same domain name fail the second one *in input order*;
//! `--strict` refuses lossy conversions; the summary lists every config in input order; the exit
//! code is 1 when anything failed (4 when the output folder cannot be made durable).
//!
//! # How it runs
//!
//! The inputs are cut into groups of [`GROUP`] configs. For each group:
//!
//! 1. worker threads (one per core) read, convert and write every XML to a hidden temporary file
//!    `DIR/.<vmid>.xml.<pid>-<n>.tmp`, without flushing it;
//! 2. the main thread walks the group in input order and decides collisions (so the decision does
//!    not depend on which thread finished first); a loser's temporary file is removed;
//! 3. one `syncfs(2)` of the output file system flushes every temporary file of the group;
//! 4. each winner's temporary file is renamed to `DIR/<vmid>.xml` (without `--force`,
//!    `renameat2(RENAME_NOREPLACE)`, or link + unlink where that is missing: never over a file);
//! 5. one `fsync` of `DIR` makes the renames durable;
//! 6. only then are the group's summary records printed, in input order.
//!
//! The workers do not wait for steps 2–6: they may run up to two groups ahead (see `Pipeline`),
//! so the cores keep converting while the main thread syncs.
//!
//! Durability thus costs two syncs per group instead of two per file. A batch of up to [`GROUP`]
//! configs pays it once; a larger one once per group, which keeps both the memory held (the
//! group's records) and the delay before a record streams out bounded, whatever the batch size.
//!
//! # Why a crash still leaves only complete `*.xml` files
//!
//! - A name `DIR/<vmid>.xml` only ever appears through `rename(2)`/`link(2)` of a temporary file
//!   whose `write` calls had all returned. Both are atomic on a POSIX file system: a reader sees
//!   the old name or the new one, never a partial file.
//! - **SIGKILL** (or a crash of pve2virt): the kernel finishes or never starts each system call;
//!   data written to the page cache belongs to the file, not to the process, and stays. So a killed
//!   batch leaves complete `*.xml` files and, at worst, hidden `.*.tmp` files (never a name that
//!   looks like a result).
//! - **Power loss**: a rename reaches the disk only if it was issued, and step 4 is issued only
//!   after step 3 returned, i.e. after the temporary file's data and inode were on disk. So any
//!   `*.xml` name that survives a power cut points to data that was already durable: never an
//!   empty or truncated file (the failure that per-file `fsync` before `rename` exists to prevent,
//!   and which `syncfs` before the renames prevents for the whole group at once). Renames not yet
//!   made durable by step 5 may be lost, leaving the old file or none (and a hidden temporary
//!   file), which is why a record says `converted` only after step 5.
//!
//! See `docs/batch.md` for the summary's format and the measurements.

use std::collections::HashMap;
use std::fs;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use serde::Serialize;
use serde_json::value::RawValue;

use crate::cli::{exit, read_and_convert, Common, ReportFormat};
use crate::map::cloudinit::write_iso;
use crate::output::{commit, sync_dir, sync_filesystem, write_side_files, write_temp};
use crate::pve::storage::StorageConfig;
use crate::report::{render_human, to_json};
use crate::Note;

/// Configs per durability group: large enough that the two syncs per group cost little next to
/// the conversions (about 0.2 s of conversion work on one core), small enough that the group's
/// records (a few kilobytes each) stay a few megabytes.
pub const GROUP: usize = 1024;

/// One config's line in the summary (`--report json`).
#[derive(Serialize)]
struct Record<'a> {
    input: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    output: Option<String>,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    notes: &'a RawValue,
}

/// What a worker hands back for one config.
struct Done {
    input: String,
    /// The notes, already rendered for the chosen report format (JSON array or human text).
    notes: Box<RawValue>,
    human: String,
    outcome: Outcome,
}

enum Outcome {
    Failed(String),
    /// Converted and written to a temporary file; the main thread decides whether it is kept.
    Written {
        tmp: PathBuf,
        path: PathBuf,
        vmid: u32,
        name: String,
        notes: usize,
    },
}

/// Converts `inputs` into `dir/<vmid>.xml`; prints the summary (human on standard error, or JSON on
/// standard output) and returns the exit code.
pub fn convert_batch(inputs: &[PathBuf], dir: &Path, force: bool, common: &Common) -> u8 {
    let Ok(storage) = common.storage() else { return exit::IO };
    if let Err(e) = fs::create_dir_all(dir) {
        eprintln!("error: cannot create {}: {e}", dir.display());
        return exit::IO;
    }
    let json = common.report == ReportFormat::Json;
    let color = !json && io::stderr().is_terminal();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(64);

    let mut summary = Summary::new(json);
    // Who claimed each file and domain name, to fail later claimants (input order).
    let mut files: HashMap<u32, usize> = HashMap::new();
    let mut names: HashMap<String, usize> = HashMap::new();
    let mut io_error = false;

    let pipeline = Pipeline::new();
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..threads.min(inputs.len()) {
            scope.spawn(|| pipeline.work(&next, inputs, (dir, force), common, &storage, color));
        }
        for (group_no, group) in inputs.chunks(GROUP).enumerate() {
            let base = group_no * GROUP;
            let mut done = pipeline.take(base..base + group.len());

            // Collisions, in input order.
            let mut winners = Vec::new();
            for (i, d) in done.iter_mut().enumerate() {
                let Outcome::Written { tmp, path, vmid, name, .. } = &d.outcome else { continue };
                let clash = if let Some(&first) = files.get(vmid) {
                    Some(format!(
                        "{} would be written twice (also by {}); give each VM its own VMID",
                        path.display(),
                        inputs[first].display()
                    ))
                } else if let Some(&first) = names.get(name) {
                    Some(format!(
                        "domain name '{name}' is already used by {}; libvirt names must be unique",
                        inputs[first].display()
                    ))
                } else {
                    None
                };
                match clash {
                    Some(reason) => {
                        let _ = fs::remove_file(tmp);
                        d.outcome = Outcome::Failed(reason);
                    }
                    None => {
                        files.insert(*vmid, base + i);
                        names.insert(name.clone(), base + i);
                        winners.push(i);
                    }
                }
            }

            if !winners.is_empty() {
                let tmps: Vec<&Path> = winners
                    .iter()
                    .filter_map(|&i| match &done[i].outcome {
                        Outcome::Written { tmp, .. } => Some(tmp.as_path()),
                        Outcome::Failed(_) => None,
                    })
                    .collect();
                if let Err(e) = sync_filesystem(dir, &tmps) {
                    // Nothing of this group may be moved into place: its data is not known to be on disk.
                    for &i in &winners {
                        if let Outcome::Written { tmp, .. } = &done[i].outcome {
                            let _ = fs::remove_file(tmp);
                        }
                        done[i].outcome = Outcome::Failed(format!("cannot flush {} to disk: {e}", dir.display()));
                    }
                } else {
                    for &i in &winners {
                        if let Outcome::Written { tmp, path, .. } = &done[i].outcome {
                            if let Err(e) = commit(tmp, path, force) {
                                done[i].outcome = Outcome::Failed(e.to_string());
                            }
                        }
                    }
                    if let Err(e) = sync_dir(dir) {
                        eprintln!(
                            "error: cannot flush {} to disk: {e}; the files written may not survive a power loss",
                            dir.display()
                        );
                        io_error = true;
                    }
                }
            }

            for d in done {
                summary.record(&d);
            }
            summary.flush();
        }
    });

    let failed = summary.finish();
    if io_error {
        exit::IO
    } else if failed > 0 {
        exit::INPUT
    } else {
        exit::OK
    }
}

/// Hands configs to the worker threads and their results back to the main thread in input
/// order. Workers may run at most two groups ahead of the group being committed, so conversion
/// goes on during the syncs and the memory held stays bounded (about three groups of results).
struct Pipeline {
    state: Mutex<State>,
    /// Signalled when a result arrives.
    ready: Condvar,
    /// Signalled when the main thread lets the workers go further.
    room: Condvar,
}

struct State {
    results: HashMap<usize, Done>,
    /// How many results of each group have arrived: the main thread is woken once per group,
    /// when its last result arrives, not once per config.
    arrived: HashMap<usize, usize>,
    /// Workers convert only configs with an index below this.
    limit: usize,
}

impl Pipeline {
    fn new() -> Self {
        let state = State { results: HashMap::new(), arrived: HashMap::new(), limit: 2 * GROUP };
        Pipeline { state: Mutex::new(state), ready: Condvar::new(), room: Condvar::new() }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A worker thread: converts configs, in index order, until there are none left.
    fn work(
        &self,
        next: &AtomicUsize,
        inputs: &[PathBuf],
        (dir, force): (&Path, bool),
        common: &Common,
        storage: &StorageConfig,
        color: bool,
    ) {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(input) = inputs.get(i) else { return };
            let mut state = self.lock();
            while i >= state.limit {
                state = self.room.wait(state).unwrap_or_else(PoisonError::into_inner);
            }
            drop(state);
            // A bug must not take the rest of the batch down with it (nor leave a hole in the summary).
            let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                convert_one(input, dir, force, common, storage, color)
            }))
            .unwrap_or_else(|_| Done {
                input: input.display().to_string(),
                notes: empty_notes(),
                human: String::new(),
                outcome: Outcome::Failed(INTERNAL.into()),
            });
            let mut state = self.lock();
            state.results.insert(i, done);
            let group = i / GROUP;
            let arrived = state.arrived.entry(group).or_default();
            *arrived += 1;
            let complete = *arrived == GROUP.min(inputs.len() - group * GROUP);
            drop(state);
            if complete {
                self.ready.notify_one();
            }
        }
    }

    /// The results of `range`, in order, once all are there; lets the workers start on the group
    /// after next.
    fn take(&self, range: std::ops::Range<usize>) -> Vec<Done> {
        let group = range.start / GROUP;
        let mut state = self.lock();
        while state.arrived.get(&group) != Some(&range.len()) {
            state = self.ready.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
        state.arrived.remove(&group);
        let done =
            range.clone().map(|i| state.results.remove(&i).expect("every result of the group arrived")).collect();
        state.limit = range.end + 2 * GROUP;
        drop(state);
        self.room.notify_all();
        done
    }
}

const INTERNAL: &str = "internal error (a bug in pve2virt): please report it with this config";

fn empty_notes() -> Box<RawValue> {
    RawValue::from_string("[]".into()).expect("valid JSON")
}

/// Reads, converts and writes the temporary file of one config (on a worker thread).
fn convert_one(input: &Path, dir: &Path, force: bool, common: &Common, storage: &StorageConfig, color: bool) -> Done {
    let json = common.report == ReportFormat::Json;
    let mut done = Done {
        input: input.display().to_string(),
        notes: empty_notes(),
        human: String::new(),
        outcome: Outcome::Failed(String::new()),
    };
    let mut render = |notes: &[Note], source| {
        if json {
            if let Ok(raw) = serde_json::value::to_raw_value(&to_json(notes, source)) {
                done.notes = raw;
            }
        } else if !notes.is_empty() {
            done.human = render_human(notes, source, color);
        }
    };
    done.outcome = match read_and_convert(input, common, storage) {
        Err(e) => Outcome::Failed(format!("cannot read the file: {e}")),
        Ok((source, Err(errors))) => {
            render(&errors, &source);
            Outcome::Failed(count(errors.len(), "error"))
        }
        Ok((source, Ok(conversion))) => {
            render(&conversion.notes, &source);
            let path = dir.join(format!("{}.xml", conversion.vmid));
            if common.strict && conversion.notes.iter().any(Note::is_lossy) {
                Outcome::Failed("--strict: the conversion is lossy".into())
            } else {
                // The files beside the XML (nwfilter, hook, a rebuilt cloud-init seed) are rare
                // and written atomically each, before the XML: a crash can leave one without its
                // XML, never a partial file.
                let side = conversion
                    .seed
                    .as_ref()
                    .map_or(Ok(()), |seed| write_iso(seed, force))
                    .and_then(|()| write_side_files(dir, &conversion.files, force).map(drop));
                match side.and_then(|()| write_temp(&path, conversion.xml.as_bytes())) {
                    Ok(tmp) => Outcome::Written {
                        tmp,
                        path,
                        vmid: conversion.vmid,
                        name: conversion.domain.name,
                        notes: conversion.notes.len(),
                    },
                    Err(e) => Outcome::Failed(format!("cannot write {}: {e}", path.display())),
                }
            }
        }
    };
    done
}

/// The summary, printed group by group as each group becomes durable.
struct Summary {
    json: bool,
    out: BufWriter<io::Stdout>,
    err: BufWriter<io::Stderr>,
    converted: usize,
    failed: usize,
}

impl Summary {
    fn new(json: bool) -> Self {
        let mut s = Summary {
            json,
            out: BufWriter::with_capacity(1 << 16, io::stdout()),
            err: BufWriter::with_capacity(1 << 16, io::stderr()),
            converted: 0,
            failed: 0,
        };
        if json {
            let _ = s.out.write_all(b"{\"results\":[");
        }
        s
    }

    fn record(&mut self, d: &Done) {
        let (output, reason) = match &d.outcome {
            Outcome::Written { path, .. } => (Some(path.display().to_string()), None),
            Outcome::Failed(reason) => (None, Some(reason.clone())),
        };
        let status = if output.is_some() { "converted" } else { "failed" };
        let first = self.converted + self.failed == 0;
        if output.is_some() {
            self.converted += 1;
        } else {
            self.failed += 1;
        }
        if self.json {
            let record = Record { input: &d.input, output, status, reason, notes: &d.notes };
            let _ = self.out.write_all(if first { b"\n" } else { b",\n" });
            let _ = serde_json::to_writer(&mut self.out, &record);
            return;
        }
        let _ = self.err.write_all(d.human.as_bytes());
        let _ = match (&d.outcome, output) {
            (Outcome::Written { notes, .. }, Some(path)) => {
                writeln!(self.err, "converted {} → {path} ({})", d.input, count(*notes, "note"))
            }
            _ => writeln!(self.err, "FAILED    {}: {}", d.input, reason.unwrap_or_default()),
        };
    }

    fn flush(&mut self) {
        let _ = self.out.flush();
        let _ = self.err.flush();
    }

    /// Prints the totals; returns the number of failed configs.
    fn finish(mut self) -> usize {
        if self.json {
            let _ = writeln!(self.out, "\n],\"converted\":{},\"failed\":{}}}", self.converted, self.failed);
        } else {
            let _ = writeln!(self.err, "{} converted, {} failed", self.converted, self.failed);
        }
        self.flush();
        self.failed
    }
}

pub fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}
