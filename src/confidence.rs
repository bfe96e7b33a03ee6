//! Small statistics shared by the stopping rule of adaptive replicates and by the plots'
//! bands: Student's t quantile and the 95 % confidence half-width of a mean.

/// Student's t two-sided 95 % quantiles, t(0.975, df), for df = 1..=30 (as printed in
/// statistics tables and by `scipy.stats.t.ppf(0.975, df)`).
const T975: [f64; 30] = [
    12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912, 2.364624, 2.306004, 2.262157, 2.228139, 2.200985,
    2.178813, 2.160369, 2.144787, 2.131450, 2.119905, 2.109816, 2.100922, 2.093024, 2.085963, 2.079614, 2.073873,
    2.068658, 2.063899, 2.059539, 2.055529, 2.051831, 2.048407, 2.045230, 2.042272,
];

/// t(0.975, df): the table up to 30 degrees of freedom, then the Cornish–Fisher expansion
/// of t around the normal quantile (Abramowitz & Stegun 26.7.5, three terms), which is
/// within 1e-4 of the exact value from df = 31 on. NaN for df = 0.
pub fn t975(df: u64) -> f64 {
    match df {
        0 => f64::NAN,
        1..=30 => T975[df as usize - 1],
        _ => {
            let z = 1.959_963_984_540_054_f64;
            let v = df as f64;
            let (z3, z5, z7) = (z.powi(3), z.powi(5), z.powi(7));
            z + (z3 + z) / (4.0 * v)
                + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * v * v)
                + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * v * v * v)
        }
    }
}

/// The mean of `values` and the half-width of its 95 % confidence interval,
/// t(0.975, n − 1) × sd / √n with the sample standard deviation (ddof = 1). The half-width
/// is NaN for fewer than two values; both are NaN for none.
pub fn mean_ci95(values: &[f64]) -> (f64, f64) {
    let n = values.len();
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    // Two passes: the deviations are taken from the mean, so a mean far from zero does
    // not cost the variance its precision.
    let mean = values.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return (mean, f64::NAN);
    }
    let ss: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
    let sd = (ss / (n - 1) as f64).sqrt();
    (mean, t975(n as u64 - 1) * sd / (n as f64).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_scipy() {
        // scipy.stats.t.ppf(0.975, df).
        let cases = [
            (1, 12.706205),
            (2, 4.302653),
            (4, 2.776445),
            (9, 2.262157),
            (19, 2.093024),
            (30, 2.042272),
            (31, 2.039513),
            (40, 2.021075),
            (60, 2.000298),
            (99, 1.984217),
            (100, 1.983972),
            (199, 1.971957),
            (1000, 1.962339),
        ];
        for (df, want) in cases {
            assert!((t975(df) - want).abs() < 1e-4, "df {df}: {} vs {want}", t975(df));
        }
        assert!(t975(0).is_nan());
    }

    #[test]
    fn t_quantiles_fall_towards_the_normal_quantile() {
        let mut last = f64::INFINITY;
        for df in 1..2000 {
            let t = t975(df);
            assert!(t < last && t > 1.959_963_984, "df {df}: {t}");
            last = t;
        }
    }

    #[test]
    fn mean_ci95_is_t_times_sem() {
        // numpy: np.mean, np.std(ddof=1) of [1, 2, 6]: 3.0, 2.6457513110645907.
        let (mean, half) = mean_ci95(&[1.0, 2.0, 6.0]);
        assert_eq!(mean, 3.0);
        assert!((half - 4.302653 * 2.6457513110645907 / 3f64.sqrt()).abs() < 1e-9, "{half}");
        let (mean, half) = mean_ci95(&[5.0]);
        assert_eq!(mean, 5.0);
        assert!(half.is_nan());
        assert!(mean_ci95(&[]).0.is_nan());
        assert_eq!(mean_ci95(&[2.0, 2.0, 2.0]), (2.0, 0.0));
    }
}
