//! Sizes that models allocate from their parameters: refused when they can never fit,
//! allocated fallibly when they might not, so that one impossible grid point fails its own
//! task and never aborts the sweep.

use super::TaskError;

/// This machine's physical memory in bytes (`sysinfo`, read once), or `u64::MAX` when
/// unknown.
pub fn physical_memory() -> u64 {
    static MEMORY: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *MEMORY.get_or_init(|| {
        // SAFETY: sysinfo only writes into the struct it is given.
        let mut info: libc::sysinfo = unsafe { std::mem::zeroed() };
        if unsafe { libc::sysinfo(&mut info) } != 0 {
            return u64::MAX;
        }
        (info.totalram as u64).saturating_mul(info.mem_unit as u64)
    })
}

/// Refuses `count` values of 8 bytes for `what()` (e.g. "n_samples = 1e11") when they are
/// more than this machine's memory: such a task can never run here. For `Model::check`,
/// which runs before every task: cheap when the size fits.
pub fn check_floats(what: impl FnOnce() -> String, count: f64) -> Result<(), String> {
    let bytes = count * 8.0;
    let memory = physical_memory();
    if !count.is_finite() || bytes > memory as f64 {
        return Err(format!(
            "{} needs {} of memory for its values, more than this machine has ({})",
            what(),
            crate::text::bytes(bytes.min(u64::MAX as f64) as u64),
            crate::text::bytes(memory)
        ));
    }
    Ok(())
}

/// An empty vector with room for `n` values of `what`, or the task's error when the memory
/// cannot be had (instead of the process aborting).
pub fn try_vec<T>(n: usize, what: &str) -> Result<Vec<T>, TaskError> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| {
        TaskError(format!(
            "cannot allocate {} for {what} ({n} values)",
            crate::text::bytes((n as u64).saturating_mul(std::mem::size_of::<T>() as u64))
        ))
    })?;
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impossible_sizes_are_refused_and_failed_allocations_are_errors() {
        assert!(check_floats(|| "n = 1000".into(), 1000.0).is_ok());
        let err = check_floats(|| "n_samples = 100000000000".into(), 1e11).unwrap_err();
        assert!(err.starts_with("n_samples = 100000000000 needs 745.1 GiB of memory"), "{err}");
        assert!(check_floats(|| "x".into(), f64::INFINITY).is_err());
        assert!(try_vec::<f64>(10, "x").is_ok());
        let err = try_vec::<f64>(usize::MAX / 4, "the samples").unwrap_err();
        assert!(err.0.starts_with("cannot allocate") && err.0.contains("the samples"), "{}", err.0);
    }
}
