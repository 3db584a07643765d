//! The live checks (`Store::live_findings`, the kernel's `%prov_warn`): after each execution,
//! what the rules that can judge one execution find for it is exactly what that execution
//! added to the whole trial's check, and nothing for the executions that add nothing. (A
//! circle is told from the run that closes it, so the live warning starts there; the whole
//! trial's check starts it at its oldest cell: the same steps, turned.)

mod common;

use common::{cell, count, store_with_trials};
use provstore::{Finding, Store};

const LIVE_RULES: [&str; 2] = ["data-leakage", "stale-result"];

/// The live rules' findings over the whole trial.
fn whole(store: &Store, trial: i64) -> Vec<Finding> {
    let report = store.check(trial).unwrap();
    report
        .findings
        .into_iter()
        .filter(|f| LIVE_RULES.contains(&f.rule))
        .collect()
}

/// Records `cells` (`(cell id, code)`, as In[1], In[2], …) one by one; for each, its live
/// findings, checked to be what it added to the whole trial's findings.
fn live_story(cells: &[(&str, &str)]) -> Vec<Vec<Finding>> {
    let (_tmp, _db, mut store, trials) = store_with_trials(1);
    let trial = trials[0].id;
    let mut story = Vec::new();
    for (i, (cell_id, code)) in cells.iter().enumerate() {
        let before = whole(&store, trial);
        let mut e = cell(i as i64 + 1, code, "", None);
        e.cell_id = Some(cell_id.to_string());
        e.msg_id = format!("request-{i}");
        store.record_execution(trial, &e).unwrap();
        let live = store.live_findings(trial, &e.msg_id).unwrap();
        let added: Vec<Finding> = whole(&store, trial)
            .into_iter()
            .filter(|f| !before.contains(f))
            .collect();
        assert_eq!(
            live.iter().map(same).collect::<Vec<_>>(),
            added.iter().map(same).collect::<Vec<_>>(),
            "after In[{}] {code:?}",
            i + 1
        );
        story.push(live);
    }
    story
}

/// What makes two findings the same: a circle's steps and executions in any order.
fn same(f: &Finding) -> (&'static str, Vec<String>, Vec<i64>) {
    let Some(rest) = f.message.strip_prefix("out-of-order execution: ") else {
        return (f.rule, vec![f.message.clone()], f.executions.clone());
    };
    let steps = rest.split(';').next().unwrap_or_default();
    let mut steps: Vec<String> = steps.split(", ").map(str::to_string).collect();
    let mut executions = f.executions.clone();
    steps.sort();
    executions.sort();
    (f.rule, steps, executions)
}

/// Checks that only execution `at` (counted from 0) of `story` found anything: `rule`'s.
fn only_at<'a>(story: &'a [Vec<Finding>], at: usize, rule: &str) -> &'a Finding {
    for (i, found) in story.iter().enumerate() {
        let rules: Vec<&str> = found.iter().map(|f| f.rule).collect();
        let expected = if i == at { vec![rule] } else { vec![] };
        assert_eq!(rules, expected, "In[{}]", i + 1);
    }
    &story[at][0]
}

const SPLIT: &str = "from sklearn.model_selection import train_test_split\n\
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3)";

#[test]
fn an_edited_cell_re_run_warns_about_its_readers_and_nothing_else_does() {
    let story = live_story(&[
        ("a", "x = 1"),
        ("b", "y = x * 2"),
        ("c", "z = y + 1"),
        ("a", "x = 1"),
        ("a", "x = 2"),
        ("b", "y = x * 2"),
        ("d", "w = 5"),
    ]);
    assert_eq!(only_at(&story, 4, "stale-result").executions, [2, 1, 5]);
}

#[test]
fn a_circle_is_warned_by_the_run_that_closes_it() {
    let story = live_story(&[("a", "x = 1"), ("b", "y = x + 1"), ("a", "x = y + 1")]);
    let last: Vec<&str> = story[2].iter().map(|f| f.message.as_str()).collect();
    assert_eq!(last.len(), 2, "{last:?}");
    assert!(last[0].contains("edited and re-run"), "{}", last[0]);
    assert!(last[1].starts_with("out-of-order execution"), "{}", last[1]);
    assert!(story[..2].iter().all(Vec::is_empty));
}

#[test]
fn a_fit_on_the_test_part_is_warned_by_its_own_cell_only() {
    let story = live_story(&[
        ("a", "X, y = load()"),
        ("b", SPLIT),
        ("c", "scaled = scaler.transform(X_test)"),
        ("d", "model = Model()\nmodel.fit(X_train, y_train)"),
        ("e", "model.fit(scaled, y_train)"),
        ("f", "score = model.score(X_test, y_test)"),
        ("g", "model.fit(X_train, y_train)"),
    ]);
    assert_eq!(only_at(&story, 4, "data-leakage").executions, [2, 5]);
}

#[test]
fn an_unknown_request_or_a_cell_without_an_id_finds_nothing() {
    let (_tmp, _db, mut store, trials) = store_with_trials(1);
    let trial = trials[0].id;
    assert_eq!(store.live_findings(trial, "never sent").unwrap(), []);
    for (n, code) in [(1, "x = 1"), (2, "y = x * 2"), (3, "x = 2")] {
        let mut e = cell(n, code, "", None);
        e.msg_id = format!("r{n}");
        e.cell_id = None;
        store.record_execution(trial, &e).unwrap();
    }
    assert_eq!(store.live_findings(trial, "r3").unwrap(), []);
}

#[test]
fn a_cells_runs_are_found_by_index() {
    let (_tmp, db, _store, _trials) = store_with_trials(1);
    let plan: Vec<String> = {
        let conn = common::raw(&db);
        let mut stmt = conn
            .prepare(
                "EXPLAIN QUERY PLAN SELECT 1 FROM executions l
                  WHERE l.trial_id = 1 AND l.cell_id = 'a' AND l.seq > 3",
            )
            .unwrap();
        let rows = stmt.query_map([], |r| r.get::<_, String>(3)).unwrap();
        rows.map(Result::unwrap).collect()
    };
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM sqlite_master WHERE name = 'executions_by_cell'"
        ),
        1
    );
    assert!(
        plan.iter().any(|step| step.contains("executions_by_cell")),
        "{plan:?}"
    );
}
