//! Progress display: a bar on a terminal, periodic lines otherwise, nothing when quiet.
//! It only reads the engine's [`Stats`]; the engine never prints.

use crate::exec::Stats;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// No task finished for this long: name the slowest running one.
const STUCK_AFTER: Duration = Duration::from_secs(30);
/// Interval of plain progress lines when stderr is not a terminal.
const LINE_EVERY: Duration = Duration::from_secs(10);

/// How progress is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// An indicatif bar.
    Bar,
    /// A line every few seconds.
    Lines,
    /// Nothing.
    Quiet,
}

impl Mode {
    /// Bar when stderr is a terminal, lines otherwise, nothing when `quiet`.
    pub fn detect(quiet: bool) -> Mode {
        if quiet {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            Mode::Bar
        } else {
            Mode::Lines
        }
    }
}

/// A running progress display; [`Progress::finish`] stops it.
pub struct Progress {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts showing `stats` in `mode`.
    pub fn start(stats: Arc<Stats>, mode: Mode) -> Progress {
        let stop = Arc::new(AtomicBool::new(false));
        let handle = (mode != Mode::Quiet).then(|| {
            let stop = stop.clone();
            std::thread::spawn(move || match mode {
                Mode::Bar => bar(&stats, &stop),
                _ => lines(&stats, &stop),
            })
        });
        Progress { stop, handle }
    }

    /// Stops the display (the bar is cleared; the summary follows).
    pub fn finish(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// " | slowest running: task ID for 1m 5s" when no task has finished for `threshold` (or
/// since the start) and some task is running; else empty.
fn stuck_note(stats: &Stats, threshold: Duration) -> String {
    if stats.since_last_finish() < threshold {
        return String::new();
    }
    match stats.slowest_running() {
        Some((task, d)) => format!(
            " | slowest running: task {task} for {}",
            humantime::format_duration(Duration::from_secs(d.as_secs()))
        ),
        None => String::new(),
    }
}

fn bar(stats: &Stats, stop: &AtomicBool) {
    let total = stats.to_run.load(Ordering::Relaxed);
    let pb = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr_with_hz(8));
    pb.set_style(
        ProgressStyle::with_template(
            "{bar:30.cyan/blue} {pos}/{len} {msg} [{elapsed_precise} < {eta_precise}, {per_sec}]",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    while !stop.load(Ordering::Relaxed) {
        pb.set_position(stats.finished());
        let failed = stats.failed.load(Ordering::Relaxed);
        pb.set_message(format!("({failed} failed){}", stuck_note(stats, STUCK_AFTER)));
        std::thread::sleep(Duration::from_millis(100));
    }
    pb.finish_and_clear();
}

fn lines(stats: &Stats, stop: &AtomicBool) {
    let mut last = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(100));
        if last.elapsed() < LINE_EVERY {
            continue;
        }
        last = Instant::now();
        let total = stats.to_run.load(Ordering::Relaxed);
        let done = stats.done.load(Ordering::Relaxed);
        let failed = stats.failed.load(Ordering::Relaxed);
        let secs = stats.elapsed().as_secs_f64();
        let rate = (done + failed) as f64 / secs.max(1e-9);
        let left = total.saturating_sub(done + failed);
        let eta = if rate > 0.0 { format!("{:.0}s", left as f64 / rate) } else { "?".into() };
        eprintln!(
            "sweep: {}/{total} finished ({done} done, {failed} failed), {rate:.1} tasks/s, eta {eta}{}",
            done + failed,
            stuck_note(stats, STUCK_AFTER)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::TaskId;

    #[test]
    fn the_stuck_note_names_the_slowest_running_task_after_the_threshold() {
        let stats = Stats::new(2);
        // Nothing running: no note, however long it has been.
        assert_eq!(stuck_note(&stats, Duration::ZERO), "");
        stats.set_running(Some((TaskId(0xabc), Instant::now())));
        // Running, but the threshold has not passed.
        assert_eq!(stuck_note(&stats, STUCK_AFTER), "");
        // Past the threshold: the running task is named.
        assert_eq!(stuck_note(&stats, Duration::ZERO), " | slowest running: task 0000000000000abc for 0s");
        // A task finishing restarts the clock.
        stats.mark_finished(1, 0, Instant::now());
        assert_eq!(stuck_note(&stats, Duration::from_secs(3600)), "");
        stats.set_running(None);
        assert_eq!(stuck_note(&stats, Duration::ZERO), "");
    }
}
