//! Code identity: which version of the user's code produced each result, so that a resume
//! never silently mixes two.
//!
//! A run hashes, once, the files its tasks run ([`identity`]): a `[python]` module and the
//! project's modules it imported, as the worker loaded them; the files a `[command]` or
//! `[worker]` names; a built-in model's name and sweep's version. The combined id and the
//! files go in `code/<id>.json` of the out directory, and each run's id and environment in
//! `code/runs/<journal>.jsonl`, with the offset in its journal from which its records are
//! its own ([`record`]). A resume, a shard, `collect` and `sweep verify` compare the code
//! with that of the done tasks ([`mod@check`]) and refuse, naming each file, unless told
//! `--code-changed rerun` or `keep`.

pub mod check;
pub mod identity;
pub mod record;

pub use check::{
    check, compare, differences, env_changes, env_history, file_changes, refusal, CodeChanged, Comparison,
};
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

/// What `sweep status` says about the code of the sweep in `out`: a line when its done
/// tasks came from more than one version (with each one's count), and warnings for the
/// environment changes between its runs. Nothing for a sweep of one version in one
/// environment.
pub fn status(out: &Path) -> (Vec<String>, Vec<String>) {
    let Ok(runs) = runs(out) else { return (Vec::new(), Vec::new()) };
    let warnings = env_history(&runs);
    let mut lines = Vec::new();
    if let Some(a) = column(out) {
        let versions = a.versions();
        let each: Vec<String> =
            versions.iter().map(|(id, n)| format!("{id} ({})", crate::text::count(*n, "task"))).collect();
        lines.push(format!(
            "  code     {} versions: {}; results.csv's `code` column says which row came from which",
            versions.len(),
            each.join(", ")
        ));
    }
    (lines, warnings)
}

/// Why `sweep collect` refuses to write results.csv of the sweep in `out`: its done tasks
/// came from several versions of the code that no run was told to keep together (shards
/// that ran different code). `None` when they agree.
pub fn collect_refusal(out: &Path) -> Option<String> {
    let a = column(out)?;
    let versions = a.versions();
    let accepted = versions
        .iter()
        .any(|(id, _)| record::read_code(out, id).is_some_and(|code| compare(out, &code).is_ok_and(|c| !c.differs())));
    if accepted {
        return None;
    }
    let mut text = format!("the done tasks in {} ran {} versions of the code:\n", out.display(), versions.len());
    let first = record::read_code(out, versions[0].0);
    for (id, n) in &versions {
        text.push_str(&format!("  {id}: {}\n", crate::text::count(*n, "task")));
        if let (Some(first), Some(this)) = (&first, record::read_code(out, id)) {
            for line in file_changes(first, &this) {
                text.push_str(&format!("    {line}\n"));
            }
        }
    }
    text.push_str(
        "nothing was written. Run the shards of the other code again (sweep run SPEC --shard I/N --resume \
         --code-changed rerun), or keep both: sweep collect DIR --code-changed keep",
    );
    Some(text)
}
