//! Comparing a sampled task's arrays in the store (`[output] arrays = "zarr"`) with its
//! rerun's: every array exactly (floats by their bits), so that an array lost or changed in
//! the store is caught, not only its task's metrics.

use super::compare::Found;
use crate::store::ArrayData;
use std::collections::BTreeMap;

/// The arrays of one task, by name (see [`crate::store::arrays_of`]).
pub type Arrays = BTreeMap<String, ArrayData>;

/// What differs between the task's arrays in the store and in its rerun.
pub fn arrays(stored: Option<&Arrays>, rerun: Option<&Arrays>) -> Vec<Found> {
    let none = Arrays::new();
    let (stored, rerun) = (stored.unwrap_or(&none), rerun.unwrap_or(&none));
    let found = |name: &str, detail: String| Found { output: format!("store.zarr/{name}"), detail };
    let mut out = Vec::new();
    for (name, r) in rerun {
        let detail = match (stored.get(name), r) {
            (None, _) => "missing from the store (the rerun has it)".to_string(),
            (Some(Err(e)), _) => format!("cannot be read from the store: {e}"),
            (_, Err(e)) => format!("cannot read the rerun's: {e}"),
            (Some(Ok(s)), Ok(r)) => match difference(s, r) {
                Some(d) => d,
                None => continue,
            },
        };
        out.push(found(name, detail));
    }
    for (name, s) in stored.iter().filter(|(n, _)| !rerun.contains_key(*n)) {
        match s {
            Err(e) => out.push(found(name, format!("cannot be read from the store: {e}"))),
            // The store has every array for every task: NaN where a task returned none.
            Ok((_, data)) if data.chunks_exact(8).all(|c| f64::from_le_bytes(c.try_into().expect("8")).is_nan()) => {}
            Ok(_) => out.push(found(name, "in the store, but the rerun did not return it".into())),
        }
    }
    out
}

/// Where two arrays first differ, by shape or element; `None` when they are the same.
fn difference((s_shape, s): &(Vec<u64>, Vec<u8>), (r_shape, r): &(Vec<u64>, Vec<u8>)) -> Option<String> {
    if s_shape != r_shape {
        return Some(format!("shape {s_shape:?} in the store, {r_shape:?} in the rerun"));
    }
    let value = |c: &[u8]| f64::from_le_bytes(c.try_into().expect("8 bytes"));
    let (at, (a, b)) = s.chunks_exact(8).zip(r.chunks_exact(8)).enumerate().find(|(_, (a, b))| a != b)?;
    Some(format!("first at element {at} (C order): {:?} in the store, {:?} in the rerun", value(a), value(b)))
}
