//! `%tag_cell LABEL`: marks this cell's execution with a stage label (`load`, `train`,
//! `eval`…). The magic answers while the cell is still running, so the mark names the
//! execution the trial records next: this one.

use super::args;
use super::spec::{store_error, MagicContext, MagicResult, MagicSpec};
use clap::Args;

/// The `%tag_cell` magic.
pub const SPEC: MagicSpec = MagicSpec {
    name: "tag_cell",
    usage: "LABEL",
    help: "mark this cell's execution with a stage label (load, train, eval…)",
    run: |context, words| args::parse_then(&SPEC, words, |asked| run(context, asked)),
};

fn run(context: &MagicContext, asked: Stage) -> MagicResult {
    context
        .writer
        .mark_stage(&asked.label)
        .map_err(store_error)?;
    Ok(provrender::render_stage_marked(&asked.label))
}

/// `%tag_cell LABEL`.
#[derive(Args, Debug)]
struct Stage {
    /// The stage: load, train, eval…
    label: String,
}
