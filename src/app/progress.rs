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
    /// `{"progress": {...}}` lines for a program (`--progress json`).
    Json,
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

/// Names a task for people from its grid index: `k=0.5 c0=1 replicate=2`.
pub type Describe = Box<dyn Fn(u64) -> String + Send>;

/// `k=0.5 c0=1 replicate=2`: task `index` of `grid`, by its parameters.
pub fn describe_task(grid: &crate::grid::Grid, index: u64) -> String {
    let (point, replicate) = grid.locate(index);
    let mut parts: Vec<String> =
        grid.columns.iter().enumerate().map(|(c, n)| format!("{n}={}", grid.value(point, c))).collect();
    if grid.replicates > 1 {
        parts.push(format!("replicate={replicate}"));
    }
    parts.join(" ")
}

/// A running progress display; [`Progress::finish`] stops it.
pub struct Progress {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts showing `stats` in `mode`; `describe` names a running task by its parameters.
    pub fn start(stats: Arc<Stats>, mode: Mode, describe: Describe) -> Progress {
        let stop = Arc::new(AtomicBool::new(false));
        let handle = (mode != Mode::Quiet).then(|| {
            let stop = stop.clone();
            std::thread::spawn(move || match mode {
                Mode::Bar => bar(&stats, &stop, &describe),
                Mode::Json => json(&stats, &stop),
                _ => lines(&stats, &stop, &describe),
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

/// " | slowest running: k=0.5 c0=1 (task ID) for 1m 5s" when no task has finished for
/// `threshold` (or since the start) and some task is running; else empty.
fn stuck_note(stats: &Stats, threshold: Duration, describe: &dyn Fn(u64) -> String) -> String {
    if stats.since_last_finish() < threshold {
        return String::new();
    }
    match stats.slowest_running() {
        Some((task, index, d)) => format!(
            " | slowest running: {} (task {task}) for {}",
            describe(index),
            humantime::format_duration(Duration::from_secs(d.as_secs()))
        ),
        None => String::new(),
    }
}

/// The pace so far: tasks per second, or seconds per task when tasks take longer than one.
fn pace(stats: &Stats) -> String {
    let finished = stats.finished();
    let secs = stats.elapsed().as_secs_f64();
    match finished {
        0 => "-".into(),
        n if secs / n as f64 >= 1.0 => format!("{}/task", crate::text::duration_short(secs / n as f64)),
        n => format!("{:.0}/s", n as f64 / secs.max(1e-9)),
    }
}

fn bar(stats: &Stats, stop: &AtomicBool, describe: &dyn Fn(u64) -> String) {
    // The engine sets the total once it has chosen the tasks, which may be after this thread
    // started: drawn before, the bar showed `187/0`. So it waits for it, and reads it every tick.
    while stats.to_run.load(Ordering::Relaxed) == 0 && !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(10));
    }
    let pb = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr_with_hz(8));
    pb.set_style(
        ProgressStyle::with_template("{bar:30.cyan/blue} {pos}/{len} {msg} [{elapsed_precise} < {eta_precise}]")
            .expect("valid template")
            .progress_chars("=> "),
    );
    while !stop.load(Ordering::Relaxed) {
        pb.set_length(stats.to_run.load(Ordering::Relaxed));
        pb.set_position(stats.finished());
        let failed = stats.failed.load(Ordering::Relaxed);
        pb.set_message(format!("({failed} failed, {}){}", pace(stats), stuck_note(stats, STUCK_AFTER, describe)));
        std::thread::sleep(Duration::from_millis(100));
    }
    pb.finish_and_clear();
}

/// `{"progress": {"done": D, "failed": F, "total": T}}` whenever the counts change, and once
/// more at the end, so that a reader always sees the final counts.
fn json(stats: &Stats, stop: &AtomicBool) {
    let mut last = None;
    loop {
        let stopping = stop.load(Ordering::Relaxed);
        let now = (
            stats.done.load(Ordering::Relaxed),
            stats.failed.load(Ordering::Relaxed),
            stats.to_run.load(Ordering::Relaxed),
        );
        if last != Some(now) && now.2 > 0 {
            eprintln!("{}", serde_json::json!({"progress": {"done": now.0, "failed": now.1, "total": now.2}}));
            last = Some(now);
        }
        if stopping {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn lines(stats: &Stats, stop: &AtomicBool, describe: &dyn Fn(u64) -> String) {
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
        let eta = if rate > 0.0 { crate::text::duration_rough(left as f64 / rate) } else { "?".into() };
        eprintln!(
            "sweep: {}/{total} finished ({done} done, {failed} failed), {}, eta {eta}{}",
            done + failed,
            pace(stats),
            stuck_note(stats, STUCK_AFTER, describe)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::TaskId;

    #[test]
    fn the_stuck_note_names_the_slowest_running_task_by_its_parameters_after_the_threshold() {
        let stats = Stats::new(2);
        let describe = |i: u64| format!("k={i}");
        // Nothing running: no note, however long it has been.
        assert_eq!(stuck_note(&stats, Duration::ZERO, &describe), "");
        stats.set_running(Some((TaskId(0xabc), 7, Instant::now())));
        // Running, but the threshold has not passed.
        assert_eq!(stuck_note(&stats, STUCK_AFTER, &describe), "");
        // Past the threshold: the running task is named.
        assert_eq!(
            stuck_note(&stats, Duration::ZERO, &describe),
            " | slowest running: k=7 (task 0000000000000abc) for 0s"
        );
        // A task finishing restarts the clock.
        stats.mark_finished(1, 0, Instant::now());
        assert_eq!(stuck_note(&stats, Duration::from_secs(3600), &describe), "");
        stats.set_running(None);
        assert_eq!(stuck_note(&stats, Duration::ZERO, &describe), "");
    }

    #[test]
    fn tasks_are_described_by_their_parameters() {
        use crate::grid::{Axis, Grid};
        use crate::value::Value;
        let axis = |n: &str, v: Vec<Value>| Axis { names: vec![n.into()], values: vec![v] };
        let g = Grid::new(
            vec!["k".into(), "c0".into()],
            vec![axis("k", vec![0.5.into(), 1.5.into()]), axis("c0", vec![1.0.into()])],
            3,
        )
        .unwrap();
        assert_eq!(describe_task(&g, 4), "k=1.5 c0=1.0 replicate=1");
    }
}
