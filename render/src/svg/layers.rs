//! Which layer (column) each box of the picture goes in, and where the columns are.

use super::{Edge, Node, Shape};

/// Each node's layer: the longest path from a node that used nothing, so every edge points
/// right. A file from outside (a sheet nothing leads into) then moves right, next to its first
/// reader, rather than waiting in the first column with a long edge.
pub(super) fn layers(nodes: &[Node], edges: &[&Edge]) -> Vec<usize> {
    let mut layer = vec![0usize; nodes.len()];
    let mut incoming: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    let mut outgoing: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for e in edges {
        incoming[e.to].push(e.from);
        outgoing[e.from].push(e.to);
    }
    for i in 0..nodes.len() {
        layer[i] = incoming[i]
            .iter()
            .filter(|&&p| p < i)
            .map(|&p| layer[p] + 1)
            .max()
            .unwrap_or(0);
    }
    for (i, node) in nodes.iter().enumerate() {
        if matches!(node.shape, Shape::File { .. }) && incoming[i].is_empty() {
            let first_reader = outgoing[i]
                .iter()
                .filter(|&&s| s > i)
                .map(|&s| layer[s])
                .min();
            if let Some(reader) = first_reader {
                layer[i] = reader.saturating_sub(1);
            }
        }
    }
    layer
}

/// The left edge of each layer's column, with one more after the last (the picture's right
/// edge plus a gap): each column as wide as its widest box, `gap` between them.
pub(super) fn columns(layer: &[usize], widths: &[f64], gap: f64, margin: f64) -> Vec<f64> {
    let count = layer.iter().max().map_or(1, |m| m + 1);
    let mut column = vec![0.0f64; count];
    for (&l, &w) in layer.iter().zip(widths) {
        column[l] = column[l].max(w);
    }
    let mut x = vec![margin];
    for w in column {
        let next = x[x.len() - 1] + w + gap;
        x.push(next);
    }
    x
}
