//! Files in the dependency answers: which file a question names (`provctl deps PATH`, as the
//! code gave it, absolute, or resolved), and the versions of files a walk went through, each
//! with the path the code gave, its hash and who wrote and read it. A version made by no
//! statement (`dataflow_versions.kind = 'external'`, statement `-1 - seq`) is content read
//! from outside: `file_accesses (execution_id, seq)` says what was read.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use rusqlite::{Connection, OptionalExtension};

use super::answers::{FileInput, FileVersion};

/// A file version: (execution, statement that made it or `-1 - seq` for outside content,
/// resolved path).
pub(super) type VersionKey = (i64, i64, String);

/// The file (its resolved path) that `asked` names in the trial: the path as some access gave
/// it, or its resolved path, or either once made absolute against the trial's `cwd` (`..`
/// and `.` removed) or with its links resolved. The latest access decides between files that
/// a relative path named in several folders.
pub(super) fn file_name(
    conn: &Connection,
    trial: i64,
    cwd: &str,
    asked: &str,
) -> rusqlite::Result<Option<String>> {
    let asked = asked.trim();
    if asked.is_empty() {
        return Ok(None);
    }
    let joined = Path::new(cwd).join(asked);
    let mut candidates = vec![asked.to_string(), normalized(&joined)];
    if let Ok(real) = std::fs::canonicalize(&joined) {
        candidates.push(real.to_string_lossy().into_owned());
    }
    let list = serde_json::to_string(&candidates).expect("a list of strings serialises");
    conn.prepare_cached(
        "SELECT resolved FROM (
             SELECT f.resolved, e.seq FROM json_each(?2) j
             JOIN file_accesses f ON f.resolved = j.value
             JOIN executions e ON e.id = f.execution_id AND e.trial_id = ?1
             UNION ALL
             SELECT f.resolved, e.seq FROM executions e
             JOIN file_accesses f ON f.execution_id = e.id AND f.path = ?3
             WHERE e.trial_id = ?1)
         ORDER BY seq DESC LIMIT 1",
    )?
    .query_row(rusqlite::params![trial, list, asked], |r| r.get(0))
    .optional()
}

/// `path` with `.` and `..` taken out, without asking the file system.
fn normalized(path: &Path) -> String {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out.to_string_lossy().into_owned()
}

/// The file versions `versions` (each with the executions that read it) as the answer shows
/// them, in order of their writer, and the outside content among them (the inputs).
pub(super) fn versions(
    conn: &Connection,
    versions: &BTreeMap<VersionKey, BTreeSet<i64>>,
) -> rusqlite::Result<(Vec<FileVersion>, Vec<FileInput>)> {
    let mut outside = conn.prepare_cached(
        "SELECT path, sha256 FROM file_accesses WHERE execution_id = ?1 AND seq = ?2",
    )?;
    // The write of that statement if the store placed it, else the execution's last write.
    let mut written = conn.prepare_cached(
        "SELECT path, sha256 FROM file_accesses
         WHERE execution_id = ?1 AND resolved = ?2 AND access = 'write'
         ORDER BY statement IS ?3 DESC, seq DESC LIMIT 1",
    )?;
    let mut files = Vec::with_capacity(versions.len());
    let mut inputs: Vec<FileInput> = Vec::new();
    for ((execution, statement, resolved), readers) in versions {
        let external = *statement < 0;
        let found: Option<(String, Option<String>)> = if external {
            outside
                .query_row((execution, -1 - statement), |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?
        } else {
            written
                .query_row((execution, resolved, statement), |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?
        };
        let (path, sha256) = found.unwrap_or_else(|| (resolved.clone(), None));
        let version = FileVersion {
            path,
            resolved: resolved.clone(),
            sha256,
            written_by: (!external).then_some(*execution),
            read_by: readers
                .iter()
                .copied()
                .filter(|&r| external || r != *execution)
                .collect(),
        };
        if external {
            let input = FileInput {
                path: version.path.clone(),
                resolved: version.resolved.clone(),
                sha256: version.sha256.clone(),
            };
            if !inputs.contains(&input) {
                inputs.push(input);
            }
        }
        files.push(version);
    }
    Ok((files, inputs))
}

/// Every file version of trial `trial` and who read it: the versions the index keeps for
/// files (named by a path, so they sort between `/` and `0`), the reads of them across
/// executions, and the reads of outside content within one.
pub(super) fn trial_versions(
    conn: &Connection,
    trial: i64,
) -> rusqlite::Result<BTreeMap<VersionKey, BTreeSet<i64>>> {
    let mut out: BTreeMap<VersionKey, BTreeSet<i64>> = BTreeMap::new();
    let mut stmt = conn.prepare_cached(
        "SELECT execution_id, statement, name FROM dataflow_versions
         WHERE trial_id = ?1 AND name >= '/' AND name < '0'",
    )?;
    let mut rows = stmt.query([trial])?;
    while let Some(r) = rows.next()? {
        out.entry((r.get(0)?, r.get(1)?, r.get(2)?)).or_default();
    }
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT execution_id, dep_execution_id, dep_statement, symbol FROM ({})
         WHERE symbol >= '/' AND symbol < '0'
             AND (dep_execution_id <> execution_id OR dep_statement < 0)",
        crate::shared_lists::reads_of("(SELECT id FROM executions WHERE trial_id = ?1) e")
    ))?;
    let mut rows = stmt.query([trial])?;
    while let Some(r) = rows.next()? {
        out.entry((r.get(1)?, r.get(2)?, r.get(3)?))
            .or_default()
            .insert(r.get(0)?);
    }
    Ok(out)
}
