//! A PROV document as plain data: elements (entities, activities, agents) with typed
//! attributes, and the binary relations between them. `model.rs` builds one from the store;
//! `json.rs`, `n.rs` and `o.rs` write it, each in its syntax, from what is here (the names of
//! records and arguments, a literal's datatype, the escapes of a string, valid local names).

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
    fn strings_are_escaped() {
        assert_eq!(quoted("a\"b\\c\nd\te\r"), r#""a\"b\\c\nd\te\r""#);
    }
}
