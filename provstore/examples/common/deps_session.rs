//! The synthetic working session of synth_deps (and of synth_million's session trials): a
//! notebook of 300 cells with dataflow facts, run in stretches. See synth_deps.rs for the
//! shape of the cells and of the session.

use chrono::{Duration as Span, Utc};
use provstore::{DataflowRecord, ExecStatus, ExecutionRecord};

use super::Rng;

/// Cells of the notebook.
pub const CELLS: usize = 300;

/// The code of notebook cell `c`: setup cells, then cells that each define
/// `v{c}` (and lists, dicts, frame columns, a function) from one or two
/// upstream cells, mostly the previous ten, sometimes anywhere above. Kind 8
/// fails at its second line when `fails`.
pub fn cell_code(c: usize, rng: &mut Rng, fails: bool) -> String {
    match c {
        0 => return "import numpy as np\nimport pandas as pd".into(),
        1 => return "df = pd.read_csv(\"data.csv\")\nconfig = {\"seed\": 0}".into(),
        2 => return "def prep(x, k=1):\n    return x * k + config[\"seed\"]".into(),
        _ => {}
    }
    let up = |rng: &mut Rng| {
        if c == 3 {
            3 // reads its own previous value, if any
        } else if rng.below(10) == 0 {
            3 + rng.below(c - 3)
        } else {
            c - 1 - rng.below(10.min(c - 3))
        }
    };
    let (a, b) = (up(rng), up(rng));
    match c % 9 {
        0 => format!("v{c} = prep(v{a}) + v{b}"),
        1 => format!("lst{c} = [v{a}, v{b}]\nlst{c}.append(v{a} * 2)\nv{c} = len(lst{c})"),
        2 => format!("d{c} = {{}}\nd{c}['x'] = v{a}\nd{c}['y'] = v{b}\nv{c} = d{c}['x']"),
        3 => format!("df['c{c}'] = df['c{a}'].fillna(v{b})\nv{c} = df['c{c}'].sum()"),
        4 => format!("v{c} = np.mean(v{a}) + v{b} * 2\nprint(v{c})"),
        5 => format!("tmp = v{a} + v{b}\nv{c} = tmp * 2\ndel tmp"),
        6 => format!("v{c} = [x * v{a} for x in range(10) if x]"),
        7 => format!("v{c} = v{a} if v{b} else 0\nv{a} += 1"),
        _ if fails => format!("v{c} = v{a} + 1\nboom()\nw{c} = v{b}"),
        _ => format!("v{c} = v{a} + 1\nw{c} = v{b}"),
    }
}

/// The order cells are run in: stretches of 1-15 consecutive cells, mostly near where the
/// previous stretch ended, sometimes anywhere, and now and then the whole notebook.
pub fn session(n: usize, rng: &mut Rng) -> Vec<usize> {
    let mut order = Vec::with_capacity(n);
    order.extend(0..CELLS.min(n));
    let mut at = CELLS / 2;
    while order.len() < n {
        let stretch: Vec<usize> = if rng.below(50) == 0 {
            (0..CELLS).collect()
        } else {
            let start = if rng.below(10) < 7 {
                (at + CELLS + rng.below(16) - 5) % CELLS
            } else {
                rng.below(CELLS)
            };
            (start..CELLS.min(start + 1 + rng.below(15))).collect()
        };
        for c in stretch {
            if order.len() < n {
                order.push(c);
                at = c;
            }
        }
    }
    order
}

pub fn cell(rng: &mut Rng, c: usize) -> (String, bool) {
    let fails = c % 9 == 8 && c > 2 && rng.below(3) == 0;
    // The same cell keeps its code: draw its reads from a generator seeded by the cell.
    let code = cell_code(c, &mut Rng(0x9E37_79B9_7F4A_7C15 ^ (c as u64 + 1)), fails);
    (code, fails)
}

pub fn record(i: usize, c: usize, code: String, fails: bool) -> ExecutionRecord {
    let started_at = Utc::now();
    let runtime = (i.is_multiple_of(3) && !fails && c > 2).then(|| {
        format!(r#"{{"bound": [["v{c}", {i}, {{"type": "int", "value": {i}}}]], "deleted": []}}"#)
    });
    let analysis = serde_json::to_string(&pyflow::analyze_cell(&code)).expect("serialises");
    ExecutionRecord {
        code_replaced: false,
        msg_id: format!("synth-{i}"),
        execution_count: Some(i as i64 + 1),
        cell_id: Some(format!("cell-{c}")),
        code,
        started_at,
        ended_at: started_at + Span::milliseconds(5),
        status: if fails {
            ExecStatus::Error
        } else {
            ExecStatus::Ok
        },
        error: None,
        outputs: Vec::new(),
        dataflow: Some(DataflowRecord {
            analysis,
            runtime,
            failed_line: fails.then_some(2),
        }),
    }
}
