//! The diff's algorithm on hand-made trials: no store, no SQL.

use super::*;
use crate::compare::statements::{Made, Read};

/// An execution `seq` running `code` (its hash is the code itself) that made nothing.
fn exec(seq: i64, code: &str) -> Exec {
    Exec {
        seq,
        execution_count: Some(seq),
        code: code.to_string(),
        sha256: code.to_string(),
        ..Exec::default()
    }
}

/// A trial written cell by cell, each cell as its statements `(text, makes, reads)`, the way
/// the dependency index would have it: a made symbol is assigned (`x`, which retires the
/// name's earlier versions) or, written `+x` / `+d['k']`, changed in place (they stay part of
/// its value); a read of `x` or `x['k']` reads the current versions of `x` (and of that key).
#[derive(Default)]
struct Trial {
    execs: Vec<Exec>,
}

type Statement<'a> = (&'a str, &'a [&'a str], &'a [&'a str]);

impl Trial {
    fn cell(mut self, statements: &[Statement]) -> Trial {
        let seq = self.execs.len() as i64 + 1;
        let texts: Vec<&str> = statements.iter().map(|s| s.0).collect();
        let mut e = exec(seq, &texts.join("\n"));
        for (index, (text, makes, reads)) in statements.iter().enumerate() {
            let mut stmt = Stmt {
                index: index as i64,
                text: Some(text.to_string()),
                ..Stmt::default()
            };
            for read in *reads {
                stmt.reads
                    .extend(reads_of(self.execs.iter().chain([&e]), read));
            }
            for made in *makes {
                let (symbol, mutation) = match made.strip_prefix('+') {
                    Some(symbol) => (symbol, true),
                    None => (*made, false),
                };
                let name = base_name(symbol).to_string();
                if !mutation {
                    self.retire(&mut e, &name);
                }
                stmt.makes.push(Made {
                    symbol: symbol.to_string(),
                    name,
                    current: true,
                    mutation,
                });
            }
            e.statements.push(stmt);
        }
        self.execs.push(e);
        self
    }

    fn retire(&mut self, cell: &mut Exec, name: &str) {
        for e in self.execs.iter_mut().chain([cell]) {
            for s in &mut e.statements {
                for m in s.makes.iter_mut().filter(|m| m.name == name) {
                    m.current = false;
                }
            }
        }
    }
}

/// What reading `read` reads of `execs`: every current version of its name (of the name and
/// that key, for `d['k']`).
fn reads_of<'e>(execs: impl Iterator<Item = &'e Exec>, read: &str) -> Vec<Read> {
    let base = base_name(read);
    let wanted = |m: &Made| {
        m.current
            && if read == base {
                m.name == base
            } else {
                m.symbol == base || m.symbol == read
            }
    };
    let mut out = Vec::new();
    for e in execs {
        for s in &e.statements {
            for (made, _) in s.makes.iter().enumerate().filter(|(_, m)| wanted(m)) {
                out.push(Read {
                    seq: Some(e.seq),
                    statement: s.index,
                    made: Some(made),
                });
            }
        }
    }
    out
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

fn changed(l: &Side, r: &Side) -> Vec<String> {
    values(l, r)
        .into_iter()
        .filter(|(_, status, _)| *status != DiffStatus::Equal)
        .map(|(name, _, _)| name)
        .collect()
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
