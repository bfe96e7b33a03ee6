//! Code identity: which version of the user's code produced each result, so that a resume
//! never silently mixes two.
//!
//! A run hashes, once, the files its tasks run ([`identity`]): a `[python]` module and the
//! project's modules it imported, as the worker loaded them; the files a `[command]` or
//! `[worker]` names; a built-in model's name and sweep's version. The combined id and the
//! files go in `code/<id>.json` of the out directory, and each run's id and environment in
//! `code/runs/<journal>.jsonl`, with the offset in its journal from which its records are
//! its own ([`record`]). A resume, a shard, `collect` and `sweep verify` compare the code
//! with that of the done tasks ([`check`]) and refuse, naming each file, unless told
//! `--code-changed rerun` or `keep`.

pub mod check;
pub mod identity;
pub mod record;

pub use check::{check, compare, env_changes, env_history, file_changes, refusal, CodeChanged, Comparison};
pub use identity::{Code, Env, Hashed, Identity};
pub use record::{record_run, runs, Attribution, RunCode};

use std::path::Path;

/// The `code` column of a `results.csv`: which version each done task came from, present
/// only when the done tasks of the sweep in `out` came from more than one.
pub fn column(out: &Path) -> Option<Attribution> {
    let runs = runs(out).ok()?;
    if record::ids_of_runs(&runs).len() < 2 {
        return None;
    }
    let a = Attribution::read(out, &runs).ok()?;
    (a.versions().len() > 1).then_some(a)
}
