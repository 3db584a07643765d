//! `provctl diff T1 T2 [--all]`: two trials compared (local or remote: `source.rs` puts them in
//! one store) — code (unified diffs, in execution
//! order), input files, values, environment, outputs. Only what differs unless `--all`;
//! `--json` prints the `provctl diff` contract (`{"left", "right", "code", "inputs", "values",
//! "environment", "outputs"}`),
//! the same document `%trial_diff` answers in its metadata (`prov.json`).

use std::io::Write;

use provstore::Store;

use crate::output::{text, Failure, Json};

/// Compares trials `left` and `right` of `store` and writes the answer.
pub(crate) fn run(
    store: &Store,
    left: i64,
    right: i64,
    all: bool,
    json: Option<Json>,
    out: &mut impl Write,
) -> Result<(), Failure> {
    if left == right {
        return Err(Failure::Exit {
            code: 2,
            message: format!(
                "both sides are trial {left}: there is nothing to compare\n  fix: name two \
                 different trials (provctl trials lists them)"
            ),
        });
    }
    let diff = store.trial_diff_with(left, right, all)?;
    let written = match json {
        // Serialized straight from the view: no text or HTML is built for `--json`.
        Some(j) => j.write(out, &provrender::trial_diff_view(&diff, all)),
        None => text(out, &provrender::render_trial_diff(&diff, all).text),
    };
    // provctl exits right after: freeing two trials' worth of small strings one by one would
    // take longer than building the answer's JSON.
    std::mem::forget(diff);
    written
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::{Cli, Command};

    #[test]
    fn diff_takes_two_trials_and_all() {
        let cli = Cli::parse_from(["provctl", "diff", "1", "baseline", "--all", "--json"]);
        assert!(cli.json);
        assert!(matches!(
            cli.command,
            Command::Diff { ref diff } if diff.all
                && diff.trials.left == "1"
                && diff.trials.right.as_deref() == Some("baseline")
        ));
        assert!(Cli::try_parse_from(["provctl", "diff", "1"]).is_err());
    }
}
