//! The two least-squares steps of [`fit`](super::fit): the linearised start and the
//! refinement on the original scale, as described under *Method* in the parent module.

use super::usl::denominator;
use levenberg_marquardt::{LeastSquaresProblem, LevenbergMarquardt};
use nalgebra::storage::Owned;
use nalgebra::{DMatrix, DVector, Dyn};

/// The least-squares `λ` for fixed `(σ, κ)`: with `g = N / (1 + σ(N−1) + κN(N−1))`,
/// `λ = Σ X·g / Σ g²`.
pub(super) fn best_lambda(pts: &[(f64, f64)], sigma: f64, kappa: f64) -> f64 {
    let (mut xg, mut gg) = (0.0, 0.0);
    for &(n, x) in pts {
        let g = n / denominator(n, sigma, kappa);
        xg += x * g;
        gg += g * g;
    }
    xg / gg
}

/// Residual sum of squares of throughput for `(σ, κ)` with the best `λ`.
fn sse(pts: &[(f64, f64)], sigma: f64, kappa: f64) -> f64 {
    let lambda = best_lambda(pts, sigma, kappa);
    pts.iter()
        .map(|&(n, x)| {
            let r = x - lambda * n / denominator(n, sigma, kappa);
            r * r
        })
        .sum()
}

/// Which of `σ` and `κ` a refinement fits; the others are held at 0.
#[derive(Debug, Clone, Copy)]
struct Free {
    sigma: bool,
    kappa: bool,
}

/// Fits `(σ, κ)` (with `κ` fixed at 0 unless `usl`) and returns `(σ, κ, sse)`.
///
/// The bounds `σ, κ ≥ 0` are kept by clamping: each face of the feasible region (some of
/// `σ`, `κ` held at 0, the others free) is fitted without bounds, fits that leave the region
/// are dropped, and the best of the rest is kept. The bounded optimum is an unbounded
/// optimum of one of the faces, so it is among them, and a parameter whose optimum lies on
/// its bound comes out as exactly 0.
pub(super) fn refine(pts: &[(f64, f64)], usl: bool) -> (f64, f64, f64) {
    let (sigma0, kappa0) = linearised(pts, usl);
    let faces: &[Free] = if usl {
        &[Free { sigma: true, kappa: true }, Free { sigma: true, kappa: false }, Free { sigma: false, kappa: true }]
    } else {
        &[Free { sigma: true, kappa: false }]
    };
    // With both held at 0 only λ is left, and that has a closed form.
    let mut best = (0.0, 0.0, sse(pts, 0.0, 0.0));
    for &free in faces {
        let start = (if free.sigma { sigma0 } else { 0.0 }, if free.kappa { kappa0 } else { 0.0 });
        let candidate = minimise(pts, free, start);
        if candidate.2 < best.2 {
            best = candidate;
        }
    }
    best
}

/// Least-squares `(σ, κ)` on the face `free`, by Levenberg–Marquardt from `start` (which
/// must be feasible); returns `(σ, κ, sse)`, or the start when the search found nothing
/// feasible that is better.
fn minimise(pts: &[(f64, f64)], free: Free, start: (f64, f64)) -> (f64, f64, f64) {
    let at_start = (start.0, start.1, sse(pts, start.0, start.1));
    let mut p = vec![best_lambda(pts, start.0, start.1)];
    p.extend(free.sigma.then_some(start.0));
    p.extend(free.kappa.then_some(start.1));
    let problem = Throughput { pts, free, p: DVector::from_vec(p) };
    // The termination reason is not checked: on most ends the problem holds the best point
    // accepted so far, and on the others (numerical trouble) the comparison with the start
    // below decides.
    let (problem, _) = LevenbergMarquardt::new().minimize(problem);
    let (_, sigma, kappa) = problem.unpack();
    // `!(≥)` also rejects NaN.
    if !(sigma >= 0.0 && kappa >= 0.0) {
        return at_start;
    }
    let value = sse(pts, sigma, kappa);
    if value < at_start.2 {
        (sigma, kappa, value)
    } else {
        at_start
    }
}

/// Throughput residuals `λN/(1 + σ(N−1) + κN(N−1)) − X` as a function of `p`: `λ`, then `σ`
/// and `κ` where [`Free`] says so.
///
/// `λ` is a parameter here rather than profiled out as in [`sse`], so that the Jacobian
/// stays simple; at the optimum the two agree.
struct Throughput<'a> {
    pts: &'a [(f64, f64)],
    free: Free,
    p: DVector<f64>,
}

impl Throughput<'_> {
    /// `(λ, σ, κ)`, with 0 for a parameter that is not free.
    fn unpack(&self) -> (f64, f64, f64) {
        let mut rest = self.p.iter().skip(1).copied();
        let lambda = self.p[0];
        let sigma = if self.free.sigma { rest.next().unwrap_or(0.0) } else { 0.0 };
        let kappa = if self.free.kappa { rest.next().unwrap_or(0.0) } else { 0.0 };
        (lambda, sigma, kappa)
    }
}

impl LeastSquaresProblem<f64, Dyn, Dyn> for Throughput<'_> {
    type ResidualStorage = Owned<f64, Dyn>;
    type JacobianStorage = Owned<f64, Dyn, Dyn>;
    type ParameterStorage = Owned<f64, Dyn>;

    fn set_params(&mut self, p: &DVector<f64>) {
        self.p.copy_from(p);
    }
    fn params(&self) -> DVector<f64> {
        self.p.clone()
    }
    // A trial point with a zero or negative denominator gives non-finite residuals, which
    // Levenberg–Marquardt rejects like any step that does not reduce the sum of squares.
    fn residuals(&self) -> Option<DVector<f64>> {
        let (lambda, sigma, kappa) = self.unpack();
        Some(DVector::from_iterator(
            self.pts.len(),
            self.pts.iter().map(|&(n, x)| lambda * n / denominator(n, sigma, kappa) - x),
        ))
    }
    fn jacobian(&self) -> Option<DMatrix<f64>> {
        let (lambda, sigma, kappa) = self.unpack();
        let mut jac = DMatrix::zeros(self.pts.len(), self.p.len());
        for (i, &(n, _)) in self.pts.iter().enumerate() {
            let d = denominator(n, sigma, kappa);
            // ∂/∂λ = N/D; ∂/∂σ = −λN(N−1)/D²; ∂/∂κ = −λN²(N−1)/D².
            jac[(i, 0)] = n / d;
            let dd = -lambda * n * (n - 1.0) / (d * d);
            let mut col = 1;
            if self.free.sigma {
                jac[(i, col)] = dd;
                col += 1;
            }
            if self.free.kappa {
                jac[(i, col)] = dd * n;
            }
        }
        Some(jac)
    }
}

/// Starting values of `(σ, κ)` from weighted least squares on `N/X = a + b(N−1) + cN(N−1)`,
/// with `b, c ≥ 0` (and `c = 0` unless `usl`).
fn linearised(pts: &[(f64, f64)], usl: bool) -> (f64, f64) {
    // Column subsets to try: always a; b and c only when free.
    let subsets: &[&[usize]] = if usl { &[&[0, 1, 2], &[0, 1], &[0, 2], &[0]] } else { &[&[0, 1], &[0]] };
    let mut best: Option<(f64, [f64; 3])> = None;
    for cols in subsets {
        let Some((coef, wsse)) = weighted_least_squares(pts, cols) else {
            continue;
        };
        if coef[0] <= 0.0 || coef[1] < 0.0 || coef[2] < 0.0 {
            continue;
        }
        if best.is_none_or(|(b, _)| wsse < b) {
            best = Some((wsse, coef));
        }
    }
    match best {
        Some((_, [a, b, c])) => (b / a, c / a),
        None => (0.0, 0.0),
    }
}

/// Columns whose singular values fall below this fraction of the largest (after scaling
/// each column to unit norm) count as dependent. That is dependence to within rounding
/// error; anything better conditioned still gives a usable starting point.
const RANK_TOLERANCE: f64 = 1e-12;

/// Least squares of `y = N/X` on the chosen columns of `[1, N−1, N(N−1)]`, weighted by
/// `1/y²`; the other coefficients are 0. Returns the coefficients and the weighted residual
/// sum of squares, or `None` when the columns are (numerically) dependent at these points.
fn weighted_least_squares(pts: &[(f64, f64)], cols: &[usize]) -> Option<([f64; 3], f64)> {
    let (m, k) = (pts.len(), cols.len());
    if m < k {
        return None;
    }
    // Dividing row i by y = N/X weights it by 1/y² and makes the right-hand side all ones.
    let mut a = DMatrix::from_fn(m, k, |i, j| {
        let (n, x) = pts[i];
        [1.0, n - 1.0, n * (n - 1.0)][cols[j]] * x / n
    });
    if !a.iter().all(|v| v.is_finite()) {
        return None;
    }
    // Unit columns, so that the rank test sees dependence rather than the columns' very
    // different magnitudes (1 against N(N−1)).
    let norms: Vec<f64> = a.column_iter().map(|c| c.norm()).collect();
    if !norms.iter().all(|&s| s > 0.0) {
        return None;
    }
    for (mut column, &s) in a.column_iter_mut().zip(&norms) {
        column /= s;
    }
    let ones = DVector::from_element(m, 1.0);
    let svd = a.clone().try_svd(true, true, f64::EPSILON, 1000)?;
    if svd.singular_values.min() <= RANK_TOLERANCE * svd.singular_values.max() {
        return None;
    }
    let z = svd.solve(&ones, 0.0).ok()?;
    let wsse = (&a * &z - &ones).norm_squared();
    let mut coef = [0.0; 3];
    for ((&c, &zj), &s) in cols.iter().zip(z.iter()).zip(&norms) {
        coef[c] = zj / s;
    }
    (coef.iter().all(|v| v.is_finite()) && wsse.is_finite()).then_some((coef, wsse))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The analytic Jacobian matches central differences on every face. (The crate's
    /// `differentiate_numerically` is not used: its first steps are large enough to jump over
    /// the pole where the denominator crosses 0 at 64 workers.)
    #[test]
    fn jacobian_matches_numeric() {
        let pts: Vec<(f64, f64)> = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0]
            .iter()
            .map(|&n| (n, 250.0 * n / denominator(n, 0.05, 0.001)))
            .collect();
        for (sigma, kappa) in [(true, true), (true, false), (false, true)] {
            let free = Free { sigma, kappa };
            let mut p = vec![240.0];
            p.extend(sigma.then_some(0.07));
            p.extend(kappa.then_some(0.0015));
            let mut problem = Throughput { pts: &pts, free, p: DVector::from_vec(p.clone()) };
            let analytic = problem.jacobian().unwrap();
            let mut numeric = DMatrix::zeros(pts.len(), p.len());
            for j in 0..p.len() {
                let h = 1e-6 * p[j];
                let mut at = |step: f64| {
                    let mut q = DVector::from_vec(p.clone());
                    q[j] += step;
                    problem.set_params(&q);
                    problem.residuals().unwrap()
                };
                numeric.set_column(j, &((at(h) - at(-h)) / (2.0 * h)));
            }
            assert!((&numeric - &analytic).norm() < 1e-6 * analytic.norm(), "{free:?} {numeric} {analytic}");
        }
    }
}
