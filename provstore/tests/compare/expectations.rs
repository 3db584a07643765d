//! The diff's expectations: an assert that passed in one trial and failed in the other, with
//! the changed parameter upstream as its explanation; an unchanged one only with `--all`.

use super::*;
use provstore::{ErrorInfo, ExecStatus, Outcome};

/// `In[6]`: an assert on `acc` (failing at line 2 when `fails`), then one that always holds.
fn record_check(store: &mut Store, trial: i64, fails: bool) {
    let code = "import math\nassert acc > 0.8, f'acc {acc} is low'\nassert math.pi > 3\n";
    let mut e = cell(6, code, "", Some(&bound(&[])));
    if fails {
        e.status = ExecStatus::Error;
        e.error = Some(ErrorInfo {
            ename: "AssertionError".into(),
            evalue: "acc 0.5 is low".into(),
            traceback: vec![
                "Cell In[6], line 2".into(),
                "AssertionError: acc 0.5 is low".into(),
            ],
        });
        e.dataflow.as_mut().unwrap().failed_line = Some(2);
    }
    store.record_execution(trial, &e).unwrap();
}

#[test]
fn a_flipped_expectation_is_explained_by_the_parameter_upstream() {
    let (_tmp, _db, mut store, trials) = store_with_trials(2);
    let (a, b) = (trials[0].id, trials[1].id);
    record_model_run(&mut store, a, 1.0, 0.9);
    record_check(&mut store, a, false);
    record_model_run(&mut store, b, 0.001, 0.5);
    record_check(&mut store, b, true);

    let diff = store.trial_diff(a, b).unwrap();
    let seen: Vec<_> = diff
        .expectations
        .iter()
        .map(|e| (e.source.as_str(), e.left, e.right, e.explained_by.clone()))
        .collect();
    assert_eq!(
        seen,
        [
            (
                "assert acc > 0.8, f'acc {acc} is low'",
                Some(Outcome::Passed),
                Some(Outcome::Failed),
                // What changed upstream of acc: the parameter C, the model fitted with it.
                vec!["C".to_string(), "acc".to_string(), "model".to_string()],
            ),
            (
                "assert math.pi > 3",
                Some(Outcome::Passed),
                Some(Outcome::NotReached),
                vec![]
            ),
        ]
    );
    let shown = diff.only_differences();
    assert_eq!(shown.expectations.len(), 2);
    assert!(!diff.is_same());
    let json = serde_json::to_value(&shown).unwrap();
    assert_eq!(
        json["expectations"][0],
        json!({"source": "assert acc > 0.8, f'acc {acc} is low'", "left": "passed",
               "right": "failed", "explained_by": ["C", "acc", "model"]})
    );

    // The same outcomes in both trials: listed only with --all, with nothing to explain.
    let same = store.trial_diff(a, a).unwrap();
    assert_eq!(same.expectations.len(), 2);
    assert!(same
        .expectations
        .iter()
        .all(|e| !e.differs() && e.explained_by.is_empty()));
    assert!(same.only_differences().expectations.is_empty());
}
