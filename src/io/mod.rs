//! Writing files: atomically (temporary name, then rename), arrays as `.npy`.

mod atomic;

pub use atomic::{promote, remove_stale_temps, write_atomic, write_npy_atomic, TEMP_MARK};
