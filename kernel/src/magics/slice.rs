//! `%slice VAR`: the smallest code, statement by statement in the order it ran, that rebuilds the
//! current value of `VAR`, ready to copy into a new cell. Its argument is `provctl slice`'s.

use super::args;
use super::spec::{variable_answer, MagicContext, MagicResult, MagicSpec};
use provargs::VariableArg;
use provstore::Store;

/// The `%slice` magic.
pub const SPEC: MagicSpec = MagicSpec {
    name: "slice",
    usage: "VAR",
    help: "the statements that rebuild the current value of VAR, in the order they ran",
    run: |context, words| args::parse_then(&SPEC, words, |asked| run(context, asked)),
};

fn run(context: &MagicContext, asked: VariableArg) -> MagicResult {
    variable_answer(
        context,
        asked.variable,
        Store::slice,
        provrender::render_slice,
    )
}
