//! Replays (`provctl replay`): which trial re-executed which (`trial_replays`), what a
//! replay compares of each execution (its status, error, outputs and captured values, read
//! back as plain data), and the report's types (`model.rs`, the JSON contract). The replay
//! itself (a Jupyter client) is the crate `provreplay`; the report's text and HTML are
//! `provrender`'s.

use rusqlite::types::ValueRef;

use crate::{schema, CapturedValue, Result, Store, MAGIC_ANSWER_MIME};

mod model;

pub use model::{
    Cause, Difference, FirstDivergence, ReplayExecution, ReplayReport, ReplayStatus, ReplaySummary,
};

/// Text payloads longer than this are compared by hash only (a replay reads both trials'
/// outputs at once).
const TEXT_LIMIT: usize = 1 << 20;

/// One execution of a trial as a replay compares it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayedExecution {
    /// The store's id of the execution.
    pub id: i64,
    /// Order within the trial: 1, 2, 3…
    pub order: i64,
    /// `In[n]`.
    pub execution_count: Option<i64>,
    /// JupyterLab's cell id, if sent.
    pub cell_id: Option<String>,
    /// The code as submitted.
    pub code: String,
    /// `ok`, `error` or `aborted`.
    pub status: String,
    /// `ename: evalue` of a failure.
    pub error: Option<String>,
    /// The outputs in order (a prov magic's answers included, marked).
    pub outputs: Vec<ReplayOutput>,
    /// The values the probe captured after it, in capture order.
    pub values: Vec<(String, CapturedValue)>,
}

/// One output, each MIME type with its hash and, for text, its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayOutput {
    /// `stream`, `execute_result`, `display_data`, `error`, …
    pub output_type: String,
    /// For streams, `stdout` or `stderr`.
    pub name: Option<String>,
    /// Whether it is the answer of one of prov's magics (it names trials, so a replay's
    /// differs by nature).
    pub magic: bool,
    /// `(mime type, sha256, text)`: the text when the payload is stored, UTF-8 and not huge.
    pub parts: Vec<(String, String, Option<String>)>,
}

impl Store {
    /// Records that `trial` is a replay of the trial with UUID `source` (the kernel, from
    /// `$PROV_REPLAY_OF`).
    pub fn set_replay_of(&mut self, trial: i64, source: &str) -> Result<()> {
        self.trial(trial)?;
        self.execute(
            "INSERT OR REPLACE INTO trial_replays (trial_id, replay_of) VALUES (?1, lower(?2))",
            (trial, source),
        )?;
        Ok(())
    }

    /// The replays of the trial with UUID `source` as `(id, pid)`, newest first; a store from
    /// before replays has none.
    pub fn replays_of(&self, source: &str) -> Result<Vec<(i64, i64)>> {
        if !self.read(schema::has_replays)? {
            return Ok(Vec::new());
        }
        self.rows(
            "SELECT t.id, t.pid FROM trial_replays r JOIN trials t ON t.id = r.trial_id
              WHERE r.replay_of = lower(?1) ORDER BY t.id DESC",
            [source],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }

    /// The UUID of the trial `trial` replayed, if it is a replay.
    pub fn replay_of(&self, trial: i64) -> Result<Option<String>> {
        self.trial(trial)?;
        if !self.read(schema::has_replays)? {
            return Ok(None);
        }
        self.row_opt(
            "SELECT replay_of FROM trial_replays WHERE trial_id = ?1",
            [trial],
            |r| r.get(0),
        )
    }

    /// The executions of `trial` in order, as a replay compares them.
    pub fn replayed_executions(&self, trial: i64) -> Result<Vec<ReplayedExecution>> {
        let mut execs: Vec<ReplayedExecution> = self
            .executions(trial)?
            .into_iter()
            .map(|e| ReplayedExecution {
                id: e.id,
                order: e.order,
                execution_count: e.execution_count,
                cell_id: e.cell_id,
                code: e.code,
                status: e.status.as_str().to_string(),
                error: e.error.map(|x| format!("{}: {}", x.ename, x.evalue)),
                outputs: e
                    .outputs
                    .into_iter()
                    .map(|o| ReplayOutput {
                        magic: o.mime_types.iter().any(|m| m == MAGIC_ANSWER_MIME),
                        output_type: o.output_type,
                        name: o.name,
                        parts: o
                            .payloads
                            .into_iter()
                            .filter(|p| p.mime_type != MAGIC_ANSWER_MIME)
                            .map(|p| (p.mime_type, p.sha256, None))
                            .collect(),
                    })
                    .collect(),
                values: Vec::new(),
            })
            .collect();
        for e in &mut execs {
            for o in &mut e.outputs {
                for (mime, sha256, text) in &mut o.parts {
                    if is_text(mime) {
                        *text = self.payload_text(sha256)?;
                    }
                }
            }
        }
        // A read-only store of schema 3 or 4 reads its fingerprints as NULL (a stand-in view).
        let sql = "SELECT e.seq, v.name, v.type_name, v.value_json, v.summary_json,
                          v.fingerprint_json
                     FROM captured_values v JOIN executions e ON e.id = v.execution_id
                    WHERE e.trial_id = ?1 ORDER BY e.seq, v.id";
        let values = self.rows(sql, [trial], |r| {
            let value = CapturedValue::from_columns(r.get(2)?, r.get(3)?, r.get(4)?)
                .with_fingerprint(r.get(5)?);
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, value))
        })?;
        for (seq, name, value) in values {
            if let Some(e) = execs.iter_mut().find(|e| e.order == seq) {
                e.values.push((name, value));
            }
        }
        Ok(execs)
    }

    /// A stored payload as text, when it is UTF-8 and not over [`TEXT_LIMIT`].
    fn payload_text(&self, sha256: &str) -> Result<Option<String>> {
        let text = self.row_opt(
            "SELECT data FROM blobs WHERE sha256 = ?1 AND length(data) <= ?2",
            (sha256, TEXT_LIMIT as i64),
            |r| {
                Ok(match r.get_ref(0)? {
                    ValueRef::Blob(b) | ValueRef::Text(b) => {
                        std::str::from_utf8(b).ok().map(str::to_string)
                    }
                    _ => None,
                })
            },
        )?;
        Ok(text.flatten())
    }
}

/// Whether a MIME type's payload is text a person reads (compared as text, floats within the
/// tolerance); images and other binary payloads are compared by hash.
fn is_text(mime: &str) -> bool {
    mime.starts_with("text/") || mime == "application/json" || mime.ends_with("+json")
}
