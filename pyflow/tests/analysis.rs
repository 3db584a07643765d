//! Runs `analysis_table.txt` (per-statement analysis of current Python and
//! IPython syntax), plus the checks a table cannot express: byte positions
//! and CRLF, JSON round trips, hostile nesting.

mod common;

use pyflow::{
    analyze_cell, statement_at_line, AliasKind, CellAnalysis, FunctionFact, ImportFact,
    StatementFacts, Symbol,
};

const TABLE: &str = include_str!("analysis_table.txt");

fn texts(symbols: &[Symbol]) -> Vec<String> {
    symbols.iter().map(ToString::to_string).collect()
}

fn import_text(i: &ImportFact) -> String {
    let mut s = format!("{}={}", i.bound_as, i.module);
    if let Some(name) = &i.name {
        s.push(':');
        s.push_str(name);
    }
    if i.level > 0 {
        s.push_str(&format!("@{}", i.level));
    }
    s
}

fn yes_no(b: bool) -> Vec<String> {
    vec![if b { "yes" } else { "no" }.to_string()]
}

fn statement_field(s: &StatementFacts, field: &str) -> Vec<String> {
    match field {
        "defines" => texts(&s.defines),
        "uses" => texts(&s.uses),
        "mutates" => texts(&s.mutates),
        "call_mutates" => texts(&s.call_mutates),
        "deletes" => texts(&s.deletes),
        "calls" => s.calls.clone(),
        "classes" => s.classes.clone(),
        "aliases" => s.aliases.iter().map(alias_text).collect(),
        "imports" => s.imports.iter().map(import_text).collect(),
        "dynamic" => yes_no(s.dynamic),
        "lines" => vec![s.line_start.to_string(), s.line_end.to_string()],
        other => panic!("unknown statement field {other:?}"),
    }
}

/// `b=a`, `first=rows[0]` (held at a path), `r=rows[*]` (held somewhere
/// there), `c=copy(x)`, `m=Model()` (what a call returned).
fn alias_text(a: &pyflow::AliasFact) -> String {
    let at = pyflow::Symbol {
        base: a.source.clone(),
        path: a.path.clone(),
    };
    match a.kind {
        AliasKind::Same | AliasKind::Item => format!("{}={at}", a.target),
        AliasKind::Within => format!("{}={at}[*]", a.target),
        AliasKind::Copy => format!("{}=copy({at})", a.target),
        AliasKind::Made => format!("{}={at}()", a.target),
    }
}

fn function_field(f: &FunctionFact, field: &str) -> Vec<String> {
    match field {
        "kind" => vec![format!("{:?}", f.kind).to_lowercase()],
        "read" => texts(&f.globals_read),
        "written" => f.globals_written.clone(),
        "deleted" => f.globals_deleted.clone(),
        "mutated" => texts(&f.globals_mutated),
        "call_mutated" => texts(&f.globals_call_mutated),
        "calls" => f.calls.clone(),
        "state" => [
            (f.keeps_state, "keeps_state"),
            (f.generator, "generator"),
            (f.cached, "cached"),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, name)| name.to_string())
        .collect(),
        other => panic!("unknown function field {other:?}"),
    }
}

/// What the analysis says for the head of a check line.
fn actual(a: &CellAnalysis, head: &str) -> Result<Vec<String>, String> {
    let statement = |i: usize| a.statements.get(i).ok_or(format!("no statement {i}"));
    Ok(match head {
        "statements" => vec![a.statements.len().to_string()],
        "masked" => a.masked_lines.iter().map(ToString::to_string).collect(),
        "magic" => a.cell_magic.iter().cloned().collect(),
        "error" => yes_no(a.parse_error.is_some()),
        "error-at" => match &a.parse_error {
            Some(e) => vec![format!("{}:{}", e.line, e.column)],
            None => return Err("no parse error".into()),
        },
        _ => {
            if let Some(rest) = head.strip_prefix("fn ") {
                let (name, field) = rest.split_once('.').expect("fn NAME.FIELD");
                let f = statement(0)?
                    .functions
                    .iter()
                    .find(|f| f.name == name)
                    .ok_or(format!("no function {name}"))?;
                function_field(f, field)
            } else if let Some((index, field)) = head.split_once('.') {
                statement_field(statement(index.parse().expect("N.FIELD"))?, field)
            } else {
                statement_field(statement(0)?, head)
            }
        }
    })
}

#[test]
fn analysis_table() {
    common::run_table(TABLE, "analysis_table.txt", 60, |case| {
        assert_eq!(
            case.cells.len(),
            1,
            "analysis_table.txt:{}: one cell per case",
            case.line
        );
        let analysis = analyze_cell(&case.cells[0].code);
        let mut failures = Vec::new();
        for (line, text) in &case.checks {
            let (head, mut want) = common::split_check(text);
            if head == "error" {
                want = vec!["yes"];
            }
            let got = actual(&analysis, head);
            let matches = match (&got, head) {
                // `error-at: L` checks the line only.
                (Ok(g), "error-at") if !want.first().is_some_and(|w| w.contains(':')) => {
                    g.first().and_then(|g| g.split(':').next()) == want.first().copied()
                }
                (Ok(g), _) => *g == want,
                (Err(_), _) => false,
            };
            if !matches {
                failures.push((*line, format!("{head}: want {want:?}, got {got:?}")));
            }
        }
        failures
    });
}

#[test]
fn positions_crlf_and_statement_at_line() {
    let code = "a = 1\r\nb = (2 +\r\n     3)\r\n\r\nif a:\r\n    c = 4\r\n";
    let a = analyze_cell(code);
    let spans: Vec<_> = a
        .statements
        .iter()
        .map(|s| (s.index, s.line_start, s.line_end))
        .collect();
    assert_eq!(spans, [(0, 1, 1), (1, 2, 3), (2, 5, 6)]);
    let s = &a.statements[1];
    assert_eq!(&code[s.byte_start..s.byte_end], "b = (2 +\r\n     3)");
    assert_eq!(statement_at_line(&a, 3), Some(1));
    assert_eq!(statement_at_line(&a, 4), None);
    assert_eq!(statement_at_line(&a, 6), Some(2));
}

#[test]
fn analysis_round_trips_through_json() {
    let a = analyze_cell(
        "import json\nd = {}\nd['a'] = json.dumps(x)\ndef f():\n    return d['a']\n!ls",
    );
    let json = serde_json::to_string(&a).unwrap();
    let back: CellAnalysis = serde_json::from_str(&json).unwrap();
    assert_eq!(back, a);
}

#[test]
fn pathological_nesting_is_refused_like_cpython() {
    let cases = [
        "(".repeat(100_000),
        format!("x = {}1", "-".repeat(100_000)),
        format!("x = {}y", "not ".repeat(50_000)),
        format!("x = {}a", "a + ".repeat(100_000)),
        format!("x = f{}", "(1)".repeat(100_000)),
        (0..150)
            .map(|i| format!("{}if x:\n", " ".repeat(i)))
            .collect::<String>(),
    ];
    for code in &cases {
        let a = analyze_cell(code);
        assert!(a.parse_error.is_some(), "{}", &code[..40.min(code.len())]);
    }
    // Deep code hidden in an escape line is skipped, not parsed on a small stack.
    let a = analyze_cell(&format!("%time x = {}y\nz = 1", "not ".repeat(4_000)));
    assert_eq!(a.parse_error, None);
    assert_eq!(a.statements.len(), 2);
    // Deep, but within what CPython compiles: analysed (on the big stack).
    let a = analyze_cell(&format!("x = {}a", "a + ".repeat(900)));
    assert_eq!(a.parse_error, None);
    assert_eq!(texts(&a.statements[0].uses), ["a"]);
    let a = analyze_cell(&format!("x = {}1{}", "[".repeat(150), "]".repeat(150)));
    assert_eq!(a.parse_error, None);
}

#[test]
fn big_data_literals_are_not_mistaken_for_nesting() {
    let numbers: Vec<String> = (0..50_000).map(|i| format!("-{i}")).collect();
    let a = analyze_cell(&format!("data = [{}]", numbers.join(", ")));
    assert_eq!(a.parse_error, None);
    let terms: Vec<String> = (0..20_000).map(|i| format!("c{i} == 1")).collect();
    let a = analyze_cell(&format!("ok = {}", terms.join(" or ")));
    assert_eq!(a.parse_error, None, "boolean chains are flat");
}
