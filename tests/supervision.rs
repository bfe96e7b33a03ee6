//! Process supervision at more workers than cores (#23): healthy tasks never fail, whatever
//! the timing of their neighbours' ends, and what tasks leave behind is still ended.
//!
//! How often the code before #23 failed these, on a 2-core machine (release build):
//! 10,000 short commands (every tenth spawning children) lost 66 tasks at `--jobs 8` and
//! 79 at `--jobs 16` ("cannot wait for the command: No child processes", or SIGKILL);
//! 1,000 commands that each leave a `setsid` daemon lost 3 at `--jobs 16`.

mod common;
use common::*;
use std::time::Duration;

/// `n` short shell commands; every tenth lists a directory and runs a pipeline.
fn short_commands(n: u32) -> String {
    format!(
        "[command]\nshell = '[ $(({{i}} % 10)) -ne 0 ] || {{ ls / >/dev/null; true | cat; }}'\n[params]\ni = {{ range = [0, {n}] }}\n"
    )
}

/// Runs `spec` at `--jobs jobs` and checks every task is done, none failed.
fn all_done(env: &Env, spec: &str, jobs: &str, n: usize) {
    env.write("s.toml", spec);
    let out = format!("out-{jobs}");
    env.succeeds(&["run", "s.toml", "--jobs", jobs, "--out", &out, "-q"]);
    let rows = env.results(&out);
    let done = rows.iter().filter(|r| r["status"] == "done").count();
    assert_eq!((rows.len(), done), (n, n), "at --jobs {jobs}");
}

#[test]
fn ten_thousand_short_commands_at_jobs_8_and_16_on_few_cores_never_fail() {
    let env = Env::new();
    for jobs in ["8", "16"] {
        all_done(&env, &short_commands(10_000), jobs, 10_000);
    }
}

#[test]
fn long_tasks_among_thousands_of_short_ones_are_never_killed() {
    let env = Env::new();
    let spec = "[command]\nshell = 'if [ {i} -lt 4 ]; then sleep 2; echo long > \"$SWEEP_OUT/mark\"; fi'\n[params]\ni = { range = [0, 3000] }\n";
    all_done(&env, spec, "8", 3000);
    let long: Vec<_> = env.results("out-8").into_iter().filter(|r| r["i"].parse::<u32>().unwrap() < 4).collect();
    for r in long {
        assert_eq!(env.read(&format!("out-8/tasks/{}/mark", r["task"])), "long\n");
    }
}

#[test]
fn a_task_spawned_while_another_tasks_clean_up_runs_is_never_killed() {
    // Regression (#23): every task leaves a `setsid` daemon, so the orphan collector runs
    // after every task while others start; it took a task started meanwhile for an orphan.
    let env = Env::new();
    let mark = env.abs("");
    let spec = format!(
        "[command]\nshell = 'setsid sleep 30 & true'\nenv = {{ MARK = \"{mark}\" }}\n[params]\ni = {{ range = [0, 1000] }}\n"
    );
    all_done(&env, &spec, "16", 1000);
    // And the daemons, left by tasks that ended, were ended with them.
    let gone = poll_until(Duration::from_secs(2), || processes_with_env(&mark).is_empty());
    assert!(gone, "daemons outlived their tasks: {:?}", processes_with_env(&mark));
}

#[test]
fn a_daemon_left_by_a_task_is_ended_when_its_task_ends_not_only_with_the_run() {
    // Task 0 leaves a daemon and ends at once; task 1 runs on for 3 s: the daemon must be
    // gone while task 1 still runs.
    let env = Env::new();
    let mark = env.abs("");
    let spec = format!(
        "[command]\nshell = 'if [ {{i}} = 0 ]; then setsid sleep 30 & else sleep 3; fi'\nenv = {{ MARK = \"{mark}\" }}\n[params]\ni = [0, 1]\n"
    );
    env.write("d.toml", &spec);
    let mut run = env.spawn(&["run", "d.toml", "--jobs", "2", "-q"]);
    let daemon = |pids: Vec<i32>| {
        pids.into_iter()
            .any(|p| std::fs::read_to_string(format!("/proc/{p}/cmdline")).is_ok_and(|c| c == "sleep\x0030\x00"))
    };
    wait_until("task 1 running", Duration::from_secs(10), || !processes_with_env(&mark).is_empty());
    std::thread::sleep(Duration::from_millis(1500));
    assert!(!daemon(processes_with_env(&mark)), "the daemon outlived its task while the run went on");
    assert!(run.wait().unwrap().success());
}

#[test]
fn ten_thousand_python_tasks_at_jobs_8_never_fail() {
    if require_tool("python3", python_modules("sys")).is_none() {
        return;
    }
    let env = Env::with("f.py", "def f(i):\n    return {'y': i * 2}\n");
    let spec = "[python]\nfunction = \"f.py:f\"\n[params]\ni = { range = [0, 10000] }\n";
    all_done(&env, spec, "8", 10_000);
}

#[test]
fn a_stop_signal_while_python_workers_import_exits_130_with_nothing_written() {
    // Regression (#24): a signal during a slow import killed sweep by the signal's default
    // action (exit -2, 143 or 129), with no message.
    if require_tool("python3", python_modules("sys")).is_none() {
        return;
    }
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        let env = Env::with("slow.py", "import time\ntime.sleep(30)\n\ndef f(i):\n    return {'y': i}\n");
        let mark = env.abs("");
        env.write(
            "s.toml",
            &format!("[python]\nfunction = \"slow.py:f\"\nenv = {{ MARK = \"{mark}\" }}\n[params]\ni = [1, 2, 3]\n"),
        );
        let mut run = env.spawn(&["run", "s.toml", "--jobs", "2"]);
        wait_until("the workers importing", Duration::from_secs(20), || processes_with_env(&mark).len() >= 2);
        signal(&run, sig);
        let started = std::time::Instant::now();
        let status = run.wait().unwrap();
        assert_eq!(status.code(), Some(130), "signal {sig}");
        assert!(started.elapsed() < Duration::from_secs(10), "it waited for the imports");
        let mut err = String::new();
        std::io::Read::read_to_string(&mut run.stderr.take().unwrap(), &mut err).unwrap();
        assert!(err.contains("interrupted while the workers started"), "{err}");
        assert!(!env.path("runs/s").exists(), "nothing is written");
        assert!(poll_until(Duration::from_secs(2), || processes_with_env(&mark).is_empty()), "workers outlived it");
    }
}
