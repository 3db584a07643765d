//! `%var_evolution VAR [--stat S] [--column C]`: a picture of a variable across all trials of
//! the store, each trial's last value as one number (arrays and dataframes by a statistic of
//! their summary). `%var_tag_plot` is the noWorkflow name.

use super::{usage_error, MagicContext, MagicResult, MagicSpec};
use provstore::Statistic;

/// The `%var_evolution` magic.
pub const SPEC: MagicSpec = MagicSpec {
    name: "var_evolution",
    aliases: &["var_tag_plot"],
    usage: "VAR [--stat mean|min|max|len] [--column C]",
    help: "plot VAR across all trials (arrays, dataframes: a statistic, --stat, --column)",
    run,
};

/// What `%var_evolution` was asked: the variable, the statistic and the dataframe column.
#[derive(Debug, PartialEq)]
struct Request {
    var: String,
    stat: Statistic,
    column: Option<String>,
}

/// Reads `VAR [--stat S] [--column C]` (also `--stat=S`, `--column=C`), in any order.
fn parse(args: &[String]) -> Result<Request, String> {
    let mut var = None;
    let mut stat = None;
    let mut column = None;
    let mut words = args.iter();
    while let Some(word) = words.next() {
        let (flag, inline) = match word.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_string())),
            _ => (word.as_str(), None),
        };
        let mut value = |what: &str| {
            inline
                .clone()
                .or_else(|| words.next().cloned())
                .ok_or_else(|| usage_error(&SPEC, &format!("{flag} needs {what}")))
        };
        match flag {
            "--stat" => {
                let name = value("a statistic")?;
                stat = Some(Statistic::parse(&name).map_err(|e| usage_error(&SPEC, &e))?);
            }
            "--column" => column = Some(value("a column name")?),
            _ if flag.starts_with('-') => {
                return Err(usage_error(&SPEC, &format!("unknown option {word}")))
            }
            _ if var.is_some() => {
                return Err(usage_error(&SPEC, "%var_evolution takes one variable"))
            }
            _ => var = Some(word.clone()),
        }
    }
    let var = var.ok_or_else(|| usage_error(&SPEC, "%var_evolution needs a variable"))?;
    Ok(Request {
        var,
        stat: stat.unwrap_or_default(),
        column,
    })
}

fn run(context: &MagicContext, args: &[String]) -> MagicResult {
    let Request { var, stat, column } = parse(args)?;
    let evolution = context
        .writer
        .query(move |store| store.var_evolution(&var, stat, column.as_deref()))
        .map_err(super::store_error)?;
    Ok(provrender::render_var_evolution(&evolution))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn arguments_in_any_order() {
        assert_eq!(
            parse(&args(&["acc"])),
            Ok(Request {
                var: "acc".into(),
                stat: Statistic::Mean,
                column: None
            })
        );
        assert_eq!(
            parse(&args(&["--column=x", "df", "--stat", "max"])),
            Ok(Request {
                var: "df".into(),
                stat: Statistic::Max,
                column: Some("x".into())
            })
        );
        let bad = parse(&args(&["acc", "--stat", "median"])).unwrap_err();
        assert!(bad.contains("mean, min, max, len"), "{bad}");
        assert!(bad.contains("usage: %var_evolution VAR"), "{bad}");
        assert!(parse(&args(&["acc", "--stat"]))
            .unwrap_err()
            .contains("needs"));
        assert!(parse(&args(&[])).is_err());
        assert!(parse(&args(&["a", "b"])).is_err());
        assert!(parse(&args(&["a", "--nope"])).is_err());
    }
}
