//! The array store never loses an array that a done task produced: not to a crash in the
//! middle of the store's swap, and not to damaged bytes in a staging file (#24).

mod common;
use common::*;
use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;

const ZARR: &str = "[output]\narrays = \"zarr\"\n";

/// 40 tasks of 16-element arrays.
fn spec() -> String {
    format!("seed = 3\nreplicates = 20\n[model]\nname = \"spin\"\narray_len = 16\n[params]\nmicros = [0, 1]\n{ZARR}")
}

/// The store's files and a hash of each (a failure then prints a short diff).
fn store_files(env: &Env, out: &str) -> BTreeMap<PathBuf, u64> {
    use std::hash::{Hash, Hasher};
    let files = all_files(&env.path(&format!("{out}/store.zarr")));
    assert!(files.len() > 10, "{:?}", files.keys());
    let hash = |b: &Vec<u8>| {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        b.hash(&mut h);
        h.finish()
    };
    files.iter().map(|(p, b)| (p.clone(), hash(b))).collect()
}

/// The store of `out` equals that of `clean`, byte for byte and as xarray reads them, and
/// holds every done task's array (no NaN).
fn same_store(env: &Env, out: &str, clean: &str) {
    assert_eq!(store_files(env, out), store_files(env, clean));
    let Some(()) = require_tool("zarr", zarr()) else { return };
    let check = "import sys, numpy as np, xarray as xr\n\
                 a, b = (xr.open_zarr(p + '/store.zarr') for p in sys.argv[1:])\n\
                 xr.testing.assert_identical(a.load(), b.load())\n\
                 assert (a.status.values == 'done').all()\n\
                 assert not np.isnan(a.data.values).any(), 'NaN arrays of done tasks'\nprint('ok')\n";
    let o = std::process::Command::new("python3").args(["-c", check, &env.abs(out), &env.abs(clean)]).output().unwrap();
    assert!(o.status.success(), "{}{}", text(&o.stdout), stderr(&o));
}

/// The old store moved aside, the new one not yet in place: a kill there used to leave the
/// earlier runs' arrays only in `.store.zarr.old…`, which the next build deleted.
#[test]
fn a_kill_between_the_store_renames_loses_no_earlier_runs_arrays() {
    let env = Env::with("a.toml", &spec());
    env.succeeds(&["run", "a.toml", "--out", "clean", "-q"]);
    env.succeeds(&["run", "a.toml", "--out", "k", "-q", "--limit", "10"]);
    assert!(files(&env.path("k/staging")).is_empty(), "the first store replaced its staging files");
    let o = env
        .sweep(&["run", "a.toml", "--out", "k", "-q", "--resume"])
        .env("SWEEP_FAULT_KILL_AT", "store-swap")
        .output()
        .unwrap();
    assert_eq!(o.status.signal(), Some(libc::SIGKILL), "{}", stderr(&o));
    assert!(!env.path("k/store.zarr").exists(), "killed between the renames");
    let aside: Vec<_> = std::fs::read_dir(env.path("k"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".store.zarr.old"))
        .collect();
    assert_eq!(aside.len(), 1, "the old store waits aside");
    if require_tool("zarr", zarr()).is_some() {
        // Meanwhile sweep.open reads the old store, with a warning.
        let check = "import sys, warnings, sweep\n\
                     with warnings.catch_warnings(record=True) as w: warnings.simplefilter('always'); ds = sweep.open(sys.argv[1])\n\
                     assert any('store.zarr is missing' in str(x.message) for x in w), w\n\
                     assert (ds.status.values == 'done').sum() == 10, ds.status.values\nprint('ok')\n";
        let o = std::process::Command::new("python3")
            .args(["-c", check, &env.abs("k")])
            .env("PYTHONPATH", concat!(env!("CARGO_MANIFEST_DIR"), "/python"))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}{}", text(&o.stdout), stderr(&o));
    }
    env.succeeds(&["run", "a.toml", "--out", "k", "-q", "--resume"]);
    same_store(&env, "k", "clean");
}

/// 40 tasks of 256-element arrays (a staging file of some 80 kB).
fn big_spec() -> String {
    spec().replace("array_len = 16", "array_len = 256")
}

/// A run of 20 tasks killed as its store build starts (its staging file then holds the
/// only copy of their arrays), the staging file damaged by `damage`, then `--resume`: the
/// tasks whose records were damaged run again, and the store is the uninterrupted run's.
fn damaged_staging_then_resume(damage: impl Fn(&mut Vec<u8>)) -> Out {
    let env = Env::with("a.toml", &big_spec());
    env.succeeds(&["run", "a.toml", "--out", "clean", "-q"]);
    let o = env
        .sweep(&["run", "a.toml", "--out", "d", "-q", "--limit", "20"])
        .env("SWEEP_FAULT_KILL_AT", "store-build")
        .output()
        .unwrap();
    assert_eq!(o.status.signal(), Some(libc::SIGKILL), "{}", stderr(&o));
    let staged = files(&env.path("d/staging"));
    assert_eq!(staged.len(), 1, "{staged:?}");
    let path = env.path("d/staging").join(&staged[0]);
    let mut bytes = std::fs::read(&path).unwrap();
    damage(&mut bytes);
    std::fs::write(&path, &bytes).unwrap();
    let status = env.exits(&["status", "d"], 1);
    assert!(status.stderr.contains("lost"), "{status:?}");
    assert!(status.stdout.contains("io: its arrays were lost"), "{status:?}");
    let err = env.succeeds_stderr(&["run", "a.toml", "--out", "d", "--resume"]);
    assert!(err.contains("lost their arrays") || err.contains("lost its arrays"), "{err}");
    same_store(&env, "d", "clean");
    status
}

#[test]
fn a_flipped_byte_in_a_staging_file_loses_no_array() {
    damaged_staging_then_resume(|b| {
        let mid = b.len() / 2;
        b[mid] ^= 0x40;
    });
}

#[test]
fn a_zeroed_page_in_a_staging_file_loses_no_array() {
    damaged_staging_then_resume(|b| b[8192..12288].fill(0));
}

#[test]
fn a_truncated_record_in_a_staging_file_loses_no_array() {
    damaged_staging_then_resume(|b| b.truncate(b.len() * 3 / 5));
}

/// `sweep verify` used to compare a store sweep's metrics only, so it could not notice an
/// array lost or changed in the store.
#[test]
fn verify_of_a_damaged_store_names_the_array_that_differs() {
    let env = Env::with("a.toml", &spec());
    env.succeeds(&["run", "a.toml", "--out", "o", "-q"]);
    let ok = env.succeeds(&["verify", "o", "--sample", "40"]);
    assert!(ok.contains("verified: 40 of 40 tasks match exactly"), "{ok}");
    let shard = env.path("o/store.zarr/data/c/0/0/0");
    let mut bytes = std::fs::read(&shard).unwrap();
    bytes[10] ^= 0x01;
    std::fs::write(&shard, &bytes).unwrap();
    let out = env.exits(&["verify", "o", "--sample", "40"], 1).stdout;
    assert!(out.contains("store.zarr/data  ["), "{out}");
    assert!(out.contains("]: first at element 1 (C order): "), "{out}");
    assert!(out.contains("verify: 39 of 40 tasks match; 1 mismatch"), "{out}");
    std::fs::remove_file(&shard).unwrap();
    let out = env.exits(&["verify", "o", "--sample", "40"], 1).stdout;
    assert!(out.contains("]: cannot be read from the store: "), "{out}");
    assert!(out.contains("verify: 0 of 40 tasks match"), "{out}");
}

/// `collect` builds the store too: a done task whose staged arrays are damaged must not
/// enter it as done (with NaN arrays), where the next resume would take the store's word.
#[test]
fn collect_after_a_damaged_staging_record_leaves_the_task_to_run_again() {
    let env = Env::with("a.toml", &big_spec());
    env.succeeds(&["run", "a.toml", "--out", "clean", "-q"]);
    let mut cmd = env.sweep(&["run", "a.toml", "--out", "d", "-q", "--limit", "20"]);
    let o = cmd.env("SWEEP_FAULT_KILL_AT", "store-build").output().unwrap();
    assert_eq!(o.status.signal(), Some(libc::SIGKILL), "{}", stderr(&o));
    let path = env.path("d/staging").join(&files(&env.path("d/staging"))[0]);
    let mut bytes = std::fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(&path, &bytes).unwrap();
    let err = env.fails(&["collect", "d"], 1);
    assert!(err.contains("1 done task lost its arrays"), "{err}");
    env.succeeds(&["run", "a.toml", "--out", "d", "-q", "--resume"]);
    same_store(&env, "d", "clean");
}
