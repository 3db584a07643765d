//! IPython's own syntax as text: how a `%%magic` cell's body is treated, the
//! parts of a magic line, and the `{expr}` / `$name` interpolations that
//! shell commands and most magics expand (reads of globals).

use std::borrow::Cow;

/// How a `%%magic` cell's body is treated.
#[derive(Clone, Copy)]
pub(super) enum CellMagic {
    /// The body is Python run in the user namespace (`%%time`, `%%capture`).
    Python,
    /// The body is Python run in a throwaway local scope (`%%timeit`): it
    /// reads and mutates globals but binds none.
    UsesOnly,
    /// The body is not Python (`%%bash`, `%%writefile`, `%%html`, ...).
    Opaque,
}

impl CellMagic {
    /// The treatment of the cell magic called `name`.
    pub(super) fn of(name: &str) -> CellMagic {
        match name {
            "time" | "capture" | "prun" => CellMagic::Python,
            "timeit" => CellMagic::UsesOnly,
            _ => CellMagic::Opaque,
        }
    }
}

/// Splits `time y = f()` into (`time`, `y = f()`).
pub(super) fn split_magic(text: &str) -> (&str, &str) {
    let text = text.trim_start();
    match text.find(char::is_whitespace) {
        Some(i) => (&text[..i], text[i..].trim_start()),
        None => (text, ""),
    }
}

/// Strips `%timeit`'s options (`-n 10 -r3 -q -o ...`) from its statement.
pub(super) fn strip_timeit_options(mut rest: &str) -> &str {
    loop {
        rest = rest.trim_start();
        if !rest.starts_with('-') {
            return rest;
        }
        let (flag, after) = split_magic(rest);
        rest = if matches!(flag, "-n" | "-r" | "-p") {
            split_magic(after).1
        } else {
            after
        };
    }
}

/// The Python code IPython evaluates when it expands `text` (a shell command
/// or a magic's arguments), in order: `$name` (and `$name.attr`) gives
/// `name`, `{expr}` gives `(expr)`; `$$` and `{{` are escapes. An unclosed
/// `{` ends the scan, as IPython leaves the rest alone.
pub(super) fn interpolations(text: &str) -> Vec<Cow<'_, str>> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'$' if bytes.get(i + 1) == Some(&b'$') => i += 2,
            b'$' => {
                let start = i + 1;
                let mut end = start;
                while end < bytes.len()
                    && (bytes[end].is_ascii_alphanumeric()
                        || bytes[end] == b'_'
                        || bytes[end] == b'.')
                {
                    end += 1;
                }
                let name = text[start..end].trim_end_matches('.');
                if name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
                    out.push(Cow::Borrowed(name));
                }
                i = end.max(i + 1);
            }
            b'{' if bytes.get(i + 1) == Some(&b'{') => i += 2,
            b'{' => match closing_brace(bytes, i) {
                Some(j) => {
                    out.push(Cow::Owned(format!("({})", &text[i + 1..j])));
                    i = j + 1;
                }
                None => break,
            },
            _ => i += 1,
        }
    }
    out
}

/// Index of the `}` closing the `{` at `open`, counting nested braces.
fn closing_brace(bytes: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (j, b) in bytes.iter().enumerate().skip(open) {
        match b {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(j);
                }
            }
            _ => {}
        }
    }
    None
}
