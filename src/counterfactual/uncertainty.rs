//! Monte Carlo uncertainty: coefficient draws, parallel evaluation and
//! percentile intervals, identical on any number of threads.

use crate::error::{Error, ErrorKind, Result};
use nalgebra::DMatrix;
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;

/// Draws `n` coefficient vectors from `N(beta, vcov)`: `beta + L z` with
/// `L Lᵀ = vcov` (Cholesky) and `z` standard normal from a `StdRng` seeded
/// with `seed`. Draws are generated sequentially, so the result depends
/// only on the inputs and the seed.
///
/// A positive semi-definite `vcov` with exact zeros on the diagonal (a
/// coefficient held fixed) is handled by drawing only the free block.
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
    let mut rng = StdRng::seed_from_u64(seed);
    let mut z = vec![0.0; m];
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
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
    let results: Vec<Option<T>> = draws
        .par_iter()
        .enumerate()
        .map(|(k, d)| f(k, d).ok())
        .collect();
    let failures = results.iter().filter(|r| r.is_none()).count();
    DrawResults { results, failures }
}

/// The `q`-quantile (`0 ≤ q ≤ 1`) of `values` by linear interpolation
/// between order statistics (Hyndman & Fan 1996 type 7, the default of R's
/// `quantile` and NumPy's `percentile`): with sorted `x` and
/// `h = (n − 1) q`, the result is `x[⌊h⌋] + (h − ⌊h⌋)(x[⌊h⌋+1] − x[⌊h⌋])`.
/// Non-finite values are an error.
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

/// The 95% percentile interval `(q_0.025, q_0.975)` by [`quantile`].
pub fn percentile_interval(values: &[f64]) -> Result<(f64, f64)> {
    Ok((quantile(values, 0.025)?, quantile(values, 0.975)?))
}
