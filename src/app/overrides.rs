//! What `run` and `slurm` share before a run: the spec with its `--set`s (and, on
//! `--resume`, those the sweep was started with), the slice flags, and the line that says a
//! `--resume` found nothing to resume.

use crate::error::Error;
use crate::model::Registry;
use crate::outdir::{spec_hash, Manifest, OutDir};
use crate::slice::{Filter, Slice};
use crate::spec::{merge, recorded, Override, Spec};
use std::path::Path;

/// The spec at `path` with `given` applied. On `resume`, the `--set`s recorded in the
/// `spec.toml` of the out directory (`out`, else the spec's) come first, so that a resume
/// without `--set` continues the same sweep; a key given again replaces its recorded value.
/// Returns the spec and every `--set` it was made with.
pub(super) fn load_spec(
    path: &Path,
    given: &[Override],
    out: Option<&Path>,
    resume: bool,
    registry: &Registry,
) -> Result<(Spec, Vec<Override>), Error> {
    let spec = Spec::from_file_with(path, given, registry)?;
    if !resume {
        return Ok((spec, given.to_vec()));
    }
    let dir = OutDir::new(out.unwrap_or(&spec.out));
    let before = std::fs::read_to_string(dir.spec()).map(|t| recorded(&t)).unwrap_or_default();
    let sets = merge(&before, given);
    if sets == given {
        return Ok((spec, sets));
    }
    let spec = Spec::from_file_with(path, &sets, registry).map_err(|mut e| {
        // A recorded --set the spec file no longer takes: say where it comes from.
        if e.path == Path::new("--set") && before.iter().any(|b| *e.source == *b.to_string()) {
            e.message = format!("{} (a --set recorded in {})", e.message, dir.spec().display());
            e.help = Some(format!(
                "{}give the key another value with --set, or run the edited spec into a new directory with --out",
                e.help.map(|h| format!("{h}; ")).unwrap_or_default()
            ));
        }
        e
    })?;
    let kept: Vec<String> =
        before.iter().filter(|b| !given.iter().any(|g| g.key == b.key)).map(|b| b.to_string()).collect();
    eprintln!(
        "sweep: resuming with what the sweep in {} was run with: --set {}",
        dir.root.display(),
        kept.join(" --set ")
    );
    Ok((spec, sets))
}

/// The `--set`s of a command line: those after the spec, then the `--set` flags.
pub(super) fn sets_of(bare: &[Override], flagged: &[Override]) -> Vec<Override> {
    bare.iter().chain(flagged).cloned().collect()
}

/// The slice that `--where`, `--limit` and `--sample` ask for, checked against `spec`.
pub(super) fn slice_of(
    spec: &Spec,
    filter: Option<&str>,
    limit: Option<u64>,
    sample: Option<u64>,
) -> Result<Slice, Error> {
    let filter = filter.map(|f| Filter::parse(f, &spec.grid)).transpose()?;
    let slice = Slice { filter, limit, sample };
    if !slice.is_whole() && spec.in_rounds() {
        let what = if spec.refine.is_some() { "[refine]" } else { "adaptive replicates" };
        return Err(Error::Usage(format!(
            "{} has {what}, whose rounds choose the tasks to run themselves: {} cannot slice them; \
             run the sweep whole, or narrow [params] with --set",
            spec.path.display(),
            slice.flags()
        )));
    }
    Ok(slice)
}

/// On a `--resume` that finds no sweep in `out`, one line that says so, and where a sweep of
/// this very spec is if there is one where the spec's own directory would put it (a run
/// started from another directory resolves a relative `out` elsewhere).
pub(super) fn nothing_to_resume(spec: &Spec, out: &OutDir, given: &[Override], registry: &Registry) -> String {
    let shown = out.root.display();
    let mut line = format!("sweep: nothing to resume in {shown}: starting a new sweep there");
    let own = spec.base.join(&spec.out);
    let here = std::path::absolute(&out.root).unwrap_or_else(|_| out.root.clone());
    let other = OutDir::new(&own);
    if own != here && other.holds_sweep() && same_sweep(spec, &other, given, registry) {
        line.push_str(&format!(
            "; the sweep of this spec is in {}: to resume it, add --out {}",
            own.display(),
            crate::text::shell_quote(&own.display().to_string())
        ));
    }
    line
}

/// Whether the sweep in `dir` was started from this spec (with its own recorded `--set`s).
fn same_sweep(spec: &Spec, dir: &OutDir, given: &[Override], registry: &Registry) -> bool {
    let Ok(m) = Manifest::read(dir) else { return false };
    if m.spec_hash == spec_hash(&spec.text) {
        return true;
    }
    let before = std::fs::read_to_string(dir.spec()).map(|t| recorded(&t)).unwrap_or_default();
    !before.is_empty()
        && Spec::from_file_with(&spec.path, &merge(&before, given), registry)
            .is_ok_and(|s| spec_hash(&s.text) == m.spec_hash)
}
