//! A library model that takes the whole process down (an `abort()` deep in a C library, a
//! failed allocation): sweep notes which tasks were running, and a task that was running
//! when sweep crashed twice is set aside, so that `--resume` can finish the sweep.
//!
//! The crashing sweep runs in a child process: this test binary runs itself again with
//! `SWEEP_TEST_CRASH_OUT` set, and then `child_sweep_with_an_aborting_model` does the work.

use std::process::Command;
use sweep::model::{Model, OutputSpec, Outputs, ParamSpec, Params, TaskError, TaskRng};

struct Aborting;

impl Model for Aborting {
    fn name(&self) -> &str {
        "aborting"
    }
    fn summary(&self) -> &str {
        "aborts the process at x = 3"
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![ParamSpec::int("x", 0, "", "which task")]
    }
    fn metrics(&self) -> Vec<OutputSpec> {
        vec![OutputSpec::new("y", "", "x squared")]
    }
    fn run(&self, p: &Params, _rng: &mut TaskRng, out: &mut Outputs) -> Result<(), TaskError> {
        let x = p.i64("x");
        if x == 3 {
            std::process::abort();
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        out.metric("y", x * x);
        Ok(())
    }
}

const SPEC: &str = "[model]\nname = \"aborting\"\n[params]\nx = [0, 1, 2, 3, 4, 5, 6, 7]\n";

/// Not a test of its own: the child process's work (it returns at once in a normal run).
#[test]
fn child_sweep_with_an_aborting_model() {
    let Ok(out) = std::env::var("SWEEP_TEST_CRASH_OUT") else { return };
    let summary = sweep::Sweep::from_toml("crash", SPEC).model(Aborting).jobs(2).out(out).resume(true).run().unwrap();
    println!("summary: {} done, {} failed, {} pending", summary.done, summary.failed, summary.pending);
}

/// Runs the child sweep (a window of `window` tasks at a time, if given); its exit status.
fn child(out: &std::path::Path, window: Option<&str>) -> std::process::Output {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", "child_sweep_with_an_aborting_model", "--nocapture", "--test-threads=1"])
        .env("SWEEP_TEST_CRASH_OUT", out);
    if let Some(w) = window {
        cmd.env("SWEEP_RUN_WINDOW", w);
    }
    cmd.output().unwrap()
}

#[test]
fn a_task_that_crashes_sweep_twice_is_set_aside_and_the_sweep_finishes() {
    crashes_twice_then_set_aside(None);
}

#[test]
fn a_task_that_crashes_sweep_in_a_later_window_is_set_aside_as_in_a_whole_run() {
    // A big grid runs a window at a time. The crashing task (x = 3) is in the second window
    // of three: the tasks that ran when sweep crashed must be read before the first window
    // replaces the file that names them, and recorded in their own window.
    crashes_twice_then_set_aside(Some("3"));
}

fn crashes_twice_then_set_aside(window: Option<&str>) {
    use std::os::unix::process::ExitStatusExt;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let child = |out: &std::path::Path| child(out, window);
    for round in 1..=2 {
        let o = child(&out);
        assert_eq!(o.status.signal(), Some(libc::SIGABRT), "round {round} aborts: {o:?}");
    }
    let o = child(&out);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success() && stdout.contains("summary: 7 done, 1 failed, 0 pending"), "{o:?}");
    let text = std::fs::read_to_string(out.join("results.csv")).unwrap();
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let headers = r.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    for row in &rows {
        if &row[col("x")] == "3" {
            assert_eq!((&row[col("status")], &row[col("class")]), ("failed", "crash"));
            assert_eq!(&row[col("error")], "sweep crashed (SIGABRT) while this task ran");
            assert_eq!(&row[col("attempts")], "2");
        } else {
            assert_eq!(&row[col("status")], "done", "an innocent task running beside it is not set aside: {row:?}");
        }
    }
    // Set aside for good: another resume finishes at once without running it.
    let o = child(&out);
    assert!(o.status.success(), "{o:?}");
}
