//! Text compared with a tolerance for floats: two texts match when they are the same but for
//! numbers with a fraction or an exponent that are within the tolerance of each other
//! (`|a − b| ≤ tolerance · max(|a|, |b|, 1)`); whole numbers must be equal. Float noise from
//! another BLAS or summation order then passes, a changed count never does.

use std::sync::LazyLock;

use regex::Regex;

/// A number as Python prints one.
static NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?").expect("a valid pattern")
});

/// Whether `a` and `b` are the same text, floats within `tolerance` of each other.
pub(crate) fn same_text(a: &str, b: &str, tolerance: f64) -> bool {
    if a == b {
        return true;
    }
    if tolerance <= 0.0 {
        return false;
    }
    let (pa, pb) = (pieces(a), pieces(b));
    pa.len() == pb.len() && pa.iter().zip(&pb).all(|(x, y)| same_piece(x, y, tolerance))
}

/// A text's pieces: the text between numbers, and the numbers.
#[derive(Debug, PartialEq)]
enum Piece<'a> {
    Text(&'a str),
    Number(&'a str),
}

fn pieces(text: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut at = 0;
    for m in NUMBER.find_iter(text) {
        if m.start() > at {
            out.push(Piece::Text(&text[at..m.start()]));
        }
        out.push(Piece::Number(m.as_str()));
        at = m.end();
    }
    if at < text.len() {
        out.push(Piece::Text(&text[at..]));
    }
    out
}

fn same_piece(a: &Piece<'_>, b: &Piece<'_>, tolerance: f64) -> bool {
    match (a, b) {
        (Piece::Text(x), Piece::Text(y)) => x == y,
        (Piece::Number(x), Piece::Number(y)) => x == y || close(x, y, tolerance),
        _ => false,
    }
}

/// Whether two printed numbers are floats within the tolerance; whole numbers never are
/// unless equal.
fn close(a: &str, b: &str, tolerance: f64) -> bool {
    let whole = |s: &str| !s.contains(['.', 'e', 'E']);
    if whole(a) && whole(b) {
        return false;
    }
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => same_number(x, y, tolerance),
        _ => false,
    }
}

/// Whether two floats are within the tolerance: `|a − b| ≤ tolerance · max(|a|, |b|, 1)`.
pub(crate) fn same_number(a: f64, b: f64, tolerance: f64) -> bool {
    if a == b {
        return true;
    }
    let scale = a.abs().max(b.abs()).max(1.0);
    (a - b).abs() <= tolerance * scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_within_the_tolerance_match() {
        assert!(same_text(
            "acc 0.8333333333333334",
            "acc 0.8333333333333335",
            1e-9
        ));
        assert!(!same_text(
            "acc 0.8333333333333334",
            "acc 0.8333333333333335",
            0.0
        ));
        assert!(!same_text("acc 0.83", "acc 0.84", 1e-9));
        assert!(same_text("acc 0.83", "acc 0.84", 0.02));
        assert!(same_text("loss 1.5e-10", "loss 1.50001e-10", 1e-9));
    }

    #[test]
    fn whole_numbers_and_words_must_be_equal() {
        assert!(!same_text("600 rows", "601 rows", 0.5));
        assert!(!same_text("0.5 rows", "0.5 cols", 0.5));
        assert!(!same_text("0.5", "0.5 0.5", 0.5));
        assert!(same_text("[1.0, 2.0]", "[1.0000000001, 2.0]", 1e-9));
    }

    #[test]
    fn text_that_is_not_a_number_is_never_close() {
        assert!(!close("1.", "abc", 1.0));
        assert!(same_number(-0.0, 0.0, 0.0));
        assert!(!same_number(f64::NAN, f64::NAN, 1.0));
    }
}
