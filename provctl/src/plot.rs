//! `provctl plot VAR [-o FILE.svg]`: the picture `%var_evolution` shows, one number per trial
//! (its last value of VAR; a statistic of an array or dataframe), written to a file (by
//! default `VAR.svg` in the current folder).

use std::io::Write;
use std::path::{Path, PathBuf};

use provstore::{Evolution, SkippedTrial};

use crate::output::{bad_extension, extension, png, save, text, Failure, Json};

/// Writes the evolution plot of the variable to `output` (an `.svg` or `.png`; default
/// `VAR.svg`), then says where (or, with `--json`, prints the plotted numbers). No trial with a
/// number is exit 2, saying why each was skipped.
pub(crate) fn run(
    variable: &str,
    evolution: &Evolution,
    output: Option<&Path>,
    json: Option<Json>,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let output = output.map_or_else(|| default_output(variable), Path::to_path_buf);
    let output = output.as_path();
    let as_png = match extension(output).as_deref() {
        Some("svg") => false,
        Some("png") => true,
        _ => return Err(bad_extension(output, "FILE.svg or FILE.png")),
    };
    let rendered = provrender::render_var_evolution(evolution);
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
    let contents = if as_png {
        png(&svg, output)?
    } else {
        svg.into_bytes()
    };
    if save(out, json, output, &contents, &what)? {
        for s in &evolution.skipped {
            text(out, &format!("skipped {}: {}\n", trial_words(s), s.reason))?;
        }
        return Ok(());
    }
    match json {
        Some(j) => j.write(out, evolution),
        None => Ok(()),
    }
}

/// `VAR.svg`, with any character that does not belong in a file name (`d['a']`, `obj.attr`
/// stay readable: `d__a__.svg`, `obj.attr.svg`) made `_`.
pub(crate) fn default_output(variable: &str) -> PathBuf {
    let name: String = variable
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let name = name.trim_start_matches('.');
    PathBuf::from(format!(
        "{}.svg",
        if name.is_empty() { "plot" } else { name }
    ))
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

#[cfg(test)]
mod tests {
    use super::default_output;
    use std::path::PathBuf;

    #[test]
    fn the_default_file_is_named_after_the_variable() {
        assert_eq!(default_output("acc"), PathBuf::from("acc.svg"));
        assert_eq!(default_output("d['a']"), PathBuf::from("d__a__.svg"));
        assert_eq!(default_output("../x"), PathBuf::from("_x.svg"));
        assert_eq!(default_output(""), PathBuf::from("plot.svg"));
    }
}
