//! A value as the runtime probe captured it after an execution (a row of `captured_values`),
//! and the few rules every reader applies to it: when two captures are the same value, which
//! number a plot shows for it, how it reads in one line. The diff, the value table and the
//! evolution plot all go through here, so they never disagree about a value.
//!
//! # Summary objects
//!
//! A scalar (int, float, bool, None, short str, small tuple of these) is stored as its JSON
//! value. A tagged variable that is not a scalar gets a summary object, `{"kind": …}`:
//!
//! | kind | fields |
//! | --- | --- |
//! | `ndarray` | `shape`, `dtype`, `nbytes`, `min`, `max`, `mean`, `nan_count`, `sha256`, `sampled` |
//! | `dataframe` | `shape`, `columns` (`[{name, dtype, min, max, mean, nan_count}]`), `sha256`, `sampled` |
//! | `series` | `shape`, `name`, `dtype`, `min`, `max`, `mean`, `nan_count`, `sha256`, `sampled` |
//! | `tensor` | `library`, `shape`, `dtype`, `device`, `min`, `max`, `mean`, `sha256`, `sampled` |
//! | `collection` | `type` (`list`, `dict`, …), `length`, `sha256`, `sampled` |
//! | `estimator` | `class`, `params`, `fitted_sha256` |
//! | `object` | `repr` (at most 200 characters), `truncated` |
//! | `failed` | `error`: the summary raised; the value is unknown |
//!
//! `sampled: true` marks an object over the probe's size limit: its hash and statistics come
//! from a bounded sample, so two such values with equal hashes are very likely, not surely,
//! the same.
//!
//! # Fingerprints
//!
//! Every array, DataFrame, Series, tensor and estimator a cell binds, tagged or not, gets a
//! fingerprint (`fingerprint_json`): `{"sha256", "sampled"}`, a hash of its content (an
//! estimator's: class, parameters and fitted attributes), from a sample over the probe's
//! fingerprint limit (16 MiB). A cell that spends its fingerprint budget leaves the rest
//! without one. Two values known by fingerprint only are compared by it (`content`); a
//! value with neither summary nor fingerprint is judged by its dependencies.

use serde::Serialize;
use serde_json::Value;

mod numbers;

use numbers::{format_number, round_significant};

/// One captured value: its type, and its scalar value or summary when the probe took one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CapturedValue {
    /// The Python type, `module.Qualname` (`int` and other builtins without module).
    #[serde(rename = "type")]
    pub type_name: String,
    /// The value itself, for scalars.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    /// The summary object, for tagged values that are not scalars (see the module docs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<Value>,
    /// The content fingerprint, `{"sha256", "sampled"}`, of an array, frame, tensor or
    /// estimator (see the module docs); only the trial diff reads it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<Value>,
}

/// How two captures compared ([`CapturedValue::judge`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Judgement {
    /// Whether they hold the same value.
    pub same: bool,
    /// What decided: `type` (different types), `value` (scalars), `summary` (summaries'
    /// hashes) or `content` (fingerprints).
    pub by: &'static str,
    /// Equal by hashes of which at least one covered a sample only: very likely, not surely,
    /// the same.
    pub sampled: bool,
}

/// Which number of a value a plot shows: the value itself for a number, else a statistic of
/// its summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Statistic {
    /// The mean (the default).
    #[default]
    Mean,
    /// The smallest element.
    Min,
    /// The largest element.
    Max,
    /// The number of elements (rows of a dataframe, length of a collection).
    Len,
}

impl Statistic {
    /// Every statistic with its name, as `--stat` accepts them.
    pub const ALL: [(&'static str, Statistic); 4] = [
        ("mean", Statistic::Mean),
        ("min", Statistic::Min),
        ("max", Statistic::Max),
        ("len", Statistic::Len),
    ];

    /// The statistic called `name`, or a message listing the valid names.
    pub fn parse(name: &str) -> Result<Statistic, String> {
        Statistic::ALL
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, s)| *s)
            .ok_or_else(|| {
                let names: Vec<&str> = Statistic::ALL.iter().map(|(n, _)| *n).collect();
                format!(
                    "unknown statistic {name:?}: use one of {}",
                    names.join(", ")
                )
            })
    }

    /// Its name, as `--stat` takes it.
    pub fn name(self) -> &'static str {
        Statistic::ALL
            .iter()
            .find(|(_, s)| *s == self)
            .map(|(n, _)| *n)
            .unwrap_or("mean")
    }
}

impl CapturedValue {
    /// A value from the columns of `captured_values`: text that is not valid JSON is ignored
    /// (the value then counts as unknown), so a damaged row never stops a query.
    pub fn from_columns(
        type_name: String,
        value_json: Option<String>,
        summary_json: Option<String>,
    ) -> CapturedValue {
        let parse = |text: Option<String>| text.and_then(|t| serde_json::from_str(&t).ok());
        CapturedValue {
            type_name,
            value: parse(value_json),
            summary: parse(summary_json).filter(|s: &Value| s.is_object()),
            fingerprint: None,
        }
    }

    /// The same value with the fingerprint of column `fingerprint_json`: text that is not a
    /// JSON object with a string `sha256` is ignored.
    pub fn with_fingerprint(mut self, fingerprint_json: Option<String>) -> CapturedValue {
        self.fingerprint = fingerprint_json
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .filter(|f| f.get("sha256").is_some_and(Value::is_string));
        self
    }

    /// The fingerprint's hash and whether it covers a sample only.
    fn content_hash(&self) -> Option<(&str, bool)> {
        let f = self.fingerprint.as_ref()?;
        let sampled = f.get("sampled").and_then(Value::as_bool).unwrap_or(true);
        Some((f.get("sha256")?.as_str()?, sampled))
    }

    /// What `provctl values` shows as `value`: the scalar, else the summary, else null.
    pub fn shown(&self) -> Value {
        self.value
            .clone()
            .or_else(|| self.summary.clone())
            .unwrap_or(Value::Null)
    }

    /// The summary's `kind`, if there is a summary.
    pub fn kind(&self) -> Option<&str> {
        self.summary.as_ref()?.get("kind")?.as_str()
    }

    /// Whether the content is known well enough to compare: a scalar, or a summary that did
    /// not fail.
    pub fn is_comparable(&self) -> bool {
        self.value.is_some() || (self.summary.is_some() && self.kind() != Some("failed"))
    }

    /// Whether two captures hold the same value: `Some(true)` or `Some(false)` when both are
    /// comparable, `None` when either is not (only the type was captured, or its summary
    /// failed) and the content cannot be judged. Different types are always different.
    pub fn same_as(&self, other: &CapturedValue) -> Option<bool> {
        self.judge(other).map(|j| j.same)
    }

    /// [`same_as`](Self::same_as), saying what decided: the types when they differ, the
    /// scalar values or summaries when both are comparable, else both sides' content
    /// fingerprints (an untagged array or model). None when nothing of the content is known
    /// on both sides. Two fingerprints that differ are different values even when sampled;
    /// equal ones of which one is sampled are `sampled`.
    pub fn judge(&self, other: &CapturedValue) -> Option<Judgement> {
        let judged =
            |same: bool, by: &'static str, sampled: bool| Some(Judgement { same, by, sampled });
        if self.type_name != other.type_name {
            return judged(false, "type", false);
        }
        if self.is_comparable() && other.is_comparable() {
            match (&self.value, &other.value) {
                (Some(a), Some(b)) => return judged(a == b, "value", false),
                (Some(_), None) | (None, Some(_)) => return judged(false, "value", false),
                (None, None) => {}
            }
            let (a, b) = (self.summary.as_ref()?, other.summary.as_ref()?);
            let same = fingerprint(a) == fingerprint(b);
            let sampled = [a, b]
                .iter()
                .any(|s| s.get("sampled").and_then(Value::as_bool) == Some(true));
            return judged(same, "summary", same && sampled);
        }
        let ((a, a_sampled), (b, b_sampled)) = (self.content_hash()?, other.content_hash()?);
        judged(a == b, "content", a == b && (a_sampled || b_sampled))
    }

    /// The number a plot shows for this value: a number (or bool) as itself; an array,
    /// series or tensor by `stat` of its summary; a dataframe by `stat` of its first numeric
    /// column (or `column` when given; `len` is its row count); a collection's length for
    /// `len`. None when there is no such number.
    pub fn number(&self, stat: Statistic, column: Option<&str>) -> Option<f64> {
        if let Some(v) = &self.value {
            return match v {
                Value::Bool(b) => Some(f64::from(u8::from(*b))),
                Value::Number(n) => n.as_f64(),
                _ => None,
            };
        }
        let summary = self.summary.as_ref()?;
        let first_dim = || summary.get("shape")?.get(0)?.as_f64();
        match (self.kind()?, stat) {
            ("collection", Statistic::Len) => summary.get("length")?.as_f64(),
            ("ndarray" | "series" | "tensor", Statistic::Len) => first_dim(),
            ("ndarray" | "series" | "tensor", _) => finite(summary.get(stat.name())?),
            ("dataframe", Statistic::Len) => first_dim(),
            ("dataframe", _) => {
                let columns = summary.get("columns")?.as_array()?;
                let column = match column {
                    Some(name) => columns.iter().find(|c| column_name(c) == Some(name))?,
                    None => columns.iter().find(|c| c.get(stat.name()).is_some())?,
                };
                finite(column.get(stat.name())?)
            }
            _ => None,
        }
    }

    /// The value in one line, at most about `width` characters: `0.93`, `'adam'`,
    /// `ndarray float64 (100, 3) mean 0.49`, `DataFrame (150, 5)`, `list of 12`,
    /// `LogisticRegression(C=0.1)`, or the type alone when nothing more is known.
    pub fn one_line(&self, width: usize) -> String {
        let text = match (&self.value, &self.summary) {
            (Some(v), _) => python_literal(v),
            (None, Some(s)) => summary_line(&self.type_name, s),
            (None, None) => format!("<{}>", short_type(&self.type_name)),
        };
        truncate(&text, width)
    }

    /// Like [`one_line`](Self::one_line), but pointing at what differs from `other`, for a
    /// diff's two columns: an estimator shows only the parameters whose values differ
    /// (`LogisticRegression(C=0.01)`), and two summaries that would read the same get the
    /// start of their content hash (`ndarray float64 (3,) mean 1 #3fa2c1d0`).
    pub fn one_line_against(&self, other: &CapturedValue, width: usize) -> String {
        let (Some(mine), Some(_)) = (&self.summary, &other.summary) else {
            return self.fingerprint_line_against(other, width);
        };
        let mut text = self.text_against(other);
        if text == other.text_against(self) {
            let hash = ["sha256", "fitted_sha256"]
                .iter()
                .find_map(|k| mine.get(*k).and_then(Value::as_str));
            if let Some(h) = hash {
                text = format!("{text} #{}", h.chars().take(8).collect::<String>());
            }
        }
        truncate(&text, width)
    }

    /// The line of a value known by its fingerprint: `<ndarray> #3fa2c1d0` when the other
    /// side's reads the same (`(sampled)` when the hash covers a sample only).
    fn fingerprint_line_against(&self, other: &CapturedValue, width: usize) -> String {
        let text = self.one_line(usize::MAX);
        match (self.content_hash(), other.content_hash()) {
            (Some((hash, sampled)), Some(_)) if text == other.one_line(usize::MAX) => {
                let short: String = hash.chars().take(8).collect();
                let sampled = if sampled { " (sampled)" } else { "" };
                truncate(&format!("{text} #{short}{sampled}"), width)
            }
            _ => truncate(&text, width),
        }
    }

    /// An estimator summary's parameters.
    fn estimator_params(&self) -> Option<&serde_json::Map<String, Value>> {
        if self.kind() != Some("estimator") {
            return None;
        }
        self.summary.as_ref()?.get("params")?.as_object()
    }

    /// The uncut line of [`one_line_against`](Self::one_line_against), before any hash.
    fn text_against(&self, other: &CapturedValue) -> String {
        let (Some(a), Some(b)) = (self.estimator_params(), other.estimator_params()) else {
            return self.one_line(usize::MAX);
        };
        let differing: Vec<String> = a
            .iter()
            .filter(|(k, v)| b.get(*k) != Some(*v))
            .map(|(k, v)| format!("{k}={}", python_literal(v)))
            .collect();
        let class = short_type(&self.type_name);
        if differing.is_empty() {
            format!("{class}(…)")
        } else {
            format!("{class}({})", differing.join(", "))
        }
    }

    /// Like [`one_line`](Self::one_line), with a float scalar rounded to 4 significant digits
    /// (`accuracy=0.7778`), or more where 4 would make a fraction look whole (`34288.4`, not
    /// `34288.0`): for compact lists such as a trial's key values, where the full value is one
    /// `provctl values` away.
    pub fn brief(&self, width: usize) -> String {
        match &self.value {
            Some(Value::Number(n)) if n.is_f64() => {
                truncate(&round_significant(n.as_f64().unwrap_or(f64::NAN), 4), width)
            }
            _ => self.one_line(width),
        }
    }
}

/// What decides equality of two summaries: the content hash with shape and type where
/// there is one, the whole summary otherwise.
fn fingerprint(summary: &Value) -> Value {
    let get = |k: &str| summary.get(k).cloned().unwrap_or(Value::Null);
    match summary.get("kind").and_then(Value::as_str) {
        Some("estimator") => serde_json::json!([get("class"), get("params"), get("fitted_sha256")]),
        _ if summary.get("sha256").is_some() => {
            serde_json::json!([
                get("kind"),
                get("shape"),
                get("dtype"),
                get("length"),
                get("sha256")
            ])
        }
        _ => summary.clone(),
    }
}

/// A JSON number as f64, or None for the strings the probe writes for NaN and infinities.
fn finite(v: &Value) -> Option<f64> {
    v.as_f64().filter(|x| x.is_finite())
}

fn column_name(column: &Value) -> Option<&str> {
    column.get("name")?.as_str()
}

/// `pandas.core.frame.DataFrame` → `DataFrame`.
fn short_type(type_name: &str) -> &str {
    type_name.rsplit('.').next().unwrap_or(type_name)
}

/// A scalar as Python would write it, so values read the same in every view.
fn python_literal(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(python_literal).collect();
            if inner.len() == 1 {
                format!("({},)", inner[0])
            } else {
                format!("({})", inner.join(", "))
            }
        }
        Value::Object(_) => v.to_string(),
    }
}

/// A summary in one line.
fn summary_line(type_name: &str, s: &Value) -> String {
    let field = |k: &str| s.get(k);
    let shape = || {
        field("shape")
            .and_then(Value::as_array)
            .map(|dims| {
                let dims: Vec<String> = dims.iter().map(Value::to_string).collect();
                if dims.len() == 1 {
                    format!("({},)", dims[0])
                } else {
                    format!("({})", dims.join(", "))
                }
            })
            .unwrap_or_default()
    };
    let number = |k: &str| {
        field(k).map(|v| match v.as_f64() {
            Some(x) => format_number(x),
            None => v.as_str().unwrap_or("?").to_string(),
        })
    };
    let sampled = if field("sampled").and_then(Value::as_bool) == Some(true) {
        " (sampled)"
    } else {
        ""
    };
    let short = short_type(type_name);
    match field("kind").and_then(Value::as_str).unwrap_or("") {
        "ndarray" | "series" | "tensor" => {
            let dtype = field("dtype").and_then(Value::as_str).unwrap_or("?");
            let mean = number("mean")
                .map(|m| format!(" mean {m}"))
                .unwrap_or_default();
            format!("{short} {dtype} {}{mean}{sampled}", shape())
        }
        "dataframe" => format!("{short} {}{sampled}", shape()),
        "collection" => {
            let length = field("length").map(Value::to_string).unwrap_or_default();
            format!("{short} of {length}{sampled}")
        }
        "estimator" => {
            let params = field("params").and_then(Value::as_object);
            let params: Vec<String> = params
                .map(|p| {
                    p.iter()
                        .map(|(k, v)| format!("{k}={}", python_literal(v)))
                        .collect()
                })
                .unwrap_or_default();
            format!("{short}({})", params.join(", "))
        }
        "object" => field("repr")
            .and_then(Value::as_str)
            .unwrap_or(short)
            .to_string(),
        "failed" => format!("<{short}: summary failed>"),
        _ => format!("<{short}>"),
    }
}

/// At most `width` characters, with `…` where it was cut.
fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests;
