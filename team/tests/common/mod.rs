//! What the team store's tests share: a database of their own on the test server
//! (`$PROV_TEST_PG`, a URL without password; the password through `$PGPASSFILE`), dropped at
//! the end, and local stores filled as the kernel fills them (provstore's record builders,
//! included by path).

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use chrono::{Duration, TimeZone, Utc};
use provstore::{NewTrial, Store, TrialStatus};
use serde_json::json;

#[path = "../../../provstore/tests/common/records.rs"]
mod records;

pub use records::{binding_note, record, stream, with_notes};

/// A database of one test, dropped (with its connections) when this goes.
pub struct TestDb {
    /// Its URL (no password).
    pub url: String,
    admin: String,
    name: String,
}

/// `url` with its database replaced by `db`.
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    format!("{base}/{db}{query}")
}

impl TestDb {
    /// A new empty database, or None (the test skips, saying why) when there is no test
    /// server; under CI a missing server fails the test.
    pub fn new() -> Option<TestDb> {
        let Some(admin) = std::env::var("PROV_TEST_PG").ok().filter(|v| !v.is_empty()) else {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("PROV_TEST_PG is not set: scripts/test.sh starts the test server");
            }
            eprintln!(
                "skipped: no PostgreSQL (set PROV_TEST_PG, e.g. eval \"$(bash scripts/pg.sh env \
                 target/pg)\")"
            );
            return None;
        };
        let name = format!("prov_test_{}", uuid::Uuid::new_v4().simple());
        let mut client = provteam::connect_raw(&admin).expect("the test server answers");
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        Some(TestDb {
            url: with_database(&admin, &name),
            admin,
            name,
        })
    }

    /// A bare connection to this database.
    pub fn client(&self) -> provteam::postgres::Client {
        provteam::connect_raw(&self.url).unwrap()
    }

    /// One integer from a query.
    pub fn count(&self, sql: &str) -> i64 {
        self.client().query_one(sql, &[]).unwrap().get(0)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut c) = provteam::connect_raw(&self.admin) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// A trial started `minutes` after a fixed time, on this host, by this process.
pub fn new_trial(cwd: &Path, minutes: i64) -> NewTrial {
    NewTrial {
        notebook: Some("train.ipynb".into()),
        cwd: cwd.display().to_string(),
        platform: provstore::platform(),
        pid: std::process::id(),
        hostname: provstore::hostname(),
        user: Some("ann".into()),
        started_at: Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap()
            + Duration::minutes(minutes),
    }
}

/// Records `executions` cells in `trial`: `acc = 0.<n>` binding a float (captured, as the
/// probe notes it), each printing a line.
pub fn fill(store: &mut Store, trial: i64, executions: i64, start: chrono::DateTime<Utc>) {
    let records: Vec<_> = (1..=executions)
        .map(|n| {
            let acc = n as f64 / (executions as f64 + 1.0);
            let mut r = record(
                n,
                &format!("acc = {acc}\nprint(acc)"),
                start + Duration::seconds(n),
                7,
            );
            r.outputs = vec![stream(&format!("{acc}\n"))];
            with_notes(
                r,
                String::new(),
                Some(&binding_note(
                    &[("acc", json!({"type": "float", "value": acc}))],
                    n,
                )),
            )
        })
        .collect();
    store.record_executions(trial, &records).unwrap();
}

/// A store in `dir/.prov/prov.db` with `trials` finished trials of `executions` cells each,
/// `acc` tagged (label `metric`) and the trials named `run-<i>`.
pub fn store_with(dir: &Path, trials: usize, executions: i64) -> (PathBuf, Vec<i64>) {
    let db = dir.join(".prov").join("prov.db");
    let mut store = Store::open(&db).unwrap();
    let mut ids = Vec::new();
    for i in 0..trials {
        let t = new_trial(dir, i as i64 * 10);
        let started = t.started_at;
        let handle = store.begin_trial(&t).unwrap();
        fill(&mut store, handle.id, executions, started);
        store
            .tag_variable(handle.id, "acc", Some("metric"))
            .unwrap();
        store
            .set_trial_name(
                handle.id,
                &format!("run-{}-{i}", handle.uuid.get(..4).unwrap_or("x")),
            )
            .unwrap();
        store.end_trial(handle.id, TrialStatus::Finished).unwrap();
        ids.push(handle.id);
    }
    (db, ids)
}
