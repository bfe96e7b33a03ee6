//! The spec file as written: serde structs that keep every span.

use indexmap::IndexMap;
use serde::Deserialize;
use toml::Spanned;

/// `zip = [["a", "b"], ...]` with spans.
pub type ZipGroups = Spanned<Vec<Spanned<Vec<Spanned<String>>>>>;

/// A table whose keys and values keep their spans, in file order.
pub type SpannedTable = IndexMap<Spanned<String>, Spanned<toml::Value>>;

/// The top level of a spec file (fields are the keys of the README's spec reference).
#[allow(missing_docs)]
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct RawSpec {
    pub name: Option<Spanned<String>>,
    pub seed: Option<Spanned<i64>>,
    pub replicates: Option<Spanned<i64>>,
    pub out: Option<Spanned<String>>,
    pub zip: Option<ZipGroups>,
    pub model: Option<Spanned<SpannedTable>>,
    pub command: Option<Spanned<RawCommand>>,
    pub python: Option<Spanned<RawPython>>,
    pub worker: Option<Spanned<RawWorker>>,
    pub params: Option<Spanned<SpannedTable>>,
}

/// A `[command]` table (fields are the keys of the README's spec reference).
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

/// A `[python]` table (fields are the keys of the README's spec reference).
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

/// A `[worker]` table (fields are the keys of the README's spec reference).
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
