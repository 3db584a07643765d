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
mod var_evolution;
mod var_values;

use parse::MagicCall;
use provrender::Rendered;
use provstore::WriterHandle;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

/// What a magic may use: the store, through the recorder's writer thread, so a magic sees
/// every execution recorded before it.
pub struct MagicContext {
    pub writer: Arc<WriterHandle>,
    /// The variables tagged in this trial, as `%tag_var`/`%untag_var` left them: each execute
    /// request tells the runtime probe, which summarises their values.
    pub tags: Mutex<BTreeSet<String>>,
}

impl MagicContext {
    /// A context for a trial with no tags yet.
    pub fn new(writer: Arc<WriterHandle>) -> MagicContext {
        MagicContext {
            writer,
            tags: Mutex::default(),
        }
    }

    /// The probe's collecting expression for the tags of this moment.
    pub fn collect_expression(&self) -> String {
        let tags = self.tags.lock().unwrap_or_else(|e| e.into_inner());
        crate::probe::collect_expression(tags.iter())
    }

    /// At the request of a cell holding the prov magic `calls`: applies its `%tag_var` and
    /// `%untag_var` to the tags at once. Those magics run only at the reply, after the probe's
    /// expression, so this lets the probe snapshot a value at the end of the cell that tags
    /// it, and lets requests already queued behind it (Run All) carry the tag. Returns whether
    /// there was any, so the reply can correct the tags if the magics did not run.
    pub fn apply_tag_calls(&self, calls: &[MagicCall]) -> bool {
        let mut any = false;
        for (name, tagged) in calls.iter().filter_map(changes_tags) {
            self.set_tagged(name, tagged);
            any = true;
        }
        any
    }

    /// Makes the tags those of the store again (after a cell whose tagging magics did not all
    /// run). Left as they are when the store cannot say.
    pub fn resync_tags(&self) {
        let Some(trial) = self.writer.trial() else {
            return;
        };
        let Ok(answer) = self.writer.query(move |store| store.tags(trial.id)) else {
            return;
        };
        let mut tags = self.tags.lock().unwrap_or_else(|e| e.into_inner());
        *tags = answer.variables.into_iter().map(|v| v.name).collect();
    }

    /// Notes that `name` is tagged (`true`) or not (`false`) from now on.
    pub fn set_tagged(&self, name: &str, tagged: bool) {
        let mut tags = self.tags.lock().unwrap_or_else(|e| e.into_inner());
        if tagged {
            tags.insert(name.to_string());
        } else {
            tags.remove(name);
        }
    }
}

/// The variable a well-formed `%tag_var VAR [LABEL]` (true) or `%untag_var VAR` (false) call
/// changes; None for any other call.
pub fn changes_tags(call: &MagicCall) -> Option<(&str, bool)> {
    let spec = lookup(&call.name)?;
    let var = call.args.first().filter(|v| !v.starts_with('-'))?;
    match (spec.name, call.args.len()) {
        ("tag_var", 1 | 2) => Some((var, true)),
        ("untag_var", 1) => Some((var, false)),
        _ => None,
    }
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
    &var_values::SPEC,
    &var_evolution::SPEC,
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
    fn only_well_formed_tagging_calls_change_the_probes_tags() {
        let call = |line: &str| {
            parse::split_cell(line, is_prov_magic)
                .unwrap()
                .calls
                .remove(0)
        };
        assert_eq!(
            changes_tags(&call("%tag_var acc final")),
            Some(("acc", true))
        );
        assert_eq!(changes_tags(&call("%untag_var acc")), Some(("acc", false)));
        for line in [
            "%tag_var",
            "%tag_var a b c",
            "%tag_var -x",
            "%untag_var a b",
            "%trials",
        ] {
            assert_eq!(changes_tags(&call(line)), None, "{line}");
        }
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
        assert_eq!(lookup("var_tag_values").map(|s| s.name), Some("var_values"));
        assert_eq!(
            lookup("var_tag_plot").map(|s| s.name),
            Some("var_evolution")
        );
    }
}
