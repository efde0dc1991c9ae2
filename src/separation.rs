//! ENCODE: observations that must leave the sample before estimation.
//!
//! * **Singletons** — an observation alone in a level of some fixed effect is
//!   fitted perfectly and carries no information; keeping it biases the
//!   clustered standard errors (Correia 2015). Dropped iteratively.
//! * **Separation** (PPML only; Correia, Guimarães & Zylkin 2019, "Verifying
//!   the existence of maximum likelihood estimates for generalized linear
//!   models") — observations whose conditional mean is zero at the MLE. First
//!   those in a fixed-effect level whose outcome is all zero; then the ReLU
//!   method, which finds a certificate `z = Xγ + Dα` with `z_i = 0` where
//!   `y_i > 0` and `z_i ≥ 0` where `y_i = 0`: the observations with `z_i > 0`
//!   are separated.

use crate::design::Design;
use crate::error::Result;
use crate::fixed_effects::{CoefJob, Coefficients, DemeanParams, Layout, NormalEquations};
use crate::linalg;
use crate::sample::RowStatus;

/// Which separation checks to run (PPML).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Separation {
    /// Drop observations in fixed-effect levels whose outcome is all zero.
    pub fixed_effects: bool,
    /// Run the ReLU method for separation caused by the regressors.
    pub relu: bool,
}

impl Default for Separation {
    fn default() -> Self {
        Separation {
            fixed_effects: true,
            relu: true,
        }
    }
}

impl Separation {
    /// No separation checks.
    pub fn none() -> Self {
        Separation {
            fixed_effects: false,
            relu: false,
        }
    }
}

/// Marks singletons (iteratively, across all dimensions) as `false` in `keep`.
/// Returns true if anything was dropped.
pub(crate) fn mark_singletons(d: &Design, keep: &mut [bool]) -> bool {
    let mut any = false;
    loop {
        let mut changed = false;
        for dim in &d.fe {
            let mut count = vec![0u32; dim.n_levels()];
            for (i, &g) in dim.codes.iter().enumerate() {
                if keep[i] {
                    count[g as usize] += 1;
                }
            }
            for (i, &g) in dim.codes.iter().enumerate() {
                if keep[i] && count[g as usize] == 1 {
                    keep[i] = false;
                    changed = true;
                }
            }
        }
        if !changed {
            return any;
        }
        any = true;
    }
}

/// Marks observations in fixed-effect levels whose outcome is all zero.
pub(crate) fn mark_fe_separated(d: &Design, keep: &mut [bool]) -> bool {
    let mut any = false;
    loop {
        let mut changed = false;
        for dim in &d.fe {
            let mut total = vec![0.0f64; dim.n_levels()];
            let mut seen = vec![false; dim.n_levels()];
            for (i, &g) in dim.codes.iter().enumerate() {
                if keep[i] {
                    total[g as usize] += d.y[i];
                    seen[g as usize] = true;
                }
            }
            for (i, &g) in dim.codes.iter().enumerate() {
                if keep[i] && seen[g as usize] && total[g as usize] == 0.0 {
                    keep[i] = false;
                    changed = true;
                }
            }
        }
        if !changed {
            return any;
        }
        any = true;
    }
}

/// Drops singletons (if `singletons`) and, when `sep.fixed_effects`, the
/// observations separated by a fixed effect, alternating until neither finds
/// anything. Returns the pruned design.
pub(crate) fn prune(mut d: Design, singletons: bool, sep: Separation) -> Design {
    loop {
        let n = d.n();
        let mut changed = false;
        if sep.fixed_effects {
            let mut keep = vec![true; n];
            if mark_fe_separated(&d, &mut keep) {
                d = d.subset(&keep, RowStatus::Separated);
                changed = true;
            }
        }
        if singletons {
            let mut keep = vec![true; d.n()];
            if mark_singletons(&d, &mut keep) {
                d = d.subset(&keep, RowStatus::Singleton);
                changed = true;
            }
        }
        if !changed {
            return d;
        }
    }
}

/// Parameters of the ReLU separation test.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReluParams {
    /// A fitted value within `tol` of zero counts as zero.
    pub tol: f64,
    /// Weight on observations with `y > 0` (the method of weighting for the
    /// equality constraints `z_i = 0`).
    pub interior_weight: f64,
    pub max_iter: usize,
}

impl Default for ReluParams {
    fn default() -> Self {
        ReluParams {
            tol: 1e-5,
            interior_weight: 1e8,
            max_iter: 1000,
        }
    }
}

/// The ReLU method: returns `(separated, iterations, layout)` where
/// `separated[i]` is true for the observations found separated by the
/// regressors (and fixed effects together), and `layout` the rows laid out
/// by level if the check built it (IRLS reuses it when nothing was dropped).
pub(crate) fn relu(d: &Design, params: ReluParams) -> Result<(Vec<bool>, usize, Option<Layout>)> {
    let n = d.n();
    let boundary: Vec<bool> = d.y.iter().map(|&y| y == 0.0).collect();
    if !boundary.iter().any(|&b| b) || (d.p() == 0 && d.fe.is_empty()) {
        return Ok((vec![false; n], 0, None));
    }
    let w: Vec<f64> = boundary
        .iter()
        .map(|&b| if b { 1.0 } else { params.interior_weight })
        .collect();
    let layout = Layout::new(&d.fe);
    let eq = NormalEquations::new(&layout, &w);
    let demean_params = DemeanParams {
        tol: 1e-9,
        max_iter: 50_000,
    };
    // The regressors are demeaned once (the weights never change), in the
    // same joint solve as the first iteration's `u`, the boundary indicator.
    let p = d.p();
    let mut u: Vec<f64> = boundary
        .iter()
        .map(|&b| if b { 1.0 } else { 0.0 })
        .collect();
    let mut u_tilde = vec![0.0; n];
    let mut uwork = Coefficients::zeros(&layout);
    let mut x_tilde = vec![0.0; n * p];
    {
        let mut xwork = Coefficients::many(&layout, p);
        let mut jobs = vec![CoefJob {
            x: &u,
            x_tilde: &mut u_tilde,
            alpha: &mut uwork,
            known_residual: false,
        }];
        jobs.extend(CoefJob::columns(&d.x, &mut x_tilde, &mut xwork, false));
        eq.solve(&mut jobs, &demean_params);
    }
    let xtx = linalg::xtwx(&x_tilde, n, Some(&w));
    let raw: Vec<f64> = (0..p).map(|j| xtx[(j, j)].max(1e-300)).collect();
    let dropped = linalg::collinear_columns(&xtx, &raw, 1e-12);
    let keep_cols: Vec<usize> = (0..p).filter(|j| !dropped.contains(j)).collect();
    let mut xk = Vec::with_capacity(n * keep_cols.len());
    for &j in &keep_cols {
        xk.extend_from_slice(&x_tilde[j * n..(j + 1) * n]);
    }
    let xtx_k = linalg::xtwx(&xk, n, Some(&w));

    let mut z = vec![0.0; n];
    for iter in 1..=params.max_iter {
        if iter > 1 {
            eq.solve(
                &mut [CoefJob {
                    x: &u,
                    x_tilde: &mut u_tilde,
                    alpha: &mut uwork,
                    known_residual: false,
                }],
                &demean_params,
            );
        }
        let beta = if keep_cols.is_empty() {
            nalgebra::DVector::zeros(0)
        } else {
            linalg::solve_spd(&xtx_k, &linalg::xtwv(&xk, n, Some(&w), &u_tilde))?
        };
        // z = u − residual = fitted value of the weighted regression.
        for i in 0..n {
            let mut xb = 0.0;
            for (c, b) in beta.iter().enumerate() {
                xb += xk[c * n + i] * b;
            }
            let resid = u_tilde[i] - xb;
            z[i] = u[i] - resid;
        }
        let mut all_nonneg = true;
        for i in 0..n {
            if !boundary[i] || (z[i] > -0.1 * params.tol && z[i] < params.tol) {
                z[i] = 0.0;
            } else if z[i] < 0.0 {
                all_nonneg = false;
            }
        }
        if all_nonneg {
            let sep = (0..n).map(|i| boundary[i] && z[i] > 0.0).collect();
            return Ok((sep, iter, Some(layout)));
        }
        for i in 0..n {
            if boundary[i] {
                u[i] = z[i].max(0.0);
            }
        }
    }
    Ok((vec![false; n], params.max_iter, Some(layout)))
}
