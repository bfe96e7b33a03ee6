//! `--set KEY=VALUE`: a value of the spec changed on the command line.
//!
//! The spec file's text is edited in place (with `toml_edit`, so that its comments and
//! layout stay), and the result is validated as any spec is. The text a run saves as
//! `spec.toml` is that result, followed by one comment line per `--set`, which a later
//! `--resume` without `--set` reads back to continue the same sweep (see [`recorded`]).
//! At the end, not the top, so that the lines of the file keep their numbers in the
//! messages that point into the spec as run (a worker that cannot start, say).

use super::{Spec, SpecError};
use crate::model::Registry;
use crate::text::did_you_mean;
use std::path::Path;
use std::str::FromStr;
use toml_edit::{DocumentMut, Item};

/// One `--set KEY=VALUE`, as given on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Override {
    /// The dotted path into the spec, e.g. `model.t_final`.
    pub key: String,
    /// The value, as TOML text (or a plain word, taken as a string).
    pub value: String,
}

impl FromStr for Override {
    type Err = String;

    fn from_str(s: &str) -> Result<Override, String> {
        let Some((key, value)) = s.split_once('=') else {
            return Err(format!("`{s}` is not KEY=VALUE, e.g. replicates=10 or params.k=[0.1,0.2]"));
        };
        let key = key.trim();
        if key.is_empty() {
            return Err(format!("`{s}` has no KEY before `=`, e.g. replicates=10"));
        }
        // One line: the spec as run records each --set on a comment line of its own.
        if s.contains(['\n', '\r']) {
            return Err(
                "a --set is one line; write arrays and tables inline, e.g. [1, 2] or { linspace = [0, 1, 5] }".into()
            );
        }
        Ok(Override { key: key.to_string(), value: value.trim().to_string() })
    }
}

impl std::fmt::Display for Override {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}={}", self.key, self.value)
    }
}

/// The line after the spec file's text in a spec as run that had `--set`s; one
/// `# --set KEY=VALUE` line follows per override, to the end.
const HEADER: &str = "# sweep: this spec file with these values set on the command line:";
/// What starts each recorded override's line.
const LINE: &str = "# --set ";

/// The overrides a spec as run (an out directory's `spec.toml`) was made with, in order.
pub fn recorded(text: &str) -> Vec<Override> {
    let Some(at) = text.rfind(&format!("\n{HEADER}\n")) else { return Vec::new() };
    let lines = text[at + HEADER.len() + 2..].lines();
    lines.map_while(|l| l.strip_prefix(LINE)).filter_map(|l| l.parse().ok()).collect()
}

/// `earlier` then `later`, where a key of `later` replaces the same key of `earlier`.
pub fn merge(earlier: &[Override], later: &[Override]) -> Vec<Override> {
    let mut out: Vec<Override> = earlier.iter().filter(|e| !later.iter().any(|l| l.key == e.key)).cloned().collect();
    out.extend(later.iter().cloned());
    out
}

/// Top-level keys, with `true` for those that hold a table.
const TOP: [(&str, bool); 15] = [
    ("name", false),
    ("seed", false),
    ("replicates", false),
    ("out", false),
    ("zip", false),
    ("common_seed", false),
    ("model", true),
    ("command", true),
    ("python", true),
    ("worker", true),
    ("params", true),
    ("output", true),
    ("sample", true),
    ("refine", true),
    ("resources", true),
];
/// Keys of the tables that are not open-ended (`env` takes any name).
const TABLES: [(&str, &[&str]); 8] = [
    ("command", &["argv", "shell", "timeout", "grace", "env", "cwd"]),
    ("python", &["function", "python", "timeout", "grace", "max_tasks_per_worker", "env", "cwd"]),
    ("worker", &["argv", "timeout", "grace", "max_tasks_per_worker", "env", "cwd"]),
    ("output", &["arrays", "dims"]),
    ("refine", &["axis", "metric", "budget", "batch", "tolerance"]),
    ("resources", &["threads", "memory", "gpus"]),
    ("replicates", &["min", "max", "round", "until"]),
    ("replicates.until", &["metric", "ci95_rel", "ci95_abs"]),
];

impl Spec {
    /// Reads the spec file at `path`, applies `sets` in order, and validates the result. An
    /// error the file has without the `sets` points into the file; one that a `--set` brings
    /// points at that `--set`, in a [`SpecError`] whose source is the argument.
    pub fn from_file_with(path: &Path, sets: &[Override], registry: &Registry) -> Result<Spec, SpecError> {
        if sets.is_empty() {
            return Spec::from_file(path, registry);
        }
        let text = Spec::read_text(path)?;
        let Some(body) = edit(&text, sets, registry)? else {
            // Not TOML: the spec's own message, with its line.
            return Err(Spec::parse(path, &text, registry).err().unwrap_or_else(|| SpecError {
                path: path.to_path_buf(),
                source: text.as_str().into(),
                span: None,
                message: "the spec is not TOML".into(),
                help: None,
            }));
        };
        let mut edited = body;
        if !edited.ends_with('\n') {
            edited.push('\n');
        }
        edited.push_str(&format!("\n{HEADER}\n"));
        for set in sets {
            edited.push_str(&format!("{LINE}{set}\n"));
        }
        Spec::parse(path, &edited, registry).map_err(|e| blame(path, &text, sets, registry, e))
    }
}

/// `text` with `sets` applied, or `None` when `text` is not TOML.
fn edit(text: &str, sets: &[Override], registry: &Registry) -> Result<Option<String>, SpecError> {
    let Ok(mut doc) = text.parse::<DocumentMut>() else { return Ok(None) };
    for set in sets {
        apply(&mut doc, set, registry)?;
    }
    Ok(Some(doc.to_string()))
}

/// The error of a spec that fails once `sets` are applied, told against the `--set` that
/// brings it: the first whose addition fails (or the file itself, when it fails alone).
fn blame(path: &Path, text: &str, sets: &[Override], registry: &Registry, whole: SpecError) -> SpecError {
    if let Err(e) = Spec::parse(path, text, registry) {
        return e;
    }
    for n in 1..=sets.len() {
        let edited = match edit(text, &sets[..n], registry) {
            Ok(Some(edited)) => edited,
            Ok(None) => break,
            Err(e) => return e,
        };
        if let Err(e) = Spec::parse(path, &edited, registry) {
            return at_value(&sets[n - 1], e.message, e.help);
        }
    }
    whole
}

/// An error under the value of `set` (shown as `--set:1:COL`, the argument as its line).
fn at_value(set: &Override, message: String, help: Option<String>) -> SpecError {
    let src = set.to_string();
    let start = set.key.len() + 1;
    SpecError { path: "--set".into(), span: Some(start..src.len().max(start + 1)), source: src.into(), message, help }
}

/// An error under the key of `set`.
fn at_key(set: &Override, message: String, help: Option<String>) -> SpecError {
    SpecError { path: "--set".into(), span: Some(0..set.key.len()), source: set.to_string().into(), message, help }
}

/// Parses the value of `set`: TOML, or a plain word (`fin`, `5m`, `model.py:f`) taken as a
/// string, as Hydra's overrides take one. What is neither (brackets, quotes, braces, commas,
/// spaces that do not parse) is an error: a malformed array or table is not a string.
fn value_of(set: &Override) -> Result<toml_edit::Value, SpecError> {
    if let Ok(v) = set.value.parse::<toml_edit::Value>() {
        return Ok(v);
    }
    let plain = !set.value.is_empty() && !set.value.contains(|c: char| c.is_whitespace() || "[]{}\"'=,#".contains(c));
    if plain {
        return Ok(toml_edit::Value::from(set.value.as_str()));
    }
    let why = set.value.parse::<toml_edit::Value>().err().map(|e| e.to_string()).unwrap_or_default();
    let first = why.lines().find(|l| !l.trim().is_empty() && !l.contains('|') && !l.starts_with("TOML parse error"));
    Err(at_value(
        set,
        format!("`{}` is not a TOML value{}", set.value, first.map(|w| format!(" ({})", w.trim())).unwrap_or_default()),
        Some(
            "quote it for the shell: e.g. --set params.c0='[0.5, 1.0]', --set params.k='{ linspace = [0, 1, 5] }', \
             --set name='\"a b\"'"
                .into(),
        ),
    ))
}

/// The keys this spec (as edited so far) lets `--set` change, for suggestions; keys under
/// `env` are open-ended and not listed.
fn settable(doc: &DocumentMut, registry: &Registry) -> Vec<String> {
    let mut keys: Vec<String> = TOP.iter().filter(|(_, table)| !table).map(|(k, _)| k.to_string()).collect();
    for (table, fields) in TABLES {
        let present = match table {
            // Tables of options that hold for any spec: a --set creates them.
            "output" | "resources" => true,
            t if t.starts_with("replicates") => doc.get("replicates").is_some_and(|r| r.is_table_like()),
            t => doc.get(t).is_some(),
        };
        if present {
            keys.extend(fields.iter().map(|f| format!("{table}.{f}")));
        }
    }
    let mut params: Vec<String> = table_keys(doc.get("params"));
    if let Some(model) = doc.get("model") {
        keys.extend(["model.name".to_string(), "model.save".to_string()]);
        let name = model.get("name").and_then(Item::as_str).unwrap_or_default();
        if let Some(m) = registry.get(name) {
            for p in m.params() {
                keys.push(format!("model.{}", p.name));
                if !params.iter().any(|q| q == p.name) {
                    params.push(p.name.to_string());
                }
            }
        }
    }
    keys.extend(params.iter().map(|p| format!("params.{p}")));
    // A design's method and size, and its ranges as the spec names them.
    if doc.get("sample").is_some() {
        keys.extend(["sample.method".to_string(), "sample.n".to_string()]);
        let ranges = table_keys(doc.get("sample")).into_iter().filter(|k| k != "method" && k != "n");
        keys.extend(ranges.map(|k| format!("sample.{k}")));
    }
    keys
}

/// The keys of a table (or inline table) item.
fn table_keys(item: Option<&Item>) -> Vec<String> {
    item.and_then(Item::as_table_like).map(|t| t.iter().map(|(k, _)| k.to_string()).collect()).unwrap_or_default()
}

/// Checks the key of `set` against what the spec allows, then sets it in `doc`.
fn apply(doc: &mut DocumentMut, set: &Override, registry: &Registry) -> Result<(), SpecError> {
    let parts: Vec<&str> = set.key.split('.').map(str::trim).collect();
    let keys = settable(doc, registry);
    let open_env = parts.len() == 3
        && parts[1] == "env"
        && ["command", "python", "worker"].contains(&parts[0])
        && doc.get(parts[0]).is_some();
    if parts.iter().any(|p| p.is_empty()) || !(open_env || keys.contains(&set.key)) {
        return Err(unknown_key(doc, set, &parts, &keys));
    }
    let value = value_of(set)?;
    // Setting a parameter fixes it, or sweeps it, in place of what the spec said of it.
    match parts.as_slice() {
        ["params", p] => {
            if let Some(m) = doc.get_mut("model").and_then(Item::as_table_like_mut) {
                m.remove(p);
            }
        }
        ["model", p] if *p != "name" && *p != "save" => {
            if let Some(t) = doc.get_mut("params").and_then(Item::as_table_like_mut) {
                t.remove(p);
            }
        }
        _ => {}
    }
    let (last, path) = parts.split_last().expect("a key has a part");
    let mut item: &mut Item = doc.as_item_mut();
    for (i, part) in path.iter().enumerate() {
        if item.get(part).is_some_and(|it| !it.is_table_like()) {
            let whole = parts[..=i].join(".");
            return Err(at_key(
                set,
                format!("`{whole}` is a value, not a table"),
                Some(format!("set it whole, e.g. --set {whole}='{{ ... }}'")),
            ));
        }
        if item.get(part).is_none() {
            let t = item.as_table_like_mut().expect("checked to be a table");
            t.insert(part, Item::Table(toml_edit::Table::new()));
        }
        item = item.get_mut(part).expect("inserted above");
    }
    let table = item.as_table_like_mut().expect("checked to be a table");
    let mut value = value;
    // Keep a comment that followed the old value.
    if let Some(old) = table.get(last).and_then(Item::as_value) {
        *value.decor_mut() = old.decor().clone();
    }
    table.insert(last, Item::Value(value));
    Ok(())
}

/// The error for a key the spec does not allow, with the closest key it does.
fn unknown_key(doc: &DocumentMut, set: &Override, parts: &[&str], keys: &[String]) -> SpecError {
    let tasks = ["model", "command", "python", "worker"];
    if tasks.contains(&parts[0]) && doc.get(parts[0]).is_none() {
        let has = tasks.iter().find(|t| doc.get(t).is_some()).unwrap_or(&"model");
        return at_key(
            set,
            format!("the spec has no [{}] table (its tasks are [{has}])", parts[0]),
            Some(format!("keys of [{has}]: {}", under(keys, has))),
        );
    }
    // Within a table, the last part alone: `model.` in common would make any two keys alike.
    let (table, last) = set.key.rsplit_once('.').unwrap_or(("", &set.key));
    let siblings: Vec<&str> =
        keys.iter().filter_map(|k| k.rsplit_once('.').filter(|(t, _)| *t == table).map(|(_, l)| l)).collect();
    let near = match table.is_empty() || siblings.is_empty() {
        true => did_you_mean(&set.key, keys.iter().map(String::as_str)),
        false => did_you_mean(last, siblings.iter().copied()).map(|_| ()).and_then(|()| {
            let best = siblings
                .iter()
                .max_by(|a, b| strsim::jaro_winkler(last, a).total_cmp(&strsim::jaro_winkler(last, b)))?;
            Some(format!("did you mean `{table}.{best}`?"))
        }),
    };
    let help = near
        .or_else(|| {
            // `t_final` alone: the model parameter or the swept one of that name.
            let last = parts.last().copied().unwrap_or_default();
            keys.iter().find(|k| k.rsplit('.').next() == Some(last)).map(|k| format!("did you mean `{k}`?"))
        })
        .or_else(|| match TOP.iter().any(|(k, _)| *k == parts[0]) {
            true => Some(format!("keys under `{}`: {}", parts[0], under(keys, parts[0]))),
            false => Some(format!(
                "the spec's keys: {}, and those under [model], [params], ... (see docs/spec.md)",
                TOP.iter().filter(|(_, t)| !t).map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
            )),
        });
    at_key(set, format!("the spec has no key `{}` to set", set.key), help)
}

/// The settable keys under `table`, for a message.
fn under(keys: &[String], table: &str) -> String {
    let found: Vec<&str> = keys.iter().filter(|k| k.starts_with(&format!("{table}."))).map(String::as_str).collect();
    match found.is_empty() {
        true => "none".into(),
        false => found.join(", "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_override_is_key_equals_value() {
        let o: Override = "params.k=[1, 2]".parse().unwrap();
        assert_eq!((o.key.as_str(), o.value.as_str()), ("params.k", "[1, 2]"));
        assert!("params.k".parse::<Override>().is_err());
        assert!("=3".parse::<Override>().is_err());
    }

    /// The fields serde names for an unknown field of `T`.
    fn fields<T: serde::de::DeserializeOwned + std::fmt::Debug>() -> Vec<String> {
        let e = toml::from_str::<T>("not_a_field_of_any_table = 1").unwrap_err().to_string();
        let list = e.split("expected one of ").nth(1).or_else(|| e.split("expected ").nth(1)).unwrap();
        let mut v: Vec<String> =
            // Two fields read "`a` or `b`"; more, "one of `a`, `b`, `c`".
            list.lines().next().unwrap().split(", ").flat_map(|f| f.split(" or ")).map(|f| f.trim_matches('`').to_string()).collect();
        v.sort();
        v
    }

    fn sorted(keys: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        v.sort();
        v
    }

    #[test]
    fn the_settable_keys_are_the_fields_of_the_raw_spec() {
        // A field added to the spec must be added here too, or --set would refuse it.
        use crate::spec::raw::*;
        assert_eq!(fields::<RawSpec>(), sorted(&TOP.map(|(k, _)| k)));
        let table = |name: &str| sorted(TABLES.iter().find(|(t, _)| *t == name).unwrap().1);
        assert_eq!(fields::<RawCommand>(), table("command"));
        assert_eq!(fields::<RawPython>(), table("python"));
        assert_eq!(fields::<RawWorker>(), table("worker"));
        assert_eq!(fields::<RawOutput>(), table("output"));
        assert_eq!(fields::<RawRefine>(), table("refine"));
        assert_eq!(fields::<crate::spec::RawResources>(), table("resources"));
        assert_eq!(fields::<RawAdaptive>(), table("replicates"));
        assert_eq!(fields::<RawUntil>(), table("replicates.until"));
    }

    #[test]
    fn recorded_overrides_read_back_and_merge() {
        let sets = vec!["replicates=5".parse().unwrap(), "seed=2".parse().unwrap()];
        let mut text = format!("seed = 2\n\n{HEADER}\n");
        for s in &sets {
            text.push_str(&format!("{LINE}{s}\n"));
        }
        assert_eq!(recorded(&text), sets);
        assert!(recorded("# a comment\nseed = 1\n").is_empty());
        let later = vec!["seed=3".parse().unwrap()];
        let merged = merge(&sets, &later);
        assert_eq!(merged.iter().map(ToString::to_string).collect::<Vec<_>>(), ["replicates=5", "seed=3"]);
    }
}
