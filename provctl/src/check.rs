//! `provctl check [T] [--strict] [--rules]`: runs the checks (data leakage, stale results,
//! numeric trouble, …) over a trial and prints each finding with its severity, the executions
//! involved and what to do; with `--json` the array of `{"rule", "severity", "message",
//! "executions"}`. Exit status 0 whether or not there are findings; with `--strict`, 1 when
//! there are (after printing them), so a script or CI can stop on them.

use std::io::Write;

use provstore::Store;

use crate::output::{answer, Failure, Json};

/// Prints the findings of `trial` (or, with `rules`, the list of rules).
pub(crate) fn run(
    store: &Store,
    trial: i64,
    strict: bool,
    json: Option<Json>,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let report = store.check(trial)?;
    answer(out, json, &report.findings, || {
        provrender::render_checks(&report).text
    })?;
    if strict && !report.findings.is_empty() {
        out.flush()?;
        return Err(Failure::Exit {
            code: 1,
            message: format!(
                "{} finding(s) in trial {} (--strict)",
                report.findings.len(),
                report.trial.id
            ),
        });
    }
    Ok(())
}

/// Prints the rules, each with what it finds and a line of Python that triggers it.
pub(crate) fn rules(json: Option<Json>, out: &mut impl Write) -> Result<(), Failure> {
    let rendered = provrender::render_rules(provstore::RULES);
    answer(out, json, &rendered.json, || rendered.text.clone())
}
