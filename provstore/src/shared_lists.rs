//! Per-execution lists stored once per distinct content (schema v6): re-running a cell that
//! touches the same names, and whose statements read each other the same way, adds one row
//! per list (`execution_name_sets`, `execution_read_sets`), not one per name or read.
//! Executions indexed before v6 keep their rows in `execution_names` and `dataflow_reads`; the
//! readers here answer for both. The lean store's migration does the same for the versions an
//! execution made and the values captured after it ([`write_versions`], [`write_values`]),
//! read through the views `dataflow_versions` and `captured_values`.

use rusqlite::{Connection, OptionalExtension};
use sha2::{Digest, Sha256};

use crate::role::Role;

/// A kind of shared list: its tables.
struct Lists {
    /// `(id, sha256)`: one row per distinct list.
    sets: &'static str,
    /// `(execution_id, set_id)`: the list of each execution.
    links: &'static str,
}

const NAMES: Lists = Lists {
    sets: "name_sets",
    links: "execution_name_sets",
};

const READS: Lists = Lists {
    sets: "read_sets",
    links: "execution_read_sets",
};

impl Lists {
    /// Makes execution `id`, which refers to none yet, refer to the list whose content hashes
    /// to `sha` (None: no list), calling `fill(set_id)` to write the members of a list not seen
    /// before.
    fn refer(
        &self,
        conn: &Connection,
        id: i64,
        sha: Option<String>,
        fill: impl FnOnce(i64) -> rusqlite::Result<()>,
    ) -> rusqlite::Result<()> {
        let links = self.links;
        let Some(sha) = sha else { return Ok(()) };
        let set = set_for(conn, self.sets, &sha, fill)?;
        conn.prepare_cached(&format!(
            "INSERT INTO {links} (execution_id, set_id) VALUES (?1, ?2)"
        ))?
        .execute((id, set))?;
        Ok(())
    }
}

/// The id of the list in table `sets` whose content hashes to `sha`, calling `fill(set_id)` to
/// write the members of a list not seen before.
fn set_for(
    conn: &Connection,
    sets: &str,
    sha: &str,
    fill: impl FnOnce(i64) -> rusqlite::Result<()>,
) -> rusqlite::Result<i64> {
    let found: Option<i64> = conn
        .prepare_cached(&format!("SELECT id FROM {sets} WHERE sha256 = ?1"))?
        .query_row([sha], |r| r.get(0))
        .optional()?;
    if let Some(set) = found {
        return Ok(set);
    }
    conn.prepare_cached(&format!("INSERT INTO {sets} (sha256) VALUES (?1)"))?
        .execute([sha])?;
    let set = conn.last_insert_rowid();
    fill(set)?;
    Ok(set)
}

/// The hash of a list of text fields, each field's length first so no two lists collide by
/// concatenation. None for an empty list.
fn hash_fields<'a>(items: usize, fields: impl Iterator<Item = &'a [u8]>) -> Option<String> {
    if items == 0 {
        return None;
    }
    let mut hash = Sha256::new();
    for field in fields {
        hash.update((field.len() as u64).to_le_bytes());
        hash.update(field);
    }
    Some(hex::encode(hash.finalize()))
}

/// Removes the lists execution `id` refers to (its names, inner reads and versions; the
/// lists stay for the others), before its index is written again.
pub(crate) fn forget_lists(conn: &Connection, id: i64) -> rusqlite::Result<()> {
    for links in [NAMES.links, READS.links, "execution_version_sets"] {
        conn.prepare_cached(&format!("DELETE FROM {links} WHERE execution_id = ?1"))?
            .execute([id])?;
    }
    Ok(())
}

/// Removes the values recorded after execution `id` (its own rows and its list), before they
/// are written again.
pub(crate) fn forget_values(conn: &Connection, id: i64) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM captured_value_rows WHERE execution_id = ?1")?
        .execute([id])?;
    conn.prepare_cached("DELETE FROM execution_value_sets WHERE execution_id = ?1")?
        .execute([id])?;
    Ok(())
}

/// Records that execution `id` touched `named` (in this order).
pub(crate) fn write_names(
    conn: &Connection,
    id: i64,
    named: &[(String, Role)],
) -> rusqlite::Result<()> {
    let fields = named
        .iter()
        .flat_map(|(name, role)| [name.as_bytes(), role.as_str().as_bytes()]);
    NAMES.refer(conn, id, hash_fields(named.len(), fields), |set| {
        let mut member = conn.prepare_cached(
            "INSERT INTO name_set_members (set_id, position, name, role)
             VALUES (?1, ?2, ?3, ?4)",
        )?;
        for (position, (name, role)) in named.iter().enumerate() {
            member.execute((set, position as i64, name, role))?;
        }
        Ok(())
    })
}

/// Records what execution `id`'s statements read from its own statements:
/// `(statement, dep_statement, symbol)`, distinct.
pub(crate) fn write_inner_reads(
    conn: &Connection,
    id: i64,
    reads: &[(i64, i64, String)],
) -> rusqlite::Result<()> {
    let numbers: Vec<[u8; 16]> = reads
        .iter()
        .map(|(s, d, _)| {
            let mut both = [0; 16];
            both[..8].copy_from_slice(&s.to_le_bytes());
            both[8..].copy_from_slice(&d.to_le_bytes());
            both
        })
        .collect();
    let fields = reads
        .iter()
        .zip(&numbers)
        .flat_map(|((_, _, symbol), n)| [&n[..], symbol.as_bytes()]);
    READS.refer(conn, id, hash_fields(reads.len(), fields), |set| {
        let mut member = conn.prepare_cached(
            "INSERT INTO read_set_members (set_id, statement, dep_statement, symbol)
             VALUES (?1, ?2, ?3, ?4)",
        )?;
        for (statement, dep, symbol) in reads {
            member.execute((set, statement, dep, symbol))?;
        }
        Ok(())
    })
}

/// SQL for the names of the executions `e` (`{e}`: the caller's `FROM` source, naming `e`,
/// with an `id` column): rows `(execution_id, name, role, position)`, in order within each
/// execution when sorted by `(execution_id, position)`.
pub(crate) fn names_of(e: &str) -> String {
    format!(
        "SELECT n.execution_id, n.name, n.role, n.rowid AS position
         FROM {e} JOIN execution_names n ON n.execution_id = e.id
         UNION ALL
         SELECT x.execution_id, m.name, m.role, m.position
         FROM {e} JOIN execution_name_sets x ON x.execution_id = e.id
         JOIN name_set_members m ON m.set_id = x.set_id"
    )
}

/// SQL for the reads of the executions `e` (as in [`names_of`]): rows `(execution_id,
/// statement, dep_execution_id, dep_statement, symbol)`.
pub(crate) fn reads_of(e: &str) -> String {
    format!(
        "SELECT r.execution_id, r.statement, r.dep_execution_id, r.dep_statement, r.symbol
         FROM {e} JOIN dataflow_reads r ON r.execution_id = e.id
         UNION ALL
         SELECT x.execution_id, m.statement, x.execution_id, m.dep_statement, m.symbol
         FROM {e} JOIN execution_read_sets x ON x.execution_id = e.id
         JOIN read_set_members m ON m.set_id = x.set_id"
    )
}

/// A version an execution made, as [`write_versions`] takes it: `(version, name, symbol,
/// statement, kind, current)`.
pub(crate) type NewVersion = (i64, String, String, i64, &'static str, bool);

/// Records the versions execution `id` of `trial` made (it has no list yet): a list shared by
/// every execution that made the same versions (numbered from its own `base`), and the current
/// ones in `current_versions`.
pub(crate) fn write_versions(
    conn: &Connection,
    trial: i64,
    id: i64,
    versions: &[NewVersion],
) -> rusqlite::Result<()> {
    let Some(base) = versions.iter().map(|v| v.0).min() else {
        return Ok(());
    };
    let numbers: Vec<[u8; 16]> = versions
        .iter()
        .map(|v| {
            let mut both = [0; 16];
            both[..8].copy_from_slice(&(v.0 - base).to_le_bytes());
            both[8..].copy_from_slice(&v.3.to_le_bytes());
            both
        })
        .collect();
    let fields = versions
        .iter()
        .zip(&numbers)
        .flat_map(|(v, n)| [&n[..], v.1.as_bytes(), v.2.as_bytes(), v.4.as_bytes()]);
    let sha = hash_fields(versions.len(), fields).expect("the list is not empty");
    let set = set_for(conn, "version_sets", &sha, |set| {
        let mut member = conn.prepare_cached(
            "INSERT INTO version_set_members (set_id, position, name, symbol, statement, kind)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for (version, name, symbol, statement, kind, _) in versions {
            member.execute((set, version - base, name, symbol, statement, kind))?;
        }
        Ok(())
    })?;
    conn.prepare_cached(
        "INSERT INTO execution_version_sets (execution_id, trial_id, set_id, base)
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute((id, trial, set, base))?;
    let mut current = conn.prepare_cached(
        "INSERT OR REPLACE INTO current_versions
             (trial_id, version, name, symbol, execution_id, statement, kind)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for (version, name, symbol, statement, kind, is_current) in versions {
        if *is_current {
            current.execute((trial, version, name, symbol, id, statement, kind))?;
        }
    }
    Ok(())
}

/// Marks `versions` of `trial` as no longer current.
pub(crate) fn retire_versions(
    conn: &Connection,
    trial: i64,
    versions: &[i64],
) -> rusqlite::Result<()> {
    if versions.is_empty() {
        return Ok(());
    }
    // One statement per version: a range (`BETWEEN`) over the consecutive numbers a re-run
    // retires costs more, SQLite collecting the rows before deleting them.
    let mut delete =
        conn.prepare_cached("DELETE FROM current_versions WHERE trial_id = ?1 AND version = ?2")?;
    for &version in versions {
        delete.execute((trial, version))?;
    }
    // A version kept in a row of its own (indexed before the lean store) carries the flag too.
    // Only a trial begun before the lean store has such rows, and none are added since: asked
    // once, so a cell rebinding thousands of names in a newer trial runs no update per name.
    let legacy: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM version_rows WHERE trial_id = ?1)")?
        .query_row([trial], |r| r.get(0))?;
    if legacy {
        let mut update = conn.prepare_cached(
            "UPDATE version_rows SET current = 0 WHERE trial_id = ?1 AND version = ?2",
        )?;
        for &version in versions {
            update.execute((trial, version))?;
        }
    }
    Ok(())
}

/// A captured value as [`write_values`] takes it: `(name, type_name, value_json, summary_json,
/// fingerprint_json)`.
pub(crate) type NewValue = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Records the values captured after execution `id` (in this order; it has none recorded, see
/// [`forget_values`]): a list shared by every execution after which the same values were
/// captured.
pub(crate) fn write_values(
    conn: &Connection,
    id: i64,
    values: &[NewValue],
) -> rusqlite::Result<()> {
    // A missing text and an empty one must not hash alike: each optional field is marked.
    let field = |t: &Option<String>| -> Vec<u8> {
        t.as_ref().map_or_else(Vec::new, |t| {
            let mut b = Vec::with_capacity(t.len() + 1);
            b.push(b'+');
            b.extend_from_slice(t.as_bytes());
            b
        })
    };
    let optional: Vec<[Vec<u8>; 3]> = values
        .iter()
        .map(|v| [field(&v.2), field(&v.3), field(&v.4)])
        .collect();
    let fields = values.iter().zip(&optional).flat_map(|(v, o)| {
        [
            v.0.as_bytes(),
            v.1.as_bytes(),
            o[0].as_slice(),
            o[1].as_slice(),
            o[2].as_slice(),
        ]
    });
    let Some(sha) = hash_fields(values.len(), fields) else {
        return Ok(());
    };
    let set = set_for(conn, "value_sets", &sha, |set| {
        let mut member = conn.prepare_cached(
            "INSERT INTO value_set_members
                 (set_id, position, name, type_name, value_json, summary_json, fingerprint_json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        for (position, (name, type_name, value, summary, fingerprint)) in values.iter().enumerate()
        {
            member.execute(rusqlite::params![
                set,
                position as i64,
                name,
                type_name,
                value,
                summary,
                fingerprint
            ])?;
        }
        Ok(())
    })?;
    conn.prepare_cached("INSERT INTO execution_value_sets (execution_id, set_id) VALUES (?1, ?2)")?
        .execute((id, set))?;
    Ok(())
}

/// SQL for the captured values of the executions `e` (as in [`names_of`]): rows
/// `(execution_id, id, name, type_name, value_json, summary_json, fingerprint_json)`, in order
/// within each execution when sorted by `(execution_id, id)`. What the view `captured_values`
/// holds, but reached from the executions: SQLite materialises a compound view joined to
/// another table whole.
pub(crate) fn values_of(e: &str) -> String {
    values_from(
        e,
        "v.execution_id = e.id",
        "JOIN execution_value_sets x ON x.execution_id = e.id
         JOIN value_set_members m ON m.set_id = x.set_id",
    )
}

/// SQL for the captured values of the names `n` (`{n}`: a `FROM` source naming `n`, with a
/// `name` column), in every execution: rows as in [`values_of`].
pub(crate) fn values_named(n: &str) -> String {
    values_from(
        n,
        "v.name = n.name",
        "JOIN value_set_members m ON m.name = n.name
         JOIN execution_value_sets x ON x.set_id = m.set_id",
    )
}

/// The two halves of [`values_of`] and [`values_named`]: the rows of `source` joined `on`, and
/// the lists joined through `lists` (which names `x` and `m`).
fn values_from(source: &str, on: &str, lists: &str) -> String {
    format!(
        "SELECT v.execution_id, v.id, v.name, v.type_name, v.value_json, v.summary_json,
                v.fingerprint_json
         FROM {source} JOIN captured_value_rows v ON {on}
         UNION ALL
         SELECT x.execution_id, m.position + 1, m.name, m.type_name, m.value_json,
                m.summary_json, m.fingerprint_json
         FROM {source} {lists}"
    )
}

/// SQL for the versions of name `?2` in trial `?1`: rows `(symbol, execution_id, statement)`.
/// Through the name's lists first: the trial may have made thousands of others.
pub(crate) const VERSIONS_NAMED: &str = "
    SELECT symbol, execution_id, statement FROM version_rows WHERE trial_id = ?1 AND name = ?2
    UNION ALL
    SELECT m.symbol, x.execution_id, m.statement
    FROM version_set_members m CROSS JOIN execution_version_sets x
    WHERE m.name = ?2 AND x.set_id = m.set_id AND x.trial_id = ?1";
