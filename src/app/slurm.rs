//! `sweep slurm`: the job-array scripts of a sharded sweep, printed, written or submitted.

use crate::cli::SlurmArgs;
use crate::cluster::slurm::{
    default_shards, query_max_array_size, render, submit, Plan, SlurmOptions, DEFAULT_MAX_ARRAY_SIZE,
};
use crate::error::{Error, IoContext};
use crate::model::Registry;
use crate::outdir::OutDir;
use crate::session::{init_for_shards, refuse_adaptive_shards};
use crate::spec::{Override, Spec};
use std::path::{Path, PathBuf};

pub(super) fn slurm(a: SlurmArgs, registry: &Registry) -> Result<i32, Error> {
    // Array elements resume the sweep, so `--set`s it was started with are kept here too.
    let given = super::overrides::sets_of(&a.sweep.sets, &a.sweep.set);
    let (spec, sets) = super::overrides::load_spec(&a.sweep.spec, &given, a.sweep.out.as_deref(), true, registry)?;
    // Before any script is written: its elements would all stop with this error.
    refuse_adaptive_shards(&spec)?;
    let spec_path = absolute(&a.sweep.spec)?;
    if let Some(o) = &a.sweep.out {
        // `-o` was the script file before it meant the out directory, as everywhere else:
        // a script's name given to it now would silently become a directory.
        if o.extension().is_some_and(|e| ["sbatch", "sh", "slurm"].iter().any(|x| e.eq_ignore_ascii_case(x))) {
            return Err(Error::Usage(format!(
                "-o/--out is the sweep's out directory (as in `sweep run`), and {} looks like a script; \
                 write the scripts with --script {}",
                o.display(),
                o.display()
            )));
        }
    }
    let out = absolute(a.sweep.out.as_deref().unwrap_or(&spec.out))?;
    let sweep_bin = match &a.sweep_bin {
        Some(p) => absolute(p)?,
        None => std::env::current_exe().context(|| "cannot find the path of the sweep binary".into())?,
    };
    // Each element asks SLURM for its slots: threads × jobs cores, gpus × jobs GPUs and
    // memory × jobs (`[resources]`); the flags given win.
    let (cpus, jobs, gpus, mem) = element_resources(&a, &spec.resources);
    let tasks = spec.task_count();
    let shards = a.shards.unwrap_or_else(|| default_shards(tasks, cpus));
    if u64::from(shards) > tasks {
        eprintln!("warning: {shards} shards for {tasks} tasks: some array elements will have nothing to do");
    }
    // The cluster's limit when scontrol can tell it; --max-array-size lowers it, and stands in
    // for it where scontrol cannot be run (writing scripts away from the cluster).
    let max_array_size = match (query_max_array_size(), a.max_array_size) {
        (Some(cluster), Some(flag)) => cluster.min(flag),
        (cluster, flag) => cluster.or(flag).unwrap_or(DEFAULT_MAX_ARRAY_SIZE),
    };

    let mut opts = SlurmOptions::new(spec_path, sweep_bin, out.clone(), shards);
    opts.throttle = a.throttle;
    opts.partition = a.partition.clone();
    opts.time = a.time.clone();
    opts.cpus_per_task = cpus;
    opts.jobs = jobs;
    opts.mem = mem;
    opts.gpus = gpus;
    opts.account = a.account.clone();
    opts.extra = a.extra.clone();
    opts.max_array_size = max_array_size;
    opts.job_name = a.job_name.clone().unwrap_or_else(|| job_name(&spec.name));
    opts.run_args = run_args(&a, &sets);
    let plan = render(&opts).map_err(|e| Error::Usage(e.to_string()))?;
    let per_shard = tasks.div_ceil(u64::from(shards));
    let arrays = crate::text::count(plan.arrays.len() as u64, "array job");
    eprintln!("sweep: {tasks} tasks in {shards} shards (up to {per_shard} tasks each), {arrays}");

    if a.submit {
        submit_plan(&plan, &spec, &out)
    } else if let Some(file) = &a.output {
        write_plan(&plan, file, &out)
    } else {
        print!("{}", stdout_text(&plan));
        Ok(crate::exit::SUCCESS)
    }
}

/// `--cpus-per-task`, the elements' `--jobs` (`None`: SLURM_CPUS_PER_TASK), their GPUs and
/// `--mem`, from the flags and from what each task asks for. Without `[resources]`, one
/// core per task, as before; with threads, the jobs are given so that each gets them.
fn element_resources(a: &SlurmArgs, req: &crate::resources::Request) -> (u32, Option<u32>, u32, Option<String>) {
    let threads = req.threads.unwrap_or(1) as u32;
    // At most MAX_JOBS (4096), checked by the command line.
    let asked = a.sweep.jobs.map(|j| j.get() as u32);
    let jobs = asked.unwrap_or_else(|| a.cpus_per_task.map_or(1, |c| (c / threads).max(1)));
    let cpus = a.cpus_per_task.unwrap_or(threads * jobs);
    let given_jobs = if threads > 1 || req.gpus > 0 || req.memory.is_some() { Some(jobs) } else { asked };
    // SLURM reads a bare number as MB and `M` as MiB: whole MiB, rounded up.
    let mem = a.mem.clone().or_else(|| req.memory.map(|m| format!("{}M", (m * u64::from(jobs)).div_ceil(1 << 20))));
    (cpus, given_jobs, req.gpus as u32 * jobs, mem)
}

/// `p` made absolute against the current directory (without resolving links).
fn absolute(p: &Path) -> Result<PathBuf, Error> {
    std::path::absolute(p).context(|| format!("cannot make {} absolute", p.display()))
}

/// A job name from a spec name: characters that SLURM or file names would trip on become `_`.
fn job_name(spec_name: &str) -> String {
    let name: String = spec_name.chars().map(|c| if c == '/' || c.is_control() { '_' } else { c }).collect();
    if name.trim().is_empty() {
        "sweep".to_string()
    } else {
        name
    }
}

/// The `sweep run` options given on the command line, for the elements' command line.
fn run_args(a: &SlurmArgs, sets: &[Override]) -> Vec<String> {
    let mut v = Vec::new();
    for set in sets {
        v.extend(["--set".to_string(), set.to_string()]);
    }
    let mut push = |flag: &str, value: Option<String>| {
        if let Some(value) = value {
            v.push(flag.to_string());
            v.push(value);
        }
    };
    push("--io-threads", a.sweep.io_threads.map(|n| n.to_string()));
    push("--retries", a.sweep.retries.map(|n| n.to_string()));
    push("--max-failures", a.sweep.max_failures.map(|n| n.to_string()));
    v
}

/// The scripts one after the other, each after a comment line that says how to submit it.
fn stdout_text(plan: &Plan) -> String {
    let n = plan.arrays.len();
    let mut s = String::new();
    for (k, a) in plan.arrays.iter().enumerate() {
        s.push_str(&format!(
            "# ---- array job {} of {n} (shards {}..={}): sbatch --parsable FILE ----\n",
            k + 1,
            a.first_shard,
            a.first_shard + a.len - 1
        ));
        s.push_str(&a.text);
        s.push('\n');
    }
    s.push_str("# ---- collect job: sbatch --dependency=afterany:<array job ids> FILE ----\n");
    s.push_str(&plan.collect);
    s
}

/// The files `-o FILE` writes: FILE, FILE.2, ... for the arrays, then FILE.collect.
fn output_files(file: &Path, arrays: usize) -> Vec<PathBuf> {
    let with_suffix = |suffix: &str| {
        let mut s = file.as_os_str().to_owned();
        s.push(suffix);
        PathBuf::from(s)
    };
    let mut v: Vec<PathBuf> =
        (0..arrays).map(|k| if k == 0 { file.to_path_buf() } else { with_suffix(&format!(".{}", k + 1)) }).collect();
    v.push(with_suffix(".collect"));
    v
}

fn write_plan(plan: &Plan, file: &Path, out: &Path) -> Result<i32, Error> {
    let files = output_files(file, plan.arrays.len());
    let texts = plan.arrays.iter().map(|a| &a.text).chain(std::iter::once(&plan.collect));
    for (path, text) in files.iter().zip(texts) {
        std::fs::write(path, text).context(|| format!("cannot write {}", path.display()))?;
    }
    let (collect, arrays) = files.split_last().expect("the collect file is always there");
    for (path, a) in arrays.iter().zip(&plan.arrays) {
        eprintln!(
            "sweep: wrote {} (array job: shards {}..={})",
            path.display(),
            a.first_shard,
            a.first_shard + a.len - 1
        );
    }
    eprintln!("sweep: wrote {} (collect job)", collect.display());
    let q = |p: &Path| crate::text::shell_quote(&p.to_string_lossy());
    eprintln!("submit them with (or use `sweep slurm ... --submit`):");
    eprintln!("  mkdir -p {}", q(&plan.log_dir));
    let mut deps = String::new();
    for (k, path) in arrays.iter().enumerate() {
        eprintln!("  j{k}=$(sbatch --parsable {})", q(path));
        deps.push_str(&format!(":$j{k}"));
    }
    eprintln!("  sbatch --dependency=afterany{deps} {}", q(collect));
    eprintln!("then watch: sweep status {}", q(out));
    Ok(crate::exit::SUCCESS)
}

fn submit_plan(plan: &Plan, spec: &Spec, out: &Path) -> Result<i32, Error> {
    let dir = OutDir::new(out);
    for w in init_for_shards(spec, &dir)? {
        eprintln!("warning: {w}");
    }
    let sub = submit(plan, &out.join("slurm")).map_err(|e| Error::Submit(e.to_string()))?;
    for (id, a) in sub.arrays.iter().zip(&plan.arrays) {
        println!("array job {id}: shards {}..={}", a.first_shard, a.first_shard + a.len - 1);
    }
    println!("collect job {}: runs after the arrays end", sub.collect);
    let q = |p: &Path| crate::text::shell_quote(&p.to_string_lossy());
    println!("watch:  sweep status {}", q(out));
    println!("logs:   {}", q(&plan.log_dir));
    println!("cancel: scancel {}", sub.all().join(" "));
    println!("resume: run this command again (finished tasks are kept)");
    Ok(crate::exit::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_files_number_extra_arrays_and_name_the_collect_job() {
        assert_eq!(
            output_files(Path::new("a/job.sbatch"), 1),
            [PathBuf::from("a/job.sbatch"), "a/job.sbatch.collect".into()]
        );
        assert_eq!(
            output_files(Path::new("j"), 3),
            [PathBuf::from("j"), "j.2".into(), "j.3".into(), "j.collect".into()]
        );
    }

    #[test]
    fn job_names_from_spec_names() {
        assert_eq!(job_name("reaction"), "reaction");
        assert_eq!(job_name("a/b\nc"), "a_b_c");
        assert_eq!(job_name(" "), "sweep");
    }
}
