//! `provctl trials` on a team store: one page of everyone's trials, filtered, read in
//! PostgreSQL (`prov_trials`, and `prov_values` for the page's tagged values) and returned as
//! the same `TrialOverview`s a local store gives, so the same renderer and JSON answer.

use std::collections::HashMap;

use provstore::{CapturedValue, KeyValue, TrialOverview, TrialStatus, TrialSummary, TrialTag};
use provteam::postgres::types::ToSql;
use provteam::postgres::{self, Client};
use provteam::TeamError;

use crate::filters::TrialFilters;

/// How wide a key value is in one line of the trial list (the local list's width).
const KEY_VALUE_WIDTH: usize = 24;

/// A timestamp column as the local store writes times: RFC 3339 UTC with milliseconds.
pub(crate) fn utc_text(column: &str) -> String {
    format!("to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')")
}

/// The page of team trials that `filters` keep: the latest `limit` with ids below `before`,
/// oldest first, and how many older ones the filters keep too. Two queries on the trials
/// (both on an index: by id, or by the filtered column) and one on the page's values.
pub fn page(
    client: &mut Client,
    filters: &TrialFilters,
    limit: Option<usize>,
    before: Option<i64>,
) -> Result<(Vec<TrialOverview>, usize), TeamError> {
    page_of(client, filters, limit, before).map_err(|source| TeamError::Postgres {
        action: "list the trials".into(),
        source,
    })
}

fn page_of(
    client: &mut Client,
    filters: &TrialFilters,
    limit: Option<usize>,
    before: Option<i64>,
) -> Result<(Vec<TrialOverview>, usize), postgres::Error> {
    let (conditions, mut params) = conditions(filters);
    let before = before.unwrap_or(i64::MAX);
    let limit = limit.map_or(i64::MAX, |l| i64::try_from(l).unwrap_or(i64::MAX));
    let n = params.len();
    params.push(Box::new(before));
    params.push(Box::new(limit));
    let sql = format!(
        "SELECT id, uuid, name, status, {}, {}, user_name, host, notebook, cwd, python_version,
                executions, ipykernel_version, platform, pid
         FROM prov_trials WHERE {conditions} AND id < ${} ORDER BY id DESC LIMIT ${}",
        utc_text("started_at"),
        utc_text("ended_at"),
        n + 1,
        n + 2,
    );
    let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_ref()).collect();
    let mut trials = client
        .query(&sql, &refs)?
        .iter()
        .map(summary_from_row)
        .collect::<Vec<_>>();
    trials.reverse();
    let first = trials.first().map_or(before, |t| t.id);
    params[n] = Box::new(first);
    let count_sql = format!(
        "SELECT COUNT(*) FROM prov_trials WHERE {conditions} AND id < ${}",
        n + 1
    );
    let refs: Vec<&(dyn ToSql + Sync)> = params[..=n].iter().map(|p| p.as_ref()).collect();
    let older: i64 = client.query_one(&count_sql, &refs)?.get(0);
    let overviews = overviews(client, trials)?;
    Ok((overviews, usize::try_from(older).unwrap_or(0)))
}

/// The SQL condition of the filters, with its parameters ($1, $2… in order).
fn conditions(filters: &TrialFilters) -> (String, Vec<Box<dyn ToSql + Sync>>) {
    let mut sql = vec!["TRUE".to_string()];
    let mut params: Vec<Box<dyn ToSql + Sync>> = Vec::new();
    let mut add = |template: &str, value: &Option<String>| {
        if let Some(v) = value {
            params.push(Box::new(v.clone()));
            sql.push(template.replace("$?", &format!("${}", params.len())));
        }
    };
    add("user_name = $?", &filters.user);
    add("host = $?", &filters.host);
    add("strpos(notebook, $?) > 0", &filters.notebook);
    add("tags @> ARRAY[$?::text]", &filters.tag);
    add("started_at >= $?::text::timestamptz", &filters.since);
    add("started_at < $?::text::timestamptz", &filters.until);
    (sql.join(" AND "), params)
}

/// A `prov_trials` row (the columns `page` selects) as a trial summary.
fn summary_from_row(r: &postgres::Row) -> TrialSummary {
    let status: String = r.get(3);
    TrialSummary {
        id: r.get(0),
        uuid: r.get(1),
        name: r.get(2),
        started_at: r.get(4),
        ended_at: r.get(5),
        status: status.parse().unwrap_or(TrialStatus::Crashed),
        user: r.get(6),
        hostname: r.get(7),
        notebook: r.get(8),
        cwd: r.get::<_, Option<String>>(9).unwrap_or_default(),
        python_version: r.get(10),
        executions: i64::from(r.get::<_, i32>(11)),
        ipykernel_version: r.get(12),
        platform: r.get::<_, Option<String>>(13).unwrap_or_default(),
        pid: r.get::<_, Option<i64>>(14).unwrap_or_default(),
    }
}

/// The trials with their tagged variables and the last value of each, from `prov_values`
/// (one query for the whole page).
fn overviews(
    client: &mut Client,
    trials: Vec<TrialSummary>,
) -> Result<Vec<TrialOverview>, postgres::Error> {
    let ids: Vec<i64> = trials.iter().map(|t| t.id).collect();
    // Per trial and tagged name, its last capture; ordered by the first capture, the order
    // the variables were (most likely) tagged in.
    let rows = client.query(
        "SELECT trial_id, name, label, type_name, value_json, summary_json
         FROM (SELECT DISTINCT ON (trial_id, name) trial_id, name, label, type_name,
                      value_json, summary_json,
                      MIN(seq::bigint * 65536 + position) OVER (PARTITION BY trial_id, name) AS first
               FROM prov_values WHERE trial_id = ANY($1) AND tagged
               ORDER BY trial_id, name, seq DESC, position DESC) last
         ORDER BY trial_id, first",
        &[&ids],
    )?;
    let mut found: HashMap<i64, (Vec<TrialTag>, Vec<KeyValue>)> = HashMap::new();
    for r in rows {
        let name: String = r.get(1);
        let captured = CapturedValue::from_columns(
            r.get::<_, Option<String>>(3).unwrap_or_default(),
            r.get(4),
            r.get(5),
        );
        let entry = found.entry(r.get(0)).or_default();
        entry.0.push(TrialTag {
            name: name.clone(),
            label: r.get(2),
        });
        entry.1.push(KeyValue {
            name,
            value: captured.shown(),
            text: captured.brief(KEY_VALUE_WIDTH),
        });
    }
    Ok(trials
        .into_iter()
        .map(|trial| {
            let (tags, key_values) = found.remove(&trial.id).unwrap_or_default();
            TrialOverview {
                trial,
                tags,
                key_values,
            }
        })
        .collect())
}

/// The latest team trial (the highest team number), if any.
pub fn latest(client: &mut Client) -> Result<Option<i64>, TeamError> {
    let row = client
        .query_one("SELECT MAX(id) FROM prov_trials", &[])
        .map_err(|source| TeamError::Postgres {
            action: "find the latest trial".into(),
            source,
        })?;
    Ok(row.get::<_, Option<i64>>(0))
}
