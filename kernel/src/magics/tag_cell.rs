//! `%tag_cell LABEL`: marks this cell's execution with a stage label (`load`, `train`,
//! `eval`…). The magic answers while the cell is still running, so the mark names the
//! execution the trial records next: this one.

use super::{usage_error, MagicContext, MagicResult, MagicSpec};

/// The `%tag_cell` magic.
pub const SPEC: MagicSpec = MagicSpec {
    name: "tag_cell",
    aliases: &[],
    usage: "LABEL",
    help: "mark this cell's execution with a stage label (load, train, eval…)",
    run,
};

fn run(context: &MagicContext, args: &[String]) -> MagicResult {
    let [label] = args else {
        return Err(usage_error(&SPEC, "%tag_cell takes exactly one label"));
    };
    context
        .writer
        .mark_stage(label)
        .map_err(super::store_error)?;
    Ok(provrender::render_stage_marked(label))
}
