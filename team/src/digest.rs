//! The digest a pushed trial is compared by (`prov_trials.bundle_sha256`): SHA-256 over the
//! bundle's CONTENT, not its file. Each bundle is a new store with an identity of its own
//! (`store_info`: its UUID and creation time), so two extractions of an unchanged trial differ
//! in bytes; their rows do not. The digest covers every table but `store_info` (and SQLite's
//! own), by name, each row in the order of all its columns, each value with its type, so a
//! second push of an unchanged trial writes nothing.

use std::path::Path;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use sha2::{Digest, Sha256};

use crate::TeamError;

/// The content digest of the bundle at `path` (lowercase hex).
pub(crate) fn content_sha256(path: &Path) -> Result<String, TeamError> {
    let err = |e: rusqlite::Error| TeamError::Io {
        path: path.to_path_buf(),
        action: "read the bundle",
        source: std::io::Error::other(e),
    };
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(err)?;
    let tables: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
             AND name <> 'store_info' ORDER BY name",
        )
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(err)?;
    let mut hash = Sha256::new();
    for table in &tables {
        let quoted = format!("\"{}\"", table.replace('"', "\"\""));
        let columns: i64 = conn
            .query_row(
                &format!(
                    "SELECT count(*) FROM pragma_table_info('{}')",
                    table.replace('\'', "''")
                ),
                [],
                |r| r.get(0),
            )
            .map_err(err)?;
        let columns = usize::try_from(columns).unwrap_or(0);
        let order = (1..=columns.max(1))
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        hash.update(b"T");
        hash.update((table.len() as u64).to_be_bytes());
        hash.update(table.as_bytes());
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM {quoted} ORDER BY {order}"))
            .map_err(err)?;
        let mut rows = stmt.query([]).map_err(err)?;
        while let Some(row) = rows.next().map_err(err)? {
            hash.update(b"R");
            for i in 0..columns {
                match row.get_ref(i).map_err(err)? {
                    ValueRef::Null => hash.update(b"n"),
                    ValueRef::Integer(v) => {
                        hash.update(b"i");
                        hash.update(v.to_be_bytes());
                    }
                    ValueRef::Real(v) => {
                        hash.update(b"r");
                        hash.update(v.to_bits().to_be_bytes());
                    }
                    ValueRef::Text(b) | ValueRef::Blob(b) => {
                        let is_text = matches!(row.get_ref(i).map_err(err)?, ValueRef::Text(_));
                        hash.update(if is_text { b"t" } else { b"b" });
                        hash.update((b.len() as u64).to_be_bytes());
                        hash.update(b);
                    }
                }
            }
        }
    }
    Ok(hex::encode(hash.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(path: &Path, info: &str, rows: &[(i64, &str)]) {
        let c = Connection::open(path).unwrap();
        c.execute_batch(
            "CREATE TABLE store_info (key TEXT PRIMARY KEY, value TEXT);
             CREATE TABLE t (id INTEGER PRIMARY KEY, v);",
        )
        .unwrap();
        c.execute("INSERT INTO store_info VALUES ('store_uuid', ?1)", [info])
            .unwrap();
        for (id, v) in rows {
            c.execute("INSERT INTO t VALUES (?1, ?2)", (id, v)).unwrap();
        }
    }

    #[test]
    fn the_identity_is_left_out_the_content_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let [a, b, c, d] = ["a", "b", "c", "d"].map(|n| dir.path().join(n));
        store(&a, "one", &[(1, "x"), (2, "y")]);
        // Another identity, rows inserted in another order: the same content.
        store(&b, "two", &[(2, "y"), (1, "x")]);
        store(&c, "one", &[(1, "x"), (2, "z")]);
        store(&d, "one", &[(1, "x")]);
        let digest = |p: &Path| content_sha256(p).unwrap();
        assert_eq!(digest(&a), digest(&b));
        assert_ne!(digest(&a), digest(&c));
        assert_ne!(digest(&a), digest(&d));
        assert_eq!(digest(&a).len(), 64);
    }
}
