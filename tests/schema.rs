//! One description of the formats Rust and Python both read (`sweep::schema`): the file the
//! Python package ships is the one the library defines, and `python/sweep/data.py` reads
//! the columns and the manifest's format from it, refusing a newer manifest as Rust does.

mod common;
use common::*;

use std::path::Path;
use std::process::Command;
use sweep::outdir::{Manifest, ManifestError, MANIFEST_FORMAT};
use sweep::results::columns::{LEADING, STATUS, TRAILING};

#[test]
fn the_python_package_s_schema_json_is_the_one_the_library_defines() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(sweep::schema::PATH);
    let want = sweep::schema::json();
    if std::env::var_os("SWEEP_WRITE_SCHEMA").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        have,
        want,
        "{} differs from sweep::schema::json(); write it again with \
         `SWEEP_WRITE_SCHEMA=1 cargo test --test schema` and commit it",
        path.display()
    );
}

/// What `sweep.data` makes of `manifest.json` holding `{"format": format}`: "ok", or its error.
fn python_reads_manifest(format: u32) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("manifest.json"), format!("{{\"format\": {format}, \"name\": \"x\"}}")).unwrap();
    let script = "import sys, sweep.data as d\n\
                  try:\n    d._manifest(sys.argv[1]); print('ok')\n\
                  except d.SweepDataError as e:\n    print(e)";
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(dir.path())
        .env("PYTHONPATH", Path::new(env!("CARGO_MANIFEST_DIR")).join("python"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn python_reads_the_columns_and_the_manifest_format_that_rust_writes() {
    if require_tool("python3", python_modules("json")).is_none() {
        return;
    }
    let script = "import json, sweep.data as d\n\
                  print(json.dumps([d._LEADING, d._BOOKKEEPING, d._TRAILING, d._MANIFEST_FORMAT]))";
    let out = Command::new("python3")
        .args(["-c", script])
        .env("PYTHONPATH", Path::new(env!("CARGO_MANIFEST_DIR")).join("python"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (leading, status, trailing, format): (Vec<String>, Vec<String>, Vec<String>, u32) =
        serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (leading, status, trailing, format),
        (to_vec(&LEADING), to_vec(&STATUS), to_vec(&TRAILING), MANIFEST_FORMAT)
    );

    // A manifest of a newer format: both refuse it, saying to upgrade; the current one is read.
    let newer = format!("{{\"format\": {}}}", MANIFEST_FORMAT + 1);
    let rust = Manifest::parse(&newer, Path::new("manifest.json")).unwrap_err();
    assert!(matches!(rust, ManifestError::Newer { .. }), "{rust}");
    let python = python_reads_manifest(MANIFEST_FORMAT + 1);
    assert!(python.contains("written by a newer sweep") && python.contains("upgrade sweep"), "{python}");
    assert_eq!(python_reads_manifest(MANIFEST_FORMAT), "ok");
}

fn to_vec(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}
