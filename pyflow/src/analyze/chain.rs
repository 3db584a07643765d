//! Name / attribute / subscript chains (`d['a'].x`, `f(x).y[k]`) turned into
//! the [`Symbol`] they designate, as precisely as literal keys allow.

use ruff_python_ast::{Expr, Number};

use super::known_names::VIEW_ATTRS;
use crate::symbol::{Key, PathPart, Symbol};

/// A name/attribute/subscript chain: the symbol it designates as precisely as
/// literal keys allow, the expressions still to evaluate (non-literal keys),
/// and, when the chain does not start at a name, the expression it starts at.
pub(super) struct Chain<'e> {
    pub(super) symbol: Option<Symbol>,
    pub(super) root: Option<&'e Expr>,
    pub(super) leftovers: Vec<&'e Expr>,
    /// The chain ends in a literal integer subscript (`lst[0]`).
    pub(super) ends_in_int_key: bool,
    /// `symbol` covers the whole chain (no non-literal key or view cut it short).
    pub(super) exact: bool,
}

pub(super) fn chain(expr: &Expr) -> Chain<'_> {
    enum Step<'e> {
        Attr(&'e str),
        Sub(&'e Expr),
    }
    let mut steps = Vec::new();
    let mut cur = expr;
    let base = loop {
        match cur {
            Expr::Attribute(a) => {
                steps.push(Step::Attr(a.attr.id.as_str()));
                cur = &a.value;
            }
            Expr::Subscript(s) => {
                steps.push(Step::Sub(&s.slice));
                cur = &s.value;
            }
            Expr::Name(n) => break Some(n.id.as_str()),
            _ => break None,
        }
    };
    let mut leftovers = Vec::new();
    let mut symbol = base.map(Symbol::name);
    let mut precise = symbol.is_some();
    let mut ends_in_int_key = false;
    for step in steps.into_iter().rev() {
        ends_in_int_key = false;
        match step {
            Step::Attr(attr) => {
                if precise && VIEW_ATTRS.contains(&attr) {
                    precise = false;
                }
                if precise {
                    if let Some(s) = symbol.as_mut() {
                        s.path.push(PathPart::Attr(attr.to_string()));
                    }
                }
            }
            Step::Sub(slice) => match literal_key(slice) {
                Some(key) => {
                    ends_in_int_key = matches!(key, Key::Int(_));
                    if precise {
                        if let Some(s) = symbol.as_mut() {
                            s.path.push(PathPart::Key(key));
                        }
                    }
                }
                None => {
                    precise = false;
                    leftovers.push(slice);
                }
            },
        }
    }
    Chain {
        root: if base.is_none() { Some(cur) } else { None },
        exact: precise,
        symbol,
        leftovers,
        ends_in_int_key,
    }
}

fn literal_key(slice: &Expr) -> Option<Key> {
    match slice {
        Expr::StringLiteral(s) => Some(Key::Str(s.value.to_str().to_string())),
        Expr::NumberLiteral(n) => match &n.value {
            Number::Int(i) => i.as_i64().filter(|v| *v >= 0).map(Key::Int),
            _ => None,
        },
        _ => None,
    }
}
