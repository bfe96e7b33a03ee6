//! Metrics as programs report them: a JSON object (a command's `metrics.json`, a worker's
//! reply) read the way Python's `json` module writes it.
//!
//! - `NaN`, `Infinity` and `-Infinity` (which `json.dump` writes by default) are floats;
//! - `true`/`false` are booleans, `null` an empty cell;
//! - nested objects are flattened with dots: `{"fit": {"k": 1}}` is the metric `fit.k`;
//! - integers are kept exactly, including a u64 above `i64::MAX`;
//! - keys keep the order they were written in;
//! - arrays, and a key given twice, are errors naming the key.

use crate::model::Metric;
use serde::de::{DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

/// Marks the strings that stand for the non-standard number tokens: JSON strings can hold a
/// NUL only escaped, and no metric a program means as text starts with one.
const MARK: char = '\u{0}';

/// Parses a JSON object of metrics; the error says what is wrong, naming the key.
pub fn parse_object(bytes: &[u8]) -> Result<Vec<(String, Metric)>, String> {
    let text = standardise(bytes);
    let mut de = serde_json::Deserializer::from_slice(&text);
    let mut out = Vec::new();
    Flatten { prefix: String::new(), out: &mut out }.deserialize(&mut de).map_err(|e| {
        let msg = e.to_string();
        // serde_json appends " at line 1 column 12"; a message about a key needs no position.
        match msg.split_once(" at line ") {
            Some((head, _)) if head.starts_with('`') => head.to_string(),
            _ => format!("expected a JSON object of metrics: {msg}"),
        }
    })?;
    de.end().map_err(|e| format!("expected one JSON object of metrics: {e}"))?;
    if let Some(k) = duplicate(&out) {
        return Err(format!("`{k}` is given twice"));
    }
    Ok(out)
}

/// The JSON with `NaN`, `Infinity` and `-Infinity` outside strings replaced by marked
/// strings that standard JSON parsers read, and [`Flatten`] reads back as floats.
pub fn standardise(bytes: &[u8]) -> Cow<'_, [u8]> {
    const TOKENS: [(&[u8], &str); 3] =
        [(b"-Infinity", "\"\\u0000-inf\""), (b"Infinity", "\"\\u0000inf\""), (b"NaN", "\"\\u0000NaN\"")];
    let mut out: Option<Vec<u8>> = None;
    let (mut in_string, mut escaped) = (false, false);
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
        } else if b == b'"' {
            in_string = true;
        } else if let Some((token, with)) = TOKENS.iter().find(|(t, _)| bytes[i..].starts_with(t)) {
            let out = out.get_or_insert_with(|| bytes[..i].to_vec());
            out.extend_from_slice(with.as_bytes());
            i += token.len();
            continue;
        }
        if let Some(out) = &mut out {
            out.push(b);
        }
        i += 1;
    }
    match out {
        Some(v) => Cow::Owned(v),
        None => Cow::Borrowed(bytes),
    }
}

/// Reads a metrics object into `out` (from JSON that went through [`standardise`]); a
/// seed for reading the metrics inside a larger message.
pub struct Flatten<'o> {
    prefix: String,
    out: &'o mut Vec<(String, Metric)>,
}

impl<'o> Flatten<'o> {
    /// Reads into `out`.
    pub fn new(out: &'o mut Vec<(String, Metric)>) -> Self {
        Flatten { prefix: String::new(), out }
    }
}

/// Whether `metrics` names a key twice (after flattening): that key.
pub fn duplicate(metrics: &[(String, Metric)]) -> Option<&str> {
    (1..metrics.len()).find(|&i| metrics[..i].iter().any(|(k, _)| *k == metrics[i].0)).map(|i| metrics[i].0.as_str())
}

impl<'de> DeserializeSeed<'de> for Flatten<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Flatten<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }
    fn visit_map<M: MapAccess<'de>>(self, mut m: M) -> Result<(), M::Error> {
        while let Some(key) = m.next_key::<Cow<'de, str>>()? {
            let name = if self.prefix.is_empty() { key.into_owned() } else { format!("{}.{key}", self.prefix) };
            m.next_value_seed(Value { name, out: self.out })?;
        }
        Ok(())
    }
}

/// One value, named `name`: a metric, or a nested object to flatten.
struct Value<'o> {
    name: String,
    out: &'o mut Vec<(String, Metric)>,
}

impl<'de> DeserializeSeed<'de> for Value<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Value<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number, a boolean, a string, null or an object")
    }
    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.out.push((self.name, Metric::Int(v)));
        Ok(())
    }
    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.out.push((self.name, Metric::from(v)));
        Ok(())
    }
    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        self.out.push((self.name, Metric::Float(v)));
        Ok(())
    }
    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.out.push((self.name, Metric::Bool(v)));
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        self.out.push((self.name, Metric::Null));
        Ok(())
    }
    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        let metric = match v.strip_prefix(MARK) {
            Some("NaN") => Metric::Float(f64::NAN),
            Some("inf") => Metric::Float(f64::INFINITY),
            Some("-inf") => Metric::Float(f64::NEG_INFINITY),
            _ => Metric::Str(v.into()),
        };
        self.out.push((self.name, metric));
        Ok(())
    }
    fn visit_map<M: MapAccess<'de>>(self, m: M) -> Result<(), M::Error> {
        Flatten { prefix: self.name, out: self.out }.visit_map(m)
    }
    fn visit_seq<S: SeqAccess<'de>>(self, _: S) -> Result<(), S::Error> {
        Err(S::Error::custom(format!(
            "`{}` is an array; a metric is a number, a boolean, a string or null (write arrays to files)",
            self.name
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Vec<(String, Metric)>, String> {
        parse_object(s.as_bytes())
    }

    #[test]
    fn python_json_dump_output_is_read_in_order() {
        // What json.dumps({"x": nan, "y": inf, "z": -inf, "ok": True, "n": None, ...}) writes.
        let got = parse(
            r#"{"x": NaN, "y": Infinity, "z": -Infinity, "ok": true, "no": false, "n": null, "s": "NaN", "i": -4, "f": 1e3}"#,
        )
        .unwrap();
        let names: Vec<&str> = got.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["x", "y", "z", "ok", "no", "n", "s", "i", "f"]);
        assert!(matches!(got[0].1, Metric::Float(f) if f.is_nan()));
        assert_eq!(got[1].1, Metric::Float(f64::INFINITY));
        assert_eq!(got[2].1, Metric::Float(f64::NEG_INFINITY));
        assert_eq!(got[3].1, Metric::Bool(true));
        assert_eq!(got[4].1, Metric::Bool(false));
        assert_eq!(got[5].1, Metric::Null);
        assert_eq!(got[6].1, Metric::Str("NaN".into()), "a string that reads NaN stays a string");
        assert_eq!(got[7].1, Metric::Int(-4));
        assert_eq!(got[8].1, Metric::Float(1000.0));
    }

    #[test]
    fn tokens_inside_strings_are_left_alone() {
        let got = parse(r#"{"a\"NaN": "Infinity \" NaN", "b": [NaN]}"#);
        assert_eq!(
            got.unwrap_err(),
            "`b` is an array; a metric is a number, a boolean, a string or null (write arrays to files)"
        );
        let got = parse(r#"{"a\"NaN": "Infinity \" -Infinity"}"#).unwrap();
        assert_eq!(got, vec![("a\"NaN".to_string(), Metric::Str("Infinity \" -Infinity".into()))]);
    }

    #[test]
    fn nested_objects_are_flattened_with_dots() {
        let got = parse(r#"{"fit": {"k": 0.5, "ci": {"lo": 0.4, "hi": 0.6}}, "n": 3}"#).unwrap();
        let names: Vec<&str> = got.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["fit.k", "fit.ci.lo", "fit.ci.hi", "n"]);
    }

    #[test]
    fn integers_are_exact_even_above_i64_max() {
        let got =
            parse(r#"{"seed": 11851360948378580888, "small": 9007199254740993, "neg": -9223372036854775808}"#).unwrap();
        assert_eq!(got[0].1, Metric::UInt(11851360948378580888));
        assert_eq!(got[1].1, Metric::Int(9007199254740993));
        assert_eq!(got[2].1, Metric::Int(i64::MIN));
    }

    #[test]
    fn bad_input_is_an_error_naming_the_key_or_the_problem() {
        let cases = [
            (r#"{"a": 1, "a": 2}"#, "`a` is given twice"),
            (r#"{"a": {"b": 1}, "a.b": 2}"#, "`a.b` is given twice"),
            (r#"{"c": [1, 2]}"#, "`c` is an array"),
            ("[1, 2]", "expected a JSON object of metrics"),
            ("not json", "expected a JSON object of metrics"),
            ("", "expected a JSON object of metrics"),
            (r#"{"a": 1"#, "expected a JSON object of metrics"),
            (r#"{"a": 1} {"b": 2}"#, "expected one JSON object of metrics"),
        ];
        for (text, want) in cases {
            let err = parse(text).unwrap_err();
            assert!(err.starts_with(want), "{text}: {err}");
        }
    }
}
