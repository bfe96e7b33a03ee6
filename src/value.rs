//! Parameter values and their canonical text form.

use std::fmt;
use std::sync::Arc;

/// One parameter value: what a spec can write for a parameter.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A 64-bit integer.
    Int(i64),
    /// A 64-bit float.
    Float(f64),
    /// A string.
    Str(Arc<str>),
    /// A boolean.
    Bool(bool),
}

/// The type of a [`Value`], used to declare model parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueKind {
    /// An integer.
    Int,
    /// A float (integers are accepted and converted).
    Float,
    /// A string.
    Str,
    /// A boolean.
    Bool,
}

impl ValueKind {
    /// The name used in error messages and `sweep models`.
    pub fn name(self) -> &'static str {
        match self {
            ValueKind::Int => "integer",
            ValueKind::Float => "float",
            ValueKind::Str => "string",
            ValueKind::Bool => "bool",
        }
    }
}

impl Value {
    /// The value's type.
    pub fn kind(&self) -> ValueKind {
        match self {
            Value::Int(_) => ValueKind::Int,
            Value::Float(_) => ValueKind::Float,
            Value::Str(_) => ValueKind::Str,
            Value::Bool(_) => ValueKind::Bool,
        }
    }

    /// Converts to `kind` where that loses nothing (an integer to a float); `None` otherwise.
    pub fn coerce(&self, kind: ValueKind) -> Option<Value> {
        match (self, kind) {
            (Value::Int(i), ValueKind::Float) => Some(Value::Float(*i as f64)),
            (v, k) if v.kind() == k => Some(v.clone()),
            _ => None,
        }
    }

    /// The value as a float, if it is a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// The canonical form that task ids and seeds are derived from (see docs/seeds.md):
    /// `i:<decimal>`, `f:<16 hex digits of the IEEE-754 bits>`, `s:<JSON string>`, `b:true|false`.
    pub fn canonical(&self) -> String {
        match self {
            Value::Int(i) => format!("i:{i}"),
            // -0.0 and 0.0 are the same point of a grid.
            Value::Float(f) => format!("f:{:016x}", if *f == 0.0 { 0.0f64 } else { *f }.to_bits()),
            Value::Str(s) => format!("s:{}", serde_json::to_string(&**s).expect("strings serialize")),
            Value::Bool(b) => format!("b:{b}"),
        }
    }

    /// Appends the value as text (shortest round-trip form for floats) to `out`.
    pub fn write_text(&self, out: &mut String) {
        match self {
            Value::Int(i) => out.push_str(itoa::Buffer::new().format(*i)),
            Value::Float(f) => push_f64(out, *f),
            Value::Str(s) => out.push_str(s),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        }
    }

    /// The value as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Int(i) => (*i).into(),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                .unwrap_or_else(|| serde_json::Value::String(f.to_string())),
            Value::Str(s) => serde_json::Value::String(s.to_string()),
            Value::Bool(b) => (*b).into(),
        }
    }
}

/// A float in its shortest round-trip form (`0.1`, `1e-7`, `inf`, `NaN`), the form pandas
/// and numpy read back to the same bits. `buf` holds the digits.
pub fn f64_text(f: f64, buf: &mut ryu::Buffer) -> &str {
    if f.is_finite() {
        buf.format_finite(f)
    } else if f.is_nan() {
        "NaN"
    } else if f > 0.0 {
        "inf"
    } else {
        "-inf"
    }
}

/// Appends a float in its shortest round-trip form (see [`f64_text`]).
pub fn push_f64(out: &mut String, f: f64) {
    out.push_str(f64_text(f, &mut ryu::Buffer::new()));
}

/// `x` rounded to microseconds as (whole, millionths): the six-decimal form of durations in
/// the journal and `results.csv`. Halves round away from zero; negative, NaN and infinite
/// durations count as 0.
pub fn micros_parts(x: f64) -> (u64, u64) {
    let micros = if x.is_finite() && x > 0.0 {
        // Rounded by hand: `f64::round` is a library call on baseline x86-64. Both steps are
        // exact for any duration below 2^52 microseconds (142 years).
        let y = x * 1e6;
        let t = y as u64;
        t + u64::from(y - t as f64 >= 0.5)
    } else {
        0
    };
    (micros / 1_000_000, micros % 1_000_000)
}

/// `x` as the journal keeps it: rounded to microseconds (see [`micros_parts`]), the f64
/// nearest that decimal, as reading the journal's six decimals back gives it. So a row
/// filled by a run and one filled from the journal hold the same duration.
pub fn as_journaled(x: f64) -> f64 {
    let (whole, frac) = micros_parts(x);
    // One correctly rounded division of an exact integer: the nearest f64, as a parser's.
    (whole * 1_000_000 + frac) as f64 / 1e6
}

/// Appends `whole.millionths` with exactly six decimals.
pub fn push_fixed6(out: &mut Vec<u8>, x: f64) {
    let (whole, mut frac) = micros_parts(x);
    out.extend_from_slice(itoa::Buffer::new().format(whole).as_bytes());
    let mut digits = *b".000000";
    for d in digits[1..].iter_mut().rev() {
        *d = b'0' + (frac % 10) as u8;
        frac /= 10;
    }
    out.extend_from_slice(&digits);
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        self.write_text(&mut s);
        f.write_str(&s)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Str(v.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_forms() {
        assert_eq!(Value::Int(-3).canonical(), "i:-3");
        assert_eq!(Value::Float(1.0).canonical(), "f:3ff0000000000000");
        assert_eq!(Value::Float(-0.0).canonical(), Value::Float(0.0).canonical());
        assert_eq!(Value::from("a\"b").canonical(), "s:\"a\\\"b\"");
        assert_eq!(Value::Bool(true).canonical(), "b:true");
    }

    #[test]
    fn micros_round_like_f64_round() {
        let mut xs = vec![0.0, 1e-7, 4.999e-7, 5e-7, 0.0000015, 0.0000025, 1.0, 59.9999995, 1e9 + 0.5e-6];
        // Pseudo-random durations over many magnitudes, and exact half-microseconds.
        let mut u = 0x9e3779b97f4a7c15u64;
        for _ in 0..100_000 {
            u ^= u << 13;
            u ^= u >> 7;
            u ^= u << 17;
            xs.push((u >> 11) as f64 / (1u64 << 53) as f64 * 10f64.powi((u % 12) as i32 - 6));
            xs.push(((u % 1_000_000_000) as f64 + 0.5) / 1e6);
        }
        for x in xs {
            let want = (x * 1e6).round() as u64;
            assert_eq!(micros_parts(x), (want / 1_000_000, want % 1_000_000), "{x}");
        }
        assert_eq!(micros_parts(-1.0), (0, 0));
        assert_eq!(micros_parts(f64::NAN), (0, 0));
        assert_eq!(micros_parts(f64::INFINITY), (0, 0));
    }

    #[test]
    fn text_forms_round_trip() {
        for f in [0.1, 1e-7, 2.0, 123456.789, -5e300] {
            let mut s = String::new();
            push_f64(&mut s, f);
            assert_eq!(s.parse::<f64>().unwrap(), f, "{s}");
        }
    }
}

#[cfg(test)]
mod journaled {
    #[test]
    fn durations_round_to_what_reading_the_journal_back_gives() {
        let mut x = 0.0000004f64;
        while x < 5000.0 {
            let mut text = Vec::new();
            super::push_fixed6(&mut text, x);
            let read: f64 = std::str::from_utf8(&text).unwrap().parse().unwrap();
            assert_eq!(super::as_journaled(x).to_bits(), read.to_bits(), "{x}");
            x = x * 1.37 + 0.0000013;
        }
    }
}
