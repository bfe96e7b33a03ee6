//! `reaction`: first-order kinetics A → B integrated with RK45 or RK4.

use crate::model::{Model, OutputSpec, Outputs, ParamSpec, Params, TaskError, TaskRng};
use ndarray::Array1;

/// First-order kinetics dC/dt = −k·C, C(0) = c0, integrated to `t_final`.
pub struct Reaction;

impl Model for Reaction {
    fn name(&self) -> &str {
        "reaction"
    }
    fn summary(&self) -> &str {
        "First-order kinetics A -> B, dC/dt = -k*C, integrated with RK45 (adaptive) or RK4"
    }
    fn details(&self) -> &str {
        "Integrates dC/dt = -k*C from C(0) = c0 to t_final with an adaptive Dormand-Prince RK45 \
         (solver = \"rk45\", tolerances rtol and atol) or fixed-step RK4 (solver = \"rk4\", step dt), \
         and compares with the analytic solution c0*exp(-k*t). The arrays hold every accepted step."
    }
    fn params(&self) -> Vec<ParamSpec> {
        vec![
            ParamSpec::float("k", 1.0, "1/s", "rate constant").required(),
            ParamSpec::float("c0", 1.0, "mol/L", "initial concentration of A"),
            ParamSpec::float("t_final", 10.0, "s", "end of the integration"),
            ParamSpec::choice("solver", "rk45", &["rk45", "rk4"], "integrator"),
            ParamSpec::float("rtol", 1e-9, "", "relative tolerance (rk45)"),
            ParamSpec::float("atol", 1e-12, "mol/L", "absolute tolerance (rk45)"),
            ParamSpec::float("dt", 1e-3, "s", "step (rk4)"),
        ]
    }
    fn arrays(&self) -> Vec<OutputSpec> {
        vec![
            OutputSpec::new("t", "s", "times of the accepted steps, from 0 to t_final"),
            OutputSpec::new("c", "mol/L", "concentration of A at those times"),
        ]
    }
    fn metrics(&self) -> Vec<OutputSpec> {
        vec![
            OutputSpec::new("conversion", "", "1 - C(t_final)/c0"),
            OutputSpec::new("c_final", "mol/L", "C(t_final)"),
            OutputSpec::new("steps", "", "accepted steps"),
            OutputSpec::new("max_abs_error", "mol/L", "largest |C - c0*exp(-k*t)| over the steps"),
        ]
    }
    fn check(&self, p: &Params) -> Result<(), String> {
        if !is_pos(p.f64("t_final")) {
            return Err("t_final must be > 0".into());
        }
        if p.str("solver") == "rk4" && !is_pos(p.f64("dt")) {
            return Err("dt must be > 0".into());
        }
        if p.str("solver") == "rk4" {
            // t and c at every step, when saved.
            let steps = (p.f64("t_final") / p.f64("dt")).ceil();
            crate::model::size::check_floats(|| format!("t_final / dt = {steps} steps"), 2.0 * steps)?;
        }
        if p.str("solver") == "rk45" && !(is_pos(p.f64("rtol")) && is_pos(p.f64("atol"))) {
            return Err("rtol and atol must be > 0".into());
        }
        Ok(())
    }
    fn run(&self, p: &Params, _rng: &mut TaskRng, out: &mut Outputs) -> Result<(), TaskError> {
        let (k, c0, t_final) = (p.f64("k"), p.f64("c0"), p.f64("t_final"));
        let f = |_t: f64, c: f64| -k * c;
        let keep = out.wants("t") || out.wants("c");
        let tr = Trajectory::new(c0, keep, |t: f64| c0 * (-k * t).exp());
        let traj = match p.str("solver") {
            "rk4" => rk4(f, c0, t_final, p.f64("dt"), tr),
            _ => rk45(f, c0, t_final, (p.f64("rtol"), p.f64("atol")), tr)?,
        };
        let c_final = traj.c_final;
        out.metric("conversion", 1.0 - c_final / c0);
        out.metric("c_final", c_final);
        out.metric("steps", traj.steps as i64);
        out.metric("max_abs_error", traj.max_abs_error);
        if keep {
            out.array("t", Array1::from(traj.t));
            out.array("c", Array1::from(traj.c));
        }
        Ok(())
    }
}

/// `x > 0`, false for NaN.
fn is_pos(x: f64) -> bool {
    x > 0.0
}

/// The accepted steps of an integration. `t`/`c` are filled only when asked to keep them;
/// the error against the analytic solution is tracked either way.
struct Trajectory<E: Fn(f64) -> f64> {
    t: Vec<f64>,
    c: Vec<f64>,
    keep: bool,
    steps: usize,
    c_final: f64,
    max_abs_error: f64,
    exact: E,
}

impl<E: Fn(f64) -> f64> Trajectory<E> {
    fn new(c0: f64, keep: bool, exact: E) -> Self {
        let mut tr = Self { t: Vec::new(), c: Vec::new(), keep, steps: 0, c_final: c0, max_abs_error: 0.0, exact };
        tr.push(0.0, c0);
        tr.steps = 0;
        tr
    }
    fn push(&mut self, t: f64, c: f64) {
        if self.keep {
            self.t.push(t);
            self.c.push(c);
        }
        self.max_abs_error = self.max_abs_error.max((c - (self.exact)(t)).abs());
        self.steps += 1;
        self.c_final = c;
    }
}

fn rk4<E: Fn(f64) -> f64>(
    f: impl Fn(f64, f64) -> f64,
    c0: f64,
    t_final: f64,
    dt: f64,
    tr: Trajectory<E>,
) -> Trajectory<E> {
    let mut tr = tr;
    let n = (t_final / dt).ceil().max(1.0) as usize;
    let h = t_final / n as f64;
    let mut c = c0;
    for i in 0..n {
        let t = i as f64 * h;
        let k1 = f(t, c);
        let k2 = f(t + h / 2.0, c + h / 2.0 * k1);
        let k3 = f(t + h / 2.0, c + h / 2.0 * k2);
        let k4 = f(t + h, c + h * k3);
        c += h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
        tr.push((i + 1) as f64 * h, c);
    }
    tr
}

/// Dormand–Prince 5(4) with the standard step-size controller.
fn rk45<E: Fn(f64) -> f64>(
    f: impl Fn(f64, f64) -> f64,
    c0: f64,
    t_final: f64,
    (rtol, atol): (f64, f64),
    tr: Trajectory<E>,
) -> Result<Trajectory<E>, TaskError> {
    const C: [f64; 7] = [0.0, 1.0 / 5.0, 3.0 / 10.0, 4.0 / 5.0, 8.0 / 9.0, 1.0, 1.0];
    const A: [[f64; 6]; 7] = [
        [0.0; 6],
        [1.0 / 5.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        [3.0 / 40.0, 9.0 / 40.0, 0.0, 0.0, 0.0, 0.0],
        [44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0, 0.0, 0.0, 0.0],
        [19372.0 / 6561.0, -25360.0 / 2187.0, 64448.0 / 6561.0, -212.0 / 729.0, 0.0, 0.0],
        [9017.0 / 3168.0, -355.0 / 33.0, 46732.0 / 5247.0, 49.0 / 176.0, -5103.0 / 18656.0, 0.0],
        [35.0 / 384.0, 0.0, 500.0 / 1113.0, 125.0 / 192.0, -2187.0 / 6784.0, 11.0 / 84.0],
    ];
    // 5th-order weights are A[6]; E = b5 - b4 gives the error estimate.
    const E: [f64; 7] =
        [71.0 / 57600.0, 0.0, -71.0 / 16695.0, 71.0 / 1920.0, -17253.0 / 339200.0, 22.0 / 525.0, -1.0 / 40.0];
    let mut tr = tr;
    let (mut t, mut c) = (0.0, c0);
    let mut h = (t_final * 1e-3).min(0.01 / (f(0.0, c0).abs() / c0.abs().max(atol)).max(1e-12));
    let mut k = [0.0; 7];
    k[0] = f(t, c);
    let mut rejected = 0usize;
    while t < t_final {
        if t + h > t_final {
            h = t_final - t;
        }
        for s in 1..7 {
            let y = c + h * (0..s).map(|j| A[s][j] * k[j]).sum::<f64>();
            k[s] = f(t + C[s] * h, y);
        }
        let c_new = c + h * (0..6).map(|j| A[6][j] * k[j]).sum::<f64>();
        let err = h * (0..7).map(|j| E[j] * k[j]).sum::<f64>();
        let scale = atol + rtol * c.abs().max(c_new.abs());
        let ratio = (err / scale).abs();
        if ratio <= 1.0 {
            t = if (t_final - (t + h)).abs() < 1e-12 * t_final { t_final } else { t + h };
            c = c_new;
            k[0] = k[6]; // first same as last
            tr.push(t, c);
        } else {
            rejected += 1;
            if rejected > 1_000_000 {
                return Err("rk45: too many rejected steps".into());
            }
        }
        let factor = if ratio == 0.0 { 5.0 } else { (0.9 * ratio.powf(-0.2)).clamp(0.2, 5.0) };
        h *= factor;
        if h < 1e-14 * t_final.max(1.0) {
            return Err(format!("rk45: step size underflow at t = {t}").into());
        }
    }
    Ok(tr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rk45_meets_tolerance() {
        for k in [0.01, 0.5, 2.0] {
            let tr0 = Trajectory::new(1.0, false, |t: f64| (-k * t).exp());
            let tr = rk45(|_, c| -k * c, 1.0, 10.0, (1e-9, 1e-12), tr0).unwrap();
            let exact = (-k * 10.0f64).exp();
            assert!((tr.c_final - exact).abs() < 1e-7, "k={k}: {} vs {exact}", tr.c_final);
        }
    }

    #[test]
    fn rk4_converges() {
        let tr = rk4(|_, c| -2.0 * c, 1.0, 10.0, 1e-3, Trajectory::new(1.0, false, |_| 0.0));
        assert!((tr.c_final - (-20.0f64).exp()).abs() < 1e-10);
    }
}
