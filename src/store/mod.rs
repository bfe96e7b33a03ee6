//! The array store (`[output] arrays = "zarr"`): a run appends each done task's arrays to
//! a staging file of its own, flushed before the journal records that vouch for them
//! ([`StagingWriter`]); at the end of a run and in `sweep collect`, `store.zarr` (Zarr v3,
//! sharded) is built from the staged arrays of done tasks ([`build`]), deterministically.

mod arrays;
mod build;
mod cells;
mod check;
mod crc;
mod dims;
mod files;
mod npy_in;
mod old;
mod staging;
mod zarr;

pub use arrays::{arrays_of, ArrayData};
pub use build::build;
pub use check::{lost_arrays, Lost};
pub use dims::notes;
pub use npy_in::stage_npy_files;
pub use staging::{files as staging_files, read as read_staging, Damage, Staged, StagingWriter};
pub use zarr::STORE_FORMAT;
