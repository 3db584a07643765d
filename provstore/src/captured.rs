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
mod tests {
    use super::*;
    use serde_json::json;

    fn scalar(t: &str, v: Value) -> CapturedValue {
        CapturedValue {
            type_name: t.into(),
            value: Some(v),
            summary: None,
            fingerprint: None,
        }
    }

    fn summarised(t: &str, s: Value) -> CapturedValue {
        CapturedValue {
            type_name: t.into(),
            value: None,
            summary: Some(s),
            fingerprint: None,
        }
    }

    fn array(sha: &str, mean: f64) -> CapturedValue {
        summarised(
            "numpy.ndarray",
            json!({"kind": "ndarray", "shape": [3], "dtype": "float64", "min": 0.0,
                   "max": 2.0, "mean": mean, "nan_count": 0, "sha256": sha, "sampled": false}),
        )
    }

    #[test]
    fn scalars_compare_by_value_and_type() {
        assert_eq!(
            scalar("float", json!(0.1)).same_as(&scalar("float", json!(0.1))),
            Some(true)
        );
        assert_eq!(
            scalar("float", json!(0.1)).same_as(&scalar("float", json!(0.2))),
            Some(false)
        );
        assert_eq!(
            scalar("int", json!(1)).same_as(&scalar("float", json!(1.0))),
            Some(false)
        );
    }

    #[test]
    fn summaries_compare_by_hash_and_unknowns_cannot_be_judged() {
        assert_eq!(array("aa", 1.0).same_as(&array("aa", 1.0)), Some(true));
        assert_eq!(array("aa", 1.0).same_as(&array("bb", 1.0)), Some(false));
        let bare = CapturedValue::from_columns("numpy.ndarray".into(), None, None);
        assert_eq!(bare.same_as(&array("aa", 1.0)), None);
        let failed = summarised("Foo", json!({"kind": "failed", "error": "ValueError: no"}));
        assert!(!failed.is_comparable());
        assert_eq!(failed.same_as(&failed.clone()), None);
    }

    fn fingerprinted(t: &str, sha: &str, sampled: bool) -> CapturedValue {
        CapturedValue::from_columns(t.into(), None, None)
            .with_fingerprint(Some(json!({"sha256": sha, "sampled": sampled}).to_string()))
    }

    #[test]
    fn fingerprints_compare_content_and_say_when_a_sample_decided() {
        let judge =
            |a: &CapturedValue, b: &CapturedValue| a.judge(b).map(|j| (j.same, j.by, j.sampled));
        let (a, b) = (
            fingerprinted("numpy.ndarray", "aa", false),
            fingerprinted("numpy.ndarray", "bb", false),
        );
        assert_eq!(judge(&a, &a), Some((true, "content", false)));
        assert_eq!(judge(&a, &b), Some((false, "content", false)));
        // A sampled hash that differs is a change; an equal one is flagged.
        let (sa, sb) = (
            fingerprinted("numpy.ndarray", "aa", true),
            fingerprinted("numpy.ndarray", "bb", true),
        );
        assert_eq!(judge(&sa, &sb), Some((false, "content", false)));
        assert_eq!(judge(&sa, &a), Some((true, "content", true)));
        // Other types, or a side without a fingerprint: not by content.
        let df = fingerprinted("pandas.DataFrame", "aa", false);
        assert_eq!(judge(&a, &df), Some((false, "type", false)));
        let bare = CapturedValue::from_columns("numpy.ndarray".into(), None, None);
        assert_eq!(judge(&a, &bare), None);
        // Summaries keep deciding when both sides have one.
        assert_eq!(
            judge(&array("s1", 1.0), &array("s1", 1.0)),
            Some((true, "summary", false))
        );
        let mut tagged = array("s1", 1.0);
        tagged.fingerprint = a.fingerprint.clone();
        assert_eq!(judge(&tagged, &a), Some((true, "content", false)));
        // Damaged fingerprint text is no fingerprint.
        let damaged = CapturedValue::from_columns("numpy.ndarray".into(), None, None)
            .with_fingerprint(Some(r#"{"sha256": 3}"#.into()));
        assert_eq!(damaged.fingerprint, None);
        assert_eq!(judge(&a, &damaged), None);
    }

    #[test]
    fn a_fingerprinted_value_shows_its_hash_beside_a_same_looking_one() {
        let a = fingerprinted("numpy.ndarray", "0123456789", false);
        let b = fingerprinted("numpy.ndarray", "abcdef0123", true);
        assert_eq!(a.one_line_against(&b, 60), "<ndarray> #01234567");
        assert_eq!(b.one_line_against(&a, 60), "<ndarray> #abcdef01 (sampled)");
        assert_eq!(a.one_line(60), "<ndarray>");
        let other = fingerprinted("pandas.DataFrame", "ff", false);
        assert_eq!(a.one_line_against(&other, 60), "<ndarray>");
    }

    #[test]
    fn damaged_columns_make_an_unknown_value() {
        let v = CapturedValue::from_columns("x".into(), Some("{not json".into()), Some("3".into()));
        assert_eq!(v.value, None);
        assert_eq!(v.summary, None);
        assert_eq!(v.shown(), Value::Null);
    }

    #[test]
    fn numbers_for_plots() {
        assert_eq!(
            scalar("float", json!(0.93)).number(Statistic::Mean, None),
            Some(0.93)
        );
        assert_eq!(
            scalar("bool", json!(true)).number(Statistic::Mean, None),
            Some(1.0)
        );
        assert_eq!(
            scalar("str", json!("a")).number(Statistic::Mean, None),
            None
        );
        assert_eq!(array("aa", 1.5).number(Statistic::Mean, None), Some(1.5));
        assert_eq!(array("aa", 1.5).number(Statistic::Max, None), Some(2.0));
        assert_eq!(array("aa", 1.5).number(Statistic::Len, None), Some(3.0));
        let df = summarised(
            "pandas.core.frame.DataFrame",
            json!({"kind": "dataframe", "shape": [10, 2], "columns": [
                {"name": "s", "dtype": "object"},
                {"name": "x", "dtype": "float64", "min": 1.0, "max": 4.0, "mean": 2.5, "nan_count": 0}],
                "sha256": "cc", "sampled": false}),
        );
        assert_eq!(df.number(Statistic::Mean, None), Some(2.5));
        assert_eq!(df.number(Statistic::Len, None), Some(10.0));
        assert_eq!(df.number(Statistic::Mean, Some("s")), None);
        let nan = summarised("numpy.ndarray", json!({"kind": "ndarray", "mean": "nan"}));
        assert_eq!(nan.number(Statistic::Mean, None), None);
    }

    #[test]
    fn one_line_reads_like_python() {
        assert_eq!(scalar("str", json!("adam")).one_line(40), "'adam'");
        assert_eq!(scalar("NoneType", Value::Null).one_line(40), "None");
        assert_eq!(scalar("tuple", json!([1, 2])).one_line(40), "(1, 2)");
        assert_eq!(
            array("aa", 1.0 / 3.0).one_line(60),
            "ndarray float64 (3,) mean 0.333333"
        );
        let model = summarised(
            "sklearn.linear_model._logistic.LogisticRegression",
            json!({"kind": "estimator", "class": "sklearn.linear_model.LogisticRegression",
                   "params": {"C": 0.1}, "fitted_sha256": null}),
        );
        assert_eq!(model.one_line(60), "LogisticRegression(C=0.1)");
        assert_eq!(
            CapturedValue::from_columns("mod.Thing".into(), None, None).one_line(60),
            "<Thing>"
        );
        assert_eq!(scalar("str", json!("abcdefgh")).one_line(5), "'abc…");
    }

    #[test]
    fn a_diff_line_points_at_what_differs() {
        let model = |c: f64, fitted: &str| {
            summarised(
                "sklearn.linear_model._logistic.LogisticRegression",
                json!({"kind": "estimator", "class": "sklearn.linear_model.LogisticRegression",
                       "params": {"C": c, "max_iter": 1000}, "fitted_sha256": fitted}),
            )
        };
        let (a, b) = (model(1.0, "aaaa1111"), model(0.01, "bbbb2222"));
        assert_eq!(a.one_line_against(&b, 60), "LogisticRegression(C=1.0)");
        assert_eq!(b.one_line_against(&a, 60), "LogisticRegression(C=0.01)");
        let (c, d) = (model(1.0, "aaaa1111"), model(1.0, "cccc3333"));
        assert_eq!(
            c.one_line_against(&d, 60),
            "LogisticRegression(…) #aaaa1111"
        );
        assert_eq!(
            array("0123456789", 1.0).one_line_against(&array("abcdef", 1.0), 60),
            "ndarray float64 (3,) mean 1 #01234567"
        );
        assert_eq!(
            array("01", 1.0).one_line_against(&array("ab", 2.0), 60),
            "ndarray float64 (3,) mean 1"
        );
        assert_eq!(scalar("float", json!(0.5)).one_line_against(&a, 60), "0.5");
    }

    #[test]
    fn brief_rounds_floats_only() {
        assert_eq!(
            scalar("float", json!(0.7777777777777778)).brief(20),
            "0.7778"
        );
        assert_eq!(scalar("float", json!(0.8)).brief(20), "0.8");
        // Never a whole-looking float for a fraction (it would read as another exact value).
        assert_eq!(scalar("float", json!(1234.5678)).brief(20), "1234.6");
        assert_eq!(scalar("float", json!(34288.403)).brief(20), "34288.4");
        assert_eq!(scalar("float", json!(34288.03)).brief(20), "34288.03");
        assert_eq!(scalar("float", json!(-99999.9999)).brief(20), "-99999.9999");
        assert_eq!(scalar("float", json!(34288.0)).brief(20), "34288.0");
        assert_eq!(scalar("float", json!(2.0e20)).brief(20), "2.000e20");
        assert_eq!(scalar("float", json!(1.0)).brief(20), "1.0");
        assert_eq!(scalar("float", json!(0.0)).brief(20), "0.0");
        assert_eq!(scalar("float", json!(0.000012345)).brief(20), "1.234e-5");
        assert_eq!(scalar("int", json!(123456789)).brief(20), "123456789");
        assert_eq!(scalar("str", json!("adam")).brief(20), "'adam'");
    }

    #[test]
    fn statistics_parse_by_name() {
        assert_eq!(Statistic::parse("max"), Ok(Statistic::Max));
        assert!(Statistic::parse("median")
            .unwrap_err()
            .contains("mean, min, max, len"));
        assert_eq!(Statistic::Len.name(), "len");
    }
}
