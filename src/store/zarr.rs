//! Writing Zarr v3 arrays by hand: `zarr.json` metadata and shards in the
//! `sharding_indexed` layout (inner chunks with the `bytes` or `vlen-utf8` codec, the index
//! at the end with the `bytes` codec only).
//!
//! Why not the `zarrs` crate: with only `filesystem`, `sharding` and `crc32c` it still
//! compiles 118 crates (1 min 10 s wall, 50 s CPU for a debug build on this 2-core machine,
//! measured 2026-12-05) and needs Rust 1.91 where sweep supports 1.89; what sweep writes —
//! whole shards, once, uncompressed — is the few hundred lines below, and zarr-python and
//! xarray read it (tests/store.rs).

use rayon::prelude::*;
use serde_json::{json, Map, Value};
use std::io;
use std::path::Path;

/// Version of the store's layout (the root's `sweep_store_format` attribute). 2: an array
/// that is its dimension's coordinate (`[output] dims`) is kept once, 1-D, and listed in
/// `sweep_coords`; a sweep that reads format 1 only would take it for a grid variable.
pub const STORE_FORMAT: u32 = 2;

/// An element type sweep writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DType {
    /// IEEE float64; missing is NaN.
    F64,
    /// int64; missing is 0.
    I64,
    /// uint64; missing is 0.
    U64,
    /// bool; missing is false.
    Bool,
    /// UTF-8 strings of any length (`vlen-utf8`); missing is "".
    Str,
}

impl DType {
    fn name(self) -> &'static str {
        match self {
            DType::F64 => "float64",
            DType::I64 => "int64",
            DType::U64 => "uint64",
            DType::Bool => "bool",
            DType::Str => "string",
        }
    }
    fn fill(self) -> Value {
        match self {
            DType::F64 => json!("NaN"),
            DType::I64 | DType::U64 => json!(0),
            DType::Bool => json!(false),
            DType::Str => json!(""),
        }
    }
    /// Bytes per element (strings: none, they are kept apart).
    fn width(self) -> usize {
        match self {
            DType::F64 | DType::I64 | DType::U64 => 8,
            DType::Bool => 1,
            DType::Str => 0,
        }
    }
}

/// A shard's elements in C order over the whole shard shape (padding included).
pub enum Cells {
    /// Fixed-width little-endian elements.
    Fixed(Vec<u8>),
    /// Strings.
    Str(Vec<String>),
}

/// One array of the store.
pub struct ArraySpec {
    /// Its name (a directory of the store).
    pub name: String,
    /// Element type.
    pub dtype: DType,
    /// Shape.
    pub shape: Vec<u64>,
    /// Shape of a shard (one file).
    pub shard: Vec<u64>,
    /// Shape of an inner chunk; divides `shard`.
    pub inner: Vec<u64>,
    /// Its dimensions' names (xarray's dimensions).
    pub dims: Vec<String>,
    /// Attributes (e.g. `coordinates`).
    pub attrs: Map<String, Value>,
}

impl ArraySpec {
    /// Its `zarr.json`.
    pub fn metadata(&self) -> Value {
        let inner_codec = match self.dtype {
            DType::Str => json!({"name": "vlen-utf8", "configuration": {}}),
            DType::Bool => json!({"name": "bytes", "configuration": {}}),
            _ => json!({"name": "bytes", "configuration": {"endian": "little"}}),
        };
        json!({
            "zarr_format": 3,
            "node_type": "array",
            "shape": self.shape,
            "data_type": self.dtype.name(),
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": self.shard}},
            "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
            "fill_value": self.dtype.fill(),
            "codecs": [{"name": "sharding_indexed", "configuration": {
                "chunk_shape": self.inner,
                "codecs": [inner_codec],
                "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}],
                "index_location": "end",
            }}],
            "attributes": self.attrs,
            "dimension_names": self.dims,
        })
    }

    /// Writes the array into the store directory `root`: its `zarr.json`, then each shard
    /// that `fill` reports any element of (`fill(origin, cells)` sets the elements of the
    /// shard starting at `origin`; untouched cells keep the fill value). Shards are built on
    /// rayon's threads, each reusing one buffer: memory holds a shard per thread.
    pub fn write(&self, root: &Path, fill: &(dyn Fn(&[u64], &mut Cells) -> io::Result<bool> + Sync)) -> io::Result<()> {
        let dir = root.join(&self.name);
        mkdir(&dir)?;
        let meta = serde_json::to_vec_pretty(&self.metadata()).map_err(io::Error::other)?;
        crate::io::write_atomic(&dir.join("zarr.json"), |w| io::Write::write_all(w, &meta))
            .map_err(|e| with_path(e, &dir.join("zarr.json")))?;
        let counts: Vec<u64> = self.shape.iter().zip(&self.shard).map(|(&n, &s)| n.div_ceil(s)).collect();
        let cells = self.shard.iter().product::<u64>() as usize;
        let keys: Vec<Vec<u64>> = Indices::new(&counts).collect();
        // Directories first, so that shards can be written in any order.
        for key in keys.iter().filter(|k| !k.is_empty()) {
            let mut path = dir.join("c");
            for k in key.iter().take(key.len().saturating_sub(1)) {
                mkdir(&path)?;
                path.push(k.to_string());
            }
            mkdir(&path)?;
        }
        keys.par_iter().try_for_each_init(
            || None,
            |buf: &mut Option<Cells>, key| {
                let origin: Vec<u64> = key.iter().zip(&self.shard).map(|(&k, &s)| k * s).collect();
                match (self.dtype, buf.as_mut()) {
                    (DType::Str, _) | (_, None) => *buf = Some(self.empty(cells)),
                    (DType::F64, Some(Cells::Fixed(b))) => {
                        b.chunks_exact_mut(8).for_each(|c| c.copy_from_slice(&f64::NAN.to_le_bytes()))
                    }
                    (_, Some(Cells::Fixed(b))) => b.fill(0),
                    (_, Some(Cells::Str(_))) => unreachable!("strings get a new buffer"),
                }
                let buf = buf.as_mut().expect("set above");
                if !fill(&origin, buf)? {
                    return Ok(());
                }
                let mut path = dir.join("c");
                key.iter().for_each(|k| path.push(k.to_string()));
                let pieces = self.encode_shard(&origin, buf);
                crate::io::write_atomic(&path, |w| {
                    pieces.iter().try_for_each(|p| match p {
                        Piece::Cells(r) => match buf {
                            Cells::Fixed(b) => io::Write::write_all(w, &b[r.clone()]),
                            Cells::Str(_) => Ok(()),
                        },
                        Piece::Own(v) => io::Write::write_all(w, v),
                    })
                })
                .map_err(|e| with_path(e, &path))
            },
        )
    }

    fn empty(&self, cells: usize) -> Cells {
        match self.dtype {
            DType::Str => Cells::Str(vec![String::new(); cells]),
            DType::F64 => Cells::Fixed(f64::NAN.to_le_bytes().repeat(cells)),
            d => Cells::Fixed(vec![0; cells * d.width()]),
        }
    }

    /// The shard at `origin`: its inner chunks in C order, then the index (offset, length
    /// per chunk; chunks wholly outside the array are left out). Fixed-width chunks are
    /// ranges of the shard's buffer, not copies.
    fn encode_shard(&self, origin: &[u64], cells: &Cells) -> Vec<Piece> {
        let per: Vec<u64> = self.shard.iter().zip(&self.inner).map(|(&s, &c)| s / c).collect();
        let mut pieces = Vec::new();
        let mut at = 0u64;
        let mut index = Vec::new();
        for q in Indices::new(&per) {
            let start: Vec<u64> = q.iter().zip(&self.inner).map(|(&k, &c)| k * c).collect();
            if start.iter().zip(origin).zip(&self.shape).any(|((&s, &o), &n)| s + o >= n) {
                index.extend_from_slice(&u64::MAX.to_le_bytes());
                index.extend_from_slice(&u64::MAX.to_le_bytes());
                continue;
            }
            let before = at;
            match cells {
                Cells::Fixed(_) => {
                    let w = self.dtype.width();
                    for_runs(&self.shard, &start, &self.inner, |from, n| {
                        let r = from * w..(from + n) * w;
                        at += r.len() as u64;
                        match pieces.last_mut() {
                            Some(Piece::Cells(last)) if last.end == r.start => last.end = r.end,
                            _ => pieces.push(Piece::Cells(r)),
                        }
                    });
                }
                Cells::Str(s) => {
                    let n: u64 = self.inner.iter().product();
                    let mut out = (n as u32).to_le_bytes().to_vec();
                    for_runs(&self.shard, &start, &self.inner, |from, n| {
                        for v in &s[from..from + n] {
                            out.extend_from_slice(&(v.len() as u32).to_le_bytes());
                            out.extend_from_slice(v.as_bytes());
                        }
                    });
                    at += out.len() as u64;
                    pieces.push(Piece::Own(out));
                }
            }
            index.extend_from_slice(&before.to_le_bytes());
            index.extend_from_slice(&(at - before).to_le_bytes());
        }
        pieces.push(Piece::Own(index));
        pieces
    }
}

/// A part of a shard file.
enum Piece {
    /// Bytes of the shard's buffer.
    Cells(std::ops::Range<usize>),
    /// Bytes of its own.
    Own(Vec<u8>),
}

/// Calls `each(offset, len)` for every contiguous run (along the last dimension) of the
/// block of shape `block` at `start` inside a C-ordered array of shape `outer`.
pub fn for_runs(outer: &[u64], start: &[u64], block: &[u64], mut each: impl FnMut(usize, usize)) {
    let Some((&last, lead)) = block.split_last() else {
        each(0, 1);
        return;
    };
    let mut strides = vec![1u64; outer.len()];
    for d in (0..outer.len().saturating_sub(1)).rev() {
        strides[d] = strides[d + 1] * outer[d + 1];
    }
    for row in Indices::new(lead) {
        let mut off = start[outer.len() - 1];
        for (d, r) in row.iter().enumerate() {
            off += (start[d] + r) * strides[d];
        }
        each(off as usize, last as usize);
    }
}

/// Every index of a shape, in C order (one empty index for rank 0; none if any side is 0).
pub struct Indices {
    shape: Vec<u64>,
    next: Option<Vec<u64>>,
}

impl Indices {
    /// The indices of `shape`.
    pub fn new(shape: &[u64]) -> Indices {
        let next = (!shape.contains(&0)).then(|| vec![0; shape.len()]);
        Indices { shape: shape.to_vec(), next }
    }
}

impl Iterator for Indices {
    type Item = Vec<u64>;
    fn next(&mut self) -> Option<Vec<u64>> {
        let cur = self.next.take()?;
        let mut n = cur.clone();
        for d in (0..n.len()).rev() {
            n[d] += 1;
            if n[d] < self.shape[d] {
                self.next = Some(n);
                return Some(cur);
            }
            n[d] = 0;
        }
        Some(cur)
    }
}

/// Chunk shape of about `target` elements over `dims`: trailing dimensions whole while
/// they fit, then part of the next one, then 1.
pub fn block(dims: &[u64], target: u64) -> Vec<u64> {
    let mut out = vec![1u64; dims.len()];
    let mut prod = 1u64;
    for d in (0..dims.len()).rev() {
        let n = dims[d].max(1);
        if prod.saturating_mul(n) <= target {
            out[d] = n;
            prod *= n;
        } else {
            out[d] = (target / prod).clamp(1, n);
            break;
        }
    }
    out
}

fn mkdir(dir: &Path) -> io::Result<()> {
    match std::fs::create_dir(dir) {
        Err(e) if e.kind() != io::ErrorKind::AlreadyExists => Err(with_path(e, dir)),
        _ => Ok(()),
    }
}

fn with_path(e: io::Error, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_take_trailing_dimensions_first() {
        assert_eq!(block(&[10, 20, 5], 100), vec![1, 20, 5]);
        assert_eq!(block(&[10, 20, 5], 50), vec![1, 10, 5]);
        assert_eq!(block(&[10, 20, 5], 7), vec![1, 1, 5]);
        assert_eq!(block(&[10, 20, 5], 3), vec![1, 1, 3]);
        assert_eq!(block(&[], 3), Vec::<u64>::new());
    }

    #[test]
    fn runs_cover_a_block_in_c_order() {
        let mut runs = Vec::new();
        for_runs(&[4, 5], &[1, 2], &[2, 3], |o, n| runs.push((o, n)));
        assert_eq!(runs, vec![(7, 3), (12, 3)]);
        assert_eq!(Indices::new(&[2, 2]).count(), 4);
        assert_eq!(Indices::new(&[]).count(), 1);
    }
}
