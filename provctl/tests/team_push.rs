//! `provctl remote`, `push` and `pull` against a real PostgreSQL (a database per test): a push
//! killed with SIGKILL mid-way completes on the next run with every trial exactly once, and no
//! reader ever sees a trial without its bundle or executions; a password is refused and never
//! echoed; a pull into a new store; a remote that is down.

#[path = "../../team/tests/common/mod.rs"]
mod team_common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use team_common::{store_with, TestDb};

fn provctl(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_provctl"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("PROV_DB")
        .env_remove("PROV_PUSH")
        .output()
        .unwrap()
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Trials whose rows a reader would see half-written: no bundle, or another number of
/// executions than the trial says.
const HALF_WRITTEN: &str = "SELECT count(*) FROM prov_trials t
    WHERE NOT EXISTS (SELECT 1 FROM prov_bundles b WHERE b.trial_id = t.id)
       OR t.executions <> (SELECT count(*) FROM prov_executions e WHERE e.trial_id = t.id)";

#[test]
fn a_push_killed_mid_way_completes_next_time_with_every_trial_once() {
    let Some(db) = TestDb::new() else { return };
    let dir = tempfile::tempdir().unwrap();
    const TRIALS: i64 = 24;
    const EXECUTIONS: i64 = 150;
    let (store, _) = store_with(dir.path(), TRIALS as usize, EXECUTIONS);
    let added = provctl(&store, &["remote", "add", "team", &db.url]);
    assert!(added.status.success(), "{:?}", text(&added));

    let mut child = Command::new(env!("CARGO_BIN_EXE_provctl"))
        .arg("--db")
        .arg(&store)
        .args(["push", "team"])
        .env_remove("PROV_PUSH")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stop = AtomicBool::new(false);
    let (seen_half, killed_at) = std::thread::scope(|s| {
        // A reader checking, as fast as it can, that no trial is ever visible half-written.
        let reader = s.spawn(|| {
            let mut client = db.client();
            let mut half = 0;
            let mut checks = 0;
            while !stop.load(Ordering::Relaxed) {
                let exists: bool = client
                    .query_one("SELECT to_regclass('prov_trials') IS NOT NULL", &[])
                    .unwrap()
                    .get(0);
                if exists {
                    half += client
                        .query_one(HALF_WRITTEN, &[])
                        .unwrap()
                        .get::<_, i64>(0);
                    checks += 1;
                }
            }
            (half, checks)
        });
        let mut client = db.client();
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut landed = 0;
        while Instant::now() < deadline {
            let exists: bool = client
                .query_one("SELECT to_regclass('prov_trials') IS NOT NULL", &[])
                .unwrap()
                .get(0);
            if exists {
                landed = client
                    .query_one("SELECT count(*) FROM prov_trials", &[])
                    .unwrap()
                    .get::<_, i64>(0);
                if landed >= 2 {
                    break;
                }
            }
            if child.try_wait().unwrap().is_some() {
                break; // ended before we could kill it: the range check below fails
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        // SIGKILL: no chance to clean up, as a power cut.
        child.kill().unwrap();
        child.wait().unwrap();
        std::thread::sleep(Duration::from_millis(200));
        stop.store(true, Ordering::Relaxed);
        let (half, checks) = reader.join().unwrap();
        assert!(checks > 0, "the reader ran");
        (half, landed)
    });
    assert_eq!(seen_half, 0, "a reader saw a trial half-written");
    let before = db.count("SELECT count(*) FROM prov_trials");
    assert!(
        (killed_at..TRIALS).contains(&before),
        "killed mid-way: {before} of {TRIALS} trials in"
    );
    assert_eq!(db.count(HALF_WRITTEN), 0);

    // The next push sends exactly the rest.
    let again = provctl(&store, &["push"]);
    let (out, err) = text(&again);
    assert!(again.status.success(), "{err}");
    assert_eq!(
        out.lines().filter(|l| l.starts_with("pushed")).count() as i64,
        TRIALS - before,
        "{out}"
    );
    assert_eq!(db.count("SELECT count(*) FROM prov_trials"), TRIALS);
    assert_eq!(
        db.count("SELECT count(DISTINCT uuid) FROM prov_trials"),
        TRIALS
    );
    assert_eq!(
        db.count("SELECT count(*) FROM prov_executions"),
        TRIALS * EXECUTIONS
    );
    assert_eq!(db.count(HALF_WRITTEN), 0);
    let (out, _) = text(&provctl(&store, &["push"]));
    assert!(out.starts_with("Nothing to push"), "{out}");
}

#[test]
fn remotes_are_added_listed_and_a_password_refused_unechoed() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join(".prov").join("prov.db");
    let refused = provctl(
        &store,
        &[
            "remote",
            "add",
            "team",
            "postgresql://ann:hunter2@db.example/prov",
        ],
    );
    let (out, err) = text(&refused);
    assert_eq!(refused.status.code(), Some(2), "{err}");
    assert!(err.contains("pgpass"), "{err}");
    assert!(
        !err.contains("hunter2") && !out.contains("hunter2"),
        "{err}"
    );
    assert!(!store.with_file_name("config.toml").exists());

    let url = "postgresql://ann@db.example:5432/prov";
    assert!(provctl(&store, &["remote", "add", "team", url])
        .status
        .success());
    let listed = provctl(&store, &["--json", "remote", "list"]);
    let v: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(
        v,
        serde_json::json!([{"name": "team", "url": url, "push": false}])
    );
    let (out, _) = text(&provctl(&store, &["remote", "list"]));
    assert!(out.contains("team") && out.contains(url), "{out}");
    let twice = provctl(&store, &["remote", "add", "team", url]);
    assert_eq!(twice.status.code(), Some(2));
}

#[test]
fn a_pull_into_a_new_store_and_a_remote_that_is_down() {
    let Some(db) = TestDb::new() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = store_with(dir.path(), 2, 3);
    assert!(provctl(&store, &["remote", "add", "team", &db.url])
        .status
        .success());
    let pushed = provctl(&store, &["--json", "push"]);
    let (out, err) = text(&pushed);
    assert!(pushed.status.success(), "{err}");
    let outcomes: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(outcomes.as_array().unwrap().len(), 2);
    assert_eq!(outcomes[0]["outcome"], "pushed");
    let team_id = outcomes[1]["team_id"].as_i64().unwrap();

    let other = tempfile::tempdir().unwrap();
    let copy = other.path().join(".prov").join("prov.db");
    assert!(provctl(&copy, &["remote", "add", "team", &db.url])
        .status
        .success());
    let one = provctl(&copy, &["pull", "team", &format!("team:{team_id}")]);
    let (out, err) = text(&one);
    assert!(one.status.success(), "{err}");
    assert!(out.starts_with("pulled"), "{out}");
    let rest = provctl(&copy, &["pull"]);
    let (out, _) = text(&rest);
    assert_eq!(out.lines().count(), 1, "only the other trial: {out}");
    let (out, _) = text(&provctl(&copy, &["pull"]));
    assert!(out.starts_with("Nothing to pull"), "{out}");
    let listed = provctl(&copy, &["--json", "trials"]);
    let trials: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(trials.as_array().unwrap().len(), 2);

    // A closed port: exit 1 within the timeout, saying where and what to check.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let down = format!("postgresql://ann@127.0.0.1:{port}/prov");
    assert!(provctl(&store, &["remote", "add", "down", &down])
        .status
        .success());
    let started = Instant::now();
    let failed = provctl(&store, &["push", "down"]);
    assert!(started.elapsed() < Duration::from_secs(8));
    let (_, err) = text(&failed);
    assert_eq!(failed.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&down) && err.contains("is the server running"),
        "{err}"
    );
}
