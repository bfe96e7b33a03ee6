//! TOML parser and type errors in the user's terms: which key, what it should be, an example.

use crate::text::did_you_mean;
use std::ops::Range;

/// A TOML parser or type error in the user's terms: which key, what it should be, an example.
pub(super) fn toml_message(text: &str, msg: &str, span: Option<Range<usize>>) -> (String, Option<String>) {
    if let Some(rest) = msg.strip_prefix("unknown field `") {
        let name = rest.split('`').next().unwrap_or("").to_string();
        // serde lists the table's keys: "unknown field `x`, expected one of `a`, `b`".
        let expected = rest.split_once("expected").map_or("", |(_, e)| e);
        let known: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        let help = match did_you_mean(&name, known.iter().copied()) {
            Some(s) => s,
            None => format!("allowed keys here: {}", known.join(", ")),
        };
        return (format!("unknown key `{name}`"), Some(help));
    }
    let spanned = span.as_ref().and_then(|r| text.get(r.clone())).unwrap_or("");
    if let (true, Some(span)) = (msg == "duplicate key" && !spanned.is_empty(), &span) {
        let key = spanned.trim_matches(|c| c == '"' || c == '\'');
        let line_start = text[..span.start].rfind('\n').map_or(0, |i| i + 1);
        if text[line_start..span.start].trim_start().starts_with('[') {
            return (
                format!("the table [{key}] appears twice"),
                Some(format!("merge the two [{key}] tables into one")),
            );
        }
        // The earlier definition in the same table, and which table that is.
        let mut table = "";
        let mut first = None;
        for (n, line) in text[..line_start].lines().enumerate() {
            let t = line.trim();
            if t.starts_with('[') {
                table = t;
                first = None;
            } else if first.is_none() && key_before(line, line.len()).as_deref() == Some(key) {
                first = Some(n + 1);
            }
        }
        let mut help = first.map_or("set each key once per table".to_string(), |n| format!("line {n} sets it first"));
        if table == "[params]" {
            help.push_str(&format!("; to sweep several values, give them in one list, e.g. `{key} = [1, 2, 3]`"));
        }
        return (format!("duplicate key `{key}`"), Some(help));
    }
    if let Some((found, expected)) = msg.strip_prefix("invalid type: ").and_then(|m| m.split_once(", expected ")) {
        // An integer beyond 64 bits: serde says "integer `N` as i128".
        let found = found.strip_suffix(" as i128").or_else(|| found.strip_suffix(" as u128")).unwrap_or(found);
        if let Some(v) = found.strip_prefix("integer ").filter(|v| v.trim_matches('`').len() > 18) {
            let what =
                span.as_ref().and_then(|r| key_before(text, r.start)).map_or("the value".into(), |k| format!("`{k}`"));
            let v = v.trim_matches('`');
            if v.parse::<i64>().is_err() {
                return (
                    format!("{what} = {v} is beyond the 64-bit integers TOML allows (-9223372036854775808 to 9223372036854775807)"),
                    None,
                );
            }
        }
        let expected = match expected {
            "i64" | "u64" | "i32" | "u32" | "an integer" => "an integer",
            "a sequence" => "a list",
            "a map" => "a table",
            e if e.starts_with("struct ") => "a table",
            e => e,
        };
        let found = match found.split_once(' ') {
            Some(("string", v)) => format!("the string {v}"),
            Some(("integer", v)) => format!("the integer {}", v.trim_matches('`')),
            Some(("floating", v)) => format!("the float {}", v.trim_start_matches("point ").trim_matches('`')),
            Some(("boolean", v)) => format!("`{}`", v.trim_matches('`')),
            _ if found == "sequence" => "a list".into(),
            _ if found == "map" => "a table".into(),
            _ => found.to_string(),
        };
        let key = span.as_ref().and_then(|r| key_before(text, r.start));
        // `key = [1]`: the span is an item of the list, not the whole value.
        let in_list = span.as_ref().is_some_and(|r| {
            let line_start = text[..r.start].rfind('\n').map_or(0, |i| i + 1);
            text[line_start..r.start].split_once('=').is_some_and(|(_, v)| !v.trim().is_empty())
        });
        let example = key.as_deref().and_then(|k| {
            Some(match k {
                "name" => "name = \"reaction-k\"",
                "seed" => "seed = 42",
                "replicates" => "replicates = 5",
                "out" => "out = \"runs/reaction\"",
                "zip" => "zip = [[\"k\", \"c0\"]]",
                "argv" => "argv = [\"python3\", \"sim.py\", \"--k\", \"{k}\"]",
                "shell" => "shell = \"./sim --k {k} > {out}/log.txt\"",
                "timeout" => "timeout = \"10m\"",
                "grace" => "grace = \"5s\"",
                "cwd" => "cwd = \"work\"",
                "dims" => "dims = { c = [\"t\"], t = [\"t\"] }",
                _ => return None,
            })
        });
        let msg = match &key {
            Some(k) if in_list => format!("each item of `{k}` must be {expected}, not {found}"),
            Some(k) => format!("`{k}` must be {expected}, not {found}"),
            None => format!("expected {expected}, not {found}"),
        };
        return (msg, example.map(|e| format!("write e.g. `{e}`")));
    }
    (msg.to_string(), None)
}

/// The key of the `key = value` line holding byte `offset`, when the offset is in its value.
pub(super) fn key_before(text: &str, offset: usize) -> Option<String> {
    let offset = offset.min(text.len());
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let (key, _) = text[line_start..offset].split_once('=')?;
    let key = key.trim().trim_matches(|c| c == '"' || c == '\'');
    (!key.is_empty() && !key.contains(['[', ']', '{', ','])).then(|| key.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_before_names_the_key_of_a_value() {
        let text = "seed = \"x\"\n[model]\n\"name\" = 3\nargv = [1]\n";
        assert_eq!(key_before(text, 7).as_deref(), Some("seed"));
        assert_eq!(key_before(text, 28).as_deref(), Some("name"));
        assert_eq!(key_before(text, 12), None);
        let (msg, _) = toml_message(text, "invalid type: integer `1`, expected a string", Some(38..39));
        assert_eq!(msg, "each item of `argv` must be a string, not the integer 1");
    }
}
