//! The diff with the statements' dynamic flags read on demand equals the diff with every
//! execution's flags read first (as the loader did before), on trials where the flags decide.

use super::algorithm::{code_ops, reads};
use super::test_support::recorded;
use super::*;
use crate::NewTrial;

/// A cell's code and what the probe saw it bind.
type Cell = (String, Vec<(&'static str, Option<String>)>);

/// A trial with parameter `p` (in its first cell or, `late`, only from its middle on).
fn cells(p: &str, late: bool) -> Vec<Cell> {
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
                .record_execution(trial, &recorded(n as i64 + 1, None, code, true, &bound))
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
