//! The document as PROV-O in Turtle: each element a subject typed by its PROV class (and its
//! `prov:type`s), its attributes as properties (`prov:label` is `rdfs:label`, times are
//! `prov:startedAtTime` / `prov:endedAtTime`), each relation one triple of PROV-O's
//! unqualified property.

use std::fmt::Write;

use super::document::{quoted, Document, Kind, Literal};

fn object(l: &Literal) -> String {
    match l {
        Literal::Str(s) => quoted(s),
        Literal::QName(q) => q.clone(),
        other => format!(
            "{}^^{}",
            quoted(&other.lexical()),
            other.datatype().unwrap_or("xsd:string")
        ),
    }
}

fn class(kind: Kind) -> &'static str {
    match kind {
        Kind::Entity => "prov:Entity",
        Kind::Activity => "prov:Activity",
        Kind::Agent => "prov:Agent",
    }
}

/// The document as Turtle text.
pub(crate) fn write(doc: &Document) -> String {
    let mut out = String::new();
    let standard = [
        ("prov", "http://www.w3.org/ns/prov#"),
        ("xsd", "http://www.w3.org/2001/XMLSchema#"),
        ("rdfs", "http://www.w3.org/2000/01/rdf-schema#"),
    ];
    for (prefix, uri) in standard {
        let _ = writeln!(out, "@prefix {prefix}: <{uri}> .");
    }
    for (prefix, uri) in &doc.namespaces {
        let _ = writeln!(out, "@prefix {prefix}: <{uri}> .");
    }
    for e in &doc.elements {
        let mut types = vec![class(e.kind).to_string()];
        let mut props: Vec<String> = Vec::new();
        let time = |t: &str| quoted(t) + "^^xsd:dateTime";
        if let Some(t) = &e.start {
            props.push(format!("prov:startedAtTime {}", time(t)));
        }
        if let Some(t) = &e.end {
            props.push(format!("prov:endedAtTime {}", time(t)));
        }
        for (key, value) in &e.attrs {
            match (key.as_str(), value) {
                ("prov:type", Literal::QName(q)) => {
                    if !types.contains(q) {
                        types.push(q.clone());
                    }
                }
                ("prov:label", v) => props.push(format!("rdfs:label {}", object(v))),
                (k, v) => props.push(format!("{k} {}", object(v))),
            }
        }
        let _ = write!(out, "\n{} a {}", e.id, types.join(", "));
        for p in props {
            let _ = write!(out, " ;\n    {p}");
        }
        out.push_str(" .\n");
    }
    out.push('\n');
    for r in &doc.relations {
        let _ = writeln!(out, "{} prov:{} {} .", r.subject, r.kind.name(), r.object);
    }
    out
}
