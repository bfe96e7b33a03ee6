//! Ctrl-C, SIGTERM, SIGHUP (a closed terminal, a dropped ssh) and SIGUSR1: the first drains (no new tasks; running ones finish and
//! are recorded), the second stops at once. What is printed and when the process exits
//! is decided here; the engine only sees its [`Cancel`] token.

use crate::task::{Cancel, StopReason};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGUSR1};
use signal_hook::iterator::Signals;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// After the second signal, how long the run has to wind down by itself (killed commands
/// are reaped, queued journal lines written) before the process exits regardless: a model
/// task computing in Rust cannot be interrupted.
const WIND_DOWN: Duration = Duration::from_secs(2);

/// Tells the signal thread that the run has returned, so it need not force an exit.
pub struct Watch {
    finished: Arc<(Mutex<bool>, Condvar)>,
}

impl Watch {
    /// The run returned; a second signal from now on is left to the caller's own exit.
    pub fn finished(&self) {
        let (lock, cv) = &*self.finished;
        *lock.lock().unwrap_or_else(|e| e.into_inner()) = true;
        cv.notify_all();
    }
}

/// Watches for the stop signals on a background thread. On the second signal the
/// [`Cancel`] is killed (its hooks kill running commands at once); if the run has not
/// returned within [`WIND_DOWN`], `on_exit` runs and the process exits with code 130.
pub fn install(cancel: Arc<Cancel>, on_exit: impl Fn() + Send + 'static) -> std::io::Result<Watch> {
    let mut signals = Signals::new([SIGINT, SIGTERM, SIGHUP, SIGUSR1])?;
    let finished = Arc::new((Mutex::new(false), Condvar::new()));
    let watched = finished.clone();
    std::thread::Builder::new().name("sweep-signals".into()).spawn(move || {
        let mut count = 0;
        for sig in signals.forever() {
            count += 1;
            if count == 1 {
                let name = match sig {
                    SIGINT => "interrupt",
                    SIGTERM => "SIGTERM",
                    SIGHUP => "SIGHUP (the terminal closed)",
                    _ => "SIGUSR1",
                };
                eprintln!(
                    "\nsweep: {name}: starting no new tasks; waiting for the running ones (again to stop at once)"
                );
                cancel.drain(StopReason::Interrupted);
            } else {
                eprintln!("\nsweep: stopping now");
                cancel.kill();
                let (lock, cv) = &*watched;
                let done = lock.lock().unwrap_or_else(|e| e.into_inner());
                let (done, _) = cv.wait_timeout_while(done, WIND_DOWN, |d| !*d).unwrap_or_else(|e| e.into_inner());
                if !*done {
                    on_exit();
                    std::process::exit(crate::exit::INTERRUPTED);
                }
                return;
            }
        }
    })?;
    Ok(Watch { finished })
}
