//! Sizes of memory as people write them: `"6 GiB"`, `"512MB"`, `"2G"`.

/// Bytes in `text`: a number (decimals allowed) and an optional unit. `KiB`, `MiB`, `GiB`,
/// `TiB` and the bare `K`, `M`, `G`, `T` of SLURM and `ulimit` are powers of 1024; `kB`,
/// `MB`, `GB` and `TB` are powers of 1000; no unit (or `B`) is bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (number, unit) = (&t[..split], t[split..].trim());
    let value: f64 = number.parse().map_err(|_| format!("`{text}` is not a size"))?;
    let scale: f64 = match unit {
        "" | "B" => 1.0,
        "K" | "KiB" | "k" => 1024.0,
        "M" | "MiB" => 1024f64.powi(2),
        "G" | "GiB" => 1024f64.powi(3),
        "T" | "TiB" => 1024f64.powi(4),
        "kB" | "KB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "TB" => 1e12,
        _ => return Err(format!("`{text}` has an unknown unit `{unit}`")),
    };
    let bytes = value * scale;
    if !(bytes.is_finite() && bytes >= 1.0 && bytes < 2f64.powi(63)) {
        return Err(format!("`{text}` is not a size sweep can reserve"));
    }
    Ok(bytes.round() as u64)
}

/// `bytes` for people: `6 GiB`, `1.5 GiB`, `300 MiB`.
pub fn format_size(bytes: u64) -> String {
    let (value, unit) = crate::text::binary_units(bytes);
    if unit == "B" || value.fract() < 0.05 || value >= 100.0 {
        format!("{value:.0} {unit}")
    } else {
        format!("{value:.1} {unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_in_binary_and_decimal_units() {
        let gib = 1u64 << 30;
        for (text, bytes) in [
            ("6 GiB", 6 * gib),
            ("6GiB", 6 * gib),
            ("2G", 2 * gib),
            ("1.5 GiB", 3 * gib / 2),
            ("512 MB", 512_000_000),
            ("100", 100),
            ("4 KiB", 4096),
        ] {
            assert_eq!(parse_size(text), Ok(bytes), "{text}");
        }
        for bad in ["", "GiB", "6 GiBs", "-1 GiB", "0", "1e99 TiB"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sizes_format_for_people() {
        assert_eq!(format_size(6 << 30), "6 GiB");
        assert_eq!(format_size(3 << 29), "1.5 GiB");
        assert_eq!(format_size(300 << 20), "300 MiB");
        assert_eq!(format_size(17), "17 B");
    }
}
