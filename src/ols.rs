//! ESTIMATE: (weighted) least squares with high-dimensional fixed effects —
//! log-linear gravity, and a comparison for PPML. By Frisch–Waugh–Lovell,
//! `β̂ = (X̃'WX̃)⁻¹ X̃'Wỹ` with every column demeaned by the same kernel as PPML.

use crate::design::{Design, INTERCEPT};
use crate::error::Result;
use crate::fit::{Estimate, FitInfo, FitOptions, Termination};
use crate::fixed_effects::{CoefJob, Coefficients, DemeanParams, Layout, NormalEquations};
use crate::linalg;
use crate::scaling::{self, intercept_column, RegressorScaling};
use std::time::Instant;

/// Least squares on a pruned design.
pub(crate) fn estimate(mut d: Design, options: &FitOptions) -> Result<(Design, Estimate)> {
    let start = Instant::now();
    let n = d.n();
    let w: Vec<f64> = d.weights.clone().unwrap_or_else(|| vec![1.0; n]);
    // y − offset is the outcome of the regression; with fixed effects its
    // mean and the regressors' are taken out first (they absorb them), and
    // the regressors are scaled (crate::scaling), so that the demeaning's
    // relative tolerance is one in the data's own variation.
    let has_fe = !d.fe.is_empty();
    let mut y_adj: Vec<f64> = match &d.offset {
        Some(o) => d.y.iter().zip(o).map(|(y, o)| y - o).collect(),
        None => d.y.clone(),
    };
    if has_fe {
        let m = scaling::weighted_mean(&y_adj, d.weights.as_deref());
        y_adj.iter_mut().for_each(|v| *v -= m);
    }
    let constant_in_span = has_fe || d.x_names.iter().any(|n| n == INTERCEPT);
    let mut xs = {
        let intercept = intercept_column(&d);
        RegressorScaling::apply(&mut d.x, n, d.weights.as_deref(), has_fe, intercept)
    };
    // The same demeaning solver as PPML: the normal equations of the
    // fixed effects, solved for y and every regressor in shared passes.
    let layout = Layout::new(&d.fe);
    let mut eq = NormalEquations::new(&layout, &w);
    let params = DemeanParams {
        tol: options.fixef_tol,
        max_iter: 100_000,
    };
    let mut p = d.p();
    let mut x_tilde = vec![0.0; n * p];
    let mut xwork = Coefficients::many(&layout, p);
    let mut y_tilde = vec![0.0; n];
    let mut ywork = Coefficients::zeros(&layout);
    let infos = {
        let mut jobs = CoefJob::outcome_and_columns(
            &y_adj,
            &mut y_tilde,
            &mut ywork,
            &d.x,
            &mut x_tilde,
            &mut xwork,
            false,
        );
        eq.solve(&mut jobs, &params)
    };
    let (yinfo, xinfo) = (infos[0], &infos[1..]);
    let sweeps = yinfo.iterations + xinfo.iter().map(|i| i.iterations).sum::<usize>();
    let converged = yinfo.converged && xinfo.iter().all(|i| i.converged);

    let mut collinear = Vec::new();
    if p > 0 {
        let xtx = linalg::xtwx(&x_tilde, n, Some(&w));
        let reference: Vec<f64> = (0..p)
            .map(|j| {
                let centred = constant_in_span && d.x_names[j] != INTERCEPT;
                scaling::collinearity_reference(d.x_col(j), &w, centred)
            })
            .collect();
        let drop = linalg::collinear_columns(&xtx, &reference, options.collin_tol);
        if !drop.is_empty() {
            collinear = drop.iter().map(|&j| d.x_names[j].clone()).collect();
            let keep: Vec<usize> = (0..p).filter(|j| !drop.contains(j)).collect();
            let mut xt = Vec::with_capacity(n * keep.len());
            for &j in &keep {
                xt.extend_from_slice(&x_tilde[j * n..(j + 1) * n]);
            }
            x_tilde = xt;
            d.drop_regressors(&drop);
            xs.select(&keep);
            p = d.p();
        }
    }
    let beta = if p > 0 {
        let xtx = linalg::xtwx(&x_tilde, n, Some(&w));
        let xty = linalg::xtwv(&x_tilde, n, Some(&w), &y_tilde);
        linalg::solve_spd(&xtx, &xty)?
    } else {
        nalgebra::DVector::zeros(0)
    };
    let mut resid = vec![0.0; n];
    let mut fitted = vec![0.0; n];
    let mut rss = 0.0;
    for i in 0..n {
        let mut xb = 0.0;
        for j in 0..p {
            xb += x_tilde[j * n + i] * beta[j];
        }
        let e = y_tilde[i] - xb;
        resid[i] = w[i] * e;
        fitted[i] = d.y[i] - e;
        rss += w[i] * e * e;
    }
    // Back to the regressors' units.
    let beta = xs.beta(beta.as_slice());
    xs.x_tilde(&mut x_tilde, n);
    xs.undo(&mut d.x, n);
    let info = FitInfo {
        iterations: 1,
        deviance: rss,
        converged,
        termination: if converged {
            Termination::Converged
        } else {
            Termination::MaxIterations
        },
        demean_sweeps: sweeps,
        step_halvings: 0,
        seconds: start.elapsed().as_secs_f64(),
    };
    Ok((
        d,
        Estimate {
            beta,
            collinear,
            info,
            x_tilde,
            w,
            score_resid: resid,
            eta: fitted,
            reparametrisation: xs.reparametrisation(),
            vanishing_mu: 0,
            falling: Vec::new(),
            notes: Vec::new(),
        },
    ))
}
