//! Where two output files first differ: for `.npy` arrays of the same dtype, the first
//! element (in C order) with both values; for other files, the first byte.

use ndarray::ArrayD;
use ndarray_npy::{ReadNpyExt, ReadableElement};
use std::fmt::Debug;
use std::path::Path;

/// An element type compared exactly: floats by their bits (NaN equals the same NaN, and
/// -0.0 differs from 0.0), as `results.csv` and the journal keep them.
trait Exact: ReadableElement + Copy + Debug {
    fn same(self, other: Self) -> bool;
}

macro_rules! exact_eq {
    ($($t:ty),*) => {$(impl Exact for $t { fn same(self, o: Self) -> bool { self == o } })*};
}
exact_eq!(i8, i16, i32, i64, u8, u16, u32, u64, bool);

impl Exact for f64 {
    fn same(self, o: Self) -> bool {
        self.to_bits() == o.to_bits()
    }
}

impl Exact for f32 {
    fn same(self, o: Self) -> bool {
        self.to_bits() == o.to_bits()
    }
}

/// Describes where the bytes `a` (called `a_is`, e.g. "recorded") and `b` (`b_is`) of a
/// file named `name` first differ; `None` when they are equal.
pub fn first_difference(name: &str, a: &[u8], b: &[u8], (a_is, b_is): (&str, &str)) -> Option<String> {
    if a == b {
        return None;
    }
    if name.ends_with(".npy") {
        macro_rules! try_types {
            ($($t:ty),*) => {$(
                if let Some(d) = typed::<$t>(a, b, a_is, b_is) {
                    return Some(d);
                }
            )*};
        }
        try_types!(f64, f32, i64, i32, i16, i8, u64, u32, u16, u8, bool);
    }
    Some(bytes(a, b, a_is, b_is))
}

/// The first differing element of two arrays of dtype `T`; `None` when either is not one.
fn typed<T: Exact>(a: &[u8], b: &[u8], a_is: &str, b_is: &str) -> Option<String> {
    let x = ArrayD::<T>::read_npy(a).ok()?;
    let y = ArrayD::<T>::read_npy(b).ok()?;
    if x.shape() != y.shape() {
        return Some(format!("shape {:?} {a_is}, {:?} {b_is}", x.shape(), y.shape()));
    }
    let (at, u, v) = x.indexed_iter().zip(y.iter()).find(|((_, u), v)| !u.same(**v)).map(|((i, u), v)| (i, u, v))?;
    Some(format!("first at element {:?}: {u:?} {a_is}, {v:?} {b_is}", ndarray::Dimension::slice(&at)))
}

fn bytes(a: &[u8], b: &[u8], a_is: &str, b_is: &str) -> String {
    match a.iter().zip(b).position(|(x, y)| x != y) {
        Some(i) => format!("first at byte {i}: 0x{:02x} {a_is}, 0x{:02x} {b_is}", a[i], b[i]),
        None => format!("{} bytes {a_is}, {} bytes {b_is}", a.len(), b.len()),
    }
}

/// Reads the file at `path` for a comparison (a symlink there is not followed).
pub fn read(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut v = Vec::new();
    std::io::Read::read_to_end(&mut crate::io::open_nofollow(path)?, &mut v)?;
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray_npy::WriteNpyExt;

    fn npy<T: ndarray_npy::WritableElement>(a: ArrayD<T>) -> Vec<u8> {
        let mut v = Vec::new();
        a.write_npy(&mut v).unwrap();
        v
    }

    #[test]
    fn arrays_are_compared_element_by_element_in_their_own_dtype() {
        let a = npy(ndarray::arr2(&[[1.0, 2.0], [3.0, 4.0]]).into_dyn());
        let b = npy(ndarray::arr2(&[[1.0, 2.0], [3.0, 4.5]]).into_dyn());
        let ab = ("recorded", "in the rerun");
        assert_eq!(first_difference("c.npy", &a, &a, ab), None);
        assert_eq!(
            first_difference("c.npy", &a, &b, ab).unwrap(),
            "first at element [1, 1]: 4.0 recorded, 4.5 in the rerun"
        );
        let i = npy(ndarray::arr1(&[1i32, 2, 3]).into_dyn());
        let j = npy(ndarray::arr1(&[1i32, 7, 3]).into_dyn());
        assert_eq!(first_difference("n.npy", &i, &j, ab).unwrap(), "first at element [1]: 2 recorded, 7 in the rerun");
        let short = npy(ndarray::arr1(&[1i32, 2]).into_dyn());
        assert_eq!(first_difference("n.npy", &i, &short, ab).unwrap(), "shape [3] recorded, [2] in the rerun");
        let nan = npy(ndarray::arr1(&[f64::NAN]).into_dyn());
        assert_eq!(first_difference("x.npy", &nan, &nan.clone(), ab), None);
        let zero = npy(ndarray::arr1(&[0.0]).into_dyn());
        let minus = npy(ndarray::arr1(&[-0.0]).into_dyn());
        assert!(first_difference("z.npy", &zero, &minus, ab).is_some(), "exact: -0.0 is not 0.0");
    }

    #[test]
    fn other_files_are_compared_byte_by_byte() {
        let ab = ("recorded", "in the rerun");
        assert_eq!(
            first_difference("x.txt", b"abc", b"abd", ab).unwrap(),
            "first at byte 2: 0x63 recorded, 0x64 in the rerun"
        );
        assert_eq!(first_difference("x.txt", b"ab", b"abc", ab).unwrap(), "2 bytes recorded, 3 bytes in the rerun");
    }
}
