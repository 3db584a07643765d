//! The names an execution touched, stored once per distinct list (schema v6): re-running a
//! cell that touches the same names in the same roles adds one row (`execution_name_sets`),
//! not one per name. Executions indexed before v6 keep their rows in `execution_names`; the
//! readers here answer for both.

use rusqlite::{Connection, OptionalExtension};
use sha2::{Digest, Sha256};

use crate::role::Role;

/// Records that execution `id` touched `named` (in this order), sharing the list with any
/// earlier execution that touched the same. An empty list records nothing.
pub(crate) fn write(conn: &Connection, id: i64, named: &[(String, Role)]) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM execution_name_sets WHERE execution_id = ?1")?
        .execute([id])?;
    if named.is_empty() {
        return Ok(());
    }
    let mut hash = Sha256::new();
    for (name, role) in named {
        // Lengths first, so no two lists hash the same text.
        hash.update((name.len() as u64).to_le_bytes());
        hash.update(name.as_bytes());
        hash.update(role.as_str().as_bytes());
        hash.update([0]);
    }
    let sha = hex::encode(hash.finalize());
    let found: Option<i64> = conn
        .prepare_cached("SELECT id FROM name_sets WHERE sha256 = ?1")?
        .query_row([&sha], |r| r.get(0))
        .optional()?;
    let set = match found {
        Some(set) => set,
        None => {
            conn.prepare_cached("INSERT INTO name_sets (sha256) VALUES (?1)")?
                .execute([&sha])?;
            let set = conn.last_insert_rowid();
            let mut member = conn.prepare_cached(
                "INSERT INTO name_set_members (set_id, position, name, role)
                 VALUES (?1, ?2, ?3, ?4)",
            )?;
            for (position, (name, role)) in named.iter().enumerate() {
                member.execute((set, position as i64, name, role))?;
            }
            set
        }
    };
    conn.prepare_cached("INSERT INTO execution_name_sets (execution_id, set_id) VALUES (?1, ?2)")?
        .execute((id, set))?;
    Ok(())
}

/// SQL for the names of the executions `e` (a table or subquery the caller names `e`, with
/// an `id` column): rows `(execution_id, name, role, position)`, in order within each
/// execution when sorted by `(execution_id, position)`. `{e}` is replaced by the caller's
/// `FROM` source of `e`.
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
