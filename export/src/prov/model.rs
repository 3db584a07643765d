//! The PROV document of one trial as plain data, built from the store's queries. `json.rs`,
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

use provstore::{is_file_name, ExecutionDetail, Store, TrialSummary};

use crate::types::ExportError;

/// prov-kernel's own vocabulary (types and attributes PROV has no word for).
pub(crate) const PK_NS: &str = "urn:prov-kernel:ns#";
/// Dublin Core terms, for `dcterms:isPartOf`.
pub(crate) const DCT_NS: &str = "http://purl.org/dc/terms/";
/// How much of an output's text an entity carries; the whole is in the store.
const OUTPUT_TEXT_LIMIT: usize = 4096;

/// An attribute's value, typed as PROV's literals are.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Literal {
    Str(String),
    Int(i64),
    /// A double as its decimal text (as JSON had it).
    Double(String),
    Bool(bool),
    /// A qualified name `prefix:local`.
    QName(String),
}

impl Literal {
    /// The XSD datatype of a typed literal (strings are plain).
    pub(crate) fn datatype(&self) -> Option<&'static str> {
        match self {
            Literal::Str(_) => None,
            Literal::Int(n) if i32::try_from(*n).is_ok() => Some("xsd:int"),
            Literal::Int(_) => Some("xsd:long"),
            Literal::Double(_) => Some("xsd:double"),
            Literal::Bool(_) => Some("xsd:boolean"),
            Literal::QName(_) => Some("xsd:QName"),
        }
    }

    /// The lexical form (what goes between the quotes).
    pub(crate) fn lexical(&self) -> String {
        match self {
            Literal::Str(s) | Literal::Double(s) | Literal::QName(s) => s.clone(),
            Literal::Int(n) => n.to_string(),
            Literal::Bool(b) => b.to_string(),
        }
    }
}

/// The three kinds of PROV element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Entity,
    Activity,
    Agent,
}

impl Kind {
    /// The PROV-JSON key and PROV-N keyword.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Entity => "entity",
            Kind::Activity => "activity",
            Kind::Agent => "agent",
        }
    }
}

/// An entity, activity or agent.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Element {
    pub(crate) kind: Kind,
    /// Its qualified name.
    pub(crate) id: String,
    /// Activities: when they started and ended (`xsd:dateTime`).
    pub(crate) start: Option<String>,
    pub(crate) end: Option<String>,
    /// Attributes in order; a key may repeat (several values).
    pub(crate) attrs: Vec<(String, Literal)>,
}

/// The relations the model uses: all binary, with no time or attributes of their own (the
/// times are the activities'), so each is one triple in PROV-O.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum RelKind {
    Used,
    WasGeneratedBy,
    WasDerivedFrom,
    WasInformedBy,
    WasAssociatedWith,
    ActedOnBehalfOf,
}

impl RelKind {
    /// In the order the serialisations write them.
    pub(crate) const ALL: [RelKind; 6] = [
        RelKind::Used,
        RelKind::WasGeneratedBy,
        RelKind::WasDerivedFrom,
        RelKind::WasInformedBy,
        RelKind::WasAssociatedWith,
        RelKind::ActedOnBehalfOf,
    ];

    /// The PROV-JSON key, PROV-N keyword and (after `prov:`) PROV-O property.
    pub(crate) fn name(self) -> &'static str {
        match self {
            RelKind::Used => "used",
            RelKind::WasGeneratedBy => "wasGeneratedBy",
            RelKind::WasDerivedFrom => "wasDerivedFrom",
            RelKind::WasInformedBy => "wasInformedBy",
            RelKind::WasAssociatedWith => "wasAssociatedWith",
            RelKind::ActedOnBehalfOf => "actedOnBehalfOf",
        }
    }

    /// The PROV-JSON keys of its two arguments, subject first.
    pub(crate) fn json_keys(self) -> (&'static str, &'static str) {
        match self {
            RelKind::Used => ("prov:activity", "prov:entity"),
            RelKind::WasGeneratedBy => ("prov:entity", "prov:activity"),
            RelKind::WasDerivedFrom => ("prov:generatedEntity", "prov:usedEntity"),
            RelKind::WasInformedBy => ("prov:informed", "prov:informant"),
            RelKind::WasAssociatedWith => ("prov:activity", "prov:agent"),
            RelKind::ActedOnBehalfOf => ("prov:delegate", "prov:responsible"),
        }
    }
}

/// `subject kind object`, e.g. an execution `used` an entity.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Relation {
    pub(crate) kind: RelKind,
    pub(crate) subject: String,
    pub(crate) object: String,
}

/// A trial's PROV document.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Document {
    /// Prefixes beyond PROV's own (`prov`, `xsd`), in order.
    pub(crate) namespaces: Vec<(&'static str, String)>,
    pub(crate) elements: Vec<Element>,
    pub(crate) relations: Vec<Relation>,
}

/// A local name that is a valid QName local part in PROV-N, Turtle and PROV-JSON alike:
/// letters, digits, `_` and `-` as they are, every other byte of the UTF-8 as `%XX` (so a
/// space, a quote or a bracket never breaks a name).
pub(crate) fn local_name(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A string literal as PROV-N and Turtle both write it (their `ECHAR` escapes): quotes,
/// backslashes and line breaks never end or break it.
pub(crate) fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Builds the document: one record list in a fixed order, so ids and order are stable.
struct Builder {
    elements: Vec<Element>,
    at: HashMap<String, usize>,
    relations: Vec<Relation>,
    seen: HashSet<Relation>,
}

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

    let mut b = Builder {
        elements: Vec::new(),
        at: HashMap::new(),
        relations: Vec::new(),
        seen: HashSet::new(),
    };

    // Agents and the trial.
    let user = "trial:user";
    let kernel = "pk:prov-kernel";
    b.element(
        Kind::Agent,
        user.into(),
        vec![
            qname("prov:type", "prov:Person"),
            text("prov:label", "the person who ran the notebook"),
        ],
    );
    b.element(
        Kind::Agent,
        kernel.into(),
        vec![
            qname("prov:type", "prov:SoftwareAgent"),
            text("prov:label", "prov-kernel"),
        ],
    );
    let trial_id = "trial:trial";
    let i = b.element(
        Kind::Activity,
        trial_id.into(),
        trial_attrs(&summary, &packages),
    );
    b.elements[i].start = Some(summary.started_at.clone());
    b.elements[i].end = summary.ended_at.clone();
    b.relate(RelKind::WasAssociatedWith, trial_id, user);
    b.relate(RelKind::WasAssociatedWith, trial_id, kernel);
    b.relate(RelKind::ActedOnBehalfOf, kernel, user);

    let exec_ids: HashMap<i64, String> = executions
        .iter()
        .map(|e| (e.id, format!("trial:execution-{}", e.order)))
        .collect();
    let seq: HashMap<i64, i64> = executions.iter().map(|e| (e.id, e.order)).collect();
    let var_id = |symbol: &str, producer: i64| -> Option<String> {
        Some(format!(
            "trial:var-{}-{}",
            local_name(symbol),
            seq.get(&producer)?
        ))
    };

    // Executions, their code and outputs.
    for e in &executions {
        let id = &exec_ids[&e.id];
        let i = b.element(Kind::Activity, id.clone(), execution_attrs(e));
        b.elements[i].start = Some(e.started_at.clone());
        b.elements[i].end = Some(e.ended_at.clone());
        let code = format!("trial:code-{}", local_name(&e.code_sha256));
        b.element(
            Kind::Entity,
            code.clone(),
            vec![
                qname("prov:type", "pk:Code"),
                text("prov:value", &e.code),
                text("pk:sha256", &e.code_sha256),
            ],
        );
        b.relate(RelKind::Used, id, &code);
        for (k, out) in e.outputs.iter().enumerate() {
            let out_id = format!("trial:output-{}-{}", e.order, k + 1);
            b.element(Kind::Entity, out_id.clone(), output_attrs(out));
            b.relate(RelKind::WasGeneratedBy, &out_id, id);
        }
    }

    // Variable versions: what each execution defined, with the values captured after it.
    let mut made: HashMap<i64, BTreeSet<String>> = HashMap::new();
    let mut used: HashMap<i64, BTreeSet<String>> = HashMap::new();
    let mut current: HashMap<&str, String> = HashMap::new();
    let mut values_of: HashMap<i64, Vec<&provstore::TrialValue>> = HashMap::new();
    for v in &values {
        values_of.entry(v.execution_id).or_default().push(v);
    }
    let in_graph: HashMap<i64, &provstore::DepExecution> = graph
        .executions
        .iter()
        .map(|g| (g.execution_id, g))
        .collect();
    for e in &executions {
        let Some(g) = in_graph.get(&e.id) else {
            attach_values(&mut b, &current, values_of.get(&e.id));
            continue;
        };
        for symbol in g.defines.iter().filter(|s| !is_file_name(s)) {
            let Some(vid) = var_id(symbol, e.id) else {
                continue;
            };
            b.element(Kind::Entity, vid.clone(), var_attrs(symbol));
            b.relate(RelKind::WasGeneratedBy, &vid, &exec_ids[&e.id]);
            made.entry(e.id).or_default().insert(vid.clone());
            current.insert(symbol.as_str(), vid);
        }
        attach_values(&mut b, &current, values_of.get(&e.id));
    }

    // Dataflow between executions.
    for edge in &graph.edges {
        let (Some(from), Some(to)) = (exec_ids.get(&edge.from), exec_ids.get(&edge.to)) else {
            continue;
        };
        b.relate(RelKind::WasInformedBy, from, to);
        for symbol in edge.symbols.iter().filter(|s| !is_file_name(s)) {
            // `d['a']` read where the producer made `d`: the version of the container.
            let Some(vid) = containers(symbol)
                .filter_map(|s| var_id(s, edge.to))
                .find(|id| b.at.contains_key(id))
                .or_else(|| var_id(symbol, edge.to))
            else {
                continue;
            };
            // A version the producer changed without naming it (an assumed change).
            if !b.at.contains_key(&vid) {
                b.element(Kind::Entity, vid.clone(), var_attrs(symbol));
                b.relate(RelKind::WasGeneratedBy, &vid, to);
                made.entry(edge.to).or_default().insert(vid.clone());
            }
            b.relate(RelKind::Used, from, &vid);
            used.entry(edge.from).or_default().insert(vid);
        }
    }

    // File versions.
    let mut file_ids: HashSet<String> = HashSet::new();
    for f in &graph.files {
        let name = f.resolved.rsplit('/').next().unwrap_or(&f.resolved);
        let base = match (&f.sha256, f.written_by.and_then(|w| seq.get(&w))) {
            (Some(h), _) => format!("trial:file-{}-{}", local_name(name), &h[..h.len().min(16)]),
            (None, Some(s)) => format!("trial:file-{}-written-{s}", local_name(name)),
            (None, None) => format!("trial:file-{}-outside", local_name(name)),
        };
        let mut id = base.clone();
        let mut n = 1;
        while !file_ids.insert(id.clone()) {
            n += 1;
            id = format!("{base}-{n}");
        }
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
        b.element(Kind::Entity, id.clone(), attrs);
        if let Some(writer) = f.written_by.and_then(|w| exec_ids.get(&w).map(|x| (w, x))) {
            b.relate(RelKind::WasGeneratedBy, &id, writer.1);
            made.entry(writer.0).or_default().insert(id.clone());
        }
        for reader in &f.read_by {
            if let Some(r) = exec_ids.get(reader) {
                b.relate(RelKind::Used, r, &id);
                used.entry(*reader).or_default().insert(id.clone());
            }
        }
    }

    // What an execution made derives from what it used.
    for e in &executions {
        let (Some(made), Some(used)) = (made.get(&e.id), used.get(&e.id)) else {
            continue;
        };
        for m in made {
            for u in used.iter().filter(|u| *u != m) {
                b.relate(RelKind::WasDerivedFrom, m, u);
            }
        }
    }

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

/// Puts the values captured after an execution on the versions they are of: the latest
/// version of each name (a tagged name is captured where it was tagged, which need not be
/// where it was made). A version keeps the first value put on it.
fn attach_values(
    b: &mut Builder,
    current: &HashMap<&str, String>,
    values: Option<&Vec<&provstore::TrialValue>>,
) {
    for v in values.into_iter().flatten() {
        let Some(&i) = current.get(v.name.as_str()).and_then(|id| b.at.get(id)) else {
            continue;
        };
        let attrs = &mut b.elements[i].attrs;
        if attrs.iter().any(|(k, _)| k == "pk:type") {
            continue;
        }
        let c = &v.captured;
        attrs.push(text("pk:type", &c.type_name));
        match c.value.as_ref().map(|j| (j, scalar(j))) {
            Some((_, Some(lit))) => attrs.push(attr("prov:value", lit)),
            Some((j, None)) => attrs.push(text("pk:valueJson", &j.to_string())),
            None => {}
        }
        if let Some(s) = &c.summary {
            attrs.push(text("pk:summary", &s.to_string()));
        }
        if let Some(h) = c
            .fingerprint
            .as_ref()
            .and_then(|f| f.get("sha256"))
            .and_then(|h| h.as_str())
        {
            attrs.push(text("pk:fingerprint", h));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_names_keep_only_safe_characters() {
        assert_eq!(local_name("acc"), "acc");
        assert_eq!(local_name("d['a b']"), "d%5B%27a%20b%27%5D");
        assert_eq!(local_name("o.x"), "o%2Ex");
        assert_eq!(local_name("é"), "%C3%A9");
    }

    #[test]
    fn containers_go_outwards() {
        let all: Vec<&str> = containers("d['a.b'].x").collect();
        assert_eq!(all, ["d['a.b'].x", "d['a.b']", "d['a", "d"]);
    }
}
