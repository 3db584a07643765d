//! The commands about one trial that need no file of their own: `show`, `deps`, `slice`,
//! `tags` and `graph`. Each gets the store and the trial's id there (the local store, or a
//! scratch store holding a remote trial's bundle: `source.rs`), so both answer alike.

use std::io::Write;
use std::path::Path;

use provstore::Store;

use crate::output::{bad_extension, extension, png, save, text, Failure, Json};

/// The picture of a trial with no executions.
const EMPTY_SVG: &str = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1\" height=\"1\"/>";

/// `provctl show`: the trial and its executions in order.
pub(crate) fn show(
    store: &Store,
    trial: i64,
    json: Option<Json>,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let trial = store.trial(trial)?;
    let executions = store.executions(trial.id)?;
    match json {
        Some(j) => {
            let show = provrender::TrialJson {
                trial: &trial,
                executions: &executions,
            };
            j.write(out, &show)
        }
        None => text(out, &provrender::trial_text(&trial, &executions)),
    }
}

/// `provctl deps VAR`: the executions that made the variable's current value.
pub(crate) fn deps(
    store: &Store,
    trial: i64,
    deps: &provargs::DepsArgs,
    json: Option<Json>,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let answer = store.backwards_deps(trial, &deps.variable)?;
    match json {
        Some(j) => j.write(out, &answer),
        None => text(out, &provrender::deps_text(&answer, deps.statements)),
    }
}

/// `provctl slice VAR [-o FILE]`: the smallest code that rebuilds the variable.
pub(crate) fn slice(
    store: &Store,
    trial: i64,
    variable: &str,
    output: Option<&Path>,
    json: Option<Json>,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let answer = store.slice(trial, variable)?;
    if let Some(path) = output {
        let contents = match extension(path).as_deref() {
            Some("ipynb") => {
                let nb = provrender::slice_notebook(&answer);
                let mut s =
                    serde_json::to_string_pretty(&nb).map_err(|e| Failure::Output(e.into()))?;
                s.push('\n');
                s
            }
            Some("py") => provrender::slice_script(&answer),
            _ => return Err(bad_extension(path, "FILE.ipynb or FILE.py")),
        };
        let what = format!(
            "the slice of {} ({})",
            answer.variable,
            count(answer.statements.len(), "statement")
        );
        if save(out, json, path, contents.as_bytes(), &what)? {
            return Ok(());
        }
    }
    match json {
        Some(j) => j.write(out, &answer),
        None => text(out, &provrender::slice_code(&answer)),
    }
}

/// `provctl tags`: the trial's tagged variables and stage marks.
pub(crate) fn tags(
    store: &Store,
    trial: i64,
    json: Option<Json>,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let answer = store.tags(trial)?;
    match json {
        Some(j) => j.write(out, &answer),
        None => text(out, &provrender::tags_text(&answer)),
    }
}

/// `provctl graph [--dot] [-o FILE]`: the trial's dataflow graph.
pub(crate) fn graph(
    store: &Store,
    trial: i64,
    dot: bool,
    output: Option<&Path>,
    json: Option<Json>,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let answer = store.dataflow_graph(trial)?;
    if let Some(path) = output {
        let svg = || {
            provrender::render_graph(&answer)
                .svg
                .unwrap_or_else(|| EMPTY_SVG.into())
        };
        let contents = match extension(path).as_deref() {
            Some("svg") => svg().into_bytes(),
            Some("png") => png(&svg(), path)?,
            Some("dot" | "gv") => provrender::graph_dot(&answer).into_bytes(),
            _ => return Err(bad_extension(path, "FILE.svg, FILE.png or FILE.dot")),
        };
        let what = format!(
            "the graph of trial {} ({}, {})",
            answer.trial.id,
            count(answer.executions.len(), "execution"),
            count(answer.edges.len(), "dependency")
        );
        if save(out, json, path, &contents, &what)? {
            return Ok(());
        }
    }
    match json {
        Some(j) => j.write(out, &answer),
        None if dot => text(out, &provrender::graph_dot(&answer)),
        None => text(out, &provrender::graph_text(&answer)),
    }
}

/// `1 statement`, `3 dependencies`.
pub(crate) fn count(n: usize, word: &str) -> String {
    match (n, word.strip_suffix('y')) {
        (1, _) => format!("1 {word}"),
        (_, Some(stem)) => format!("{n} {stem}ies"),
        _ => format!("{n} {word}s"),
    }
}
