//! External-program tasks: the `[command]` table, its placeholders, and running it.

mod invocation;
mod spawn;
mod supervisor;
mod template;
mod verdict;

pub use invocation::Invocation;
pub use spawn::find_in_path;
pub use supervisor::Supervisor;
pub use template::{Piece, Template, Values, BUILTIN_PLACEHOLDERS};
pub use verdict::tail_lines;

use std::path::PathBuf;
use std::time::Duration;

/// The thread-count variables each task gets (see [`crate::resources::THREAD_VARS`]).
pub use crate::resources::THREAD_VARS;

/// A validated `[command]` table.
#[derive(Debug, Clone)]
pub struct CommandSpec {
    /// Run the program directly with these arguments (never through a shell)...
    pub argv: Option<Vec<Template>>,
    /// ...or run `sh -c` on this line, every substituted value shell-quoted.
    pub shell: Option<Template>,
    /// Per-task time limit.
    pub timeout: Option<Duration>,
    /// Time between SIGTERM and SIGKILL when a task is stopped.
    pub grace: Duration,
    /// Variables merged over the inherited environment.
    pub env: Vec<(String, String)>,
    /// Working directory of the program (absolute): the spec's directory unless `cwd` says
    /// otherwise; relative program paths resolve against it.
    pub cwd: PathBuf,
    /// What identifies the command for resume checks: argv/shell, env and cwd as written.
    pub identity: serde_json::Value,
}

/// The default time between SIGTERM and SIGKILL.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(5);
