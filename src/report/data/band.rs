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
            Band::Ci95 => crate::confidence::t975(self.n - 1) * self.sem()?,
        };
        Some((self.mean - half, self.mean + half))
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
}
