//! Where a function's names live, found before its body is walked, because
//! Python decides that per function, not per line: a name bound anywhere in
//! a function is local everywhere in it (`def f(): print(x); x = 1` reads
//! the local `x`, and fails). Also the names an import or a comprehension
//! target binds.

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, ExceptHandler, Expr, Parameters, Pattern, Stmt};

use crate::collections::FxHashSet as HashSet;

/// Names a target expression binds (for comprehension scopes).
pub(super) fn target_names(target: &Expr, out: &mut HashSet<String>) {
    match target {
        Expr::Name(n) => {
            out.insert(n.id.to_string());
        }
        Expr::Tuple(t) => t.elts.iter().for_each(|e| target_names(e, out)),
        Expr::List(l) => l.elts.iter().for_each(|e| target_names(e, out)),
        Expr::Starred(s) => target_names(&s.value, out),
        _ => {}
    }
}

/// Local bindings of a function body, found before walking it because a name
/// assigned anywhere in a function is local everywhere in it.
#[derive(Default)]
pub(super) struct BindingCollector {
    pub(super) locals: HashSet<String>,
    pub(super) globals: HashSet<String>,
    pub(super) nonlocals: HashSet<String>,
    /// The body yields: it is a generator function.
    pub(super) yields: bool,
}

impl BindingCollector {
    pub(super) fn collect(parameters: Option<&Parameters>, body: &[Stmt]) -> BindingCollector {
        let mut c = BindingCollector::default();
        if let Some(parameters) = parameters {
            for p in parameters.iter() {
                c.locals.insert(p.name().id.to_string());
            }
        }
        for stmt in body {
            c.visit_stmt(stmt);
        }
        for name in c.globals.iter().chain(c.nonlocals.iter()) {
            c.locals.remove(name);
        }
        c
    }
}

impl<'a> Visitor<'a> for BindingCollector {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::FunctionDef(f) => {
                self.locals.insert(f.name.id.to_string());
            }
            Stmt::ClassDef(c) => {
                self.locals.insert(c.name.id.to_string());
            }
            // `def f(): global n; n = 1` binds the module's `n`; `nonlocal n`
            // an enclosing function's: neither is a local of `f`.
            Stmt::Global(g) => self
                .globals
                .extend(g.names.iter().map(|n| n.id.to_string())),
            Stmt::Nonlocal(n) => self
                .nonlocals
                .extend(n.names.iter().map(|n| n.id.to_string())),
            Stmt::Import(i) => {
                for alias in &i.names {
                    self.locals.insert(import_binding(alias));
                }
            }
            Stmt::ImportFrom(i) => {
                for alias in &i.names {
                    if alias.name.id.as_str() != "*" {
                        self.locals.insert(from_import_binding(alias));
                    }
                }
            }
            _ => visitor::walk_stmt(self, stmt),
        }
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if matches!(expr, Expr::Yield(_) | Expr::YieldFrom(_)) {
            self.yields = true;
        }
        match expr {
            Expr::Name(n) if !n.ctx.is_load() => {
                self.locals.insert(n.id.to_string());
            }
            // A lambda's parameters are its own: `key=lambda k: k` binds no `k` here.
            Expr::Lambda(_) => {}
            Expr::ListComp(ast::ExprListComp {
                elt, generators, ..
            })
            | Expr::SetComp(ast::ExprSetComp {
                elt, generators, ..
            })
            | Expr::Generator(ast::ExprGenerator {
                elt, generators, ..
            }) => {
                // Only walrus targets inside bind in this scope.
                for g in generators {
                    self.visit_expr(&g.iter);
                    g.ifs.iter().for_each(|e| self.visit_expr(e));
                }
                self.visit_expr(elt);
            }
            Expr::DictComp(ast::ExprDictComp {
                key,
                value,
                generators,
                ..
            }) => {
                for g in generators {
                    self.visit_expr(&g.iter);
                    g.ifs.iter().for_each(|e| self.visit_expr(e));
                }
                if let Some(key) = key {
                    self.visit_expr(key);
                }
                self.visit_expr(value);
            }
            _ => visitor::walk_expr(self, expr),
        }
    }

    fn visit_pattern(&mut self, pattern: &'a Pattern) {
        match pattern {
            Pattern::MatchAs(ast::PatternMatchAs { name: Some(n), .. })
            | Pattern::MatchStar(ast::PatternMatchStar { name: Some(n), .. })
            | Pattern::MatchMapping(ast::PatternMatchMapping { rest: Some(n), .. }) => {
                self.locals.insert(n.id.to_string());
            }
            _ => {}
        }
        visitor::walk_pattern(self, pattern);
    }

    fn visit_except_handler(&mut self, handler: &'a ExceptHandler) {
        let ExceptHandler::ExceptHandler(h) = handler;
        if let Some(name) = &h.name {
            self.locals.insert(name.id.to_string());
        }
        visitor::walk_except_handler(self, handler);
    }
}

/// The name `import m` binds: `import os.path` binds `os`, `import numpy as
/// np` binds `np`.
pub(super) fn import_binding(alias: &ast::Alias) -> String {
    match &alias.asname {
        Some(asname) => asname.id.to_string(),
        None => alias
            .name
            .id
            .as_str()
            .split('.')
            .next()
            .unwrap_or_default()
            .to_string(),
    }
}

/// The name `from m import x` binds: `x`, or `y` for `from m import x as y`.
pub(super) fn from_import_binding(alias: &ast::Alias) -> String {
    alias.asname.as_ref().unwrap_or(&alias.name).id.to_string()
}
