//! `provctl values VAR` (and `plot VAR`) on a team store: every captured value of a variable
//! across everyone's trials, read in PostgreSQL (`prov_values` by its name index) as the same
//! `ValueEntry`s a local store gives, the trial being its team number; with who ran each.

use provstore::{CapturedValue, StoreError, ValueEntry};
use provteam::postgres::{self, Client};
use provteam::TeamError;
use serde::Serialize;

use crate::trials::utc_text;

/// A value of the team store: the local entry, and who ran its trial where.
#[derive(Debug, Clone, Serialize)]
pub struct TeamValue {
    #[serde(flatten)]
    pub entry: ValueEntry,
    /// The user who ran the trial, if known.
    pub user: Option<String>,
    /// The host it ran on.
    pub host: String,
}

/// A failed query, for the user.
fn failed(action: &str) -> impl FnOnce(postgres::Error) -> TeamError + '_ {
    move |source| TeamError::Postgres {
        action: action.into(),
        source,
    }
}

/// Every captured value of `name` in the team store, trial by trial (by team number), in
/// execution order within a trial. None captured: [`StoreError::NoValues`] with the captured
/// names most like it.
pub fn values(client: &mut Client, name: &str) -> Result<Vec<TeamValue>, TeamError> {
    // One pass over the covering index `prov_values_covering` (team schema 3) for the rows it
    // holds, the rare longer ones through their own index (schema 4); a summary is read only
    // where there is no scalar. JIT compiling costs more than this plan saves, and the sort of
    // a name's every value should stay in memory (both measured by bench/team.py).
    client
        .batch_execute("SET jit = off; SET work_mem = '64MB'")
        .map_err(failed("set up the values query"))?;
    let columns = "trial_id, seq, position, execution_count, started_at, type_name, value_json, \
                   tagged, label";
    let covered = provteam::VALUES_COVERED;
    let rows = client
        .query(
            &format!(
                "SELECT v.trial_id, t.name, v.execution_count, v.seq, {started}, v.type_name,
                    v.value_json,
                    CASE WHEN v.value_json IS NULL THEN
                        (SELECT x.summary_json FROM prov_values x
                         WHERE x.trial_id = v.trial_id AND x.seq = v.seq
                           AND x.position = v.position)
                    END,
                    v.tagged, v.label, t.user_name, t.host
             FROM (SELECT {columns} FROM prov_values WHERE name = $1 AND {covered}
                   UNION ALL
                   SELECT {columns} FROM prov_values WHERE name = $1 AND NOT ({covered})) v
             JOIN prov_trials t ON t.id = v.trial_id
             ORDER BY v.trial_id, v.seq, v.position",
                started = utc_text("v.started_at"),
            ),
            &[&name],
        )
        .map_err(failed("read the values"))?;
    if rows.is_empty() {
        return Err(no_values(client, name));
    }
    Ok(rows
        .iter()
        .map(|r| {
            let captured = CapturedValue::from_columns(
                r.get::<_, Option<String>>(5).unwrap_or_default(),
                r.get(6),
                r.get(7),
            );
            let entry = ValueEntry {
                trial: r.get(0),
                trial_name: r.get(1),
                execution_count: r.get::<_, Option<i32>>(2).map(i64::from),
                seq: i64::from(r.get::<_, i32>(3)),
                started_at: r.get::<_, Option<String>>(4).unwrap_or_default(),
                type_name: captured.type_name.clone(),
                value: captured.shown(),
                tagged: r.get(8),
                label: r.get(9),
                captured,
            };
            TeamValue {
                entry,
                user: r.get(10),
                host: r.get(11),
            }
        })
        .collect())
}

/// The error for a name no trial captured, with the captured names most like it.
fn no_values(client: &mut Client, name: &str) -> TeamError {
    // Distinct names by walking the name index (a loose index scan): a few milliseconds even
    // over millions of values, however many values each name has.
    let names = client.query(
        "WITH RECURSIVE n(name) AS (
             (SELECT name FROM prov_values ORDER BY name LIMIT 1)
             UNION ALL
             SELECT (SELECT v.name FROM prov_values v WHERE v.name > n.name
                     ORDER BY v.name LIMIT 1)
             FROM n WHERE n.name IS NOT NULL)
         SELECT name FROM n WHERE name IS NOT NULL LIMIT 10000",
        &[],
    );
    let names: Vec<String> = match names {
        Ok(rows) => rows.iter().map(|r| r.get(0)).collect(),
        Err(e) => return failed("read the captured names")(e),
    };
    TeamError::Store(StoreError::NoValues {
        name: name.to_string(),
        similar: pyflow::similar_names(name, names.iter().map(String::as_str)),
    })
}
