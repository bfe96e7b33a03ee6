//! `--durable`: a journal record reaches the disk only after the files it vouches for. The
//! order of the system calls is checked with strace (the unit test of the journal thread
//! checks it through a seam).

mod common;
use common::*;

/// strace, if it is installed.
fn strace() -> Result<(), String> {
    match std::process::Command::new("strace").arg("-V").output() {
        Ok(o) if o.status.success() => Ok(()),
        _ => Err("strace is not installed (apt-get install strace)".into()),
    }
}

#[test]
fn durable_runs_sync_the_files_then_append_the_records_then_sync_the_journal() {
    if require_tool("strace", strace()).is_none() {
        return;
    }
    let env = Env::with("d.toml", "replicates = 20\n[model]\nname = \"spin\"\narray_len = 10\n");
    let o = std::process::Command::new("strace")
        .args(["-f", "-qq", "-e", "trace=openat,syncfs,fdatasync,write", "-o"])
        .arg(env.path("trace.txt"))
        .arg(env!("CARGO_BIN_EXE_sweep"))
        .args(["run", "d.toml", "--durable", "-q"])
        .current_dir(env.dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let trace = env.read("trace.txt");
    let journal_fd = trace
        .lines()
        .find(|l| l.contains("journal.jsonl") && l.contains("openat"))
        .and_then(|l| l.rsplit("= ").next())
        .and_then(|fd| fd.trim().parse::<i32>().ok())
        .expect("the journal is opened");
    // Every write of task records to the journal comes after a syncfs, and an fdatasync of
    // the journal follows before the next one.
    let (mut synced, mut records, mut pending_sync) = (false, 0, false);
    for line in trace.lines() {
        let call = line.split_once(' ').map_or(line, |(_, rest)| rest.trim_start());
        if call.starts_with("syncfs(") {
            synced = true;
        } else if call.starts_with(&format!("write({journal_fd}, ")) && call.contains("{\\\"t\\\":") {
            assert!(synced, "journal records written before the files were synced:\n{line}");
            assert!(!pending_sync, "two journal writes without an fdatasync between them");
            records += 1;
            synced = false;
            pending_sync = true;
        } else if call.starts_with(&format!("fdatasync({journal_fd})")) {
            pending_sync = false;
        }
    }
    assert!(records > 0, "records were written:\n{trace}");
    assert!(!pending_sync, "the last records were synced");
    assert_eq!(env.results("runs/d").iter().filter(|r| r["status"] == "done").count(), 20);
}
