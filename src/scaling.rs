//! ESTIMATE: the units of the data taken out before estimation and put back
//! after, so that results do not depend on them.
//!
//! PPML is invariant to the units of the outcome (`y × c` moves only the
//! constant, by `log c`) and least squares to those of each regressor
//! (`x × c` gives `β / c`); a constant added to a regressor is absorbed by
//! any fixed effect. The iterations need not be: a convergence rule with an
//! absolute floor stops early when `y` is tiny, a demeaning tolerance
//! relative to `‖x‖` is loose in absolute terms when `x` has a large mean,
//! and a collinearity rule relative to the uncentred `‖x‖²` mistakes a large
//! mean for collinearity. As ppmlhdfe does (Correia, Guimarães & Zylkin
//! 2020, section 3), the estimators therefore work on
//!
//! ```text
//!     y / ȳ                         (PPML: the weighted mean; undone on μ)
//!     (x_j − m_j) / s_j             (m_j: weighted mean, when a fixed effect
//!                                    absorbs it; s_j: a power of two near the
//!                                    root mean square, so undoing it is exact)
//! ```
//!
//! and map the results back: `β_j = β̃_j / s_j`, `X̃_j = s_j X̃̃_j`.

use rayon::prelude::*;

/// Rows per task of the reductions (fixed: sums do not depend on threads).
const CHUNK: usize = 1 << 14;

/// `(Σ w_i a_i, Σ w_i)` in fixed chunks (`w_i = 1` without weights).
pub(crate) fn weighted_sum(a: &[f64], w: Option<&[f64]>) -> (f64, f64) {
    let parts: Vec<(f64, f64)> = (0..a.len().div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let range = c * CHUNK..((c + 1) * CHUNK).min(a.len());
            match w {
                Some(w) => range.fold((0.0, 0.0), |(s, t), i| (s + w[i] * a[i], t + w[i])),
                None => {
                    let len = range.len() as f64;
                    (range.map(|i| a[i]).sum::<f64>(), len)
                }
            }
        })
        .collect();
    parts
        .iter()
        .fold((0.0, 0.0), |(s, t), (a, b)| (s + a, t + b))
}

/// `(Σ w_i a_i², Σ w_i)` in fixed chunks, without a copy of the squares.
fn weighted_sum_of_squares(a: &[f64], w: Option<&[f64]>) -> (f64, f64) {
    let parts: Vec<(f64, f64)> = (0..a.len().div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let range = c * CHUNK..((c + 1) * CHUNK).min(a.len());
            range.fold((0.0, 0.0), |(s, t), i| {
                let wi = w.map_or(1.0, |w| w[i]);
                (s + wi * a[i] * a[i], t + wi)
            })
        })
        .collect();
    parts
        .iter()
        .fold((0.0, 0.0), |(s, t), (a, b)| (s + a, t + b))
}

/// The weighted mean of `a` (0 for an empty or zero-weight column).
pub(crate) fn weighted_mean(a: &[f64], w: Option<&[f64]>) -> f64 {
    let (s, t) = weighted_sum(a, w);
    if t > 0.0 {
        s / t
    } else {
        0.0
    }
}

/// `Σ w_i (a_i − m)²` with `m` the weighted mean: the sum of squares a
/// regressor has to lose to the fixed effects (or the intercept) before it
/// counts as collinear with them.
pub(crate) fn centred_sum_of_squares(a: &[f64], w: Option<&[f64]>) -> f64 {
    let m = weighted_mean(a, w);
    let parts: Vec<f64> = (0..a.len().div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let range = c * CHUNK..((c + 1) * CHUNK).min(a.len());
            range
                .map(|i| {
                    let d = a[i] - m;
                    w.map_or(1.0, |w| w[i]) * d * d
                })
                .sum::<f64>()
        })
        .collect();
    parts.iter().sum()
}

/// What a regressor must keep of itself, after the fixed effects and the
/// earlier regressors, not to count as collinear: its centred sum of squares
/// when the model has a constant (`centred`), else its sum of squares.
pub(crate) fn collinearity_reference(x: &[f64], w: &[f64], centred: bool) -> f64 {
    if centred {
        centred_sum_of_squares(x, Some(w))
    } else {
        crate::linalg::wdot(x, x, Some(w))
    }
}

/// The power of two nearest to `v` (1 for zero, non-finite or extreme `v`):
/// dividing by it and multiplying back is exact.
pub(crate) fn power_of_two_near(v: f64) -> f64 {
    if !(v.is_finite() && v > 0.0) {
        return 1.0;
    }
    let e = v.log2().round();
    if e.abs() > 1000.0 {
        return 1.0;
    }
    2f64.powi(e as i32)
}

/// The column of the intercept in the design, if it has one.
pub(crate) fn intercept_column(d: &crate::design::Design) -> Option<usize> {
    d.x_names.iter().position(|n| n == crate::design::INTERCEPT)
}

/// How each regressor was centred and scaled.
#[derive(Debug, Clone)]
pub(crate) struct RegressorScaling {
    /// Subtracted first (0 where not centred).
    pub centre: Vec<f64>,
    /// Then divided by (a power of two).
    pub scale: Vec<f64>,
    /// The intercept's column when the model has one and the others were
    /// centred (no fixed effects): the centres then move into its estimate.
    pub intercept: Option<usize>,
}

impl RegressorScaling {
    /// Scales the `p` columns of the column-major `x` in place, with prior
    /// weights `w`, after centring them when the model has a constant:
    /// `fixed_effects` (they absorb the means) or an `intercept` column (left
    /// as it is; the means move into its coefficient).
    pub(crate) fn apply(
        x: &mut [f64],
        n: usize,
        w: Option<&[f64]>,
        fixed_effects: bool,
        intercept: Option<usize>,
    ) -> Self {
        let p = x.len().checked_div(n).unwrap_or(0);
        let intercept = if fixed_effects { None } else { intercept };
        let centre = fixed_effects || intercept.is_some();
        let mut centres = vec![0.0; p];
        let mut scales = vec![1.0; p];
        for j in 0..p {
            if Some(j) == intercept {
                continue;
            }
            let col = &mut x[j * n..(j + 1) * n];
            let rms = |col: &[f64]| {
                let (ss, sw) = weighted_sum_of_squares(col, w);
                if sw > 0.0 {
                    (ss / sw).sqrt()
                } else {
                    0.0
                }
            };
            let m = if centre { weighted_mean(col, w) } else { 0.0 };
            let before = if m != 0.0 { rms(col) } else { 0.0 };
            if m != 0.0 {
                col.par_iter_mut().for_each(|v| *v -= m);
            }
            let spread = rms(col);
            if m != 0.0 && spread <= 1e-13 * before {
                // Constant to within rounding (a spread of a few hundred units
                // in the last place): what is left is rounding noise, which
                // scaling would blow up into a regressor. It is the constant,
                // collinear with the fixed effects or the intercept: zero.
                col.iter_mut().for_each(|v| *v = 0.0);
                centres[j] = m;
                continue;
            }
            let s = power_of_two_near(spread);
            if s != 1.0 {
                col.par_iter_mut().for_each(|v| *v /= s);
            }
            centres[j] = m;
            scales[j] = s;
        }
        RegressorScaling {
            centre: centres,
            scale: scales,
            intercept,
        }
    }

    /// Undoes [`Self::apply`] on `x` (scaling exactly; the centre is added
    /// back, to within a rounding of it).
    pub(crate) fn undo(&self, x: &mut [f64], n: usize) {
        for (j, col) in x.chunks_mut(n.max(1)).enumerate().take(self.scale.len()) {
            let (m, s) = (self.centre[j], self.scale[j]);
            col.par_iter_mut().for_each(|v| *v = *v * s + m);
        }
    }

    /// Keeps the entries of the columns in `keep` (after collinear columns
    /// are dropped).
    pub(crate) fn select(&mut self, keep: &[usize]) {
        self.centre = keep.iter().map(|&j| self.centre[j]).collect();
        self.scale = keep.iter().map(|&j| self.scale[j]).collect();
        self.intercept = self
            .intercept
            .and_then(|i| keep.iter().position(|&j| j == i));
        if self.intercept.is_none() {
            // The intercept went (collinear): nothing to move the means into.
            // Only reachable without fixed effects, where the centring then
            // changed the model; `collinear_columns` keeps the first column of
            // a collinear set, and the intercept comes first.
            self.centre.iter_mut().for_each(|m| *m = 0.0);
        }
    }

    /// `β` on the data's scale from `β` on the scaled regressors: each slope
    /// divided by its scale, and the intercept less `Σ m_j β_j`.
    pub(crate) fn beta(&self, beta_scaled: &[f64]) -> Vec<f64> {
        let mut beta: Vec<f64> = beta_scaled
            .iter()
            .zip(&self.scale)
            .map(|(b, s)| b / s)
            .collect();
        if let Some(i) = self.intercept {
            let shift: f64 = beta
                .iter()
                .zip(&self.centre)
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, (b, m))| b * m)
                .sum();
            beta[i] -= shift;
        }
        beta
    }

    /// The reparametrisation inference needs when the intercept absorbed the
    /// centres: `(intercept column, centres)`, with `β = A β_c`,
    /// `A = I − e_intercept m'`.
    pub(crate) fn reparametrisation(&self) -> Option<(usize, Vec<f64>)> {
        self.intercept.map(|i| (i, self.centre.clone()))
    }

    /// The demeaned regressors on the data's scale (multiplied back).
    pub(crate) fn x_tilde(&self, x_tilde: &mut [f64], n: usize) {
        for (j, col) in x_tilde
            .chunks_mut(n.max(1))
            .enumerate()
            .take(self.scale.len())
        {
            let s = self.scale[j];
            if s != 1.0 {
                col.par_iter_mut().for_each(|v| *v *= s);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaling_is_undone_exactly_and_centres_are_weighted_means() {
        let n = 4;
        let orig = vec![
            1.0e6 + 1.0,
            1.0e6 - 1.0,
            1.0e6 + 3.0,
            1.0e6 - 3.0,
            0.5,
            0.25,
            1.0,
            2.0,
        ];
        let w = [1.0, 1.0, 2.0, 0.0];
        let mut x = orig.clone();
        let s = RegressorScaling::apply(&mut x, n, Some(&w), true, None);
        // Weighted mean of the first column: (1e6+1 + 1e6-1 + 2(1e6+3)) / 4.
        assert_eq!(s.centre[0], 1.0e6 + 1.5);
        assert!(s.scale.iter().all(|v| v.log2().fract() == 0.0));
        let (mean0, _) = weighted_sum(&x[..n], Some(&w));
        assert!(mean0.abs() < 1e-12);
        s.undo(&mut x, n);
        for (a, b) in x.iter().zip(&orig) {
            assert!((a - b).abs() <= 1e-9 * b.abs(), "{a} vs {b}");
        }
        let mut y = orig.clone();
        let s = RegressorScaling::apply(&mut y, n, None, false, None);
        s.undo(&mut y, n);
        assert_eq!(y, orig);
    }

    #[test]
    fn centred_sum_of_squares_ignores_the_mean() {
        let a = [1.0e6 + 1.0, 1.0e6 - 1.0];
        assert_eq!(centred_sum_of_squares(&a, None), 2.0);
        assert_eq!(power_of_two_near(3.0), 4.0);
        assert_eq!(power_of_two_near(0.0), 1.0);
        assert_eq!(power_of_two_near(f64::NAN), 1.0);
    }
}
