//! Matching statements across a replaced range, and the walk, on hand-made statements.

use super::*;

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
