//! Floats as short text for one-line values: rounded, but never so that a fraction reads as a
//! whole number (`mae=34288.0` for 34288.403 would look like another, exact value).

/// `x` with `digits` significant digits, trailing zeros dropped, in scientific notation when
/// very large or small; a float keeps one decimal, as Python writes it (`1.0`).
pub(super) fn round_significant(x: f64, digits: i32) -> String {
    if x == 0.0 {
        return "0.0".into();
    }
    if !x.is_finite() {
        return x.to_string();
    }
    let magnitude = x.abs().log10().floor() as i32;
    if !(-4..15).contains(&magnitude) {
        return format!("{:.*e}", (digits - 1) as usize, x);
    }
    let text = fixed(x, (digits - 1 - magnitude).max(0) as usize);
    if text.contains('.') {
        text
    } else {
        format!("{text}.0")
    }
}

/// A float in at most about 6 decimals (more where 6 would hide its fraction), without
/// trailing zeros; a whole value without a decimal point (a statistic such as `mean=5`).
pub(super) fn format_number(x: f64) -> String {
    if x == x.trunc() && x.abs() < 1e15 {
        return format!("{x:.0}");
    }
    let text = fixed(x, 6);
    if text == "0" || text == "-0" {
        format!("{x:.3e}")
    } else {
        text
    }
}

/// `x` with `decimals` decimals, or more where those would make a fraction look whole (up to
/// what an f64 holds), trailing zeros and point dropped. Small values whose every shown
/// decimal is zero stay "0" (callers switch to scientific notation for those).
fn fixed(x: f64, decimals: usize) -> String {
    let shows_fraction = |t: &str| t.parse::<f64>().is_ok_and(|r| r.fract() != 0.0);
    let mut text = format!("{x:.decimals$}");
    if x.fract() != 0.0 && x.abs() >= 1.0 && !shows_fraction(&text) {
        if let Some(more) = (decimals + 1..=17)
            .map(|d| format!("{x:.d$}"))
            .find(|t| shows_fraction(t))
        {
            text = more;
        }
    }
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_never_makes_a_fraction_look_whole() {
        assert_eq!(round_significant(0.7777777777777778, 4), "0.7778");
        assert_eq!(round_significant(1234.5678, 4), "1234.6");
        assert_eq!(round_significant(34288.403, 4), "34288.4");
        assert_eq!(round_significant(34288.03, 4), "34288.03");
        assert_eq!(round_significant(-99999.9999, 4), "-99999.9999");
        assert_eq!(round_significant(34288.0, 4), "34288.0");
        assert_eq!(round_significant(1.0, 4), "1.0");
        assert_eq!(round_significant(0.000012345, 4), "1.234e-5");
        assert_eq!(round_significant(2.0e20, 4), "2.000e20");
    }

    #[test]
    fn summary_numbers_never_make_a_fraction_look_whole() {
        assert_eq!(format_number(5.0), "5");
        assert_eq!(format_number(2.5), "2.5");
        assert_eq!(format_number(34288.403), "34288.403");
        assert_eq!(format_number(34288.0000001), "34288.0000001");
        assert_eq!(format_number(-7.00000004), "-7.00000004");
        assert_eq!(format_number(0.0000001234), "1.234e-7");
    }
}
