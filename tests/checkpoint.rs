//! Checkpoints beside the journals: `sweep status` and a resume with nothing to do read
//! them plus the journal's tail, and must say exactly what the whole journal says; a torn
//! or stale checkpoint is ignored with a warning; journals written before records carried
//! their grid index still read, resume and give byte-identical results.

mod common;
use common::{strip_indices, Env};
use std::path::Path;

/// 2 × 3 points × 4 replicates of `spin`; about a third of the tasks with fail_rate 0.5
/// fail, on every attempt (the task's RNG decides).
const FLAKY: &str = "name = \"flaky\"\nseed = 11\nreplicates = 4\n[model]\nname = \"spin\"\n\
                     [params]\nfail_rate = [0.0, 0.5]\nmicros = [0, 1, 2]\n";

/// `sweep status` without its lines about runs (which a later run adds to).
fn without_runs(stdout: &str) -> String {
    stdout.lines().filter(|l| !l.starts_with("  runs") && !l.starts_with("  CPU")).collect::<Vec<_>>().join("\n")
}

/// What `sweep status OUT` prints on stdout and stderr.
fn status(env: &Env, out: &str) -> (String, String) {
    let o = env.exits(&["status", out], 1);
    (o.stdout, o.stderr)
}

#[test]
fn status_from_a_checkpoint_and_a_journal_tail_equals_status_from_the_whole_journal() {
    let env = Env::with("flaky.toml", FLAKY);
    env.exits(&["run", "flaky.toml", "--out", "out", "-q"], 1);
    let ckpt = env.path("out/journal.ckpt");
    let first = std::fs::read(&ckpt).expect("a run writes its journal's checkpoint");
    // The failed tasks run again, and fail again: their attempts change in the tail.
    env.exits(&["run", "flaky.toml", "--out", "out", "-q", "--resume", "--retries", "1"], 1);
    let fresh = status(&env, "out");
    assert!(fresh.0.contains("attempts=3"), "{}", fresh.0);
    assert_eq!(fresh.1, "", "no warning");

    // An older checkpoint is still good: it covers the journal's first bytes, the rest is tail.
    std::fs::write(&ckpt, &first).unwrap();
    assert_eq!(status(&env, "out"), fresh, "checkpoint of the first run + the resume's records");
    std::fs::remove_file(&ckpt).unwrap();
    assert_eq!(status(&env, "out"), fresh, "no checkpoint: the whole journal");
    strip_indices(&env.path("out/journal.jsonl"));
    assert_eq!(status(&env, "out"), fresh, "records placed through their ids, the slow way");
}

#[test]
fn shards_checkpoints_and_a_kill_9_tail_give_the_status_of_the_whole_journals() {
    // 300 tasks of 20 ms: a kill lands mid-run, leaving a tail (and maybe a torn line) that
    // no checkpoint covers.
    let spec = "name = \"slow\"\nseed = 3\nreplicates = 100\n[model]\nname = \"spin\"\n\
                [params]\nmicros = [20000]\nfail_rate = [0.0, 0.2, 0.9]\n";
    let env = Env::with("slow.toml", spec);
    env.exits(&["run", "slow.toml", "--out", "out", "-q", "--shard", "0/2"], 1);
    assert!(env.path("out/journal/shard-0-of-2.ckpt").is_file(), "a shard run checkpoints its own journal");
    let mut child = env.spawn(&["run", "slow.toml", "--out", "out", "-q", "--shard", "1/2"]);
    let shard1 = env.path("out/journal/shard-1-of-2.jsonl");
    common::wait_until("the second shard to journal tasks", std::time::Duration::from_secs(30), || {
        std::fs::read_to_string(&shard1).is_ok_and(|t| t.lines().count() > 20)
    });
    common::kill9(&mut child);
    assert!(!env.path("out/journal/shard-1-of-2.ckpt").exists(), "killed: no checkpoint");
    let from_checkpoints = env.exits(&["status", "out"], 1).stdout;
    assert!(from_checkpoints.contains("pending"), "{from_checkpoints}");
    for j in ["out/journal/shard-0-of-2.jsonl", "out/journal/shard-1-of-2.jsonl"] {
        strip_indices(&env.path(j));
    }
    assert_eq!(env.exits(&["status", "out"], 1).stdout, from_checkpoints);
}

#[test]
fn a_torn_checkpoint_is_ignored_with_a_warning_and_the_next_run_replaces_it() {
    let env = Env::with("flaky.toml", FLAKY);
    env.exits(&["run", "flaky.toml", "--out", "out", "-q"], 1);
    let good = status(&env, "out");
    let ckpt = env.path("out/journal.ckpt");
    let bytes = std::fs::read(&ckpt).unwrap();
    std::fs::write(&ckpt, &bytes[..bytes.len() / 2]).unwrap();
    let (stdout, stderr) = status(&env, "out");
    assert_eq!(stdout, good.0);
    assert!(stderr.contains("warning: ignored the checkpoint") && stderr.contains("torn"), "{stderr}");
    env.exits(&["run", "flaky.toml", "--out", "out", "-q", "--resume"], 1);
    let (_, stderr) = status(&env, "out");
    assert_eq!(stderr, "", "the resume wrote a good checkpoint");
}

#[test]
fn a_stale_checkpoint_is_ignored_with_a_warning() {
    let env = Env::with("flaky.toml", FLAKY);
    env.write("other.toml", &FLAKY.replace("seed = 11", "seed = 12"));
    env.exits(&["run", "flaky.toml", "--out", "out", "-q"], 1);
    env.exits(&["run", "other.toml", "--out", "other", "-q"], 1);
    let good = status(&env, "out");
    // Another sweep's checkpoint, and then one of this sweep whose journal was cut short.
    std::fs::copy(env.path("other/journal.ckpt"), env.path("out/journal.ckpt")).unwrap();
    let (stdout, stderr) = status(&env, "out");
    assert_eq!(stdout, good.0);
    assert!(stderr.contains("stale (written for another version of the spec)"), "{stderr}");

    env.exits(&["run", "flaky.toml", "--out", "out", "-q", "--resume"], 1);
    let journal = env.path("out/journal.jsonl");
    let text = std::fs::read_to_string(&journal).unwrap();
    let header_of_second_run = text.match_indices("{\"pid\"").nth(1).unwrap().0;
    std::fs::write(&journal, &text[..header_of_second_run]).unwrap();
    let (stdout, stderr) = status(&env, "out");
    assert_eq!(without_runs(&stdout), without_runs(&good.0), "the first run's records alone");
    assert!(stderr.contains("stale (the journal is not the one it describes)"), "{stderr}");
}

#[test]
fn a_resume_with_nothing_to_do_leaves_results_csv_alone_until_it_changes() {
    let spec = "name = \"done\"\nseed = 5\nreplicates = 5\n[model]\nname = \"spin\"\n[params]\nmicros = [0, 1, 2]\n";
    let env = Env::with("done.toml", spec);
    env.succeeds(&["run", "done.toml", "--out", "out", "-q"]);
    let results = env.read("out/results.csv");
    let journal = env.read("out/journal.jsonl");
    let modified = || std::fs::metadata(env.path("out/results.csv")).unwrap().modified().unwrap();
    let before = modified();
    let said = env.succeeds_stderr(&["run", "done.toml", "--out", "out", "--resume"]);
    assert!(said.contains("15 tasks: 15 done, 0 failed, 0 pending") && said.contains("15 already done"), "{said}");
    assert_eq!(modified(), before, "results.csv left alone");
    assert_eq!(env.read("out/journal.jsonl"), journal, "nothing appended: no run");

    // results.csv edited or deleted: the resume writes it again, from the journal.
    std::fs::write(env.path("out/results.csv"), "edited\n").unwrap();
    env.succeeds(&["run", "done.toml", "--out", "out", "-q", "--resume"]);
    assert_eq!(env.read("out/results.csv"), results);
    std::fs::remove_file(env.path("out/results.csv")).unwrap();
    env.succeeds(&["run", "done.toml", "--out", "out", "-q", "--resume"]);
    assert_eq!(env.read("out/results.csv"), results);

    // A changed spec (here: one more task) is no resume with nothing to do.
    env.write("done.toml", &spec.replace("[0, 1, 2]", "[0, 1, 2, 3]"));
    let said = env.succeeds_stderr(&["run", "done.toml", "--out", "out", "--resume"]);
    assert!(said.contains("this run: 5 done"), "{said}");
}

/// Copies the fixture of a sweep written by sweep 0.1.0 before records carried `"i"`
/// (tests/fixtures/old_journal) into `out`, with `journal` as its journal.
fn old_sweep(env: &Env, journal: &str) {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/old_journal");
    std::fs::create_dir_all(env.path("out")).unwrap();
    for f in ["spec.toml", "manifest.json"] {
        std::fs::copy(fixture.join(f), env.path(&format!("out/{f}"))).unwrap();
    }
    std::fs::copy(fixture.join(journal), env.path("out/journal.jsonl")).unwrap();
    std::fs::copy(fixture.join("spec.toml"), env.path("old.toml")).unwrap();
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/old_journal").join(name))
        .unwrap()
}

#[test]
fn an_old_journal_gives_byte_identical_results_csv_and_the_same_status() {
    let env = Env::new();
    old_sweep(&env, "journal_full.jsonl");
    env.exits(&["collect", "out"], 1);
    assert_eq!(env.read("out/results.csv"), fixture("results.csv"), "as the old sweep wrote it, byte for byte");
    let stdout = env.exits(&["status", "out"], 1).stdout;
    assert!(stdout.contains(&fixture("status_counts.txt")), "{stdout}");
    assert!(stdout.ends_with(&fixture("status_failed.txt")), "{stdout}");
}

#[test]
fn an_old_journal_still_resumes() {
    let env = Env::new();
    old_sweep(&env, "journal.jsonl");
    let stdout = env.exits(&["status", "out"], 1).stdout;
    assert!(stdout.contains("done     7\n  failed   0\n  pending  5"), "{stdout}");
    let said = env.exits(&["run", "old.toml", "--out", "out", "--resume"], 1).stderr;
    assert!(said.contains("this run: 2 done, 3 failed") && said.contains("7 already done"), "{said}");
    // The tasks the old sweep finished keep their rows byte for byte; the others come out
    // as the old sweep's uninterrupted run gave them (timing aside).
    let (now, then) = (env.read("out/results.csv"), fixture("results.csv"));
    let finished = common::done_tasks(&fixture("journal.jsonl"));
    assert_eq!(finished.len(), 7);
    let kept: Vec<&str> = now.lines().filter(|l| finished.iter().any(|t| l.starts_with(t.as_str()))).collect();
    let old: Vec<&str> = then.lines().filter(|l| finished.iter().any(|t| l.starts_with(t.as_str()))).collect();
    assert_eq!((kept.len(), &kept), (7, &old));
    assert_eq!(common::without_columns(&now, &["seconds"]), common::without_columns(&then, &["seconds"]));
    let counts: Vec<String> =
        env.exits(&["status", "out"], 1).stdout.lines().skip(1).take(3).map(String::from).collect();
    assert_eq!(counts.join("\n"), fixture("status_counts.txt").trim_end());
}

#[test]
fn a_results_csv_rewritten_from_the_journal_keeps_the_runs_durations() {
    // Regression: a run kept its own f64 durations, a rewrite the journal's six decimals,
    // so `sweep collect` changed some rows' seconds in the last digit.
    let spec = "name = \"t\"\nseed = 9\nreplicates = 100\n[model]\nname = \"spin\"\n[params]\nmicros = [0, 3, 7]\n";
    let env = Env::with("t.toml", spec);
    env.succeeds(&["run", "t.toml", "--out", "out", "-q"]);
    let written = env.read("out/results.csv");
    env.succeeds(&["collect", "out"]);
    assert_eq!(env.read("out/results.csv"), written);
}

#[test]
fn a_long_run_checkpoints_as_it_goes_and_a_kill_9_leaves_a_checkpoint_and_a_tail() {
    // 400 tasks of 20 ms on 2 workers: 4 s, checkpointed every 0.2 s.
    let spec = "name = \"long\"\nseed = 4\nreplicates = 100\n[model]\nname = \"spin\"\n\
                [params]\nmicros = [20000]\nfail_rate = [0.0, 0.1, 0.5, 0.9]\n";
    let env = Env::with("long.toml", spec);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sweep"))
        .current_dir(env.dir.path())
        .args(["run", "long.toml", "--out", "out", "-q", "--jobs", "2"])
        .env("SWEEP_CHECKPOINT_SECONDS", "0.2")
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let (ckpt, journal) = (env.path("out/journal.ckpt"), env.path("out/journal.jsonl"));
    common::wait_until("a checkpoint during the run", std::time::Duration::from_secs(30), || {
        ckpt.is_file() && std::fs::read_to_string(&journal).is_ok_and(|t| t.lines().count() > 60)
    });
    assert!(child.try_wait().unwrap().is_none(), "the run is still going");
    let during = env.exits(&["status", "out"], 1);
    assert_eq!(during.stderr, "", "a checkpoint written mid-run is a good one");
    assert!(during.stdout.contains("held: a run is in progress"), "{}", during.stdout);
    common::kill9(&mut child);

    let from_checkpoint = status(&env, "out");
    assert_eq!(from_checkpoint.1, "", "{}", from_checkpoint.1);
    let copy = env.path("copy");
    std::fs::create_dir_all(&copy).unwrap();
    for f in ["journal.jsonl", "spec.toml", "manifest.json"] {
        std::fs::copy(env.path(&format!("out/{f}")), copy.join(f)).unwrap();
    }
    strip_indices(&copy.join("journal.jsonl"));
    assert_eq!(
        without_runs(&env.exits(&["status", "copy"], 1).stdout.replace("copy:", "out:")),
        without_runs(&from_checkpoint.0),
        "checkpoint + tail = the whole journal read the slow way"
    );

    env.exits(&["run", "long.toml", "--out", "out", "-q", "--resume"], 1);
    env.exits(&["run", "long.toml", "--out", "whole", "-q"], 1);
    let drop = ["seconds", "attempts", "class", "error"];
    assert_eq!(
        common::without_columns(&env.read("out/results.csv"), &drop),
        common::without_columns(&env.read("whole/results.csv"), &drop)
    );
}

/// A journal line blanked in place (same length) used to leave status trusting the
/// checkpoint (every task done) while `--resume` ran the task again (#24).
#[test]
fn a_journal_line_blanked_in_place_makes_the_checkpoint_stale() {
    // Task 7's record lies far before the journal's last 4 KiB, which the checkpoint probes.
    let env = Env::with("s.toml", "seed = 2\nreplicates = 200\n[model]\nname = \"spin\"\n");
    env.succeeds(&["run", "s.toml", "--out", "out", "-q", "--jobs", "1"]);
    assert!(env.succeeds(&["status", "out"]).contains("done     200\n"));
    let path = env.path("out/journal.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let line = text.lines().find(|l| l.contains("\"i\":7,")).expect("task 7's record").to_string();
    std::fs::write(&path, text.replace(&line, &" ".repeat(line.len()))).unwrap();
    let o = env.exits(&["status", "out"], 1);
    assert!(o.stdout.contains("done     199\n") && o.stdout.contains("pending  1\n"), "{}", o.stdout);
    assert!(o.stderr.contains("changed in place"), "{}", o.stderr);
    let err = env.succeeds_stderr(&["run", "s.toml", "--out", "out", "--resume"]);
    assert!(err.contains("199 already done"), "{err}");
}
