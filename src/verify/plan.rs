//! What a verification reruns, and how: which done tasks, with how many workers, and with
//! which thread counts in the tasks' environment. Pure functions.

use crate::command::THREAD_VARS;
use crate::spec::Spec;

/// Tasks rerun when `--sample` is not given.
pub const DEFAULT_SAMPLE: u64 = 20;

/// The grid indices of the tasks to rerun: `n` of the `done` ones (sorted grid indices),
/// spread over them as `--bench` spreads its sample over the grid (one from each of `n`
/// equal strata, at a position drawn from `seed`), so the same sweep always gets the same
/// sample.
pub fn choose(done: &[u64], n: u64, seed: u64) -> Vec<u64> {
    crate::bench::sample_indices(done.len() as u64, n, seed).into_iter().map(|i| done[i as usize]).collect()
}

/// The rerun's worker count when `--jobs` is not given: another count than the sweep's own
/// runs used, so that a result that depends on scheduling shows. `used` is the largest
/// worker count of its runs (`runs.jsonl`), if known.
pub fn rerun_jobs(used: Option<usize>) -> usize {
    match used {
        Some(1) => 2,
        // More than one, or unknown (runs use every core by default).
        _ => 1,
    }
}

/// One rerun of the sample.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pass {
    /// Worker count.
    pub jobs: usize,
    /// `OMP_NUM_THREADS` (and `OPENBLAS_`, `MKL_`) for commands and workers, when this pass
    /// sets them to something else than the run did; `None`: as the run had them.
    pub threads: Option<String>,
}

impl Pass {
    /// "1 worker" or "2 workers, OMP_NUM_THREADS=2", for messages.
    pub fn label(&self) -> String {
        let workers = crate::text::count(self.jobs as u64, "worker");
        match &self.threads {
            Some(t) => format!("{workers}, OMP_NUM_THREADS={t}"),
            None => workers,
        }
    }
}

/// The thread count a command or worker task ran with: the spec's `OMP_NUM_THREADS`, else
/// the slots' count of its last run (`ran`, from `runs.jsonl`), else 1 (runs before
/// `[resources]` set 1); `None` for built-in and library models, which run in sweep.
pub fn recorded_threads(spec: &Spec, ran: Option<usize>) -> Option<String> {
    let env = spec.task.env()?;
    let set = env.iter().rev().find(|(k, _)| k == THREAD_VARS[0]).map(|(_, v)| v.clone());
    Some(set.unwrap_or_else(|| ran.unwrap_or(1).to_string()))
}

/// The passes of a verification with `jobs` workers: one with the thread counts the run
/// had; then, for commands and workers unless `same_threads`, one with another
/// `OMP_NUM_THREADS` (2 if it was 1, else 1), so that a result that depends on the thread
/// count shows as such, apart from one that differs at any thread count.
pub fn passes(spec: &Spec, jobs: usize, same_threads: bool, ran: Option<usize>) -> Vec<Pass> {
    let mut v = vec![Pass { jobs, threads: None }];
    if let (Some(had), false) = (recorded_threads(spec, ran), same_threads) {
        let other = if had.trim() == "1" { "2" } else { "1" };
        v.push(Pass { jobs, threads: Some(other.into()) });
    }
    v
}

/// Makes `spec`'s tasks run as `pass` says: its thread count for every thread variable,
/// after the spec's own environment (the last value of a variable wins).
pub fn apply(spec: &mut Spec, pass: &Pass) {
    let Some(t) = &pass.threads else { return };
    let Some(env) = spec.task.env_mut() else { return };
    env.extend(THREAD_VARS.iter().map(|v| (v.to_string(), t.clone())));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Registry;

    fn spec(text: &str) -> Spec {
        Spec::parse(std::path::Path::new("t.toml"), text, &Registry::builtin()).unwrap()
    }

    #[test]
    fn the_sample_is_spread_over_the_done_tasks_and_stable() {
        let done: Vec<u64> = (0..1000).filter(|i| i % 3 != 0).collect();
        let s = choose(&done, 20, 7);
        assert_eq!(s, choose(&done, 20, 7));
        assert_eq!(s.len(), 20);
        assert!(s.iter().all(|i| i % 3 != 0));
        assert!(s[0] < 60 && *s.last().unwrap() > 930, "{s:?}");
        assert_eq!(choose(&[4, 9], 20, 1), [4, 9], "fewer done tasks than the sample: all of them");
    }

    #[test]
    fn the_rerun_uses_another_worker_count_than_the_run() {
        assert_eq!(rerun_jobs(Some(1)), 2);
        assert_eq!(rerun_jobs(Some(2)), 1);
        assert_eq!(rerun_jobs(Some(64)), 1);
        assert_eq!(rerun_jobs(None), 1);
    }

    #[test]
    fn commands_get_a_second_pass_with_another_thread_count() {
        let model = spec("[model]\nname = \"spin\"\n[params]\nmicros = 1\n");
        assert_eq!(passes(&model, 1, false, None), [Pass { jobs: 1, threads: None }]);
        let cmd = spec("[command]\nshell = \"true\"\n[params]\nk = [1]\n");
        assert_eq!(recorded_threads(&cmd, None).as_deref(), Some("1"));
        assert_eq!(recorded_threads(&cmd, Some(4)).as_deref(), Some("4"), "the last run's slots");
        let p = passes(&cmd, 2, false, None);
        assert_eq!(p[1], Pass { jobs: 2, threads: Some("2".into()) });
        assert_eq!(p[1].label(), "2 workers, OMP_NUM_THREADS=2");
        assert_eq!(passes(&cmd, 2, true, None).len(), 1, "--same-threads");
        let four = spec("[command]\nshell = \"true\"\nenv = { OMP_NUM_THREADS = \"4\" }\n[params]\nk = [1]\n");
        assert_eq!(passes(&four, 1, false, None)[1].threads.as_deref(), Some("1"));
        let mut s = spec("[command]\nshell = \"true\"\n[params]\nk = [1]\n");
        apply(&mut s, &p[1]);
        assert_eq!(s.task.env().unwrap().iter().filter(|(_, v)| v == "2").count(), 7);
        assert_eq!(recorded_threads(&s, None).as_deref(), Some("2"));
    }
}
