//! Newton's method on the multilateral resistances (log space), the fast path
//! of [`solve_mr`](super::baseline): the plain iterative scaling converges
//! linearly at a rate that approaches 1 as trade becomes nearly
//! block-diagonal (hundreds of thousands of steps with `phi = d^-5`), Newton
//! in a handful of steps.
//!
//! The balance conditions are the first-order conditions of a convex
//! function (the dual of the matrix-scaling problem). With `u_i = ln a_i`,
//! `r_i = Y_i/Y`, `c_j = E_j/Y` and the inward terms eliminated
//! (`b_j = Y / Σ_i phi_ij Y_i a_i`, so every column balances exactly),
//!
//! ```text
//! g(u)    = Σ_j c_j ln(Σ_i phi_ij r_i e^(u_i)) − Σ_i r_i u_i
//! ∇g_i    = R_i − r_i,          R_i = Σ_j x_ij,  x_ij = c_j q_ij,
//!                               q_ij = phi_ij r_i a_i / Σ_k phi_kj r_k a_k
//! ∇²g_ik  = δ_ik R_i − Σ_j x_ij x_kj / c_j
//! ```
//!
//! `g` is invariant to adding a constant to every `u_i`, so one `u` is held
//! fixed (the largest country's) and the reduced Hessian is positive definite
//! (Cholesky; with a small ridge if it is singular, as when trade falls into
//! separate blocks). Each step is backtracked until
//! `g` decreases (Armijo) or the largest balance residual
//! `max_i |R_i/r_i − 1|` (the plain iteration's stopping rule) falls. A step
//! that cannot be solved or that finds no decrease ends the Newton phase,
//! and the caller finishes with the plain iteration from the last iterate.

use nalgebra::{DMatrix, DVector};

/// The most Newton steps tried before handing over to the plain iteration.
const MAX_NEWTON_STEPS: usize = 100;

/// The largest change of a log resistance in one Newton step.
const MAX_LOG_STEP: f64 = 5.0;

/// The state of the scaling at a given `u`.
struct Eval {
    /// Objective `g(u)`.
    g: f64,
    /// Row sums `R_i` of the normalised flows.
    rows: Vec<f64>,
    /// Largest relative row residual `max_i |R_i/r_i − 1|`.
    residual: f64,
}

fn eval(phi: &[f64], r: &[f64], c: &[f64], u: &[f64], x: Option<&mut [f64]>) -> Option<Eval> {
    let n = r.len();
    let a: Vec<f64> = u.iter().map(|v| v.exp()).collect();
    let mut col = vec![0.0; n];
    for i in 0..n {
        let w = r[i] * a[i];
        let row = &phi[i * n..(i + 1) * n];
        for j in 0..n {
            col[j] += row[j] * w;
        }
    }
    let mut g = -(0..n).map(|i| r[i] * u[i]).sum::<f64>();
    for j in 0..n {
        // a country that buys nothing (c_j = 0, only in a multi-sector
        // world) has no term
        if c[j] > 0.0 {
            g += c[j] * col[j].ln();
        }
    }
    let mut rows = vec![0.0; n];
    let mut store = x;
    for i in 0..n {
        let w = r[i] * a[i];
        let mut s = 0.0;
        for j in 0..n {
            let v = if c[j] > 0.0 {
                phi[i * n + j] * w * c[j] / col[j]
            } else {
                0.0
            };
            s += v;
            if let Some(x) = store.as_deref_mut() {
                x[i * n + j] = v;
            }
        }
        rows[i] = s;
    }
    // a country that produces nothing (r_i = 0) has no balance condition
    let residual = (0..n)
        .filter(|&i| r[i] > 0.0)
        .map(|i| (rows[i] / r[i] - 1.0).abs())
        .fold(0.0, f64::max);
    (g.is_finite() && residual.is_finite()).then_some(Eval { g, rows, residual })
}

/// The end of the Newton phase.
pub(crate) struct NewtonScaling {
    /// The last iterate `a_i` (converged or not), up to a common factor.
    pub a: Vec<f64>,
    /// Newton steps taken (the caller checks the last iterate itself).
    pub steps: usize,
}

/// Newton's method on the balance conditions of `phi` with row totals
/// `output` and column totals `expenditure`, at most `max_steps` steps.
pub(crate) fn scale(
    phi: &[f64],
    output: &[f64],
    expenditure: &[f64],
    tol: f64,
    max_steps: usize,
) -> NewtonScaling {
    let n = output.len();
    let y: f64 = output.iter().sum();
    let r: Vec<f64> = output.iter().map(|v| v / y).collect();
    let c: Vec<f64> = expenditure.iter().map(|v| v / y).collect();
    let pin = (0..n).fold(0, |best, i| if r[i] > r[best] { i } else { best });
    let mut u = vec![0.0; n];
    let mut x = vec![0.0; n * n];
    let mut steps = 0;
    let Some(mut cur) = eval(phi, &r, &c, &u, Some(&mut x)) else {
        return NewtonScaling {
            a: vec![1.0; n],
            steps,
        };
    };
    let free: Vec<usize> = (0..n).filter(|&i| i != pin && r[i] > 0.0).collect();
    let m = free.len();
    while cur.residual > tol && steps < max_steps.min(MAX_NEWTON_STEPS) && m > 0 {
        // Hessian H = diag(R) − X diag(1/c) Xᵀ on the free coordinates.
        let xs = DMatrix::from_fn(m, n, |a, j| x[free[a] * n + j] / c[j].sqrt());
        let mut h = -(&xs * xs.transpose());
        for (a, &i) in free.iter().enumerate() {
            h[(a, a)] += cur.rows[i];
        }
        let grad = DVector::from_fn(m, |a, _| cur.rows[free[a]] - r[free[a]]);
        // Cholesky; if the Hessian is singular (trade in separate blocks,
        // one scale per block) or rounding makes it indefinite, a growing
        // ridge λI (Levenberg–Marquardt): the gradient has no component
        // along the blocks' scales, so the step is the Newton step on the
        // rest.
        let scale = (0..m).map(|a| h[(a, a)].abs()).fold(0.0, f64::max);
        let mut step = None;
        let mut ridge = 0.0;
        for _ in 0..8 {
            let mut hr = h.clone();
            for a in 0..m {
                hr[(a, a)] += ridge;
            }
            if let Some(ch) = hr.cholesky() {
                step = Some(ch.solve(&(-&grad)));
                break;
            }
            ridge = if ridge == 0.0 {
                1e-12 * scale
            } else {
                ridge * 100.0
            };
        }
        let Some(step) = step else {
            break;
        };
        // at most a factor e^5 per resistance and step (a singular system
        // gives huge steps along its null space)
        let big = step.amax();
        let step = if big > MAX_LOG_STEP {
            step * (MAX_LOG_STEP / big)
        } else {
            step
        };
        let slope = grad.dot(&step);
        if !(slope.is_finite() && slope < 0.0) {
            break;
        }
        let mut t = 1.0;
        let mut accepted = None;
        for _ in 0..40 {
            let mut trial = u.clone();
            for (a, &i) in free.iter().enumerate() {
                trial[i] += t * step[a];
            }
            let mut xt = vec![0.0; n * n];
            if let Some(e) = eval(phi, &r, &c, &trial, Some(&mut xt)) {
                if e.g <= cur.g + 1e-4 * t * slope || e.residual < cur.residual {
                    accepted = Some((trial, e, xt));
                    break;
                }
            }
            t *= 0.5;
        }
        let Some((trial, e, xt)) = accepted else {
            break;
        };
        u = trial;
        cur = e;
        x = xt;
        steps += 1;
    }
    NewtonScaling {
        a: u.iter().map(|v| v.exp()).collect(),
        steps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gradient_and_hessian_are_the_derivatives_of_the_objective() {
        let n = 5;
        let phi: Vec<f64> = (0..n * n)
            .map(|q| {
                if q % (n + 1) == 0 {
                    1.0
                } else {
                    0.02 + 0.2 * (((q * 13) % 17) as f64) / 17.0
                }
            })
            .collect();
        let r = [0.1, 0.3, 0.2, 0.25, 0.15];
        let c = [0.2, 0.2, 0.3, 0.1, 0.2];
        let u = [0.3, -0.2, 0.1, 0.0, 0.5];
        let mut x = vec![0.0; n * n];
        let e = eval(&phi, &r, &c, &u, Some(&mut x)).unwrap();
        let h = 1e-5;
        for k in 0..n {
            let mut up = u;
            up[k] += h;
            let mut down = u;
            down[k] -= h;
            let (eu, ed) = (
                eval(&phi, &r, &c, &up, None).unwrap(),
                eval(&phi, &r, &c, &down, None).unwrap(),
            );
            // gradient R_k − r_k
            let grad = (eu.g - ed.g) / (2.0 * h);
            assert!((grad - (e.rows[k] - r[k])).abs() < 1e-8, "gradient {k}");
            // Hessian column k: δ_ik R_i − Σ_j x_ij x_kj / c_j
            for i in 0..n {
                let numerical = (eu.rows[i] - ed.rows[i]) / (2.0 * h);
                let analytic = if i == k { e.rows[i] } else { 0.0 }
                    - (0..n)
                        .map(|j| x[i * n + j] * x[k * n + j] / c[j])
                        .sum::<f64>();
                assert!((numerical - analytic).abs() < 1e-8, "hessian ({i}, {k})");
            }
        }
    }
}
