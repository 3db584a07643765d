//! The PROV document of small hand-recorded trials: what records it holds, that identifiers
//! are valid and stable, and that each serialisation writes every record.

use chrono::{Duration, TimeZone, Utc};
use provstore::{DataflowRecord, ExecStatus, ExecutionRecord, NewTrial, OutputRecord, Store};
use serde_json::Value;

use super::document::{Document, Kind, RelKind};
use super::{json, model};

/// `In[n]` running `code` (analysed by the store, as the kernel leaves it), printing `printed`.
pub(super) fn cell(n: i64, code: &str, printed: &str) -> ExecutionRecord {
    let start = Utc.with_ymd_and_hms(2026, 11, 21, 16, 30, 2).unwrap() + Duration::seconds(n);
    ExecutionRecord {
        msg_id: format!("msg-{n}"),
        execution_count: Some(n),
        cell_id: Some(format!("cell {n}")),
        code: code.into(),
        code_replaced: false,
        started_at: start,
        ended_at: start + Duration::milliseconds(12),
        status: ExecStatus::Ok,
        error: None,
        outputs: if printed.is_empty() {
            vec![]
        } else {
            vec![OutputRecord {
                output_type: "stream".into(),
                name: Some("stdout".into()),
                payloads: vec![("text/plain".into(), printed.as_bytes().to_vec())],
            }]
        },
        dataflow: Some(DataflowRecord::default()),
    }
}

/// A store with one trial of `cells`; the store, its folder and the trial's id.
pub(super) fn trial_of(cells: &[ExecutionRecord]) -> (tempfile::TempDir, Store, i64) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("prov.db")).unwrap();
    let trial = store
        .begin_trial(&NewTrial::for_this_process(dir.path()))
        .unwrap();
    store.record_executions(trial.id, cells).unwrap();
    (dir, store, trial.id)
}

fn example() -> (tempfile::TempDir, Store, i64) {
    trial_of(&[
        cell(1, "x = 1\nd = {}", ""),
        cell(2, "d['a b'] = x + 1\nprint(d)", "{'a b': 2}\n"),
        cell(3, "y = d['a b'] * 2", ""),
        cell(4, "x = 1\nd = {}", ""),
    ])
}

fn relations(doc: &Document, kind: RelKind) -> Vec<(&str, &str)> {
    doc.relations
        .iter()
        .filter(|r| r.kind == kind)
        .map(|r| (r.subject.as_str(), r.object.as_str()))
        .collect()
}

#[test]
fn the_model_follows_the_dataflow() {
    let (_dir, store, trial) = example();
    let doc = model::build(&store, trial).unwrap();
    let ids: Vec<&str> = doc.elements.iter().map(|e| e.id.as_str()).collect();
    for id in [
        "trial:trial",
        "trial:user",
        "pk:prov-kernel",
        "trial:execution-1",
        "trial:execution-4",
        "trial:var-x-1",
        "trial:var-d%5B%27a%20b%27%5D-2",
        "trial:var-y-3",
        "trial:output-2-1",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    // One code entity per distinct code: cells 1 and 4 share theirs.
    let codes = ids.iter().filter(|i| i.starts_with("trial:code-")).count();
    assert_eq!(codes, 3);
    let informed = relations(&doc, RelKind::WasInformedBy);
    assert!(informed.contains(&("trial:execution-2", "trial:execution-1")));
    assert!(informed.contains(&("trial:execution-3", "trial:execution-2")));
    assert!(!informed.iter().any(|(a, _)| *a == "trial:execution-4"));
    let used = relations(&doc, RelKind::Used);
    assert!(used.contains(&("trial:execution-2", "trial:var-x-1")));
    let derived = relations(&doc, RelKind::WasDerivedFrom);
    assert!(
        derived.contains(&("trial:var-y-3", "trial:var-d%5B%27a%20b%27%5D-2")),
        "{derived:?}"
    );
    let generated = relations(&doc, RelKind::WasGeneratedBy);
    assert!(generated.contains(&("trial:output-2-1", "trial:execution-2")));
    assert_eq!(
        relations(&doc, RelKind::ActedOnBehalfOf),
        vec![("pk:prov-kernel", "trial:user")]
    );
}

#[test]
fn identifiers_are_valid_qnames_and_stable() {
    let (_dir, store, trial) = example();
    let first = json::write(&model::build(&store, trial).unwrap());
    let second = json::write(&model::build(&store, trial).unwrap());
    assert_eq!(first, second);
    let doc = model::build(&store, trial).unwrap();
    for e in &doc.elements {
        let (prefix, local) = e.id.split_once(':').unwrap();
        assert!(["trial", "pk"].contains(&prefix), "{}", e.id);
        assert!(
            local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_%".contains(c)),
            "{}",
            e.id
        );
    }
}

#[test]
fn prov_json_holds_every_record() {
    let (_dir, store, trial) = example();
    let doc = model::build(&store, trial).unwrap();
    let v: Value = serde_json::from_str(&json::write(&doc)).unwrap();
    let count = |key: &str| v[key].as_object().map_or(0, |o| o.len());
    let elements = |k: Kind| doc.elements.iter().filter(|e| e.kind == k).count();
    assert_eq!(count("entity"), elements(Kind::Entity));
    assert_eq!(count("activity"), 5);
    assert_eq!(count("agent"), 2);
    for kind in RelKind::ALL {
        assert_eq!(count(kind.name()), relations(&doc, kind).len(), "{kind:?}");
    }
    let e2 = &v["activity"]["trial:execution-2"];
    assert_eq!(e2["prov:startTime"], "2026-11-21T16:30:04.000Z");
    assert_eq!(e2["pk:executionCount"]["$"], "2");
    assert_eq!(e2["pk:executionCount"]["type"], "xsd:int");
    assert_eq!(e2["prov:type"]["type"], "xsd:QName");
    assert_eq!(
        v["entity"]["trial:output-2-1"]["prov:value"],
        "{'a b': 2}\n"
    );
}

#[test]
fn prov_n_and_turtle_write_every_record() {
    let (_dir, store, trial) = trial_of(&[
        cell(1, "s = 'a \\\\ \"q\"'\nt = 1", ""),
        cell(2, "u = s + str(t)", "tab\there\r\n"),
    ]);
    let doc = model::build(&store, trial).unwrap();
    let provn = super::n::write(&doc);
    let turtle = super::o::write(&doc);
    assert!(provn.starts_with("document\n") && provn.ends_with("endDocument\n"));
    for (kind, n) in [("entity", Kind::Entity), ("activity", Kind::Activity)] {
        let lines = provn
            .lines()
            .filter(|l| l.starts_with(&format!("  {kind}(")))
            .count();
        assert_eq!(lines, doc.elements.iter().filter(|e| e.kind == n).count());
    }
    for kind in RelKind::ALL {
        let expected = relations(&doc, kind).len();
        let written = provn
            .lines()
            .filter(|l| l.starts_with(&format!("  {}(", kind.name())))
            .count();
        assert_eq!(written, expected, "{kind:?}");
        let triples = turtle
            .lines()
            .filter(|l| l.contains(&format!(" prov:{} ", kind.name())))
            .count();
        assert_eq!(triples, expected, "{kind:?}");
    }
    // The code keeps its quotes and backslashes, escaped; a line break never ends a line early.
    assert!(
        provn.contains(r#"prov:value="s = 'a \\\\ \"q\"'\nt = 1""#),
        "{provn}"
    );
    assert!(
        turtle.contains(r#"prov:value "s = 'a \\\\ \"q\"'\nt = 1""#),
        "{turtle}"
    );
    assert!(provn.contains(r#"prov:value="tab\there\r\n""#), "{provn}");
    assert!(
        turtle.contains("pk:executionCount \"2\"^^xsd:int"),
        "{turtle}"
    );
    assert!(turtle.contains("dcterms:isPartOf trial:trial"), "{turtle}");
    assert!(
        provn.contains("pk:executionCount=\"2\" %% xsd:int"),
        "{provn}"
    );
}
