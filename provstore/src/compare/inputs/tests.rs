//! The inputs section and its seeds on hand-made trials: which files are inputs, how they pair
//! and compare, and which values a changed one changes (by statement, not by cell).

use super::*;
use crate::compare::algorithm::{base_name, Side};
use crate::compare::test_support::{changed, inputs, read, side, typed, write, Trial};

/// Two cells: the first reads `data.csv` in its first statement and makes `n_trees` beside it;
/// the second fits a model on the frame and builds something from `n_trees`. Every value is
/// known by type only, so the dataflow decides.
fn experiment(id: i64, data: FileUse) -> Side {
    let t = Trial::default()
        .cell(&[
            ("df = pd.read_csv('data.csv')", &["df"], &[]),
            ("n_trees = 100", &["n_trees"], &[]),
        ])
        .file(Some(0), data)
        .cell(&[
            ("model = fit(df)", &["model"], &["df"]),
            ("forest = grow(n_trees)", &["forest"], &["n_trees"]),
        ]);
    let finals = ["df", "n_trees", "model", "forest"].map(|n| (n, typed("object")));
    side(id, t.execs, &finals)
}

fn statuses(l: &Side, r: &Side) -> Vec<(String, DiffStatus)> {
    inputs(l, r)
        .into_iter()
        .map(|i| (i.path, i.status))
        .collect()
}

#[test]
fn a_changed_file_changes_what_its_reader_computed_and_not_the_line_beside_it() {
    let l = experiment(1, read("data.csv", "aa", 10));
    let r = experiment(2, read("data.csv", "ab", 10));
    assert_eq!(changed(&l, &r), ["df", "model"]);
    let found = inputs(&l, &r);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].path, "data.csv");
    assert_eq!(found[0].status, DiffStatus::Changed);
    let (left, right) = (
        found[0].left.as_ref().unwrap(),
        found[0].right.as_ref().unwrap(),
    );
    assert_eq!(left.sha256.as_deref(), Some("aa"));
    assert_eq!(right.sha256.as_deref(), Some("ab"));
    assert_eq!(left.read_by, [Some(1)]);
    assert_eq!(found[0].note, None);
}

#[test]
fn an_equal_file_changes_nothing() {
    let l = experiment(1, read("data.csv", "aa", 10));
    let r = experiment(2, read("data.csv", "aa", 10));
    assert!(changed(&l, &r).is_empty());
    assert_eq!(statuses(&l, &r), [("data.csv".into(), DiffStatus::Equal)]);
    assert!(!inputs(&l, &r)[0].sampled);
}

#[test]
fn a_file_only_one_trial_read_is_added_or_removed_and_seeds_its_reader() {
    let l = experiment(1, read("old.csv", "aa", 10));
    let r = experiment(2, read("new.csv", "aa", 10));
    assert_eq!(
        statuses(&l, &r),
        [
            ("new.csv".into(), DiffStatus::Added),
            ("old.csv".into(), DiffStatus::Removed)
        ]
    );
    let found = inputs(&l, &r);
    assert!(found[0].left.is_none() && found[0].right.is_some());
    assert_eq!(changed(&l, &r), ["df", "model"]);
}

#[test]
fn sampled_hashes_are_equal_only_with_the_same_size_and_mtime() {
    let sampled = |size: i64, mtime: f64| {
        let mut f = read("big.bin", "ss", size);
        f.content.sampled = true;
        f.content.mtime = Some(mtime);
        f
    };
    // The same samples, size and time: equal, but only very likely, and it says so.
    let (l, r) = (
        experiment(1, sampled(100, 5.0)),
        experiment(2, sampled(100, 5.0)),
    );
    let found = inputs(&l, &r);
    assert_eq!(found[0].status, DiffStatus::Equal);
    assert!(found[0].sampled);
    assert!(changed(&l, &r).is_empty());
    // The same samples, another size: surely changed.
    let (l, r) = (
        experiment(1, sampled(100, 5.0)),
        experiment(2, sampled(101, 5.0)),
    );
    let found = inputs(&l, &r);
    assert_eq!(found[0].status, DiffStatus::Changed);
    assert_eq!(found[0].note, None);
    assert_eq!(changed(&l, &r), ["df", "model"]);
    // The same samples and size, rewritten since: not provably the same, so changed, with why.
    let (l, r) = (
        experiment(1, sampled(100, 5.0)),
        experiment(2, sampled(100, 6.0)),
    );
    let found = inputs(&l, &r);
    assert_eq!(found[0].status, DiffStatus::Changed);
    assert_eq!(found[0].note, Some(SAMPLED_MTIME));
    assert!(!found[0].sampled);
    assert_eq!(changed(&l, &r), ["df", "model"]);
    // A new mtime on a fully hashed file is no change.
    let mut touched = read("data.csv", "aa", 10);
    touched.content.mtime = Some(9.0);
    let (l, r) = (
        experiment(1, read("data.csv", "aa", 10)),
        experiment(2, touched),
    );
    assert_eq!(inputs(&l, &r)[0].status, DiffStatus::Equal);
}

#[test]
fn a_content_without_a_hash_is_never_called_equal() {
    let mut unhashed = read("data.csv", "", 10);
    unhashed.content.sha256 = None;
    let (l, r) = (experiment(1, unhashed.clone()), experiment(2, unhashed));
    let found = inputs(&l, &r);
    assert_eq!(found[0].status, DiffStatus::Changed);
    assert_eq!(found[0].note, Some(NO_HASH));
}

#[test]
fn a_file_the_trial_wrote_itself_is_not_an_input() {
    let trial = |id: i64, outside: &str| {
        let t = Trial::default()
            .cell(&[("df.to_csv('mid.csv')", &[], &[])])
            .file(Some(0), write("mid.csv", "m1", 5))
            .cell(&[("back = pd.read_csv('mid.csv')", &["back"], &[])])
            .file(Some(0), read("mid.csv", outside, 5))
            .cell(&[
                ("save(model, 'm.pkl')", &[], &[]),
                ("again = load('m.pkl')", &["again"], &[]),
            ])
            .file(Some(0), write("m.pkl", "k1", 5))
            .file(Some(1), read("m.pkl", "k0", 5));
        let finals = [("back", typed("object")), ("again", typed("object"))];
        side(id, t.execs, &finals)
    };
    // Read back as written (in a later cell, or by a later statement of the same cell): the
    // trial's own data, in neither trial's inputs.
    let (l, r) = (trial(1, "m1"), trial(2, "m1"));
    assert!(inputs(&l, &r).is_empty());
    assert!(changed(&l, &r).is_empty());
    // Changed from outside between the write and the read: an input, that differs.
    let r = trial(2, "m2");
    assert_eq!(statuses(&l, &r), [("mid.csv".into(), DiffStatus::Added)]);
    assert_eq!(changed(&l, &r), ["back"]);
}

#[test]
fn a_statement_that_reads_and_writes_a_file_reads_an_input() {
    // `open(p, 'r+')` gives a write and a read of one statement, in either order.
    let trial = |id: i64, before: &str| {
        let t = Trial::default()
            .cell(&[("log = open('log.txt', 'r+').read()", &["log"], &[])])
            .file(Some(0), write("log.txt", "after", 5))
            .file(Some(0), read("log.txt", before, 5));
        side(id, t.execs, &[("log", typed("object"))])
    };
    let (l, r) = (trial(1, "l0"), trial(2, "l1"));
    assert_eq!(statuses(&l, &r), [("log.txt".into(), DiffStatus::Changed)]);
    assert_eq!(changed(&l, &r), ["log"]);
}

#[test]
fn files_pair_by_the_path_the_code_gave_then_by_resolved_path() {
    let at = |folder: &str, path: &str| {
        let mut f = read(path, "aa", 10);
        f.resolved = format!("/{folder}/data.csv");
        f
    };
    // Run in two folders: the same `data.csv`.
    let (l, r) = (
        experiment(1, at("a", "data.csv")),
        experiment(2, at("b", "data.csv")),
    );
    assert_eq!(statuses(&l, &r), [("data.csv".into(), DiffStatus::Equal)]);
    let found = inputs(&l, &r);
    assert_eq!(found[0].right.as_ref().unwrap().resolved, "/b/data.csv");
    // Given differently, the same file.
    let r = experiment(2, at("a", "/a/data.csv"));
    assert_eq!(statuses(&l, &r), [("data.csv".into(), DiffStatus::Equal)]);
    // One given path naming two files in a trial (a chdir between) pairs by resolved path.
    let two = |id: i64| {
        let t = Trial::default()
            .cell(&[("a = load('data.csv')", &["a"], &[])])
            .file(Some(0), at("x", "data.csv"))
            .cell(&[("b = load('data.csv')", &["b"], &[])])
            .file(Some(0), at("y", "data.csv"));
        side(id, t.execs, &[("a", typed("o")), ("b", typed("o"))])
    };
    let (l, mut r) = (two(1), two(2));
    r.execs[1].files[0].content.sha256 = Some("bb".into());
    let found = inputs(&l, &r);
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].status, DiffStatus::Changed);
    assert_eq!(found[0].left.as_ref().unwrap().resolved, "/y/data.csv");
    assert_eq!(found[1].status, DiffStatus::Equal);
    assert_eq!(changed(&l, &r), ["b"]);
}

#[test]
fn a_read_of_unknown_statement_changes_its_whole_cell_only() {
    let (mut l, mut r) = (
        experiment(1, read("data.csv", "aa", 10)),
        experiment(2, read("data.csv", "ab", 10)),
    );
    for s in [&mut l, &mut r] {
        s.execs[0].files[0].statement = None;
    }
    // Conservative: both statements of the reading cell, and what was made from them.
    assert_eq!(changed(&l, &r), ["df", "forest", "model", "n_trees"]);
}

#[test]
fn a_reader_that_made_nothing_changes_nothing() {
    let trial = |id: i64, sha: &str| {
        let t = Trial::default()
            .cell(&[("x = 1", &["x"], &[])])
            .cell(&[
                ("print(open('notes.txt').read())", &[], &[]),
                ("y = x", &["y"], &["x"]),
            ])
            .file(Some(0), read("notes.txt", sha, 3));
        side(id, t.execs, &[("x", typed("o")), ("y", typed("o"))])
    };
    let (l, r) = (trial(1, "n1"), trial(2, "n2"));
    assert_eq!(
        statuses(&l, &r),
        [("notes.txt".into(), DiffStatus::Changed)]
    );
    assert!(changed(&l, &r).is_empty());
}

#[test]
fn several_contents_of_one_file_compare_in_order() {
    let trial = |id: i64, second: &str| {
        let t = Trial::default()
            .cell(&[("a = load('data.csv')", &["a"], &[])])
            .file(Some(0), read("data.csv", "v1", 10))
            .cell(&[("b = load('data.csv')", &["b"], &[])])
            .file(Some(0), read("data.csv", second, 10));
        side(id, t.execs, &[("a", typed("o")), ("b", typed("o"))])
    };
    let (l, r) = (trial(1, "v2"), trial(2, "v2"));
    let found = inputs(&l, &r);
    assert_eq!(found[0].status, DiffStatus::Equal);
    assert_eq!(found[0].left.as_ref().unwrap().contents, 2);
    assert_eq!(found[0].left.as_ref().unwrap().read_by, [Some(1), Some(2)]);
    let r = trial(2, "v3");
    assert_eq!(inputs(&l, &r)[0].status, DiffStatus::Changed);
    // Conservative: every read of a file that differs seeds its statement.
    assert_eq!(changed(&l, &r), ["a", "b"]);
}

#[test]
fn a_file_is_a_whole_name_and_never_a_value() {
    // In the dataflow a file is named by its path: `.csv` is no attribute.
    assert_eq!(base_name("/w/data.csv"), "/w/data.csv");
    assert_eq!(base_name("d.x"), "d");
    let t = Trial::default().cell(&[("df.to_csv('/w/o.csv')", &["+/w/o.csv"], &[])]);
    let (l, r) = (
        side(1, t.execs.clone(), &[("/w/o.csv", typed("file"))]),
        side(2, t.execs, &[("/w/o.csv", typed("other"))]),
    );
    assert!(changed(&l, &r).is_empty());
}
