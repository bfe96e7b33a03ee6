//! The spec file as written: serde structs that keep every span.

use indexmap::IndexMap;
use serde::Deserialize;
use toml::Spanned;

/// `zip = [["a", "b"], ...]` with spans.
pub type ZipGroups = Spanned<Vec<Spanned<Vec<Spanned<String>>>>>;

/// A table whose keys and values keep their spans, in file order.
pub type SpannedTable = IndexMap<Spanned<String>, Spanned<toml::Value>>;

/// The top level of a spec file (fields are the keys of the spec reference, docs/spec.md).
#[allow(missing_docs)]
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct RawSpec {
    pub name: Option<Spanned<String>>,
    pub seed: Option<Spanned<i64>>,
    pub replicates: Option<Spanned<RawReplicates>>,
    pub out: Option<Spanned<String>>,
    pub zip: Option<ZipGroups>,
    pub common_seed: Option<Spanned<Vec<Spanned<String>>>>,
    pub model: Option<Spanned<SpannedTable>>,
    pub command: Option<Spanned<RawCommand>>,
    pub python: Option<Spanned<RawPython>>,
    pub worker: Option<Spanned<RawWorker>>,
    pub params: Option<Spanned<SpannedTable>>,
    pub sample: Option<Spanned<SpannedTable>>,
    pub refine: Option<Spanned<RawRefine>>,
    pub output: Option<Spanned<RawOutput>>,
    pub resources: Option<Spanned<RawResources>>,
}

/// The `[refine]` table (fields are the keys of docs/sampling.md's "Refinement").
#[allow(missing_docs)]
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct RawRefine {
    pub axis: Option<Spanned<String>>,
    pub metric: Option<Spanned<String>>,
    pub budget: Option<Spanned<i64>>,
    pub batch: Option<Spanned<i64>>,
    pub tolerance: Option<Spanned<f64>>,
}

/// The `[output]` table.
#[allow(missing_docs)]
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct RawOutput {
    pub arrays: Option<Spanned<String>>,
    pub dims: Option<Spanned<RawDims>>,
}

/// `[output] dims = { c = ["t"] }`: array name → its dimensions' names, with spans.
pub type RawDims = IndexMap<Spanned<String>, Spanned<Vec<Spanned<String>>>>;

/// A `[command]` table (fields are the keys of docs/tasks.md, "Command tasks").
#[allow(missing_docs)]
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct RawCommand {
    pub argv: Option<Spanned<Vec<Spanned<String>>>>,
    pub shell: Option<Spanned<String>>,
    pub timeout: Option<Spanned<toml::Value>>,
    pub grace: Option<Spanned<toml::Value>>,
    pub env: Option<IndexMap<Spanned<String>, Spanned<String>>>,
    pub cwd: Option<Spanned<String>>,
}

/// A `[python]` table (fields are the keys of docs/tasks.md, "Python functions").
#[allow(missing_docs)]
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct RawPython {
    pub function: Option<Spanned<String>>,
    pub python: Option<Spanned<String>>,
    pub timeout: Option<Spanned<toml::Value>>,
    pub grace: Option<Spanned<toml::Value>>,
    pub max_tasks_per_worker: Option<Spanned<i64>>,
    pub env: Option<IndexMap<Spanned<String>, Spanned<String>>>,
    pub cwd: Option<Spanned<String>>,
}

/// A `[worker]` table (fields are the keys of docs/tasks.md, "Any language").
#[allow(missing_docs)]
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct RawWorker {
    pub argv: Option<Spanned<Vec<Spanned<String>>>>,
    pub timeout: Option<Spanned<toml::Value>>,
    pub grace: Option<Spanned<toml::Value>>,
    pub max_tasks_per_worker: Option<Spanned<i64>>,
    pub env: Option<IndexMap<Spanned<String>, Spanned<String>>>,
    pub cwd: Option<Spanned<String>>,
}

/// `replicates`: a count, or a table of adaptive replicates.
#[derive(Debug)]
pub enum RawReplicates {
    /// `replicates = 5`.
    Count(i64),
    /// `replicates = { min = 5, max = 200, until = { ... } }`.
    Adaptive(Box<RawAdaptive>),
}

/// The table of adaptive replicates (fields are the keys of docs/adaptive.md).
#[allow(missing_docs)]
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct RawAdaptive {
    pub min: Option<Spanned<i64>>,
    pub max: Option<Spanned<i64>>,
    pub round: Option<Spanned<i64>>,
    pub until: Option<Spanned<RawUntil>>,
}

/// `until = { metric = "...", ci95_rel = 0.01 }` (or `ci95_abs`).
#[allow(missing_docs)]
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct RawUntil {
    pub metric: Option<Spanned<String>>,
    pub ci95_rel: Option<Spanned<f64>>,
    pub ci95_abs: Option<Spanned<f64>>,
}

// By hand rather than `#[serde(untagged)]`: an untagged enum buffers the value and loses
// the spans of the table's keys, which errors point at.
impl<'de> Deserialize<'de> for RawReplicates {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RawReplicates;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "an integer or a table like { min = 5, max = 200, until = { metric = \"mean\", ci95_rel = 0.01 } }",
                )
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<RawReplicates, E> {
                Ok(RawReplicates::Count(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<RawReplicates, E> {
                Ok(RawReplicates::Count(i64::try_from(v).unwrap_or(i64::MAX)))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<RawReplicates, A::Error> {
                RawAdaptive::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(|a| RawReplicates::Adaptive(Box::new(a)))
            }
        }
        d.deserialize_any(V)
    }
}

/// The `[resources]` table as written.
#[allow(missing_docs)]
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct RawResources {
    pub threads: Option<Spanned<i64>>,
    pub memory: Option<Spanned<toml::Value>>,
    pub gpus: Option<Spanned<i64>>,
}
