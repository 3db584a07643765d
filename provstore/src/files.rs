//! The files an execution's code read and wrote (`file_accesses`, schema 7): written from the
//! probe's `files` note, read back as plain data. A file is named in the dataflow by its
//! resolved path (`pyflow::is_file_name`); these rows add what a reader shows of it (the path
//! as the code gave it, size, hash) and which statement opened it.

use pyflow::FileAccess;
use rusqlite::Connection;
use serde::Serialize;

use crate::{Result, Store};

/// One file an execution read or wrote: a row of `provctl files --json`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FileAccessRow {
    /// The path as the user's code gave it.
    pub path: String,
    /// Absolute, with links resolved: the file's name in the dataflow.
    pub resolved: String,
    /// `read` or `write`.
    pub access: String,
    /// `In[n]` of the execution.
    pub execution_count: Option<i64>,
    /// The execution's store id.
    pub execution_id: i64,
    /// The 1-based line, in the cell, of the top-level statement that opened the file.
    pub line: Option<i64>,
    /// That statement's index in the execution's analysis.
    pub statement: Option<i64>,
    /// The content's sha256: as read, or as left after the write (None: gone or unreadable).
    pub sha256: Option<String>,
    /// Bytes.
    pub size: Option<i64>,
    /// Seconds since the epoch.
    pub mtime: Option<f64>,
    /// The file was over `PROV_FILE_HASH_LIMIT`: its hash covers evenly spaced chunks and
    /// the size.
    pub sampled: bool,
}

/// The accesses of a probe note (`note["files"]`) as the dataflow engine's facts: entries
/// without an absolute resolved path or a known access are skipped.
pub(crate) fn file_facts(note: &serde_json::Value) -> Vec<FileAccess> {
    entries(note)
        .map(|e| FileAccess {
            path: e.resolved.to_string(),
            write: e.write,
            line: e.line.and_then(|l| u32::try_from(l).ok()),
            sha256: e.sha256.map(String::from),
        })
        .collect()
}

/// Removes the `file_accesses` of execution `id`, before they are written again.
pub(crate) fn forget_files(conn: &Connection, id: i64) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM file_accesses WHERE execution_id = ?1")?
        .execute([id])?;
    Ok(())
}

/// Writes `file_accesses` of execution `id`, which has none, from its probe note; `analysis` gives the
/// execution's analysis (asked once, and only when an access has a line) to place each access
/// in its statement. Anything malformed in the note is skipped.
pub(crate) fn write_files(
    conn: &Connection,
    id: i64,
    note: Option<&serde_json::Value>,
    analysis: impl FnOnce() -> rusqlite::Result<Option<pyflow::CellAnalysis>>,
) -> rusqlite::Result<()> {
    let Some(note) = note else { return Ok(()) };
    let mut insert = None;
    let mut analysis = Some(analysis);
    let mut loaded = None;
    for (seq, e) in entries(note).enumerate() {
        let statement = match e.line {
            Some(line) => {
                if let Some(load) = analysis.take() {
                    loaded = load()?;
                }
                loaded
                    .as_ref()
                    .and_then(|a| pyflow::statement_at_line(a, usize::try_from(line).ok()?))
                    .map(|s| s as i64)
            }
            None => None,
        };
        let insert = match &mut insert {
            Some(i) => i,
            None => insert.insert(conn.prepare_cached(
                "INSERT INTO file_accesses (execution_id, seq, path, resolved, access, line,
                     statement, size, mtime, sha256, sampled)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?),
        };
        insert.execute(rusqlite::params![
            id,
            seq as i64,
            e.path,
            e.resolved,
            if e.write { "write" } else { "read" },
            e.line,
            statement,
            e.size,
            e.mtime,
            e.sha256,
            e.sampled,
        ])?;
    }
    Ok(())
}

/// One well-formed entry of a note's `files`.
struct Entry<'n> {
    path: &'n str,
    resolved: &'n str,
    write: bool,
    line: Option<i64>,
    size: Option<i64>,
    mtime: Option<f64>,
    sha256: Option<&'n str>,
    sampled: bool,
}

fn entries(note: &serde_json::Value) -> impl Iterator<Item = Entry<'_>> {
    note.get("files")
        .and_then(|f| f.as_array())
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|e| {
            let resolved = e.get("resolved")?.as_str()?;
            if !pyflow::is_file_name(resolved) {
                return None;
            }
            let write = match e.get("access")?.as_str()? {
                "read" => false,
                "write" => true,
                _ => return None,
            };
            Some(Entry {
                path: e.get("path").and_then(|p| p.as_str()).unwrap_or(resolved),
                resolved,
                write,
                line: e.get("line").and_then(|l| l.as_i64()).filter(|l| *l > 0),
                size: e.get("size").and_then(|s| s.as_i64()),
                mtime: e.get("mtime").and_then(|m| m.as_f64()),
                sha256: e.get("sha256").and_then(|s| s.as_str()),
                sampled: e.get("sampled").and_then(|s| s.as_bool()).unwrap_or(false),
            })
        })
}

impl Store {
    /// Every file trial `trial`'s executions read or wrote, in execution order, then in the
    /// order each execution first opened them.
    pub fn file_accesses(&self, trial: i64) -> Result<Vec<FileAccessRow>> {
        self.rows(
            "SELECT f.path, f.resolved, f.access, e.execution_count, e.id, f.line,
                        f.statement, f.sha256, f.size, f.mtime, f.sampled
                   FROM file_accesses f JOIN executions e ON e.id = f.execution_id
                  WHERE e.trial_id = ?1
                  ORDER BY e.seq, f.seq",
            [trial],
            |r| {
                Ok(FileAccessRow {
                    path: r.get(0)?,
                    resolved: r.get(1)?,
                    access: r.get(2)?,
                    execution_count: r.get(3)?,
                    execution_id: r.get(4)?,
                    line: r.get(5)?,
                    statement: r.get(6)?,
                    sha256: r.get(7)?,
                    size: r.get(8)?,
                    mtime: r.get(9)?,
                    sampled: r.get(10)?,
                })
            },
        )
    }
}

/// The files of one trial, as `provctl files` and `%files` show them.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrialFiles {
    /// The trial asked about.
    pub trial: crate::TrialSummary,
    /// Whether the store can hold file accesses at all: false for a store of schema 6 or
    /// older read as it is (one this process may not write, so it was not migrated), which
    /// recorded no file, so an empty list would mislead.
    pub recorded: bool,
    /// The store's schema version as it was read (`PRAGMA user_version`).
    pub schema_version: i64,
    /// Every access, in execution order, then in the order each execution first opened them.
    pub accesses: Vec<FileAccessRow>,
}

/// The schema version from which a store records file accesses.
pub const FILES_SCHEMA: i64 = 7;

impl Store {
    /// The files trial `trial` read and wrote, with the trial itself and whether the store
    /// records files at all. Unknown trial: [`crate::StoreError::TrialNotFound`]; a read-only
    /// store whose trial has an unindexed tail: [`crate::StoreError::Unavailable`].
    pub fn trial_files(&self, trial: i64) -> Result<TrialFiles> {
        let summary = self.trial(trial)?;
        let schema_version = self.read(crate::schema::user_version)?;
        let recorded = schema_version >= FILES_SCHEMA;
        let accesses = if recorded {
            // Rows are written as executions are indexed: index what is held back or was left
            // unindexed (a failed cell, a killed writer's tail) first, as the deps query does.
            self.prepare_dataflow(&summary)?;
            self.file_accesses(trial)?
        } else {
            Vec::new()
        };
        Ok(TrialFiles {
            trial: summary,
            recorded,
            schema_version,
            accesses,
        })
    }
}
