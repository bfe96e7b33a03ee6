//! Arrays that a process task (`[python]`, `[worker]`) wrote as `.npy` files into its
//! attempt's directory, moved into the run's staging file when the store is the layout:
//! numbers of any numpy dtype become float64 (as every array of the store is), and the
//! files leave the directory, so `tasks/<task>/` keeps only what is not an array.

use super::StagingWriter;
use crate::grid::TaskId;
use crate::task::{FailureClass, TaskFailure};
use ndarray::ArrayD;
use ndarray_npy::{ReadNpyExt, ReadableElement};
use std::io::Read;
use std::path::Path;

/// Reads `bytes` as a `.npy` array of one of the numeric dtypes numpy writes, as f64.
fn as_f64(bytes: &[u8]) -> Option<ArrayD<f64>> {
    fn read<T: ReadableElement + Copy>(b: &[u8], f: impl Fn(T) -> f64) -> Option<ArrayD<f64>> {
        ArrayD::<T>::read_npy(b).ok().map(|a| a.mapv(f))
    }
    read::<f64>(bytes, |v| v)
        .or_else(|| read::<f32>(bytes, f64::from))
        .or_else(|| read::<i64>(bytes, |v| v as f64))
        .or_else(|| read::<i32>(bytes, f64::from))
        .or_else(|| read::<i16>(bytes, f64::from))
        .or_else(|| read::<i8>(bytes, f64::from))
        .or_else(|| read::<u64>(bytes, |v| v as f64))
        .or_else(|| read::<u32>(bytes, f64::from))
        .or_else(|| read::<u16>(bytes, f64::from))
        .or_else(|| read::<u8>(bytes, f64::from))
        .or_else(|| read::<bool>(bytes, |v| if v { 1.0 } else { 0.0 }))
}

/// Stages every top-level `<name>.npy` of `dir` as array `name` of task `id`, then removes
/// the file; returns how many it staged. An array that is not numeric (strings, objects, complex numbers), which the
/// store cannot hold, fails the task with a message naming it, and its files stay.
pub fn stage_npy_files(dir: &Path, id: TaskId, staging: &StagingWriter) -> Result<usize, TaskFailure> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(0) };
    let mut found: Vec<(String, std::path::PathBuf)> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| {
            let name = e.file_name().to_str()?.strip_suffix(".npy")?.to_string();
            Some((name, e.path()))
        })
        .collect();
    // In name order, so that a task's records are staged the same way every time.
    found.sort();
    let mut arrays = Vec::with_capacity(found.len());
    for (name, path) in &found {
        let mut bytes = Vec::new();
        crate::io::open_nofollow(path).and_then(|mut f| f.read_to_end(&mut bytes)).map_err(|e| {
            TaskFailure::new(FailureClass::Io, format!("cannot read array `{name}` ({}): {e}", path.display()))
        })?;
        let a = as_f64(&bytes).ok_or_else(|| {
            TaskFailure::new(
                FailureClass::Error,
                format!(
                    "array `{name}` is not numeric, and the store ([output] arrays = \"zarr\") holds numbers only; \
                     return a number array, or use arrays = \"npy\""
                ),
            )
        })?;
        arrays.push((name.clone(), a));
    }
    staging
        .append(id, arrays.iter().map(|(n, a)| (n.as_str(), a)))
        .map_err(|e| TaskFailure::new(FailureClass::Io, format!("cannot stage the task's arrays: {e}")))?;
    for (_, path) in &found {
        let _ = std::fs::remove_file(path);
    }
    Ok(found.len())
}
