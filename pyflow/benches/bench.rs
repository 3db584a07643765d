//! `cargo bench -p pyflow`: analysis time of a 2,000-statement cell (target
//! ≤ 5 ms) and dependency queries on a synthetic trial of 100,000
//! executions (target ≤ 20 ms), with the cost of rebuilding that trial from
//! stored facts reported separately.

use std::time::{Duration, Instant};

use pyflow::{analyze_cell, Dataflow, ExecutionInput, RuntimeFacts};

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1) as u64) as usize
    }
}

/// Runs `f`, returning its result and how long it took.
fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    let out = f();
    (out, t.elapsed())
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

/// (min, median, 95th percentile, max).
fn stats(mut samples: Vec<Duration>) -> (Duration, Duration, Duration, Duration) {
    samples.sort();
    let at = |q: usize| samples[(samples.len() - 1) * q / 100];
    (at(0), at(50), at(95), at(100))
}

/// Statement templates for both benchmarks: `$k` is the name defined, `$a`
/// and `$b` names read, `$i` a number. A mix of assignments, calls,
/// subscripts, method calls, attribute stores, augmented assignments,
/// f-strings, comprehensions, loops, functions, deletions.
const TEMPLATES: &[&str] = &[
    "lst$k = [v$a, v$b]",
    "lst$k.append(v$a)",
    "d$k = {}\nd$k['x'] = v$a",
    "d$k['y'] = v$a * v$b",
    "def f$k(x, y=$i):\n    return x + v$a * y",
    "v$k = f$a(v$b)",
    "del v$k",
    "v$k = d$a['x'] + len(lst$b)\nprint(v$k)",
    // Fails at its second statement in the synthetic trial.
    "v$k = v$a + 1\nboom()\nv$b = 0",
    "v$k = v$a + v$b",
    "v$k = np.mean(v$a) + v$b * 2",
    "df['c$k'] = df['c$a'].fillna(v$b)",
    "obj.attr$k = f(v$a, key=v$b, **opts)",
    "v$k += v$a - v$b",
    "msg$k = f\"{v$a!r:>{w}} {d$b['x']}\"",
    "for j in range($i):\n    acc$k = v$a + j",
    "v$k = [x * v$a for x in v$b if x]",
    "v$k = v$a if d$b else v$b[0]",
];

/// Index of the template that fails.
const FAILING: usize = 8;

fn render(template: &str, i: usize, k: usize, a: usize, b: usize) -> String {
    template
        .replace("$k", &k.to_string())
        .replace("$a", &a.to_string())
        .replace("$b", &b.to_string())
        .replace("$i", &i.to_string())
}

/// A cell of exactly `n` top-level statements made from the templates.
fn big_cell(n: usize) -> String {
    let mut rng = Rng(7);
    let mut out = String::from("import numpy as np\nimport pandas as pd\n");
    let mut count = 2;
    let mut i = 0;
    while count < n {
        i += 1;
        let mut template = TEMPLATES[i % TEMPLATES.len()];
        let top_level = |t: &str| t.lines().filter(|l| !l.starts_with(' ')).count();
        if count + top_level(template) > n {
            template = "v$k = v$a + v$b";
        }
        count += top_level(template);
        out.push_str(&render(template, i, i, rng.below(i), rng.below(i)));
        out.push('\n');
    }
    out
}

fn bench_analysis() {
    let code = big_cell(2_000);
    let analysis = analyze_cell(&code);
    assert!(analysis.parse_error.is_none(), "{:?}", analysis.parse_error);
    assert_eq!(analysis.statements.len(), 2_000);
    let runs = 100;
    let samples: Vec<Duration> = (0..runs)
        .map(|_| timed(|| std::hint::black_box(analyze_cell(std::hint::black_box(&code)))).1)
        .collect();
    let (min, median, p95, max) = stats(samples);
    println!(
        "analyze_cell, 2,000 statements ({} lines, {} KiB), {runs} runs: median {}, min {}, p95 {}, max {}   [target ≤ 5 ms]",
        code.lines().count(),
        code.len() / 1024,
        ms(median),
        ms(min),
        ms(p95),
        ms(max)
    );
}

/// How a synthetic cell picks the variables it reads.
#[derive(Clone, Copy)]
enum Reads {
    /// Uniformly among all names: every value ends up depending on a large
    /// part of the trial (answers of thousands of executions) — a worst case.
    Random,
    /// Mostly among the names of the last ~100 executions, 1% anywhere: how
    /// notebooks tend to work.
    Local,
}

/// The code of execution `i` of a synthetic trial over `names` variables,
/// from the templates, and whether it fails (at its second statement).
fn synthetic_cell(rng: &mut Rng, i: usize, names: usize, reads: Reads) -> (String, Option<usize>) {
    let k = match reads {
        Reads::Random => rng.below(names),
        Reads::Local => (i * 7 + rng.below(3)) % names,
    };
    let pick = |rng: &mut Rng| match reads {
        Reads::Local if rng.below(100) != 0 => {
            (i * 7 + names - 1 - rng.below(700.min(names - 1))) % names
        }
        _ => rng.below(names),
    };
    let a = pick(rng);
    let b = pick(rng);
    let t = i % TEMPLATES.len();
    (
        render(TEMPLATES[t], i, k, a, b),
        (t == FAILING).then_some(1),
    )
}

fn bench_dataflow(reads: Reads, label: &str) {
    const EXECUTIONS: usize = 100_000;
    const NAMES: usize = 5_000;
    let mut rng = Rng(11);
    let codes: Vec<(String, Option<usize>)> = (0..EXECUTIONS)
        .map(|i| synthetic_cell(&mut rng, i, NAMES, reads))
        .collect();
    let input = |(i, (code, failed)): (usize, &(String, Option<usize>))| ExecutionInput {
        execution_id: i as i64 + 1,
        execution_count: Some(i as i64 + 1),
        cell_id: Some(format!("cell-{}", i % 300)),
        analysis: analyze_cell(code),
        failed_at_statement: *failed,
        runtime: (i % 3 == 0).then(|| RuntimeFacts {
            bound: vec![(format!("v{}", i % NAMES), i as u64)],
            deleted: Vec::new(),
            types: Vec::new(),
            files: Vec::new(),
        }),
        failed: failed.is_some(),
    };
    let (inputs, analyse_all) = timed(|| codes.iter().enumerate().map(input).collect::<Vec<_>>());
    let (json, encode) = timed(|| {
        inputs
            .iter()
            .map(|i| serde_json::to_string(i).unwrap())
            .collect::<Vec<_>>()
    });
    let stored_bytes: usize = json.iter().map(String::len).sum();
    let (decoded, decode) = timed(|| {
        json.iter()
            .map(|j| serde_json::from_str(j).unwrap())
            .collect::<Vec<ExecutionInput>>()
    });
    let (flow, replay) = timed(|| Dataflow::replay(decoded));
    println!(
        "synthetic trial, {label}: {EXECUTIONS} executions over {NAMES} names; stored facts {:.1} MiB of JSON ({} B per execution)",
        stored_bytes as f64 / (1 << 20) as f64,
        stored_bytes / EXECUTIONS
    );
    println!(
        "  rebuild from stored facts: JSON decode {} + replay {} = {}",
        ms(decode),
        ms(replay),
        ms(decode + replay)
    );
    println!(
        "  (re-analysing the stored code instead of decoding facts: {}; encoding the facts: {})",
        ms(analyse_all),
        ms(encode)
    );

    // Queries on the rebuilt structure, on random current variables.
    let vars = flow.variables();
    let mut samples = Vec::new();
    let mut sizes = Vec::new();
    let mut worst = (Duration::ZERO, String::new(), 0);
    for _ in 0..300 {
        let var = &vars[rng.below(vars.len())];
        let (deps, took) = timed(|| flow.backwards_deps(var).unwrap());
        if took > worst.0 {
            worst = (took, var.clone(), deps.len());
        }
        sizes.push(deps.len());
        samples.push(took);
    }
    sizes.sort_unstable();
    let (min, median, p95, max) = stats(samples);
    println!(
        "  backwards_deps on 300 random variables: median {}, min {}, p95 {}, max {} ({} executions in that answer)   [target ≤ 20 ms]",
        ms(median),
        ms(min),
        ms(p95),
        ms(max),
        worst.2,
    );
    println!(
        "    answers hold {}..{} executions, median {}",
        sizes[0],
        sizes[sizes.len() - 1],
        sizes[sizes.len() / 2]
    );

    let var = worst.1.clone();
    let (deps, one) = timed(|| flow.backwards_deps(&var).unwrap());
    let (all, global) = timed(|| flow.global_backwards_deps(&var).unwrap());
    let (slice, slice_took) = timed(|| flow.slice(&var).unwrap());
    println!(
        "  slowest variable ({var}) again: backwards_deps {} ({} executions), global_backwards_deps {} ({}), slice {} ({} statements)",
        ms(one),
        deps.len(),
        ms(global),
        all.len(),
        ms(slice_took),
        slice.len()
    );
    let (graph, took) = timed(|| flow.graph());
    println!(
        "  whole-trial graph(): {} ({} edges)",
        ms(took),
        graph.edges.len()
    );

    let (snapshot, save) = timed(|| serde_json::to_string(&flow).unwrap());
    let (restored, load) = timed(|| serde_json::from_str::<Dataflow>(&snapshot).unwrap());
    assert_eq!(restored.backwards_deps(&var).unwrap(), deps);
    println!(
        "  optional snapshot of the Dataflow instead of replay: {:.1} MiB, save {}, load {}",
        snapshot.len() as f64 / (1 << 20) as f64,
        ms(save),
        ms(load)
    );
}

fn main() {
    // Test harnesses list benchmarks with `--list`: there are none to list.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    bench_analysis();
    bench_dataflow(Reads::Local, "local reads");
    bench_dataflow(Reads::Random, "random reads (worst case)");
}
