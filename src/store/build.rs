//! Building `store.zarr` from the staged arrays of done tasks and the result store's rows.
//!
//! The store is a pure function of which tasks are done and of their data: it is built
//! whole into a temporary directory, one shard at a time, then renamed into place. So a
//! resumed run, or shards merged by `sweep collect`, give the same bytes as one run.

use super::cells::{coord_type, each_task, fill_each, set_values, strings};
use super::dims::{coordinate, largest, Own, Seen};
use super::files::{recover_aside, remove_stale, remove_tree, sync_fs, with_path, ASIDE};
use super::old::OldStore;
use super::staging::{self, Staged};
use super::zarr::{block, for_runs, ArraySpec, Cells, DType, STORE_FORMAT};
use crate::model::Metric;
use crate::outdir::{Manifest, OutDir};
use crate::results::{Status, TaskTable};
use crate::spec::Spec;
use serde_json::{json, Map};
use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Bytes of an inner chunk and of a shard (one file) at most, roughly: big enough that
/// zarr-python reads few chunks, small enough that one shard fits in memory.
const INNER_BYTES: u64 = 4 << 20;
const SHARD_BYTES: u64 = 32 << 20;
const NONE: u32 = u32::MAX;
/// `Loc::file` of an array read back from the previous store.
const OLD: u32 = u32::MAX;

/// Where an array's data lies: in a staging file at `offset`, or (`file == OLD`) in the
/// previous store at position `offset`.
struct Loc {
    file: u32,
    offset: u64,
    shape: Vec<u64>,
}

/// Every array of done tasks, by name: for each task index, its `Loc` (or none).
struct Found {
    files: Vec<File>,
    paths: Vec<PathBuf>,
    locs: Vec<Loc>,
    by_name: BTreeMap<String, Vec<u32>>,
    old: Option<OldStore>,
}

impl Found {
    /// Reads the data of `loc` (array `name`) into `data`.
    fn read(&self, name: &str, loc: &Loc, data: &mut Vec<u8>) -> io::Result<()> {
        match (&self.old, loc.file) {
            (Some(old), OLD) => old.read(name, loc.offset, &loc.shape, data),
            (_, f) => {
                data.resize(loc.shape.iter().product::<u64>() as usize * 8, 0);
                self.files[f as usize]
                    .read_exact_at(data, loc.offset)
                    .map_err(|e| with_path(e, &self.paths[f as usize]))
            }
        }
    }
}

fn scan(out: &OutDir, store: &TaskTable) -> io::Result<Found> {
    let index = store.index();
    let n = store.rows.len();
    let old = OldStore::open(&out.store())?;
    let mut found =
        Found { files: Vec::new(), paths: Vec::new(), locs: Vec::new(), by_name: BTreeMap::new(), old: None };
    for path in staging::files(&out.staging())? {
        let file_no = found.files.len() as u32;
        staging::read(&path, |s: Staged| {
            let Some(i) = index.get(&s.id).map(|&i| i as usize) else { return };
            if store.rows[i].status != Status::Done {
                return;
            }
            let slots = found.by_name.entry(s.name).or_insert_with(|| vec![NONE; n]);
            // A task staged twice (killed after staging, before its journal record, then run
            // again) has the same data both times: the first record is as good as any.
            if slots[i] == NONE {
                slots[i] = found.locs.len() as u32;
                found.locs.push(Loc { file: file_no, offset: s.offset, shape: s.shape });
            }
        })
        .map(drop)?;
        found.files.push(crate::io::open_nofollow(&path).map_err(|e| with_path(e, &path))?);
        found.paths.push(path);
    }
    // What no staging file holds any more was built into the previous store.
    if let Some(old) = &old {
        for name in old.names() {
            let slots = found.by_name.entry(name.clone()).or_insert_with(|| vec![NONE; n]);
            for (i, row) in store.rows.iter().enumerate() {
                if row.status != Status::Done || slots[i] != NONE {
                    continue;
                }
                if let Some((pos, shape)) = old.find(store.idents[i].0 .0, &name) {
                    slots[i] = found.locs.len() as u32;
                    found.locs.push(Loc { file: OLD, offset: pos, shape });
                }
            }
        }
    }
    found.old = old;
    Ok(found)
}

/// Builds `store.zarr` in `out` from the arrays of the done tasks of `store` (staged, or
/// in the previous store), then removes the staging files it no longer needs. `sync`
/// (`--durable`): the new store is on disk before any staging file goes.
pub fn build(spec: &Spec, out: &OutDir, store: &TaskTable, sync: bool) -> io::Result<()> {
    crate::io::kill_point("store-build");
    let manifest = Manifest::read(out).map_err(|e| io::Error::other(format!("{}: {e}", out.manifest().display())))?;
    // Before anything reads the previous store: a build killed in its swap left it aside.
    recover_aside(out)?;
    remove_stale(out)?;
    let found = scan(out, store)?;
    let final_dir = out.store();
    let tmp = out.root.join(format!(".store.zarr{}-{}", crate::io::TEMP_MARK, std::process::id()));
    std::fs::create_dir(&tmp).map_err(|e| with_path(e, &tmp))?;
    let result = write_all(spec, &manifest, store, &found, &tmp).and_then(|compact| {
        // A store that cannot be read back keeps its staging files, which must then hold
        // what only the previous store held.
        if !compact && found.locs.iter().any(|l| l.file == OLD) {
            keep_old_arrays(out, store, &found, sync)?;
        }
        Ok(compact)
    });
    let compact = match result {
        Ok(c) => c,
        Err(e) => {
            let _ = remove_tree(&tmp);
            return Err(e);
        }
    };
    // Swapped in whole: a reader sees the old store or the new one. A crash between the
    // renames leaves the old store aside, maybe the only copy of earlier runs' arrays (their
    // staging files are gone): the next build puts it back first (`recover_aside`).
    let aside = out.root.join(format!("{ASIDE}{}-{}", crate::io::TEMP_MARK, std::process::id()));
    if std::fs::symlink_metadata(&final_dir).is_ok() {
        std::fs::rename(&final_dir, &aside).map_err(|e| with_path(e, &final_dir))?;
        crate::io::kill_point("store-swap");
    }
    std::fs::rename(&tmp, &final_dir).map_err(|e| with_path(e, &final_dir))?;
    remove_tree(&aside)?;
    if compact {
        if sync {
            sync_fs(&out.root)?;
        }
        // The arrays are in the store once, not twice. A file a running shard still writes
        // (it holds a lock on it) stays.
        for path in &found.paths {
            if let Ok(f) = crate::io::open_nofollow(path) {
                if f.try_lock().is_ok() {
                    std::fs::remove_file(path).map_err(|e| with_path(e, path))?;
                }
            }
        }
    }
    Ok(())
}

/// Stages again the arrays only the previous store holds, in a file of this run's.
fn keep_old_arrays(out: &OutDir, store: &TaskTable, found: &Found, sync: bool) -> io::Result<()> {
    let w = staging::StagingWriter::new(&out.staging(), &format!("{}-kept", crate::proc::run_tag()));
    let mut data = Vec::new();
    for (name, slots) in &found.by_name {
        for (i, &s) in slots.iter().enumerate() {
            let Some(loc) = found.locs.get(s as usize).filter(|l| l.file == OLD) else { continue };
            found.read(name, loc, &mut data)?;
            w.append_raw(store.idents[i].0, name, &loc.shape, &data)?;
        }
    }
    w.flush()?;
    if sync {
        sync_fs(&out.root)?;
    }
    Ok(())
}

fn write_all(spec: &Spec, manifest: &Manifest, store: &TaskTable, found: &Found, root: &Path) -> io::Result<bool> {
    let g = &spec.grid;
    let mut grid_shape: Vec<u64> = g.axes.iter().map(|a| a.len() as u64).collect();
    grid_shape.push(u64::from(g.replicates));
    let mut dims: Vec<String> = (0..g.axes.len()).map(|a| g.dim(a).to_string()).collect();
    dims.push("replicate".into());
    // A design's parameters are all coordinates along `sample`, none a dimension.
    let others: Vec<String> = (g.axes.iter().enumerate())
        .flat_map(|(i, a)| a.names[usize::from(g.sample != Some(i))..].iter().cloned())
        .collect();
    let mut attrs = Map::new();
    if !others.is_empty() {
        // xarray's convention: the non-dimension coordinates a data variable carries.
        attrs.insert("coordinates".into(), json!(others.join(" ")));
    }
    let mut metas = BTreeMap::new();
    let mut put = |a: ArraySpec, fill: &Fill<'_>| {
        // An array and a metric (or `<array>_len`) of one name would share a directory.
        if metas.contains_key(&a.name) {
            let why = format!("two variables are called `{}` (an array, a metric or a parameter); rename one", a.name);
            return Err(io::Error::new(io::ErrorKind::InvalidData, why));
        }
        a.write(root, fill)?;
        metas.insert(a.name.clone(), a.metadata());
        io::Result::Ok(())
    };
    // Coordinates.
    for (i, a) in g.axes.iter().enumerate() {
        for (m, name) in a.names.iter().enumerate() {
            let values = &a.values[m];
            let n = values.len() as u64;
            let spec = ArraySpec {
                name: name.clone(),
                dtype: coord_type(values),
                shape: vec![n],
                shard: vec![n.max(1)],
                inner: vec![n.max(1)],
                dims: vec![g.dim(i).to_string()],
                attrs: Map::new(),
            };
            let dtype = spec.dtype;
            put(spec, &|_, cells| {
                set_values(cells, dtype, values);
                Ok(true)
            })?;
        }
    }
    if let Some(a) = g.sample {
        // The point's index in the design, as `sweep.open` gives it.
        let n = g.axes[a].len() as u64;
        let sample = ArraySpec::grid_var("sample", DType::I64, &[n], &["sample".into()], Map::new(), 1);
        put(sample, &|_, cells| {
            fill_each(cells, &[n], &[n], &[0], |i| Some((i as i64).to_le_bytes()));
            Ok(true)
        })?;
    }
    let reps = u64::from(g.replicates);
    let rep = ArraySpec::grid_var("replicate", DType::I64, &[reps], &["replicate".into()], Map::new(), 1);
    put(rep, &|_, cells| {
        fill_each(cells, &[reps], &[reps], &[0], |i| Some((i as i64).to_le_bytes()));
        Ok(true)
    })?;
    // Per-task variables over the grid.
    let per_task = |name: &str, dtype: DType| ArraySpec::grid_var(name, dtype, &grid_shape, &dims, attrs.clone(), 1);
    let rows = &store.rows;
    let task = per_task("task", DType::Str);
    let shard = task.shard.clone();
    put(task, &|o, c| strings(c, &grid_shape, &shard, o, |i| store.idents[i].0.to_string()))?;
    // With adaptive replicates, a replicate its point never needed is no task of the sweep:
    // "not needed", as `sweep.open` says of the .npy layout, never "pending".
    let plan = store.plan();
    put(per_task("status", DType::Str), &|o, c| {
        strings(c, &grid_shape, &shard, o, |i| match &plan {
            Some(p) if !p.contains(store, i as u64) => "not needed".to_string(),
            _ => rows[i].status.as_str().to_string(),
        })
    })?;
    put(per_task("seed", DType::U64), &|o, c| {
        fill_each(c, &grid_shape, &shard, o, |i| Some(store.idents[i].1.to_le_bytes()));
        Ok(true)
    })?;
    for (key, name) in metric_names(store) {
        if has_strings(store, key) {
            // A metric with text among its values is a string variable: each done task's
            // value as results.csv writes it, "" where there is none.
            put(per_task(&name, DType::Str), &|o, c| {
                strings(c, &grid_shape, &shard, o, |i| metric_text(store, i, key))
            })?;
            continue;
        }
        put(per_task(&name, DType::F64), &|o, c| {
            Ok(fill_each(c, &grid_shape, &shard, o, |i| metric(store, i, key).map(f64::to_le_bytes)))
        })?;
    }
    let seen: BTreeMap<String, Seen<'_>> = (found.by_name.iter())
        .map(|(name, slots)| {
            let loc = move |s: u32| (s != NONE).then(|| &found.locs[s as usize]);
            let shapes = slots.iter().map(|&s| loc(s).map(|l| l.shape.as_slice())).collect();
            let read = move |task: usize, data: &mut Vec<u8>| match loc(slots[task]) {
                Some(l) => found.read(name, l, data),
                None => {
                    data.clear();
                    Ok(())
                }
            };
            (name.clone(), Seen { shapes, read: Box::new(read) })
        })
        .collect();
    let done = store.rows.iter().filter(|r| r.status == Status::Done).count();
    let plan = super::dims::plan(&seen, &spec.dims, done)?;
    let mut compact = true;
    for (name, slots) in &found.by_name {
        let own = &plan.own[name];
        match plan.coords.get(name) {
            Some(values) => put(coordinate(name, values), &|_, cells| {
                let Cells::Fixed(buf) = cells else { return Ok(false) };
                buf[..values.len()].copy_from_slice(values);
                Ok(true)
            })?,
            None => compact &= arrays(&mut put, found, (name, own), slots, &grid_shape, &dims, &attrs)?,
        }
    }
    let mut root_attrs = Map::new();
    root_attrs.insert("sweep_store_format".into(), json!(STORE_FORMAT));
    // For the next build: which variables are arrays, and whether it can read them back.
    root_attrs.insert("sweep_arrays".into(), json!(found.by_name.keys().collect::<Vec<_>>()));
    root_attrs.insert("sweep_compact".into(), json!(compact));
    // Arrays every done task returned alike, kept once as their dimension's coordinate.
    root_attrs.insert("sweep_coords".into(), json!(plan.coords.keys().collect::<Vec<_>>()));
    if !plan.notes.is_empty() {
        // Said at the run's end and by `sweep.open` (see `notes`).
        root_attrs.insert("sweep_notes".into(), json!(plan.notes));
    }
    root_attrs.insert("name".into(), json!(manifest.name));
    root_attrs.insert("kind".into(), json!(manifest.kind));
    root_attrs.insert("seed".into(), json!(manifest.seed));
    root_attrs.insert("spec_hash".into(), json!(manifest.spec_hash));
    if let Some(m) = &manifest.model {
        root_attrs.insert("model".into(), json!(m));
    }
    if !manifest.common_seed.is_empty() {
        root_attrs.insert("common_seed".into(), json!(manifest.common_seed));
    }
    for (k, v) in &manifest.fixed {
        root_attrs.insert(k.clone(), v.clone());
    }
    // Consolidated metadata (zarr-python's inline kind): xarray opens the store with one read.
    let consolidated: Map<String, serde_json::Value> = metas.into_iter().collect();
    let group = json!({
        "zarr_format": 3,
        "node_type": "group",
        "attributes": root_attrs,
        "consolidated_metadata": {"kind": "inline", "must_understand": false, "metadata": consolidated},
    });
    let bytes = serde_json::to_vec_pretty(&group).map_err(io::Error::other)?;
    let path = root.join("zarr.json");
    crate::io::write_atomic(&path, |w| io::Write::write_all(w, &bytes)).map_err(|e| with_path(e, &path))?;
    Ok(compact)
}

impl ArraySpec {
    /// An array over `grid` dimensions followed by `own` whole dimensions, sharded along the
    /// grid so that a shard holds about `SHARD_BYTES`.
    fn grid_var(
        name: &str,
        dtype: DType,
        shape: &[u64],
        dims: &[String],
        attrs: Map<String, serde_json::Value>,
        own: u64,
    ) -> ArraySpec {
        let per_task = own.max(1) * 8;
        let inner = block(shape, (INNER_BYTES / per_task).max(1));
        let counts: Vec<u64> = shape.iter().zip(&inner).map(|(&n, &c)| n.div_ceil(c)).collect();
        let per_chunk = inner.iter().product::<u64>() * per_task;
        let shard_chunks = block(&counts, (SHARD_BYTES / per_chunk).max(1));
        let shard = shard_chunks.iter().zip(&inner).map(|(&k, &c)| k * c).collect();
        ArraySpec { name: name.into(), dtype, shape: shape.to_vec(), shard, inner, dims: dims.to_vec(), attrs }
    }
}

/// Metric names of done tasks, sorted (their interning order depends on which task was
/// recorded first, which a store's bytes must not).
fn metric_names(store: &TaskTable) -> Vec<(u32, String)> {
    let mut names: Vec<(u32, String)> = store.keys.iter().enumerate().map(|(k, n)| (k as u32, n.clone())).collect();
    names.sort_by(|a, b| a.1.cmp(&b.1));
    names
}

/// Whether any done task has a string value for metric `key`.
fn has_strings(store: &TaskTable, key: u32) -> bool {
    store
        .rows
        .iter()
        .filter(|r| r.status == Status::Done)
        .any(|r| r.detail.metrics().iter().any(|(k, m)| *k == key && matches!(m, Metric::Str(_))))
}

/// A done task's metric `key` as text (for a metric with strings among its values); ""
/// for tasks not done and for no value.
fn metric_text(store: &TaskTable, task: usize, key: u32) -> String {
    let row = &store.rows[task];
    if row.status != Status::Done {
        return String::new();
    }
    match row.detail.metrics().iter().find(|(k, _)| *k == key).map(|(_, m)| m) {
        Some(Metric::Str(s)) => s.to_string(),
        Some(Metric::Float(v)) => v.to_string(),
        Some(Metric::Int(v)) => v.to_string(),
        Some(Metric::UInt(v)) => v.to_string(),
        Some(Metric::Bool(b)) => b.to_string(),
        Some(Metric::Null) | None => String::new(),
    }
}

/// A done task's numeric metric as a float (booleans 0 and 1, as pandas reads them);
/// `None` for tasks not done (and strings, which [`has_strings`] sends elsewhere).
fn metric(store: &TaskTable, task: usize, key: u32) -> Option<f64> {
    let row = &store.rows[task];
    if row.status != Status::Done {
        return None;
    }
    match row.detail.metrics().iter().find(|(k, _)| *k == key).map(|(_, m)| m)? {
        Metric::Float(v) => Some(*v),
        Metric::Int(v) => Some(*v as f64),
        Metric::UInt(v) => Some(*v as f64),
        Metric::Bool(b) => Some(f64::from(u8::from(*b))),
        Metric::Null | Metric::Str(_) => None,
    }
}

/// Sets a shard's cells (see [`ArraySpec::write`]).
type Fill<'a> = dyn Fn(&[u64], &mut Cells) -> io::Result<bool> + Sync + 'a;
type Put<'a> = dyn FnMut(ArraySpec, &Fill<'_>) -> io::Result<()> + 'a;

/// One saved array: padded to the largest shape, with `<name>_len` when shapes differ.
/// The dimensions are the grid's then the array's own, named and sized by `own` (see
/// `dims::plan`).
fn arrays(
    put: &mut Put<'_>,
    found: &Found,
    (name, own): (&str, &Own),
    slots: &[u32],
    grid: &[u64],
    dims: &[String],
    attrs: &Map<String, serde_json::Value>,
) -> io::Result<bool> {
    let present = || slots.iter().filter(|&&s| s != NONE).map(|&s| &found.locs[s as usize]);
    let (ndim, own_max) = largest(&present().map(|l| Some(l.shape.as_slice())).collect::<Vec<_>>());
    let ragged = present().any(|l| l.shape.len() != ndim || l.shape.iter().zip(&own_max).any(|(a, b)| a != b));
    // Longer than its own largest where another array along a dimension is longer.
    let max = &own.shape;
    let mut shape = grid.to_vec();
    shape.extend_from_slice(max);
    let mut all_dims = dims.to_vec();
    all_dims.extend(own.names.iter().cloned());
    let own: u64 = max.iter().map(|&d| d.max(1)).product();
    let mut spec = ArraySpec::grid_var(name, DType::F64, grid, dims, attrs.clone(), own);
    spec.shape = shape;
    spec.dims = all_dims;
    spec.shard.extend(max.iter().map(|&d| d.max(1)));
    spec.inner.extend(max.iter().map(|&d| d.max(1)));
    let grid_shard = spec.shard[..grid.len()].to_vec();
    let own_block: Vec<u64> = max.iter().map(|&d| d.max(1)).collect();
    put(spec, &|origin, cells| {
        let Cells::Fixed(buf) = cells else { return Ok(false) };
        let (mut any, mut data, mut error) = (false, Vec::new(), None);
        each_task(grid, &grid_shard, &origin[..grid.len()], |task, cell| {
            let s = slots[task];
            if s == NONE || error.is_some() {
                return;
            }
            any = true;
            let loc = &found.locs[s as usize];
            if let Err(e) = found.read(name, loc, &mut data) {
                error = Some(e);
                return;
            }
            // The task's array sits at the start of its block, trailing dimensions padded.
            let mut src_shape = loc.shape.clone();
            src_shape.resize(ndim, 1);
            let base = cell * own as usize;
            let mut read = 0;
            for_runs(&own_block, &vec![0; ndim], &src_shape, |from, k| {
                let at = (base + from) * 8;
                buf[at..at + k * 8].copy_from_slice(&data[read..read + k * 8]);
                read += k * 8;
            });
        });
        match error.take() {
            Some(e) => Err(e),
            None => Ok(any),
        }
    })?;
    if ragged {
        let lens = ArraySpec::grid_var(&format!("{name}_len"), DType::I64, grid, dims, attrs.clone(), 1);
        let shard = lens.shard.clone();
        put(lens, &|o, c| {
            let len = |t: usize| match slots[t] {
                NONE => Some(0i64.to_le_bytes()),
                s => Some(found.locs[s as usize].shape.first().map_or(1i64, |&d| d as i64).to_le_bytes()),
            };
            Ok(fill_each(c, grid, &shard, o, len))
        })?;
    }
    // Each task's shape can be read back from the store (see `old`) unless ranks differ or
    // a ragged array has several dimensions.
    Ok(present().all(|l| l.shape.len() == ndim) && (!ragged || ndim == 1) && own_max == *max)
}
