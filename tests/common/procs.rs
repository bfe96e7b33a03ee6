//! Finding live processes by what they carry, to check that nothing a run started
//! outlives it.

/// Pids of live processes (zombies left out) whose `/proc/<pid>/<file>` (`environ`,
/// `cmdline`) holds `needle`.
pub fn processes_whose(file: &str, needle: &str) -> Vec<i32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else { continue };
        let Ok(text) = std::fs::read(format!("/proc/{pid}/{file}")) else { continue };
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let zombie = stat.rsplit_once(')').is_some_and(|(_, r)| r.trim_start().starts_with('Z'));
        if !zombie && String::from_utf8_lossy(&text).contains(needle) {
            out.push(pid);
        }
    }
    out
}

/// Pids of live processes whose environment holds `needle` (say, a test's own directory).
pub fn processes_with_env(needle: &str) -> Vec<i32> {
    processes_whose("environ", needle)
}

/// Pids of live processes whose command line mentions `needle`.
pub fn processes_mentioning(needle: &str) -> Vec<i32> {
    processes_whose("cmdline", needle)
}
