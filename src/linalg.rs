//! ESTIMATE: the small `p × p` algebra on nalgebra, and the two `n`-length
//! reductions that feed it (`X̃'WX̃`, `X̃'Wz̃`).

use crate::error::{Error, ErrorKind, Result};
use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;

/// Number of rows per block in the parallel reductions. Fixed, so the
/// floating-point summation order — and the result — does not depend on the
/// number of threads.
const BLOCK: usize = 1 << 14;

/// `Σ_i w_i a_i b_i`, summed in fixed blocks (deterministic on any thread count).
pub(crate) fn wdot(a: &[f64], b: &[f64], w: Option<&[f64]>) -> f64 {
    let partial: Vec<f64> = match w {
        Some(w) => a
            .par_chunks(BLOCK)
            .zip(b.par_chunks(BLOCK))
            .zip(w.par_chunks(BLOCK))
            .map(|((a, b), w)| {
                a.iter()
                    .zip(b)
                    .zip(w)
                    .map(|((x, y), w)| w * x * y)
                    .sum::<f64>()
            })
            .collect(),
        None => a
            .par_chunks(BLOCK)
            .zip(b.par_chunks(BLOCK))
            .map(|(a, b)| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>())
            .collect(),
    };
    partial.iter().sum()
}

/// `X'WX` for a column-major `n × p` matrix, in one pass over the rows.
pub(crate) fn xtwx(x: &[f64], n: usize, w: Option<&[f64]>) -> DMatrix<f64> {
    cross_products(x, n, w, None).0
}

/// `X'Wv`.
pub(crate) fn xtwv(x: &[f64], n: usize, w: Option<&[f64]>, v: &[f64]) -> DVector<f64> {
    let p = x.len().checked_div(n).unwrap_or(0);
    DVector::from_iterator(p, (0..p).map(|j| wdot(&x[j * n..(j + 1) * n], v, w)))
}

/// `X'WX` and `X'Wv` (zero-length without `v`) for a column-major `n × p`
/// matrix, in one pass over the rows: every column is read once, where
/// separate inner products would read each `p + 1` times. Summed in the
/// fixed blocks of [`wdot`], in the same order, so the entries are those of
/// [`wdot`] exactly.
pub(crate) fn cross_products(
    x: &[f64],
    n: usize,
    w: Option<&[f64]>,
    v: Option<&[f64]>,
) -> (DMatrix<f64>, DVector<f64>) {
    let p = x.len().checked_div(n).unwrap_or(0);
    let cols: Vec<&[f64]> = (0..p).map(|j| &x[j * n..(j + 1) * n]).collect();
    let q = usize::from(v.is_some());
    // Per block: the lower triangle of X'WX row by row, then X'Wv.
    let tri = p * (p + 1) / 2;
    let parts: Vec<Vec<f64>> = (0..n.div_ceil(BLOCK))
        .into_par_iter()
        .map(|t| {
            let mut s = vec![0.0; tri + q * p];
            for i in t * BLOCK..((t + 1) * BLOCK).min(n) {
                let wi = w.map_or(1.0, |w| w[i]);
                let mut at = 0;
                for j in 0..p {
                    let wx = wi * cols[j][i];
                    for col in &cols[..=j] {
                        s[at] += wx * col[i];
                        at += 1;
                    }
                    if let Some(v) = v {
                        s[tri + j] += wx * v[i];
                    }
                }
            }
            s
        })
        .collect();
    let mut total = vec![0.0; tri + q * p];
    for part in &parts {
        for (t, s) in total.iter_mut().zip(part) {
            *t += s;
        }
    }
    let mut m = DMatrix::zeros(p, p);
    let mut at = 0;
    for j in 0..p {
        for k in 0..=j {
            m[(j, k)] = total[at];
            m[(k, j)] = total[at];
            at += 1;
        }
    }
    (
        m,
        DVector::from_iterator(q * p, total[tri..].iter().copied()),
    )
}

/// Indices of columns that are collinear with earlier columns (or with the
/// fixed effects), by a Cholesky factorisation in column order that skips a
/// column whose pivot falls below `tol` times its sum of squares before
/// demeaning (`raw_diag`). The first of a collinear set is kept, as fixest does.
pub(crate) fn collinear_columns(a: &DMatrix<f64>, raw_diag: &[f64], tol: f64) -> Vec<usize> {
    let p = a.nrows();
    let mut l = DMatrix::<f64>::zeros(p, p);
    let mut kept: Vec<usize> = Vec::new();
    let mut dropped = Vec::new();
    for j in 0..p {
        let mut d = a[(j, j)];
        for &k in &kept {
            d -= l[(j, k)] * l[(j, k)];
        }
        let scale = raw_diag[j].abs().max(f64::MIN_POSITIVE);
        if d.is_nan() || d <= tol * scale {
            dropped.push(j);
            continue;
        }
        let djj = d.sqrt();
        l[(j, j)] = djj;
        for i in (j + 1)..p {
            let mut s = a[(i, j)];
            for &k in &kept {
                s -= l[(i, k)] * l[(j, k)];
            }
            l[(i, j)] = s / djj;
        }
        kept.push(j);
    }
    dropped
}

/// Solves `A x = b` for symmetric positive-definite `A` (Cholesky).
pub(crate) fn solve_spd(a: &DMatrix<f64>, b: &DVector<f64>) -> Result<DVector<f64>> {
    let chol = a.clone().cholesky().ok_or_else(|| {
        Error::numerical(
            ErrorKind::NotPositiveDefinite,
            "the cross-product matrix X'WX is not positive definite".into(),
        )
    })?;
    Ok(chol.solve(b))
}

/// Inverse of a symmetric positive-definite matrix (Cholesky).
pub(crate) fn inv_spd(a: &DMatrix<f64>) -> Result<DMatrix<f64>> {
    let chol = a.clone().cholesky().ok_or_else(|| {
        Error::numerical(
            ErrorKind::NotPositiveDefinite,
            "the cross-product matrix X'WX is not positive definite".into(),
        )
    })?;
    Ok(chol.inverse())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cross_products_in_one_pass_equal_the_inner_products() {
        // Three blocks and a bit, so the block sums are exercised.
        let n = 3 * BLOCK + 17;
        let p = 3;
        let x: Vec<f64> = (0..n * p)
            .map(|k| ((k * 37) % 101) as f64 / 7.0 - 5.0)
            .collect();
        let v: Vec<f64> = (0..n).map(|i| ((i * 13) % 29) as f64 - 9.5).collect();
        let w: Vec<f64> = (0..n).map(|i| 0.5 + ((i * 7) % 11) as f64).collect();
        for weights in [Some(&w[..]), None] {
            let (m, xv) = cross_products(&x, n, weights, Some(&v));
            for j in 0..p {
                let xj = &x[j * n..(j + 1) * n];
                assert_eq!(xv[j], wdot(xj, &v, weights));
                for k in 0..=j {
                    let xk = &x[k * n..(k + 1) * n];
                    assert_eq!(m[(j, k)], wdot(xj, xk, weights));
                    assert_eq!(m[(k, j)], m[(j, k)]);
                }
            }
            assert_eq!(cross_products(&x, n, weights, None).1.len(), 0);
        }
    }

    #[test]
    fn finds_an_exact_linear_combination() {
        let n = 6;
        let x1 = [1.0, 2.0, 3.0, 4.0, 5.0, 7.0];
        let x2 = [0.0, 1.0, 0.0, 1.0, 1.0, 0.0];
        let x3: Vec<f64> = x1.iter().zip(&x2).map(|(a, b)| 2.0 * a - b).collect();
        let mut x = x1.to_vec();
        x.extend_from_slice(&x2);
        x.extend_from_slice(&x3);
        let a = xtwx(&x, n, None);
        let raw: Vec<f64> = (0..3).map(|j| a[(j, j)]).collect();
        assert_eq!(collinear_columns(&a, &raw, 1e-9), vec![2]);
    }
}
