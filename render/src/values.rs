//! A variable's values across trials (`%var_values`, `provctl values`): one row per captured
//! value, trial by trial and in execution order within a trial, and the trial list with each
//! trial's tags and key values (`%trials`, `provctl trials`).

use provstore::{TrialOverview, ValueEntry};

use crate::table::{Cell, Table};
use crate::{plural, to_json, Rendered};

/// How wide a value is in the table.
const VALUE_WIDTH: usize = 60;

/// How a trial is named in tables and on the plot's axis: its name, else `#id`.
pub(crate) fn trial_label(id: i64, name: Option<&str>) -> String {
    match name {
        Some(name) => name.to_string(),
        None => format!("#{id}"),
    }
}

/// Every captured value of `variable` (`%var_values`, `provctl values`). JSON: the array of
/// entries, each `{"trial", "execution_count", "type", "value", …}` (the `provctl values
/// --json` contract).
pub fn render_var_values(variable: &str, entries: &[ValueEntry]) -> Rendered {
    let json = to_json(&entries);
    let (title, table) = values_view(variable, entries);
    crate::titled_table(&title, table).rendered(json)
}

/// The text alone of [`render_var_values`], for provctl: a team store's values of a name run to
/// hundreds of thousands, and the HTML and JSON nobody reads there cost as much as the text.
pub fn var_values_text(variable: &str, entries: &[ValueEntry]) -> String {
    let (title, table) = values_view(variable, entries);
    crate::titled_table(&title, table).text()
}

fn values_view(variable: &str, entries: &[ValueEntry]) -> (String, Table) {
    let mut trials: Vec<i64> = entries.iter().map(|e| e.trial).collect();
    trials.dedup();
    let title = format!(
        "{variable}: {} in {}",
        plural(entries.len(), "value"),
        plural(trials.len(), "trial")
    );
    let mut table = Table::new(&["trial", "name", "execution", "type", "value", "tag"]);
    for e in entries {
        let tag = match (&e.label, e.tagged) {
            (Some(label), _) => Some(label.clone()),
            (None, true) => Some("tagged".to_string()),
            (None, false) => None,
        };
        table.push(vec![
            Cell::number(e.trial),
            Cell::opt(e.trial_name.as_deref()),
            Cell::opt(e.execution_count.map(|n| format!("In[{n}]")).as_deref()),
            Cell::plain(short_type(&e.type_name)),
            Cell::output(e.captured.one_line(VALUE_WIDTH)),
            Cell::opt(tag.as_deref()),
        ]);
    }
    (title, table)
}

/// `pandas.core.frame.DataFrame` → `DataFrame`.
fn short_type(type_name: &str) -> String {
    type_name
        .rsplit('.')
        .next()
        .unwrap_or(type_name)
        .to_string()
}

/// The trials with their tags and key values (`%trials`, `provctl trials`): the trial list
/// with a `tags / key values` column (`acc=0.93 C=0.1`). `current` marks the asking kernel's
/// trial. JSON: the array of overviews (every trial key, plus `tags` and `key_values`).
pub fn render_trial_overviews(overviews: &[TrialOverview], current: Option<i64>) -> Rendered {
    let mut rendered =
        crate::render_trials_with(&summaries(overviews), current, &compact(overviews));
    rendered.json = to_json(&overviews);
    rendered
}

/// The text alone of [`render_trial_overviews`], for provctl.
pub fn trial_overviews_text(overviews: &[TrialOverview], current: Option<i64>) -> String {
    crate::trials_text_with(&summaries(overviews), current, &compact(overviews))
}

fn summaries(overviews: &[TrialOverview]) -> Vec<provstore::TrialSummary> {
    overviews.iter().map(|o| o.trial.clone()).collect()
}

fn compact(overviews: &[TrialOverview]) -> Vec<String> {
    overviews.iter().map(TrialOverview::compact).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::assert_shows;
    use provstore::{CapturedValue, KeyValue, TrialTag};
    use serde_json::json;

    fn entry(
        trial: i64,
        n: i64,
        ty: &str,
        value: Option<&str>,
        summary: Option<&str>,
    ) -> ValueEntry {
        let captured = CapturedValue::from_columns(
            ty.into(),
            value.map(String::from),
            summary.map(String::from),
        );
        ValueEntry {
            trial,
            trial_name: (trial == 1).then(|| "lr=0.1".to_string()),
            execution_count: Some(n),
            seq: n,
            started_at: "2026-11-21T16:30:02.630Z".into(),
            type_name: ty.into(),
            value: captured.shown(),
            tagged: trial == 1,
            label: (trial == 1).then(|| "metric".to_string()),
            captured,
        }
    }

    #[test]
    fn values_table_lists_every_version() {
        let entries = vec![
            entry(1, 3, "float", Some("0.5"), None),
            entry(1, 5, "float", Some("0.75"), None),
            entry(
                2,
                2,
                "numpy.ndarray",
                None,
                Some(r#"{"kind":"ndarray","shape":[3],"dtype":"float64","mean":1}"#),
            ),
        ];
        let r = render_var_values("acc", &entries);
        assert!(
            r.text.starts_with("acc: 3 values in 2 trials\n"),
            "{}",
            r.text
        );
        assert_shows(
            &r.text,
            &["In[5]", "0.75", "ndarray float64 (3,) mean 1", "metric"],
        );
        assert_shows(&r.html, &["lr=0.1"]);
        assert_eq!(r.json[1]["value"], json!(0.75));
        assert_eq!(r.json[2]["type"], "numpy.ndarray");
        assert_eq!(r.json[2]["value"]["kind"], "ndarray");
        assert_eq!(r.json[0]["trial"], 1);
        // provctl's text alone is the same text.
        assert_eq!(var_values_text("acc", &entries), r.text);
    }

    #[test]
    fn trial_list_gains_tags_and_key_values() {
        let overview = TrialOverview {
            trial: crate::tests::trial(1, Some("base")),
            tags: vec![
                TrialTag {
                    name: "acc".into(),
                    label: Some("metric".into()),
                },
                TrialTag {
                    name: "df".into(),
                    label: None,
                },
            ],
            key_values: vec![KeyValue {
                name: "acc".into(),
                value: json!(0.93),
                text: "0.93".into(),
            }],
        };
        let r = render_trial_overviews(std::slice::from_ref(&overview), Some(1));
        assert_shows(&r.text, &["tags / key values", "acc=0.93 df"]);
        assert_shows(&r.html, &["acc=0.93 df"]);
        assert_eq!(r.json[0]["id"], 1);
        assert_eq!(r.json[0]["key_values"][0]["value"], json!(0.93));
        assert_eq!(trial_overviews_text(&[overview], Some(1)), r.text);
    }

    #[test]
    fn trial_list_says_who_ran_each_trial_and_where() {
        let mut old = crate::tests::trial(2, None);
        old.user = None;
        let overviews: Vec<TrialOverview> = [crate::tests::trial(1, None), old]
            .into_iter()
            .map(|trial| TrialOverview {
                trial,
                tags: vec![],
                key_values: vec![],
            })
            .collect();
        let r = render_trial_overviews(&overviews, None);
        assert_shows(&r.text, &["by", "ada@box"]);
        assert_shows(&r.html, &["ada@box"]);
        let json = &r.json[0];
        assert_eq!(
            (&json["uuid"], &json["user"], &json["host"]),
            (
                &json!("00000000-0000-4000-8000-000000000001"),
                &json!("ada"),
                &json!("box")
            )
        );
        assert_eq!(
            (&r.json[1]["user"], &r.json[1]["host"]),
            (&json!(null), &json!("box"))
        );
        let second = r.text.lines().find(|l| l.starts_with(" 2 ")).unwrap();
        assert!(
            second.trim_end().ends_with("box") && !second.contains('@'),
            "{second}"
        );
    }
}
