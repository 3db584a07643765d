//! Pushing to and pulling from a real PostgreSQL (each test in a database of its own): the
//! schema made on first use and migrated from an older build's, a second push writing
//! nothing, two stores pushing at once, a pull into an empty store answering as the store
//! that recorded the trials, and a remote that is down or newer than this build.

mod common;

use std::time::{Duration, Instant};

use common::{store_with, TestDb};
use provstore::{AbsorbOutcome, Store};
use provteam::{PushStatus, Team, TeamError, TeamTrialRef, TEAM_SCHEMA_VERSION};

#[test]
fn the_schema_is_made_on_first_push_and_a_trial_lands_whole() {
    let Some(db) = TestDb::new() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (path, ids) = store_with(dir.path(), 2, 5);
    assert_eq!(
        db.count("SELECT count(*) FROM pg_tables WHERE tablename LIKE 'prov_%'"),
        0
    );
    let store = Store::open_existing(&path).unwrap();
    let mut team = Team::connect(&db.url).unwrap();
    let pushed = team.push(&store, &[]).unwrap();
    assert_eq!(pushed.len(), 2);
    assert!(pushed.iter().all(|p| p.outcome == PushStatus::Pushed));
    assert_eq!(
        pushed.iter().map(|p| p.trial).collect::<Vec<_>>(),
        ids,
        "in the store's order"
    );
    let version: String = db
        .client()
        .query_one(
            "SELECT value FROM prov_meta WHERE key = 'schema_version'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(version, TEAM_SCHEMA_VERSION.to_string());
    assert_eq!(db.count("SELECT count(*) FROM prov_trials"), 2);
    assert_eq!(db.count("SELECT count(*) FROM prov_bundles"), 2);
    assert_eq!(db.count("SELECT count(*) FROM prov_executions"), 10);
    // Every execution captured acc; it is tagged with its label in both trials.
    assert_eq!(
        db.count(
            "SELECT count(*) FROM prov_values WHERE name = 'acc' AND tagged AND label = 'metric'"
        ),
        10
    );
    // Each value carries its execution's In[n] and start.
    assert_eq!(
        db.count(
            "SELECT count(*) FROM prov_values v JOIN prov_executions e USING (trial_id, seq)
             WHERE v.execution_count = e.execution_count AND v.started_at = e.started_at"
        ),
        10
    );
    let local = store.trial(ids[0]).unwrap();
    let row = db
        .client()
        .query_one(
            "SELECT uuid, name, status, executions, host, notebook, tags, platform, pid,
                    store_schema, length(bundle_sha256)
             FROM prov_trials WHERE id = $1",
            &[&pushed[0].team_id],
        )
        .unwrap();
    assert_eq!(row.get::<_, String>(0), local.uuid);
    assert_eq!(row.get::<_, Option<String>>(1), local.name);
    assert_eq!(row.get::<_, String>(2), "finished");
    assert_eq!(row.get::<_, i32>(3), 5);
    assert_eq!(row.get::<_, String>(4), local.hostname);
    assert_eq!(
        row.get::<_, Option<String>>(5).as_deref(),
        Some("train.ipynb")
    );
    assert_eq!(row.get::<_, Vec<String>>(6), ["acc"]);
    assert_eq!(
        row.get::<_, Option<String>>(7),
        Some(local.platform.clone())
    );
    assert_eq!(row.get::<_, Option<i64>>(8), Some(local.pid));
    assert_eq!(i64::from(row.get::<_, i32>(9)), provstore::SCHEMA_VERSION);
    assert_eq!(row.get::<_, i32>(10), 64);
    // The executions' rows are the store's, in order.
    let execs = db
        .client()
        .query(
            "SELECT seq, execution_count, code_sha256, status FROM prov_executions
             WHERE trial_id = $1 ORDER BY seq",
            &[&pushed[0].team_id],
        )
        .unwrap();
    let local_execs = store.executions(ids[0]).unwrap();
    assert_eq!(execs.len(), local_execs.len());
    for (row, e) in execs.iter().zip(&local_execs) {
        assert_eq!(i64::from(row.get::<_, i32>(0)), e.order);
        assert_eq!(
            row.get::<_, Option<i32>>(1).map(i64::from),
            e.execution_count
        );
        assert_eq!(row.get::<_, String>(2), e.code_sha256);
        assert_eq!(row.get::<_, String>(3), e.status.as_str());
    }
}

#[test]
fn a_second_push_writes_nothing() {
    let Some(db) = TestDb::new() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (path, ids) = store_with(dir.path(), 3, 4);
    let store = Store::open_existing(&path).unwrap();
    let mut team = Team::connect(&db.url).unwrap();
    team.push(&store, &[]).unwrap();
    let stamp = |db: &TestDb| -> Vec<(i64, String)> {
        db.client()
            .query(
                "SELECT id, pushed_at::text || xmin::text FROM prov_trials ORDER BY id",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect()
    };
    let before = stamp(&db);
    // Nothing pending, and the same trials named explicitly are unchanged.
    assert!(team.pending(&store).unwrap().is_empty());
    assert!(team.push(&store, &[]).unwrap().is_empty());
    let again = team.push(&store, &ids).unwrap();
    assert!(
        again.iter().all(|p| p.outcome == PushStatus::Unchanged),
        "{again:?}"
    );
    assert_eq!(stamp(&db), before, "no row rewritten");
    assert_eq!(db.count("SELECT count(*) FROM prov_executions"), 12);

    // A new execution in one trial: only that trial goes again, keeping its team number.
    drop(store);
    let mut writer = Store::open(&path).unwrap();
    let start = chrono::Utc::now();
    common::fill(&mut writer, ids[1], 1, start);
    drop(writer);
    let store = Store::open_existing(&path).unwrap();
    assert_eq!(team.pending(&store).unwrap(), [ids[1]]);
    let third = team.push(&store, &[]).unwrap();
    assert_eq!(third.len(), 1);
    assert_eq!(third[0].outcome, PushStatus::Pushed);
    assert_eq!(third[0].team_id, before[1].0);
    assert_eq!(third[0].executions, 5);
    assert_eq!(db.count("SELECT count(*) FROM prov_executions"), 13);
    assert_eq!(db.count("SELECT count(*) FROM prov_trials"), 3);
}

#[test]
fn two_stores_pushing_at_once_both_land_once() {
    let Some(db) = TestDb::new() else { return };
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let stores: Vec<_> = dirs.iter().map(|d| store_with(d.path(), 4, 6).0).collect();
    std::thread::scope(|s| {
        let mut handles = Vec::new();
        // Each store twice over, at once: four connections racing on the same UUIDs.
        for path in stores.iter().chain(stores.iter()) {
            let url = db.url.clone();
            handles.push(s.spawn(move || {
                let store = Store::open_existing(path).unwrap();
                let mut team = Team::connect(&url).unwrap();
                let ids: Vec<i64> = store.trials().unwrap().iter().map(|t| t.id).collect();
                team.push(&store, &ids).unwrap()
            }));
        }
        let outcomes: Vec<_> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        let pushed = outcomes
            .iter()
            .filter(|o| o.outcome == PushStatus::Pushed)
            .count();
        assert_eq!(pushed, 8, "each trial written once: {outcomes:?}");
    });
    assert_eq!(db.count("SELECT count(*) FROM prov_trials"), 8);
    assert_eq!(db.count("SELECT count(DISTINCT uuid) FROM prov_trials"), 8);
    assert_eq!(db.count("SELECT count(*) FROM prov_bundles"), 8);
    assert_eq!(db.count("SELECT count(*) FROM prov_executions"), 48);
    assert_eq!(db.count("SELECT count(*) FROM prov_values"), 48);
}

#[test]
fn a_pull_into_an_empty_store_answers_the_same() {
    let Some(db) = TestDb::new() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (path, ids) = store_with(dir.path(), 2, 3);
    let origin = Store::open_existing(&path).unwrap();
    let pushed = Team::connect(&db.url).unwrap().push(&origin, &[]).unwrap();

    let elsewhere = tempfile::tempdir().unwrap();
    let copy = Store::open(&elsewhere.path().join("prov.db")).unwrap();
    let mut team = Team::connect(&db.url).unwrap();
    let pulled = team.pull(&copy, &[]).unwrap();
    assert_eq!(pulled.len(), 2);
    assert!(pulled.iter().all(|a| a.outcome == AbsorbOutcome::Added));
    for (local, p) in ids.iter().zip(&pushed) {
        let a = origin.trial(*local).unwrap();
        let b = copy.resolve_trial(&a.uuid).unwrap();
        assert_eq!(
            (&a.name, a.status, a.executions),
            (&b.name, b.status, b.executions)
        );
        let code = |s: &Store, t| -> Vec<(String, String)> {
            s.executions(t)
                .unwrap()
                .into_iter()
                .map(|e| (e.code, e.started_at))
                .collect()
        };
        assert_eq!(code(&origin, a.id), code(&copy, b.id));
        let values = |s: &Store, t| -> Vec<(String, Option<serde_json::Value>)> {
            s.trial_values(t)
                .unwrap()
                .into_iter()
                .map(|v| (v.name, v.captured.value))
                .collect()
        };
        assert_eq!(values(&origin, a.id), values(&copy, b.id));
        assert_eq!(
            origin.tags(a.id).unwrap().variables.len(),
            copy.tags(b.id).unwrap().variables.len()
        );
        assert_eq!(
            origin.var_values("acc").unwrap().len(),
            copy.var_values("acc").unwrap().len()
        );
        // By team number and by UUID the same trial: unchanged the second time.
        let again = team
            .pull(
                &copy,
                &[
                    TeamTrialRef::Id(p.team_id),
                    TeamTrialRef::Uuid(a.uuid.clone()),
                ],
            )
            .unwrap();
        assert!(again.iter().all(|x| x.outcome == AbsorbOutcome::Unchanged));
    }
    // Nothing left to pull; a trial the team store lacks is a clear error.
    assert!(team.pull(&copy, &[]).unwrap().is_empty());
    let missing = team.pull(&copy, &[TeamTrialRef::Id(9999)]).unwrap_err();
    assert!(
        matches!(missing, TeamError::NoSuchTrial { .. }),
        "{missing}"
    );
    assert_eq!(team.resolve(&pushed[0].uuid).unwrap(), pushed[0].team_id);
    let name = origin.trial(ids[1]).unwrap().name.unwrap();
    assert_eq!(team.resolve(&name).unwrap(), pushed[1].team_id);
}

#[test]
fn an_older_team_schema_is_migrated_and_a_newer_one_refused() {
    let Some(db) = TestDb::new() else { return };
    let mut client = db.client();
    provteam::create_schema_up_to(&mut client, 1).unwrap();
    // A trial pushed by a build of version 1, before the columns of version 2.
    client
        .batch_execute(
            "INSERT INTO prov_trials (id, uuid, status, started_at, host, executions, store_schema,
                 bundle_sha256) VALUES (1, 'old-trial', 'finished', now(), 'h', 1, 1, 'x');
             INSERT INTO prov_executions (trial_id, seq, execution_count, code_sha256, status,
                 started_at, duration_ms) VALUES (1, 1, 7, 'c', 'ok', now(), 3);
             INSERT INTO prov_values (trial_id, seq, position, name, value_json, tagged)
                 VALUES (1, 1, 0, 'acc', '0.5', true);",
        )
        .unwrap();
    assert!(client
        .query_one("SELECT to_regclass('prov_trials') IS NOT NULL", &[])
        .unwrap()
        .get::<_, bool>(0));
    let mut team = Team::connect(&db.url).unwrap();
    let row = team
        .client()
        .query_one(
            "SELECT (SELECT value FROM prov_meta WHERE key = 'schema_version'),
                    count(*), count(platform) FROM prov_trials",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, String>(0), TEAM_SCHEMA_VERSION.to_string());
    assert_eq!(row.get::<_, i64>(1), 1, "the old trial kept");
    assert_eq!(row.get::<_, i64>(2), 0, "the new column is there, empty");
    // Version 3 carried each value's execution over, and a values query uses its index.
    let count: Option<i32> = team
        .client()
        .query_one("SELECT execution_count FROM prov_values", &[])
        .unwrap()
        .get(0);
    assert_eq!(count, Some(7));
    // The query's condition lets the planner use the partial index: with the other ways
    // (a scan, the index by name) out of the picture, it is the plan.
    let mut tx = team.client().transaction().unwrap();
    tx.batch_execute("DROP INDEX prov_values_name; SET LOCAL enable_seqscan = off")
        .unwrap();
    let plan = explain(
        &mut tx,
        &format!(
            "SELECT trial_id, seq, value_json, execution_count FROM prov_values
             WHERE name = 'acc' AND {}",
            provteam::VALUES_COVERED
        ),
    );
    // And the rare rows the covering index leaves out have theirs (version 4), so looking
    // for them does not re-read the name's every row.
    let rare = explain(
        &mut tx,
        &format!(
            "SELECT trial_id, seq FROM prov_values WHERE name = 'acc' AND NOT ({})",
            provteam::VALUES_COVERED
        ),
    );
    tx.rollback().unwrap();
    assert!(plan.contains("prov_values_covering"), "{plan}");
    assert!(rare.contains("prov_values_uncovered"), "{rare}");

    client
        .execute(
            "UPDATE prov_meta SET value = '99' WHERE key = 'schema_version'",
            &[],
        )
        .unwrap();
    let err = Team::connect(&db.url).unwrap_err();
    assert!(matches!(err, TeamError::TooNew { found: 99, .. }), "{err}");
    assert!(err.to_string().contains("upgrade prov"), "{err}");
}

#[test]
fn a_remote_that_is_down_is_a_clear_error_within_the_timeout() {
    // A port nothing listens on: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgresql://ann@127.0.0.1:{port}/prov");
    let started = Instant::now();
    let err = Team::connect(&url).unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    let text = err.to_string();
    assert!(text.contains(&url), "{text}");
    assert!(text.contains("is the server running"), "{text}");

    // A server that accepts and says nothing: the whole handshake is bounded too.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let url = format!("postgresql://ann:hunter2@127.0.0.1:{port}/prov?connect_timeout=2");
    let started = Instant::now();
    let err = Team::connect(&url).unwrap_err();
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(2) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
    let text = err.to_string();
    assert!(text.contains("no answer within 2 s"), "{text}");
    assert!(
        !text.contains("hunter2"),
        "the password never shows: {text}"
    );
    drop(silent);
}

#[test]
fn a_later_state_is_pulled_again_and_never_pushed_over() {
    let Some(db) = TestDb::new() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (path, ids) = store_with(dir.path(), 1, 3);
    let mut team = Team::connect(&db.url).unwrap();
    team.push(&Store::open_existing(&path).unwrap(), &[])
        .unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let copy = Store::open(&elsewhere.path().join("prov.db")).unwrap();
    assert_eq!(team.pull(&copy, &[]).unwrap().len(), 1);

    // The trial goes on where it was recorded, and is pushed again.
    let mut writer = Store::open(&path).unwrap();
    common::fill(&mut writer, ids[0], 1, chrono::Utc::now());
    drop(writer);
    let origin = Store::open_existing(&path).unwrap();
    let uuid = origin.trial(ids[0]).unwrap().uuid;
    assert_eq!(team.push(&origin, &[]).unwrap()[0].executions, 4);

    // The copy's earlier state never replaces it, even named explicitly...
    let copied = copy.resolve_trial(&uuid).unwrap().id;
    assert!(team.pending(&copy).unwrap().is_empty());
    let pushed = team.push(&copy, &[copied]).unwrap();
    assert_eq!(pushed[0].outcome, PushStatus::RemoteNewer);
    assert_eq!(db.count("SELECT sum(executions) FROM prov_trials"), 4);
    assert_eq!(db.count("SELECT count(*) FROM prov_executions"), 4);
    // ...and a pull takes the later state in.
    let pulled = team.pull(&copy, &[]).unwrap();
    assert_eq!(pulled.len(), 1);
    assert_eq!(pulled[0].outcome, AbsorbOutcome::Replaced);
    assert_eq!(copy.resolve_trial(&uuid).unwrap().executions, 4);
    assert!(team.pull(&copy, &[]).unwrap().is_empty());
}

#[test]
fn text_postgresql_cannot_hold_is_pushed_replaced_and_kept_whole_in_the_bundle() {
    let Some(db) = TestDb::new() else { return };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("prov.db");
    let mut store = Store::open(&path).unwrap();
    let t = common::new_trial(dir.path(), 0);
    let started = t.started_at;
    let trial = store.begin_trial(&t).unwrap().id;
    let mut r = common::record(1, "x = 1", started, 3);
    r.cell_id = Some("cell\0with-nul".into());
    store.record_executions(trial, &[r]).unwrap();
    drop(store);
    let store = Store::open_existing(&path).unwrap();
    let mut team = Team::connect(&db.url).unwrap();
    let pushed = team.push(&store, &[]).unwrap();
    assert_eq!(pushed[0].outcome, PushStatus::Pushed);
    let cell: String = db
        .client()
        .query_one("SELECT cell_id FROM prov_executions", &[])
        .unwrap()
        .get(0);
    assert_eq!(cell, "cell\u{FFFD}with-nul");
    // Unchanged the second time, and the bundle keeps the exact id.
    assert!(team.pending(&store).unwrap().is_empty());
    let other = tempfile::tempdir().unwrap();
    let copy = Store::open(&other.path().join("prov.db")).unwrap();
    team.pull(&copy, &[]).unwrap();
    let back = copy.latest_trial().unwrap().unwrap();
    let execs = copy.executions(back.id).unwrap();
    assert_eq!(execs[0].cell_id.as_deref(), Some("cell\0with-nul"));
}

/// PostgreSQL's plan for `query`, one line per node.
fn explain(tx: &mut provteam::postgres::Transaction<'_>, query: &str) -> String {
    let rows = tx.query(&format!("EXPLAIN {query}"), &[]).unwrap();
    let lines: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    lines.join("\n")
}
