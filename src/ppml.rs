//! ESTIMATE: PPML with high-dimensional fixed effects by iteratively
//! reweighted least squares on demeaned data.
//!
//! Poisson pseudo-maximum likelihood (Santos Silva & Tenreyro 2006) solves
//! `Σ_i (y_i − μ_i) x_i = 0` with `μ_i = exp(x_i'β + d_i'α + o_i)`. Each IRLS
//! step (Correia, Guimarães & Zylkin 2020, "Fast Poisson estimation with
//! high-dimensional fixed effects", Stata Journal 20(1), eqs. 6–9) regresses
//! the working outcome
//!
//! ```text
//!     z_i = η_i − o_i + (y_i − μ_i) / μ_i
//! ```
//!
//! on `x_i` and the fixed effects with weights `w_i = μ_i`; by
//! Frisch–Waugh–Lovell that is least squares of `z̃` on `X̃`, the columns
//! demeaned in the `w`-weighted norm, and the new linear predictor is
//! `η = o + z − (z̃ − X̃β)` — the fixed effects themselves are never formed.
//!
//! The demeaning is warm-started from the previous iteration's fixed-effect
//! parts, and its tolerance starts loose (1e-4) and is tightened to the target
//! as the deviance converges (as ppmlhdfe does). Convergence is declared on
//! the relative deviance change `|ΔD| / max(min(D, D_old), 0.1) < tol`, and
//! only once the demeaning ran at its final tolerance. If the deviance rises,
//! the step is halved. IRLS starts from `μ = y` where `y > 0` and a small
//! `μ` (a thousandth of the mean) where `y = 0`.

use crate::design::Design;
use crate::design::INTERCEPT;
use crate::error::{Error, ErrorKind, Result};
use crate::fit::{Estimate, FitInfo, FitOptions, Termination};
use crate::fixed_effects::{CoefJob, Coefficients, DemeanParams, Layout, NormalEquations};
use crate::linalg;
use crate::scaling::{self, intercept_column, RegressorScaling};
use rayon::prelude::*;
use std::time::Instant;

const CHUNK: usize = 1 << 14;

/// Starting `μ` of a zero outcome, relative to the mean outcome.
const ZERO_START: f64 = 1e-3;

/// A fitted mean below this (on the scale where the mean outcome is one) on
/// a zero outcome, still falling at the last step, marks an observation as
/// possibly separated.
pub(crate) const MU_TOL: f64 = 1e-6;

/// Poisson deviance `2 Σ w_i [y_i log(y_i/μ_i) − (y_i − μ_i)]` at `μ = exp(η)`,
/// summed in fixed chunks so the result does not depend on the number of
/// threads; `y log y` is precomputed.
fn deviance(y: &[f64], y_log_y: &[f64], eta: &[f64], mu: &[f64], pw: Option<&[f64]>) -> f64 {
    let part: Vec<f64> = (0..y.len().div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let mut s = 0.0;
            for i in c * CHUNK..((c + 1) * CHUNK).min(y.len()) {
                s += pw.map_or(1.0, |w| w[i]) * deviance_term(y[i], y_log_y[i], eta[i], mu[i]);
            }
            s
        })
        .collect();
    2.0 * part.iter().sum::<f64>()
}

/// One observation's `y log(y/μ) − (y − μ)` (`μ` when `y = 0`), as
/// `y log y − y η − (y − μ)`: no logarithm per step.
#[inline]
fn deviance_term(y: f64, y_log_y: f64, eta: f64, mu: f64) -> f64 {
    if y > 0.0 {
        y_log_y - y * eta - (y - mu)
    } else {
        mu
    }
}

/// The IRLS update of the linear predictor in one pass (eq. 9):
/// `η = o + z − (z̃ − X̃β)`, `μ = exp(η)`, and the deviance at the new `μ`
/// (summed in fixed chunks).
#[allow(clippy::too_many_arguments)]
fn step(
    y: &[f64],
    y_log_y: &[f64],
    pw: Option<&[f64]>,
    offset: Option<&[f64]>,
    z: &[f64],
    z_tilde: &[f64],
    x_tilde: &[f64],
    beta: &[f64],
    eta: &mut [f64],
    mu: &mut [f64],
) -> f64 {
    let n = y.len();
    let part: Vec<f64> = eta
        .par_chunks_mut(CHUNK)
        .zip(mu.par_chunks_mut(CHUNK))
        .enumerate()
        .map(|(c, (eta, mu))| {
            let mut s = 0.0;
            for (j, (e, m)) in eta.iter_mut().zip(mu.iter_mut()).enumerate() {
                let i = c * CHUNK + j;
                let mut xb = 0.0;
                for (k, b) in beta.iter().enumerate() {
                    xb += x_tilde[k * n + i] * b;
                }
                *e = offset.map_or(0.0, |o| o[i]) + z[i] - (z_tilde[i] - xb);
                *m = e.exp();
                s += pw.map_or(1.0, |w| w[i]) * deviance_term(y[i], y_log_y[i], *e, *m);
            }
            s
        })
        .collect();
    2.0 * part.iter().sum::<f64>()
}

/// IRLS on a pruned design; `layout` is the design's rows laid out by level
/// if already built (by the separation check), else it is built here.
///
/// `warm`, when given, is a linear predictor per row (in the outcome's
/// units) to start from instead of the data: the fit before separated rows
/// were dropped, so that the fit after them continues it.
pub(crate) fn estimate(
    mut d: Design,
    options: &FitOptions,
    layout: Option<Layout>,
    warm: Option<&[f64]>,
) -> Result<(Design, Estimate)> {
    let start = Instant::now();
    let n = d.n();
    let pw: Option<Vec<f64>> = d.weights.clone();
    // The units out (crate::scaling): y by its weighted mean, each regressor
    // centred when a fixed effect absorbs its mean, and scaled by a power of
    // two. Everything below runs on that scale; the end maps it back.
    let y_scale = scaling::weighted_mean(&d.y, pw.as_deref());
    if !(y_scale.is_finite() && y_scale > 0.0) {
        return Err(Error::model(
            ErrorKind::InvalidData,
            format!(
                "the weighted mean of the outcome is {y_scale}: PPML needs a positive, finite mean"
            ),
        ));
    }
    d.y.par_iter_mut().for_each(|y| *y /= y_scale);
    let has_fe = !d.fe.is_empty();
    let constant_in_span = has_fe || d.x_names.iter().any(|n| n == INTERCEPT);
    let mut xs = {
        let intercept = intercept_column(&d);
        RegressorScaling::apply(&mut d.x, n, pw.as_deref(), has_fe, intercept)
    };
    // The offset. Without a constant in the model (no fixed effect, no
    // intercept) dividing y by ȳ is not absorbed: log ȳ moves into the
    // offset, so the model is the same.
    let offset: Option<Vec<f64>> = if constant_in_span {
        d.offset.clone()
    } else {
        let shift = y_scale.ln();
        Some(match &d.offset {
            Some(o) => o.iter().map(|o| o - shift).collect(),
            None => vec![-shift; n],
        })
    };
    // Starting values: μ = y where y > 0 and μ = ȳ/1000 where y = 0 (ȳ = 1
    // on this scale). The estimates do not depend on them (the Poisson
    // likelihood is strictly concave once separated observations are out),
    // the number of steps does: IRLS lowers log μ by about one per step on a
    // zero outcome whose μ starts too high, which is what made ppmlhdfe's
    // start, (y + ȳ)/2, take 11–18 steps on the benchmark and shipped panels
    // where this one takes 7–12.
    let (mut mu, mut eta): (Vec<f64>, Vec<f64>) = match warm {
        Some(warm) => {
            let shift = y_scale.ln();
            let eta: Vec<f64> = warm.iter().map(|e| e - shift).collect();
            (eta.iter().map(|e| e.exp()).collect(), eta)
        }
        None => {
            let mu: Vec<f64> =
                d.y.iter()
                    .map(|&y| if y > 0.0 { y } else { ZERO_START })
                    .collect();
            let eta = mu.iter().map(|m| m.ln()).collect();
            (mu, eta)
        }
    };
    let y_log_y: Vec<f64> =
        d.y.par_iter()
            .map(|&y| if y > 0.0 { y * y.ln() } else { 0.0 })
            .collect();
    let mut dev_old = deviance(&d.y, &y_log_y, &eta, &mu, pw.as_deref());

    let mut p = d.p();
    // The rows laid out by level once; the fixed-effect coefficients of each
    // column carry over between iterations as warm starts.
    let layout = layout.unwrap_or_else(|| Layout::new(&d.fe));
    let mut xwork = Coefficients::many(&layout, p);
    let mut zwork = Coefficients::zeros(&layout);
    // The normal equations' buffers, refilled with each step's weights.
    let mut eq = NormalEquations::new(&layout, &vec![1.0; n]);
    let mut x_tilde = vec![0.0; n * p];
    let mut z = vec![0.0; n];
    let mut z_tilde = vec![0.0; n];
    let mut eta_new = vec![0.0; n];
    let mut mu_new = vec![0.0; n];

    let mut collinear = Vec::new();
    let mut beta = nalgebra::DVector::<f64>::zeros(p);
    let mut inner = DemeanParams {
        tol: 1e-4_f64.max(options.fixef_tol),
        max_iter: 100_000,
    };
    let mut sweeps = 0usize;
    let mut halvings = 0usize;
    let mut iterations = 0usize;
    let mut termination = Termination::MaxIterations;
    let mut demeaned = true;
    let mut vanishing = 0usize;
    let mut falling: Vec<bool> = vec![false; n];
    let mut dev = dev_old;

    while iterations < options.irls_max_iter {
        iterations += 1;
        // Working weights and outcome (eqs. 6–7). After the first step the
        // residual of the warm start, z − Dα, is z̃ plus the change in z.
        let known = iterations > 1;
        // The weights go straight into the normal equations' buffer.
        eq.weights_mut()
            .par_iter_mut()
            .zip(z.par_iter_mut())
            .zip(z_tilde.par_iter_mut())
            .enumerate()
            .for_each(|(i, ((wi, zi), zt))| {
                *wi = pw.as_ref().map_or(1.0, |p| p[i]) * mu[i];
                let o = offset.as_ref().map_or(0.0, |o| o[i]);
                let z_new = eta[i] - o + (d.y[i] - mu[i]) / mu[i];
                if known {
                    *zt += z_new - *zi;
                }
                *zi = z_new;
            });
        let infos = {
            // x̃ still holds x − Dα from the previous step.
            let mut jobs = CoefJob::outcome_and_columns(
                &z,
                &mut z_tilde,
                &mut zwork,
                &d.x,
                &mut x_tilde,
                &mut xwork,
                known,
            );
            eq.solve(&mut jobs, &inner)
        };
        sweeps += infos.iter().map(|i| i.iterations).sum::<usize>();
        demeaned = infos.iter().all(|i| i.converged);

        // X̃'WX̃ and X̃'Wz̃ of this step, and collinearity judged on them at
        // every step, as the weights change (ppmlhdfe does the same): a
        // regressor whose demeaned sum of squares is a negligible part of its
        // centred one (`collinearity_tol`) is dropped. An inexact demeaning
        // only overstates what is left, so it never drops a column wrongly;
        // but at a loose tolerance `t` a column the fixed effects absorb keeps
        // about `t²` of itself. So a column under `(10 t)²` — which may be
        // collinear — has the regressors demeaned to the final tolerance
        // before it is judged; any other is safely not collinear (what is
        // truly left of it is at least `(9 t)²`).
        let (mut xtx, mut xtz) = if p > 0 {
            linalg::cross_products(&x_tilde, n, Some(eq.weights()), Some(&z_tilde))
        } else {
            (nalgebra::DMatrix::zeros(0, 0), nalgebra::DVector::zeros(0))
        };
        if p > 0 {
            let reference: Vec<f64> = (0..p)
                .map(|j| {
                    let centred = constant_in_span && d.x_names[j] != INTERCEPT;
                    scaling::collinearity_reference(d.x_col(j), eq.weights(), centred)
                })
                .collect();
            let screen = options.collin_tol.max(100.0 * inner.tol * inner.tol);
            if inner.tol > options.fixef_tol
                && !linalg::collinear_columns(&xtx, &reference, screen).is_empty()
            {
                let tight = DemeanParams {
                    tol: options.fixef_tol,
                    ..inner
                };
                let mut jobs: Vec<CoefJob> =
                    CoefJob::columns(&d.x, &mut x_tilde, &mut xwork, true).collect();
                let infos = eq.solve(&mut jobs, &tight);
                sweeps += infos.iter().map(|i| i.iterations).sum::<usize>();
                demeaned &= infos.iter().all(|i| i.converged);
                (xtx, xtz) =
                    linalg::cross_products(&x_tilde, n, Some(eq.weights()), Some(&z_tilde));
            }
            let drop = linalg::collinear_columns(&xtx, &reference, options.collin_tol);
            if !drop.is_empty() {
                collinear.extend(drop.iter().map(|&j| d.x_names[j].clone()));
                let keep: Vec<usize> = (0..p).filter(|j| !drop.contains(j)).collect();
                d.drop_regressors(&drop);
                p = d.p();
                let mut xt = Vec::with_capacity(n * p);
                for &j in &keep {
                    xt.extend_from_slice(&x_tilde[j * n..(j + 1) * n]);
                }
                x_tilde = xt;
                let mut old: Vec<Option<Coefficients>> = xwork.into_iter().map(Some).collect();
                xwork = keep.iter().filter_map(|&j| old[j].take()).collect();
                xs.select(&keep);
                xtx = xtx.select_rows(&keep).select_columns(&keep);
                xtz = xtz.select_rows(&keep);
            }
        }

        // Weighted least squares of z̃ on X̃ (eq. 8).
        beta = if p > 0 {
            linalg::solve_spd(&xtx, &xtz)?
        } else {
            nalgebra::DVector::zeros(0)
        };
        let mut dev_new = step(
            &d.y,
            &y_log_y,
            pw.as_deref(),
            offset.as_deref(),
            &z,
            &z_tilde,
            &x_tilde,
            beta.as_slice(),
            &mut eta_new,
            &mut mu_new,
        );
        // Step-halving while the deviance rises (or overflows).
        let mut halves = 0;
        while (!dev_new.is_finite() || dev_new > dev_old * (1.0 + 1e-12) + 1e-300)
            && halves < 30
            && iterations > 1
        {
            halves += 1;
            eta_new
                .par_iter_mut()
                .zip(mu_new.par_iter_mut())
                .zip(eta.par_iter())
                .for_each(|((en, mn), eo)| {
                    *en = 0.5 * (*en + eo);
                    *mn = en.exp();
                });
            dev_new = deviance(&d.y, &y_log_y, &eta_new, &mu_new, pw.as_deref());
        }
        halvings += halves;
        if halves == 0 && iterations > 1 && dev_new < dev_old {
            // Fitted means that vanish on zero outcomes and still fell by
            // more than a tenth in log in the last full step: what separation
            // looks like when the checks are off or did not finish (ppmlhdfe's
            // `mu` check, made robust to the legitimately tiny means of small
            // economies, which have stopped falling). A halved step, or one
            // that did not lower the deviance (a demeaning already within its
            // tolerance in the weighted norm, where those rows weigh nothing),
            // says nothing, so the count of the last productive one is kept.
            // One pass: the falling rows, and how many of them vanish.
            vanishing = falling
                .par_iter_mut()
                .enumerate()
                .map(|(i, f)| {
                    *f = d.y[i] == 0.0 && eta_new[i] - eta[i] < -0.1;
                    usize::from(*f && mu_new[i] < MU_TOL)
                })
                .sum();
        }
        if !dev_new.is_finite() {
            termination = Termination::Diverged;
            dev = dev_new;
            break;
        }
        std::mem::swap(&mut eta, &mut eta_new);
        std::mem::swap(&mut mu, &mut mu_new);
        let change = (dev_new - dev_old).abs() / dev_new.min(dev_old).max(0.1);
        dev_old = dev_new;
        dev = dev_new;
        if change < options.irls_tol {
            if inner.tol <= options.fixef_tol {
                termination = Termination::Converged;
                break;
            }
            inner.tol = options.fixef_tol;
        } else {
            inner.tol = (0.1 * change).min(inner.tol).max(options.fixef_tol);
        }
    }
    let converged = termination == Termination::Converged;
    if termination == Termination::Diverged {
        return Err(Error::numerical(
            ErrorKind::Diverged,
            format!(
                "PPML diverged after {iterations} iterations (fitted means overflow): \
             the data may be separated in a way the checks did not catch"
            ),
        ));
    }

    // Back to the data's units: μ, the weights and the score residuals scale
    // with ȳ, η moves by log ȳ, β and X̃ by each regressor's scale.
    let log_scale = y_scale.ln();
    eta.par_iter_mut().for_each(|e| *e += log_scale);
    // The score residual with the final μ; X̃ carries the weights of the last
    // step (at convergence the two agree to the convergence tolerance).
    let score_resid: Vec<f64> = (0..n)
        .map(|i| pw.as_ref().map_or(1.0, |p| p[i]) * (d.y[i] - mu[i]) * y_scale)
        .collect();
    let w: Vec<f64> = eq.weights().iter().map(|w| w * y_scale).collect();
    let beta_out = xs.beta(beta.as_slice());
    xs.x_tilde(&mut x_tilde, n);
    xs.undo(&mut d.x, n);
    // The outcome back in its units too (the fit keeps it for the fit
    // statistics: log-likelihood, null deviance).
    d.y.iter_mut().for_each(|y| *y *= y_scale);
    let info = FitInfo {
        iterations,
        deviance: dev * y_scale,
        converged,
        termination,
        demean_sweeps: sweeps,
        step_halvings: halvings,
        seconds: start.elapsed().as_secs_f64(),
    };
    let mut notes = Vec::new();
    if !demeaned {
        notes.push(
            "the demeaning did not reach its tolerance in the last iteration: \
             the estimates are approximate"
                .to_owned(),
        );
    }
    Ok((
        d,
        Estimate {
            beta: beta_out,
            collinear,
            info,
            x_tilde,
            w,
            score_resid,
            eta,
            reparametrisation: xs.reparametrisation(),
            vanishing_mu: vanishing,
            falling,
            notes,
        },
    ))
}
