//! Garbage in, no panic out: random bytes and randomly damaged real cells go
//! through the analysis and the engine, and the answers stay well-formed.

use pyflow::{analyze_cell, CellAnalysis, Dataflow, ExecutionInput, RuntimeFacts};

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const CORPUS: &[&str] = &[
    "import numpy as np\nx = np.zeros(3)\nx[0] = 1\n",
    "def f[T](a: T, *, b=g(1)) -> T:\n    global h\n    h = [i for i in a if (j := i)]\n    return lambda q: q + j\n",
    "match p:\n    case {'k': [a, *rest]} if a > 0:\n        out = rest\n    case C(x=1) | D():\n        pass\n",
    "msg = f\"{x!r:{width}} {d[\"k\"]} {f'{y}'}\"\n",
    "%%time\nfor i in range(3):\n    acc.append(i)\n",
    "files = !ls {path}\n%time n = len(files)\nobj?\n!echo $HOME\n",
    "class A(B):\n    z = 1\n    def m(self):\n        return self.z + w\n",
    "async def main():\n    async with s as c:\n        await c.go()\ndata = await main()\n",
    "try:\n    del d['a'], lst[0]\nexcept KeyError as e:\n    print(e)\nfinally:\n    x += 1\n",
    "type Alias[K, V] = dict[K, V]\nwith open(p) as fh, lock:\n    txt = fh.read()\n",
    "%%bash\necho {x}\n",
    "df.loc[df['a'] > 0, 'b'] = df['c'].fillna(0, inplace=True)\n",
];

const NOISE: &[char] = &[
    '(', ')', '[', ']', '{', '}', ':', '\'', '"', '\\', '\n', '\t', ' ', '%', '!', '?', '=', '.',
    ',', '@', '#', '$', '*', 'f', 'x', '0', 'é', '\r', '\u{0}', '\u{feff}', ';', '/', 'λ',
];

fn damage(rng: &mut Rng, code: &str) -> String {
    let mut chars: Vec<char> = code.chars().collect();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(chars.len() + 1);
        match rng.below(4) {
            0 if !chars.is_empty() => {
                let end = (at + rng.below(8)).min(chars.len());
                chars.drain(at.min(end)..end);
            }
            1 => chars.insert(at.min(chars.len()), NOISE[rng.below(NOISE.len())]),
            2 if !chars.is_empty() => {
                let start = rng.below(chars.len());
                let end = (start + rng.below(20)).min(chars.len());
                let piece: Vec<char> = chars[start..end].to_vec();
                let at = at.min(chars.len());
                chars.splice(at..at, piece);
            }
            _ => {
                let other = CORPUS[rng.below(CORPUS.len())];
                let at = at.min(chars.len());
                chars.splice(at..at, other.chars().take(rng.below(40)));
            }
        }
    }
    chars.into_iter().collect()
}

fn garbage(rng: &mut Rng) -> String {
    let len = rng.below(200);
    (0..len)
        .map(|_| match rng.below(3) {
            0 => NOISE[rng.below(NOISE.len())],
            1 => char::from_u32(rng.below(0x3000) as u32).unwrap_or('?'),
            _ => (b'a' + rng.below(26) as u8) as char,
        })
        .collect()
}

fn check_well_formed(code: &str, a: &CellAnalysis) {
    if let Some(e) = &a.parse_error {
        assert!(!e.message.starts_with("internal error"), "{code:?}: {e:?}");
        assert!(e.line >= 1 && e.column >= 1, "{code:?}: {e:?}");
        assert!(a.statements.is_empty());
    }
    let lines = code.split('\n').count().max(1) + code.matches('\r').count();
    for (i, s) in a.statements.iter().enumerate() {
        assert_eq!(s.index, i);
        assert!(
            1 <= s.line_start && s.line_start <= s.line_end && s.line_end <= lines,
            "{code:?}: {s:?}"
        );
        assert!(
            code.get(s.byte_start..s.byte_end).is_some(),
            "{code:?}: {s:?}"
        );
    }
}

/// `PYFLOW_FUZZ_ROUNDS` and `PYFLOW_FUZZ_SEED` make longer or other runs.
fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn damaged_and_random_cells_never_break_anything() {
    let rounds = setting("PYFLOW_FUZZ_ROUNDS", 2_500) as i64;
    let mut rng = Rng(setting("PYFLOW_FUZZ_SEED", 0x9e37_79b9_7f4a_7c15) | 1);
    let mut flow = Dataflow::new();
    let mut names: Vec<String> = Vec::new();
    for round in 0..rounds {
        let code = if round % 3 == 0 {
            garbage(&mut rng)
        } else {
            let base = CORPUS[rng.below(CORPUS.len())];
            damage(&mut rng, base)
        };
        let analysis = analyze_cell(&code);
        check_well_formed(&code, &analysis);
        names.extend(
            analysis
                .statements
                .iter()
                .flat_map(|s| s.defines.iter().map(|d| d.to_string())),
        );

        let statements = analysis.statements.len();
        let runtime = (rng.below(2) == 0).then(|| RuntimeFacts {
            bound: (0..rng.below(3))
                .filter_map(|_| {
                    names
                        .get(rng.below(names.len()))
                        .map(|n| (n.clone(), rng.below(5) as u64))
                })
                .collect(),
            deleted: (0..rng.below(2))
                .filter_map(|_| names.get(rng.below(names.len())).cloned())
                .collect(),
            types: (0..rng.below(2))
                .filter_map(|_| {
                    let kind = ["int", "list", "numpy.float64"][rng.below(3)];
                    names
                        .get(rng.below(names.len()))
                        .map(|n| (n.clone(), kind.to_string()))
                })
                .collect(),
            files: Vec::new(),
        });
        flow.add_execution(ExecutionInput {
            execution_id: round,
            execution_count: Some(round),
            cell_id: Some(format!("c{}", rng.below(10))),
            analysis,
            failed_at_statement: (rng.below(4) == 0).then(|| rng.below(statements + 2)),
            runtime,
            failed: false,
        });
    }
    let mut queries: Vec<String> = flow.variables();
    queries.extend(["", "1x", "d[", "x['a'", "é.é", "  ", "a.b.c", "_"].map(String::from));
    for _ in 0..200 {
        queries.push(garbage(&mut rng));
    }
    for q in &queries {
        match flow.backwards_deps(q) {
            Ok(deps) => {
                assert!(!deps.is_empty());
                assert!(
                    deps.windows(2)
                        .all(|w| w[0].exec.execution_id < w[1].exec.execution_id),
                    "execution order"
                );
            }
            Err(e) => assert!(!e.to_string().is_empty()),
        }
        let _ = flow.global_backwards_deps(q);
        let _ = flow.slice(q);
        let _ = flow.backwards_graph(q);
    }
    let g = flow.graph();
    assert_eq!(g.nodes.len(), rounds as usize);
    assert_eq!(g.to_petgraph().node_count(), rounds as usize);
}

#[test]
fn random_bytes_as_text() {
    let mut rng = Rng(setting("PYFLOW_FUZZ_SEED", 42) | 1);
    for _ in 0..500 {
        let bytes: Vec<u8> = (0..rng.below(300)).map(|_| rng.next() as u8).collect();
        let code = String::from_utf8_lossy(&bytes);
        check_well_formed(&code, &analyze_cell(&code));
    }
}
