//! The probe's types reach the engine: a name the probe saw holding an `int` is no alias of the
//! list item it was read from, so `first += 1` is not a change of `nums` (issue 12). The same
//! cell with a `list` item is an alias, and `first.append` changes `rows`.

mod common;

use common::store_with_trials;

/// The slice of `var` after one cell of `code` whose probe note is `note`, as statement texts.
fn slice_after(code: &str, note: &str, var: &str) -> Vec<String> {
    let (_tmp, _db, mut store, trials) = store_with_trials(1);
    let trial = trials[0].id;
    store
        .record_execution(trial, &common::cell(1, code, "", Some(note)))
        .unwrap();
    let answer = store.slice(trial, var).unwrap();
    answer.statements.iter().map(|s| s.text.clone()).collect()
}

#[test]
fn an_int_item_is_no_alias() {
    let note = r#"{"bound": [["nums", 10, {"type": "list"}], ["first", 20, {"type": "int", "value": 2}],
        ["s", 30, {"type": "int", "value": 3}]], "deleted": []}"#;
    let code = "nums = [1, 2]\nfirst = nums[0]\nfirst += 1\ns = sum(nums)";
    assert_eq!(
        slice_after(code, note, "s"),
        ["nums = [1, 2]", "s = sum(nums)"]
    );
}

#[test]
fn a_list_item_is_an_alias() {
    let note = r#"{"bound": [["rows", 10, {"type": "list"}], ["first", 20, {"type": "list"}],
        ["n", 30, {"type": "int", "value": 2}]], "deleted": []}"#;
    let code = "rows = [[1], [2]]\nfirst = rows[0]\nfirst.append(9)\nn = len(rows[0])";
    assert_eq!(
        slice_after(code, note, "n"),
        [
            "rows = [[1], [2]]",
            "first = rows[0]",
            "first.append(9)",
            "n = len(rows[0])"
        ]
    );
}
