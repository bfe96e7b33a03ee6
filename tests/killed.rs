//! A task that kills sweep itself (`kill -9 $PPID`, `os.kill(os.getppid(), 9)`): SIGKILL
//! runs no handler, so before, every `--resume` died the same way and no task was blamed.
//! Now the tasks that ran when sweep died run first, side by side with nothing else; those
//! still running when sweep dies again run alone, one at a time; the one running alone when
//! sweep dies is blamed, and set aside after a second death, so the sweep finishes.

mod common;
use common::Env;
use std::os::unix::process::ExitStatusExt;

/// Runs `sweep run s.toml --resume` until it exits by itself (at most `max` times); the
/// signals that killed the runs before.
fn resume_until_it_finishes(env: &Env, jobs: &str, max: usize) -> Vec<i32> {
    let mut deaths = Vec::new();
    for _ in 0..max {
        let o = env.sweep(&["run", "s.toml", "--out", "out", "--resume", "--jobs", jobs, "--quiet"]).output().unwrap();
        match o.status.signal() {
            Some(s) => deaths.push(s),
            None => return deaths,
        }
    }
    panic!("sweep still dies after {max} runs: {deaths:?}");
}

/// The one task that killed sweep is failed (class crash) and every other is done.
fn only_the_killer_failed(env: &Env, killer: &str) {
    let rows = env.results("out");
    assert_eq!(rows.len(), 8);
    for row in &rows {
        if row["x"] == killer {
            assert_eq!((row["status"].as_str(), row["class"].as_str()), ("failed", "crash"), "{row:?}");
            assert!(row["error"].contains("killed while this task ran alone"), "{row:?}");
        } else {
            assert_eq!(row["status"], "done", "an innocent task that ran beside it: {row:?}");
        }
    }
}

#[test]
fn a_command_that_kills_sweep_is_found_alone_and_set_aside_instead_of_killing_every_resume() {
    let env = Env::with(
        "s.toml",
        "[command]\nshell = '''if [ {x} = 3 ]; then kill -9 $PPID; sleep 5; fi; sleep 0.05; printf '{{\"y\": %s}}' {x} > {out}/metrics.json'''\n\
         [params]\nx = [0, 1, 2, 3, 4, 5, 6, 7]\n",
    );
    // The first run dies with x = 3 and others running; the resume runs them as a group and
    // dies again; the next runs the group's unfinished ones alone and dies with x = 3 alone
    // (one death); the next runs x = 3 alone again (a second death); the next sets it aside
    // and finishes.
    let deaths = resume_until_it_finishes(&env, "4", 8);
    assert_eq!(deaths, vec![libc::SIGKILL; 4], "four deaths, then the sweep finishes");
    only_the_killer_failed(&env, "3");
    // Set aside for good: another resume runs nothing and exits by itself (1: a task failed).
    env.exits(&["run", "s.toml", "--out", "out", "--resume", "--quiet"], 1);
}

#[test]
fn a_python_function_that_kills_sweep_is_found_alone_and_set_aside() {
    if common::tools::require_tool("python3", common::tools::python_modules("os")).is_none() {
        return;
    }
    let env = Env::with("s.toml", "[python]\nfunction = \"f.py:f\"\n[params]\nx = [0, 1, 2, 3, 4, 5, 6, 7]\n");
    env.write(
        "f.py",
        "import os, time\ndef f(x):\n    if x == 5:\n        os.kill(os.getppid(), 9)\n        time.sleep(5)\n    time.sleep(0.05)\n    return {'y': x}\n",
    );
    let deaths = resume_until_it_finishes(&env, "2", 8);
    assert_eq!(deaths, vec![libc::SIGKILL; 4], "four deaths, then the sweep finishes");
    only_the_killer_failed(&env, "5");
}

#[test]
fn a_user_kill_9_blames_no_task_and_the_resume_finishes_everything() {
    // Killed from outside while several tasks run side by side: they run again (as a group,
    // first) and are all done; nothing is failed.
    let env = Env::with(
        "s.toml",
        "[command]\nshell = '''sleep 0.3; printf '{{\"y\": %s}}' {x} > {out}/metrics.json'''\n[params]\nx = [0, 1, 2, 3, 4, 5, 6, 7]\n",
    );
    let mut child = env.spawn(&["run", "s.toml", "--out", "out", "--jobs", "4", "--quiet"]);
    std::thread::sleep(std::time::Duration::from_millis(500));
    common::kill9(&mut child);
    env.succeeds(&["run", "s.toml", "--out", "out", "--resume", "--jobs", "4", "--quiet"]);
    let rows = env.results("out");
    assert!(rows.iter().all(|r| r["status"] == "done" && r["attempts"] == "1"), "{rows:?}");
}
