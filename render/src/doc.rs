//! A small document model for answers whose text and HTML show the same things: a renderer
//! builds its blocks once ([`Doc`]) and they are written as `text/plain` and as `text/html`
//! from that one list, so the two forms cannot drift apart.

use provstore::Figure;
use serde_json::Value;

use crate::html::{self, Html};
use crate::rendered::Rendered;
use crate::table::Table;

/// One thing shown. `depth` is how far a block sits under a section in text (two spaces a
/// level); HTML shows nesting by the blocks' own margins.
pub(crate) enum Block {
    /// The answer's first line, in bold in HTML.
    Title(String),
    /// A section's name (`code`, `values`, …): after a blank line in text, underlined in HTML.
    Section(String),
    /// A sentence.
    Note { depth: usize, text: String },
    /// A table; in text its columns are indented by `depth`.
    Table { depth: usize, table: Table },
    /// An entry's heading (`replace In[2] → In[3]`), one level deep, on a tint that says what
    /// happened (`status`: `changed`, `insert`, …) in HTML.
    Heading { status: String, text: String },
    /// A unified diff, two levels deep; coloured lines in HTML.
    Diff(String),
    /// Two sides' figures under their column names, side by side; HTML only (text cannot show
    /// a picture, and a note says they differ).
    Pictures {
        columns: [String; 2],
        figures: [Vec<Figure>; 2],
    },
    /// A blank line in text; nothing in HTML (blocks have their margins).
    Gap,
}

/// The blocks of one answer, in order.
#[derive(Default)]
pub(crate) struct Doc(Vec<Block>);

impl Doc {
    pub(crate) fn new() -> Doc {
        Doc::default()
    }

    pub(crate) fn push(&mut self, block: Block) {
        self.0.push(block);
    }

    pub(crate) fn title(&mut self, text: impl Into<String>) {
        self.push(Block::Title(text.into()));
    }

    pub(crate) fn section(&mut self, name: &str) {
        self.push(Block::Section(name.into()));
    }

    pub(crate) fn note(&mut self, depth: usize, text: impl Into<String>) {
        self.push(Block::Note {
            depth,
            text: text.into(),
        });
    }

    pub(crate) fn table(&mut self, depth: usize, table: Table) {
        self.push(Block::Table { depth, table });
    }

    /// The document as plain text: a line per title, section, note and heading, tables as
    /// aligned columns, each indented by its depth.
    pub(crate) fn text(&self) -> String {
        let mut out = String::new();
        for block in &self.0 {
            match block {
                Block::Title(t) => line(&mut out, "", t),
                Block::Section(name) => {
                    out.push('\n');
                    line(&mut out, "", name);
                }
                Block::Note { depth, text } => line(&mut out, &pad(*depth), text),
                Block::Table { depth, table } => indent(&mut out, &table.text(), &pad(*depth)),
                Block::Heading { text, .. } => line(&mut out, &pad(1), text),
                Block::Diff(unified) => indent(&mut out, unified, &pad(2)),
                Block::Pictures { .. } => {}
                Block::Gap => out.push('\n'),
            }
        }
        out
    }

    /// The document as an HTML fragment in its frame (see [`Html::finish`]).
    pub(crate) fn html(&self) -> String {
        let mut h = Html::new();
        for block in &self.0 {
            match block {
                Block::Title(t) => h.title(t),
                Block::Section(name) => h.raw(&html::section(name)),
                Block::Note { text, .. } => h.note(text),
                Block::Table { table, .. } => h.raw(&table.html()),
                Block::Heading { status, text } => h.raw(&html::heading(status, text)),
                Block::Diff(unified) => h.raw(&html::unified_diff(unified)),
                Block::Pictures { columns, figures } => {
                    h.raw(&crate::pictures::side_by_side(columns, figures))
                }
                Block::Gap => {}
            }
        }
        h.finish()
    }

    /// The answer: this document as text and HTML, with `json` as its data and no picture.
    pub(crate) fn rendered(&self, json: Value) -> Rendered {
        Rendered {
            text: self.text(),
            html: self.html(),
            json,
            svg: None,
        }
    }
}

/// Two spaces per level.
fn pad(depth: usize) -> String {
    "  ".repeat(depth)
}

fn line(out: &mut String, pad: &str, text: &str) {
    out.push_str(pad);
    out.push_str(text);
    out.push('\n');
}

/// Every line of `s` indented by `pad` (blank lines stay blank), each ending with a newline.
fn indent(out: &mut String, s: &str, pad: &str) {
    for l in s.lines() {
        if !l.is_empty() {
            out.push_str(pad);
            out.push_str(l);
        }
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::Cell;

    #[test]
    fn text_indents_each_block_by_its_depth() {
        let mut table = Table::new(&["name", "n"]);
        table.push(vec![Cell::plain("a"), Cell::number(12)]);
        let mut doc = Doc::new();
        doc.title("Title");
        doc.section("values");
        doc.table(1, table);
        doc.push(Block::Heading {
            status: "changed".into(),
            text: "changed In[1] → In[2]".into(),
        });
        doc.push(Block::Diff("--- a\n+++ b\n\n-x\n+y\n".into()));
        doc.note(2, "a note");
        doc.push(Block::Gap);
        doc.note(0, "last");
        assert_eq!(
            doc.text(),
            "Title\n\nvalues\n  name   n\n  a     12\n  changed In[1] → In[2]\n    --- a\n    \
             +++ b\n\n    -x\n    +y\n    a note\n\nlast\n"
        );
    }

    #[test]
    fn html_escapes_every_block_and_shows_pictures_only_there() {
        let mut doc = Doc::new();
        doc.title("<t>");
        doc.section("<s>");
        doc.note(1, "<n>");
        doc.push(Block::Heading {
            status: "insert".into(),
            text: "<h>".into(),
        });
        doc.push(Block::Diff("+<d>\n".into()));
        doc.push(Block::Pictures {
            columns: ["<l>".into(), "r".into()],
            figures: [vec![], vec![]],
        });
        let html = doc.html();
        for part in [
            "&lt;t&gt;",
            "&lt;s&gt;",
            "&lt;n&gt;",
            "&lt;h&gt;",
            "+&lt;d&gt;",
            "&lt;l&gt;",
        ] {
            assert!(html.contains(part), "{part} in {html}");
        }
        assert!(!html.contains("<t>") && !html.contains("<d>"), "{html}");
        assert_eq!(html.matches("no figure").count(), 2, "{html}");
        assert!(!doc.text().contains("figure"), "{}", doc.text());
    }
}
