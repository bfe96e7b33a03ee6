//! A project (spec, code and out directory together) moved or copied elsewhere is the same
//! sweep (#24): its identity holds the working directory as the spec writes it, relative to
//! the spec's own directory.

mod common;
use common::*;

/// A project under `env`'s `a/`: a spec of `table` over x = 1, 2 and the code it runs.
fn project(env: &Env, table: &str) {
    env.write("a/sim.sh", "echo \"{\\\"y\\\": $(($1 * 2))}\" > \"$SWEEP_OUT/metrics.json\"\n");
    env.write("a/model.py", "def f(x):\n    return {'y': x * 2}\n");
    env.write("a/grid.toml", &format!("{table}\n[params]\nx = [1, 2]\n"));
}

const COMMAND: &str = "[command]\nargv = [\"sh\", \"sim.sh\", \"{x}\"]";
const PYTHON: &str = "[python]\nfunction = \"model.py:f\"";

/// Runs the project in `a/`, moves or copies it to `b/`, extends the grid there and resumes:
/// only the new task runs.
fn relocated_project_resumes(table: &str, copy: bool) {
    let env = Env::new();
    project(&env, table);
    env.succeeds(&["run", "a/grid.toml", "-q", "--out", "a/out"]);
    let (from, to) = (env.path("a"), env.path("b"));
    if copy {
        let status = std::process::Command::new("cp").arg("-a").arg(&from).arg(&to).status().unwrap();
        assert!(status.success());
    } else {
        std::fs::rename(&from, &to).unwrap();
    }
    env.write("b/grid.toml", &format!("{table}\n[params]\nx = [1, 2, 3]\n"));
    // From another directory, as after an rsync to a cluster's file system.
    let out = env.succeeds(&["run", "b/grid.toml", "--resume", "--out", "b/out"]);
    let rows = env.results("b/out");
    let ys: Vec<&str> = rows.iter().map(|r| r["y"].as_str()).collect();
    assert_eq!(ys, ["2", "4", "6"]);
    let attempts: Vec<&str> = rows.iter().map(|r| r["attempts"].as_str()).collect();
    assert_eq!(attempts, ["1", "1", "1"], "{out}");
    let journal = env.read("b/out/journal.jsonl");
    assert_eq!(journal.lines().filter(|l| l.contains("\"s\"") || l.contains("\"m\"")).count(), 3, "{journal}");
}

#[test]
fn a_moved_command_project_resumes() {
    relocated_project_resumes(COMMAND, false);
}

#[test]
fn a_copied_python_project_resumes() {
    if require_tool("python3", python_modules("sys")).is_none() {
        return;
    }
    relocated_project_resumes(PYTHON, true);
}

#[test]
fn a_changed_python_function_names_the_python_table() {
    // Regression: a [python] sweep was told "the [command] table (argv/shell, env or cwd)".
    if require_tool("python3", python_modules("sys")).is_none() {
        return;
    }
    let env = Env::new();
    project(&env, PYTHON);
    env.write("a/model.py", "def f(x):\n    return {'y': x * 2}\n\ndef g(x):\n    return {'y': x}\n");
    env.succeeds(&["run", "a/grid.toml", "-q"]);
    env.write("a/grid.toml", "[python]\nfunction = \"model.py:g\"\n[params]\nx = [1, 2]\n");
    let err = env.fails(&["run", "a/grid.toml", "-q", "--resume"], 2);
    assert!(err.contains("the [python] table (function, env or cwd) changed"), "{err}");
}

#[test]
fn a_sweep_whose_manifest_holds_an_absolute_working_directory_still_resumes_in_place() {
    // Manifests written before this rule hold the directory absolute.
    let env = Env::new();
    project(&env, COMMAND);
    env.succeeds(&["run", "a/grid.toml", "-q", "--out", "a/out"]);
    let manifest = env.read("a/out/manifest.json");
    let abs = env.abs("a");
    let old = manifest.replace("\"cwd\": \".\"", &format!("\"cwd\": {abs:?}"));
    assert_ne!(old, manifest, "the manifest holds the working directory: {manifest}");
    env.write("a/out/manifest.json", &old);
    env.write("a/grid.toml", &format!("{COMMAND}\n[params]\nx = [1, 2, 3]\n"));
    env.succeeds(&["run", "a/grid.toml", "-q", "--resume", "--out", "a/out"]);
    assert_eq!(env.results("a/out").len(), 3);
}
