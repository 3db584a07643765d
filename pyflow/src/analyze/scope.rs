//! Python's scopes, kept in an arena with typed ids (each scope knows its
//! parent), and the rules that decide where a name is looked up and where a
//! binding lands. The walker asks; this file holds the rules.

use crate::collections::FxHashSet as HashSet;

use super::collect::AccId;

/// A scope's place in [`Scopes`]' arena.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) struct ScopeId(u32);

impl ScopeId {
    /// The module scope, the root of every chain.
    pub(super) const MODULE: ScopeId = ScopeId(0);

    fn index(self) -> usize {
        self.0 as usize
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum ScopeKind {
    Module,
    Class,
    Function,
    Lambda,
    Comprehension,
    /// PEP 695 type parameters (`def f[T](x: T)`, `class C[T]`, `type A[T] = ...`).
    Annotation,
}

pub(super) struct Scope {
    pub(super) kind: ScopeKind,
    parent: Option<ScopeId>,
    /// Function-like scopes: every local name (known before the body runs).
    pub(super) locals: HashSet<String>,
    /// Names declared `global` in this scope.
    pub(super) globals: HashSet<String>,
    /// Names declared `nonlocal` in this scope.
    pub(super) nonlocals: HashSet<String>,
    /// Module and class scopes: names bound so far, in execution order.
    pub(super) bound: HashSet<String>,
    /// Class scope: the accumulator its methods report to.
    pub(super) acc: Option<AccId>,
}

impl Scope {
    pub(super) fn new(kind: ScopeKind) -> Scope {
        Scope {
            kind,
            parent: None,
            locals: HashSet::default(),
            globals: HashSet::default(),
            nonlocals: HashSet::default(),
            bound: HashSet::default(),
            acc: None,
        }
    }
}

/// Where a name read resolves.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Resolution {
    /// Bound in a function-like or class scope.
    Local,
    /// A global; `internal` when bound earlier in the current top-level
    /// statement (so reading it is not a use of an earlier value).
    Global { internal: bool },
}

/// What binding a name in a scope does to the globals.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Bind {
    /// Binds (or deletes) the global name.
    Global,
    /// Binds (or deletes) a local or class attribute: no global effect.
    Local,
}

/// The scopes of one top-level statement: an arena (scopes are never freed
/// before the statement ends, so ids stay valid) and the scope the walk is in.
pub(super) struct Scopes {
    arena: Vec<Scope>,
    current: ScopeId,
}

impl Scopes {
    pub(super) fn new() -> Scopes {
        Scopes {
            arena: vec![Scope::new(ScopeKind::Module)],
            current: ScopeId::MODULE,
        }
    }

    /// Back to the module scope with nothing bound, for the next top-level
    /// statement (what earlier statements bound is an earlier value).
    pub(super) fn reset(&mut self) {
        self.arena.truncate(1);
        self.arena[0].bound.clear();
        self.current = ScopeId::MODULE;
    }

    /// Enters `scope` as a child of the current one.
    pub(super) fn push(&mut self, mut scope: Scope) -> ScopeId {
        scope.parent = Some(self.current);
        let id = ScopeId(self.arena.len() as u32);
        self.arena.push(scope);
        self.current = id;
        id
    }

    /// Leaves the current scope for its parent.
    pub(super) fn pop(&mut self) {
        if let Some(parent) = self.arena[self.current.index()].parent {
            self.current = parent;
        }
    }

    pub(super) fn current(&self) -> ScopeId {
        self.current
    }

    pub(super) fn get(&self, id: ScopeId) -> &Scope {
        &self.arena[id.index()]
    }

    fn get_mut(&mut self, id: ScopeId) -> &mut Scope {
        &mut self.arena[id.index()]
    }

    pub(super) fn innermost(&self) -> ScopeKind {
        self.get(self.current).kind
    }

    /// The current scope and its ancestors, innermost first.
    pub(super) fn chain(&self) -> impl Iterator<Item = (ScopeId, &Scope)> + '_ {
        std::iter::successors(Some(self.current), |&id| self.get(id).parent)
            .map(|id| (id, self.get(id)))
    }

    /// Where a read of `name` in the current scope resolves. `runs_now` is
    /// false inside a body that runs at call time (a function or lambda
    /// defined by the statement), where nothing the statement bound counts
    /// as internal.
    pub(super) fn resolve(&self, name: &str, runs_now: bool) -> Resolution {
        for (id, scope) in self.chain() {
            match scope.kind {
                ScopeKind::Module => {
                    let internal = runs_now && scope.bound.contains(name);
                    return Resolution::Global { internal };
                }
                // Class rule: a class body's names are visible only to code
                // directly in that body, not to the functions, lambdas and
                // comprehensions nested in it, which skip to the next scope
                // out: `class C: n = 1; m = n + 1` reads C's `n`, but in
                // `class C: n = 1; def f(self): return n` `f` reads the global.
                ScopeKind::Class => {
                    if id == self.current {
                        if scope.globals.contains(name) {
                            return Resolution::Global { internal: false };
                        }
                        if scope.bound.contains(name) {
                            return Resolution::Local;
                        }
                    }
                }
                // Function rule: a name bound anywhere in a function is
                // local everywhere in it unless declared `global` (or
                // `nonlocal`: an enclosing function's, still not a global):
                // in `def f(): print(x); x = 1` the `x` read is the local.
                _ => {
                    if scope.globals.contains(name) {
                        return Resolution::Global { internal: false };
                    }
                    if scope.nonlocals.contains(name) || scope.locals.contains(name) {
                        return Resolution::Local;
                    }
                }
            }
        }
        Resolution::Global { internal: false }
    }

    /// Binds `name` in the scope `id` and says whether that binds a global:
    /// at module level, or in any scope that declared it `global`
    /// (`def f(): global n; n = 1`). A class body binds a class attribute
    /// (`class C: n = 1` leaves the global `n` alone).
    pub(super) fn bind(&mut self, id: ScopeId, name: &str) -> Bind {
        let scope = self.get_mut(id);
        let declared_global = scope.globals.contains(name);
        match scope.kind {
            ScopeKind::Module => {
                scope.bound.insert(name.to_string());
                Bind::Global
            }
            ScopeKind::Class if !declared_global => {
                scope.bound.insert(name.to_string());
                Bind::Local
            }
            _ if declared_global => Bind::Global,
            _ => Bind::Local,
        }
    }

    /// `del name` in the current scope; whether that deletes a global (the
    /// same rule as [`Self::bind`]).
    pub(super) fn unbind(&mut self, name: &str) -> Bind {
        let id = self.current;
        let scope = self.get_mut(id);
        let declared_global = scope.globals.contains(name);
        match scope.kind {
            ScopeKind::Module if !declared_global => {
                scope.bound.remove(name);
                Bind::Global
            }
            ScopeKind::Class if !declared_global => {
                scope.bound.remove(name);
                Bind::Local
            }
            _ if declared_global => Bind::Global,
            _ => Bind::Local,
        }
    }

    /// Where a walrus binds. Comprehension rule: `:=` inside a comprehension
    /// binds in the nearest enclosing scope that is not a comprehension, so
    /// `[(last := v) for v in vs]` binds `last` where the comprehension is,
    /// while the comprehension's own `v` stays inside it.
    pub(super) fn walrus_scope(&self) -> ScopeId {
        self.chain()
            .find(|(_, s)| s.kind != ScopeKind::Comprehension)
            .map_or(ScopeId::MODULE, |(id, _)| id)
    }

    /// The current scope's set of names bound so far, when it keeps one
    /// (module and class scopes), for the branch rules.
    pub(super) fn bound_set(&mut self) -> Option<&mut HashSet<String>> {
        let id = self.current;
        let scope = self.get_mut(id);
        matches!(scope.kind, ScopeKind::Module | ScopeKind::Class).then_some(&mut scope.bound)
    }
}
