//! Tick positions and labels, chosen here rather than by plotters so that labels are
//! exact ("0", never "-2.78e-17"), log axes get 1-2-5 ticks when they span less than a
//! few decades, and the label area can be sized from the widest label before drawing.

/// Nice linear ticks in `[lo, hi]`: multiples of 1, 2 or 5 × 10^k, at most `max` of
/// them (at least two when the range allows). Each tick is an integer multiple of the
/// step, and one within a millionth of a step of zero is exactly zero.
pub(crate) fn linear(lo: f64, hi: f64, max: usize) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo || max == 0 {
        return Vec::new();
    }
    let step = nice_step((hi - lo) / max.max(1) as f64);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|i| snap(i as f64 * step, step)).collect()
}

/// The smallest 1, 2 or 5 × 10^k at least `raw`.
fn nice_step(raw: f64) -> f64 {
    let p = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * p).find(|s| *s >= raw * (1.0 - 1e-12)).unwrap_or(10.0 * p)
}

/// `v` rounded away from binary noise: zero when within a millionth of `step` of it,
/// else rounded to three decimals below the step's (0.1 + 0.2 is 0.3).
pub(crate) fn snap(v: f64, step: f64) -> f64 {
    if v.abs() < step.abs() * 1e-6 {
        return 0.0;
    }
    let digits = (-(step.abs().log10().floor()) as i32 + 3).clamp(0, 15);
    let scale = 10f64.powi(digits);
    let r = (v * scale).round() / scale;
    if r.is_finite() {
        r
    } else {
        v
    }
}

/// The label of the linear tick `v` among ticks `step` apart: as many decimals as the
/// step needs and no more, so neighbours never print alike ("10000.2", not "10000"), in
/// exponent form beyond a million or below 1e-4.
pub(crate) fn linear_label(v: f64, step: f64) -> String {
    if v == 0.0 || !v.is_finite() || !step.is_finite() || step <= 0.0 {
        return crate::text::number(v);
    }
    let (mag, res) = (v.abs().log10().floor() as i32, step.log10().floor() as i32);
    let trim = |s: String| -> String {
        match s.split_once('e') {
            Some((m, e)) if m.contains('.') => format!("{}e{e}", m.trim_end_matches('0').trim_end_matches('.')),
            _ if s.contains('.') => s.trim_end_matches('0').trim_end_matches('.').to_string(),
            _ => s,
        }
    };
    if !(-4..6).contains(&mag) {
        let digits = (mag - res).clamp(0, 10) as usize;
        return trim(format!("{v:.digits$e}"));
    }
    let decimals = (-res).clamp(0, 10) as usize;
    trim(format!("{v:.decimals$}"))
}

/// Ticks of a log axis, as positions (log10 of the values) in `[lo, hi]`: whole decades
/// when the axis spans at least two (thinned to at most `max`), else 1, 2 and 5 times
/// the decades, else linear ticks of the values.
pub(crate) fn log(lo: f64, hi: f64, max: usize) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return Vec::new();
    }
    let (a, b) = (lo.ceil() as i64, hi.floor() as i64);
    if b - a >= 2 {
        let every = ((b - a + 1) as usize).div_ceil(max.max(1)).max(1) as i64;
        return (a..=b).filter(|e| e.rem_euclid(every) == 0).map(|e| e as f64).collect();
    }
    let mut ticks = Vec::new();
    for e in lo.floor() as i64..=hi.ceil() as i64 {
        for m in [1.0f64, 2.0, 5.0] {
            let p = e as f64 + m.log10();
            if p >= lo - 1e-12 && p <= hi + 1e-12 {
                ticks.push(p);
            }
        }
    }
    if ticks.len() >= 3 {
        return ticks;
    }
    // Less than half a decade: ticks of the values themselves.
    let (vlo, vhi) = (10f64.powf(lo), 10f64.powf(hi));
    linear(vlo, vhi, max.min(6)).into_iter().filter(|v| *v > 0.0).map(f64::log10).collect()
}

/// The label of a tick at `pos` of a log axis: its value.
pub(crate) fn log_label(pos: f64) -> String {
    let v = 10f64.powf(pos);
    // Undo the error of powf so 10^log10(0.2) prints as 0.2.
    let p = 10f64.powf(v.log10().floor() - 3.0);
    crate::text::number((v / p).round() * p)
}

/// The width in pixels of the widest label, at `font` pixels (sans-serif averages about
/// 0.6 em per character; digits are 0.56 em).
pub(crate) fn text_width<'a>(labels: impl IntoIterator<Item = &'a str>, font: u32) -> u32 {
    let chars = labels.into_iter().map(|l| l.chars().count()).max().unwrap_or(0);
    (chars as f64 * font as f64 * 0.6).ceil() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bug: a y axis from -0.1 to 0.5 labelled "-2.78e-17" where it meant 0.
    #[test]
    fn zero_is_zero() {
        let t = linear(-0.1, 0.5, 8);
        assert!(t.contains(&0.0), "{t:?}");
        let labels: Vec<String> = t.iter().map(|v| crate::text::number(*v)).collect();
        assert!(labels.iter().all(|l| !l.contains('e')), "{labels:?}");
        assert_eq!(snap(-2.7755575615628914e-17, 0.1), 0.0);
        assert_eq!(snap(0.30000000000000004, 0.1), 0.3);
        assert_eq!(snap(1234.5, 100.0), 1234.5, "only binary noise is rounded away");
    }

    #[test]
    fn linear_ticks_are_nice() {
        assert_eq!(linear(0.0, 10.0, 5), [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(linear(0.13, 0.61, 5), [0.2, 0.3, 0.4, 0.5, 0.6]);
        assert_eq!(linear(-3.0, -1.0, 4), [-3.0, -2.5, -2.0, -1.5, -1.0]);
        assert!(linear(1.0, 1.0, 5).is_empty());
    }

    #[test]
    fn labels_have_the_precision_of_the_step() {
        let t = linear(10000.05, 10000.95, 5);
        let labels: Vec<String> = t.iter().map(|v| linear_label(*v, t[1] - t[0])).collect();
        assert_eq!(labels, ["10000.2", "10000.4", "10000.6", "10000.8"]);
        assert_eq!(linear_label(0.25, 0.05), "0.25");
        assert_eq!(linear_label(2.0, 0.5), "2");
        assert_eq!(linear_label(3e-6, 1e-6), "3e-6");
        assert_eq!(linear_label(2.5e7, 5e6), "2.5e7");
        assert_eq!(linear_label(0.0, 0.1), "0");
    }

    #[test]
    fn log_ticks() {
        assert_eq!(log(-7.2, -0.9, 10), [-7.0, -6.0, -5.0, -4.0, -3.0, -2.0, -1.0]);
        assert_eq!(log(-8.0, 8.0, 6), [-6.0, -3.0, 0.0, 3.0, 6.0], "thinned");
        let t: Vec<String> = log(-1.05, 0.35, 10).iter().map(|p| log_label(*p)).collect();
        assert_eq!(t, ["0.1", "0.2", "0.5", "1", "2"]);
        let t: Vec<String> = log(0.0, 0.3, 10).iter().map(|p| log_label(*p)).collect();
        assert_eq!(t, ["1", "1.2", "1.4", "1.6", "1.8"]);
    }

    #[test]
    fn widths() {
        assert_eq!(text_width(["1", "-0.125"], 10), 36);
        assert_eq!(text_width([], 10), 0);
    }
}
