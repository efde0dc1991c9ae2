//! Monte Carlo uncertainty: coefficient draws, parallel evaluation and
//! percentile intervals, identical on any number of threads. The one set of
//! these helpers: the scenario pipeline (`crate::simulate`) draws, runs and
//! summarises its draws with them.

use crate::error::{Error, ErrorKind, Result};
use nalgebra::DMatrix;
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;
use serde::Serialize;

/// A 95% interval: the 2.5% and 97.5% percentiles over the draws.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    /// Lower end (2.5% percentile).
    pub low: f64,
    /// Upper end (97.5% percentile).
    pub high: f64,
}

/// The random stream of draw `draw` of a run seeded with `seed`: one stream
/// per draw, so that draw `d` is the same whatever the number of draws and
/// however the draws are spread over threads. `salt` keeps the streams of
/// different uses of one seed apart (coefficient draws, bootstrap
/// resampling).
pub(crate) fn stream(seed: u64, salt: u64, draw: usize) -> StdRng {
    StdRng::seed_from_u64(seed.wrapping_mul(salt).wrapping_add(draw as u64))
}

/// The salt of the coefficient draws' streams ([`draw_coefficients`]).
const COEFFICIENT_SALT: u64 = 0x9E37_79B9_7F4A_7C15;

/// The salt of the pair bootstrap's resampling streams.
pub(crate) const BOOTSTRAP_SALT: u64 = 0xD1B5_4A32_D192_ED03;

/// Draws `n` coefficient vectors from `N(beta, vcov)`: `beta + L z` with
/// `L Lᵀ = vcov` (Cholesky) and `z` standard normal. Draw `d` takes its `z`
/// from its own `StdRng`, seeded from `seed` and `d`, so the result depends
/// only on the inputs and the seed, and the first draws are the same
/// whatever `n`.
///
/// A positive semi-definite `vcov` with exact zeros on the diagonal (a
/// coefficient held fixed) is handled by drawing only the free block.
///
/// ```
/// use gravity_model::counterfactual::draw_coefficients;
/// let vcov = nalgebra::DMatrix::from_row_slice(2, 2, &[0.04, 0.01, 0.01, 0.09]);
/// let d = draw_coefficients(&[1.0, -2.0], &vcov, 100, 7)?;
/// assert_eq!(d.len(), 100);
/// assert_eq!(d[..10], draw_coefficients(&[1.0, -2.0], &vcov, 10, 7)?[..]);
/// # Ok::<(), gravity_model::Error>(())
/// ```
///
/// # Errors
///
/// [`ErrorKind::InvalidOption`] if `vcov` is not `k×k` for `k`
/// coefficients, [`ErrorKind::NonFinite`] for a non-finite input, and
/// [`ErrorKind::NotPositiveDefinite`] if the free block of `vcov` is not
/// positive definite.
pub fn draw_coefficients(
    beta: &[f64],
    vcov: &DMatrix<f64>,
    n: usize,
    seed: u64,
) -> Result<Vec<Vec<f64>>> {
    let k = beta.len();
    if vcov.nrows() != k || vcov.ncols() != k {
        return Err(Error::model(
            ErrorKind::InvalidOption,
            format!(
                "vcov must be {k}×{k} to match the coefficients, found {}×{}",
                vcov.nrows(),
                vcov.ncols()
            ),
        ));
    }
    if beta.iter().chain(vcov.iter()).any(|v| !v.is_finite()) {
        return Err(Error::model(
            ErrorKind::NonFinite,
            "coefficients and vcov must be finite to draw from them".into(),
        ));
    }
    let free: Vec<usize> = (0..k).filter(|&i| vcov[(i, i)] != 0.0).collect();
    let m = free.len();
    let sub = DMatrix::from_fn(m, m, |a, b| vcov[(free[a], free[b])]);
    let l = nalgebra::Cholesky::new(sub)
        .ok_or_else(|| {
            Error::numerical(
                ErrorKind::NotPositiveDefinite,
                "vcov is not positive definite; cannot draw coefficients".into(),
            )
        })?
        .l();
    let mut z = vec![0.0; m];
    let mut out = Vec::with_capacity(n);
    for d in 0..n {
        let mut rng = stream(seed, COEFFICIENT_SALT, d);
        for v in z.iter_mut() {
            *v = StandardNormal.sample(&mut rng);
        }
        let mut b = beta.to_vec();
        for a in 0..m {
            let s: f64 = (0..=a).map(|c| l[(a, c)] * z[c]).sum();
            b[free[a]] += s;
        }
        out.push(b);
    }
    Ok(out)
}

/// Results of evaluating a closure on every draw.
#[derive(Debug, Clone, PartialEq)]
pub struct DrawResults<T> {
    /// One entry per draw, in draw order; `None` where the closure failed.
    pub results: Vec<Option<T>>,
    /// How many draws failed (e.g. a GE solve that did not converge).
    pub failures: usize,
}

/// Runs `f(index, draw)` for every draw in parallel on the current rayon
/// pool and collects results in draw order. `f` must itself be
/// deterministic; the outcome is then independent of the thread count.
pub fn run_draws<T, F>(draws: &[Vec<f64>], f: F) -> DrawResults<T>
where
    T: Send,
    F: Fn(usize, &[f64]) -> Result<T> + Sync,
{
    run_indexed(draws.len(), |k| f(k, &draws[k]))
}

/// Runs `f(index)` for every index in `0..n` in parallel on the current
/// rayon pool and collects results in index order: [`run_draws`] for draws
/// that are made inside `f` (such as a bootstrap's resampling from
/// per-draw seeds). `f` must itself be deterministic.
pub fn run_indexed<T, F>(n: usize, f: F) -> DrawResults<T>
where
    T: Send,
    F: Fn(usize) -> Result<T> + Sync,
{
    let results: Vec<Option<T>> = (0..n).into_par_iter().map(|k| f(k).ok()).collect();
    let failures = results.iter().filter(|r| r.is_none()).count();
    DrawResults { results, failures }
}

/// The `q`-quantile (`0 ≤ q ≤ 1`) of `values` by linear interpolation
/// between order statistics (Hyndman & Fan 1996 type 7, the default of R's
/// `quantile` and NumPy's `percentile`): with sorted `x` and
/// `h = (n − 1) q`, the result is `x[⌊h⌋] + (h − ⌊h⌋)(x[⌊h⌋+1] − x[⌊h⌋])`.
///
/// ```
/// use gravity_model::counterfactual::quantile;
/// assert_eq!(quantile(&[3.0, 1.0, 2.0, 4.0], 0.5)?, 2.5);
/// # Ok::<(), gravity_model::Error>(())
/// ```
///
/// # Errors
///
/// [`ErrorKind::InvalidOption`] for no values or `q` outside `[0, 1]`;
/// [`ErrorKind::NonFinite`] if a value is NaN or infinite.
pub fn quantile(values: &[f64], q: f64) -> Result<f64> {
    if values.is_empty() {
        return Err(Error::model(
            ErrorKind::InvalidOption,
            "cannot take a quantile of no values".into(),
        ));
    }
    if !(0.0..=1.0).contains(&q) {
        return Err(Error::model(
            ErrorKind::InvalidOption,
            format!("quantile must be in [0, 1], found {q}"),
        ));
    }
    if values.iter().any(|v| !v.is_finite()) {
        return Err(Error::numerical(
            ErrorKind::NonFinite,
            "cannot take a quantile of non-finite values".into(),
        ));
    }
    let mut x = values.to_vec();
    x.sort_by(f64::total_cmp);
    let h = (x.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(x.len() - 1);
    Ok(x[lo] + (h - lo as f64) * (x[hi] - x[lo]))
}

/// The 95% percentile interval `[q_0.025, q_0.975]` by [`quantile`].
///
/// # Errors
///
/// As [`quantile`].
pub fn percentile_interval(values: &[f64]) -> Result<Interval> {
    Ok(Interval {
        low: quantile(values, 0.025)?,
        high: quantile(values, 0.975)?,
    })
}
