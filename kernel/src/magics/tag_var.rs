//! `%tag_var VAR [LABEL]`: tags a variable of the current trial (with an optional label such as
//! `input` or `model`), so trials can be compared on what matters. Tagging a tagged variable
//! changes its label.

use super::args;
use super::spec::{store_error, MagicContext, MagicResult, MagicSpec};
use clap::Args;

/// The `%tag_var` magic.
pub const SPEC: MagicSpec = MagicSpec {
    name: "tag_var",
    usage: "VAR [LABEL]",
    help: "tag a variable of this trial, with an optional label",
    run: |context, words| args::parse_then(&SPEC, words, |asked| run(context, asked)),
};

fn run(context: &MagicContext, asked: TagVarArgs) -> MagicResult {
    let TagVarArgs { var, label } = asked;
    let label = label.as_deref();
    let retagged = context
        .writer
        .tag_variable(&var, label)
        .map_err(store_error)?;
    context.set_tagged(&var, true);
    Ok(provrender::render_tagged(&var, label, retagged))
}

/// `%tag_var VAR [LABEL]`; read at the cell's request too (`changes_tags`).
#[derive(Args, Debug)]
pub(super) struct TagVarArgs {
    /// The variable.
    pub var: String,
    /// What it is: input, model, metric…
    pub label: Option<String>,
}
