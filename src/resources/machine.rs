//! What this process may use: cores, memory and GPUs, read from the system, the cgroup and
//! SLURM, or given by the `SWEEP_TEST_*` variables so that tests can play a bigger machine.

use std::path::PathBuf;

/// Stands in for the cores sweep finds (tests pretend to be a 16-core node with it).
pub const TEST_CORES_VAR: &str = "SWEEP_TEST_CORES";
/// Stands in for the memory sweep finds, as a size (`"8 GiB"`).
pub const TEST_MEMORY_VAR: &str = "SWEEP_TEST_MEMORY";

/// The machine as sweep may use it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Machine {
    /// Cores this process may run on.
    pub cores: usize,
    /// Where the core count comes from, for messages: "2 cores" or "4 cores
    /// (SLURM_CPUS_PER_TASK)".
    pub cores_from: String,
    /// Memory tasks may take, in bytes, when known.
    pub memory: Option<u64>,
    /// The GPUs a run may use, by the ids `CUDA_VISIBLE_DEVICES` takes.
    pub devices: Vec<String>,
    /// Where the devices come from, for messages.
    pub devices_from: String,
}

impl Machine {
    /// Reads the cores and memory; GPUs are the `gpus` given (`--gpus 0,1`), else looked
    /// for only when `want_gpus` (running `nvidia-smi` costs a fraction of a second).
    pub fn detect(gpus: Option<&[String]>, want_gpus: bool) -> Machine {
        let (cores, cores_from) = cores();
        let (devices, devices_from) = match gpus {
            Some(g) => (g.to_vec(), "--gpus".to_string()),
            None if want_gpus => visible_gpus(),
            None => (Vec::new(), String::new()),
        };
        Machine { cores, cores_from, memory: memory(), devices, devices_from }
    }
}

/// The cores: the affinity mask and the cgroup v2 `cpu.max` quota (both honoured by
/// `available_parallelism`), no more than `SLURM_CPUS_PER_TASK`.
fn cores() -> (usize, String) {
    if let Some(n) = std::env::var(TEST_CORES_VAR).ok().and_then(|v| v.parse::<usize>().ok()).filter(|&n| n > 0) {
        return (n, format!("{n} cores ({TEST_CORES_VAR})"));
    }
    let seen = std::thread::available_parallelism().map_or(1, |n| n.get());
    let slurm = std::env::var("SLURM_CPUS_PER_TASK").ok().and_then(|v| v.trim().parse::<usize>().ok());
    match slurm.filter(|&n| n > 0) {
        Some(n) if n < seen => (n, format!("{n} cores (SLURM_CPUS_PER_TASK)")),
        _ => (seen, format!("{seen} cores")),
    }
}

/// Memory tasks may take: `MemAvailable`, no more than the room left under the cgroup's
/// `memory.max`.
fn memory() -> Option<u64> {
    if let Ok(v) = std::env::var(TEST_MEMORY_VAR) {
        return super::parse_size(&v).ok();
    }
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok();
    let available = meminfo.as_deref().and_then(|m| meminfo_kib(m, "MemAvailable:")).map(|k| k * 1024);
    let cgroup = cgroup_dir().and_then(|dir| {
        let max = std::fs::read_to_string(dir.join("memory.max")).ok()?.trim().parse::<u64>().ok()?;
        let current = std::fs::read_to_string(dir.join("memory.current")).ok()?.trim().parse::<u64>().unwrap_or(0);
        Some(max.saturating_sub(current))
    });
    match (available, cgroup) {
        (Some(a), Some(c)) => Some(a.min(c)),
        (a, c) => a.or(c),
    }
}

/// A `/proc/meminfo` field, in KiB.
fn meminfo_kib(meminfo: &str, field: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with(field))?;
    line[field.len()..].split_whitespace().next()?.parse().ok()
}

/// This process's cgroup v2 directory.
fn cgroup_dir() -> Option<PathBuf> {
    let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let path = text.lines().find_map(|l| l.strip_prefix("0::"))?;
    Some(PathBuf::from("/sys/fs/cgroup").join(path.trim_start_matches('/')))
}

/// The GPUs sweep can see: its own `CUDA_VISIBLE_DEVICES`, else one id per line of
/// `nvidia-smi -L`, else none.
fn visible_gpus() -> (Vec<String>, String) {
    if let Ok(v) = std::env::var("CUDA_VISIBLE_DEVICES") {
        return (parse_devices(&v), "CUDA_VISIBLE_DEVICES".into());
    }
    let listed = std::process::Command::new("nvidia-smi")
        .arg("-L")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output();
    match listed {
        Ok(out) if out.status.success() => {
            let n = String::from_utf8_lossy(&out.stdout).lines().filter(|l| l.starts_with("GPU ")).count();
            ((0..n).map(|i| i.to_string()).collect(), "nvidia-smi -L".into())
        }
        _ => (Vec::new(), "no CUDA_VISIBLE_DEVICES, no nvidia-smi".into()),
    }
}

/// The ids of a `CUDA_VISIBLE_DEVICES` value or of `--gpus`: comma-separated, blanks
/// ignored; CUDA stops at the first invalid id (`-1` hides every GPU), and so does this.
pub fn parse_devices(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .take_while(|id| !id.is_empty() && !id.starts_with('-') && *id != "NoDevFiles")
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_stop_where_cuda_stops() {
        assert_eq!(parse_devices("0,1, 2"), ["0", "1", "2"]);
        assert_eq!(parse_devices("GPU-8f3c,GPU-12ab"), ["GPU-8f3c", "GPU-12ab"]);
        assert!(parse_devices("").is_empty());
        assert!(parse_devices("-1").is_empty());
        assert_eq!(parse_devices("3,-1,2"), ["3"]);
    }

    #[test]
    fn meminfo_fields_are_read_in_kib() {
        let m = "MemTotal:       16302412 kB\nMemAvailable:    8000000 kB\n";
        assert_eq!(meminfo_kib(m, "MemAvailable:"), Some(8_000_000));
        assert_eq!(meminfo_kib(m, "SwapFree:"), None);
    }
}
