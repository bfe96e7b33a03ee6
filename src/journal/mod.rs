//! The journal: one JSON line per finished task attempt, appended only after the files
//! it vouches for are in place. Each shard appends to its own file, so no two processes
//! ever append to the same one.
//!
//! Format (version 1): every run opens with a header line
//! `{"sweep_journal":1,"shard":"0/1","pid":123,"started":"...","spec":"<spec hash>"}`, then
//! records
//! `{"task":"<16 hex>","i":42,"status":"done","attempt":1,"seconds":0.0123,"metrics":{...}}` or
//! `{"task":"...","i":43,"status":"failed","attempt":2,"seconds":0.1,"class":"panic","error":"..."}`.
//! `"i"` is the task's position in the grid of the spec the header names: with it, a
//! reader that trusts the header finds a task's place without deriving every task's id
//! (see `checkpoint`). Both fields are optional, like `"files"`: journals written before
//! them read as before, through the ids.
//! A done record of an attempt that left files in `tasks/<task>/` also carries
//! `"files":{"c.npy":"<SHA-256 hex>",...}`, the checksums of its output files for
//! `sweep verify`. The field is optional, so the format stays version 1: readers ignore
//! unknown fields, and records written before it existed still read.
//! A line that does not parse (a torn write from a killed run) is skipped with a warning.

mod read;
mod write;

pub use read::{journal_files, quick_index, scan, scan_from, scan_lines, Item, LineAt, Record, ScanStats};
pub use write::{append_files, format_death, format_record, JournalWriter};

/// The journal format version this build writes and reads.
pub const VERSION: u32 = 1;
