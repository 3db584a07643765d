//! The diff's expectations read from the executions that may assert equal what the earlier
//! loader found by reading every execution of both trials (`Store::expectations_among`, kept as
//! the reference below), on trials that rerun, edit, fail and drop their asserts.

use super::*;
use crate::compare::test_support::recorded;
use crate::{ErrorInfo, ExecStatus, ExecutionRecord, Expectation, NewTrial};

/// The diff's expectations as the earlier loader found them: every execution of both trials
/// whose cell the trial ran, with its analysis, once per trial.
fn reference(
    store: &Store,
    left: i64,
    right: i64,
    values: &[ValueDiff],
    inputs: &[InputDiff],
) -> Vec<ExpectationDiff> {
    let among = Some([left, right]);
    let (l, r) = (
        store.expectations_among(left, among).unwrap(),
        store.expectations_among(right, among).unwrap(),
    );
    let same = |a: &Expectation, b: &Expectation| a.cell_id == b.cell_id && a.source == b.source;
    let only_left = l.iter().filter(|a| !r.iter().any(|b| same(a, b)));
    let mut out = Vec::new();
    for (e, trial) in r
        .iter()
        .map(|e| (e, right))
        .chain(only_left.map(|e| (e, left)))
    {
        let outcome = |t: i64| e.latest_in(t).map(|run| run.outcome);
        let (lo, ro) = (outcome(left), outcome(right));
        let explained_by = if lo != ro {
            store
                .upstream_changes(trial, &e.reads, values, inputs)
                .unwrap()
        } else {
            Vec::new()
        };
        out.push(ExpectationDiff {
            source: e.source.clone(),
            cell_id: e.cell_id.clone(),
            left: lo,
            right: ro,
            explained_by,
        });
    }
    out
}

/// How an execution of a test cell ended.
#[derive(Clone, Copy)]
enum End {
    Ok,
    /// Failed at this line of the cell (the outermost frame), innermost at the second.
    Failed(i64, i64),
    Aborted,
}

/// `In[n]` of cell `cell_id` running `code`, with its own analysis when `own`, else the code's.
fn run(n: i64, cell_id: Option<&str>, code: &str, end: End, own: bool) -> ExecutionRecord {
    let mut e = recorded(n, cell_id, code, own, &[]);
    match end {
        End::Ok => {}
        End::Aborted => e.status = ExecStatus::Aborted,
        End::Failed(line, inner) => {
            e.status = ExecStatus::Error;
            e.error = Some(ErrorInfo {
                ename: "AssertionError".into(),
                evalue: format!("at {inner}"),
                traceback: vec![
                    format!("\u{1b}[0;32mCell In[{n}], line {line}\u{1b}[0m"),
                    format!("Cell In[{n}], line {inner}, in f()"),
                    "AssertionError".into(),
                ],
            });
            e.dataflow.as_mut().expect("recorded with one").failed_line = Some(line);
        }
    }
    e
}

const SETUP: &str = "x = 1\ny = 2";
const TWICE: &str = "assert x > 0\nz = x\nassert x > 0, 'again'\nassert x > 0";
const NESTED: &str = "def f(v):\n    assert v, 'falsy'\n    return v\nf(y)\nassert y == 2";
const EDITED: &str = "assert x > 1\nassert y";
const QUOTED: &str = "s = 'assert nothing here'";

/// Each trial as its cells: (cell id, code, how it ended, own analysis).
type Cells<'a> = &'a [(Option<&'a str>, &'a str, End, bool)];

fn trials() -> Vec<Cells<'static>> {
    vec![
        &[
            (Some("a"), SETUP, End::Ok, true),
            (Some("b"), TWICE, End::Ok, true),
            (Some("c"), NESTED, End::Failed(4, 2), false),
            (None, "assert y", End::Ok, true),
            (Some("b"), TWICE, End::Failed(3, 3), true),
        ],
        &[
            (Some("a"), SETUP, End::Ok, false),
            (Some("b"), EDITED, End::Failed(1, 1), true),
            (Some("c"), NESTED, End::Ok, true),
            (Some("d"), QUOTED, End::Ok, true),
            (None, "assert y", End::Failed(1, 1), false),
            (Some("e"), "assert z", End::Aborted, true),
        ],
        // No asserts at all, and the same cells under no cell id.
        &[
            (Some("a"), SETUP, End::Ok, true),
            (Some("d"), QUOTED, End::Ok, true),
        ],
        &[
            (None, SETUP, End::Ok, true),
            (None, TWICE, End::Failed(1, 1), false),
            (None, NESTED, End::Ok, true),
            (None, TWICE, End::Ok, true),
        ],
    ]
}

#[test]
fn expectations_read_from_asserting_executions_equal_the_whole_trials_reading() {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = Store::open(&tmp.path().join("prov.db")).unwrap();
    let mut ids = Vec::new();
    for cells in trials() {
        let trial = store
            .begin_trial(&NewTrial::for_this_process(tmp.path()))
            .unwrap()
            .id;
        for (n, &(cell_id, code, end, own)) in cells.iter().enumerate() {
            let e = run(n as i64 + 1, cell_id, code, end, own);
            store.record_execution(trial, &e).unwrap();
        }
        ids.push(trial);
    }
    let mut differing = 0;
    for &left in &ids {
        for &right in &ids {
            let diff = store.trial_diff_with(left, right, true).unwrap();
            let want = reference(&store, left, right, &diff.values, &diff.inputs);
            assert_eq!(diff.expectations, want, "trials {left} and {right}");
            differing += want.iter().filter(|e| e.differs()).count();
        }
    }
    // The trials exercise what the comparison is about: outcomes that differ, on both sides.
    assert!(differing > 10, "{differing}");
    let some = store.trial_diff(ids[0], ids[1]).unwrap().expectations;
    assert!(some.iter().any(|e| e.left.is_none()) && some.iter().any(|e| e.right.is_none()));
    assert!(store
        .trial_diff(ids[2], ids[2])
        .unwrap()
        .expectations
        .is_empty());
}
