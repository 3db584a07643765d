//! The crate's `ro-crate-metadata.json`: its JSON-LD graph, made from plain data (no store, no
//! disk), following RO-Crate 1.1 and the Workflow Run Crate profiles 0.5 (Process, Workflow,
//! Provenance Run Crate) with Workflow RO-Crate 1.0:
//!
//! - the trial's notebook is the workflow (`mainEntity`: `File`, `SoftwareSourceCode`,
//!   `ComputationalWorkflow`, `HowTo`), each execution's code one of its parts (`hasPart`)
//!   and one `HowToStep` of it (`step`, `position` = the execution's order);
//! - the trial is the workflow's run (a `CreateAction`, `instrument` the notebook, `object`
//!   the files it read from outside, `result` the files it wrote), each execution a
//!   `CreateAction` of its code (start, end, status, error, the files it read and wrote),
//!   ordered by a `ControlAction` per step, all of them the `object` of the `OrganizeAction`
//!   of prov-kernel (the engine), whose `result` is the trial's run;
//! - the environment: the interpreter (`ComputerLanguage` Python at the trial's version), each
//!   imported package a `SoftwareApplication` in the notebook's `softwareRequirements`, and
//!   `requirements.txt`; the W3C PROV of the trial is `prov.json`.

use provstore::{ExecStatus, ExecutionDetail, TrialSummary};
use serde_json::{json, Value};

use super::files::{Now, TrialFile};
use super::requirements::distribution;

pub(super) const NOTEBOOK: &str = "notebook.ipynb";
pub(super) const PROV: &str = "prov.json";
pub(super) const REQUIREMENTS: &str = "requirements.txt";
pub(super) const README: &str = "README.md";
const LICENSE: &str = "#license";
const COMPLETED: &str = "http://schema.org/CompletedActionStatus";
const FAILED: &str = "http://schema.org/FailedActionStatus";

const RO_CRATE: &str = "https://w3id.org/ro/crate/1.1";
const WORKFLOW_RO_CRATE: &str = "https://w3id.org/workflowhub/workflow-ro-crate/1.0";
/// The Workflow Run Crate profiles, `(permalink, name)`.
const PROFILES: [(&str, &str); 3] = [
    ("https://w3id.org/ro/wfrun/process/0.5", "Process Run Crate"),
    (
        "https://w3id.org/ro/wfrun/workflow/0.5",
        "Workflow Run Crate",
    ),
    (
        "https://w3id.org/ro/wfrun/provenance/0.5",
        "Provenance Run Crate",
    ),
];
const PYTHON: &str = "#python";
const ENGINE: &str = "#prov-kernel";
const RUN: &str = "#trial-run";

/// A file of the trial as the crate names it.
pub(super) struct Listed<'a> {
    pub(super) file: &'a TrialFile,
    /// Its `@id`: its path in the crate when included, else a local `#file-N`.
    pub(super) id: String,
    pub(super) included: bool,
}

/// Everything the graph is made from.
pub(super) struct Facts<'a> {
    pub(super) trial: &'a TrialSummary,
    pub(super) executions: &'a [ExecutionDetail],
    /// The path in the crate of each execution's code, in the same order.
    pub(super) code_paths: &'a [String],
    pub(super) packages: &'a [(String, String)],
    pub(super) files: &'a [Listed<'a>],
    /// When the crate was made (RFC 3339).
    pub(super) published: &'a str,
}

/// The metadata document.
pub(super) fn document(f: &Facts<'_>) -> Value {
    let mut graph = vec![
        json!({
            "@id": "ro-crate-metadata.json",
            "@type": "CreativeWork",
            "about": id("./"),
            "conformsTo": [id(RO_CRATE), id(WORKFLOW_RO_CRATE)],
        }),
        root(f),
        json!({
            "@id": LICENSE, "@type": "CreativeWork", "name": "No license given",
            "description": "prov does not know the terms under which this trial may be shared: \
                            whoever publishes the crate should name a license here (for \
                            instance an https://spdx.org/licenses/ URL).",
        }),
        json!({
            "@id": README, "@type": "File", "name": README, "about": id("./"),
            "encodingFormat": "text/markdown",
        }),
    ];
    graph.extend(PROFILES.iter().map(|(uri, name)| {
        json!({ "@id": uri, "@type": "CreativeWork", "name": name, "version": "0.5" })
    }));
    graph.push(json!({
        "@id": WORKFLOW_RO_CRATE, "@type": "CreativeWork",
        "name": "Workflow RO-Crate", "version": "1.0",
    }));
    graph.push(workflow(f));
    graph.push(python(f.trial));
    graph.extend(f.packages.iter().map(package));
    graph.push(json!({
        "@id": REQUIREMENTS, "@type": "File", "name": REQUIREMENTS,
        "encodingFormat": "text/plain",
        "description": "The packages the trial's code imported, at the versions it ran with.",
        "about": id(NOTEBOOK),
    }));
    graph.push(json!({
        "@id": PROV, "@type": "File", "name": PROV,
        "encodingFormat": "application/json",
        "description": "The trial's provenance in W3C PROV-JSON: executions, the values and \
                        files they used and made, the agents.",
        "about": id(RUN),
    }));
    for (i, e) in f.executions.iter().enumerate() {
        graph.extend(execution(f, i, e));
    }
    graph.push(run(f));
    graph.push(json!({
        "@id": ENGINE, "@type": "SoftwareApplication", "name": "prov-kernel",
        "description": "The Python (prov) Jupyter kernel, which ran the notebook's cells \
                        through ipykernel and recorded them.",
    }));
    let mut engine_run = json!({
        "@id": "#prov-kernel-run", "@type": "OrganizeAction",
        "name": format!("prov-kernel running {}", trial_words(f.trial)),
        "instrument": id(ENGINE),
        "result": id(RUN),
        "startTime": time(&f.trial.started_at),
    });
    let controls = (1..=f.executions.len()).map(|i| id(&format!("#control-{i}")));
    set(&mut engine_run, "object", controls.collect());
    graph.push(engine_run);
    graph.extend(f.files.iter().map(file));
    json!({
        "@context": [
            "https://w3id.org/ro/crate/1.1/context",
            "https://w3id.org/ro/terms/workflow-run/context"
        ],
        "@graph": graph,
    })
}

fn id(s: &str) -> Value {
    json!({ "@id": s })
}

/// A property's value: one value as itself, several as a list (RO-Crate 1.1 prefers no
/// one-element lists); None for none.
fn one_or_many(mut values: Vec<Value>) -> Option<Value> {
    match values.len() {
        0 => None,
        1 => values.pop(),
        _ => Some(Value::Array(values)),
    }
}

/// Sets `key` of `entity` to [`one_or_many`] of `values`, or leaves it out when there are none.
fn set(entity: &mut Value, key: &str, values: Vec<Value>) {
    if let Some(v) = one_or_many(values) {
        entity[key] = v;
    }
}

/// A store timestamp (`…T16:30:02.630Z`) in the profiles' ISO 8601 form, with an offset
/// (`…T16:30:02.630+00:00`).
fn time(t: &str) -> String {
    match t.strip_suffix('Z') {
        Some(utc) => format!("{utc}+00:00"),
        None => t.to_string(),
    }
}

fn trial_words(t: &TrialSummary) -> String {
    crate::notebook::trial_words(t)
}

/// The root dataset: what the crate is, what it holds, the runs it describes.
fn root(f: &Facts<'_>) -> Value {
    let mut parts = vec![id(NOTEBOOK), id(README)];
    parts.extend(f.code_paths.iter().map(|p| id(p)));
    parts.extend([id(PROV), id(REQUIREMENTS)]);
    parts.extend(f.files.iter().filter(|l| l.included).map(|l| id(&l.id)));
    let mut mentions = vec![id(RUN)];
    mentions.extend((1..=f.executions.len()).map(|i| id(&format!("#execution-{i}"))));
    let gone = f.files.iter().filter(|l| l.file.now == Now::Gone).count();
    let mut description = format!(
        "The record of {} ({}): {} execution{} of the notebook in the order they ran, with \
         their code, outputs, environment and the files they read and wrote, recorded by prov.",
        trial_words(f.trial),
        f.trial.uuid,
        f.executions.len(),
        if f.executions.len() == 1 { "" } else { "s" }
    );
    if gone > 0 {
        description.push_str(&format!(
            " {gone} file{} the trial used {} gone: listed with the hash recorded.",
            if gone == 1 { "" } else { "s" },
            if gone == 1 { "is" } else { "are" }
        ));
    }
    let mut conforms: Vec<Value> = PROFILES.iter().map(|(uri, _)| id(uri)).collect();
    conforms.push(id(WORKFLOW_RO_CRATE));
    let mut root = json!({
        "@id": "./",
        "@type": "Dataset",
        "name": format!("prov {}", trial_words(f.trial)),
        "description": description,
        "datePublished": f.published,
        "license": id(LICENSE),
        "identifier": format!("urn:uuid:{}", f.trial.uuid),
        "conformsTo": conforms,
        "hasPart": parts,
        "mainEntity": id(NOTEBOOK),
    });
    set(&mut root, "mentions", mentions);
    root
}

/// The notebook: the workflow, its steps and parts, what it needs installed.
fn workflow(f: &Facts<'_>) -> Value {
    let name = match &f.trial.notebook {
        Some(notebook) => notebook.clone(),
        None => format!("the notebook of {}", trial_words(f.trial)),
    };
    let mut w = json!({
        "@id": NOTEBOOK,
        "@type": ["File", "SoftwareSourceCode", "ComputationalWorkflow", "HowTo"],
        "name": name,
        "description": "Every execution of the trial as a code cell, in the order they ran, \
                        with its outputs (nbformat 4.5, kernel Python (prov)).",
        "encodingFormat": "application/x-ipynb+json",
        "programmingLanguage": id(PYTHON),
    });
    set(
        &mut w,
        "hasPart",
        f.code_paths.iter().map(|p| id(p)).collect(),
    );
    let steps = (1..=f.executions.len()).map(|i| id(&format!("#step-{i}")));
    set(&mut w, "step", steps.collect());
    let packages = f.packages.iter().map(|(n, _)| id(&package_id(n)));
    set(&mut w, "softwareRequirements", packages.collect());
    w
}

fn python(t: &TrialSummary) -> Value {
    let mut p = json!({
        "@id": PYTHON, "@type": "ComputerLanguage", "name": "Python",
        "identifier": id("https://www.python.org/"), "url": id("https://www.python.org/"),
    });
    if let Some(v) = &t.python_version {
        p["version"] = json!(v);
    }
    p
}

fn package_id(name: &str) -> String {
    format!("#package-{name}")
}

fn package((name, version): &(String, String)) -> Value {
    let dist = distribution(name);
    json!({
        "@id": package_id(name), "@type": "SoftwareApplication",
        "name": dist, "softwareVersion": version,
        "url": id(&format!("https://pypi.org/project/{dist}/")),
    })
}

/// One execution: its code, its step, its run and the control action that ordered it.
fn execution(f: &Facts<'_>, i: usize, e: &ExecutionDetail) -> Vec<Value> {
    let n = i + 1;
    let code = &f.code_paths[i];
    let label = match e.execution_count {
        Some(c) if e.status != ExecStatus::Aborted => format!("In [{c}]"),
        _ => "In [ ]".to_string(),
    };
    let first_line = e.code.lines().map(str::trim).find(|l| !l.is_empty());
    let mut action = json!({
        "@id": format!("#execution-{n}"), "@type": "CreateAction",
        "name": format!("{label} of {}", trial_words(f.trial)),
        "description": format!(
            "Execution {n} of the trial, {label}: `{}`", first_line.unwrap_or_default()
        ),
        "instrument": id(code),
        "startTime": time(&e.started_at), "endTime": time(&e.ended_at),
    });
    set(
        &mut action,
        "object",
        files_of(f, |t| t.read_by.contains(&e.order)),
    );
    set(
        &mut action,
        "result",
        files_of(f, |t| t.written_by.contains(&e.order)),
    );
    match (&e.status, &e.error) {
        (ExecStatus::Ok, _) => action["actionStatus"] = json!(COMPLETED),
        (ExecStatus::Error, err) => {
            action["actionStatus"] = json!(FAILED);
            if let Some(err) = err {
                action["error"] = json!(format!("{}: {}", err.ename, err.evalue));
            }
        }
        (ExecStatus::Aborted, _) => {
            action["actionStatus"] = json!(FAILED);
            action["error"] = json!("aborted: the kernel skipped it, the code never ran");
        }
    }
    vec![
        json!({
            "@id": code, "@type": ["File", "SoftwareSourceCode"],
            "name": format!("{label}, execution {n}"),
            "encodingFormat": "text/x-python", "programmingLanguage": id(PYTHON),
            "sha256": e.code_sha256,
        }),
        json!({
            "@id": format!("#step-{n}"), "@type": "HowToStep",
            "position": n, "workExample": id(code),
        }),
        action,
        json!({
            "@id": format!("#control-{n}"), "@type": "ControlAction",
            "name": format!("run {label}"),
            "instrument": id(&format!("#step-{n}")),
            "object": id(&format!("#execution-{n}")),
        }),
    ]
}

fn files_of(f: &Facts<'_>, pick: impl Fn(&TrialFile) -> bool) -> Vec<Value> {
    f.files
        .iter()
        .filter(|l| pick(l.file))
        .map(|l| id(&l.id))
        .collect()
}

/// The trial's run of the notebook: what it read from outside and what it wrote.
fn run(f: &Facts<'_>) -> Value {
    let mut r = json!({
        "@id": RUN, "@type": "CreateAction",
        "name": format!("Run of {}", trial_words(f.trial)),
        "description": format!(
            "{} on {} ({}), in {}", trial_words(f.trial), f.trial.hostname,
            f.trial.platform, f.trial.cwd
        ),
        "identifier": format!("urn:uuid:{}", f.trial.uuid),
        "instrument": id(NOTEBOOK),
        "startTime": time(&f.trial.started_at),
    });
    set(&mut r, "object", files_of(f, |t| t.input));
    set(&mut r, "result", files_of(f, |t| !t.written_by.is_empty()));
    if let Some(end) = &f.trial.ended_at {
        r["endTime"] = json!(time(end));
    }
    let failed = f.executions.iter().any(|e| e.status != ExecStatus::Ok);
    r["actionStatus"] = json!(if failed { FAILED } else { COMPLETED });
    r
}

/// A file version: in the crate (`File`), or described only (`CreativeWork`: its hash, size,
/// where it was, and what is there now).
fn file(l: &Listed<'_>) -> Value {
    let t = l.file;
    let mut description = match (&t.read_by[..], &t.written_by[..]) {
        ([], w) => format!("Written by execution {}.", list(w)),
        (r, []) => format!("Read by execution {}.", list(r)),
        (r, w) => format!("Written by execution {}, read by {}.", list(w), list(r)),
    };
    if t.input {
        description.push_str(" Its content came from outside the trial.");
    }
    if t.sampled {
        description
            .push_str(" The file was large: its sha256 covers evenly spaced chunks and the size.");
    }
    description.push(' ');
    description.push_str(&match (&t.now, l.included) {
        (_, true) => "Included as the trial read it.".to_string(),
        (Now::Gone, _) => format!(
            "Gone: nothing was at {} when this crate was made; its content is known only by \
             the hash recorded.",
            t.resolved
        ),
        (Now::Changed, _) => format!(
            "Changed: {} holds another content now; not included.",
            t.resolved
        ),
        (Now::Unreadable(why), _) => format!("Unreadable now ({why}); not included."),
        (Now::There | Now::Same, false) => {
            "Not included (export with --include-data to include the inputs).".to_string()
        }
    });
    let mut e = json!({
        "@id": l.id,
        "@type": if l.included { "File" } else { "CreativeWork" },
        "name": t.path,
        "alternateName": t.resolved,
        "description": description,
    });
    if let Some(sha) = &t.sha256 {
        e["sha256"] = json!(sha);
    }
    if let Some(size) = t.size {
        e["contentSize"] = json!(size.to_string());
    }
    if let Some(mime) = mime_guess::from_path(&t.path).first_raw() {
        e["encodingFormat"] = json!(mime);
    }
    e
}

fn list(orders: &[i64]) -> String {
    orders
        .iter()
        .map(|o| o.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
