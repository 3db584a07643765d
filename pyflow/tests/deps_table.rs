//! Table of cell sequences with the expected dependency answers.
//!
//! Execution ids are the 1-based position of the cell in the sequence, so
//! `deps("y", &[1, 3])` reads "y's current value comes from the 1st and 3rd
//! executions". Every expectation was worked out from the rules, not copied
//! from output.

use pyflow::{analyze_cell, statement_at_line, Dataflow, ExecutionInput, RuntimeFacts};

struct Cell {
    code: &'static str,
    cell_id: Option<&'static str>,
    /// 1-based line of the cell's frame in the traceback.
    fails_at_line: Option<usize>,
    runtime: Option<RuntimeFacts>,
}

fn cell(code: &'static str) -> Cell {
    Cell {
        code,
        cell_id: None,
        fails_at_line: None,
        runtime: None,
    }
}

impl Cell {
    fn id(mut self, id: &'static str) -> Cell {
        self.cell_id = Some(id);
        self
    }
    fn fails_at(mut self, line: usize) -> Cell {
        self.fails_at_line = Some(line);
        self
    }
    fn runtime(mut self, bound: &[(&str, u64)], deleted: &[&str]) -> Cell {
        self.runtime = Some(RuntimeFacts {
            bound: bound.iter().map(|(n, id)| (n.to_string(), *id)).collect(),
            deleted: deleted.iter().map(|n| n.to_string()).collect(),
        });
        self
    }
}

enum Q {
    /// `backwards_deps(var)` execution ids.
    Deps(&'static str, Vec<i64>),
    /// `global_backwards_deps(var)` execution ids.
    Global(&'static str, Vec<i64>),
    /// `backwards_deps_statements(var)` as (execution id, statement index).
    Stmts(&'static str, Vec<(i64, usize)>),
    /// `slice(var)` as (execution id, statement index).
    Slice(&'static str, Vec<(i64, usize)>),
    /// `backwards_deps(var)` fails; `deleted_by` as given.
    Unknown(&'static str, Option<i64>),
    /// The error for the first name lists the second as similar.
    Similar(&'static str, &'static str),
    /// `execution_flow(id).depends_on` execution ids (sorted, unique).
    DependsOn(i64, Vec<i64>),
}

fn deps(v: &'static str, e: &[i64]) -> Q {
    Q::Deps(v, e.to_vec())
}

struct Case {
    name: &'static str,
    cells: Vec<Cell>,
    queries: Vec<Q>,
}

fn case(name: &'static str, cells: Vec<Cell>, queries: Vec<Q>) -> Case {
    Case {
        name,
        cells,
        queries,
    }
}

fn run(c: &Case) -> (Dataflow, Vec<String>) {
    let mut flow = Dataflow::new();
    for (i, cell) in c.cells.iter().enumerate() {
        let analysis = analyze_cell(cell.code);
        let failed_at_statement = cell.fails_at_line.map(|line| {
            statement_at_line(&analysis, line).expect("failure line inside a statement")
        });
        flow.add_execution(ExecutionInput {
            execution_id: i as i64 + 1,
            execution_count: Some(i as i64 + 1),
            cell_id: cell.cell_id.map(String::from),
            analysis,
            failed_at_statement,
            runtime: cell.runtime.clone(),
        });
    }
    let mut failures = Vec::new();
    for q in &c.queries {
        match q {
            Q::Deps(var, want) => {
                let got = flow
                    .backwards_deps(var)
                    .map(|d| d.iter().map(|e| e.execution_id).collect::<Vec<_>>());
                if got.as_ref() != Ok(want) {
                    failures.push(format!("backwards_deps({var}): want {want:?}, got {got:?}"));
                }
            }
            Q::Global(var, want) => {
                let got = flow
                    .global_backwards_deps(var)
                    .map(|d| d.iter().map(|e| e.execution_id).collect::<Vec<_>>());
                if got.as_ref() != Ok(want) {
                    failures.push(format!(
                        "global_backwards_deps({var}): want {want:?}, got {got:?}"
                    ));
                }
            }
            Q::Stmts(var, want) | Q::Slice(var, want) => {
                let result = match q {
                    Q::Stmts(..) => flow.backwards_deps_statements(var),
                    _ => flow.slice(var),
                };
                let got = result.map(|s| {
                    s.iter()
                        .map(|r| (r.execution_id, r.statement))
                        .collect::<Vec<_>>()
                });
                if got.as_ref() != Ok(want) {
                    failures.push(format!(
                        "statements/slice({var}): want {want:?}, got {got:?}"
                    ));
                }
            }
            Q::Unknown(var, deleted_by) => match flow.backwards_deps(var) {
                Err(e) if e.deleted_by == *deleted_by => {}
                other => failures.push(format!(
                    "backwards_deps({var}): want unknown (deleted_by {deleted_by:?}), got {other:?}"
                )),
            },
            Q::Similar(var, similar) => match flow.backwards_deps(var) {
                Err(e) if e.similar.iter().any(|s| s == similar) => {}
                other => failures.push(format!(
                    "backwards_deps({var}): want similar {similar}, got {other:?}"
                )),
            },
            Q::DependsOn(id, want) => {
                let mut got: Vec<i64> = flow
                    .execution_flow(*id)
                    .map(|f| f.depends_on.iter().map(|(e, _)| *e).collect())
                    .unwrap_or_default();
                got.sort_unstable();
                got.dedup();
                if &got != want {
                    failures.push(format!("depends_on({id}): want {want:?}, got {got:?}"));
                }
            }
        }
    }
    (flow, failures)
}

fn table() -> Vec<Case> {
    vec![
        case(
            "plain chain; an unrelated cell stays out",
            vec![cell("x = 1"), cell("y = x + 1"), cell("z = 5")],
            vec![
                deps("x", &[1]),
                deps("y", &[1, 2]),
                deps("z", &[3]),
                Q::DependsOn(2, vec![1]),
            ],
        ),
        // ---- mutation counts as use + new version ----
        case(
            "method call on a name mutates it",
            vec![
                cell("lst = []"),
                cell("v = 10"),
                cell("lst.append(v)"),
                cell("n = len(lst)"),
            ],
            vec![deps("lst", &[1, 2, 3]), deps("n", &[1, 2, 3, 4])],
        ),
        case(
            "inplace=True mutates; read-only methods and inplace-less calls do not",
            vec![
                cell("df = load()"),
                cell("k = 0"),
                cell("df.head()"),
                cell("df.fillna(k, inplace=True)"),
                cell("df.fillna(1)"),
                cell("s = df.sum()"),
            ],
            vec![deps("df", &[1, 2, 4]), deps("s", &[1, 2, 4, 6])],
        ),
        case(
            "subscript store with literal keys keeps keys apart",
            vec![
                cell("d = {}"),
                cell("d['a'] = 1"),
                cell("d['b'] = 2"),
                cell("x = d['b']"),
            ],
            vec![
                deps("x", &[1, 3, 4]),
                deps("d['a']", &[1, 2]),
                deps("d[\"b\"]", &[1, 3]),
                deps("d", &[1, 2, 3]),
            ],
        ),
        case(
            "a store replaces the previous value of the same key",
            vec![
                cell("d = {}"),
                cell("v = 1"),
                cell("d['a'] = v"),
                cell("d['a'] = 2"),
            ],
            vec![deps("d['a']", &[1, 4]), deps("d", &[1, 4])],
        ),
        case(
            "attribute store",
            vec![
                cell("o = Obj()"),
                cell("o.x = 1"),
                cell("o.y = 2"),
                cell("r = o.y * 2"),
            ],
            vec![
                deps("r", &[1, 3, 4]),
                deps("o.x", &[1, 2]),
                deps("o", &[1, 2, 3]),
            ],
        ),
        case(
            "non-literal key falls back to the whole container",
            vec![
                cell("d = {}"),
                cell("k = 'a'"),
                cell("d[k] = 1"),
                cell("d['b'] = 2"),
                cell("x = d['b']"),
            ],
            vec![deps("x", &[1, 2, 3, 4, 5]), deps("d['c']", &[1, 2, 3])],
        ),
        case(
            "augmented assignment on names and keys",
            vec![
                cell("x = 1"),
                cell("y = 2"),
                cell("x += y"),
                cell("d = {'a': 0}"),
                cell("d['a'] += 1"),
                cell("d['b'] = 5"),
            ],
            vec![
                deps("x", &[1, 2, 3]),
                deps("d['a']", &[4, 5]),
                deps("d['b']", &[4, 6]),
            ],
        ),
        case(
            "del of a key or index is a mutation",
            vec![
                cell("lst = [1, 2, 3]"),
                cell("i = 0"),
                cell("del lst[i]"),
                cell("d = {'a': 1, 'b': 2}"),
                cell("del d['a']"),
                cell("v = d['b']"),
                cell("del lst[0]"),
            ],
            vec![
                deps("lst", &[1, 2, 3, 7]),
                deps("v", &[4, 6]),
                deps("d", &[4, 5]),
            ],
        ),
        case(
            "pandas .loc writes into the whole frame",
            vec![
                cell("df = load()"),
                cell("df.loc[0, 'a'] = 5"),
                cell("col = df['b']"),
            ],
            vec![deps("col", &[1, 2, 3])],
        ),
        // ---- functions: globals read at call time, transitively ----
        case(
            "function reads globals at call time",
            vec![
                cell("def f():\n    return a + 1"),
                cell("a = 10"),
                cell("y = f()"),
                cell("a = 20"),
            ],
            vec![deps("y", &[1, 2, 3]), deps("a", &[4])],
        ),
        case(
            "function globals transitively through other notebook functions",
            vec![
                cell("def g():\n    return b"),
                cell("def f():\n    return g() * 2"),
                cell("b = 5"),
                cell("unrelated = 0"),
                cell("y = f()"),
            ],
            vec![deps("y", &[1, 2, 3, 5])],
        ),
        case(
            "the definition current at call time is the one used",
            vec![
                cell("def f():\n    return a"),
                cell("a = 1"),
                cell("def f():\n    return b"),
                cell("b = 2"),
                cell("y = f()"),
            ],
            vec![deps("y", &[3, 4, 5])],
        ),
        case(
            "global writes inside a called function define the global",
            vec![
                cell("def setup():\n    global cfg\n    cfg = base * 2"),
                cell("base = 3"),
                cell("setup()"),
                cell("z = cfg"),
            ],
            vec![deps("cfg", &[1, 2, 3]), deps("z", &[1, 2, 3, 4])],
        ),
        case(
            "a called function mutating a global",
            vec![
                cell("lst = []"),
                cell("def add(v):\n    lst.append(v)"),
                cell("add(5)"),
            ],
            vec![deps("lst", &[1, 2, 3])],
        ),
        case(
            "a function passed as a callback counts as called",
            vec![
                cell("scale = 3"),
                cell("def f(v):\n    return v * scale"),
                cell("out = list(map(f, [1, 2]))"),
            ],
            vec![deps("out", &[1, 2, 3])],
        ),
        case(
            "literal keys read inside a function",
            vec![
                cell("cfg = {}"),
                cell("cfg['lr'] = 0.1"),
                cell("cfg['bs'] = 32"),
                cell("def train():\n    return cfg['lr'] * 2"),
                cell("r = train()"),
            ],
            vec![deps("r", &[1, 2, 4, 5])],
        ),
        case(
            "calling a class runs its methods",
            vec![
                cell("k = 3"),
                cell("class C:\n    attr = k\n    def __init__(self):\n        self.v = j"),
                cell("j = 7"),
                cell("obj = C()"),
            ],
            vec![deps("obj", &[1, 2, 3, 4]), deps("C", &[1, 2])],
        ),
        // ---- scoping: nothing leaks ----
        case(
            "comprehension variables do not leak",
            vec![
                cell("i = 100"),
                cell("sq = [i * i for i in range(5)]"),
                cell("t = i"),
            ],
            vec![deps("i", &[1]), deps("sq", &[2]), deps("t", &[1, 3])],
        ),
        case(
            "lambda and function parameters do not leak",
            vec![
                cell("x = 1"),
                cell("f = lambda x: x + 1"),
                cell("def h(x):\n    return x * 2"),
                cell("y = f(5) + h(3)"),
            ],
            vec![deps("x", &[1]), deps("y", &[2, 3, 4])],
        ),
        case(
            "names bound inside a top-level for body are globals",
            vec![
                cell("for i in range(3):\n    total = i"),
                cell("z = total + i"),
            ],
            vec![deps("i", &[1]), deps("total", &[1]), deps("z", &[1, 2])],
        ),
        case(
            "a name bound earlier in the same compound statement is not a use",
            vec![
                cell("fh = open('a')"),
                cell("with open('b') as fh:\n    data = fh.read()"),
            ],
            vec![deps("data", &[2])],
        ),
        case(
            "walrus at top level defines",
            vec![
                cell("xs = [1, 2, 3, 4]"),
                cell("if (n := len(xs)) > 3:\n    big = True"),
            ],
            vec![deps("n", &[1, 2]), deps("big", &[1, 2])],
        ),
        // ---- deletion ----
        case(
            "del ends a history; a later binding starts a new one",
            vec![cell("x = 1"), cell("del x"), cell("x = 5")],
            vec![deps("x", &[3]), Q::Global("x", vec![1, 3])],
        ),
        case(
            "a deleted name is unknown, with who deleted it",
            vec![cell("x = 1"), cell("y = x"), cell("del x")],
            vec![
                Q::Unknown("x", Some(3)),
                deps("y", &[1, 2]),
                Q::Global("x", vec![1]),
            ],
        ),
        // ---- executions: re-runs and order ----
        case(
            "re-running a cell is a new execution",
            vec![
                cell("x = 1").id("A"),
                cell("y = x + 1").id("B"),
                cell("x = 2").id("A"),
                cell("y = x + 1").id("B"),
            ],
            vec![deps("y", &[3, 4]), Q::Global("y", vec![1, 2, 3, 4])],
        ),
        case(
            "out-of-order execution follows the real order",
            vec![
                cell("x = 1").id("A"),
                cell("x = 100").id("C"),
                cell("y = x * 2").id("B"),
            ],
            vec![deps("y", &[2, 3])],
        ),
        // ---- failures ----
        case(
            "statements after the error define nothing",
            vec![
                cell("x = 1"),
                cell("x = 2\ny = 1 / 0\nz = 3").fails_at(2),
                cell("w = x"),
            ],
            vec![
                deps("x", &[2]),
                deps("w", &[2, 3]),
                Q::Unknown("z", None),
                Q::Unknown("y", None),
            ],
        ),
        case(
            "the failing statement itself defines nothing",
            vec![
                cell("a = 1"),
                cell("a = compute()").fails_at(1),
                cell("b = a"),
            ],
            vec![deps("b", &[1, 3]), Q::DependsOn(3, vec![1])],
        ),
        case(
            "a cell that does not parse defines nothing and breaks nothing",
            vec![cell("x = 1"), cell("x = (2"), cell("y = x")],
            vec![deps("y", &[1, 3])],
        ),
        // ---- IPython syntax ----
        case(
            "line magics, shell captures and help are masked",
            vec![
                cell("%matplotlib inline\nx = 1"),
                cell("files = !ls\n!echo {x}\nobj?"),
                cell("y = len(files)"),
                cell("%time z = x + 1"),
            ],
            vec![deps("x", &[1]), deps("y", &[2, 3]), deps("z", &[1, 4])],
        ),
        case(
            "cell magics: %%time runs, %%timeit binds nothing, %%bash is opaque",
            vec![
                cell("x = 2"),
                cell("%%time\nq = x * 2"),
                cell("%%timeit\nt = x + 1"),
                cell("%%bash\necho hi\nls -la"),
            ],
            vec![deps("q", &[1, 2]), Q::Unknown("t", None), deps("x", &[1])],
        ),
        // ---- aliasing ----
        case(
            "static alias: b = a; b.append changes a",
            vec![
                cell("a = [1]"),
                cell("b = a"),
                cell("b.append(2)"),
                cell("b += [3]"),
            ],
            vec![deps("a", &[1, 2, 3, 4]), deps("b", &[1, 2, 3, 4])],
        ),
        case(
            "runtime ids reveal an alias static analysis cannot see",
            vec![
                cell("a = [1]").runtime(&[("a", 100)], &[]),
                cell("b = pick(a)").runtime(&[("b", 100)], &[]),
                cell("b.append(2)").runtime(&[], &[]),
                cell("c = len(a)").runtime(&[("c", 5)], &[]),
            ],
            vec![deps("a", &[1, 2, 3]), deps("c", &[1, 2, 3, 4])],
        ),
        case(
            "same id but rebound by += is not a mutation of the alias",
            vec![
                cell("a = 0").runtime(&[("a", 7)], &[]),
                cell("b = a").runtime(&[("b", 7)], &[]),
                cell("b += 1").runtime(&[("b", 8)], &[]),
            ],
            vec![deps("a", &[1]), deps("b", &[1, 2, 3])],
        ),
        // ---- runtime corrects static ----
        case(
            "exec and globals()[...] bindings come from the runtime probe",
            vec![
                cell("exec('q = 5')").runtime(&[("q", 1)], &[]),
                cell("globals()['r'] = 6").runtime(&[("r", 2)], &[]),
                cell("s = q + r"),
            ],
            vec![deps("q", &[1]), deps("r", &[2]), deps("s", &[1, 2, 3])],
        ),
        case(
            "star import bindings come from the runtime probe",
            vec![
                cell("from mod import *").runtime(&[("helper", 9), ("_", 3), ("_i1", 4)], &[]),
                cell("r = helper()"),
            ],
            vec![deps("r", &[1, 2]), Q::Unknown("_i1", None)],
        ),
        case(
            "statically defined but not bound at runtime is not a definition",
            vec![
                cell("x = 1").runtime(&[("x", 1)], &[]),
                cell("y = 3\nx = 2").runtime(&[("y", 2)], &[]),
            ],
            vec![deps("x", &[1]), deps("y", &[2])],
        ),
        case(
            "runtime deletion the analysis did not see",
            vec![
                cell("x = 1"),
                cell("globals().pop('x')").runtime(&[], &["x"]),
            ],
            vec![Q::Unknown("x", Some(2))],
        ),
        case(
            "a failing statement's partial bindings come from the runtime probe",
            vec![
                cell("total = 0"),
                cell("for i in range(10):\n    total += i\n    check(i)")
                    .fails_at(3)
                    .runtime(&[("i", 1), ("total", 2)], &[]),
                cell("t = total"),
            ],
            // Statement granularity: `i` comes from the loop statement, which read `total`.
            vec![deps("t", &[1, 2, 3]), deps("i", &[1, 2])],
        ),
        // ---- modules ----
        case(
            "calling a module function is not a mutation of the module",
            vec![
                cell("import numpy as np"),
                cell("a = np.zeros(3)"),
                cell("b = np.ones(2)"),
            ],
            vec![deps("b", &[1, 3]), deps("np", &[1])],
        ),
        // ---- granularity, slices, errors ----
        case(
            "statement granularity",
            vec![cell("a = 1; b = 2"), cell("c = a")],
            vec![Q::Stmts("c", vec![(1, 0), (2, 0)]), deps("c", &[1, 2])],
        ),
        case(
            "a slice includes the imports and function definitions it needs",
            vec![
                cell("import math\nimport os"),
                cell("def area(r):\n    return math.pi * r ** 2"),
                cell("radius = 2"),
                cell("unused = 9"),
                cell("a = area(radius)"),
            ],
            vec![Q::Slice("a", vec![(1, 0), (2, 0), (3, 0), (5, 0)])],
        ),
        case(
            "unknown variable lists similar names",
            vec![cell("data_frame = 1\nDataset = 2")],
            vec![
                Q::Similar("data_frme", "data_frame"),
                Q::Similar("dataset", "Dataset"),
                Q::Similar("data", "data_frame"),
                Q::Unknown("no_such_thing", None),
            ],
        ),
    ]
}

#[test]
fn dependency_table() {
    let mut report = Vec::new();
    for c in table() {
        let (_, failures) = run(&c);
        for f in failures {
            report.push(format!("[{}] {f}", c.name));
        }
    }
    assert!(report.is_empty(), "\n{}\n", report.join("\n"));
}

#[test]
fn replay_matches_live_and_survives_serialisation() {
    for c in table() {
        let (live, _) = run(&c);
        // What the store keeps: the inputs, as JSON.
        let inputs: Vec<ExecutionInput> = c
            .cells
            .iter()
            .enumerate()
            .map(|(i, cell)| {
                let analysis = analyze_cell(cell.code);
                let failed_at_statement = cell
                    .fails_at_line
                    .and_then(|line| statement_at_line(&analysis, line));
                let input = ExecutionInput {
                    execution_id: i as i64 + 1,
                    execution_count: Some(i as i64 + 1),
                    cell_id: cell.cell_id.map(String::from),
                    analysis,
                    failed_at_statement,
                    runtime: cell.runtime.clone(),
                };
                serde_json::from_str(&serde_json::to_string(&input).unwrap()).unwrap()
            })
            .collect();
        let replayed = Dataflow::replay(inputs);
        let snapshot: Dataflow =
            serde_json::from_str(&serde_json::to_string(&live).unwrap()).unwrap();
        for var in live.variables() {
            let want = live.backwards_deps(&var).unwrap();
            assert_eq!(
                replayed.backwards_deps(&var).unwrap(),
                want,
                "[{}] {var}",
                c.name
            );
            assert_eq!(
                snapshot.backwards_deps(&var).unwrap(),
                want,
                "[{}] {var}",
                c.name
            );
        }
    }
}
