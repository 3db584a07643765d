//! [`Walker`] over IPython's escapes: `%time` and `%timeit` statements are
//! analysed as code, `!shell` and other magics for what they interpolate,
//! autocall (`/f a`, `,f a`) as the call it stands for.

use ruff_python_ast::{IpyEscapeKind, Mod};
use ruff_python_parser::parse_unchecked;
use ruff_text_size::TextRange;

use super::Walker;
use crate::analyze::guards::{parse_options, prescan, MAX_SUB_DEPTH};
use crate::analyze::ipython::{interpolations, split_magic, strip_timeit_options};

impl Walker {
    pub(super) fn escape(
        &mut self,
        range: TextRange,
        kind: IpyEscapeKind,
        value: &str,
        statement: bool,
    ) {
        self.escapes.push(range);
        match kind {
            IpyEscapeKind::Magic | IpyEscapeKind::Magic2 => {
                let (name, rest) = split_magic(value);
                match name {
                    "time" => self.sub_code(rest, statement),
                    "timeit" => self.sub_code(strip_timeit_options(rest), false),
                    _ => {
                        if self.owner.is_none() {
                            self.st.dynamic = true;
                        }
                        self.interpolations(rest);
                    }
                }
            }
            IpyEscapeKind::Shell | IpyEscapeKind::ShCap => self.interpolations(value),
            IpyEscapeKind::Help | IpyEscapeKind::Help2 => {}
            IpyEscapeKind::Paren => {
                // `/f a, b` is `f(a, b)`.
                let (name, rest) = split_magic(value);
                self.sub_code(&format!("{name}({rest})"), false);
            }
            IpyEscapeKind::Quote | IpyEscapeKind::Quote2 => {
                // `,f a b` is `f("a", "b")`: only `f` is code.
                let (name, _) = split_magic(value);
                self.sub_code(&format!("{name}()"), false);
            }
        }
    }

    /// Analyses `code` found inside an escape (`%time` statement, `{expr}`
    /// interpolation) as part of the current statement. With `binds` false
    /// its bindings stay local (`%timeit` runs in a throwaway scope).
    fn sub_code(&mut self, code: &str, binds: bool) {
        // The cell's pre-scan saw an escape as one token: bound this code
        // too, and keep it shallow since it may be parsed on a small stack.
        let shallow = prescan(code).is_ok_and(|n| n.is_shallow());
        if code.trim().is_empty() || self.sub_depth >= MAX_SUB_DEPTH || !shallow {
            return;
        }
        let parsed = parse_unchecked(code, parse_options());
        if !parsed.errors().is_empty() {
            return;
        }
        let Mod::Module(module) = parsed.syntax() else {
            return;
        };
        let escapes = self.escapes.len();
        self.sub_depth += 1;
        if !binds {
            self.no_bind += 1;
        }
        self.body(&module.body);
        if !binds {
            self.no_bind -= 1;
        }
        self.sub_depth -= 1;
        // Offsets inside `code` are not offsets in the cell.
        self.escapes.truncate(escapes);
    }

    /// IPython expands `{expr}` and `$name` in shell commands and most line
    /// magics; those are reads of globals.
    pub(in crate::analyze) fn interpolations(&mut self, text: &str) {
        for code in interpolations(text) {
            self.sub_code(&code, false);
        }
    }
}
