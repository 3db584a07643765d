//! `provctl expectations` end to end: the built binary against a store of two trials where an
//! upstream parameter change makes an assert fail: the JSON contract, the text with its ✓✗
//! row, `--trial` and the positional trial, the latest trial by default, no such trial.

mod common;

use std::path::Path;

use common::{execution, json, new_trial, ok_stdout, provctl, refused, store_in, with_notes};
use provstore::{ErrorInfo, ExecStatus, ExecutionRecord};
use serde_json::json;

const CHECK: &str = "score = acc * 2\n# the model must be good enough\nassert score > 1, f'score {score} too low'\nassert acc < 1\n";

/// `In[n]` in cell `cell`, as the kernel records it (analysis made by the store).
fn in_cell(n: i64, cell: &str, code: &str) -> ExecutionRecord {
    let mut e = with_notes(execution(n, code), String::new(), None);
    e.cell_id = Some(cell.into());
    e
}

/// [`in_cell`] failing with an AssertionError `message` at `line` of the cell.
fn assert_failed(n: i64, cell: &str, code: &str, message: &str, line: i64) -> ExecutionRecord {
    let mut e = in_cell(n, cell, code);
    e.status = ExecStatus::Error;
    e.error = Some(ErrorInfo {
        ename: "AssertionError".into(),
        evalue: message.into(),
        traceback: vec![
            format!("\u{1b}[0;32mCell In[{n}], line {line}\u{1b}[0m"),
            format!("AssertionError: {message}"),
        ],
    });
    e.dataflow.as_mut().unwrap().failed_line = Some(line);
    e
}

fn two_trials(dir: &Path) {
    let (_db, mut store) = store_in(dir);
    let a = store.begin_trial(&new_trial(dir)).unwrap();
    store.set_trial_name(a.id, "good").unwrap();
    store
        .record_execution(a.id, &in_cell(1, "params", "acc = 0.9"))
        .unwrap();
    store
        .record_execution(a.id, &in_cell(2, "check", CHECK))
        .unwrap();
    let b = store.begin_trial(&new_trial(dir)).unwrap();
    store
        .record_execution(b.id, &in_cell(1, "params", "acc = 0.3"))
        .unwrap();
    store
        .record_execution(
            b.id,
            &assert_failed(2, "check", CHECK, "score 0.6 too low", 3),
        )
        .unwrap();
}

#[test]
fn expectations_json_is_the_contract() {
    let tmp = tempfile::tempdir().unwrap();
    two_trials(tmp.path());
    let latest = json(&provctl(tmp.path(), &["expectations", "--json"]));
    assert_eq!(
        latest,
        json!([
            {"source": "assert score > 1, f'score {score} too low'", "cell_id": "check",
             "history": [
                {"trial": 1, "execution_count": 2, "outcome": "passed", "message": null},
                {"trial": 2, "execution_count": 2, "outcome": "failed",
                 "message": "score 0.6 too low"}]},
            {"source": "assert acc < 1", "cell_id": "check",
             "history": [
                {"trial": 1, "execution_count": 2, "outcome": "passed", "message": null},
                {"trial": 2, "execution_count": 2, "outcome": "not reached", "message": null}]}
        ])
    );
    // `--trial T` and the positional T name the same trial.
    assert_eq!(
        json(&provctl(
            tmp.path(),
            &["expectations", "--trial", "2", "--json"]
        )),
        latest
    );
    assert_eq!(
        json(&provctl(tmp.path(), &["expectations", "2", "--json"])),
        latest
    );
    // Trial 1 lists the same expectations: the history is the same across trials.
    assert_eq!(
        json(&provctl(
            tmp.path(),
            &["expectations", "--trial", "good", "--json"]
        )),
        latest
    );
}

#[test]
fn expectations_text_shows_the_latest_outcome_and_a_row_per_trial() {
    let tmp = tempfile::tempdir().unwrap();
    two_trials(tmp.path());
    let text = ok_stdout(&provctl(tmp.path(), &["expectations"]));
    for part in [
        "Expectations of trial 2: 2 asserts, 0 passed, 1 failed, 1 not reached",
        "assert score > 1, f'score {score} too low'",
        "1✓ 2✗",
        "score 0.6 too low",
        "not reached",
        "1✓ 2·",
    ] {
        assert!(text.contains(part), "{part:?} not in:\n{text}");
    }
    let first = ok_stdout(&provctl(tmp.path(), &["expectations", "--trial", "1"]));
    assert!(first.contains("2 passed, 0 failed"), "{first}");
}

#[test]
fn expectations_of_no_such_trial_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    two_trials(tmp.path());
    let said = refused(
        &provctl(tmp.path(), &["expectations", "--trial", "9"]),
        "trial 9",
    );
    assert!(said.contains('9'), "{said}");
}
