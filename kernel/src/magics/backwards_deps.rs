//! `%backwards_deps VAR [--statements]`: which executions made the current value of `VAR`, with
//! their code (or only the statements that contributed), what each defined and used, and a
//! picture of how the value flowed. Its arguments are `provctl deps`'s (`provargs::DepsArgs`):
//! VAR may be a file the code read or wrote, answered the same way.

use super::args;
use super::spec::{variable_answer, MagicContext, MagicResult, MagicSpec};
use provargs::DepsArgs;
use provstore::Store;

/// The `%backwards_deps` magic.
pub const SPEC: MagicSpec = MagicSpec {
    name: "backwards_deps",
    usage: "VAR [--statements]",
    help: "the executions the current value of VAR (or of a file) came from (--statements: only the lines)",
    run: |context, words| args::parse_then(&SPEC, words, |asked| run(context, asked)),
};

fn run(context: &MagicContext, asked: DepsArgs) -> MagicResult {
    let statements = asked.statements;
    let render = move |answer: &_| provrender::render_deps(answer, statements);
    variable_answer(context, asked.variable, Store::backwards_deps, render)
}
