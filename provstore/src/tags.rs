//! Tags of a trial: variables tagged with an optional label (`%tag_var`), and stage labels
//! (`load`, `train`, `eval`) marking a cell's execution (`%tag_cell`). Both live in version 1's
//! tables, `variable_tags` and `cell_stages`, and apply from the moment they are set.
//!
//! A stage is marked while its cell is still running (the magic answers at the cell's reply,
//! before the execution is recorded), so the row cannot name the execution yet. Its `cell_id`
//! holds `seq:N`, N being the `seq` the cell's execution gets in the trial (the next one at the
//! time of marking: a kernel runs one cell at a time); [`Store::tags`] joins it to that
//! execution for its cell id and `In[n]`.

use chrono::Utc;
use rusqlite::OptionalExtension;
use serde::Serialize;

use crate::{timestamp, Result, Store, StoreError, TrialSummary};

/// The tags of one trial (`%tags`, `provctl tags --json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TagsAnswer {
    /// The trial asked about.
    pub trial: TrialSummary,
    /// Tagged variables, in the order they were (first) tagged.
    pub variables: Vec<VariableTag>,
    /// Stage marks, in the order they were set.
    pub stages: Vec<StageTag>,
}

/// A tagged variable of a trial.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VariableTag {
    /// The variable.
    pub name: String,
    /// Its label, if given.
    pub label: Option<String>,
    /// When it was tagged (or its label last changed).
    pub tagged_at: String,
    /// `In[n]` of the trial's last recorded execution when it was tagged, if any.
    pub execution_count_at_tagging: Option<i64>,
}

/// A stage label on a cell's execution.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageTag {
    /// The stage (`load`, `train`, …).
    pub label: String,
    /// The cell's id (JupyterLab's `metadata.cellId`), once its execution is recorded.
    pub cell_id: Option<String>,
    /// `In[n]` of the marked execution, once recorded.
    pub execution_count: Option<i64>,
    /// When it was marked.
    pub at: String,
}

/// Checks a variable name or label given to a tag magic.
fn validate(what: &'static str, text: &str) -> Result<()> {
    let reason = if text.trim().is_empty() {
        Some("it is empty")
    } else if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some("it contains white space or control characters")
    } else if text.chars().count() > 200 {
        Some("it is longer than 200 characters")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(StoreError::InvalidTag {
            what,
            text: text.to_string(),
            reason,
        }),
        None => Ok(()),
    }
}

impl Store {
    /// Tags variable `name` in `trial`, with an optional `label`. Tagging a variable already
    /// tagged in the trial replaces its label (and time). Returns whether it was tagged before.
    pub fn tag_variable(&mut self, trial: i64, name: &str, label: Option<&str>) -> Result<bool> {
        validate("variable", name)?;
        if let Some(label) = label {
            validate("label", label)?;
        }
        self.trial(trial)?;
        let now = timestamp(Utc::now());
        self.write(|tx| {
            let last: Option<i64> = tx
                .query_row(
                    "SELECT id FROM executions WHERE trial_id = ?1 ORDER BY seq DESC LIMIT 1",
                    [trial],
                    |r| r.get(0),
                )
                .optional()?;
            let updated = tx.execute(
                "UPDATE variable_tags SET label = ?3, tagged_at = ?4, execution_id = ?5
                 WHERE trial_id = ?1 AND name = ?2",
                (trial, name, label, &now, last),
            )?;
            if updated == 0 {
                tx.execute(
                    "INSERT INTO variable_tags (trial_id, name, label, execution_id, tagged_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    (trial, name, label, last, &now),
                )?;
            }
            Ok(updated > 0)
        })
    }

    /// Removes the tag of variable `name` in `trial`. A variable that is not tagged is
    /// [`StoreError::NotTagged`].
    pub fn untag_variable(&mut self, trial: i64, name: &str) -> Result<()> {
        self.trial(trial)?;
        let removed = self.execute(
            "DELETE FROM variable_tags WHERE trial_id = ?1 AND name = ?2",
            (trial, name),
        )?;
        if removed == 0 {
            let tagged = self.tags(trial)?.variables.into_iter().map(|v| v.name);
            return Err(StoreError::NotTagged {
                name: name.to_string(),
                trial,
                tagged: tagged.collect(),
            });
        }
        Ok(())
    }

    /// Marks the execution of `trial` that is running now (the next one recorded) with the
    /// stage `label`. Marking the same stage twice on one execution only updates its time.
    pub fn mark_stage(&mut self, trial: i64, label: &str) -> Result<()> {
        validate("stage", label)?;
        self.trial(trial)?;
        let now = timestamp(Utc::now());
        self.write(|tx| {
            let next: i64 = tx.query_row(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM executions WHERE trial_id = ?1",
                [trial],
                |r| r.get(0),
            )?;
            tx.execute(
                "INSERT INTO cell_stages (trial_id, cell_id, stage, tagged_at)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (trial_id, cell_id, stage) DO UPDATE SET tagged_at = excluded.tagged_at",
                (trial, format!("seq:{next}"), label, &now),
            )?;
            Ok(())
        })
    }

    /// The tags of `trial`: its tagged variables and its stage marks.
    pub fn tags(&self, trial: i64) -> Result<TagsAnswer> {
        let summary = self.trial(trial)?;
        let variables = self.rows(
            "SELECT t.name, t.label, t.tagged_at, e.execution_count
             FROM variable_tags t LEFT JOIN executions e ON e.id = t.execution_id
             WHERE t.trial_id = ?1 ORDER BY t.id",
            [trial],
            |r| {
                Ok(VariableTag {
                    name: r.get(0)?,
                    label: r.get(1)?,
                    tagged_at: r.get(2)?,
                    execution_count_at_tagging: r.get(3)?,
                })
            },
        )?;
        let stages = self.rows(
            "SELECT s.stage, s.cell_id, s.tagged_at, e.cell_id, e.execution_count
             FROM cell_stages s
             LEFT JOIN executions e ON e.trial_id = s.trial_id
                  AND s.cell_id LIKE 'seq:%' AND e.seq = CAST(substr(s.cell_id, 5) AS INTEGER)
             WHERE s.trial_id = ?1 ORDER BY s.tagged_at, s.id",
            [trial],
            |r| {
                let stored: String = r.get(1)?;
                let recorded: Option<String> = r.get(3)?;
                Ok(StageTag {
                    label: r.get(0)?,
                    cell_id: recorded.or_else(|| (!stored.starts_with("seq:")).then_some(stored)),
                    execution_count: r.get(4)?,
                    at: r.get(2)?,
                })
            },
        )?;
        Ok(TagsAnswer {
            trial: summary,
            variables,
            stages,
        })
    }
}
