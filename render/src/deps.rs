//! Dataflow answers: which executions a variable came from
//! ([`render_deps`]), the code that rebuilds it ([`render_slice`],
//! [`slice_notebook`], [`slice_script`]) and the whole trial's graph
//! ([`render_graph`], [`graph_dot`]).

use std::collections::HashMap;

use provstore::{
    DepEdge, DepExecution, DepValue, DepsAnswer, FileVersion, GraphAnswer, SliceAnswer,
    TrialSummary,
};
use serde_json::{json, Value};

use crate::html::{self, badge, esc, Html};
use crate::notebook::{notebook_code_cell, notebook_of};
use crate::text::in_label;
use crate::{plural, to_json, Rendered};

mod files;

/// Longest value shown for a variable, in characters.
const VALUE_MAX: usize = 72;

/// `trial 3 "baseline"`.
fn trial_words(t: &TrialSummary) -> String {
    match &t.name {
        Some(name) => format!("trial {} {name:?}", t.id),
        None => format!("trial {}", t.id),
    }
}

/// The executions a variable depends on (`%backwards_deps VAR`,
/// `%global_backwards_deps VAR`, `provctl deps VAR`), in execution order:
/// each with its code (only the statements that contributed, with
/// `statements`), what it defines and uses, where what it used came from,
/// and the recorded values of those variables. SVG: the subgraph, left to
/// right. JSON: the [`DepsAnswer`] (`{"variable", "trial", "executions",
/// "edges"}`), the `provctl deps --json` contract.
pub fn render_deps(answer: &DepsAnswer, statements: bool) -> Rendered {
    let json = to_json(answer);
    let title = title_of(answer);
    if answer.executions.is_empty() && answer.inputs.is_empty() {
        return crate::notice(&title, json);
    }
    let from = sources(&answer.executions, &answer.edges, &answer.files);
    let text = text_of(&title, answer, &from, statements);

    let mut h = Html::new();
    h.title(&title);
    if !answer.executions.is_empty() {
        h.raw(&executions_table(answer, &from, statements));
    }
    h.raw(&files::inputs_html(&answer.inputs));

    Rendered {
        text,
        html: h.finish(),
        json,
        // One box says nothing the table does not.
        svg: (answer.executions.len() > 1 || !answer.files.is_empty()).then(|| {
            files::picture(
                &answer.executions,
                &answer.edges,
                &answer.files,
                &answer.variable,
            )
        }),
    }
}

/// The text/plain form of [`render_deps`] alone: `provctl deps` prints only this, and laying out
/// the picture of a large answer costs far more than the query.
pub fn deps_text(answer: &DepsAnswer, statements: bool) -> String {
    if answer.executions.is_empty() {
        return render_deps(answer, statements).text;
    }
    let from = sources(&answer.executions, &answer.edges, &answer.files);
    text_of(&title_of(answer), answer, &from, statements)
}

fn title_of(answer: &DepsAnswer) -> String {
    if answer.executions.is_empty() && !answer.inputs.is_empty() {
        // A file whose content no execution of the trial wrote.
        return format!(
            "{} came from outside {}",
            answer.variable,
            trial_words(&answer.trial)
        );
    }
    format!(
        "{} depends on {} of {}",
        answer.variable,
        plural(answer.executions.len(), "execution"),
        trial_words(&answer.trial)
    )
}

fn text_of(
    title: &str,
    answer: &DepsAnswer,
    from: &HashMap<i64, Vec<(String, Vec<String>)>>,
    statements: bool,
) -> String {
    let mut text = format!("{title}\n");
    for e in &answer.executions {
        text.push('\n');
        let files = files::file_facts(e.execution_id, &answer.files);
        text.push_str(&execution_text(
            e,
            from.get(&e.execution_id),
            &files,
            statements,
        ));
    }
    let inputs = files::inputs_text(&answer.inputs);
    if !inputs.is_empty() {
        text.push('\n');
        text.push_str(&inputs);
    }
    text
}

/// For each execution, where what it used came from: `(In [n], symbols)`.
fn sources(
    executions: &[DepExecution],
    edges: &[DepEdge],
    files: &[FileVersion],
) -> HashMap<i64, Vec<(String, Vec<String>)>> {
    let shown = files::shown_paths(files);
    let counts: HashMap<i64, Option<i64>> = executions
        .iter()
        .map(|e| (e.execution_id, e.execution_count))
        .collect();
    let mut from: HashMap<i64, Vec<(String, Vec<String>)>> = HashMap::new();
    for edge in edges {
        let producer = match counts.get(&edge.to) {
            Some(count) => in_label(*count),
            None => format!("execution {}", edge.to),
        };
        from.entry(edge.from)
            .or_default()
            .push((producer, files::shown_symbols(&edge.symbols, &shown)));
    }
    from
}

fn from_words(from: &[(String, Vec<String>)]) -> String {
    from.iter()
        .map(|(producer, symbols)| format!("{producer}: {}", symbols.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The lines of code to show: `(line number, text)`, `None` for a gap
/// between statements that are not adjacent.
fn code_lines(e: &DepExecution, statements: bool) -> Vec<Option<(usize, String)>> {
    if !statements || e.statements.is_empty() {
        return e
            .code
            .lines()
            .enumerate()
            .map(|(i, l)| Some((i + 1, l.to_string())))
            .collect();
    }
    let mut lines = Vec::new();
    let mut next = 1;
    for s in &e.statements {
        if s.line_start != next {
            lines.push(None);
        }
        for (i, l) in s.text.lines().enumerate() {
            lines.push(Some((s.line_start + i, l.to_string())));
        }
        next = s.line_end + 1;
    }
    lines
}

/// The changes of the execution's statements that are assumptions, not
/// known (`clean(df) may change df`), if any.
fn assumed_words(e: &DepExecution) -> Option<String> {
    let notes: Vec<&str> = e
        .statements
        .iter()
        .flat_map(|s| s.assumed.iter().map(String::as_str))
        .collect();
    (!notes.is_empty()).then(|| notes.join("; "))
}

fn value_words(v: &DepValue) -> String {
    let shown = match &v.value {
        Some(value) => {
            let s = serde_json::to_string(value).unwrap_or_default();
            let s: String = if s.chars().count() > VALUE_MAX {
                let mut cut: String = s.chars().take(VALUE_MAX - 1).collect();
                cut.push('…');
                cut
            } else {
                s
            };
            format!(" = {s}")
        }
        None => String::new(),
    };
    format!("{}: {}{shown}", v.name, v.type_name)
}

fn execution_text(
    e: &DepExecution,
    from: Option<&Vec<(String, Vec<String>)>>,
    files: &[(&'static str, String)],
    statements: bool,
) -> String {
    let mut text = in_label(e.execution_count);
    if e.status != "ok" {
        text.push_str(&format!("  ({})", e.status));
    }
    text.push('\n');
    let mut facts: Vec<(&str, String)> = Vec::new();
    if !e.defines.is_empty() {
        facts.push(("defines", e.defines.join(", ")));
    }
    if !e.uses.is_empty() {
        facts.push(("uses", e.uses.join(", ")));
    }
    if let Some(from) = from {
        facts.push(("from", from_words(from)));
    }
    for (k, v) in files {
        facts.push((k, v.clone()));
    }
    if let Some(notes) = assumed_words(e) {
        facts.push(("assumed", notes));
    }
    for v in &e.values {
        facts.push(("value", value_words(v)));
    }
    for (k, v) in facts {
        text.push_str(&format!("  {k:<8} {v}\n"));
    }
    let lines = code_lines(e, statements);
    let width = lines
        .iter()
        .flatten()
        .map(|(n, _)| n.to_string().len())
        .max()
        .unwrap_or(1);
    for line in lines {
        match line {
            Some((n, l)) => {
                text.push_str(&format!("  {n:>width$} | {l}\n").replace(" | \n", " |\n"))
            }
            None => text.push_str(&format!("  {:>width$} |\n", "…")),
        }
    }
    text
}

fn executions_table(
    answer: &DepsAnswer,
    from: &HashMap<i64, Vec<(String, Vec<String>)>>,
    statements: bool,
) -> String {
    let th = |s: &str| format!("<th style=\"{}\">{}</th>", html::TH, esc(s));
    let mut rows = format!(
        "<tr>{}{}{}{}</tr>",
        th("In"),
        th("defines / uses"),
        th(if statements { "statements" } else { "code" }),
        th("values")
    );
    let td = |s: String| format!("<td style=\"{}\">{s}</td>", html::TD);
    let muted = |s: &str| format!("<span style=\"{}\">{}</span>", html::MUTED, esc(s));
    for e in &answer.executions {
        let mut first = esc(&in_label(e.execution_count));
        if e.status != "ok" {
            first.push_str(&format!("<br>{}", badge(&e.status)));
        }
        let mut names = String::new();
        for (word, list) in [("defines", &e.defines), ("uses", &e.uses)] {
            if !list.is_empty() {
                names.push_str(&format!(
                    "{} <code style=\"{}\">{}</code><br>",
                    muted(word),
                    html::CODE,
                    esc(&list.join(", "))
                ));
            }
        }
        if let Some(f) = from.get(&e.execution_id) {
            names.push_str(&format!("{} {}", muted("from"), esc(&from_words(f))));
        }
        for (word, what) in files::file_facts(e.execution_id, &answer.files) {
            names.push_str(&format!("<br>{} {}", muted(word), esc(&what)));
        }
        if let Some(notes) = assumed_words(e) {
            names.push_str(&format!("<br>{} {}", muted("assumed"), esc(&notes)));
        }
        let code: Vec<String> = code_lines(e, statements)
            .into_iter()
            .map(|l| match l {
                Some((_, text)) => esc(&text),
                None => muted("…"),
            })
            .collect();
        let values: Vec<String> = e
            .values
            .iter()
            .map(|v| {
                format!(
                    "<code style=\"{}\">{}</code>",
                    html::CODE,
                    esc(&value_words(v))
                )
            })
            .collect();
        rows.push_str(&format!(
            "<tr>{}{}{}{}</tr>",
            td(first),
            td(names),
            td(format!(
                "<pre style=\"{}margin:0;\">{}</pre>",
                html::CODE,
                code.join("\n")
            )),
            td(values.join("<br>"))
        ));
    }
    format!("<table style=\"{}\">{rows}</table>", html::TABLE)
}

/// The code that rebuilds a variable (`%slice VAR`, `provctl slice VAR`):
/// the contributing statements in execution order, separated by blank
/// lines, each execution's first one under a `# In[n]` comment. JSON: the
/// [`SliceAnswer`].
pub fn render_slice(answer: &SliceAnswer) -> Rendered {
    let json = to_json(answer);
    let code = slice_code(answer);
    let title = format!(
        "The code that makes {} in {}: {}",
        answer.variable,
        trial_words(&answer.trial),
        plural(answer.statements.len(), "statement")
    );
    let mut h = Html::new();
    h.title(&title);
    h.raw(&files::inputs_html(&answer.inputs));
    h.raw(&format!(
        "<pre style=\"{}margin:4px 0;\">{}</pre>",
        html::CODE,
        esc(&code)
    ));
    Rendered {
        text: code,
        html: h.finish(),
        json,
        svg: None,
    }
}

/// The slice as code: statements separated by blank lines, a `# In[n]`
/// comment before each execution's first statement.
pub fn slice_code(answer: &SliceAnswer) -> String {
    // What the code reads that no statement of it writes, as comments it runs with.
    let mut out: String = files::inputs_text(&answer.inputs)
        .lines()
        .map(|l| format!("# {}\n", l.trim_start()))
        .collect();
    let mut current: Option<i64> = None;
    for s in &answer.statements {
        if !out.is_empty() {
            out.push('\n');
        }
        if current != Some(s.execution_id) {
            current = Some(s.execution_id);
            out.push_str(&match s.execution_count {
                Some(n) => format!("# In[{n}]\n"),
                None => "# In[ ]\n".to_string(),
            });
        }
        out.push_str(s.text.trim_end_matches('\n'));
        out.push('\n');
    }
    out
}

/// The slice as a Python script: a header saying where it came from, then
/// [`slice_code`].
pub fn slice_script(answer: &SliceAnswer) -> String {
    format!(
        "# The code that makes `{}`, sliced from {} by prov.\n\n{}",
        answer.variable,
        trial_words(&answer.trial),
        slice_code(answer)
    )
}

/// The slice as a notebook (nbformat 4.5): one code cell per execution of
/// the slice holding its contributing statements, for the `python-prov`
/// kernel.
pub fn slice_notebook(answer: &SliceAnswer) -> Value {
    let mut groups: Vec<(i64, Option<i64>, Vec<&str>)> = Vec::new();
    for s in &answer.statements {
        match groups.last_mut() {
            Some((id, _, texts)) if *id == s.execution_id => texts.push(&s.text),
            _ => groups.push((s.execution_id, s.execution_count, vec![&s.text])),
        }
    }
    let cells: Vec<Value> = groups
        .iter()
        .enumerate()
        .map(|(i, (id, count, texts))| {
            let source: String = texts
                .iter()
                .map(|t| t.trim_end_matches('\n'))
                .collect::<Vec<_>>()
                .join("\n");
            notebook_code_cell(
                &format!("prov-slice-{}", i + 1),
                None,
                &source,
                Vec::new(),
                json!({ "execution_id": id, "execution_count": count }),
            )
        })
        .collect();
    notebook_of(
        cells,
        json!({
            "slice_of": answer.variable,
            "inputs": answer.inputs,
            "trial": answer.trial.id,
            "trial_uuid": answer.trial.uuid,
        }),
    )
}

/// A trial's whole dataflow graph (`provctl graph`): text, the
/// dependencies one per line; SVG: every execution that defines or uses
/// something, left to right. JSON: the [`GraphAnswer`].
pub fn render_graph(answer: &GraphAnswer) -> Rendered {
    let json = to_json(answer);
    let text = graph_text(answer);
    let title = text.lines().next().unwrap_or_default().to_string();
    if answer.executions.is_empty() {
        return crate::notice(&title, json);
    }
    let mut h = Html::new();
    h.title(&title);
    Rendered {
        text,
        html: h.finish(),
        json,
        svg: Some(files::picture(
            &answer.executions,
            &answer.edges,
            &answer.files,
            "",
        )),
    }
}

/// The text of [`render_graph`]: a title, then one line per dependency
/// (`In [3] <- In [1]: df`).
pub fn graph_text(answer: &GraphAnswer) -> String {
    let mut text = format!(
        "Dataflow of {}: {}, {}\n",
        trial_words(&answer.trial),
        plural(answer.executions.len(), "execution"),
        match answer.edges.len() {
            1 => "1 dependency".to_string(),
            n => format!("{n} dependencies"),
        }
    );
    let counts: HashMap<i64, Option<i64>> = answer
        .executions
        .iter()
        .map(|e| (e.execution_id, e.execution_count))
        .collect();
    let name = |id: i64| match counts.get(&id) {
        Some(c) => in_label(*c),
        None => format!("execution {id}"),
    };
    let shown = files::shown_paths(&answer.files);
    for e in &answer.edges {
        text.push_str(&format!(
            "  {} <- {}: {}\n",
            name(e.from),
            name(e.to),
            files::shown_symbols(&e.symbols, &shown).join(", ")
        ));
    }
    text.push_str(&files::graph_files_text(&answer.files, name));
    text
}

/// The graph in Graphviz DOT (`provctl graph -o FILE.dot`): executions as
/// boxes `In [n]` with a code preview, edges from producer to user
/// labelled with the variables, left to right.
pub fn graph_dot(answer: &GraphAnswer) -> String {
    let q = |s: &str| {
        let mut out = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                c if c.is_control() => {}
                c => out.push(c),
            }
        }
        out.push('"');
        out
    };
    let mut dot = format!(
        "digraph {} {{\n  rankdir=LR;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n  \
         edge [fontname=\"Courier\", fontsize=10];\n",
        q(&format!("prov {}", trial_words(&answer.trial)))
    );
    for e in &answer.executions {
        let label = format!(
            "{}\n{}",
            in_label(e.execution_count),
            crate::text::preview(&e.code, 32)
        );
        let colour = if e.status == "error" {
            ", color=\"#e5534b\""
        } else {
            ""
        };
        dot.push_str(&format!(
            "  e{} [label={}{colour}];\n",
            e.execution_id,
            q(&label)
        ));
    }
    for e in &answer.edges {
        // What a file carried goes through the file's node.
        let symbols: Vec<&str> = e
            .symbols
            .iter()
            .map(String::as_str)
            .filter(|s| !provstore::is_file_name(s))
            .collect();
        if symbols.is_empty() {
            continue;
        }
        dot.push_str(&format!(
            "  e{} -> e{} [label={}];\n",
            e.to,
            e.from,
            q(&symbols.join(", "))
        ));
    }
    dot.push_str(&files::graph_files_dot(&answer.files, q));
    dot.push_str("}\n");
    dot
}
