//! The Universal Scalability Law's denominator, shared by the fit and its least squares.

/// `1 + σ(N−1) + κN(N−1)`.
pub(super) fn denominator(n: f64, sigma: f64, kappa: f64) -> f64 {
    1.0 + sigma * (n - 1.0) + kappa * n * (n - 1.0)
}
