//! `provctl values VAR`: every captured value of a variable across the trials of the store,
//! in order (trial by trial, versions within a trial); with `--json` the array of
//! `{"trial", "execution_count", "type", "value", …}` that scripts read.

use std::io::Write;

use provstore::Store;
use provteam::postgres::Client;

use crate::output::{answer, Failure, Json};
use crate::source::team_failure;

/// Prints the values of `variable`. A name never captured is exit 2 with similar names.
pub(crate) fn run(
    store: &Store,
    variable: &str,
    json: Option<Json>,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let entries = store.var_values(variable)?;
    answer(out, json, &entries, || {
        provrender::var_values_text(variable, &entries)
    })
}

/// Prints the values of `variable` across the team store's trials (each by its team number),
/// the table the local store's values make, and who ran the trials; `--json` adds `"user"` and
/// `"host"` to every entry.
pub(crate) fn team(
    client: &mut Client,
    variable: &str,
    json: Option<Json>,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let values = provteamread::values(client, variable).map_err(team_failure)?;
    answer(out, json, &values, || {
        let entries: Vec<_> = values.iter().map(|v| v.entry.clone()).collect();
        let mut text = provrender::var_values_text(variable, &entries);
        text.push_str(&run_by(&values));
        text
    })
}

/// `run by: ann@lab1 (trials 3, 5), bob@lab2 (trial 4)`.
fn run_by(values: &[provteamread::TeamValue]) -> String {
    let mut who: Vec<(String, Vec<i64>)> = Vec::new();
    for v in values {
        let name = format!("{}@{}", v.user.as_deref().unwrap_or("?"), v.host);
        match who.iter_mut().find(|(n, _)| *n == name) {
            Some((_, trials)) if trials.last() == Some(&v.entry.trial) => {}
            Some((_, trials)) => trials.push(v.entry.trial),
            None => who.push((name, vec![v.entry.trial])),
        }
    }
    let parts: Vec<String> = who
        .iter()
        .map(|(name, trials)| {
            let ids: Vec<String> = trials.iter().map(i64::to_string).collect();
            let word = if trials.len() == 1 { "trial" } else { "trials" };
            format!("{name} ({word} {})", ids.join(", "))
        })
        .collect();
    format!("run by: {}\n", parts.join(", "))
}
