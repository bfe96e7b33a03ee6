//! `--threads`, `--memory`, `--gpus` and the spec's `[resources]`: how many tasks a run
//! starts at once and what each slot gets, or why the request cannot run here (exit 2).

use crate::error::Error;
use crate::resources::{fit, Fit, Machine};
use crate::spec::{Override, Spec};

/// `--threads N` and `--memory SIZE` as the `--set`s they stand for
/// (`resources.threads`, `resources.memory`), so that the spec as run records them.
pub(super) fn sets(threads: Option<usize>, memory: Option<&str>) -> Vec<Override> {
    let mut v = Vec::new();
    if let Some(t) = threads {
        v.push(format!("resources.threads={t}"));
    }
    if let Some(m) = memory {
        v.push(format!("resources.memory={}", toml::Value::String(m.to_string())));
    }
    v.into_iter().map(|s| s.parse().expect("a KEY=VALUE")).collect()
}

/// The machine with `--gpus` (a comma-separated list of device ids) when given; GPUs are
/// looked for only when the spec asks for some.
pub(super) fn machine(spec: &Spec, gpus: Option<&str>) -> Machine {
    let given = gpus.map(crate::resources::parse_devices);
    Machine::detect(given.as_deref(), spec.resources.gpus > 0)
}

/// The run's slots at `jobs` (`--jobs`, when given): an [`Error::Usage`] naming the spec
/// when they do not fit.
pub(super) fn fit_on(spec: &Spec, machine: &Machine, jobs: Option<usize>) -> Result<Fit, Error> {
    fit(&spec.resources, machine, jobs)
        .map_err(|why| Error::Usage(format!("{}: [resources] cannot run here: {why}", spec.path.display())))
}

/// One line for `--dry-run`: the slots and the worker count they give.
pub(super) fn describe(f: &Fit) -> String {
    let s = &f.slots;
    let mut parts = vec![crate::text::count(s.threads as u64, "thread")];
    if let Some(m) = s.memory {
        parts.push(format!("up to {}", crate::resources::format_size(m)));
    }
    if s.gpus > 0 {
        parts.push(crate::text::count(s.gpus as u64, "GPU"));
    }
    let gpus: Vec<String> = (0..f.jobs).map(|i| s.devices_of(i).join(",")).filter(|d| !d.is_empty()).collect();
    let ids = if gpus.is_empty() { String::new() } else { format!("; GPUs by worker: {}", gpus.join(" | ")) };
    format!(
        "slots: {} worker{} ({}), each {}{ids}",
        f.jobs,
        if f.jobs == 1 { "" } else { "s" },
        f.bound,
        parts.join(", ")
    )
}
