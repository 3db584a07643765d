//! Trials' bundles (`Store::extract_trial`, `Store::absorb_trial`) on stores recorded through
//! the store's own writing path: every trial of a store extracted and absorbed into an empty
//! store and into one that holds other trials answers every query as the original does
//! (modulo ids); absorbing again changes nothing; a grown trial replaces its earlier state;
//! hostile bundles are refused with the target untouched.
//!
//! Past 600 lines because each test states its whole scenario (which trials, which store, which
//! queries compared); what they share is already in `common` and the helpers below.

mod common;

use std::path::{Path, PathBuf};

use common::{binding_note, cell, count, db_in, exec, failing, this_trial};
use provstore::{AbsorbOutcome, OutputRecord, Store, StoreError, TrialStatus};
use serde_json::{json, Value};

/// The probe's note of a cell that bound `entries` (ids from `first`), read `files` and
/// imported `packages`.
fn note(entries: &[(&str, Value)], first: i64, files: &[(&str, &str, &str)]) -> String {
    let mut note: Value = serde_json::from_str(&binding_note(entries, first)).unwrap();
    note["files"] = files
        .iter()
        .map(|(path, access, sha)| {
            json!({"path": path, "resolved": format!("/data/{path}"), "access": access,
                   "line": 1, "size": 10, "mtime": 1765000000.5, "sha256": sha,
                   "sampled": false})
        })
        .collect();
    note.to_string()
}

/// A run of a small model notebook in trial `trial`: parameters, a file read, a fit, a score
/// (values `c` and `acc`), a figure, an assert, a failing cell, tags and a stage.
/// After each execution, `meanwhile` records what another kernel did at the same time.
fn record_run(
    store: &mut Store,
    trial: i64,
    (c, acc, data_sha): (f64, f64, &str),
    meanwhile: &mut dyn FnMut(&mut Store),
) {
    let float = |x: f64| json!({"type": "float", "value": x});
    let typed = |t: &str| json!({ "type": t });
    let base = trial * 1000;
    let cells: Vec<(String, String)> = vec![
        (
            "import lib\nfrom lib import fit, score".into(),
            note(
                &[("fit", typed("function")), ("score", typed("function"))],
                base,
                &[],
            ),
        ),
        (
            format!("C = {c:?}"),
            note(&[("C", float(c))], base + 10, &[]),
        ),
        (
            "X = open('data.csv').read()".into(),
            note(
                &[("X", typed("str"))],
                base + 20,
                &[("data.csv", "read", data_sha)],
            ),
        ),
        (
            "model = fit(C, X)".into(),
            note(
                &[(
                    "model",
                    json!({"type": "lib.Model", "fingerprint": {"sha256": format!("m{c}"), "sampled": false}}),
                )],
                base + 30,
                &[],
            ),
        ),
        (
            "acc = score(model, X)\nprint(acc)".into(),
            note(&[("acc", float(acc))], base + 40, &[]),
        ),
        (
            "assert acc > 0.6, 'too low'".into(),
            note(&[], base + 50, &[]),
        ),
        (
            "open('out.txt', 'w').write(str(acc))".into(),
            note(&[], base + 60, &[("out.txt", "write", "o1")]),
        ),
    ];
    for (i, (code, runtime)) in cells.iter().enumerate() {
        let n = i as i64 + 1;
        let mut e = cell(n, code, &format!("{n}\n"), Some(runtime));
        if n == 5 {
            e.outputs.push(OutputRecord {
                output_type: "display_data".into(),
                name: None,
                payloads: vec![
                    ("image/png".into(), format!("PNG {c}").into_bytes()),
                    ("text/plain".into(), b"<Figure>".to_vec()),
                ],
            });
        }
        store.record_execution(trial, &e).unwrap();
        meanwhile(store);
        if n == 2 {
            store.tag_variable(trial, "C", Some("param")).unwrap();
        }
        if n == 5 {
            store.tag_variable(trial, "acc", None).unwrap();
            store.mark_stage(trial, "evaluate").unwrap();
        }
    }
    store.record_execution(trial, &failing(8)).unwrap();
    store.record_execution(trial, &exec(9, "pass", "")).unwrap();
}

/// A store with two trials of another notebook (nothing in common with [`source_store`]'s
/// but the trial name "baseline"), the store trials are absorbed into beside its own.
fn busy_store(dir: &Path) -> Store {
    let mut store = Store::open(&db_in(dir)).unwrap();
    for k in 0..2 {
        let trial = store.begin_trial(&this_trial(dir)).unwrap().id;
        store
            .record_execution(
                trial,
                &cell(1, &format!("k = {k}"), "", Some(&note(&[], 1, &[]))),
            )
            .unwrap();
        store
            .record_execution(trial, &exec(2, "print(k)", "0\n"))
            .unwrap();
        store.end_trial(trial, TrialStatus::Finished).unwrap();
    }
    store.set_trial_name(1, "baseline").unwrap();
    store
}

/// Asserts two answers are equal, showing the first difference.
fn assert_same(got: &Value, want: &Value, what: &str) {
    if got != want {
        if let Ok(dir) = std::env::var("BUNDLE_TEST_DUMP") {
            std::fs::write(
                format!("{dir}/got.json"),
                serde_json::to_string_pretty(got).unwrap(),
            )
            .unwrap();
            std::fs::write(
                format!("{dir}/want.json"),
                serde_json::to_string_pretty(want).unwrap(),
            )
            .unwrap();
        }
        let (g, w) = (
            serde_json::to_string_pretty(got).unwrap(),
            serde_json::to_string_pretty(want).unwrap(),
        );
        let at = g
            .lines()
            .zip(w.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        let around = |text: &str| {
            text.lines()
                .skip(at.saturating_sub(8))
                .take(16)
                .collect::<Vec<_>>()
                .join("\n")
        };
        panic!(
            "{what} differs at line {at}:\n--- got\n{}\n--- want\n{}",
            around(&g),
            around(&w)
        );
    }
}

/// A store of three trials of a model notebook (the third still running), each recorded while
/// another kernel (trial 1) ran cells of its own into the same store, so the trials'
/// execution and output ids have gaps, as with two notebooks open at once.
fn source_store(dir: &Path) -> (PathBuf, Store, Vec<i64>) {
    let db = db_in(dir);
    let mut store = Store::open(&db).unwrap();
    let other = store.begin_trial(&this_trial(dir)).unwrap().id;
    let mut n = 0;
    let mut meanwhile = |store: &mut Store| {
        n += 1;
        let e = exec(n, &format!("t = {n}"), &format!("{n}\n"));
        store.record_execution(other, &e).unwrap();
    };
    let mut ids = Vec::new();
    for (k, run) in [(1.0, 0.9, "d1"), (0.01, 0.5, "d2"), (1.0, 0.9, "d1")]
        .into_iter()
        .enumerate()
    {
        let trial = store.begin_trial(&this_trial(dir)).unwrap().id;
        record_run(&mut store, trial, run, &mut meanwhile);
        if k < 2 {
            store.end_trial(trial, TrialStatus::Finished).unwrap();
        }
        ids.push(trial);
    }
    store.set_trial_name(ids[0], "baseline").unwrap();
    (db, store, ids)
}

/// Every per-trial answer of `store` about `trial`, as JSON, with the ids that are the
/// store's own (trial and row ids) taken out: what must not change when a trial travels.
fn answers(store: &Store, trial: i64, other: i64) -> Value {
    answers_about(store, trial, other, "acc")
}

/// [`answers`] with the dependency questions about `var`.
fn answers_about(store: &Store, trial: i64, other: i64, var: &str) -> Value {
    let mut all = json!({
        "trial": store.trial(trial).unwrap(),
        "executions": store.executions(trial).unwrap(),
        "deps": store.backwards_deps(trial, var).unwrap(),
        "slice": store.slice(trial, var).unwrap(),
        "values": store.trial_values(trial).unwrap(),
        "tags": store.tags(trial).unwrap(),
        "files": store.trial_files(trial).unwrap(),
        "expectations": store.expectations(trial).unwrap(),
        "graph": store.dataflow_graph(trial).unwrap(),
        "check": store.check(trial).unwrap(),
        "diff": store.trial_diff(trial, other).unwrap(),
        "packages": store.trial_packages(trial).unwrap(),
    });
    strip_ids(&mut all);
    all
}

/// Replaces every number under a key that names a store's own id (a trial's, an
/// execution's) with 0, and trial numbers in text with `#`.
fn strip_ids(v: &mut Value) {
    const IDS: [&str; 6] = ["id", "trial", "from", "to", "read_by", "written_by"];
    match v {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                if IDS.contains(&key.as_str()) || key.ends_with("_id") {
                    zero_numbers(value);
                } else {
                    strip_ids(value);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip_ids),
        Value::String(text) => {
            let numbered = regex_lite_trial(text);
            *text = numbered;
        }
        _ => {}
    }
}

fn zero_numbers(v: &mut Value) {
    match v {
        Value::Number(_) => *v = json!(0),
        Value::Array(items) => items.iter_mut().for_each(zero_numbers),
        _ => strip_ids(v),
    }
}

/// `text` with every `trial N` as `trial #`.
fn regex_lite_trial(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("trial ") {
        out.push_str(&rest[..at + 6]);
        rest = &rest[at + 6..];
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        if digits > 0 {
            out.push('#');
            rest = &rest[digits..];
        }
    }
    out.push_str(rest);
    out
}

/// `provctl values`' answer for `name` across the store, ids and trial names out.
fn var_values(store: &Store, name: &str) -> Value {
    let mut v = serde_json::to_value(store.var_values(name).unwrap()).unwrap();
    strip_ids(&mut v);
    v
}

#[test]
fn every_trial_travels_and_answers_the_same() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, source, ids) = source_store(&tmp.path().join("source"));
    let bundles: Vec<PathBuf> = ids
        .iter()
        .map(|&t| {
            let path = tmp.path().join(format!("trial-{t}.prov"));
            source.extract_trial(t, &path).unwrap();
            path
        })
        .collect();

    // Each bundle is one file: no partial file, log or shared-memory file left beside it.
    let mut beside: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "source")
        .collect();
    beside.sort();
    let mut want: Vec<String> = ids.iter().map(|t| format!("trial-{t}.prov")).collect();
    want.sort();
    assert_eq!(beside, want);
    // Into an empty store, under the same trial ids.
    let empty = Store::open(&tmp.path().join("empty.db")).unwrap();
    for (bundle, &t) in bundles.iter().zip(&ids) {
        let got = empty.absorb_trial(bundle, Some(t)).unwrap();
        assert_eq!(got.outcome, AbsorbOutcome::Added);
        assert_eq!(got.trial_id, t);
        assert_eq!(got.uuid, source.trial(t).unwrap().uuid);
    }
    for &t in &ids {
        assert_same(
            &answers(&empty, t, ids[0]),
            &answers(&source, t, ids[0]),
            "empty",
        );
    }
    assert_same(
        &var_values(&empty, "acc"),
        &var_values(&source, "acc"),
        "values",
    );

    // Into a store that has trials of its own: other ids, the same answers.
    let mut busy = busy_store(&tmp.path().join("busy"));
    let absorbed: Vec<i64> = bundles
        .iter()
        .map(|b| busy.absorb_trial(b, None).unwrap().trial_id)
        .collect();
    assert_eq!(absorbed, vec![3, 4, 5]);
    // The name "baseline" is the busy store's own trial 1's: the newcomer gets a suffix.
    assert_eq!(busy.trial(3).unwrap().name.as_deref(), Some("baseline (2)"));
    busy.set_trial_name(1, "old").unwrap();
    busy.set_trial_name(3, "baseline").unwrap();
    for (&new, &old) in absorbed.iter().zip(&ids) {
        assert_same(
            &answers(&busy, new, absorbed[1]),
            &answers(&source, old, ids[1]),
            &format!("trial {old} absorbed as {new}"),
        );
    }
    assert_same(
        &var_values(&busy, "acc"),
        &var_values(&source, "acc"),
        "values",
    );
    // Shared content is not duplicated: one row per distinct code and payload.
    for table in ["code", "blobs", "name_sets", "value_sets", "version_sets"] {
        let sql = format!("SELECT COUNT(*) - COUNT(DISTINCT sha256) FROM {table}");
        assert_eq!(count(busy.path(), &sql), 0, "{table}");
    }
}

#[test]
fn absorbing_twice_changes_nothing_and_a_grown_trial_replaces() {
    let tmp = tempfile::tempdir().unwrap();
    let (source_db, mut source, ids) = source_store(&tmp.path().join("source"));
    let running = ids[2];
    // Recorded on another machine: this host's live kernels are not the ones recording it.
    common::raw(&source_db)
        .execute(
            "UPDATE trials SET hostname = 'laptop-b' WHERE id = ?1",
            [running],
        )
        .unwrap();
    let first = tmp.path().join("first.prov");
    source.extract_trial(running, &first).unwrap();

    let target = Store::open(&tmp.path().join("target.db")).unwrap();
    let tables = |path: &Path| -> Vec<(String, i64)> {
        let conn = common::raw(path);
        let names: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        names
            .into_iter()
            .map(|n| {
                let c = conn
                    .query_row(&format!("SELECT COUNT(*) FROM \"{n}\""), [], |r| r.get(0))
                    .unwrap();
                (n, c)
            })
            .collect()
    };
    let added = target.absorb_trial(&first, Some(412)).unwrap();
    assert_eq!((added.trial_id, added.outcome), (412, AbsorbOutcome::Added));
    let counts = tables(target.path());
    let again = target.absorb_trial(&first, None).unwrap();
    assert_eq!(
        (again.trial_id, again.outcome),
        (412, AbsorbOutcome::Unchanged)
    );
    assert_eq!(tables(target.path()), counts);

    // The trial goes on and ends: the new bundle replaces the old state, in place.
    source
        .record_execution(running, &exec(10, "y = 2", ""))
        .unwrap();
    source.end_trial(running, TrialStatus::Finished).unwrap();
    let grown = tmp.path().join("grown.prov");
    source.extract_trial(running, &grown).unwrap();
    let replaced = target.absorb_trial(&grown, None).unwrap();
    assert_eq!(
        (replaced.trial_id, replaced.outcome),
        (412, AbsorbOutcome::Replaced)
    );
    let t = target.trial(412).unwrap();
    assert_eq!((t.executions, t.status), (10, TrialStatus::Finished));
    // The expectations' history spans the store's trials: the source has two more.
    let without_history = |mut v: Value| {
        v.as_object_mut().unwrap().remove("expectations");
        v
    };
    assert_same(
        &without_history(answers(&target, 412, 412)),
        &without_history(answers(&source, running, running)),
        "replaced",
    );
    // The older bundle is stale now: nothing goes back.
    let stale = target.absorb_trial(&first, None).unwrap();
    assert_eq!(stale.outcome, AbsorbOutcome::Unchanged);
    assert_eq!(target.trial(412).unwrap().executions, 10);
}

/// Deletes one payload from the bundle at `path`, which its rows still name.
fn lose_a_payload(path: &Path) {
    common::raw(path)
        .execute_batch(
            "PRAGMA foreign_keys = OFF;
             DELETE FROM blobs WHERE sha256 IN (SELECT sha256 FROM blobs LIMIT 1)",
        )
        .unwrap();
}

#[test]
fn hostile_bundles_are_refused_and_change_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (source_db, source, ids) = source_store(&tmp.path().join("source"));
    let good = tmp.path().join("good.prov");
    source.extract_trial(ids[0], &good).unwrap();
    let target = Store::open(&tmp.path().join("target.db")).unwrap();
    target.absorb_trial(&good, None).unwrap();
    let size = |p: &Path| count(p, "SELECT COUNT(*) FROM executions");
    let before = size(target.path());

    let text = tmp.path().join("text.prov");
    std::fs::write(&text, "not a database at all, just some text\n").unwrap();
    let bytes = std::fs::read(&good).unwrap();
    let truncated = tmp.path().join("truncated.prov");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let empty = tmp.path().join("empty.prov");
    std::fs::write(&empty, b"").unwrap();
    for (path, expect) in [
        (text.as_path(), "not a prov bundle"),
        (truncated.as_path(), "not a prov bundle"),
        (empty.as_path(), "not a prov bundle"),
        // A whole store of three trials is no bundle.
        (source_db.as_path(), "more than one trial"),
        (tmp.path().join("missing.prov").as_path(), "no such file"),
    ] {
        let err = target.absorb_trial(path, None).unwrap_err();
        assert!(matches!(err, StoreError::Bundle { .. }), "{err:?}");
        assert!(err.to_string().contains(expect), "{path:?}: {err}");
        assert_eq!(size(target.path()), before, "{path:?}");
    }
    // A bundle whose rows name a payload it does not hold, or whose trial id is taken.
    let broken = tmp.path().join("broken.prov");
    source.extract_trial(ids[1], &broken).unwrap();
    lose_a_payload(&broken);
    let err = target.absorb_trial(&broken, None).unwrap_err();
    assert!(matches!(err, StoreError::Bundle { .. }), "{err:?}");
    assert!(err.to_string().contains("do not fit together"), "{err}");
    let other = tmp.path().join("other.prov");
    source.extract_trial(ids[2], &other).unwrap();
    let err = target.absorb_trial(&other, Some(1)).unwrap_err();
    assert!(err.to_string().contains("trial id 1 is taken"), "{err}");
    assert_eq!(size(target.path()), before);
    assert_eq!(target.trials().unwrap().len(), 1);
    // A bundle is always a new file.
    let err = source.extract_trial(ids[1], &good).unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
}

/// A scratch store (`Store::scratch_mode`: journal in memory, no syncs) takes bundles in as a
/// normal store does, and a bundle that fails half-way still leaves nothing behind.
#[test]
fn a_scratch_store_absorbs_alike_and_still_rolls_back() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, source, ids) = source_store(&tmp.path().join("source"));
    let normal = Store::open(&tmp.path().join("normal.db")).unwrap();
    let scratch = Store::open(&tmp.path().join("scratch.db")).unwrap();
    scratch.scratch_mode().unwrap();
    for (i, &t) in ids.iter().enumerate() {
        let bundle = tmp.path().join(format!("trial-{t}.prov"));
        source.extract_trial(t, &bundle).unwrap();
        let a = normal.absorb_trial(&bundle, None).unwrap();
        let b = scratch.absorb_trial(&bundle, None).unwrap();
        assert_eq!((a.trial_id, a.outcome), (b.trial_id, b.outcome));
        let other = if i == 0 { b.trial_id } else { 1 };
        assert_eq!(
            answers(&scratch, b.trial_id, other),
            answers(&normal, a.trial_id, other),
            "trial {t}"
        );
    }
    let size = |p: &Path| count(p, "SELECT COUNT(*) FROM executions");
    let before = size(scratch.path());
    // A new trial (another store's) whose bundle lost a payload: the copy fails part-way.
    let broken = tmp.path().join("broken.prov");
    let (_, other, other_ids) = source_store(&tmp.path().join("other"));
    other.extract_trial(other_ids[0], &broken).unwrap();
    lose_a_payload(&broken);
    let err = scratch.absorb_trial(&broken, None).unwrap_err();
    assert!(err.to_string().contains("do not fit together"), "{err}");
    assert_eq!(size(scratch.path()), before);
    assert_eq!(scratch.trials().unwrap().len(), ids.len());
}

#[test]
fn a_trial_this_stores_live_kernel_records_is_never_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let (source_db, mut source, ids) = source_store(&tmp.path().join("source"));
    let running = ids[2];
    // A copy of the store as it is now: its trial 3 is recorded by a live kernel of this
    // host (this process), which has not written what comes next yet.
    let copy = tmp.path().join("copy.db");
    common::raw(&source_db)
        .execute("VACUUM INTO ?1", [copy.to_str().unwrap()])
        .unwrap();
    source
        .record_execution(running, &exec(10, "y = 2", ""))
        .unwrap();
    let grown = tmp.path().join("grown.prov");
    source.extract_trial(running, &grown).unwrap();

    let live = Store::open(&copy).unwrap();
    assert_eq!(live.trial(running).unwrap().status, TrialStatus::Running);
    let before = count(&copy, "SELECT COUNT(*) FROM executions");
    let err = live.absorb_trial(&grown, None).unwrap_err();
    assert!(matches!(err, StoreError::Bundle { .. }), "{err:?}");
    assert!(err.to_string().contains("live kernel"), "{err}");
    assert_eq!(count(&copy, "SELECT COUNT(*) FROM executions"), before);
    // The store that has it all already takes nothing in.
    assert_eq!(
        source.absorb_trial(&grown, None).unwrap().outcome,
        AbsorbOutcome::Unchanged
    );
}

/// The source store, its first trial's bundle, and an empty store to absorb it into.
fn first_trial_bundle(tmp: &Path) -> (Store, i64, PathBuf, Store) {
    let (_, source, ids) = source_store(&tmp.join("source"));
    let bundle = tmp.join("first.prov");
    source.extract_trial(ids[0], &bundle).unwrap();
    let target = Store::open(&tmp.join("target.db")).unwrap();
    (source, ids[0], bundle, target)
}

#[test]
fn a_bundle_of_an_older_schema_is_migrated_on_a_copy_and_absorbed() {
    let tmp = tempfile::tempdir().unwrap();
    let (source, first, bundle, target) = first_trial_bundle(tmp.path());
    // The layout before the lean store (and before trials had a user), version 7.
    common::undo_lean(&bundle);
    assert_eq!(count(&bundle, "PRAGMA user_version"), 7);
    let old_bytes = std::fs::read(&bundle).unwrap();
    let got = target.absorb_trial(&bundle, None).unwrap();
    assert_eq!(got.outcome, AbsorbOutcome::Added);
    // The bundle itself is left as it was: the migration ran on a copy.
    assert_eq!(std::fs::read(&bundle).unwrap(), old_bytes);
    // Everything answers as in the source; only who ran it was not kept then.
    assert_eq!(target.trial(got.trial_id).unwrap().user, None);
    let without_user = |mut v: Value| {
        fn drop_user(v: &mut Value) {
            match v {
                Value::Object(map) => {
                    map.remove("user");
                    map.values_mut().for_each(drop_user);
                }
                Value::Array(items) => items.iter_mut().for_each(drop_user),
                _ => {}
            }
        }
        drop_user(&mut v);
        v.as_object_mut().unwrap().remove("expectations");
        v
    };
    assert_same(
        &without_user(answers(&target, got.trial_id, got.trial_id)),
        &without_user(answers(&source, first, first)),
        "absorbed from an old bundle",
    );
    assert_eq!(
        target.absorb_trial(&bundle, None).unwrap().outcome,
        AbsorbOutcome::Unchanged
    );
}

#[test]
fn a_bundle_of_a_newer_schema_is_too_new() {
    let tmp = tempfile::tempdir().unwrap();
    let (_source, _, bundle, target) = first_trial_bundle(tmp.path());
    common::raw(&bundle)
        .pragma_update(None, "user_version", provstore::SCHEMA_VERSION + 1)
        .unwrap();
    let err = target.absorb_trial(&bundle, None).unwrap_err();
    assert!(matches!(err, StoreError::TooNew { .. }), "{err:?}");
    assert!(target.trials().unwrap().is_empty());
}

/// The example notebooks run by real kernels (`python-prov` in the workspace's `.venv`, as
/// `scripts/test.sh` sets it up) into the store at `db`; None (the reason printed) when that
/// kernel is not installed here, a failure under `CI=true`.
fn record_with_real_kernels(db: &Path, notebooks: &[&str]) -> Option<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let python = root.join(".venv/bin/python");
    let spec = root.join(".venv/share/jupyter/kernels/python-prov/kernel.json");
    if !python.exists() || !spec.exists() {
        let reason = "no python-prov kernel in .venv (run scripts/test.sh, or source \
                      scripts/lib.sh && build_kernel && ensure_venv && install_kernelspec)";
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{reason}");
        eprintln!("skipped: {reason}");
        return None;
    }
    let script = "import sys, nbformat\n\
                  from nbclient import NotebookClient\n\
                  for path in sys.argv[2:]:\n\
                  \x20   nb = nbformat.read(path, as_version=4)\n\
                  \x20   NotebookClient(nb, kernel_name='python-prov', timeout=120,\n\
                  \x20       startup_timeout=60, allow_errors=True,\n\
                  \x20       resources={'metadata': {'path': sys.argv[1]}}).execute()\n";
    let folder = db.parent().unwrap();
    let status = std::process::Command::new(python)
        .arg("-c")
        .arg(script)
        .arg(folder)
        .args(notebooks.iter().map(|n| root.join("examples").join(n)))
        .env("PROV_DB", db)
        .current_dir(folder)
        .status()
        .unwrap();
    assert!(status.success(), "the notebooks did not run: {status}");
    Some(())
}

#[test]
fn trials_recorded_by_real_kernels_travel_and_answer_the_same() {
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(&tmp.path().join("real"));
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    let notebooks = [
        "sales_report.ipynb",
        "iris_classifier.ipynb",
        "sales_report.ipynb",
    ];
    if record_with_real_kernels(&db, &notebooks).is_none() {
        return;
    }
    let source = Store::open(&db).unwrap();
    let ids: Vec<i64> = source.trials().unwrap().iter().map(|t| t.id).collect();
    assert_eq!(ids.len(), 3);
    let mut busy = busy_store(&tmp.path().join("busy"));
    busy.set_trial_name(1, "other").unwrap();
    let mut absorbed = Vec::new();
    for &t in &ids {
        let bundle = tmp.path().join(format!("real-{t}.prov"));
        source.extract_trial(t, &bundle).unwrap();
        let got = busy.absorb_trial(&bundle, None).unwrap();
        assert_eq!(got.outcome, AbsorbOutcome::Added);
        assert_eq!(
            busy.absorb_trial(&bundle, None).unwrap().outcome,
            AbsorbOutcome::Unchanged
        );
        absorbed.push(got.trial_id);
    }
    for (&new, &old) in absorbed.iter().zip(&ids) {
        // The last variable the trial bound: its dependencies, its slice.
        let values = source.trial_values(old).unwrap();
        let var = &values.last().expect("the notebook binds variables").name;
        assert_same(
            &answers_about(&busy, new, absorbed[2], var),
            &answers_about(&source, old, ids[2], var),
            &format!("real trial {old} absorbed as {new}, about {var}"),
        );
    }
}
