//! Resource slots in tests: `sweep` run as if on a bigger machine (`SWEEP_TEST_CORES`,
//! `SWEEP_TEST_MEMORY`) with none of the caller's thread or GPU variables, and what the
//! tasks recorded read back.

use std::collections::BTreeMap;

/// The variables that would otherwise leak from the shell that runs the tests into what a
/// task sees: sweep's own list of thread variables, and the GPU and test-machine ones.
fn inherited() -> impl Iterator<Item = &'static str> {
    sweep::resources::THREAD_VARS.into_iter().chain(["CUDA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER", "SWEEP_TEST_MEMORY"])
}

/// `sweep ARGS` in `env` on a machine of `cores` cores (`None`: this one's).
pub fn sweep_on(env: &super::Env, cores: Option<usize>, args: &[&str]) -> assert_cmd::Command {
    let mut c = env.sweep(args);
    for v in inherited() {
        c.env_remove(v);
    }
    match cores {
        Some(n) => c.env("SWEEP_TEST_CORES", n.to_string()),
        None => c.env_remove("SWEEP_TEST_CORES"),
    };
    c
}

/// The most rows whose `[start, end)` intervals overlap at one instant.
pub fn max_overlap(rows: &[BTreeMap<String, String>]) -> usize {
    let mut events: Vec<(f64, i32)> = Vec::new();
    for r in rows {
        events.push((r["start"].parse().unwrap(), 1));
        events.push((r["end"].parse().unwrap(), -1));
    }
    // An end before a start at the same instant: back-to-back tasks do not overlap.
    events.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let (mut now, mut most) = (0, 0);
    for (_, d) in events {
        now += d;
        most = most.max(now);
    }
    most as usize
}

/// Pairs of rows that ran at the same time.
pub fn overlapping(rows: &[BTreeMap<String, String>]) -> Vec<(usize, usize)> {
    let t = |r: &BTreeMap<String, String>, k: &str| r[k].parse::<f64>().unwrap();
    let mut pairs = Vec::new();
    for i in 0..rows.len() {
        for j in i + 1..rows.len() {
            if t(&rows[i], "start") < t(&rows[j], "end") && t(&rows[j], "start") < t(&rows[i], "end") {
                pairs.push((i, j));
            }
        }
    }
    pairs
}
