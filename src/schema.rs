//! The on-disk formats that sweep's Python package reads too, described once: the
//! manifest's format version and the columns of `results.csv`.
//!
//! `python/sweep/schema.json` is this description, written out; `sweep.load` and
//! `sweep.open` read it instead of keeping copies, and `tests/schema.rs` fails when the
//! file and [`json()`] differ (it says how to write the file again).

use crate::outdir::MANIFEST_FORMAT;
use crate::results::columns::{LEADING, STATUS, TRAILING};
use serde_json::json;

/// Where the description lives in the repository, relative to its root.
pub const PATH: &str = "python/sweep/schema.json";

/// The description's own version: raised when a key is renamed or removed.
pub const SCHEMA_FORMAT: u32 = 1;

/// The description as JSON text (pretty, one trailing newline), as the Python package
/// ships it.
///
/// - `manifest.format`: the newest manifest format this sweep reads and writes; a reader
///   refuses a newer one ("written by a newer sweep; upgrade sweep") and reads older ones.
/// - `results_csv`: the columns sweep writes itself, in order: `leading`, then the
///   parameters, `status`, then the metrics, `trailing`.
pub fn json() -> String {
    let schema = json!({
        "schema_format": SCHEMA_FORMAT,
        "manifest": {"file": "manifest.json", "format": MANIFEST_FORMAT},
        "results_csv": {"file": "results.csv", "leading": LEADING, "status": STATUS, "trailing": TRAILING},
    });
    let mut text = serde_json::to_string_pretty(&schema).expect("a JSON value serializes");
    text.push('\n');
    text
}
