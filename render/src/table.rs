//! One table model, printed as aligned text columns or as an HTML table, so
//! both forms always show the same rows.

use crate::html::{self, esc};

/// How a cell is shown.
enum Kind {
    Plain,
    /// Right-aligned (numbers, durations).
    Right,
    /// Greyed out (missing values).
    Muted,
    /// A status word, tinted by its meaning in HTML.
    Status,
    /// A code preview; the full code is the HTML tooltip.
    Code(String),
    /// An output preview.
    Output,
}

/// One cell: its text and how to show it.
pub(crate) struct Cell {
    text: String,
    kind: Kind,
}

impl Cell {
    pub(crate) fn plain(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            kind: Kind::Plain,
        }
    }
    pub(crate) fn number(n: i64) -> Cell {
        Cell::right(n.to_string())
    }
    pub(crate) fn right(text: String) -> Cell {
        Cell {
            text,
            kind: Kind::Right,
        }
    }
    /// The value, or a muted `-` when there is none.
    pub(crate) fn opt(text: Option<&str>) -> Cell {
        match text {
            Some(t) => Cell::plain(t),
            None => Cell {
                text: "-".into(),
                kind: Kind::Muted,
            },
        }
    }
    pub(crate) fn status(text: &str) -> Cell {
        Cell {
            text: text.into(),
            kind: Kind::Status,
        }
    }
    pub(crate) fn code(preview: String, full: &str) -> Cell {
        Cell {
            text: preview,
            kind: Kind::Code(full.to_string()),
        }
    }
    pub(crate) fn output(text: String) -> Cell {
        Cell {
            text,
            kind: Kind::Output,
        }
    }
}

/// Rows under headers.
pub(crate) struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<Cell>>,
}

impl Table {
    pub(crate) fn new(headers: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, row: Vec<Cell>) {
        debug_assert_eq!(row.len(), self.headers.len());
        self.rows.push(row);
    }

    /// Which columns are right-aligned (judged by the first row).
    fn right_aligned(&self) -> Vec<bool> {
        let first = self.rows.first();
        (0..self.headers.len())
            .map(|i| first.is_some_and(|r| matches!(r[i].kind, Kind::Right)))
            .collect()
    }

    /// Columns padded to their widest cell, two spaces apart, no trailing
    /// blanks; a line per row, headers first.
    pub(crate) fn text(&self) -> String {
        let width = |s: &str| s.chars().count();
        let mut widths: Vec<usize> = self.headers.iter().map(|h| width(h)).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(width(&cell.text));
            }
        }
        let right = self.right_aligned();
        let mut out = String::new();
        let mut line = |cells: Vec<&str>| {
            let mut l = String::new();
            for (i, text) in cells.into_iter().enumerate() {
                if i > 0 {
                    l.push_str("  ");
                }
                let pad = widths[i].saturating_sub(width(text));
                if right[i] {
                    l.extend(std::iter::repeat_n(' ', pad));
                    l.push_str(text);
                } else {
                    l.push_str(text);
                    l.extend(std::iter::repeat_n(' ', pad));
                }
            }
            out.push_str(l.trim_end());
            out.push('\n');
        };
        line(self.headers.iter().map(String::as_str).collect());
        for row in &self.rows {
            line(row.iter().map(|c| c.text.as_str()).collect());
        }
        out
    }

    /// An HTML table with inline styles.
    pub(crate) fn html(&self) -> String {
        let mut out = format!("<table style=\"{}\"><thead><tr>", html::TABLE);
        let right = self.right_aligned();
        for (h, r) in self.headers.iter().zip(&right) {
            let align = if *r { "text-align:right;" } else { "" };
            out.push_str(&format!(
                "<th style=\"{}{align}\">{}</th>",
                html::TH,
                esc(h)
            ));
        }
        out.push_str("</tr></thead><tbody>");
        for row in &self.rows {
            out.push_str("<tr>");
            for cell in row {
                out.push_str(&cell_html(cell));
            }
            out.push_str("</tr>");
        }
        out.push_str("</tbody></table>");
        out
    }
}

fn cell_html(cell: &Cell) -> String {
    let text = esc(&cell.text);
    match &cell.kind {
        Kind::Plain => format!("<td style=\"{}\">{text}</td>", html::TD),
        Kind::Right => format!("<td style=\"{}{}\">{text}</td>", html::TD, html::RIGHT),
        Kind::Muted => format!("<td style=\"{}{}\">{text}</td>", html::TD, html::MUTED),
        Kind::Status => format!(
            "<td style=\"{}\">{}</td>",
            html::TD,
            html::badge(&cell.text)
        ),
        Kind::Code(full) => {
            let tip: String = full.chars().take(2000).collect();
            format!(
                "<td style=\"{}\"><code style=\"{}\" title=\"{}\">{text}</code></td>",
                html::TD,
                html::CODE,
                esc(&tip)
            )
        }
        Kind::Output => format!("<td style=\"{}{}\">{text}</td>", html::TD, html::OUTPUT),
    }
}
