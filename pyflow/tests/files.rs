//! Files in the engine: a write is a version made by its statement, a read depends on the
//! version whose content it saw, and content that did not come from the trial is an external
//! version no statement made.

use pyflow::{analyze_cell, Dataflow, ExecutionInput, FileAccess, RuntimeFacts};

const CSV: &str = "/w/houses.csv";

fn access(write: bool, line: Option<u32>, sha: &str) -> FileAccess {
    FileAccess {
        path: CSV.into(),
        write,
        line,
        sha256: Some(sha.into()),
    }
}

fn input(id: i64, code: &str, files: Vec<FileAccess>) -> ExecutionInput {
    ExecutionInput {
        execution_id: id,
        execution_count: Some(id),
        cell_id: None,
        analysis: analyze_cell(code),
        failed_at_statement: None,
        runtime: Some(RuntimeFacts {
            files,
            ..RuntimeFacts::default()
        }),
        failed: false,
    }
}

fn deps(flow: &Dataflow, var: &str) -> Vec<i64> {
    flow.backwards_deps(var)
        .unwrap()
        .iter()
        .map(|d| d.exec.execution_id)
        .collect()
}

fn writer_and_reader(read_sha: &str) -> (Dataflow, Vec<pyflow::ExecutionDelta>) {
    let mut flow = Dataflow::new();
    let deltas = vec![
        flow.add_execution_delta(input(1, "import pandas as pd\n", vec![])),
        flow.add_execution_delta(input(
            2,
            "df = pd.DataFrame({'a': [1]})\ndf.to_csv('houses.csv')\n",
            vec![access(true, Some(2), "aa")],
        )),
        flow.add_execution_delta(input(
            3,
            "back = pd.read_csv('houses.csv')\nmae = back.a.mean()\n",
            vec![access(false, Some(1), read_sha)],
        )),
    ];
    (flow, deltas)
}

#[test]
fn a_read_depends_on_the_write_it_read() {
    let (flow, deltas) = writer_and_reader("aa");
    assert_eq!(deps(&flow, "mae"), [1, 2, 3]);
    assert_eq!(deps(&flow, CSV), [1, 2]);
    assert!(deltas[2]
        .flow
        .depends_on
        .contains(&(2, pyflow::Symbol::name(CSV))));
    let read = deltas[2]
        .reads
        .iter()
        .find(|r| r.symbol.base == CSV)
        .unwrap();
    assert_eq!((read.dep_execution_id, read.dep_statement), (2, 1));
    assert_eq!(read.external, None);
    // A file is not a variable.
    assert_eq!(flow.variables(), ["back", "df", "mae", "pd"]);
    assert!(!flow.similar_names("/w/houses").iter().any(|n| n == CSV));
}

#[test]
fn content_changed_outside_is_an_external_version() {
    let (flow, deltas) = writer_and_reader("bb");
    // The writer is not where `mae` came from: the file held something else when read.
    assert_eq!(deps(&flow, "mae"), [1, 3]);
    let made = deltas[2]
        .versions
        .iter()
        .find(|v| v.symbol.base == CSV)
        .unwrap();
    assert_eq!(
        (made.external, made.statement, made.current),
        (Some(0), 0, true)
    );
    let read = deltas[2]
        .reads
        .iter()
        .find(|r| r.symbol.base == CSV)
        .unwrap();
    assert_eq!((read.dep_execution_id, read.external), (3, Some(0)));
    assert!(deltas[2].retired.len() == 1);
    assert!(!deltas[2].flow.depends_on.iter().any(|(_, s)| s.base == CSV));
    assert!(!deltas[2].flow.defines.iter().any(|s| s.base == CSV));
}

#[test]
fn only_the_statement_that_read_the_file_depends_on_it() {
    let (mut flow, _) = writer_and_reader("aa");
    flow.add_execution(input(
        4,
        "n = 3\ntotal = pd.read_csv('houses.csv').a.sum() * n\n",
        vec![access(false, Some(2), "aa")],
    ));
    assert_eq!(deps(&flow, "n"), [4]);
    assert_eq!(deps(&flow, "total"), [1, 2, 4]);
}

#[test]
fn an_access_with_no_line_belongs_to_the_last_statement() {
    let mut flow = Dataflow::new();
    flow.add_execution(input(
        1,
        "open('houses.csv', 'w').write('x')\n",
        vec![access(true, Some(1), "aa")],
    ));
    flow.add_execution(input(
        2,
        "k = 1\nrows = load()\n",
        vec![access(false, None, "aa")],
    ));
    assert_eq!(deps(&flow, "k"), [2]);
    assert_eq!(deps(&flow, "rows"), [1, 2]);
}

#[test]
fn a_statement_that_reads_its_own_write_reads_nothing_older() {
    let mut flow = Dataflow::new();
    flow.add_execution(input(1, "x = 1\n", vec![access(true, Some(1), "aa")]));
    // Writes new content and reads it back in one statement.
    let code =
        "with open('houses.csv', 'w+') as f:\n    f.write('y')\n    f.seek(0)\n    y = f.read()\n";
    flow.add_execution(input(
        2,
        code,
        vec![access(true, Some(1), "bb"), access(false, Some(1), "bb")],
    ));
    assert_eq!(deps(&flow, "y"), [2]);
    assert_eq!(deps(&flow, CSV), [2]);
}

#[test]
fn a_replayed_trial_answers_alike() {
    let (flow, _) = writer_and_reader("bb");
    let json = serde_json::to_string(&flow).unwrap();
    let back: Dataflow = serde_json::from_str(&json).unwrap();
    assert_eq!(deps(&back, "mae"), deps(&flow, "mae"));
    // A later read of the same outside content reads the same external version.
    let mut flow = back;
    let delta = flow.add_execution_delta(input(
        4,
        "again = pd.read_csv('houses.csv')\n",
        vec![access(false, Some(1), "bb")],
    ));
    let read = delta.reads.iter().find(|r| r.symbol.base == CSV).unwrap();
    assert_eq!((read.dep_execution_id, read.external), (3, Some(0)));
    assert!(delta.versions.iter().all(|v| v.symbol.base != CSV));
}
