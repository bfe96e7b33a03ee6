//! `sweep slurm` without a cluster: the scripts it prints and writes, and its refusals.
//! (tests/slurm.rs runs the jobs on a real SLURM.)

mod common;
use common::*;

const SPEC: &str = "name = \"spinny\"\nreplicates = 50\n\n[model]\nname = \"spin\"\n\n\
                    [params]\nmicros = [0, 1]\narray_len = 4\n";

#[test]
fn prints_an_array_script_with_absolute_paths() {
    let env = Env::with("grid.toml", SPEC);
    let bin = env.abs("bin/sweep");
    let args = ["slurm", "grid.toml", "--shards", "4", "--out", "res", "--retries", "2", "--time", "1:00:00"];
    let out = env.exits(&[&args[..], &["--sweep-bin", &bin]].concat(), 0);
    assert!(out.stderr.contains("100 tasks in 4 shards"), "{}", out.stderr);
    let text = out.stdout;
    let root = env.dir.path().display().to_string();
    assert!(text.contains("\n#SBATCH --array=0-3\n"), "{text}");
    assert!(text.contains("\n#SBATCH --time=1:00:00\n"), "{text}");
    assert!(text.contains("\n#SBATCH --job-name=spinny\n"), "{text}");
    let run_line = format!(
        "'{root}/bin/sweep' run '{root}/grid.toml' --out '{root}/res' --shard \"$SLURM_ARRAY_TASK_ID/4\" \
         --resume --jobs \"${{SLURM_CPUS_PER_TASK:-1}}\" --retries 2 &\n"
    );
    assert!(text.contains(&run_line), "{run_line}\nnot in\n{text}");
    assert!(text.contains(&format!("\nexec '{root}/bin/sweep' collect '{root}/res'\n")), "{text}");
    assert!(text.contains(&format!("#SBATCH --output={root}/res/slurm-logs/%x-%A_%a.out")), "{text}");
    // Printing writes nothing.
    assert!(!env.path("res").exists());
}

#[test]
fn default_out_is_the_specs_and_default_binary_is_this_one() {
    let env = Env::with("grid.toml", &format!("out = \"o/p\"\n{SPEC}"));
    let text = env.succeeds(&["slurm", "grid.toml", "--shards", "3"]);
    let bin = std::fs::canonicalize(env!("CARGO_BIN_EXE_sweep")).unwrap();
    let root = env.dir.path().display();
    assert!(text.contains(&format!("'{}' run '{root}/grid.toml' --out '{root}/o/p' ", bin.display())), "{text}");
    assert!(text.contains("--shard \"$SLURM_ARRAY_TASK_ID/3\""), "{text}");
}

#[test]
fn output_file_splits_arrays_by_max_array_size() {
    let env = Env::with("grid.toml", SPEC);
    let out = env.exits(
        &["slurm", "grid.toml", "--shards", "5", "--max-array-size", "2", "--jobs", "3", "--script", "job.sbatch"],
        0,
    );
    assert_eq!(out.stdout, "");
    for line in [
        "wrote job.sbatch (array job: shards 0..=1)",
        "wrote job.sbatch.3 (array job: shards 4..=4)",
        "wrote job.sbatch.collect (collect job)",
        "sbatch --dependency=afterany:$j0:$j1:$j2 job.sbatch.collect",
    ] {
        assert!(out.stderr.contains(line), "`{line}` not in\n{}", out.stderr);
    }
    let (a, b, c) = (env.read("job.sbatch"), env.read("job.sbatch.2"), env.read("job.sbatch.3"));
    assert!(a.contains("#SBATCH --array=0-1\n") && a.contains("--shard \"$SLURM_ARRAY_TASK_ID/5\""));
    assert!(b.contains("#SBATCH --array=0-1\n") && b.contains("--shard \"$((2 + SLURM_ARRAY_TASK_ID))/5\""));
    assert!(c.contains("#SBATCH --array=0-0\n") && c.contains("--shard \"$((4 + SLURM_ARRAY_TASK_ID))/5\""));
    assert!(a.contains("#SBATCH --cpus-per-task=3\n") && a.contains("--resume --jobs 3 &"), "{a}");
    assert!(env.read("job.sbatch.collect").contains(" collect '"));
}

#[test]
fn spec_errors_exit_2_and_write_nothing() {
    let env = Env::with("bad.toml", "name = \"x\"\n[model]\nname = \"nope\"\n");
    let err = env.fails(&["slurm", "bad.toml", "--shards", "2", "--script", "job.sbatch"], 2);
    assert!(err.contains("unknown model `nope`"), "{err}");
    env.fails(&["slurm", "missing.toml"], 2);
    assert!(!env.path("job.sbatch").exists());
    env.write("grid.toml", SPEC);
    let err = env.fails(&["slurm", "grid.toml", "--shards", "0"], 2);
    assert!(err.contains("the number of shards must be at least 1"), "{err}");
    env.fails(&["slurm", "grid.toml", "--submit", "--script", "x"], 2);
}

#[test]
fn a_shard_starts_in_an_out_dir_holding_only_slurm_logs() {
    // The log directory must exist before the first array element starts the sweep.
    let env = Env::with("grid.toml", SPEC);
    std::fs::create_dir_all(env.path("res/slurm-logs")).unwrap();
    env.succeeds(&["run", "grid.toml", "--out", "res", "--shard", "1/2", "--resume", "-q"]);
    env.succeeds(&["run", "grid.toml", "--out", "res", "--shard", "0/2", "--resume", "-q"]);
    env.succeeds(&["collect", "res"]);
    env.succeeds(&["status", "res"]);
}

#[test]
fn slurm_o_is_the_out_directory_and_a_script_name_there_is_refused() {
    // -o means the out directory in every subcommand; it used to be the script file here.
    let env = Env::with("grid.toml", "[model]\nname = \"spin\"\n[params]\nmicros = [1, 2]\n");
    let err = env.fails(&["slurm", "grid.toml", "--shards", "2", "-o", "job.sbatch"], 2);
    assert!(err.contains("write the scripts with --script job.sbatch"), "{err}");
    let text = env.succeeds(&["slurm", "grid.toml", "--shards", "2", "-o", "res"]);
    assert!(text.contains("--out") && text.contains("/res"), "{text}");
    // --output still names the script file.
    env.succeeds(&["slurm", "grid.toml", "--shards", "2", "--output", "job.sbatch"]);
    assert!(env.path("job.sbatch").is_file());
}

#[test]
fn jobs_0_is_refused_by_slurm_as_by_run() {
    // Regression: `sweep slurm --jobs 0` took any u32 and failed later as "cpus per task must
    // be at least 1"; --jobs now has the same range for both subcommands.
    let env = Env::with("grid.toml", SPEC);
    for cmd in ["slurm", "run"] {
        let err = env.fails(&[cmd, "grid.toml", "--jobs", "0"], 2);
        assert!(err.contains("'--jobs <N>'") && err.contains("0 is not in 1..=4096"), "{cmd}: {err}");
    }
}
