//! Fuzzing the spec parser and the planner on stable Rust, inside `cargo test`: the example
//! specs of `sweeps/` are mutated (bytes flipped, inserted and deleted, truncated, keys
//! deleted, numbers made huge, negative or NaN, non-ASCII text spliced in) and each mutant
//! is validated and, when valid, planned (the first and last tasks' ids and seeds, as
//! `--dry-run` shows them). Required: no panic, no hang, and every error names a line.
//!
//! The seed is fixed (proptest's deterministic runner) and the case count bounded, so the
//! test takes the same path on every machine and stays well under a minute in CI.

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use sweep::model::Registry;
use sweep::spec::Spec;

/// Mutants per example spec.
const CASES: u32 = 2000;
/// The slowest a single parse and plan may be before it counts as a hang.
const HANG: Duration = Duration::from_secs(2);

/// The spec files of `sweeps/`, as (path, bytes).
fn examples() -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("sweeps");
    let mut specs: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    specs.sort();
    assert!(specs.len() >= 5, "the example specs are the corpus: {specs:?}");
    specs
}

/// One way to damage a spec.
#[derive(Debug, Clone)]
enum Mutation {
    /// Replace the byte at (a fraction of the length) with a value.
    Flip(f64, u8),
    /// Insert bytes at a position.
    Insert(f64, Vec<u8>),
    /// Delete a range (start fraction, length).
    Delete(f64, usize),
    /// Cut the file at a position.
    Truncate(f64),
    /// Delete the nth line that holds a key (`name = ...`).
    DeleteKey(usize),
    /// Replace the nth number in the file with an extreme text.
    Number(usize, &'static str),
    /// Replace the nth quoted string's content with text.
    Text(usize, &'static str),
}

const NUMBERS: &[&str] = &[
    "0",
    "-1",
    "-0",
    "nan",
    "inf",
    "-inf",
    "1e308",
    "1e400",
    "-9223372036854775808",
    "18446744073709551616",
    "99999999999999999999999",
    "100000000000",
    "4294967296",
    "0.0000001",
    "1_000_000_000",
    "0x7fffffff",
    "1e11",
    "-1e11",
];

const TEXTS: &[&str] = &[
    "",
    "10 sécondes",
    "٣ ثوان",
    "🦀",
    "..",
    "../../x",
    "/abs",
    "a\u{0}b",
    "{",
    "}",
    "{seed}",
    "{nope}",
    "1e999s",
    "18446744073709551616s",
    "-5s",
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    let frac = 0.0..1.0f64;
    prop_oneof![
        (frac.clone(), any::<u8>()).prop_map(|(f, b)| Mutation::Flip(f, b)),
        (frac.clone(), proptest::collection::vec(any::<u8>(), 1..8)).prop_map(|(f, b)| Mutation::Insert(f, b)),
        (
            frac.clone(),
            prop::sample::select(vec![
                "é".as_bytes().to_vec(),
                b"\xff\xfe".to_vec(),
                b"\n[params]\n".to_vec(),
                b" = ".to_vec(),
                b"\"".to_vec(),
                b"[".to_vec(),
                b"{ linspace = [0, 1, 1000000000000] }".to_vec(),
                b"{ range = [0, 10, 0] }".to_vec(),
                b"replicates = 0\n".to_vec(),
                b"\r\n".to_vec(),
            ])
        )
            .prop_map(|(f, b)| Mutation::Insert(f, b)),
        (frac.clone(), 1..40usize).prop_map(|(f, n)| Mutation::Delete(f, n)),
        frac.prop_map(Mutation::Truncate),
        (0..30usize).prop_map(Mutation::DeleteKey),
        (0..30usize, prop::sample::select(NUMBERS)).prop_map(|(i, n)| Mutation::Number(i, n)),
        (0..30usize, prop::sample::select(TEXTS)).prop_map(|(i, t)| Mutation::Text(i, t)),
    ]
}

fn at(len: usize, f: f64) -> usize {
    ((len as f64 * f) as usize).min(len)
}

/// Byte ranges (start, end) in a spec's text.
type Spans = Vec<(usize, usize)>;

/// The byte ranges of the numbers and of the quoted strings' contents in `text`.
fn tokens(text: &[u8]) -> (Spans, Spans) {
    let (mut numbers, mut strings) = (Vec::new(), Vec::new());
    let mut i = 0;
    while i < text.len() {
        let c = text[i];
        if c == b'"' || c == b'\'' {
            let end = text[i + 1..].iter().position(|&b| b == c || b == b'\n').map_or(text.len(), |e| i + 1 + e);
            strings.push((i + 1, end));
            i = end + 1;
        } else if c.is_ascii_digit() || (c == b'-' && text.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            let end = text[i + 1..]
                .iter()
                .position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'+')))
                .map_or(text.len(), |e| i + 1 + e);
            numbers.push((i, end));
            i = end;
        } else {
            i += 1;
        }
    }
    (numbers, strings)
}

fn apply(mut s: Vec<u8>, m: &Mutation) -> Vec<u8> {
    let replace = |s: &mut Vec<u8>, (a, b): (usize, usize), with: &[u8]| {
        s.splice(a..b, with.iter().copied());
    };
    match m {
        Mutation::Flip(f, b) => {
            if !s.is_empty() {
                let i = at(s.len() - 1, *f);
                s[i] = *b;
            }
        }
        Mutation::Insert(f, b) => {
            let i = at(s.len(), *f);
            s.splice(i..i, b.iter().copied());
        }
        Mutation::Delete(f, n) => {
            let i = at(s.len(), *f);
            let end = (i + n).min(s.len());
            s.drain(i..end);
        }
        Mutation::Truncate(f) => s.truncate(at(s.len(), *f)),
        Mutation::DeleteKey(n) => {
            let text = String::from_utf8_lossy(&s).into_owned();
            let keys: Vec<&str> =
                text.lines().filter(|l| l.contains(" = ") && !l.trim_start().starts_with('#')).collect();
            if !keys.is_empty() {
                let gone = keys[n % keys.len()];
                s = text.lines().filter(|l| *l != gone).collect::<Vec<_>>().join("\n").into_bytes();
            }
        }
        Mutation::Number(n, with) => {
            let (numbers, _) = tokens(&s);
            if !numbers.is_empty() {
                replace(&mut s, numbers[n % numbers.len()], with.as_bytes());
            }
        }
        Mutation::Text(n, with) => {
            let (_, strings) = tokens(&s);
            if !strings.is_empty() {
                replace(&mut s, strings[n % strings.len()], with.as_bytes());
            }
        }
    }
    s
}

/// Validates and plans one mutant; an error must name a line.
fn check(
    registry: &Registry,
    dir: &Path,
    name: &Path,
    bytes: &[u8],
    tally: &mut [u32; 2],
) -> Result<(), TestCaseError> {
    // Written beside the real example, so that `[python] function` and the models' files
    // resolve as they do for the original.
    let path = dir.join(name.file_name().unwrap());
    std::fs::write(&path, bytes).unwrap();
    let started = Instant::now();
    match Spec::from_file(&path, registry) {
        Ok(spec) => {
            tally[0] += 1;
            let n = spec.task_count();
            prop_assert!(n > 0, "a valid spec has tasks");
            for i in [0, n / 2, n - 1] {
                let (id, _seed) = spec.identity.task(&spec.grid, i);
                let (point, rep) = spec.grid.locate(i);
                prop_assert!(rep < spec.grid.replicates && point < spec.grid.points());
                prop_assert_eq!(id.to_string().len(), 16);
                for c in 0..spec.grid.columns.len() {
                    let _ = spec.grid.value(point, c).to_string();
                }
            }
        }
        Err(e) => {
            tally[1] += 1;
            let shown = e.to_string();
            prop_assert!(
                e.line_col().is_some(),
                "an error without a line:\n{}\n--- for the spec:\n{}",
                shown,
                String::from_utf8_lossy(bytes)
            );
            prop_assert!(shown.contains(":"), "{}", shown);
        }
    }
    prop_assert!(started.elapsed() < HANG, "took {:?}: {}", started.elapsed(), String::from_utf8_lossy(bytes));
    Ok(())
}

#[test]
fn mutated_example_specs_never_panic_hang_or_give_an_error_without_a_line() {
    let registry = Registry::builtin();
    let scratch = tempfile::tempdir().unwrap();
    for (path, original) in examples() {
        // The mutant sits in a copy of sweeps/ so that relative files (python/…) resolve.
        let dir = scratch.path().join("sweeps");
        if !dir.exists() {
            copy_tree(path.parent().unwrap(), &dir);
        }
        let config = Config { cases: CASES, failure_persistence: None, ..Config::default() };
        // A fixed seed per file: the same mutants on every machine and every run.
        let seed: [u8; 32] = {
            let mut s = [7u8; 32];
            for (i, b) in path.file_name().unwrap().as_encoded_bytes().iter().enumerate() {
                s[i % 32] ^= b;
            }
            s
        };
        let mut runner = TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
        let strategy = proptest::collection::vec(mutation(), 1..4);
        let tally = std::cell::RefCell::new([0u32; 2]);
        let result = runner.run(&strategy, |ms| {
            let mutant = ms.iter().fold(original.clone(), apply);
            check(&registry, &dir, &path, &mutant, &mut tally.borrow_mut())
        });
        if let Err(e) = result {
            panic!("{}: {e}", path.display());
        }
        // Both paths are exercised: mutants that still plan, and mutants that are refused.
        let [planned, refused] = tally.into_inner();
        eprintln!("{}: {planned} mutants planned, {refused} refused", path.display());
        assert!(planned >= 10 && refused >= 10, "{}: {planned} planned, {refused} refused", path.display());
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_tree(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}
