//! Compact forms of numbers, sizes and durations for tables, summaries and plot labels.

/// A compact number label: up to four significant digits, exponent form for very large or
/// small magnitudes (`0.1`, `1e-7`, `2.5e6`, `12345`).
pub fn number(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return if v == 0.0 { "0".into() } else { v.to_string() };
    }
    let a = v.abs();
    if !(1e-3..1e5).contains(&a) {
        let s = format!("{v:.2e}");
        // 1.00e-7 -> 1e-7, 2.50e3 -> 2.5e3
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let m = if m.contains('.') { m.trim_end_matches('0').trim_end_matches('.') } else { m };
        return format!("{m}e{e}");
    }
    let decimals = (3 - a.log10().floor() as i32).clamp(0, 6) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// `1536` → `"1.5 KiB"`.
pub fn bytes(bytes: u64) -> String {
    match binary_units(bytes) {
        (_, "B") => format!("{bytes} B"),
        (value, unit) => format!("{value:.1} {unit}"),
    }
}

/// `bytes` in the largest binary unit (B, KiB, ..., TiB) that keeps the value at least 1.
pub fn binary_units(bytes: u64) -> (f64, &'static str) {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    (value, UNITS[unit])
}

/// A short duration with its unit: `"12.3 µs"`, `"12.3 ms"`, `"12.3 s"`.
pub fn duration_short(seconds: f64) -> String {
    if seconds < 1e-3 {
        format!("{:.1} µs", seconds * 1e6)
    } else if seconds < 1.0 {
        format!("{:.1} ms", seconds * 1e3)
    } else {
        format!("{seconds:.1} s")
    }
}

/// A rough long duration: `"42.0 s"`, `"3m 05s"`, `"2h 07m"`, `"3d 04h"`.
pub fn duration_rough(seconds: f64) -> String {
    if seconds < 60.0 {
        return format!("{seconds:.1} s");
    }
    let s = seconds.round() as u64;
    match s {
        0..3600 => format!("{}m {:02}s", s / 60, s % 60),
        3600..86400 => format!("{}h {:02}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d {:02}h", s / 86400, s % 86400 / 3600),
    }
}

/// "1 worker", "2 workers": a count and its noun, plural but for one.
pub fn count(n: u64, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// Truncates `s` to at most `n` characters, with an ellipsis.
pub fn shorten(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_is_plural_but_for_one() {
        assert_eq!(count(0, "worker"), "0 workers");
        assert_eq!(count(1, "worker"), "1 worker");
        assert_eq!(count(2, "array job"), "2 array jobs");
    }

    #[test]
    fn numbers() {
        let cases = [
            (0.1, "0.1"),
            (0.30000000000000004, "0.3"),
            (1e-7, "1e-7"),
            (2500000.0, "2.5e6"),
            (12345.0, "12345"),
            (-3.0, "-3"),
            (0.0, "0"),
            (1.23456, "1.235"),
        ];
        for (v, want) in cases {
            assert_eq!(number(v), want, "{v}");
        }
    }

    #[test]
    fn sizes_and_durations() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(50 << 20), "50.0 MiB");
        assert_eq!(duration_short(0.0000123), "12.3 µs");
        assert_eq!(duration_short(0.0123), "12.3 ms");
        assert_eq!(duration_short(12.34), "12.3 s");
        assert_eq!(duration_rough(42.04), "42.0 s");
        assert_eq!(duration_rough(185.0), "3m 05s");
        assert_eq!(duration_rough(7620.0), "2h 07m");
        assert_eq!(duration_rough(3.0 * 86400.0 + 4.0 * 3600.0), "3d 04h");
    }

    #[test]
    fn shorten_keeps_short_text_and_marks_cuts() {
        assert_eq!(shorten("abc", 3), "abc");
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(shorten("ééééé", 3), "éé…");
    }
}
