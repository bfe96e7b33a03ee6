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
    env.succeeds(&["run", "a.toml", "--out", "k", "-q", "--resume"]);
    same_store(&env, "k", "clean");
}
