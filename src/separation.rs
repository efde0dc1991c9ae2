//! ENCODE: observations that must leave the sample before estimation.
//!
//! * **Singletons** — an observation alone in a level of some fixed effect is
//!   fitted perfectly and carries no information; keeping it biases the
//!   clustered standard errors (Correia 2015). Dropped iteratively.
//! * **Separation** (PPML only; Correia, Guimarães & Zylkin 2019, "Verifying
//!   the existence of maximum likelihood estimates for generalized linear
//!   models", CGZ below) — observations whose conditional mean is zero at the
//!   MLE: exactly the zero rows where some certificate `z = Xγ + Dα`, zero
//!   on every positive row and non-negative on every zero row, is positive.
//!   First those in a fixed-effect level whose outcome is all zero
//!   ([`prune`], fixest's check); then the regressors and fixed effects
//!   together, in three steps that each prove what they conclude:
//!
//!   1. **The fit's certificate.** PPML is fitted on the pruned sample. At
//!      convergence its score residual `μ − y` is orthogonal to the
//!      regressors and fixed effects and equals `μ_i > 0` on each zero row: by
//!      Stiemke's lemma no certificate can be positive where `μ_i` is clearly
//!      positive, so only the zero rows with a vanishing mean
//!      ([`candidates`]) can be separated. None: the fit is final.
//!   2. **One least-squares fit.** The candidates' indicator is regressed on
//!      the regressors and fixed effects (held rows weighted 100); if every
//!      candidate's fitted value is below one, the weighted residual is a
//!      Stiemke certificate that none of them is separated either
//!      (`nothing_separable`).
//!   3. **The ReLU method** (CGZ §4.2, [`relu`]) on the candidates alone,
//!      narrowed after two iterations to the rows still positive, stopped by a
//!      checked certificate (its separated rows are dropped, the sample
//!      pruned again and refitted from step 1) or by its iterates' norm
//!      falling below the tolerance (nothing separated).
//!
//!   On the shipped panel's sector outcomes and the penppml panel, step 1 or
//!   2 ends the check except on agriculture, where step 3 finds the 2 rows
//!   the fixed effects miss in 3 iterations (the ReLU on every zero row, as
//!   before, took 1,000 and more without finishing); see
//!   `docs/performance.md`.

use crate::design::Design;
use crate::error::Result;
use crate::fixed_effects::{CoefJob, Coefficients, DemeanParams, Layout, NormalEquations};
use crate::linalg;
use crate::sample::RowStatus;
use rayon::prelude::*;

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

/// A fitted mean below this fraction of the mean outcome leaves a zero row
/// a candidate for separation.
pub(crate) const CANDIDATE_MU: f64 = crate::ppml::MU_TOL;

/// The zero rows that may be separated, judged on a converged PPML fit
/// (linear predictor `eta`, in the outcome's units, and the rows whose
/// linear predictor still `falling` at its last step): those whose fitted
/// mean is below [`CANDIDATE_MU`] of the mean outcome, and those still
/// falling at any mean.
///
/// Why the others cannot be (Stiemke's lemma, as used by Correia, Guimarães
/// & Zylkin 2019, §3): rows are separated exactly when some `z = Xγ + Dα`
/// is zero on the positive rows, non-negative on the zero rows and positive
/// somewhere; no such `z` exists if some `λ` with `X'λ = 0`, `D'λ = 0` is
/// strictly positive on every zero row. The fit's score residual `λ = μ − y`
/// satisfies the first conditions at convergence, and on a zero row it is
/// `μ_i`: a separating `z` would need `Σ μ_i z_i = 0`, impossible where
/// `μ_i` is clearly positive. Clearly: the score is zero only to the fit's
/// tolerance, so a row whose mean is tiny proves nothing, and neither does
/// one whose mean still falls — IRLS moves along a separating direction by
/// about one in log per step, and stops once the deviance those rows still
/// carry is below its tolerance, which on a large panel can leave their
/// means well above any fixed floor (a regressor that is one on a few zero
/// rows of large pairs does it: `tests/parity.rs`'s separated panel). So a
/// separating `z` lives on the candidates, and the ReLU method only needs
/// to look there.
pub(crate) fn candidates(y: &[f64], eta: &[f64], falling: &[bool]) -> Vec<bool> {
    let mean = y.iter().sum::<f64>() / y.len().max(1) as f64;
    let floor = (CANDIDATE_MU * mean).ln();
    y.par_iter()
        .zip(eta.par_iter())
        .zip(falling.par_iter())
        .map(|((&y, &e), &f)| y == 0.0 && (e < floor || f))
        .collect()
}

/// What one run of the ReLU check found.
pub(crate) struct ReluOutcome {
    /// True for the observations proven separated.
    pub separated: Vec<bool>,
    /// Iterations run.
    pub iterations: usize,
    /// False if the iteration limit was reached before a certificate was
    /// found, or the certificate found was not zero on the held rows: then
    /// nothing is marked, and separated observations may remain.
    pub converged: bool,
}

/// How far below one every free row's first fitted value must be for the
/// first fit to prove that nothing is separated (a margin over the
/// least-squares solve's accuracy).
const FIRST_MARGIN: f64 = 1e-6;

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

/// The ReLU method (Correia, Guimarães & Zylkin 2019, §4.2): finds the
/// observations separated by the regressors and fixed effects together.
///
/// `candidates` (when given) are the only zero rows that may be separated
/// (see [`candidates`]); every other row is held at zero like a positive
/// one. Each iteration regresses `u` (the positive part of the last
/// certificate, the candidates' indicator at first) on the regressors and
/// fixed effects with weight `interior_weight` on the held rows, and sets
/// `u ← max(ẑ, 0)` on the free ones. It stops when
///
/// * no free row's fitted value is below `−tol/10`: `ẑ` is a certificate,
///   checked (zero on the held rows to `tol/10`) before its rows above
///   `tol` are declared separated;
/// * `‖u‖₂ ≤ tol`: the iterates' norms never rise (a least-squares fit and a
///   positive part are both contractions), so no row can later exceed `tol`
///   and nothing is separated. This is how the method ends on data with no
///   separation, where its iterates shrink towards zero.
pub(crate) fn relu(
    d: &Design,
    params: ReluParams,
    candidates: Option<&[bool]>,
) -> Result<ReluOutcome> {
    let free: Vec<bool> = match candidates {
        Some(c) => c.iter().zip(&d.y).map(|(&c, &y)| c && y == 0.0).collect(),
        None => d.y.iter().map(|&y| y == 0.0).collect(),
    };
    if !free.iter().any(|&f| f) || (d.p() == 0 && d.fe.is_empty()) {
        return Ok(ReluOutcome {
            separated: vec![false; d.n()],
            iterations: 0,
            converged: true,
        });
    }
    let layout = Layout::new(&d.fe);
    let suspects = match nothing_separable(d, &layout, &free)? {
        Test::NothingSeparable => {
            return Ok(ReluOutcome {
                separated: vec![false; d.n()],
                iterations: 1,
                converged: true,
            })
        }
        Test::Unproven(suspects) => suspects,
    };
    let layout = &layout;
    let mut spent = 1;
    if let Some(suspects) = suspects.filter(|s| s.iter().any(|&s| s) && *s != free) {
        // The suspects alone first: a certificate zero on every other row
        // is still one. Finding nothing there proves nothing; then the
        // candidates decide.
        let mut outcome = relu_run(d, layout, params, &suspects, false)?.done();
        outcome.iterations += spent;
        if outcome.converged && outcome.separated.iter().any(|&s| s) {
            return Ok(outcome);
        }
        spent = outcome.iterations;
    }
    let outcome = match relu_run(d, layout, params, &free, true)? {
        Run::Done(outcome) => outcome,
        Run::Shrink(narrow, iterations) => {
            // A certificate that is zero on more rows is still one: what the
            // narrowed run finds is separated. If it finds nothing, that
            // proves nothing about the rows it held, and the full run decides.
            let mut outcome = relu_run(d, layout, params, &narrow, false)?.done();
            outcome.iterations += iterations;
            if outcome.converged && outcome.separated.iter().any(|&s| s) {
                outcome
            } else {
                let mut full = relu_run(d, layout, params, &free, false)?.done();
                full.iterations += outcome.iterations;
                full
            }
        }
    };
    Ok(ReluOutcome {
        iterations: outcome.iterations + spent,
        ..outcome
    })
}

/// Iterations after which a run narrows its free rows to those still
/// positive (see [`relu`]).
const NARROW_AFTER: usize = 2;

/// How a run of the ReLU iteration ended.
enum Run {
    Done(ReluOutcome),
    /// After `NARROW_AFTER` iterations (the `usize`), the free rows still
    /// positive: a narrower run is cheaper (its certificate converges
    /// faster when the rows it no longer carries held it back).
    Shrink(Vec<bool>, usize),
}

impl Run {
    fn done(self) -> ReluOutcome {
        match self {
            Run::Done(o) => o,
            // Only runs that may narrow return `Shrink`.
            Run::Shrink(_, iterations) => ReluOutcome {
                separated: Vec::new(),
                iterations,
                converged: false,
            },
        }
    }
}

/// The weight of the held rows in [`nothing_separable`]'s fit.
const HELD_WEIGHT: f64 = 1e2;

/// Stiemke's lemma on one least-squares fit: true if it proves that no
/// `free` row can be separated (the rows not free held at zero).
///
/// Regress `u`, the indicator of the free rows, on the regressors and fixed
/// effects with weight one on the free rows and [`HELD_WEIGHT`] on the held
/// ones, and call `ẑ` the fitted values. The weighted residual
/// `λ = W(u − ẑ)` is orthogonal to every regressor and fixed effect
/// (`X'λ = D'λ = 0`: the normal equations), and on a free row it is
/// `1 − ẑ_i`. If every free row
/// has `ẑ_i < 1`, `λ` is strictly positive on the free rows, and a
/// separating `z = Xγ + Dα` (zero on the held rows, `≥ 0` and not all zero
/// on the free ones) would need `λ'z = Σ_free (1 − ẑ_i) z_i = 0`: there is
/// none. When some free row has `ẑ_i ≥ 1` the fit proves nothing and the
/// ReLU iteration decides. Any positive weights make `λ` a valid test; a
/// moderate weight on the held rows keeps `ẑ` small on the free ones (on
/// the shipped panel's sectors and the penppml panel, the largest `ẑ` is
/// 0.2–0.6 at 100, above 1 at unit weights) while the demeaning stays well
/// conditioned (20–40 conjugate-gradient steps where the ReLU's weights of
/// 1e8 take hundreds).
///
/// Otherwise it returns the free rows whose fitted value exceeds
/// [`SUSPECT`]: a separating `z` must be positive on some row where `λ` is
/// not, which is where `ẑ_i ≥ 1`, and the ReLU tries them first.
fn nothing_separable(d: &Design, layout: &Layout, free: &[bool]) -> Result<Test> {
    let params = DemeanParams {
        tol: 1e-10,
        max_iter: 50_000,
    };
    let fit = IndicatorFit::new(d, layout, free, HELD_WEIGHT, params);
    if !fit.converged {
        return Ok(Test::Unproven(None));
    }
    let beta = fit.beta()?;
    let fitted: Vec<f64> = (0..d.n())
        .into_par_iter()
        .map(|i| {
            if free[i] {
                fit.fitted(i, &beta)
            } else {
                f64::NEG_INFINITY
            }
        })
        .collect();
    let top = fitted.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if top < 1.0 - FIRST_MARGIN {
        return Ok(Test::NothingSeparable);
    }
    Ok(Test::Unproven(Some(
        fitted.iter().map(|&z| z > SUSPECT).collect(),
    )))
}

/// Free rows whose fitted value in [`nothing_separable`]'s fit exceeds this
/// are where the ReLU looks first.
const SUSPECT: f64 = 0.5;

/// What [`nothing_separable`] found.
enum Test {
    /// A certificate that no free row is separated.
    NothingSeparable,
    /// No proof; the suspects when the fit converged.
    Unproven(Option<Vec<bool>>),
}

/// The weighted regression both tests run: `u` (the free rows' indicator
/// at first, later the ReLU's iterate) on the regressors and fixed effects,
/// weight one on the free rows and `held_weight` on the others. By
/// Frisch–Waugh–Lovell its fitted values are `u − (ũ − X̃β)`; the regressors
/// are demeaned once (the weights never change), in the same joint solve as
/// the first `u`, and those collinear in these weights are left out.
struct IndicatorFit<'a> {
    n: usize,
    w: Vec<f64>,
    eq: NormalEquations<'a>,
    params: DemeanParams,
    u: Vec<f64>,
    u_tilde: Vec<f64>,
    uwork: Coefficients,
    /// The demeaned regressors kept, column after column.
    xk: Vec<f64>,
    xtx: nalgebra::DMatrix<f64>,
    /// Whether the first joint solve reached its tolerance.
    converged: bool,
}

impl<'a> IndicatorFit<'a> {
    fn new(
        d: &Design,
        layout: &'a Layout,
        free: &[bool],
        held_weight: f64,
        params: DemeanParams,
    ) -> Self {
        let (n, p) = (d.n(), d.p());
        let w: Vec<f64> = free
            .iter()
            .map(|&f| if f { 1.0 } else { held_weight })
            .collect();
        let mut eq = NormalEquations::new(layout, &w);
        let u: Vec<f64> = free.iter().map(|&f| if f { 1.0 } else { 0.0 }).collect();
        let mut u_tilde = vec![0.0; n];
        let mut uwork = Coefficients::zeros(layout);
        let mut x_tilde = vec![0.0; n * p];
        let mut xwork = Coefficients::many(layout, p);
        let infos = eq.solve(
            &mut CoefJob::outcome_and_columns(
                &u,
                &mut u_tilde,
                &mut uwork,
                &d.x,
                &mut x_tilde,
                &mut xwork,
                false,
            ),
            &params,
        );
        let xtx = linalg::xtwx(&x_tilde, n, Some(&w));
        let raw: Vec<f64> = (0..p).map(|j| xtx[(j, j)].max(1e-300)).collect();
        let dropped = linalg::collinear_columns(&xtx, &raw, 1e-12);
        let (xk, xtx) = if dropped.is_empty() {
            (x_tilde, xtx)
        } else {
            let mut xk = Vec::with_capacity(n * (p - dropped.len()));
            for j in (0..p).filter(|j| !dropped.contains(j)) {
                xk.extend_from_slice(&x_tilde[j * n..(j + 1) * n]);
            }
            let xtx = linalg::xtwx(&xk, n, Some(&w));
            (xk, xtx)
        };
        IndicatorFit {
            n,
            w,
            eq,
            params,
            u,
            u_tilde,
            uwork,
            xk,
            xtx,
            converged: infos.iter().all(|i| i.converged),
        }
    }

    /// Demeans `u` again after it changed (warm-started).
    fn resolve(&mut self) {
        self.eq.solve(
            &mut [CoefJob {
                x: &self.u,
                x_tilde: &mut self.u_tilde,
                alpha: &mut self.uwork,
                known_residual: false,
            }],
            &self.params,
        );
    }

    /// The regressors' coefficients, `(X̃'WX̃)⁻¹ X̃'Wũ`.
    fn beta(&self) -> Result<Vec<f64>> {
        if self.xtx.nrows() == 0 {
            return Ok(Vec::new());
        }
        let xtu = linalg::xtwv(&self.xk, self.n, Some(&self.w), &self.u_tilde);
        Ok(linalg::solve_spd(&self.xtx, &xtu)?.as_slice().to_vec())
    }

    /// Row `i`'s fitted value `u_i − (ũ_i − x̃_i'β)`.
    #[inline]
    fn fitted(&self, i: usize, beta: &[f64]) -> f64 {
        let mut xb = 0.0;
        for (c, b) in beta.iter().enumerate() {
            xb += self.xk[c * self.n + i] * b;
        }
        self.u[i] - (self.u_tilde[i] - xb)
    }
}

/// One run of the ReLU iteration with `free` the rows that may be positive.
fn relu_run(
    d: &Design,
    layout: &Layout,
    params: ReluParams,
    free: &[bool],
    narrow: bool,
) -> Result<Run> {
    let n = d.n();
    let boundary = free;
    if !boundary.iter().any(|&b| b) || (d.p() == 0 && d.fe.is_empty()) {
        return Ok(Run::Done(ReluOutcome {
            separated: vec![false; n],
            iterations: 0,
            converged: true,
        }));
    }
    let mut fit = IndicatorFit::new(
        d,
        layout,
        boundary,
        params.interior_weight,
        DemeanParams {
            tol: 1e-9,
            max_iter: 50_000,
        },
    );
    let mut z = vec![0.0; n];
    for iter in 1..=params.max_iter {
        if iter > 1 {
            fit.resolve();
        }
        let beta = fit.beta()?;
        // ẑ = u − (ũ − X̃β), the fitted values of the weighted regression,
        // on every row. On the free rows: set to zero within `tol` of zero,
        // counted when negative. On the held rows: the largest |ẑ|, which a
        // certificate must have at zero.
        let (negative, held, top) = z
            .par_chunks_mut(CHUNK)
            .enumerate()
            .map(|(t, z)| {
                let (mut negative, mut held, mut top) = (0usize, 0.0f64, f64::NEG_INFINITY);
                for (j, zi) in z.iter_mut().enumerate() {
                    let i = t * CHUNK + j;
                    let fitted = fit.fitted(i, &beta);
                    *zi = if !boundary[i] {
                        held = held.max(fitted.abs());
                        0.0
                    } else if fitted > -0.1 * params.tol && fitted < params.tol {
                        top = top.max(fitted);
                        0.0
                    } else {
                        top = top.max(fitted);
                        negative += usize::from(fitted < 0.0);
                        fitted
                    };
                }
                (negative, held, top)
            })
            .reduce(
                || (0, 0.0, f64::NEG_INFINITY),
                |a, b| (a.0 + b.0, a.1.max(b.1), a.2.max(b.2)),
            );
        if iter == 1 && top < 1.0 - FIRST_MARGIN {
            // The first fit proves there is nothing to find, as in
            // `nothing_separable` (any positive weights will do).
            return Ok(Run::Done(ReluOutcome {
                separated: vec![false; n],
                iterations: iter,
                converged: true,
            }));
        }
        if negative == 0 {
            // ẑ is a certificate if it is zero on the held rows; its
            // positive rows are separated.
            let certified = held <= 0.1 * params.tol;
            let sep = if certified {
                z.par_iter().map(|&z| z > 0.0).collect()
            } else {
                vec![false; n]
            };
            return Ok(Run::Done(ReluOutcome {
                separated: sep,
                iterations: iter,
                converged: certified,
            }));
        }
        fit.u
            .par_iter_mut()
            .zip(z.par_iter())
            .zip(boundary.par_iter())
            .for_each(|((u, &z), &b)| {
                if b {
                    *u = z.max(0.0);
                }
            });
        let norm = fit.u.par_iter().map(|u| u * u).sum::<f64>().sqrt();
        if narrow && iter == NARROW_AFTER {
            let still: Vec<bool> = fit
                .u
                .iter()
                .zip(boundary)
                .map(|(&u, &b)| b && u > 0.0)
                .collect();
            if still.iter().any(|&s| s) && still != boundary {
                return Ok(Run::Shrink(still, iter));
            }
        }
        if norm <= params.tol {
            // The iterates shrink to zero: nothing is separated.
            return Ok(Run::Done(ReluOutcome {
                separated: vec![false; n],
                iterations: iter,
                converged: true,
            }));
        }
    }
    // The limit was reached: nothing is proven separated, and the caller
    // says so (the fit goes on with the sample as it is).
    Ok(Run::Done(ReluOutcome {
        separated: vec![false; n],
        iterations: params.max_iter,
        converged: false,
    }))
}
