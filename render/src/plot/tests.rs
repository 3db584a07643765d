//! The evolution plot: well-formed, sensible on odd data, round ticks, labels in the clear.

use super::*;
use crate::svg::Rect;
use crate::tests::{assert_shows, xml_elements};
use provstore::{EvolutionPoint, SkippedTrial};

fn point(trial: i64, name: Option<&str>, value: f64) -> EvolutionPoint {
    EvolutionPoint {
        trial,
        trial_name: name.map(String::from),
        execution_count: Some(trial + 1),
        value,
        type_name: "float".into(),
    }
}

fn evolution(points: Vec<EvolutionPoint>) -> Evolution {
    Evolution {
        variable: "acc".into(),
        statistic: "mean",
        column: None,
        summarised: false,
        points,
        skipped: vec![SkippedTrial {
            trial: 9,
            trial_name: None,
            execution_count: Some(2),
            type_name: "str".into(),
            reason: "not a number: 'n/a'".into(),
        }],
    }
}

#[test]
fn the_plot_names_the_trials_and_is_well_formed() {
    let e = evolution(vec![
        point(1, Some("lr=0.1"), 0.81),
        point(2, Some("<lr&1>"), 0.93),
        point(3, None, 0.88),
    ]);
    let r = render_var_evolution(&e);
    let svg = r.svg.clone().expect("a picture");
    xml_elements(&svg);
    assert_shows(
        &svg,
        &[
            "lr=0.1",
            "&lt;lr&amp;1&gt;",
            ">#3<",
            "acc across trials",
            "<rect class=\"panel\"",
            "<polyline",
        ],
    );
    assert!(!svg.contains("currentColor"), "{svg}");
    assert!(!r.html.contains("<lr&1>"), "{}", r.html);
    assert!(!r.html.contains("<svg"), "{}", r.html);
    let png = crate::tests::decode_png(&r.picture().unwrap().data["image/png"]);
    crate::tests::assert_text_drawn(&png, "evolution");
    crate::tests::assert_light_panel(&png);
    assert_shows(
        &r.text,
        &["0.93", "Skipped (1 trial):", "#9 (In[2]): not a number"],
    );
    assert_eq!(r.json["points"][1]["trial_name"], "<lr&1>");
    assert_eq!(r.json["statistic"], "mean");
    assert_eq!(r.json["skipped"][0]["trial"], 9);
}

#[test]
fn odd_data_still_draws_a_sensible_picture() {
    // One trial, equal values, huge and tiny numbers, long names: never a panic, always
    // a well-formed picture with at least two distinct ticks.
    let long = "a-very-long-trial-name-that-goes-on-and-on";
    let cases = vec![
        vec![point(1, None, 0.5)],
        vec![point(1, None, 0.0), point(2, None, 0.0)],
        vec![point(1, Some(long), 3.0), point(2, Some(long), 3.0)],
        vec![point(1, None, f64::MAX), point(2, None, -f64::MAX)],
        vec![point(1, None, 1e-9), point(2, None, 2e-9)],
        vec![point(1, None, -5.0), point(2, None, 1e12)],
        (1..=300).map(|i| point(i, None, i as f64)).collect(),
    ];
    for points in cases {
        let values: Vec<f64> = points.iter().map(|p| p.value).collect();
        let ticks = nice_ticks(&values);
        assert!(ticks.values.len() >= 2, "{values:?}");
        assert!(ticks.lo < ticks.hi, "{values:?}");
        for v in values.iter().chain(&ticks.values) {
            assert!(ticks.lo <= *v && *v <= ticks.hi, "{v} {values:?}");
        }
        let svg = evolution_svg(&evolution(points));
        xml_elements(&svg);
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
    }
    // Many trials fit the widest plot, and only some are named.
    let many: Vec<EvolutionPoint> = (1..=300).map(|i| point(i, None, 1.0)).collect();
    let svg = evolution_svg(&evolution(many));
    assert!(svg.contains(">#1<") && !svg.contains(">#2<"), "{svg}");
    let width: f64 = svg["<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"".len()..]
        .split('"')
        .next()
        .and_then(|w| w.parse().ok())
        .unwrap();
    assert!(width < 1000.0, "{width}");
    let empty = render_var_evolution(&evolution(vec![]));
    assert!(empty.svg.is_none());
    assert_shows(&empty.text, &["No trial has a number"]);
}

#[test]
fn ticks_are_round_numbers() {
    let t = nice_ticks(&[0.81, 0.93]);
    let labels: Vec<String> = t.values.iter().map(|&v| t.label(v)).collect();
    assert_eq!(labels, ["0.825", "0.850", "0.875", "0.900", "0.925"]);
    let t = nice_ticks(&[0.0, 100.0]);
    let labels: Vec<String> = t.values.iter().map(|&v| t.label(v)).collect();
    assert_eq!(labels, ["0", "20", "40", "60", "80", "100"]);
    assert_eq!(number_text(0.9333333333), "0.933333");
    assert_eq!(number_text(3.0), "3");
}

/// The label boxes `evolution_svg` drew, read back from its `<text class="value">`s.
fn drawn_labels(svg: &str) -> Vec<Rect> {
    svg.split("<text class=\"value\" x=\"")
        .skip(1)
        .map(|rest| {
            let num = |s: &str| -> f64 { s.split('"').next().unwrap().parse().unwrap() };
            let x = num(rest);
            let y = num(rest.split("y=\"").nth(1).unwrap());
            let text = rest.split('>').nth(1).unwrap().split('<').next().unwrap();
            let w = text.chars().count() as f64 * VALUE_CHAR_W;
            Rect {
                x,
                y: y - LABEL_ASCENT,
                w,
                h: LABEL_ASCENT + LABEL_DESCENT,
            }
        })
        .collect()
}

#[test]
fn value_labels_never_touch_a_marker_the_line_or_each_other() {
    let series: Vec<Vec<f64>> = vec![
        vec![0.125, 0.875],
        vec![0.875, 0.125],
        vec![0.5],
        vec![1.0, 1.0, 1.0],
        vec![0.1, 0.5, 0.9, 0.5, 0.1],
        vec![0.9, 0.1, 0.9, 0.1, 0.9, 0.1],
        vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
        vec![123456.5, 0.000123, 99999.25, 5.5, 123456.5],
        (0..16).map(|i| ((i * 7919) % 13) as f64 / 13.0).collect(),
        (0..16).map(|i| i as f64 * 0.001 + 0.3).collect(),
    ];
    for values in series {
        let points = values
            .iter()
            .enumerate()
            .map(|(i, v)| point(i as i64 + 1, None, *v))
            .collect();
        let svg = evolution_svg(&evolution(points));
        let circles: Vec<(f64, f64)> = svg
            .split("<circle cx=\"")
            .skip(1)
            .map(|rest| {
                let cx = rest.split('"').next().unwrap().parse().unwrap();
                let cy = rest.split("cy=\"").nth(1).unwrap();
                (cx, cy.split('"').next().unwrap().parse().unwrap())
            })
            .collect();
        if let Ok(dir) = std::env::var("PROV_PICTURES") {
            let png = crate::svg_to_png(&svg).unwrap();
            let name = format!("labels-{}.png", values.len());
            std::fs::write(std::path::Path::new(&dir).join(name), png).unwrap();
        }
        let labels = drawn_labels(&svg);
        assert_eq!(labels.len(), values.len(), "{values:?}");
        let r = 4.0;
        for (i, b) in labels.iter().enumerate() {
            for (j, &c) in circles.iter().enumerate() {
                assert!(
                    !b.touches_circle(c, r + 1.0),
                    "{values:?}: label {i} on marker {j}"
                );
            }
            for (j, w) in circles.windows(2).enumerate() {
                assert!(
                    !b.touches_segment(w[0], w[1], 1.0),
                    "{values:?}: label {i} {b:?} on the line {j} {:?}-{:?}",
                    w[0],
                    w[1]
                );
            }
            for (j, o) in labels.iter().enumerate().filter(|(j, _)| *j != i) {
                assert!(!b.overlaps(o), "{values:?}: labels {i} and {j} overlap");
            }
            // Inside the plot area: right of the y axis, above the x axis, below the title.
            assert!(b.y >= TOP && b.y + b.h <= TOP + PLOT_H, "{values:?}: {b:?}");
        }
        // The lowest point of two has its label below it, the highest above it.
        if values == [0.125, 0.875] {
            assert!(labels[0].y > circles[0].1 && labels[1].y + labels[1].h < circles[1].1);
        }
    }
}

#[test]
fn the_segment_and_circle_tests_are_right() {
    let r = Rect {
        x: 10.0,
        y: 10.0,
        w: 10.0,
        h: 10.0,
    };
    assert!(r.touches_segment((0.0, 0.0), (30.0, 30.0), 0.0));
    assert!(!r.touches_segment((0.0, 30.0), (5.0, 0.0), 0.0));
    assert!(r.touches_segment((15.0, 0.0), (15.0, 12.0), 0.0));
    assert!(!r.touches_segment((0.0, 25.0), (30.0, 25.0), 4.0));
    assert!(r.touches_segment((0.0, 25.0), (30.0, 25.0), 6.0));
    assert!(r.touches_circle((25.0, 15.0), 6.0));
    assert!(!r.touches_circle((25.0, 25.0), 6.0));
}
