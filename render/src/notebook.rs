//! Notebooks (nbformat 4.5) for the `python-prov` kernel: the one skeleton that both a slice
//! (`deps.rs`) and `provexport`'s whole-trial export write, so the two agree on the format,
//! the kernelspec and where prov's own facts go (`metadata.prov`).

use serde_json::{json, Value};

/// A code cell: `id` (unique in its notebook, `[A-Za-z0-9-_]`), its `In [n]`, source, outputs
/// (nbformat output dicts) and what prov knows about it, under `metadata.prov`.
pub fn notebook_code_cell(
    id: &str,
    execution_count: Option<i64>,
    source: &str,
    outputs: Vec<Value>,
    prov: Value,
) -> Value {
    json!({
        "cell_type": "code",
        "id": id,
        "execution_count": execution_count,
        "metadata": { "prov": prov },
        "outputs": outputs,
        "source": source_lines(source),
    })
}

/// A notebook of `cells` for the `Python (prov)` kernel, with what prov knows about where it
/// came from under `metadata.prov`.
pub fn notebook_of(cells: Vec<Value>, prov: Value) -> Value {
    json!({
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {
                "name": "python-prov",
                "display_name": "Python (prov)",
                "language": "python"
            },
            "language_info": { "name": "python" },
            "prov": prov,
        },
        "cells": cells,
    })
}

/// A notebook's multi-line string: lines keeping their `\n`, the last one without.
pub fn source_lines(s: &str) -> Vec<String> {
    let mut lines: Vec<String> = s.split_inclusive('\n').map(String::from).collect();
    if let Some(last) = lines.last_mut() {
        if last.ends_with('\n') {
            last.pop();
        }
    }
    lines
}
