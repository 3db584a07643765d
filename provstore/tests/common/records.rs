//! Records as the kernel hands them to the store: trials, executions, outputs and the probe's
//! notes. provctl's tests include this file by path (`provctl/tests/common/mod.rs`), so both
//! crates' tests build their stores with the same builders.

#![allow(dead_code)]

use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use provstore::{DataflowRecord, ErrorInfo, ExecStatus, ExecutionRecord, NewTrial, OutputRecord};
use serde_json::{json, Value};

/// A trial of this process on this host, in `cwd`, started at `started_at`.
pub fn trial_at(cwd: &Path, started_at: DateTime<Utc>) -> NewTrial {
    NewTrial {
        notebook: Some("analysis.ipynb".into()),
        cwd: cwd.display().to_string(),
        platform: provstore::platform(),
        pid: std::process::id(),
        hostname: provstore::hostname(),
        started_at,
        user: Some("ada".into()),
    }
}

/// `In[n]` (request `msg-n`, cell `cell-n`) running `code` from `started_at` for `ms`
/// milliseconds: fine, with no outputs and no dataflow facts.
pub fn record(n: i64, code: &str, started_at: DateTime<Utc>, ms: i64) -> ExecutionRecord {
    ExecutionRecord {
        code_replaced: false,
        msg_id: format!("msg-{n}"),
        execution_count: Some(n),
        cell_id: Some(format!("cell-{n}")),
        code: code.into(),
        started_at,
        ended_at: started_at + Duration::milliseconds(ms),
        status: ExecStatus::Ok,
        error: None,
        outputs: vec![],
        dataflow: None,
    }
}

/// A stdout stream output.
pub fn stream(text: &str) -> OutputRecord {
    OutputRecord {
        output_type: "stream".into(),
        name: Some("stdout".into()),
        payloads: vec![("text/plain".into(), text.as_bytes().to_vec())],
    }
}

/// `e` failed with a ZeroDivisionError (`traceback` its lines) and shows only its error.
pub fn zero_division(mut e: ExecutionRecord, traceback: &[&str]) -> ExecutionRecord {
    e.status = ExecStatus::Error;
    e.error = Some(ErrorInfo {
        ename: "ZeroDivisionError".into(),
        evalue: "division by zero".into(),
        traceback: traceback.iter().map(|l| l.to_string()).collect(),
    });
    e.outputs = vec![OutputRecord {
        output_type: "error".into(),
        name: None,
        payloads: vec![],
    }];
    e
}

/// `e` with dataflow facts: the cell's `analysis` (JSON; empty for the store to make it from
/// the code, as it does for an analysis of an older version) and the probe's `runtime` note.
pub fn with_notes(
    mut e: ExecutionRecord,
    analysis: String,
    runtime: Option<&str>,
) -> ExecutionRecord {
    e.dataflow = Some(DataflowRecord {
        analysis,
        runtime: runtime.map(String::from),
        failed_line: None,
    });
    e
}

/// The probe's note for a cell that bound `entries`: name and `{type, value?}`, or the type
/// with summary fields (`kind`, …), which travel under `summaries` as for a tagged variable.
/// The objects get the `id()`s `first_id`, `first_id + 1`, …: equal ids would make them
/// aliases.
pub fn binding_note(entries: &[(&str, Value)], first_id: i64) -> String {
    let mut summaries = serde_json::Map::new();
    let bound: Vec<Value> = entries
        .iter()
        .enumerate()
        .map(|(i, (name, info))| {
            if info.get("kind").is_some() {
                let mut summary = info.clone();
                let type_name = summary.as_object_mut().unwrap().remove("type");
                summaries.insert(
                    name.to_string(),
                    json!({"type": type_name, "summary": summary}),
                );
            }
            json!([name, first_id + i as i64, info])
        })
        .collect();
    json!({ "bound": bound, "deleted": [], "summaries": summaries }).to_string()
}
