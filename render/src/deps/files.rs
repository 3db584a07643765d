//! Files in the dependency answers: the picture's file nodes (a version of a file between the
//! execution that wrote it and those that read it, content from outside before its first
//! reader), what an execution wrote and read from outside, the inputs a slice needs, and files
//! named by the path the code gave rather than the resolved one.

use std::collections::HashMap;

use provstore::{is_file_name, DepEdge, DepExecution, FileInput, FileVersion};

use crate::html::{self, esc};
use crate::svg::{self, graph_svg, Shape};
use crate::text::in_label;

/// The hash as people compare it: its first 12 characters.
fn short_sha(sha: Option<&str>) -> String {
    match sha {
        Some(s) => format!("sha256 {}", s.chars().take(12).collect::<String>()),
        None => "no hash".to_string(),
    }
}

/// The path the code gave for each resolved file path of the answer.
pub(super) fn shown_paths(files: &[FileVersion]) -> HashMap<&str, &str> {
    files
        .iter()
        .map(|f| (f.resolved.as_str(), f.path.as_str()))
        .collect()
}

/// `symbols` with each file's resolved path replaced by the path the code gave.
pub(super) fn shown_symbols(symbols: &[String], shown: &HashMap<&str, &str>) -> Vec<String> {
    symbols
        .iter()
        .map(|s| shown.get(s.as_str()).map_or(s.clone(), |p| p.to_string()))
        .collect()
}

/// What execution `id` did with files in the answer: `("writes", …)` and the files it read
/// from outside (`("reads", "conf.json (from outside, sha256 …)")`).
pub(super) fn file_facts(id: i64, files: &[FileVersion]) -> Vec<(&'static str, String)> {
    let mut facts: Vec<(&'static str, String)> = Vec::new();
    let mut add = |key: &'static str, value: String| {
        if !facts.iter().any(|(k, v)| *k == key && *v == value) {
            facts.push((key, value));
        }
    };
    for f in files {
        if f.written_by == Some(id) {
            add("writes", f.path.clone());
        }
        if f.written_by.is_none() && f.read_by.contains(&id) {
            let sha = short_sha(f.sha256.as_deref());
            add("reads", format!("{} (from outside, {sha})", f.path));
        }
    }
    facts
}

/// The lines naming the files a value needs from outside the trial, or nothing.
pub(super) fn inputs_text(inputs: &[FileInput]) -> String {
    if inputs.is_empty() {
        return String::new();
    }
    let mut text = String::from("Files it needs from outside the trial:\n");
    for i in inputs {
        text.push_str(&format!(
            "  {}  {}  ({})\n",
            i.path,
            short_sha(i.sha256.as_deref()),
            i.resolved
        ));
    }
    text
}

/// [`inputs_text`] as HTML.
pub(super) fn inputs_html(inputs: &[FileInput]) -> String {
    if inputs.is_empty() {
        return String::new();
    }
    let items: String = inputs
        .iter()
        .map(|i| {
            format!(
                "<li><code style=\"{}\">{}</code> {} <span style=\"{}\">{}</span></li>",
                html::CODE,
                esc(&i.path),
                esc(&short_sha(i.sha256.as_deref())),
                html::MUTED,
                esc(&i.resolved)
            )
        })
        .collect();
    format!("<p style=\"margin:6px 0 2px 0;\">Files it needs from outside the trial:</p><ul style=\"margin:0;\">{items}</ul>")
}

/// The picture of executions, the files between them and the edges; the executions defining
/// `variable` (or the file it names) are emphasised. Nodes go in an order where every
/// producer comes before its users, as the layout wants: a file from outside just before its
/// first reader, a written file just after its writer.
pub(super) fn picture(
    executions: &[DepExecution],
    edges: &[DepEdge],
    files: &[FileVersion],
    variable: &str,
) -> String {
    let position: HashMap<i64, usize> = executions
        .iter()
        .enumerate()
        .map(|(i, e)| (e.execution_id, i))
        .collect();
    let first_reader = |f: &FileVersion| {
        f.read_by
            .iter()
            .filter_map(|r| position.get(r))
            .min()
            .copied()
    };
    let mut nodes: Vec<svg::Node> = Vec::new();
    let mut exec_at: HashMap<i64, usize> = HashMap::new();
    let mut file_at: Vec<Option<usize>> = vec![None; files.len()];
    for (i, e) in executions.iter().enumerate() {
        for (k, f) in files.iter().enumerate() {
            if f.written_by.is_none() && first_reader(f) == Some(i) {
                file_at[k] = Some(nodes.len());
                nodes.push(file_node(f, variable));
            }
        }
        exec_at.insert(e.execution_id, nodes.len());
        nodes.push(svg::Node {
            title: in_label(e.execution_count),
            code: e.code.clone(),
            failed: e.status == "error",
            emphasis: !variable.is_empty() && e.defines.iter().any(|d| d == variable),
            shape: Shape::Execution,
        });
        for (k, f) in files.iter().enumerate() {
            if f.written_by == Some(e.execution_id) {
                file_at[k] = Some(nodes.len());
                nodes.push(file_node(f, variable));
            }
        }
    }
    let mut out: Vec<svg::Edge> = edges
        .iter()
        .filter_map(|e| {
            // What a file carried is drawn through the file's node.
            let symbols: Vec<String> = e
                .symbols
                .iter()
                .filter(|s| !is_file_name(s))
                .cloned()
                .collect();
            (!symbols.is_empty()).then_some(svg::Edge {
                from: *exec_at.get(&e.to)?,
                to: *exec_at.get(&e.from)?,
                symbols,
            })
        })
        .collect();
    for (k, f) in files.iter().enumerate() {
        let Some(node) = file_at[k] else { continue };
        if let Some(writer) = f.written_by.and_then(|w| exec_at.get(&w)) {
            out.push(svg::Edge {
                from: *writer,
                to: node,
                symbols: Vec::new(),
            });
        }
        for reader in f.read_by.iter().filter_map(|r| exec_at.get(r)) {
            out.push(svg::Edge {
                from: node,
                to: *reader,
                symbols: Vec::new(),
            });
        }
    }
    graph_svg(&nodes, &out)
}

/// A file version's box: the path the code gave, and what is known of its content.
fn file_node(f: &FileVersion, variable: &str) -> svg::Node {
    let outside = f.written_by.is_none();
    let sha: String = f.sha256.as_deref().unwrap_or("").chars().take(8).collect();
    svg::Node {
        title: short_path(&f.path),
        code: match (outside, sha.is_empty()) {
            (true, true) => "from outside".to_string(),
            (true, false) => format!("from outside · {sha}"),
            (false, true) => "written, no hash".to_string(),
            (false, false) => format!("sha256 {sha}"),
        },
        failed: false,
        emphasis: variable == f.path || variable == f.resolved,
        shape: Shape::File { outside },
    }
}

/// A path short enough for a box's title: its last characters, which hold the file's name.
fn short_path(path: &str) -> String {
    const MAX: usize = 28;
    let n = path.chars().count();
    if n <= MAX {
        path.to_string()
    } else {
        let tail: String = path.chars().skip(n - (MAX - 1)).collect();
        format!("…{tail}")
    }
}

/// The files of a trial's graph as text lines: `  houses.csv (sha256 …): written by In [2],
/// read by In [3]`, the content from outside said so.
pub(super) fn graph_files_text(files: &[FileVersion], name: impl Fn(i64) -> String) -> String {
    let mut text = String::new();
    for f in files {
        let mut who: Vec<String> = Vec::new();
        match f.written_by {
            Some(w) => who.push(format!("written by {}", name(w))),
            None => who.push("from outside".to_string()),
        }
        if !f.read_by.is_empty() {
            let readers: Vec<String> = f.read_by.iter().map(|&r| name(r)).collect();
            who.push(format!("read by {}", readers.join(", ")));
        }
        text.push_str(&format!(
            "  file {} ({}): {}\n",
            f.path,
            short_sha(f.sha256.as_deref()),
            who.join(", ")
        ));
    }
    text
}

/// The files of a trial's graph in Graphviz DOT: a `note` node per version (dashed when
/// from outside), an edge from its writer and to each reader.
pub(super) fn graph_files_dot(files: &[FileVersion], q: impl Fn(&str) -> String) -> String {
    let mut dot = String::new();
    for (k, f) in files.iter().enumerate() {
        let style = if f.written_by.is_none() {
            "filled,dashed"
        } else {
            "filled"
        };
        let label = format!("{}\n{}", f.path, short_sha(f.sha256.as_deref()));
        dot.push_str(&format!(
            "  f{k} [shape=note, style=\"{style}\", fillcolor=\"#fff8e1\", label={}, tooltip={}];\n",
            q(&label),
            q(&f.resolved)
        ));
        if let Some(w) = f.written_by {
            dot.push_str(&format!("  e{w} -> f{k};\n"));
        }
        for r in &f.read_by {
            dot.push_str(&format!("  f{k} -> e{r};\n"));
        }
    }
    dot
}

#[cfg(test)]
mod tests;
