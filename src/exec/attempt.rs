//! Running one attempt of a task: a model called in this thread (panics caught), or a
//! command run to its end under the run's supervisor.

use super::panic;
use crate::command::{Invocation, Supervisor};
use crate::grid::{Grid, TaskId};
use crate::model::{Metric, Outputs, Params, TaskRng};
use crate::outdir::OutDir;
use crate::spec::{ModelTask, Spec, TaskKind};
use crate::task::{FailureClass, TaskFailure};
use crate::value::Value;
use rand::SeedableRng;

/// What a worker keeps from one task to the next: its output collector and its model
/// parameter values.
#[derive(Default)]
pub(super) struct Scratch {
    outputs: Option<Outputs>,
    params: ParamBuf,
    /// The checksums of the last attempt's output files, when it left a task directory.
    files: Option<Vec<crate::io::FileDigest>>,
}

impl Clone for Scratch {
    /// A fresh scratch for a split of the work.
    fn clone(&self) -> Self {
        Scratch::default()
    }
}

impl Scratch {
    /// The outputs of the last attempt.
    pub fn outputs(&mut self) -> &mut Outputs {
        self.outputs.get_or_insert_with(Outputs::default)
    }

    /// The checksums of the last attempt's output files, if it left a task directory.
    pub fn take_files(&mut self) -> Option<Vec<crate::io::FileDigest>> {
        self.files.take()
    }
}

/// A worker's model parameter values, kept from task to task: replicates of one point
/// follow each other and reuse them, and another point changes only the swept ones.
#[derive(Default)]
struct ParamBuf {
    values: Vec<Value>,
    /// The grid point `values` holds, once filled.
    point: Option<u64>,
}

impl ParamBuf {
    /// The values of `mt`'s parameters at grid point `point`.
    fn at(&mut self, mt: &ModelTask, grid: &Grid, point: u64) -> &[Value] {
        match self.point {
            None => mt.values_at(grid, point, &mut self.values),
            Some(p) if p != point => mt.update_values(grid, point, &mut self.values),
            Some(_) => {}
        }
        self.point = Some(point);
        &self.values
    }
}

/// Where an attempt runs.
pub(super) struct Place<'a> {
    pub spec: &'a Spec,
    /// The out directory, absolute (commands run in other directories).
    pub out: &'a OutDir,
    pub supervisor: Option<&'a Supervisor>,
    /// What each worker slot's processes get.
    pub slots: &'a crate::resources::Slots,
}

impl Place<'_> {
    /// Runs attempt `number` of task `index`; its results are then in `scratch.outputs()`.
    pub fn run(
        &self,
        index: u64,
        (id, seed): (TaskId, u64),
        number: u32,
        scratch: &mut Scratch,
    ) -> Result<(), TaskFailure> {
        let (point, replicate) = self.spec.grid.locate(index);
        let Scratch { outputs, params, files } = scratch;
        *files = None;
        // One collector per worker: cloning the shared `save` list per task would make the
        // workers contend on its reference count.
        let outputs = outputs.get_or_insert_with(|| Outputs::new(self.spec.task.save()));
        outputs.clear();
        match &self.spec.task {
            TaskKind::Model(mt) => {
                let params = Params::new(&mt.specs, params.at(mt, &self.spec.grid, point));
                if let Err(m) = mt.model.check(&params) {
                    return Err(TaskFailure::new(FailureClass::Error, format!("invalid parameters: {m}")));
                }
                let mut rng = TaskRng::seed_from_u64(seed);
                match panic::catch(|| mt.model.run(&params, &mut rng, outputs)) {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(e)) => Err(TaskFailure::new(FailureClass::Error, e.0)),
                    Err(msg) => Err(TaskFailure::new(FailureClass::Panic, msg)),
                }
            }
            TaskKind::Command(cmd) => self.command(cmd, (id, seed), number, (point, replicate), outputs, files),
            TaskKind::Worker(_) => unreachable!("worker tasks run on their own threads (exec::workers)"),
        }
    }

    /// An attempt of a command task. Out of line: the model path above is the hot one.
    #[inline(never)]
    fn command(
        &self,
        cmd: &crate::command::CommandSpec,
        (id, seed): (TaskId, u64),
        number: u32,
        (point, replicate): (u64, u32),
        outputs: &mut Outputs,
        files: &mut Option<Vec<crate::io::FileDigest>>,
    ) -> Result<(), TaskFailure> {
        let grid = &self.spec.grid;
        let values: Vec<String> = (0..grid.columns.len()).map(|c| grid.value(point, c).to_string()).collect();
        let task = id.to_string();
        let dir = super::attempt_dirs::dir(self.out, id, number, crate::proc::run_tag());
        // Commands run on the pool's threads, one at a time each: the thread is the slot.
        let slot = rayon::current_thread_index().unwrap_or(0);
        let mut slot_env = self.slots.env_here(slot, &cmd.env);
        slot_env.push(("SWEEP_WORKER".into(), slot.to_string()));
        let inv = Invocation {
            slot_env: &slot_env,
            spec: cmd,
            columns: &grid.columns,
            values: &values,
            seed,
            replicate,
            task: &task,
            out_dir: &dir,
        };
        let supervisor = self.supervisor.expect("a supervisor runs command sweeps");
        let metrics = supervisor.run(&inv)?;
        if let Some(clash) = clash(&metrics, &grid.columns) {
            return Err(clash);
        }
        // A command cannot write to the array store.
        (*files, _) = super::attempt_dirs::promote(self.out, &dir, id, None)?;
        for (k, v) in metrics {
            outputs.metric(k, v);
        }
        Ok(())
    }
}

/// A metric named like one of sweep's own columns or a parameter: it would shadow that
/// column, so the task fails, naming the key.
pub(super) fn clash(metrics: &[(String, Metric)], params: &[String]) -> Option<TaskFailure> {
    let (key, what) = metrics.iter().find_map(|(k, _)| {
        if crate::results::columns::is_own(k) {
            Some((k, "one of sweep's own results.csv columns"))
        } else if params.iter().any(|p| p == k) {
            Some((k, "a parameter"))
        } else {
            None
        }
    })?;
    Some(TaskFailure::new(
        FailureClass::Error,
        format!("metric `{key}` has the name of {what}; rename it (e.g. `{key}_out`) so it cannot shadow that column"),
    ))
}
