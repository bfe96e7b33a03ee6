//! SHA-256 checksums of a task's output files, taken when the task is done, so that
//! `sweep verify` can compare a rerun with what the run produced without trusting files
//! that may have been edited since.

use sha2::{Digest, Sha256};
use std::io::{self, Read};
use std::path::Path;

/// Files sweep itself writes into a task's directory: the captured output streams, and the
/// metrics a command reports (recorded as metrics, compared as metrics). They are not the
/// task's outputs, so they get no checksum.
pub const OWN_FILES: [&str; 3] = ["stdout.txt", "stderr.txt", "metrics.json"];

/// One output file of a task and its SHA-256.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileDigest {
    /// Its path inside the task's directory, `/`-separated (`c.npy`, `plots/a.png`).
    pub name: String,
    /// SHA-256 of its bytes.
    pub sha256: [u8; 32],
}

impl FileDigest {
    /// The checksum as 64 lowercase hex digits (as the journal writes it).
    pub fn hex(&self) -> String {
        hex(&self.sha256)
    }
}

/// `bytes` as lowercase hex digits.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The checksums of every output file under `dir` (recursively, sorted by name), leaving
/// out [`OWN_FILES`] at its top and sweep's temporaries. Symbolic links and other
/// non-regular files are neither followed nor counted: a task's outputs are its files.
/// A missing `dir` has no outputs.
pub fn digest_dir(dir: &Path) -> io::Result<Vec<FileDigest>> {
    let mut out = Vec::new();
    match walk(dir, "", &mut out) {
        Err(e) if e.kind() == io::ErrorKind::NotFound && std::fs::symlink_metadata(dir).is_err() => {
            return Ok(Vec::new())
        }
        r => r?,
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

fn walk(dir: &Path, prefix: &str, out: &mut Vec<FileDigest>) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else { continue };
        if name.contains(super::TEMP_MARK) || (prefix.is_empty() && OWN_FILES.contains(&name.as_str())) {
            continue;
        }
        let kind = entry.file_type()?;
        let rel = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
        if kind.is_dir() {
            walk(&entry.path(), &rel, out)?;
        } else if kind.is_file() {
            out.push(FileDigest { name: rel, sha256: digest_file(&entry.path())? });
        }
    }
    Ok(())
}

/// SHA-256 of the file at `path` (a symlink there is not followed).
pub fn digest_file(path: &Path) -> io::Result<[u8; 32]> {
    let mut f = super::open_nofollow(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::HashingWriter;
    use std::io::Write;

    #[test]
    fn a_task_directory_s_outputs_are_its_files_but_sweep_s_own() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        for (name, text) in [("stdout.txt", "o"), ("stderr.txt", "e"), ("metrics.json", "{}"), ("b.bin", "abc")] {
            std::fs::write(d.join(name), text).unwrap();
        }
        std::fs::create_dir(d.join("sub")).unwrap();
        std::fs::write(d.join("sub/stdout.txt"), "").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", d.join("link")).unwrap();
        let got = digest_dir(d).unwrap();
        let names: Vec<&str> = got.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["b.bin", "sub/stdout.txt"]);
        // sha256("abc"), as `sha256sum` prints it.
        assert_eq!(got[0].hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert!(digest_dir(&d.join("missing")).unwrap().is_empty());
    }

    #[test]
    fn hashing_while_writing_equals_hashing_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("x");
        let mut w = HashingWriter::new(std::fs::File::create(&p).unwrap());
        w.write_all(&[7u8; 100_000]).unwrap();
        let (_, sum) = w.finish();
        assert_eq!(sum, digest_file(&p).unwrap());
    }
}
