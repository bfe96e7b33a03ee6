//! `sweep verify`: a sample of a sweep's done tasks rerun with another worker count (and
//! thread count) matches the recorded metrics and files exactly, or each mismatch is named.

mod common;
use common::*;
use std::path::Path;

/// A small grid of each built-in model (`sweep models`).
const MODELS: [(&str, &str); 5] = [
    ("spin", "replicates = 6\n[model]\nname = \"spin\"\nsave = [\"data\"]\n[params]\nmicros = 10\narray_len = [4, 8]\n"),
    ("reaction", "replicates = 2\n[model]\nname = \"reaction\"\n[params]\nk = [0.1, 0.5, 1.5]\nc0 = [1.0, 2.0]\n"),
    ("fin", "replicates = 3\n[model]\nname = \"fin\"\nn_samples = 1000\n[params]\nL = [0.05, 0.1]\n"),
    (
        "regression",
        "replicates = 2\n[model]\nname = \"regression\"\nn = 50\n[params]\nsnr = [1.0, 10.0]\nnoise = [\"normal\", \"laplace\"]\n",
    ),
    ("kinetic_fit", "replicates = 3\n[model]\nname = \"kinetic_fit\"\n[params]\nk = [0.5, 1.5]\n"),
];

/// Runs `spec` (written as `<name>.toml`) with 2 workers into `out`.
fn run(env: &Env, name: &str, spec: &str, out: &str) {
    env.write(&format!("{name}.toml"), spec);
    env.succeeds(&["run", &format!("{name}.toml"), "--jobs", "2", "--out", out, "-q"]);
}

/// The verification scratch directories left in `dir`.
fn scratch_dirs(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".sweep-verify-"))
        .collect()
}

/// The task ids of `out`'s results.csv.
fn tasks(env: &Env, out: &str) -> Vec<String> {
    parse_csv(&env.read(&format!("{out}/results.csv"))).into_iter().map(|r| r["task"].clone()).collect()
}

#[test]
fn verify_passes_on_every_builtin_model_and_changes_nothing_but_verify_json() {
    let env = Env::new();
    for (name, spec) in MODELS {
        let out = format!("runs/{name}");
        run(&env, name, spec, &out);
        let before = all_files(&env.path(&out));
        let stdout = env.succeeds(&["verify", &out]);
        let n = tasks(&env, &out).len().min(20);
        assert!(stdout.contains(&format!("verified: {n} of {n} tasks match exactly (1 worker)")), "{name}: {stdout}");
        let mut after = all_files(&env.path(&out));
        assert!(after.remove(Path::new("verify.json")).is_some(), "{name}: verify.json written");
        assert_eq!(before, after, "{name}: verify changed the sweep");
        assert!(scratch_dirs(&env.path("runs")).is_empty(), "{name}: scratch left behind");
        let status = env.succeeds(&["status", &out]);
        assert!(
            status.contains(&format!(": {n} of {n} tasks match\n")) && status.contains("  verified 20"),
            "{status}"
        );
    }
}

#[test]
fn verify_passes_on_a_seeded_python_function() {
    let Some(()) = require_tool("numpy", numpy()) else { return };
    let env = Env::with(
        "model.py",
        "def simulate(k, *, rng):\n    x = k * rng.normal(size=50)\n    return {\"mean\": float(x.mean()), \"x\": x}\n",
    );
    run(&env, "py", "replicates = 3\n[python]\nfunction = \"model.py:simulate\"\n[params]\nk = [1.0, 2.0]\n", "out");
    let stdout = env.succeeds(&["verify", "out"]);
    assert!(
        stdout.contains("verified: 6 of 6 tasks match exactly (1 worker; then 1 worker, OMP_NUM_THREADS=2)"),
        "{stdout}"
    );
    assert!(journal_lines(&env.read("out/journal.jsonl")).iter().any(|l| l["files"]["x.npy"].is_string()));
}

#[test]
fn an_unseeded_random_draw_fails_verify_naming_the_task_and_the_output() {
    let env = Env::new();
    let spec = "replicates = 2\n[command]\nshell = \"head -c 16 /dev/urandom | od -An -tx1 > {out}/draw.txt\"\n[params]\nk = [1, 2]\n";
    run(&env, "unseeded", spec, "out");
    let out = env.exits(&["verify", "out"], 1).stdout;
    for task in tasks(&env, "out") {
        assert!(out.contains(&format!("MISMATCH {task} (k=")), "{task}: {out}");
    }
    assert!(out.contains("draw.txt  [1 worker]: differs from the recorded output: first at byte"), "{out}");
    assert!(out.contains("verify: 0 of 4 tasks match; 4 mismatches"), "{out}");
    assert!(env.succeeds(&["status", "out"]).contains(": 0 of 4 tasks match, 4 mismatches"));
    assert!(scratch_dirs(env.dir.path()).is_empty());
}

#[test]
fn an_output_that_depends_on_omp_num_threads_fails_verify_for_that_reason() {
    let env = Env::new();
    let spec = "[command]\nshell = \"echo threads=$OMP_NUM_THREADS > {out}/threads.txt\"\n[params]\nk = [1, 2]\n";
    run(&env, "omp", spec, "out");
    let out = env.exits(&["verify", "out"], 1).stdout;
    assert!(
        out.contains("threads.txt  [1 worker, OMP_NUM_THREADS=2]: depends on the thread count (matches with OMP_NUM_THREADS=1, as the run had it, not with 2)"),
        "{out}"
    );
    assert_eq!(out.matches("MISMATCH").count(), 2, "{out}");
    // With the run's own thread count everything matches: the thread count is the cause.
    env.succeeds(&["verify", "out", "--same-threads"]);
}

#[test]
fn a_npy_edited_after_the_run_is_a_mismatch_with_the_first_changed_element() {
    let env = Env::new();
    run(&env, "spin", MODELS[0].1, "out");
    let task = tasks(&env, "out")[3].clone();
    let npy = env.path(&format!("out/tasks/{task}/data.npy"));
    let mut bytes = std::fs::read(&npy).unwrap();
    let n = bytes.len();
    bytes[n - 1] ^= 0x40; // the last float's sign bit
    std::fs::write(&npy, bytes).unwrap();
    let out = env.exits(&["verify", "out", "--sample", "100"], 1).stdout;
    assert!(out.contains(&format!("MISMATCH {task} (micros=10 array_len=")), "{out}");
    assert!(
        out.contains("data.npy  [1 worker]: changed in the out directory since the run: first at element ["),
        "{out}"
    );
    assert!(out.contains("verify: 11 of 12 tasks match; 1 mismatch"), "{out}");
}

#[test]
fn records_from_before_checksums_are_compared_with_the_files_as_they_are() {
    let env = Env::new();
    run(&env, "spin", MODELS[0].1, "out");
    let journal = env.read("out/journal.jsonl");
    let old: Vec<String> = journal_lines(&journal)
        .into_iter()
        .map(|mut l| {
            l.as_object_mut().unwrap().remove("files");
            l.to_string()
        })
        .collect();
    env.write("out/journal.jsonl", &(old.join("\n") + "\n"));
    let out = env.succeeds(&["verify", "out"]);
    assert!(out.contains("note: 12 of 12 tasks were recorded before sweep kept checksums"), "{out}");
    assert!(out.contains("verified: 12 of 12"), "{out}");
}

#[test]
fn bad_input_exits_2_and_a_killed_verify_s_scratch_is_removed_by_the_next() {
    let env = Env::new();
    assert!(env.fails(&["verify", "nowhere"], 2).contains("holds no sweep"));
    run(&env, "spin", MODELS[0].1, "out");
    assert!(env.fails(&["verify", "out", "--sample", "0"], 2).contains("--sample"));
    // What `kill -9` of a verification leaves: a scratch directory of a process that is gone.
    let stale = env.path(".sweep-verify-8388608-0");
    std::fs::create_dir_all(stale.join("tasks")).unwrap();
    env.succeeds(&["verify", "out", "--sample", "2"]);
    assert!(!stale.exists());
}

/// A library model: draws from the task's rng, or (`leaky`) from a counter shared by every
/// task the process runs, as a model with hidden global state would.
struct Walk {
    leaky: bool,
}

static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl sweep::model::Model for Walk {
    fn name(&self) -> &str {
        if self.leaky {
            "leaky_walk"
        } else {
            "walk"
        }
    }
    fn summary(&self) -> &str {
        "a random walk"
    }
    fn params(&self) -> Vec<sweep::model::ParamSpec> {
        vec![sweep::model::ParamSpec::float("step", 1.0, "", "step size")]
    }
    fn arrays(&self) -> Vec<sweep::model::OutputSpec> {
        vec![sweep::model::OutputSpec::new("x", "", "positions")]
    }
    fn metrics(&self) -> Vec<sweep::model::OutputSpec> {
        vec![sweep::model::OutputSpec::new("end", "", "last position")]
    }
    fn run(
        &self,
        p: &sweep::model::Params,
        rng: &mut sweep::model::TaskRng,
        out: &mut sweep::model::Outputs,
    ) -> Result<(), sweep::model::TaskError> {
        use rand::Rng;
        let shift = if self.leaky { CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) as f64 } else { 0.0 };
        let mut x = vec![shift];
        for _ in 0..20 {
            x.push(x.last().unwrap() + p.f64("step") * rng.random_range(-1.0..1.0));
        }
        out.metric("end", *x.last().unwrap());
        out.array("x", ndarray::Array1::from(x));
        Ok(())
    }
}

/// Runs the library model `walk` or `leaky_walk` in `dir`, then verifies it.
fn verify_library_model(dir: &Path, leaky: bool) -> sweep::verify::Verification {
    let name = sweep::model::Model::name(&Walk { leaky }).to_string();
    let spec = format!("replicates = 4\n[model]\nname = \"{name}\"\n[params]\nstep = [0.5, 1.0]\n");
    let out = dir.join(&name);
    sweep::Sweep::from_toml(&name, &spec).model(Walk { leaky }).jobs(2).out(&out).run().unwrap();
    let mut registry = sweep::model::Registry::builtin();
    registry.register(Walk { leaky });
    let opts = sweep::verify::VerifyOptions { sample: 20, jobs: None, same_threads: false, skip: Default::default() };
    let cancel = std::sync::Arc::new(sweep::task::Cancel::new());
    sweep::verify::verify(&out, &registry, &opts, &cancel, &Default::default(), &|_| ()).unwrap()
}

#[test]
fn verify_works_for_library_models() {
    let tmp = tempfile::tempdir().unwrap();
    let v = verify_library_model(tmp.path(), false);
    assert_eq!((v.sample.len(), v.matched, v.mismatches.len()), (8, 8, 0), "{:?}", v.mismatches);
    let v = verify_library_model(tmp.path(), true);
    assert_eq!(v.matched, 0, "{:?}", v.mismatches);
    let outputs: std::collections::BTreeSet<&str> = v.mismatches.iter().map(|m| m.output.as_str()).collect();
    assert_eq!(outputs, ["end", "x.npy"].into());
    assert!(v.mismatches[0].params.starts_with("step=0.5 replicate="), "{:?}", v.mismatches[0]);
}

#[test]
fn a_killed_verify_leaves_only_a_scratch_directory_that_the_next_removes_and_ctrl_c_records_nothing() {
    let env = Env::new();
    let spec = "replicates = 3\n[command]\nshell = \"sleep 0.4; echo {k} > {out}/k.txt\"\n[params]\nk = [1, 2]\n";
    run(&env, "slow", spec, "out");
    let before = all_files(&env.path("out"));
    let busy = |env: &Env| !scratch_dirs(env.dir.path()).is_empty();

    let mut child = env.spawn(&["verify", "out", "--same-threads"]);
    wait_until("the rerun's scratch directory", std::time::Duration::from_secs(20), || busy(&env));
    kill9(&mut child);
    assert!(busy(&env), "kill -9 leaves the scratch directory");
    assert_eq!(all_files(&env.path("out")), before, "and nothing in the sweep changed");

    let child = env.spawn(&["verify", "out", "--same-threads"]);
    let own = format!(".sweep-verify-{}-0", child.id());
    wait_until("the second rerun's scratch directory", std::time::Duration::from_secs(20), || {
        scratch_dirs(env.dir.path()).contains(&own)
    });
    signal(&child, libc::SIGINT);
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    assert!(
        !busy(&env),
        "the killed one's and its own scratch directories are gone: {:?}",
        scratch_dirs(env.dir.path())
    );
    assert_eq!(all_files(&env.path("out")), before, "an interrupted verification records nothing");

    env.succeeds(&["verify", "out", "--same-threads"]);
}

#[test]
fn a_task_that_fails_in_the_rerun_is_a_mismatch() {
    let env = Env::new();
    let spec = "[command]\nshell = \"if [ -e flag ]; then exit 3; fi; echo {k} > {out}/k.txt\"\n[params]\nk = [1, 2]\n";
    run(&env, "flaky", spec, "out");
    env.write("flag", "");
    let out = env.exits(&["verify", "out"], 1).stdout;
    assert_eq!(out.matches("(task)  [1 worker]: the rerun failed: exit: ").count(), 2, "{out}");
    assert!(out.contains("verify: 0 of 2 tasks match; 2 mismatches"), "{out}");
}
