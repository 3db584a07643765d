//! Figures side by side in HTML (a changed output of `%trial_diff`): `<img>` with data URIs
//! of the pictures the store kept.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use provstore::Figure;

use crate::html::{esc, MUTED, TABLE, TD, TH};

/// Two columns of figures under their names, in one row of a table.
pub(crate) fn side_by_side(columns: &[String; 2], figures: &[Vec<Figure>; 2]) -> String {
    format!(
        "<table style=\"{TABLE}\"><thead><tr><th style=\"{TH}\">{}</th><th style=\"{TH}\">{}</th>\
         </tr></thead><tbody><tr><td style=\"{TD}\">{}</td><td style=\"{TD}\">{}</td></tr>\
         </tbody></table>",
        esc(&columns[0]),
        esc(&columns[1]),
        figures_html(&figures[0]),
        figures_html(&figures[1]),
    )
}

/// Pictures as `<img>` with data URIs (SVG too: an inline SVG could clash with the page's ids
/// or carry scripts); a note for one the store kept by hash only.
fn figures_html(figures: &[Figure]) -> String {
    if figures.is_empty() {
        return format!("<span style=\"{MUTED}\">no figure</span>");
    }
    let mut out = String::new();
    for f in figures {
        let mime = esc(&f.mime_type);
        match &f.bytes {
            Some(bytes) => out.push_str(&format!(
                "<div><img style=\"max-width:420px;height:auto;\" alt=\"{mime}\" \
                 src=\"data:{mime};base64,{}\"></div>",
                data_uri_base64(&f.mime_type, bytes)
            )),
            None => out.push_str(&format!(
                "<div style=\"{MUTED}\">{mime} {} (not stored: over the payload cap)</div>",
                esc(f.sha256.get(..12).unwrap_or(&f.sha256))
            )),
        }
    }
    out
}

/// The base64 of a data URI for a stored picture. Jupyter sends PNG, JPEG and GIF as base64
/// text in the message's JSON, and the store keeps that text: it goes in as it is (without line
/// breaks). SVG is text, and so is a picture some other kernel sent as raw bytes: encoded here.
fn data_uri_base64(mime_type: &str, stored: &[u8]) -> String {
    let is_base64 = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=');
    let text: Vec<u8> = stored
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    if mime_type != "image/svg+xml" && !text.is_empty() && text.iter().all(is_base64) {
        String::from_utf8(text).unwrap_or_default()
    } else {
        STANDARD.encode(stored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_and_raw_bytes_are_encoded_for_the_data_uri() {
        assert_eq!(data_uri_base64("image/svg+xml", b"<svg/>"), "PHN2Zy8+");
        // Bytes that are base64 text, but SVG is always encoded.
        assert_eq!(data_uri_base64("image/svg+xml", b"abcd"), "YWJjZA==");
        assert_eq!(data_uri_base64("image/png", b"\x89PNG\r\n"), "iVBORw0K");
        assert_eq!(data_uri_base64("image/png", b""), "");
        assert_eq!(data_uri_base64("image/png", b"iVBO\nRw0K\n"), "iVBORw0K");
    }

    #[test]
    fn a_figure_over_the_cap_is_named_by_its_hash() {
        let kept = Figure {
            mime_type: "image/png".into(),
            sha256: "ab".repeat(32),
            bytes: None,
        };
        let html = side_by_side(
            &["trial 1".into(), "<trial 2>".into()],
            &[vec![kept], vec![]],
        );
        assert!(
            html.contains("image/png abababababab (not stored"),
            "{html}"
        );
        assert!(html.contains("no figure"), "{html}");
        assert!(html.contains("&lt;trial 2&gt;"), "{html}");
        assert!(!html.contains("<img"), "{html}");
    }
}
