//! The errors that stop `sweep` before or around a run (a failed *task* is not one of
//! these: it is a journal record).

use crate::outdir::LockError;
use crate::spec::SpecError;
use std::io;

/// Why a command could not do its job.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The spec is invalid.
    #[error("{0}")]
    Spec(#[from] SpecError),
    /// The request cannot be carried out as asked (e.g. the out directory holds another sweep).
    #[error("{0}")]
    Usage(String),
    /// Another run holds the out directory.
    #[error("{0}")]
    Lock(#[from] LockError),
    /// Jobs could not be submitted to the batch system (`sweep slurm --submit`).
    #[error("{0}")]
    Submit(String),
    /// A report or plot could not be made.
    #[error("{0}")]
    Report(#[from] crate::report::ReportError),
    /// A stop signal came before any task ran (while persistent workers started).
    #[error("{0}")]
    Interrupted(String),
    /// A file could not be read or written.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The OS error.
        source: io::Error,
    },
}

impl Error {
    /// An I/O error with what was being done.
    pub fn io(context: impl Into<String>, source: io::Error) -> Self {
        Error::Io { context: context.into(), source }
    }
}

/// Adds context to I/O results.
pub trait IoContext<T> {
    /// Wraps an I/O error with `what` was being done.
    fn context(self, what: impl FnOnce() -> String) -> Result<T, Error>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, Error> {
        self.map_err(|e| Error::io(what(), e))
    }
}
