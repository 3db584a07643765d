//! [`Walker`] over statements, `def` and `class` included.

use ruff_python_ast::{self as ast, ExceptHandler, Expr, Stmt, TypeParam, TypeParams};

use super::calls::is_immutable_value;
use super::Walker;
use crate::analyze::bindings::{from_import_binding, import_binding, BindingCollector};
use crate::analyze::chain::chain;
use crate::analyze::scope::{Scope, ScopeKind};
use crate::collections::FxHashSet as HashSet;
use crate::facts::{AliasFact, AliasKind, CallableKind, ImportFact};
use crate::symbol::PathPart;

impl Walker {
    pub(super) fn body(&mut self, body: &[Stmt]) {
        for stmt in body {
            self.stmt(stmt);
        }
    }

    pub(super) fn stmt(&mut self, stmt: &Stmt) {
        match stmt {
            Stmt::FunctionDef(f) => self.function_def(f),
            Stmt::ClassDef(c) => self.class_def(c),
            Stmt::Return(r) => {
                if let Some(v) = &r.value {
                    self.load(v);
                }
            }
            Stmt::Delete(d) => d.targets.iter().for_each(|t| self.delete_target(t)),
            Stmt::TypeAlias(t) => {
                let pushed = self.push_type_params(t.type_params.as_deref());
                self.load(&t.value);
                if pushed {
                    self.scopes.pop();
                }
                self.store(&t.name);
            }
            Stmt::Assign(a) => self.assign(a),
            Stmt::AugAssign(a) => {
                self.load(&a.value);
                self.aug_target(&a.target);
            }
            Stmt::AnnAssign(a) => self.ann_assign(a),
            Stmt::For(f) => self.loop_stmt(&f.iter, Some(&f.target), &f.body, &f.orelse),
            Stmt::While(w) => self.loop_stmt(&w.test, None, &w.body, &w.orelse),
            Stmt::If(i) => self.if_stmt(i),
            Stmt::With(w) => {
                for item in &w.items {
                    self.load(&item.context_expr);
                    if let Some(vars) = &item.optional_vars {
                        self.store(vars);
                    }
                }
                self.body(&w.body);
            }
            Stmt::Match(m) => self.match_stmt(m),
            Stmt::Raise(r) => {
                r.exc.iter().chain(&r.cause).for_each(|e| self.load(e));
            }
            Stmt::Try(t) => self.try_stmt(t),
            Stmt::Assert(a) => {
                self.load(&a.test);
                a.msg.iter().for_each(|m| self.load(m));
            }
            Stmt::Import(i) => self.import(i),
            Stmt::ImportFrom(i) => self.import_from(i),
            // Found before the body is walked (bindings.rs): `global` and
            // `nonlocal` hold for the whole function.
            Stmt::Global(_) | Stmt::Nonlocal(_) => {}
            Stmt::Expr(e) => {
                self.effect_call = matches!(&*e.value, Expr::Call(_));
                self.load(&e.value);
            }
            Stmt::Pass(_) | Stmt::Break(_) | Stmt::Continue(_) => {}
            Stmt::IpyEscapeCommand(c) => self.escape(c.range, c.kind, &c.value, true),
        }
    }

    fn assign(&mut self, a: &ast::StmtAssign) {
        if let ([Expr::Name(target)], Expr::Lambda(lambda)) = (a.targets.as_slice(), &*a.value) {
            if self.at_module_level() {
                self.lambda(lambda, Some(target.id.as_str()));
                self.store_name(target.id.as_str());
                return;
            }
        }
        self.load(&a.value);
        if self.at_module_level() && self.binds() && is_immutable_value(&a.value) {
            for target in &a.targets {
                if let Expr::Name(t) = target {
                    self.st.immutable.push(t.id.to_string());
                }
            }
        }
        if self.at_module_level() && self.binds() {
            // `x = df[cols]`, `v = a[1:3]`: a copy as often as a view; not
            // followed (see the crate's known limits).
            let source = alias_source(&a.value).filter(|(_, k, _)| *k != AliasKind::Within);
            if let Some((source, kind, path)) = source {
                for target in &a.targets {
                    match target {
                        Expr::Name(t) => self.st.aliases.push(AliasFact {
                            target: t.id.to_string(),
                            source: source.clone(),
                            kind,
                            path: path.clone(),
                        }),
                        // `d['m'] = model`: `model` is now held in `d`.
                        Expr::Attribute(_) | Expr::Subscript(_) if kind == AliasKind::Same => {
                            if let Some((held_in, kind, path)) =
                                alias_source(target).filter(|(_, k, _)| *k != AliasKind::Copy)
                            {
                                self.st.aliases.push(AliasFact {
                                    target: source.clone(),
                                    source: held_in,
                                    kind,
                                    path,
                                });
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        for target in &a.targets {
            self.store(target);
        }
    }

    /// Annotation rule: annotations are evaluated at module and class level
    /// (`x: int = 1` reads `int`), not for a function's locals.
    fn ann_assign(&mut self, a: &ast::StmtAnnAssign) {
        if matches!(self.innermost(), ScopeKind::Module | ScopeKind::Class) {
            self.load(&a.annotation);
        }
        if let Some(value) = &a.value {
            self.load(value);
            self.store(&a.target);
        }
    }

    /// `for target in head` / `while head`: the body may not run, so what
    /// it binds is not definitely bound afterwards (`for x in []: y = 1`,
    /// then `y` is still the older value).
    fn loop_stmt(&mut self, head: &Expr, target: Option<&Expr>, body: &[Stmt], orelse: &[Stmt]) {
        self.load(head);
        let saved = self.save_bound();
        if let Some(target) = target {
            // `for r in rows`: each `r` is an item of `rows`.
            if let (
                Expr::Name(t),
                Some((source, AliasKind::Same | AliasKind::Item | AliasKind::Within, path)),
            ) = (target, alias_source(head))
            {
                if self.at_module_level() && self.binds() {
                    self.st.aliases.push(AliasFact {
                        target: t.id.to_string(),
                        source,
                        kind: AliasKind::Within,
                        path,
                    });
                }
            }
            self.store(target);
        }
        self.body(body);
        self.body(orelse);
        self.restore_bound(&saved);
    }

    /// Branch rule: after `if`, a name is definitely bound only when every
    /// branch binds it (`if c: y = 1` then `print(y)` may read an older `y`;
    /// with `else: y = 2` it cannot).
    fn if_stmt(&mut self, i: &ast::StmtIf) {
        self.load(&i.test);
        let saved = self.save_bound();
        self.body(&i.body);
        let mut branches = vec![self.save_bound()];
        let mut has_else = false;
        for clause in &i.elif_else_clauses {
            self.restore_bound(&saved);
            match &clause.test {
                Some(test) => self.load(test),
                None => has_else = true,
            }
            self.body(&clause.body);
            branches.push(self.save_bound());
        }
        if !has_else {
            self.restore_bound(&saved);
            return;
        }
        let mut merged: Option<HashSet<String>> = None;
        for branch in branches.into_iter().flatten() {
            merged = Some(match merged {
                None => branch,
                Some(m) => m.intersection(&branch).cloned().collect(),
            });
        }
        self.restore_bound(&merged);
    }

    /// Each `case` starts from what was bound before the `match`, and none
    /// is sure to run.
    fn match_stmt(&mut self, m: &ast::StmtMatch) {
        self.load(&m.subject);
        let saved = self.save_bound();
        for case in &m.cases {
            self.restore_bound(&saved);
            self.pattern(&case.pattern);
            if let Some(guard) = &case.guard {
                self.load(guard);
            }
            self.body(&case.body);
        }
        self.restore_bound(&saved);
    }

    /// The body may stop anywhere, so a handler starts from what was bound
    /// before the `try`; `finally` runs after all of them.
    fn try_stmt(&mut self, t: &ast::StmtTry) {
        let saved = self.save_bound();
        // With handlers, what the body and `else` bind may not happen (an
        // exception first), and the cell goes on: `unsure_defines`.
        let caught = u32::from(!t.handlers.is_empty());
        self.try_body += caught;
        self.body(&t.body);
        self.body(&t.orelse);
        self.try_body -= caught;
        self.try_handler += 1;
        for handler in &t.handlers {
            let ExceptHandler::ExceptHandler(h) = handler;
            self.restore_bound(&saved);
            if let Some(ty) = &h.type_ {
                self.load(ty);
            }
            // `except E as e` unbinds `e` when the handler ends, so it
            // is neither a definition nor a deletion we can be sure of.
            if let (Some(name), Some(bound)) = (&h.name, self.scopes.bound_set()) {
                bound.insert(name.id.to_string());
            }
            self.body(&h.body);
        }
        self.restore_bound(&saved);
        self.body(&t.finalbody);
        self.try_handler -= 1;
    }

    fn import(&mut self, i: &ast::StmtImport) {
        for alias in &i.names {
            let bound = import_binding(alias);
            if self.at_module_level() && self.binds() {
                self.st.imports.push(ImportFact {
                    module: alias.name.id.to_string(),
                    name: None,
                    bound_as: bound.clone(),
                    level: 0,
                });
            }
            self.store_name(&bound);
        }
    }

    /// `from m import *` binds names nobody can list: the statement is dynamic.
    fn import_from(&mut self, i: &ast::StmtImportFrom) {
        let module = i
            .module
            .as_ref()
            .map(|m| m.id.to_string())
            .unwrap_or_default();
        for alias in &i.names {
            let name = alias.name.id.to_string();
            let star = name == "*";
            let bound = if star {
                name.clone()
            } else {
                from_import_binding(alias)
            };
            if self.at_module_level() && self.binds() {
                self.st.imports.push(ImportFact {
                    module: module.clone(),
                    name: Some(name),
                    bound_as: bound.clone(),
                    level: i.level,
                });
            }
            if star {
                if self.owner.is_none() {
                    self.st.dynamic = true;
                }
            } else {
                self.store_name(&bound);
            }
        }
    }

    /// PEP 695 type parameters get their own scope between the definition
    /// and its body (`def f[T](x: T)`: `T` is not a global); their bounds
    /// and defaults are read now.
    fn push_type_params(&mut self, params: Option<&TypeParams>) -> bool {
        let Some(params) = params else { return false };
        let mut scope = Scope::new(ScopeKind::Annotation);
        for p in &params.type_params {
            let name = match p {
                TypeParam::TypeVar(t) => &t.name,
                TypeParam::TypeVarTuple(t) => &t.name,
                TypeParam::ParamSpec(t) => &t.name,
            };
            scope.locals.insert(name.id.to_string());
        }
        self.scopes.push(scope);
        for p in &params.type_params {
            let (bound, default) = match p {
                TypeParam::TypeVar(t) => (t.bound.as_deref(), t.default.as_deref()),
                TypeParam::TypeVarTuple(t) => (None, t.default.as_deref()),
                TypeParam::ParamSpec(t) => (None, t.default.as_deref()),
            };
            bound.iter().chain(&default).for_each(|e| self.load(e));
        }
        true
    }

    /// Decorators run at definition time; `@name` is a call of `name`.
    fn decorators(&mut self, decorators: &[ast::Decorator]) {
        for d in decorators {
            self.load(&d.expression);
            if let Expr::Name(n) = &d.expression {
                self.call_name(n.id.as_str());
            }
        }
    }

    /// Defaults, annotations and decorators are read when `def` runs; the
    /// body when the function is called (late binding, see
    /// [`Walker::owner`]). A method reports to its class's facts.
    fn function_def(&mut self, f: &ast::StmtFunctionDef) {
        self.decorators(&f.decorator_list);
        for p in f.parameters.iter_non_variadic_params() {
            if let Some(default) = &p.default {
                self.load(default);
            }
        }
        let pushed = self.push_type_params(f.type_params.as_deref());
        for p in f.parameters.iter() {
            if let Some(annotation) = p.annotation() {
                self.load(annotation);
            }
        }
        if let Some(returns) = &f.returns {
            self.load(returns);
        }

        let saved_owner = self.owner;
        let mut opened = None;
        if self.owner.is_none() {
            let outer = self
                .scopes
                .chain()
                .find(|(_, s)| s.kind != ScopeKind::Annotation);
            self.owner = match outer {
                Some((_, s)) if s.kind == ScopeKind::Class => s.acc,
                _ => None,
            };
            if self.owner.is_none() {
                let id = self.accs.open(f.name.id.as_str(), CallableKind::Function);
                self.accs.get_mut(id).params = param_names(&f.parameters);
                self.owner = Some(id);
                opened = Some(id);
            }
        }
        let bindings = BindingCollector::collect(Some(&f.parameters), &f.body);
        if let Some(id) = opened {
            let acc = self.accs.get_mut(id);
            acc.generator = bindings.yields;
            for d in &f.decorator_list {
                match decorator_name(&d.expression) {
                    Some((None | Some("functools"), "lru_cache" | "cache")) => acc.cached = true,
                    // Calling `f` runs the wrapper `deco` returned: its facts.
                    Some((None, name)) => {
                        acc.effects.calls.insert(name.to_string());
                    }
                    _ => {}
                }
            }
        } else if !bindings.nonlocals.is_empty() && saved_owner.is_some() {
            // A nested function changing an enclosing function's variable:
            // what the outer function returns keeps state between calls.
            if let Some(owner) = saved_owner {
                self.accs.get_mut(owner).keeps_state = true;
            }
        }
        let mut scope = Scope::new(ScopeKind::Function);
        scope.locals = bindings.locals;
        scope.globals = bindings.globals;
        scope.nonlocals = bindings.nonlocals;
        self.in_callable_scope(scope, opened.is_some(), saved_owner, |w| w.body(&f.body));
        if pushed {
            self.scopes.pop();
        }
        self.store_name(f.name.id.as_str());
    }

    /// A class body runs now, in its own scope (see the class rule in
    /// `scope.rs`); calling the class counts as running all its methods, so
    /// a module-level class collects what they do into one fact.
    fn class_def(&mut self, c: &ast::StmtClassDef) {
        self.decorators(&c.decorator_list);
        let module_level = self.at_module_level();
        let pushed = self.push_type_params(c.type_params.as_deref());
        if let Some(arguments) = &c.arguments {
            self.arguments(arguments);
        }
        let mut scope = Scope::new(ScopeKind::Class);
        scope.acc = if module_level && self.binds() {
            Some(self.accs.open(c.name.id.as_str(), CallableKind::Class))
        } else if self.owner.is_none() {
            // A class nested in a module-level class reports to the outer one.
            self.scopes
                .chain()
                .find(|(_, s)| s.kind == ScopeKind::Class)
                .and_then(|(_, s)| s.acc)
        } else {
            None
        };
        self.scopes.push(scope);
        self.body(&c.body);
        self.scopes.pop();
        if pushed {
            self.scopes.pop();
        }
        if module_level && self.binds() {
            self.st.classes.push(c.name.id.to_string());
        }
        self.store_name(c.name.id.as_str());
    }
}

/// A function's parameters in the order arguments bind them: positional
/// ones, then keyword-only ones (`*args` and `**kwargs` take no single name).
pub(super) fn param_names(parameters: &ast::Parameters) -> Vec<String> {
    parameters
        .posonlyargs
        .iter()
        .chain(&parameters.args)
        .chain(&parameters.kwonlyargs)
        .map(|p| p.parameter.name.id.to_string())
        .collect()
}

/// What an assigned value is an alias of: a plain name (`b = a`), a part of
/// one (`rows[0]`, `cfg.model`; `Within` past a non-literal key), a
/// shallow copy of one (`copy.copy(x)`, `dataclasses.replace(x, ...)`,
/// which share `x`'s members), or what calling one returned (`Model()`).
fn alias_source(value: &Expr) -> Option<(String, AliasKind, Vec<PathPart>)> {
    match value {
        Expr::Name(n) => Some((n.id.to_string(), AliasKind::Same, Vec::new())),
        Expr::Attribute(_) | Expr::Subscript(_) => {
            let c = chain(value);
            let symbol = c.symbol?;
            let kind = if c.exact {
                AliasKind::Item
            } else {
                AliasKind::Within
            };
            Some((symbol.base, kind, symbol.path))
        }
        Expr::Call(call) => {
            let f = match &*call.func {
                // `m = Model()`, `counter = make_counter()`.
                Expr::Name(f) => return Some((f.id.to_string(), AliasKind::Made, Vec::new())),
                Expr::Attribute(f) => f,
                _ => return None,
            };
            let Expr::Name(module) = &*f.value else {
                return None;
            };
            let shallow = matches!(
                (module.id.as_str(), f.attr.id.as_str()),
                ("copy", "copy") | ("dataclasses", "replace")
            );
            match call.arguments.args.first() {
                Some(Expr::Name(x)) if shallow => {
                    Some((x.id.to_string(), AliasKind::Copy, Vec::new()))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// `@name`, `@module.name`, `@name(...)`: the decorator's (module, name).
fn decorator_name(expr: &Expr) -> Option<(Option<&str>, &str)> {
    match expr {
        Expr::Name(n) => Some((None, n.id.as_str())),
        Expr::Attribute(a) => match &*a.value {
            Expr::Name(m) => Some((Some(m.id.as_str()), a.attr.id.as_str())),
            _ => None,
        },
        Expr::Call(c) => decorator_name(&c.func),
        _ => None,
    }
}
