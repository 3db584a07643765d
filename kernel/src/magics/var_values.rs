//! `%var_values VAR`: every captured value of a variable across all trials of the store (and
//! its versions within each trial), to compare what runs produced. `%var_tag_values` is the
//! noWorkflow name.

use super::{usage_error, MagicContext, MagicResult, MagicSpec};

/// The `%var_values` magic.
pub const SPEC: MagicSpec = MagicSpec {
    name: "var_values",
    aliases: &["var_tag_values"],
    usage: "VAR",
    help: "the values of VAR across all trials (and versions within a trial)",
    run,
};

fn run(context: &MagicContext, args: &[String]) -> MagicResult {
    let var = match args {
        [var] if !var.starts_with('-') => var.clone(),
        [option] => return Err(usage_error(&SPEC, &format!("unknown option {option}"))),
        [] => return Err(usage_error(&SPEC, "%var_values needs a variable")),
        _ => return Err(usage_error(&SPEC, "%var_values takes one variable")),
    };
    let entries = context
        .writer
        .query({
            let var = var.clone();
            move |store| store.var_values(&var)
        })
        .map_err(super::store_error)?;
    Ok(provrender::render_var_values(&var, &entries))
}
