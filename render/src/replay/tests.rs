use provstore::{Cause, FirstDivergence, ReplayExecution, ReplaySummary};

use super::*;

fn execution(n: i64, status: ReplayStatus, differences: Vec<Difference>) -> ReplayExecution {
    ReplayExecution {
        execution_count: Some(n),
        replay_execution_count: Some(n),
        status,
        differences,
        code: format!("print({n})"),
    }
}

fn report(first: Option<FirstDivergence>, executions: Vec<ReplayExecution>) -> ReplayReport {
    ReplayReport {
        source_trial: 3,
        replay_trial: 5,
        replay_name: Some("replay-of-3".into()),
        tolerance: 1e-9,
        summary: ReplaySummary {
            reproduced: 1,
            differs: usize::from(first.is_some()),
            error: 0,
        },
        executions,
        first_divergence: first,
        not_replayed: vec![Some(7)],
    }
}

#[test]
fn a_divergence_shows_what_differs_and_its_cause() {
    let d = Difference {
        kind: "output",
        what: "stdout".into(),
        expected: Some("0.1".into()),
        got: Some("0.7 <b>".into()),
    };
    let first = FirstDivergence {
        execution_count: Some(2),
        status: ReplayStatus::Differs,
        differences: vec![d.clone()],
        cause: Cause {
            kind: "unseeded-randomness",
            message: "In[2] draws random numbers without a seed".into(),
        },
    };
    let r = report(
        Some(first),
        vec![
            execution(1, ReplayStatus::Reproduced, vec![]),
            execution(2, ReplayStatus::Differs, vec![d]),
        ],
    );
    let shown = render_replay(&r);
    let text = &shown.text;
    for part in [
        "replay of trial 3 as trial 5 \"replay-of-3\": 1 reproduced, 1 differ, 0 error\n",
        "In [2]",
        "stdout: 0.1 → 0.7 <b>",
        "output stdout: expected 0.1, got 0.7 <b>",
        "likely cause (unseeded-randomness): In[2] draws random numbers without a seed",
        "not replayed (aborted in the source, never ran): In [7]",
        "within a relative tolerance of 1e-9; the whole diff: %trial_diff 3 replay-of-3",
    ] {
        assert!(text.contains(part), "{part:?} in {text}");
    }
    assert!(shown.html.contains("0.7 &lt;b&gt;"), "{}", shown.html);
    assert_eq!(shown.json["first_divergence"]["execution_count"], 2);
    assert_eq!(shown.json["executions"][1]["status"], "differs");
    assert!(shown.json["executions"][1].get("code").is_none());
}

#[test]
fn a_full_reproduction_says_so() {
    let r = report(None, vec![execution(1, ReplayStatus::Reproduced, vec![])]);
    let shown = render_replay(&r);
    assert!(
        shown.text.contains("every execution reproduced"),
        "{}",
        shown.text
    );
    assert_eq!(shown.json["first_divergence"], serde_json::Value::Null);
    assert_eq!(shown.json["summary"]["reproduced"], 1);
}
