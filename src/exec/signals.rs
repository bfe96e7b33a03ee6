//! Ctrl-C, SIGTERM and SIGUSR1: the first drains (no new tasks; running ones finish and
//! are recorded), the second stops at once.

use super::Cancel;
use signal_hook::consts::{SIGINT, SIGTERM, SIGUSR1};
use signal_hook::iterator::Signals;
use std::sync::Arc;

/// Watches for the stop signals on a background thread. `on_kill` runs on the second
/// signal, just before the process exits with code 130 (it stops child processes and
/// flushes what it can).
pub fn install(cancel: Arc<Cancel>, on_kill: impl Fn() + Send + 'static) -> std::io::Result<()> {
    let mut signals = Signals::new([SIGINT, SIGTERM, SIGUSR1])?;
    std::thread::Builder::new().name("sweep-signals".into()).spawn(move || {
        let mut count = 0;
        for sig in signals.forever() {
            count += 1;
            if count == 1 {
                let name = match sig {
                    SIGINT => "interrupt",
                    SIGTERM => "SIGTERM",
                    _ => "SIGUSR1",
                };
                eprintln!(
                    "\nsweep: {name}: starting no new tasks; waiting for the running ones (again to stop at once)"
                );
                cancel.drain(super::StopReason::Interrupted);
            } else {
                eprintln!("\nsweep: stopping now");
                cancel.kill();
                on_kill();
                std::process::exit(crate::exit::INTERRUPTED);
            }
        }
    })?;
    Ok(())
}
