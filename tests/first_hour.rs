//! What a new user meets in the first hour: messages, metrics.json as Python writes it,
//! seeds for legacy APIs, true live figures, --dry-run, sweep init, results.csv that
//! explains itself, provenance.

mod common;
use common::*;
use std::time::Duration;

/// Runs a Python script with `args`; it must print "ok".
#[track_caller]
fn python(env: &Env, script: &str, args: &[&str]) {
    let path = env.write("check.py", script);
    let o = std::process::Command::new("python3").arg(&path).args(args).current_dir(env.dir.path()).output().unwrap();
    assert!(o.status.success() && text(&o.stdout).contains("ok"), "{}\n{}", text(&o.stdout), stderr(&o));
}

/// Writes `script` as m.py and `spec` as c.toml, and runs the sweep, which must succeed;
/// `None` (a visible skip) when python3 cannot import pandas and numpy.
fn python_command_sweep(script: &str, spec: &str) -> Option<Env> {
    require_tool("pandas", pandas())?;
    let env = Env::with("m.py", script);
    env.write("c.toml", spec);
    env.succeeds(&["run", "c.toml", "-q"]);
    Some(env)
}

#[test]
fn a_run_whose_first_tasks_all_fail_alike_stops_early_and_says_how_to_go_on() {
    // Regression: 40 doomed tasks all ran when the program could not be opened.
    let env =
        Env::with("c.toml", "[command]\nshell = 'python3 missing_script.py {x}'\n[params]\nx = { range = [0, 40] }\n");
    let err = env.fails(&["run", "c.toml", "--jobs", "1"], 1);
    assert!(err.contains("the first 5 tasks all failed with the same error"), "{err}");
    assert!(err.contains("--keep-going"), "{err}");
    let failed = env.results("runs/c").iter().filter(|r| r["status"] == "failed").count();
    assert!((5..40).contains(&failed), "stopped early: {failed} of 40 failed");
    // --keep-going runs every task.
    env.fails(&["run", "c.toml", "--resume", "--keep-going", "-q"], 1);
    assert_eq!(env.results("runs/c").iter().filter(|r| r["status"] == "failed").count(), 40);
}

#[test]
fn the_summary_groups_identical_errors_and_names_the_first_tasks_parameters() {
    let env = Env::with(
        "c.toml",
        "[command]\nshell = 'test {x} -lt 3 || { echo \"ValueError: x too big\" >&2; exit 1; }'\n[params]\nx = { range = [0, 10] }\n",
    );
    let err = env.fails(&["run", "c.toml", "--keep-going"], 1);
    assert!(err.contains("7 tasks: exit: exit status 1: ValueError: x too big; first: x=3 (task "), "{err}");
    assert_eq!(err.matches("ValueError: x too big").count(), 1, "listed once: {err}");
}

#[test]
fn the_error_shown_is_the_last_line_of_a_python_traceback() {
    if require_tool("numpy", numpy()).is_none() {
        return;
    }
    let env = Env::with("sim.py", "import numpy as np\nnp.random.seed(2**40)\n");
    env.write("c.toml", "[command]\nargv = ['python3', 'sim.py']\n[params]\nx = [1]\n");
    env.fails(&["run", "c.toml", "-q"], 1);
    let row = &env.results("runs/c")[0];
    assert!(row["error"].starts_with("exit status 1: ValueError: Seed must be between 0 and 2**32 - 1"), "{row:?}");
    let task = env.succeeds(&["status", "runs/c", &row["task"][..6]]);
    assert!(task.contains("Traceback (most recent call last)") && task.contains("np.random.seed"), "{task}");
}

#[test]
fn metrics_json_with_nan_booleans_null_and_nested_objects_reaches_pandas() {
    let Some(env) = python_command_sweep(
        "import json, sys\njson.dump({'v': float('nan'), 'inf': float('inf'), 'ok': sys.argv[1] == '1', 'none': None, 'fit': {'k': 0.5}, 'seed_echo': int(sys.argv[2])}, open(sys.argv[3] + '/metrics.json', 'w'))\n",
        "[command]\nargv = ['python3', 'm.py', '{i}', '{seed}', '{out}']\n[params]\ni = [1, 2]\n",
    ) else {
        return;
    };
    let rows = env.results("runs/c");
    // Integers come back exactly, a u64 above i64::MAX included.
    assert!(rows.iter().all(|r| r["seed_echo"] == r["seed"]), "{rows:?}");
    python(
        &env,
        r#"
import math, pandas as pd, sys
df = pd.read_csv("runs/c/results.csv")
assert df["status"].tolist() == ["done", "done"], df
assert math.isnan(df["v"][0]) and df["inf"][0] == math.inf
assert df["ok"].dtype == bool and df["ok"].tolist() == [True, False], df["ok"]
assert df["none"].isna().all()
assert df["fit.k"].tolist() == [0.5, 0.5]
assert (df["seed_echo"] == df["seed"]).all(), df[["seed", "seed_echo"]]
print("ok")
"#,
        &[],
    );
}

#[test]
fn seed32_seeds_numpys_legacy_api() {
    let Some(env) = python_command_sweep(
        "import json, sys\nimport numpy as np\nnp.random.seed(int(sys.argv[1]))\njson.dump({'u': np.random.random()}, open(sys.argv[2] + '/metrics.json', 'w'))\n",
        "replicates = 5\n[command]\nargv = ['python3', 'm.py', '{seed32}', '{out}']\n",
    ) else {
        return;
    };
    python(
        &env,
        r#"
import pandas as pd, numpy as np
df = pd.read_csv("runs/c/results.csv")
assert (df.status == "done").all(), df
for _, r in df.iterrows():
    np.random.seed(int(r["seed"]) % 2**32)
    assert np.random.random() == r["u"]
print("ok")
"#,
        &[],
    );
}

/// A command sweep of two CPU-bound Python tasks that each hold a 32 MB array.
fn burn_sweep() -> Env {
    let env = Env::with(
        "burn.py",
        "import numpy as np\nx = np.ones(4_000_000)\ns = 0\nfor i in range(3_000_000):\n    s += i\n",
    );
    env.write("c.toml", "[command]\nargv = ['python3', 'burn.py']\n[params]\nx = [1, 2]\n");
    env
}

/// The percentage that follows `label` in a summary line (`CPU 54%`, `(tasks 50%`).
#[track_caller]
fn percent_after(line: &str, label: &str) -> f64 {
    let value = line.split(label).nth(1).and_then(|r| r.split('%').next()).and_then(|v| v.parse().ok());
    value.unwrap_or_else(|| panic!("no `{label}N%` in {line}"))
}

#[test]
fn child_cpu_and_peak_rss_of_a_cpu_bound_python_task_are_counted() {
    if require_tool("numpy", numpy()).is_none() {
        return;
    }
    // Regression: the summary said CPU 0% for external programs: only sweep's own was counted.
    let env = burn_sweep();
    let err = env.succeeds_stderr(&["run", "c.toml", "--jobs", "2"]);
    let line = err.lines().find(|l| l.contains("this run:")).unwrap();
    let tasks = percent_after(line, "(tasks ");
    assert!(tasks > 20.0, "{line}");
    assert!(line.contains("peak ") && line.contains("MiB"), "{line}");
}

#[test]
fn status_shows_the_cpu_and_peak_memory_of_the_task_processes() {
    if require_tool("numpy", numpy()).is_none() {
        return;
    }
    // Regression: status showed no resource figures at all, and the summary's were lost
    // with the terminal.
    let env = burn_sweep();
    env.succeeds(&["run", "c.toml", "--jobs", "2", "-q"]);
    let out = env.succeeds(&["status", "runs/c"]);
    let line = out.lines().find(|l| l.trim_start().starts_with("runs ")).unwrap_or_else(|| panic!("{out}"));
    assert!(line.contains("runs     1; last: 2 done, 0 failed in "), "{line}");
    let tasks = percent_after(line, "(tasks ");
    assert!(tasks > 20.0, "{line}");
    assert!(line.contains("peak ") && line.contains("MiB"), "{line}");
    // A resume with nothing left to run records nothing.
    env.succeeds(&["run", "c.toml", "--out", "runs/c", "--resume", "--retries", "0", "-q"]);
    let m: Vec<String> = env.read("runs/c/runs.jsonl").lines().map(String::from).collect();
    assert_eq!(m.len(), 1, "a resume with nothing to do records no run: {m:?}");
}

#[test]
fn the_progress_bar_total_is_the_task_count_under_a_terminal() {
    // Regression: the bar read its total before the engine set it (`187/0`).
    let env = Env::with("s.toml", "replicates = 40\n[model]\nname = \"spin\"\nmicros = 50000\n");
    let cmd = format!("{} run s.toml --jobs 2", env!("CARGO_BIN_EXE_sweep"));
    let o = std::process::Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .current_dir(env.dir.path())
        .env("COLUMNS", "200")
        .output()
        .unwrap();
    let screen = text(&o.stdout);
    assert!(o.status.success(), "{screen}");
    assert!(screen.contains("/40 "), "the bar shows the total: {screen:?}");
    assert!(!screen.contains("/0 "), "never a total of 0: {screen:?}");
}

#[test]
fn dry_run_shows_the_first_command_lines_and_where_they_run() {
    let env = Env::with("port/c.toml", "[command]\nargv = ['sh', '-c', 'echo $0', '{k}']\n[params]\nk = [0.5, 2]\n");
    let out = env.succeeds(&["run", "port/c.toml", "--dry-run"]);
    let port = std::fs::canonicalize(env.path("port")).unwrap();
    assert!(out.contains(&format!("commands (in {}):", port.display())), "{out}");
    assert!(out.contains("  sh -c 'echo $0' 0.5\n") && out.contains("  sh -c 'echo $0' 2.0\n"), "{out}");
    assert!(!env.path("runs").exists(), "a dry run writes nothing");
}

#[test]
fn dry_run_shows_the_first_python_calls_exactly() {
    if require_tool("numpy", numpy()).is_none() {
        return;
    }
    let env = Env::with("m.py", "def f(k, *, seed, replicate):\n    return {}\n");
    env.write("g.toml", "replicates = 2\n[python]\nfunction = 'm.py:f'\n[params]\nk = [0.5]\n");
    let out = env.succeeds(&["run", "g.toml", "--dry-run"]);
    let seeds: Vec<String> = out
        .lines()
        .filter(|l| {
            l.split_whitespace().next().is_some_and(|t| t.len() == 16 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        })
        .filter_map(|l| l.split_whitespace().nth(2).map(String::from))
        .collect();
    assert!(out.contains(&format!("  f(k=0.5, seed={}, replicate=0)", seeds[0])), "{out}");
    assert!(out.contains(&format!("  f(k=0.5, seed={}, replicate=1)", seeds[1])), "{out}");
}

#[test]
fn sweep_init_writes_specs_that_run_and_never_overwrites() {
    for flag in [None, Some("--python"), Some("--command")] {
        let env = Env::new();
        let mut args = vec!["init"];
        args.extend(flag);
        let err = env.succeeds_stderr(&args);
        assert!(err.contains("then sweep run grid.toml --limit 5 (a smoke test), then sweep run grid.toml --resume"));
        // The steps it suggests.
        env.succeeds(&["run", "grid.toml", "--limit", "5", "-q"]);
        env.succeeds(&["run", "grid.toml", "--resume", "-q"]);
        let rows = env.results("runs/grid");
        assert!(!rows.is_empty() && rows.iter().all(|r| r["status"] == "done"), "{flag:?}: {rows:?}");
        let before = env.read("grid.toml");
        let err = env.fails(&args, 2);
        assert!(err.contains("grid.toml exists; nothing was written"), "{err}");
        assert_eq!(env.read("grid.toml"), before);
    }
}

#[test]
fn fixed_parameters_are_columns_of_results_csv() {
    let env = Env::with("r.toml", "[model]\nname = \"reaction\"\nt_final = 5.0\nsave = []\n[params]\nk = [0.5]\n");
    env.succeeds(&["run", "r.toml", "-q"]);
    let text = env.read("runs/r/results.csv");
    let header = text.lines().next().unwrap();
    assert!(header.starts_with("task,replicate,seed,k,c0,t_final,solver,rtol,atol,dt,status,"), "{header}");
    let row = &env.results("runs/r")[0];
    assert_eq!((row["t_final"].as_str(), row["solver"].as_str()), ("5.0", "rk45"));
    // The report still finds parameters and metrics.
    env.succeeds(&["report", "runs/r"]);
}

#[test]
fn the_manifest_records_provenance() {
    let env = Env::with("sim.sh", "echo '{\"y\": 1}' > \"$1/metrics.json\"\n");
    env.write("c.toml", "[command]\nargv = ['sh', 'sim.sh', '{out}']\n[params]\nx = [1]\n");
    let git =
        |args: &[&str]| std::process::Command::new("git").args(args).current_dir(env.dir.path()).output().unwrap();
    git(&["init", "-q"]);
    git(&["-c", "user.email=a@b", "-c", "user.name=a", "add", "sim.sh", "c.toml"]);
    git(&["-c", "user.email=a@b", "-c", "user.name=a", "commit", "-qm", "x"]);
    env.succeeds(&["run", "c.toml", "-q"]);
    let m: serde_json::Value = serde_json::from_str(&env.read("runs/c/manifest.json")).unwrap();
    let p = &m["provenance"];
    assert_eq!(p["sweep"], env!("CARGO_PKG_VERSION"));
    assert!(p["interpreter"]["path"].as_str().unwrap().ends_with("/sh"), "{p}");
    assert!(p["files"]["sim.sh"].as_str().unwrap().starts_with("sha256:"), "{p}");
    assert_eq!(p["files"]["sim.sh"].as_str().unwrap().len(), 7 + 64, "{p}");
    let head = text(&git(&["rev-parse", "HEAD"]).stdout).trim().to_string();
    assert_eq!(p["git"]["commit"], head.as_str());
    assert_eq!(p["git"]["dirty"], false);
}

#[test]
fn a_command_sweep_without_metrics_json_says_so_once() {
    let env = Env::with("c.toml", "[command]\nargv = ['true']\n[params]\nx = [1, 2, 3]\n");
    let err = env.succeeds_stderr(&["run", "c.toml"]);
    assert_eq!(err.matches("no task wrote {out}/metrics.json").count(), 1, "{err}");
}

#[test]
fn a_timeout_may_be_a_number_of_seconds() {
    let env = Env::with("c.toml", "[command]\nargv = ['sleep', '5']\ntimeout = 0.2\ngrace = 0\n[params]\nx = [1]\n");
    let started = std::time::Instant::now();
    env.fails(&["run", "c.toml", "-q"], 1);
    assert!(started.elapsed() < Duration::from_secs(4));
    assert_eq!(env.results("runs/c")[0]["error"], "timed out after 200ms");
}

#[test]
fn status_of_a_sweep_without_a_name_shows_its_file_name() {
    let env = Env::with("mysweep.toml", "[model]\nname = \"spin\"\n");
    env.succeeds(&["run", "mysweep.toml", "-q"]);
    let out = env.succeeds(&["status", "runs/mysweep"]);
    assert!(out.starts_with("runs/mysweep: mysweep (model spin)"), "{out}");
}

#[test]
fn shrinking_the_grid_is_not_called_an_extension() {
    let env = Env::with("s.toml", "[model]\nname = \"spin\"\n[params]\nmicros = [0, 1, 2, 3]\n");
    env.succeeds(&["run", "s.toml", "-q"]);
    env.write("s.toml", "[model]\nname = \"spin\"\n[params]\nmicros = [0, 1]\n");
    let err = env.succeeds_stderr(&["run", "s.toml", "--resume"]);
    assert!(err.contains("warning: the spec now has fewer tasks: 2 (4 before)"), "{err}");
    assert!(!err.contains("extended"), "{err}");
    assert_eq!(env.results("runs/s").len(), 2);
    env.write("s.toml", "[model]\nname = \"spin\"\n[params]\nmicros = [0, 1, 5]\n");
    let err = env.succeeds_stderr(&["run", "s.toml", "--resume"]);
    assert!(err.contains("warning: the spec was extended: 3 tasks now (2 before)"), "{err}");
}

#[test]
fn a_resume_with_nothing_to_do_shows_no_cpu_figure() {
    // Regression: a resume that ran nothing reported `CPU 371%`.
    let env = Env::with("s.toml", "[model]\nname = \"spin\"\n[params]\nmicros = [0, 1]\n");
    env.succeeds(&["run", "s.toml", "-q"]);
    let err = env.succeeds_stderr(&["run", "s.toml", "--resume"]);
    let line = err.lines().find(|l| l.contains("this run:")).unwrap();
    assert!(line.contains("this run: 0 done, 0 failed") && !line.contains("CPU"), "{line}");
}

#[test]
fn sweep_init_into_a_new_directory_creates_it() {
    let env = Env::new();
    env.succeeds(&["init", "--python", "starter/grid.toml"]);
    assert!(env.path("starter/model.py").is_file());
    env.succeeds(&["run", "starter/grid.toml", "-q"]);
    assert!(env.results("runs/grid").iter().all(|r| r["status"] == "done"));
}

#[test]
fn the_cpu_of_python_workers_imports_is_not_charged_to_the_run() {
    if require_tool("numpy", numpy()).is_none() {
        return;
    }
    // Regression: workers' start-up CPU, spent before the run, counted in its CPU share.
    // Each worker spends about half a second importing; the four tasks, a few milliseconds.
    let env = Env::with("m.py", "s = 0\nfor i in range(10_000_000):\n    s += i\n\ndef f(x):\n    return {'y': x}\n");
    env.write("p.toml", "[python]\nfunction = 'm.py:f'\n[params]\nx = [1, 2, 3, 4]\n");
    let err = env.succeeds_stderr(&["run", "p.toml", "--jobs", "2"]);
    let line = err.lines().find(|l| l.contains("this run:")).unwrap();
    let cpu = percent_after(line, "CPU ");
    // Charged to the run, the imports made this several thousand per cent; what is left is
    // the tasks and the workers' exit, which on runs this short can exceed 100 %.
    assert!(cpu <= 400.0, "the imports' CPU is not the run's: {line}");
}

#[test]
fn the_shared_error_of_a_fail_fast_stop_is_printed_once() {
    // Regression: the error showed in the failure list and again in the "stopped" lines.
    let env =
        Env::with("c.toml", "[command]\nshell = 'echo no such input >&2; exit 3'\n[params]\nx = { range = [0, 20] }\n");
    let err = env.fails(&["run", "c.toml", "--jobs", "1"], 1);
    assert!(err.contains("the first 5 tasks all failed with the same error (above), and none was done"), "{err}");
    assert_eq!(err.matches("exit status 3").count(), 1, "{err}");
}
