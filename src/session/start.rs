//! Starting the persistent workers of a `[python]` or `[worker]` sweep before the out
//! directory is touched, so that one that cannot start is a clear error, not a failed run.

use crate::error::Error;
use crate::proc::Watchdog;
use crate::spec::{Spec, SpecError};
use crate::task::Cancel;
use crate::worker::{StartError, Worker};
use std::sync::Arc;

/// Starts `n` workers of a `[python]` or `[worker]` sweep side by side (at most one per
/// task) and waits until all are ready; none for other sweeps. When one cannot start, the
/// others are stopped and the error names the spec's line.
pub fn start_workers(
    spec: &Spec,
    n: usize,
    cancel: Option<&Arc<Cancel>>,
    slots: &crate::resources::Slots,
) -> Result<Vec<Worker>, Error> {
    let Some(ws) = spec.task.worker() else { return Ok(Vec::new()) };
    let n = n.max(1).min(spec.task_count().max(1) as usize);
    // A stop signal during start-up (a slow import) ends it: no task has run, and a first
    // signal would otherwise wait for imports that may take minutes (#24).
    let watchdog = Watchdog::new(cancel.cloned().unwrap_or_default());
    watchdog.stop_on_drain();
    // Spawned on this thread, which outlives them (they die with the thread that started
    // them); their start-ups are then waited for side by side.
    let spawned: Vec<Result<Worker, StartError>> = (0..n)
        .map(|slot| {
            let mut env = vec![
                ("SWEEP_RUN_ID".to_string(), crate::proc::run_tag().to_string()),
                ("SWEEP_WORKER".into(), slot.to_string()),
            ];
            env.extend(slots.env_here(slot, &ws.env));
            Worker::spawn(ws, &env, None, &watchdog)
        })
        .collect();
    let started: Vec<Result<Worker, StartError>> = std::thread::scope(|s| {
        let handles: Vec<_> = spawned
            .into_iter()
            .map(|w| {
                let watchdog = &watchdog;
                s.spawn(move || w?.ready(watchdog))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err(StartError::Spawn("panicked".into())))).collect()
    });
    let mut workers = Vec::with_capacity(n);
    let mut first_error = None;
    for r in started {
        match r {
            Ok(w) => {
                watchdog.forget(w.pgid());
                workers.push(w);
            }
            Err(e) if first_error.is_none() => first_error = Some(e),
            Err(_) => {}
        }
    }
    let Some(e) = first_error else { return Ok(workers) };
    drop(workers);
    if e == StartError::Interrupted {
        return Err(Error::Interrupted(
            "interrupted while the workers started: no task ran, and nothing was written for them; \
             run the same command again to start"
                .into(),
        ));
    }
    let what = match &ws.python {
        Some(f) => format!("[python] `{}` cannot start: {e}", f.function),
        None => format!("[worker] `{}` cannot start: {e}", ws.argv.join(" ")),
    };
    let detail = e.detail().trim_end();
    let help = if detail.is_empty() {
        "fix the worker, then run again; nothing was written".to_string()
    } else {
        let indented: Vec<String> = detail.lines().map(|l| format!("    {l}")).collect();
        format!("what the worker said (nothing was written):\n{}", indented.join("\n"))
    };
    Err(Error::Spec(SpecError {
        path: spec.path.clone(),
        source: spec.text.clone(),
        span: Some(ws.span.clone()),
        message: what,
        help: Some(help),
    }))
}
