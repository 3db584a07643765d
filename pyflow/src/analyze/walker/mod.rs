//! The walk itself: one top-level statement at a time, what each name read,
//! bound, mutated or deleted means, recorded either on the statement or, inside
//! a body that runs at call time, on the callable that body belongs to.
//!
//! [`Walker`]'s methods are spread by syntax: this file holds its state and
//! the recording of effects; `statements.rs` the statements (and `def` /
//! `class`), `expressions.rs` the expressions, assignment targets and
//! patterns, `escapes.rs` IPython's escapes (`%magic`, `!shell`). They call
//! each other as Python's grammar nests (a statement holds expressions, a
//! lambda or `%time` holds code), one type in four files.

mod calls;
mod escapes;
mod expressions;
mod statements;

use ruff_python_ast::visitor::Visitor;
use ruff_python_ast::{Expr, Pattern, Stmt};
use ruff_text_size::TextRange;

use super::collect::{AccId, Accs, GlobalEffects, StmtAcc};
use super::known_names::DYNAMIC_CALLS;
use super::scope::{Bind, Resolution, Scope, ScopeId, ScopeKind, Scopes};
use crate::collections::FxHashSet as HashSet;
use crate::facts::StatementFacts;
use crate::symbol::Symbol;

/// How a statement changes a symbol in place.
#[derive(Clone, Copy, PartialEq, Eq)]
enum MutKind {
    /// `d[k] = v`, `o.x = v`, `del d[k]`: replaces the sub-object.
    Store,
    /// `x += v`: changes it using its old value.
    InPlace,
    /// `x.method(...)`.
    Call,
}

/// Walks one top-level statement at a time, keeping the scopes it is in.
pub(super) struct Walker {
    scopes: Scopes,
    /// The function/class/lambda fact that global reads and writes go to,
    /// when inside a body that runs at call time.
    ///
    /// Late binding: a function body reads the globals current when it is
    /// *called*, not when it is defined, so its reads are not uses of the
    /// defining statement but facts of the function, expanded at each call:
    /// `def f(): return x` then `x = 2; f()` reads the later `x`.
    owner: Option<AccId>,
    accs: Accs,
    st: StmtAcc,
    /// Ranges of IPython escape commands (for `masked_lines`).
    pub(super) escapes: Vec<TextRange>,
    /// Non-zero while walking code whose bindings do not reach the global
    /// scope (`%timeit` statements).
    no_bind: u32,
    /// How deep escapes nest (`%time %time x = 1`).
    sub_depth: u32,
    /// The scope of the function whose facts [`Walker::owner`] collects,
    /// whose parameters map to a caller's arguments.
    owner_scope: Option<ScopeId>,
    /// Inside a `try` body that has handlers (bindings there may not happen).
    try_body: u32,
    /// Inside an `except` handler or `finally` (bindings there happen anyway).
    try_handler: u32,
    /// The call about to be walked is a whole expression statement (`f(x)`):
    /// made for its effect, its result dropped.
    effect_call: bool,
}

impl Walker {
    pub(super) fn new() -> Walker {
        Walker {
            scopes: Scopes::new(),
            owner: None,
            accs: Accs::default(),
            st: StmtAcc::default(),
            escapes: Vec::new(),
            no_bind: 0,
            sub_depth: 0,
            owner_scope: None,
            try_body: 0,
            try_handler: 0,
            effect_call: false,
        }
    }

    /// The facts of one top-level statement (positions left to the caller).
    pub(super) fn top_level(&mut self, stmt: &Stmt) -> StatementFacts {
        self.scopes.reset();
        self.owner = None;
        self.owner_scope = None;
        self.stmt(stmt);
        self.finish_statement()
    }

    /// The facts collected since the last statement ended.
    pub(super) fn finish_statement(&mut self) -> StatementFacts {
        let functions = self.accs.finish();
        self.st.finish(functions)
    }

    /// Walks a callable's body (`walk`) in its own `scope`, pushed for the walk; when `owned`
    /// (the walker opened a fact for this callable), its parameters are the ones calls map
    /// arguments to. Afterwards the owner is `saved_owner` again, as it was before the callable.
    fn in_callable_scope(
        &mut self,
        scope: Scope,
        owned: bool,
        saved_owner: Option<AccId>,
        walk: impl FnOnce(&mut Self),
    ) {
        let saved_scope = self.owner_scope;
        let scope_id = self.scopes.push(scope);
        if owned {
            self.owner_scope = Some(scope_id);
        }
        walk(self);
        self.scopes.pop();
        self.owner = saved_owner;
        self.owner_scope = saved_scope;
    }

    fn innermost(&self) -> ScopeKind {
        self.scopes.innermost()
    }

    /// Code that runs now, in the module's namespace (not in a body that
    /// runs at call time, not in a class body).
    fn at_module_level(&self) -> bool {
        self.owner.is_none() && self.innermost() == ScopeKind::Module
    }

    /// Whether what is walked binds globals (not `%timeit`'s statement).
    fn binds(&self) -> bool {
        self.no_bind == 0
    }

    fn resolve(&self, name: &str) -> Resolution {
        self.scopes.resolve(name, self.owner.is_none())
    }

    // ---- recording ---------------------------------------------------------

    /// A read of a bare name; allocates only when it is a use to record.
    fn use_name(&mut self, name: &str) {
        if let Resolution::Global { internal: false } = self.resolve(name) {
            self.record_use(Symbol::name(name));
        }
    }

    fn use_symbol(&mut self, symbol: Symbol) {
        if let Resolution::Global { internal: false } = self.resolve(&symbol.base) {
            self.record_use(symbol);
        }
    }

    fn record_use(&mut self, symbol: Symbol) {
        self.effects().reads.insert(symbol);
    }

    /// Where effects go: the callable whose body this is, else the statement.
    fn effects(&mut self) -> &mut GlobalEffects {
        match self.owner {
            Some(id) => &mut self.accs.get_mut(id).effects,
            None => &mut self.st.effects,
        }
    }

    fn call_name(&mut self, name: &str) {
        if DYNAMIC_CALLS.contains(&name) && self.owner.is_none() {
            self.st.dynamic = true;
        }
        if let Resolution::Global { .. } = self.resolve(name) {
            self.effects().calls.insert(name.to_string());
        }
    }

    fn mutate(&mut self, symbol: Symbol, kind: MutKind) {
        if kind != MutKind::Store {
            self.use_symbol(symbol.clone());
        }
        if let Resolution::Global { .. } = self.resolve(&symbol.base) {
            let effects = self.effects();
            match kind {
                MutKind::Call => effects.call_mutates.insert(symbol),
                MutKind::Store | MutKind::InPlace => effects.mutates.insert(symbol),
            };
        } else if self.is_owner_param(&symbol.base) {
            self.param_mutated(&symbol.base);
        }
    }

    /// Whether `name`, read here, is a parameter of the function whose facts
    /// are collected (not a local of a nested scope shadowing it).
    fn is_owner_param(&self, name: &str) -> bool {
        let (Some(owner), Some(owner_scope)) = (self.owner, self.owner_scope) else {
            return false;
        };
        for (id, scope) in self.scopes.chain() {
            if id == owner_scope {
                return self.accs.get(owner).params.iter().any(|p| p == name);
            }
            match scope.kind {
                ScopeKind::Module => return false,
                ScopeKind::Class => {}
                _ => {
                    if scope.locals.contains(name)
                        || scope.globals.contains(name)
                        || scope.nonlocals.contains(name)
                    {
                        return false;
                    }
                }
            }
        }
        false
    }

    /// The caller's argument for parameter `name` changes, unless the body
    /// rebound the parameter first.
    fn param_mutated(&mut self, name: &str) {
        if let Some(owner) = self.owner {
            let acc = self.accs.get_mut(owner);
            if !acc.params_rebound.contains(name) {
                acc.params_mutated.insert(name.to_string());
            }
        }
    }

    /// Binds `name` in the scope `id`, recording it when that binds a global.
    fn bind_in(&mut self, id: ScopeId, name: &str) {
        if self.scopes.bind(id, name) == Bind::Global {
            self.global_effect(name, false);
        } else if Some(id) == self.owner_scope {
            if let Some(owner) = self.owner {
                let acc = self.accs.get_mut(owner);
                if acc.params.iter().any(|p| p == name) {
                    acc.params_rebound.insert(name.to_string());
                }
            }
        }
    }

    /// Records that a global name is bound (or deleted, when `delete`): by
    /// the statement, or by the function whose body this is. The last effect
    /// on a name in a statement wins (`del x; x = 1` defines `x`).
    fn global_effect(&mut self, name: &str, delete: bool) {
        if !self.binds() {
            return;
        }
        let name = name.to_string();
        // The statement ends with the last effect on a name (`del x; x = 1`
        // defines `x`); a function's facts list both, as before.
        let last_wins = self.owner.is_none();
        let effects = self.effects();
        let (to, from) = if delete {
            (&mut effects.deletes, &mut effects.binds)
        } else {
            (&mut effects.binds, &mut effects.deletes)
        };
        if last_wins {
            from.shift_remove(&name);
        }
        to.insert(name.clone());
        if last_wins && !delete {
            if self.try_handler > 0 {
                self.st.sure.insert(name);
            } else if self.try_body > 0 {
                self.st.unsure.insert(name);
            }
        }
    }

    fn store_name(&mut self, name: &str) {
        self.bind_in(self.scopes.current(), name);
    }

    fn delete_name(&mut self, name: &str) {
        if self.scopes.unbind(name) == Bind::Global {
            self.global_effect(name, true);
        }
    }

    /// A walrus target binds in the nearest scope that is not a
    /// comprehension (see [`Scopes::walrus_scope`]).
    fn walrus_target(&mut self, target: &Expr) {
        if let Expr::Name(n) = target {
            self.bind_in(self.scopes.walrus_scope(), n.id.as_str());
        } else {
            self.store(target);
        }
    }

    // ---- branches: what is definitely bound afterwards ---------------------

    fn save_bound(&mut self) -> Option<HashSet<String>> {
        self.scopes.bound_set().map(|b| b.clone())
    }

    fn restore_bound(&mut self, saved: &Option<HashSet<String>>) {
        if let (Some(saved), Some(bound)) = (saved, self.scopes.bound_set()) {
            bound.clone_from(saved);
        }
    }
}

impl<'a> Visitor<'a> for Walker {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        self.stmt(stmt);
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        self.load(expr);
    }

    fn visit_pattern(&mut self, pattern: &'a Pattern) {
        self.pattern(pattern);
    }
}
