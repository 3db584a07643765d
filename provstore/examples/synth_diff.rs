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
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use chrono::{Duration as Span, Utc};
use provstore::{
    DataflowRecord, DiffStatus, ExecStatus, ExecutionRecord, NewTrial, OutputRecord, Store,
    TrialStatus,
};

use common::{ms, path_n_queries, stats};

/// Cells of the notebook.
const CELLS: usize = 250;
/// Executions recorded per transaction.
const BATCH: usize = 500;

/// The code of cell `c` and the value it binds (`name`, Python type, JSON value or None
/// when only the type is known), with `p` the parameter.
fn cell(c: usize, p: f64) -> (String, String, &'static str, Option<String>) {
    match c {
        0 => (
            format!("p = {p:?}"),
            "p".into(),
            "float",
            Some(format!("{p:?}")),
        ),
        _ if c % 50 == 1 => {
            let value = p * c as f64;
            (
                format!("a{c} = p * {c}\nprint(a{c})"),
                format!("a{c}"),
                "float",
                Some(format!("{value:?}")),
            )
        }
        _ if c % 10 == 5 => {
            let from = if c % 50 == 5 {
                format!("a{}", c - 4)
            } else {
                format!("v{}", c - 1)
            };
            (
                format!("m{c} = fit({from})"),
                format!("m{c}"),
                "lib.Model",
                None,
            )
        }
        _ => {
            // The previous cell that defines a `v` (2 starts the chain).
            let prev = (2..c)
                .rev()
                .find(|&k| k % 50 != 1 && k % 10 != 5)
                .unwrap_or(c);
            let code = if prev == c {
                format!("v{c} = {c}\nprint(v{c})")
            } else {
                format!("v{c} = max(v{prev}, {c})\nprint(v{c})")
            };
            (code, format!("v{c}"), "int", Some(c.to_string()))
        }
    }
}

/// An execution of `code` binding `name`, printing the value (or the type).
fn record(
    i: usize,
    code: String,
    name: &str,
    type_name: &str,
    value: Option<String>,
) -> ExecutionRecord {
    static NEXT_ID: AtomicU64 = AtomicU64::new(1);
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let info = match &value {
        Some(v) => format!(r#"{{"type": "{type_name}", "value": {v}}}"#),
        None => format!(r#"{{"type": "{type_name}"}}"#),
    };
    let runtime = format!(r#"{{"bound": [["{name}", {id}, {info}]], "deleted": []}}"#);
    let printed = match (&value, code.contains("print(")) {
        (Some(v), true) => Some(format!("{v}\n")),
        _ => None,
    };
    let started_at = Utc::now();
    let analysis = serde_json::to_string(&pyflow::analyze_cell(&code)).expect("serialises");
    ExecutionRecord {
        code_replaced: false,
        msg_id: format!("synth-{}", uuid::Uuid::new_v4()),
        execution_count: Some(i as i64 + 1),
        cell_id: None,
        code,
        started_at,
        ended_at: started_at + Span::milliseconds(3),
        status: ExecStatus::Ok,
        error: None,
        outputs: printed
            .map(|text| OutputRecord {
                output_type: "stream".into(),
                name: Some("stdout".into()),
                payloads: vec![("text/plain".into(), text.into_bytes())],
            })
            .into_iter()
            .collect(),
        dataflow: Some(DataflowRecord {
            analysis,
            runtime: Some(runtime),
            failed_line: None,
        }),
    }
}

/// The executions of one trial: `right` makes the few differences.
fn session(n: usize, right: bool) -> Vec<ExecutionRecord> {
    let mut out = Vec::with_capacity(n + 1);
    let (skip, extra) = (n / 3, 2 * n / 3);
    for i in 0..n {
        let c = i % CELLS;
        if right && i == skip && c != 0 && cell(c, 0.5).3.is_some() {
            continue;
        }
        if right && i == extra {
            let at = out.len();
            out.push(record(
                at,
                "extra = 1".into(),
                "extra",
                "int",
                Some("1".into()),
            ));
        }
        let p = if right && i >= n / 2 { 0.25 } else { 0.5 };
        let (code, name, type_name, value) = cell(c, p);
        let at = out.len();
        out.push(record(at, code, &name, type_name, value));
    }
    out
}

/// Records both trials (left, then right) with their environments.
fn write(path: &Path, n: usize) -> Result<(), String> {
    let mut store = Store::open(path).map_err(|e| e.to_string())?;
    let cwd = std::env::current_dir().map_err(|e| e.to_string())?;
    for (right, numpy) in [(false, "2.1.0"), (true, "2.2.0")] {
        let trial = store
            .begin_trial(&NewTrial::for_this_process(&cwd))
            .map_err(|e| e.to_string())?
            .id;
        store
            .set_trial_environment(trial, Some("3.12.1"), Some("7.0.1"))
            .map_err(|e| e.to_string())?;
        for chunk in session(n, right).chunks(BATCH) {
            store
                .record_executions(trial, chunk)
                .map_err(|e| e.to_string())?;
        }
        store
            .end_trial(trial, TrialStatus::Finished)
            .map_err(|e| e.to_string())?;
        let conn = rusqlite::Connection::open(path).map_err(|e| e.to_string())?;
        for (name, version) in [("numpy", numpy), ("pandas", "2.2.3")] {
            conn.execute(
                "INSERT INTO trial_packages (trial_id, name, version) VALUES (?1, ?2, ?3)",
                (trial, name, version),
            )
            .map_err(|e| e.to_string())?;
        }
    }
    Ok(())
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
