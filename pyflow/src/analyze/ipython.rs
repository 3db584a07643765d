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

/// Whether IPython reads the line starting at byte `line_start` of `code` as an escape command
/// (`%magic`, `!cmd`) when it starts with one: true unless the code before it leaves the line
/// inside a string, brackets or a backslash continuation (`"""\n%trials\n"""` is text). Asked
/// of the IPython-mode lexer: the code before the line, then a probe escape, is lexed, and the
/// probe must come out as an escape token. A cell the lexer cannot read keeps the plain answer
/// (true), as before this check.
pub fn starts_escape_line(code: &str, line_start: usize) -> bool {
    use ruff_python_ast::token::TokenKind;
    use ruff_python_parser::{lexer, Mode};
    let Some(before) = code.get(..line_start) else {
        return false;
    };
    if before.len() >= (u32::MAX as usize) / 2 {
        return true;
    }
    let probe = format!("{before}%prov_escape_probe\n");
    std::panic::catch_unwind(|| {
        let mut lexer = lexer::lex(&probe, Mode::Ipython);
        let mut last = TokenKind::EndOfFile;
        loop {
            match lexer.next_token() {
                TokenKind::EndOfFile => return last == TokenKind::IpyEscapeCommand,
                TokenKind::Newline
                | TokenKind::NonLogicalNewline
                | TokenKind::Indent
                | TokenKind::Dedent
                | TokenKind::Comment => {}
                kind => last = kind,
            }
        }
    })
    .unwrap_or(true)
}

#[cfg(test)]
mod escape_tests {
    use super::starts_escape_line;

    /// The magic lines of `code` IPython would see, by their text.
    fn seen(code: &str) -> Vec<&str> {
        let mut start = 0;
        let mut lines = Vec::new();
        for line in code.split_inclusive('\n') {
            if line.starts_with('%') && starts_escape_line(code, start) {
                lines.push(line.trim_end());
            }
            start += line.len();
        }
        lines
    }

    #[test]
    fn only_lines_ipython_reads_as_escapes() {
        let none: Vec<&str> = Vec::new();
        assert_eq!(seen("%trials\nx = 1\n%tags"), ["%trials", "%tags"]);
        assert_eq!(seen("x = \"\"\"\n%trials\n\"\"\"\n%tags"), ["%tags"]);
        assert_eq!(seen("s = '''\n%trials'''"), none);
        assert_eq!(seen("y = (1,\n%trials)\n"), none);
        assert_eq!(seen("y = 1 + \\\n%trials\n"), none);
        assert_eq!(seen("if x:\n    pass\n%trials\n"), ["%trials"]);
        assert_eq!(seen("# a comment\n%trials"), ["%trials"]);
        assert!(!starts_escape_line("ab", 5), "past the end");
    }
}
