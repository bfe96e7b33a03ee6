//! What marks this run's children, so that the orphan collector and the sentinel tell
//! them from strangers' processes.

/// The variable that marks a run's processes.
pub const RUN_VAR: &str = "SWEEP_RUN_ID";

/// A tag unique to this process: its pid and when it started, in hex. It names this run's
/// attempt directories and marks its children (`SWEEP_RUN_ID`).
pub fn run_tag() -> &'static str {
    static TAG: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TAG.get_or_init(|| {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        format!("{:x}{:08x}", std::process::id(), nanos as u32)
    })
}
