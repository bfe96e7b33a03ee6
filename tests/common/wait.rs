//! Waiting for something observable (a file, a journal record, a process state) instead
//! of sleeping for a time that a busy machine may overrun.

use std::time::{Duration, Instant};

/// Polls `cond` until it holds or `timeout` has passed; returns whether it held. Polls
/// every millisecond at first, backing off to every 50 ms, so a condition that comes true
/// soon is seen soon and a long wait (a SLURM queue) does not spin.
pub fn poll_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    loop {
        if cond() {
            return true;
        }
        let now = Instant::now();
        if now >= deadline {
            return false;
        }
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// [`poll_until`], failing the test with "timed out after `timeout` waiting for `what`".
#[track_caller]
pub fn wait_until(what: &str, timeout: Duration, cond: impl FnMut() -> bool) {
    assert!(poll_until(timeout, cond), "timed out after {timeout:?} waiting for {what}");
}
