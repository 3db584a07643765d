//! Taking in a trial's bundle: checked first on a connection of its own (SQLite, undamaged,
//! a known schema, exactly one trial), migrated on a copy when older, then attached and
//! copied in one IMMEDIATE transaction with set-based SQL: the trial's own ids shifted past
//! this store's, shared content looked up by its key through temporary maps.

use std::path::{Path, PathBuf};

use chrono::Utc;
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, Transaction};

use super::tables::{self, Col, Kind, Table, TABLES};
use super::{AbsorbOutcome, Absorbed};
use crate::schema::{self, Migration, SCHEMA_VERSION};
use crate::{process, timestamp, Result, Store, StoreError, TrialStatus};

/// The name the bundle is attached under.
const DB: &str = "prov_bundle";

/// The bundle's trial, as checked before anything is written.
struct Incoming {
    id: i64,
    uuid: String,
    name: Option<String>,
    status: TrialStatus,
    executions: i64,
}

impl Store {
    /// Takes in the one trial of a bundle file (any readable schema version: migrated on a
    /// copy; newer than this build: [`StoreError::TooNew`]). Idempotent by UUID:
    /// absent -> Added; present with fewer executions (an earlier push of a running trial) or
    /// still `running` where the bundle's has ended -> Replaced (in one transaction); else
    /// Unchanged (nothing written). A trial this store's own live kernel is recording is never
    /// replaced: that is an error.
    /// `as_id`: the id the trial gets if it is added (a scratch store keeps team numbers);
    /// None = the next free id. Local ids of other rows are remapped, content-addressed rows
    /// (code, blobs, shared lists by sha256) deduplicated. A name another trial here has is
    /// given a suffix (` (2)`, ` (3)`…).
    pub fn absorb_trial(&self, bundle: &Path, as_id: Option<i64>) -> Result<Absorbed> {
        let (readable, incoming) = check_bundle(bundle)?;
        // Left attached only if a process died between the two statements: never, but cheap.
        let _ = self.conn.execute_batch(&format!("DETACH DATABASE {DB}"));
        let attach = self
            .conn
            .execute(
                &format!("ATTACH DATABASE ?1 AS {DB}"),
                [readable.path().to_string_lossy()],
            )
            .map_err(|e| self.err(e));
        attach?;
        let answer = self
            .read(|conn| {
                let tx =
                    Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)?;
                let answer = absorb_in(&tx, &incoming, as_id)?;
                if matches!(&answer, Ok(a) if a.outcome != AbsorbOutcome::Unchanged) {
                    tx.commit()?;
                }
                Ok(answer)
            })
            .map_err(|e| misfit(e, bundle))
            .and_then(|answer| {
                answer.map_err(|reason| StoreError::Bundle {
                    path: bundle.to_path_buf(),
                    reason,
                })
            });
        let detach = self
            .conn
            .execute_batch(&format!("DETACH DATABASE {DB}"))
            .map_err(|e| self.err(e));
        let answer = answer?;
        detach?;
        drop(readable);
        Ok(answer)
    }
}

/// A constraint the bundle's rows break while they are copied (a payload or code they name
/// but do not hold, two rows with one key) is the bundle's fault, not the store's.
fn misfit(e: StoreError, bundle: &Path) -> StoreError {
    match e {
        StoreError::Sqlite { source, .. }
            if source.sqlite_error_code() == Some(ErrorCode::ConstraintViolation) =>
        {
            StoreError::Bundle {
                path: bundle.to_path_buf(),
                reason: format!(
                    "its rows do not fit together ({source}): not a bundle made by prov, or \
                     altered since; nothing was taken in"
                ),
            }
        }
        other => other,
    }
}

/// The bundle as it can be attached: the file itself, or a migrated copy of an older one.
enum Readable {
    Itself(PathBuf),
    Migrated(tempfile::TempPath),
}

impl Readable {
    fn path(&self) -> &Path {
        match self {
            Readable::Itself(path) => path,
            Readable::Migrated(temp) => temp,
        }
    }
}

/// Checks a bundle before anything is written: an undamaged SQLite file of a schema this
/// build knows (an older one migrated on a copy), with exactly the tables of the list and
/// exactly one trial.
fn check_bundle(bundle: &Path) -> Result<(Readable, Incoming)> {
    let bad = |reason: String| StoreError::Bundle {
        path: bundle.to_path_buf(),
        reason,
    };
    if !bundle.is_file() {
        return Err(bad("no such file".into()));
    }
    let explain = |e: rusqlite::Error| -> StoreError {
        match e.sqlite_error_code() {
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => bad(format!(
                "not a prov bundle: not an SQLite file, or a damaged or truncated one ({e})"
            )),
            _ => bad(format!("cannot read it ({e})")),
        }
    };
    let conn = Connection::open_with_flags(
        bundle,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(explain)?;
    let version = schema::user_version(&conn).map_err(explain)?;
    let damage: String = conn
        .query_row("PRAGMA quick_check(1)", [], |r| r.get(0))
        .map_err(explain)?;
    if damage != "ok" {
        return Err(bad(format!(
            "not a prov bundle: the file is damaged or truncated ({damage})"
        )));
    }
    if version == 0 {
        return Err(bad(
            "not a prov bundle: an SQLite file without prov's schema".into(),
        ));
    }
    if version > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            path: bundle.to_path_buf(),
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    drop(conn);
    let readable = if version < SCHEMA_VERSION {
        Readable::Migrated(migrated_copy(bundle).map_err(|e| bad(e.to_string()))?)
    } else {
        Readable::Itself(bundle.to_path_buf())
    };
    let conn = Connection::open_with_flags(
        readable.path(),
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(explain)?;
    tables::check_schema(&conn, "main").map_err(|e| bad(format!("not a prov bundle: {e}")))?;
    let trials: Vec<Incoming> = conn
        .prepare(
            "SELECT t.id, t.uuid, t.name, t.status,
                    (SELECT COUNT(*) FROM executions e WHERE e.trial_id = t.id)
             FROM trials t LIMIT 2",
        )
        .and_then(|mut stmt| {
            stmt.query_map([], |r| {
                Ok(Incoming {
                    id: r.get(0)?,
                    uuid: r.get(1)?,
                    name: r.get(2)?,
                    status: r.get(3)?,
                    executions: r.get(4)?,
                })
            })?
            .collect()
        })
        .map_err(explain)?;
    let mut trials = trials.into_iter();
    match (trials.next(), trials.next()) {
        (Some(one), None) => Ok((readable, one)),
        (None, _) => Err(bad("it holds no trial (a bundle holds exactly one)".into())),
        (Some(_), Some(_)) => Err(bad(
            "it holds more than one trial (a bundle holds exactly one: make one per trial \
             with extract_trial)"
                .into(),
        )),
    }
}

/// A copy of an older bundle in a temporary file, migrated to this build's schema (by the
/// migrations alone: opening it as a store would also judge its trial's kernel).
fn migrated_copy(bundle: &Path) -> std::result::Result<tempfile::TempPath, String> {
    let temp = tempfile::NamedTempFile::new()
        .map_err(|e| format!("cannot make a temporary copy to migrate it ({e})"))?
        .into_temp_path();
    std::fs::copy(bundle, &temp)
        .map_err(|e| format!("cannot make a temporary copy to migrate it ({e})"))?;
    let mut conn = Connection::open(&temp).map_err(|e| e.to_string())?;
    let now = timestamp(Utc::now());
    let id = uuid::Uuid::new_v4().to_string();
    match schema::migrate(&mut conn, &id, &now, true)
        .map_err(|e| format!("cannot migrate it ({e})"))?
    {
        Migration::Current => Ok(temp),
        Migration::TooNew(found) => {
            Err(format!("schema version {found} is newer than this build's"))
        }
    }
}

/// The trial of the same UUID this store has.
struct Here {
    id: i64,
    status: TrialStatus,
    executions: i64,
    host: String,
    pid: i64,
    pid_start: Option<String>,
}

impl Here {
    fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Here> {
        Ok(Here {
            id: r.get(0)?,
            status: r.get(1)?,
            executions: r.get(2)?,
            host: r.get(3)?,
            pid: r.get(4)?,
            pid_start: r.get(5)?,
        })
    }
}

/// Decides and, unless nothing changes, copies the trial in (inside the caller's transaction).
/// The inner error is a refusal, said to the user as it is.
fn absorb_in(
    tx: &Transaction<'_>,
    incoming: &Incoming,
    as_id: Option<i64>,
) -> rusqlite::Result<std::result::Result<Absorbed, String>> {
    let here = tx
        .query_row(
            "SELECT t.id, t.status, (SELECT COUNT(*) FROM executions e WHERE e.trial_id = t.id),
                    t.hostname, t.pid, t.pid_start
             FROM main.trials t WHERE t.uuid = ?1",
            [&incoming.uuid],
            Here::from_row,
        )
        .optional()?;
    let (trial, outcome) = match here {
        None => {
            let id = match as_id {
                Some(id) if id < 1 => {
                    return Ok(Err(format!("trial id {id} is not a trial id (1 or more)")))
                }
                Some(id) => {
                    let taken: bool = tx.query_row(
                        "SELECT EXISTS (SELECT 1 FROM main.trials WHERE id = ?1)",
                        [id],
                        |r| r.get(0),
                    )?;
                    if taken {
                        return Ok(Err(format!(
                            "trial id {id} is taken here by another trial (another UUID)"
                        )));
                    }
                    id
                }
                None => tx.query_row(
                    "SELECT COALESCE(MAX(id), 0) + 1 FROM main.trials",
                    [],
                    |r| r.get(0),
                )?,
            };
            (id, AbsorbOutcome::Added)
        }
        Some(Here {
            id,
            status,
            executions,
            host,
            pid,
            pid_start,
        }) => {
            let grown = incoming.executions > executions;
            let ended = incoming.executions == executions
                && status == TrialStatus::Running
                && incoming.status != TrialStatus::Running;
            if !grown && !ended {
                return Ok(Ok(Absorbed {
                    trial_id: id,
                    uuid: incoming.uuid.clone(),
                    outcome: AbsorbOutcome::Unchanged,
                }));
            }
            let recording = status == TrialStatus::Running
                && host == process::hostname()
                && !process::is_dead(pid, pid_start.as_deref());
            if recording {
                return Ok(Err(format!(
                    "trial {id} ({}) is being recorded by a live kernel of this store (pid \
                     {pid}); it is never replaced from outside",
                    incoming.uuid
                )));
            }
            remove_trial(tx, id)?;
            (id, AbsorbOutcome::Replaced)
        }
    };
    let name = free_name(tx, incoming.name.as_deref())?;
    copy_in(tx, incoming.id, trial, name.as_deref())?;
    Ok(Ok(Absorbed {
        trial_id: trial,
        uuid: incoming.uuid.clone(),
        outcome,
    }))
}

/// Deletes every row of trial `trial`, the rows that refer to others first.
fn remove_trial(tx: &Transaction<'_>, trial: i64) -> rusqlite::Result<()> {
    for (t, rows) in tables::per_trial_tables().rev() {
        tx.execute(
            &format!(
                "DELETE FROM main.{} WHERE {}",
                t.name,
                tables::rows_in(rows, "main")
            ),
            rusqlite::named_params! {":trial": trial},
        )?;
    }
    Ok(())
}

/// `name`, or when another trial here has it the first free of `name (2)`, `name (3)`…
fn free_name(tx: &Transaction<'_>, name: Option<&str>) -> rusqlite::Result<Option<String>> {
    let Some(name) = name else { return Ok(None) };
    let mut taken = tx.prepare("SELECT EXISTS (SELECT 1 FROM main.trials WHERE name = ?1)")?;
    for n in 1..=1000 {
        let candidate = if n == 1 {
            name.to_string()
        } else {
            format!("{name} ({n})")
        };
        if !taken.query_row([&candidate], |r| r.get::<_, bool>(0))? {
            return Ok(Some(candidate));
        }
    }
    Ok(None)
}

/// Copies the bundle's trial `from` in as trial `trial`: shared content through maps, then
/// the trial's tables parents first, each with one INSERT … SELECT.
fn copy_in(
    tx: &Transaction<'_>,
    from: i64,
    trial: i64,
    name: Option<&str>,
) -> rusqlite::Result<()> {
    let from_param = rusqlite::named_params! {":trial": from};
    let offsets = offsets(tx)?;
    for t in TABLES {
        match t.kind {
            Kind::Shared { key, parts_unless } => map_shared(tx, t, key, parts_unless, from)?,
            Kind::Part => {
                let (column, parent) = tables::parent_of(t);
                let sql = format!(
                    "INSERT INTO main.{name} ({columns}) SELECT {values} FROM {DB}.{name} r
                     WHERE r.{column} IN (SELECT map_old FROM temp.map_{parent} WHERE map_take)",
                    name = t.name,
                    columns = tables::column_list(t),
                    values = values(t, trial, &[])?,
                );
                tx.execute(&sql, [])?;
            }
            Kind::PerTrial { rows } => {
                let mut sql = format!(
                    "INSERT INTO main.{name} ({columns}) SELECT {values} FROM {DB}.{name} r
                     WHERE {rows}",
                    name = t.name,
                    columns = tables::column_list(t),
                    values = values(t, trial, &offsets)?,
                    rows = tables::rows_in(rows, DB),
                );
                if t.name == "trials" {
                    sql = sql.replace("r.name", ":name");
                    tx.execute(
                        &sql,
                        rusqlite::named_params! {":trial": from, ":name": name},
                    )?;
                } else {
                    tx.execute(&sql, from_param)?;
                }
            }
            Kind::Local => {}
        }
    }
    for t in TABLES {
        if matches!(t.kind, Kind::Shared { .. }) {
            tx.execute_batch(&format!("DROP TABLE temp.map_{}", t.name))?;
        }
    }
    Ok(())
}

/// Fills `temp.map_<table>` (bundle id → id here) for the rows of shared table `t` the
/// trial refers to: the row here with the same key, else a new id after this store's last,
/// and adds those new rows. `map_take` says whose parts are to be added.
fn map_shared(
    tx: &Transaction<'_>,
    t: &Table,
    key: &str,
    parts_unless: Option<&str>,
    from: i64,
) -> rusqlite::Result<()> {
    let name = t.name;
    tx.execute_batch(&format!(
        "CREATE TEMP TABLE map_{name} (
             map_old INTEGER PRIMARY KEY, map_new INTEGER, map_fresh INTEGER NOT NULL,
             map_take INTEGER NOT NULL DEFAULT 0)"
    ))?;
    tx.execute(
        &format!(
            "INSERT INTO temp.map_{name} (map_old, map_new, map_fresh)
             SELECT s.id, h.id, h.id IS NULL FROM {DB}.{name} s
             LEFT JOIN main.{name} h ON h.{key} = s.{key}
             WHERE s.id IN ({referenced})",
            referenced = tables::referenced(name, DB),
        ),
        rusqlite::named_params! {":trial": from},
    )?;
    tx.execute_batch(&format!(
        "UPDATE temp.map_{name} SET map_new = f.n + (SELECT COALESCE(MAX(id), 0) FROM main.{name})
         FROM (SELECT map_old AS old, ROW_NUMBER() OVER (ORDER BY map_old) AS n
               FROM temp.map_{name} WHERE map_new IS NULL) AS f
         WHERE f.old = map_{name}.map_old"
    ))?;
    let take = match parts_unless {
        None => "map_fresh".to_string(),
        Some(part) => {
            let (column, _) = tables::parent_of(tables::table(part));
            format!("NOT EXISTS (SELECT 1 FROM main.{part} p WHERE p.{column} = map_new)")
        }
    };
    tx.execute_batch(&format!("UPDATE temp.map_{name} SET map_take = {take}"))?;
    tx.execute(
        &format!(
            "INSERT INTO main.{name} ({columns}) SELECT {values} FROM {DB}.{name} r
             WHERE r.id IN (SELECT map_old FROM temp.map_{name} WHERE map_fresh)",
            columns = tables::column_list(t),
            values = values(t, 0, &[])?,
        ),
        [],
    )?;
    Ok(())
}

/// How far each per-trial table's own ids move: past this store's last id of that table.
/// Computed once, before anything is added, for every table whose ids are referred to.
fn offsets(tx: &Transaction<'_>) -> rusqlite::Result<Vec<(&'static str, i64)>> {
    let mut found: Vec<(&'static str, i64)> = Vec::new();
    for t in TABLES {
        for (_, col) in t.columns {
            let Col::Id(table) = col else { continue };
            if found.iter().any(|(seen, _)| seen == table) {
                continue;
            }
            let id = id_column(table);
            let offset: i64 = tx.query_row(
                &format!(
                    "SELECT COALESCE((SELECT MAX({id}) FROM main.{table}), 0) + 1
                            - COALESCE((SELECT MIN({id}) FROM {DB}.{table}), 1)"
                ),
                [],
                |r| r.get(0),
            )?;
            found.push((table, offset));
        }
    }
    Ok(found)
}

/// The column of a per-trial table that is its own id.
fn id_column(table: &str) -> &'static str {
    tables::table(table)
        .columns
        .iter()
        .find(|(_, col)| *col == Col::Id(tables::table(table).name))
        .map(|(column, _)| *column)
        .unwrap_or_else(|| panic!("{table} has no id of its own"))
}

/// The SELECT list that carries a row `r` of the bundle's table `t` into this store.
fn values(t: &Table, trial: i64, offsets: &[(&str, i64)]) -> rusqlite::Result<String> {
    let values: Vec<String> = t
        .columns
        .iter()
        .map(|(column, col)| match col {
            Col::Keep => format!("r.{column}"),
            Col::Trial => trial.to_string(),
            Col::Id(table) => {
                let offset = offsets
                    .iter()
                    .find(|(seen, _)| seen == table)
                    .map(|(_, o)| *o)
                    .expect("offsets are computed for every id column");
                format!("r.{column} + {offset}")
            }
            Col::Content(parent) => {
                format!("(SELECT map_new FROM temp.map_{parent} WHERE map_old = r.{column})")
            }
        })
        .collect();
    Ok(values.join(", "))
}
