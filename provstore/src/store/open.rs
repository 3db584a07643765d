//! Opening a store: creating it privately for the kernel, and reading one this process may not
//! write (a read-only filesystem, another user's file) through read-only URIs.

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::Utc;
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension};

use super::{Store, BUSY_TIMEOUT, DEFAULT_PAYLOAD_CAP};

/// How many prepared statements a connection keeps.
const STATEMENTS_KEPT: usize = 128;
use crate::schema::{self, Migration, SCHEMA_VERSION};
use crate::{paths, timestamp, Result, StoreError};

impl Store {
    /// Opens the store at `path` for writing, creating it if needed: missing
    /// folders 0700, the file 0600, WAL mode, the schema. Trials left
    /// `running` by dead kernels of this host are marked `crashed`.
    pub fn open(path: &Path) -> Result<Store> {
        paths::create_private(path)?;
        Store::connect_as(path, Access::Normal, Mapping::Mapped)
    }

    /// Opens an existing store (for reading: provctl, the magics). Never
    /// creates one: a missing file is [`StoreError::Missing`]. The store is
    /// opened read-write when permissions allow, so a forward migration or
    /// crash marking can happen; read-only otherwise. A store this process may
    /// not write at all (a read-only filesystem, another user's file in their
    /// folder), where SQLite cannot create the WAL's `-shm` and `-wal` files,
    /// is read through SQLite's `mode=ro`, then `immutable=1` URIs.
    pub fn open_existing(path: &Path) -> Result<Store> {
        if !path.is_file() {
            return Err(StoreError::Missing {
                path: path.to_path_buf(),
            });
        }
        let first = match Store::connect_as(path, Access::Normal, Mapping::Read) {
            Ok(store) => return Ok(store),
            Err(e) => e,
        };
        for query in ["mode=ro", "immutable=1"] {
            if let Ok(store) = Store::connect_as(path, Access::Uri(query), Mapping::Read) {
                return Ok(store);
            }
        }
        Err(first)
    }

    fn connect_as(path: &Path, access: Access, mapping: Mapping) -> Result<Store> {
        let sql_err = |source| StoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        };
        let mut conn = match access {
            // READ_WRITE falls back to read-only when the OS refuses writing.
            Access::Normal => Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            ),
            Access::Uri(query) => Connection::open_with_flags(
                format!("{}?{query}", file_uri(path)),
                OpenFlags::SQLITE_OPEN_READ_ONLY
                    | OpenFlags::SQLITE_OPEN_URI
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            ),
        }
        .map_err(sql_err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(sql_err)?;
        // Recording one execution alone runs some 40 distinct statements, and the queries
        // more: with rusqlite's default of 16 kept, each miss parses its SQL again (half the
        // writer's time, measured).
        conn.set_prepared_statement_cache_capacity(STATEMENTS_KEPT);
        let writable = !conn.is_readonly(rusqlite::MAIN_DB).map_err(sql_err)?;
        if writable {
            retry_busy(|| {
                conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))
            })
            .map_err(sql_err)?;
            conn.pragma_update(None, "synchronous", "NORMAL")
                .map_err(sql_err)?;
        }
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(sql_err)?;
        if mapping == Mapping::Mapped {
            // The kernel's store, open for hours: read pages straight from the OS page cache
            // instead of one read() each (dependency queries touch thousands of scattered pages).
            conn.query_row("PRAGMA mmap_size = 268435456", [], |_| Ok(()))
                .optional()
                .map_err(sql_err)?;
        }
        let now = timestamp(Utc::now());
        let store_uuid = uuid::Uuid::new_v4().to_string();
        match schema::migrate(&mut conn, &store_uuid, &now, writable).map_err(sql_err)? {
            Migration::Current => {}
            Migration::TooNew(found) => {
                return Err(StoreError::TooNew {
                    path: path.to_path_buf(),
                    found,
                    supported: SCHEMA_VERSION,
                })
            }
        }
        if !writable {
            schema::stand_in_for_newer_tables(&conn).map_err(sql_err)?;
        }
        let mut store = Store {
            conn,
            checkpointer: None,
            live: std::cell::RefCell::new(None),
            analyses: Default::default(),
            path: path.to_path_buf(),
            payload_cap: DEFAULT_PAYLOAD_CAP,
            writable,
        };
        if writable {
            store.mark_crashed_trials()?;
        }
        Ok(store)
    }
}

/// How [`Store::connect_as`] opens the file.
#[derive(Clone, Copy)]
enum Access {
    /// Read-write when allowed, else read-only.
    Normal,
    /// Read-only through a `file:` URI with this query (`mode=ro`, `immutable=1`).
    Uri(&'static str),
}

/// Whether [`Store::connect_as`] maps the file into memory. A reader (provctl: one query, then
/// exit) reads its pages with read(): measured on a 1.3 GB store, mapping made `provctl deps`
/// 20-40 % slower, every touched page costing a fault and the mapping an unmap at exit.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mapping {
    /// Up to 256 MiB of the file mapped (the writer's long-lived connection).
    Mapped,
    /// Pages read with read() into SQLite's own cache.
    Read,
}

/// `path` as an SQLite `file:` URI: absolute, every byte outside the unreserved set and `/`
/// percent-encoded (so `?`, `#` and `%` in folder names stay part of the path).
pub(crate) fn file_uri(path: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    #[cfg(unix)]
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(absolute.as_os_str()).to_vec();
    #[cfg(not(unix))]
    let bytes = absolute.to_string_lossy().into_owned().into_bytes();
    let mut uri = String::from("file:");
    for b in bytes {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            uri.push(b as char);
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri
}

/// Retries an operation that failed with `SQLITE_BUSY` outside the busy
/// handler's reach (switching to WAL while another process creates the same
/// new store), for up to [`BUSY_TIMEOUT`].
fn retry_busy<T>(mut op: impl FnMut() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let deadline = Instant::now() + BUSY_TIMEOUT;
    loop {
        match op() {
            Err(e)
                if matches!(
                    e.sqlite_error_code(),
                    Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
                ) && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// A trial for tests of opening stores (and of recording into them).
#[cfg(test)]
pub(super) fn test_trial() -> crate::NewTrial {
    crate::NewTrial {
        notebook: None,
        cwd: "/".into(),
        platform: "test".into(),
        pid: 1,
        hostname: "test".into(),
        started_at: Utc::now(),
        user: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_uris_keep_odd_folder_names_in_the_path() {
        let uri = file_uri(Path::new("/tmp/a b?c#d%e/prov.db"));
        assert_eq!(uri, "file:/tmp/a%20b%3Fc%23d%25e/prov.db");
    }

    #[test]
    fn a_read_only_uri_reads_a_store() {
        let tmp = tempfile::tempdir().unwrap();
        let db = tmp.path().join("odd ?#% name.db");
        let mut store = Store::open(&db).unwrap();
        store.begin_trial(&test_trial()).unwrap();
        drop(store);
        for query in ["mode=ro", "immutable=1"] {
            let reader = Store::connect_as(&db, Access::Uri(query), Mapping::Read).unwrap();
            assert!(!reader.is_writable());
            assert_eq!(reader.trial_overviews().unwrap().len(), 1);
        }
    }
}

#[cfg(test)]
mod lean_tests;
#[cfg(test)]
mod msg_id_tests;
#[cfg(test)]
mod v5_tests;
#[cfg(test)]
mod v6_files_tests;
