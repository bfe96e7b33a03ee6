//! The ledger: what `sweep status` and a resume need of every task, in a few bits per task.
//! A bit per task says done; the tasks that failed and are not done carry their attempts,
//! deaths and last failure (a failure is rare, or the sweep is broken and small). Metrics
//! are not held: they stay in the journal.
//!
//! A ledger is the fold of journal records in order, like [`super::TaskTable`]'s rows, and
//! folds compose: the ledger of records `a` then `b` is `ledger(a).then(&ledger(b))`. So a
//! checkpoint of a journal's first bytes plus the records after them gives what the whole
//! journal gives, and the journals of an out directory combine in their order.

use crate::task::FailureClass;
use std::collections::BTreeMap;

/// A task that failed on its last attempt so far and is not done.
#[derive(Clone, Debug, PartialEq)]
pub struct Failed {
    /// Attempts so far, across runs.
    pub attempts: u32,
    /// Attempts that ended because sweep itself crashed while they ran.
    pub deaths: u8,
    /// The last failure's class.
    pub class: FailureClass,
    /// The last failure's message.
    pub message: Box<str>,
}

/// Done bits and failures of every task of a grid.
#[derive(Clone, Debug, PartialEq)]
pub struct Ledger {
    tasks: u64,
    done: Vec<u64>,
    failed: BTreeMap<u64, Failed>,
}

impl Ledger {
    /// A ledger of `tasks` tasks, none done or failed.
    pub fn new(tasks: u64) -> Ledger {
        Ledger { tasks, done: vec![0; tasks.div_ceil(64) as usize], failed: BTreeMap::new() }
    }

    /// Rebuilds a ledger from its parts (a checkpoint); `None` when they do not fit `tasks`.
    pub fn from_parts(tasks: u64, done: Vec<u64>, failed: BTreeMap<u64, Failed>) -> Option<Ledger> {
        let fits = done.len() as u64 == tasks.div_ceil(64)
            && done.last().is_none_or(|w| tasks.is_multiple_of(64) || w >> (tasks % 64) == 0)
            && failed.keys().next_back().is_none_or(|&i| i < tasks);
        let ledger = Ledger { tasks, done, failed };
        (fits && ledger.failed.keys().all(|&i| !ledger.is_done(i))).then_some(ledger)
    }

    /// Tasks of the grid.
    pub fn tasks(&self) -> u64 {
        self.tasks
    }

    /// The done bits, 64 tasks per word, task `i` at bit `i % 64` of word `i / 64`.
    pub fn done_words(&self) -> &[u64] {
        &self.done
    }

    /// The failed tasks that are not done, by grid index.
    pub fn failed(&self) -> &BTreeMap<u64, Failed> {
        &self.failed
    }

    /// Whether task `i` is done.
    pub fn is_done(&self, i: u64) -> bool {
        i < self.tasks && self.done[(i / 64) as usize] >> (i % 64) & 1 == 1
    }

    /// Folds in one record: attempt number `attempt` of task `index` ended done (`Ok`) or
    /// failed; `died` marks an attempt that ended because sweep crashed. A done task stays
    /// done, a failed one keeps its newest attempt's failure (as [`super::TaskTable`] rows do);
    /// indices outside the grid are ignored (as a grid that shrank ignores them).
    pub fn apply(&mut self, index: u64, attempt: u32, died: bool, outcome: Result<(), (FailureClass, &str)>) {
        if index >= self.tasks || self.is_done(index) {
            return;
        }
        match outcome {
            Ok(()) => {
                self.done[(index / 64) as usize] |= 1 << (index % 64);
                if !self.failed.is_empty() {
                    self.failed.remove(&index);
                }
            }
            Err((class, message)) => self.fail(index, attempt, u8::from(died), class, message),
        }
    }

    /// Folds failed attempts of task `index` (not done), the newest numbered `attempt`,
    /// `deaths` of them ended by sweep crashing, into its entry: the newest attempt's
    /// failure is the task's, whichever comes first.
    fn fail(&mut self, index: u64, attempt: u32, deaths: u8, class: FailureClass, message: &str) {
        let f =
            self.failed.entry(index).or_insert_with(|| Failed { attempts: 0, deaths: 0, class, message: "".into() });
        if attempt >= f.attempts {
            f.class = class;
            f.message = message.into();
        }
        f.attempts = f.attempts.max(attempt);
        f.deaths = f.deaths.saturating_add(deaths);
    }

    /// Folds in `later`, a ledger of records that came after this one's.
    pub fn then(&mut self, later: &Ledger) {
        debug_assert_eq!(self.tasks, later.tasks);
        for (w, l) in self.done.iter_mut().zip(&later.done) {
            *w |= l;
        }
        let done = &self.done;
        self.failed.retain(|&i, _| done[(i / 64) as usize] >> (i % 64) & 1 == 0);
        for (&i, f) in &later.failed {
            if !self.is_done(i) {
                self.fail(i, f.attempts, f.deaths, f.class, &f.message);
            }
        }
    }

    /// (done, failed, pending) over the grid.
    pub fn counts(&self) -> (u64, u64, u64) {
        let done: u64 = self.done.iter().map(|w| u64::from(w.count_ones())).sum();
        let failed = self.failed.len() as u64;
        (done, failed, self.tasks - done - failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// (task, attempt, died, done?)
    fn records() -> impl Strategy<Value = Vec<(u64, u32, bool, bool)>> {
        prop::collection::vec((0u64..70, 1u32..5, any::<bool>(), any::<bool>()), 0..120)
    }

    fn fold(tasks: u64, rs: &[(u64, u32, bool, bool)]) -> Ledger {
        let mut l = Ledger::new(tasks);
        for &(i, a, died, done) in rs {
            let msg = format!("attempt {a}");
            l.apply(i, a, died && !done, if done { Ok(()) } else { Err((FailureClass::Error, &msg)) });
        }
        l
    }

    proptest! {
        #[test]
        fn a_fold_split_anywhere_and_joined_with_then_is_the_whole_fold(rs in records(), cut in 0usize..120) {
            let cut = cut.min(rs.len());
            let whole = fold(66, &rs);
            let mut joined = fold(66, &rs[..cut]);
            joined.then(&fold(66, &rs[cut..]));
            prop_assert_eq!(&joined, &whole);
            let (d, f, p) = whole.counts();
            prop_assert_eq!(d + f + p, 66);
            let rebuilt = Ledger::from_parts(66, whole.done.clone(), whole.failed.clone());
            prop_assert_eq!(rebuilt.as_ref(), Some(&whole));
        }
    }

    #[test]
    fn parts_that_do_not_fit_the_grid_are_refused() {
        assert!(Ledger::from_parts(65, vec![0], BTreeMap::new()).is_none(), "too few words");
        assert!(Ledger::from_parts(65, vec![0, 2], BTreeMap::new()).is_none(), "a bit past the last task");
        let f = Failed { attempts: 1, deaths: 0, class: FailureClass::Error, message: "x".into() };
        assert!(Ledger::from_parts(65, vec![0, 0], BTreeMap::from([(65, f.clone())])).is_none());
        assert!(Ledger::from_parts(65, vec![1, 0], BTreeMap::from([(0, f.clone())])).is_none(), "done and failed");
        assert!(Ledger::from_parts(65, vec![1, 1], BTreeMap::from([(1, f)])).is_some());
    }
}
