//! `%var_evolution VAR [--stat S] [--column C]`: a picture of a variable across all trials of
//! the store, each trial's last value as one number (arrays and dataframes by a statistic of
//! their summary). `%var_tag_plot` is the noWorkflow name. Its arguments are `provctl plot`'s
//! (`provargs::EvolutionArgs`), but for where the picture goes.

use super::args;
use super::spec::{store_error, MagicContext, MagicResult, MagicSpec};
use provargs::EvolutionArgs;

/// The `%var_evolution` magic.
pub const SPEC: MagicSpec = MagicSpec {
    name: "var_evolution",
    usage: "VAR [--stat mean|min|max|len] [--column C]",
    help: "plot VAR across all trials (arrays, dataframes: a statistic, --stat, --column)",
    run: |context, words| args::parse_then(&SPEC, words, |asked| run(context, asked)),
};

fn run(context: &MagicContext, asked: EvolutionArgs) -> MagicResult {
    let EvolutionArgs {
        variable,
        stat,
        column,
    } = asked;
    let evolution = context
        .writer
        .query(move |store| store.var_evolution(&variable, stat, column.as_deref()))
        .map_err(store_error)?;
    Ok(provrender::render_var_evolution(&evolution))
}
