//! The evolution plot (`%var_evolution`, `provctl plot`): one number per trial (each trial's
//! last value of a variable), as a line with points, the trials in order along the x axis by
//! name and round-numbered ticks on the y axis. Written here as plain SVG, no plotting library.
//!
//! Colours follow the dependency pictures (`svg.rs`): a light panel of its own with dark text
//! and axes and the series in the accent blue, so the one image reads on light and dark pages.
//! Each point's value is written where neither its marker nor any part of the line is: above a
//! peak, below a trough, beside a point the line passes through (see [`place_labels`]).

use provstore::Evolution;

use crate::html::{esc, Html};
use crate::svg::{panel, Rect, ACCENT as SERIES_COLOUR, INK, INK_SOFT};
use crate::table::{Cell, Table};
use crate::values::trial_label;
use crate::{plural, to_json, Rendered};

/// Horizontal room per trial, at least, in pixels.
const SLOT_MIN: f64 = 64.0;
/// The narrowest plot area.
const PLOT_MIN_W: f64 = 320.0;
/// The widest plot area: past it, trials get less room each and only some are named.
const PLOT_MAX_W: f64 = 880.0;
/// Horizontal room a rotated name needs so that it does not touch the next one.
const ROTATED_NAME_GAP: f64 = 15.0;
/// The height of the plot area.
const PLOT_H: f64 = 200.0;
/// Room inside the plot area above the highest and below the lowest tick, for value labels.
const INNER: f64 = 18.0;
/// Width of one character of the 10.5px value labels (digits are the widest), roughly.
const VALUE_CHAR_W: f64 = 6.8;
/// Room above the plot area, for the title.
const TOP: f64 = 40.0;
/// Width of one character of the 11px labels, roughly.
const CHAR_W: f64 = 6.4;
/// Longest trial name on the axis, in characters.
const NAME_MAX: usize = 24;
/// The angle of the trial names when they do not fit side by side, in degrees.
const ROTATION: f64 = 35.0;
/// Up to how many points get their value written above them.
const VALUE_LABELS_MAX: usize = 16;

/// The evolution of a variable across trials: text, a table of trial → number (and the trials
/// skipped, with why); HTML, the picture and that table; SVG, the picture alone (None when no
/// trial has a number). JSON: the [`Evolution`] (`{"variable", "statistic", "points": [{"trial",
/// "trial_name", "execution_count", "value", …}], "skipped": […]}`).
pub fn render_var_evolution(evolution: &Evolution) -> Rendered {
    let json = to_json(evolution);
    let title = plot_title(evolution);
    let mut text = format!("{title}\n");
    let mut html = Html::new();
    html.title(&title);
    if evolution.points.is_empty() {
        let message = format!(
            "No trial has a number for `{}` to plot{}.",
            evolution.variable,
            if evolution.summarised || !evolution.skipped.is_empty() {
                " (try --stat len, or --column C for a dataframe)"
            } else {
                ""
            }
        );
        text.push_str(&message);
        text.push('\n');
        html.note(&message);
    } else {
        let mut table = Table::new(&["trial", "name", "execution", "value"]);
        for p in &evolution.points {
            table.push(vec![
                Cell::number(p.trial),
                Cell::opt(p.trial_name.as_deref()),
                Cell::opt(p.execution_count.map(|n| format!("In[{n}]")).as_deref()),
                Cell::right(number_text(p.value)),
            ]);
        }
        text.push_str(&table.text());
        html.raw(&table.html());
    }
    if !evolution.skipped.is_empty() {
        let heading = format!("Skipped ({}):", plural(evolution.skipped.len(), "trial"));
        text.push_str(&format!("{heading}\n"));
        html.note(&heading);
        for s in &evolution.skipped {
            let line = format!(
                "  {} ({}): {}",
                trial_label(s.trial, s.trial_name.as_deref()),
                s.execution_count
                    .map(|n| format!("In[{n}]"))
                    .unwrap_or_else(|| "no In[n]".into()),
                s.reason
            );
            text.push_str(&line);
            text.push('\n');
            html.note(line.trim_start());
        }
    }
    Rendered {
        text,
        html: html.finish(),
        json,
        svg: (!evolution.points.is_empty()).then(|| evolution_svg(evolution)),
    }
}

/// `acc across trials`, with the statistic when a summary was reduced to a number
/// (`acc across trials (mean of column x)`).
fn plot_title(e: &Evolution) -> String {
    let mut title = format!("{} across trials", e.variable);
    if e.summarised {
        match &e.column {
            Some(c) => title.push_str(&format!(" ({} of column {c})", e.statistic)),
            None => title.push_str(&format!(" ({})", e.statistic)),
        }
    }
    title
}

/// The picture, in a grey that reads on light and dark backgrounds.
pub(crate) fn evolution_svg(e: &Evolution) -> String {
    let names: Vec<String> = e
        .points
        .iter()
        .map(|p| truncate(&trial_label(p.trial, p.trial_name.as_deref()), NAME_MAX))
        .collect();
    let values: Vec<f64> = e.points.iter().map(|p| p.value).collect();
    let ticks = nice_ticks(&values);
    let tick_texts: Vec<String> = ticks.values.iter().map(|&v| ticks.label(v)).collect();

    let n = e.points.len().max(1);
    let left = 16.0 + tick_texts.iter().map(|t| width(t)).fold(24.0, f64::max);
    let plot_w = (SLOT_MIN * n as f64).clamp(PLOT_MIN_W, PLOT_MAX_W.max(PLOT_MIN_W));
    let slot = plot_w / n as f64;
    // With many trials, name every k-th one (the first and then every k-th after it).
    let every = (ROTATED_NAME_GAP / slot).ceil().max(1.0) as usize;
    let radius = if slot >= 12.0 { 4.0 } else { 2.5 };
    let longest = names.iter().map(|s| width(s)).fold(0.0, f64::max);
    let rotate = longest > slot - 8.0;
    let bottom = if rotate {
        22.0 + longest * ROTATION.to_radians().sin() + 8.0
    } else {
        30.0
    };
    // Rotated names reach left of their point: keep the first one inside the picture.
    let left = if rotate {
        left.max(longest * ROTATION.to_radians().cos() - slot / 2.0 + 8.0)
    } else {
        left
    };
    let title = plot_title(e);
    let total_w = (left + plot_w + 16.0).max(width(&title) * 1.15 + 24.0);
    let total_h = TOP + PLOT_H + bottom;
    let (lo, hi) = (ticks.lo, ticks.hi);
    let y_of = |v: f64| {
        // Halved so that the range of the largest floats does not overflow.
        let t = (v / 2.0 - lo / 2.0) / (hi / 2.0 - lo / 2.0);
        let t = if t.is_finite() {
            t.clamp(0.0, 1.0)
        } else {
            0.5
        };
        TOP + PLOT_H - INNER - t * (PLOT_H - 2.0 * INNER)
    };
    let x_of = |i: usize| left + slot * (i as f64 + 0.5);
    let axis_y = TOP + PLOT_H;

    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{total_w:.0}\" height=\"{total_h:.0}\" \
         viewBox=\"0 0 {total_w:.0} {total_h:.0}\" \
         font-family=\"system-ui,-apple-system,'Segoe UI',sans-serif\" font-size=\"12\">\
         <title>{}</title>{}\
         <text x=\"{left:.1}\" y=\"22\" font-weight=\"600\" font-size=\"13\" fill=\"{INK}\">{}</text>",
        esc(&title),
        panel(total_w, total_h),
        esc(&title)
    );

    // Grid lines and y tick labels.
    for (v, text) in ticks.values.iter().zip(&tick_texts) {
        let y = y_of(*v);
        svg.push_str(&format!(
            "<line x1=\"{left:.1}\" y1=\"{y:.1}\" x2=\"{x2:.1}\" y2=\"{y:.1}\" stroke=\"#d8dee4\"/>\
             <text x=\"{tx:.1}\" y=\"{ty:.1}\" text-anchor=\"end\" font-size=\"11\" \
             fill=\"{INK_SOFT}\">{}</text>",
            esc(text),
            x2 = left + plot_w,
            tx = left - 6.0,
            ty = y + 4.0,
        ));
    }
    // Axes.
    svg.push_str(&format!(
        "<path d=\"M{left:.1},{TOP:.1} L{left:.1},{axis_y:.1} L{x2:.1},{axis_y:.1}\" fill=\"none\" \
         stroke=\"{INK_SOFT}\"/>",
        x2 = left + plot_w
    ));
    // Trial names under their points.
    for (i, name) in names.iter().enumerate().filter(|(i, _)| i % every == 0) {
        let x = x_of(i);
        svg.push_str(&format!(
            "<line x1=\"{x:.1}\" y1=\"{axis_y:.1}\" x2=\"{x:.1}\" y2=\"{y2:.1}\" \
             stroke=\"{INK_SOFT}\"/>",
            y2 = axis_y + 4.0
        ));
        if rotate {
            let y = axis_y + 16.0;
            svg.push_str(&format!(
                "<text x=\"{x:.1}\" y=\"{y:.1}\" text-anchor=\"end\" font-size=\"11\" \
                 fill=\"{INK}\" transform=\"rotate(-{ROTATION} {x:.1} {y:.1})\">{}</text>",
                esc(name)
            ));
        } else {
            svg.push_str(&format!(
                "<text x=\"{x:.1}\" y=\"{y:.1}\" text-anchor=\"middle\" font-size=\"11\" \
                 fill=\"{INK}\">{}</text>",
                esc(name),
                y = axis_y + 18.0
            ));
        }
    }
    // The line, then the points with their values.
    if e.points.len() > 1 {
        let points: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", x_of(i), y_of(*v)))
            .collect();
        svg.push_str(&format!(
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{SERIES_COLOUR}\" stroke-width=\"2\" \
             stroke-linejoin=\"round\"/>",
            points.join(" ")
        ));
    }
    let centres: Vec<(f64, f64)> = values
        .iter()
        .enumerate()
        .map(|(i, v)| (x_of(i), y_of(*v)))
        .collect();
    let value_texts: Vec<String> = values.iter().map(|v| number_text(*v)).collect();
    let area = Rect {
        x: left + 1.0,
        y: TOP,
        w: plot_w - 1.0,
        h: PLOT_H - 1.0,
    };
    let labels = if e.points.len() <= VALUE_LABELS_MAX {
        place_labels(&centres, &value_texts, radius, &area)
    } else {
        Vec::new()
    };
    for (i, p) in e.points.iter().enumerate() {
        let (x, y) = centres[i];
        let when = p
            .execution_count
            .map(|n| format!(" at In[{n}]"))
            .unwrap_or_default();
        let tip = format!(
            "{}{when}: {}",
            trial_label(p.trial, p.trial_name.as_deref()),
            number_text(p.value)
        );
        svg.push_str(&format!(
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{radius}\" fill=\"{SERIES_COLOUR}\">\
             <title>{}</title></circle>",
            esc(&tip)
        ));
    }
    // Labels last, over the grid.
    for (b, text) in labels.iter().zip(&value_texts) {
        svg.push_str(&format!(
            "<text class=\"value\" x=\"{x:.1}\" y=\"{y:.1}\" font-size=\"10.5\" \
             fill=\"{INK}\">{}</text>",
            esc(text),
            x = b.x,
            y = b.y + LABEL_ASCENT,
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// A value label's text above its baseline, and below it, at 10.5px.
const LABEL_ASCENT: f64 = 8.5;
const LABEL_DESCENT: f64 = 2.5;
/// Air between a label and the marker or line it avoids.
const LABEL_AIR: f64 = 3.0;

/// Where each point's value label goes (its box; the text starts at its left edge, its baseline
/// [`LABEL_ASCENT`] below its top): never on a marker, on the line or on another label, and
/// inside `area` when any such place is. The first choice follows the line's shape at the point:
/// above a peak (or an end whose neighbour is lower), below a trough, and where the line passes
/// through, in the corner it leaves free (up-left when it rises, up-right when it falls). Then
/// the other places around the point, then the same a step further out each time.
pub(crate) fn place_labels(
    centres: &[(f64, f64)],
    texts: &[String],
    radius: f64,
    area: &Rect,
) -> Vec<Rect> {
    let segments: Vec<((f64, f64), (f64, f64))> =
        centres.windows(2).map(|w| (w[0], w[1])).collect();
    let mut placed: Vec<Rect> = Vec::new();
    for (i, &(x, y)) in centres.iter().enumerate() {
        let w = texts.get(i).map_or(0, |t| t.chars().count()) as f64 * VALUE_CHAR_W;
        let h = LABEL_ASCENT + LABEL_DESCENT;
        let gap = radius + LABEL_AIR;
        // Screen y grows downwards: a neighbour "below" has a larger y.
        let prev = i.checked_sub(1).map(|j| centres[j].1);
        let next = centres.get(i + 1).map(|c| c.1);
        let lower = |n: Option<f64>| n.is_none_or(|ny| ny >= y);
        let higher = |n: Option<f64>| n.is_none_or(|ny| ny <= y);
        let above = Rect {
            x: x - w / 2.0,
            y: y - gap - h,
            w,
            h,
        };
        let below = Rect {
            x: x - w / 2.0,
            y: y + gap,
            w,
            h,
        };
        let up_left = Rect {
            x: x - gap - w,
            y: y - gap - h + 2.0,
            w,
            h,
        };
        let up_right = Rect {
            x: x + gap,
            y: y - gap - h + 2.0,
            w,
            h,
        };
        let down_left = Rect {
            x: x - gap - w,
            y: y + gap - 2.0,
            w,
            h,
        };
        let down_right = Rect {
            x: x + gap,
            y: y + gap - 2.0,
            w,
            h,
        };
        let mut order = if lower(prev) && lower(next) {
            vec![above, below, up_left, up_right]
        } else if higher(prev) && higher(next) {
            vec![below, above, down_left, down_right]
        } else if prev.is_some_and(|p| p > y) {
            // Rising through the point: the line is down-left and up-right of it.
            vec![up_left, down_right, above, below]
        } else {
            vec![up_right, down_left, above, below]
        };
        order.extend([up_left, up_right, down_left, down_right]);
        let first = order[0];
        let free = |r: &Rect| {
            r.inside(area)
                && !centres
                    .iter()
                    .any(|&c| r.touches_circle(c, radius + LABEL_AIR))
                && !segments
                    .iter()
                    .any(|&(a, b)| r.touches_segment(a, b, LABEL_AIR - 1.0))
                && !placed.iter().any(|o| o.overlaps(r))
        };
        let further = (1..=6).flat_map(|k| {
            let d = f64::from(k) * 8.0;
            order.clone().into_iter().map(move |r| {
                let (dx, dy) = (
                    (r.x + r.w / 2.0 - x).signum(),
                    (r.y + r.h / 2.0 - y).signum(),
                );
                let dx = if (r.x + r.w / 2.0 - x).abs() < 1.0 {
                    0.0
                } else {
                    dx
                };
                Rect {
                    x: r.x + dx * d,
                    y: r.y + dy * d,
                    ..r
                }
            })
        });
        let chosen = order
            .iter()
            .copied()
            .chain(further)
            .find(|r| free(r))
            .unwrap_or(first);
        placed.push(chosen);
    }
    placed
}

/// Round-numbered y ticks covering some values.
struct Ticks {
    /// Where the ticks are.
    values: Vec<f64>,
    /// The distance between two ticks.
    step: f64,
    /// The bottom of the axis.
    lo: f64,
    /// The top of the axis.
    hi: f64,
}

impl Ticks {
    /// A tick's label, with as many decimals as the step needs.
    fn label(&self, v: f64) -> String {
        let v = if v.abs() < self.step * 1e-9 { 0.0 } else { v };
        let magnitude = v.abs().max(self.step.abs());
        if magnitude >= 1e7 || self.step < 1e-5 {
            return format!("{v:.2e}");
        }
        let mut decimals = 0usize;
        while decimals < 8 && (self.step * 10f64.powi(decimals as i32)).fract().abs() > 1e-6 {
            decimals += 1;
        }
        format!("{v:.decimals$}")
    }
}

/// The y axis for some values: their range with a little room on both sides (so no point
/// sits on the frame), and the multiples of a round step (1, 2, 2.5 or 5 times a power of ten)
/// inside it, three to seven of them. Equal values get a range around them; values so large
/// that their range overflows get the two ends alone.
fn nice_ticks(values: &[f64]) -> Ticks {
    let finite = values.iter().copied().filter(|v| v.is_finite());
    let (mut lo, mut hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if lo > hi {
        (lo, hi) = (0.0, 1.0);
    }
    if hi - lo <= hi.abs().max(lo.abs()) * 1e-12 {
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        (lo, hi) = (lo - pad, hi + pad);
    }
    let pad = (hi - lo) * 0.05;
    if pad.is_finite() && (lo - pad).is_finite() && (hi + pad).is_finite() {
        (lo, hi) = (lo - pad, hi + pad);
    }
    let span = hi - lo;
    if !span.is_finite() {
        return Ticks {
            values: vec![lo, hi],
            step: f64::MAX,
            lo,
            hi,
        };
    }
    let raw = span / 6.0;
    let power = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * power);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    let values = (first..=last.min(first.saturating_add(50)))
        .map(|k| k as f64 * step)
        .collect();
    Ticks {
        values,
        step,
        lo,
        hi,
    }
}

/// A number as the plot and its table write it: integers whole, others with at most six
/// significant digits.
fn number_text(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e15 {
        return format!("{v:.0}");
    }
    if v.abs() >= 1e6 || v.abs() < 1e-4 {
        return format!("{v:.3e}");
    }
    let digits = (5 - v.abs().log10().floor() as i32).clamp(0, 10) as usize;
    let text = format!("{v:.digits$}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Roughly how wide `text` is at 11px.
fn width(text: &str) -> f64 {
    text.chars().count() as f64 * CHAR_W
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests;
