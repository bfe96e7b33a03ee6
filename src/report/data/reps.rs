//! How many replicates a grid point runs, as captions and subtitles name them.

use crate::outdir::Manifest;

/// Replicates per grid point, as captions name them: a fixed count ("5 replicates"), or
/// the range of adaptive replicates ("5 to 200 replicates").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Reps {
    /// The fewest a point runs.
    pub min: u32,
    /// The most a point runs.
    pub max: u32,
}

impl Reps {
    /// The replicates of the manifest's sweep.
    pub fn of(m: &Manifest) -> Reps {
        let min = m.adaptive.as_ref().and_then(|a| a["min"].as_u64()).map_or(m.replicates, |n| n as u32);
        Reps { min, max: m.replicates }
    }
}

impl std::fmt::Display for Reps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.min, self.max) {
            (1, 1) => f.write_str("1 replicate"),
            (a, b) if a == b => write!(f, "{a} replicates"),
            (a, b) => write!(f, "{a} to {b} replicates"),
        }
    }
}
