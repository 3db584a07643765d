//! The dataflow renderers on hand-made answers: the JSON contracts, the
//! slice as code, notebook and script, well-formed SVG, escaped HTML.

use super::*;
use crate::tests::{assert_shows, trial, xml_elements};
use provstore::{
    DepEdge, DepExecution, DepStatement, DepValue, DepsAnswer, GraphAnswer, SliceAnswer,
    SliceStatement,
};

fn dep_exec(id: i64, code: &str, defines: &[&str], uses: &[&str]) -> DepExecution {
    DepExecution {
        execution_id: id,
        execution_count: Some(id),
        cell_id: Some(format!("cell-{id}")),
        code: code.into(),
        status: "ok".into(),
        defines: defines.iter().map(|s| s.to_string()).collect(),
        uses: uses.iter().map(|s| s.to_string()).collect(),
        statements: code
            .lines()
            .enumerate()
            .map(|(i, l)| DepStatement {
                index: i,
                line_start: i + 1,
                line_end: i + 1,
                text: l.into(),
                assumed: vec![],
            })
            .collect(),
        values: vec![],
    }
}

fn edge(from: i64, to: i64, symbols: &[&str]) -> DepEdge {
    DepEdge {
        from,
        to,
        symbols: symbols.iter().map(|s| s.to_string()).collect(),
    }
}

/// `model` made from `df` (from a CSV and `pd`) and `n`, with a long edge
/// from In [1] to In [4] that passes a layer.
fn deps_answer() -> DepsAnswer {
    let mut e2 = dep_exec(
        2,
        "df = pd.read_csv('<data>.csv')\nprint(df.head())",
        &["df"],
        &["pd"],
    );
    e2.statements.truncate(1);
    let mut e4 = dep_exec(4, "model = fit(df, n)", &["model"], &["df", "n", "fit"]);
    e4.values = vec![DepValue {
        name: "model".into(),
        type_name: "LinearRegression".into(),
        value: None,
    }];
    let mut e3 = dep_exec(3, "n = 10", &["n"], &[]);
    e3.values = vec![DepValue {
        name: "n".into(),
        type_name: "int".into(),
        value: Some(serde_json::json!(10)),
    }];
    DepsAnswer {
        variable: "model".into(),
        trial: trial(3, Some("baseline")),
        executions: vec![
            dep_exec(
                1,
                "import pandas as pd\nfrom lib import fit",
                &["pd", "fit"],
                &[],
            ),
            e2,
            e3,
            e4,
        ],
        edges: vec![
            edge(2, 1, &["pd"]),
            edge(4, 2, &["df"]),
            edge(4, 3, &["n"]),
            edge(4, 1, &["fit"]),
        ],
        files: vec![],
        inputs: vec![],
    }
}

#[test]
fn deps_json_is_the_provctl_contract() {
    let r = render_deps(&deps_answer(), false);
    assert_eq!(r.json["variable"], "model");
    assert_eq!(r.json["trial"]["id"], 3);
    let executions = r.json["executions"].as_array().unwrap();
    assert_eq!(executions.len(), 4);
    for key in ["execution_count", "cell_id", "code", "defines", "uses"] {
        assert!(
            executions.iter().all(|e| e.get(key).is_some()),
            "missing {key}"
        );
    }
    assert_eq!(executions[3]["execution_count"], 4);
    assert_eq!(executions[3]["defines"], serde_json::json!(["model"]));
    assert_eq!(r.json["edges"].as_array().unwrap().len(), 4);
}

#[test]
fn deps_text_alone_is_the_rendered_text() {
    let answer = deps_answer();
    for statements in [false, true] {
        assert_eq!(
            deps_text(&answer, statements),
            render_deps(&answer, statements).text
        );
    }
    let mut empty = deps_answer();
    empty.executions.clear();
    empty.edges.clear();
    assert_eq!(deps_text(&empty, false), render_deps(&empty, false).text);
}

#[test]
fn deps_text_shows_code_names_sources_and_values() {
    let answer = deps_answer();
    let text = render_deps(&answer, false).text;
    assert!(
        text.starts_with("model depends on 4 executions of trial 3 \"baseline\"\n"),
        "{text}"
    );
    assert_shows(
        &text,
        &[
            "In [4]\n",
            "  defines  model\n",
            "  uses     df, n, fit\n",
            "  from     In [2]: df; In [3]: n; In [1]: fit\n",
            "  value    n: int = 10\n",
            "  value    model: LinearRegression\n",
            "  2 | print(df.head())\n",
        ],
    );

    // Only the statements that contributed.
    let only = render_deps(&answer, true).text;
    assert!(
        only.contains("  1 | df = pd.read_csv('<data>.csv')\n"),
        "{only}"
    );
    assert!(!only.contains("print(df.head())"), "{only}");
    // A statement after skipped lines says something was left out.
    let mut later = answer.clone();
    later.executions[1].statements = vec![later.executions[1].statements[0].clone()];
    later.executions[1].statements[0].line_start = 2;
    later.executions[1].statements[0].line_end = 2;
    let gap = render_deps(&later, true).text;
    assert!(gap.contains("  … |\n  2 | df = pd.read_csv"), "{gap}");
}

#[test]
fn deps_svg_is_well_formed_with_a_box_per_execution_and_an_edge_per_dependency() {
    let r = render_deps(&deps_answer(), false);
    let svg = r.svg.as_deref().unwrap();
    let names = xml_elements(svg);
    assert_eq!(names[0], "svg");
    assert_eq!(svg.matches("<g class=\"node\"").count(), 4);
    assert_eq!(svg.matches("<path class=\"edge\"").count(), 4);
    assert_eq!(svg.matches("<text class=\"label\"").count(), 4);
    assert!(names.iter().filter(|n| *n == "rect").count() == 5);
    // Its own light panel, first thing drawn, with explicit colours: shown as an image, the
    // page's theme (currentColor, CSS) never reaches it.
    assert!(
        svg.split_once("</defs>")
            .unwrap()
            .1
            .starts_with("<rect class=\"panel\""),
        "{svg}"
    );
    assert!(!svg.contains("currentColor"), "{svg}");
    assert!(svg.contains("&lt;data&gt;"), "code is escaped");
    // Left to right in execution order: In [1] left of In [2] left of In [4].
    let x = |label: &str| -> f64 {
        let at = svg.find(&format!(">{label}</text>")).unwrap();
        let start = svg[..at].rfind("<text x=\"").unwrap() + 9;
        svg[start..].split('"').next().unwrap().parse().unwrap()
    };
    assert!(x("In [1]") < x("In [2]") && x("In [2]") < x("In [4]"));
    assert!(x("In [3]") < x("In [4]"));
    // The picture is an output of its own: an untrusted notebook strips an inline <svg>.
    assert!(!r.html.contains("<svg"), "{}", r.html);
    xml_elements(&r.html.replace("<br>", "<br/>"));
}

#[test]
fn a_picture_carries_svg_png_and_a_line_of_text() {
    let r = render_deps(&deps_answer(), false);
    let picture = r.picture().expect("a picture");
    assert_eq!(picture.data["image/svg+xml"], r.svg.clone().unwrap());
    let plain = picture.data["text/plain"].as_str().unwrap();
    assert!(plain.starts_with("[picture: model depends on"), "{plain}");
    let png = crate::tests::decode_png(&picture.data["image/png"]);
    // Drawn at twice the size the notebook is told to show it at.
    assert_eq!(
        png.width(),
        2 * picture.metadata["image/png"]["width"].as_u64().unwrap() as u32
    );
    crate::tests::assert_text_drawn(&png, "deps");
    crate::tests::assert_light_panel(&png);
    // The answer itself is HTML and text only: no JSON a front end would draw as a tree.
    let bundle = r.mime_bundle();
    assert_eq!(
        bundle.keys().collect::<Vec<_>>(),
        ["text/html", "text/plain"]
    );
}

#[test]
fn deps_html_is_escaped() {
    let mut answer = deps_answer();
    answer.variable = "<script>alert(1)</script>".into();
    answer.executions[0].code = "x = '<b>&'".into();
    let html = render_deps(&answer, false).html;
    assert!(
        !html.contains("<script>") && !html.contains("<b>"),
        "{html}"
    );
    assert!(
        html.contains("&lt;script&gt;") && html.contains("&lt;b&gt;&amp;"),
        "{html}"
    );
}

#[test]
fn a_lone_execution_and_no_executions_still_render() {
    let mut answer = deps_answer();
    answer.executions.truncate(1);
    answer.edges.clear();
    let r = render_deps(&answer, true);
    assert!(r.text.contains("In [1]"), "{}", r.text);
    assert!(r.svg.is_none(), "one box is no picture");
    answer.executions.clear();
    let r = render_deps(&answer, false);
    assert!(r.text.contains("0 executions"), "{}", r.text);
}

fn slice_answer() -> SliceAnswer {
    let st = |execution_id: i64, statement: usize, text: &str| SliceStatement {
        execution_id,
        execution_count: Some(execution_id),
        statement,
        text: text.into(),
    };
    SliceAnswer {
        variable: "model".into(),
        trial: trial(3, None),
        statements: vec![
            st(1, 0, "import pandas as pd"),
            st(1, 1, "from lib import fit"),
            st(2, 0, "df = pd.read_csv('data.csv')"),
            st(4, 0, "def f(x):\n    return x + 1"),
        ],
        inputs: vec![],
    }
}

#[test]
fn slice_text_is_runnable_code_with_in_comments() {
    let r = render_slice(&slice_answer());
    assert_eq!(
        r.text,
        "# In[1]\nimport pandas as pd\n\nfrom lib import fit\n\n# In[2]\n\
         df = pd.read_csv('data.csv')\n\n# In[4]\ndef f(x):\n    return x + 1\n"
    );
    assert_eq!(r.json["variable"], "model");
    assert_eq!(r.json["statements"].as_array().unwrap().len(), 4);
    assert_eq!(r.json["statements"][2]["execution_count"], 2);
    let script = slice_script(&slice_answer());
    assert!(script
        .starts_with("# The code that makes `model`, sliced from trial 3 by prov.\n\n# In[1]\n"));
}

#[test]
fn slice_notebook_has_a_cell_per_execution() {
    let nb = slice_notebook(&slice_answer());
    assert_eq!(nb["nbformat"], 4);
    assert_eq!(nb["metadata"]["kernelspec"]["name"], "python-prov");
    let cells = nb["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 3);
    assert_eq!(cells[0]["cell_type"], "code");
    assert_eq!(
        cells[0]["source"],
        serde_json::json!(["import pandas as pd\n", "from lib import fit"])
    );
    assert_eq!(
        cells[2]["source"],
        serde_json::json!(["def f(x):\n", "    return x + 1"])
    );
    assert!(cells
        .iter()
        .all(|c| c["outputs"] == serde_json::json!([]) && c["id"].is_string()));
}

#[test]
fn graph_renders_as_svg_dot_and_text() {
    let deps = deps_answer();
    let graph = GraphAnswer {
        trial: deps.trial.clone(),
        executions: deps.executions.clone(),
        edges: deps.edges.clone(),
        files: vec![],
    };
    let r = render_graph(&graph);
    let svg = r.svg.unwrap();
    xml_elements(&svg);
    assert_eq!(svg.matches("<g class=\"node\"").count(), 4);
    assert_eq!(svg.matches("<path class=\"edge\"").count(), 4);
    assert!(r
        .text
        .starts_with("Dataflow of trial 3 \"baseline\": 4 executions, 4 dependencies\n"));
    assert_shows(&r.text, &["  In [4] <- In [2]: df\n"]);
    let dot = graph_dot(&graph);
    assert!(
        dot.starts_with("digraph \"prov trial 3 \\\"baseline\\\"\" {\n  rankdir=LR;"),
        "{dot}"
    );
    assert_shows(
        &dot,
        &[
            "  e2 -> e4 [label=\"df\"];\n",
            "  e4 [label=\"In [4]\\nmodel = fit(df, n)\"];\n",
        ],
    );
    assert_eq!(dot.matches(" -> ").count(), 4);
}

#[test]
fn long_edges_to_a_hub_stay_linear_in_size() {
    // Every cell uses In [1] and its predecessor: a chain whose edges back
    // to In [1] would need a quadratic number of pass-through slots.
    let n = 120;
    let executions: Vec<DepExecution> = (1..=n)
        .map(|i| dep_exec(i, "x = f(x, pd)", &["x"], &["x", "pd"]))
        .collect();
    let mut edges = Vec::new();
    for i in 2..=n {
        edges.push(edge(i, i - 1, &["x"]));
        if i > 2 {
            edges.push(edge(i, 1, &["pd"]));
        }
    }
    let graph = GraphAnswer {
        trial: trial(1, None),
        executions,
        edges,
        files: vec![],
    };
    let svg = render_graph(&graph).svg.unwrap();
    xml_elements(&svg);
    assert_eq!(svg.matches("<g class=\"node\"").count(), n as usize);
    assert_eq!(
        svg.matches("<path class=\"edge\"").count(),
        2 * n as usize - 3
    );
    // One " L" per slot an edge passes through: at most 4 per box.
    assert!(svg.matches(" L").count() <= 4 * n as usize, "{}", svg.len());
}

/// The boxes of the labels of a picture: `(left, top, right, bottom)`, from their anchor and
/// length as drawn (11px monospace, about 6.7px a character).
fn label_boxes(svg: &str) -> Vec<(f64, f64, f64, f64)> {
    svg.split("<text class=\"label\" ")
        .skip(1)
        .map(|rest| {
            let attr = |name: &str| -> String {
                let at = rest.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
                rest[at..].split('"').next().unwrap().to_string()
            };
            let (x, y): (f64, f64) = (attr("x").parse().unwrap(), attr("y").parse().unwrap());
            let text = rest
                .split("</title>")
                .nth(1)
                .unwrap()
                .split("</text>")
                .next()
                .unwrap();
            let w = text
                .replace("&amp;", "&")
                .replace("&#39;", "'")
                .chars()
                .count() as f64
                * 6.7;
            let left = match attr("text-anchor").as_str() {
                "start" => x,
                "end" => x - w,
                _ => x - w / 2.0,
            };
            (left, y - 9.0, left + w, y + 2.0)
        })
        .collect()
}

#[test]
fn crowded_graph_labels_never_overlap() {
    // One cell feeding many, and many feeding one, with long names: the labels by the
    // crowded boxes must find room elsewhere.
    let mut executions = vec![
        dep_exec(1, "import numpy as np, pandas as pd", &[], &[]),
        dep_exec(2, "seed = 0\nC = 1.0", &[], &[]),
    ];
    let mut edges = Vec::new();
    for i in 3..=12 {
        executions.push(dep_exec(i, &format!("v{i} = f(np)"), &[], &[]));
        edges.push(edge(i, 1, &["np", "pd", &format!("helper_{i}")]));
        edges.push(edge(i, 2, &["seed", "C"]));
        edges.push(edge(13, i, &[&format!("v{i}"), "a_rather_long_name"]));
        if i > 3 {
            edges.push(edge(i, i - 1, &[&format!("v{}", i - 1)]));
        }
    }
    executions.push(dep_exec(13, "total = sum(...)", &["total"], &[]));
    let graph = GraphAnswer {
        trial: trial(2, None),
        executions,
        edges,
        files: vec![],
    };
    let svg = render_graph(&graph).svg.unwrap();
    let boxes = label_boxes(&svg);
    assert_eq!(boxes.len(), 39);
    for (i, a) in boxes.iter().enumerate() {
        for b in &boxes[i + 1..] {
            let apart = a.2 <= b.0 || b.2 <= a.0 || a.3 <= b.1 || b.3 <= a.1;
            assert!(apart, "labels overlap: {a:?} {b:?}");
        }
    }
}

#[test]
fn short_statements_are_shown_whole_in_their_box() {
    // The width of every box, and the code line of the box titled `title`.
    fn boxes(svg: &str, title: &str) -> (Vec<f64>, String) {
        let mut widths = Vec::new();
        let mut code = String::new();
        for node in svg.split("<g class=\"node\">").skip(1) {
            let w = node
                .split("width=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            widths.push(w.parse().unwrap());
            if node.contains(&format!(">{title}</text>")) {
                code = node
                    .rsplit("\">")
                    .next()
                    .unwrap()
                    .split('<')
                    .next()
                    .unwrap()
                    .into();
            }
        }
        (widths, code)
    }
    // 42 characters: the box widens to hold it whole, within its maximum.
    let code = "result = data.sum() + acc * weights.mean()";
    let mut answer = deps_answer();
    answer.executions[3].code = code.into();
    let svg = render_deps(&answer, false).svg.unwrap();
    let (widths, shown) = boxes(&svg, "In [4]");
    assert_eq!(shown, code, "{svg}");
    // Wider than its text (11px monospace, at most 6.7px a character) and its 9px inset.
    for w in &widths {
        assert!(*w >= code.chars().count() as f64 * 6.7 + 9.0, "{w}");
    }
    // A long line is still cut, and boxes stay at most 320px wide.
    answer.executions[3].code = "x = ".to_string() + &"a + ".repeat(40);
    let svg = render_deps(&answer, false).svg.unwrap();
    let (widths, shown) = boxes(&svg, "In [4]");
    assert!(shown.ends_with('…') && shown.len() > 30, "{shown}");
    assert!(widths.iter().all(|w| *w <= 320.0), "{widths:?}");
    // Short code keeps the boxes at their narrowest.
    answer.executions[3].code = "m = 1".into();
    answer.executions[0].code = "import pandas as pd".into();
    answer.executions[1].code = "df = 1".into();
    let (widths, _) = boxes(&render_deps(&answer, false).svg.unwrap(), "In [4]");
    assert!(widths.iter().all(|w| *w == 172.0), "{widths:?}");
}

#[test]
fn an_assumed_change_is_said_to_be_one_in_text_and_html() {
    let mut answer = deps_answer();
    answer.executions[1].statements[0].assumed = vec!["clean(df) may change df".into()];
    let text = render_deps(&answer, true).text;
    assert!(
        text.contains("  assumed  clean(df) may change df\n"),
        "{text}"
    );
    let html = render_deps(&answer, true).html;
    assert!(
        html.contains("assumed</span> clean(df) may change df"),
        "{html}"
    );
    // Nothing is said where nothing was assumed.
    let plain = render_deps(&deps_answer(), true).text;
    assert!(!plain.contains("assumed"), "{plain}");
}
