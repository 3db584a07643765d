//! `provctl trials --user U --host H --notebook N --tag T --since/--until TIME`: which trials a
//! listing keeps. One definition for both stores: a team store turns them into SQL
//! (`team_trials.rs`), a local store applies them to its trial overviews here.

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use clap::Args;
use provstore::TrialOverview;

/// The filters of `provctl trials`.
#[derive(Args, Debug, Clone, Default, PartialEq, Eq)]
pub struct TrialFilters {
    /// Only the trials run by user U.
    #[arg(long, value_name = "U")]
    pub user: Option<String>,
    /// Only the trials run on host H.
    #[arg(long, value_name = "H")]
    pub host: Option<String>,
    /// Only the trials of a notebook whose path contains N.
    #[arg(long, value_name = "N")]
    pub notebook: Option<String>,
    /// Only the trials with a variable tagged T (%tag_var) or a stage labelled T.
    #[arg(long, value_name = "T")]
    pub tag: Option<String>,
    /// Only the trials started at or after TIME (2026-12-06, 2026-12-06T14:30, RFC 3339; UTC
    /// unless an offset is given).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub since: Option<String>,
    /// Only the trials started before TIME.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub until: Option<String>,
}

impl TrialFilters {
    /// Whether any filter is given.
    pub fn any(&self) -> bool {
        *self != TrialFilters::default()
    }

    /// The filters as flags again, for the hint that lists the page before.
    pub fn flags(&self) -> String {
        let pairs = [
            ("--user", &self.user),
            ("--host", &self.host),
            ("--notebook", &self.notebook),
            ("--tag", &self.tag),
            ("--since", &self.since),
            ("--until", &self.until),
        ];
        pairs
            .iter()
            .filter_map(|(flag, value)| {
                let value = value.as_deref()?;
                let quoted = if value
                    .chars()
                    .all(|c| c.is_alphanumeric() || "-_.:/".contains(c))
                {
                    value.to_string()
                } else {
                    format!("'{}'", value.replace('\'', "'\\''"))
                };
                Some(format!(" {flag} {quoted}"))
            })
            .collect()
    }

    /// Whether a local trial passes. Its tags are the variables tagged in it and their labels.
    pub fn keeps(&self, o: &TrialOverview) -> bool {
        let t = &o.trial;
        let started = parse_time(&t.started_at).ok();
        self.user
            .as_ref()
            .is_none_or(|u| t.user.as_deref() == Some(u.as_str()))
            && self.host.as_ref().is_none_or(|h| t.hostname == *h)
            && self.notebook.as_ref().is_none_or(|n| {
                t.notebook
                    .as_deref()
                    .is_some_and(|p| p.contains(n.as_str()))
            })
            && self.tag.as_ref().is_none_or(|tag| {
                o.tags
                    .iter()
                    .any(|g| g.name == *tag || g.label.as_deref() == Some(tag.as_str()))
            })
            && self
                .since
                .as_ref()
                .is_none_or(|s| started.as_ref().is_some_and(|at| at >= s))
            && self
                .until
                .as_ref()
                .is_none_or(|u| started.as_ref().is_some_and(|at| at < u))
    }
}

/// A time as the command line gives it, made RFC 3339 UTC with milliseconds (the store's own
/// form, so times compare as text): a date (midnight UTC), a date and time (UTC), or RFC 3339.
pub fn parse_time(text: &str) -> Result<String, String> {
    let text = text.trim();
    let utc = if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        at.with_timezone(&Utc)
    } else if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
    } else {
        [
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%d %H:%M:%S%.f",
            "%Y-%m-%d %H:%M",
        ]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .map(|t| t.and_utc())
        .ok_or_else(|| {
            format!(
                "{text:?} is not a time: write 2026-12-06, 2026-12-06T14:30 (UTC) or RFC 3339 \
                     (2026-12-06T14:30:00+01:00)"
            )
        })?
    };
    Ok(utc.to_rfc3339_opts(SecondsFormat::Millis, true))
}

/// A page of `trials` (oldest first): the latest `limit` with ids below `before`, and how many
/// older ones it leaves out.
pub fn page<T>(
    trials: Vec<T>,
    id: impl Fn(&T) -> i64,
    limit: usize,
    before: Option<i64>,
) -> (Vec<T>, usize) {
    let mut kept: Vec<T> = trials
        .into_iter()
        .filter(|t| before.is_none_or(|b| id(t) < b))
        .collect();
    let older = kept.len().saturating_sub(limit);
    (kept.split_off(older), older)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_become_the_stores_form_or_say_what_is_accepted() {
        assert_eq!(
            parse_time("2026-12-06").unwrap(),
            "2026-12-06T00:00:00.000Z"
        );
        assert_eq!(
            parse_time("2026-12-06T14:30").unwrap(),
            "2026-12-06T14:30:00.000Z"
        );
        assert_eq!(
            parse_time("2026-12-06T14:30:00+01:00").unwrap(),
            "2026-12-06T13:30:00.000Z"
        );
        let bad = parse_time("yesterday").unwrap_err();
        assert!(bad.contains("2026-12-06"), "{bad}");
    }

    #[test]
    fn a_page_is_the_latest_below_before_oldest_first() {
        let ids: Vec<i64> = (1..=10).collect();
        assert_eq!(page(ids.clone(), |i| *i, 3, None), (vec![8, 9, 10], 7));
        assert_eq!(page(ids.clone(), |i| *i, 3, Some(8)), (vec![5, 6, 7], 4));
        assert_eq!(page(ids, |i| *i, 30, Some(3)), (vec![1, 2], 0));
    }

    #[test]
    fn flags_repeat_the_filters_quoted() {
        let f = TrialFilters {
            user: Some("ana".into()),
            notebook: Some("my nb.ipynb".into()),
            ..TrialFilters::default()
        };
        assert!(f.any());
        assert_eq!(f.flags(), " --user ana --notebook 'my nb.ipynb'");
        assert!(!TrialFilters::default().any());
    }
}
