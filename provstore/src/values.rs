//! A variable's values across the trials of a store (`%var_values`, `provctl values`), its
//! evolution as one number per trial (`%var_evolution`, `provctl plot`), and the overview of
//! each trial with its tags and key values (`%trials`, `provctl trials`).
//!
//! All of it reads `captured_values` (joined to `executions` for the order and to
//! `variable_tags` for labels) and judges values only through [`CapturedValue`], so the
//! table, the plot and the diff agree on what a value is and which number it shows.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;

use crate::{CapturedValue, Result, Statistic, Store, StoreError, TrialSummary};

/// How wide a key value is in one line of the trial list.
const KEY_VALUE_WIDTH: usize = 24;

/// One captured value of a variable: a row of `provctl values --json`. The keys `trial`,
/// `execution_count`, `type` and `value` are a contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValueEntry {
    /// The trial's id.
    pub trial: i64,
    /// The trial's name, if it has one.
    pub trial_name: Option<String>,
    /// `In[n]` of the execution after which the value was captured.
    pub execution_count: Option<i64>,
    /// The execution's place in its trial (1, 2, 3…), which orders versions within a trial.
    pub seq: i64,
    /// When that execution started (RFC 3339 UTC).
    pub started_at: String,
    /// The Python type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// The scalar, the summary object, or null when only the type is known.
    pub value: Value,
    /// Whether the variable is tagged in that trial.
    pub tagged: bool,
    /// Its tag's label in that trial, if tagged with one.
    pub label: Option<String>,
    /// The value itself, for renderers (one line, plot number).
    #[serde(skip)]
    pub captured: CapturedValue,
}

/// A variable as one number per trial: the value each trial ended with, for a plot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evolution {
    /// The variable.
    pub variable: String,
    /// The statistic taken of arrays, series, tensors and dataframes (`mean`, `min`, `max`,
    /// `len`).
    pub statistic: &'static str,
    /// The dataframe column asked for, if any.
    pub column: Option<String>,
    /// Whether any point is a statistic of a summary rather than a number itself (the
    /// picture then names the statistic).
    pub summarised: bool,
    /// The trials that have a number, in order.
    pub points: Vec<EvolutionPoint>,
    /// The trials whose last value has no number, with why.
    pub skipped: Vec<SkippedTrial>,
}

/// A trial's final value of the variable, as a number.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvolutionPoint {
    /// The trial's id.
    pub trial: i64,
    /// The trial's name, if any.
    pub trial_name: Option<String>,
    /// `In[n]` of the execution that left the value.
    pub execution_count: Option<i64>,
    /// The number shown.
    pub value: f64,
    /// The Python type of the value.
    #[serde(rename = "type")]
    pub type_name: String,
}

/// A trial left out of a plot because its final value has no number.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SkippedTrial {
    /// The trial's id.
    pub trial: i64,
    /// The trial's name, if any.
    pub trial_name: Option<String>,
    /// `In[n]` of the execution that left the value.
    pub execution_count: Option<i64>,
    /// The Python type of the value.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Why there is no number, for the user.
    pub reason: String,
}

/// A value captured after one execution of a trial, as [`Store::trial_values`] lists them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrialValue {
    /// The store's id of the execution after which it was captured.
    pub execution_id: i64,
    /// The variable.
    pub name: String,
    /// Its type, scalar, summary and fingerprint.
    #[serde(flatten)]
    pub captured: CapturedValue,
}

/// A trial with what is tagged in it and the values its tagged variables ended with
/// (`%trials`, `provctl trials --json`: every key of [`TrialSummary`] plus `host` (the same as
/// `hostname`: the name the team store's trial list uses), `tags` and `key_values`).
#[derive(Debug, Clone, PartialEq)]
pub struct TrialOverview {
    /// The trial.
    pub trial: TrialSummary,
    /// Its tagged variables, in the order they were tagged.
    pub tags: Vec<TrialTag>,
    /// The last captured value of each tagged variable that has one, in tag order.
    pub key_values: Vec<KeyValue>,
}

/// A tagged variable of a trial, as the trial list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrialTag {
    /// The variable.
    pub name: String,
    /// Its label, if any.
    pub label: Option<String>,
}

/// The value a tagged variable ended a trial with.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyValue {
    /// The variable.
    pub name: String,
    /// The scalar, summary object or null ([`CapturedValue::shown`]).
    pub value: Value,
    /// The value in one short line ([`CapturedValue::one_line`]).
    pub text: String,
}

impl Serialize for TrialOverview {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        /// The JSON of an overview: `host` is a key of its own, not a field to keep equal.
        #[derive(Serialize)]
        struct Json<'a> {
            #[serde(flatten)]
            trial: &'a TrialSummary,
            host: &'a str,
            tags: &'a [TrialTag],
            key_values: &'a [KeyValue],
        }
        Json {
            trial: &self.trial,
            host: &self.trial.hostname,
            tags: &self.tags,
            key_values: &self.key_values,
        }
        .serialize(serializer)
    }
}

impl TrialOverview {
    /// The tags and key values in one compact line, `acc=0.93 C=0.1 df` (a tagged variable
    /// with no captured value by its name alone).
    pub fn compact(&self) -> String {
        self.tags
            .iter()
            .map(
                |t| match self.key_values.iter().find(|k| k.name == t.name) {
                    Some(k) => format!("{}={}", t.name, k.text),
                    None => t.name.clone(),
                },
            )
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl Store {
    /// Every captured value of `name`, across all trials: trial by trial (by id), and within a
    /// trial in the order the executions ran. A name with no captured value in any trial is
    /// [`StoreError::NoValues`], listing similar names that do have values.
    pub fn var_values(&self, name: &str) -> Result<Vec<ValueEntry>> {
        let entries = self.rows(
            "SELECT e.trial_id, t.name, e.execution_count, e.seq, e.started_at,
                        v.type_name, v.value_json, v.summary_json, g.name IS NOT NULL, g.label
                 FROM captured_values v
                 JOIN executions e ON e.id = v.execution_id
                 JOIN trials t ON t.id = e.trial_id
                 LEFT JOIN variable_tags g ON g.trial_id = e.trial_id AND g.name = v.name
                 WHERE v.name = ?1
                 ORDER BY e.trial_id, e.seq, v.id",
            [name],
            |r| {
                let captured = CapturedValue::from_columns(r.get(5)?, r.get(6)?, r.get(7)?);
                Ok(ValueEntry {
                    trial: r.get(0)?,
                    trial_name: r.get(1)?,
                    execution_count: r.get(2)?,
                    seq: r.get(3)?,
                    started_at: r.get(4)?,
                    type_name: captured.type_name.clone(),
                    value: captured.shown(),
                    tagged: r.get(8)?,
                    label: r.get(9)?,
                    captured,
                })
            },
        )?;
        if entries.is_empty() {
            return Err(self.no_values(name));
        }
        Ok(entries)
    }

    /// Every value captured in `trial`, in execution order (then in the order captured): one
    /// query whatever the trial's size. Unknown trial: [`StoreError::TrialNotFound`].
    pub fn trial_values(&self, trial: i64) -> Result<Vec<TrialValue>> {
        self.trial(trial)?;
        // A read-only store of schema 3 or 4 reads its fingerprints as NULL (a stand-in view).
        self.rows(
            "SELECT v.execution_id, v.name, v.type_name, v.value_json, v.summary_json,
                    v.fingerprint_json
             FROM executions e JOIN captured_values v ON v.execution_id = e.id
             WHERE e.trial_id = ?1 ORDER BY e.seq, v.id",
            [trial],
            |r| {
                Ok(TrialValue {
                    execution_id: r.get(0)?,
                    name: r.get(1)?,
                    captured: CapturedValue::from_columns(r.get(2)?, r.get(3)?, r.get(4)?)
                        .with_fingerprint(r.get(5)?),
                })
            },
        )
    }

    /// `name` as one number per trial, by `stat` (and `column` for dataframes): see
    /// [`evolution`]. Unknown names are [`StoreError::NoValues`].
    pub fn var_evolution(
        &self,
        name: &str,
        stat: Statistic,
        column: Option<&str>,
    ) -> Result<Evolution> {
        Ok(evolution(name, &self.var_values(name)?, stat, column))
    }

    /// Every trial ([`Store::trials`]) with its tags and the last captured value of each
    /// tagged variable. Three queries whatever the number of trials.
    pub fn trial_overviews(&self) -> Result<Vec<TrialOverview>> {
        self.overviews_of(self.trials()?)
    }

    /// [`Store::trial_overviews`] of `trials` (a run of consecutive ids, as
    /// [`Store::trials_page`] returns them): only their tags and values are read.
    pub(crate) fn overviews_of(&self, trials: Vec<TrialSummary>) -> Result<Vec<TrialOverview>> {
        let ids = (
            trials.first().map_or(0, |t| t.id),
            trials.last().map_or(-1, |t| t.id),
        );
        let mut tags: HashMap<i64, Vec<TrialTag>> = HashMap::new();
        let tag_rows = self.rows(
            "SELECT trial_id, name, label FROM variable_tags
             WHERE trial_id BETWEEN ?1 AND ?2 ORDER BY id",
            ids,
            |r| {
                let tag = TrialTag {
                    name: r.get(1)?,
                    label: r.get(2)?,
                };
                Ok((r.get::<_, i64>(0)?, tag))
            },
        )?;
        for (trial, tag) in tag_rows {
            tags.entry(trial).or_default().push(tag);
        }
        // The last value of each tagged name in its trial: every capture of a name tagged
        // somewhere is read once (through the index by name) and the latest per trial kept
        // (SQLite takes the bare columns from the row with the MAX). Walking each trial's
        // executions backwards instead costs the whole trial for a tag never captured.
        let captures = self.rows(
            &format!(
                "SELECT e.trial_id, v.name, v.type_name, v.value_json, v.summary_json,
                        MAX(e.seq * 4294967296 + v.id)
                 FROM ({}) v
                 JOIN executions e ON e.id = v.execution_id
                 WHERE e.trial_id BETWEEN ?1 AND ?2
                   AND EXISTS (SELECT 1 FROM variable_tags g
                               WHERE g.trial_id = e.trial_id AND g.name = v.name)
                 GROUP BY e.trial_id, v.name",
                crate::shared_lists::values_named(
                    "(SELECT DISTINCT name FROM variable_tags WHERE trial_id BETWEEN ?1 AND ?2) n"
                )
            ),
            ids,
            |r| {
                let captured = CapturedValue::from_columns(r.get(2)?, r.get(3)?, r.get(4)?);
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, captured))
            },
        )?;
        let mut values: HashMap<(i64, String), KeyValue> = HashMap::new();
        for (trial, name, captured) in captures {
            let value = KeyValue {
                name: name.clone(),
                value: captured.shown(),
                text: captured.brief(KEY_VALUE_WIDTH),
            };
            values.insert((trial, name), value);
        }
        Ok(trials
            .into_iter()
            .map(|trial| {
                let tags = tags.remove(&trial.id).unwrap_or_default();
                let key_values = tags
                    .iter()
                    .filter_map(|t| values.remove(&(trial.id, t.name.clone())))
                    .collect();
                TrialOverview {
                    trial,
                    tags,
                    key_values,
                }
            })
            .collect())
    }

    /// The error for a name with no captured value: the captured names most like it.
    fn no_values(&self, name: &str) -> StoreError {
        let names = (|| -> rusqlite::Result<Vec<String>> {
            let mut stmt = self
                .conn
                .prepare_cached("SELECT DISTINCT name FROM captured_values")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect()
        })()
        .unwrap_or_default();
        StoreError::NoValues {
            name: name.to_string(),
            similar: pyflow::similar_names(name, names.iter().map(String::as_str)),
        }
    }
}

/// One number per trial from `entries` (as [`Store::var_values`] returns them, in order):
/// each trial's last value, as [`CapturedValue::number`] reads it with `stat` and `column`.
/// A trial whose last value has no such number is listed in `skipped` with the reason.
pub fn evolution(
    name: &str,
    entries: &[ValueEntry],
    stat: Statistic,
    column: Option<&str>,
) -> Evolution {
    let mut last: Vec<&ValueEntry> = Vec::new();
    for entry in entries {
        match last.last_mut() {
            Some(prev) if prev.trial == entry.trial => *prev = entry,
            _ => last.push(entry),
        }
    }
    let mut points = Vec::new();
    let mut skipped = Vec::new();
    let mut summarised = false;
    for entry in last {
        let v = &entry.captured;
        match v.number(stat, column) {
            Some(value) => {
                summarised |= v.value.is_none();
                points.push(EvolutionPoint {
                    trial: entry.trial,
                    trial_name: entry.trial_name.clone(),
                    execution_count: entry.execution_count,
                    value,
                    type_name: entry.type_name.clone(),
                });
            }
            None => skipped.push(SkippedTrial {
                trial: entry.trial,
                trial_name: entry.trial_name.clone(),
                execution_count: entry.execution_count,
                type_name: entry.type_name.clone(),
                reason: no_number_reason(v, stat, column),
            }),
        }
    }
    Evolution {
        variable: name.to_string(),
        statistic: stat.name(),
        column: column.map(str::to_string),
        summarised,
        points,
        skipped,
    }
}

/// Why a value has no number to plot, and where it helps, what to ask for instead.
fn no_number_reason(v: &CapturedValue, stat: Statistic, column: Option<&str>) -> String {
    if v.value.is_some() {
        return format!("not a number: {}", v.one_line(40));
    }
    match v.kind() {
        None => format!(
            "only its type ({}) was recorded: tag it with %tag_var before the cell that sets \
             it runs, to record a summary",
            v.type_name
        ),
        Some("failed") => "its summary failed when it was captured".into(),
        Some("dataframe") if column.is_some() && stat != Statistic::Len => format!(
            "no numeric column {:?} with a {}",
            column.unwrap_or_default(),
            stat.name()
        ),
        Some("collection") => format!(
            "a {} has no {}: try --stat len",
            v.type_name.rsplit('.').next().unwrap_or(&v.type_name),
            stat.name()
        ),
        Some(kind) => format!("no {} in its {kind} summary", stat.name()),
    }
}
