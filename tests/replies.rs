//! Worker replies that break the protocol (#24): a reply sweep cannot read fails its own
//! task, naming the problem; a duplicate or missing reply ends the worker and sends again
//! what was in flight; no innocent task is blamed, and the run ends.

mod common;
use common::*;
use std::time::{Duration, Instant};

/// Runs `spec` (file `s.toml`) with a deadline: a run that hangs fails the test instead of
/// hanging it. Returns the exit code.
fn run_with_deadline(env: &Env, args: &[&str]) -> i32 {
    let mut child = env.spawn(args);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code().unwrap_or(-1);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the run hung: a reply went missing and nothing ended it");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn python_values_json_carries_but_sweep_cannot_read_fail_no_other_task_and_never_hang() {
    // Regression: a lone surrogate (os.listdir's name for a non-UTF-8 file) or an int of
    // 10**309 made a reply sweep could not read; taken for output, it put every later reply
    // one off, 144-157 of 400 innocent tasks failed, and without a timeout the run hung.
    if require_tool("python3", python_modules("json")).is_none() {
        return;
    }
    let env = Env::with(
        "f.py",
        "def f(i):\n    if i == 50:\n        return {'name': 'a\\udc80b'}\n    if i == 60:\n        return {'big': 10**309}\n    if i == 70:\n        return {'big': 2**70 + 1}\n    return {'y': i}\n",
    );
    env.write("s.toml", "[python]\nfunction = \"f.py:f\"\n[params]\ni = { range = [0, 400] }\n");
    assert_eq!(run_with_deadline(&env, &["run", "s.toml", "--jobs", "2", "-q"]), 0);
    let rows = env.results("runs/s");
    assert!(rows.iter().all(|r| r["status"] == "done"), "every task is done");
    let at = |i: &str| rows.iter().find(|r| r["i"] == i).unwrap().clone();
    assert_eq!(at("50")["name"], "a\\udc80b", "a lone surrogate is kept, escaped");
    assert_eq!(at("70")["big"], "1180591620717411303425", "an int beyond 64 bits is kept exactly, as text");
    assert_eq!(at("60")["big"], format!("1{}", "0".repeat(309)));
    assert_eq!(at("399")["y"], "399");
}

/// A raw worker that answers request i == 5 twice, sends an unreadable reply for i == 9,
/// and leaves out the reply of i == 13 the first time it is asked.
const BROKEN_WORKER: &str = r#"
import json, os, sys
print(json.dumps({"sweep_worker": 1}), flush=True)
for line in sys.stdin:
    req = json.loads(line)
    i, rid = req["params"]["i"], req["id"]
    if i == 13 and not os.path.exists("skipped-13"):
        open("skipped-13", "w").close()
        continue
    if i == 9:
        print('{"id": %d, "metrics": {"x": 1e999}}' % rid, flush=True)
        continue
    print(json.dumps({"id": rid, "metrics": {"y": i}}), flush=True)
    if i == 5:
        print(json.dumps({"id": rid, "metrics": {"y": i}}), flush=True)
"#;

#[test]
fn a_duplicate_a_missing_and_an_unreadable_reply_of_a_raw_worker_blame_only_their_own_task() {
    // Regression: each of these put the worker's later replies one off ("a reply with id 51
    // while request 50 was due") and failed innocent tasks. A missing reply shows when the
    // next one comes (then the worker is ended and what was in flight sent again); when
    // the request was the worker's only one, nothing tells it from a slow task but the
    // timeout (then it is retried).
    if require_tool("python3", python_modules("json")).is_none() {
        return;
    }
    let env = Env::with("w.py", BROKEN_WORKER);
    env.write(
        "s.toml",
        "[worker]\nargv = [\"python3\", \"w.py\"]\ntimeout = \"5s\"\n[params]\ni = { range = [0, 400] }\n",
    );
    assert_eq!(run_with_deadline(&env, &["run", "s.toml", "--jobs", "2", "--retries", "1", "-q"]), 1);
    assert!(env.path("skipped-13").exists(), "the reply of i = 13 was left out once");
    let rows = env.results("runs/s");
    let failed: Vec<_> = rows.iter().filter(|r| r["status"] != "done").collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["i"], "9");
    assert!(failed[0]["error"].contains("cannot be read: number out of range"), "{}", failed[0]["error"]);
    let y = |i: &str| rows.iter().find(|r| r["i"] == i).unwrap()["y"].clone();
    assert_eq!((y("5"), y("6"), y("13"), y("14")), ("5".into(), "6".into(), "13".into(), "14".into()));
}

#[test]
fn duplicate_replies_do_not_count_toward_max_tasks_per_worker() {
    // Regression: a dropped duplicate still counted as an answer, so a worker that sent
    // every reply twice was replaced after half its max_tasks_per_worker.
    if require_tool("python3", python_modules("json")).is_none() {
        return;
    }
    // Tasks of 0.1 s keep one request in flight, so that each duplicate is read before
    // the next request is sent.
    let worker = "import json, os, sys, time\nopen('starts.txt', 'a').write(f'{os.getpid()}\\n')\n\
        print(json.dumps({'sweep_worker': 1}), flush=True)\nfor line in sys.stdin:\n    req = json.loads(line)\n    \
        time.sleep(0.1)\n    reply = json.dumps({'id': req['id'], 'metrics': {'y': req['params']['i']}})\n    print(reply, flush=True)\n    print(reply, flush=True)\n";
    let env = Env::with("w.py", worker);
    env.write(
        "s.toml",
        "[worker]\nargv = [\"python3\", \"w.py\"]\nmax_tasks_per_worker = 4\n[params]\ni = { range = [0, 8] }\n",
    );
    assert_eq!(run_with_deadline(&env, &["run", "s.toml", "--jobs", "1", "-q"]), 0);
    assert_eq!(env.read("starts.txt").lines().count(), 2, "8 tasks, 4 a worker");
}
