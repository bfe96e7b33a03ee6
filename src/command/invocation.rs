//! One task's command with everything its placeholders and variables expand to: what the
//! supervisor runs and the spawner starts.

use super::CommandSpec;
use std::path::Path;

/// One task's command, with everything its placeholders and variables expand to.
#[derive(Clone, Copy, Debug)]
pub struct Invocation<'a> {
    /// The validated `[command]` table.
    pub spec: &'a CommandSpec,
    /// The swept parameters' names.
    pub columns: &'a [String],
    /// Each parameter's value as text, in the order of `columns`.
    pub values: &'a [String],
    /// The task's seed.
    pub seed: u64,
    /// The replicate.
    pub replicate: u32,
    /// The 16-hex-digit task id.
    pub task: &'a str,
    /// The attempt's own directory (absolute), `{out}`: created before the command starts;
    /// it must not exist yet.
    pub out_dir: &'a Path,
    /// Its worker slot's variables (threads, GPUs), which the spec's `env` overrides.
    pub slot_env: &'a [(String, String)],
}
