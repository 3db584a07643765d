//! `%untag_var VAR`: removes the tag of a variable of the current trial.

use super::args;
use super::spec::{store_error, MagicContext, MagicResult, MagicSpec};
use provargs::VariableArg;

/// The `%untag_var` magic.
pub const SPEC: MagicSpec = MagicSpec {
    name: "untag_var",
    usage: "VAR",
    help: "remove the tag of a variable of this trial",
    run: |context, words| args::parse_then(&SPEC, words, |asked| run(context, asked)),
};

fn run(context: &MagicContext, asked: VariableArg) -> MagicResult {
    let VariableArg { variable } = asked;
    context
        .writer
        .untag_variable(&variable)
        .map_err(store_error)?;
    context.set_tagged(&variable, false);
    Ok(provrender::render_untagged(&variable))
}
