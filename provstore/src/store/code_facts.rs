//! Facts that are a function of the code (schema v6): its static analysis and its statements'
//! positions, stored once per code row, so re-running a cell adds neither again, and the
//! writer analyses a code once per session instead of once per execution.

use std::sync::Arc;

use pyflow::CellAnalysis;
use rusqlite::{Connection, OptionalExtension};

/// How many codes' analyses a writer keeps in memory: the cells being re-run.
const KEPT: usize = 16;

/// The analyses of the codes this store recorded last, by code id (most recent last).
#[derive(Debug, Default)]
pub(crate) struct CodeAnalyses {
    kept: Vec<(i64, Arc<CellAnalysis>)>,
}

impl CodeAnalyses {
    fn get(&mut self, code_id: i64) -> Option<Arc<CellAnalysis>> {
        let at = self.kept.iter().position(|(id, _)| *id == code_id)?;
        let entry = self.kept.remove(at);
        let analysis = entry.1.clone();
        self.kept.push(entry);
        Some(analysis)
    }

    fn keep(&mut self, code_id: i64, analysis: Arc<CellAnalysis>) {
        if self.kept.len() >= KEPT {
            self.kept.remove(0);
        }
        self.kept.push((code_id, analysis));
    }

    /// Forgets everything: after a rollback the rows these stand for may be gone.
    pub(crate) fn clear(&mut self) {
        self.kept.clear();
    }
}

/// The analysis of code row `code_id` (text `code`) as stored in `code_analysis`, written there
/// (with its statements' positions in `code_statements`) when the code has none yet. None when
/// the code's stored analysis was made by another `pyflow::ANALYSIS_VERSION`: an execution
/// then keeps its analysis in its own row, so the analysis earlier executions refer to never
/// changes under them.
pub(crate) fn code_analysis(
    tx: &Connection,
    kept: &mut CodeAnalyses,
    code_id: i64,
    code: &str,
) -> rusqlite::Result<Option<Arc<CellAnalysis>>> {
    if let Some(analysis) = kept.get(code_id) {
        return Ok(Some(analysis));
    }
    let stored: Option<(i64, String)> = tx
        .prepare_cached("SELECT analysis_version, analysis FROM code_analysis WHERE code_id = ?1")?
        .query_row([code_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let analysis = match stored {
        Some((version, text)) => {
            let parsed = (version == i64::from(pyflow::ANALYSIS_VERSION))
                .then(|| serde_json::from_str::<CellAnalysis>(&text).ok())
                .flatten();
            match parsed {
                Some(analysis) => Arc::new(analysis),
                None => return Ok(None),
            }
        }
        None => {
            let analysis = pyflow::analyze_cell(code);
            let text = serde_json::to_string(&analysis).expect("an analysis serialises");
            tx.prepare_cached(
                "INSERT INTO code_analysis (code_id, analysis_version, analysis)
                 VALUES (?1, ?2, ?3)",
            )?
            .execute((code_id, analysis.analysis_version, &text))?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO code_statements
                     (code_id, statement, line_start, line_end, byte_start, byte_end)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for (i, s) in analysis.statements.iter().enumerate() {
                insert.execute(rusqlite::params![
                    code_id,
                    i as i64,
                    s.line_start as i64,
                    s.line_end as i64,
                    s.byte_start as i64,
                    s.byte_end as i64,
                ])?;
            }
            Arc::new(analysis)
        }
    };
    kept.keep(code_id, analysis.clone());
    Ok(Some(analysis))
}

/// SQL for an execution's analysis text, `e` being its `executions` row and `d` its
/// `execution_dataflow` row: its own, or (empty) its code's.
pub(crate) const ANALYSIS_SQL: &str = "COALESCE(NULLIF(d.analysis, ''),
    (SELECT a.analysis FROM code_analysis a WHERE a.code_id = e.code_id), '')";
