//! Writing `results.csv`: one row per task in grid order.

use super::{Detail, Status, Store};
use crate::spec::{Spec, TaskKind};
use rayon::prelude::*;
use std::io::{self, Write};
use std::path::Path;

/// Rows formatted per parallel chunk; a window of chunks is held at a time.
const CHUNK: usize = 16 * 1024;

/// The metric columns: the model's declared metrics first, then any others sorted.
fn metric_columns(spec: &Spec, store: &Store) -> Vec<u32> {
    let declared: Vec<String> = match &spec.task {
        TaskKind::Model(m) => m.model.metrics().iter().map(|o| o.name.to_string()).collect(),
        TaskKind::Command(_) => Vec::new(),
    };
    let mut cols: Vec<u32> =
        declared.iter().filter_map(|d| store.keys.iter().position(|k| k == d).map(|i| i as u32)).collect();
    let mut rest: Vec<u32> = (0..store.keys.len() as u32).filter(|i| !cols.contains(i)).collect();
    rest.sort_by(|a, b| store.keys[*a as usize].cmp(&store.keys[*b as usize]));
    cols.extend(rest);
    cols
}

/// Writes `results.csv` for the whole grid to `path`, atomically.
///
/// Columns: `task, replicate, seed, <params>, status, attempts, seconds, <metrics>, class, error`.
pub fn write_results_csv(spec: &Spec, store: &Store, path: &Path) -> io::Result<()> {
    let metrics = metric_columns(spec, store);
    let grid = &spec.grid;
    crate::io::write_atomic(path, |out| {
        let mut head = csv::Writer::from_writer(Vec::new());
        let mut header: Vec<&str> = vec!["task", "replicate", "seed"];
        header.extend(grid.columns.iter().map(String::as_str));
        header.extend(["status", "attempts", "seconds"]);
        header.extend(metrics.iter().map(|m| store.keys[*m as usize].as_str()));
        header.extend(["class", "error"]);
        head.write_record(&header)?;
        out.write_all(&head.into_inner().map_err(|e| e.into_error())?)?;

        let n = store.rows.len();
        let window = CHUNK * rayon::current_num_threads().max(1) * 2;
        let mut start = 0;
        while start < n {
            let end = (start + window).min(n);
            let chunks: Vec<io::Result<Vec<u8>>> = (start..end)
                .step_by(CHUNK)
                .collect::<Vec<_>>()
                .into_par_iter()
                .map(|s| format_rows(spec, store, &metrics, s, (s + CHUNK).min(end)))
                .collect();
            for c in chunks {
                out.write_all(&c?)?;
            }
            start = end;
        }
        Ok(())
    })
}

fn format_rows(spec: &Spec, store: &Store, metrics: &[u32], start: usize, end: usize) -> io::Result<Vec<u8>> {
    let grid = &spec.grid;
    let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::with_capacity((end - start) * 96));
    let mut text = String::new();
    let mut cells: Vec<String> = vec![String::new(); metrics.len()];
    for i in start..end {
        let (id, seed) = store.idents[i];
        let row = &store.rows[i];
        let (point, rep) = grid.locate(i as u64);
        w.write_field(id.to_string())?;
        w.write_field(rep.to_string())?;
        w.write_field(seed.to_string())?;
        for c in 0..grid.columns.len() {
            text.clear();
            grid.value(point, c).write_text(&mut text);
            w.write_field(&text)?;
        }
        w.write_field(row.status.as_str())?;
        w.write_field(row.attempts.to_string())?;
        if row.status == Status::Pending {
            w.write_field("")?;
        } else {
            w.write_field(format!("{:.6}", row.seconds))?;
        }
        for c in cells.iter_mut() {
            c.clear();
        }
        let (mut class, mut error) = ("", "");
        match &row.detail {
            Detail::Metrics(ms) => {
                for (k, v) in ms.iter() {
                    if let Some(pos) = metrics.iter().position(|m| m == k) {
                        v.write_text(&mut cells[pos]);
                    }
                }
            }
            Detail::Failed(c, m) => {
                class = c.as_str();
                error = m;
            }
            Detail::None => {}
        }
        for c in &cells {
            w.write_field(c)?;
        }
        w.write_field(class)?;
        w.write_field(error)?;
        w.write_record(None::<&[u8]>)?;
    }
    w.into_inner().map_err(|e| e.into_error())
}
