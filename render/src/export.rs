//! The answers of `%prov_export`: where an export was written, or the exported document itself
//! (its text as it is, in HTML preformatted in a box that scrolls, so a long document does not
//! push the notebook away).

use serde_json::json;

use crate::html::{self, esc, Html};
use crate::rendered::Rendered;

/// What was written: `path` holding `files` files, `bytes` in all, and `notes` on what the
/// export could not hold as recorded (an RO-Crate's input that is gone), one `note:` line each.
/// The same for `%prov_export` and `provctl export`; JSON as `provctl export --json`:
/// `{"trial", "format", "path", "files", "bytes", "notes"}`.
pub fn render_export_written(
    trial: i64,
    format: &str,
    path: &str,
    (files, bytes): (usize, u64),
    notes: &[String],
) -> Rendered {
    let message = format!(
        "Wrote trial {trial} as {format} to {path} ({files} file{}, {bytes} bytes).",
        if files == 1 { "" } else { "s" }
    );
    let mut html = Html::new();
    html.note(&message);
    let mut text = format!("{message}\n");
    for note in notes {
        html.note(&format!("note: {note}"));
        text.push_str(&format!("note: {note}\n"));
    }
    Rendered {
        text,
        html: html.finish(),
        json: json!({"trial": trial, "format": format, "path": path, "files": files,
                     "bytes": bytes, "notes": notes}),
        svg: None,
    }
}

/// The exported document itself: in text exactly the document (to copy or save as it is), in
/// HTML under a title naming the trial and format. JSON: `{"trial", "format", "bytes"}` (the
/// document is the text, not repeated here).
pub fn render_export_text(trial: i64, format: &str, contents: &str) -> Rendered {
    let mut html = Html::new();
    html.title(&format!(
        "Trial {trial} as {format} ({} bytes)",
        contents.len()
    ));
    html.raw(&format!(
        "<pre style=\"{}max-height:32em;overflow:auto;margin:4px 0;\">{}</pre>",
        html::CODE,
        esc(contents.trim_end())
    ));
    Rendered {
        text: contents.to_string(),
        html: html.finish(),
        json: json!({"trial": trial, "format": format, "bytes": contents.len()}),
        svg: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_says_where_and_text_is_the_document() {
        let w = render_export_written(3, "prov-n", "out dir/t.provn", (1, 120), &[]);
        assert_eq!(
            w.text,
            "Wrote trial 3 as prov-n to out dir/t.provn (1 file, 120 bytes).\n"
        );
        let gone = ["data.csv is gone: listed by its recorded sha256".to_string()];
        let c = render_export_written(3, "ro-crate", "c.zip", (4, 900), &gone);
        assert!(c
            .text
            .ends_with("\nnote: data.csv is gone: listed by its recorded sha256\n"));
        assert!(c.html.contains("data.csv is gone"), "{}", c.html);
        assert_eq!(c.json["notes"][0], gone[0]);
        assert!(w.html.contains("out dir/t.provn"), "{}", w.html);
        assert_eq!(w.json["path"], "out dir/t.provn");
        let doc = "document\n  entity(a:b, [x=\"<i>\"])\nendDocument\n";
        let t = render_export_text(3, "prov-n", doc);
        assert_eq!(t.text, doc);
        assert!(t.html.contains("&lt;i&gt;"), "{}", t.html);
        assert!(!t.html.contains("<i>"), "{}", t.html);
        let keys: Vec<String> = t.mime_bundle().keys().cloned().collect();
        assert_eq!(keys, ["text/html", "text/plain"]);
    }
}
