//! `%untag_var VAR`: removes the tag of a variable of the current trial.

use super::{usage_error, MagicContext, MagicResult, MagicSpec};

/// The `%untag_var` magic.
pub const SPEC: MagicSpec = MagicSpec {
    name: "untag_var",
    aliases: &[],
    usage: "VAR",
    help: "remove the tag of a variable of this trial",
    run,
};

fn run(context: &MagicContext, args: &[String]) -> MagicResult {
    let [var] = args else {
        return Err(usage_error(&SPEC, "%untag_var takes exactly one variable"));
    };
    context
        .writer
        .untag_variable(var)
        .map_err(super::store_error)?;
    context.set_tagged(var, false);
    Ok(provrender::render_untagged(var))
}
