//! The expectations renderer on hand-made answers: the latest outcome and message, the ✓✗ row
//! per trial, the nested mark, the JSON contract, a trial without asserts.

use provstore::ExpectationRun;

use super::*;
use crate::tests::{assert_shows, trial};

fn run(trial: i64, n: i64, outcome: Outcome, message: Option<&str>) -> ExpectationRun {
    ExpectationRun {
        trial,
        execution_count: Some(n),
        outcome,
        message: message.map(String::from),
        execution_id: trial * 100 + n,
    }
}

fn expectation(source: &str, nested: bool, history: Vec<ExpectationRun>) -> Expectation {
    Expectation {
        source: source.into(),
        cell_id: Some("c-1".into()),
        history,
        nested,
        line: 3,
        reads: vec!["acc".into()],
    }
}

#[test]
fn each_assert_shows_its_latest_outcome_and_a_mark_per_trial() {
    let answer = [
        expectation(
            "assert acc > 0.9, 'low accuracy'",
            false,
            vec![
                run(1, 2, Outcome::Passed, None),
                run(2, 2, Outcome::Passed, None),
                run(2, 5, Outcome::Failed, Some("low accuracy")),
            ],
        ),
        expectation(
            "assert r > 0",
            true,
            vec![run(2, 5, Outcome::NotReached, None)],
        ),
    ];
    let shown = render_expectations(&trial(2, None), &answer);
    assert_shows(
        &shown.text,
        &[
            "Expectations of trial 2: 2 asserts, 0 passed, 1 failed, 1 not reached",
            "In[5]",
            "assert acc > 0.9, 'low accuracy'",
            "failed",
            "1✓ 2✗",
            "low accuracy",
            "assert r > 0 *",
            "not reached",
            "2·",
        ],
    );
    assert!(shown.html.contains("<table"), "{}", shown.html);
    assert!(shown.html.contains("1✓ 2✗"), "{}", shown.html);
    assert_eq!(
        shown.json[0],
        serde_json::json!({"source": "assert acc > 0.9, 'low accuracy'", "cell_id": "c-1",
            "history": [
                {"trial": 1, "execution_count": 2, "outcome": "passed", "message": null},
                {"trial": 2, "execution_count": 2, "outcome": "passed", "message": null},
                {"trial": 2, "execution_count": 5, "outcome": "failed", "message": "low accuracy"}]})
    );
}

#[test]
fn a_trial_without_asserts_says_so() {
    let shown = render_expectations(&trial(4, Some("base")), &[]);
    assert!(shown
        .text
        .contains("Expectations of trial 4 \"base\": none"));
    assert_eq!(shown.json, serde_json::json!([]));
}
