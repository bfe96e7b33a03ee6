//! How many tasks fit at once, and what each slot gets: the pure part of resource slots.

use super::{format_size, Machine};

/// What each task asks for (`[resources]`, `--threads`, `--memory`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Request {
    /// Cores each task uses; `None`: as many as the cores spread over the jobs.
    pub threads: Option<usize>,
    /// Memory each task may use, in bytes.
    pub memory: Option<u64>,
    /// GPUs each task gets.
    pub gpus: usize,
}

/// What every slot of a run gets; slot `i` runs one task at a time (a command, or a
/// persistent worker for life).
#[derive(Clone, Debug, PartialEq)]
pub struct Slots {
    /// Threads each task gets (`OMP_NUM_THREADS` and its kin, `SWEEP_THREADS`).
    pub threads: usize,
    /// Whether `threads` was asked for: then it wins over a thread variable set in sweep's
    /// own environment; a default does not (as joblib).
    pub threads_given: bool,
    /// The memory a task may grow to before it is stopped.
    pub memory: Option<u64>,
    /// GPUs per slot.
    pub gpus: usize,
    /// The devices the run may use; slot `i` gets `devices[i*gpus..(i+1)*gpus]`.
    pub devices: Vec<String>,
}

impl Default for Slots {
    /// One thread per task and nothing else, whatever the environment says: what a run
    /// that never looked at the machine gets (the library's default).
    fn default() -> Self {
        Slots { threads: 1, threads_given: true, memory: None, gpus: 0, devices: Vec::new() }
    }
}

impl Slots {
    /// The GPU ids of slot `slot` (none when the run has no GPUs per task).
    pub fn devices_of(&self, slot: usize) -> &[String] {
        let start = (slot * self.gpus).min(self.devices.len());
        &self.devices[start..(start + self.gpus).min(self.devices.len())]
    }
}

/// The run's slots and its worker count.
#[derive(Clone, Debug, PartialEq)]
pub struct Fit {
    /// Tasks at once (`--jobs`).
    pub jobs: usize,
    /// What each gets.
    pub slots: Slots,
    /// What bounds `jobs` when `--jobs` was not given, for `--dry-run`: "8 cores ÷ 4
    /// threads", or the cores.
    pub bound: String,
}

/// Fits `req` on `machine`: the most tasks at once (or `jobs`, when given and it fits) and
/// each one's slot. `Err` says why the request cannot run here, for an exit 2.
pub fn fit(req: &Request, machine: &Machine, jobs: Option<usize>) -> Result<Fit, String> {
    let cores = machine.cores.max(1);
    let mut limits: Vec<(usize, String)> = Vec::new();
    if let Some(t) = req.threads {
        if t > cores {
            return Err(format!(
                "threads = {t}, but this machine gives sweep {}; ask for at most {cores} threads",
                machine.cores_from
            ));
        }
        limits.push((cores / t, format!("{} ÷ {t} threads", machine.cores_from)));
    }
    if req.gpus > 0 {
        let have = machine.devices.len();
        if have == 0 {
            return Err(format!(
                "gpus = {}, but no GPU is available ({}); name them with --gpus 0,1 or set CUDA_VISIBLE_DEVICES",
                req.gpus, machine.devices_from
            ));
        }
        if req.gpus > have {
            return Err(format!(
                "gpus = {}, but the run has {have} GPU{} ({}: {})",
                req.gpus,
                if have == 1 { "" } else { "s" },
                machine.devices_from,
                machine.devices.join(",")
            ));
        }
        limits
            .push((have / req.gpus, format!("{have} GPU{} ÷ {} per task", if have == 1 { "" } else { "s" }, req.gpus)));
    }
    if let Some(m) = req.memory {
        match machine.memory {
            Some(avail) if m > avail => {
                return Err(format!(
                    "memory = {} per task, but {} is available to sweep; ask for less",
                    format_size(m),
                    format_size(avail)
                ))
            }
            Some(avail) => limits.push((
                (avail / m) as usize,
                format!("{} available ÷ {} per task", format_size(avail), format_size(m)),
            )),
            None => {}
        }
    }
    let bound = limits.iter().min_by_key(|(n, _)| *n).cloned();
    let given = jobs.is_some();
    let jobs = match (jobs, &bound) {
        (Some(j), Some((n, why))) if j > *n => {
            return Err(format!(
                "--jobs {j} does not fit: {n} task{} at once ({why}); use --jobs {n} or ask for less in [resources]",
                if *n == 1 { "" } else { "s" }
            ))
        }
        (Some(j), _) => j,
        // Without --jobs, a task that asks for no threads still takes a core.
        (None, Some((n, _))) => (*n).min(cores),
        (None, None) => cores,
    };
    let jobs = jobs.max(1);
    let slots = Slots {
        threads: req.threads.unwrap_or((cores / jobs).max(1)),
        threads_given: req.threads.is_some(),
        memory: req.memory,
        gpus: req.gpus,
        devices: machine.devices.clone(),
    };
    let bound = match (given, bound) {
        (true, _) => "--jobs".to_string(),
        (false, Some((n, why))) if n <= cores => why,
        (false, _) => machine.cores_from.clone(),
    };
    Ok(Fit { jobs, slots, bound })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(cores: usize, gib: u64, gpus: usize) -> Machine {
        Machine {
            cores,
            cores_from: format!("{cores} cores"),
            memory: Some(gib << 30),
            devices: (0..gpus).map(|i| i.to_string()).collect(),
            devices_from: "--gpus".into(),
        }
    }

    fn req(threads: Option<usize>, gib: Option<u64>, gpus: usize) -> Request {
        Request { threads, memory: gib.map(|g| g << 30), gpus }
    }

    #[test]
    fn jobs_default_to_what_fits_and_threads_to_the_cores_they_leave() {
        let m = node(16, 64, 4);
        // (request, --jobs) → (jobs, threads)
        let table = [
            (req(None, None, 0), None, (16, 1)),
            (req(None, None, 0), Some(1), (1, 16)),
            (req(None, None, 0), Some(4), (4, 4)),
            (req(None, None, 0), Some(64), (64, 1)),
            (req(Some(4), None, 0), None, (4, 4)),
            (req(None, Some(6), 0), None, (10, 1)),
            (req(None, Some(1), 0), None, (16, 1)),
            (req(None, Some(1), 0), Some(32), (32, 1)),
            (req(None, None, 1), None, (4, 4)),
            (req(Some(2), Some(6), 1), None, (4, 2)),
            (req(Some(2), None, 2), Some(1), (1, 2)),
        ];
        for (r, jobs, want) in table {
            let f = fit(&r, &m, jobs).unwrap();
            assert_eq!((f.jobs, f.slots.threads), want, "{r:?} --jobs {jobs:?}");
        }
    }

    #[test]
    fn what_does_not_fit_is_refused_with_the_reason() {
        let m = node(16, 64, 4);
        let cases = [
            (req(Some(4), None, 0), Some(5), "--jobs 5 does not fit: 4 tasks at once (16 cores ÷ 4 threads)"),
            (req(Some(32), None, 0), None, "threads = 32, but this machine gives sweep 16 cores"),
            (req(None, Some(100), 0), None, "memory = 100 GiB per task, but 64 GiB is available"),
            (req(None, None, 8), None, "gpus = 8, but the run has 4 GPUs"),
            (req(None, None, 1), Some(5), "--jobs 5 does not fit: 4 tasks at once (4 GPUs ÷ 1 per task)"),
        ];
        for (r, jobs, want) in cases {
            let e = fit(&r, &m, jobs).unwrap_err();
            assert!(e.starts_with(want), "{e}");
        }
        let e = fit(&req(None, None, 1), &node(16, 64, 0), None).unwrap_err();
        assert!(e.contains("no GPU is available"), "{e}");
    }

    #[test]
    fn slots_get_disjoint_devices() {
        let f = fit(&req(None, None, 2), &node(8, 8, 5), None).unwrap();
        assert_eq!(f.jobs, 2);
        assert_eq!(f.slots.devices_of(0), ["0", "1"]);
        assert_eq!(f.slots.devices_of(1), ["2", "3"]);
        assert!(Slots::default().devices_of(3).is_empty());
    }
}
