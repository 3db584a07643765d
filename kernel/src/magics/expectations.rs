//! `%expectations [T]`: every `assert` this kernel's trial (or trial T) ran, with its latest
//! outcome there (passed, failed with its message, not reached) and a ✓✗ row of its outcome in
//! each trial that ran its cell: the answer of `provctl expectations [--trial T]`, from the same
//! renderer. Outcomes come from what the store recorded (status, error, the failing line),
//! never from code added to the cell, so a failing assert looks exactly as in plain Python.

use super::args;
use super::spec::{store_error, MagicContext, MagicResult, MagicSpec};
use clap::Args;

/// The `%expectations` magic.
pub const SPEC: MagicSpec = MagicSpec {
    name: "expectations",
    usage: "[T]",
    help: "the asserts this trial (or trial T) ran: latest outcome, history across trials",
    run: |context, words| args::parse_then(&SPEC, words, |asked| run(context, asked)),
};

/// `%expectations [T]`.
#[derive(Args, Debug)]
struct ExpectationsArgs {
    /// The trial: id, name or UUID (default: this kernel's trial).
    #[arg(value_name = "T")]
    trial: Option<String>,
}

fn run(context: &MagicContext, asked: ExpectationsArgs) -> MagicResult {
    // This kernel's trial, unless one is typed.
    let own = match &asked.trial {
        Some(_) => None,
        None => Some(
            context
                .writer
                .trial()
                .ok_or("the store is not available, so no expectations were recorded")?
                .id,
        ),
    };
    let typed = asked.trial;
    let (trial, expectations) = context
        .writer
        .query(move |store| {
            let trial = match (typed, own) {
                (Some(typed), _) => store.resolve_trial(&typed)?,
                (None, id) => store.trial(id.unwrap_or_default())?,
            };
            let expectations = store.expectations(trial.id)?;
            Ok((trial, expectations))
        })
        .map_err(store_error)?;
    Ok(provrender::render_expectations(&trial, &expectations))
}

#[cfg(test)]
mod tests {
    use crate::magics::tests::run_line as run;

    /// `In[n]` of cell `c` running `code`, failed by an AssertionError at `line` when given.
    fn cell(n: i64, code: &str, failed_at: Option<i64>) -> provstore::ExecutionRecord {
        let at = chrono::Utc::now();
        let error = failed_at.map(|line| provstore::ErrorInfo {
            ename: "AssertionError".into(),
            evalue: "too small".into(),
            traceback: vec![
                format!("Cell In[{n}], line {line}"),
                "AssertionError".into(),
            ],
        });
        provstore::ExecutionRecord {
            code_replaced: false,
            msg_id: format!("m{n}"),
            execution_count: Some(n),
            cell_id: Some("c".into()),
            code: code.into(),
            started_at: at,
            ended_at: at,
            status: if error.is_some() {
                provstore::ExecStatus::Error
            } else {
                provstore::ExecStatus::Ok
            },
            error,
            outputs: vec![],
            dataflow: Some(provstore::DataflowRecord {
                analysis: String::new(),
                runtime: None,
                failed_line: failed_at,
            }),
        }
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
