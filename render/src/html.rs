//! HTML pieces: inline styles that inherit the notebook theme's colours
//! (only translucent tints are set), escaping, and the HTML of the blocks of a
//! [`crate::doc::Doc`] beyond plain notes and tables.

/// The table.
pub(crate) const TABLE: &str = "border-collapse:collapse;margin:4px 0;font-size:12.5px;";
/// A header cell.
pub(crate) const TH: &str =
    "text-align:left;padding:3px 12px 3px 0;font-weight:600;white-space:nowrap;\
     border-bottom:1px solid rgba(128,128,128,0.55);";
/// A body cell.
pub(crate) const TD: &str =
    "text-align:left;padding:2px 12px 2px 0;vertical-align:top;white-space:nowrap;\
     border-bottom:1px solid rgba(128,128,128,0.2);";
/// A body cell of running text, which wraps.
pub(crate) const TD_WRAP: &str =
    "text-align:left;padding:2px 12px 2px 0;vertical-align:top;white-space:normal;\
     min-width:16em;border-bottom:1px solid rgba(128,128,128,0.2);";
/// Right-aligned numbers.
pub(crate) const RIGHT: &str = "text-align:right;font-variant-numeric:tabular-nums;";
/// Missing values.
pub(crate) const MUTED: &str = "opacity:0.55;";
/// Code.
pub(crate) const CODE: &str =
    "font-family:var(--jp-code-font-family,ui-monospace,SFMono-Regular,Menlo,Consolas,monospace);\
     white-space:pre;background:transparent;padding:0;";
/// Output previews.
pub(crate) const OUTPUT: &str =
    "font-family:var(--jp-code-font-family,ui-monospace,SFMono-Regular,Menlo,Consolas,monospace);\
     white-space:pre;opacity:0.8;";

/// Escapes text for HTML content and attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A status word on a tint that means the same in light and dark themes
/// (the text keeps the theme's colour).
pub(crate) fn badge(status: &str) -> String {
    let tint = match status {
        "ok" | "finished" | "passed" | "reproduced" => "rgba(46,160,67,0.22)",
        "error" | "crashed" | "failed" => "rgba(229,83,75,0.25)",
        "running" => "rgba(56,139,253,0.22)",
        "warning" | "differs" => "rgba(210,153,34,0.28)",
        _ => "rgba(128,128,128,0.22)",
    };
    on_tint(tint, status)
}

/// `text` on a rounded tint.
fn on_tint(tint: &str, text: &str) -> String {
    format!(
        "<span style=\"background:{tint};border-radius:3px;padding:0 5px;\">{}</span>",
        esc(text)
    )
}

/// A section's name (`code`, `values`, …), underlined.
pub(crate) fn section(name: &str) -> String {
    format!(
        "<div style=\"font-weight:600;margin:10px 0 2px;border-bottom:1px solid \
         rgba(128,128,128,0.35);\">{}</div>",
        esc(name)
    )
}

/// An entry's heading on a tint that says what happened (`changed`, `added`, `replace`, …),
/// readable in light and dark themes.
pub(crate) fn heading(status: &str, text: &str) -> String {
    let tint = match status {
        "added" | "insert" => "rgba(46,160,67,0.22)",
        "removed" | "delete" => "rgba(229,83,75,0.25)",
        "changed" | "replace" | "warning" => "rgba(210,153,34,0.28)",
        "error" => "rgba(229,83,75,0.25)",
        _ => "rgba(128,128,128,0.18)",
    };
    format!(
        "<div style=\"margin:4px 0 0;\">{}</div>",
        on_tint(tint, text)
    )
}

/// A unified diff as coloured lines: additions and removals on translucent tints.
pub(crate) fn unified_diff(unified: &str) -> String {
    let mut body = String::new();
    for l in unified.lines() {
        let tint = if l.starts_with("+++") || l.starts_with("---") {
            "opacity:0.7;"
        } else if l.starts_with('+') {
            "background:rgba(46,160,67,0.22);"
        } else if l.starts_with('-') {
            "background:rgba(229,83,75,0.22);"
        } else if l.starts_with("@@") {
            "opacity:0.6;"
        } else {
            ""
        };
        // An empty div would collapse; a space keeps the blank line.
        let shown = if l.is_empty() { " ".into() } else { esc(l) };
        body.push_str(&format!("<div style=\"{tint}\">{shown}</div>"));
    }
    format!("<div style=\"{CODE}margin:2px 0 6px 12px;display:block;\">{body}</div>")
}

/// An HTML fragment being built: a `div` in the UI font.
pub(crate) struct Html(String);

impl Html {
    pub(crate) fn new() -> Html {
        Html(String::new())
    }

    pub(crate) fn title(&mut self, text: &str) {
        self.0.push_str(&format!(
            "<div style=\"font-weight:600;margin:2px 0 4px;\">{}</div>",
            esc(text)
        ));
    }

    pub(crate) fn note(&mut self, text: &str) {
        self.0.push_str(&format!(
            "<div style=\"margin:2px 0;opacity:0.8;\">{}</div>",
            esc(text)
        ));
    }

    /// Label/value lines (the facts of a trial).
    pub(crate) fn facts(&mut self, facts: &[(&str, String)]) {
        let mut rows = String::new();
        for (k, v) in facts {
            rows.push_str(&format!(
                "<tr><td style=\"padding:0 12px 0 0;opacity:0.7;vertical-align:top;\">{}</td>\
                 <td style=\"padding:0;\">{}</td></tr>",
                esc(k),
                esc(v)
            ));
        }
        self.0.push_str(&format!(
            "<table style=\"border-collapse:collapse;margin:0 0 8px;\">{rows}</table>"
        ));
    }

    pub(crate) fn raw(&mut self, html: &str) {
        self.0.push_str(html);
    }

    /// The fragment in its frame, which scrolls sideways when a table is wider than the
    /// output (inline styles only: an untrusted notebook's sanitizer drops `<style>`).
    pub(crate) fn finish(self) -> String {
        format!(
            "<div style=\"font-family:var(--jp-ui-font-family,system-ui,-apple-system,'Segoe UI',sans-serif);\
             font-size:13px;line-height:1.45;max-width:100%;overflow-x:auto;\">{}</div>",
            self.0
        )
    }

    /// An error box: a red tint and border, theme text colour.
    pub(crate) fn error(message: &str) -> String {
        let mut h = Html::new();
        h.raw(&format!(
            "<div style=\"border-left:3px solid rgba(229,83,75,0.9);background:rgba(229,83,75,0.12);\
             padding:4px 8px;white-space:pre-wrap;\"><b>error:</b> {}</div>",
            esc(message)
        ));
        h.finish()
    }
}
