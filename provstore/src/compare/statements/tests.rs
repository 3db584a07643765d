//! Matching statements across a replaced range, and the walk, on hand-made statements; then
//! whole values' comparisons of hand-made trials that only the statement-level walk gets right.

use super::*;
use crate::compare::algorithm::{Exec, Final};
use crate::compare::model::DiffStatus;
use crate::compare::test_support::{changed, scalar, side, typed, values, Statement, Trial};

/// Statements with these texts, each making one version of a name of its own.
fn stmts(texts: &[&str]) -> Vec<Stmt> {
    texts
        .iter()
        .enumerate()
        .map(|(i, t)| Stmt {
            index: i as i64,
            text: Some(t.to_string()),
            makes: vec![Made {
                symbol: format!("v{i}"),
                name: format!("v{i}"),
                current: true,
                mutation: false,
            }],
            ..Stmt::default()
        })
        .collect()
}

fn cells(execs: &[Vec<Stmt>]) -> Vec<Cell<'_>> {
    execs
        .iter()
        .enumerate()
        .map(|(i, s)| Cell {
            seq: i as i64 + 1,
            statements: s,
            dynamic_read: true,
        })
        .collect()
}

#[test]
fn a_replaced_range_matches_its_statements_by_text_across_cells() {
    // Left ran two cells, right merged them into one and changed a line.
    let left = [stmts(&["a = 1", "b = 2"]), stmts(&["c = a", "d = 4"])];
    let right = [stmts(&["a = 1", "b = 3", "c = a", "d = 4"])];
    let ops = [(CodeOpKind::Replace, 0..2, 0..1)];
    let (l, r) = matched_statements(&ops, &cells(&left), &cells(&right));
    assert_eq!(l, [vec![true, false], vec![true, true]]);
    assert_eq!(r, [vec![true, false, true, true]]);
}

#[test]
fn equal_cells_match_whole_and_lone_ones_not_at_all() {
    let left = [stmts(&["a = 1"]), stmts(&["b = 2"])];
    let mut right = vec![stmts(&["a = 1"])];
    right[0][0].text = None; // even without text: the cell is the same code
    right.push(stmts(&["b = 2"]));
    let ops = [
        (CodeOpKind::Equal, 0..1, 0..1),
        (CodeOpKind::Delete, 1..2, 1..1),
        (CodeOpKind::Insert, 2..2, 1..2),
    ];
    let (l, r) = matched_statements(&ops, &cells(&left), &cells(&right));
    assert_eq!(l, [vec![true], vec![false]]);
    assert_eq!(r, [vec![true], vec![false]]);
    // A statement without text in a replaced range has nothing to match.
    let (l, _) = matched_statements(
        &[(CodeOpKind::Replace, 0..1, 0..1)],
        &cells(&right[..1]),
        &cells(&left[..1]),
    );
    assert_eq!(l, [vec![false]]);
}

#[test]
fn a_difference_flows_along_reads_in_the_cell_and_after_it() {
    let mut execs = vec![stmts(&["v0 = 1", "v1 = 2"]), stmts(&["v0 = v1"])];
    // v1 = f(v0) in the first cell, then the second cell's v0 reads that v1.
    execs[0][1].reads.push(Read {
        seq: Some(1),
        statement: 0,
        made: Some(0),
    });
    execs[1][0].reads.push(Read {
        seq: Some(1),
        statement: 1,
        made: Some(0),
    });
    execs[0][0].makes[0].current = false;
    let judged = HashMap::new();
    let cells = cells(&execs);
    // Only the first statement's text changed.
    let matched = [vec![false, true], vec![true]];
    let changed = changed_names(&cells, &matched, &judged);
    let mut changed: Vec<&str> = changed.into_iter().collect();
    changed.sort();
    assert_eq!(changed, ["v0", "v1"]);
    // Judged by value as equal, v1's final value stops the flow.
    let judged = HashMap::from([("v1", false)]);
    let changed = changed_names(&cells, &matched, &judged);
    assert_eq!(changed, HashSet::from(["v1"]), "only v1's own statement");
}

#[test]
fn a_changed_input_taints_what_is_made_from_it_until_remade_alike() {
    let run = |c: &str| {
        let assign = format!("C = {c}");
        Trial::default()
            .cell(&[(&assign, &["C"], &[])])
            .cell(&[("model = fit(C)", &["model"], &["C"])])
            .cell(&[("other = fit(1)", &["other"], &[])])
            .cell(&[("later = fit(C)", &["later"], &["C"])])
            .cell(&[("later = fit(1)", &["later"], &[])])
            .execs
    };
    let finals = |c: &str| {
        vec![
            ("C", scalar("int", c)),
            ("model", typed("M")),
            ("other", typed("M")),
            ("later", typed("M")),
        ]
    };
    let l = side(1, run("1"), &finals("1"));
    let r = side(2, run("2"), &finals("2"));
    assert_eq!(
        values(&l, &r),
        vec![
            ("C".into(), DiffStatus::Changed, "value"),
            ("model".into(), DiffStatus::Changed, "dependencies"),
            ("later".into(), DiffStatus::Equal, "dependencies"),
            ("other".into(), DiffStatus::Equal, "dependencies"),
        ]
    );
}

#[test]
fn code_only_one_trial_ran_taints_what_it_defines() {
    let fit: Statement = ("m = fit()", &["m"], &[]);
    let l = side(1, Trial::default().cell(&[fit]).execs, &[("m", typed("M"))]);
    let r = side(
        2,
        Trial::default()
            .cell(&[fit])
            .cell(&[("m.tune()", &["+m"], &["m"])])
            .execs,
        &[("m", typed("M"))],
    );
    assert_eq!(
        values(&l, &r),
        vec![("m".into(), DiffStatus::Changed, "dependencies")]
    );
}

/// The house-price experiment of issue 12: one cell sets the hyperparameter beside a seeded
/// split and a literal feature list, the next fits and scores.
fn house_prices(max_depth: &str) -> Vec<Exec> {
    let depth = format!("max_depth = {max_depth}");
    Trial::default()
        .cell(&[
            ("import numpy as np", &["np"], &[]),
            ("rng = np.random.default_rng(0)", &["rng"], &["np"]),
            ("data = make(rng)", &["data", "+rng"], &["rng"]),
        ])
        .cell(&[
            (&depth, &["max_depth"], &[]),
            ("features = ['sqft', 'rooms']", &["features"], &[]),
            ("X = data[features]", &["X"], &["data", "features"]),
            (
                "X_train, X_test = split(X, random_state=0)",
                &["X_train", "X_test"],
                &["X"],
            ),
        ])
        .cell(&[
            (
                "model = Tree(max_depth=max_depth)",
                &["model"],
                &["max_depth"],
            ),
            ("model.fit(X_train)", &["+model"], &["model", "X_train"]),
            (
                "pred = model.predict(X_test)",
                &["pred"],
                &["model", "X_test"],
            ),
            ("mae = score(pred)", &["mae"], &["pred"]),
        ])
        .execs
}

fn house_finals(max_depth: &str, mae: &str) -> Vec<(&'static str, Final)> {
    let mut finals: Vec<(&str, Final)> = [
        "np", "rng", "data", "features", "X", "X_train", "X_test", "model", "pred",
    ]
    .into_iter()
    .map(|n| (n, typed("T")))
    .collect();
    finals.push(("max_depth", scalar("int", max_depth)));
    finals.push(("mae", scalar("float", mae)));
    finals
}

#[test]
fn only_statements_that_read_a_changed_name_are_different() {
    let l = side(1, house_prices("3"), &house_finals("3", "1.5"));
    let r = side(2, house_prices("6"), &house_finals("6", "1.25"));
    assert_eq!(changed(&l, &r), ["mae", "max_depth", "model", "pred"]);
}

#[test]
fn a_changed_statement_taints_the_later_statements_of_its_cell_that_read_it() {
    let run = |n: &str| {
        let assign = format!("n = {n}");
        Trial::default()
            .cell(&[
                (&assign, &["n"], &[]),
                ("a = make(n)", &["a"], &["n"]),
                ("b = make(1)", &["b"], &[]),
                ("c = wrap(a)", &["c"], &["a"]),
                ("a = make(2)", &["a"], &[]),
            ])
            .execs
    };
    // `n` itself is known only by its type here: its statement's text decides.
    let finals = [
        ("n", typed("T")),
        ("a", typed("T")),
        ("b", typed("T")),
        ("c", typed("T")),
    ];
    let (l, r) = (side(1, run("1"), &finals), side(2, run("2"), &finals));
    assert_eq!(changed(&l, &r), ["c", "n"], "a is remade alike at the end");
}

#[test]
fn a_name_whose_final_value_is_equal_still_taints_what_its_earlier_value_made() {
    // `lr` ends equal (0.5 on both sides), but `opt` was made from its first value.
    let run = |lr: &str| {
        let first = format!("lr = {lr}");
        Trial::default()
            .cell(&[
                (&first, &["lr"], &[]),
                ("opt = make(lr)", &["opt"], &["lr"]),
            ])
            .cell(&[
                ("lr = 0.5", &["lr"], &[]),
                ("sched = make(lr)", &["sched"], &["lr"]),
            ])
            .execs
    };
    let finals = [
        ("lr", scalar("float", "0.5")),
        ("opt", typed("T")),
        ("sched", typed("T")),
    ];
    let (l, r) = (side(1, run("0.1"), &finals), side(2, run("0.2"), &finals));
    assert_eq!(changed(&l, &r), ["opt"]);
    // And an equal final value reached by other code does not taint its readers.
    let other = |assign: &str| {
        Trial::default()
            .cell(&[(assign, &["k"], &[]), ("m = fit(k)", &["m"], &["k"])])
            .execs
    };
    let finals = [("k", scalar("int", "3")), ("m", typed("T"))];
    let l = side(1, other("k = 3"), &finals);
    let r = side(2, other("k = 1 + 2"), &finals);
    assert_eq!(changed(&l, &r), Vec::<String>::new());
}

#[test]
fn a_changed_key_taints_its_container_and_what_reads_that_key_only() {
    let run = |lr: &str| {
        let set = format!("cfg['lr'] = {lr}");
        Trial::default()
            .cell(&[
                ("cfg = {'lr': 0.1, 'epochs': 5}", &["cfg"], &[]),
                (&set, &["+cfg['lr']"], &["cfg"]),
                ("steps = cfg['epochs'] * 10", &["steps"], &["cfg['epochs']"]),
                ("opt = make(cfg['lr'])", &["opt"], &["cfg['lr']"]),
            ])
            .execs
    };
    let finals = [
        ("cfg", typed("dict")),
        ("steps", typed("T")),
        ("opt", typed("T")),
    ];
    let (l, r) = (side(1, run("0.1"), &finals), side(2, run("0.2"), &finals));
    assert_eq!(changed(&l, &r), ["cfg", "opt"]);
}

#[test]
fn names_bound_together_share_a_change_in_place_of_one_of_them() {
    // The figure holds the axes: titling the axes with C changes the figure too, from then on.
    let run = |c: &str| {
        let assign = format!("C = {c}");
        Trial::default()
            .cell(&[(&assign, &["C"], &[])])
            .cell(&[
                ("fig, ax = plt.subplots()", &["fig", "ax"], &[]),
                ("early = render(fig)", &["early"], &["fig"]),
                ("ax.set_title(C)", &["+ax"], &["ax", "C"]),
                ("late = render(fig)", &["late"], &["fig"]),
                ("solo = make()", &["solo"], &[]),
                ("solo.grow(C)", &["+solo"], &["solo", "C"]),
            ])
            .execs
    };
    let names = ["fig", "ax", "early", "late", "solo"];
    let finals = |c: &str| {
        let mut f: Vec<(&str, Final)> = names.iter().map(|n| (*n, typed("T"))).collect();
        f.push(("C", scalar("float", c)));
        f
    };
    let l = side(1, run("1.0"), &finals("1.0"));
    let r = side(2, run("0.5"), &finals("0.5"));
    assert_eq!(changed(&l, &r), ["C", "ax", "fig", "late", "solo"]);
}

#[test]
fn a_dynamic_statement_is_judged_by_its_whole_cells_reads() {
    let run = |x: &str, dynamic: bool| {
        let assign = format!("x = {x}");
        let mut execs = Trial::default()
            .cell(&[(&assign, &["x"], &[])])
            .cell(&[
                ("y = x + 1", &["y"], &["x"]),
                ("exec('z = x * 2')", &["z"], &[]),
            ])
            .execs;
        execs[1].statements[1].dynamic = dynamic;
        execs
    };
    let finals = [
        ("x", scalar("int", "1")),
        ("y", typed("T")),
        ("z", typed("T")),
    ];
    let mut right = finals.clone();
    right[0].1 = scalar("int", "2");
    let l = side(1, run("1", true), &finals);
    let r = side(2, run("2", true), &right);
    assert_eq!(changed(&l, &r), ["x", "y", "z"]);
    let l = side(1, run("1", false), &finals);
    let r = side(2, run("2", false), &right);
    assert_eq!(
        changed(&l, &r),
        ["x", "y"],
        "a plain statement by its own reads"
    );
}

#[test]
fn an_unanalysed_cell_stands_for_itself() {
    let run = |code: &str| {
        let mut execs = Trial::default()
            .cell(&[("a = 1", &["a"], &[])])
            .cell(&[("b = 2", &["b"], &[])])
            .execs;
        // A cell without statement spans: one statement without text.
        execs[1].code = code.into();
        execs[1].sha256 = code.into();
        execs[1].statements[0].text = None;
        execs
    };
    let finals = [("a", typed("T")), ("b", typed("T"))];
    let l = side(1, run("%%x\nb = 2"), &finals);
    let same = side(2, run("%%x\nb = 2"), &finals);
    assert_eq!(changed(&l, &same), Vec::<String>::new());
    let other = side(2, run("%%x\nb = 3"), &finals);
    assert_eq!(changed(&l, &other), ["b"]);
}

#[test]
fn a_read_the_store_cannot_place_counts_as_changed() {
    let mut execs = Trial::default().cell(&[("a = f(lost)", &["a"], &[])]).execs;
    execs[0].statements[0].reads.push(Read {
        seq: None,
        statement: 0,
        made: None,
    });
    let finals = [("a", typed("T"))];
    let l = side(1, execs.clone(), &finals);
    let r = side(2, execs, &finals);
    assert_eq!(changed(&l, &r), ["a"]);
}
