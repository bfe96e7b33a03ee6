//! What can go wrong reading an out directory and drawing from it.

use std::io;
use std::path::PathBuf;

use crate::outdir::ManifestError;

/// An error while reading an out directory or drawing a report or plot.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// `results.csv` is not valid CSV.
    #[error("{}: {source}", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: csv::Error,
    },
    /// A file does not have the expected format.
    #[error("{}: {message}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// `manifest.json` could not be read.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// A column named on the command line does not exist.
    #[error(
        "{flag}: no {what} `{name}` in this sweep{}; available: {}",
        suggestion.as_ref().map(|s| format!(" ({s})")).unwrap_or_default(),
        if available.is_empty() { "(none)".to_string() } else { available.join(", ") }
    )]
    UnknownColumn {
        /// The command-line flag, e.g. `--x`.
        flag: &'static str,
        /// What was expected, e.g. `parameter`.
        what: &'static str,
        /// The name given.
        name: String,
        /// A "did you mean" hint, if a close name exists.
        suggestion: Option<String>,
        /// The names that would have been accepted.
        available: Vec<String>,
    },
    /// The request cannot be drawn (e.g. a non-numeric metric, too many series).
    #[error("{0}")]
    Unsupported(String),
    /// PNG output was asked for; only SVG is supported.
    #[error(
        "{}: PNG output is not supported (text in PNG plots would need TrueType fonts); \
         write an .svg file instead and convert it if needed",
        path.display()
    )]
    PngUnsupported {
        /// The requested output file.
        path: PathBuf,
    },
    /// The plotting library failed.
    #[error("drawing {what}: {message}")]
    Draw {
        /// What was being drawn.
        what: String,
        /// The plotting library's message.
        message: String,
    },
}

impl ReportError {
    /// Whether the request itself is at fault (a directory with no sweep, a column or an
    /// output the sweep cannot have), rather than the files or the drawing.
    pub fn is_usage(&self) -> bool {
        match self {
            ReportError::Io { source, .. } => source.kind() == io::ErrorKind::NotFound,
            ReportError::UnknownColumn { .. } | ReportError::Unsupported(_) | ReportError::PngUnsupported { .. } => {
                true
            }
            ReportError::Csv { .. }
            | ReportError::Format { .. }
            | ReportError::Manifest(_)
            | ReportError::Draw { .. } => false,
        }
    }
}
