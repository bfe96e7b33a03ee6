//! What the user is told of journal lines that a killed run left incomplete.

use crate::journal::{LineAt, ScanStats};

/// Warnings for journal lines that were skipped.
pub fn torn_warnings(stats: &ScanStats) -> Vec<String> {
    stats
        .skipped
        .iter()
        .take(5)
        .map(|(p, at)| {
            let place = match at {
                LineAt::Line(n) => format!("{}:{n}", p.display()),
                LineAt::Byte(b) => format!("{} (at byte {b})", p.display()),
            };
            format!("{place}: ignored an incomplete journal line (left by a run that was killed)")
        })
        .collect()
}
