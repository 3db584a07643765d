//! The whole trial's history as a notebook or a script (`--format ipynb|py`), in the order the
//! executions ran: every execution, re-runs and failures included, where `provctl slice`
//! writes only what one variable needs. The notebook keeps each execution's outputs as the
//! frontend showed them (`notebook/outputs.rs`); its skeleton is `provrender`'s, the one a
//! slice's notebook is built on too.

use provstore::{ExecStatus, ExecutionDetail, Store, TrialSummary};
use serde_json::{json, Value};

use crate::types::ExportError;

mod outputs;
#[cfg(test)]
pub(crate) mod tests;

/// The trial as a notebook (nbformat 4.5), one code cell per execution with its outputs, for
/// the `Python (prov)` kernel.
pub(crate) fn ipynb(store: &Store, trial: i64) -> Result<String, ExportError> {
    let notebook = notebook(store, trial)?;
    let mut text = serde_json::to_string_pretty(&notebook).expect("a notebook serialises");
    text.push('\n');
    Ok(text)
}

/// The notebook of [`ipynb`] as JSON.
pub(crate) fn notebook(store: &Store, trial: i64) -> Result<Value, ExportError> {
    let summary = store.trial(trial)?;
    let executions = store.executions(trial)?;
    let mut cells = Vec::with_capacity(executions.len());
    for e in &executions {
        let outputs = outputs::cell_outputs(store, e)?;
        cells.push(provrender::notebook_code_cell(
            &format!("prov-{}", e.order),
            ran(e).then_some(e.execution_count).flatten(),
            &e.code,
            outputs.outputs,
            cell_metadata(e, &outputs.notes),
        ));
    }
    Ok(provrender::notebook_of(
        cells,
        json!({
            "trial": summary.id,
            "trial_uuid": summary.uuid,
            "trial_name": summary.name,
            "notebook": summary.notebook,
            "started_at": summary.started_at,
            "ended_at": summary.ended_at,
            "executions": executions.len(),
            "exported_by": exporter(),
        }),
    ))
}

/// What prov knows about one execution, kept in its cell's `metadata.prov`.
fn cell_metadata(e: &ExecutionDetail, notes: &[Value]) -> Value {
    let mut prov = json!({
        "execution_id": e.id,
        "order": e.order,
        "execution_count": e.execution_count,
        "cell_id": e.cell_id,
        "status": e.status.as_str(),
        "started_at": e.started_at,
        "ended_at": e.ended_at,
        "duration_ms": e.duration_ms,
        "code_sha256": e.code_sha256,
    });
    if !notes.is_empty() {
        prov["outputs_not_shown"] = Value::Array(notes.to_vec());
    }
    prov
}

/// Whether the execution's code ran (an aborted one was skipped: it has no `In [n]` to show).
fn ran(e: &ExecutionDetail) -> bool {
    e.status != ExecStatus::Aborted
}

/// `prov <version>`, what notebooks, scripts and crates say made them.
pub(crate) fn exporter() -> String {
    format!("prov {}", env!("CARGO_PKG_VERSION"))
}

/// `trial 3 "baseline"`.
pub(crate) fn trial_words(t: &TrialSummary) -> String {
    match &t.name {
        Some(name) => format!("trial {} {name:?}", t.id),
        None => format!("trial {}", t.id),
    }
}

/// The trial as a Python script: a header saying where it came from, then each execution in
/// order under `# In[n]`. IPython-only lines (`%magic`, `!cmd`) are commented out, so plain
/// Python runs the file; an execution that never ran (aborted) is kept, commented out.
pub(crate) fn script(store: &Store, trial: i64) -> Result<String, ExportError> {
    let summary = store.trial(trial)?;
    let executions = store.executions(trial)?;
    let mut out = format!(
        "# The history of {} ({}), {} execution{} in the order they ran, written by {}.\n",
        trial_words(&summary),
        summary.uuid,
        executions.len(),
        if executions.len() == 1 { "" } else { "s" },
        exporter()
    );
    if let Some(notebook) = &summary.notebook {
        out.push_str(&format!("# Notebook: {notebook}\n"));
    }
    for e in &executions {
        out.push('\n');
        out.push_str(&execution_header(e));
        let code = e.code.trim_end_matches('\n');
        if ran(e) {
            out.push_str(&python_only(code));
        } else {
            out.extend(code.lines().map(|l| format!("# {l}\n")));
        }
    }
    Ok(out)
}

/// `# In[4]`, with what became of the execution when it was not a success.
fn execution_header(e: &ExecutionDetail) -> String {
    let label = match e.execution_count {
        Some(n) if ran(e) => format!("# In[{n}]"),
        _ => "# In[ ]".to_string(),
    };
    match (&e.status, &e.error) {
        (ExecStatus::Aborted, _) => format!("{label}  (aborted: it never ran)\n"),
        (ExecStatus::Error, Some(err)) => {
            let first = err.evalue.lines().next().unwrap_or_default();
            format!("{label}  (failed: {}: {first})\n", err.ename)
        }
        (ExecStatus::Error, None) => format!("{label}  (failed)\n"),
        (ExecStatus::Ok, _) => format!("{label}\n"),
    }
}

/// `code` with the lines only IPython understands commented out: a cell magic (`%%time`)
/// turns the whole cell into its input, so all of it is; an indented escape becomes `pass`
/// so its block stays a block.
fn python_only(code: &str) -> String {
    let mut out = String::with_capacity(code.len() + 16);
    if code.trim_start().starts_with("%%") {
        out.push_str("# (an IPython cell magic: the cell runs only under IPython)\n");
        out.extend(code.lines().map(|l| format!("# {l}\n")));
        return out;
    }
    let mut start = 0;
    for line in code.split_inclusive('\n') {
        let body = line.trim_start();
        let indent = &line[..line.len() - body.len()];
        let escape = (body.starts_with('%') || body.starts_with('!'))
            && pyflow::starts_escape_line(code, start);
        start += line.len();
        let line = line.trim_end_matches('\n');
        match (escape, indent.is_empty()) {
            (false, _) => out.push_str(line),
            (true, true) => out.push_str(&format!("# {line}")),
            (true, false) => out.push_str(&format!("{indent}pass  # {}", body.trim_end())),
        }
        out.push('\n');
    }
    out
}
