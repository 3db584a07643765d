//! The document as PROV-JSON (the W3C member submission): prefixes, one object per record
//! kind keyed by identifier, typed literals as `{"$": text, "type": datatype}`. Relations have
//! no identifier of their own, so they get blank ones (`_:u1`, numbered in document order,
//! hence stable).

use serde_json::{json, Map, Value};

use super::document::{Document, Literal, RelKind};

/// A value as PROV-JSON writes it: plain strings and booleans as JSON, everything else typed
/// (the `$` always a string, as the submission's schema asks).
fn literal(l: &Literal) -> Value {
    match l {
        Literal::Str(s) => Value::String(s.clone()),
        Literal::Bool(b) => Value::Bool(*b),
        other => json!({"$": other.lexical(), "type": other.datatype()}),
    }
}

/// The attributes of a record, a repeated key as a list of its values.
fn attributes(obj: &mut Map<String, Value>, attrs: &[(String, Literal)]) {
    for (key, value) in attrs {
        let v = literal(value);
        match obj.get_mut(key) {
            None => {
                obj.insert(key.clone(), v);
            }
            Some(Value::Array(list)) => list.push(v),
            Some(first) => {
                let first = first.take();
                obj.insert(key.clone(), Value::Array(vec![first, v]));
            }
        }
    }
}

/// The short tag of a relation kind's blank identifiers.
fn tag(kind: RelKind) -> &'static str {
    match kind {
        RelKind::Used => "u",
        RelKind::WasGeneratedBy => "g",
        RelKind::WasDerivedFrom => "d",
        RelKind::WasInformedBy => "i",
        RelKind::WasAssociatedWith => "a",
        RelKind::ActedOnBehalfOf => "b",
    }
}

/// The document as a PROV-JSON value.
pub(crate) fn to_value(doc: &Document) -> Value {
    let mut root = Map::new();
    let prefix: Map<String, Value> = doc
        .namespaces
        .iter()
        .map(|(p, uri)| (p.to_string(), Value::String(uri.clone())))
        .collect();
    root.insert("prefix".into(), Value::Object(prefix));
    for e in &doc.elements {
        let mut obj = Map::new();
        if let Some(t) = &e.start {
            obj.insert("prov:startTime".into(), Value::String(t.clone()));
        }
        if let Some(t) = &e.end {
            obj.insert("prov:endTime".into(), Value::String(t.clone()));
        }
        attributes(&mut obj, &e.attrs);
        let group = root
            .entry(e.kind.name())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(group) = group {
            group.insert(e.id.clone(), Value::Object(obj));
        }
    }
    let mut counts = [0usize; RelKind::ALL.len()];
    for r in &doc.relations {
        let k = RelKind::ALL.iter().position(|k| *k == r.kind).unwrap_or(0);
        counts[k] += 1;
        let (s, o) = r.kind.json_keys();
        let group = root
            .entry(r.kind.name())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(group) = group {
            group.insert(
                format!("_:{}{}", tag(r.kind), counts[k]),
                json!({ s: r.subject, o: r.object }),
            );
        }
    }
    Value::Object(root)
}

/// The document as PROV-JSON text.
pub(crate) fn write(doc: &Document) -> String {
    let mut text = serde_json::to_string_pretty(&to_value(doc)).unwrap_or_default();
    text.push('\n');
    text
}
