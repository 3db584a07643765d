//! Pictures as PNG, rasterised from their SVG with `resvg`. A notebook opened untrusted (shared,
//! or edited elsewhere) renders only "safe" MIME types, and `image/svg+xml` is not one of them
//! in JupyterLab, while `image/png` is; GitHub, nbviewer and other static renderers also show a
//! PNG most reliably. So every picture a magic answers with carries both.
//!
//! Text needs fonts: the system's are loaded once per process, and the generic families the
//! pictures ask for (`sans-serif`, `monospace`) are pointed at fonts that exist here, since
//! `resvg`'s defaults (Arial, Courier New) are often missing on Linux. A machine with no fonts at
//! all still gets the picture's shapes.

use std::sync::{Arc, OnceLock};

use resvg::tiny_skia::{Pixmap, Transform};
use resvg::usvg::{fontdb, Options, Tree};

/// Pixels per SVG unit: twice, so the picture stays sharp on high-density screens (the notebook
/// is told the picture's size in CSS pixels, see [`Png`]).
const SCALE: f32 = 2.0;
/// The most pixels a picture may have; a bigger one is drawn at a smaller scale.
const MAX_PIXELS: f32 = 8_000_000.0;
/// Sides longer than this (in pixels, at scale 1) are not rasterised at all.
const MAX_SIDE: f32 = 32_000.0;

/// Sans-serif fonts to use for `sans-serif` (and `system-ui`), first found wins.
const SANS: &[&str] = &[
    "DejaVu Sans",
    "Liberation Sans",
    "Noto Sans",
    "Arial",
    "Helvetica",
    "FreeSans",
];
/// Monospaced fonts for `monospace`, first found wins.
const MONO: &[&str] = &[
    "DejaVu Sans Mono",
    "Liberation Mono",
    "Noto Sans Mono",
    "Courier New",
    "Menlo",
    "FreeMono",
];

/// A rasterised picture: the PNG file's bytes, and the size to show it at (CSS pixels, the
/// SVG's own size).
pub(crate) struct Png {
    pub(crate) bytes: Vec<u8>,
    pub(crate) width: u32,
    pub(crate) height: u32,
}

/// The system's fonts, loaded once.
fn fonts() -> Arc<fontdb::Database> {
    static FONTS: OnceLock<Arc<fontdb::Database>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let mut db = fontdb::Database::new();
            db.load_system_fonts();
            let families: Vec<String> = db
                .faces()
                .flat_map(|face| face.families.iter().map(|(name, _)| name.clone()))
                .collect();
            let pick = |wanted: &[&str]| {
                wanted
                    .iter()
                    .find(|w| families.iter().any(|f| f == *w))
                    .map(|w| w.to_string())
                    .or_else(|| families.first().cloned())
            };
            if let Some(sans) = pick(SANS) {
                db.set_sans_serif_family(sans.clone());
                db.set_serif_family(sans);
            }
            if let Some(mono) = pick(MONO) {
                db.set_monospace_family(mono);
            }
            Arc::new(db)
        })
        .clone()
}

/// The PNG file of an SVG picture (`provctl graph -o FILE.png`), drawn at twice its size; None
/// when it cannot be parsed or is absurdly large.
pub fn svg_to_png(svg: &str) -> Option<Vec<u8>> {
    rasterise(svg).map(|png| png.bytes)
}

/// The PNG of an SVG picture; None when it cannot be parsed or is absurdly large.
pub(crate) fn rasterise(svg: &str) -> Option<Png> {
    let fontdb = fonts();
    let options = Options {
        font_family: "sans-serif".to_string(),
        fontdb,
        ..Options::default()
    };
    let tree = Tree::from_str(svg, &options).ok()?;
    let size = tree.size();
    let (w, h) = (size.width(), size.height());
    if !(w >= 1.0 && h >= 1.0 && w <= MAX_SIDE && h <= MAX_SIDE) {
        return None;
    }
    let scale = SCALE.min((MAX_PIXELS / (w * h)).sqrt());
    let mut pixmap = Pixmap::new((w * scale).ceil() as u32, (h * scale).ceil() as u32)?;
    resvg::render(
        &tree,
        Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    Some(Png {
        bytes: pixmap.encode_png().ok()?,
        width: w.ceil() as u32,
        height: h.ceil() as u32,
    })
}
