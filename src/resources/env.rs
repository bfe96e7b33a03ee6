//! The variables a slot's task process (or persistent worker) starts with.

use super::Slots;

/// The thread-count variables of the libraries that start thread pools on import: OpenMP,
/// OpenBLAS, MKL, BLIS, Apple's vecLib, numexpr and numba (the seven joblib sets).
pub const THREAD_VARS: [&str; 7] = [
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "NUMBA_NUM_THREADS",
];

/// The thread count for the user's own code (`torch.set_num_threads`, Julia's `--threads`).
pub const SWEEP_THREADS: &str = "SWEEP_THREADS";

impl Slots {
    /// The variables of slot `slot`'s processes, leaving out those the spec's `env` sets
    /// (the spec wins). A thread variable set in sweep's own environment is inherited as it
    /// is unless `threads` was asked for, as joblib leaves it (`inherited` says whether it is
    /// set there). GPUs: `CUDA_VISIBLE_DEVICES` is the slot's own ids, in PCI bus order.
    pub fn env(
        &self,
        slot: usize,
        spec_env: &[(String, String)],
        inherited: impl Fn(&str) -> bool,
    ) -> Vec<(String, String)> {
        let in_spec = |name: &str| spec_env.iter().any(|(k, _)| k == name);
        let threads = self.threads.to_string();
        let mut env: Vec<(String, String)> = THREAD_VARS
            .iter()
            .filter(|v| !in_spec(v) && (self.threads_given || !inherited(v)))
            .map(|v| (v.to_string(), threads.clone()))
            .collect();
        if !in_spec(SWEEP_THREADS) {
            env.push((SWEEP_THREADS.into(), threads));
        }
        if self.gpus > 0 {
            if !in_spec("CUDA_VISIBLE_DEVICES") {
                env.push(("CUDA_VISIBLE_DEVICES".into(), self.devices_of(slot).join(",")));
            }
            if !in_spec("CUDA_DEVICE_ORDER") {
                env.push(("CUDA_DEVICE_ORDER".into(), "PCI_BUS_ID".into()));
            }
        }
        env
    }

    /// [`env`](Self::env) with sweep's own environment.
    pub fn env_here(&self, slot: usize, spec_env: &[(String, String)]) -> Vec<(String, String)> {
        self.env(slot, spec_env, |v| std::env::var_os(v).is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get<'a>(env: &'a [(String, String)], k: &str) -> Option<&'a str> {
        env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
    }

    #[test]
    fn the_spec_wins_then_an_asked_count_then_the_shell() {
        let slots = Slots { threads: 4, threads_given: false, ..Slots::default() };
        let spec = vec![("MKL_NUM_THREADS".to_string(), "2".to_string())];
        let shell = |v: &str| v == "OMP_NUM_THREADS";
        let env = slots.env(0, &spec, shell);
        assert_eq!(get(&env, "OMP_NUM_THREADS"), None, "the shell's value is inherited");
        assert_eq!(get(&env, "MKL_NUM_THREADS"), None, "the spec's value is the spec's");
        assert_eq!(get(&env, "NUMBA_NUM_THREADS"), Some("4"));
        assert_eq!(get(&env, SWEEP_THREADS), Some("4"));
        let asked = Slots { threads_given: true, ..slots };
        assert_eq!(get(&asked.env(0, &spec, shell), "OMP_NUM_THREADS"), Some("4"));
        assert_eq!(get(&asked.env(0, &[], shell), "CUDA_VISIBLE_DEVICES"), None);
    }

    #[test]
    fn each_slot_sees_its_own_gpus() {
        let slots = Slots { gpus: 1, devices: vec!["3".into(), "5".into()], ..Slots::default() };
        let env = slots.env(1, &[], |_| false);
        assert_eq!(get(&env, "CUDA_VISIBLE_DEVICES"), Some("5"));
        assert_eq!(get(&env, "CUDA_DEVICE_ORDER"), Some("PCI_BUS_ID"));
    }
}
