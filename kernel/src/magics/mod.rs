//! prov's magics: lines like `%trials` that the proxy answers itself. `parse.rs` finds them,
//! `jobs.rs` carries them from a cell's request to its idle, `args.rs` parses their arguments
//! (shell words, clap), and each magic is one file here holding its `SPEC`: name, usage,
//! one-line help and the function that runs it, and its arguments' clap definition (or, where
//! a provctl command takes the same, the one in the `provargs` crate).
//!
//! `spec.rs` holds what they are made of (`MagicSpec`, `MagicContext`, shared helpers): a
//! magic's file uses `spec.rs` and `args.rs` only, and this file uses the magics, so there is
//! no import circle (`%prov help` reads the table from its context, not from here).
//!
//! To add a magic: write `kernel/src/magics/<name>.rs` with a `pub const SPEC: MagicSpec`, add
//! it to `MAGICS` below. Its `run` hands the words to `args::parse_then` with the function that
//! answers: that gets the parsed arguments and the store through the writer thread, and returns
//! rendered output (from `provrender`) or an error message for the cell.

mod args;
mod backwards_deps;
pub mod cell;
mod expectations;
mod files;
mod global_backwards_deps;
pub mod jobs;
pub mod parse;
mod prov;
mod prov_check;
mod prov_export;
mod prov_warn;
mod remote;
mod slice;
mod spec;
mod tag_cell;
mod tag_var;
mod tags;
// The team store tests' helpers (a database of a test's own on `$PROV_TEST_PG`), for the remote
// magics' tests.
#[cfg(test)]
#[path = "../../../team/tests/common/mod.rs"]
mod teamdb;
mod trial_diff;
mod trial_intersection_diff;
mod trial_name;
mod trials;
mod untag_var;
mod var_evolution;
mod var_values;

use parse::MagicCall;
use provstore::WriterHandle;
use spec::ALIASES;
pub use spec::{MagicContext, MagicResult, MagicSpec};
use std::sync::{Arc, Mutex};

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

impl MagicContext {
    /// A context for a trial with no tags yet.
    pub fn new(writer: Arc<WriterHandle>) -> MagicContext {
        MagicContext {
            writer,
            tags: Mutex::default(),
            magics: MAGICS,
            live_warnings: Arc::default(),
        }
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
    &files::SPEC,
    &expectations::SPEC,
    &prov_check::SPEC,
    &prov_export::SPEC,
    &prov_warn::SPEC,
];

/// The magic called `name` (or one of its aliases).
pub fn lookup(name: &str) -> Option<&'static MagicSpec> {
    let name = ALIASES
        .iter()
        .find(|(alias, _)| *alias == name)
        .map_or(name, |(_, own)| own);
    MAGICS.iter().copied().find(|spec| spec.name == name)
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

    /// `In[n]` running `code` in cell `cell-n`, ok, for the store to analyse.
    pub(crate) fn record(n: i64, code: &str) -> provstore::ExecutionRecord {
        let at = chrono::Utc::now();
        provstore::ExecutionRecord {
            code_replaced: false,
            msg_id: format!("m{n}"),
            execution_count: Some(n),
            cell_id: Some(format!("cell-{n}")),
            code: code.into(),
            started_at: at,
            ended_at: at,
            status: provstore::ExecStatus::Ok,
            error: None,
            outputs: vec![],
            dataflow: Some(provstore::DataflowRecord {
                analysis: String::new(),
                runtime: None,
                failed_line: None,
            }),
        }
    }

    /// The first magic call of a cell.
    pub(crate) fn call(line: &str) -> MagicCall {
        parse::split_cell(line, is_prov_magic)
            .unwrap()
            .calls
            .remove(0)
    }

    /// Runs the one magic of `line`, as a cell holding it would.
    pub(crate) fn run_line(context: &MagicContext, line: &str) -> MagicResult {
        run(context, &call(line))
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
