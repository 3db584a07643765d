//! How a box of the dependency picture is drawn: an execution as a rounded box (title and a
//! code preview), a file's version as a sheet with a folded top-right corner on a pale amber
//! fill (its name and what is known of its content), dashed when the content came from
//! outside the trial. Shapes and fills tell the two apart without colour alone.

use super::{Node, Rect, Shape, ACCENT, INK, INK_SOFT};
use crate::html::esc;

/// A failed execution's outline.
const FAILED: &str = "#cf222e";
/// A file's fill and outline.
const FILE_FILL: &str = "#fff8e1";
const FILE_EDGE: &str = "#9a6700";
/// The folded corner's size.
const FOLD: f64 = 10.0;

/// The SVG of `node` in the box `at`, with `preview` its second line.
pub(super) fn node_svg(node: &Node, at: Rect, preview: &str) -> String {
    let Rect { x, y, w, h } = at;
    let tip = format!(
        "<title>{}\n{}</title>",
        esc(&node.title),
        esc(&super::truncate_chars(&node.code, 600))
    );
    let shape = match node.shape {
        Shape::Execution => {
            let stroke = if node.failed {
                FAILED
            } else if node.emphasis {
                ACCENT
            } else {
                INK_SOFT
            };
            format!(
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h}\" rx=\"6\" \
                 fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"{sw}\"/>",
                fill = if node.emphasis { "#eef5ff" } else { "#f6f8fa" },
                sw = if node.emphasis || node.failed {
                    2.0
                } else {
                    1.0
                },
            )
        }
        Shape::File { outside } => {
            let (right, bottom) = (x + w, y + h);
            let dash = if outside {
                " stroke-dasharray=\"5,3\""
            } else {
                ""
            };
            let sw = if node.emphasis { 2.0 } else { 1.2 };
            format!(
                "<path d=\"M{x:.1},{y:.1} L{fx:.1},{y:.1} L{right:.1},{fy:.1} L{right:.1},{bottom:.1} \
                 L{x:.1},{bottom:.1} Z\" fill=\"{FILE_FILL}\" stroke=\"{FILE_EDGE}\" \
                 stroke-width=\"{sw}\"{dash}/>\
                 <path d=\"M{fx:.1},{y:.1} L{fx:.1},{fy:.1} L{right:.1},{fy:.1}\" fill=\"none\" \
                 stroke=\"{FILE_EDGE}\" stroke-width=\"1\"/>",
                fx = right - FOLD,
                fy = y + FOLD,
            )
        }
    };
    let class = match node.shape {
        Shape::Execution => "node",
        Shape::File { .. } => "node file",
    };
    format!(
        "<g class=\"{class}\">{tip}{shape}\
         <text x=\"{tx:.1}\" y=\"{t1:.1}\" font-weight=\"600\" fill=\"{INK}\">{title}</text>\
         <text x=\"{tx:.1}\" y=\"{t2:.1}\" font-family=\"ui-monospace,SFMono-Regular,Menlo,Consolas,monospace\" \
         font-size=\"11\" fill=\"{second}\">{code}</text></g>",
        title = esc(&node.title),
        tx = x + 9.0,
        t1 = y + 18.0,
        t2 = y + 35.0,
        second = match node.shape {
            Shape::Execution => INK,
            Shape::File { .. } => INK_SOFT,
        },
        code = esc(preview),
    )
}
