//! The PROV document of one trial (`document.rs`), built from the store's queries. `json.rs`,
//! `n.rs` and `o.rs` each write this one document, so the three serialisations always hold the
//! same records.
//!
//! The model (README, "W3C PROV export"): the trial is an activity, each execution an activity
//! `dcterms:isPartOf` it and `wasInformedBy` the executions whose values or files it used; the code,
//! each variable version (with its captured value or summary), each output and each file
//! version are entities, `used` / `wasGeneratedBy` as the dataflow says and `wasDerivedFrom`
//! at execution granularity (what an execution made derives from what it used); the person
//! who ran the notebook and prov-kernel are agents. Identifiers are built from the trial's
//! UUID, execution order, variable names and content hashes, never from time or chance, so
//! exporting twice gives the same document.

use std::collections::{BTreeSet, HashMap, HashSet};

use provstore::{is_file_name, ExecutionDetail, GraphAnswer, Store, TrialSummary, TrialValue};

use super::document::{local_name, Document, Element, Kind, Literal, RelKind, Relation};
use crate::types::ExportError;

/// prov-kernel's own vocabulary (types and attributes PROV has no word for).
pub(crate) const PK_NS: &str = "urn:prov-kernel:ns#";
/// Dublin Core terms, for `dcterms:isPartOf`.
pub(crate) const DCT_NS: &str = "http://purl.org/dc/terms/";
/// How much of an output's text an entity carries; the whole is in the store.
const OUTPUT_TEXT_LIMIT: usize = 4096;

/// Builds the document: records in a fixed order (the store's order), so ids and order are
/// stable. Also keeps, per execution (by row id), its identifier and the entities it made and
/// used, for the derivations.
#[derive(Default)]
struct Builder {
    elements: Vec<Element>,
    at: HashMap<String, usize>,
    relations: Vec<Relation>,
    seen: HashSet<Relation>,
    execution: HashMap<i64, String>,
    order: HashMap<i64, i64>,
    made: HashMap<i64, BTreeSet<String>>,
    used: HashMap<i64, BTreeSet<String>>,
}

const USER: &str = "trial:user";
const KERNEL: &str = "pk:prov-kernel";
const TRIAL: &str = "trial:trial";

impl Builder {
    /// Adds an element unless one of that id exists; its index either way.
    fn element(&mut self, kind: Kind, id: String, attrs: Vec<(String, Literal)>) -> usize {
        if let Some(&i) = self.at.get(&id) {
            return i;
        }
        self.at.insert(id.clone(), self.elements.len());
        self.elements.push(Element {
            kind,
            id,
            start: None,
            end: None,
            attrs,
        });
        self.elements.len() - 1
    }

    fn activity(
        &mut self,
        id: &str,
        attrs: Vec<(String, Literal)>,
        start: &str,
        end: Option<&str>,
    ) {
        let i = self.element(Kind::Activity, id.to_string(), attrs);
        self.elements[i].start = Some(start.to_string());
        self.elements[i].end = end.map(str::to_string);
    }

    fn relate(&mut self, kind: RelKind, subject: &str, object: &str) {
        let r = Relation {
            kind,
            subject: subject.to_string(),
            object: object.to_string(),
        };
        if self.seen.insert(r.clone()) {
            self.relations.push(r);
        }
    }

    /// `entity` was made by execution `by` (a row id).
    fn generated(&mut self, entity: &str, by: i64) {
        if let Some(activity) = self.execution.get(&by).cloned() {
            self.relate(RelKind::WasGeneratedBy, entity, &activity);
            self.made.entry(by).or_default().insert(entity.to_string());
        }
    }

    /// Execution `by` (a row id) used `entity`, made by another execution or from outside.
    fn used_by(&mut self, by: i64, entity: &str) {
        if let Some(activity) = self.execution.get(&by).cloned() {
            self.relate(RelKind::Used, &activity, entity);
            self.used.entry(by).or_default().insert(entity.to_string());
        }
    }

    /// The identifier of the version of `symbol` execution `producer` made.
    fn var_id(&self, symbol: &str, producer: i64) -> Option<String> {
        let n = self.order.get(&producer)?;
        Some(format!("trial:var-{}-{n}", local_name(symbol)))
    }

    /// The agents and the trial with its environment.
    fn trial(&mut self, summary: &TrialSummary, packages: &[(String, String)]) {
        let person = vec![
            qname("prov:type", "prov:Person"),
            text("prov:label", "the person who ran the notebook"),
        ];
        self.element(Kind::Agent, USER.into(), person);
        let software = vec![
            qname("prov:type", "prov:SoftwareAgent"),
            text("prov:label", "prov-kernel"),
        ];
        self.element(Kind::Agent, KERNEL.into(), software);
        let attrs = trial_attrs(summary, packages);
        self.activity(
            TRIAL,
            attrs,
            &summary.started_at,
            summary.ended_at.as_deref(),
        );
        self.relate(RelKind::WasAssociatedWith, TRIAL, USER);
        self.relate(RelKind::WasAssociatedWith, TRIAL, KERNEL);
        self.relate(RelKind::ActedOnBehalfOf, KERNEL, USER);
    }

    /// Each execution with the code it ran and the outputs it made.
    fn executions(&mut self, executions: &[ExecutionDetail]) {
        for e in executions {
            let id = format!("trial:execution-{}", e.order);
            self.execution.insert(e.id, id.clone());
            self.order.insert(e.id, e.order);
            self.activity(&id, execution_attrs(e), &e.started_at, Some(&e.ended_at));
            let code = format!("trial:code-{}", local_name(&e.code_sha256));
            let attrs = vec![
                qname("prov:type", "pk:Code"),
                text("prov:value", &e.code),
                text("pk:sha256", &e.code_sha256),
            ];
            self.element(Kind::Entity, code.clone(), attrs);
            self.relate(RelKind::Used, &id, &code);
            for (k, out) in e.outputs.iter().enumerate() {
                let out_id = format!("trial:output-{}-{}", e.order, k + 1);
                self.element(Kind::Entity, out_id.clone(), output_attrs(out));
                self.relate(RelKind::WasGeneratedBy, &out_id, &id);
            }
        }
    }

    /// The variable versions each execution made, with the values captured after it.
    fn variables(
        &mut self,
        executions: &[ExecutionDetail],
        graph: &GraphAnswer,
        values: &[TrialValue],
    ) {
        let mut values_of: HashMap<i64, Vec<&TrialValue>> = HashMap::new();
        for v in values {
            values_of.entry(v.execution_id).or_default().push(v);
        }
        let defines: HashMap<i64, &Vec<String>> = graph
            .executions
            .iter()
            .map(|g| (g.execution_id, &g.defines))
            .collect();
        let mut current: HashMap<String, String> = HashMap::new();
        for e in executions {
            let symbols = defines.get(&e.id).into_iter().flat_map(|d| d.iter());
            for symbol in symbols.filter(|s| !is_file_name(s)) {
                let Some(vid) = self.var_id(symbol, e.id) else {
                    continue;
                };
                self.element(Kind::Entity, vid.clone(), var_attrs(symbol));
                self.generated(&vid, e.id);
                current.insert(symbol.clone(), vid);
            }
            for v in values_of.get(&e.id).into_iter().flatten() {
                if let Some(&i) = current.get(&v.name).and_then(|id| self.at.get(id)) {
                    attach_value(&mut self.elements[i].attrs, &v.captured);
                }
            }
        }
    }

    /// What each execution read of what an earlier one made: `wasInformedBy`, and `used` of
    /// each variable version.
    fn dataflow(&mut self, graph: &GraphAnswer) {
        for edge in &graph.edges {
            let (Some(from), Some(to)) = (
                self.execution.get(&edge.from).cloned(),
                self.execution.get(&edge.to).cloned(),
            ) else {
                continue;
            };
            self.relate(RelKind::WasInformedBy, &from, &to);
            for symbol in edge.symbols.iter().filter(|s| !is_file_name(s)) {
                // `d['a']` read where the producer made `d`: the version of the container.
                let Some(vid) = containers(symbol)
                    .filter_map(|s| self.var_id(s, edge.to))
                    .find(|id| self.at.contains_key(id))
                    .or_else(|| self.var_id(symbol, edge.to))
                else {
                    continue;
                };
                // A version the producer changed without naming it (an assumed change).
                if !self.at.contains_key(&vid) {
                    self.element(Kind::Entity, vid.clone(), var_attrs(symbol));
                    self.generated(&vid, edge.to);
                }
                self.used_by(edge.from, &vid);
            }
        }
    }

    /// Each version of a file the trial read or wrote, who wrote it and who read it.
    fn files(&mut self, graph: &GraphAnswer) {
        let mut ids: HashSet<String> = HashSet::new();
        for f in &graph.files {
            let name = local_name(f.resolved.rsplit('/').next().unwrap_or(&f.resolved));
            let base = match (&f.sha256, f.written_by.and_then(|w| self.order.get(&w))) {
                (Some(h), _) => format!("trial:file-{name}-{}", &h[..h.len().min(16)]),
                (None, Some(n)) => format!("trial:file-{name}-written-{n}"),
                (None, None) => format!("trial:file-{name}-outside"),
            };
            let mut id = base.clone();
            let mut n = 1;
            while !ids.insert(id.clone()) {
                n += 1;
                id = format!("{base}-{n}");
            }
            self.element(Kind::Entity, id.clone(), file_attrs(f));
            if let Some(writer) = f.written_by {
                self.generated(&id, writer);
            }
            for &reader in &f.read_by {
                self.used_by(reader, &id);
            }
        }
    }

    /// What an execution made derives from what it used.
    fn derivations(&mut self, executions: &[ExecutionDetail]) {
        for e in executions {
            let (Some(made), Some(used)) = (self.made.get(&e.id), self.used.get(&e.id)) else {
                continue;
            };
            let pairs: Vec<(String, String)> = made
                .iter()
                .flat_map(|m| {
                    used.iter()
                        .filter(move |u| *u != m)
                        .map(move |u| (m.clone(), u.clone()))
                })
                .collect();
            for (m, u) in pairs {
                self.relate(RelKind::WasDerivedFrom, &m, &u);
            }
        }
    }
}

fn attr(key: &str, value: Literal) -> (String, Literal) {
    (key.to_string(), value)
}

fn text(key: &str, value: &str) -> (String, Literal) {
    attr(key, Literal::Str(value.to_string()))
}

fn qname(key: &str, value: &str) -> (String, Literal) {
    attr(key, Literal::QName(value.to_string()))
}

/// A captured scalar (JSON) as a typed literal; None when it has no literal form (null, a
/// tuple), which the entity then carries as `pk:valueJson`.
fn scalar(value: &serde_json::Value) -> Option<Literal> {
    match value {
        serde_json::Value::Bool(b) => Some(Literal::Bool(*b)),
        serde_json::Value::Number(n) => Some(match n.as_i64() {
            Some(i) => Literal::Int(i),
            None => Literal::Double(n.to_string()),
        }),
        serde_json::Value::String(s) => Some(Literal::Str(s.clone())),
        _ => None,
    }
}

/// The id of the trial activity's namespace: the trial's UUID.
pub(crate) fn trial_namespace(trial: &TrialSummary) -> String {
    format!("urn:uuid:{}#", trial.uuid)
}

/// The trial as a PROV document.
pub(crate) fn build(store: &Store, trial: i64) -> Result<Document, ExportError> {
    let summary = store.trial(trial)?;
    let executions = store.executions(trial)?;
    let graph = store.dataflow_graph(trial)?;
    let values = store.trial_values(trial)?;
    let packages = store.trial_packages(trial)?;
    let mut b = Builder::default();
    b.trial(&summary, &packages);
    b.executions(&executions);
    b.variables(&executions, &graph, &values);
    b.dataflow(&graph);
    b.files(&graph);
    b.derivations(&executions);
    Ok(Document {
        namespaces: vec![
            ("pk", PK_NS.to_string()),
            ("dcterms", DCT_NS.to_string()),
            ("trial", trial_namespace(&summary)),
        ],
        elements: b.elements,
        relations: b.relations,
    })
}

/// `symbol` and the symbols it is part of, innermost first: `d['a'].x`, `d['a']`, `d`. A cut
/// inside a quoted key names nothing and so never matches a version.
fn containers(symbol: &str) -> impl Iterator<Item = &str> {
    let cuts = symbol
        .char_indices()
        .filter(|&(i, c)| i > 0 && (c == '[' || c == '.'))
        .map(|(i, _)| i)
        .rev();
    std::iter::once(symbol).chain(cuts.map(move |i| &symbol[..i]))
}

/// The trial's attributes: what it is and the environment it ran in.
fn trial_attrs(t: &TrialSummary, packages: &[(String, String)]) -> Vec<(String, Literal)> {
    let label = match &t.name {
        Some(name) => format!("trial {} ({name})", t.id),
        None => format!("trial {}", t.id),
    };
    let mut attrs = vec![
        qname("prov:type", "pk:Trial"),
        text("prov:label", &label),
        text("pk:uuid", &t.uuid),
        attr("pk:trialNumber", Literal::Int(t.id)),
        text("pk:status", t.status.as_str()),
    ];
    let optional = [
        ("pk:name", &t.name),
        ("pk:notebook", &t.notebook),
        ("pk:pythonVersion", &t.python_version),
        ("pk:ipykernelVersion", &t.ipykernel_version),
    ];
    for (key, value) in optional {
        if let Some(v) = value {
            attrs.push(text(key, v));
        }
    }
    attrs.push(text("pk:cwd", &t.cwd));
    attrs.push(text("pk:platform", &t.platform));
    attrs.push(text("pk:hostname", &t.hostname));
    attrs.push(attr("pk:pid", Literal::Int(t.pid)));
    for (name, version) in packages {
        attrs.push(text("pk:package", &format!("{name}=={version}")));
    }
    attrs
}

fn execution_attrs(e: &ExecutionDetail) -> Vec<(String, Literal)> {
    let label = match e.execution_count {
        Some(n) => format!("In [{n}]"),
        None => format!("execution {}", e.order),
    };
    let mut attrs = vec![
        qname("prov:type", "pk:Execution"),
        text("prov:label", &label),
        qname("dcterms:isPartOf", "trial:trial"),
        attr("pk:order", Literal::Int(e.order)),
    ];
    if let Some(n) = e.execution_count {
        attrs.push(attr("pk:executionCount", Literal::Int(n)));
    }
    if let Some(cell) = &e.cell_id {
        attrs.push(text("pk:cellId", cell));
    }
    attrs.push(text("pk:status", e.status.as_str()));
    attrs.push(attr("pk:durationMs", Literal::Int(e.duration_ms)));
    if let Some(err) = &e.error {
        attrs.push(text("pk:error", &format!("{}: {}", err.ename, err.evalue)));
    }
    attrs
}

fn output_attrs(out: &provstore::OutputSummary) -> Vec<(String, Literal)> {
    let mut attrs = vec![
        qname("prov:type", "pk:Output"),
        text("pk:outputType", &out.output_type),
    ];
    if let Some(name) = &out.name {
        attrs.push(text("pk:streamName", name));
    }
    for p in &out.payloads {
        attrs.push(text("pk:mimeType", &p.mime_type));
        attrs.push(text("pk:sha256", &p.sha256));
    }
    if let Some(t) = &out.text {
        let cut = t
            .char_indices()
            .nth(OUTPUT_TEXT_LIMIT)
            .map_or(t.len(), |(i, _)| i);
        attrs.push(text("prov:value", &t[..cut]));
        if cut < t.len() {
            attrs.push(attr("pk:truncated", Literal::Bool(true)));
        }
    }
    attrs
}

fn var_attrs(symbol: &str) -> Vec<(String, Literal)> {
    vec![
        qname("prov:type", "pk:VariableVersion"),
        text("prov:label", symbol),
        text("pk:name", symbol),
    ]
}

/// A captured value as attributes of its version: `pk:type`, `prov:value` (a scalar) or
/// `pk:valueJson` (null, a tuple), `pk:summary`, `pk:fingerprint`. A version keeps the first
/// value put on it (a tagged name is also captured where it was tagged, after it was made).
fn attach_value(attrs: &mut Vec<(String, Literal)>, c: &provstore::CapturedValue) {
    if attrs.iter().any(|(k, _)| k == "pk:type") {
        return;
    }
    attrs.push(text("pk:type", &c.type_name));
    match c.value.as_ref().map(|j| (j, scalar(j))) {
        Some((_, Some(lit))) => attrs.push(attr("prov:value", lit)),
        Some((j, None)) => attrs.push(text("pk:valueJson", &j.to_string())),
        None => {}
    }
    if let Some(s) = &c.summary {
        attrs.push(text("pk:summary", &s.to_string()));
    }
    let fingerprint = c.fingerprint.as_ref().and_then(|f| f.get("sha256"));
    if let Some(h) = fingerprint.and_then(|h| h.as_str()) {
        attrs.push(text("pk:fingerprint", h));
    }
}

fn file_attrs(f: &provstore::FileVersion) -> Vec<(String, Literal)> {
    let mut attrs = vec![
        qname("prov:type", "pk:FileVersion"),
        text("prov:label", &f.path),
        text("pk:path", &f.path),
        text("pk:resolved", &f.resolved),
    ];
    if let Some(h) = &f.sha256 {
        attrs.push(text("pk:sha256", h));
    }
    if f.written_by.is_none() {
        attrs.push(attr("pk:fromOutside", Literal::Bool(true)));
    }
    attrs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers_go_outwards() {
        let all: Vec<&str> = containers("d['a.b'].x").collect();
        assert_eq!(all, ["d['a.b'].x", "d['a.b']", "d['a", "d"]);
    }
}
