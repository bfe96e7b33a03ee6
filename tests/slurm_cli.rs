//! `sweep slurm` without a cluster: the scripts it prints and writes, and its refusals.
//! (tests/slurm.rs runs the jobs on a real SLURM.)

use assert_cmd::Command;
use predicates::str::contains;
use std::path::Path;

const SPEC: &str = "name = \"spinny\"\nreplicates = 50\n\n[model]\nname = \"spin\"\n\n\
                    [params]\nmicros = [0, 1]\narray_len = 4\n";

fn sweep(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("sweep").unwrap();
    c.current_dir(dir);
    c
}

#[test]
fn prints_an_array_script_with_absolute_paths() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("grid.toml"), SPEC).unwrap();
    let bin = dir.path().join("bin/sweep");
    let out = sweep(dir.path())
        .args(["slurm", "grid.toml", "--shards", "4", "--out", "res", "--retries", "2", "--time", "1:00:00"])
        .arg("--sweep-bin")
        .arg(&bin)
        .assert()
        .success()
        .stderr(contains("100 tasks in 4 shards"))
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let root = dir.path().display().to_string();
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
    assert!(!dir.path().join("res").exists());
}

#[test]
fn default_out_is_the_specs_and_default_binary_is_this_one() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("grid.toml"), format!("out = \"o/p\"\n{SPEC}")).unwrap();
    let text = String::from_utf8(
        sweep(dir.path()).args(["slurm", "grid.toml", "--shards", "3"]).assert().success().get_output().stdout.clone(),
    )
    .unwrap();
    let bin = std::fs::canonicalize(env!("CARGO_BIN_EXE_sweep")).unwrap();
    let root = dir.path().display();
    assert!(text.contains(&format!("'{}' run '{root}/grid.toml' --out '{root}/o/p' ", bin.display())), "{text}");
    assert!(text.contains("--shard \"$SLURM_ARRAY_TASK_ID/3\""), "{text}");
}

#[test]
fn output_file_splits_arrays_by_max_array_size() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("grid.toml"), SPEC).unwrap();
    sweep(dir.path())
        .args(["slurm", "grid.toml", "--shards", "5", "--max-array-size", "2", "--jobs", "3", "-o", "job.sbatch"])
        .assert()
        .success()
        .stdout("")
        .stderr(contains("wrote job.sbatch (array job: shards 0..=1)"))
        .stderr(contains("wrote job.sbatch.3 (array job: shards 4..=4)"))
        .stderr(contains("wrote job.sbatch.collect (collect job)"))
        .stderr(contains("sbatch --dependency=afterany:$j0:$j1:$j2 job.sbatch.collect"));
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
    let (a, b, c) = (read("job.sbatch"), read("job.sbatch.2"), read("job.sbatch.3"));
    assert!(a.contains("#SBATCH --array=0-1\n") && a.contains("--shard \"$SLURM_ARRAY_TASK_ID/5\""));
    assert!(b.contains("#SBATCH --array=0-1\n") && b.contains("--shard \"$((2 + SLURM_ARRAY_TASK_ID))/5\""));
    assert!(c.contains("#SBATCH --array=0-0\n") && c.contains("--shard \"$((4 + SLURM_ARRAY_TASK_ID))/5\""));
    assert!(a.contains("#SBATCH --cpus-per-task=3\n") && a.contains("--resume --jobs 3 &"), "{a}");
    assert!(read("job.sbatch.collect").contains(" collect '"));
}

#[test]
fn spec_errors_exit_2_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.toml"), "name = \"x\"\n[model]\nname = \"nope\"\n").unwrap();
    sweep(dir.path())
        .args(["slurm", "bad.toml", "--shards", "2", "-o", "job.sbatch"])
        .assert()
        .code(2)
        .stderr(contains("unknown model `nope`"));
    sweep(dir.path()).args(["slurm", "missing.toml"]).assert().code(2);
    assert!(!dir.path().join("job.sbatch").exists());
    std::fs::write(dir.path().join("grid.toml"), SPEC).unwrap();
    sweep(dir.path())
        .args(["slurm", "grid.toml", "--shards", "0"])
        .assert()
        .code(2)
        .stderr(contains("the number of shards must be at least 1"));
    sweep(dir.path()).args(["slurm", "grid.toml", "--submit", "-o", "x"]).assert().code(2);
}

#[test]
fn a_shard_starts_in_an_out_dir_holding_only_slurm_logs() {
    // The log directory must exist before the first array element starts the sweep.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("grid.toml"), SPEC).unwrap();
    std::fs::create_dir_all(dir.path().join("res/slurm-logs")).unwrap();
    sweep(dir.path()).args(["run", "grid.toml", "--out", "res", "--shard", "1/2", "--resume", "-q"]).assert().success();
    sweep(dir.path()).args(["run", "grid.toml", "--out", "res", "--shard", "0/2", "--resume", "-q"]).assert().success();
    sweep(dir.path()).args(["collect", "res"]).assert().success();
    sweep(dir.path()).args(["status", "res"]).assert().success();
}
