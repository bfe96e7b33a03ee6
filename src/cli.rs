//! The command line (clap definitions only; the work is in [`crate::app`]).

use crate::cluster::Shard;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Run a simulation over a parameter grid on every core, reproducibly and resumably.
#[derive(Parser, Debug)]
#[command(
    name = "sweep",
    version,
    about,
    after_help = "Examples:\n  sweep run sweeps/reaction.toml\n  sweep run grid.toml --dry-run\n  sweep run grid.toml --resume\n  sweep status runs/reaction\n  sweep models reaction"
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run (or resume) a sweep.
    #[command(
        after_help = "Examples:\n  sweep run sweeps/reaction.toml\n  sweep run grid.toml --jobs 8 --out runs/try2\n  sweep run grid.toml --resume --retries 2\n  sweep run grid.toml --shard $SLURM_ARRAY_TASK_ID/16 --resume\n  sweep run grid.toml --bench --bench-jobs 1,2,4,8"
    )]
    Run(RunArgs),
    /// Show done / failed / pending counts of a sweep and its failed tasks.
    #[command(after_help = "Examples:\n  sweep status runs/reaction\n  sweep status grid.toml")]
    Status(StatusArgs),
    /// Write the merged results.csv of a sweep (after shards ran).
    #[command(after_help = "Example:\n  sweep collect runs/reaction")]
    Collect(CollectArgs),
    /// Write one self-contained HTML report of a sweep (counts, failures, timings, plots).
    #[command(after_help = "Examples:\n  sweep report runs/reaction\n  sweep report runs/reaction -o reaction.html")]
    Report(ReportArgs),
    /// Plot one metric against one parameter (mean with min-max over the rest), as SVG.
    #[command(
        after_help = "Examples:\n  sweep plot runs/reaction --x k --y conversion\n  sweep plot runs/reaction --x k --y conversion --by c0 -o conv.svg"
    )]
    Plot(PlotArgs),
    /// List the built-in models, or describe one.
    #[command(after_help = "Examples:\n  sweep models\n  sweep models fin")]
    Models(ModelsArgs),
}

/// `sweep run`.
#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// The spec file (TOML).
    pub spec: PathBuf,
    /// Worker threads (default: SLURM_CPUS_PER_TASK when set, else all cores).
    #[arg(short, long)]
    pub jobs: Option<usize>,
    /// Threads writing array outputs.
    #[arg(long, default_value_t = 2)]
    pub io_threads: usize,
    /// Out directory (default: the spec's `out`, else `runs/<name>`).
    #[arg(short, long)]
    pub out: Option<PathBuf>,
    /// Print the task count, the axes and the first tasks; run nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// No progress and no summary (errors are still printed).
    #[arg(short, long)]
    pub quiet: bool,
    /// Finish the sweep in the out directory: run failed and unfinished tasks only.
    #[arg(long)]
    pub resume: bool,
    /// Retry a failed task up to N more times within the run (same seed).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub retries: u32,
    /// After N failed tasks, start no new ones.
    #[arg(long, value_name = "N")]
    pub max_failures: Option<u64>,
    /// Run only shard I of N (0-based), e.g. --shard $SLURM_ARRAY_TASK_ID/16.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<Shard>,
    /// Benchmark instead: time a sample of the grid's tasks at several worker counts (in
    /// scratch directories), print a table and the --jobs to use, and write
    /// bench/bench.json and bench/speedup.svg in the out directory. A sweep there is not touched.
    #[arg(
        long,
        conflicts_with_all = ["dry_run", "resume", "shard", "jobs", "io_threads", "retries", "max_failures"]
    )]
    pub bench: bool,
    /// Worker counts to benchmark [default: 1, 2, 4, ... up to the cores, and the core count;
    /// up to twice the cores for command sweeps].
    #[arg(long, value_delimiter = ',', value_name = "N,...", requires = "bench", value_parser = positive())]
    pub bench_jobs: Vec<usize>,
    /// I/O thread counts to benchmark [default: 2; 1,2,4 when the tasks write arrays].
    #[arg(long, value_delimiter = ',', value_name = "N,...", requires = "bench", value_parser = positive())]
    pub bench_io: Vec<usize>,
    /// Tasks in the benchmark sample [default: enough for the bench to take about a minute].
    #[arg(long, value_name = "N", requires = "bench", value_parser = clap::value_parser!(u64).range(1..))]
    pub bench_tasks: Option<u64>,
    /// Times each setting is run.
    #[arg(long, value_name = "R", default_value_t = 3, requires = "bench", value_parser = clap::value_parser!(u32).range(1..))]
    pub bench_repeat: u32,
}

/// Parses a count of at least 1.
fn positive() -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::<usize>::new().range(1..)
}

/// `sweep status`.
#[derive(Args, Debug)]
pub struct StatusArgs {
    /// The out directory, or the spec file (its out directory is used).
    pub target: PathBuf,
    /// Show at most this many failed tasks.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
}

/// `sweep collect`.
#[derive(Args, Debug)]
pub struct CollectArgs {
    /// The out directory.
    pub dir: PathBuf,
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
    /// Where to write the HTML (default: DIR/report.html).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

/// `sweep plot`.
#[derive(Args, Debug)]
pub struct PlotArgs {
    /// The out directory.
    pub dir: PathBuf,
    /// The parameter on the x axis.
    #[arg(long)]
    pub x: String,
    /// The metric on the y axis.
    #[arg(long)]
    pub y: String,
    /// One line per value of this parameter.
    #[arg(long)]
    pub by: Option<String>,
    /// Where to write the SVG (default: stdout).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}
