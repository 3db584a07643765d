//! `%tag_var VAR [LABEL]`: tags a variable of the current trial (with an optional label such as
//! `input` or `model`), so trials can be compared on what matters. Tagging a tagged variable
//! changes its label.

use super::{usage_error, MagicContext, MagicResult, MagicSpec};

/// The `%tag_var` magic.
pub const SPEC: MagicSpec = MagicSpec {
    name: "tag_var",
    aliases: &[],
    usage: "VAR [LABEL]",
    help: "tag a variable of this trial, with an optional label",
    run,
};

fn run(context: &MagicContext, args: &[String]) -> MagicResult {
    let (var, label) = match args {
        [var] => (var, None),
        [var, label] => (var, Some(label.as_str())),
        _ => {
            return Err(usage_error(
                &SPEC,
                "%tag_var takes a variable and at most one label",
            ))
        }
    };
    if var.starts_with('-') {
        return Err(usage_error(&SPEC, &format!("unknown option {var}")));
    }
    let retagged = context
        .writer
        .tag_variable(var, label)
        .map_err(super::store_error)?;
    context.set_tagged(var, true);
    Ok(provrender::render_tagged(var, label, retagged))
}
