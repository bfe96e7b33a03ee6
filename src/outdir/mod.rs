//! The out directory: its layout (`layout`), its lock (`lock`) and its manifest
//! (`manifest`).

mod layout;
mod lock;
mod manifest;

pub use layout::{create_new, OutDir, SLURM_DIRS};
pub use lock::{Lock, LockError};
pub use manifest::{spec_hash, Manifest, ManifestAxis, ManifestError, MANIFEST_FORMAT};
