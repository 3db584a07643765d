//! Writing a trial's bundle: a new store file made by the normal open path (so it has this
//! build's whole schema and an identity of its own), filled with the trial's rows and the
//! shared content they refer to, ids as in the source, from one consistent read of the source.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use super::tables::{self, Kind, TABLES};
use crate::schema::{self, SCHEMA_VERSION};
use crate::{Result, Store, StoreError};

impl Store {
    /// Writes trial `trial` as a bundle: a new SQLite store file at `dest` (must not exist) of
    /// this store's schema version, holding that trial and all it references, nothing else.
    /// The file appears whole or not at all (written beside `dest`, then linked into place).
    pub fn extract_trial(&self, trial: i64, dest: &Path) -> Result<()> {
        let bundle_err = |reason: String| StoreError::Bundle {
            path: dest.to_path_buf(),
            reason,
        };
        if dest.symlink_metadata().is_ok() {
            return Err(bundle_err(
                "the file already exists (a bundle is always written to a new file)".into(),
            ));
        }
        self.trial(trial)?;
        let version = self.read(schema::user_version)?;
        if version != SCHEMA_VERSION {
            return Err(bundle_err(format!(
                "the store is at schema version {version}, read as it is because it cannot be \
                 written; bundles are made at version {SCHEMA_VERSION} (open the store with \
                 write access once to migrate it)"
            )));
        }
        let partial = Partial::beside(dest);
        drop(Store::open(&partial.path)?);
        let dest_err = |source| StoreError::Sqlite {
            path: partial.path.clone(),
            source,
        };
        let mut conn = Connection::open_with_flags(
            &partial.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_URI
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(dest_err)?;
        // The trial's rows go in before the shared rows they refer to (found from them).
        conn.pragma_update(None, "foreign_keys", false)
            .map_err(dest_err)?;
        // A file of its own, no write-ahead log beside it; not synced commit by commit: until
        // it is linked into place it is nobody's, and it is synced once before that.
        conn.query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(()))
            .map_err(dest_err)?;
        conn.pragma_update(None, "synchronous", "OFF")
            .map_err(dest_err)?;
        conn.execute(
            "ATTACH DATABASE ?1 AS src",
            [format!("{}?mode=ro", crate::store::file_uri(self.path()))],
        )
        .map_err(|e| self.err(e))?;
        copy_trial(&mut conn, trial).map_err(|e| self.err(e))?;
        conn.execute_batch("DETACH DATABASE src")
            .map_err(dest_err)?;
        conn.close().map_err(|(_, e)| dest_err(e))?;
        std::fs::File::open(&partial.path)
            .and_then(|f| f.sync_all())
            .map_err(|source| StoreError::Io {
                path: partial.path.clone(),
                action: "write the bundle",
                source,
            })?;
        // A link fails when `dest` appeared meanwhile; where links are not supported, a rename
        // (which would replace such a file) is the next best.
        let placed = match std::fs::hard_link(&partial.path, dest) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                std::fs::rename(&partial.path, dest)
            }
            other => other,
        };
        placed.map_err(|source| StoreError::Io {
            path: dest.to_path_buf(),
            action: "write the bundle",
            source,
        })
    }
}

/// Copies the trial's rows from `src` into `main`, then the shared rows they refer to, in one
/// transaction (so one snapshot of the source: a trial still recording is read as it stood).
/// Foreign keys are off on this connection, so the order does not matter: the bundle's
/// references are checked when it is absorbed.
fn copy_trial(conn: &mut Connection, trial: i64) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    for (t, rows) in tables::per_trial_tables() {
        let columns = tables::column_list(t);
        tx.execute(
            &format!(
                "INSERT INTO main.{name} ({columns}) SELECT {columns} FROM src.{name} WHERE {rows}",
                name = t.name,
                rows = tables::rows_in(rows, "src").replace(":trial", "?1"),
            ),
            [trial],
        )?;
    }
    for t in TABLES {
        let columns = tables::column_list(t);
        let which = match t.kind {
            Kind::Shared { .. } => {
                format!("id IN ({})", tables::referenced(t.name, "main")).replace(":trial", "?1")
            }
            Kind::Part => {
                let (column, parent) = tables::parent_of(t);
                format!("{column} IN (SELECT id FROM main.{parent})")
            }
            Kind::PerTrial { .. } | Kind::Local => continue,
        };
        let sql = format!(
            "INSERT INTO main.{name} ({columns}) SELECT {columns} FROM src.{name} WHERE {which}",
            name = t.name
        );
        if sql.contains("?1") {
            tx.execute(&sql, [trial])?;
        } else {
            tx.execute(&sql, [])?;
        }
    }
    tx.commit()
}

/// The file a bundle is written to before it takes its name, removed (with SQLite's side
/// files) when dropped.
struct Partial {
    path: PathBuf,
}

impl Partial {
    fn beside(dest: &Path) -> Partial {
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let path = dest.with_file_name(format!(".{name}.{}.partial", uuid::Uuid::new_v4()));
        Partial { path }
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut file = self.path.clone().into_os_string();
            file.push(suffix);
            let _ = std::fs::remove_file(file);
        }
    }
}
