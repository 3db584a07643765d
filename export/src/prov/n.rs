//! The document as PROV-N (W3C Recommendation 2013): `document`, the prefixes, one expression
//! per record in full form (optional arguments as `-`), `endDocument`.

use std::fmt::Write;

use super::document::{quoted, Document, Literal, RelKind};

fn literal(l: &Literal) -> String {
    match l {
        Literal::Str(s) => quoted(s),
        Literal::QName(q) => format!("'{q}'"),
        other => format!(
            "{} %% {}",
            quoted(&other.lexical()),
            other.datatype().unwrap_or("xsd:string")
        ),
    }
}

fn attributes(attrs: &[(String, Literal)]) -> String {
    if attrs.is_empty() {
        return String::new();
    }
    let pairs: Vec<String> = attrs
        .iter()
        .map(|(k, v)| format!("{k}={}", literal(v)))
        .collect();
    format!(", [{}]", pairs.join(", "))
}

/// How many optional arguments follow the two a relation has (PROV-DM's full forms).
fn markers(kind: RelKind) -> usize {
    match kind {
        RelKind::WasDerivedFrom => 3,
        RelKind::WasInformedBy => 0,
        _ => 1,
    }
}

/// The document as PROV-N text.
pub(crate) fn write(doc: &Document) -> String {
    let mut out = String::from("document\n");
    for (prefix, uri) in &doc.namespaces {
        let _ = writeln!(out, "  prefix {prefix} <{uri}>");
    }
    out.push('\n');
    for e in &doc.elements {
        let times = if e.start.is_some() || e.end.is_some() {
            let t = |t: &Option<String>| t.clone().unwrap_or_else(|| "-".into());
            format!(", {}, {}", t(&e.start), t(&e.end))
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "  {}({}{times}{})",
            e.kind.name(),
            e.id,
            attributes(&e.attrs)
        );
    }
    for r in &doc.relations {
        let _ = writeln!(
            out,
            "  {}({}, {}{})",
            r.kind.name(),
            r.subject,
            r.object,
            ", -".repeat(markers(r.kind))
        );
    }
    out.push_str("endDocument\n");
    out
}
