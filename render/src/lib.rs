//! One renderer for everything prov shows: the magics answer in the notebook
//! with all of [`Rendered`] (`text/plain` and `text/html` in the bundle, the
//! JSON in the output's metadata, a picture as an output of its own with
//! `image/svg+xml` and `image/png`);
//! provctl prints the same text ([`trials_text`], [`trial_text`],
//! [`log_text`]: the `text` alone, without building the rest) or, with
//! `--json`, the same JSON (serialized straight from the query results, e.g.
//! [`TrialJson`]). Keeping both on one renderer means the notebook and the
//! terminal always agree.
//!
//! The inputs are the plain query results of [`provstore`]; nothing here
//! touches the store. The JSON of [`render_trials`], [`render_trial`] and
//! [`render_log`] is the `provctl --json` contract; the text is aligned
//! columns with truncated code; the HTML is self-contained (inline styles,
//! no scripts, everything escaped) and inherits the theme's colours, so it
//! reads in JupyterLab's light and dark themes alike.
//!
//! Values across trials: [`render_var_values`] (every captured value of a
//! variable), [`render_var_evolution`] (one number per trial, drawn as an
//! SVG line chart by `plot.rs`) and [`render_trial_overviews`] (the trial
//! list with each trial's tags and key values).
//!
//! Data files: [`render_files`] (the files a trial read and wrote, each access with what it
//! found next to the one before).
//!
//! Expectations: [`render_expectations`] (each `assert` of a trial with its latest outcome and
//! a ✓✗ row across trials).
//! Checks: [`render_checks`] (a trial's findings: severity, rule, executions, message) and
//! [`render_rules`] (the rules, each with a line that triggers it), [`render_live_warnings`]
//! (whether `%prov_warn` is on).
//!
//! Notebooks: [`notebook_of`] and [`notebook_code_cell`], the nbformat 4.5 skeleton for the
//! `python-prov` kernel that a slice ([`slice_notebook`]) and `provexport`'s whole-trial
//! notebook are both written on.

#![warn(missing_docs)]

mod checks;
mod deps;
mod diff;
mod doc;
mod expectations;
mod export;
mod files;
mod html;
mod notebook;
mod pictures;
mod plot;
mod png;
mod rendered;
mod replay;
mod svg;
mod table;
mod tags;
mod text;
mod values;

pub use checks::{render_checks, render_live_warnings, render_rules};
pub use deps::{
    deps_text, graph_dot, graph_text, render_deps, render_graph, render_slice, slice_code,
    slice_notebook, slice_script,
};
pub use diff::{render_intersection, render_trial_diff, trial_diff_view};
pub use expectations::render_expectations;
pub use export::{render_export_text, render_export_written};
pub use files::{files_not_recorded, render_files};
pub use notebook::{notebook_code_cell, notebook_of, source_lines};
pub use plot::render_var_evolution;
pub use png::svg_to_png;
pub use rendered::{Picture, Rendered};
pub use replay::render_replay;
pub use tags::{render_stage_marked, render_tagged, render_tags, render_untagged, tags_text};
pub use values::{
    render_trial_overviews, render_var_values, trial_overviews_text, var_values_text,
};

use provstore::{ExecutionDetail, LogEntry, TrialSummary};
use serde::Serialize;
use serde_json::{json, Value};

use doc::Doc;
use html::{esc, Html};
use table::{Cell, Table};
use text::{duration, first_output, preview, when};

/// How wide the code and output previews are in text tables.
const PREVIEW: usize = 48;

fn to_json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).expect("query data serializes to JSON")
}

/// The trials of a store (`%trials`, `provctl trials`). `current` marks the
/// asking kernel's own trial in text and HTML. JSON: the array of trials.
pub fn render_trials(trials: &[TrialSummary], current: Option<i64>) -> Rendered {
    render_trials_with(trials, current, &[])
}

/// [`render_trials`] with a `tags / key values` column (`extra`, one line per trial; no
/// column when all are empty).
pub(crate) fn render_trials_with(
    trials: &[TrialSummary],
    current: Option<i64>,
    extra: &[String],
) -> Rendered {
    let json = to_json(&trials);
    match trials_doc(trials, current, extra) {
        Some(doc) => doc.rendered(json),
        None => notice(NO_TRIALS, json),
    }
}

/// The text alone of [`render_trials`], for provctl (which prints nothing
/// else, so it need not build the rest).
pub fn trials_text(trials: &[TrialSummary], current: Option<i64>) -> String {
    trials_text_with(trials, current, &[])
}

/// [`trials_text`] with the column of [`render_trials_with`].
pub(crate) fn trials_text_with(
    trials: &[TrialSummary],
    current: Option<i64>,
    extra: &[String],
) -> String {
    match trials_doc(trials, current, extra) {
        Some(doc) => doc.text(),
        None => format!("{NO_TRIALS}\n"),
    }
}

const NO_TRIALS: &str =
    "No trials recorded in this store yet: run a cell with the \"Python (prov)\" kernel.";
const THIS_KERNEL: &str = "* this kernel's trial";

/// The trial list as a title over a table, and the mark's meaning when one is marked; `None`
/// for no trials.
fn trials_doc(trials: &[TrialSummary], current: Option<i64>, extra: &[String]) -> Option<Doc> {
    if trials.is_empty() {
        return None;
    }
    let marked = current.is_some_and(|c| trials.iter().any(|t| t.id == c));
    let mut headers = vec![
        "id",
        "name",
        "status",
        "started (UTC)",
        "ended (UTC)",
        "executions",
        "notebook",
        "by",
    ];
    if marked {
        headers.insert(0, "");
    }
    let tagged = extra.iter().any(|e| !e.is_empty());
    if tagged {
        headers.push("tags / key values");
    }
    let mut table = Table::new(&headers);
    for (i, t) in trials.iter().enumerate() {
        let mut row = vec![
            Cell::number(t.id),
            Cell::opt(t.name.as_deref()),
            Cell::status(t.status.as_str()),
            Cell::plain(when(&t.started_at)),
            Cell::opt(t.ended_at.as_deref().map(when).as_deref()),
            Cell::number(t.executions),
            Cell::opt(notebook(t).as_deref()),
            Cell::plain(by(t)),
        ];
        if marked {
            row.insert(0, Cell::plain(if Some(t.id) == current { "*" } else { "" }));
        }
        if tagged {
            let line = extra.get(i).map(String::as_str).filter(|e| !e.is_empty());
            row.push(Cell::opt(line));
        }
        table.push(row);
    }
    let mut doc = Doc::new();
    doc.title(plural(trials.len(), "trial"));
    doc.table(0, table);
    if marked {
        doc.note(0, THIS_KERNEL);
    }
    Some(doc)
}

/// The notebook as the list shows it: relative to the trial's folder when inside it (as Jupyter
/// names it, and short enough that the table fits a notebook's width), else the whole path,
/// which the JSON always has.
fn notebook(t: &TrialSummary) -> Option<String> {
    let path = std::path::Path::new(t.notebook.as_deref()?);
    let shown = match path.strip_prefix(&t.cwd) {
        Ok(inside) if !inside.as_os_str().is_empty() => inside,
        _ => path,
    };
    Some(shown.display().to_string())
}

/// Who ran a trial and where, `user@host` (the host alone for a trial recorded before users
/// were kept): in a team store's list, what tells everyone's trials apart.
fn by(t: &TrialSummary) -> String {
    match &t.user {
        Some(user) => format!("{user}@{}", t.hostname),
        None => t.hostname.clone(),
    }
}

/// The JSON of one trial with its executions (`provctl show --json`):
/// `{"trial": …, "executions": […]}`. Serialize it directly to skip
/// building a `serde_json::Value` for a large trial.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct TrialJson<'a> {
    /// The trial.
    pub trial: &'a TrialSummary,
    /// Its executions in order.
    pub executions: &'a [ExecutionDetail],
}

/// One trial with its executions in order (`provctl show`). JSON:
/// [`TrialJson`].
pub fn render_trial(trial: &TrialSummary, executions: &[ExecutionDetail]) -> Rendered {
    let json = to_json(&TrialJson { trial, executions });
    let view = TrialView::new(trial, executions);
    let mut html = Html::new();
    html.title(&view.title);
    html.facts(&view.facts);
    match &view.table {
        Some(table) => html.raw(&table.html()),
        None => html.note(NO_EXECUTIONS),
    }
    Rendered {
        text: view.text(),
        html: html.finish(),
        json,
        svg: None,
    }
}

/// The text alone of [`render_trial`], for provctl.
pub fn trial_text(trial: &TrialSummary, executions: &[ExecutionDetail]) -> String {
    TrialView::new(trial, executions).text()
}

const NO_EXECUTIONS: &str = "No executions recorded in this trial.";

/// A trial as a title, label/value facts and a table of executions.
struct TrialView {
    title: String,
    facts: Vec<(&'static str, String)>,
    table: Option<Table>,
}

impl TrialView {
    fn new(trial: &TrialSummary, executions: &[ExecutionDetail]) -> TrialView {
        let mut facts: Vec<(&str, String)> = Vec::new();
        if let Some(nb) = &trial.notebook {
            facts.push(("notebook", nb.clone()));
        }
        facts.push(("directory", trial.cwd.clone()));
        facts.push(("started", format!("{} UTC", when(&trial.started_at))));
        if let Some(end) = &trial.ended_at {
            facts.push(("ended", format!("{} UTC", when(end))));
        }
        let mut env = match (&trial.python_version, &trial.ipykernel_version) {
            (Some(py), Some(ik)) => format!("Python {py}, ipykernel {ik}, "),
            (Some(py), None) => format!("Python {py}, "),
            (None, Some(ik)) => format!("ipykernel {ik}, "),
            (None, None) => String::new(),
        };
        env.push_str(&format!("{} on {}", trial.platform, trial.hostname));
        facts.push(("runtime", env));
        facts.push(("uuid", trial.uuid.clone()));

        let table = (!executions.is_empty()).then(|| {
            let mut table = Table::new(&EXECUTION_HEADERS);
            for e in executions {
                table.push(execution_cells(e));
            }
            table
        });
        TrialView {
            title: trial_title(trial),
            facts,
            table,
        }
    }

    fn text(&self) -> String {
        let width = self.facts.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        let mut text = format!("{}\n", self.title);
        for (k, v) in &self.facts {
            text.push_str(&format!("  {k:<width$}  {v}\n"));
        }
        text.push('\n');
        match &self.table {
            Some(table) => text.push_str(&table.text()),
            None => {
                text.push_str(NO_EXECUTIONS);
                text.push('\n');
            }
        }
        text
    }
}

/// The columns of an execution, as [`execution_cells`] fills them.
const EXECUTION_HEADERS: [&str; 7] = [
    "#",
    "In",
    "status",
    "started (UTC)",
    "duration",
    "code",
    "output",
];

/// The cells of an execution after `#`: `In`, status, start, duration,
/// code, output.
fn execution_cells(e: &ExecutionDetail) -> Vec<Cell> {
    vec![
        Cell::number(e.order),
        Cell::plain(
            e.execution_count
                .map(|n| format!("[{n}]"))
                .unwrap_or_default(),
        ),
        Cell::status(e.status.as_str()),
        Cell::plain(when(&e.started_at)),
        Cell::right(duration(e.duration_ms)),
        Cell::code(preview(&e.code, PREVIEW), &e.code),
        Cell::output(first_output(e, PREVIEW)),
    ]
}

/// The latest executions across trials, newest first (`provctl log`). JSON:
/// the array of entries, each an execution with `trial_id` and
/// `trial_name`.
pub fn render_log(entries: &[LogEntry]) -> Rendered {
    let json = to_json(&entries);
    match log_view(entries) {
        Some((title, table)) => titled_table(&title, table).rendered(json),
        None => notice(NO_LOG, json),
    }
}

/// A title over a table: the common shape of list answers.
fn titled_table(title: &str, table: Table) -> Doc {
    let mut doc = Doc::new();
    doc.title(title);
    doc.table(0, table);
    doc
}

/// The text alone of [`render_log`], for provctl.
pub fn log_text(entries: &[LogEntry]) -> String {
    match log_view(entries) {
        Some((title, table)) => titled_table(&title, table).text(),
        None => format!("{NO_LOG}\n"),
    }
}

const NO_LOG: &str = "No executions recorded in this store yet.";

fn log_view(entries: &[LogEntry]) -> Option<(String, Table)> {
    if entries.is_empty() {
        return None;
    }
    let mut headers = vec!["trial"];
    headers.extend(EXECUTION_HEADERS);
    let mut table = Table::new(&headers);
    for entry in entries {
        let trial = match &entry.trial_name {
            Some(name) => format!("{} {name}", entry.trial_id),
            None => entry.trial_id.to_string(),
        };
        let mut row = vec![Cell::plain(trial)];
        row.extend(execution_cells(&entry.execution));
        table.push(row);
    }
    let title = format!(
        "Latest {}, newest first",
        plural(entries.len(), "execution")
    );
    Some((title, table))
}

/// The list of magics (`%prov`, `%prov help`): `(name, usage, one-line
/// help)` each, as the kernel defines them. JSON: `{"magics": [{"name",
/// "usage", "help"}, …]}`.
pub fn render_help(magics: &[(&str, &str, &str)]) -> Rendered {
    let json = json!({
        "magics": magics
            .iter()
            .map(|(name, usage, help)| json!({ "name": name, "usage": usage, "help": help }))
            .collect::<Vec<_>>()
    });
    let width = magics
        .iter()
        .map(|(_, u, _)| u.chars().count())
        .max()
        .unwrap_or(0);
    let mut text = String::from("prov magics\n");
    let mut rows = String::new();
    for (_, usage, help) in magics {
        text.push_str(&format!("  {usage:<width$}  {help}\n"));
        rows.push_str(&format!(
            "<tr><td style=\"{}\"><code style=\"{}\">{}</code></td><td style=\"{}\">{}</td></tr>",
            html::TD,
            html::CODE,
            esc(usage),
            html::TD_WRAP,
            esc(help)
        ));
    }
    let mut html = Html::new();
    html.title("prov magics");
    html.raw(&format!("<table style=\"{}\">{rows}</table>", html::TABLE));
    Rendered {
        text,
        html: html.finish(),
        json,
        svg: None,
    }
}

/// A magic's help (`%name --help`), as laid out for a terminal: the text as it is, in HTML
/// preformatted. JSON: `{"magic": "%name", "help": text}`.
pub fn render_magic_help(name: &str, help: &str) -> Rendered {
    let mut html = Html::new();
    html.raw(&format!(
        "<pre style=\"{}margin:4px 0;\">{}</pre>",
        html::CODE,
        esc(help.trim_end())
    ));
    Rendered {
        text: help.to_string(),
        html: html.finish(),
        json: json!({ "magic": format!("%{name}"), "help": help }),
        svg: None,
    }
}

/// A plain error: what went wrong and (in `message`) what to do. JSON:
/// `{"error": message}`.
pub fn render_error(message: &str) -> Rendered {
    Rendered {
        text: format!("error: {message}\n"),
        html: Html::error(message),
        json: json!({ "error": message }),
        svg: None,
    }
}

/// A short confirmation (`message`), with `data` as its JSON (an object
/// gets a `"message"` field added; anything else goes under `"data"`).
pub fn render_confirmation(message: &str, data: Value) -> Rendered {
    let json = match data {
        Value::Object(mut map) => {
            map.insert("message".into(), Value::String(message.into()));
            Value::Object(map)
        }
        Value::Null => json!({ "message": message }),
        other => json!({ "message": message, "data": other }),
    };
    notice(message, json)
}

/// The answer to `%trial_name NAME`: the trial as it now is. JSON:
/// `{"trial": …, "message": …}`.
pub fn render_trial_named(trial: &TrialSummary) -> Rendered {
    let name = trial.name.as_deref().unwrap_or_default();
    render_confirmation(
        &format!("Trial {} is now named {name:?}.", trial.id),
        json!({ "trial": to_json(trial) }),
    )
}

/// A one-sentence answer.
fn notice(message: &str, json: Value) -> Rendered {
    let mut doc = Doc::new();
    doc.note(0, message);
    doc.rendered(json)
}

/// A title over one sentence, for answers that are only a finding ("no difference").
fn titled_notice(title: &str, message: &str, json: Value) -> Rendered {
    let mut doc = Doc::new();
    doc.title(title);
    doc.note(0, message);
    doc.rendered(json)
}

/// `Trial 3 "baseline": finished, 42 executions`.
fn trial_title(t: &TrialSummary) -> String {
    format!(
        "Trial {}: {}, {}",
        trial_named(t),
        t.status,
        plural(t.executions as usize, "execution")
    )
}

/// A trial in a title: `3 "baseline"`, or `3` without a name.
fn trial_named(t: &TrialSummary) -> String {
    match &t.name {
        Some(name) => format!("{} {name:?}", t.id),
        None => t.id.to_string(),
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod deps_tests;
