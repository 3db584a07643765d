//! The diff's algorithm on hand-made trials: no store, no SQL.

use super::*;
use crate::compare::test_support::{exec, scalar, side, typed, values};

#[test]
fn finals_drop_deleted_names_and_forget_mutated_non_scalars() {
    let mut names = Names::default();
    names.note(2, "gone", Role::Deleted);
    names.note(2, "d['k']", Role::Deleted);
    names.note(2, "x", Role::Used);
    names.note(3, "model", Role::Mutated);
    names.note(3, "n", Role::Defined);
    names.note(3, "cfg['lr']", Role::Mutated);
    let captured: HashMap<String, (i64, Final)> = [
        ("gone", (1, scalar("int", "1"))),
        ("d", (1, typed("dict"))),
        ("x", (1, typed("M"))),
        ("model", (1, typed("M"))),
        ("n", (1, scalar("int", "3"))),
        ("cfg", (1, typed("dict"))),
    ]
    .into_iter()
    .map(|(n, c)| (n.to_string(), c))
    .collect();
    let finals = names.finals(captured);
    assert!(!finals.contains_key("gone"));
    assert!(!finals["d"].stale, "deleting a key leaves the dict");
    assert!(!finals["x"].stale, "reading changes nothing");
    assert!(finals["model"].stale);
    assert!(finals["cfg"].stale, "a key's change is its container's");
    assert!(
        !finals["n"].stale,
        "a scalar cannot change after its capture"
    );
}

#[test]
fn scalars_are_judged_by_value_and_lone_names_by_presence() {
    let l = side(
        1,
        vec![],
        &[
            ("a", scalar("int", "1")),
            ("b", scalar("int", "2")),
            ("old", typed("M")),
        ],
    );
    let r = side(
        2,
        vec![],
        &[
            ("a", scalar("int", "1")),
            ("b", scalar("float", "2.0")),
            ("new", typed("M")),
        ],
    );
    assert_eq!(
        values(&l, &r),
        vec![
            ("b".into(), DiffStatus::Changed, "type"),
            ("new".into(), DiffStatus::Added, "presence"),
            ("old".into(), DiffStatus::Removed, "presence"),
            ("a".into(), DiffStatus::Equal, "value"),
        ]
    );
}

#[test]
fn cells_of_only_prov_magics_are_told_apart_by_their_answers() {
    let answered = |code: &str, lines: &[&str]| {
        let mut e = exec(1, code);
        for line in lines {
            e.outputs.push(OutputEntry {
                output_type: "display_data".into(),
                name: None,
                mime_types: vec!["text/plain".into()],
                text: None,
                sha256: vec![],
                magic: Some(line.to_string()),
            });
        }
        e
    };
    assert!(prov_magics_only(&answered(
        "%tag_var x  \n\n# why\n%trials",
        &["%tag_var x", "%trials"]
    )));
    assert!(!prov_magics_only(&answered("%trials\nx = 1", &["%trials"])));
    assert!(!prov_magics_only(&answered("%matplotlib inline", &[])));
    assert!(!prov_magics_only(&answered("%trials\n%tags", &["%trials"])));
}

#[test]
fn code_ops_name_the_executions_and_diff_their_code() {
    let l = side(3, vec![exec(1, "a = 1"), exec(2, "b = 2")], &[]);
    let r = side(4, vec![exec(1, "a = 1"), exec(2, "b = 3")], &[]);
    let ops: Vec<CodeOp> = code_ops(&l.execs, &r.execs)
        .iter()
        .map(|op| code_op(op, &l, &r))
        .collect();
    assert_eq!(ops.len(), 2);
    assert_eq!(
        (ops[0].op, ops[0].unified.as_deref()),
        (CodeOpKind::Equal, None)
    );
    let replace = &ops[1];
    assert_eq!(replace.op, CodeOpKind::Replace);
    assert_eq!(
        (replace.left.clone(), replace.right_seq.clone()),
        (vec![Some(2)], vec![2])
    );
    let unified = replace.unified.as_deref().unwrap();
    assert!(
        unified.starts_with("--- trial 3 In[2]\n+++ trial 4 In[2]\n"),
        "{unified}"
    );
    assert!(unified.contains("-b = 2\n+b = 3\n"), "{unified}");
}

fn showing(seq: i64, code: &str, text: &str) -> Exec {
    let mut e = exec(seq, code);
    e.outputs.push(OutputEntry {
        output_type: "stream".into(),
        name: Some("stdout".into()),
        mime_types: vec!["text/plain".into()],
        text: Some(text.into()),
        sha256: vec![format!("hash of {text}")],
        magic: None,
    });
    e
}

#[test]
fn outputs_pair_along_the_code_and_lone_silent_executions_are_left_out() {
    let mut left = vec![
        showing(1, "print(1)", "1"),
        showing(2, "print(x)", "2"),
        exec(3, "pass"),
    ];
    let mut right = vec![
        showing(1, "print(1)", "1"),
        showing(2, "print(x)", "3"),
        showing(3, "print('new')", "new"),
    ];
    let ops = code_ops(&left, &right);
    let outputs = compare_outputs(&mut left, &mut right, &ops);
    let statuses: Vec<(DiffStatus, Option<i64>, Option<i64>)> = outputs
        .iter()
        .map(|o| {
            let seq = |s: &Option<OutputSide>| s.as_ref().map(|s| s.seq);
            (o.status, seq(&o.left), seq(&o.right))
        })
        .collect();
    assert_eq!(
        statuses,
        vec![
            (DiffStatus::Equal, Some(1), Some(1)),
            (DiffStatus::Changed, Some(2), Some(2)),
            (DiffStatus::Changed, Some(3), Some(3)),
        ]
    );
    assert_eq!(
        outputs[1].right.as_ref().unwrap().outputs[0]
            .text
            .as_deref(),
        Some("3")
    );

    let mut left = vec![exec(1, "pass"), showing(2, "print(2)", "2")];
    let mut right: Vec<Exec> = vec![];
    let ops = code_ops(&left, &right);
    let outputs = compare_outputs(&mut left, &mut right, &ops);
    assert_eq!(
        outputs.len(),
        1,
        "the silent `pass` is the code diff's business"
    );
    assert_eq!(outputs[0].status, DiffStatus::Removed);
    assert_eq!(outputs[0].left.as_ref().unwrap().seq, 2);
}

#[test]
fn presence_and_pictures() {
    assert_eq!(presence_status(Some(1), Some(1)), DiffStatus::Equal);
    assert_eq!(presence_status(Some(1), Some(2)), DiffStatus::Changed);
    assert_eq!(presence_status(None, Some(2)), DiffStatus::Added);
    assert_eq!(presence_status(Some(1), None), DiffStatus::Removed);
    assert_eq!(presence_status::<i32>(None, None), DiffStatus::Equal);
    assert!(is_picture("image/svg+xml") && !is_picture("text/html"));
}
