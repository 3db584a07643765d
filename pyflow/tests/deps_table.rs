//! Runs `deps_table.txt`: cell sequences with the expected dependency
//! answers (see the header of that file for its notation).

mod common;

use pyflow::{analyze_cell, statement_at_line, Dataflow, ExecutionInput, RuntimeFacts};

const TABLE: &str = include_str!("deps_table.txt");
/// Issue 12's calls and hidden state, in a table of their own.
const CALLS_TABLE: &str = include_str!("calls_table.txt");

/// The executions of a case, as the kernel would store them.
fn inputs(case: &common::Case) -> Vec<ExecutionInput> {
    case.cells
        .iter()
        .enumerate()
        .map(|(i, cell)| {
            let analysis = analyze_cell(&cell.code);
            let failed_at_statement = cell.option("fails").map(|line| {
                let line = line.parse().expect("fails=LINE");
                statement_at_line(&analysis, line).expect("the failing line is in a statement")
            });
            let names = |key: &str| -> Vec<String> {
                cell.option(key)
                    .map(|v| {
                        v.split(',')
                            .filter(|n| !n.is_empty())
                            .map(String::from)
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let runtime = ["bound", "deleted", "runtime"]
                .iter()
                .any(|k| cell.option(k).is_some())
                .then(|| {
                    let bound: Vec<(String, u64, Option<String>)> = names("bound")
                        .iter()
                        .map(|b| {
                            let mut parts = b.splitn(3, ':');
                            let name = parts.next().expect("bound=name:id[:type]");
                            let id = parts.next().expect("bound=name:id[:type]");
                            let kind = parts.next().map(String::from);
                            let id = id.parse().expect("an integer id");
                            (name.to_string(), id, kind)
                        })
                        .collect();
                    RuntimeFacts {
                        types: bound
                            .iter()
                            .filter_map(|(n, _, t)| Some((n.clone(), t.clone()?)))
                            .collect(),
                        bound: bound.into_iter().map(|(n, id, _)| (n, id)).collect(),
                        deleted: names("deleted"),
                        files: Vec::new(),
                    }
                });
            ExecutionInput {
                execution_id: i as i64 + 1,
                execution_count: Some(i as i64 + 1),
                cell_id: cell.option("id").map(String::from),
                analysis,
                failed_at_statement,
                runtime,
                failed: cell.option("fails").is_some(),
            }
        })
        .collect()
}

fn ids(values: &[&str]) -> Vec<i64> {
    values
        .iter()
        .map(|v| v.parse().expect("an execution id"))
        .collect()
}

fn statement_pairs(values: &[&str]) -> Vec<(i64, usize)> {
    values
        .iter()
        .map(|v| {
            let (e, s) = v.split_once('.').expect("execution.statement");
            (
                e.parse().expect("execution id"),
                s.parse().expect("statement index"),
            )
        })
        .collect()
}

/// Checks one line against the dataflow; `Err` says what differs.
fn check(flow: &Dataflow, line: &str) -> Result<(), String> {
    let (head, values) = common::split_check(line);
    let (verb, var) = head.split_once(' ').unwrap_or((head, ""));
    let exec_ids = |r: Result<Vec<pyflow::ExecDep>, pyflow::UnknownVariable>| {
        r.map(|d| d.iter().map(|e| e.exec.execution_id).collect::<Vec<_>>())
    };
    let (want, got) = match verb {
        "deps" => (
            format!("{:?}", ids(&values)),
            format!(
                "{:?}",
                exec_ids(flow.backwards_deps(var)).map_err(|e| e.to_string())
            ),
        ),
        "global" => (
            format!("{:?}", ids(&values)),
            format!(
                "{:?}",
                exec_ids(flow.global_backwards_deps(var)).map_err(|e| e.to_string())
            ),
        ),
        "stmts" | "slice" => {
            let refs = if verb == "stmts" {
                flow.backwards_deps_statements(var)
            } else {
                flow.slice(var)
            };
            let got = refs.map(|s| {
                s.iter()
                    .map(|r| (r.exec.execution_id, r.statement))
                    .collect::<Vec<_>>()
            });
            (
                format!("{:?}", statement_pairs(&values)),
                format!("{:?}", got.map_err(|e| e.to_string())),
            )
        }
        "unknown" => {
            let (var, deleted_by) = match var.split_once(" deleted-by ") {
                Some((v, n)) => (v, Some(n.parse::<i64>().expect("an execution id"))),
                None => (var, None),
            };
            let got = match flow.backwards_deps(var) {
                Err(e) => format!("unknown, deleted by {:?}", e.deleted_by),
                Ok(d) => format!("{d:?}"),
            };
            (format!("unknown, deleted by {deleted_by:?}"), got)
        }
        "similar" => match flow.backwards_deps(var) {
            Err(e) if values.iter().all(|v| e.similar.iter().any(|s| s == v)) => return Ok(()),
            other => (
                format!("similar names including {values:?}"),
                format!("{other:?}"),
            ),
        },
        "depends-on" => {
            let id: i64 = var.parse().expect("an execution id");
            let mut got: Vec<i64> = flow
                .execution_flow(id)
                .map(|f| f.depends_on.iter().map(|(e, _)| *e).collect())
                .unwrap_or_default();
            got.sort_unstable();
            got.dedup();
            (format!("{:?}", ids(&values)), format!("{got:?}"))
        }
        other => panic!("unknown check {other:?} in {line:?}"),
    };
    let want = if matches!(verb, "unknown" | "depends-on") {
        want
    } else {
        format!("Ok({want})")
    };
    if want == got {
        Ok(())
    } else {
        Err(format!("want {want}, got {got}"))
    }
}

#[test]
fn dependency_table() {
    run(TABLE, "deps_table.txt", 40);
}

#[test]
fn calls_table() {
    run(CALLS_TABLE, "calls_table.txt", 15);
}

fn run(table: &str, file: &str, at_least: usize) {
    common::run_table(table, file, at_least, |case| {
        let flow = Dataflow::replay(inputs(case));
        case.checks
            .iter()
            .filter_map(|(line, text)| {
                check(&flow, text)
                    .err()
                    .map(|e| (*line, format!("{text}: {e}")))
            })
            .collect()
    });
}

#[test]
fn replay_from_stored_json_and_snapshots_answer_the_same() {
    for case in common::read(TABLE)
        .into_iter()
        .chain(common::read(CALLS_TABLE))
    {
        let mut live = Dataflow::new();
        let mut stored = Vec::new();
        for input in inputs(&case) {
            stored.push(serde_json::to_string(&input).unwrap());
            live.add_execution(input);
        }
        let replayed = Dataflow::replay(stored.iter().map(|j| serde_json::from_str(j).unwrap()));
        let snapshot: Dataflow =
            serde_json::from_str(&serde_json::to_string(&live).unwrap()).unwrap();
        for var in live.variables() {
            let want = live.backwards_deps(&var).unwrap();
            let at = format!("deps_table.txt:{} [{}] {var}", case.line, case.title);
            assert_eq!(replayed.backwards_deps(&var).unwrap(), want, "{at}");
            assert_eq!(snapshot.backwards_deps(&var).unwrap(), want, "{at}");
            assert_eq!(replayed.slice(&var), live.slice(&var), "{at}");
        }
    }
}

/// The graph as a store keeps it from [`Dataflow::add_execution_delta`]:
/// versions (with whether current) and statement → statement reads.
#[derive(Default)]
struct Mirror {
    /// version → (symbol, execution id, statement, current)
    versions: std::collections::BTreeMap<u32, (pyflow::Symbol, i64, usize, bool)>,
    /// (execution id, statement) → what it read: (execution id, statement)
    reads: std::collections::HashMap<(i64, usize), Vec<(i64, usize)>>,
}

impl Mirror {
    fn add(&mut self, id: i64, delta: pyflow::ExecutionDelta) {
        for v in delta.retired {
            self.versions.get_mut(&v).expect("a known version").3 = false;
        }
        for v in delta.versions {
            self.versions
                .insert(v.version, (v.symbol, id, v.statement, v.current));
        }
        for s in delta.statements {
            self.reads.entry((id, s)).or_default();
        }
        for r in delta.reads {
            self.reads
                .entry((id, r.statement))
                .or_default()
                .push((r.dep_execution_id, r.dep_statement));
        }
    }

    /// The statements behind `var` (current versions, or all with `every`).
    fn statements(&self, var: &str, every: bool) -> Vec<(i64, usize)> {
        let symbol = pyflow::Symbol::parse(var).expect("a symbol");
        let mut todo: Vec<(i64, usize)> = self
            .versions
            .values()
            .filter(|(s, _, _, current)| (every || *current) && s.overlaps(&symbol))
            .map(|(_, e, st, _)| (*e, *st))
            .collect();
        let mut seen = std::collections::BTreeSet::new();
        while let Some(s) = todo.pop() {
            if seen.insert(s) {
                todo.extend(self.reads.get(&s).into_iter().flatten().copied());
            }
        }
        seen.into_iter().collect()
    }
}

#[test]
fn deltas_rebuild_the_same_answers() {
    for case in common::read(TABLE)
        .into_iter()
        .chain(common::read(CALLS_TABLE))
    {
        let mut live = Dataflow::new();
        let mut mirror = Mirror::default();
        for input in inputs(&case) {
            let id = input.execution_id;
            let delta = live.add_execution_delta(input);
            mirror.add(id, delta);
        }
        let mut vars = live.variables();
        for (_, text) in &case.checks {
            let (head, _) = common::split_check(text);
            if let Some(("deps" | "global" | "stmts" | "slice", var)) = head.split_once(' ') {
                vars.push(var.to_string());
            }
        }
        for var in vars {
            let at = format!("deps_table.txt:{} [{}] {var}", case.line, case.title);
            let pairs = |r: Vec<pyflow::StatementRef>| -> Vec<(i64, usize)> {
                r.iter()
                    .map(|s| (s.exec.execution_id, s.statement))
                    .collect()
            };
            let want = live.backwards_deps_statements(&var).map(pairs);
            let got = mirror.statements(&var, false);
            assert_eq!(want.unwrap_or_default(), got, "{at}");
            let global: Vec<(i64, usize)> = match live.global_backwards_deps(&var) {
                Ok(deps) => deps
                    .iter()
                    .flat_map(|d| d.statements.iter().map(|&s| (d.exec.execution_id, s)))
                    .collect(),
                Err(_) => Vec::new(),
            };
            assert_eq!(global, mirror.statements(&var, true), "global {at}");
        }
    }
}
