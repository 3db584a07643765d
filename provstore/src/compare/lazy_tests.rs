//! The diff with the statements' dynamic flags read on demand equals the diff with every
//! execution's flags read first (as the loader did before), on trials where the flags decide.

use chrono::{Duration, Utc};

use super::algorithm::{code_ops, reads};
use super::*;
use crate::{DataflowRecord, ExecStatus, ExecutionRecord, NewTrial};

/// `In[n]` running `code`, the probe having seen it bind `bound` (name, JSON value or None for
/// a value known by its type only).
fn cell(n: i64, code: &str, bound: &[(&str, Option<&str>)]) -> ExecutionRecord {
    let at = Utc::now();
    let bound: Vec<String> = bound
        .iter()
        .enumerate()
        .map(|(k, (name, value))| {
            let id = n * 100 + k as i64;
            let info = match value {
                Some(v) => format!(r#"{{"type": "int", "value": {v}}}"#),
                None => r#"{"type": "lib.Model"}"#.to_string(),
            };
            format!(r#"["{name}", {id}, {info}]"#)
        })
        .collect();
    ExecutionRecord {
        code_replaced: false,
        msg_id: format!("msg-{n}-{}", uuid::Uuid::new_v4()),
        execution_count: Some(n),
        cell_id: None,
        code: code.into(),
        started_at: at,
        ended_at: at + Duration::milliseconds(3),
        status: ExecStatus::Ok,
        error: None,
        outputs: vec![],
        dataflow: Some(DataflowRecord {
            analysis: serde_json::to_string(&pyflow::analyze_cell(code)).unwrap(),
            runtime: Some(format!(
                r#"{{"bound": [{}], "deleted": []}}"#,
                bound.join(", ")
            )),
            failed_line: None,
        }),
    }
}

/// A trial with parameter `p` (in its first cell or, `late`, only from its middle on).
fn cells(p: &str, late: bool) -> Vec<(String, Vec<(&'static str, Option<String>)>)> {
    let first = if late { "1" } else { p };
    let mut out = vec![(format!("p = {first}"), vec![("p", Some(first.to_string()))])];
    for round in 0..3 {
        if late && round == 2 {
            out.push((format!("p = {p}"), vec![("p", Some(p.to_string()))]));
        }
        out.extend([
            ("m = fit(p)".to_string(), vec![("m", None)]),
            (
                "q = p + 1\nexec('r = make()')".into(),
                vec![("q", None), ("r", None)],
            ),
            ("from lib import *\ns = fit(m)".into(), vec![("s", None)]),
            (
                "t = make()\n%time u = fit(t)".into(),
                vec![("t", None), ("u", None)],
            ),
            (
                "w = fit(q)\nexec('v = make()')".into(),
                vec![("w", None), ("v", None)],
            ),
        ]);
    }
    out
}

/// The values of the diff of `left` and `right` with every execution's dynamic flags read
/// first (`flags`), or none.
fn eager(store: &Store, left: i64, right: i64, flags: bool) -> Vec<ValueDiff> {
    let (mut l, mut r) = (
        store.diff_side(left).unwrap().1,
        store.diff_side(right).unwrap().1,
    );
    if flags {
        for side in [&mut l, &mut r] {
            let all: Vec<usize> = (0..side.execs.len()).collect();
            store.mark_dynamic(side, &all).unwrap();
        }
    }
    let ops = code_ops(&l.execs, &r.execs);
    let (lr, rr) = replaced(&ops);
    store.fill_statement_texts(&mut l, &lr).unwrap();
    store.fill_statement_texts(&mut r, &rr).unwrap();
    let (_, seeds) = compare_inputs(&reads(&l), &reads(&r));
    let (values, wanted) = compare_values_wanting(&l, &r, &ops, &seeds);
    if flags {
        assert!(wanted.iter().all(Vec::is_empty));
    }
    values
}

#[test]
fn dynamic_flags_read_on_demand_give_the_diff_of_all_flags_read() {
    let tmp = tempfile::tempdir().unwrap();
    let mut store = Store::open(&tmp.path().join("prov.db")).unwrap();
    let mut ids = Vec::new();
    for (p, late) in [("1", false), ("2", false), ("2", true), ("1", true)] {
        let trial = store
            .begin_trial(&NewTrial::for_this_process(tmp.path()))
            .unwrap()
            .id;
        for (n, (code, bound)) in cells(p, late).iter().enumerate() {
            let bound: Vec<(&str, Option<&str>)> =
                bound.iter().map(|(k, v)| (*k, v.as_deref())).collect();
            store
                .record_execution(trial, &cell(n as i64 + 1, code, &bound))
                .unwrap();
        }
        ids.push(trial);
    }
    let mut decided = 0;
    for &left in &ids {
        for &right in &ids {
            let want = eager(&store, left, right, true);
            assert_eq!(
                store.trial_diff_with(left, right, true).unwrap().values,
                want
            );
            assert_eq!(
                store.intersection_diff(left, right).unwrap().values.len(),
                want.iter()
                    .filter(|v| v.left_type.is_some() && v.right_type.is_some())
                    .count()
            );
            decided += usize::from(eager(&store, left, right, false) != want);
        }
    }
    // The flags decide some of these diffs: without them, names would be judged otherwise.
    assert!(decided > 0);
}
