//! Aliasing through containers and copies: an object held in another
//! (`first = rows[0]`, `d['m'] = model`, `for r in rows`) or a shallow copy
//! sharing its members (`copy.copy(x)`), kept as links between object keys,
//! so a mutation through one name reaches the names of the objects it
//! changes. Also which values cannot be changed in place at all (an `int`
//! item is no alias), from the probe's types.

use super::graph::{Binding, Link, STATIC_OBJECT};
use super::Dataflow;
use crate::facts::AliasKind;
use crate::symbol::{is_prefix, PathPart, Symbol};

/// A change of an object at `path` (`in_place`: changed, not replaced: a
/// method call or `+=`, never `o.x = v`).
struct Change {
    object: u64,
    path: Vec<PathPart>,
    in_place: bool,
}

impl Link {
    /// What a change of `from` (one of this link's ends) changes at the
    /// other end, if anything.
    fn reach(&self, from: &Change) -> Option<Change> {
        let inner = || {
            let below = from.path.len() > self.path.len();
            (is_prefix(&self.path, &from.path) && (below || from.in_place)).then_some(below)
        };
        match self.kind {
            AliasKind::Same | AliasKind::Made => None,
            // A change of what is held is a change inside its holder.
            AliasKind::Item | AliasKind::Within if from.object == self.held => {
                let exact = self.kind == AliasKind::Item;
                let mut path = self.path.clone();
                if exact {
                    path.extend(from.path.iter().cloned());
                }
                Some(Change {
                    object: self.holder,
                    path,
                    in_place: from.in_place || !exact || !from.path.is_empty(),
                })
            }
            // A change of the holder at or below the held object's place
            // changes it, unless it replaces it (`rows[0] = [7]`).
            AliasKind::Item => inner().map(|_| Change {
                object: self.held,
                path: from.path[self.path.len()..].to_vec(),
                in_place: from.in_place,
            }),
            // Which item is unknown: only a change below the place reaches
            // one (`rows[0].append(1)` for `for r in rows`, not `rows.append`).
            AliasKind::Within => inner().filter(|&below| below).map(|_| Change {
                object: self.held,
                path: Vec::new(),
                in_place: true,
            }),
            // Shared members: a change inside a member, not of the copy's
            // own slots (`c.items.append(1)`, not `c.items = []` or `c.append`).
            AliasKind::Copy => {
                let shared = from.path.len() >= 2 || (from.path.len() == 1 && from.in_place);
                shared.then(|| Change {
                    object: if from.object == self.held {
                        self.holder
                    } else {
                        self.held
                    },
                    path: from.path.clone(),
                    in_place: from.in_place,
                })
            }
        }
    }
}

/// Types whose values never change in place: a name holding one is nobody's
/// alias (`n = cfg.lr` shares nothing that `n += 1` could change). The
/// probe's spelling: builtins bare, else `module.Qualname`.
pub(super) fn is_immutable_type(type_name: &str) -> bool {
    const PLAIN: &[&str] = &[
        "int",
        "float",
        "complex",
        "bool",
        "str",
        "bytes",
        "NoneType",
        "range",
        "frozenset",
        "decimal.Decimal",
        "fractions.Fraction",
        "datetime.date",
        "datetime.datetime",
        "datetime.timedelta",
    ];
    if PLAIN.contains(&type_name) {
        return true;
    }
    // numpy's scalars: numpy.float64, numpy.int32, numpy.bool, numpy.str_, ...
    type_name.strip_prefix("numpy.").is_some_and(|t| {
        let kind = t.trim_end_matches(|c: char| c.is_ascii_digit() || c == '_');
        matches!(
            kind,
            "float" | "int" | "uint" | "bool" | "complex" | "str" | "bytes" | "longdouble"
        )
    })
}

impl Dataflow {
    /// Notes an alias through a container or a copy, made by a statement:
    /// `held` is `name`'s object, `holder` `source`'s.
    pub(super) fn link(&mut self, name: &str, source: &str, kind: AliasKind, path: &[PathPart]) {
        let (Some(held), Some(holder)) = (self.object_of(name), self.object_of(source)) else {
            return;
        };
        let data = |n: &str| self.binding_of(n).unwrap_or(Binding::Data) == Binding::Data;
        if held == holder || !data(name) || !data(source) || self.is_immutable(name) {
            return;
        }
        let link = Link {
            holder,
            held,
            path: path.to_vec(),
            kind,
        };
        for end in [holder, held] {
            let links = self.links.entry(end).or_default();
            if !links.contains(&link) {
                links.push(link.clone());
            }
        }
    }

    /// A store replaced what `name`'s object holds at `path` (`rows[0] =
    /// [7]`): the object held there before is no longer in it.
    pub(super) fn unlink_replaced(&mut self, name: &str, path: &[PathPart]) {
        let Some(holder) = self.object_of(name) else {
            return;
        };
        let Some(links) = self.links.get(&holder) else {
            return;
        };
        let gone: Vec<Link> = links
            .iter()
            .filter(|l| l.kind == AliasKind::Item && l.holder == holder && l.path == path)
            .cloned()
            .collect();
        for link in gone {
            for end in [link.holder, link.held] {
                if let Some(list) = self.links.get_mut(&end) {
                    list.retain(|l| *l != link);
                    if list.is_empty() {
                        self.links.remove(&end);
                    }
                }
            }
        }
    }

    /// Notes whether `name`'s value is known not to change in place.
    pub(super) fn mark_immutable(&mut self, name: &str, immutable: bool) {
        if let Some(id) = self.lookup(name) {
            self.state[id.index()].immutable = immutable;
        }
    }

    /// Whether `name` holds a value known not to change in place.
    pub(super) fn is_immutable(&self, name: &str) -> bool {
        self.lookup(name)
            .is_some_and(|id| self.state[id.index()].immutable)
    }

    /// The symbols of other names that a change of `name` at `path` also
    /// changes through containers and copies (not `name`'s plain aliases,
    /// which share its object).
    pub(super) fn linked_symbols(
        &self,
        name: &str,
        path: &[PathPart],
        in_place: bool,
    ) -> Vec<Symbol> {
        let mut out = Vec::new();
        if self.links.is_empty() {
            return out;
        }
        let Some(start) = self.object_of(name) else {
            return out;
        };
        let mut seen = vec![start];
        let mut todo = vec![Change {
            object: start,
            path: path.to_vec(),
            in_place,
        }];
        while let Some(change) = todo.pop() {
            for link in self.links.get(&change.object).into_iter().flatten() {
                let Some(next) = link.reach(&change) else {
                    continue;
                };
                if seen.contains(&next.object) {
                    continue;
                }
                seen.push(next.object);
                for &member in self.members.get(&next.object).into_iter().flatten() {
                    let st = &self.state[member.index()];
                    if !st.immutable && st.binding.unwrap_or(Binding::Data) == Binding::Data {
                        out.push(Symbol {
                            base: self.names[member.index()].clone(),
                            path: next.path.clone(),
                        });
                    }
                }
                todo.push(next);
            }
        }
        out
    }

    /// The object `old` has no name left: when a name moved from a static
    /// key to the runtime `id()` the probe saw (`new`), its links move with
    /// it; otherwise nothing can reach them any more.
    pub(super) fn object_emptied(&mut self, old: u64, new: Option<u64>) {
        let Some(links) = self.links.remove(&old) else {
            return;
        };
        let moved = new.filter(|_| old & STATIC_OBJECT != 0);
        for mut link in links {
            let other = if link.holder == old {
                link.held
            } else {
                link.holder
            };
            if let Some(list) = self.links.get_mut(&other) {
                list.retain(|l| *l != link);
                if list.is_empty() {
                    self.links.remove(&other);
                }
            }
            if let Some(new) = moved {
                for end in [&mut link.holder, &mut link.held] {
                    if *end == old {
                        *end = new;
                    }
                }
                if link.holder != link.held {
                    for end in [link.holder, link.held] {
                        let list = self.links.entry(end).or_default();
                        if !list.contains(&link) {
                            list.push(link.clone());
                        }
                    }
                }
            }
        }
    }
}
