//! `provctl plot VAR -o FILE.svg`: the picture `%var_evolution` shows, one number per trial
//! (its last value of VAR; a statistic of an array or dataframe), written to a file.

use std::io::Write;
use std::path::Path;

use provstore::{SkippedTrial, Statistic, Store};

use crate::{bad_extension, extension, save, text, Failure, Json};

/// Writes the evolution plot of `variable` to `output` (an `.svg`), then says where (or, with
/// `--json`, prints the plotted numbers). No trial with a number is exit 2, saying why each
/// was skipped.
pub(crate) fn run(
    store: &Store,
    variable: &str,
    stat: Statistic,
    column: Option<&str>,
    output: &Path,
    json: Option<Json>,
    out: &mut impl Write,
) -> Result<(), Failure> {
    if extension(output).as_deref() != Some("svg") {
        return Err(bad_extension(output, "FILE.svg"));
    }
    let evolution = store.var_evolution(variable, stat, column)?;
    let rendered = provrender::render_var_evolution(&evolution);
    let Some(svg) = rendered.svg else {
        let mut message = format!("nothing to plot: no trial has a number for `{variable}`");
        for s in &evolution.skipped {
            message.push_str(&format!("\n  {}: {}", trial_words(s), s.reason));
        }
        message.push_str(
            "\n  fix: choose another --stat (mean, min, max, len) or, for a dataframe, a \
             numeric --column",
        );
        return Err(Failure::Exit { code: 2, message });
    };
    let what = format!(
        "the evolution of {variable} across {}{}",
        count_trials(evolution.points.len()),
        if evolution.summarised {
            format!(" ({})", evolution.statistic)
        } else {
            String::new()
        }
    );
    if save(out, json, output, &svg, &what)? {
        for s in &evolution.skipped {
            text(out, &format!("skipped {}: {}\n", trial_words(s), s.reason))?;
        }
        return Ok(());
    }
    match json {
        Some(j) => j.write(out, &evolution),
        None => Ok(()),
    }
}

/// `trial 3 "lr=0.1"`.
fn trial_words(s: &SkippedTrial) -> String {
    match &s.trial_name {
        Some(name) => format!("trial {} {name:?}", s.trial),
        None => format!("trial {}", s.trial),
    }
}

fn count_trials(n: usize) -> String {
    if n == 1 {
        "1 trial".into()
    } else {
        format!("{n} trials")
    }
}
