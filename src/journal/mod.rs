//! The journal: one JSON line per finished task attempt, appended only after the files
//! it vouches for are in place. Each shard appends to its own file, so no two processes
//! ever append to the same one.
//!
//! Format (version 2): every run opens with a header line
//! `{"sweep_journal":2,"shard":"0/1","pid":123,"started":"...","spec":"<spec hash>"}` (and
//! `"run_code"`, the id of the code the run ran: see [`crate::code`]), then
//! one record per finished attempt, keys kept short (a sweep writes millions):
//! `{"t":"<16 hex>","i":42,"a":1,"s":0.012300,"m":{...}}` (done: task, its place in the grid
//! of the spec the header names, attempt, seconds, metrics) or
//! `{"t":"...","i":43,"a":2,"s":0.100000,"c":"panic","e":"..."}` (failed: class, error).
//! A failed attempt that ended because sweep itself crashed also has `"died":true`; a done
//! attempt that left files in `tasks/<task>/` has `"files":{"c.npy":"<SHA-256 hex>",...}`,
//! the checksums of its output files for `sweep verify`. Readers ignore unknown fields.
//!
//! Version 1 journals (sweeps before this one) spelled the keys `task`, `attempt`,
//! `seconds`, `metrics`, `class` and `error`, said `"status":"done"` or `"failed"`, and had
//! no `"i"`: they read as before, and a journal may hold runs of both versions. With `"i"`,
//! a reader that trusts the header places a task without deriving every task's id (see
//! `checkpoint`); without it, through the ids.
//! A line that does not parse (a torn write from a killed run) is skipped with a warning.

mod read;
mod scan;
mod write;

pub use read::{journal_files, journals_read_by, Record};
pub use scan::{quick_index, scan, scan_from, scan_lines, scan_lines_checked, IndexCheck, Item, LineAt, ScanStats};
pub use write::{append_files, append_staged, format_death, format_record, JournalWriter};

/// The journal format version this build writes and reads.
pub const VERSION: u32 = 2;
