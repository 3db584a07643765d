//! An assumed change (a callee on no list was passed a value) is reported as
//! one in the delta the store keeps; known changes are not.

use pyflow::{analyze_cell, Dataflow, ExecutionInput, Symbol};

fn run(cells: &[&str]) -> Vec<pyflow::ExecutionDelta> {
    let mut flow = Dataflow::new();
    cells
        .iter()
        .enumerate()
        .map(|(i, code)| {
            flow.add_execution_delta(ExecutionInput {
                execution_id: i as i64 + 1,
                execution_count: Some(i as i64 + 1),
                cell_id: None,
                analysis: analyze_cell(code),
                failed_at_statement: None,
                runtime: None,
                failed: false,
            })
        })
        .collect()
}

/// The notes of the versions of `name` the last cell made.
fn notes(cells: &[&str], name: &str) -> Vec<Option<String>> {
    let deltas = run(cells);
    deltas
        .last()
        .unwrap()
        .versions
        .iter()
        .filter(|v| v.symbol == Symbol::name(name))
        .map(|v| v.assumed.clone())
        .collect()
}

#[test]
fn an_unknown_callee_is_an_assumption_and_says_which() {
    let cells = [
        "from helpers import clean",
        "df = load()",
        "b = df",
        "clean(df)",
    ];
    assert_eq!(
        notes(&cells, "df"),
        [Some("clean(df) may change df".to_string())]
    );
    // The alias changes with it, by the same assumption.
    assert_eq!(
        notes(&cells, "b"),
        [Some("clean(df) may change df".to_string())]
    );
}

#[test]
fn known_changes_are_not_assumptions() {
    let notebook = ["def train(m):\n    m.fit(1)", "clf = Model()", "train(clf)"];
    assert_eq!(notes(&notebook, "clf"), [None]);
    let listed = ["import random", "deck = [1, 2]", "random.shuffle(deck)"];
    assert_eq!(notes(&listed, "deck"), [None]);
}

#[test]
fn literals_and_scalars_passed_to_an_unknown_callee_do_not_change() {
    let cells = [
        "from helpers import log",
        "n = 3",
        "s = 'a'",
        "k = len(s)",
        "log(n, s, k)",
    ];
    assert!(notes(&cells, "n").is_empty());
    assert!(notes(&cells, "s").is_empty());
    assert!(notes(&cells, "k").is_empty());
}
