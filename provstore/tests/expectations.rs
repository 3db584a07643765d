//! Expectations from hand-made executions: what an execution's status, error and failing line
//! say about each assert of its cell, and their history across trials.

mod common;

use common::{cell, store_with_trials};
use provstore::{ErrorInfo, ExecStatus, ExecutionRecord, Outcome};

const FIVE: &str = "x = 1\nassert x == 1, 'one'\nassert x > 5, f'x is {x}'\nassert x < 0\ny = 2\n";

/// `e` in cell `id`, failed with `name: value`, the cell's own frame at `line`.
fn failed(mut e: ExecutionRecord, id: &str, name: &str, value: &str, line: i64) -> ExecutionRecord {
    e.cell_id = Some(id.into());
    e.status = ExecStatus::Error;
    e.error = Some(ErrorInfo {
        ename: name.into(),
        evalue: value.into(),
        traceback: vec![
            format!(
                "\u{1b}[0;32mCell In[{}], line {line}\u{1b}[0m",
                e.execution_count.unwrap()
            ),
            format!("{name}: {value}"),
        ],
    });
    if let Some(d) = e.dataflow.as_mut() {
        d.failed_line = Some(line);
    }
    e
}

fn in_cell(mut e: ExecutionRecord, id: &str) -> ExecutionRecord {
    e.cell_id = Some(id.into());
    e
}

type Seen = Vec<(String, Vec<(i64, Option<i64>, Outcome, Option<String>)>)>;

fn seen(store: &provstore::Store, trial: i64) -> Seen {
    store
        .expectations(trial)
        .unwrap()
        .into_iter()
        .map(|e| {
            let runs = e
                .history
                .iter()
                .map(|r| (r.trial, r.execution_count, r.outcome, r.message.clone()))
                .collect();
            (e.source, runs)
        })
        .collect()
}

#[test]
fn a_failing_assert_passes_those_before_and_does_not_reach_those_after() {
    let (_tmp, _db, mut store, trials) = store_with_trials(1);
    let t = trials[0].id;
    store
        .record_execution(
            t,
            &failed(cell(1, FIVE, "", None), "c1", "AssertionError", "x is 1", 3),
        )
        .unwrap();
    let got = store.expectations(t).unwrap();
    let outcomes: Vec<_> = got
        .iter()
        .map(|e| {
            let r = &e.history[0];
            (
                e.source.as_str(),
                e.cell_id.as_deref(),
                r.outcome,
                r.message.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            ("assert x == 1, 'one'", Some("c1"), Outcome::Passed, None),
            (
                "assert x > 5, f'x is {x}'",
                Some("c1"),
                Outcome::Failed,
                Some("x is 1")
            ),
            ("assert x < 0", Some("c1"), Outcome::NotReached, None),
        ]
    );
    assert_eq!(got[1].reads, ["x"]);
    assert_eq!(got[1].line, 3);
    let json = serde_json::to_value(&got[1]).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"source": "assert x > 5, f'x is {x}'", "cell_id": "c1",
            "history": [{"trial": t, "execution_count": 1, "outcome": "failed", "message": "x is 1"}]})
    );
}

#[test]
fn another_error_fails_no_assert_and_a_successful_run_passes_all() {
    let (_tmp, _db, mut store, trials) = store_with_trials(1);
    let t = trials[0].id;
    let code = "assert True\nz = 1 / 0\nassert z\n";
    store
        .record_execution(
            t,
            &failed(
                cell(1, code, "", None),
                "c",
                "ZeroDivisionError",
                "division by zero",
                2,
            ),
        )
        .unwrap();
    store
        .record_execution(
            t,
            &in_cell(cell(2, code.replace("1 / 0", "1").as_str(), "", None), "c"),
        )
        .unwrap();
    let got = seen(&store, t);
    // The edited cell is a new code, but its asserts are the same expectations.
    assert_eq!(
        got,
        [
            (
                "assert True".to_string(),
                vec![
                    (t, Some(1), Outcome::Passed, None),
                    (t, Some(2), Outcome::Passed, None)
                ]
            ),
            (
                "assert z".to_string(),
                vec![
                    (t, Some(1), Outcome::NotReached, None),
                    (t, Some(2), Outcome::Passed, None)
                ]
            ),
        ]
    );
}

#[test]
fn an_assert_whose_test_raises_failed_with_that_error() {
    let (_tmp, _db, mut store, trials) = store_with_trials(1);
    let t = trials[0].id;
    let code = "a = 1\nassert undefined > 0\n";
    store
        .record_execution(
            t,
            &failed(
                cell(1, code, "", None),
                "c",
                "NameError",
                "name 'undefined' is not defined",
                2,
            ),
        )
        .unwrap();
    let got = seen(&store, t);
    assert_eq!(got[0].1[0].2, Outcome::Failed);
    assert_eq!(
        got[0].1[0].3.as_deref(),
        Some("NameError: name 'undefined' is not defined")
    );
}

#[test]
fn a_cell_that_does_not_parse_reaches_nothing() {
    let (_tmp, _db, mut store, trials) = store_with_trials(1);
    let t = trials[0].id;
    let code = "assert ok\nx = (\n";
    store
        .record_execution(
            t,
            &failed(
                cell(1, code, "", None),
                "c",
                "SyntaxError",
                "'(' was never closed",
                2,
            ),
        )
        .unwrap();
    assert_eq!(
        seen(&store, t),
        [(
            "assert ok".to_string(),
            vec![(t, Some(1), Outcome::NotReached, None)]
        )]
    );
}

#[test]
fn history_spans_trials_and_a_trial_lists_only_its_own_expectations() {
    let (_tmp, _db, mut store, trials) = store_with_trials(2);
    let (t1, t2) = (trials[0].id, trials[1].id);
    let check = "assert acc > 0.9, 'low accuracy'\n";
    store
        .record_execution(t1, &in_cell(cell(1, "acc = 0.95\n", "", None), "p"))
        .unwrap();
    store
        .record_execution(t1, &in_cell(cell(2, check, "", None), "a"))
        .unwrap();
    store
        .record_execution(t1, &in_cell(cell(3, "assert old\n", "", None), "gone"))
        .unwrap();
    store
        .record_execution(t2, &in_cell(cell(1, "acc = 0.5\n", "", None), "p"))
        .unwrap();
    store
        .record_execution(
            t2,
            &failed(
                cell(2, check, "", None),
                "a",
                "AssertionError",
                "low accuracy",
                1,
            ),
        )
        .unwrap();
    let got = seen(&store, t2);
    assert_eq!(
        got,
        [(
            "assert acc > 0.9, 'low accuracy'".to_string(),
            vec![
                (t1, Some(2), Outcome::Passed, None),
                (
                    t2,
                    Some(2),
                    Outcome::Failed,
                    Some("low accuracy".to_string())
                ),
            ]
        )]
    );
    assert_eq!(seen(&store, t1).len(), 2);
    assert!(store.expectations(99).is_err());
}
