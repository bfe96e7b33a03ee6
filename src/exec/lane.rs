//! A lane of the pool: what every thread running models and commands shares, and one
//! task's attempts with their retries (persistent workers have threads of their own, see
//! [`super::workers`]).

use super::attempt::{Place, Scratch};
use super::config::RunConfig;
use super::crashes::{Mode, Running};
use super::recorder::{is_last_try, Attempt, Batch, Recorder};
use super::writer::WriteJob;
use super::Stats;
use crate::grid::TaskId;
use crate::task::{Cancel, FailureClass};
use crossbeam_channel::Sender;
use rayon::prelude::*;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Instant;

/// What every thread of the pool shares.
pub(super) struct Lane<'a> {
    pub place: &'a Place<'a>,
    pub cfg: &'a RunConfig,
    pub cancel: &'a Cancel,
    pub stats: &'a Stats,
    pub idents: &'a [(TaskId, u64)],
    /// The grid index of `idents[0]`.
    pub base: u64,
    /// Attempts earlier runs made of the tasks (absent: none).
    pub prior: &'a HashMap<u64, u32>,
    /// `[output] arrays = "zarr"`: arrays are staged here, on the worker's own thread (an
    /// append to a buffer needs no I/O thread), instead of written as `.npy` files.
    pub staging: Option<&'a crate::store::StagingWriter>,
}

impl Lane<'_> {
    /// Runs tasks on `pool`: the suspects to run `alone` first, one at a time, then the
    /// `group` of suspects side by side with nothing else, then the `rest` (see
    /// [`super::crashes`]).
    pub fn pool(
        &self,
        pool: &rayon::ThreadPool,
        [alone, group, rest]: [&[u64]; 3],
        tx: Sender<WriteJob>,
        recorder: &Recorder<'_, '_>,
        running: &Running,
    ) {
        let side_by_side = |tasks: &[u64], tx: Sender<WriteJob>| {
            tasks
                .par_iter()
                .with_max_len(1024)
                .for_each_with((tx, Batch::new(recorder), Scratch::default()), |(tx, batch, scratch), &i| {
                    self.task(i, tx, batch, scratch)
                })
        };
        pool.install(|| {
            if !alone.is_empty() {
                running.set_mode(Mode::Alone);
                let (mut tx, mut batch, mut scratch) = (tx.clone(), Batch::new(recorder), Scratch::default());
                for &i in alone {
                    self.task(i, &mut tx, &mut batch, &mut scratch);
                    // On record before the next runs alone: if that one kills sweep, this
                    // one is not run again.
                    drop(std::mem::replace(&mut batch, Batch::new(recorder)));
                }
            }
            if !group.is_empty() {
                running.set_mode(Mode::Group);
                side_by_side(group, tx.clone());
            }
            running.set_mode(Mode::Side);
            side_by_side(rest, tx);
        })
    }

    /// Runs task `index` with its retries; a task that writes arrays is handed to the I/O
    /// threads, which record it once its files are in place.
    fn task(&self, index: u64, tx: &mut Sender<WriteJob>, batch: &mut Batch, scratch: &mut Scratch) {
        if self.cancel.is_draining() {
            return;
        }
        let (id, seed) = self.idents[index as usize];
        let before = self.prior.get(&index).copied().unwrap_or(0);
        let mut t0 = Instant::now();
        self.stats.set_running(Some((id, self.base + index, t0)));

        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self.place.run(self.base + index, (id, seed), before + attempt, scratch);
            let outputs = scratch.outputs();
            let at = Instant::now();
            let seconds = at.duration_since(t0).as_secs_f64();
            let slow = seconds > 1e-3;
            match result {
                Ok(()) if !outputs.arrays.is_empty() && self.staging.is_some() => {
                    let staging = self.staging.expect("checked by the guard");
                    let staged = crate::io::inject_fault()
                        .and_then(|()| staging.append(id, outputs.arrays.iter().map(|(n, a)| (n.as_str(), a))));
                    let arrays = outputs.arrays.len();
                    outputs.arrays.clear();
                    let a = Attempt { index, number: before + attempt, seconds, last: true, at };
                    match staged {
                        Ok(bytes) => {
                            self.stats.bytes.fetch_add(bytes, Ordering::Relaxed);
                            batch.records.push(id, a, Ok(&mut outputs.metrics));
                            batch.records.push_staged(arrays);
                            batch.pushed(at, slow);
                        }
                        Err(e) => {
                            // A full disk stops the run (the staging file takes no more anyway).
                            if super::writer::is_fatal(&e) {
                                self.cancel.drain(crate::task::StopReason::Io(e.to_string()));
                            }
                            batch.records.push(
                                id,
                                a,
                                Err(crate::task::TaskFailure::new(FailureClass::Io, e.to_string())),
                            );
                            batch.pushed(at, true);
                        }
                    }
                    break;
                }
                Ok(()) if !outputs.arrays.is_empty() => {
                    let job = WriteJob {
                        index,
                        attempt: before + attempt,
                        seconds,
                        metrics: std::mem::take(&mut outputs.metrics),
                        arrays: std::mem::take(&mut outputs.arrays),
                    };
                    // Blocks when the disk is slower than the workers: memory stays bounded.
                    let _ = tx.send(job);
                    break;
                }
                Ok(()) => {
                    let a = Attempt { index, number: before + attempt, seconds, last: true, at };
                    // Only commands leave a directory here; a model's arrays go to the writers.
                    let files = scratch.take_files();
                    batch.records.push_done(id, a, &mut scratch.outputs().metrics, files.as_deref(), 0);
                    batch.pushed(at, slow);
                    break;
                }
                // An interrupted task is left pending: `--resume` runs it again.
                Err(f) if f.class == FailureClass::Interrupted => break,
                Err(f) => {
                    let last = is_last_try(attempt, self.cfg.retries, self.cancel);
                    batch.records.push(id, Attempt { index, number: before + attempt, seconds, last, at }, Err(f));
                    // Failures are handed over at once: --max-failures must stop promptly.
                    batch.pushed(at, true);
                    if last {
                        break;
                    }
                    self.stats.retried.fetch_add(1, Ordering::Relaxed);
                    t0 = at;
                }
            }
        }
        self.stats.set_running(None);
    }
}
