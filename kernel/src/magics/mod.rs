//! prov's magics: lines like `%trials` that the proxy answers itself. `parse.rs` finds them,
//! `jobs.rs` carries them from a cell's request to its idle, and each magic is one file here
//! holding its `SPEC`: name, usage, one-line help and the function that runs it.
//!
//! To add a magic: write `kernel/src/magics/<name>.rs` with a `pub const SPEC: MagicSpec`, add
//! it to `MAGICS` below. Its function gets the store through the writer thread and returns
//! rendered output (from `provrender`) or an error message for the cell.

mod backwards_deps;
pub mod cell;
mod global_backwards_deps;
pub mod jobs;
pub mod parse;
mod prov;
mod slice;
mod tag_cell;
mod tag_var;
mod tags;
mod trial_diff;
mod trial_intersection_diff;
mod trial_name;
mod trials;
mod untag_var;

use parse::MagicCall;
use provrender::Rendered;
use provstore::WriterHandle;
use std::sync::Arc;

/// What a magic may use: the store, through the recorder's writer thread, so a magic sees
/// every execution recorded before it.
pub struct MagicContext {
    pub writer: Arc<WriterHandle>,
}

/// A magic's answer: output for the cell, or a message saying what was wrong and how to fix it.
pub type MagicResult = Result<Rendered, String>;

/// One magic: how it is called and what it does.
pub struct MagicSpec {
    pub name: &'static str,
    /// Other names it answers to (for noWorkflow users).
    pub aliases: &'static [&'static str],
    /// Arguments, as shown in help and in usage errors.
    pub usage: &'static str,
    /// One line for `%prov help`.
    pub help: &'static str,
    pub run: fn(&MagicContext, &[String]) -> MagicResult,
}

/// Every magic prov answers.
pub const MAGICS: &[&MagicSpec] = &[
    &prov::SPEC,
    &trials::SPEC,
    &trial_name::SPEC,
    &backwards_deps::SPEC,
    &global_backwards_deps::SPEC,
    &slice::SPEC,
    &tag_var::SPEC,
    &untag_var::SPEC,
    &tag_cell::SPEC,
    &tags::SPEC,
    &trial_diff::SPEC,
    &trial_intersection_diff::SPEC,
];

/// The magic called `name` (or one of its aliases).
pub fn lookup(name: &str) -> Option<&'static MagicSpec> {
    MAGICS
        .iter()
        .copied()
        .find(|spec| spec.name == name || spec.aliases.contains(&name))
}

/// Whether a `%name` line is prov's (and so taken out of the code ipykernel sees).
pub fn is_prov_magic(name: &str) -> bool {
    lookup(name).is_some()
}

/// Runs one magic call.
pub fn run(context: &MagicContext, call: &MagicCall) -> MagicResult {
    let spec = lookup(&call.name).ok_or_else(|| format!("unknown magic %{}", call.name))?;
    (spec.run)(context, &call.args)
}

/// A usage error that quotes the magic's usage line.
pub fn usage_error(spec: &MagicSpec, problem: &str) -> String {
    format!("{problem}\nusage: %{} {}", spec.name, spec.usage)
}

/// The store's error as a message for the cell.
pub fn store_error(e: provstore::StoreError) -> String {
    e.to_string()
}

/// The arguments of the dataflow magics, `VAR [--statements]`: the variable, and whether
/// `--statements` was given (only accepted when `statements` says the magic takes it).
pub fn variable_args(
    spec: &MagicSpec,
    args: &[String],
    statements: bool,
) -> Result<(String, bool), String> {
    let mut var = None;
    let mut flag = false;
    for arg in args {
        if statements && arg == "--statements" {
            flag = true;
        } else if arg.starts_with('-') {
            return Err(usage_error(spec, &format!("unknown option {arg}")));
        } else if var.is_some() {
            return Err(usage_error(
                spec,
                &format!("%{} takes one variable", spec.name),
            ));
        } else {
            var = Some(arg.clone());
        }
    }
    let var = var.ok_or_else(|| usage_error(spec, &format!("%{} needs a variable", spec.name)))?;
    Ok((var, flag))
}

/// Runs a dataflow query about `VAR` in this kernel's trial: reads `VAR [--statements]` (the
/// flag only where `statements` says the magic takes it), asks the store on the writer thread
/// (so it sees everything recorded before), and returns the answer with whether `--statements`
/// was given. An unknown variable is the store's message, which lists similar names.
pub fn variable_query<T: Send + 'static>(
    context: &MagicContext,
    spec: &MagicSpec,
    args: &[String],
    statements: bool,
    query: fn(&provstore::Store, i64, &str) -> provstore::Result<T>,
) -> Result<(T, bool), String> {
    let (var, flag) = variable_args(spec, args, statements)?;
    let trial = context
        .writer
        .trial()
        .ok_or("the store is not available, so nothing was recorded to ask about")?
        .id;
    let answer = context
        .writer
        .query(move |store| query(store, trial, &var))
        .map_err(store_error)?;
    Ok((answer, flag))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn variable_args_take_one_variable_and_maybe_statements() {
        let spec = &backwards_deps::SPEC;
        assert_eq!(
            variable_args(spec, &args(&["df"]), true),
            Ok(("df".into(), false))
        );
        assert_eq!(
            variable_args(spec, &args(&["--statements", "df"]), true),
            Ok(("df".into(), true))
        );
        let none = variable_args(spec, &args(&[]), true).unwrap_err();
        assert!(
            none.contains("usage: %backwards_deps VAR [--statements]"),
            "{none}"
        );
        assert!(variable_args(spec, &args(&["a", "b"]), true).is_err());
        let flag = variable_args(&slice::SPEC, &args(&["df", "--statements"]), false).unwrap_err();
        assert!(flag.contains("unknown option --statements"), "{flag}");
    }

    #[test]
    fn aliases_find_the_dataflow_magics() {
        assert_eq!(
            lookup("backward_deps").map(|s| s.name),
            Some("backwards_deps")
        );
        assert_eq!(
            lookup("global_backward_deps").map(|s| s.name),
            Some("global_backwards_deps")
        );
        assert_eq!(lookup("slice").map(|s| s.name), Some("slice"));
    }
}
