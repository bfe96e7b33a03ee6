//! Filling a shard's cells: per-task values over the grid's dimensions, and coordinates.

use super::zarr::{for_runs, Cells, DType};
use crate::value::Value;
use std::io;

/// Sets every element of the shard at `origin` (grid variables: the grid's row-major task
/// index) to `value(task)`; returns whether any was set.
pub(super) fn fill_each(
    cells: &mut Cells,
    shape: &[u64],
    shard: &[u64],
    origin: &[u64],
    value: impl Fn(usize) -> Option<[u8; 8]>,
) -> bool {
    let Cells::Fixed(buf) = cells else { return false };
    let mut any = false;
    each_task(shape, shard, origin, |task, cell| {
        if let Some(b) = value(task) {
            any = true;
            buf[cell * 8..cell * 8 + 8].copy_from_slice(&b);
        }
    });
    any
}

pub(super) fn strings(
    cells: &mut Cells,
    shape: &[u64],
    shard: &[u64],
    origin: &[u64],
    value: impl Fn(usize) -> String,
) -> io::Result<bool> {
    let Cells::Str(v) = cells else { return Ok(false) };
    each_task(shape, shard, origin, |task, cell| v[cell] = value(task));
    Ok(true)
}

/// Calls `each(task index, cell in the shard)` for every task of the shard at `origin`.
pub(super) fn each_task(shape: &[u64], shard: &[u64], origin: &[u64], mut each: impl FnMut(usize, usize)) {
    let size: Vec<u64> = shape.iter().zip(shard).zip(origin).map(|((&n, &s), &o)| s.min(n - o)).collect();
    let mut cells = Vec::new();
    for_runs(shard, &vec![0; shard.len()], &size, |from, n| cells.push((from, n)));
    let mut tasks = Vec::new();
    for_runs(shape, origin, &size, |from, n| tasks.push((from, n)));
    for ((c, n), (t, _)) in cells.into_iter().zip(tasks) {
        for k in 0..n {
            each(t + k, c + k);
        }
    }
}

/// The element type a coordinate's values take, as pandas would read them.
pub(super) fn coord_type(values: &[Value]) -> DType {
    if values.iter().all(|v| matches!(v, Value::Int(_))) {
        DType::I64
    } else if values.iter().all(|v| matches!(v, Value::Int(_) | Value::Float(_))) {
        DType::F64
    } else if values.iter().all(|v| matches!(v, Value::Bool(_))) {
        DType::Bool
    } else {
        DType::Str
    }
}

/// Sets a coordinate's cells.
pub(super) fn set_values(cells: &mut Cells, dtype: DType, values: &[Value]) {
    for (i, v) in values.iter().enumerate() {
        match (cells as &mut Cells, v) {
            (Cells::Str(s), v) => s[i] = v.to_string(),
            (Cells::Fixed(b), Value::Bool(x)) => b[i] = u8::from(*x),
            (Cells::Fixed(b), Value::Int(x)) if dtype == DType::I64 => {
                b[i * 8..i * 8 + 8].copy_from_slice(&x.to_le_bytes())
            }
            (Cells::Fixed(b), Value::Int(x)) => b[i * 8..i * 8 + 8].copy_from_slice(&(*x as f64).to_le_bytes()),
            (Cells::Fixed(b), Value::Float(x)) => b[i * 8..i * 8 + 8].copy_from_slice(&x.to_le_bytes()),
            (Cells::Fixed(_), Value::Str(_)) => {}
        }
    }
}
