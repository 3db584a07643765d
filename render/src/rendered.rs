//! What every renderer returns: one answer in each form a front end may want, and a picture
//! as an output of its own. Its own file so the renderers (and `doc.rs`) depend on it, not on
//! `lib.rs`, which uses them.

use base64::Engine as _;
use serde_json::{json, Map, Value};

use crate::png;

/// One thing to show, in every form a front end may want.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// Plain text: aligned columns, for terminals and `text/plain`.
    pub text: String,
    /// An HTML fragment for `text/html`: tables and notes, never a picture
    /// (an inline `<svg>` is stripped from an untrusted notebook, and its
    /// text leaks into the page).
    pub html: String,
    /// The data itself: the magic's machine-readable answer (carried in
    /// the output's metadata) and `provctl --json`.
    pub json: Value,
    /// A picture, where one helps (dependency graphs, the evolution plot);
    /// a magic shows it as an output of its own ([`Rendered::picture`]).
    pub svg: Option<String>,
}

/// The output of a picture: its MIME bundle and metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Picture {
    /// `image/svg+xml`, `image/png` (base64) and `text/plain`.
    pub data: Map<String, Value>,
    /// The size to show the PNG at (`{"image/png": {"width", "height"}}`):
    /// it is drawn at twice that for sharp screens.
    pub metadata: Map<String, Value>,
}

impl Rendered {
    /// The MIME bundle of the answer (the `data` of a `display_data`):
    /// `text/plain` and `text/html`. Nothing else, so that every front end
    /// shows the HTML: JupyterLab ranks `application/json` (a JSON tree)
    /// above HTML, and VS Code shows a type it has no renderer for as an
    /// error. The JSON goes in the output's metadata instead.
    pub fn mime_bundle(&self) -> Map<String, Value> {
        let mut data = Map::new();
        data.insert("text/plain".into(), Value::String(self.text.clone()));
        data.insert("text/html".into(), Value::String(self.html.clone()));
        data
    }

    /// The picture as an output of its own, shown after the answer:
    /// `image/svg+xml` for trusted notebooks, `image/png` for untrusted ones
    /// (JupyterLab shows only "safe" types there, and SVG is not one) and
    /// static renderers, and a `text/plain` line for terminals. The PNG is
    /// left out only when the SVG cannot be rasterised.
    pub fn picture(&self) -> Option<Picture> {
        let svg = self.svg.as_ref()?;
        let mut data = Map::new();
        let mut metadata = Map::new();
        data.insert("image/svg+xml".into(), Value::String(svg.clone()));
        if let Some(png) = png::rasterise(svg) {
            data.insert(
                "image/png".into(),
                Value::String(base64::engine::general_purpose::STANDARD.encode(&png.bytes)),
            );
            metadata.insert(
                "image/png".into(),
                json!({"width": png.width, "height": png.height}),
            );
        }
        let title = self.text.lines().next().unwrap_or_default();
        data.insert(
            "text/plain".into(),
            Value::String(format!("[picture: {title}]")),
        );
        Some(Picture { data, metadata })
    }
}
