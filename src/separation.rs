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
use rayon::prelude::*;
use std::borrow::Cow;

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

/// Per level of every dimension, over the rows still kept: the number of
/// rows, and (for the separation check) whether any has a positive outcome.
/// Dimensions are counted in parallel; each count is one sequential loop.
fn level_counts(d: &Design, keep: &[bool]) -> Vec<(Vec<u32>, Vec<bool>)> {
    d.fe.par_iter()
        .map(|dim| {
            let mut count = vec![0u32; dim.n_levels()];
            let mut positive = vec![false; dim.n_levels()];
            for ((&g, &k), &y) in dim.codes.iter().zip(keep).zip(&d.y) {
                if k {
                    count[g as usize] += 1;
                    positive[g as usize] |= y > 0.0;
                }
            }
            (count, positive)
        })
        .collect()
}

/// Marks (as `false` in `keep`, with `reason`) every kept row that one of
/// its levels condemns, judged on the counts at entry; repeated until a
/// round marks nothing. Returns true if anything was marked. Marking all
/// dimensions against the same counts and repeating reaches the same fixed
/// point as going dimension by dimension: the largest subset in which no
/// level is condemned.
fn mark_until_stable(
    d: &Design,
    keep: &mut [bool],
    why: &mut [Option<RowStatus>],
    reason: RowStatus,
    condemned: impl Fn(u32, bool) -> bool + Sync,
) -> bool {
    let mut any = false;
    loop {
        let counts = level_counts(d, keep);
        let marked: usize = keep
            .par_chunks_mut(CHUNK)
            .zip(why.par_chunks_mut(CHUNK))
            .enumerate()
            .map(|(t, (keep, why))| {
                let mut marked = 0;
                for (j, (k, w)) in keep.iter_mut().zip(why).enumerate() {
                    let i = t * CHUNK + j;
                    if *k
                        && d.fe.iter().zip(&counts).any(|(dim, (count, positive))| {
                            let g = dim.codes[i] as usize;
                            condemned(count[g], positive[g])
                        })
                    {
                        *k = false;
                        *w = Some(reason);
                        marked += 1;
                    }
                }
                marked
            })
            .sum();
        if marked == 0 {
            return any;
        }
        any = true;
    }
}

/// Rows per task in the marking passes.
const CHUNK: usize = 1 << 14;

/// Drops singletons (if `singletons`: an observation alone in a level of
/// some dimension, iteratively) and, when `sep.fixed_effects`, the
/// observations in a level whose outcome is all zero, alternating until
/// neither finds anything; each dropped row's status says which rule dropped
/// it (separation first, as it is checked first). Returns the pruned design,
/// copied once.
pub(crate) fn prune(d: Design, singletons: bool, sep: Separation) -> Design {
    let n = d.n();
    let mut keep = vec![true; n];
    let mut why: Vec<Option<RowStatus>> = vec![None; n];
    let mut any = false;
    loop {
        if sep.fixed_effects {
            any |= mark_until_stable(&d, &mut keep, &mut why, RowStatus::Separated, |c, pos| {
                c > 0 && !pos
            });
        }
        // Separation is at its fixed point here; if dropping singletons
        // changes nothing, so are both.
        let dropped = singletons
            && mark_until_stable(&d, &mut keep, &mut why, RowStatus::Singleton, |c, _| c == 1);
        any |= dropped;
        if !dropped || !sep.fixed_effects {
            break;
        }
    }
    if !any {
        return d;
    }
    d.subset_why(&keep, &why)
}

/// Parameters of the ReLU separation test.
/// What one run of the ReLU check found.
pub(crate) struct ReluOutcome {
    /// True for the observations proven separated.
    pub separated: Vec<bool>,
    /// Iterations run.
    pub iterations: usize,
    /// False if the iteration limit was reached before a certificate was
    /// found: then nothing is marked, and separated observations may remain.
    pub converged: bool,
    /// The design's rows laid out by level, for IRLS to reuse.
    pub layout: Option<Layout>,
}

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
pub(crate) fn relu(d: &Design, params: ReluParams) -> Result<ReluOutcome> {
    let n = d.n();
    let boundary: Vec<bool> = d.y.iter().map(|&y| y == 0.0).collect();
    if !boundary.iter().any(|&b| b) || (d.p() == 0 && d.fe.is_empty()) {
        return Ok(ReluOutcome {
            separated: vec![false; n],
            iterations: 0,
            converged: true,
            layout: None,
        });
    }
    let w: Vec<f64> = boundary
        .iter()
        .map(|&b| if b { 1.0 } else { params.interior_weight })
        .collect();
    let layout = Layout::new(&d.fe);
    let mut eq = NormalEquations::new(&layout, &w);
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
        let mut jobs = CoefJob::outcome_and_columns(
            &u,
            &mut u_tilde,
            &mut uwork,
            &d.x,
            &mut x_tilde,
            &mut xwork,
            false,
        );
        eq.solve(&mut jobs, &demean_params);
    }
    let xtx = linalg::xtwx(&x_tilde, n, Some(&w));
    let raw: Vec<f64> = (0..p).map(|j| xtx[(j, j)].max(1e-300)).collect();
    let dropped = linalg::collinear_columns(&xtx, &raw, 1e-12);
    // The regressors kept: all of them unless some are collinear here.
    let (xk, xtx_k) = if dropped.is_empty() {
        (Cow::Borrowed(&x_tilde[..]), xtx)
    } else {
        let mut xk = Vec::with_capacity(n * (p - dropped.len()));
        for j in (0..p).filter(|j| !dropped.contains(j)) {
            xk.extend_from_slice(&x_tilde[j * n..(j + 1) * n]);
        }
        let xtx_k = linalg::xtwx(&xk, n, Some(&w));
        (Cow::Owned(xk), xtx_k)
    };
    let pk = p - dropped.len();

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
        let beta = if pk == 0 {
            nalgebra::DVector::zeros(0)
        } else {
            linalg::solve_spd(&xtx_k, &linalg::xtwv(&xk, n, Some(&w), &u_tilde))?
        };
        // z = u − (ũ − X̃β), the fitted values of the weighted regression,
        // set to zero where y > 0 and where within `tol` of zero; counted:
        // the boundary rows where it is negative.
        let (xk, beta) = (&xk[..], beta.as_slice());
        let negative: usize = z
            .par_chunks_mut(CHUNK)
            .enumerate()
            .map(|(t, z)| {
                let mut negative = 0;
                for (j, zi) in z.iter_mut().enumerate() {
                    let i = t * CHUNK + j;
                    let mut xb = 0.0;
                    for (c, b) in beta.iter().enumerate() {
                        xb += xk[c * n + i] * b;
                    }
                    let fitted = u[i] - (u_tilde[i] - xb);
                    *zi = if !boundary[i] || (fitted > -0.1 * params.tol && fitted < params.tol) {
                        0.0
                    } else {
                        negative += usize::from(fitted < 0.0);
                        fitted
                    };
                }
                negative
            })
            .sum();
        if negative == 0 {
            // z is zero off the boundary: its positive rows are separated.
            let sep = z.par_iter().map(|&z| z > 0.0).collect();
            return Ok(ReluOutcome {
                separated: sep,
                iterations: iter,
                converged: true,
                layout: Some(layout),
            });
        }
        u.par_iter_mut()
            .zip(z.par_iter())
            .zip(boundary.par_iter())
            .for_each(|((u, &z), &b)| {
                if b {
                    *u = z.max(0.0);
                }
            });
    }
    // The limit was reached: nothing is proven separated, and the caller
    // says so (the fit goes on with the sample as it is).
    Ok(ReluOutcome {
        separated: vec![false; n],
        iterations: params.max_iter,
        converged: false,
        layout: Some(layout),
    })
}
