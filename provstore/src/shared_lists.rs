//! Per-execution lists stored once per distinct content (schema v6): re-running a cell that
//! touches the same names, and whose statements read each other the same way, adds one row
//! per list (`execution_name_sets`, `execution_read_sets`), not one per name or read.
//! Executions indexed before v6 keep their rows in `execution_names` and `dataflow_reads`; the
//! readers here answer for both.

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
    /// Makes execution `id` refer to the list whose content hashes to `sha` (None: no list),
    /// calling `fill(set_id)` to write the members of a list not seen before.
    fn refer(
        &self,
        conn: &Connection,
        id: i64,
        sha: Option<String>,
        fill: impl FnOnce(i64) -> rusqlite::Result<()>,
    ) -> rusqlite::Result<()> {
        let links = self.links;
        conn.prepare_cached(&format!("DELETE FROM {links} WHERE execution_id = ?1"))?
            .execute([id])?;
        let Some(sha) = sha else { return Ok(()) };
        let sets = self.sets;
        let found: Option<i64> = conn
            .prepare_cached(&format!("SELECT id FROM {sets} WHERE sha256 = ?1"))?
            .query_row([&sha], |r| r.get(0))
            .optional()?;
        let set = match found {
            Some(set) => set,
            None => {
                conn.prepare_cached(&format!("INSERT INTO {sets} (sha256) VALUES (?1)"))?
                    .execute([&sha])?;
                let set = conn.last_insert_rowid();
                fill(set)?;
                set
            }
        };
        conn.prepare_cached(&format!(
            "INSERT INTO {links} (execution_id, set_id) VALUES (?1, ?2)"
        ))?
        .execute((id, set))?;
        Ok(())
    }
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
