//! `%global_backwards_deps VAR`: like `%backwards_deps`, for every value `VAR` ever had in this
//! trial (deleted ones too), not only the current one.

use super::args;
use super::spec::{variable_answer, MagicContext, MagicResult, MagicSpec};
use provargs::VariableArg;
use provstore::Store;

/// The `%global_backwards_deps` magic.
pub const SPEC: MagicSpec = MagicSpec {
    name: "global_backwards_deps",
    usage: "VAR",
    help: "the executions any value VAR ever had in this trial came from",
    run: |context, words| args::parse_then(&SPEC, words, |asked| run(context, asked)),
};

fn run(context: &MagicContext, asked: VariableArg) -> MagicResult {
    let render = |answer: &_| provrender::render_deps(answer, false);
    variable_answer(
        context,
        asked.variable,
        Store::global_backwards_deps,
        render,
    )
}
