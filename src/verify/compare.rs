//! Comparing one task's rerun with what the run recorded: every metric exactly, every
//! output file by its SHA-256 (the recorded one, not the file as it is now), and the file
//! in the out directory against its recorded checksum, so that an edit since is caught.

use super::npy::{first_difference, read};
use crate::io::{digest_dir, digest_file, hex};
use crate::model::Metric;
use std::collections::BTreeMap;
use std::path::Path;

/// One output of a task that does not match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// The metric's name, or the file's path in the task's directory.
    pub output: String,
    /// What differs, with the first differing element and both values when they are known.
    pub detail: String,
}

fn found(output: &str, detail: impl Into<String>) -> Found {
    Found { output: output.to_string(), detail: detail.into() }
}

/// A metric as the journal and `results.csv` spell it (floats in shortest round-trip form).
fn show(m: Option<&Metric>) -> String {
    match m {
        None => "absent".into(),
        Some(Metric::Float(f)) => format!("{f:?}"),
        Some(Metric::Int(i)) => i.to_string(),
        Some(Metric::UInt(u)) => u.to_string(),
        Some(Metric::Bool(b)) => b.to_string(),
        Some(Metric::Null) => "null".into(),
        Some(Metric::Str(s)) => serde_json::to_string(s).unwrap_or_default(),
    }
}

/// Exactly the same value: floats by their bits, so NaN matches NaN and -0.0 is not 0.0.
fn same(a: &Metric, b: &Metric) -> bool {
    match (a, b) {
        (Metric::Float(x), Metric::Float(y)) => x.to_bits() == y.to_bits(),
        _ => a == b,
    }
}

/// The metrics that differ between the run's record and the rerun's, by name.
pub fn metrics(recorded: &[(String, Metric)], rerun: &[(String, Metric)]) -> Vec<Found> {
    let get = |ms: &'_ [(String, Metric)], k: &str| ms.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let mut out = Vec::new();
    for (k, v) in recorded {
        let r = get(rerun, k);
        if !r.as_ref().is_some_and(|r| same(v, r)) {
            out.push(found(k, format!("{} recorded, {} in the rerun", show(Some(v)), show(r.as_ref()))));
        }
    }
    for (k, v) in rerun.iter().filter(|(k, _)| get(recorded, k).is_none()) {
        out.push(found(k, format!("absent recorded, {} in the rerun", show(Some(v)))));
    }
    out
}

/// One task's files: its directory in the out directory and in the scratch rerun, and the
/// checksums each run recorded (`None`: the record has no `files` field).
pub struct TaskFiles<'a> {
    /// `OUT/tasks/<task>`.
    pub out_dir: &'a Path,
    /// `SCRATCH/tasks/<task>`.
    pub rerun_dir: &'a Path,
    /// From the run's journal.
    pub recorded: Option<&'a [(String, String)]>,
    /// From the rerun's journal.
    pub rerun: Option<&'a [(String, String)]>,
}

/// What of a task's files does not match, and whether its record predates checksums (its
/// files were then compared as they are now in the out directory).
pub fn files(t: &TaskFiles) -> (Vec<Found>, bool) {
    let rerun: BTreeMap<&str, &str> = t.rerun.unwrap_or(&[]).iter().map(|(n, h)| (n.as_str(), h.as_str())).collect();
    let now = |name: &str| digest_file(&t.out_dir.join(name)).map(|d| hex(&d));
    let (recorded, unchecked): (Vec<(String, String)>, bool) = match t.recorded {
        Some(r) => (r.to_vec(), false),
        // A record from before checksums: the files as they are now stand in for them.
        None if t.out_dir.is_dir() => {
            let d = digest_dir(t.out_dir).unwrap_or_default();
            (d.iter().map(|f| (f.name.clone(), f.hex())).collect(), true)
        }
        None => (Vec::new(), false),
    };
    let mut out = Vec::new();
    for (name, sum) in &recorded {
        let disk = now(name);
        match rerun.get(name.as_str()) {
            None => out.push(found(name, "the rerun did not write it")),
            Some(r) if r != sum && unchecked => {
                let labels = ("in the out directory", "in the rerun");
                let detail = diff(name, &t.out_dir.join(name), &t.rerun_dir.join(name), labels);
                out.push(found(
                    name,
                    format!("differs from the file in the out directory (no checksum recorded): {detail}"),
                ));
            }
            Some(r) if r != sum => {
                let detail = match &disk {
                    Ok(d) if d == sum => {
                        diff(name, &t.out_dir.join(name), &t.rerun_dir.join(name), ("recorded", "in the rerun"))
                    }
                    _ => "the file in the out directory changed since the run, so the recorded values cannot be shown"
                        .into(),
                };
                out.push(found(name, format!("differs from the recorded output: {detail}")));
            }
            Some(_) => {}
        }
        if unchecked {
            continue;
        }
        match disk {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                out.push(found(name, "missing from the out directory: removed since the run"))
            }
            Err(e) => out.push(found(name, format!("cannot be read in the out directory: {e}"))),
            Ok(d) if &d != sum => {
                // When the rerun reproduced the recorded checksum, its file shows what the
                // run wrote.
                let detail = if rerun.get(name.as_str()) == Some(&sum.as_str()) {
                    diff(name, &t.rerun_dir.join(name), &t.out_dir.join(name), ("recorded", "now"))
                } else {
                    "its SHA-256 is no longer the recorded one".into()
                };
                out.push(found(name, format!("changed in the out directory since the run: {detail}")));
            }
            Ok(_) => {}
        }
    }
    for name in rerun.keys().filter(|n| !recorded.iter().any(|(r, _)| r == *n)) {
        out.push(found(name, "written by the rerun, not by the run"));
    }
    (out, unchecked)
}

/// Where the files `a` and `b` first differ.
fn diff(name: &str, a: &Path, b: &Path, labels: (&str, &str)) -> String {
    match (read(a), read(b)) {
        (Ok(x), Ok(y)) => first_difference(name, &x, &y, labels).unwrap_or_else(|| "the same bytes".into()),
        (Err(e), _) | (_, Err(e)) => format!("cannot be read: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_are_compared_exactly_by_name() {
        let rec = vec![("a".to_string(), Metric::Float(0.1)), ("n".to_string(), Metric::Float(f64::NAN))];
        assert!(metrics(&rec, &rec.clone()).is_empty(), "NaN matches NaN");
        let off = vec![
            ("a".to_string(), Metric::Float(f64::from_bits(0.1f64.to_bits() + 1))),
            ("n".to_string(), Metric::Float(f64::NAN)),
        ];
        assert_eq!(metrics(&rec, &off), [found("a", "0.1 recorded, 0.10000000000000002 in the rerun")]);
        let more = vec![rec[0].clone(), rec[1].clone(), ("s".to_string(), Metric::Str("x".into()))];
        assert_eq!(metrics(&rec, &more), [found("s", "absent recorded, \"x\" in the rerun")]);
        assert_eq!(metrics(&more, &rec), [found("s", "\"x\" recorded, absent in the rerun")]);
        let int = vec![("a".to_string(), Metric::Int(1)), rec[1].clone()];
        assert_eq!(metrics(&rec, &int).len(), 1, "an int is not a float");
    }

    fn dir_with(root: &Path, name: &str, files: &[(&str, &[u8])]) -> (std::path::PathBuf, Vec<(String, String)>) {
        let d = root.join(name);
        std::fs::create_dir_all(&d).unwrap();
        for (n, b) in files {
            std::fs::write(d.join(n), b).unwrap();
        }
        let sums = digest_dir(&d).unwrap().iter().map(|f| (f.name.clone(), f.hex())).collect();
        (d, sums)
    }

    #[test]
    fn files_are_compared_by_their_recorded_checksums_and_edits_are_caught() {
        let tmp = tempfile::tempdir().unwrap();
        let (out_dir, rec) = dir_with(tmp.path(), "out", &[("a.txt", b"abc"), ("b.txt", b"xyz")]);
        let (rerun_dir, same_sums) = dir_with(tmp.path(), "same", &[("a.txt", b"abc"), ("b.txt", b"xyz")]);
        let t = TaskFiles { out_dir: &out_dir, rerun_dir: &rerun_dir, recorded: Some(&rec), rerun: Some(&same_sums) };
        assert_eq!(files(&t), (vec![], false));

        let (other_dir, other) = dir_with(tmp.path(), "other", &[("a.txt", b"abd"), ("c.txt", b"new")]);
        let t = TaskFiles { out_dir: &out_dir, rerun_dir: &other_dir, recorded: Some(&rec), rerun: Some(&other) };
        let (f, _) = files(&t);
        assert_eq!(
            f[0],
            found("a.txt", "differs from the recorded output: first at byte 2: 0x63 recorded, 0x64 in the rerun")
        );
        assert_eq!(f[1], found("b.txt", "the rerun did not write it"));
        assert_eq!(f[2], found("c.txt", "written by the rerun, not by the run"));

        std::fs::write(out_dir.join("b.txt"), b"xyZ").unwrap();
        let t = TaskFiles { out_dir: &out_dir, rerun_dir: &rerun_dir, recorded: Some(&rec), rerun: Some(&same_sums) };
        assert_eq!(
            files(&t).0,
            [found("b.txt", "changed in the out directory since the run: first at byte 2: 0x7a recorded, 0x5a now")]
        );

        // No checksums recorded: the files as they are now are all there is to compare with.
        let t = TaskFiles { out_dir: &out_dir, rerun_dir: &rerun_dir, recorded: None, rerun: Some(&same_sums) };
        let (f, unchecked) = files(&t);
        assert!(unchecked);
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0],
            found(
                "b.txt",
                "differs from the file in the out directory (no checksum recorded): first at byte 2: 0x5a in the out directory, 0x7a in the rerun"
            )
        );
    }
}
