//! The diff's algorithm on hand-made trials: no store, no SQL.

use super::*;

/// An execution `seq` running `code` (its hash is the code itself) that defined
/// (assigned) `defines` and used `uses`.
fn exec(seq: i64, code: &str, defines: &[&str], uses: &[&str]) -> Exec {
    Exec {
        seq,
        execution_count: Some(seq),
        code: code.to_string(),
        sha256: code.to_string(),
        defines: defines.iter().map(|d| (d.to_string(), true)).collect(),
        uses: uses.iter().map(|u| u.to_string()).collect(),
        ..Exec::default()
    }
}

fn scalar(type_name: &str, value: &str) -> Final {
    Final {
        type_name: type_name.into(),
        value_json: Some(value.into()),
        ..Final::default()
    }
}

fn typed(type_name: &str) -> Final {
    Final {
        type_name: type_name.into(),
        ..Final::default()
    }
}

fn side(id: i64, execs: Vec<Exec>, finals: &[(&str, Final)]) -> Side {
    let finals = finals
        .iter()
        .map(|(n, f)| (n.to_string(), f.clone()))
        .collect();
    Side { id, execs, finals }
}

fn values(l: &Side, r: &Side) -> Vec<(String, DiffStatus, &'static str)> {
    let ops = code_ops(&l.execs, &r.execs);
    compare_values(l, r, &ops)
        .into_iter()
        .map(|v| (v.name, v.status, v.compared_by))
        .collect()
}

#[test]
fn roles_fill_what_an_execution_defined_and_used_by_base_name() {
    let mut names = Names::default();
    let mut e = exec(1, "", &[], &[]);
    names.note(&mut e, "d['a']", Role::Mutated);
    names.note(&mut e, "x", Role::Used);
    names.note(&mut e, "x.y", Role::Used);
    assert_eq!(e.defines, vec![("d".to_string(), false)]);
    names.note(&mut e, "d", Role::Defined);
    assert_eq!(e.defines, vec![("d".to_string(), true)], "assigned wins");
    assert_eq!(e.uses, vec!["x".to_string()]);
}

#[test]
fn finals_drop_deleted_names_and_forget_mutated_non_scalars() {
    let mut names = Names::default();
    let (mut e2, mut e3) = (exec(2, "", &[], &[]), exec(3, "", &[], &[]));
    names.note(&mut e2, "gone", Role::Deleted);
    names.note(&mut e2, "d['k']", Role::Deleted);
    names.note(&mut e3, "model", Role::Mutated);
    names.note(&mut e3, "n", Role::Defined);
    let captured: HashMap<String, (i64, Final)> = [
        ("gone", (1, scalar("int", "1"))),
        ("d", (1, typed("dict"))),
        ("model", (1, typed("M"))),
        ("n", (1, scalar("int", "3"))),
    ]
    .into_iter()
    .map(|(n, c)| (n.to_string(), c))
    .collect();
    let finals = names.finals(captured);
    assert!(!finals.contains_key("gone"));
    assert!(!finals["d"].stale, "deleting a key leaves the dict");
    assert!(finals["model"].stale);
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
fn a_changed_input_taints_what_is_made_from_it_until_remade_alike() {
    let run = |c: &str| {
        vec![
            exec(1, &format!("C = {c}"), &["C"], &[]),
            exec(2, "model = fit(C)", &["model"], &["C"]),
            exec(3, "other = fit(1)", &["other"], &[]),
            exec(4, "later = fit(C)", &["later"], &["C"]),
            exec(5, "later = fit(1)", &["later"], &[]),
        ]
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
    let l = side(
        1,
        vec![exec(1, "m = fit()", &["m"], &[])],
        &[("m", typed("M"))],
    );
    let r = side(
        2,
        vec![
            exec(1, "m = fit()", &["m"], &[]),
            exec(2, "m.tune()", &["m"], &["m"]),
        ],
        &[("m", typed("M"))],
    );
    assert_eq!(
        values(&l, &r),
        vec![("m".into(), DiffStatus::Changed, "dependencies")]
    );
}

#[test]
fn code_ops_name_the_executions_and_diff_their_code() {
    let l = side(
        3,
        vec![exec(1, "a = 1", &[], &[]), exec(2, "b = 2", &[], &[])],
        &[],
    );
    let r = side(
        4,
        vec![exec(1, "a = 1", &[], &[]), exec(2, "b = 3", &[], &[])],
        &[],
    );
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
    let mut e = exec(seq, code, &[], &[]);
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
        exec(3, "pass", &[], &[]),
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

    let mut left = vec![exec(1, "pass", &[], &[]), showing(2, "print(2)", "2")];
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
