//! What differs between the kinds of task, asked of the kind: the rest of the crate calls
//! these instead of matching on [`TaskKind`] itself.

use super::{ModelTask, TaskKind};
use crate::command::CommandSpec;
use crate::value::Value;
use crate::worker::WorkerSpec;
use std::sync::Arc;

impl TaskKind {
    /// "model NAME" or "command", for messages.
    pub fn label(&self) -> String {
        match self {
            TaskKind::Model(m) => format!("model {}", m.model.name()),
            TaskKind::Command(_) => "command".into(),
            TaskKind::Worker(w) => match &w.python {
                Some(f) => format!("python {}", f.function),
                None => "worker".into(),
            },
        }
    }

    /// The spec's task table: "model", "command", "python" or "worker".
    pub fn table(&self) -> &'static str {
        match self {
            TaskKind::Model(_) => "model",
            TaskKind::Command(_) => "command",
            TaskKind::Worker(w) => w.table,
        }
    }

    /// What identifies a command's or a worker's tasks besides the grid (its program and
    /// arguments), as the manifest records it; `None` for a model.
    pub fn identity(&self) -> Option<serde_json::Value> {
        match self {
            TaskKind::Model(_) => None,
            TaskKind::Command(c) => Some(c.identity.clone()),
            TaskKind::Worker(w) => Some(w.identity.clone()),
        }
    }

    /// The built-in model, for a model sweep.
    pub fn model(&self) -> Option<&ModelTask> {
        match self {
            TaskKind::Model(m) => Some(m),
            _ => None,
        }
    }

    /// The program, for a `[command]` sweep.
    pub fn command(&self) -> Option<&CommandSpec> {
        match self {
            TaskKind::Command(c) => Some(c),
            _ => None,
        }
    }

    /// The worker, for a `[python]` or `[worker]` sweep.
    pub fn worker(&self) -> Option<&WorkerSpec> {
        match self {
            TaskKind::Worker(w) => Some(w),
            _ => None,
        }
    }

    /// Tasks run inside sweep's own process (a model), where one can take sweep down; the
    /// other kinds run in processes sweep starts, supervises and reaps.
    pub fn in_process(&self) -> bool {
        matches!(self, TaskKind::Model(_))
    }

    /// The environment the spec gives the task processes; `None` for a model.
    pub fn env(&self) -> Option<&[(String, String)]> {
        match self {
            TaskKind::Model(_) => None,
            TaskKind::Command(c) => Some(&c.env),
            TaskKind::Worker(w) => Some(&w.env),
        }
    }

    /// [`env`](Self::env), to change (a verify pass with another thread count).
    pub fn env_mut(&mut self) -> Option<&mut Vec<(String, String)>> {
        match self {
            TaskKind::Model(_) => None,
            TaskKind::Command(c) => Some(&mut Arc::make_mut(c).env),
            TaskKind::Worker(w) => Some(&mut Arc::make_mut(w).env),
        }
    }

    /// The arrays a model saves (`[output] save`); `None`: all of them, or not a model.
    pub fn save(&self) -> Option<Arc<[String]>> {
        self.model().and_then(|m| m.save.clone())
    }

    /// The fixed parameters of a model (results.csv's constant columns); none otherwise.
    pub fn fixed(&self) -> &[(String, Value)] {
        self.model().map_or(&[], |m| &m.fixed)
    }
}
