//! The synthetic trials of synth_diff (and synth_million's diff pair): a notebook of 250
//! cells run again and again, the right trial differing in a few places. See synth_diff.rs.

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{Duration as Span, Utc};
use provstore::{
    DataflowRecord, ExecStatus, ExecutionRecord, NewTrial, OutputRecord, Store, TrialStatus,
};

/// Cells of the notebook.
pub const CELLS: usize = 250;
/// Executions recorded per transaction.
pub const BATCH: usize = 500;

/// The code of cell `c` and the value it binds (`name`, Python type, JSON value or None
/// when only the type is known), with `p` the parameter.
pub fn cell(c: usize, p: f64) -> (String, String, &'static str, Option<String>) {
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
pub fn record(
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
pub fn session(n: usize, right: bool) -> Vec<ExecutionRecord> {
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

/// Records both trials (left, then right) with their environments into `store`; returns their
/// ids.
pub fn record_pair(store: &mut Store, n: usize) -> Result<[i64; 2], String> {
    let cwd = std::env::current_dir().map_err(|e| e.to_string())?;
    let mut ids = [0; 2];
    for (k, (right, numpy)) in [(false, "2.1.0"), (true, "2.2.0")].into_iter().enumerate() {
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
        // provstore has no call that sets packages alone (the kernel's probe reports them).
        let conn = rusqlite::Connection::open(store.path()).map_err(|e| e.to_string())?;
        for (name, version) in [("numpy", numpy), ("pandas", "2.2.3")] {
            conn.execute(
                "INSERT INTO trial_packages (trial_id, name, version) VALUES (?1, ?2, ?3)",
                (trial, name, version),
            )
            .map_err(|e| e.to_string())?;
        }
        ids[k] = trial;
    }
    Ok(ids)
}
