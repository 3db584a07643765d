//! Hand-made trials for the diff's unit tests (`algorithm/tests.rs`, `statements/tests.rs`):
//! executions with the statements, versions and reads the dependency index would hold.

use super::algorithm::{base_name, code_ops, compare_values, reads, Exec, Final, Side};
use super::inputs::{compare_inputs, Content, FileUse};
use super::model::{DiffStatus, InputDiff};
use super::statements::{Made, Read, Stmt};

/// An execution `seq` running `code` (its hash is the code itself) that made nothing.
pub(crate) fn exec(seq: i64, code: &str) -> Exec {
    Exec {
        seq,
        execution_count: Some(seq),
        code: code.to_string(),
        sha256: code.to_string(),
        ..Exec::default()
    }
}

/// A trial written cell by cell, each cell as its statements `(text, makes, reads)`, the way
/// the dependency index would have it: a made symbol is assigned (`x`, which retires the
/// name's earlier versions) or, written `+x` / `+d['k']`, changed in place (they stay part of
/// its value); a read of `x` or `x['k']` reads the current versions of `x` (and of that key).
#[derive(Default)]
pub(crate) struct Trial {
    pub(crate) execs: Vec<Exec>,
}

pub(crate) type Statement<'a> = (&'a str, &'a [&'a str], &'a [&'a str]);

impl Trial {
    pub(crate) fn cell(mut self, statements: &[Statement]) -> Trial {
        let seq = self.execs.len() as i64 + 1;
        let texts: Vec<&str> = statements.iter().map(|s| s.0).collect();
        let mut e = exec(seq, &texts.join("\n"));
        for (index, (text, makes, reads)) in statements.iter().enumerate() {
            let mut stmt = Stmt {
                index: index as i64,
                text: Some(text.to_string()),
                ..Stmt::default()
            };
            for read in *reads {
                stmt.reads
                    .extend(reads_of(self.execs.iter().chain([&e]), read));
            }
            for made in *makes {
                let (symbol, mutation) = match made.strip_prefix('+') {
                    Some(symbol) => (symbol, true),
                    None => (*made, false),
                };
                let name = base_name(symbol).to_string();
                if !mutation {
                    self.retire(&mut e, &name);
                }
                stmt.makes.push(Made {
                    symbol: symbol.to_string(),
                    name,
                    current: true,
                    mutation,
                });
            }
            e.statements.push(stmt);
        }
        self.execs.push(e);
        self
    }

    /// The last cell's statement `statement` (None: unknown) opened `file`.
    pub(crate) fn file(mut self, statement: Option<i64>, mut file: FileUse) -> Trial {
        file.statement = statement;
        self.execs
            .last_mut()
            .expect("a cell first")
            .files
            .push(file);
        self
    }

    fn retire(&mut self, cell: &mut Exec, name: &str) {
        for e in self.execs.iter_mut().chain([cell]) {
            for s in &mut e.statements {
                for m in s.makes.iter_mut().filter(|m| m.name == name) {
                    m.current = false;
                }
            }
        }
    }
}

/// What reading `read` reads of `execs`: every current version of its name (of the name and
/// that key, for `d['k']`).
pub(crate) fn reads_of<'e>(execs: impl Iterator<Item = &'e Exec>, read: &str) -> Vec<Read> {
    let base = base_name(read);
    let wanted = |m: &Made| {
        m.current
            && if read == base {
                m.name == base
            } else {
                m.symbol == base || m.symbol == read
            }
    };
    let mut out = Vec::new();
    for e in execs {
        for s in &e.statements {
            for (made, _) in s.makes.iter().enumerate().filter(|(_, m)| wanted(m)) {
                out.push(Read {
                    seq: Some(e.seq),
                    statement: s.index,
                    made: Some(made),
                });
            }
        }
    }
    out
}

/// A read of `path` (resolved under `/w/`) that saw content `sha256` of `size` bytes.
pub(crate) fn read(path: &str, sha256: &str, size: i64) -> FileUse {
    FileUse {
        path: path.into(),
        resolved: format!("/w/{path}"),
        write: false,
        statement: None,
        content: Content {
            sha256: Some(sha256.into()),
            size: Some(size),
            mtime: Some(1.0),
            sampled: false,
        },
    }
}

/// A write of `path` that left content `sha256`.
pub(crate) fn write(path: &str, sha256: &str, size: i64) -> FileUse {
    FileUse {
        write: true,
        ..read(path, sha256, size)
    }
}

/// The inputs section of two hand-made trials.
pub(crate) fn inputs(l: &Side, r: &Side) -> Vec<InputDiff> {
    compare_inputs(&reads(l), &reads(r)).0
}

pub(crate) fn scalar(type_name: &str, value: &str) -> Final {
    Final {
        type_name: type_name.into(),
        value_json: Some(value.into()),
        ..Final::default()
    }
}

pub(crate) fn typed(type_name: &str) -> Final {
    Final {
        type_name: type_name.into(),
        ..Final::default()
    }
}

pub(crate) fn side(id: i64, execs: Vec<Exec>, finals: &[(&str, Final)]) -> Side {
    let finals = finals
        .iter()
        .map(|(n, f)| (n.to_string(), f.clone()))
        .collect();
    Side { id, execs, finals }
}

pub(crate) fn values(l: &Side, r: &Side) -> Vec<(String, DiffStatus, &'static str)> {
    let ops = code_ops(&l.execs, &r.execs);
    let (_, seeds) = compare_inputs(&reads(l), &reads(r));
    compare_values(l, r, &ops, &seeds)
        .into_iter()
        .map(|v| (v.name, v.status, v.compared_by))
        .collect()
}
pub(crate) fn changed(l: &Side, r: &Side) -> Vec<String> {
    values(l, r)
        .into_iter()
        .filter(|(_, status, _)| *status != DiffStatus::Equal)
        .map(|(name, _, _)| name)
        .collect()
}

/// `In[n]` of cell `cell_id` running `code` (ok), recorded as the kernel would: with its own
/// analysis when `own` (else the code's) and the probe's note of the names it bound (name,
/// JSON value, or None for a value known by its type only).
pub(crate) fn recorded(
    n: i64,
    cell_id: Option<&str>,
    code: &str,
    own: bool,
    bound: &[(&str, Option<&str>)],
) -> crate::ExecutionRecord {
    let at = chrono::Utc::now();
    let analysis = if own {
        serde_json::to_string(&pyflow::analyze_cell(code)).expect("serialises")
    } else {
        String::new()
    };
    let bound: Vec<String> = bound
        .iter()
        .enumerate()
        .map(|(k, (name, value))| {
            let id = n * 100 + k as i64;
            let info = match value {
                Some(v) => format!(r#"{{"type": "int", "value": {v}}}"#),
                None => r#"{"type": "lib.Model"}"#.to_string(),
            };
            format!(r#"["{name}", {id}, {info}]"#)
        })
        .collect();
    crate::ExecutionRecord {
        code_replaced: false,
        msg_id: format!("msg-{n}-{}", uuid::Uuid::new_v4()),
        execution_count: Some(n),
        cell_id: cell_id.map(String::from),
        code: code.into(),
        started_at: at,
        ended_at: at + chrono::Duration::milliseconds(3),
        status: crate::ExecStatus::Ok,
        error: None,
        outputs: vec![],
        dataflow: Some(crate::DataflowRecord {
            analysis,
            runtime: Some(format!(
                r#"{{"bound": [{}], "deleted": []}}"#,
                bound.join(", ")
            )),
            failed_line: None,
        }),
    }
}
