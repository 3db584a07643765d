//! Files in the dependency answers as people see them: the text names what each execution
//! wrote and read from outside by the path the code gave, a slice says which files it needs,
//! and the picture draws file versions as sheets between their writer and readers.

use super::super::{graph_dot, render_deps, render_graph, render_slice};
use crate::tests::{trial, xml_elements};
use provstore::{
    DepEdge, DepExecution, DepsAnswer, FileInput, FileVersion, GraphAnswer, SliceAnswer,
    SliceStatement,
};

fn exec(id: i64, code: &str, defines: &[&str]) -> DepExecution {
    DepExecution {
        execution_id: id,
        execution_count: Some(id),
        cell_id: None,
        code: code.into(),
        status: "ok".into(),
        defines: defines.iter().map(|s| s.to_string()).collect(),
        uses: vec![],
        statements: vec![],
        values: vec![],
    }
}

fn conf() -> FileInput {
    FileInput {
        path: "conf.json".into(),
        resolved: "/w/conf.json".into(),
        sha256: Some("cc11223344556677".into()),
    }
}

/// In [1] writes houses.csv, In [2] reads it and conf.json (from outside) to make `mae`.
fn answer() -> DepsAnswer {
    DepsAnswer {
        variable: "mae".into(),
        trial: trial(1, None),
        executions: vec![
            exec(1, "df.to_csv('houses.csv')", &["df"]),
            exec(
                2,
                "back = pd.read_csv('houses.csv')\nmae = score(back, json.load(open('conf.json')))",
                &["back", "mae"],
            ),
        ],
        edges: vec![DepEdge {
            from: 2,
            to: 1,
            symbols: vec!["/w/houses.csv".into()],
        }],
        files: vec![
            FileVersion {
                path: "conf.json".into(),
                resolved: "/w/conf.json".into(),
                sha256: conf().sha256,
                written_by: None,
                read_by: vec![2],
            },
            FileVersion {
                path: "houses.csv".into(),
                resolved: "/w/houses.csv".into(),
                sha256: Some("aa0011".into()),
                written_by: Some(1),
                read_by: vec![2],
            },
        ],
        inputs: vec![conf()],
    }
}

#[test]
fn the_text_names_files_as_the_code_gave_them() {
    let r = render_deps(&answer(), false);
    for line in [
        "  writes   houses.csv\n",
        "  from     In [1]: houses.csv\n",
        "  reads    conf.json (from outside, sha256 cc1122334455)\n",
        "Files it needs from outside the trial:\n  conf.json  sha256 cc1122334455  (/w/conf.json)\n",
    ] {
        assert!(r.text.contains(line), "{line:?} not in\n{}", r.text);
    }
    assert!(!r.text.contains("/w/houses.csv"), "{}", r.text);
    assert!(r.html.contains("Files it needs from outside the trial"));
    assert_eq!(r.json["inputs"][0]["path"], "conf.json");
    assert_eq!(r.json["files"][1]["written_by"], 1);
}

#[test]
fn the_picture_draws_files_between_writer_and_readers() {
    let svg = render_deps(&answer(), false).svg.unwrap();
    xml_elements(&svg);
    assert_eq!(svg.matches("<g class=\"node\">").count(), 2);
    assert_eq!(svg.matches("<g class=\"node file\">").count(), 2);
    // Outside content is dashed; the written file is not.
    assert_eq!(svg.matches("stroke-dasharray").count(), 1);
    // In [1] -> houses.csv -> In [2], conf.json -> In [2]; no edge In [1] -> In [2] left,
    // since the file carried all of it.
    assert_eq!(svg.matches("<path class=\"edge\"").count(), 3);
    assert!(svg.contains(">houses.csv</text>") && svg.contains(">conf.json</text>"));
    if let Ok(dir) = std::env::var("PROV_PICTURES") {
        let png = crate::svg_to_png(&svg).unwrap();
        std::fs::write(format!("{dir}/deps_files.png"), png).unwrap();
    }
}

#[test]
fn a_slice_lists_the_files_it_needs_first() {
    let slice = SliceAnswer {
        variable: "mae".into(),
        trial: trial(1, None),
        statements: vec![SliceStatement {
            execution_id: 2,
            execution_count: Some(2),
            statement: 0,
            text: "mae = load('conf.json')".into(),
        }],
        inputs: vec![conf()],
    };
    let r = render_slice(&slice);
    assert_eq!(
        r.text,
        "# Files it needs from outside the trial:\n\
         # conf.json  sha256 cc1122334455  (/w/conf.json)\n\n\
         # In[2]\nmae = load('conf.json')\n"
    );
    assert!(r.html.contains("conf.json"));
}

#[test]
fn the_graph_lists_file_versions_in_text_and_dot() {
    let a = answer();
    let graph = GraphAnswer {
        trial: a.trial,
        executions: a.executions,
        edges: a.edges,
        files: a.files,
    };
    let r = render_graph(&graph);
    assert!(
        r.text.contains("  In [2] <- In [1]: houses.csv\n"),
        "{}",
        r.text
    );
    assert!(r
        .text
        .contains("  file houses.csv (sha256 aa0011): written by In [1], read by In [2]\n"));
    assert!(r
        .text
        .contains("  file conf.json (sha256 cc1122334455): from outside, read by In [2]\n"));
    let dot = graph_dot(&graph);
    assert_eq!(dot.matches("shape=note").count(), 2);
    assert!(dot.contains("  e1 -> f1;\n  f1 -> e2;\n"), "{dot}");
    assert!(
        !dot.contains("e1 -> e2") && !dot.contains("e2 -> e1"),
        "{dot}"
    );
    if let (Ok(dir), Some(svg)) = (std::env::var("PROV_PICTURES"), r.svg) {
        std::fs::write(
            format!("{dir}/graph_files.png"),
            crate::svg_to_png(&svg).unwrap(),
        )
        .unwrap();
    }
}
