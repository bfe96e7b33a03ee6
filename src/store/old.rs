//! Reading back the arrays of the store a previous build wrote, so that the staging files
//! it was built from can go once it is in place (the out directory then holds the arrays
//! once, not twice): the next build takes a done task's arrays from its staging record
//! when there is one, else from here.
//!
//! Only stores whose root says `sweep_compact` are read: every array's per-task shape can
//! be told from the store (all alike, or 1-D with `<name>_len`).

use super::zarr::{for_runs, Indices, STORE_FORMAT};
use serde_json::Value;
use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Shape, shard and inner chunk shape of one array.
#[derive(Clone, Debug)]
struct Layout {
    shape: Vec<u64>,
    shard: Vec<u64>,
    inner: Vec<u64>,
}

impl Layout {
    fn of(meta: &Value) -> Option<Layout> {
        let dims = |v: &Value| v.as_array().map(|a| a.iter().filter_map(Value::as_u64).collect::<Vec<u64>>());
        let shape = dims(&meta["shape"])?;
        let shard = dims(&meta["chunk_grid"]["configuration"]["chunk_shape"])?;
        let inner = dims(&meta["codecs"][0]["configuration"]["chunk_shape"])?;
        (shape.len() == shard.len() && shard.len() == inner.len()).then_some(Layout { shape, shard, inner })
    }
}

/// The previous store, opened for reading.
pub struct OldStore {
    root: PathBuf,
    /// Task id → its position (row-major index over the old grid).
    positions: HashMap<u64, u64>,
    /// Positions of the tasks done when the store was built.
    done: std::collections::HashSet<u64>,
    grid: Vec<u64>,
    arrays: HashMap<String, (Layout, Option<Vec<i64>>)>,
    /// Arrays kept once, as their dimension's coordinate (`sweep_coords`): every done
    /// task's values were these (float64 LE).
    coords: HashMap<String, Vec<u8>>,
    /// Open shard files with their indexes, by path.
    shards: Mutex<HashMap<PathBuf, (File, Vec<u8>)>>,
}

impl OldStore {
    /// The store at `root`, if there is one a build can read back.
    pub fn open(root: &Path) -> io::Result<Option<OldStore>> {
        match std::fs::symlink_metadata(root) {
            Err(_) => return Ok(None),
            Ok(m) if !m.is_dir() => return Err(bad(root, "not a directory sweep made; it is never followed")),
            Ok(_) => {}
        }
        // A store whose metadata cannot be read is an error, not an empty store: its staging
        // files are gone, and a store built without it would lose its arrays.
        let text = read_nofollow(&root.join("zarr.json")).map_err(|e| bad(&root.join("zarr.json"), &e.to_string()))?;
        let meta: Value = serde_json::from_slice(&text).map_err(|e| bad(root, &e.to_string()))?;
        let attrs = &meta["attributes"];
        if attrs["sweep_compact"] != Value::Bool(true) {
            return Ok(None);
        }
        // What a newer sweep adds to the layout would be misread here: refused, never rebuilt.
        if let Some(f) = attrs["sweep_store_format"].as_u64().filter(|&f| f > u64::from(STORE_FORMAT)) {
            return Err(bad(root, &format!("written by a newer sweep (store format {f}); upgrade sweep")));
        }
        let all = &meta["consolidated_metadata"]["metadata"];
        let layout = |name: &str| Layout::of(&all[name]).ok_or_else(|| bad(root, &format!("no array `{name}`")));
        let task = layout("task")?;
        let mut old = OldStore {
            root: root.to_path_buf(),
            positions: HashMap::new(),
            done: Default::default(),
            grid: task.shape.clone(),
            arrays: HashMap::new(),
            coords: HashMap::new(),
            shards: Mutex::new(HashMap::new()),
        };
        let mut positions = HashMap::new();
        old.each_cell("task", &task, |pos, bytes| {
            if let Some(id) = std::str::from_utf8(bytes).ok().and_then(|s| u64::from_str_radix(s, 16).ok()) {
                positions.insert(id, pos);
            }
        })?;
        old.positions = positions;
        let mut done = std::collections::HashSet::new();
        if let Some(status) = Layout::of(&all["status"]) {
            old.each_cell("status", &status, |pos, bytes| {
                if bytes == b"done" {
                    done.insert(pos);
                }
            })?;
        }
        old.done = done;
        for name in attrs["sweep_coords"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            let path = root.join(name).join("c").join("0");
            let n = layout(name)?.shape.first().copied().unwrap_or(0) as usize;
            let bytes = read_nofollow(&path).map_err(|e| bad(&path, &e.to_string()))?;
            let at = bytes.len().saturating_sub(16);
            let from = bytes.get(at..at + 8).map_or(u64::MAX, |b| u64::from_le_bytes(b.try_into().expect("8 bytes")));
            let values = match from {
                u64::MAX if n == 0 => Vec::new(),
                _ => (usize::try_from(from).ok())
                    .and_then(|f| bytes.get(f..f.checked_add(n.checked_mul(8)?)?))
                    .ok_or_else(|| bad(&path, "a short shard"))?
                    .to_vec(),
            };
            old.coords.insert(name.to_string(), values);
        }
        for name in attrs["sweep_arrays"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            if old.coords.contains_key(name) {
                continue;
            }
            let l = layout(name)?;
            let lens = match Layout::of(&all[format!("{name}_len")]) {
                Some(ll) => {
                    let mut v = vec![0i64; old.grid.iter().product::<u64>() as usize];
                    old.each_cell(&format!("{name}_len"), &ll, |pos, b| {
                        v[pos as usize] = i64::from_le_bytes(b.try_into().unwrap_or([0; 8]))
                    })?;
                    Some(v)
                }
                None => None,
            };
            old.arrays.insert(name.to_string(), (l, lens));
        }
        Ok(Some(old))
    }

    /// Whether task `id` was done when the store was built (its arrays are there).
    pub fn is_done(&self, id: u64) -> bool {
        self.positions.get(&id).is_some_and(|p| self.done.contains(p))
    }

    /// The arrays it holds.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.arrays.keys().chain(self.coords.keys()).cloned().collect();
        names.sort();
        names
    }

    /// The old position of task `id`, and the shape of its array `name` there.
    pub fn find(&self, id: u64, name: &str) -> Option<(u64, Vec<u64>)> {
        let pos = *self.positions.get(&id)?;
        if let Some(values) = self.coords.get(name) {
            return self.done.contains(&pos).then(|| (pos, vec![values.len() as u64 / 8]));
        }
        let (l, lens) = self.arrays.get(name)?;
        let own = l.shape[self.grid.len()..].to_vec();
        let shape = match lens {
            Some(lens) => vec![u64::try_from(lens[pos as usize]).ok()?],
            None => own,
        };
        Some((pos, shape))
    }

    /// Reads the array `name` of the task at `pos`, of `shape`, into `out` (float64 LE).
    pub fn read(&self, name: &str, pos: u64, shape: &[u64], out: &mut Vec<u8>) -> io::Result<()> {
        if let Some(values) = self.coords.get(name) {
            out.clear();
            out.extend_from_slice(values);
            return Ok(());
        }
        let (l, _) = self.arrays.get(name).ok_or_else(|| bad(&self.root, &format!("no array `{name}`")))?;
        let g = self.grid.len();
        let own = &l.shape[g..];
        let own_n: u64 = own.iter().map(|&d| d.max(1)).product();
        let coords = unravel(pos, &self.grid);
        let key: Vec<u64> = coords.iter().zip(&l.shard).map(|(&c, &s)| c / s).collect();
        let mut path = self.root.join(name).join("c");
        key.iter().chain(std::iter::repeat_n(&0, own.len())).for_each(|k| path.push(k.to_string()));
        let per: Vec<u64> = l.shard.iter().zip(&l.inner).map(|(&s, &c)| s / c).collect();
        let mut q = vec![0u64; per.len()];
        for d in 0..g {
            q[d] = (coords[d] % l.shard[d]) / l.inner[d];
        }
        let local: Vec<u64> = (0..g).map(|d| coords[d] % l.inner[d]).collect();
        let cell = ravel(&local, &l.inner[..g]);
        let chunk = ravel(&q, &per) as usize;
        let mut block = vec![0u8; own_n as usize * 8];
        let mut shards = self.shards.lock().unwrap_or_else(|e| e.into_inner());
        if !shards.contains_key(&path) {
            let f = crate::io::open_nofollow(&path).map_err(|e| bad(&path, &e.to_string()))?;
            let n = per.iter().product::<u64>() as usize;
            let len = f.metadata()?.len();
            let mut index = vec![0u8; n * 16];
            let at = len.saturating_sub(index.len() as u64);
            f.read_exact_at(&mut index, at).map_err(|e| bad(&path, &e.to_string()))?;
            shards.insert(path.clone(), (f, index));
        }
        let (f, index) = &shards[&path];
        let at = u64::from_le_bytes(index[chunk * 16..chunk * 16 + 8].try_into().expect("8 bytes"));
        f.read_exact_at(&mut block, at + cell * own_n * 8).map_err(|e| bad(&path, &e.to_string()))?;
        drop(shards);
        let mut src = shape.to_vec();
        src.resize(own.len(), 1);
        out.clear();
        let own_block: Vec<u64> = own.iter().map(|&d| d.max(1)).collect();
        for_runs(&own_block, &vec![0; own.len()], &src, |from, k| {
            out.extend_from_slice(&block[from * 8..(from + k) * 8])
        });
        Ok(())
    }

    /// Calls `each(position, element bytes)` for every element of the grid variable `name`
    /// inside the grid (strings: their UTF-8).
    fn each_cell(&self, name: &str, l: &Layout, mut each: impl FnMut(u64, &[u8])) -> io::Result<()> {
        let counts: Vec<u64> = l.shape.iter().zip(&l.shard).map(|(&n, &s)| n.div_ceil(s)).collect();
        let per: Vec<u64> = l.shard.iter().zip(&l.inner).map(|(&s, &c)| s / c).collect();
        for key in Indices::new(&counts) {
            let mut path = self.root.join(name).join("c");
            key.iter().for_each(|k| path.push(k.to_string()));
            let bytes = match read_nofollow(&path) {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(bad(&path, &e.to_string())),
            };
            let n = per.iter().product::<u64>() as usize;
            let index = &bytes[bytes.len().saturating_sub(n * 16)..];
            for (c, q) in Indices::new(&per).enumerate() {
                let at = u64::from_le_bytes(index[c * 16..c * 16 + 8].try_into().expect("8 bytes"));
                if at == u64::MAX {
                    continue;
                }
                let mut chunk = &bytes[at as usize..];
                let strings = name == "task" || name == "status";
                if strings {
                    chunk = &chunk[4..];
                }
                for local in Indices::new(&l.inner) {
                    let elem: &[u8] = if strings {
                        let len = u32::from_le_bytes(chunk[..4].try_into().expect("4 bytes")) as usize;
                        let s = &chunk[4..4 + len];
                        chunk = &chunk[4 + len..];
                        s
                    } else {
                        let s = &chunk[..8];
                        chunk = &chunk[8..];
                        s
                    };
                    let coords: Vec<u64> =
                        (0..l.shape.len()).map(|d| key[d] * l.shard[d] + q[d] * l.inner[d] + local[d]).collect();
                    if coords.iter().zip(&l.shape).all(|(c, n)| c < n) {
                        each(ravel(&coords, &l.shape), elem);
                    }
                }
            }
        }
        Ok(())
    }
}

/// A file's bytes; a link planted there is refused, not followed.
fn read_nofollow(path: &Path) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    io::Read::read_to_end(&mut crate::io::open_nofollow(path)?, &mut out)?;
    Ok(out)
}

fn unravel(mut pos: u64, shape: &[u64]) -> Vec<u64> {
    let mut out = vec![0; shape.len()];
    for d in (0..shape.len()).rev() {
        out[d] = pos % shape[d];
        pos /= shape[d];
    }
    out
}

fn ravel(coords: &[u64], shape: &[u64]) -> u64 {
    coords.iter().zip(shape).fold(0, |acc, (&c, &n)| acc * n + c)
}

fn bad(path: &Path, why: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("{}: {why}", path.display()))
}
