//! prov's magics: lines like `%trials` that the proxy answers itself. `parse.rs` finds them,
//! `jobs.rs` carries them from a cell's request to its idle, `args.rs` parses their arguments
//! (shell words, clap), and each magic is one file here holding its `SPEC`: name, usage,
//! one-line help and the function that runs it, and its arguments' clap definition (or, where
//! a provctl command takes the same, the one in the `provargs` crate).
//!
//! To add a magic: write `kernel/src/magics/<name>.rs` with a `pub const SPEC: MagicSpec`, add
//! it to `MAGICS` below. Its `run` hands the words to `args::parse_then` with the function that
//! answers: that gets the parsed arguments and the store through the writer thread, and returns
//! rendered output (from `provrender`) or an error message for the cell.

mod args;
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
            self.set_tagged(&name, tagged);
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
pub fn changes_tags(call: &MagicCall) -> Option<(String, bool)> {
    let spec = lookup(&call.name)?;
    match spec.name {
        "tag_var" => {
            args::parse_text::<tag_var::TagVarArgs>(spec, &call.args).map(|a| (a.var, true))
        }
        "untag_var" => {
            args::parse_text::<provargs::VariableArg>(spec, &call.args).map(|a| (a.variable, false))
        }
        _ => None,
    }
}

/// A magic's answer: output for the cell, or a message saying what was wrong and how to fix it.
pub type MagicResult = Result<Rendered, String>;

/// One magic: how it is called and what it does.
pub struct MagicSpec {
    pub name: &'static str,
    /// Arguments, as shown in `%prov help`, `--help` and usage errors (clap's would read
    /// `<VAR>` and `[OPTIONS]`); a test keeps its options those of the clap definition.
    pub usage: &'static str,
    /// One line for `%prov help`.
    pub help: &'static str,
    /// Parses the call's shell words (`args::parse_then`) and answers.
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

/// Other names magics answer to (noWorkflow's), with the magic's own.
const ALIASES: &[(&str, &str)] = &[
    ("backward_deps", "backwards_deps"),
    ("global_backward_deps", "global_backwards_deps"),
    ("var_tag_values", "var_values"),
    ("var_tag_plot", "var_evolution"),
];

/// The magic called `name` (or one of its aliases).
pub fn lookup(name: &str) -> Option<&'static MagicSpec> {
    let name = ALIASES
        .iter()
        .find(|(alias, _)| *alias == name)
        .map_or(name, |(_, own)| own);
    MAGICS.iter().copied().find(|spec| spec.name == name)
}

impl MagicSpec {
    /// Its one-line help, with the other names it answers to: `… (also %backward_deps)`.
    pub fn help_line(&self) -> String {
        let aliases: Vec<String> = ALIASES
            .iter()
            .filter(|(_, own)| *own == self.name)
            .map(|(alias, _)| format!("%{alias}"))
            .collect();
        if aliases.is_empty() {
            self.help.to_string()
        } else {
            format!("{} (also {})", self.help, aliases.join(", "))
        }
    }
}

/// Whether a `%name` line is prov's (and so taken out of the code ipykernel sees).
pub fn is_prov_magic(name: &str) -> bool {
    lookup(name).is_some()
}

/// Runs one magic call: its arguments as shell words, then the magic.
pub fn run(context: &MagicContext, call: &MagicCall) -> MagicResult {
    let spec = lookup(&call.name).ok_or_else(|| format!("unknown magic %{}", call.name))?;
    let words = args::words(spec, &call.args)?;
    (spec.run)(context, &words)
}

/// The store's error as a message for the cell.
pub fn store_error(e: provstore::StoreError) -> String {
    e.to_string()
}

/// Answers a dataflow magic about `var` in this kernel's trial: asks the store's `query` on the
/// writer thread (so it sees everything recorded before), then `render`s the answer. An unknown
/// variable is the store's message, which lists similar names.
pub fn variable_answer<T: Send + 'static>(
    context: &MagicContext,
    var: String,
    query: fn(&provstore::Store, i64, &str) -> provstore::Result<T>,
    render: impl FnOnce(&T) -> Rendered,
) -> MagicResult {
    let trial = context
        .writer
        .trial()
        .ok_or("the store is not available, so nothing was recorded to ask about")?
        .id;
    context
        .writer
        .query(move |store| query(store, trial, &var))
        .map(|answer| render(&answer))
        .map_err(store_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A context over a new store in a temporary folder (kept while the folder lives), with
    /// the trial begun.
    pub(crate) fn context() -> (tempfile::TempDir, MagicContext) {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let writer = provstore::Writer::start(
            &dir.path().join("prov.db"),
            provstore::NewTrial::for_this_process(dir.path()),
            Box::new(|_| {}),
        )
        .expect("the writer starts");
        let writer = Arc::new(writer);
        for _ in 0..500 {
            if writer.trial().is_some() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        (dir, MagicContext::new(writer))
    }

    fn call(line: &str) -> MagicCall {
        parse::split_cell(line, is_prov_magic)
            .unwrap()
            .calls
            .remove(0)
    }

    #[test]
    fn magics_run_with_parsed_arguments_or_say_what_was_wrong() {
        let (_dir, context) = context();
        let tagged = run(&context, &call("%tag_var 'acc' \"metric\"")).unwrap();
        assert!(tagged.text.contains("acc"), "{}", tagged.text);
        let tags = run(&context, &call("%tags")).unwrap();
        assert!(tags.text.contains("metric"), "{}", tags.text);
        assert!(context.tags.lock().unwrap().contains("acc"));
        let quote = run(&context, &call("%tag_var acc 'final")).unwrap_err();
        assert!(quote.contains("quote is not closed"), "{quote}");
        assert!(quote.contains("usage: %tag_var VAR [LABEL]"), "{quote}");
        let help = run(&context, &call("%tag_var --help")).unwrap();
        assert!(
            help.text.contains("Usage: %tag_var VAR [LABEL]"),
            "{}",
            help.text
        );
        assert_eq!(help.json["magic"], "%tag_var");
        let flag = run(&context, &call("%slice df --statements")).unwrap_err();
        assert!(flag.contains("unknown option --statements"), "{flag}");
        let none = run(&context, &call("%backwards_deps")).unwrap_err();
        assert!(
            none.contains("usage: %backwards_deps VAR [--statements]"),
            "{none}"
        );
    }

    #[test]
    fn only_well_formed_tagging_calls_change_the_probes_tags() {
        assert_eq!(
            changes_tags(&call("%tag_var acc final")),
            Some(("acc".into(), true))
        );
        assert_eq!(
            changes_tags(&call("%tag_var 'a b' \"the label\"")),
            Some(("a b".into(), true))
        );
        assert_eq!(
            changes_tags(&call("%untag_var acc")),
            Some(("acc".into(), false))
        );
        for line in [
            "%tag_var",
            "%tag_var a b c",
            "%tag_var -x",
            "%tag_var acc 'final",
            "%tag_var --help",
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
