//! provctl's read commands on a team store, against a real PostgreSQL (`$PROV_TEST_PG`, a
//! database of each test's own): two users' stores pushed, then the trial list (filters,
//! paging), values across trials, per-trial commands and diffs of remote trials compared with
//! the local answers over the same trials, and the errors a person meets.

mod common;

use std::path::{Path, PathBuf};

use common::{binding_note, json, new_trial, noted, ok_stdout, provctl, refused, stderr};
use provstore::{ExecutionRecord, NewTrial, Store};
use serde_json::{json, Value};

// The team store tests' own database per test (it brings provstore's record builders too,
// which `common` also includes: two copies of a test helper, not of product code).
#[allow(clippy::duplicate_mod)]
#[path = "../../team/tests/common/mod.rs"]
mod teamdb;

use teamdb::TestDb;

/// `In[n]` running `code`, after which `acc` is `value` (captured as the probe notes it).
fn acc_cell(n: i64, code: &str, value: f64) -> ExecutionRecord {
    let bound = [("acc", json!({ "type": "float", "value": value }))];
    noted(n, code, &binding_note(&bound, 1000 * n))
}

/// A store in `dir` whose trials were run by `user` on `host` in `notebook`, one per entry of
/// `runs` (its name, and the learning rates its cells tried), `acc` tagged `metric`.
fn store_of(
    dir: &Path,
    user: &str,
    host: &str,
    notebook: &str,
    runs: &[(&str, &[f64])],
) -> PathBuf {
    let db = dir.join(".prov").join("prov.db");
    let mut store = Store::open(&db).unwrap();
    for (i, (name, rates)) in runs.iter().enumerate() {
        let trial = NewTrial {
            user: Some(user.into()),
            hostname: host.into(),
            notebook: Some(notebook.into()),
            started_at: new_trial(dir).started_at + chrono::Duration::hours(i as i64),
            ..new_trial(dir)
        };
        let t = store.begin_trial(&trial).unwrap();
        store.set_trial_name(t.id, name).unwrap();
        for (n, rate) in rates.iter().enumerate() {
            let n = n as i64 + 1;
            let acc = 0.5 + rate;
            let code = format!("lr = {rate}\nacc = {acc}");
            store
                .record_execution(t.id, &acc_cell(n, &code, acc))
                .unwrap();
        }
        store.tag_variable(t.id, "acc", Some("metric")).unwrap();
        store
            .end_trial(t.id, provstore::TrialStatus::Finished)
            .unwrap();
    }
    db
}

/// Ann's store (3 trials, host lab1, train.ipynb) and Bob's (2 trials, host lab2, eval.ipynb),
/// both pushed to a new team database, Ann's first (team numbers 1–3, then 4–5), and the
/// remote `team` configured in Ann's store.
struct Team {
    db: TestDb,
    ann: tempfile::TempDir,
    bob: tempfile::TempDir,
}

fn team() -> Option<Team> {
    let db = TestDb::new()?;
    let ann = tempfile::tempdir().unwrap();
    let bob = tempfile::tempdir().unwrap();
    let ann_db = store_of(
        ann.path(),
        "ann",
        "lab1",
        "nb/train.ipynb",
        &[
            ("ann-a", &[0.1, 0.2]),
            ("ann-b", &[0.1, 0.3]),
            ("ann-c", &[0.4]),
        ],
    );
    let bob_db = store_of(
        bob.path(),
        "bob",
        "lab2",
        "nb/eval.ipynb",
        &[("bob-a", &[0.1, 0.25, 0.3]), ("bob-b", &[0.05])],
    );
    let mut remote = provteam::Team::connect(&db.url).unwrap();
    for store_db in [&ann_db, &bob_db] {
        let store = Store::open_existing(store_db).unwrap();
        let ids: Vec<i64> = store.trials().unwrap().iter().map(|t| t.id).collect();
        remote.push(&store, &ids).unwrap();
    }
    provteam::add_remote(&ann_db, "team", &db.url).unwrap();
    Some(Team { db, ann, bob })
}

/// A JSON document with the keys `drop` removed from every object, at any depth.
fn without(mut v: Value, drop: &[&str]) -> Value {
    match &mut v {
        Value::Object(map) => {
            for key in drop {
                map.remove(*key);
            }
            for value in map.values_mut() {
                *value = without(value.take(), drop);
            }
        }
        Value::Array(items) => {
            for item in items.iter_mut() {
                *item = without(item.take(), drop);
            }
        }
        _ => {}
    }
    v
}

fn field<'a>(rows: &'a Value, key: &str) -> Vec<&'a str> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| r[key].as_str().unwrap_or("-"))
        .collect()
}

#[test]
fn the_team_list_holds_both_users_trials_filtered_and_paged() {
    let Some(t) = team() else { return };
    let dir = t.ann.path();
    let all = json(&provctl(dir, &["trials", "--remote", "team", "--json"]));
    assert_eq!(
        field(&all, "name"),
        ["ann-a", "ann-b", "ann-c", "bob-a", "bob-b"]
    );
    assert_eq!(field(&all, "user"), ["ann", "ann", "ann", "bob", "bob"]);
    assert_eq!(
        field(&all, "host"),
        ["lab1", "lab1", "lab1", "lab2", "lab2"]
    );
    // The UUIDs are the local trials': a trial is its UUID everywhere.
    let local = json(&provctl(t.bob.path(), &["trials", "--json"]));
    assert_eq!(field(&all, "uuid")[3..], field(&local, "uuid")[..]);
    assert_eq!(field(&local, "user"), ["bob", "bob"]);
    let ids: Vec<i64> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [1, 2, 3, 4, 5]);
    // The tagged value travels into the list, as locally.
    let bob_list = json(&provctl(t.bob.path(), &["trials", "--json"]));
    assert_eq!(all[3]["key_values"], bob_list[0]["key_values"]);
    assert_eq!(all[3]["key_values"][0]["name"], "acc");
    assert_eq!(all[3]["tags"], bob_list[0]["tags"]);

    // The same with --db URL.
    let by_url = json(&provctl(dir, &["trials", "--db", &t.db.url, "--json"]));
    assert_eq!(by_url, all);

    let names = |args: &[&str]| {
        let mut full = vec!["trials", "--remote", "team", "--json"];
        full.extend_from_slice(args);
        let rows = json(&provctl(dir, &full));
        field(&rows, "name")
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&["--user", "bob"]), ["bob-a", "bob-b"]);
    assert_eq!(names(&["--host", "lab1", "-n", "2"]), ["ann-b", "ann-c"]);
    assert_eq!(names(&["--notebook", "eval"]), ["bob-a", "bob-b"]);
    assert_eq!(names(&["--tag", "acc"]).len(), 5);
    assert!(names(&["--tag", "loss"]).is_empty());
    // Trial i of a store starts i hours after 2026-11-21 16:30 UTC.
    assert_eq!(
        names(&["--since", "2026-11-21T17:00", "--until", "2026-11-21T18:00"]),
        ["ann-b", "bob-b"]
    );
    assert_eq!(names(&["--before", "4", "-n", "2"]), ["ann-b", "ann-c"]);

    // A page says how to list the one before, with the same store and filters.
    let page = ok_stdout(&provctl(
        dir,
        &["trials", "--remote", "team", "-n", "2", "--user", "ann"],
    ));
    assert!(page.contains("ann-b") && page.contains("ann-c"), "{page}");
    assert!(!page.contains("ann-a"), "{page}");
    assert!(
        page.contains(
            "1 older trial not listed: `provctl trials --remote team --user ann --before 2`"
        ),
        "{page}"
    );

    // The filters work on a local store too.
    let local = json(&provctl(
        dir,
        &["trials", "--user", "ann", "--notebook", "train", "--json"],
    ));
    assert_eq!(field(&local, "name"), ["ann-a", "ann-b", "ann-c"]);
    let none = json(&provctl(dir, &["trials", "--user", "bob", "--json"]));
    assert_eq!(none, json!([]));
}

/// `values --json` rows without the trial's number, for comparing stores.
fn rows_by_name(v: Value) -> Vec<Value> {
    without(v, &["trial", "user", "host"])
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn values_across_the_team_are_the_local_answers_of_the_same_trials() {
    let Some(t) = team() else { return };
    let remote = json(&provctl(
        t.ann.path(),
        &["values", "acc", "--remote", "team", "--json"],
    ));
    let mut expected = rows_by_name(json(&provctl(t.ann.path(), &["values", "acc", "--json"])));
    expected.extend(rows_by_name(json(&provctl(
        t.bob.path(),
        &["values", "acc", "--json"],
    ))));
    assert_eq!(rows_by_name(remote.clone()), expected);
    // Each row names its trial by team number, and who ran it.
    let rows = remote.as_array().unwrap();
    assert_eq!(rows.len(), 9);
    assert_eq!(
        (rows[5]["trial"].as_i64(), rows[5]["user"].as_str()),
        (Some(4), Some("bob"))
    );
    assert_eq!(rows[5]["host"], "lab2");
    let text = ok_stdout(&provctl(
        t.ann.path(),
        &["values", "acc", "--remote", "team"],
    ));
    assert!(text.contains("acc: 9 values in 5 trials"), "{text}");
    assert!(
        text.contains("run by: ann@lab1 (trials 1, 2, 3), bob@lab2 (trials 4, 5)"),
        "{text}"
    );

    // The plot across the team: one point per trial, each trial's last value.
    let out = t.ann.path().join("acc.svg");
    let plot = json(&provctl(
        t.ann.path(),
        &[
            "plot",
            "acc",
            "--remote",
            "team",
            "-o",
            out.to_str().unwrap(),
            "--json",
        ],
    ));
    assert!(std::fs::read_to_string(&out).unwrap().starts_with("<svg"));
    assert!(plot.is_object() || plot.is_array(), "{plot}");

    let unknown = provctl(t.ann.path(), &["values", "acx", "--remote", "team"]);
    let message = refused(&unknown, "an unknown variable");
    assert!(message.contains("acc"), "{message}");
}

/// `diff --json` without the sides' summaries (their numbers differ between stores), and the
/// sides' UUIDs.
fn diff_of(dir: &Path, left: &str, right: &str) -> (Value, (String, String)) {
    let v = json(&provctl(dir, &["diff", left, right, "--all", "--json"]));
    let uuids = (
        v["left"]["uuid"].as_str().unwrap().to_string(),
        v["right"]["uuid"].as_str().unwrap().to_string(),
    );
    (without(v, &["left", "right"]), uuids)
}

#[test]
fn a_diff_of_remote_trials_is_the_local_diff_of_the_same_trials() {
    let Some(t) = team() else { return };
    let ann = t.ann.path();
    let local = diff_of(ann, "ann-a", "ann-b");
    // Remote against remote, local against remote, remote against local.
    assert_eq!(diff_of(ann, "team:1", "team:2"), local);
    assert_eq!(diff_of(ann, "ann-a", "team:2"), local);
    assert_eq!(diff_of(ann, "team:ann-a", "ann-b"), local);
    let uuid = &local.1 .1;
    assert_eq!(diff_of(ann, "1", &format!("team:{uuid}")), local);

    // Across users: Ann's trial against Bob's, as Bob's store would compare them after pulling.
    let (across, uuids) = diff_of(ann, "ann-a", "team:4");
    let code = across["code"].to_string();
    assert!(code.contains("0.25"), "{code}");
    let bob_trials = json(&provctl(t.bob.path(), &["trials", "--json"]));
    assert_eq!(uuids.1, bob_trials[0]["uuid"].as_str().unwrap());
    let text = ok_stdout(&provctl(ann, &["--remote", "team", "diff", "1", "4"]));
    assert!(text.contains("bob-a"), "{text}");

    let same = provctl(ann, &["diff", "ann-a", "team:1"]);
    assert!(refused(&same, "a trial against its pushed copy").contains("nothing to compare"));
}

#[test]
fn one_remote_trials_answers_are_the_local_ones() {
    let Some(t) = team() else { return };
    let (ann, bob) = (t.ann.path(), t.bob.path());
    // Bob's first trial is team:4 and local 1 in his store.
    let remote = json(&provctl(ann, &["show", "team:4", "--json"]));
    let local = json(&provctl(bob, &["show", "1", "--json"]));
    assert_eq!(remote["executions"], local["executions"]);
    assert_eq!(remote["trial"]["uuid"], local["trial"]["uuid"]);
    assert_eq!(remote["trial"]["id"], 4);
    assert_eq!(remote["trial"]["user"], "bob");
    let by_remote = json(&provctl(
        ann,
        &["--remote", "team", "show", "bob-a", "--json"],
    ));
    assert_eq!(by_remote, remote);

    let deps = |dir: &Path, trial: &str| {
        without(
            json(&provctl(dir, &["deps", "acc", "--trial", trial, "--json"])),
            &["trial", "trial_id"],
        )
    };
    assert_eq!(deps(ann, "team:4"), deps(bob, "1"));
    let export =
        |dir: &Path, trial: &str| ok_stdout(&provctl(dir, &["export", trial, "--format", "py"]));
    let script = export(bob, "1");
    assert!(script.contains("0.25"), "{script}");
    // The same history; its header names the trial by its number in the store read.
    let remote_script = export(ann, "team:4");
    assert!(
        remote_script.starts_with("# The history of trial 4 \"bob-a\""),
        "{remote_script}"
    );
    assert_eq!(remote_script.replacen("trial 4 ", "trial 1 ", 1), script);
    let slice =
        |dir: &Path, trial: &str| ok_stdout(&provctl(dir, &["slice", "acc", "--trial", trial]));
    assert_eq!(slice(ann, "team:4"), slice(bob, "1"));
    // The latest team trial by default; a local-only command says so.
    let latest = json(&provctl(ann, &["show", "--remote", "team", "--json"]));
    assert_eq!(latest["trial"]["id"], 5);
    let log = provctl(ann, &["log", "--remote", "team"]);
    assert!(refused(&log, "log of a team store").contains("local store only"));
}

#[test]
fn errors_say_what_to_fix() {
    let Some(t) = team() else { return };
    let ann = t.ann.path();
    let unknown = provctl(ann, &["trials", "--remote", "teem"]);
    let message = refused(&unknown, "an unknown remote");
    assert!(message.contains("no remote named \"teem\""), "{message}");
    assert!(
        message.contains("team"),
        "lists the configured remotes: {message}"
    );
    let typo = provctl(ann, &["show", "teem:4"]);
    assert!(refused(&typo, "a mistyped remote").contains("(remotes: team)"));

    let missing = provctl(ann, &["show", "team:999"]);
    let message = refused(&missing, "an unknown team trial");
    assert!(message.contains("999"), "{message}");
    let missing = provctl(ann, &["diff", "1", "team:nope"]);
    refused(&missing, "an unknown team trial in a diff");

    // A server that does not answer: exit 1, its URL, what to check.
    let down = provctl(
        ann,
        &["trials", "--db", "postgresql://ann@127.0.0.1:9/prov"],
    );
    assert_eq!(down.status.code(), Some(1), "{}", stderr(&down));
    let message = stderr(&down);
    assert!(message.contains("127.0.0.1:9"), "{message}");
    assert!(message.contains("fix:"), "{message}");
    assert!(down.stdout.is_empty());
    // A password in the URL is never used nor shown.
    let secret = provctl(
        ann,
        &["trials", "--db", "postgresql://ann:s3cret@127.0.0.1:9/prov"],
    );
    assert_ne!(secret.status.code(), Some(0));
    assert!(!stderr(&secret).contains("s3cret"), "{}", stderr(&secret));
}

/// `provctl ARGS` in `cwd` with `cache` as the user's cache folder.
fn provctl_cached(cwd: &Path, cache: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_provctl"))
        .args(args)
        .current_dir(cwd)
        .env_remove("PROV_DB")
        .env("XDG_CACHE_HOME", cache)
        .output()
        .unwrap()
}

/// The scratch stores kept in the cache folder `cache`.
fn cached_stores(cache: &Path) -> Vec<PathBuf> {
    let dir = cache.join("prov").join("scratch");
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    found.retain(|p| p.extension().is_some_and(|e| e == "db"));
    found.sort();
    found
}

#[test]
fn a_cached_remote_diff_is_fresh_after_a_push_and_survives_a_damaged_entry() {
    use std::os::unix::fs::PermissionsExt;
    let Some(t) = team() else { return };
    let ann = t.ann.path();
    let cache = tempfile::tempdir().unwrap();
    let diff = |left: &str, right: &str| {
        let v = json(&provctl_cached(
            ann,
            cache.path(),
            &["diff", left, right, "--all", "--json"],
        ));
        without(v, &["left", "right"])
    };
    let local = diff("ann-a", "ann-b");
    assert_eq!(diff("team:1", "team:2"), local, "cold: fetched and kept");
    let kept = cached_stores(cache.path());
    assert_eq!(kept.len(), 1, "{kept:?}");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&kept[0]), 0o600);
    assert_eq!(mode(kept[0].parent().unwrap()), 0o700);
    assert_eq!(mode(&cache.path().join("prov")), 0o700);

    // Warm: the answer comes from the cache, not the team store's bundles.
    let mut server = provteam::connect_raw(&t.db.url).unwrap();
    let saved = server
        .query(
            "SELECT trial_id, bytes FROM prov_bundles ORDER BY trial_id",
            &[],
        )
        .unwrap();
    server
        .execute("UPDATE prov_bundles SET bytes = 'no bundle'", &[])
        .unwrap();
    assert_eq!(diff("team:1", "team:2"), local, "warm: read from the cache");
    for row in &saved {
        let (id, bytes): (i64, Vec<u8>) = (row.get(0), row.get(1));
        server
            .execute(
                "UPDATE prov_bundles SET bytes = $2 WHERE trial_id = $1",
                &[&id, &bytes],
            )
            .unwrap();
    }

    // Ann records one more cell in her first trial and pushes it again: its content digest
    // changes, so the cached store is not used; the answer is the new local one.
    let ann_db = ann.join(".prov").join("prov.db");
    let mut store = Store::open(&ann_db).unwrap();
    store
        .record_execution(1, &acc_cell(3, "lr = 0.9\nacc = 1.4", 1.4))
        .unwrap();
    provteam::Team::connect(&t.db.url)
        .unwrap()
        .push(&store, &[1])
        .unwrap();
    drop(store);
    let grown = diff("ann-a", "ann-b");
    assert_ne!(grown, local);
    assert_eq!(
        diff("team:1", "team:2"),
        grown,
        "the re-pushed trial seen fresh"
    );
    let kept = cached_stores(cache.path());
    assert_eq!(kept.len(), 2, "{kept:?}");

    // A damaged entry is not read: it is built again from the bundles, and replaced.
    for entry in &kept {
        let mut bytes = std::fs::read(entry).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x55;
        std::fs::write(entry, &bytes).unwrap();
    }
    let damaged: Vec<Vec<u8>> = kept.iter().map(|p| std::fs::read(p).unwrap()).collect();
    assert_eq!(diff("team:1", "team:2"), grown);
    let now = cached_stores(cache.path());
    assert_eq!(now.len(), 2, "{now:?}");
    let replaced = now
        .iter()
        .filter(|p| !damaged.contains(&std::fs::read(p).unwrap()))
        .count();
    assert_eq!(replaced, 1, "the entry of the current pair was replaced");
    assert_eq!(diff("team:1", "team:2"), grown, "and reads back");

    // One remote trial alone has an entry of its own; without a home there is no cache.
    let show = json(&provctl_cached(
        ann,
        cache.path(),
        &["show", "team:4", "--json"],
    ));
    assert_eq!(show["trial"]["id"], 4);
    assert_eq!(cached_stores(cache.path()).len(), 3);
    let homeless = std::process::Command::new(env!("CARGO_BIN_EXE_provctl"))
        .args(["diff", "team:1", "team:2", "--all", "--json"])
        .current_dir(ann)
        .env_remove("PROV_DB")
        .env_remove("HOME")
        .env_remove("XDG_CACHE_HOME")
        .output()
        .unwrap();
    assert_eq!(without(json(&homeless), &["left", "right"]), grown);
}
