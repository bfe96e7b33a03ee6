//! Durations in a spec (`timeout`, `grace`): a number of seconds, or text such as "90s",
//! "10m" or "1h 30m".

use super::{Ctx, SpecError};
use std::time::Duration;
use toml::Spanned;

/// How to write a duration, for every error about one.
const HELP: &str = "write a number of seconds (`60`) or e.g. \"90s\", \"10m\", \"1h 30m\" (units: s, m, h, d, ms)";

impl Ctx<'_> {
    /// The duration `d` gives for the key `what`.
    pub(super) fn duration(&self, d: &Spanned<toml::Value>, what: &str) -> Result<Duration, SpecError> {
        let seconds = |x: f64| {
            Duration::try_from_secs_f64(x).map_err(|_| {
                self.at(d, format!("`{what}` must be a number of seconds >= 0, not {x}"), Some(HELP.into()))
            })
        };
        let text = match d.get_ref() {
            toml::Value::Integer(i) => return seconds(*i as f64),
            toml::Value::Float(f) => return seconds(*f),
            toml::Value::String(s) => s,
            other => {
                return Err(self.at(d, format!("`{what}` is a duration, not {}", other.type_str()), Some(HELP.into())))
            }
        };
        if let Ok(x) = text.trim().parse::<f64>() {
            return seconds(x);
        }
        humantime::parse_duration(text).map_err(|e| {
            use humantime::DurationError as E;
            let (reason, at) = match &e {
                E::NumberExpected(i) => ("expected a number here".to_string(), Some(*i..*i + 1)),
                E::InvalidCharacter(i) => ("unexpected character".to_string(), Some(*i..*i + 1)),
                E::UnknownUnit { unit, value, start, end } if unit.is_empty() => {
                    (format!("`{value}` needs a unit"), Some(*start..*end))
                }
                E::UnknownUnit { unit, start, end, .. } => (format!("unknown unit `{unit}`"), Some(*start..*end)),
                E::Empty => ("it is empty".to_string(), None),
                other => (other.to_string(), None),
            };
            self.err(Some(inside(d, text, at)), format!("`{what}` is not a duration: {reason}"), Some(HELP.into()))
        })
    }
}

/// The span of bytes `at` of the string `text` inside the file, when the string was written
/// without escapes (so that its bytes are the file's), moved out to whole characters;
/// otherwise the whole value.
fn inside(d: &Spanned<toml::Value>, text: &str, at: Option<std::ops::Range<usize>>) -> std::ops::Range<usize> {
    let span = d.span();
    let exact = span.end - span.start == text.len() + 2;
    match at {
        Some(r) if exact && r.start < text.len() => {
            let mut start = r.start;
            while !text.is_char_boundary(start) {
                start -= 1;
            }
            let mut end = r.end.clamp(start + 1, text.len());
            while !text.is_char_boundary(end) {
                end += 1;
            }
            span.start + 1 + start..span.start + 1 + end
        }
        _ => span,
    }
}
