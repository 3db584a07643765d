//! The asserts a cell's analysis lists: what expectations are made of.

use pyflow::{analyze_cell, AssertFact};

fn asserts(code: &str) -> Vec<AssertFact> {
    analyze_cell(code).asserts
}

#[test]
fn top_level_asserts_with_lines_statements_and_reads() {
    let found = asserts("x = 1\nassert x > 0, f'x is {x}'\nassert len(rows) == n\n");
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].source, "assert x > 0, f'x is {x}'");
    assert_eq!((found[0].line_start, found[0].line_end), (2, 2));
    assert_eq!(found[0].statement, 1);
    assert!(!found[0].nested);
    assert_eq!(found[0].reads, ["x"]);
    assert_eq!(found[1].statement, 2);
    assert_eq!(found[1].reads, ["len", "rows", "n"]);
}

#[test]
fn nested_asserts_are_marked_with_their_top_level_statement() {
    let code = "\
for r in rows:
    assert r > 0
def check(m):
    assert m.score > 0.5
if ok:
    with open(p) as f:
        assert f
assert done
";
    let found = asserts(code);
    let summary: Vec<_> = found
        .iter()
        .map(|a| (a.source.as_str(), a.statement, a.nested, a.line_start))
        .collect();
    assert_eq!(
        summary,
        [
            ("assert r > 0", 0, true, 2),
            ("assert m.score > 0.5", 1, true, 4),
            ("assert f", 2, true, 7),
            ("assert done", 3, false, 8),
        ]
    );
}

#[test]
fn normalisation_drops_comments_line_breaks_and_extra_spaces() {
    let a = asserts("assert  (x >\n        0) ,  'msg   kept'   # why\n");
    let b = asserts("assert (x > 0), 'msg   kept'\n");
    let c = asserts("assert (x > \\\n 0),'msg   kept'\n");
    assert_eq!(a[0].source, "assert (x > 0) , 'msg   kept'");
    assert_eq!((a[0].line_start, a[0].line_end), (1, 2));
    assert_eq!(b[0].source, "assert (x > 0), 'msg   kept'");
    // A space is kept only where the code had one: `,'m'` stays as typed.
    assert_eq!(c[0].source, "assert (x > 0),'msg   kept'");
    // A different condition is a different expectation.
    assert_ne!(asserts("assert x > 1")[0].source, b[0].source);
}

#[test]
fn a_cell_that_does_not_parse_still_lists_its_asserts() {
    let analysis = analyze_cell("assert x > 0\ny = (\n");
    assert!(!analysis.is_analysed());
    assert!(analysis.statements.is_empty());
    assert_eq!(analysis.asserts.len(), 1);
    assert_eq!(analysis.asserts[0].source, "assert x > 0");
}

#[test]
fn magic_lines_and_cell_magics_do_not_hide_asserts() {
    let found = asserts("%%time\nassert ready\n");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].line_start, 2);
    assert!(asserts("%%bash\nassert x\n").is_empty());
    assert!(asserts("x = 1\n").is_empty());
}
