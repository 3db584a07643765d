//! `%var_values VAR`: every captured value of a variable across all trials of the store (and
//! its versions within each trial), to compare what runs produced. `%var_tag_values` is the
//! noWorkflow name. Its argument is `provctl values`'s.

use super::args;
use super::spec::{store_error, MagicContext, MagicResult, MagicSpec};
use provargs::VariableArg;

/// The `%var_values` magic.
pub const SPEC: MagicSpec = MagicSpec {
    name: "var_values",
    usage: "VAR",
    help: "the values of VAR across all trials (and versions within a trial)",
    run: |context, words| args::parse_then(&SPEC, words, |asked| run(context, asked)),
};

fn run(context: &MagicContext, asked: VariableArg) -> MagicResult {
    let entries = context
        .writer
        .query({
            let var = asked.variable.clone();
            move |store| store.var_values(&var)
        })
        .map_err(store_error)?;
    Ok(provrender::render_var_values(&asked.variable, &entries))
}
