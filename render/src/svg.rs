//! Dependency pictures: executions as boxes, laid out left to right in
//! layers (a small Sugiyama-style layout written here, no Graphviz), the
//! variables carried written on the edges.
//!
//! Layout: an execution's layer is one more than the highest layer of the
//! executions it used something from, so every edge points right and a
//! chain reads as a row. Edges spanning several layers pass through thin
//! placeholder slots in the layers between, so they never cut through a
//! box. Within a layer, items are ordered by the mean position of their
//! neighbours (a few sweeps both ways) to keep crossings down, then placed
//! as close as possible to the height of what they come from.
//!
//! Colours: the picture is always shown as an image of its own (never inline
//! in HTML), so the page's theme never reaches it. It carries its own light
//! panel (a near-white rounded rectangle, as a matplotlib figure has) with
//! dark text and lines and one blue accent, so the same image reads clearly
//! on a light page and on a dark one. Failed executions get a red outline.
//! Files are sheets with a folded corner on a pale amber fill (`svg/nodes.rs`), placed in
//! the layers like executions: written by the execution on their left, read by those on
//! their right.

mod geometry;
mod layers;
mod nodes;
#[cfg(test)]
mod tests;

pub(crate) use geometry::Rect;
use geometry::{bezier, distance_to_segment, Point};

use crate::html::esc;
use crate::text::preview;

/// Box size and spacing, in pixels: boxes are as wide as the longest code
/// preview needs, between these two widths.
const NODE_W_MIN: f64 = 172.0;
const NODE_W_MAX: f64 = 320.0;
const NODE_H: f64 = 46.0;
const DUMMY_H: f64 = 10.0;
const V_GAP: f64 = 22.0;
const MARGIN: f64 = 12.0;
/// Width of one character of the 11px monospace labels, roughly.
const CHAR_W: f64 = 6.7;
/// Width of one character of a box's bold 12px title, roughly.
const TITLE_CHAR_W: f64 = 7.4;
/// The narrowest file sheet.
const FILE_W_MIN: f64 = 96.0;
/// Longest edge label, in characters.
const LABEL_MAX: usize = 22;
/// Longest code preview in a box, in characters (the widest box's).
const CODE_MAX: usize = 44;
/// How many pass-through slots per box long edges may use, at most.
const PASS_BUDGET_PER_NODE: usize = 4;
/// The panel the pictures are drawn on, and its outline.
pub(crate) const PANEL: &str = "#ffffff";
pub(crate) const PANEL_EDGE: &str = "#d0d7de";
/// Text and the strongest lines.
pub(crate) const INK: &str = "#1f2328";
/// Secondary text, edges and axes.
pub(crate) const INK_SOFT: &str = "#57606a";
/// The accent: the emphasised box, the plotted series.
pub(crate) const ACCENT: &str = "#0969da";
/// One box of the picture.
pub(crate) struct Node {
    /// Bold first line, e.g. `In [3]`, or a file's name.
    pub title: String,
    /// The code, previewed on the second line and shown in full as tooltip (for a file, what
    /// is known of its content).
    pub code: String,
    /// Whether it failed (red outline).
    pub failed: bool,
    /// Drawn with a heavier outline (the execution that made the variable).
    pub emphasis: bool,
    /// An execution, or a file's version.
    pub shape: Shape,
}

/// What a box stands for, which decides how it is drawn (`svg/nodes.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// An execution: a rounded box.
    Execution,
    /// A version of a file: a sheet with a folded corner; content from outside the trial
    /// gets a dashed outline.
    File { outside: bool },
}

/// One edge: `from` made what `to` used; indices into the nodes.
pub(crate) struct Edge {
    pub from: usize,
    pub to: usize,
    pub symbols: Vec<String>,
}

/// An item of a layer: an execution, or the slot an edge passes through.
#[derive(Clone, Copy, PartialEq)]
enum Item {
    Node(usize),
    Pass { edge: usize },
}

struct Placed {
    item: Item,
    layer: usize,
    /// Order within the layer while sorting.
    key: f64,
    /// Vertical centre once placed.
    y: f64,
    h: f64,
}

/// The SVG of the graph.
pub(crate) fn graph_svg(nodes: &[Node], edges: &[Edge]) -> String {
    // Only edges between two distinct boxes, each producer before its user.
    let edges: Vec<&Edge> = edges
        .iter()
        .filter(|e| e.from < nodes.len() && e.to < nodes.len() && e.from != e.to)
        .collect();

    let layer = layers::layers(nodes, &edges);

    // Items: every node, and a pass-through slot per layer an edge crosses.
    let mut items: Vec<Placed> = (0..nodes.len())
        .map(|i| Placed {
            item: Item::Node(i),
            layer: layer[i],
            key: i as f64,
            y: 0.0,
            h: NODE_H,
        })
        .collect();
    // The chain of items of each edge, from producer to user.
    // A trial where every cell uses the first one's imports would need a
    // number of slots quadratic in its size: past a budget, the longest
    // edges are drawn as one curve instead.
    let span = |e: &Edge| layer[e.to].saturating_sub(layer[e.from] + 1);
    let mut by_span: Vec<usize> = (0..edges.len()).collect();
    by_span.sort_by_key(|&k| span(edges[k]));
    let mut routed = vec![false; edges.len()];
    let mut budget = PASS_BUDGET_PER_NODE * nodes.len();
    for k in by_span {
        let need = span(edges[k]);
        if need > budget {
            break;
        }
        budget -= need;
        routed[k] = true;
    }
    let mut chains: Vec<Vec<usize>> = Vec::with_capacity(edges.len());
    for (k, e) in edges.iter().enumerate() {
        let mut chain = vec![e.from];
        let (a, b) = (layer[e.from], layer[e.to]);
        for l in ((a + 1)..b).filter(|_| routed[k]) {
            items.push(Placed {
                item: Item::Pass { edge: k },
                layer: l,
                key: e.from as f64,
                y: 0.0,
                h: DUMMY_H,
            });
            chain.push(items.len() - 1);
        }
        chain.push(e.to);
        chains.push(chain);
    }
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); items.len()];
    let mut succs: Vec<Vec<usize>> = vec![Vec::new(); items.len()];
    for chain in &chains {
        for w in chain.windows(2) {
            // Only neighbours in adjacent layers order each other.
            if items[w[0]].layer + 1 == items[w[1]].layer {
                succs[w[0]].push(w[1]);
                preds[w[1]].push(w[0]);
            }
        }
    }
    let layers = layer.iter().max().map_or(0, |m| m + 1);
    let mut by_layer: Vec<Vec<usize>> = vec![Vec::new(); layers];
    for (i, p) in items.iter().enumerate() {
        by_layer[p.layer].push(i);
    }
    let sort = |items: &mut Vec<Placed>, by_layer: &mut Vec<Vec<usize>>| {
        for row in by_layer.iter_mut() {
            row.sort_by(|&a, &b| items[a].key.total_cmp(&items[b].key));
            for (pos, &i) in row.iter().enumerate() {
                items[i].key = pos as f64;
            }
        }
    };
    sort(&mut items, &mut by_layer);
    for _ in 0..4 {
        for (neighbours, order) in [(&preds, false), (&succs, true)] {
            let rows: Vec<usize> = if order {
                (0..layers).rev().collect()
            } else {
                (0..layers).collect()
            };
            for l in rows {
                for &i in &by_layer[l] {
                    let n = &neighbours[i];
                    if !n.is_empty() {
                        let mean = n.iter().map(|&j| items[j].key).sum::<f64>() / n.len() as f64;
                        // A small pull towards the old place keeps ties stable.
                        items[i].key = mean + items[i].key * 1e-3;
                    }
                }
                let mut row = std::mem::take(&mut by_layer[l]);
                row.sort_by(|&a, &b| items[a].key.total_cmp(&items[b].key));
                for (pos, &i) in row.iter().enumerate() {
                    items[i].key = pos as f64;
                }
                by_layer[l] = row;
            }
        }
    }

    // Heights: each item as near the mean height of its predecessors as the
    // order and the gaps allow.
    for row in &by_layer {
        let mut bottom = f64::NEG_INFINITY;
        for &i in row {
            let h = items[i].h;
            let gap = if bottom == f64::NEG_INFINITY {
                0.0
            } else {
                V_GAP
            };
            let lowest = bottom + gap + h / 2.0;
            let wanted = if preds[i].is_empty() {
                lowest
            } else {
                preds[i].iter().map(|&j| items[j].y).sum::<f64>() / preds[i].len() as f64
            };
            let y = if lowest.is_finite() {
                wanted.max(lowest)
            } else {
                wanted.max(h / 2.0)
            };
            items[i].y = y;
            bottom = y + h / 2.0;
        }
    }
    let top = items
        .iter()
        .map(|p| p.y - p.h / 2.0)
        .fold(f64::INFINITY, f64::min);
    let shift = if top.is_finite() {
        MARGIN - top
    } else {
        MARGIN
    };
    for p in &mut items {
        p.y += shift;
    }

    let label_w = edges
        .iter()
        .map(|e| label(&e.symbols).chars().count())
        .max()
        .unwrap_or(0) as f64
        * CHAR_W;
    let gap = (label_w + 30.0).clamp(60.0, 190.0);
    let previews: Vec<String> = nodes.iter().map(|n| preview(&n.code, CODE_MAX)).collect();
    let node_w = previews
        .iter()
        .zip(nodes)
        .filter(|(_, n)| n.shape == Shape::Execution)
        .map(|(p, _)| p.chars().count() as f64 * CHAR_W + 18.0)
        .fold(NODE_W_MIN, f64::max)
        .min(NODE_W_MAX);
    // A file's sheet is as wide as its name and hash need, within the column.
    let widths: Vec<f64> = nodes
        .iter()
        .zip(&previews)
        .map(|(n, p)| match n.shape {
            Shape::Execution => node_w,
            Shape::File { .. } => {
                let text = (n.title.chars().count() as f64 * TITLE_CHAR_W)
                    .max(p.chars().count() as f64 * CHAR_W);
                (text + 24.0).clamp(FILE_W_MIN, node_w)
            }
        })
        .collect();
    let columns = layers::columns(&layer, &widths, gap, MARGIN);
    let col_x = |l: usize| columns[l.min(columns.len() - 1)];
    let col_w = |l: usize| col_x(l + 1) - col_x(l) - gap;
    let width = col_x(layers.max(1)) - gap + MARGIN;
    let height = items.iter().map(|p| p.y + p.h / 2.0).fold(0.0, f64::max) + MARGIN;

    // Ports: a node's edges leave its right side and enter its left side
    // spread out, in the order of the other end's height.
    let mut out_ports: Vec<Vec<(usize, f64)>> = vec![Vec::new(); nodes.len()];
    let mut in_ports: Vec<Vec<(usize, f64)>> = vec![Vec::new(); nodes.len()];
    for (k, chain) in chains.iter().enumerate() {
        out_ports[edges[k].from].push((k, items[chain[1]].y));
        in_ports[edges[k].to].push((k, items[chain[chain.len() - 2]].y));
    }
    let port_y = |ports: &mut Vec<(usize, f64)>, centre: f64| -> Vec<(usize, f64)> {
        ports.sort_by(|a, b| a.1.total_cmp(&b.1));
        let n = ports.len() as f64;
        let span = (NODE_H - 16.0).min(8.0 * (n - 1.0));
        ports
            .iter()
            .enumerate()
            .map(|(i, &(k, _))| {
                let y = if n <= 1.0 {
                    centre
                } else {
                    centre - span / 2.0 + span * i as f64 / (n - 1.0)
                };
                (k, y)
            })
            .collect()
    };
    let mut start = vec![0.0; edges.len()];
    let mut end = vec![0.0; edges.len()];
    for i in 0..nodes.len() {
        for (k, y) in port_y(&mut out_ports[i], items[i].y) {
            start[k] = y;
        }
        for (k, y) in port_y(&mut in_ports[i], items[i].y) {
            end[k] = y;
        }
    }

    let mut svg = String::new();
    svg.push_str(&format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w:.0}\" height=\"{h:.0}\" \
         viewBox=\"0 0 {w:.0} {h:.0}\" \
         font-family=\"system-ui,-apple-system,'Segoe UI',sans-serif\" font-size=\"12\">\
         <defs><marker id=\"prov-arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" \
         markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\">\
         <path d=\"M0,1 L9,5 L0,9 z\" fill=\"{INK_SOFT}\"/></marker></defs>{panel}",
        w = width,
        h = height,
        panel = panel(width, height),
    ));

    // Edges first, under the boxes.
    let mut taken: Vec<Rect> = items
        .iter()
        .filter_map(|p| match p.item {
            Item::Node(i) => Some(Rect {
                x: col_x(p.layer),
                y: p.y - p.h / 2.0,
                w: widths[i],
                h: p.h,
            }),
            Item::Pass { .. } => None,
        })
        .collect();
    // Each edge's route: where it leaves its producer, the slots it passes through, where it
    // enters its user, as (x in, x out, y).
    let routes: Vec<Vec<(f64, f64, f64)>> = chains
        .iter()
        .enumerate()
        .map(|(k, chain)| {
            let e = edges[k];
            let mut points = Vec::new();
            let first = col_x(layer[e.from]) + widths[e.from];
            points.push((first, first, start[k]));
            for &i in &chain[1..chain.len() - 1] {
                let x = col_x(items[i].layer);
                points.push((x, x + col_w(items[i].layer), items[i].y));
            }
            let last = col_x(layer[e.to]);
            points.push((last, last, end[k]));
            points
        })
        .collect();
    // The drawn edges as short straight pieces, with the edge each belongs to: no label is put
    // across one, nor nearer another edge than its own.
    let pieces: Vec<(usize, Point, Point)> = routes
        .iter()
        .enumerate()
        .flat_map(|(k, points)| {
            points.windows(2).flat_map(move |w| {
                let (a, b) = ((w[0].1, w[0].2), (w[1].0, w[1].2));
                let curve = (0..12).map(move |s| {
                    let t = |s: i32| f64::from(s) / 12.0;
                    (k, bezier(a, b, t(s)), bezier(a, b, t(s + 1)))
                });
                let straight = (w[1].1 > w[1].0).then_some((k, (w[1].0, w[1].2), (w[1].1, w[1].2)));
                curve.chain(straight)
            })
        })
        .collect();
    let mut labels = String::new();
    for (k, points) in routes.iter().enumerate() {
        let e = edges[k];
        let mut d = format!("M{:.1},{:.1}", points[0].1, points[0].2);
        for w in points.windows(2) {
            let (x0, y0) = (w[0].1, w[0].2);
            let (x1, y1) = (w[1].0, w[1].2);
            let dx = (x1 - x0) / 2.0;
            d.push_str(&format!(
                " C{:.1},{y0:.1} {:.1},{y1:.1} {x1:.1},{y1:.1}",
                x0 + dx,
                x1 - dx
            ));
            if w[1].1 > w[1].0 {
                d.push_str(&format!(" L{:.1},{y1:.1}", w[1].1));
            }
        }
        let full = e.symbols.join(", ");
        svg.push_str(&format!(
            "<path class=\"edge\" d=\"{d}\" fill=\"none\" stroke=\"{INK_SOFT}\" \
             stroke-width=\"1.3\" marker-end=\"url(#prov-arrow)\">\
             <title>{}</title></path>",
            esc(&full)
        ));

        // The label sits where the edge is flat: just after it leaves its
        // producer, on the side the curve bends away from; if that is taken
        // (several edges leave one box), just before it reaches its user;
        // failing both, along the first or last stretch of the curve (the
        // middle of the first stretch if everything is taken).
        let text = label(&e.symbols);
        if text.is_empty() {
            continue;
        }
        let w = text.chars().count() as f64 * CHAR_W + 4.0;
        let n = points.len();
        let first = (points[0].1, points[0].2, points[1].0, points[1].2);
        let last = (
            points[n - 2].1,
            points[n - 2].2,
            points[n - 1].0,
            points[n - 1].2,
        );
        // (anchor x, baseline y, text-anchor)
        let mut candidates: Vec<(f64, f64, &str)> = Vec::new();
        let (x0, y0, _, y1) = first;
        let above = y1 >= y0;
        candidates.push((x0 + 6.0, if above { y0 - 4.0 } else { y0 + 13.0 }, "start"));
        // Near the user only when it is its one incoming edge: among
        // several arrows a label there would be ambiguous.
        if in_ports[e.to].len() == 1 {
            let (_, y0, x1, y1) = last;
            let above = y0 >= y1;
            candidates.push((x1 - 9.0, if above { y1 - 4.0 } else { y1 + 13.0 }, "end"));
        }
        // Beside the middle of a sloping stretch, in the corner it leaves free: up-left of a
        // rise, up-right of a fall (or the opposite corners).
        for (x0, y0, x1, y1) in [first, last] {
            let (x, y) = bezier((x0, y0), (x1, y1), 0.5);
            if y1 < y0 {
                candidates.push((x - 4.0, y - 4.0, "end"));
                candidates.push((x + 4.0, y + 13.0, "start"));
            } else if y1 > y0 {
                candidates.push((x + 4.0, y - 4.0, "start"));
                candidates.push((x - 4.0, y + 13.0, "end"));
            }
        }
        // Along the stretch (the last six: the middle of the first is the last resort).
        for (x0, y0, x1, y1) in [first, last] {
            for t in [0.5, 0.35, 0.65] {
                let (x, y) = bezier((x0, y0), (x1, y1), t);
                candidates.push((x, y - 5.0, "middle"));
            }
        }
        let boxed = |&(x, baseline, anchor): &(f64, f64, &str)| {
            let left = match anchor {
                "start" => x,
                "end" => x - w,
                _ => x - w / 2.0,
            };
            // The text's ascent and descent, and a pixel of air all round.
            Rect {
                x: left - 1.0,
                y: baseline - 11.0,
                w: w + 2.0,
                h: 15.0,
            }
        };
        let free = |c: &(f64, f64, &str)| {
            let rect = boxed(c);
            rect.x >= 0.0
                && rect.y >= 0.0
                && rect.x + rect.w <= width
                && rect.y + rect.h <= height
                && !taken.iter().any(|r| r.overlaps(&rect))
                && !pieces
                    .iter()
                    .any(|&(_, a, b)| rect.touches_segment(a, b, -1.0))
                && nearest_edge(&pieces, rect.centre()) == Some(k)
        };
        // Failing every place by the edge, the nearest free one above or below them, so no
        // label is ever drawn over another or over a box.
        let shifted = (1..=8).flat_map(|step| {
            let dy = f64::from(step) * 13.0;
            candidates
                .iter()
                .flat_map(move |&(x, y, a)| [(x, y + dy, a), (x, y - dy, a)])
        });
        let chosen = candidates
            .iter()
            .copied()
            .chain(shifted)
            .find(|c| free(c))
            .unwrap_or(candidates[candidates.len() - 6]);
        taken.push(boxed(&chosen));
        let (x, baseline, anchor) = chosen;
        labels.push_str(&format!(
            "<text class=\"label\" x=\"{x:.1}\" y=\"{baseline:.1}\" text-anchor=\"{anchor}\" \
             font-family=\"ui-monospace,SFMono-Regular,Menlo,Consolas,monospace\" \
             font-size=\"11\" fill=\"{ACCENT}\"><title>{}</title>{}</text>",
            esc(&full),
            esc(&text)
        ));
    }
    svg.push_str(&labels);

    for (i, node) in nodes.iter().enumerate() {
        let (x, y) = (col_x(layer[i]), items[i].y - NODE_H / 2.0);
        let at = Rect {
            x,
            y,
            w: widths[i],
            h: NODE_H,
        };
        svg.push_str(&nodes::node_svg(node, at, &previews[i]));
    }
    svg.push_str("</svg>");
    svg
}

/// The light panel a picture is drawn on: its first shape, covering it all.
pub(crate) fn panel(width: f64, height: f64) -> String {
    format!(
        "<rect class=\"panel\" x=\"0.5\" y=\"0.5\" width=\"{w:.1}\" height=\"{h:.1}\" rx=\"8\" \
         fill=\"{PANEL}\" stroke=\"{PANEL_EDGE}\"/>",
        w = (width - 1.0).max(0.0),
        h = (height - 1.0).max(0.0),
    )
}

/// The edge with a piece nearest to `p`.
fn nearest_edge(pieces: &[(usize, Point, Point)], p: (f64, f64)) -> Option<usize> {
    pieces
        .iter()
        .map(|&(k, a, b)| (k, distance_to_segment(p, a, b)))
        .min_by(|x, y| x.1.total_cmp(&y.1))
        .map(|(k, _)| k)
}

/// The label of an edge: its symbols, shortened to fit the gap.
fn label(symbols: &[String]) -> String {
    let joined = symbols.join(", ");
    if joined.chars().count() <= LABEL_MAX {
        joined
    } else {
        let mut cut: String = joined.chars().take(LABEL_MAX - 1).collect();
        cut.push('…');
        cut
    }
}

pub(crate) fn truncate_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut cut: String = s.chars().take(max).collect();
        cut.push('…');
        cut
    }
}
