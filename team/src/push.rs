//! Pushing trials: each trial's bundle (`Store::extract_trial`) with the rows the team store's
//! cross-trial queries read, in ONE transaction per trial under an advisory lock on its UUID,
//! so readers see a trial whole or not at all, two laptops pushing at once never double a
//! trial, and a push killed at any instant leaves every trial as it was before or after it.
//!
//! A trial is compared with its remote row by UUID, number of executions, status and the
//! digest of its bundle's content (`digest.rs`).
//!
//! What the tables hold is read from the bundle itself, not from the live store, so a kernel
//! recording while we push cannot make the rows and the bundle disagree.

use std::fs;
use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{ToSql, Type};
use postgres::{Client, Transaction};
use provstore::{ExecutionDetail, Store, TrialStatus, TrialSummary, TrialValue};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::pg;
use crate::TeamError;

/// What a push did with one trial.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PushOutcome {
    /// The trial's id in the local store.
    pub trial: i64,
    /// Its UUID.
    pub uuid: String,
    /// Its number in the team store (`team:412`).
    pub team_id: i64,
    /// How many executions the pushed bundle holds.
    pub executions: i64,
    /// What happened.
    pub outcome: PushStatus,
}

/// What happened to one trial in a push.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PushStatus {
    /// Written (new, or replacing an earlier push of it).
    Pushed,
    /// The team store already had exactly this (nothing written).
    Unchanged,
    /// The team store has a later state of it (more executions, or ended where ours runs):
    /// kept, nothing written.
    RemoteNewer,
}

impl PushStatus {
    /// The word a report shows.
    pub fn as_str(self) -> &'static str {
        match self {
            PushStatus::Pushed => "pushed",
            PushStatus::Unchanged => "unchanged",
            PushStatus::RemoteNewer => "remote newer",
        }
    }
}

/// One trial ready to push: its bundle and the rows drawn from it.
pub(crate) struct Prepared {
    trial: TrialSummary,
    user: Option<String>,
    deflated: Vec<u8>,
    sha256: String,
    store_schema: i32,
    executions: Vec<ExecutionDetail>,
    values: Vec<TrialValue>,
    /// Tagged variables with their labels, in tag order.
    tagged: Vec<(String, Option<String>)>,
    /// Tagged variables and stage labels, without repeats.
    tags: Vec<String>,
    started: DateTime<Utc>,
    ended: Option<DateTime<Utc>>,
}

/// The longest variable name (in bytes) `prov_values` takes: its indexes' entries are bounded
/// (about 2.7 KB); a longer one (no Python code has it) stays in the bundle only.
pub(crate) const MAX_NAME_BYTES: usize = 1000;

/// The advisory lock of a trial: the first 8 bytes of a hash of its UUID (the same on every
/// laptop and every PostgreSQL version).
pub(crate) fn trial_lock(uuid: &str) -> i64 {
    let digest = Sha256::digest(format!("prov-trial:{uuid}").as_bytes());
    i64::from_be_bytes(digest[..8].try_into().expect("8 bytes"))
}

fn io<'p>(path: &'p Path, action: &'static str) -> impl FnOnce(std::io::Error) -> TeamError + 'p {
    move |source| TeamError::Io {
        path: path.to_path_buf(),
        action,
        source,
    }
}

/// The SQLite schema version a store file has (`PRAGMA user_version`: 4 bytes at offset 60).
fn file_schema(bytes: &[u8]) -> i32 {
    bytes
        .get(60..64)
        .map(|b| i32::from_be_bytes(b.try_into().expect("4 bytes")))
        .unwrap_or(0)
}

/// Extracts `trial` of `store` into a bundle in a temporary folder and reads what the tables
/// need from it.
pub(crate) fn prepare(store: &Store, trial: i64) -> Result<Prepared, TeamError> {
    let dir = tempfile::tempdir().map_err(io(Path::new("a temporary folder"), "create"))?;
    let path = dir.path().join("bundle.db");
    store.extract_trial(trial, &path)?;
    // The bytes before anything opens the file again (opening may switch its journal mode).
    let raw = fs::read(&path).map_err(io(&path, "read the bundle"))?;
    let sha256 = crate::digest::content_sha256(&path)?;
    let store_schema = file_schema(&raw);
    let mut enc = flate2::write::ZlibEncoder::new(
        Vec::with_capacity(raw.len() / 3),
        flate2::Compression::fast(),
    );
    enc.write_all(&raw)
        .and_then(|()| enc.flush())
        .map_err(io(&path, "deflate the bundle"))?;
    let deflated = enc.finish().map_err(io(&path, "deflate the bundle"))?;
    drop(raw);
    let bundle = Store::open_existing(&path)?;
    let summary = bundle
        .latest_trial()?
        .ok_or_else(|| TeamError::BadTeamStore {
            problem: format!("the bundle of local trial {trial} holds no trial"),
        })?;
    let executions = bundle.executions(summary.id)?;
    let values = bundle.trial_values(summary.id)?;
    let tags_answer = bundle.tags(summary.id)?;
    let tagged: Vec<(String, Option<String>)> = tags_answer
        .variables
        .iter()
        .map(|t| (t.name.clone(), t.label.clone()))
        .collect();
    let tags = tag_list(&tags_answer);
    let user = summary.user.clone();
    // The local id, not the bundle's: the report names what the user has.
    let summary = TrialSummary {
        id: trial,
        executions: executions.len() as i64,
        ..summary
    };
    let started =
        time(&summary.started_at).ok_or_else(|| bad_time(trial, "start", &summary.started_at))?;
    let ended = match summary.ended_at.as_deref() {
        Some(e) => Some(time(e).ok_or_else(|| bad_time(trial, "end", e))?),
        None => None,
    };
    let mut p = Prepared {
        trial: summary,
        user,
        deflated,
        sha256,
        store_schema,
        executions,
        values,
        tagged,
        tags,
        started,
        ended,
    };
    p.clean_text();
    Ok(p)
}

impl Prepared {
    /// PostgreSQL's text cannot hold NUL, which a cell id or a name from a hostile frontend
    /// may: in the rows (never in the bundle, which keeps every byte) it becomes U+FFFD.
    fn clean_text(&mut self) {
        let t = &mut self.trial;
        for s in [&mut t.uuid, &mut t.hostname, &mut t.cwd, &mut t.platform] {
            clean(s);
        }
        for s in [
            &mut t.name,
            &mut t.notebook,
            &mut t.python_version,
            &mut t.ipykernel_version,
            &mut self.user,
        ]
        .into_iter()
        .flatten()
        {
            clean(s);
        }
        self.tags.iter_mut().for_each(clean);
        for (name, label) in &mut self.tagged {
            clean(name);
            label.iter_mut().for_each(clean);
        }
        for e in &mut self.executions {
            e.cell_id.iter_mut().for_each(clean);
        }
        for v in &mut self.values {
            clean(&mut v.name);
            clean(&mut v.captured.type_name);
        }
    }
}

/// `s` with every NUL replaced by U+FFFD.
pub(crate) fn clean(s: &mut String) {
    if s.contains('\0') {
        *s = s.replace('\0', "\u{FFFD}");
    }
}

/// An RFC 3339 timestamp of the store as PostgreSQL's `timestamptz`.
fn time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn bad_time(trial: i64, what: &str, text: &str) -> TeamError {
    TeamError::Store(provstore::StoreError::Bundle {
        path: std::path::PathBuf::from(format!("trial {trial}")),
        reason: format!("its {what} time {text:?} is not an RFC 3339 time"),
    })
}

fn rank(status: &str) -> u8 {
    u8::from(status != TrialStatus::Running.as_str())
}

/// Pushes one prepared trial in one transaction.
pub(crate) fn push_prepared(client: &mut Client, p: &Prepared) -> Result<PushOutcome, TeamError> {
    let t = &p.trial;
    let action = format!("push trial {} ({})", t.id, t.uuid);
    let mut tx = client.transaction().map_err(pg(action.clone()))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&trial_lock(&t.uuid)])
        .map_err(pg(action.clone()))?;
    let remote = tx
        .query_opt(
            "SELECT id, executions, status, bundle_sha256 FROM prov_trials WHERE uuid = $1",
            &[&t.uuid],
        )
        .map_err(pg(action.clone()))?;
    let status = t.status.as_str();
    let outcome = |team_id, outcome| PushOutcome {
        trial: t.id,
        uuid: t.uuid.clone(),
        team_id,
        executions: t.executions,
        outcome,
    };
    if let Some(row) = &remote {
        let (id, executions, r_status, sha): (i64, i32, String, String) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        if i64::from(executions) == t.executions && r_status == status && sha == p.sha256 {
            return Ok(outcome(id, PushStatus::Unchanged));
        }
        let theirs = (i64::from(executions), rank(&r_status));
        if theirs > (t.executions, rank(status)) {
            return Ok(outcome(id, PushStatus::RemoteNewer));
        }
    }
    let (started, ended) = (p.started, p.ended);
    let executions = i32::try_from(t.executions).unwrap_or(i32::MAX);
    let id: i64 = tx
        .query_one(
            "INSERT INTO prov_trials (uuid, name, status, started_at, ended_at, user_name, host,
                 notebook, cwd, python_version, executions, tags, store_schema, bundle_sha256,
                 ipykernel_version, platform, pid, pushed_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                 now())
             ON CONFLICT (uuid) DO UPDATE SET name = EXCLUDED.name, status = EXCLUDED.status,
                 started_at = EXCLUDED.started_at, ended_at = EXCLUDED.ended_at,
                 user_name = EXCLUDED.user_name, host = EXCLUDED.host,
                 notebook = EXCLUDED.notebook, cwd = EXCLUDED.cwd,
                 python_version = EXCLUDED.python_version, executions = EXCLUDED.executions,
                 tags = EXCLUDED.tags, store_schema = EXCLUDED.store_schema,
                 bundle_sha256 = EXCLUDED.bundle_sha256,
                 ipykernel_version = EXCLUDED.ipykernel_version,
                 platform = EXCLUDED.platform, pid = EXCLUDED.pid, pushed_at = now()
             RETURNING id",
            &[
                &t.uuid,
                &t.name,
                &status,
                &started,
                &ended,
                &p.user,
                &t.hostname,
                &t.notebook,
                &t.cwd,
                &t.python_version,
                &executions,
                &p.tags,
                &p.store_schema,
                &p.sha256,
                &t.ipykernel_version,
                &t.platform,
                &t.pid,
            ],
        )
        .map_err(pg(action.clone()))?
        .get(0);
    if remote.is_some() {
        for table in ["prov_bundles", "prov_executions", "prov_values"] {
            tx.execute(&format!("DELETE FROM {table} WHERE trial_id = $1"), &[&id])
                .map_err(pg(action.clone()))?;
        }
    }
    tx.execute(
        "INSERT INTO prov_bundles (trial_id, bytes) VALUES ($1, $2)",
        &[&id, &p.deflated],
    )
    .map_err(pg(action.clone()))?;
    copy_executions(&mut tx, id, &p.executions).map_err(pg(action.clone()))?;
    copy_values(&mut tx, id, p).map_err(pg(action.clone()))?;
    tx.commit().map_err(pg(action))?;
    Ok(outcome(id, PushStatus::Pushed))
}

fn copy_executions(
    tx: &mut Transaction<'_>,
    id: i64,
    executions: &[ExecutionDetail],
) -> Result<(), postgres::Error> {
    let sink = tx.copy_in(
        "COPY prov_executions (trial_id, seq, execution_count, cell_id, code_sha256, status,
             started_at, duration_ms) FROM STDIN (FORMAT binary)",
    )?;
    let mut w = BinaryCopyInWriter::new(
        sink,
        &[
            Type::INT8,
            Type::INT4,
            Type::INT4,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::TIMESTAMPTZ,
            Type::INT8,
        ],
    );
    for e in executions {
        let seq = i32::try_from(e.order).unwrap_or(i32::MAX);
        let count = e.execution_count.and_then(|c| i32::try_from(c).ok());
        // A time the store could not have written is the epoch rather than a failure.
        let started = time(&e.started_at).unwrap_or_default();
        let row: [&(dyn ToSql + Sync); 8] = [
            &id,
            &seq,
            &count,
            &e.cell_id,
            &e.code_sha256,
            &e.status.as_str(),
            &started,
            &e.duration_ms,
        ];
        w.write(&row)?;
    }
    w.finish()?;
    Ok(())
}

fn copy_values(tx: &mut Transaction<'_>, id: i64, p: &Prepared) -> Result<(), postgres::Error> {
    let seq_of: std::collections::HashMap<i64, i32> = p
        .executions
        .iter()
        .map(|e| (e.id, i32::try_from(e.order).unwrap_or(i32::MAX)))
        .collect();
    let exec_of: std::collections::HashMap<i64, &ExecutionDetail> =
        p.executions.iter().map(|e| (e.id, e)).collect();
    let sink = tx.copy_in(
        "COPY prov_values (trial_id, seq, position, name, type_name, value_json, summary_json,
             tagged, label, execution_count, started_at) FROM STDIN (FORMAT binary)",
    )?;
    let mut w = BinaryCopyInWriter::new(
        sink,
        &[
            Type::INT8,
            Type::INT4,
            Type::INT4,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::TEXT,
            Type::BOOL,
            Type::TEXT,
            Type::INT4,
            Type::TIMESTAMPTZ,
        ],
    );
    let mut last: Option<(i64, i32)> = None;
    for v in &p.values {
        let Some(&seq) = seq_of.get(&v.execution_id) else {
            continue;
        };
        let position = match last {
            Some((exec, pos)) if exec == v.execution_id => pos + 1,
            _ => 0,
        };
        last = Some((v.execution_id, position));
        // A name too long for an index entry stays in the bundle only.
        if v.name.len() > MAX_NAME_BYTES {
            continue;
        }
        let exec = exec_of.get(&v.execution_id);
        let count = exec
            .and_then(|e| e.execution_count)
            .and_then(|c| i32::try_from(c).ok());
        let started = exec.and_then(|e| time(&e.started_at));
        let tag = p.tagged.iter().find(|(n, _)| *n == v.name);
        let value_json = v.captured.value.as_ref().map(|j| j.to_string());
        let summary_json = v.captured.summary.as_ref().map(|j| j.to_string());
        let row: [&(dyn ToSql + Sync); 11] = [
            &id,
            &seq,
            &position,
            &v.name,
            &v.captured.type_name,
            &value_json,
            &summary_json,
            &tag.is_some(),
            &tag.and_then(|(_, label)| label.clone()),
            &count,
            &started,
        ];
        w.write(&row)?;
    }
    w.finish()?;
    Ok(())
}

/// The trials of `store` a push without names sends: those the team store lacks or holds
/// in another state (executions, status, name, tags) that is not a later one.
pub(crate) fn pending(client: &mut Client, store: &Store) -> Result<Vec<i64>, TeamError> {
    let local = store.trials()?;
    let uuids: Vec<&str> = local.iter().map(|t| t.uuid.as_str()).collect();
    let rows = client
        .query(
            "SELECT uuid, executions, status, name, tags FROM prov_trials WHERE uuid = ANY($1)",
            &[&uuids],
        )
        .map_err(pg("list the trials pushed"))?;
    let remote: std::collections::HashMap<&str, &postgres::Row> =
        rows.iter().map(|r| (r.get::<_, &str>(0), r)).collect();
    let mut out = Vec::new();
    for t in &local {
        let same = match remote.get(t.uuid.as_str()) {
            None => false,
            Some(r) => {
                let mut name = t.name.clone();
                name.iter_mut().for_each(clean);
                let mut tags = tag_list(&store.tags(t.id)?);
                tags.iter_mut().for_each(clean);
                let theirs = (i64::from(r.get::<_, i32>(1)), rank(r.get::<_, &str>(2)));
                let ours = (t.executions, rank(t.status.as_str()));
                // A later state there is not ours to overwrite: not pending either.
                theirs > ours
                    || (theirs == ours
                        && r.get::<_, &str>(2) == t.status.as_str()
                        && r.get::<_, Option<String>>(3) == name
                        && r.get::<_, Vec<String>>(4) == tags)
            }
        };
        if !same {
            out.push(t.id);
        }
    }
    Ok(out)
}

/// Tagged variables, then stage labels, each once.
fn tag_list(tags: &provstore::TagsAnswer) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in tags
        .variables
        .iter()
        .map(|v| &v.name)
        .chain(tags.stages.iter().map(|s| &s.label))
    {
        if !out.contains(t) {
            out.push(t.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trial_locks_are_stable_and_distinct() {
        let a = trial_lock("6f1c0000-0000-4000-8000-000000000001");
        assert_eq!(a, trial_lock("6f1c0000-0000-4000-8000-000000000001"));
        assert_ne!(a, trial_lock("6f1c0000-0000-4000-8000-000000000002"));
    }

    #[test]
    fn the_schema_version_is_read_from_the_header() {
        let mut header = vec![0u8; 100];
        header[60..64].copy_from_slice(&9i32.to_be_bytes());
        assert_eq!(file_schema(&header), 9);
        assert_eq!(file_schema(b"short"), 0);
    }

    #[test]
    fn a_running_trial_ranks_below_an_ended_one() {
        assert!(rank("running") < rank("finished"));
        assert_eq!(rank("finished"), rank("crashed"));
    }
}
