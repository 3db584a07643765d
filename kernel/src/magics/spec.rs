//! What every magic is made of, apart from the table of them in `mod.rs`: its `MagicSpec`,
//! the `MagicContext` it runs in, and helpers the magics share. Each magic's file uses this
//! file and `args.rs`, never `mod.rs`, whose table uses theirs: so no import circle.

use provrender::Rendered;
use provstore::WriterHandle;
use std::collections::BTreeSet;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

/// What a magic may use: the store, through the recorder's writer thread, so a magic sees
/// every execution recorded before it.
pub struct MagicContext {
    pub writer: Arc<WriterHandle>,
    /// The variables tagged in this trial, as `%tag_var`/`%untag_var` left them: each execute
    /// request tells the runtime probe, which summarises their values.
    pub tags: Mutex<BTreeSet<String>>,
    /// Every magic prov answers (`%prov help` lists them). Carried here, not imported,
    /// so a magic's file depends on this one and never on the table that names it.
    pub magics: &'static [&'static MagicSpec],
    /// Whether the live warnings are on (`%prov_warn`): shared with the recorder, which shows
    /// them.
    pub live_warnings: Arc<AtomicBool>,
}

impl MagicContext {
    /// The probe's collecting expression for the tags of this moment.
    pub fn collect_expression(&self) -> String {
        let tags = self.tags.lock().unwrap_or_else(|e| e.into_inner());
        crate::probe::collect_expression(tags.iter())
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

/// Other names magics answer to (noWorkflow's), with the magic's own.
pub(crate) const ALIASES: &[(&str, &str)] = &[
    ("backward_deps", "backwards_deps"),
    ("global_backward_deps", "global_backwards_deps"),
    ("var_tag_values", "var_values"),
    ("var_tag_plot", "var_evolution"),
];

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

/// The store's error as a message for the cell.
pub fn store_error(e: provstore::StoreError) -> String {
    e.to_string()
}

/// The trial a magic asks about.
enum Trial {
    /// As typed: an id, name or UUID.
    Named(String),
    /// This kernel's.
    Current(i64),
}

/// Asks the store about trial `typed` (an id, name or UUID) or, when none is typed, this
/// kernel's: `query` runs on the writer thread, so it sees everything recorded before, with
/// the trial's id. `unavailable` says why there is nothing to ask about when the store is not
/// available; an unknown trial is the store's message.
pub fn trial_query<T: Send + 'static>(
    context: &MagicContext,
    typed: Option<String>,
    unavailable: &str,
    query: impl FnOnce(&provstore::Store, i64) -> provstore::Result<T> + Send + 'static,
) -> Result<T, String> {
    let trial = match typed {
        Some(typed) => Trial::Named(typed),
        None => Trial::Current(context.writer.trial().ok_or(unavailable)?.id),
    };
    context
        .writer
        .query(move |store| {
            let id = match &trial {
                Trial::Named(typed) => store.resolve_trial(typed)?.id,
                Trial::Current(id) => *id,
            };
            query(store, id)
        })
        .map_err(store_error)
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
    let unavailable = "the store is not available, so nothing was recorded to ask about";
    trial_query(context, None, unavailable, move |store, trial| {
        query(store, trial, &var)
    })
    .map(|answer| render(&answer))
}
