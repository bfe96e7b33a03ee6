//! `--set KEY=VALUE` (and bare `KEY=VALUE` after the spec): a value of the spec changed on
//! the command line, for `run`, `--dry-run` and `slurm`, kept by the out directory's
//! spec.toml so that a resume continues the same sweep.

mod common;
use common::*;

/// 3 k x 2 c0 x 2 replicates = 12 tasks.
const SPEC: &str = "# a comment that stays\nname = \"g\"\nseed = 1\nreplicates = 2\n\n[model]\nname = \"reaction\"\n\
                    t_final = 1.0   # seconds\nsave = []\n\n[params]\nk = [0.1, 0.2, 0.3]\nc0 = [0.5, 1.0]\n";

/// results.csv of `out` without its timing column.
fn results(env: &Env, out: &str) -> String {
    without_columns(&env.read(&format!("{out}/results.csv")), &["seconds"])
}

/// A run of SPEC with `from` replaced by `to` in the file, into `out`: what a `--set` must equal.
fn edited_run(env: &Env, from: &str, to: &str, out: &str) {
    assert!(SPEC.contains(from));
    env.write("edited.toml", &SPEC.replace(from, to).replace("name = \"g\"", "name = \"e\""));
    env.succeeds(&["run", "edited.toml", "--out", out, "-q"]);
}

#[test]
fn set_a_model_parameter_equals_editing_the_spec_and_spec_toml_holds_it() {
    let env = Env::with("grid.toml", SPEC);
    env.succeeds(&["run", "grid.toml", "--set", "model.t_final=3.5", "-q"]);
    edited_run(&env, "t_final = 1.0", "t_final = 3.5", "edited");
    assert_eq!(results(&env, "runs/g"), results(&env, "edited"));
    let saved = env.read("runs/g/spec.toml");
    // The file, its comments and lines kept, with the value changed in place; then the --set.
    let file = SPEC.replace("t_final = 1.0", "t_final = 3.5");
    let footer = "\n# sweep: this spec file with these values set on the command line:\n# --set model.t_final=3.5\n";
    assert_eq!(saved, format!("{file}{footer}"));
    let manifest = env.read("runs/g/manifest.json");
    assert!(manifest.contains("\"t_final\": 3.5"), "{manifest}");
}

#[test]
fn set_params_sweeps_other_values_and_a_table_of_them() {
    let env = Env::with("grid.toml", SPEC);
    env.succeeds(&["run", "grid.toml", "--set", "params.c0=[0.5,1.0,2.0]", "-q"]);
    edited_run(&env, "c0 = [0.5, 1.0]", "c0 = [0.5, 1.0, 2.0]", "edited");
    assert_eq!(results(&env, "runs/g"), results(&env, "edited"));
    let out = env.succeeds(&["run", "grid.toml", "--set", "params.k={ linspace = [0, 1, 5] }", "--dry-run"]);
    assert!(out.contains("\nset: --set params.k={ linspace = [0, 1, 5] }\n"), "{out}");
    assert!(
        out.contains("20 tasks (10 points x 2 replicates)")
            && out.contains("k            5 values: 0.0, 0.25, 0.5, 0.75, 1.0"),
        "{out}"
    );
    // A swept parameter set in [model] is fixed instead, and the other way round.
    let out = env.succeeds(&["run", "grid.toml", "--set", "model.k=0.7", "--dry-run"]);
    assert!(out.contains("4 tasks (2 points x 2 replicates)") && out.contains("k=0.7"), "{out}");
    let out = env.succeeds(&["run", "grid.toml", "--set", "params.t_final=[1.0, 2.0]", "--dry-run"]);
    assert!(out.contains("24 tasks (12 points x 2 replicates)") && out.contains("t_final      2 values"), "{out}");
}

#[test]
fn set_replicates_also_as_a_bare_key_value_after_the_spec() {
    let env = Env::with("grid.toml", SPEC);
    env.succeeds(&["run", "grid.toml", "replicates=3", "-q"]);
    env.succeeds(&["run", "grid.toml", "--set", "replicates=3", "--out", "flag", "-q"]);
    edited_run(&env, "replicates = 2", "replicates = 3", "edited");
    assert_eq!(env.results("runs/g").len(), 18);
    assert_eq!(results(&env, "runs/g"), results(&env, "edited"));
    assert_eq!(results(&env, "flag"), results(&env, "edited"));
}

#[test]
fn a_resume_without_set_continues_the_sweep_that_was_set() {
    let env = Env::with("grid.toml", SPEC);
    edited_run(&env, "replicates = 2", "replicates = 3", "edited");
    env.succeeds(&["run", "grid.toml", "--set", "replicates=3", "--limit", "5", "-q"]);
    let err = env.succeeds_stderr(&["run", "grid.toml", "--resume"]);
    assert!(err.contains("sweep: resuming with what the sweep in runs/g was run with: --set replicates=3"), "{err}");
    assert!(err.contains("18 tasks: 18 done"), "{err}");
    assert_eq!(results(&env, "runs/g"), results(&env, "edited"));
}

#[test]
fn a_set_that_changes_tasks_on_resume_follows_the_drift_rules() {
    let env = Env::with("grid.toml", SPEC);
    env.succeeds(&["run", "grid.toml", "--set", "params.c0=[0.5]", "-q"]);
    // More values: the sweep is extended, and the recorded --set is replaced by the new one.
    let err = env.succeeds_stderr(&["run", "grid.toml", "--resume", "--set", "params.c0=[0.5, 1.0]"]);
    assert!(err.contains("the spec was extended: 12 tasks now (6 before)"), "{err}");
    assert!(env.read("runs/g/spec.toml").contains("# --set params.c0=[0.5, 1.0]\n"));
    // Another seed changes every task: refused, nothing changed.
    let before = env.read("runs/g/spec.toml");
    let err = env.fails(&["run", "grid.toml", "--resume", "--set", "seed=9"], 2);
    assert!(err.contains("the spec changes tasks the sweep in runs/g already has"), "{err}");
    assert_eq!(env.read("runs/g/spec.toml"), before);
}

#[test]
fn set_errors_exit_2_name_the_argument_suggest_and_write_nothing() {
    let env = Env::with("grid.toml", SPEC);
    let cases: [(&[&str], &[&str]); 9] = [
        (
            &["--set", "model.t_finl=5"],
            &[
                "the spec has no key `model.t_finl` to set",
                "--> --set:1:1",
                "1 | model.t_finl=5",
                "did you mean `model.t_final`?",
            ],
        ),
        (&["--set", "t_final=5"], &["the spec has no key `t_final` to set", "did you mean `model.t_final`?"]),
        (&["--set", "params.kk=[1]"], &["the spec has no key `params.kk` to set", "did you mean `params.k`?"]),
        (&["--set", "resources.cores=2"], &["the spec has no key `resources.cores` to set"]),
        (
            &["--set", "python.timeout=5s"],
            &["the spec has no [python] table (its tasks are [model])", "keys of [model]"],
        ),
        (
            &["--set", "params.c0=[0.5,"],
            &["`[0.5,` is not a TOML value", "  |           ^^^^^", "quote it for the shell"],
        ),
        (&["--set", "replicates=\"three\""], &["`replicates` must be an integer", "--> --set:1:12"]),
        (&["--set", "seed=-1"], &["`seed` must be >= 0", "1 | seed=-1"]),
        (&["model.t_final=abc"], &["parameter `t_final` is a float", "--> --set:1:15"]),
    ];
    for (args, wanted) in cases {
        let err = env.fails(&[&["run", "grid.toml"][..], args].concat(), 2);
        for w in wanted {
            assert!(err.contains(w), "{args:?}: `{w}` not in\n{err}");
        }
    }
    // Not KEY=VALUE at all (clap's own usage error).
    let err = env.fails(&["run", "grid.toml", "--set", "replicates"], 2);
    assert!(err.contains("is not KEY=VALUE"), "{err}");
    env.fails(&["run", "grid.toml", "stray"], 2);
    env.fails(&["run", "grid.toml", "--dry-run", "--set", "seed=x y"], 2);
    assert!(!env.path("runs").exists(), "nothing is written");
}

#[test]
fn set_a_python_option() {
    if require_tool("python3", python_modules("time")).is_none() {
        return;
    }
    let env =
        Env::with("m.py", "import time\n\ndef f(x):\n    if x == 1:\n        time.sleep(30)\n    return {\"y\": x}\n");
    env.write(
        "p.toml",
        "[python]\nfunction = \"m.py:f\"\ntimeout = \"60s\"\ngrace = \"1s\"\n[params]\nx = [0, 1, 2]\n",
    );
    let started = std::time::Instant::now();
    let err = env.fails(&["run", "p.toml", "--set", "python.timeout=1s", "--jobs", "1"], 1);
    assert!(started.elapsed().as_secs() < 20, "the 60 s timeout of the file was used\n{err}");
    let rows = env.results("runs/p");
    let classes: Vec<&str> = rows.iter().map(|r| r["class"].as_str()).collect();
    assert_eq!(classes, ["", "timeout", ""], "{err}");
    assert!(env.read("runs/p/spec.toml").contains("timeout = \"1s\""));
}

#[test]
fn set_through_slurm_reaches_every_element_and_shards_share_the_spec() {
    let env = Env::with("grid.toml", SPEC);
    let bin = env.abs("bin/sweep");
    let out = env.exits(&["slurm", "grid.toml", "--set", "replicates=3", "--shards", "2", "--sweep-bin", &bin], 0);
    assert!(out.stderr.contains("18 tasks in 2 shards"), "{}", out.stderr);
    assert!(out.stdout.contains(" --set replicates=3 &\n"), "{}", out.stdout);
    // The elements' command lines, run here: shards of one sweep, then collect.
    for shard in ["0/2", "1/2"] {
        env.succeeds(&["run", "grid.toml", "--shard", shard, "--resume", "--set", "replicates=3", "-q"]);
    }
    env.succeeds(&["collect", "runs/g"]);
    edited_run(&env, "replicates = 2", "replicates = 3", "edited");
    assert_eq!(results(&env, "runs/g"), results(&env, "edited"));
    // Written again later, the scripts keep the --set the sweep was started with.
    let again = env.succeeds(&["slurm", "grid.toml", "--shards", "2", "--sweep-bin", &bin]);
    assert!(again.contains(" --set replicates=3 &\n"), "{again}");
    let err = env.fails(&["slurm", "grid.toml", "--set", "model.t_finl=5"], 2);
    assert!(err.contains("did you mean `model.t_final`?"), "{err}");
}

#[test]
fn a_recorded_set_the_edited_spec_no_longer_takes_says_where_it_comes_from() {
    let env = Env::with("grid.toml", SPEC);
    env.succeeds(&["run", "grid.toml", "--set", "model.solver=rk4", "--limit", "2", "-q"]);
    // The file now runs another model, which has no `solver`.
    env.write("grid.toml", "name = \"g\"\n[model]\nname = \"spin\"\n[params]\nmicros = [0, 1]\n");
    let err = env.fails(&["run", "grid.toml", "--resume"], 2);
    assert!(err.contains("the spec has no key `model.solver` to set (a --set recorded in runs/g/spec.toml)"), "{err}");
    assert!(err.contains("1 | model.solver=rk4") && err.contains("give the key another value with --set"), "{err}");
}
