//! The library entry point: run a spec from Rust with the same options as the CLI.

use crate::cluster::Shard;
use crate::error::Error;
use crate::exec::{RunConfig, RunOutcome, Stats};
use crate::model::{Model, Registry};
use crate::outdir::OutDir;
use crate::session::prepare;
use crate::spec::Spec;
use crate::task::Cancel;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Runs a sweep from Rust: a spec (a file, or TOML text built in code), the models it may
/// name, and the options of `sweep run`.
///
/// ```no_run
/// let summary = sweep::Sweep::from_file("sweeps/reaction.toml").jobs(2).out("runs/r").run()?;
/// println!("{} done, results in {}", summary.done, summary.results.display());
/// # Ok::<(), sweep::error::Error>(())
/// ```
pub struct Sweep {
    source: SpecSource,
    registry: Registry,
    out: Option<PathBuf>,
    resume: bool,
    shard: Option<Shard>,
    config: RunConfig,
    cancel: Arc<Cancel>,
}

enum SpecSource {
    File(PathBuf),
    Text(PathBuf, String),
}

/// What a run left behind.
#[derive(Debug, Clone)]
pub struct Summary {
    /// What this run did.
    pub outcome: RunOutcome,
    /// Tasks of the grid done, failed, pending after the run.
    pub done: u64,
    /// See `done`.
    pub failed: u64,
    /// See `done`.
    pub pending: u64,
    /// The out directory.
    pub out: PathBuf,
    /// Its `results.csv`.
    pub results: PathBuf,
}

impl Sweep {
    /// A sweep of the spec file at `path`, with the built-in models.
    pub fn from_file(path: impl AsRef<Path>) -> Self {
        Self::new(SpecSource::File(path.as_ref().to_path_buf()))
    }

    /// A sweep of spec text built in code; `name` stands in for the file name in messages
    /// and gives the default sweep name.
    pub fn from_toml(name: &str, text: &str) -> Self {
        Self::new(SpecSource::Text(PathBuf::from(format!("{name}.toml")), text.to_string()))
    }

    fn new(source: SpecSource) -> Self {
        Sweep {
            source,
            registry: Registry::builtin(),
            out: None,
            resume: false,
            shard: None,
            config: RunConfig::default(),
            cancel: Arc::new(Cancel::new()),
        }
    }

    /// Makes `model` available to the spec (beside the built-ins).
    pub fn model(mut self, model: impl Model) -> Self {
        self.registry.register(model);
        self
    }

    /// Uses `registry` instead of the built-in models.
    pub fn registry(mut self, registry: Registry) -> Self {
        self.registry = registry;
        self
    }

    /// Worker threads (`--jobs`).
    pub fn jobs(mut self, n: usize) -> Self {
        self.config.jobs = n.clamp(1, crate::cli::MAX_JOBS as usize);
        self
    }

    /// Array writer threads (`--io-threads`).
    pub fn io_threads(mut self, n: usize) -> Self {
        self.config.io_threads = n.clamp(1, crate::cli::MAX_IO_THREADS as usize);
        self
    }

    /// The out directory (`--out`).
    pub fn out(mut self, dir: impl Into<PathBuf>) -> Self {
        self.out = Some(dir.into());
        self
    }

    /// Finish the sweep already in the out directory (`--resume`).
    pub fn resume(mut self, yes: bool) -> Self {
        self.resume = yes;
        self
    }

    /// Retries per failed task (`--retries`).
    pub fn retries(mut self, n: u32) -> Self {
        self.config.retries = n;
        self
    }

    /// Stop after this many failed tasks (`--max-failures`).
    pub fn max_failures(mut self, n: u64) -> Self {
        self.config.max_failures = Some(n);
        self
    }

    /// Survive a machine crash, not only a dead process (`--durable`).
    pub fn durable(mut self, yes: bool) -> Self {
        self.config.durable = yes;
        self
    }

    /// Run one shard only (`--shard`).
    pub fn shard(mut self, shard: Shard) -> Self {
        self.shard = Some(shard);
        self
    }

    /// A handle to stop the run from another thread ([`Cancel::drain`]).
    pub fn cancel_handle(&self) -> Arc<Cancel> {
        self.cancel.clone()
    }

    /// The validated spec, without running anything.
    pub fn spec(&self) -> Result<Spec, Error> {
        Ok(match &self.source {
            SpecSource::File(p) => Spec::from_file(p, &self.registry)?,
            SpecSource::Text(p, t) => Spec::parse(p, t, &self.registry)?,
        })
    }

    /// Runs the sweep and writes `results.csv`.
    pub fn run(self) -> Result<Summary, Error> {
        let spec = self.spec()?;
        let out = OutDir::new(self.out.clone().unwrap_or_else(|| spec.out.clone()));
        let mut prepared = prepare(spec, out, self.resume, self.shard, self.config.jobs)?;
        let stats = Arc::new(Stats::new(self.config.jobs));
        let outcome = prepared.run(&self.config, &self.cancel, &stats)?;
        let (done, failed, pending) = prepared.counts();
        Ok(Summary { outcome, done, failed, pending, results: prepared.out.results(), out: prepared.out.root.clone() })
    }
}
