//! The dataflow picture's layout: edge labels in the clear, boxes wide enough for their code.

use super::*;

fn node(i: usize, code: &str) -> Node {
    Node {
        title: format!("In [{}]", i + 1),
        code: code.into(),
        failed: false,
        emphasis: false,
        shape: Shape::Execution,
    }
}

fn edge(from: usize, to: usize, symbols: &[&str]) -> Edge {
    Edge {
        from,
        to,
        symbols: symbols.iter().map(|s| s.to_string()).collect(),
    }
}

fn num(s: &str) -> f64 {
    s.trim_matches(|c: char| c.is_ascii_alphabetic())
        .parse()
        .unwrap()
}

/// Every edge as drawn, as short straight pieces (the `d` of each `<path class="edge">`), each
/// with its edge's title (its symbols).
fn edge_pieces(svg: &str) -> Vec<(String, geometry::Point, geometry::Point)> {
    let mut pieces = Vec::new();
    for rest in svg.split("<path class=\"edge\" d=\"").skip(1) {
        let d = rest.split('"').next().unwrap();
        let title = rest
            .split("<title>")
            .nth(1)
            .unwrap()
            .split('<')
            .next()
            .unwrap();
        let points: Vec<(f64, f64)> = d
            .split_whitespace()
            .map(|t| {
                let (x, y) = t.split_once(',').unwrap();
                (num(x), num(y))
            })
            .collect();
        let commands: Vec<char> = d
            .split_whitespace()
            .map(|t| t.chars().next().unwrap())
            .collect();
        let mut at = points[0];
        let mut i = 1;
        while i < points.len() {
            if commands[i] == 'C' {
                let (p1, p2, p3) = (points[i], points[i + 1], points[i + 2]);
                let mut last = at;
                for s in 1..=24 {
                    let t = f64::from(s) / 24.0;
                    let u = 1.0 - t;
                    let c = [u * u * u, 3.0 * u * u * t, 3.0 * u * t * t, t * t * t];
                    let p = (
                        c[0] * at.0 + c[1] * p1.0 + c[2] * p2.0 + c[3] * p3.0,
                        c[0] * at.1 + c[1] * p1.1 + c[2] * p2.1 + c[3] * p3.1,
                    );
                    pieces.push((title.to_string(), last, p));
                    last = p;
                }
                at = p3;
                i += 3;
            } else {
                pieces.push((title.to_string(), at, points[i]));
                at = points[i];
                i += 1;
            }
        }
    }
    pieces
}

/// The box of every edge label's text (11px monospace: up to 6.7px a character, 10px above
/// the baseline and 3px below).
fn label_boxes(svg: &str) -> Vec<(String, Rect)> {
    svg.split("<text class=\"label\" x=\"")
        .skip(1)
        .map(|rest| {
            let x = num(rest.split('"').next().unwrap());
            let y = num(rest
                .split("y=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap());
            let anchor = rest
                .split("text-anchor=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            let text = rest
                .split("</title>")
                .nth(1)
                .unwrap()
                .split('<')
                .next()
                .unwrap();
            let w = text.chars().count() as f64 * 6.7;
            let left = match anchor {
                "start" => x,
                "end" => x - w,
                _ => x - w / 2.0,
            };
            (
                text.to_string(),
                Rect {
                    x: left,
                    y: y - 10.0,
                    w,
                    h: 13.0,
                },
            )
        })
        .collect()
}

#[test]
fn edge_labels_never_lie_across_an_edge_or_a_box() {
    // One cell feeding many (labels crowd its right side), a chain, and long edges.
    let nodes: Vec<Node> = (0..7).map(|i| node(i, &format!("v{i} = f({i})"))).collect();
    let edges = vec![
        edge(0, 1, &["pd"]),
        edge(0, 2, &["fit"]),
        edge(0, 3, &["np", "scipy"]),
        edge(0, 6, &["torch"]),
        edge(1, 2, &["df"]),
        edge(2, 3, &["model"]),
        edge(3, 4, &["score"]),
        edge(1, 5, &["rows"]),
        edge(5, 6, &["summary"]),
        edge(4, 6, &["report"]),
    ];
    let fan = graph_svg(&nodes, &edges);
    // The answer of `deps_tests`: an edge leaving just above another one's label.
    let nodes: Vec<Node> = (0..4).map(|i| node(i, &format!("v{i} = f({i})"))).collect();
    let edges = vec![
        edge(0, 1, &["pd"]),
        edge(1, 3, &["df"]),
        edge(2, 3, &["n"]),
        edge(0, 3, &["fit"]),
    ];
    for (k, svg) in [fan, graph_svg(&nodes, &edges)].iter().enumerate() {
        if let Ok(dir) = std::env::var("PROV_PICTURES") {
            let png = crate::svg_to_png(svg).unwrap();
            std::fs::write(
                std::path::Path::new(&dir).join(format!("graph-{k}.png")),
                png,
            )
            .unwrap();
        }
        check_labels(svg);
    }
}

/// No label of `svg` lies across an edge, a box or another label.
fn check_labels(svg: &str) {
    let pieces = edge_pieces(svg);
    let labels = label_boxes(svg);
    assert_eq!(labels.len(), svg.matches("<path class=\"edge\"").count());
    let boxes: Vec<Rect> = svg
        .split("<g class=\"node\">")
        .skip(1)
        .map(|g| {
            let attr = |name: &str| {
                num(g
                    .split(&format!(" {name}=\""))
                    .nth(1)
                    .unwrap()
                    .split('"')
                    .next()
                    .unwrap())
            };
            Rect {
                x: attr("x"),
                y: attr("y"),
                w: attr("width"),
                h: attr("height"),
            }
        })
        .collect();
    for (text, r) in &labels {
        for (_, a, b) in &pieces {
            assert!(
                !r.touches_segment(*a, *b, 0.0),
                "label {text} {r:?} on an edge at {a:?}-{b:?}"
            );
        }
        // Read as the label of the edge nearest to it: its own.
        let nearest = pieces
            .iter()
            .min_by(|x, y| {
                let d =
                    |(_, a, b): &(String, _, _)| geometry::distance_to_segment(r.centre(), *a, *b);
                d(x).total_cmp(&d(y))
            })
            .unwrap();
        assert_eq!(&nearest.0, text, "label {text} nearest another edge");
        for b in &boxes {
            assert!(!r.overlaps(b), "label {text} on a box");
        }
        for (other, o) in &labels {
            assert!(
                other == text || !r.overlaps(o),
                "labels {text} and {other} overlap"
            );
        }
    }
}

#[test]
fn the_picture_has_a_light_panel_and_no_theme_colours() {
    let svg = graph_svg(&[node(0, "a = 1"), node(1, "b = a")], &[edge(0, 1, &["a"])]);
    let after_defs = svg.split_once("</defs>").unwrap().1;
    assert!(after_defs.starts_with("<rect class=\"panel\""), "{svg}");
    assert!(after_defs.contains(&format!("fill=\"{PANEL}\"")), "{svg}");
    assert!(
        !svg.contains("currentColor") && !svg.contains("opacity"),
        "{svg}"
    );
}
