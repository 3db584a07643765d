//! Finding prov's magic lines in a cell. A line at column 0 naming one of prov's magics, where
//! IPython would read a magic (pyflow's IPython-mode lexer says so: not inside a string, brackets
//! or a continued line), is taken out of the code, left as a comment: line numbers in tracebacks still match the cell, the
//! history reads sensibly, and a cell of only magics is still a cell to IPython (a blank one
//! would not get an execution count of its own).
//!
//! Only the lines are found here; their arguments stay text until the magic runs, when
//! `args.rs` splits them as shell words and parses them with the magic's clap definition.

/// One prov magic line found in a cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MagicCall {
    /// The name as typed, without `%` (may be an alias).
    pub name: String,
    /// The arguments as typed after the name (`args.rs` splits them as shell words).
    pub args: String,
    /// The whole line as typed, for error messages.
    pub line: String,
}

/// A cell with its prov magic lines taken out.
#[derive(Debug, PartialEq, Eq)]
pub struct SplitCell {
    /// The code to forward to ipykernel: magic lines turned into comments.
    pub code: String,
    pub calls: Vec<MagicCall>,
}

/// Takes prov magic lines out of `code`. `None` when the cell has none (the common case, which
/// must stay cheap), or when it is an IPython cell magic (`%%…`) whose body is not Python.
pub fn split_cell(code: &str, is_prov_magic: impl Fn(&str) -> bool) -> Option<SplitCell> {
    if !code.contains('%') || code.trim_start().starts_with("%%") {
        return None;
    }
    let mut calls = Vec::new();
    let mut kept = Vec::new();
    let mut start = 0;
    for line in code.split('\n') {
        let at = start;
        start += line.len() + 1;
        let call = magic_line(line)
            .filter(|call| is_prov_magic(&call.name))
            // Only where IPython would see a magic: not inside a string or brackets.
            .filter(|_| pyflow::starts_escape_line(code, at));
        match call {
            Some(call) => {
                calls.push(call);
                kept.push(format!("# {line}"));
            }
            None => kept.push(line.to_string()),
        }
    }
    (!calls.is_empty()).then(|| SplitCell {
        code: kept.join("\n"),
        calls,
    })
}

/// Reads `%name args…` at column 0.
fn magic_line(line: &str) -> Option<MagicCall> {
    let rest = line.strip_prefix('%')?;
    if rest.starts_with('%') {
        return None;
    }
    let trimmed = rest.trim_end_matches(['\r', ' ', '\t']);
    let name_end = trimmed
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(trimmed.len());
    let name = &trimmed[..name_end];
    if name.is_empty() {
        return None;
    }
    let tail = &trimmed[name_end..];
    if !tail.is_empty() && !tail.starts_with([' ', '\t']) {
        return None; // `%name?` or `%name(…)` is not a plain magic call
    }
    Some(MagicCall {
        name: name.to_string(),
        args: tail.to_string(),
        line: line.trim_end().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_inside_strings_and_brackets_is_never_touched() {
        let code = "doc = \"\"\"\n%trials\n\"\"\"\npair = (1,\n%tags)\n%trials";
        let split = split_cell(code, ours).expect("the last line is a magic");
        assert_eq!(split.calls.len(), 1);
        assert_eq!(
            split.code,
            "doc = \"\"\"\n%trials\n\"\"\"\npair = (1,\n%tags)\n# %trials"
        );
        assert_eq!(split_cell("s = '''\n%trials\n'''", ours), None);
    }

    fn ours(name: &str) -> bool {
        matches!(name, "trials" | "trial_name" | "prov")
    }

    #[test]
    fn magic_lines_become_comments_and_the_rest_is_kept() {
        let split = split_cell("x = 1\n%trials\n%matplotlib inline\nprint(x)", ours).unwrap();
        assert_eq!(split.code, "x = 1\n# %trials\n%matplotlib inline\nprint(x)");
        assert_eq!(split.calls.len(), 1);
        assert_eq!(split.calls[0].name, "trials");
    }

    #[test]
    fn arguments_are_kept_as_typed() {
        let split = split_cell("%trial_name \"lr 0.1\" extra\r\n%trials 'open", ours).unwrap();
        assert_eq!(split.calls[0].args, " \"lr 0.1\" extra");
        assert_eq!(
            split.calls[1].args, " 'open",
            "an unclosed quote is the magic's error"
        );
    }

    #[test]
    fn cells_without_prov_magics_are_left_alone() {
        assert_eq!(split_cell("x = 1", ours), None);
        assert_eq!(split_cell("%timeit x = 1", ours), None);
        assert_eq!(split_cell("  %trials", ours), None, "not at column 0");
        assert_eq!(split_cell("%%bash\n%trials", ours), None, "cell magic body");
        assert_eq!(
            split_cell("%trials?", ours),
            None,
            "help request goes to IPython"
        );
        assert_eq!(split_cell("s = '%d' % 3", ours), None);
    }
}
