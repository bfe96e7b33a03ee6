//! The code check of a run (see [`crate::code`]): before anything is written, its code is
//! compared with the done tasks'; once its journal is open, its code is recorded.

use crate::code::{CodeChanged, Comparison, Identity};
use crate::error::{Error, IoContext};
use crate::outdir::OutDir;
use crate::spec::Spec;
use std::path::Path;

/// A run's code and how it compares with the done tasks'.
pub(super) struct Checked {
    pub identity: Identity,
    pub comparison: Comparison,
    pub policy: Option<CodeChanged>,
}

/// Hashes the run's code (once) and compares it with the done tasks'; refuses, for exit
/// 2, when they differ and `policy` does not say what to do. `lean`: the run goes a window
/// at a time, which keeps no row per task to run again (`rerun` is refused then).
pub(super) fn check(
    spec: &Spec,
    out: &OutDir,
    handshake: Option<&serde_json::Value>,
    policy: Option<CodeChanged>,
    lean: bool,
    shard: bool,
) -> Result<Checked, Error> {
    let identity = Identity::of(spec, handshake);
    let comparison = crate::code::check(&out.root, &identity, policy).map_err(Error::Usage)?;
    if shard && policy.is_none() && !comparison.differs() {
        refuse_unsubmitted(out, &identity)?;
    }
    if comparison.differs() && lean && policy == Some(CodeChanged::Rerun) {
        return Err(Error::Usage(format!(
            "{}: --code-changed rerun needs a row per task, and this grid of {} tasks runs a window at a time; \
             use --code-changed keep, or start the sweep again in a new directory with --out NEW_DIR",
            out.root.display(),
            spec.task_count()
        )));
    }
    Ok(Checked { identity, comparison, policy })
}

/// A shard's code that is not the code its array was submitted with: an edit made while
/// the array was queued. Refused for exit 2, naming each file, before any task runs.
fn refuse_unsubmitted(out: &OutDir, identity: &Identity) -> Result<(), Error> {
    let Some(id) = crate::code::record::pinned(&out.root) else { return Ok(()) };
    // A run of this very code already ran here (a resume told what to do about the change,
    // say): the submission is no longer the reference.
    let ran = crate::code::runs(&out.root).is_ok_and(|r| r.values().flatten().any(|r| r.code == identity.code.id));
    if id == identity.code.id || ran {
        return Ok(());
    }
    let lines = match crate::code::record::read_code(&out.root, &id) {
        Some(old) => crate::code::file_changes(&old, &identity.code),
        None => Vec::new(),
    };
    Err(Error::Usage(format!(
        "the code changed since the sweep's arrays were submitted (code {id} then, {} now):\n{}\
         nothing was run. Submit again to run the code as it is now (sweep slurm SPEC --submit), or run this \
         shard anyway with --code-changed keep",
        identity.code.id,
        lines.iter().map(|l| format!("  {l}\n")).collect::<String>()
    )))
}

/// Pins the code `sweep slurm --submit` submits (see [`crate::code::record::pin`]): a
/// `[python]` sweep starts one worker to see what its import loads.
pub fn pin_for_submit(spec: &Spec, out: &OutDir) -> Result<(), Error> {
    let workers = super::start::start_workers(spec, 1, None, &crate::resources::Slots::default())?;
    let handshake = workers.first().map(|w| w.handshake.clone());
    drop(workers);
    let identity = Identity::of(spec, handshake.as_ref());
    crate::code::record::pin(&out.root, &identity.code)
        .context(|| format!("cannot write the code records in {}", out.root.display()))
}

impl Checked {
    /// Records the run's code beside its journal, which was just opened (its header
    /// written, no record yet); returns what to tell the user of an accepted change.
    pub(super) fn record(&self, out: &OutDir, journal: &Path) -> Result<Vec<String>, Error> {
        let offset =
            std::fs::metadata(journal).map(|m| m.len()).context(|| format!("cannot read {}", journal.display()))?;
        let c = &self.comparison;
        let policy = self.policy.filter(|_| c.differs());
        let kept: Vec<String> = match policy {
            Some(CodeChanged::Keep) => c.others.iter().map(|(id, _)| id.clone()).collect(),
            _ => Vec::new(),
        };
        crate::code::record_run(&out.root, journal, offset, &self.identity, policy.map(CodeChanged::as_str), &kept)
            .context(|| format!("cannot write the code records in {}", out.root.display()))?;
        let n: u64 = c.others.iter().map(|(_, n)| n).sum();
        let ids: Vec<&str> = c.others.iter().map(|(id, _)| id.as_str()).collect();
        let tasks = crate::text::count(n, "done task");
        let now = &self.identity.code.id;
        Ok(match policy {
            None => Vec::new(),
            Some(CodeChanged::Rerun) => {
                vec![format!(
                    "{tasks} ran other code ({}): they run again with the code as it is now ({now})",
                    ids.join(", ")
                )]
            }
            Some(CodeChanged::Keep) => vec![format!(
                "{tasks} of other code ({}) are kept beside this run's ({now}): results.csv's `code` column says \
                 which row came from which",
                ids.join(", ")
            )],
        })
    }
}

/// Whether the code of the sweep in `out` is, at a glance, what `spec` would run: every
/// file of the one version its runs recorded hashes as it did (a `[python]` module's
/// imports follow from its files), or nothing was recorded. `false` sends a resume with
/// nothing to do down the full path, which starts a worker and compares exactly.
pub fn unchanged_at_a_glance(spec: &Spec, out: &OutDir) -> bool {
    let Ok(runs) = crate::code::runs(&out.root) else { return false };
    let ids = crate::code::record::ids_of_runs(&runs);
    let [id] = ids.as_slice() else { return ids.is_empty() };
    let Some(old) = crate::code::record::read_code(&out.root, id) else { return false };
    if spec.task.worker().is_none_or(|w| w.python.is_none()) {
        return Identity::of(spec, None).code.id == *id;
    }
    old.files.iter().all(|(path, hash)| {
        let path = spec.base.join(path);
        std::fs::read(path).is_ok_and(|b| {
            use sha2::Digest;
            format!("sha256:{:x}", sha2::Sha256::digest(&b)) == *hash
        })
    })
}

/// For `sweep verify`, before it reruns anything: the code as it is now (a `[python]`
/// sweep starts one worker to see what it imports) compared with that of the done tasks.
/// A difference is an error for exit 2: a rerun of other code proves nothing about the
/// results. Also says how the environment changed since the last run.
pub fn check_for_verify(
    spec: &Spec,
    out: &OutDir,
) -> Result<(Vec<String>, std::collections::HashSet<crate::grid::TaskId>), Error> {
    let workers = super::start::start_workers(spec, 1, None, &crate::resources::Slots::default())?;
    let handshake = workers.first().map(|w| w.handshake.clone());
    drop(workers);
    let identity = Identity::of(spec, handshake.as_ref());
    let root = &out.root;
    let c = crate::code::compare(root, &identity.code)
        .context(|| format!("cannot read the code records in {}", root.display()))?;
    let runs = crate::code::runs(root).unwrap_or_default();
    let last = runs.values().flatten().max_by(|a, b| a.started.cmp(&b.started));
    let env = last.map(|r| crate::code::env_changes(&r.env, &identity.env)).unwrap_or_default();
    let env_note = match env.is_empty() {
        true => String::new(),
        false => format!("\nthe environment changed too since the last run: {}", env.join(", ")),
    };
    if c.differs() {
        return Err(Error::Usage(format!(
            "{}nothing was rerun: a rerun of other code says nothing about the recorded results. Verify with the \
             code the tasks ran, or bring the sweep up to date first: sweep run SPEC --resume --code-changed rerun{env_note}",
            crate::code::differences(root, &identity.code, &c)
        )));
    }
    let mut notes: Vec<String> = crate::code::env_history(&runs);
    if !env.is_empty() {
        notes.push(format!("the environment changed since the last run: {}", env.join(", ")));
    }
    // Tasks kept from other versions: a rerun of this code would not match them.
    let kept = match crate::code::column(root) {
        Some(a) => a.of_task.iter().filter(|(_, &k)| a.ids[k as usize] != identity.code.id).map(|(t, _)| *t).collect(),
        None => Default::default(),
    };
    Ok((notes, kept))
}
