//! The sentinel: a small process, started with a run, that outlives it. Every process the
//! run starts carries `SWEEP_RUN_ID=<tag>` in its environment, and so does everything those
//! start (a shell's background jobs, a `setsid` daemon). When the run ends, or when sweep
//! dies however it dies (`kill -9`, the OOM killer), the sentinel's stdin reaches EOF and it
//! kills every process that still carries the tag.
//!
//! It is a POSIX shell script (`sh`, `grep -z`), so that it needs no binary of ours: the
//! library API runs inside other programs too.

use super::tag::RUN_VAR;
use std::io;
use std::os::unix::process::CommandExt;
use std::process::{ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

/// Waits for EOF on stdin, then kills the tagged processes (in rounds, catching processes
/// forked meanwhile) and exits.
const SCRIPT: &str = r#"read _ignored
for round in 1 2 3 4 5; do
    pids=$(grep -lzx "$RUN_VAR=$1" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3)
    [ -z "$pids" ] && exit 0
    kill -9 $pids 2>/dev/null
    sleep 0.1
done
"#;

/// A running sentinel; [`Sentinel::finish`] (or dropping it) ends the run's processes.
pub struct Sentinel {
    child: super::Own,
    stdin: Option<ChildStdin>,
}

impl Sentinel {
    /// Starts the sentinel of the run tagged `tag`.
    pub fn start(tag: &str) -> io::Result<Sentinel> {
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(SCRIPT.replace("$RUN_VAR", RUN_VAR))
            .arg("sweep-sentinel")
            .arg(tag)
            .env_remove(RUN_VAR)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own group: the terminal's Ctrl-C must not end it before sweep does.
            .process_group(0);
        // Registered, so that the orphan collector never mistakes it for an orphan.
        let mut child = super::spawn(&mut cmd, None)?;
        let stdin = child.child.as_mut().and_then(|c| c.stdin.take());
        Ok(Sentinel { child, stdin })
    }

    /// Ends what is left of the run's processes and waits (at most a few seconds) for the
    /// sentinel to be done.
    pub fn finish(mut self) {
        self.end();
    }

    fn end(&mut self) {
        self.stdin = None;
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline && !self.child.exited() {
            std::thread::sleep(Duration::from_millis(5));
        }
        // Its own group: a kill of it reaches nothing else.
        super::signal_group(self.child.pid(), libc::SIGKILL);
        let _ = self.child.reap();
    }
}

impl Drop for Sentinel {
    fn drop(&mut self) {
        if self.stdin.is_some() {
            self.end();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alive(pid: u32) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|s| s.rsplit_once(')').is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z')))
    }

    #[test]
    fn the_sentinel_kills_tagged_processes_and_spares_others() {
        let tag = format!("test{}", std::process::id());
        let spawn = |tagged: bool| {
            let mut c = Command::new("sh");
            // A setsid daemon: a process that left every group of ours.
            c.args(["-c", "setsid sleep 30 & echo $!; wait"]).stdout(Stdio::piped());
            if tagged {
                c.env(RUN_VAR, &tag);
            } else {
                c.env_remove(RUN_VAR);
            }
            let mut child = c.spawn().unwrap();
            let mut line = String::new();
            std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
            (child, line.trim().parse::<u32>().unwrap())
        };
        let (mut a, a_daemon) = spawn(true);
        let (mut b, b_daemon) = spawn(false);
        let s = Sentinel::start(&tag).unwrap();
        s.finish();
        let _ = a.wait();
        assert!(!alive(a.id()) && !alive(a_daemon), "tagged processes are killed");
        assert!(alive(b.id()) && alive(b_daemon), "others are left alone");
        unsafe {
            libc::kill(b_daemon as i32, libc::SIGKILL);
        }
        let _ = b.kill();
        let _ = b.wait();
    }
}
