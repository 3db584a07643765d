//! Making long things short for tables: code and output previews, times,
//! durations.

use std::borrow::Cow;

use provstore::ExecutionDetail;

/// The first non-blank line of `s`, at most `max` characters, with `…`
/// where something was cut (the line, or the lines after it). Tabs become
/// spaces and control characters (ANSI colours included) are dropped, so a
/// preview never breaks a table.
pub(crate) fn preview(s: &str, max: usize) -> String {
    let mut lines = s.lines().filter(|l| !strip_ansi(l).trim().is_empty());
    let Some(first) = lines.next() else {
        return String::new();
    };
    let more = lines.next().is_some();
    let line: String = strip_ansi(first.trim_end())
        .replace('\t', "    ")
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    let n = line.chars().count();
    if n > max {
        let mut cut: String = line.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    } else if more {
        let mut cut: String = line.chars().take(max.saturating_sub(2)).collect();
        cut.push_str(" …");
        cut
    } else {
        line
    }
}

/// `s` without ANSI escape sequences (`ESC [ … letter`), which tracebacks
/// and coloured output are full of.
pub(crate) fn strip_ansi(s: &str) -> Cow<'_, str> {
    if !s.contains('\u{1b}') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() || c == '~' {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    Cow::Owned(out)
}

/// What an execution showed, in one short line: its exception, else the
/// first text it printed or returned, else the kinds of output it made
/// (`[image/png]`), else nothing.
pub(crate) fn first_output(e: &ExecutionDetail, max: usize) -> String {
    if let Some(err) = &e.error {
        return preview(&format!("{}: {}", err.ename, err.evalue), max);
    }
    if let Some(text) = e
        .outputs
        .iter()
        .filter_map(|o| o.text.as_deref())
        .find(|t| !strip_ansi(t).trim().is_empty())
    {
        return preview(text, max);
    }
    let kinds: Vec<String> = e
        .outputs
        .iter()
        .filter_map(|o| {
            let mime = o.mime_types.iter().find(|m| *m != "text/plain")?;
            Some(format!("[{mime}]"))
        })
        .collect();
    preview(&kinds.join(" "), max)
}

/// `2026-11-21T16:30:02.630Z` as `2026-11-21 16:30:02` (the tables say
/// the times are UTC); anything else unchanged.
pub(crate) fn when(ts: &str) -> String {
    match (ts.get(..10), ts.get(11..19)) {
        (Some(day), Some(time)) if ts.as_bytes().get(10) == Some(&b'T') => format!("{day} {time}"),
        _ => ts.to_string(),
    }
}

/// A duration for people: `12 ms`, `3.4 s`, `2 min 05 s`, `1 h 02 min`.
pub(crate) fn duration(ms: i64) -> String {
    let ms = ms.max(0);
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else if ms < 3_600_000 {
        format!("{} min {:02} s", ms / 60_000, ms % 60_000 / 1000)
    } else {
        format!("{} h {:02} min", ms / 3_600_000, ms % 3_600_000 / 60_000)
    }
}

/// `In [3]`, or `In [ ]` for an execution without a count.
pub(crate) fn in_label(count: Option<i64>) -> String {
    match count {
        Some(n) => format!("In [{n}]"),
        None => "In [ ]".into(),
    }
}
