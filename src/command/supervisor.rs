//! Running one task's command to its end: spawned in its own process group, watched for
//! its timeout and for cancellation, its whole group killed when its leader exits.
//!
//! Each worker thread blocks in the kernel until its child exits, so tiny tasks cost a
//! spawn and a wait and nothing more. Deadlines and Ctrl-C are enforced by the run's single
//! [`Watchdog`] thread, which signals whole process groups.

use super::invocation::Invocation;
use super::spawn::spawn;
use super::verdict::{exit_failure, read_metrics};
use crate::model::Metric;
use crate::proc::{signal_group, wait_exited, Stop, Watchdog};
use crate::task::{Cancel, FailureClass, TaskFailure};
use std::sync::Arc;

/// Runs the commands of every worker of a run and stops them on timeout or cancellation.
pub struct Supervisor {
    watchdog: Watchdog,
}

impl Supervisor {
    /// A supervisor for one run; its watchdog thread stops when it is dropped.
    pub fn new(cancel: Arc<Cancel>) -> Arc<Self> {
        Arc::new(Supervisor { watchdog: Watchdog::new(cancel) })
    }

    /// Runs one task's command to the end and returns its metrics from `metrics.json`
    /// (none when the file is absent), in the order the file gives them.
    ///
    /// Blocks the calling thread until the command's leader exits; then kills whatever
    /// is left of its process group, and the orphans it left (a `setsid` daemon, once sweep
    /// is a child subreaper), so that nothing of a task outlives it.
    pub fn run(&self, inv: &Invocation) -> Result<Vec<(String, Metric)>, TaskFailure> {
        let mut child = spawn(inv)?;
        let pgid = child.pid();
        self.watchdog.watch(pgid, inv.spec.timeout, inv.spec.grace);
        // The leader is a zombie until reaped, so its pid, which is the group id, cannot be
        // reused yet: signalling the group here cannot hit a stranger. The watchdog forgets
        // the group first, and `reap` collects what the task left outside it.
        let _ = wait_exited(pgid);
        let stop = self.watchdog.forget(pgid);
        signal_group(pgid, libc::SIGKILL);
        let status = child.reap();
        let status =
            status.map_err(|e| TaskFailure::new(FailureClass::Error, format!("cannot wait for the command: {e}")))?;
        match stop {
            Some(Stop::Timeout) => {
                let limit = inv.spec.timeout.unwrap_or_default();
                Err(TaskFailure::new(
                    FailureClass::Timeout,
                    format!("timed out after {}", humantime::format_duration(limit)),
                ))
            }
            Some(Stop::Interrupted) => Err(TaskFailure::new(FailureClass::Interrupted, "interrupted while running")),
            Some(Stop::Memory { peak, limit }) => Err(crate::task::out_of_memory(peak, limit)),
            None if status.success() => read_metrics(&inv.out_dir.join("metrics.json")),
            None => Err(exit_failure(status, &inv.out_dir.join("stderr.txt"))),
        }
    }

    /// Stops every running command now: SIGTERM to each group and SIGKILL after its
    /// grace, or SIGKILL at once when `hard`. Their tasks fail as interrupted.
    ///
    /// Takes a lock: call it from a thread, never from inside an async signal handler.
    pub fn stop_all(&self, hard: bool) {
        self.watchdog.stop_all(hard);
    }

    /// Stops a command whose processes together grow past `limit` bytes (see
    /// [`Watchdog::limit_memory`]).
    pub fn limit_memory(&self, limit: Option<u64>) {
        self.watchdog.limit_memory(limit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::{CommandSpec, Template};
    use crate::task::StopReason;
    use std::fs;
    use std::io;
    use std::path::PathBuf;
    use std::time::{Duration, Instant};

    const TASK: &str = "0123456789abcdef";

    /// A temporary directory to run tasks in, with its supervisor and cancel token.
    struct Env {
        tmp: tempfile::TempDir,
        cancel: Arc<Cancel>,
        sup: Arc<Supervisor>,
        columns: Vec<String>,
        runs: std::sync::atomic::AtomicU32,
    }

    impl Env {
        fn new() -> Self {
            let cancel = Arc::new(Cancel::new());
            let sup = Supervisor::new(Arc::clone(&cancel));
            let tmp = tempfile::tempdir().unwrap();
            Env { tmp, cancel, sup, columns: vec!["k".into(), "step-size".into()], runs: Default::default() }
        }

        fn spec(&self, argv: Option<&[&str]>, shell: Option<&str>) -> CommandSpec {
            let parse = |s: &str| Template::parse(s, &self.columns).unwrap();
            CommandSpec {
                argv: argv.map(|a| a.iter().map(|s| parse(s)).collect()),
                shell: shell.map(parse),
                timeout: None,
                grace: Duration::from_millis(200),
                env: Vec::new(),
                cwd: self.tmp.path().to_path_buf(),
                identity: serde_json::Value::Null,
            }
        }

        fn argv(&self, argv: &[&str]) -> CommandSpec {
            self.spec(Some(argv), None)
        }

        fn shell(&self, line: &str) -> CommandSpec {
            self.spec(None, Some(line))
        }

        /// The directory of the last attempt (each run gets a fresh one, as in a sweep).
        fn out(&self) -> PathBuf {
            self.tmp
                .path()
                .join("attempts")
                .join(format!("{TASK}-{}", self.runs.load(std::sync::atomic::Ordering::SeqCst)))
        }

        fn run_with(&self, spec: &CommandSpec, k: &str) -> Result<Vec<(String, Metric)>, TaskFailure> {
            let values = [k.to_string(), "0.1".to_string()];
            self.runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let out = self.out();
            let inv = Invocation {
                spec,
                columns: &self.columns,
                values: &values,
                seed: 42,
                replicate: 3,
                task: TASK,
                out_dir: &out,
                slot_env: &[],
            };
            self.sup.run(&inv)
        }

        fn run(&self, spec: &CommandSpec) -> Result<Vec<(String, Metric)>, TaskFailure> {
            self.run_with(spec, "7")
        }

        fn read(&self, name: &str) -> String {
            fs::read_to_string(self.tmp.path().join(name)).unwrap()
        }

        /// Waits for the task to write `name` (e.g. its pid) and returns its contents.
        fn wait_for(&self, name: &str) -> String {
            let path = self.tmp.path().join(name);
            let deadline = Instant::now() + Duration::from_secs(2);
            loop {
                match fs::read_to_string(&path) {
                    Ok(s) if s.ends_with('\n') => return s,
                    _ if Instant::now() > deadline => panic!("{name} was never written"),
                    _ => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        }

        fn pid(&self, name: &str) -> i32 {
            self.read(name).trim().parse().unwrap()
        }
    }

    /// Whether `pid` runs (a zombie counts as gone: no init may be reaping orphans here).
    fn alive(pid: i32) -> bool {
        stat(pid).is_some_and(|(state, _)| state != 'Z')
    }

    /// Whether `pid` is gone within a second (SIGKILL is delivered asynchronously).
    fn dies(pid: i32) -> bool {
        let deadline = Instant::now() + Duration::from_secs(1);
        while alive(pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        !alive(pid)
    }

    /// State and process group of `pid`, from /proc.
    fn stat(pid: i32) -> Option<(char, i32)> {
        let s = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let mut fields = s[s.rfind(')')? + 1..].split_whitespace();
        let state = fields.next()?.chars().next()?;
        let pgrp = fields.nth(1)?.parse().ok()?;
        Some((state, pgrp))
    }

    /// Whether process group `pgid` has no live member left within a second:
    /// `kill(-pgid, 0)` fails with ESRCH, or only zombies waiting for a reaper remain.
    fn group_gone(pgid: i32) -> bool {
        let only_zombies = || {
            let pids = fs::read_dir("/proc").unwrap().filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok());
            pids.filter_map(stat).all(|(state, pgrp)| pgrp != pgid || state == 'Z')
        };
        let deadline = Instant::now() + Duration::from_secs(1);
        loop {
            // SAFETY: signal 0 only checks that the group exists.
            let esrch =
                unsafe { libc::kill(-pgid, 0) } == -1 && io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
            if esrch || only_zombies() {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn class(r: Result<Vec<(String, Metric)>, TaskFailure>) -> (FailureClass, String) {
        let f = r.unwrap_err();
        (f.class, f.message)
    }

    #[test]
    fn placeholders_env_and_stdout_reach_files() {
        let env = Env::new();
        let script = r#"echo "$SWEEP_SEED $SWEEP_REPLICATE $SWEEP_TASK $SWEEP_PARAM_K $SWEEP_PARAM_STEP_SIZE $SWEEP_OUT" > "$SWEEP_OUT/env.txt"; echo "$@"; echo oops >&2"#;
        let spec =
            env.argv(&["sh", "-c", script, "sh", "{k}", "{step-size}", "{seed}", "{replicate}", "{task}", "{out}"]);
        assert_eq!(env.run(&spec), Ok(vec![]));
        let out = env.out();
        let o = out.display();
        assert_eq!(fs::read_to_string(out.join("env.txt")).unwrap(), format!("42 3 {TASK} 7 0.1 {o}\n"));
        assert_eq!(fs::read_to_string(out.join("stdout.txt")).unwrap(), format!("7 0.1 42 3 {TASK} {o}\n"));
        assert_eq!(fs::read_to_string(out.join("stderr.txt")).unwrap(), "oops\n");
    }

    #[test]
    fn shell_quoting_defeats_injection() {
        let env = Env::new();
        let evil = "'; touch pwned; '";
        let spec = env.shell("printf '%s' {k} > got.txt");
        assert_eq!(env.run_with(&spec, evil), Ok(vec![]));
        assert_eq!(env.read("got.txt"), evil);
        assert!(!env.tmp.path().join("pwned").exists());
    }

    #[test]
    fn argv_values_are_single_arguments() {
        let env = Env::new();
        let spec = env.argv(&["sh", "-c", "printf '%s|' \"$@\" > got.txt", "sh", "{k}"]);
        assert_eq!(env.run_with(&spec, "a b; c"), Ok(vec![]));
        assert_eq!(env.read("got.txt"), "a b; c|");
    }

    #[test]
    fn nonzero_exit_reports_the_last_line_of_stderr_which_is_the_error() {
        // Regression: the message was the last five lines, so a Python traceback showed as
        // `File "numpy/random/mtrand.pyx", line 255` instead of its last line, the error.
        let env = Env::new();
        let spec = env.shell(
            "echo 'Traceback (most recent call last):' >&2; echo '  File \"mtrand.pyx\", line 255' >&2; \
             echo 'ValueError: Seed must be between 0 and 2**32 - 1' >&2; echo >&2; exit 3",
        );
        let (class, msg) = class(env.run(&spec));
        assert_eq!(class, FailureClass::Exit);
        assert_eq!(msg, "exit status 3: ValueError: Seed must be between 0 and 2**32 - 1");
    }

    #[test]
    fn stderr_tail_reads_only_the_end() {
        let env = Env::new();
        let spec = env.shell("head -c 100000 /dev/zero | tr '\\0' 'x' >&2; printf '\\nlast\\n' >&2; exit 1");
        let (_, msg) = class(env.run(&spec));
        // The cut line of x's is dropped, not quoted in part.
        assert_eq!(msg, "exit status 1: last");
    }

    #[test]
    fn signal_is_named() {
        let env = Env::new();
        let (class, msg) = class(env.run(&env.shell("echo dying >&2; kill -9 $$")));
        assert_eq!(class, FailureClass::Signal);
        assert_eq!(msg, "killed by signal 9 (SIGKILL): dying");
    }

    #[test]
    fn missing_program_fails_to_spawn() {
        let env = Env::new();
        let (class, msg) = class(env.run(&env.argv(&["/nonexistent/prog", "{k}"])));
        assert_eq!(class, FailureClass::Spawn);
        assert!(msg.contains("/nonexistent/prog") && msg.contains("No such file"), "{msg}");
    }

    #[test]
    fn timeout_kills_the_whole_group() {
        let env = Env::new();
        let mut spec = env.shell("echo $$ > pgid; sleep 30 & echo $! > bg; sleep 30");
        spec.timeout = Some(Duration::from_millis(200));
        let started = Instant::now();
        let (class, msg) = class(env.run(&spec));
        assert_eq!((class, msg.as_str()), (FailureClass::Timeout, "timed out after 200ms"));
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(group_gone(env.pid("pgid")));
        assert!(dies(env.pid("bg")));
    }

    #[test]
    fn sigkill_follows_an_ignored_sigterm_after_the_grace() {
        let env = Env::new();
        let mut spec = env.shell("trap '' TERM; echo $$ > pgid; sleep 30");
        spec.timeout = Some(Duration::from_millis(100));
        let started = Instant::now();
        assert_eq!(class(env.run(&spec)).0, FailureClass::Timeout);
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(300) && took < Duration::from_secs(2), "{took:?}");
        assert!(group_gone(env.pid("pgid")));
    }

    #[test]
    fn background_children_do_not_outlive_a_successful_task() {
        let env = Env::new();
        assert_eq!(env.run(&env.shell("sleep 30 & echo $! > bg")), Ok(vec![]));
        assert!(dies(env.pid("bg")));
    }

    #[test]
    fn a_first_interrupt_lets_running_commands_finish() {
        // Regression: the first Ctrl-C killed running commands at once, though docs/resume.md
        // says they finish.
        let env = Env::new();
        let spec = env.shell("echo $$ > pgid; sleep 0.3; echo finished > done.txt");
        std::thread::scope(|s| {
            let task = s.spawn(|| env.run(&spec));
            env.wait_for("pgid");
            env.cancel.drain(StopReason::Interrupted);
            assert_eq!(task.join().unwrap(), Ok(vec![]));
        });
        assert_eq!(env.read("done.txt"), "finished\n");
    }

    #[test]
    fn draining_for_other_reasons_lets_commands_finish() {
        let env = Env::new();
        env.cancel.drain(StopReason::MaxFailures(1));
        assert_eq!(env.run(&env.shell("sleep 0.1")), Ok(vec![]));
    }

    #[test]
    fn second_interrupt_kills_at_once() {
        let env = Env::new();
        let mut spec = env.shell("trap '' TERM; echo $$ > pgid; sleep 30");
        spec.grace = Duration::from_secs(30);
        std::thread::scope(|s| {
            let task = s.spawn(|| env.run(&spec));
            env.wait_for("pgid");
            env.cancel.drain(StopReason::Interrupted);
            std::thread::sleep(Duration::from_millis(100));
            env.cancel.kill();
            assert_eq!(class(task.join().unwrap()).0, FailureClass::Interrupted);
        });
    }

    #[test]
    fn stop_all_signals_every_running_group() {
        let env = Env::new();
        let mut spec = env.shell("trap '' TERM; echo $$ > pgid; sleep 30");
        spec.grace = Duration::from_secs(30);
        std::thread::scope(|s| {
            let task = s.spawn(|| env.run(&spec));
            env.wait_for("pgid");
            env.sup.stop_all(false);
            std::thread::sleep(Duration::from_millis(100));
            assert!(alive(env.pid("pgid")), "SIGTERM is ignored, the grace is long");
            env.sup.stop_all(true);
            assert_eq!(class(task.join().unwrap()).0, FailureClass::Interrupted);
        });
    }

    #[test]
    fn metrics_json_becomes_metrics_in_the_files_order() {
        let env = Env::new();
        let json = r#"{"b": 2, "a": 0.5, "c": "x", "d": 1e3, "e": -4}"#;
        let json = json.replace('{', "{{").replace('}', "}}");
        let spec = env.shell(&format!("echo '{json}' > \"$SWEEP_OUT/metrics.json\""));
        let metrics = env.run(&spec).unwrap();
        let expected = [
            ("b", Metric::Int(2)),
            ("a", Metric::Float(0.5)),
            ("c", Metric::Str("x".into())),
            ("d", Metric::Float(1000.0)),
            ("e", Metric::Int(-4)),
        ];
        assert_eq!(metrics, expected.map(|(k, m)| (k.to_string(), m)));
    }

    #[test]
    fn malformed_metrics_json_is_an_error_naming_the_file() {
        let env = Env::new();
        for bad in ["[1, 2]", r#"{"a": [1]}"#, r#"{"a": 1, "a": 2}"#, "{\"a\": 1", "not json", ""] {
            fs::write(env.tmp.path().join("m.json"), bad).unwrap();
            let spec = env.shell("cp m.json \"$SWEEP_OUT/metrics.json\"");
            let (class, msg) = class(env.run(&spec));
            assert_eq!(class, FailureClass::Error, "{bad}");
            assert!(msg.contains("metrics.json"), "{bad}: {msg}");
        }
    }

    #[test]
    fn metrics_json_as_python_writes_it_is_read() {
        // Regression: NaN, booleans, null and nested objects (all of which json.dump writes)
        // failed the task, and a u64 came back as a float.
        let env = Env::new();
        let json = r#"{"x": NaN, "ok": true, "n": null, "fit": {"k": 1.5}, "seed": 11851360948378580888}"#;
        let json = json.replace('{', "{{").replace('}', "}}");
        let metrics = env.run(&env.shell(&format!("echo '{json}' > \"$SWEEP_OUT/metrics.json\""))).unwrap();
        let names: Vec<&str> = metrics.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["x", "ok", "n", "fit.k", "seed"]);
        assert!(matches!(metrics[0].1, Metric::Float(f) if f.is_nan()));
        assert_eq!(metrics[1].1, Metric::Bool(true));
        assert_eq!(metrics[2].1, Metric::Null);
        assert_eq!(metrics[4].1, Metric::UInt(11851360948378580888));
    }

    #[test]
    fn the_slot_variables_reach_the_command_and_the_spec_env_wins() {
        let env = Env::new();
        let line = "echo $OMP_NUM_THREADS $MKL_NUM_THREADS $EXTRA > got.txt";
        let mut spec = env.shell(line);
        spec.env = vec![("OMP_NUM_THREADS".into(), "4".into()), ("EXTRA".into(), "x".into())];
        let slot_env = [("OMP_NUM_THREADS".to_string(), "3".to_string()), ("MKL_NUM_THREADS".into(), "3".into())];
        let out = env.tmp.path().join("attempts").join("slot");
        let values = ["7".to_string(), "0.1".to_string()];
        let inv = Invocation {
            spec: &spec,
            columns: &env.columns,
            values: &values,
            seed: 1,
            replicate: 0,
            task: TASK,
            out_dir: &out,
            slot_env: &slot_env,
        };
        assert_eq!(env.sup.run(&inv), Ok(vec![]));
        assert_eq!(env.read("got.txt"), "4 3 x\n");
    }
}
