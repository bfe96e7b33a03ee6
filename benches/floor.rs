//! The dispatch floor: the least work a runner must do per `spin` task with `micros = 0`.
//!
//! A bare rayon loop that derives each task's id and seed exactly as `sweep` does (through
//! the library's `Grid` and `Identity`), seeds the task RNG, makes the same draws as the
//! `spin` model and writes the same `results.csv` rows (byte for byte but for `seconds`), in
//! grid order, through a BufWriter, formatting numbers with the same fast routines.
//! No scheduler, no retries, no progress, no journal, no manifest: `sweep` is measured
//! against this.
//!
//! It mirrors this spec (the one `benches/peers/dispatch.sh` writes):
//!
//! ```toml
//! name = "dispatch_bench"
//! seed = 1
//! replicates = 1000000
//! [model]
//! name = "spin"
//! save = []
//! [params]
//! micros = 0
//! ```
//!
//! Usage (what dispatch.sh runs):
//!
//! ```text
//! cargo build --release --bench floor
//! target/release/deps/floor-<hash> 1000000 floor.csv 2
//! ```
//!
//! Arguments: `<tasks> <out.csv> [jobs]` (jobs defaults to the number of CPUs). Prints one
//! line: `floor: <tasks> tasks in <s> s = <tasks/s> tasks/s (jobs <n>)`.

use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use std::io::{BufWriter, Write};
use std::time::Instant;
use sweep::grid::{Axis, Grid, Identity};
use sweep::model::TaskRng;
use sweep::value::{f64_text, push_fixed6};
use sweep::Value;

/// The spec's master seed.
const MASTER_SEED: u64 = 1;
/// Tasks per rayon work item (one output buffer each).
const PIECE: u64 = 4096;
/// Tasks whose rows are buffered at once (two batches are alive: bounds memory).
const BATCH: u64 = 32 * PIECE;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    if args.len() < 2 || args.len() > 3 {
        eprintln!("usage: floor <tasks> <out.csv> [jobs]");
        std::process::exit(2);
    }
    let tasks: u32 = args[0].parse().expect("<tasks> is a positive integer (at most 2^32-1)");
    let out = &args[1];
    let jobs: usize = match args.get(2) {
        Some(j) => j.parse().expect("[jobs] is a positive integer"),
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let pool = rayon::ThreadPoolBuilder::new().num_threads(jobs).build().expect("rayon pool");

    let start = Instant::now();

    // `replicates = tasks` with `[params] micros = 0`: one column, one value, and the other
    // spin parameters fixed at their defaults (the spec's `fixed`, in model order).
    let grid = Grid::new(
        vec!["micros".into()],
        vec![Axis { names: vec!["micros".into()], values: vec![vec![Value::Int(0)]] }],
        tasks,
    )
    .expect("grid");
    let fixed = [
        ("array_len".to_string(), Value::Int(0)),
        ("fail_rate".to_string(), Value::Float(0.0)),
        ("panic_rate".to_string(), Value::Float(0.0)),
    ];
    let ident = Identity::new("spin", &fixed, &grid, MASTER_SEED);
    let total = grid.task_count();

    let file = std::fs::File::create(out).unwrap_or_else(|e| panic!("cannot create {out}: {e}"));
    let mut w = BufWriter::with_capacity(1 << 20, file);
    w.write_all(
        b"task,replicate,seed,micros,array_len,fail_rate,panic_rate,status,attempts,seconds,value,class,error\n",
    )
    .unwrap();

    // Batch b+1 is computed while batch b is written.
    let mut pending: Vec<Vec<u8>> = Vec::new();
    let mut lo = 0u64;
    while lo < total || !pending.is_empty() {
        let hi = (lo + BATCH).min(total);
        let done = std::mem::take(&mut pending);
        let w = &mut w;
        let (next, ()) = pool.install(|| {
            rayon::join(
                || {
                    (lo..hi)
                        .step_by(PIECE as usize)
                        .collect::<Vec<u64>>()
                        .into_par_iter()
                        .map(|a| rows(&grid, &ident, a, (a + PIECE).min(hi)))
                        .collect::<Vec<Vec<u8>>>()
                },
                || {
                    for p in &done {
                        w.write_all(p).unwrap();
                    }
                },
            )
        });
        pending = next;
        lo = hi;
    }
    w.flush().unwrap();
    drop(w);

    let secs = start.elapsed().as_secs_f64();
    println!("floor: {total} tasks in {secs:.3} s = {:.0} tasks/s (jobs {jobs})", total as f64 / secs);
}

/// The `results.csv` rows of tasks `a..b`.
fn rows(grid: &Grid, ident: &Identity, a: u64, b: u64) -> Vec<u8> {
    let mut buf = Vec::with_capacity(((b - a) * 84) as usize);
    let mut int = itoa::Buffer::new();
    let mut float = ryu::Buffer::new();
    for i in a..b {
        let t0 = Instant::now();
        let (id, seed) = ident.task(grid, i);
        let mut rng = TaskRng::seed_from_u64(seed);
        // spin draws value, then the fail and panic draws.
        let value: f64 = rng.random();
        let fail: f64 = rng.random();
        let panic: f64 = rng.random();
        std::hint::black_box((fail, panic));
        let secs = t0.elapsed().as_secs_f64();
        let (_, rep) = grid.locate(i);
        buf.extend_from_slice(&id.hex());
        buf.push(b',');
        buf.extend_from_slice(int.format(rep).as_bytes());
        buf.push(b',');
        buf.extend_from_slice(int.format(seed).as_bytes());
        buf.extend_from_slice(b",0,0,0.0,0.0,done,1,");
        push_fixed6(&mut buf, secs);
        buf.push(b',');
        buf.extend_from_slice(f64_text(value, &mut float).as_bytes());
        buf.extend_from_slice(b",,\n");
    }
    buf
}
