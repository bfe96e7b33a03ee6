//! The spread drawn around a mean: statistics of one grid point's replicates and the
//! band (or error bar) they give.
//!
//! A band is only ever computed from the replicates of a single grid point: replicates
//! differ only in their seed, so their spread is the run-to-run noise a reader wants to
//! see. Values from different parameter values are never pooled into one band (see
//! [`super::aggregate`]).

/// Which spread to draw around a grid point's mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Band {
    /// ± the standard error of the mean: sd / √n.
    #[default]
    Sem,
    /// ± the sample standard deviation (ddof = 1).
    Sd,
    /// ± the half-width of a 95 % confidence interval of the mean: t(0.975, n − 1) × SEM.
    Ci95,
    /// From the smallest to the largest replicate.
    MinMax,
    /// No band.
    None,
}

impl Band {
    /// The name used on the command line and in the SVG's data: `sem`, `sd`, `ci95`,
    /// `minmax`, `none`.
    pub fn name(self) -> &'static str {
        match self {
            Band::Sem => "sem",
            Band::Sd => "sd",
            Band::Ci95 => "ci95",
            Band::MinMax => "minmax",
            Band::None => "none",
        }
    }

    /// How a subtitle names the band after "mean", e.g. "± SEM".
    pub fn short(self) -> &'static str {
        match self {
            Band::Sem => "± SEM",
            Band::Sd => "± SD",
            Band::Ci95 => "with 95% CI",
            Band::MinMax => "with min–max",
            Band::None => "",
        }
    }

    /// How a caption names the band, e.g. "± SEM over replicates".
    pub fn describe(self) -> &'static str {
        match self {
            Band::Sem => "± standard error of the mean over replicates",
            Band::Sd => "± standard deviation of the replicates",
            Band::Ci95 => "95% confidence interval of the mean over replicates (Student's t)",
            Band::MinMax => "minimum to maximum of the replicates",
            Band::None => "no band",
        }
    }
}

/// Running statistics of one grid point's replicates (Welford's algorithm, so the
/// variance stays accurate when the mean is large compared with the spread).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Replicates {
    pub n: u64,
    pub mean: f64,
    m2: f64,
    pub min: f64,
    pub max: f64,
}

impl Default for Replicates {
    fn default() -> Self {
        Replicates { n: 0, mean: 0.0, m2: 0.0, min: f64::INFINITY, max: f64::NEG_INFINITY }
    }
}

impl Replicates {
    /// Counts one replicate's value.
    pub fn add(&mut self, y: f64) {
        self.n += 1;
        let d = y - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (y - self.mean);
        self.min = self.min.min(y);
        self.max = self.max.max(y);
    }

    /// The sample standard deviation (ddof = 1); none for fewer than two replicates.
    pub fn sd(&self) -> Option<f64> {
        (self.n >= 2).then(|| (self.m2 / (self.n - 1) as f64).max(0.0).sqrt())
    }

    /// The standard error of the mean, sd / √n.
    pub fn sem(&self) -> Option<f64> {
        self.sd().map(|s| s / (self.n as f64).sqrt())
    }

    /// The band `(low, high)` of kind `band` around the mean; none without a band or with
    /// fewer than two replicates (one value has no spread to show).
    pub fn interval(&self, band: Band) -> Option<(f64, f64)> {
        let half = match band {
            Band::None => return None,
            Band::MinMax => return (self.n >= 2).then_some((self.min, self.max)),
            Band::Sd => self.sd()?,
            Band::Sem => self.sem()?,
            Band::Ci95 => t975(self.n - 1) * self.sem()?,
        };
        Some((self.mean - half, self.mean + half))
    }
}

/// Student's t two-sided 95 % quantiles, t(0.975, df), for df = 1..=30 (as printed in
/// statistics tables and by `scipy.stats.t.ppf(0.975, df)`).
const T975: [f64; 30] = [
    12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912, 2.364624, 2.306004, 2.262157, 2.228139, 2.200985,
    2.178813, 2.160369, 2.144787, 2.131450, 2.119905, 2.109816, 2.100922, 2.093024, 2.085963, 2.079614, 2.073873,
    2.068658, 2.063899, 2.059539, 2.055529, 2.051831, 2.048407, 2.045230, 2.042272,
];

/// t(0.975, df): the table up to 30 degrees of freedom, then the Cornish–Fisher expansion
/// of t around the normal quantile (Abramowitz & Stegun 26.7.5, three terms), which is
/// within 1e-4 of the exact value from df = 31 on.
pub(crate) fn t975(df: u64) -> f64 {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn of(values: &[f64]) -> Replicates {
        let mut r = Replicates::default();
        values.iter().for_each(|&y| r.add(y));
        r
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1.0)
    }

    #[test]
    fn sd_and_sem_use_ddof_1() {
        // numpy: np.std([2, 4, 4, 4, 5, 5, 7, 9], ddof=1) = 2.138089935299395
        let r = of(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!((r.n, r.mean), (8, 5.0));
        assert!(close(r.sd().unwrap(), 2.138089935299395));
        assert!(close(r.sem().unwrap(), 2.138089935299395 / 8f64.sqrt()));
        let (lo, hi) = r.interval(Band::Sem).unwrap();
        assert!(close(hi - r.mean, r.sem().unwrap()) && close(r.mean - lo, r.sem().unwrap()));
        let (lo, hi) = r.interval(Band::Sd).unwrap();
        assert!(close((hi - lo) / 2.0, 2.138089935299395));
    }

    #[test]
    fn ci95_is_t_times_sem() {
        // Three replicates: df = 2, t = 4.302653 (scipy.stats.t.ppf(0.975, 2)).
        let r = of(&[1.0, 2.0, 6.0]);
        let (lo, hi) = r.interval(Band::Ci95).unwrap();
        assert!(close((hi - lo) / 2.0, 4.302653 * r.sem().unwrap()));
        assert!(close((lo + hi) / 2.0, 3.0));
    }

    #[test]
    fn minmax_and_none() {
        let r = of(&[3.0, -1.0, 2.0]);
        assert_eq!(r.interval(Band::MinMax), Some((-1.0, 3.0)));
        assert_eq!(r.interval(Band::None), None);
    }

    #[test]
    fn one_replicate_has_no_band() {
        let r = of(&[5.0]);
        for band in [Band::Sem, Band::Sd, Band::Ci95, Band::MinMax, Band::None] {
            assert_eq!(r.interval(band), None, "{band:?}");
        }
    }

    #[test]
    fn welford_keeps_precision_far_from_zero() {
        let r = of(&[1e9 + 1.0, 1e9 + 2.0, 1e9 + 3.0]);
        assert!(close(r.sd().unwrap(), 1.0), "{:?}", r.sd());
    }

    #[test]
    fn t_quantiles() {
        // scipy.stats.t.ppf(0.975, df) for df = 1, 30, 31, 60, 1000.
        for (df, want) in [(1, 12.706205), (30, 2.042272), (31, 2.039513), (60, 2.000298), (1000, 1.962339)] {
            assert!((t975(df) - want).abs() < 1e-4, "df {df}: {} vs {want}", t975(df));
        }
        assert!(t975(0).is_nan());
    }
}
