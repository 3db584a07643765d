//! [`Walker`] over expressions: reads, calls, lambdas, comprehensions,
//! assignment and deletion targets, `match` patterns.

use ruff_python_ast::visitor;
use ruff_python_ast::{self as ast, Arguments, Expr, Pattern};

use super::calls::dotted;
use super::statements::param_names;
use super::{MutKind, Walker};
use crate::analyze::bindings::target_names;
use crate::analyze::chain::{chain, Chain};
use crate::analyze::known_names::is_mutating_call;
use crate::analyze::scope::{Scope, ScopeKind};
use crate::facts::CallableKind;
use crate::symbol::{Key, PathPart, Symbol};

impl Walker {
    /// A lambda's defaults are read now, its body at call time; a
    /// module-level `f = lambda ...` gets facts of its own, as a `def` does.
    pub(super) fn lambda(&mut self, l: &ast::ExprLambda, named: Option<&str>) {
        let mut scope = Scope::new(ScopeKind::Lambda);
        if let Some(parameters) = &l.parameters {
            for p in parameters.iter_non_variadic_params() {
                if let Some(default) = &p.default {
                    self.load(default);
                }
            }
            for p in parameters.iter() {
                scope.locals.insert(p.name().id.to_string());
            }
        }
        let saved_owner = self.owner;
        if let Some(name) = named {
            let id = self.accs.open(name, CallableKind::Lambda);
            if let Some(parameters) = &l.parameters {
                self.accs.get_mut(id).params = param_names(parameters);
            }
            self.owner = Some(id);
        }
        self.in_callable_scope(scope, named.is_some(), saved_owner, |w| w.load(&l.body));
    }

    /// Comprehension rule: a comprehension is a scope of its own whose
    /// first iterable is evaluated outside it: in `[y * k for y in ys]`
    /// `ys` and `k` are reads, `y` is local; `x` in `[x for _ in r]` in a
    /// class body skips the class (see `scope.rs`).
    fn comprehension(&mut self, generators: &[ast::Comprehension], elts: &[&Expr]) {
        let Some(first) = generators.first() else {
            elts.iter().for_each(|e| self.load(e));
            return;
        };
        self.load(&first.iter);
        let mut scope = Scope::new(ScopeKind::Comprehension);
        for g in generators {
            target_names(&g.target, &mut scope.locals);
        }
        self.scopes.push(scope);
        for (i, g) in generators.iter().enumerate() {
            if i > 0 {
                self.load(&g.iter);
            }
            self.store(&g.target);
            g.ifs.iter().for_each(|e| self.load(e));
        }
        elts.iter().for_each(|e| self.load(e));
        self.scopes.pop();
    }

    pub(super) fn pattern(&mut self, pattern: &Pattern) {
        match pattern {
            Pattern::MatchValue(v) => self.load(&v.value),
            Pattern::MatchSingleton(_) => {}
            Pattern::MatchSequence(s) => s.patterns.iter().for_each(|p| self.pattern(p)),
            Pattern::MatchMapping(m) => {
                m.keys.iter().for_each(|k| self.load(k));
                m.patterns.iter().for_each(|p| self.pattern(p));
                if let Some(rest) = &m.rest {
                    self.store_name(rest.id.as_str());
                }
            }
            Pattern::MatchClass(c) => {
                self.load(&c.cls);
                c.arguments.patterns.iter().for_each(|p| self.pattern(p));
                c.arguments
                    .keywords
                    .iter()
                    .for_each(|k| self.pattern(&k.pattern));
            }
            Pattern::MatchStar(s) => {
                if let Some(name) = &s.name {
                    self.store_name(name.id.as_str());
                }
            }
            Pattern::MatchAs(a) => {
                if let Some(p) = &a.pattern {
                    self.pattern(p);
                }
                if let Some(name) = &a.name {
                    self.store_name(name.id.as_str());
                }
            }
            Pattern::MatchOr(o) => o.patterns.iter().for_each(|p| self.pattern(p)),
        }
    }

    // ---- targets -----------------------------------------------------------

    pub(super) fn store(&mut self, target: &Expr) {
        match target {
            Expr::Name(n) => self.store_name(n.id.as_str()),
            Expr::Tuple(t) => t.elts.iter().for_each(|e| self.store(e)),
            Expr::List(l) => l.elts.iter().for_each(|e| self.store(e)),
            Expr::Starred(s) => self.store(&s.value),
            Expr::Attribute(_) | Expr::Subscript(_) => {
                let c = chain(target);
                self.chain_root(&c);
                if let Some(symbol) = c.symbol.clone() {
                    // A store through a non-literal key (`d[k] = v`) or a view
                    // (`df.loc[i] = v`) changes only part of what the symbol
                    // covers: the rest of the old value lives on.
                    let kind = if c.exact {
                        MutKind::Store
                    } else {
                        MutKind::InPlace
                    };
                    self.mutate(symbol, kind);
                }
                self.chain_keys(&c);
            }
            other => self.load(other),
        }
    }

    pub(super) fn delete_target(&mut self, target: &Expr) {
        match target {
            Expr::Name(n) => self.delete_name(n.id.as_str()),
            Expr::Tuple(t) => t.elts.iter().for_each(|e| self.delete_target(e)),
            Expr::List(l) => l.elts.iter().for_each(|e| self.delete_target(e)),
            Expr::Attribute(_) | Expr::Subscript(_) => {
                let c = chain(target);
                self.chain_root(&c);
                if let Some(mut symbol) = c.symbol.clone() {
                    let mut kind = if c.exact {
                        MutKind::Store
                    } else {
                        MutKind::InPlace
                    };
                    // `del lst[0]` shifts every later element: it changes the
                    // whole sequence, not one key.
                    if c.ends_in_int_key
                        && matches!(symbol.path.last(), Some(PathPart::Key(Key::Int(_))))
                    {
                        symbol.path.pop();
                        kind = MutKind::InPlace;
                    }
                    self.mutate(symbol, kind);
                }
                self.chain_keys(&c);
            }
            other => self.load(other),
        }
    }

    pub(super) fn aug_target(&mut self, target: &Expr) {
        match target {
            Expr::Name(n) => {
                if self.innermost() == ScopeKind::Module {
                    self.mutate(Symbol::name(n.id.as_str()), MutKind::InPlace);
                } else {
                    self.use_symbol(Symbol::name(n.id.as_str()));
                    self.store_name(n.id.as_str());
                }
            }
            Expr::Attribute(_) | Expr::Subscript(_) => {
                let c = chain(target);
                self.chain_root(&c);
                if let Some(symbol) = c.symbol.clone() {
                    self.mutate(symbol, MutKind::InPlace);
                }
                self.chain_keys(&c);
            }
            other => self.load(other),
        }
    }

    /// Evaluates where a chain starts when it does not start at a name
    /// (`f(x).attr`): before its symbol, as Python does.
    fn chain_root(&mut self, c: &Chain<'_>) {
        if let Some(root) = c.root {
            self.load(root);
        }
    }

    /// Evaluates a chain's non-literal keys (`k` in `d[k]`): after its symbol.
    fn chain_keys(&mut self, c: &Chain<'_>) {
        for e in &c.leftovers {
            self.load(e);
        }
    }

    // ---- expressions -------------------------------------------------------

    pub(super) fn load(&mut self, expr: &Expr) {
        match expr {
            Expr::Name(n) => self.use_name(n.id.as_str()),
            Expr::Attribute(_) | Expr::Subscript(_) => {
                let c = chain(expr);
                self.chain_root(&c);
                if let Some(symbol) = c.symbol.clone() {
                    self.use_symbol(symbol);
                }
                self.chain_keys(&c);
            }
            Expr::Call(call) => self.call(call),
            Expr::Named(n) => {
                self.load(&n.value);
                self.walrus_target(&n.target);
            }
            Expr::Lambda(l) => self.lambda(l, None),
            Expr::ListComp(c) => self.comprehension(&c.generators, &[&c.elt]),
            Expr::SetComp(c) => self.comprehension(&c.generators, &[&c.elt]),
            Expr::Generator(c) => self.comprehension(&c.generators, &[&c.elt]),
            Expr::DictComp(c) => match &c.key {
                Some(key) => self.comprehension(&c.generators, &[key, &c.value]),
                None => self.comprehension(&c.generators, &[&c.value]),
            },
            Expr::IpyEscapeCommand(c) => self.escape(c.range, c.kind, &c.value, false),
            _ => visitor::walk_expr(self, expr),
        }
    }

    pub(super) fn arguments(&mut self, arguments: &Arguments) {
        arguments.args.iter().for_each(|a| self.load(a));
        arguments.keywords.iter().for_each(|k| self.load(&k.value));
    }

    fn call(&mut self, call: &ast::ExprCall) {
        let for_effect = std::mem::take(&mut self.effect_call);
        match &*call.func {
            Expr::Name(n) => {
                self.use_name(n.id.as_str());
                self.call_name(n.id.as_str());
            }
            Expr::Attribute(a) => {
                let c = chain(&a.value);
                self.chain_root(&c);
                if let Some(receiver) = c.symbol.clone() {
                    if is_mutating_call(a.attr.id.as_str(), &call.arguments) {
                        self.mutate(receiver, MutKind::Call);
                    } else {
                        self.use_symbol(receiver);
                    }
                }
                self.chain_keys(&c);
            }
            other => self.load(other),
        }
        self.arguments(&call.arguments);
        let callee = dotted(&call.func);
        if let Some(callee) = &callee {
            self.hidden_state(callee);
            self.evaluated_strings(callee, &call.arguments);
        }
        self.arg_call(callee, call, for_effect);
    }
}
