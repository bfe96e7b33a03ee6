//! The command line (clap definitions only; the work is in [`crate::app`]).

use crate::cluster::Shard;
use crate::spec::Override;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::num::NonZeroUsize;
use std::path::PathBuf;

/// Run a simulation over a parameter grid on every core, reproducibly and resumably.
#[derive(Parser, Debug)]
#[command(
    name = "sweep",
    version,
    about,
    after_help = "Examples:\n  sweep run sweeps/reaction.toml\n  sweep run grid.toml --dry-run\n  sweep run grid.toml --resume\n  sweep slurm grid.toml --shards 64 --time 2:00:00 --submit\n  sweep status runs/reaction\n  sweep models reaction"
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
// Parsed once per process: boxing `run`'s arguments would save nothing worth the noise.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Write a commented starter spec (and, with --python, a starter model.py); never
    /// overwrites a file.
    #[command(
        after_help = "Examples:\n  sweep init                 # grid.toml: a built-in model\n  sweep init --python        # grid.toml and model.py: your Python function\n  sweep init --command sim.toml"
    )]
    Init(InitArgs),
    /// Run (or resume) a sweep.
    #[command(
        after_help = "Examples:\n  sweep run sweeps/reaction.toml\n  sweep run grid.toml --jobs 8 --out runs/try2\n  sweep run grid.toml --limit 5                  # a smoke test; --resume runs the rest\n  sweep run grid.toml --sample 20                # 20 tasks spread over the grid\n  sweep run grid.toml --where 'c0 == 1.0 and k < 0.5' --limit 3\n  sweep run grid.toml --set replicates=10 --set model.t_final=50\n  sweep run grid.toml --set params.k='{ linspace = [0, 1, 5] }' --dry-run\n  sweep run grid.toml replicates=10              # the same as --set replicates=10\n  sweep run grid.toml --resume --retries 2\n  sweep run grid.toml --shard $SLURM_ARRAY_TASK_ID/16 --resume\n  sweep run grid.toml --bench --bench-jobs 1,2,4,8"
    )]
    Run(RunArgs),
    /// Write (or submit) SLURM job-array scripts that run a sweep in shards, then collect it.
    #[command(
        after_help = "Examples:\n  sweep slurm grid.toml --shards 64 --time 2:00:00 --cpus-per-task 8 --script grid.sbatch\n  sweep slurm grid.toml --shards 64 --throttle 16 --partition short --submit\n  sweep slurm grid.toml --set replicates=20 --shards 64 --submit\n  sweep slurm grid.toml --submit        # again: resumes what is unfinished"
    )]
    Slurm(Box<SlurmArgs>),
    /// Show done / failed / pending counts of a sweep and its failed tasks.
    #[command(
        after_help = "Examples:\n  sweep status runs/reaction\n  sweep status grid.toml\n  sweep status runs/reaction 4f2a\n  sweep status runs/reaction --csv now.csv     # the results so far, while a run goes"
    )]
    Status(StatusArgs),
    /// Rerun a sample of a sweep's done tasks and check that they reproduce it exactly.
    ///
    /// The rerun uses another worker count (and, for commands and workers, also another
    /// OMP_NUM_THREADS) in a scratch directory beside the sweep; every metric and output file
    /// must be exactly as recorded. Exit 0 when all match, 1 otherwise.
    #[command(
        after_help = "Examples:\n  sweep verify runs/reaction\n  sweep verify runs/reaction --sample 100 --jobs 4\n  sweep verify runs/python --same-threads"
    )]
    Verify(VerifyArgs),
    /// Write the merged results.csv of a sweep (after shards ran).
    #[command(after_help = "Example:\n  sweep collect runs/reaction")]
    Collect(CollectArgs),
    /// Write one self-contained HTML report of a sweep (counts, failures, timings, plots).
    #[command(after_help = "Examples:\n  sweep report runs/reaction\n  sweep report runs/reaction -o reaction.html")]
    Report(ReportArgs),
    /// Plot metrics against one parameter (mean over replicates ± SEM), as SVG.
    #[command(
        after_help = "Examples:\n  sweep plot runs/reaction --x k --y conversion        # runs/reaction/plots/conversion-vs-k.svg\n  sweep plot runs/reaction --x k --y conversion --by c0 -o conv.svg\n  sweep plot runs/fin --x L --y mean --band ci95 -o - > fin.svg\n  sweep plot runs/est --x n --y 'err_*' --logy              # one line per metric\n  sweep plot runs/reaction --x k --y conversion --heatmap c0"
    )]
    Plot(PlotArgs),
    /// List the built-in models, or describe one.
    #[command(after_help = "Examples:\n  sweep models\n  sweep models fin")]
    Models(ModelsArgs),
    /// Print a shell completion script on stdout.
    #[command(
        after_help = "Examples:\n  sweep completions bash > ~/.local/share/bash-completion/completions/sweep\n  sweep completions zsh > ~/.zfunc/_sweep\n  sweep completions fish > ~/.config/fish/completions/sweep.fish"
    )]
    Completions(CompletionsArgs),
}

/// What `sweep run` and `sweep slurm` share: the spec, its overrides, the out directory
/// and how tasks run (for `slurm`, in each array element). One definition, so both take
/// the same values with the same checks.
#[derive(Args, Debug, Clone)]
pub struct SweepArgs {
    /// The spec file (TOML).
    pub spec: PathBuf,
    /// KEY=VALUE after the spec: the same as --set KEY=VALUE.
    #[arg(value_name = "KEY=VALUE")]
    pub sets: Vec<Override>,
    /// Tasks at once (default: as many as fit: the cores ÷ threads, the GPUs ÷ gpus, the
    /// memory ÷ memory; the cores are the affinity mask, the cgroup quota and
    /// SLURM_CPUS_PER_TASK).
    #[arg(short, long, value_name = "N", value_parser = jobs)]
    pub jobs: Option<NonZeroUsize>,
    /// Threads writing array outputs [default: 2].
    #[arg(long, value_name = "N", value_parser = count(MAX_IO_THREADS))]
    pub io_threads: Option<usize>,
    /// Out directory (default: the spec's `out`, else `runs/<name>`).
    #[arg(short, long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Set a value of the spec for this run (repeatable): KEY is a dotted path
    /// (replicates, seed, model.t_final, params.k, python.timeout), VALUE a TOML value
    /// (10, [0.5, 1.0], '{ linspace = [0, 1, 5] }') or a plain word, taken as a string.
    /// The out directory's spec.toml holds the result, and --resume keeps it.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<Override>,
    /// Retry a failed task up to N more times within the run (same seed) [default: 0].
    #[arg(long, value_name = "N")]
    pub retries: Option<u32>,
    /// After N failed tasks, start no new ones.
    #[arg(long, value_name = "N")]
    pub max_failures: Option<u64>,
}

/// Parses `--jobs`: 1 to [`MAX_JOBS`], checked here once.
fn jobs(s: &str) -> Result<NonZeroUsize, String> {
    let n: u64 = s.trim().parse().map_err(|e: std::num::ParseIntError| e.to_string())?;
    match NonZeroUsize::new(n as usize) {
        Some(jobs) if n <= MAX_JOBS => Ok(jobs),
        _ => Err(format!("{n} is not in 1..={MAX_JOBS}")),
    }
}

/// `sweep run`.
#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// The spec, its overrides, the out directory and how tasks run.
    #[command(flatten)]
    pub sweep: SweepArgs,
    /// Cores each task uses: OMP_NUM_THREADS and its kin, SWEEP_THREADS (the same as --set
    /// resources.threads=N) [default: the cores ÷ --jobs].
    #[arg(long, value_name = "N", value_parser = count(MAX_JOBS))]
    pub threads: Option<usize>,
    /// Memory each task may use, e.g. '6 GiB': tasks start only while they fit, and one that
    /// grows past it is stopped (the same as --set resources.memory=SIZE).
    #[arg(long, value_name = "SIZE")]
    pub memory: Option<String>,
    /// The GPUs the run may use, e.g. 0,1,2,3 (default: CUDA_VISIBLE_DEVICES, else those
    /// `nvidia-smi -L` lists); each task gets `[resources] gpus` of them to itself.
    #[arg(long, value_name = "IDS")]
    pub gpus: Option<String>,
    /// Print the task count, the axes and the first tasks; run nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// No progress and no summary (errors are still printed).
    #[arg(short, long)]
    pub quiet: bool,
    /// Progress for programs: `json` writes one line `{"progress": {"done": D, "failed":
    /// F, "total": T}}` on stderr whenever the counts change (at most 10 a second, even
    /// with --quiet), instead of the bar; sweep.run feeds its progress bar from it.
    #[arg(long, value_name = "FORMAT", value_parser = ["json"])]
    pub progress: Option<String>,
    /// Finish the sweep in the out directory: run failed and unfinished tasks only.
    #[arg(long)]
    pub resume: bool,
    /// When the code differs from that of done tasks (a resume or a shard refuses then):
    /// `rerun` runs those tasks again, `keep` keeps their results beside the new ones.
    #[arg(long, value_name = "HOW", value_parser = ["rerun", "keep"])]
    pub code_changed: Option<String>,
    /// Run only the first N pending tasks, in grid order (--resume runs the rest).
    #[arg(long, value_name = "N", conflicts_with = "sample", value_parser = clap::value_parser!(u64).range(1..))]
    pub limit: Option<u64>,
    /// Run only N pending tasks spread over the grid, chosen as --bench chooses its sample.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub sample: Option<u64>,
    /// Run only the tasks whose parameters (and `replicate`) satisfy EXPR, e.g.
    /// 'c0 == 1.0 and k in [0.1, 0.2]': comparisons (< <= == != > >=), in [..], and, or,
    /// not, parentheses; numbers, 'strings', true and false.
    #[arg(long = "where", value_name = "EXPR")]
    pub where_: Option<String>,
    /// Go on even when the first 5 tasks all fail with the same error (by default the run
    /// stops there: the rest would most likely fail too).
    #[arg(long)]
    pub keep_going: bool,
    /// Run only shard I of N (0-based), e.g. --shard $SLURM_ARRAY_TASK_ID/16.
    #[arg(long, value_name = "I/N", conflicts_with_all = ["limit", "sample", "where_"])]
    pub shard: Option<Shard>,
    /// Survive a machine crash (power loss, a dead node), not only a dead process: each
    /// journal record reaches the disk after the files it vouches for, synced once per tick.
    #[arg(long)]
    pub durable: bool,
    /// Benchmark instead: time a sample of the grid's tasks at several worker counts (in
    /// scratch directories), print a table and the --jobs to use, and write bench/bench.json
    /// and bench/speedup.svg in the out directory. A sweep there is not touched.
    #[arg(
        long,
        conflicts_with_all = ["dry_run", "resume", "shard", "jobs", "io_threads", "retries", "max_failures", "limit", "sample", "where_"]
    )]
    pub bench: bool,
    /// Worker counts to benchmark [default: 1, 2, 4, ... up to the cores, and the core count;
    /// up to twice the cores for command sweeps].
    #[arg(long, value_delimiter = ',', value_name = "N,...", requires = "bench", value_parser = positive())]
    pub bench_jobs: Vec<usize>,
    /// I/O thread counts to benchmark (default: 2; 1,2,4 when the tasks write arrays).
    #[arg(long, value_delimiter = ',', value_name = "N,...", requires = "bench", value_parser = positive())]
    pub bench_io: Vec<usize>,
    /// Tasks in the benchmark sample (default: enough for the bench to take about a minute).
    #[arg(long, value_name = "N", requires = "bench", value_parser = clap::value_parser!(u64).range(1..))]
    pub bench_tasks: Option<u64>,
    /// Times each setting is run.
    #[arg(long, value_name = "R", default_value_t = 3, requires = "bench", value_parser = clap::value_parser!(u32).range(1..))]
    pub bench_repeat: u32,
}

/// The most worker threads (and processes) a run starts.
pub const MAX_JOBS: u64 = 4096;
/// The most array writer threads a run starts.
pub const MAX_IO_THREADS: u64 = 256;

/// Parses a count from 1 to `max`: more threads than that would only exhaust the machine.
fn count(max: u64) -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::<usize>::new().range(1..=max)
}

/// Parses a count of at least 1.
fn positive() -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::<usize>::new().range(1..)
}

/// `sweep slurm`.
#[derive(Args, Debug, Clone)]
pub struct SlurmArgs {
    /// The spec, its overrides, the out directory shared by all shards, and how each
    /// element runs its tasks.
    #[command(flatten)]
    pub sweep: SweepArgs,
    /// Split the grid into N shards, one array element each (default: about 64 tasks per CPU, at most 1000).
    #[arg(long, value_name = "N")]
    pub shards: Option<u32>,
    /// Run at most M elements of each array at once (--array=...%M).
    #[arg(long, value_name = "M")]
    pub throttle: Option<u32>,
    /// SLURM partition (--partition).
    #[arg(long, value_name = "P")]
    pub partition: Option<String>,
    /// Wall-time of each element (--time), e.g. 2:00:00; sweep stops 120 s before it and requeues.
    #[arg(long, value_name = "T")]
    pub time: Option<String>,
    /// CPUs of each element (--cpus-per-task) (default: --jobs, else 1).
    #[arg(long, value_name = "C")]
    pub cpus_per_task: Option<u32>,
    /// Memory of each element (--mem), e.g. 4G.
    #[arg(long, value_name = "M")]
    pub mem: Option<String>,
    /// Account to charge (--account).
    #[arg(long, value_name = "A")]
    pub account: Option<String>,
    /// An extra #SBATCH line for every job, e.g. --extra '--qos=long' (repeatable).
    #[arg(long, value_name = "SBATCH LINE", allow_hyphen_values = true)]
    pub extra: Vec<String>,
    /// At most this many elements per array job [default: the cluster's MaxArraySize from `scontrol show config`, else 1001]; a smaller value also caps the cluster's.
    #[arg(long, value_name = "K")]
    pub max_array_size: Option<u32>,
    /// The job name (--job-name) (default: the spec's name).
    #[arg(long, value_name = "NAME")]
    pub job_name: Option<String>,
    /// Write the scripts to FILE (more arrays: FILE.2, FILE.3, ...; the collect job: FILE.collect) instead of stdout.
    #[arg(long = "script", visible_alias = "output", value_name = "FILE", conflicts_with = "submit")]
    pub output: Option<PathBuf>,
    /// Submit the jobs with sbatch (scripts in OUT/slurm/) and print their ids.
    #[arg(long)]
    pub submit: bool,
    /// The sweep binary the jobs run (default: this one).
    #[arg(long, value_name = "PATH", hide = true)]
    pub sweep_bin: Option<PathBuf>,
}

/// `sweep status`.
#[derive(Args, Debug)]
pub struct StatusArgs {
    /// The out directory, or the spec file (its out directory is used).
    pub target: PathBuf,
    /// One task to show in full (its id, or the first digits of it): parameters, every
    /// attempt, and the end of its stderr.
    pub task: Option<String>,
    /// Show at most this many failed tasks.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Write the results table as of now to FILE (`-`: stdout) instead of the summary: the
    /// columns and format of results.csv, a row per task (done, failed or pending), read from
    /// the journal. It only reads, so it works while a run is going. Exit 0 once written.
    #[arg(long, value_name = "FILE", conflicts_with = "task")]
    pub csv: Option<PathBuf>,
}

/// `sweep verify`.
#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// The out directory of the sweep.
    pub dir: PathBuf,
    /// Done tasks to rerun, spread over the grid.
    #[arg(long, default_value_t = 20, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub sample: u64,
    /// Worker threads for the rerun (default: 1 if the sweep ran with more, else 2).
    #[arg(short, long, value_name = "J", value_parser = jobs)]
    pub jobs: Option<NonZeroUsize>,
    /// Commands and workers: rerun only with the OMP_NUM_THREADS they ran with, not also
    /// with another.
    #[arg(long)]
    pub same_threads: bool,
    /// Print only mismatches and the summary.
    #[arg(short, long)]
    pub quiet: bool,
}

/// `sweep collect`.
#[derive(Args, Debug)]
pub struct CollectArgs {
    /// The out directory.
    pub dir: PathBuf,
    /// Write results.csv even when the shards ran different code (it then says which row
    /// came from which); without it, collect refuses.
    #[arg(long, value_name = "WHAT", value_parser = ["keep"])]
    pub code_changed: Option<String>,
}

/// `sweep models`.
#[derive(Args, Debug)]
pub struct ModelsArgs {
    /// A model to describe in detail.
    pub name: Option<String>,
}

/// `sweep report`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// The out directory.
    pub dir: PathBuf,
    /// Where to write the HTML (default: DIR/report.html). `-o/--out` is "where to write"
    /// in every subcommand; `--output` is accepted too.
    #[arg(short, long, value_name = "FILE", alias = "output")]
    pub out: Option<PathBuf>,
    /// The reference level of the paired comparison of a sweep with common_seed (default:
    /// the first level), e.g. --baseline mean.
    #[arg(long, value_name = "LEVEL")]
    pub baseline: Option<String>,
}

/// `sweep plot`.
#[derive(Args, Debug)]
pub struct PlotArgs {
    /// The out directory.
    pub dir: PathBuf,
    /// The parameter on the x axis.
    #[arg(long, value_name = "PARAM")]
    pub x: String,
    /// The metric on the y axis; several, comma-separated (a,b,c) or as globs ('err_*'),
    /// draw one line each on the same axis, with a legend.
    #[arg(long, value_name = "METRIC")]
    pub y: String,
    /// One line per value of this parameter.
    #[arg(long, value_name = "PARAM")]
    pub by: Option<String>,
    /// Where to write the SVG, `-` for stdout (default: DIR/plots/Y-vs-X[-by-BY].svg).
    #[arg(short, long, value_name = "FILE", alias = "output")]
    pub out: Option<PathBuf>,
    /// The spread drawn around each grid point's mean over its replicates: ± standard
    /// error (sem), ± standard deviation (sd), a 95% confidence interval (ci95, Student's
    /// t), the smallest to the largest replicate (minmax), or none.
    #[arg(long, value_enum, default_value_t = BandArg::Sem, value_name = "KIND")]
    pub band: BandArg,
    /// Put the parameter on a log scale (automatic for logspace and geomspace axes, and
    /// for positive values spanning three decades or more).
    #[arg(long)]
    pub logx: bool,
    /// Put the metric on a log scale (values <= 0 are left out).
    #[arg(long)]
    pub logy: bool,
    /// Draw a heatmap instead: the metric's mean over --x (across) and this parameter (up).
    #[arg(long, value_name = "PARAM", conflicts_with_all = ["by", "band", "logy"])]
    pub heatmap: Option<String>,
}

/// `sweep plot --band`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum BandArg {
    /// ± the standard error of the mean (sd / sqrt(n)).
    Sem,
    /// ± the sample standard deviation (ddof = 1).
    Sd,
    /// The 95% confidence interval of the mean (t quantile × SEM).
    Ci95,
    /// From the smallest to the largest replicate.
    Minmax,
    /// No band.
    None,
}

/// `sweep init`.
#[derive(Args, Debug)]
pub struct InitArgs {
    /// The spec file to write.
    #[arg(default_value = "grid.toml")]
    pub file: PathBuf,
    /// A sweep of a Python function (also writes model.py beside the spec).
    #[arg(long, conflicts_with = "command")]
    pub python: bool,
    /// A sweep of any program, run once per task (also writes sim.py beside the spec).
    #[arg(long)]
    pub command: bool,
}

/// `sweep completions`.
#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    pub shell: Shell,
}

/// A shell that `sweep completions` writes a script for.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shell {
    /// GNU Bash.
    Bash,
    /// Z shell.
    Zsh,
    /// The friendly interactive shell.
    Fish,
}
