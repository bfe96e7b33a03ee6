//! `[output] dims` in the store: the names and sizes of each array's own dimensions, and
//! which arrays are their dimension's coordinate. `python/sweep/_dims.py` applies the same
//! rules to the `.npy` layout, with the same messages, so that both give one Dataset.

use super::zarr::{ArraySpec, DType};
use crate::outdir::OutDir;
use crate::spec::Dims;
use std::collections::BTreeMap;
use std::io;

/// One array's own dimensions in the store.
pub(super) struct Own {
    /// Their names: from `[output] dims`, else `<name>_dim0`, ...
    pub names: Vec<String>,
    /// Their sizes: the largest any array along the same dimension has.
    pub shape: Vec<u64>,
}

/// The store's arrays beyond the grid.
pub(super) struct Plan {
    /// Each array's own dimensions, by name.
    pub own: BTreeMap<String, Own>,
    /// The arrays that are their dimension's coordinate, with their values (float64 LE).
    pub coords: BTreeMap<String, Vec<u8>>,
    /// What the user should know: dims that did not fit, coordinates that vary.
    pub notes: Vec<String>,
}

/// Reads the data of one task's array (float64 LE) into the buffer.
pub(super) type ReadTask<'a> = Box<dyn Fn(usize, &mut Vec<u8>) -> io::Result<()> + 'a>;

/// An array's data as the build finds it: each done task's shape (`None`: the task did not
/// return it), and a reader of one task's data.
pub(super) struct Seen<'a> {
    /// Shapes, one per task of the grid.
    pub shapes: Vec<Option<&'a [u64]>>,
    /// Reads the data of a task.
    pub read: ReadTask<'a>,
}

/// `(ndim, largest shape)` of the shapes given: a task's missing trailing dimensions count 1.
pub(super) fn largest(shapes: &[Option<&[u64]>]) -> (usize, Vec<u64>) {
    let present = || shapes.iter().flatten();
    let ndim = present().map(|s| s.len()).max().unwrap_or(0);
    let max = (0..ndim).map(|d| present().map(|s| *s.get(d).unwrap_or(&1)).max().unwrap_or(0)).collect();
    (ndim, max)
}

fn shown(shape: &[u64]) -> String {
    match shape {
        [n] => format!("({n},)"),
        _ => format!("({})", shape.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")),
    }
}

/// The note for an array that is not the coordinate its name promises (see docs/output.md).
pub(super) fn varying_note(name: &str) -> String {
    format!(
        "`{name}` is not the same in every done task (an adaptive solver's steps?), so it cannot be the \
         coordinate of dimension `{name}`: it is a data variable, and that dimension is called `{name}_step` \
         in every array along it; for `{name}` as a coordinate, return the same `{name}` from every task \
         (e.g. solve_ivp's `t_eval`), or give the dimension another name in [output] dims, \
         e.g. `c = [\"step\"], {name} = [\"step\"]`"
    )
}

/// The note for a coordinate array shorter than another array along its dimension.
pub(super) fn shorter_note(name: &str, other: &str) -> String {
    format!(
        "`{name}` is shorter than `{other}`, which runs along dimension `{name}`, so it cannot be that \
         dimension's coordinate: it is a data variable, and that dimension is called `{name}_step` in every \
         array along it; give `{other}` the length of `{name}`, or give its dimension another name in \
         [output] dims"
    )
}

/// Plans the arrays `seen` (by name) of a store whose grid has `done` done tasks.
pub(super) fn plan(seen: &BTreeMap<String, Seen<'_>>, dims: &Dims, done: usize) -> io::Result<Plan> {
    let mut plan = Plan { own: BTreeMap::new(), coords: BTreeMap::new(), notes: Vec::new() };
    for (name, s) in seen {
        let (ndim, max) = largest(&s.shapes);
        let names = match dims.get(name) {
            Some(given) if given.len() == ndim => given.clone(),
            Some(given) => {
                plan.notes.push(format!(
                    "array `{name}` has {ndim} dimension{} (shape {}), but [output] dims gives it {}: [{}]; \
                     it keeps the names {name}_dim0, ...; give it {ndim} names in [output] dims, then \
                     `sweep run SPEC --resume` (it reruns nothing)",
                    if ndim == 1 { "" } else { "s" },
                    shown(&max),
                    given.len(),
                    given.join(", ")
                ));
                (0..ndim).map(|k| format!("{name}_dim{k}")).collect()
            }
            None => (0..ndim).map(|k| format!("{name}_dim{k}")).collect(),
        };
        plan.own.insert(name.clone(), Own { names, shape: max });
    }
    let mut renamed = BTreeMap::new();
    let mut data = Vec::new();
    for (name, s) in seen {
        let own = &plan.own[name];
        if own.names != std::slice::from_ref(name) {
            continue;
        }
        let longer = (plan.own.iter())
            .filter(|(n, _)| *n != name)
            .find(|(_, o)| o.names.iter().zip(&o.shape).any(|(d, &size)| d == name && size > own.shape[0]));
        let mut first: Option<Vec<u8>> = None;
        let mut same = longer.is_none() && s.shapes.iter().flatten().count() == done;
        for (task, shape) in s.shapes.iter().enumerate() {
            let Some(shape) = shape.filter(|_| same) else { continue };
            if *shape != own.shape[..] {
                same = false;
                break;
            }
            (s.read)(task, &mut data)?;
            match &first {
                None => first = Some(data.clone()),
                Some(f) => same = *f == data,
            }
        }
        match first.filter(|_| same) {
            Some(values) => {
                plan.coords.insert(name.clone(), values);
            }
            None => {
                plan.notes.push(match longer {
                    Some((other, _)) => shorter_note(name, other),
                    None => varying_note(name),
                });
                renamed.insert(name.clone(), format!("{name}_step"));
            }
        }
    }
    let mut size: BTreeMap<&str, u64> = BTreeMap::new();
    for own in plan.own.values_mut() {
        for d in &mut own.names {
            if let Some(new) = renamed.get(d) {
                d.clone_from(new);
            }
        }
    }
    for own in plan.own.values() {
        for (d, &n) in own.names.iter().zip(&own.shape) {
            let s = size.entry(d).or_insert(0);
            *s = (*s).max(n);
        }
    }
    let sizes: BTreeMap<String, u64> = size.into_iter().map(|(d, n)| (d.to_string(), n)).collect();
    for own in plan.own.values_mut() {
        own.shape = own.names.iter().map(|d| sizes[d]).collect();
    }
    Ok(plan)
}

/// A coordinate of the store: `name` along its own dimension, float64.
pub(super) fn coordinate(name: &str, values: &[u8]) -> ArraySpec {
    let n = values.len() as u64 / 8;
    ArraySpec {
        name: name.into(),
        dtype: DType::F64,
        shape: vec![n],
        shard: vec![n.max(1)],
        inner: vec![n.max(1)],
        dims: vec![name.to_string()],
        attrs: serde_json::Map::new(),
    }
}

/// What the last build of the store in `out` noted about `[output] dims` (an array whose
/// dimensions did not fit, a coordinate that varies from task to task), for the run's end.
pub fn notes(out: &OutDir) -> Vec<String> {
    let Ok(text) = std::fs::read(out.store().join("zarr.json")) else { return Vec::new() };
    let Ok(meta) = serde_json::from_slice::<serde_json::Value>(&text) else { return Vec::new() };
    let notes = meta["attributes"]["sweep_notes"].as_array().cloned().unwrap_or_default();
    notes.iter().filter_map(|n| n.as_str().map(String::from)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An array's name, each task's data (float64 LE) and each task's shape.
    type Array = (String, Vec<Vec<u8>>, Vec<Vec<u64>>);

    /// Arrays of three done tasks: name → each task's values (all 1-D).
    fn planned(arrays: &[(&str, [&[f64]; 3])], dims: &[(&str, &[&str])]) -> Plan {
        let data: Vec<Array> = (arrays.iter())
            .map(|(name, tasks)| {
                let bytes = tasks.iter().map(|t| t.iter().flat_map(|v| v.to_le_bytes()).collect()).collect();
                let shapes = tasks.iter().map(|t| vec![t.len() as u64]).collect();
                (name.to_string(), bytes, shapes)
            })
            .collect();
        let seen = (data.iter())
            .map(|(name, bytes, shapes)| {
                let read = move |task: usize, out: &mut Vec<u8>| {
                    out.clone_from(&bytes[task]);
                    Ok(())
                };
                let shapes = shapes.iter().map(|s| Some(s.as_slice())).collect();
                (name.clone(), Seen { shapes, read: Box::new(read) })
            })
            .collect();
        let dims = dims.iter().map(|(a, d)| (a.to_string(), d.iter().map(|s| s.to_string()).collect())).collect();
        plan(&seen, &dims, 3).unwrap()
    }

    fn names(p: &Plan, array: &str) -> (Vec<String>, Vec<u64>) {
        (p.own[array].names.clone(), p.own[array].shape.clone())
    }

    #[test]
    fn dims_name_arrays_and_a_shared_t_is_their_coordinate() {
        let t: &[f64] = &[0.0, 0.5, 1.0];
        let p =
            planned(&[("t", [t, t, t]), ("c", [t, t, &[1.0, 2.0]]), ("m", [t, t, t])], &[("c", &["t"]), ("t", &["t"])]);
        assert_eq!(p.coords.keys().collect::<Vec<_>>(), ["t"]);
        assert_eq!(names(&p, "c"), (vec!["t".to_string()], vec![3]));
        assert_eq!(names(&p, "m"), (vec!["m_dim0".to_string()], vec![3]));
        assert!(p.notes.is_empty(), "{:?}", p.notes);
    }

    #[test]
    fn a_t_that_varies_or_is_shorter_renames_the_dimension_with_a_note() {
        let (a, b): (&[f64], &[f64]) = (&[0.0, 1.0], &[0.0, 0.5]);
        let p = planned(&[("t", [a, a, b]), ("c", [a, a, a])], &[("c", &["t"]), ("t", &["t"])]);
        assert!(p.coords.is_empty());
        assert_eq!(names(&p, "c").0, ["t_step"]);
        assert_eq!(names(&p, "t").0, ["t_step"]);
        assert_eq!(p.notes, [varying_note("t")]);
        let long: &[f64] = &[0.0, 1.0, 2.0];
        let p = planned(&[("t", [a, a, a]), ("d", [a, long, a])], &[("d", &["t"]), ("t", &["t"])]);
        assert_eq!(p.notes, [shorter_note("t", "d")]);
        assert_eq!(names(&p, "t"), (vec!["t_step".to_string()], vec![3]), "padded to the longest along it");
    }

    #[test]
    fn dims_of_the_wrong_length_keep_the_default_names_with_a_note() {
        let a: &[f64] = &[1.0, 2.0];
        let p = planned(&[("c", [a, a, a])], &[("c", &["t", "x"])]);
        assert_eq!(names(&p, "c").0, ["c_dim0"]);
        assert!(p.notes[0].starts_with("array `c` has 1 dimension (shape (2,)), but [output] dims gives it 2: [t, x]"));
    }
}
