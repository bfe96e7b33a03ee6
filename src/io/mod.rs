//! Writing files: atomically (temporary name, then rename), arrays as `.npy`, attempt
//! directories moved into place, and never through a symlink planted in an out directory.

mod atomic;
mod digest;
mod hashing;
mod scratch;

pub use atomic::{
    create_new, inject_fault, kill_point, open_nofollow, promote, remove_stale_temps, write_atomic, write_npy,
    write_npy_atomic, AtomicFile, TEMP_MARK,
};
pub use digest::{digest_dir, digest_file, hex, FileDigest, OWN_FILES};
pub use hashing::HashingWriter;
pub use scratch::{remove_dead_scratch, scratch_parent, SCRATCH_PREFIXES};
