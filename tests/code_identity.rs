//! Code identity (#27): a resume, a shard, `collect` and `sweep verify` compare the code
//! with that of the done tasks, and never silently mix two versions. Real python3 (with
//! numpy where the test says so), as in tests/python.rs.

mod common;
use common::*;

const MODEL: &str = "import helper\n\ndef f(x):\n    return {\"y\": helper.g(x)}\n";
const HELPER: &str = "def g(x):\n    return 2 * x\n";
const SPEC: &str = "name = \"t\"\n[python]\nfunction = \"model.py:f\"\n[params]\nx = [1, 2, 3]\n";
const EXTENDED: &str = "name = \"t\"\n[python]\nfunction = \"model.py:f\"\n[params]\nx = [1, 2, 3, 4, 5, 6]\n";

/// A `[python]` project (model.py importing helper.py) whose 3 tasks ran, when python3 runs.
fn ran() -> Option<Env> {
    require_tool("python3", python_modules("json"))?;
    let env = Env::with("model.py", MODEL);
    env.write("helper.py", HELPER);
    env.write("s.toml", SPEC);
    env.succeeds(&["run", "s.toml", "-q"]);
    Some(env)
}

/// Every file of the out directory `out`, with its bytes.
fn snapshot(env: &Env, out: &str) -> std::collections::BTreeMap<std::path::PathBuf, Vec<u8>> {
    all_files(&env.path(out))
}

/// The `y` column of results.csv, in grid order.
fn ys(env: &Env) -> Vec<String> {
    env.results("runs/t").iter().map(|r| r["y"].clone()).collect()
}

#[track_caller]
fn refused_naming(env: &Env, args: &[&str], file: &str) -> String {
    let before = snapshot(env, "runs/t");
    let err = env.fails(args, 2);
    assert!(err.contains(&format!("changed  {file}")), "{err}");
    assert!(err.contains("--code-changed rerun") && err.contains("--code-changed keep"), "{err}");
    assert!(err.contains("nothing was run"), "{err}");
    assert_eq!(snapshot(env, "runs/t"), before, "a refused run wrote something");
    err
}

#[test]
fn an_edited_module_refuses_the_resume_naming_it_and_runs_nothing() {
    let Some(env) = ran() else { return };
    env.write("model.py", &MODEL.replace("helper.g(x)", "2 * helper.g(x)"));
    env.write("s.toml", EXTENDED);
    // Regression: the resume said only "the spec was extended" and ran the new tasks with the new code.
    let err = refused_naming(&env, &["run", "s.toml", "--resume"], "model.py");
    assert!(!err.contains("helper.py"), "only the edited file is named: {err}");
}

#[test]
fn an_edited_local_module_that_the_model_imports_refuses_the_resume() {
    let Some(env) = ran() else { return };
    env.write("helper.py", "def g(x):\n    return 3 * x\n");
    refused_naming(&env, &["run", "s.toml", "--resume"], "helper.py");
    // All tasks done and nothing to run: the resume still compares.
    env.write("s.toml", SPEC);
    refused_naming(&env, &["run", "s.toml", "--resume"], "helper.py");
}

#[test]
fn an_added_local_module_is_named_as_added() {
    let Some(env) = ran() else { return };
    env.write("extra.py", "K = 1\n");
    env.write("model.py", &format!("import extra\n{MODEL}"));
    let err = env.fails(&["run", "s.toml", "--resume"], 2);
    assert!(err.contains("added    extra.py") && err.contains("changed  model.py"), "{err}");
}

#[test]
fn an_edited_command_script_refuses_the_resume_naming_it() {
    let env = Env::with("sim.sh", "printf '{\"y\": %s}' \"$1\" > \"$2/metrics.json\"\n");
    env.write(
        "c.toml",
        "name = \"t\"\n[command]\nargv = [\"sh\", \"sim.sh\", \"{x}\", \"{out}\"]\n[params]\nx = [1, 2]\n",
    );
    env.succeeds(&["run", "c.toml", "-q"]);
    env.write("sim.sh", "printf '{\"y\": %s0}' \"$1\" > \"$2/metrics.json\"\n");
    refused_naming(&env, &["run", "c.toml", "--resume"], "sim.sh");
    let code = std::fs::read_dir(env.path("runs/t/code")).unwrap().filter_map(|e| e.ok()).count();
    assert_eq!(code, 2, "one code file and the runs directory");
}

#[test]
fn rerun_runs_the_done_tasks_of_other_code_again_and_keeps_their_history() {
    let Some(env) = ran() else { return };
    env.write("helper.py", "def g(x):\n    return 10 * x\n");
    env.write("s.toml", EXTENDED);
    let err = env.succeeds_stderr(&["run", "s.toml", "--resume", "--code-changed", "rerun"]);
    assert!(err.contains("3 done tasks ran other code"), "{err}");
    assert_eq!(ys(&env), ["10", "20", "30", "40", "50", "60"]);
    assert!(!env.read("runs/t/results.csv").lines().next().unwrap().ends_with(",code"), "one version: no column");
    // The earlier results stay in the journal: 3 done records of the first run, 6 of this one.
    let done = journal_lines(&env.read("runs/t/journal.jsonl")).iter().filter(|l| l.get("m").is_some()).count();
    assert_eq!(done, 9);
    let status = env.succeeds(&["status", "runs/t"]);
    assert!(!status.contains("code"), "{status}");
    // The same code again: silent.
    let err = env.succeeds_stderr(&["run", "s.toml", "--resume"]);
    assert!(!err.contains("code"), "{err}");
}

#[test]
fn keep_keeps_them_and_status_and_load_say_which_rows_came_from_which() {
    let Some(env) = ran() else { return };
    env.write("helper.py", "def g(x):\n    return 10 * x\n");
    env.write("s.toml", EXTENDED);
    env.succeeds(&["run", "s.toml", "--resume", "--code-changed", "keep"]);
    assert_eq!(ys(&env), ["2", "4", "6", "40", "50", "60"]);
    let rows = env.results("runs/t");
    let codes: Vec<&str> = rows.iter().map(|r| r["code"].as_str()).collect();
    assert!(codes[0] == codes[2] && codes[3] == codes[5] && codes[0] != codes[3], "{codes:?}");
    assert_eq!(codes[0].len(), 16);
    let status = env.succeeds(&["status", "runs/t"]);
    let line = format!("code     2 versions: {} (3 tasks), {} (3 tasks)", codes[0], codes[3]);
    assert!(status.contains(&line), "{status}");
    // Kept once, kept for good: the next resume of this code says nothing about code.
    let err = env.succeeds_stderr(&["run", "s.toml", "--resume"]);
    assert!(!err.contains("code"), "{err}");
    // Another edit is refused again, naming what changed since each version.
    env.write("helper.py", "def g(x):\n    return 7 * x\n");
    let err = env.fails(&["run", "s.toml", "--resume"], 2);
    assert_eq!(err.matches("changed  helper.py").count(), 2, "{err}");

    if require_tool("pandas", pandas()).is_none() {
        return;
    }
    let check = "import sys, warnings\nsys.path.insert(0, sys.argv[1])\nimport sweep\n\
                 with warnings.catch_warnings(record=True) as w:\n    warnings.simplefilter('always')\n    \
                 df = sweep.load(sys.argv[2])\n\
                 assert any('2 versions of the code' in str(x.message) for x in w), [str(x.message) for x in w]\n\
                 assert list(df['y']) == [2, 4, 6, 40, 50, 60], df\n\
                 assert df['code'].nunique() == 2 and list(df.attrs['code_versions'].values()) == [3, 3], df.attrs\n\
                 assert sweep.data.metric_columns(df) == ['y']\nprint('ok')\n";
    let o = std::process::Command::new("python3")
        .args(["-c", check, concat!(env!("CARGO_MANIFEST_DIR"), "/python"), &env.abs("runs/t")])
        .output()
        .unwrap();
    assert!(text(&o.stdout).contains("ok"), "{}", stderr(&o));
}

#[test]
fn an_unchanged_resume_from_another_directory_says_nothing_about_code() {
    let Some(env) = ran() else { return };
    env.write("s.toml", EXTENDED);
    let elsewhere = Env::new();
    let spec = env.abs("s.toml");
    let out = env.abs("runs/t");
    let err = elsewhere.succeeds_stderr(&["run", &spec, "--out", &out, "--resume"]);
    assert!(!err.contains("code") && !err.contains("error"), "{err}");
    assert_eq!(ys(&env), ["2", "4", "6", "8", "10", "12"]);
    // And with nothing left to do.
    let err = elsewhere.succeeds_stderr(&["run", &spec, "--out", &out, "--resume"]);
    assert!(!err.contains("code"), "{err}");
    let runs = env.read("runs/t/code/runs/journal.jsonl");
    let ids: std::collections::BTreeSet<String> =
        journal_lines(&runs).iter().map(|l| l["code"].as_str().unwrap().to_string()).collect();
    assert_eq!(ids.len(), 1, "{runs}");
}

#[test]
fn a_module_from_site_packages_is_recorded_as_a_package_version_not_hashed() {
    if require_tool("numpy", numpy()).is_none() {
        return;
    }
    let env = Env::with("model.py", "import numpy as np\n\ndef f(x):\n    return {\"y\": float(np.sqrt(x))}\n");
    env.write("s.toml", SPEC);
    env.succeeds(&["run", "s.toml", "-q"]);
    let run = &journal_lines(&env.read("runs/t/code/runs/journal.jsonl"))[0];
    let code: serde_json::Value =
        serde_json::from_str(&env.read(&format!("runs/t/code/{}.json", run["code"].as_str().unwrap()))).unwrap();
    let files: Vec<&String> = code["files"].as_object().unwrap().keys().collect();
    assert_eq!(files, ["model.py"], "numpy's files are not hashed: {code}");
    let o = std::process::Command::new("python3").args(["-c", "import numpy; print(numpy.__version__)"]).output();
    let version = text(&o.unwrap().stdout).trim().to_string();
    assert_eq!(run["env"]["packages"]["numpy"], version.as_str(), "{run}");
    assert!(run["env"]["version"].as_str().is_some_and(|v| v.starts_with('3')), "{run}");
}

#[test]
fn a_shard_whose_code_differs_from_the_other_shards_is_refused() {
    let env = Env::with("sim.sh", "printf '{\"y\": %s}' \"$1\" > \"$2/metrics.json\"\n");
    let spec =
        "name = \"t\"\n[command]\nargv = [\"sh\", \"sim.sh\", \"{x}\", \"{out}\"]\n[params]\nx = [1, 2, 3, 4, 5, 6]\n";
    env.write("c.toml", spec);
    // What each element of `sweep slurm`'s array runs (see tests/slurm_cli.rs).
    env.succeeds(&["run", "c.toml", "--shard", "0/2", "--resume", "-q"]);
    env.write("sim.sh", "printf '{\"y\": %s0}' \"$1\" > \"$2/metrics.json\"\n");
    refused_naming(&env, &["run", "c.toml", "--shard", "1/2", "--resume"], "sim.sh");
    assert!(!env.path("runs/t/journal/shard-1-of-2.jsonl").exists());
    // Kept on purpose: collect writes the column.
    env.succeeds(&["run", "c.toml", "--shard", "1/2", "--resume", "--code-changed", "keep", "-q"]);
    env.succeeds_stderr(&["collect", "runs/t"]);
    let rows = env.results("runs/t");
    assert_eq!(rows.iter().map(|r| r["code"].as_str()).collect::<std::collections::BTreeSet<_>>().len(), 2);
}

#[test]
fn collect_refuses_shards_that_ran_different_code_unless_told_to_keep() {
    let env = Env::with("sim.sh", "printf '{\"y\": %s}' \"$1\" > \"$2/metrics.json\"\n");
    let spec = "name = \"t\"\n[command]\nargv = [\"sh\", \"sim.sh\", \"{x}\", \"{out}\"]\n[params]\nx = [1, 2, 3, 4]\n";
    env.write("c.toml", spec);
    // Two shards started side by side, one before an edit and one after, both before
    // either finished a task: neither could see the other's code.
    let runs = env.path("runs/t/code/runs");
    env.succeeds(&["run", "c.toml", "--shard", "0/2", "--resume", "-q"]);
    let first = std::fs::read(runs.join("shard-0-of-2.jsonl")).unwrap();
    std::fs::rename(runs.join("shard-0-of-2.jsonl"), env.path("aside")).unwrap();
    env.write("sim.sh", "printf '{\"y\": %s0}' \"$1\" > \"$2/metrics.json\"\n");
    env.succeeds(&["run", "c.toml", "--shard", "1/2", "--resume", "-q"]);
    std::fs::write(runs.join("shard-0-of-2.jsonl"), first).unwrap();
    let err = env.fails(&["collect", "runs/t"], 2);
    assert!(err.contains("ran 2 versions of the code") && err.contains("changed  sim.sh"), "{err}");
    assert!(!env.path("runs/t/results.csv").exists(), "nothing written");
    env.succeeds_stderr(&["collect", "runs/t", "--code-changed", "keep"]);
    assert!(env.read("runs/t/results.csv").lines().next().unwrap().ends_with(",error,code"));
}

#[test]
fn verify_refuses_when_the_code_changed() {
    let Some(env) = ran() else { return };
    env.write("helper.py", "def g(x):\n    return 3 * x\n");
    let before = snapshot(&env, "runs/t");
    let err = env.fails(&["verify", "runs/t"], 2);
    assert!(err.contains("changed  helper.py") && err.contains("nothing was rerun"), "{err}");
    assert_eq!(snapshot(&env, "runs/t"), before);
}

#[test]
fn hashing_happens_once_per_run_not_per_task() {
    let Some(()) = require_tool("python3", python_modules("json")) else { return };
    // A project of 50 modules, all imported by the model: 51 files.
    let env = Env::new();
    let mut model = String::new();
    for i in 0..50 {
        env.write(&format!("pkg/m{i}.py"), &format!("def v():\n    return {i}\n"));
        model.push_str(&format!("import pkg.m{i}\n"));
    }
    env.write("pkg/__init__.py", "");
    model.push_str("\ndef f(x):\n    return {\"y\": x + pkg.m49.v()}\n");
    env.write("model.py", &model);
    env.write("s.toml", "name = \"t\"\n[python]\nfunction = \"model.py:f\"\n[params]\nx = { range = [0, 300] }\n");
    env.succeeds(&["run", "s.toml", "-q", "--jobs", "2"]);
    let lines = journal_lines(&env.read("runs/t/code/runs/journal.jsonl"));
    assert_eq!(lines.len(), 1, "one record of hashing for a run of 300 tasks");
    assert_eq!(lines[0]["hashed"]["files"], 52, "model.py, pkg/__init__.py and 50 modules");
    let code = env.read(&format!("runs/t/code/{}.json", lines[0]["code"].as_str().unwrap()));
    assert!(code.contains("\"pkg/m17.py\""), "{code}");
}

#[test]
fn a_marker_or_data_file_that_a_command_names_is_not_code() {
    // Regression: a shell line's `[ -e flag ]` made `flag` code, and its removal (the way a
    // transient failure is cleared) refused the resume as "removed  flag".
    let env = Env::with("flag", "");
    env.write("table.csv", "a,b\n1,2\n");
    let spec = "name = \"t\"\n[command]\nshell = 'cat table.csv > /dev/null; if [ {x} = 2 ] && [ -e flag ]; then exit 1; fi'\n\
                [params]\nx = [1, 2]\n";
    env.write("c.toml", spec);
    env.exits(&["run", "c.toml", "-q"], 1);
    std::fs::remove_file(env.path("flag")).unwrap();
    env.write("table.csv", "a,b\n3,4\n");
    let err = env.succeeds_stderr(&["run", "c.toml", "--resume"]);
    assert!(!err.contains("code"), "{err}");
}

#[test]
fn a_grid_run_a_window_at_a_time_refuses_keeps_and_says_rerun_is_not_available() {
    let env = Env::with("sim.sh", "printf '{\"y\": %s}' \"$1\" > \"$2/metrics.json\"\n");
    let spec =
        "name = \"t\"\n[command]\nargv = [\"sh\", \"sim.sh\", \"{x}\", \"{out}\"]\n[params]\nx = [1, 2, 3, 4, 5]\n";
    env.write("c.toml", spec);
    let windowed = |args: &[&str], code: i32| exits(env.sweep(args).env("SWEEP_RUN_WINDOW", "2"), code);
    windowed(&["run", "c.toml", "-q"], 0);
    env.write("sim.sh", "printf '{\"y\": %s0}' \"$1\" > \"$2/metrics.json\"\n");
    env.write("c.toml", &spec.replace("5]", "5, 6]"));
    assert!(windowed(&["run", "c.toml", "--resume"], 2).stderr.contains("changed  sim.sh"));
    let err = windowed(&["run", "c.toml", "--resume", "--code-changed", "rerun"], 2).stderr;
    assert!(err.contains("runs a window at a time") && err.contains("--code-changed keep"), "{err}");
    windowed(&["run", "c.toml", "--resume", "--code-changed", "keep", "-q"], 0);
    let rows = env.results("runs/t");
    assert_eq!(rows.iter().map(|r| r["y"].as_str()).collect::<Vec<_>>(), ["1", "2", "3", "4", "5", "60"]);
    assert!(rows[0]["code"] != rows[5]["code"] && rows[0]["code"] == rows[4]["code"], "{rows:?}");
}

#[test]
fn a_built_in_model_is_identified_by_its_name_and_sweeps_version() {
    let env = Env::with("m.toml", "name = \"t\"\n[model]\nname = \"spin\"\n[params]\nmicros = [0, 1]\n");
    env.succeeds(&["run", "m.toml", "-q"]);
    let run = &journal_lines(&env.read("runs/t/code/runs/journal.jsonl"))[0];
    let code: serde_json::Value =
        serde_json::from_str(&env.read(&format!("runs/t/code/{}.json", run["code"].as_str().unwrap()))).unwrap();
    assert_eq!(code["declared"]["model"], "spin");
    assert_eq!(code["declared"]["sweep"], env!("CARGO_PKG_VERSION"));
    assert_eq!(code["files"], serde_json::json!({}));
    let header = &journal_lines(&env.read("runs/t/journal.jsonl"))[0];
    assert_eq!(header["run_code"], run["code"], "the journal's header names the run's code");
}

#[test]
fn status_warns_when_the_environment_changed_between_runs() {
    let Some(env) = ran() else { return };
    // The first run as if numpy 1.0 had been imported then (a run of another environment).
    let path = env.path("runs/t/code/runs/journal.jsonl");
    let mut first = journal_lines(&env.read("runs/t/code/runs/journal.jsonl"))[0].clone();
    first["env"]["packages"] = serde_json::json!({ "numpy": "1.0.0" });
    first["started"] = "2000-01-01T00:00:00Z".into();
    std::fs::write(&path, format!("{first}\n")).unwrap();
    env.write("s.toml", EXTENDED);
    env.succeeds(&["run", "s.toml", "--resume", "-q"]);
    let out = env.exits(&["status", "runs/t"], 0);
    assert!(
        out.stderr.contains("warning: the environment changed") && out.stderr.contains("numpy 1.0.0"),
        "{}",
        out.stderr
    );
    assert!(!out.stdout.contains("code "), "one version of the code: {}", out.stdout);
}

#[test]
fn an_array_element_started_after_an_edit_fails_fast_even_before_any_task_is_done() {
    let env = Env::with("sim.sh", "printf '{\"y\": %s}' \"$1\" > \"$2/metrics.json\"\n");
    let spec = "name = \"t\"\n[command]\nargv = [\"sh\", \"sim.sh\", \"{x}\", \"{out}\"]\n[params]\nx = [1, 2, 3, 4]\n";
    env.write("c.toml", spec);
    // An sbatch that accepts every job: the submission pins the code it found.
    let fake = env.write("bin/sbatch", "#!/bin/sh\necho 42\n");
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", env.abs("bin"), std::env::var("PATH").unwrap_or_default());
    exits(env.sweep(&["slurm", "c.toml", "--shards", "2", "--submit"]).env("PATH", &path), 0);
    // Edited while the array is queued: the first element to start refuses, nothing done yet.
    env.write("sim.sh", "printf '{\"y\": %s0}' \"$1\" > \"$2/metrics.json\"\n");
    let err = env.fails(&["run", "c.toml", "--shard", "0/2", "--resume"], 2);
    assert!(err.contains("since the sweep's arrays were submitted") && err.contains("changed  sim.sh"), "{err}");
    assert!(!env.path("runs/t/journal/shard-0-of-2.jsonl").exists());
    // The code as submitted runs.
    env.write("sim.sh", "printf '{\"y\": %s}' \"$1\" > \"$2/metrics.json\"\n");
    env.succeeds(&["run", "c.toml", "--shard", "0/2", "--resume", "-q"]);
}
