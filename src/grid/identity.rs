//! Task ids and seeds: pure functions of a task's content (see docs/seeds.md).
//!
//! ```text
//! canon  = "sweep-task-v1\n" + "model=<model>\n"
//!        + for every parameter, sorted by name: "<name>=<canonical value>\n"
//!        + "replicate=<r>\n"
//! digest = SHA-256(canon)
//! task   = hex(digest[0..8])
//! seed   = u64 little-endian from SHA-256("sweep-seed-v1\n" + master_seed as 8 bytes LE + shared)[0..8]
//! shared = digest, or with `common_seed = [...]`: SHA-256(canon without the lines of those parameters)
//! rng    = ChaCha12Rng::seed_from_u64(seed)
//! ```
//! "Every parameter" is the model's full parameter set, fixed and swept, with defaults
//! filled in; the canonical value forms are those of [`Value::canonical`]. Without
//! `common_seed`, `shared` is the id's own digest, so seeds are what they always were.

use super::Grid;
use crate::value::Value;
use sha2::{Digest, Sha256};
use std::fmt;

/// The 32-bit seed of a task for APIs that take no more (`np.random.seed`, scikit-learn's
/// `random_state`): the low 32 bits of the task's seed, `seed % 2**32`.
pub fn seed32(seed: u64) -> u32 {
    seed as u32
}

/// A task's content-based id: 64 bits, shown as 16 lowercase hex digits (a safe file name).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId(pub u64);

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl TaskId {
    /// The id as its 16 lowercase hex digits (what `Display` prints), without formatting machinery.
    pub fn hex(self) -> [u8; 16] {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 16];
        for (i, o) in out.iter_mut().enumerate() {
            *o = HEX[((self.0 >> ((15 - i) * 4)) & 0xf) as usize];
        }
        out
    }
}

impl std::str::FromStr for TaskId {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        if s.len() != 16 {
            return Err(());
        }
        u64::from_str_radix(s, 16).map(TaskId).map_err(|_| ())
    }
}

enum Part {
    Fixed(Box<[u8]>),
    /// Column index into the grid; its encoded lines are in `Identity::lines`.
    Column(usize),
}

/// One canonical line of a task, and whether the seed's digest reads it too.
struct Named {
    name: String,
    part: Part,
    /// False for the parameters of `common_seed`, which the seed leaves out.
    seeded: bool,
}

/// Derives ids and seeds for the tasks of one grid, with every canonical line encoded once.
pub struct Identity {
    prefix: Vec<u8>,
    parts: Vec<Named>,
    /// Whether some parameter is left out of the seed (a second digest per task).
    shared: bool,
    /// `lines[col][i]`: `"<name>=<canonical value i>\n"` for grid column `col`.
    lines: Vec<Vec<Box<[u8]>>>,
    master: [u8; 8],
}

impl Identity {
    /// `kind` is the model's name (or "command"); `fixed` are the parameters that are not
    /// swept, defaults included.
    pub fn new(kind: &str, fixed: &[(String, Value)], grid: &Grid, master_seed: u64) -> Self {
        let line = |name: &str, v: &Value| format!("{name}={}\n", v.canonical()).into_bytes().into_boxed_slice();
        let mut named: Vec<Named> =
            fixed.iter().map(|(n, v)| Named { name: n.clone(), part: Part::Fixed(line(n, v)), seeded: true }).collect();
        named.extend(grid.columns.iter().enumerate().map(|(c, n)| Named {
            name: n.clone(),
            part: Part::Column(c),
            seeded: true,
        }));
        named.sort_by(|a, b| a.name.cmp(&b.name));
        let lines = (0..grid.columns.len())
            .map(|c| {
                let (a, m) = grid.column_position(c);
                grid.axes[a].values[m].iter().map(|v| line(&grid.columns[c], v)).collect()
            })
            .collect();
        Self {
            prefix: format!("sweep-task-v1\nmodel={kind}\n").into_bytes(),
            parts: named,
            shared: false,
            lines,
            master: master_seed.to_le_bytes(),
        }
    }

    /// Leaves the parameters `names` (of the fixed ones or the grid's columns given to
    /// [`new`](Self::new)) out of the seed, not the id: tasks that differ only in them share
    /// their seed (`common_seed`: common random numbers across methods).
    pub fn sharing_seed(mut self, names: &[String]) -> Self {
        for named in &mut self.parts {
            if names.contains(&named.name) {
                named.seeded = false;
                self.shared = true;
            }
        }
        self
    }

    /// The id and seed of task `index` of `grid`.
    pub fn task(&self, grid: &Grid, index: u64) -> (TaskId, u64) {
        let (digest, shared) = self.digests(grid, index, true);
        let id = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
        let mut s = Sha256::new();
        s.update(b"sweep-seed-v1\n");
        s.update(self.master);
        s.update(shared.unwrap_or(digest));
        let seed = u64::from_le_bytes(s.finalize()[..8].try_into().expect("8 bytes"));
        (TaskId(id), seed)
    }

    /// The id of task `index` of `grid` alone (a fraction of the work of
    /// [`Identity::task`]): for checking a journal record's grid index against its id.
    pub fn id(&self, grid: &Grid, index: u64) -> TaskId {
        TaskId(u64::from_be_bytes(self.digests(grid, index, false).0[..8].try_into().expect("8 bytes")))
    }

    /// The digest of task `index`'s canonical lines (its id's), and with `seed` the digest
    /// its seed is derived from when `common_seed` leaves parameters out of it.
    fn digests(&self, grid: &Grid, index: u64, seed: bool) -> ([u8; 32], Option<[u8; 32]>) {
        let (point, rep) = grid.locate(index);
        let mut h = Sha256::new();
        // The seed's digest, when it leaves some parameters out; fed alongside `h`.
        let mut shared = (seed && self.shared).then(Sha256::new);
        let mut both = |bytes: &[u8], seeded: bool| {
            h.update(bytes);
            if let (Some(s), true) = (shared.as_mut(), seeded) {
                s.update(bytes);
            }
        };
        both(&self.prefix, true);
        for named in &self.parts {
            match &named.part {
                Part::Fixed(l) => both(l, named.seeded),
                Part::Column(c) => {
                    let (a, _) = grid.column_position(*c);
                    let digit = grid.digit(point, a);
                    match grid.refine.as_deref().filter(|s| s.axis == a && digit >= s.start) {
                        // A refined point's line is its value's, as any parameter's; a slot
                        // not yet filled gets a line no value has, so its id is no task's.
                        Some(s) => {
                            let line = match s.added(s.curve(point), digit) {
                                Some(added) => format!("{}={}\n", named.name, added.value.canonical()),
                                None => format!("{}=unset:{digit}\n", named.name),
                            };
                            both(line.as_bytes(), named.seeded)
                        }
                        None => both(&self.lines[*c][digit], named.seeded),
                    }
                }
            }
        }
        both(b"replicate=", true);
        both(itoa::Buffer::new().format(rep).as_bytes(), true);
        both(b"\n", true);
        (h.finalize().into(), shared.map(|s| s.finalize().into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::Axis;

    #[test]
    fn derivation_matches_the_documented_recipe() {
        // Independent recomputation of docs/seeds.md's recipe for one task.
        let grid = Grid::new(
            vec!["k".into()],
            vec![Axis { names: vec!["k".into()], values: vec![vec![Value::Float(0.5)]] }],
            2,
        )
        .unwrap();
        let ident = Identity::new("reaction", &[("c0".into(), Value::Float(1.0))], &grid, 42);
        let canon = "sweep-task-v1\nmodel=reaction\nc0=f:3ff0000000000000\nk=f:3fe0000000000000\nreplicate=1\n";
        let digest = Sha256::digest(canon.as_bytes());
        let mut s = Sha256::new();
        s.update(b"sweep-seed-v1\n");
        s.update(42u64.to_le_bytes());
        s.update(digest);
        let seed = u64::from_le_bytes(s.finalize()[..8].try_into().unwrap());
        let (id, got_seed) = ident.task(&grid, 1);
        assert_eq!(id.to_string(), format!("{:x}", digest)[..16]);
        assert_eq!(&id.hex(), id.to_string().as_bytes());
        assert_eq!(got_seed, seed);
    }

    #[test]
    fn common_seed_leaves_its_parameters_out_of_the_seed_only() {
        let grid = Grid::new(
            vec!["k".into(), "method".into()],
            vec![
                Axis { names: vec!["k".into()], values: vec![vec![Value::Float(0.5), Value::Float(1.0)]] },
                Axis {
                    names: vec!["method".into()],
                    values: vec![vec![Value::Str("a".into()), Value::Str("b".into())]],
                },
            ],
            2,
        )
        .unwrap();
        let fixed = [("c0".into(), Value::Float(1.0))];
        let plain = Identity::new("reaction", &fixed, &grid, 42);
        let common = Identity::new("reaction", &fixed, &grid, 42).sharing_seed(&["method".into()]);
        // Grid order: k slowest, then method, replicate fastest.
        for i in 0..grid.task_count() {
            assert_eq!(plain.task(&grid, i).0, common.task(&grid, i).0, "ids stay");
        }
        let seed = |i| common.task(&grid, i).1;
        assert_eq!(seed(0), seed(2), "methods a and b, replicate 0");
        assert_eq!(seed(1), seed(3));
        assert_ne!(seed(0), seed(1), "replicates differ");
        assert_ne!(seed(0), seed(4), "k differs");
        // The recipe: the seed's digest is the canon without the `method` line.
        let canon = "sweep-task-v1\nmodel=reaction\nc0=f:3ff0000000000000\nk=f:3fe0000000000000\nreplicate=1\n";
        let mut s = Sha256::new();
        s.update(b"sweep-seed-v1\n");
        s.update(42u64.to_le_bytes());
        s.update(Sha256::digest(canon.as_bytes()));
        assert_eq!(seed(3), u64::from_le_bytes(s.finalize()[..8].try_into().unwrap()));
    }
}
