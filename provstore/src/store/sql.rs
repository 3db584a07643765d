//! The few ways a query meets the connection, so each query is its SQL and its mapping: the
//! statement is prepared (and cached) here, and an SQLite error comes back naming the store's
//! file ([`Store::err`]).

use rusqlite::{Connection, OptionalExtension, Params, Row};

use crate::{Result, Store};

impl Store {
    /// Runs several statements that make one answer (`f` gets the connection).
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        f(&self.conn).map_err(|e| self.err(e))
    }

    /// Runs `f` in one IMMEDIATE transaction, committed when `f` succeeds and rolled back when
    /// it fails. `BEGIN` and `COMMIT` are cached statements like the rest: the writer runs them
    /// for every execution, and parsing them anew each time was a tenth of its work.
    pub(crate) fn write<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        self.read(|conn| {
            conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
            let done = f(conn).and_then(|value| {
                conn.prepare_cached("COMMIT")?.execute([])?;
                Ok(value)
            });
            if done.is_err() && !conn.is_autocommit() {
                // What failed is the answer; a failed rollback leaves nothing more to say.
                let _ = conn.execute_batch("ROLLBACK");
            }
            done
        })
    }

    /// Every row of `sql`, each through `map`.
    pub(crate) fn rows<T>(
        &self,
        sql: &str,
        params: impl Params,
        map: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(sql)?;
            let rows = stmt.query_map(params, map)?;
            rows.collect()
        })
    }

    /// The first row of `sql` through `map`, None when there is none.
    pub(crate) fn row_opt<T>(
        &self,
        sql: &str,
        params: impl Params,
        map: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Option<T>> {
        self.read(|conn| conn.prepare_cached(sql)?.query_row(params, map).optional())
    }

    /// Runs one statement that changes rows; returns how many it changed.
    pub(crate) fn execute(&self, sql: &str, params: impl Params) -> Result<usize> {
        self.read(|conn| conn.prepare_cached(sql)?.execute(params))
    }
}
