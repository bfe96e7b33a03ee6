//! Staging files: during a run, every array of a done attempt is appended to a file of the
//! run's own (`staging/<run>.bin`), and the file is flushed before the journal record that
//! vouches for the task is appended. The Zarr store is built from these records afterwards,
//! so a killed run never leaves half a store behind: a record whose task has no journal
//! record is simply never read, and a torn last record (a killed write) is ignored.
//!
//! A record, all little-endian: `SWS1`, the task id (u64), the array's name (u16 length,
//! UTF-8), its element type (u8, `1` = float64), its rank (u8) and shape (u64 each), the
//! data's byte count (u64), the data, then the CRC-32C (u32) of everything after the magic.

use crate::grid::TaskId;
use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

const MAGIC: &[u8; 4] = b"SWS1";
/// Bytes of the checksum that ends a record.
const SUM: usize = 4;
/// The element type of every array a built-in model returns.
const F64: u8 = 1;
/// Staged bytes buffered before they are written out anyway (memory stays bounded).
const BUFFER: usize = 1 << 20;

/// A run's staging file, shared by its workers.
///
/// After a failed write the file may end in a torn record, past which nothing is read:
/// the writer then refuses every later record (those tasks fail, class `io`, and run again
/// on `--resume`, into a new file).
pub struct StagingWriter {
    path: PathBuf,
    file: Mutex<State>,
}

#[derive(Default)]
enum State {
    #[default]
    Unopened,
    Open(BufWriter<File>),
    Failed(String),
}

impl StagingWriter {
    /// A new staging file of run `run` in `dir` (`staging/`), created on the first record,
    /// so a run that stages nothing leaves no file. Numbered: the rounds of adaptive
    /// replicates each stage into a file of their own.
    pub fn new(dir: &Path, run: &str) -> StagingWriter {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        StagingWriter { path: dir.join(format!("{run}-{n}.bin")), file: Mutex::new(State::Unopened) }
    }

    /// Appends the arrays of task `id` (one record each) to the buffer; they reach the file
    /// at the latest at the next [`StagingWriter::flush`]. Returns the bytes staged.
    pub fn append<'a>(
        &self,
        id: TaskId,
        arrays: impl IntoIterator<Item = (&'a str, &'a ndarray::ArrayD<f64>)>,
    ) -> io::Result<u64> {
        // Encoded outside the lock: I/O threads only queue behind each other for a memcpy.
        let mut buf = Vec::new();
        for (name, array) in arrays {
            encode(&mut buf, id, name, array);
        }
        let mut guard = self.file.lock().unwrap_or_else(|e| e.into_inner());
        if let State::Unopened = *guard {
            let dir = self.path.parent().unwrap_or(Path::new("."));
            let file = std::fs::create_dir_all(dir)
                .and_then(|()| crate::io::create_new(&self.path))
                .map_err(|e| io::Error::new(e.kind(), format!("creating {}: {e}", self.path.display())))?;
            // Held while the run lives: a build (`collect`) leaves a locked file alone.
            file.lock().map_err(|e| io::Error::new(e.kind(), format!("locking {}: {e}", self.path.display())))?;
            *guard = State::Open(BufWriter::with_capacity(BUFFER, file));
        }
        let result = match &mut *guard {
            State::Open(w) => w.write_all(&buf),
            State::Failed(why) => return Err(io::Error::other(why.clone())),
            State::Unopened => unreachable!("opened above"),
        };
        result.map(|()| buf.len() as u64).map_err(|e| self.fail(&mut guard, e))
    }

    /// Marks the file failed (see [`StagingWriter`]) and names it in the error.
    fn fail(&self, state: &mut State, e: io::Error) -> io::Error {
        let e = io::Error::new(e.kind(), format!("writing {}: {e}", self.path.display()));
        *state = State::Failed(format!("{e} (an earlier write failed)"));
        e
    }

    /// Appends one array given as its shape and data (float64, little-endian, C order).
    pub fn append_raw(&self, id: TaskId, name: &str, shape: &[u64], data: &[u8]) -> io::Result<u64> {
        let a = ndarray::ArrayD::from_shape_vec(
            shape.iter().map(|&d| d as usize).collect::<Vec<_>>(),
            data.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes"))).collect(),
        )
        .map_err(io::Error::other)?;
        self.append(id, [(name, &a)])
    }

    /// Hands every staged record to the OS: called before journal records are appended.
    pub fn flush(&self) -> io::Result<()> {
        let mut guard = self.file.lock().unwrap_or_else(|e| e.into_inner());
        let result = match &mut *guard {
            State::Open(w) => w.flush(),
            State::Unopened => return Ok(()),
            State::Failed(why) => return Err(io::Error::other(why.clone())),
        };
        result.map_err(|e| self.fail(&mut guard, e))
    }
}

fn encode(buf: &mut Vec<u8>, id: TaskId, name: &str, array: &ndarray::ArrayD<f64>) {
    buf.extend_from_slice(MAGIC);
    let start = buf.len();
    buf.extend_from_slice(&id.0.to_le_bytes());
    buf.extend_from_slice(&(name.len() as u16).to_le_bytes());
    buf.extend_from_slice(name.as_bytes());
    buf.push(F64);
    buf.push(array.ndim() as u8);
    for &d in array.shape() {
        buf.extend_from_slice(&(d as u64).to_le_bytes());
    }
    buf.extend_from_slice(&(array.len() as u64 * 8).to_le_bytes());
    // Logical (C) order whatever the array's memory layout, as numpy would save it.
    buf.reserve(array.len() * 8);
    for v in array.iter() {
        buf.extend_from_slice(&v.to_le_bytes());
    }
    let sum = super::crc::crc32c(&buf[start..]);
    buf.extend_from_slice(&sum.to_le_bytes());
}

/// One staged array, as read back: where its data lies in which file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Staged {
    /// The task.
    pub id: TaskId,
    /// The array's name.
    pub name: String,
    /// Its shape.
    pub shape: Vec<u64>,
    /// Offset of its data (float64, little-endian, C order) in the file.
    pub offset: u64,
}

/// The staging files of `dir`, sorted by name (a missing directory holds none).
pub fn files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(io::Error::new(e.kind(), format!("reading {}: {e}", dir.display()))),
    };
    for e in rd {
        let e = e?;
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.ends_with(".bin") && !name.starts_with('.') && e.file_type()?.is_file() {
            out.push(e.path());
        }
    }
    out.sort();
    Ok(out)
}

/// What reading a staging file passed over: byte ranges of damaged records (a flipped
/// byte, a zeroed page, a record cut short) followed by intact ones, and the start of a
/// damaged tail (the torn last record of a killed run, or damage up to the end).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Damage {
    /// `[from, to)` byte ranges skipped between intact records.
    pub spans: Vec<(u64, u64)>,
    /// Where an unreadable tail starts.
    pub tail: Option<u64>,
}

/// Reads every intact record of the staging file `path`, calling `each` with it. A record
/// that fails its checks (its CRC above all) loses at most itself: reading resynchronises
/// at the next record header (`SWS1`) whose record is intact. Returns what was passed over.
/// A link planted there is refused, not followed.
pub fn read(path: &Path, mut each: impl FnMut(Staged)) -> io::Result<Damage> {
    let file = crate::io::open_nofollow(path)
        .map_err(|e| io::Error::new(e.kind(), format!("opening {}: {e}", path.display())))?;
    let len = file.metadata()?.len();
    let mut r = io::BufReader::with_capacity(1 << 20, file);
    let (mut pos, mut rec, mut damage, mut bad_from) = (0u64, Vec::new(), Damage::default(), None);
    loop {
        let mut magic = [0u8; 4];
        if !read_full(&mut r, &mut magic)? {
            break;
        }
        rec.clear();
        let staged = match &magic == MAGIC {
            true => read_record(&mut r, &mut rec, pos + 4, len)?,
            false => None,
        };
        match staged {
            Some(staged) => {
                if let Some(from) = bad_from.take() {
                    damage.spans.push((from, pos));
                }
                pos += 4 + (rec.len() + SUM) as u64;
                each(staged);
            }
            None => {
                bad_from.get_or_insert(pos);
                match find_magic(r.get_ref(), pos + 1, len)? {
                    Some(next) => {
                        pos = next;
                        r.seek(io::SeekFrom::Start(next))?;
                    }
                    None => break,
                }
            }
        }
    }
    damage.tail = bad_from;
    Ok(damage)
}

/// The offset of the next record header at or after `from`, if any.
fn find_magic(file: &File, from: u64, len: u64) -> io::Result<Option<u64>> {
    use std::os::unix::fs::FileExt;
    let mut buf = vec![0u8; 1 << 16];
    let mut at = from;
    while at + 4 <= len {
        let n = ((len - at) as usize).min(buf.len());
        file.read_exact_at(&mut buf[..n], at)?;
        if let Some(k) = buf[..n].windows(4).position(|w| w == MAGIC) {
            return Ok(Some(at + k as u64));
        }
        // A header may straddle two reads.
        at += (n - 3) as u64;
    }
    Ok(None)
}

/// Reads one record after its magic into `rec`; `None` if it is torn or damaged. `len`:
/// the file's length, which no record's data can pass (a damaged length is not allocated).
fn read_record(r: &mut impl Read, rec: &mut Vec<u8>, at: u64, len: u64) -> io::Result<Option<Staged>> {
    let mut head = [0u8; 10];
    if !read_full(r, &mut head)? {
        return Ok(None);
    }
    rec.extend_from_slice(&head);
    let id = TaskId(u64::from_le_bytes(head[..8].try_into().expect("8 bytes")));
    let name_len = u16::from_le_bytes([head[8], head[9]]) as usize;
    let mut name = vec![0u8; name_len + 2];
    if !read_full(r, &mut name)? {
        return Ok(None);
    }
    rec.extend_from_slice(&name);
    let (dtype, ndim) = (name[name_len], name[name_len + 1] as usize);
    let Ok(name) = String::from_utf8(name[..name_len].to_vec()) else { return Ok(None) };
    let mut dims = vec![0u8; ndim * 8 + 8];
    if dtype != F64 || !read_full(r, &mut dims)? {
        return Ok(None);
    }
    rec.extend_from_slice(&dims);
    let shape: Vec<u64> =
        dims.chunks(8).take(ndim).map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes"))).collect();
    let bytes = u64::from_le_bytes(dims[ndim * 8..].try_into().expect("8 bytes"));
    let elements = shape.iter().try_fold(1u64, |a, &d| a.checked_mul(d));
    let offset = at + rec.len() as u64;
    if elements.and_then(|n| n.checked_mul(8)) != Some(bytes) || bytes > len.saturating_sub(offset) {
        return Ok(None);
    }
    let start = rec.len();
    rec.resize(start + bytes as usize, 0);
    let mut sum = [0u8; SUM];
    if !read_full(r, &mut rec[start..])?
        || !read_full(r, &mut sum)?
        || super::crc::crc32c(rec) != u32::from_le_bytes(sum)
    {
        return Ok(None);
    }
    Ok(Some(Staged { id, name, shape, offset }))
}

/// Fills `buf`; `false` at the end of the file (or in the middle of `buf`).
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<bool> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => return Ok(false),
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_read_back_and_a_torn_tail_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let w = StagingWriter::new(dir.path(), "run");
        let a = ndarray::ArrayD::from_shape_vec(vec![2, 3], (0..6).map(f64::from).collect()).unwrap();
        w.append(TaskId(7), [("x", &a)]).unwrap();
        w.append(TaskId(9), [("y", &a)]).unwrap();
        w.flush().unwrap();
        let path = files(dir.path()).unwrap().remove(0);
        let full = std::fs::read(&path).unwrap();
        std::fs::write(&path, &full[..full.len() - 3]).unwrap();
        let mut got = Vec::new();
        read(&path, |s| got.push(s)).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].id, got[0].name.as_str(), got[0].shape.clone()), (TaskId(7), "x", vec![2, 3]));
        let data = &full[got[0].offset as usize..got[0].offset as usize + 48];
        assert_eq!(f64::from_le_bytes(data[40..48].try_into().unwrap()), 5.0);
    }

    /// Three records; `damage` spoils the file; the ids read back, and what was skipped.
    fn after(damage: impl Fn(&mut Vec<u8>, usize)) -> (Vec<u64>, Damage) {
        let dir = tempfile::tempdir().unwrap();
        let w = StagingWriter::new(dir.path(), "run");
        let a = ndarray::ArrayD::from_shape_vec(vec![100], (0..100).map(f64::from).collect()).unwrap();
        for id in [1, 2, 3] {
            w.append(TaskId(id), [("x", &a)]).unwrap();
        }
        w.flush().unwrap();
        let path = files(dir.path()).unwrap().remove(0);
        let mut bytes = std::fs::read(&path).unwrap();
        let one = bytes.len() / 3;
        damage(&mut bytes, one);
        std::fs::write(&path, &bytes).unwrap();
        let mut ids = Vec::new();
        let d = read(&path, |s| ids.push(s.id.0)).unwrap();
        (ids, d)
    }

    #[test]
    fn a_flipped_byte_loses_only_its_own_record() {
        let (ids, d) = after(|b, one| b[one + one / 2] ^= 0x10);
        assert_eq!(ids, [1, 3]);
        assert_eq!(d.spans.len(), 1);
        assert_eq!(d.tail, None);
    }

    #[test]
    fn a_zeroed_header_or_a_record_cut_short_loses_only_itself() {
        assert_eq!(after(|b, one| b[one..one + 30].fill(0)).0, [1, 3]);
        assert_eq!(after(|b, one| drop(b.drain(one + 20..one + 120))).0, [1, 3]);
        // A damaged length does not make the reader allocate it.
        assert_eq!(after(|b, one| b[one + 25..one + 33].fill(0xff)).0, [1, 3]);
        let (ids, d) = after(|b, one| b.truncate(2 * one + 7));
        assert_eq!((ids, d.tail.is_some()), (vec![1, 2], true));
    }
}
