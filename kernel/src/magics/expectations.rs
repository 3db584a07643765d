//! `%expectations [T]`: every `assert` this kernel's trial (or trial T) ran, with its latest
//! outcome there (passed, failed with its message, not reached) and a ✓✗ row of its outcome in
//! each trial that ran its cell: the answer of `provctl expectations [--trial T]`, from the same
//! renderer. Outcomes come from what the store recorded (status, error, the failing line),
//! never from code added to the cell, so a failing assert looks exactly as in plain Python.

use super::args::{self, TrialArg};
use super::spec::{trial_query, MagicContext, MagicResult, MagicSpec};

/// The `%expectations` magic.
pub const SPEC: MagicSpec = MagicSpec {
    name: "expectations",
    usage: "[T]",
    help: "the asserts this trial (or trial T) ran: latest outcome, history across trials",
    run: |context, words| args::parse_then(&SPEC, words, |asked| run(context, asked)),
};

fn run(context: &MagicContext, asked: TrialArg) -> MagicResult {
    let unavailable = "the store is not available, so no expectations were recorded";
    let (trial, expectations) = trial_query(context, asked.trial, unavailable, |store, trial| {
        Ok((store.trial(trial)?, store.expectations(trial)?))
    })?;
    Ok(provrender::render_expectations(&trial, &expectations))
}

#[cfg(test)]
mod tests {
    use crate::magics::tests::run_line as run;

    /// `In[n]` of cell `c` running `code`, failed by an AssertionError at `line` when given.
    fn cell(n: i64, code: &str, failed_at: Option<i64>) -> provstore::ExecutionRecord {
        let mut cell = crate::magics::tests::record(n, code);
        cell.cell_id = Some("c".into());
        cell.error = failed_at.map(|line| provstore::ErrorInfo {
            ename: "AssertionError".into(),
            evalue: "too small".into(),
            traceback: vec![
                format!("Cell In[{n}], line {line}"),
                "AssertionError".into(),
            ],
        });
        if cell.error.is_some() {
            cell.status = provstore::ExecStatus::Error;
        }
        if let Some(dataflow) = cell.dataflow.as_mut() {
            dataflow.failed_line = failed_at;
        }
        cell
    }

    #[test]
    fn expectations_answers_for_this_trial_or_the_one_named() {
        let (_dir, context) = crate::magics::tests::context();
        let empty = run(&context, "%expectations").unwrap();
        assert!(empty.text.contains(": none"), "{}", empty.text);
        context.writer.record(cell(
            1,
            "x = 1\nassert x > 0\nassert x > 5, 'too small'\n",
            None,
        ));
        context.writer.record(cell(
            2,
            "x = 1\nassert x > 0\nassert x > 5, 'too small'\n",
            Some(3),
        ));
        let answer = run(&context, "%expectations").unwrap();
        assert!(
            answer.text.contains("1 passed, 1 failed"),
            "{}",
            answer.text
        );
        assert!(answer.text.contains("too small"), "{}", answer.text);
        assert_eq!(answer.json[1]["history"][1]["outcome"], "failed");
        assert_eq!(answer.json[1]["history"][0]["outcome"], "passed");
        let bundle = answer.mime_bundle();
        let keys: Vec<&String> = bundle.keys().collect();
        assert_eq!(keys, ["text/html", "text/plain"]);
        assert_eq!(run(&context, "%expectations 1").unwrap().json, answer.json);
        let unknown = run(&context, "%expectations nope").unwrap_err();
        assert!(unknown.contains("nope"), "{unknown}");
    }
}
