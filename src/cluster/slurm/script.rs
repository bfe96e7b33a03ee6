//! The batch scripts of a sharded sweep, rendered as text: nothing here writes a file or
//! runs a program.

use super::options::{check, SlurmError, SlurmOptions};
use std::fmt::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Seconds before the wall-time at which an element is sent `SIGUSR1`.
pub const SIGNAL_LEAD_SECS: u32 = 120;

/// One array job: shards `first_shard..first_shard + len`, as array indices `0..len`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArrayScript {
    /// The shard that array index 0 runs; index `i` runs shard `first_shard + i`.
    pub first_shard: u32,
    /// The number of elements (array indices `0..len`).
    pub len: u32,
    /// The batch script.
    pub text: String,
}

impl ArrayScript {
    /// The shards this array job runs.
    pub fn shards(&self) -> Range<u32> {
        self.first_shard..self.first_shard + self.len
    }
}

/// The scripts of a sharded sweep: the array jobs, then the collect job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The array jobs, in shard order; together they run every shard once.
    pub arrays: Vec<ArrayScript>,
    /// The collect job's script, to be submitted with `--dependency=afterany:<array ids>`
    /// (see [`dependency`](super::dependency)).
    pub collect: String,
    /// The job name (file names of the written scripts start with it).
    pub job_name: String,
    /// The log directory, which must exist before the jobs start.
    pub log_dir: PathBuf,
}

/// A path in single quotes for a shell, always quoted.
fn quote_path(p: &Path) -> String {
    crate::text::shell_quote_always(&p.to_string_lossy())
}

/// Quotes an `#SBATCH` option value: `sbatch` splits these lines on white space and treats
/// double quotes and backslashes specially (and `#` as a comment outside quotes).
fn sbatch_quote(s: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_-+=.,:/@%[]".contains(c);
    if !s.is_empty() && s.chars().all(safe) {
        s.to_string()
    } else {
        format!("\"{}\"", s.replace('\\', r"\\").replace('"', "\\\""))
    }
}

/// A directory for a SLURM file-name pattern: `%` doubled so that it is taken literally.
fn pattern_dir(p: &Path) -> String {
    p.to_string_lossy().replace('%', "%%")
}

/// The `#SBATCH` lines shared by the arrays and the collect job.
fn common_lines(s: &mut String, opts: &SlurmOptions, with_mem: bool) {
    for (flag, v) in [
        ("partition", &opts.partition),
        ("time", &opts.time),
        ("mem", if with_mem { &opts.mem } else { &None }),
        ("account", &opts.account),
    ] {
        if let Some(v) = v {
            let _ = writeln!(s, "#SBATCH --{flag}={}", sbatch_quote(v));
        }
    }
    for line in &opts.extra {
        let line = line.trim();
        let line = line.strip_prefix("#SBATCH").map_or(line, str::trim_start);
        let _ = writeln!(s, "#SBATCH {line}");
    }
}

/// Renders the batch scripts of a sharded sweep (pure: nothing is written or run).
///
/// Shards are split into array jobs of at most `max_array_size` elements, with array
/// indices `0..len` in each (indices must stay below `MaxArraySize`); array job `k` runs
/// shards `k * max_array_size + index`. `throttle` applies to each array job separately.
pub fn render(opts: &SlurmOptions) -> Result<Plan, SlurmError> {
    check(opts)?;
    let n = opts.shards;
    let chunk = opts.max_array_size;
    let chunks = n.div_ceil(chunk);
    let bin = quote_path(&opts.sweep_bin);
    let out = quote_path(&opts.out);
    let logs = pattern_dir(&opts.log_dir);
    let name = sbatch_quote(&opts.job_name);
    let run_args: String = opts.run_args.iter().map(|a| format!(" {}", crate::text::shell_quote(a))).collect();

    let arrays = (0..chunks)
        .map(|k| {
            let first = k * chunk;
            let len = chunk.min(n - first);
            let mut s = String::from("#!/bin/bash\n");
            let _ = writeln!(
                s,
                "# sweep: shards {first}..={} of {n} (array job {} of {chunks}); \
                 array index i runs shard {first} + i.",
                first + len - 1,
                k + 1
            );
            let _ = writeln!(s, "#SBATCH --job-name={name}");
            let throttle = opts.throttle.map(|m| format!("%{m}")).unwrap_or_default();
            let _ = writeln!(s, "#SBATCH --array=0-{}{throttle}", len - 1);
            let _ = writeln!(s, "#SBATCH --output={}", sbatch_quote(&format!("{logs}/%x-%A_%a.out")));
            s.push_str("#SBATCH --open-mode=append\n");
            s.push_str("#SBATCH --ntasks=1\n");
            let _ = writeln!(s, "#SBATCH --cpus-per-task={}", opts.cpus_per_task);
            if opts.gpus > 0 {
                // `--gres` rather than `--gpus-per-task`: it needs no cons_tres plugin.
                let _ = writeln!(s, "#SBATCH --gres=gpu:{}", opts.gpus);
            }
            let _ = writeln!(s, "#SBATCH --signal=B:USR1@{SIGNAL_LEAD_SECS}");
            s.push_str("#SBATCH --requeue\n");
            common_lines(&mut s, opts, true);
            let shard = if first == 0 {
                format!("\"$SLURM_ARRAY_TASK_ID/{n}\"")
            } else {
                format!("\"$(({first} + SLURM_ARRAY_TASK_ID))/{n}\"")
            };
            s.push_str("set -u\n\n");
            s.push_str(
                "# SLURM sends USR1 to this shell before the wall-time; pass it on to sweep,\n\
                 # which stops gracefully.\n\
                 stopped=0\n\
                 trap 'stopped=1; kill -USR1 \"$child\" 2>/dev/null' USR1\n",
            );
            let jobs = match opts.jobs {
                Some(j) => j.to_string(),
                None => format!("\"${{SLURM_CPUS_PER_TASK:-{}}}\"", opts.cpus_per_task),
            };
            let _ = writeln!(
                s,
                "{bin} run {spec} --out {out} --shard {shard} --resume --jobs {jobs}{run_args} &",
                spec = quote_path(&opts.spec),
            );
            s.push_str(
                "child=$!\n\
                 wait \"$child\"\n\
                 while kill -0 \"$child\" 2>/dev/null; do wait \"$child\"; done\n\
                 wait \"$child\"\n\
                 rc=$?\n",
            );
            let _ = writeln!(
                s,
                "if [ \"$stopped\" = 1 ] && [ \"${{SLURM_RESTART_COUNT:-0}}\" -lt {max} ]; then\n    \
                 echo \"sweep: stopped before the wall-time; requeueing (restart $((${{SLURM_RESTART_COUNT:-0}} + 1)) of {max})\" >&2\n    \
                 scontrol requeue \"${{SLURM_ARRAY_JOB_ID}}_${{SLURM_ARRAY_TASK_ID}}\"\n\
                 fi\n\
                 exit \"$rc\"",
                max = opts.max_requeues,
            );
            ArrayScript { first_shard: first, len, text: s }
        })
        .collect();

    let mut c = String::from("#!/bin/bash\n");
    let _ = writeln!(c, "# sweep: collects the {n} shards; submit with --dependency=afterany:<array job ids>.");
    let _ = writeln!(c, "#SBATCH --job-name={}", sbatch_quote(&format!("{}-collect", opts.job_name)));
    let _ = writeln!(c, "#SBATCH --output={}", sbatch_quote(&format!("{logs}/%x-%j.out")));
    c.push_str("#SBATCH --open-mode=append\n");
    c.push_str("#SBATCH --ntasks=1\n");
    c.push_str("#SBATCH --cpus-per-task=1\n");
    common_lines(&mut c, opts, true);
    let _ = writeln!(c, "exec {bin} collect {out}");

    Ok(Plan { arrays, collect: c, job_name: opts.job_name.clone(), log_dir: opts.log_dir.clone() })
}

#[cfg(test)]
mod tests {
    use super::super::options::example as opts;
    use super::*;

    fn lines(s: &str) -> Vec<&str> {
        s.lines().collect()
    }

    fn sbatch_lines(s: &str) -> Vec<&str> {
        s.lines().filter(|l| l.starts_with("#SBATCH ")).collect()
    }

    #[test]
    fn one_array_runs_every_shard_with_explicit_count() {
        let plan = render(&opts(10)).unwrap();
        assert_eq!(plan.arrays.len(), 1);
        let a = &plan.arrays[0];
        assert_eq!((a.first_shard, a.len, a.shards()), (0, 10, 0..10));
        assert!(a.text.starts_with("#!/bin/bash\n"));
        assert_eq!(
            sbatch_lines(&a.text),
            [
                "#SBATCH --job-name=sweep",
                "#SBATCH --array=0-9",
                "#SBATCH --output=/scratch/out/slurm-logs/%x-%A_%a.out",
                "#SBATCH --open-mode=append",
                "#SBATCH --ntasks=1",
                "#SBATCH --cpus-per-task=4",
                "#SBATCH --signal=B:USR1@120",
                "#SBATCH --requeue",
            ]
        );
        assert!(lines(&a.text).contains(
            &"'/opt/bin/sweep' run '/data/grid.toml' --out '/scratch/out' \
              --shard \"$SLURM_ARRAY_TASK_ID/10\" --resume --jobs \"${SLURM_CPUS_PER_TASK:-4}\" &"
        ));
        assert!(a.text.contains("scontrol requeue \"${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}\""));
        assert!(a.text.contains("-lt 3 ]"));
        assert!(a.text.ends_with("exit \"$rc\"\n"));
    }

    #[test]
    fn throttle_resources_and_extras() {
        let mut o = opts(5);
        o.throttle = Some(2);
        o.partition = Some("debug".into());
        o.time = Some("1-00:00:00".into());
        o.mem = Some("4G".into());
        o.account = Some("proj 1".into());
        o.extra = vec!["--qos=long".into(), "#SBATCH --constraint=\"a|b\"".into()];
        o.run_args = vec!["--retries".into(), "2".into(), "--note".into(), "it's here".into()];
        o.job_name = "my run".into();
        let plan = render(&o).unwrap();
        let a = &plan.arrays[0].text;
        let sb = sbatch_lines(a);
        assert_eq!(sb[0], "#SBATCH --job-name=\"my run\"");
        assert_eq!(sb[1], "#SBATCH --array=0-4%2");
        assert_eq!(
            &sb[8..],
            [
                "#SBATCH --partition=debug",
                "#SBATCH --time=1-00:00:00",
                "#SBATCH --mem=4G",
                "#SBATCH --account=\"proj 1\"",
                "#SBATCH --qos=long",
                "#SBATCH --constraint=\"a|b\"",
            ]
        );
        assert!(a.contains("--resume --jobs \"${SLURM_CPUS_PER_TASK:-4}\" --retries 2 --note 'it'\\''s here' &\n"));
        let c = sbatch_lines(&plan.collect);
        assert!(c.contains(&"#SBATCH --job-name=\"my run-collect\""));
        assert!(c.contains(&"#SBATCH --partition=debug"));
        assert!(c.contains(&"#SBATCH --qos=long"));
        assert!(!c.iter().any(|l| l.contains("--array") || l.contains("--signal")));
    }

    #[test]
    fn explicit_jobs_replace_slurm_cpus_per_task() {
        let mut o = opts(2);
        o.jobs = Some(3);
        let a = render(&o).unwrap().arrays.remove(0).text;
        assert!(a.contains("--shard \"$SLURM_ARRAY_TASK_ID/2\" --resume --jobs 3 &\n"), "{a}");
        assert!(a.contains("#SBATCH --cpus-per-task=4\n"));
        o.jobs = Some(0);
        assert_eq!(render(&o).unwrap_err().to_string(), "the number of jobs must be at least 1");
    }

    #[test]
    fn more_shards_than_max_array_size_are_chunked_with_offsets() {
        let mut o = opts(2500);
        o.throttle = Some(50);
        let plan = render(&o).unwrap();
        let got: Vec<_> = plan.arrays.iter().map(|a| (a.first_shard, a.len)).collect();
        assert_eq!(got, [(0, 1001), (1001, 1001), (2002, 498)]);
        let array_line = |a: &ArrayScript| {
            sbatch_lines(&a.text).into_iter().find(|l| l.starts_with("#SBATCH --array=")).unwrap().to_string()
        };
        assert_eq!(array_line(&plan.arrays[0]), "#SBATCH --array=0-1000%50");
        assert_eq!(array_line(&plan.arrays[1]), "#SBATCH --array=0-1000%50");
        assert_eq!(array_line(&plan.arrays[2]), "#SBATCH --array=0-497%50");
        assert!(plan.arrays[0].text.contains("--shard \"$SLURM_ARRAY_TASK_ID/2500\""));
        assert!(plan.arrays[1].text.contains("--shard \"$((1001 + SLURM_ARRAY_TASK_ID))/2500\""));
        assert!(plan.arrays[2].text.contains("--shard \"$((2002 + SLURM_ARRAY_TASK_ID))/2500\""));
        // Every shard exactly once, every index below MaxArraySize.
        let all: Vec<u32> = plan.arrays.iter().flat_map(ArrayScript::shards).collect();
        assert_eq!(all, (0..2500).collect::<Vec<_>>());
        assert!(plan.arrays.iter().all(|a| a.len <= 1001));
    }

    #[test]
    fn exactly_max_array_size_shards_is_one_array() {
        assert_eq!(render(&opts(1001)).unwrap().arrays.len(), 1);
        assert_eq!(render(&opts(1002)).unwrap().arrays.len(), 2);
        let mut o = opts(3);
        o.max_array_size = 1;
        let plan = render(&o).unwrap();
        assert_eq!(plan.arrays.len(), 3);
        assert!(plan.arrays[2].text.contains("#SBATCH --array=0-0\n"));
        assert!(plan.arrays[2].text.contains("--shard \"$((2 + SLURM_ARRAY_TASK_ID))/3\""));
    }

    #[test]
    fn collect_job_runs_collect_on_the_out_dir() {
        let plan = render(&opts(3)).unwrap();
        assert_eq!(
            lines(&plan.collect)[2..],
            [
                "#SBATCH --job-name=sweep-collect",
                "#SBATCH --output=/scratch/out/slurm-logs/%x-%j.out",
                "#SBATCH --open-mode=append",
                "#SBATCH --ntasks=1",
                "#SBATCH --cpus-per-task=1",
                "exec '/opt/bin/sweep' collect '/scratch/out'",
            ]
        );
    }

    #[test]
    fn paths_are_quoted_for_the_shell_and_for_sbatch() {
        let mut o = SlurmOptions::new("/d/it's a grid.toml".into(), "/b/sweep".into(), "/o/100% $HOME".into(), 2);
        o.log_dir = "/o/log 50%".into();
        let a = render(&o).unwrap().arrays.remove(0).text;
        assert!(a.contains("'/b/sweep' run '/d/it'\\''s a grid.toml' --out '/o/100% $HOME' "));
        assert!(a.contains("#SBATCH --output=\"/o/log 50%%/%x-%A_%a.out\"\n"));
    }
}
