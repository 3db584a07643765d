//! [`Symbol`]: a global name plus an optional path of literal keys and
//! attributes, the unit the dataflow engine versions.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A literal subscript key that the analysis can tell apart from other keys.
///
/// Exists so that `d['a'] = 1` and `d['b'] = 2` give two separate histories.
/// Only string and non-negative integer literals are tracked: negative
/// integers may alias positive ones on sequences (`lst[-1]` is `lst[2]`), and
/// other literals (floats, tuples, bools) are rare enough to fall back to the
/// container.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Key {
    /// `d['name']`
    Str(String),
    /// `lst[3]`
    Int(i64),
}

/// One step of a [`Symbol`]'s path below its base name.
///
/// Exists to keep attribute and subscript steps distinct in the display
/// (`o.x` versus `o['x']`) while [`Symbol::overlaps`] still treats `o.x` and
/// `o['x']` as possibly the same thing (pandas exposes columns both ways).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum PathPart {
    /// `.name`
    Attr(String),
    /// `[literal]`
    Key(Key),
}

impl PathPart {
    /// Whether two steps may designate the same sub-object.
    fn may_equal(&self, other: &PathPart) -> bool {
        match (self, other) {
            (PathPart::Attr(a), PathPart::Attr(b)) => a == b,
            (PathPart::Key(a), PathPart::Key(b)) => a == b,
            (PathPart::Attr(a), PathPart::Key(Key::Str(b)))
            | (PathPart::Key(Key::Str(b)), PathPart::Attr(a)) => a == b,
            _ => false,
        }
    }
}

/// A global name, optionally narrowed by literal keys and attributes:
/// `df`, `d['a']`, `o.x`, `cfg['model'].lr`.
///
/// This is the unit of history in the dataflow: every definition or mutation
/// of a symbol is a new version of it. It serialises as its Python-ish text
/// (`"d['a']"`), which [`Symbol::parse`] reads back, so stored facts and the
/// JSON of `provctl deps` stay readable.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Symbol {
    /// The global name the path starts from.
    pub base: String,
    /// Literal keys and attributes below `base`, outermost last.
    pub path: Vec<PathPart>,
}

impl Symbol {
    /// A bare global name.
    pub fn name(base: impl Into<String>) -> Symbol {
        Symbol {
            base: base.into(),
            path: Vec::new(),
        }
    }

    /// This symbol narrowed by one more attribute (`o` → `o.x`).
    pub fn attr(mut self, name: impl Into<String>) -> Symbol {
        self.path.push(PathPart::Attr(name.into()));
        self
    }

    /// This symbol narrowed by one more literal key (`d` → `d['a']`).
    pub fn key(mut self, key: Key) -> Symbol {
        self.path.push(PathPart::Key(key));
        self
    }

    /// Whether this is a bare name with no path.
    pub fn is_name(&self) -> bool {
        self.path.is_empty()
    }

    /// Whether a write to one of the two symbols can change what the other
    /// designates: same base and one path is a prefix of the other.
    /// `d` overlaps `d['a']`; `d['a']` does not overlap `d['b']`.
    pub fn overlaps(&self, other: &Symbol) -> bool {
        self.base == other.base && paths_overlap(&self.path, &other.path)
    }

    /// Whether `self` contains `other` strictly: `d` contains `d['a']`, but
    /// `d['a']` does not contain itself.
    pub fn strictly_contains(&self, other: &Symbol) -> bool {
        self.base == other.base && is_strict_prefix(&self.path, &other.path)
    }

    /// Reads the text a user types after `%backwards_deps` (and what
    /// `Display` writes): a Python identifier (or a hidden state such as
    /// `<numpy.random>`, which no Python name can spell) followed by `.attr`, `['key']`,
    /// `["key"]` or `[123]` steps, with optional spaces around brackets.
    /// Returns `None` for anything else.
    pub fn parse(text: &str) -> Option<Symbol> {
        let mut p = SymbolParser {
            chars: text.trim().chars().collect(),
            pos: 0,
        };
        let base = match p.peek() {
            Some('<') => p.hidden()?,
            _ => p.ident()?,
        };
        let mut sym = Symbol::name(base);
        loop {
            p.skip_ws();
            match p.peek() {
                None => return Some(sym),
                Some('.') => {
                    p.pos += 1;
                    p.skip_ws();
                    sym = sym.attr(p.ident()?);
                }
                Some('[') => {
                    p.pos += 1;
                    p.skip_ws();
                    let key = p.key()?;
                    p.skip_ws();
                    if p.peek() != Some(']') {
                        return None;
                    }
                    p.pos += 1;
                    sym = sym.key(key);
                }
                Some(_) => return None,
            }
        }
    }
}

/// Whether one path is a prefix of the other (under [`PathPart::may_equal`]).
pub(crate) fn paths_overlap(a: &[PathPart], b: &[PathPart]) -> bool {
    a.iter().zip(b.iter()).all(|(x, y)| x.may_equal(y))
}

/// Whether `a` is a strict prefix of `b`.
pub(crate) fn is_strict_prefix(a: &[PathPart], b: &[PathPart]) -> bool {
    a.len() < b.len() && a.iter().zip(b.iter()).all(|(x, y)| x.may_equal(y))
}

/// Whether `a` is a prefix of `b` (or equal to it).
pub(crate) fn is_prefix(a: &[PathPart], b: &[PathPart]) -> bool {
    a.len() <= b.len() && a.iter().zip(b.iter()).all(|(x, y)| x.may_equal(y))
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.base)?;
        for part in &self.path {
            match part {
                PathPart::Attr(a) => write!(f, ".{a}")?,
                PathPart::Key(Key::Int(i)) => write!(f, "[{i}]")?,
                PathPart::Key(Key::Str(s)) => {
                    f.write_str("['")?;
                    for c in s.chars() {
                        match c {
                            '\\' => f.write_str("\\\\")?,
                            '\'' => f.write_str("\\'")?,
                            '\n' => f.write_str("\\n")?,
                            '\r' => f.write_str("\\r")?,
                            '\t' => f.write_str("\\t")?,
                            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                                write!(f, "\\x{:02x}", c as u32)?
                            }
                            c => write!(f, "{c}")?,
                        }
                    }
                    f.write_str("']")?;
                }
            }
        }
        Ok(())
    }
}

impl Serialize for Symbol {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Symbol {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        // A file is a name of its own, its path (`crate::is_file_name`), never a Python symbol.
        if text.starts_with('/') {
            return Ok(Symbol::name(text));
        }
        Symbol::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("not a symbol: {text:?}")))
    }
}

struct SymbolParser {
    chars: Vec<char>,
    pos: usize,
}

impl SymbolParser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn ident(&mut self) -> Option<String> {
        let start = self.pos;
        match self.peek() {
            Some(c) if c == '_' || c.is_alphabetic() => self.pos += 1,
            _ => return None,
        }
        while self.peek().is_some_and(|c| c == '_' || c.is_alphanumeric()) {
            self.pos += 1;
        }
        Some(self.chars[start..self.pos].iter().collect())
    }

    /// `<random>`, `<numpy.random>`: identifiers and dots in angle brackets.
    fn hidden(&mut self) -> Option<String> {
        let start = self.pos;
        self.pos += 1;
        let mut inner = String::new();
        while let Some(c) = self.peek().filter(|&c| c != '>') {
            inner.push(c);
            self.pos += 1;
        }
        if self.peek() != Some('>')
            || inner
                .split('.')
                .any(|p| Symbol::parse(p) != Some(Symbol::name(p)))
        {
            return None;
        }
        self.pos += 1;
        Some(self.chars[start..self.pos].iter().collect())
    }

    fn key(&mut self) -> Option<Key> {
        match self.peek()? {
            q @ ('\'' | '"') => {
                self.pos += 1;
                let mut s = String::new();
                loop {
                    let c = self.peek()?;
                    self.pos += 1;
                    if c == q {
                        return Some(Key::Str(s));
                    }
                    if c != '\\' {
                        s.push(c);
                        continue;
                    }
                    let e = self.peek()?;
                    self.pos += 1;
                    match e {
                        'n' => s.push('\n'),
                        'r' => s.push('\r'),
                        't' => s.push('\t'),
                        'x' => {
                            let hex: String =
                                self.chars.get(self.pos..self.pos + 2)?.iter().collect();
                            self.pos += 2;
                            s.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                        }
                        other => s.push(other),
                    }
                }
            }
            c if c.is_ascii_digit() => {
                let start = self.pos;
                while self.peek().is_some_and(|c| c.is_ascii_digit() || c == '_') {
                    self.pos += 1;
                }
                let digits: String = self.chars[start..self.pos]
                    .iter()
                    .filter(|c| **c != '_')
                    .collect();
                digits.parse().ok().map(Key::Int)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_parse_round_trip() {
        let s = Symbol::name("d")
            .key(Key::Str("it's\n\\".into()))
            .attr("x")
            .key(Key::Int(3));
        let text = s.to_string();
        assert_eq!(text, r"d['it\'s\n\\'].x[3]");
        assert_eq!(Symbol::parse(&text), Some(s));
        assert_eq!(
            Symbol::parse(r#" d [ "a" ] "#),
            Some(Symbol::name("d").key(Key::Str("a".into())))
        );
        assert_eq!(Symbol::parse("données"), Some(Symbol::name("données")));
        for bad in ["", "1x", "d[", "d[x]", "d.", "d['a'", "a b", "d[-1]", "f()"] {
            assert_eq!(Symbol::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn overlap_rules() {
        let d = Symbol::name("d");
        let da = d.clone().key(Key::Str("a".into()));
        let db = d.clone().key(Key::Str("b".into()));
        let dax = da.clone().attr("x");
        assert!(d.overlaps(&da) && da.overlaps(&d));
        assert!(!da.overlaps(&db));
        assert!(dax.overlaps(&da) && !dax.overlaps(&db));
        assert!(d.attr("a").overlaps(&da), "o.a may be o['a'] (pandas)");
        assert!(!Symbol::name("e").overlaps(&Symbol::name("d")));
        assert!(Symbol::name("d").strictly_contains(&da) && !da.strictly_contains(&da));
    }

    #[test]
    fn serde_as_text() {
        let s = Symbol::name("d").key(Key::Str("a".into()));
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(json, r#""d['a']""#);
        assert_eq!(serde_json::from_str::<Symbol>(&json).unwrap(), s);
    }
}
