//! [`Walker`] over what a call does beyond reading its callee and
//! arguments (issue 12): the arguments it may change ([`ArgCall`]), the
//! global random generators it seeds or draws from, the `@names` of a string
//! pandas evaluates; and which bindings hold values no call can change.

use ruff_python_ast::{self as ast, Expr};

use super::{MutKind, Walker};
use crate::analyze::chain::chain;
use crate::analyze::known_calls::{
    at_names, call_effect, random_use, CallEffect, RandomUse, SCALAR_FUNCTIONS,
};
use crate::analyze::scope::Resolution;
use crate::facts::ArgCall;
use crate::symbol::Symbol;

/// The callee as dotted text (`train`, `np.random.shuffle`), when it is a
/// name or a chain of attributes on a name.
pub(super) fn dotted(func: &Expr) -> Option<String> {
    match func {
        Expr::Name(n) => Some(n.id.to_string()),
        Expr::Attribute(a) => {
            let mut text = dotted(&a.value)?;
            text.push('.');
            text.push_str(a.attr.id.as_str());
            Some(text)
        }
        _ => None,
    }
}

/// Values that cannot change in place: literals of immutable types, tuples
/// of them, and results of [`SCALAR_FUNCTIONS`].
pub(super) fn is_immutable_value(expr: &Expr) -> bool {
    match expr {
        Expr::NumberLiteral(_)
        | Expr::StringLiteral(_)
        | Expr::BytesLiteral(_)
        | Expr::BooleanLiteral(_)
        | Expr::NoneLiteral(_)
        | Expr::FString(_) => true,
        Expr::UnaryOp(u) => matches!(&*u.operand, Expr::NumberLiteral(_)),
        Expr::Tuple(t) => t.elts.iter().all(is_immutable_value),
        Expr::Call(c) => {
            matches!(&*c.func, Expr::Name(n) if SCALAR_FUNCTIONS.contains(&n.id.as_str()))
        }
        _ => false,
    }
}

impl Walker {
    /// `random.seed(0)` writes the hidden state of the global generator,
    /// `random.random()` reads and advances it.
    pub(super) fn hidden_state(&mut self, callee: &str) {
        match random_use(callee) {
            Some(RandomUse::Seeds(state)) => self.mutate(Symbol::name(state), MutKind::Store),
            Some(RandomUse::Draws(state)) => self.mutate(Symbol::name(state), MutKind::InPlace),
            None => {}
        }
    }

    /// `df.query("a > @cutoff")`, `df.eval(...)`, `pd.eval(...)`: the `@names`
    /// of a literal string are reads.
    pub(super) fn evaluated_strings(&mut self, callee: &str, arguments: &ast::Arguments) {
        if !(callee.ends_with(".query") || callee.ends_with(".eval")) {
            return;
        }
        let Some(Expr::StringLiteral(s)) = arguments.args.first() else {
            return;
        };
        let text = s.value.to_str();
        if !text.contains('@') {
            return;
        }
        for name in at_names(text) {
            self.use_name(name);
        }
    }

    /// Records a call passing named values on, unless its callee is known to
    /// only read them (see [`ArgCall`]). A callee on no list is assumed to
    /// change its arguments only when called for its effect (`clean(df)`,
    /// its result dropped): one whose result is used (`model = fit(C, X)`)
    /// is taken to compute it, leaving what it is given alone.
    pub(super) fn arg_call(
        &mut self,
        callee: Option<String>,
        call: &ast::ExprCall,
        for_effect: bool,
    ) {
        let arguments = &call.arguments;
        if arguments.args.is_empty() && arguments.keywords.is_empty() {
            return;
        }
        let mut changes = Vec::new();
        for k in &arguments.keywords {
            if k.arg.as_ref().is_some_and(|a| a.id.as_str() == "out") {
                changes.extend(self.passed(&k.value));
            }
        }
        let effect = match &callee {
            // A notebook function is looked into whatever happens to its result.
            Some(c) => match call_effect(c) {
                CallEffect::Unknown if !for_effect && c.contains('.') => CallEffect::Reads,
                effect => effect,
            },
            // `rows[0].append(x)`, `f(x)(y)`: a method of data, or the result
            // of a call: not a notebook function, treated as reading.
            None => CallEffect::Reads,
        };
        if effect == CallEffect::Reads && changes.is_empty() {
            return;
        }
        let mut args = Vec::new();
        for a in &arguments.args {
            if matches!(a, Expr::Starred(_)) {
                break;
            }
            args.push(self.passed(a));
        }
        let keywords: Vec<(String, Symbol)> = arguments
            .keywords
            .iter()
            .filter_map(|k| Some((k.arg.as_ref()?.id.to_string(), self.passed(&k.value)?)))
            .collect();
        if effect == CallEffect::ChangesFirst {
            changes.extend(args.first().cloned().flatten());
        }
        // A bare name may be a notebook function (the engine looks into its
        // body); else, with its result used, it only reads.
        let unknown = effect == CallEffect::Unknown;
        if changes.is_empty() && args.iter().all(Option::is_none) && keywords.is_empty() {
            return;
        }
        let record = ArgCall {
            callee: callee.unwrap_or_default(),
            args: if unknown { args } else { Vec::new() },
            keywords: if unknown { keywords } else { Vec::new() },
            changes,
            unknown,
            for_effect: unknown && for_effect,
        };
        self.effects().arg_calls.push(record);
    }

    /// The symbol an argument passes on, when it is a global (or a
    /// parameter of the function whose facts are collected).
    fn passed(&self, expr: &Expr) -> Option<Symbol> {
        let symbol = match expr {
            Expr::Name(n) => Symbol::name(n.id.as_str()),
            Expr::Attribute(_) | Expr::Subscript(_) => {
                let c = chain(expr);
                if !c.exact || c.root.is_some() {
                    return None;
                }
                c.symbol?
            }
            _ => return None,
        };
        match self.resolve(&symbol.base) {
            Resolution::Global { .. } => Some(symbol),
            Resolution::Local => self.is_owner_param(&symbol.base).then_some(symbol),
        }
    }
}
