//! One worker process: started in its own process group, its handshake read, requests
//! written and replies read, and its end told (a crash, a timeout, a clean exit).

use super::protocol::{parse_handshake, parse_line, Handshake, Line, Reply};
use super::WorkerSpec;
use crate::proc::{describe_exit, signal_group, wait_exited, Stop, Watchdog};
use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// Bytes of a worker's stderr kept for messages.
const STDERR_TAIL: usize = 16 * 1024;

/// Why a worker did not start.
#[derive(Debug, Clone, PartialEq)]
pub enum StartError {
    /// It said why (an ImportError, a bad signature): one line, and more.
    Refused {
        /// One line.
        error: String,
        /// A traceback or other detail.
        detail: String,
    },
    /// It ended before its handshake.
    Exited {
        /// How it ended: `exit status 1`, `killed by signal 9 (SIGKILL)`.
        status: String,
        /// The end of what it wrote on stderr.
        stderr: String,
    },
    /// It could not be started at all.
    Spawn(String),
    /// Its handshake was not the protocol's.
    Protocol(String),
    /// The run was stopped while it started.
    Interrupted,
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Refused { error, .. } => f.write_str(error),
            StartError::Exited { status, stderr } => match stderr.lines().rev().find(|l| !l.trim().is_empty()) {
                Some(last) => write!(f, "the worker ended before it was ready ({status}): {}", last.trim()),
                None => write!(f, "the worker ended before it was ready ({status})"),
            },
            StartError::Spawn(e) | StartError::Protocol(e) => f.write_str(e),
            StartError::Interrupted => f.write_str("interrupted while the worker started"),
        }
    }
}

impl StartError {
    /// The detail shown under the message: a traceback, or the worker's stderr.
    pub fn detail(&self) -> &str {
        match self {
            StartError::Refused { detail, .. } => detail,
            StartError::Exited { stderr, .. } => stderr,
            _ => "",
        }
    }
}

/// How a worker's process ended while tasks were in flight.
#[derive(Debug, Clone)]
pub struct Ended {
    /// Why the watchdog stopped it, if it did (timeout, interrupt).
    pub stop: Option<Stop>,
    /// How it ended, for people: `exit status 3`, `killed by signal 11 (SIGSEGV)`.
    pub status: String,
    /// A protocol error that made sweep stop it, if that is why.
    pub protocol: Option<String>,
}

/// A worker's stderr: a thread copies it to the worker's log file and keeps its end.
struct Tap {
    tail: Mutex<VecDeque<u8>>,
    log: Mutex<Option<File>>,
}

impl Tap {
    fn take_tail(&self) -> String {
        let tail = self.tail.lock().unwrap_or_else(|e| e.into_inner());
        String::from_utf8_lossy(&tail.iter().copied().collect::<Vec<u8>>()).into_owned()
    }

    fn copy(&self, mut from: impl Read) {
        let mut buf = [0u8; 8192];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 {
                return;
            }
            if let Some(log) = self.log.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
                let _ = log.write_all(&buf[..n]);
            }
            let mut tail = self.tail.lock().unwrap_or_else(|e| e.into_inner());
            tail.extend(&buf[..n]);
            let over = tail.len().saturating_sub(STDERR_TAIL);
            tail.drain(..over);
        }
    }
}

/// A running worker.
pub struct Worker {
    child: crate::proc::Own,
    pgid: i32,
    /// Forgets the worker's group in the watchdog when it is dropped without its end told.
    watch: crate::proc::WatchHandle,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    line: Vec<u8>,
    tap: Arc<Tap>,
    tap_thread: Option<JoinHandle<()>>,
    /// What the worker printed on stdout since the last reply (not protocol).
    pub output: Vec<u8>,
    /// Its handshake line.
    pub handshake: serde_json::Value,
    /// Tasks it has answered.
    pub answered: u64,
    /// The slot it was started for (its `SWEEP_WORKER`), which it keeps for life.
    pub slot: Option<usize>,
}

impl Worker {
    /// Starts a worker of `spec` with `env` added, watched by `watchdog` (without a
    /// deadline until a task is sent), and waits for its handshake. Its stderr goes to `log`
    /// when given (and is kept in memory until then).
    ///
    /// The worker dies with the thread that starts it (`PR_SET_PDEATHSIG`), so start it on
    /// a thread that outlives it: to start several at once, [`spawn`](Self::spawn) them
    /// on one thread and wait for each with [`ready`](Self::ready) on others.
    pub fn start(
        spec: &WorkerSpec,
        env: &[(String, String)],
        log: Option<&Path>,
        watchdog: &Watchdog,
    ) -> Result<Worker, StartError> {
        Self::spawn(spec, env, log, watchdog)?.ready(watchdog)
    }

    /// Starts a worker without waiting for its handshake (see [`start`](Self::start)).
    pub fn spawn(
        spec: &WorkerSpec,
        env: &[(String, String)],
        log: Option<&Path>,
        watchdog: &Watchdog,
    ) -> Result<Worker, StartError> {
        let program = spec.argv.first().ok_or_else(|| StartError::Spawn("the worker has no program".into()))?;
        let mut cmd = Command::new(program);
        cmd.args(&spec.argv[1..]);
        cmd.envs(spec.env.iter().map(|(k, v)| (k, v)))
            .envs(env.iter().map(|(k, v)| (k, v)))
            .current_dir(&spec.cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        crate::proc::die_with_parent(&mut cmd);
        crate::proc::prefer_for_oom(&mut cmd);
        // Registered: no clean-up path but this worker's own may wait for it or signal it.
        let mut child = crate::proc::spawn(&mut cmd, None).map_err(|e| {
            let place = if spec.cwd.is_dir() { String::new() } else { format!(" in {}", spec.cwd.display()) };
            StartError::Spawn(format!("cannot run `{program}`{place}: {e}"))
        })?;
        let pgid = child.pid();
        watchdog.watch(pgid, None, spec.grace);
        let tap = Arc::new(Tap { tail: Mutex::default(), log: Mutex::new(None) });
        if let Some(log) = log {
            tap.set_log(log);
        }
        let stderr = child.child.as_mut().and_then(|c| c.stderr.take()).expect("piped");
        let copier = Arc::clone(&tap);
        let tap_thread = std::thread::Builder::new()
            .name("sweep-worker-stderr".into())
            .spawn(move || copier.copy(stderr))
            .map_err(|e| StartError::Spawn(format!("cannot start a thread: {e}")))?;
        let stdout =
            BufReader::with_capacity(1 << 16, child.child.as_mut().and_then(|c| c.stdout.take()).expect("piped"));
        let stdin = child.child.as_mut().and_then(|c| c.stdin.take());
        let w = Worker {
            child,
            pgid,
            watch: watchdog.handle(),
            stdin,
            stdout,
            line: Vec::new(),
            tap,
            tap_thread: Some(tap_thread),
            output: Vec::new(),
            handshake: serde_json::Value::Null,
            answered: 0,
            slot: env.iter().find(|(k, _)| k == "SWEEP_WORKER").and_then(|(_, v)| v.parse().ok()),
        };
        Ok(w)
    }

    /// Waits for a spawned worker's handshake.
    pub fn ready(mut self, watchdog: &Watchdog) -> Result<Worker, StartError> {
        let w = &mut self;
        match w.read_handshake() {
            Ok(v) => {
                w.handshake = v;
                Ok(self)
            }
            Err(e) => {
                let ended = w.end(watchdog);
                Err(match (e, ended.stop) {
                    (_, Some(Stop::Interrupted)) => StartError::Interrupted,
                    (StartError::Exited { .. }, _) => {
                        StartError::Exited { status: ended.status, stderr: w.stderr_tail() }
                    }
                    (e, _) => e,
                })
            }
        }
    }

    fn read_handshake(&mut self) -> Result<serde_json::Value, StartError> {
        loop {
            self.line.clear();
            let n = self.stdout.read_until(b'\n', &mut self.line).unwrap_or(0);
            if n == 0 {
                // Closed stdout: `start` waits for its end to say how.
                return Err(StartError::Exited { status: String::new(), stderr: String::new() });
            }
            match parse_handshake(&self.line).map_err(StartError::Protocol)? {
                Some(Handshake::Ready(v)) => return Ok(v),
                Some(Handshake::Failed { error, detail }) => return Err(StartError::Refused { error, detail }),
                None => self.output.extend_from_slice(&self.line),
            }
        }
    }

    /// The worker's process group id.
    pub fn pgid(&self) -> i32 {
        self.pgid
    }

    /// From now on, copy the worker's stderr to `path` (appending).
    pub fn set_log(&self, path: &Path) {
        self.tap.set_log(path);
    }

    /// Writes request lines (a broken pipe shows up as the worker's end on the next read).
    pub fn send(&mut self, lines: &[u8]) {
        if let Some(stdin) = &mut self.stdin {
            if stdin.write_all(lines).is_err() {
                self.stdin = None;
            }
        }
    }

    /// The next reply; `Err` when the worker ended first (or spoke something else, after
    /// which it is stopped). What it printed on stdout before the reply is in `output`.
    pub fn recv(&mut self, watchdog: &Watchdog) -> Result<Reply, Ended> {
        loop {
            self.line.clear();
            let n = self.stdout.read_until(b'\n', &mut self.line).unwrap_or(0);
            if n == 0 {
                return Err(self.end(watchdog));
            }
            match parse_line(&self.line) {
                Ok(Line::Reply(r)) => {
                    self.answered += 1;
                    return Ok(r);
                }
                Ok(Line::Unreadable { id, error }) => {
                    self.answered += 1;
                    return Ok(Reply { id: Some(id), error: Some(error), ..Reply::default() });
                }
                Ok(Line::Output) => self.output.extend_from_slice(&self.line),
                Err(e) => {
                    signal_group(self.pgid, libc::SIGKILL);
                    let mut ended = self.end(watchdog);
                    ended.protocol = Some(e);
                    return Err(ended);
                }
            }
        }
    }

    /// Ends a worker that broke the protocol (`why`), as if it had died: its group is
    /// killed, and what was in flight is the caller's to send again.
    pub fn abandon(mut self, watchdog: &Watchdog, why: String) -> Ended {
        signal_group(self.pgid, libc::SIGKILL);
        let mut ended = self.end(watchdog);
        ended.protocol = Some(why);
        ended
    }

    /// Closes the worker's stdin (it exits at the end of its input) and waits for its end,
    /// at most `grace` before the watchdog stops it; then nothing of its group is left.
    pub fn finish(mut self, grace: std::time::Duration, watchdog: &Watchdog) -> Ended {
        self.stdin = None;
        watchdog.set_timeout(self.pgid, Some(grace));
        self.end(watchdog)
    }

    /// Waits for the worker's end, kills what is left of its process group, and says how it
    /// ended.
    fn end(&mut self, watchdog: &Watchdog) -> Ended {
        self.stdin = None;
        // The leader stays a zombie until reaped, so its group id cannot be reused yet. The
        // watchdog forgets the group before it is reaped: after, its id may be a stranger's.
        let _ = wait_exited(self.pgid);
        let stop = watchdog.forget(self.pgid);
        signal_group(self.pgid, libc::SIGKILL);
        let status = self.child.reap();
        if let Some(t) = self.tap_thread.take() {
            let _ = t.join();
        }
        let status = match status {
            Ok(s) => describe(s),
            Err(e) => format!("cannot wait for the worker: {e}"),
        };
        Ended { stop, status, protocol: None }
    }

    /// The end of the worker's stderr.
    pub fn stderr_tail(&self) -> String {
        self.tap.take_tail()
    }
}

impl Tap {
    fn set_log(&self, path: &Path) {
        let opened = std::fs::OpenOptions::new().create(true).append(true).open(path);
        if let Ok(mut f) = opened {
            let tail = self.tail.lock().unwrap_or_else(|e| e.into_inner());
            let (a, b) = tail.as_slices();
            let _ = f.write_all(a).and_then(|()| f.write_all(b));
            *self.log.lock().unwrap_or_else(|e| e.into_inner()) = Some(f);
        }
    }
}

fn describe(s: ExitStatus) -> String {
    describe_exit(s).0
}

impl Drop for Worker {
    fn drop(&mut self) {
        // A worker dropped without `finish` (a panic, an early return): leave nothing behind.
        if self.tap_thread.is_some() {
            self.watch.forget(self.pgid);
            signal_group(self.pgid, libc::SIGKILL);
            let _ = self.child.reap();
            if let Some(t) = self.tap_thread.take() {
                let _ = t.join();
            }
        }
    }
}
