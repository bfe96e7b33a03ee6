//! Running one task's command: its own process group, streamed outputs, timeouts,
//! cancellation and `metrics.json`.
//!
//! Each worker thread blocks in the kernel until its child exits, so tiny tasks cost a
//! spawn and a wait and nothing more. Deadlines and Ctrl-C are enforced by a single
//! watchdog thread per [`Supervisor`] that signals whole process groups.

use super::template::Values;
use super::{CommandSpec, THREAD_VARS};
use crate::model::Metric;
use crate::task::{Cancel, FailureClass, TaskFailure};
use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often the watchdog looks at deadlines and the cancel token while commands run.
const TICK: Duration = Duration::from_millis(20);
/// At most this much of the end of `stderr.txt` is read for a failure message.
const TAIL_BYTES: u64 = 4096;
/// Lines of stderr quoted in a failure message.
const TAIL_LINES: usize = 5;

/// One task's command, with everything its placeholders and variables expand to.
#[derive(Clone, Copy, Debug)]
pub struct Invocation<'a> {
    /// The validated `[command]` table.
    pub spec: &'a CommandSpec,
    /// The swept parameters' names.
    pub columns: &'a [String],
    /// Each parameter's value as text, in the order of `columns`.
    pub values: &'a [String],
    /// The task's seed.
    pub seed: u64,
    /// The replicate.
    pub replicate: u32,
    /// The 16-hex-digit task id.
    pub task: &'a str,
    /// The task's output directory (absolute); created before the command starts.
    pub out_dir: &'a Path,
}

/// Runs commands for every worker of a run and stops them on timeout or cancellation.
///
/// Commands run in their own process groups, so the terminal's Ctrl-C does not reach
/// them directly: the supervisor forwards it, through the [`Cancel`] token it watches or
/// through [`Supervisor::stop_all`].
pub struct Supervisor {
    shared: Arc<Shared>,
    watchdog: Option<JoinHandle<()>>,
    /// Kills every running group when the run is killed (see [`Cancel::kill`]).
    hook: crate::task::HookId,
}

/// What the workers and the watchdog share.
struct Shared {
    cancel: Arc<Cancel>,
    state: Mutex<State>,
    /// Wakes the watchdog when the first group registers and at shutdown.
    wake: Condvar,
}

#[derive(Default)]
struct State {
    /// Running commands by process group id (the leader's pid).
    groups: HashMap<i32, Group>,
    shutdown: bool,
}

/// Why a running group is being stopped.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Stop {
    Timeout,
    Interrupted,
}

struct Group {
    deadline: Option<Instant>,
    grace: Duration,
    /// The first reason the group was stopped for; it decides the failure class.
    stop: Option<Stop>,
    /// When SIGKILL follows the SIGTERM already sent.
    kill_at: Option<Instant>,
    killed: bool,
}

impl Group {
    /// SIGTERM now, SIGKILL once the grace has passed.
    fn terminate(&mut self, pgid: i32, why: Stop, now: Instant) {
        self.stop.get_or_insert(why);
        if self.kill_at.is_none() && !self.killed {
            signal_group(pgid, libc::SIGTERM);
            self.kill_at = Some(now + self.grace);
        }
    }

    /// SIGKILL now.
    fn kill(&mut self, pgid: i32, why: Stop) {
        self.stop.get_or_insert(why);
        if !self.killed {
            signal_group(pgid, libc::SIGKILL);
            self.killed = true;
        }
    }

    /// One watchdog look at this group.
    fn tick(&mut self, pgid: i32, now: Instant, cancel: &Cancel) {
        if cancel.is_killed() {
            self.kill(pgid, Stop::Interrupted);
        } else if cancel.is_interrupted() {
            self.terminate(pgid, Stop::Interrupted, now);
        }
        if self.deadline.is_some_and(|d| now >= d) {
            self.terminate(pgid, Stop::Timeout, now);
        }
        if self.kill_at.is_some_and(|k| now >= k) {
            self.kill(pgid, Stop::Timeout);
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn stop_all(&self, hard: bool) {
        let now = Instant::now();
        let mut state = self.lock();
        for (&pgid, group) in state.groups.iter_mut() {
            if hard {
                group.kill(pgid, Stop::Interrupted);
            } else {
                group.terminate(pgid, Stop::Interrupted, now);
            }
        }
    }

    /// The watchdog: sleeps while nothing runs, otherwise looks at every group each tick.
    fn watch(&self) {
        let mut state = self.lock();
        loop {
            if state.shutdown {
                return;
            }
            if state.groups.is_empty() {
                state = self.wake.wait(state).unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            state = self.wake.wait_timeout(state, TICK).unwrap_or_else(PoisonError::into_inner).0;
            let now = Instant::now();
            for (&pgid, group) in state.groups.iter_mut() {
                group.tick(pgid, now, &self.cancel);
            }
        }
    }
}

impl Supervisor {
    /// A supervisor for one run; its watchdog thread stops when it is dropped.
    pub fn new(cancel: Arc<Cancel>) -> Arc<Self> {
        let shared = Arc::new(Shared { cancel, state: Mutex::default(), wake: Condvar::new() });
        let watched = Arc::clone(&shared);
        let watchdog = std::thread::Builder::new()
            .name("sweep-watchdog".into())
            .spawn(move || watched.watch())
            .expect("cannot start the command watchdog thread");
        let weak = Arc::downgrade(&shared);
        let hook = shared.cancel.on_kill(move || {
            if let Some(shared) = weak.upgrade() {
                shared.stop_all(true);
            }
        });
        Arc::new(Supervisor { shared, watchdog: Some(watchdog), hook })
    }

    /// Runs one task's command to the end and returns its metrics from `metrics.json`
    /// (none when the file is absent), sorted by name.
    ///
    /// Blocks the calling thread until the command's leader exits; then kills whatever
    /// is left of its process group, so background children never outlive the task.
    pub fn run(&self, inv: &Invocation) -> Result<Vec<(String, Metric)>, TaskFailure> {
        let mut child = spawn(inv)?;
        let started = Instant::now();
        let pgid = child.id() as i32;
        self.register(pgid, inv.spec, started);
        let (status, stop) = match wait_exited(pgid) {
            // The leader is a zombie until reaped, so its pid, which is the group id,
            // cannot be reused yet: signalling the group here cannot hit a stranger.
            Ok(()) => {
                let stop = self.unregister(pgid);
                signal_group(pgid, libc::SIGKILL);
                (child.wait(), stop)
            }
            // Cannot happen for our own child; reap it anyway and leave the group alone.
            Err(_) => {
                let status = child.wait();
                (status, self.unregister(pgid))
            }
        };
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
            None if status.success() => read_metrics(&inv.out_dir.join("metrics.json")),
            None => Err(exit_failure(status, &inv.out_dir.join("stderr.txt"))),
        }
    }

    /// Stops every running command now: SIGTERM to each group and SIGKILL after its
    /// grace, or SIGKILL at once when `hard`. Their tasks fail as interrupted.
    ///
    /// Takes a lock: call it from a signal-handling thread (e.g. `signal_hook`'s
    /// iterator), never from inside an async signal handler.
    pub fn stop_all(&self, hard: bool) {
        self.shared.stop_all(hard);
    }

    fn register(&self, pgid: i32, spec: &CommandSpec, started: Instant) {
        let group = Group {
            deadline: spec.timeout.map(|t| started + t),
            grace: spec.grace,
            stop: None,
            kill_at: None,
            killed: false,
        };
        let mut state = self.shared.lock();
        let was_idle = state.groups.is_empty();
        state.groups.insert(pgid, group);
        if was_idle {
            self.shared.wake.notify_all();
        }
    }

    /// Forgets a group (the watchdog no longer signals it) and says why it was stopped.
    fn unregister(&self, pgid: i32) -> Option<Stop> {
        self.shared.lock().groups.remove(&pgid).and_then(|g| g.stop)
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        self.shared.cancel.remove_hook(self.hook);
        self.shared.lock().shutdown = true;
        self.shared.wake.notify_all();
        if let Some(watchdog) = self.watchdog.take() {
            let _ = watchdog.join();
        }
    }
}

/// Creates the output directory and starts the command in a new process group.
fn spawn(inv: &Invocation) -> Result<Child, TaskFailure> {
    let spec = inv.spec;
    let io_failure = |what: &Path, e: io::Error| {
        TaskFailure::new(FailureClass::Io, format!("cannot create {}: {e}", what.display()))
    };
    fs::create_dir_all(inv.out_dir).map_err(|e| io_failure(inv.out_dir, e))?;
    let create = |name: &str| {
        let path = inv.out_dir.join(name);
        File::create(&path).map_err(|e| io_failure(&path, e))
    };
    let (stdout, stderr) = (create("stdout.txt")?, create("stderr.txt")?);

    let out = inv.out_dir.to_string_lossy();
    let values = Values { params: inv.values, seed: inv.seed, replicate: inv.replicate, task: inv.task, out: &out };
    let (mut cmd, program) = match (&spec.argv, &spec.shell) {
        (Some(argv), _) => {
            let mut words = argv.iter().map(|t| t.render(&values, false));
            let program = words.next().unwrap_or_default();
            let mut cmd = Command::new(resolve(&program, spec));
            cmd.args(words);
            (cmd, program)
        }
        (None, Some(line)) => {
            let mut cmd = Command::new(resolve("sh", spec));
            cmd.arg("-c").arg(line.render(&values, true));
            (cmd, "sh".to_string())
        }
        (None, None) => return Err(TaskFailure::new(FailureClass::Spawn, "[command] has neither argv nor shell")),
    };

    cmd.env("SWEEP_SEED", inv.seed.to_string())
        .env("SWEEP_TASK", inv.task)
        .env("SWEEP_REPLICATE", inv.replicate.to_string())
        .env("SWEEP_OUT", inv.out_dir);
    for (name, value) in inv.columns.iter().zip(inv.values) {
        cmd.env(param_var(name), value);
    }
    for var in THREAD_VARS {
        cmd.env(var, "1");
    }
    cmd.envs(spec.env.iter().map(|(k, v)| (k, v)))
        .current_dir(&spec.cwd)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .process_group(0);

    cmd.spawn().map_err(|e| {
        // A missing working directory also reads as ENOENT: say which one is missing.
        let place = if spec.cwd.is_dir() { String::new() } else { format!(" in {}", spec.cwd.display()) };
        TaskFailure::new(FailureClass::Spawn, format!("cannot run `{program}`{place}: {e}"))
    })
}

/// The program's path: a bare name is looked up in `PATH` (the spec's, else ours) once per
/// run and remembered, instead of the kernel trying every `PATH` entry for every task (a
/// measurable part of the cost of tiny tasks). Names with a `/`, and names not found, are
/// passed on unchanged, so spawning reports the error as before.
fn resolve(program: &str, spec: &CommandSpec) -> std::path::PathBuf {
    use std::collections::HashMap;
    use std::os::unix::fs::PermissionsExt;
    use std::sync::OnceLock;
    if program.contains('/') || program.is_empty() {
        return program.into();
    }
    let path_var = spec
        .env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| std::ffi::OsString::from(v))
        .or_else(|| std::env::var_os("PATH"))
        .unwrap_or_default();
    /// (program, PATH, cwd) → resolved path.
    type Cache = std::sync::Mutex<HashMap<(String, std::ffi::OsString, std::path::PathBuf), std::path::PathBuf>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let key = (program.to_string(), path_var.clone(), spec.cwd.clone());
    let cache = CACHE.get_or_init(Default::default);
    if let Some(p) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return p.clone();
    }
    let found = std::env::split_paths(&path_var)
        .map(|dir| spec.cwd.join(dir).join(program))
        .find(|p| p.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0));
    let resolved = found.unwrap_or_else(|| program.into());
    cache.lock().unwrap_or_else(|e| e.into_inner()).insert(key, resolved.clone());
    resolved
}

/// `SWEEP_PARAM_<NAME>`: upper-cased, anything but ASCII letters and digits as `_`.
fn param_var(name: &str) -> String {
    let name: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
    format!("SWEEP_PARAM_{name}")
}

/// Blocks until child `pid` has exited, without reaping it.
fn wait_exited(pid: i32) -> io::Result<()> {
    loop {
        // SAFETY: siginfo_t is plain data, and waitid only writes into it.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: as above; WNOWAIT leaves the child for `Child::wait` to reap.
        let r = unsafe { libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, libc::WEXITED | libc::WNOWAIT) };
        if r == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Sends `sig` to process group `pgid`; a group that is already gone (ESRCH) is fine.
fn signal_group(pgid: i32, sig: libc::c_int) {
    // SAFETY: kill has no memory-safety preconditions.
    unsafe {
        libc::kill(-pgid, sig);
    }
}

/// The failure for a command that exited non-zero or was killed by a signal.
fn exit_failure(status: ExitStatus, stderr: &Path) -> TaskFailure {
    let (class, head) = match (status.code(), status.signal()) {
        (Some(code), _) => (FailureClass::Exit, format!("exit status {code}")),
        (None, Some(sig)) => {
            let name = signal_name(sig).map(|n| format!(" ({n})")).unwrap_or_default();
            let core = if status.core_dumped() { " (core dumped)" } else { "" };
            (FailureClass::Signal, format!("killed by signal {sig}{name}{core}"))
        }
        (None, None) => (FailureClass::Exit, format!("{status}")),
    };
    match stderr_tail(stderr) {
        tail if tail.is_empty() => TaskFailure::new(class, head),
        tail => TaskFailure::new(class, format!("{head}: {tail}")),
    }
}

fn signal_name(sig: libc::c_int) -> Option<&'static str> {
    Some(match sig {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGUSR2 => "SIGUSR2",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGXCPU => "SIGXCPU",
        libc::SIGXFSZ => "SIGXFSZ",
        libc::SIGSYS => "SIGSYS",
        _ => return None,
    })
}

/// The last few non-empty lines of `path`, read from at most its last [`TAIL_BYTES`],
/// joined by newlines; empty when there are none or the file cannot be read.
fn stderr_tail(path: &Path) -> String {
    let read = || -> io::Result<Vec<u8>> {
        let mut file = File::open(path)?;
        let start = file.metadata()?.len().saturating_sub(TAIL_BYTES);
        file.seek(SeekFrom::Start(start))?;
        let mut buf = Vec::new();
        file.take(TAIL_BYTES).read_to_end(&mut buf)?;
        // Starting mid-file, the first line is probably cut: drop it if another follows.
        if start > 0 {
            if let Some(nl) = buf.iter().position(|&b| b == b'\n') {
                buf.drain(..=nl);
            }
        }
        Ok(buf)
    };
    let Ok(buf) = read() else {
        return String::new();
    };
    let text = String::from_utf8_lossy(&buf);
    let lines: Vec<&str> = text.lines().map(str::trim_end).filter(|l| !l.is_empty()).collect();
    lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n")
}

/// Reads a task's `metrics.json`, if it wrote one.
fn read_metrics(path: &Path) -> Result<Vec<(String, Metric)>, TaskFailure> {
    let failure = |msg: String| TaskFailure::new(FailureClass::Error, format!("{}: {msg}", path.display()));
    match fs::read(path) {
        Ok(bytes) => parse_metrics(&bytes).map_err(failure),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(failure(format!("cannot read: {e}"))),
    }
}

/// A flat JSON object of numbers and strings, sorted by key.
fn parse_metrics(bytes: &[u8]) -> Result<Vec<(String, Metric)>, String> {
    use serde_json::Value as Json;
    let object: serde_json::Map<String, Json> = serde_json::from_slice(bytes)
        .map_err(|e| format!("expected a flat JSON object of numbers and strings: {e}"))?;
    let mut metrics = object
        .into_iter()
        .map(|(key, value)| {
            let metric = match value {
                Json::Number(n) => match n.as_i64() {
                    Some(i) => Metric::Int(i),
                    None => Metric::Float(n.as_f64().unwrap_or(f64::NAN)),
                },
                Json::String(s) => Metric::Str(s.into()),
                other => {
                    let kind = match other {
                        Json::Null => "null",
                        Json::Bool(_) => "a boolean",
                        Json::Array(_) => "an array",
                        _ => "an object",
                    };
                    return Err(format!("`{key}` is {kind}; metrics must be numbers or strings"));
                }
            };
            Ok((key, metric))
        })
        .collect::<Result<Vec<_>, String>>()?;
    metrics.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(metrics)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::Template;
    use crate::task::StopReason;
    use std::path::PathBuf;

    const TASK: &str = "0123456789abcdef";

    /// A temporary directory to run tasks in, with its supervisor and cancel token.
    struct Env {
        tmp: tempfile::TempDir,
        cancel: Arc<Cancel>,
        sup: Arc<Supervisor>,
        columns: Vec<String>,
    }

    impl Env {
        fn new() -> Self {
            let cancel = Arc::new(Cancel::new());
            let sup = Supervisor::new(Arc::clone(&cancel));
            let tmp = tempfile::tempdir().unwrap();
            Env { tmp, cancel, sup, columns: vec!["k".into(), "step-size".into()] }
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

        fn out(&self) -> PathBuf {
            self.tmp.path().join("tasks").join(TASK)
        }

        fn run_with(&self, spec: &CommandSpec, k: &str) -> Result<Vec<(String, Metric)>, TaskFailure> {
            let values = [k.to_string(), "0.1".to_string()];
            let out = self.out();
            let inv = Invocation {
                spec,
                columns: &self.columns,
                values: &values,
                seed: 42,
                replicate: 3,
                task: TASK,
                out_dir: &out,
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
    fn nonzero_exit_reports_status_and_stderr_tail() {
        let env = Env::new();
        let spec = env.shell("for i in 1 2 3 4 5 6 7; do echo line$i >&2; done; echo >&2; exit 3");
        let (class, msg) = class(env.run(&spec));
        assert_eq!(class, FailureClass::Exit);
        assert_eq!(msg, "exit status 3: line3\nline4\nline5\nline6\nline7");
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
    fn first_interrupt_terminates_running_commands() {
        let env = Env::new();
        let spec = env.shell("echo $$ > pgid; sleep 30");
        std::thread::scope(|s| {
            let task = s.spawn(|| env.run(&spec));
            env.wait_for("pgid");
            env.cancel.drain(StopReason::Interrupted);
            assert_eq!(class(task.join().unwrap()).0, FailureClass::Interrupted);
        });
        assert!(group_gone(env.pid("pgid")));
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
    fn metrics_json_becomes_sorted_metrics() {
        let env = Env::new();
        let json = r#"{"b": 2, "a": 0.5, "c": "x", "d": 1e3, "e": -4}"#;
        let json = json.replace('{', "{{").replace('}', "}}");
        let spec = env.shell(&format!("echo '{json}' > \"$SWEEP_OUT/metrics.json\""));
        let metrics = env.run(&spec).unwrap();
        let expected = [
            ("a", Metric::Float(0.5)),
            ("b", Metric::Int(2)),
            ("c", Metric::Str("x".into())),
            ("d", Metric::Float(1000.0)),
            ("e", Metric::Int(-4)),
        ];
        assert_eq!(metrics, expected.map(|(k, m)| (k.to_string(), m)));
    }

    #[test]
    fn malformed_metrics_json_is_an_error_naming_the_file() {
        let env = Env::new();
        for bad in ["[1, 2]", r#"{"a": {"b": 1}}"#, r#"{"a": [1]}"#, r#"{"a": null}"#, "{\"a\": 1", "not json", ""] {
            fs::create_dir_all(env.out()).unwrap();
            fs::write(env.tmp.path().join("m.json"), bad).unwrap();
            let spec = env.shell("cp m.json \"$SWEEP_OUT/metrics.json\"");
            let (class, msg) = class(env.run(&spec));
            assert_eq!(class, FailureClass::Error, "{bad}");
            assert!(msg.contains("metrics.json"), "{bad}: {msg}");
        }
    }

    #[test]
    fn thread_vars_default_to_one_and_spec_env_wins() {
        let env = Env::new();
        let line = "echo $OMP_NUM_THREADS $OPENBLAS_NUM_THREADS $MKL_NUM_THREADS $EXTRA > got.txt";
        assert_eq!(env.run(&env.shell(line)), Ok(vec![]));
        assert_eq!(env.read("got.txt"), "1 1 1\n");
        let mut spec = env.shell(line);
        spec.env = vec![("OMP_NUM_THREADS".into(), "4".into()), ("EXTRA".into(), "x".into())];
        assert_eq!(env.run(&spec), Ok(vec![]));
        assert_eq!(env.read("got.txt"), "4 1 1 x\n");
    }

    #[test]
    fn param_var_names_are_upper_snake() {
        assert_eq!(param_var("step-size"), "SWEEP_PARAM_STEP_SIZE");
        assert_eq!(param_var("k2.b"), "SWEEP_PARAM_K2_B");
    }
}
