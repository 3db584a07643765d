//! Writes a store holding two finished trials of N synthetic executions each that differ in a
//! few places, then times [`Store::trial_diff`] on them: the `provctl diff` benchmark's store.
//!
//! ```text
//! cargo run --release -p provstore --example synth_diff -- PATH N [QUERIES]
//! ```
//!
//! When PATH exists, nothing is written: the diff of its trials 1 and 2 is timed. Each trial
//! runs a notebook of 250 cells again and again, in order, with the dataflow facts and probe
//! notes a real session leaves (through `Store::record_executions`, which indexes the
//! dataflow as the kernel's writer does):
//!
//! - cell 0 sets the parameter, `p = 0.5`; the right trial sets `p = 0.25` from its second
//!   half on (replace ops in the code diff);
//! - every 50th cell (1, 51, …) computes `a{c} = p * c` and prints it: values and outputs that
//!   depend on the parameter;
//! - every 10th cell (5, 15, …) fits a "model" whose value is known by type only, from an
//!   `a` (55, 105, …: changed through the dataflow) or from a `v` (unchanged);
//! - the other cells compute and print `v{c}`, independent of the parameter;
//! - the right trial skips one execution (a delete op) and runs one extra cell (an insert op,
//!   a name only it has), and its environment has another numpy.
//!
//! Prints the recording time, then the median, p95 and max of `Store::trial_diff` plus the
//! `--json` document (QUERIES runs, default 20), and the size of the answer.

mod common;

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use provstore::{DiffStatus, Store};

use common::diff_session::record_pair;
use common::{ms, path_n_queries, stats};

/// Records both trials (left, then right) with their environments.
fn write(path: &Path, n: usize) -> Result<(), String> {
    let mut store = Store::open(path).map_err(|e| e.to_string())?;
    record_pair(&mut store, n).map(|_| ())
}

/// Writes the store unless it exists, then times the diff.
fn main() -> ExitCode {
    let Some((path, n, queries)) = path_n_queries("synth_diff PATH N [QUERIES]", 20) else {
        return ExitCode::from(2);
    };
    if path.exists() {
        println!(
            "{} exists: timing the diff of its trials 1 and 2",
            path.display()
        );
    } else {
        let started = Instant::now();
        if let Err(e) = write(&path, n) {
            eprintln!("synth_diff: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        println!(
            "recorded 2 trials of {n} executions in {}",
            ms(started.elapsed())
        );
    }
    let store = match Store::open_existing(&path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("synth_diff: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut times = Vec::with_capacity(queries);
    let mut answer = None;
    for _ in 0..queries.max(1) {
        let started = Instant::now();
        let diff = match store.trial_diff(1, 2) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("synth_diff: {e}");
                return ExitCode::FAILURE;
            }
        };
        let json = serde_json::to_string(&diff.only_differences()).expect("serialises");
        times.push(started.elapsed());
        answer = Some((diff, json.len()));
    }
    let runs = times.len();
    let (med, p95, max) = stats(times);
    println!(
        "Store::trial_diff + JSON on {runs} runs: median {}, p95 {}, max {}",
        ms(med),
        ms(p95),
        ms(max)
    );
    if let Some((diff, bytes)) = answer {
        let changed: Vec<&str> = diff
            .values
            .iter()
            .filter(|v| v.status != DiffStatus::Equal)
            .map(|v| v.name.as_str())
            .collect();
        let ops = diff.code.iter().filter(|c| c.unified.is_some()).count();
        println!(
            "answer: {ops} code ops, {} of {} values differ ({}), {bytes} bytes of JSON",
            changed.len(),
            diff.values.len(),
            changed.join(", ")
        );
    }
    ExitCode::SUCCESS
}
