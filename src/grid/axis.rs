//! Axis generators: explicit lists, `linspace`, `logspace`, `geomspace`, `range`.

use crate::value::Value;

/// The longest axis a generator may produce (checked before allocating).
pub const MAX_AXIS_LEN: u64 = 100_000_000;

/// How a spec writes one axis.
#[derive(Clone, Debug, PartialEq)]
pub enum AxisGen {
    /// Explicit values (a scalar is a list of one).
    List(Vec<Value>),
    /// `n` evenly spaced points from `a` to `b`, both included.
    Linspace(f64, f64, i64),
    /// `10^x` for `x` in `linspace(a, b, n)`.
    Logspace(f64, f64, i64),
    /// `n` points from `start` to `stop` with a constant ratio.
    Geomspace(f64, f64, i64),
    /// `start, start + step, …` up to `stop` excluded; integers when all three are.
    Range(Value, Value, Value),
}

impl AxisGen {
    /// How many values it gives, told without generating them (roughly for a float
    /// `range`); 0 when it is invalid, which [`generate`] then says.
    pub fn count(&self) -> u64 {
        let n = |n: &i64| u64::try_from(*n).unwrap_or(0);
        match self {
            AxisGen::List(v) => v.len() as u64,
            AxisGen::Linspace(_, _, k) | AxisGen::Logspace(_, _, k) | AxisGen::Geomspace(_, _, k) => n(k),
            AxisGen::Range(s, e, st) => match (s.as_f64(), e.as_f64(), st.as_f64()) {
                (Some(s), Some(e), Some(st)) if st != 0.0 => ((e - s) / st).ceil().max(0.0).min(u64::MAX as f64) as u64,
                _ => 0,
            },
        }
    }
}

/// Expands a generator into its values, or says what is wrong with it.
pub fn generate(g: &AxisGen) -> Result<Vec<Value>, String> {
    let count = |n: i64| -> Result<usize, String> {
        if n <= 0 {
            return Err(format!("n = {n} gives a zero-length axis; n must be at least 1"));
        }
        if n as u64 > MAX_AXIS_LEN {
            return Err(format!("n = {n} is more than the {MAX_AXIS_LEN} values an axis may have"));
        }
        Ok(n as usize)
    };
    let lin = |a: f64, b: f64, n: usize| -> Vec<f64> {
        if n == 1 {
            return vec![a];
        }
        let step = (b - a) / (n - 1) as f64;
        (0..n).map(|i| if i == n - 1 { b } else { a + step * i as f64 }).collect()
    };
    let floats = |v: Vec<f64>| v.into_iter().map(Value::Float).collect::<Vec<_>>();
    let finite = |xs: &[f64]| {
        if xs.iter().all(|x| x.is_finite()) {
            Ok(())
        } else {
            Err("bounds must be finite numbers".to_string())
        }
    };
    match g {
        AxisGen::List(v) if v.is_empty() => {
            Err("an empty list gives a zero-length axis; give at least one value".into())
        }
        AxisGen::List(v) => Ok(v.clone()),
        AxisGen::Linspace(a, b, n) => {
            finite(&[*a, *b])?;
            Ok(floats(lin(*a, *b, count(*n)?)))
        }
        AxisGen::Logspace(a, b, n) => {
            finite(&[*a, *b])?;
            let v: Vec<f64> = lin(*a, *b, count(*n)?).into_iter().map(|x| 10f64.powf(x)).collect();
            // 10^400 is no float: it would be `inf`, a value no task can be given.
            if let Some(x) = v.iter().position(|x| !x.is_finite()) {
                let e = lin(*a, *b, v.len())[x];
                return Err(format!(
                    "logspace gives 10^{e}, beyond the largest float (about 1.8e308); keep both exponents below 308"
                ));
            }
            Ok(floats(v))
        }
        AxisGen::Geomspace(a, b, n) => {
            finite(&[*a, *b])?;
            if *a == 0.0 || *b == 0.0 || (a.signum() != b.signum()) {
                return Err("geomspace bounds must be non-zero and of the same sign".into());
            }
            let n = count(*n)?;
            let (la, lb) = (a.abs().ln(), b.abs().ln());
            let mut v: Vec<f64> = lin(la, lb, n).into_iter().map(|x| a.signum() * x.exp()).collect();
            v[0] = *a;
            if n > 1 {
                v[n - 1] = *b;
            }
            Ok(floats(v))
        }
        AxisGen::Range(Value::Int(s), Value::Int(e), Value::Int(st)) => {
            let (s, e, st) = (*s as i128, *e as i128, *st as i128);
            if st == 0 {
                return Err("range step must not be 0".into());
            }
            let n = ((e - s) + st - st.signum()) / st;
            if n <= 0 {
                return Err(format!(
                    "range from {s} to {e} in steps of {st} is empty (stop is excluded); it must hold at least one value"
                ));
            }
            if n as u64 > MAX_AXIS_LEN {
                return Err(format!("range has more than the {MAX_AXIS_LEN} values an axis may have"));
            }
            Ok((0..n).map(|i| Value::Int((s + i * st) as i64)).collect())
        }
        AxisGen::Range(s, e, st) => {
            let (Some(s), Some(e), Some(st)) = (s.as_f64(), e.as_f64(), st.as_f64()) else {
                return Err("range takes numbers: [start, stop, step]".into());
            };
            finite(&[s, e, st])?;
            if st == 0.0 {
                return Err("range step must not be 0".into());
            }
            // Guard against 0.1-style rounding putting an extra point at `stop`.
            let n = ((e - s) / st - 1e-9).ceil();
            if n < 1.0 {
                return Err(format!(
                    "range from {s} to {e} in steps of {st} is empty (stop is excluded); it must hold at least one value"
                ));
            }
            if n > MAX_AXIS_LEN as f64 {
                return Err(format!("range has more than the {MAX_AXIS_LEN} values an axis may have"));
            }
            Ok((0..n as u64).map(|i| Value::Float(s + st * i as f64)).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(v: &[Value]) -> Vec<f64> {
        v.iter().map(|x| x.as_f64().unwrap()).collect()
    }

    #[test]
    fn generators() {
        assert_eq!(f(&generate(&AxisGen::Linspace(0.0, 1.0, 5)).unwrap()), [0.0, 0.25, 0.5, 0.75, 1.0]);
        assert_eq!(f(&generate(&AxisGen::Logspace(0.0, 2.0, 3)).unwrap()), [1.0, 10.0, 100.0]);
        let g = f(&generate(&AxisGen::Geomspace(1.0, 1000.0, 4)).unwrap());
        assert!((g[1] - 10.0).abs() < 1e-12 && g[3] == 1000.0);
        let r = generate(&AxisGen::Range(Value::Int(0), Value::Int(10), Value::Int(3))).unwrap();
        assert_eq!(r, [0, 3, 6, 9].map(Value::Int));
        let r = generate(&AxisGen::Range(Value::Int(5), Value::Int(0), Value::Int(-2))).unwrap();
        assert_eq!(r, [5, 3, 1].map(Value::Int));
        let r = f(&generate(&AxisGen::Range(Value::Float(0.0), Value::Float(0.3), Value::Float(0.1))).unwrap());
        assert_eq!(r.len(), 3);
    }

    #[test]
    fn zero_length_axes_are_errors() {
        assert!(generate(&AxisGen::List(vec![])).is_err());
        assert!(generate(&AxisGen::Linspace(0.0, 1.0, 0)).is_err());
        assert!(generate(&AxisGen::Range(Value::Int(3), Value::Int(3), Value::Int(1))).is_err());
        assert!(generate(&AxisGen::Range(Value::Int(0), Value::Int(3), Value::Int(0))).is_err());
        assert!(generate(&AxisGen::Linspace(0.0, 1.0, 1_000_000_000)).is_err());
    }
}
