//! Writes a store holding one finished trial of N synthetic executions, for
//! benchmarking the readers (`provctl show` on a 10,000-execution trial)
//! without driving a real kernel through N executes (~8 ms each).
//!
//! ```text
//! cargo run --release -p provstore --example synth_store -- PATH N
//! ```
//!
//! PATH must not exist yet. The executions look like a long working session
//! in a notebook of 250 cells, re-run in turn (so code is deduplicated as a
//! real re-run would be), each 3-8 lines long:
//!
//! - every execution prints one line to stdout (distinct text),
//! - every 5th also returns a value (`text/plain` and a small `text/html` table),
//! - every 50th also shows a ~20 KB `image/png` (distinct bytes),
//! - every 100th fails with a 6-line traceback (ANSI-coloured, as IPython sends it).
//!
//! No dataflow facts are recorded (the kernel stores its analysis of each
//! execution as JSON besides; these have none).
//!
//! Everything is generated from a fixed seed, so two stores built with the
//! same N are alike (except the trial's UUID, pid and times). N = 0 gives a
//! store with one empty trial: the fixed cost of the schema.

mod common;

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, Duration, Utc};
use provstore::{
    ErrorInfo, ExecStatus, ExecutionRecord, NewTrial, OutputRecord, Store, TrialStatus,
};

use common::Rng;

const CELLS: usize = 250;
const BATCH: usize = 500;
const PNG_BYTES: usize = 20_000;

fn cell_code(k: usize, rng: &mut Rng) -> String {
    let lines = 3 + rng.below(6);
    let mut code = format!("# cell {k}: step {k} of the analysis\n");
    for j in 1..lines {
        code.push_str(&format!(
            "v{k}_{j} = df.groupby(\"col{}\")[\"value\"].agg([\"mean\", \"std\"]).iloc[{j}]\n",
            rng.below(20)
        ));
    }
    code.push_str(&format!("print(f\"cell {k}: {{v{k}_1}}\")\n"));
    code
}

/// Execution `i` of the session, which began at `base`, 2.5 s per execution.
fn execution(
    i: usize,
    base: DateTime<Utc>,
    cells: &[(String, String)],
    rng: &mut Rng,
) -> ExecutionRecord {
    let (cell_id, code) = &cells[i % cells.len()];
    let started_at = base + Duration::milliseconds(i as i64 * 2_500);
    let ended_at = started_at + Duration::milliseconds(1 + rng.below(400) as i64);
    let mut outputs = vec![OutputRecord {
        output_type: "stream".into(),
        name: Some("stdout".into()),
        payloads: vec![(
            "text/plain".into(),
            format!(
                "cell {}: mean={:.4} (run {i})\n",
                i % cells.len(),
                rng.next() as f64 / u64::MAX as f64
            )
            .into_bytes(),
        )],
    }];
    if i % 5 == 4 {
        let value = rng.below(1_000_000);
        outputs.push(OutputRecord {
            output_type: "execute_result".into(),
            name: None,
            payloads: vec![
                ("text/plain".into(), format!("   mean   std\n0  {value}  {}\n", value / 7).into_bytes()),
                (
                    "text/html".into(),
                    format!(
                        "<table class=\"dataframe\"><thead><tr><th></th><th>mean</th><th>std</th></tr>\
                         </thead><tbody><tr><th>0</th><td>{value}</td><td>{}</td></tr></tbody></table>",
                        value / 7
                    )
                    .into_bytes(),
                ),
            ],
        });
    }
    if i % 50 == 49 {
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        while png.len() < PNG_BYTES {
            png.extend_from_slice(&rng.next().to_le_bytes());
        }
        outputs.push(OutputRecord {
            output_type: "display_data".into(),
            name: None,
            payloads: vec![
                ("image/png".into(), png),
                (
                    "text/plain".into(),
                    b"<Figure size 900x350 with 2 Axes>".to_vec(),
                ),
            ],
        });
    }
    let (status, error) = if i % 100 == 99 {
        let traceback = vec![
            "\u{1b}[0;31m---------------------------------------------------------------------------\u{1b}[0m".into(),
            "\u{1b}[0;31mKeyError\u{1b}[0m                                  Traceback (most recent call last)".into(),
            format!("Cell \u{1b}[0;32mIn[{}], line 2\u{1b}[0m", i + 1),
            "\u{1b}[0;32m----> 2\u{1b}[0m v = df.groupby(\"col7\")[\"value\"]".into(),
            "File \u{1b}[0;32m.../pandas/core/frame.py:4102\u{1b}[0m, in \u{1b}[0;36mDataFrame.__getitem__\u{1b}[0m".into(),
            "\u{1b}[0;31mKeyError\u{1b}[0m: 'col7'".into(),
        ];
        let error = ErrorInfo {
            ename: "KeyError".into(),
            evalue: "'col7'".into(),
            traceback,
        };
        (ExecStatus::Error, Some(error))
    } else {
        (ExecStatus::Ok, None)
    };
    ExecutionRecord {
        code_replaced: false,
        msg_id: rng.uuid(),
        execution_count: Some(i as i64 + 1),
        cell_id: Some(cell_id.clone()),
        code: code.clone(),
        started_at,
        ended_at,
        status,
        error,
        outputs,
        dataflow: None,
    }
}

fn run(path: PathBuf, n: usize) -> Result<(), String> {
    if path.exists() {
        return Err(format!(
            "{} exists already; give a new path",
            path.display()
        ));
    }
    let mut store = Store::open(&path).map_err(|e| e.to_string())?;
    let cwd = std::env::current_dir().map_err(|e| e.to_string())?;
    // The session ends now: it began 2.5 s per execution ago.
    let base = Utc::now() - Duration::milliseconds(n as i64 * 2_500 + 1_000);
    let trial = store
        .begin_trial(&NewTrial {
            started_at: base,
            ..NewTrial::for_this_process(&cwd)
        })
        .map_err(|e| e.to_string())?;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let cells: Vec<(String, String)> = (0..CELLS)
        .map(|k| (rng.uuid(), cell_code(k, &mut rng)))
        .collect();
    let mut batch = Vec::with_capacity(BATCH);
    for i in 0..n {
        batch.push(execution(i, base, &cells, &mut rng));
        if batch.len() == BATCH || i + 1 == n {
            store
                .record_executions(trial.id, &batch)
                .map_err(|e| e.to_string())?;
            batch.clear();
        }
    }
    store
        .end_trial(trial.id, TrialStatus::Finished)
        .map_err(|e| e.to_string())?;
    println!(
        "trial {} with {n} executions in {}",
        trial.id,
        path.display()
    );
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parsed = match args.as_slice() {
        [path, n] => n.parse::<usize>().ok().map(|n| (PathBuf::from(path), n)),
        _ => None,
    };
    let Some((path, n)) = parsed else {
        eprintln!(
            "usage: synth_store PATH N   (writes one trial of N executions into a new store)"
        );
        return ExitCode::from(2);
    };
    match run(path, n) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("synth_store: error: {e}");
            ExitCode::FAILURE
        }
    }
}
