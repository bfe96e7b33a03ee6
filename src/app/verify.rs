//! `sweep verify`: rerun a sample of a sweep's done tasks and report every output that
//! differs from the recorded one (see [`crate::verify`]).

use crate::cli::VerifyArgs;
use crate::error::Error;
use crate::model::Registry;
use crate::task::Cancel;
use crate::verify::{verify as run_verify, VerifyOptions};
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Runs the verification; exit 0 when every sampled output matches, 1 otherwise.
pub(super) fn verify(a: VerifyArgs, registry: &Registry) -> Result<i32, Error> {
    let cancel = Arc::new(Cancel::new());
    let scratch: Arc<Mutex<Option<PathBuf>>> = Arc::new(Mutex::new(None));
    {
        // On a second signal the process exits at once: remove the scratch directory first.
        let scratch = scratch.clone();
        super::signals::install(cancel.clone(), move || {
            if let Some(dir) = scratch.lock().unwrap_or_else(|e| e.into_inner()).take() {
                let _ = std::fs::remove_dir_all(dir);
            }
        })
        .map_err(|e| Error::io("cannot watch for signals", e))?;
    }
    let quiet = a.quiet;
    let say = move |msg: String| {
        if !quiet {
            eprintln!("verify: {msg}");
        }
    };
    // Before anything reruns: the code as it is now against the done tasks' (#27).
    let (env_notes, skip) = match crate::session::open_saved(&a.dir, registry) {
        Ok((spec, out)) => crate::session::check_for_verify(&spec, &out)?,
        Err(_) => Default::default(), // run_verify says what is wrong with the directory
    };
    if !skip.is_empty() {
        say(format!(
            "{} kept from other versions of the code (--code-changed keep) are left out of the sample",
            crate::text::count(skip.len() as u64, "done task")
        ));
    }
    let opts =
        VerifyOptions { sample: a.sample, jobs: a.jobs.map(NonZeroUsize::get), same_threads: a.same_threads, skip };
    let v = run_verify(&a.dir, registry, &opts, &cancel, &scratch, &say)?;
    if v.interrupted {
        eprintln!("sweep: verification interrupted; nothing was recorded");
        return Ok(crate::exit::INTERRUPTED);
    }
    if let (Some(run), Some(pass)) = (v.run_jobs, v.passes.first()) {
        if run == pass.jobs {
            say(format!(
                "note: the rerun used the run's own worker count ({run}): independence from it was not tested"
            ));
        }
    }
    for m in &v.mismatches {
        println!("MISMATCH {} ({})  {}  [{}]: {}", m.task, m.params, m.output, m.pass, m.detail);
    }
    if !v.mismatches.is_empty() {
        for note in &env_notes {
            println!("note: {note}");
        }
    }
    let n = v.sample.len();
    if v.unchecked > 0 {
        println!(
            "note: {} of {n} tasks were recorded before sweep kept checksums: their files were compared as they are now",
            v.unchecked
        );
    }
    if v.mismatches.is_empty() {
        println!("verified: {n} of {n} tasks match exactly ({})", labels(&v));
    } else {
        let k = v.mismatches.len();
        println!(
            "verify: {} of {n} tasks match; {k} mismatch{} ({})",
            v.matched,
            if k == 1 { "" } else { "es" },
            labels(&v)
        );
    }
    Ok(crate::exit::for_verification(v.mismatches.len()))
}

fn labels(v: &crate::verify::Verification) -> String {
    v.passes.iter().map(|p| p.label()).collect::<Vec<_>>().join("; then ")
}
