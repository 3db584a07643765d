//! Read queries: plain data for provctl, the magics and the renderer. Each
//! list is fetched with a fixed number of queries (never one per execution),
//! so showing a trial of 10,000 executions stays fast.

use std::collections::HashMap;

use rusqlite::types::ValueRef;
use rusqlite::{params_from_iter, Connection, Params, Row};

use crate::{
    ErrorInfo, ExecutionDetail, LogEntry, OutputSummary, PayloadInfo, Result, Store, StoreError,
    TrialOverview, TrialSummary,
};

/// The trial columns, in the order [`trial_from_row`] reads them.
/// The execution count is the trial's last `seq` (1, 2, 3… with no gaps: executions are
/// never deleted one by one), read from the `(trial_id, seq)` index instead of counted.
const TRIAL_COLUMNS: &str = "t.id, t.uuid, t.name, t.started_at, t.ended_at, t.status, t.notebook,
    (SELECT COALESCE(MAX(e.seq), 0) FROM executions e WHERE e.trial_id = t.id),
    t.cwd, t.python_version, t.ipykernel_version, t.platform, t.hostname, t.pid, t.user_name";

fn trial_from_row(r: &Row<'_>) -> rusqlite::Result<TrialSummary> {
    Ok(TrialSummary {
        id: r.get(0)?,
        uuid: r.get(1)?,
        name: r.get(2)?,
        started_at: r.get(3)?,
        ended_at: r.get(4)?,
        status: r.get(5)?,
        notebook: r.get(6)?,
        executions: r.get(7)?,
        cwd: r.get(8)?,
        python_version: r.get(9)?,
        ipykernel_version: r.get(10)?,
        platform: r.get(11)?,
        hostname: r.get(12)?,
        pid: r.get(13)?,
        user: r.get(14)?,
    })
}

/// The execution columns (with the code joined), in the order
/// [`execution_from_row`] reads them; `e` is `executions`, `c` is `code`.
const EXECUTION_COLUMNS: &str = "e.id, e.seq, e.msg_id, e.execution_count, e.cell_id, c.text, c.sha256,
    e.status, e.started_at, e.ended_at, e.duration_ms, e.error_name, e.error_value, e.error_traceback,
    e.trial_id";

/// An execution (without outputs yet) and the id of its trial.
fn execution_from_row(r: &Row<'_>) -> rusqlite::Result<(i64, ExecutionDetail)> {
    let ename: Option<String> = r.get(11)?;
    let evalue: Option<String> = r.get(12)?;
    let traceback: Option<String> = r.get(13)?;
    let error = match (ename, evalue, traceback) {
        (None, None, None) => None,
        (ename, evalue, traceback) => Some(ErrorInfo {
            ename: ename.unwrap_or_default(),
            evalue: evalue.unwrap_or_default(),
            traceback: traceback
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or_default(),
        }),
    };
    let detail = ExecutionDetail {
        id: r.get(0)?,
        order: r.get(1)?,
        msg_id: r.get(2)?,
        execution_count: r.get(3)?,
        cell_id: r.get(4)?,
        code: r.get(5)?,
        code_sha256: r.get(6)?,
        status: r.get(7)?,
        started_at: r.get(8)?,
        ended_at: r.get(9)?,
        duration_ms: r.get(10)?,
        error,
        outputs: Vec::new(),
    };
    Ok((r.get(14)?, detail))
}

/// Which executions [`load_executions`] loads: a condition on `e`
/// (`executions`) with its parameters, an order, and an optional limit.
struct Selection<'a> {
    filter: &'a str,
    params: &'a [i64],
    order: &'a str,
    limit: Option<i64>,
}

/// Loads the executions of `sel` with their trial ids and outputs, in one
/// query: each execution joined with its outputs and their MIME bundle
/// entries, in order, so one pass builds everything (no query per
/// execution, no lookups).
fn load_executions(
    conn: &Connection,
    sel: &Selection<'_>,
) -> rusqlite::Result<Vec<(i64, ExecutionDetail)>> {
    let Selection {
        filter,
        params,
        order,
        limit,
    } = *sel;
    // A limit counts executions, so it applies before joining the outputs.
    let source = match limit {
        Some(n) => {
            format!("(SELECT * FROM executions e WHERE {filter} ORDER BY {order} LIMIT {n}) e")
        }
        None => "executions e".to_string(),
    };
    let filter = if limit.is_some() { "1" } else { filter };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {EXECUTION_COLUMNS},
                o.id, o.output_type, o.stream_name, d.mime_type, b.sha256, b.size,
                b.data IS NOT NULL, CASE WHEN d.mime_type = 'text/plain' THEN b.data END
         FROM {source}
         JOIN code c ON c.id = e.code_id
         LEFT JOIN outputs o ON o.execution_id = e.id
         LEFT JOIN output_data d ON d.output_id = o.id
         LEFT JOIN blobs b ON b.id = d.blob_id
         WHERE {filter}
         ORDER BY {order}, o.seq, d.position"
    ))?;
    /// Where the output columns start.
    const O: usize = 15;
    let mut rows = stmt.query(params_from_iter(params))?;
    let mut executions: Vec<(i64, ExecutionDetail)> = Vec::new();
    let mut last_output: Option<i64> = None;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        if executions.last().is_none_or(|(_, e)| e.id != id) {
            executions.push(execution_from_row(r)?);
            last_output = None;
        }
        let Some(output_id) = r.get::<_, Option<i64>>(O)? else {
            continue;
        };
        let outputs = &mut executions.last_mut().expect("pushed above").1.outputs;
        if last_output != Some(output_id) {
            outputs.push(OutputSummary {
                output_type: r.get(O + 1)?,
                name: r.get(O + 2)?,
                mime_types: Vec::new(),
                text: None,
                payloads: Vec::new(),
            });
            last_output = Some(output_id);
        }
        let out = outputs.last_mut().expect("pushed above");
        let Some(mime) = r.get::<_, Option<String>>(O + 3)? else {
            continue;
        };
        if let ValueRef::Blob(bytes) | ValueRef::Text(bytes) = r.get_ref(O + 7)? {
            out.text = Some(String::from_utf8_lossy(bytes).into_owned());
        }
        out.payloads.push(PayloadInfo {
            mime_type: mime.clone(),
            sha256: r.get(O + 4)?,
            size: r.get(O + 5)?,
            stored: r.get(O + 6)?,
        });
        out.mime_types.push(mime);
    }
    Ok(executions)
}

impl Store {
    /// Every trial of the store, oldest first, with its execution count.
    pub fn trials(&self) -> Result<Vec<TrialSummary>> {
        self.rows(
            &format!("SELECT {TRIAL_COLUMNS} FROM trials t ORDER BY t.id"),
            [],
            trial_from_row,
        )
    }

    /// One page of [`Store::trial_overviews`]: the latest `limit` trials with ids below
    /// `before` (every trial when None), oldest first, and how many older trials the page
    /// leaves out. Reads only the page's trials, whatever the size of the store.
    pub fn trial_overviews_page(
        &self,
        limit: usize,
        before: Option<i64>,
    ) -> Result<(Vec<TrialOverview>, usize)> {
        let before = before.unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let trials = self.rows(
            &format!(
                "SELECT * FROM (SELECT {TRIAL_COLUMNS} FROM trials t WHERE t.id < ?1
                                ORDER BY t.id DESC LIMIT ?2)
                 ORDER BY 1"
            ),
            (before, limit),
            trial_from_row,
        )?;
        let first = trials.first().map_or(before, |t| t.id);
        let older: i64 = self
            .row_opt("SELECT COUNT(*) FROM trials WHERE id < ?1", [first], |r| {
                r.get(0)
            })?
            .unwrap_or(0);
        Ok((
            self.overviews_of(trials)?,
            usize::try_from(older).unwrap_or(0),
        ))
    }

    /// The trial with this id.
    pub fn trial(&self, id: i64) -> Result<TrialSummary> {
        self.trial_where("t.id = ?1", [id])?
            .ok_or_else(|| self.trial_not_found(&id.to_string()))
    }

    /// The trial a person means by `query`: an id (`3`), a name
    /// (`baseline`) or a UUID. Not found is [`StoreError::TrialNotFound`],
    /// listing what the store has.
    pub fn resolve_trial(&self, query: &str) -> Result<TrialSummary> {
        let q = query.trim();
        let found = match q.parse::<i64>() {
            Ok(id) => self.trial_where("t.id = ?1", [id])?,
            Err(_) => match self.trial_where("t.name = ?1", [q])? {
                Some(t) => Some(t),
                None => self.trial_where("t.uuid = lower(?1)", [q])?,
            },
        };
        found.ok_or_else(|| self.trial_not_found(query))
    }

    /// The most recently started trial, if any.
    pub fn latest_trial(&self) -> Result<Option<TrialSummary>> {
        self.trial_where("t.id = (SELECT MAX(id) FROM trials)", [])
    }

    /// The top-level packages the user's code imported during `trial`, with their versions, as
    /// `(name, version)` sorted by name: the environment two trials are compared on. Unknown
    /// trial: [`crate::StoreError::TrialNotFound`].
    pub fn trial_packages(&self, trial: i64) -> Result<Vec<(String, String)>> {
        self.trial(trial)?;
        self.rows(
            "SELECT name, version FROM trial_packages WHERE trial_id = ?1 ORDER BY name",
            [trial],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }

    fn trial_where(&self, cond: &str, params: impl Params) -> Result<Option<TrialSummary>> {
        let sql = format!("SELECT {TRIAL_COLUMNS} FROM trials t WHERE {cond}");
        self.row_opt(&sql, params, trial_from_row)
    }

    /// The executions of a trial in order, each with its outputs (types,
    /// MIME types, hashes and sizes, and the `text/plain` text).
    pub fn executions(&self, trial_id: i64) -> Result<Vec<ExecutionDetail>> {
        let sel = Selection {
            filter: "e.trial_id = ?1",
            params: &[trial_id],
            order: "e.seq",
            limit: None,
        };
        let executions = self.read(|conn| load_executions(conn, &sel))?;
        Ok(executions.into_iter().map(|(_, e)| e).collect())
    }

    /// The latest `limit` executions across all trials, newest first.
    pub fn log(&self, limit: usize) -> Result<Vec<LogEntry>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let sel = Selection {
            filter: "1",
            params: &[],
            order: "e.started_at DESC, e.id DESC",
            limit: Some(limit),
        };
        let executions = self.read(|conn| load_executions(conn, &sel))?;
        let names: HashMap<i64, Option<String>> = self
            .rows("SELECT id, name FROM trials", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .into_iter()
            .collect();
        Ok(executions
            .into_iter()
            .map(|(trial_id, execution)| LogEntry {
                trial_id,
                trial_name: names.get(&trial_id).cloned().flatten(),
                execution,
            })
            .collect())
    }

    /// The bytes of a stored payload by its SHA-256, None when unknown or
    /// recorded by hash and size only.
    pub fn payload(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        let data = self.row_opt(
            "SELECT data FROM blobs WHERE sha256 = lower(?1)",
            [sha256],
            |r| r.get::<_, Option<Vec<u8>>>(0),
        )?;
        Ok(data.flatten())
    }

    /// A [`StoreError::TrialNotFound`] for `query`, saying which trials
    /// exist so the user can pick one.
    pub(crate) fn trial_not_found(&self, query: &str) -> StoreError {
        let available = (|| -> rusqlite::Result<String> {
            let (count, min, max): (i64, Option<i64>, Option<i64>) =
                self.conn
                    .query_row("SELECT COUNT(*), MIN(id), MAX(id) FROM trials", [], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                    })?;
            let mut text = match (count, min, max) {
                (0, _, _) => return Ok("this store has no trials yet".into()),
                (1, Some(id), _) => format!("this store has trial {id}"),
                (n, Some(lo), Some(hi)) if n == hi - lo + 1 => {
                    format!("this store has trials {lo}-{hi}")
                }
                (n, _, _) => format!("this store has {n} trials"),
            };
            let mut stmt = self.conn.prepare(
                "SELECT name, id FROM trials WHERE name IS NOT NULL ORDER BY id DESC LIMIT 10",
            )?;
            let named: Vec<String> = stmt
                .query_map([], |r| {
                    Ok(format!(
                        "{} ({})",
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?
                    ))
                })?
                .collect::<rusqlite::Result<_>>()?;
            if !named.is_empty() {
                text.push_str("; named: ");
                text.push_str(&named.join(", "));
            }
            Ok(text)
        })()
        .unwrap_or_else(|e| format!("the trials could not be listed ({e})"));
        StoreError::TrialNotFound {
            query: query.to_string(),
            available,
        }
    }
}
