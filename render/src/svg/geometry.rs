//! The little geometry the pictures need to keep labels off boxes, markers and lines.

/// The point at `t` of the edge curve from `a` to `b` (horizontal tangents
/// at both ends, as drawn).
pub(crate) fn bezier(a: (f64, f64), b: (f64, f64), t: f64) -> (f64, f64) {
    let dx = (b.0 - a.0) / 2.0;
    let p = [a, (a.0 + dx, a.1), (b.0 - dx, b.1), b];
    let u = 1.0 - t;
    let c = [u * u * u, 3.0 * u * u * t, 3.0 * u * t * t, t * t * t];
    let x = (0..4).map(|i| c[i] * p[i].0).sum();
    let y = (0..4).map(|i| c[i] * p[i].1).sum();
    (x, y)
}

/// An axis-aligned box, in picture coordinates (y down).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Rect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

/// A point of a picture, (x, y) with y down.
pub(crate) type Point = (f64, f64);

/// How far `p` is from the segment `a`-`b`.
pub(crate) fn distance_to_segment(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (x, y) = (a.0 + t * dx, a.1 + t * dy);
    ((p.0 - x).powi(2) + (p.1 - y).powi(2)).sqrt()
}

impl Rect {
    pub(crate) fn centre(&self) -> (f64, f64) {
        (self.x + self.w / 2.0, self.y + self.h / 2.0)
    }

    pub(crate) fn inside(&self, o: &Rect) -> bool {
        self.x >= o.x
            && self.y >= o.y
            && self.x + self.w <= o.x + o.w
            && self.y + self.h <= o.y + o.h
    }

    pub(crate) fn overlaps(&self, o: &Rect) -> bool {
        self.x < o.x + o.w && o.x < self.x + self.w && self.y < o.y + o.h && o.y < self.y + self.h
    }

    /// Whether a circle (a marker, grown by some air) touches the box.
    pub(crate) fn touches_circle(&self, (cx, cy): (f64, f64), r: f64) -> bool {
        let dx = cx - cx.clamp(self.x, self.x + self.w);
        let dy = cy - cy.clamp(self.y, self.y + self.h);
        dx * dx + dy * dy < r * r
    }

    /// Whether the segment from `a` to `b` passes through the box grown by `air` on all sides
    /// (clipping the segment to the box, Liang–Barsky).
    pub(crate) fn touches_segment(&self, a: (f64, f64), b: (f64, f64), air: f64) -> bool {
        let (x0, y0, x1, y1) = (
            self.x - air,
            self.y - air,
            self.x + self.w + air,
            self.y + self.h + air,
        );
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let (mut t0, mut t1) = (0.0f64, 1.0f64);
        for (p, q) in [
            (-dx, a.0 - x0),
            (dx, x1 - a.0),
            (-dy, a.1 - y0),
            (dy, y1 - a.1),
        ] {
            if p == 0.0 {
                if q < 0.0 {
                    return false;
                }
            } else {
                let t = q / p;
                if p < 0.0 {
                    t0 = t0.max(t);
                } else {
                    t1 = t1.min(t);
                }
            }
        }
        t0 <= t1
    }
}
