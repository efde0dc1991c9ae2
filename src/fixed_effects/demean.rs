//! The weighted demeaning kernel: conjugate gradient on symmetric alternating
//! projections.
//!
//! Let `M_k` be the projection on dimension `k`'s dummies in the inner product
//! `⟨a, b⟩_W = Σ_i w_i a_i b_i` (it replaces every `x_i` by the weighted mean
//! of its level). Alternating projections (the method of fixest, reghdfe and
//! ppmlhdfe, after Guimarães & Portugal 2010 and Gaure 2013) iterate
//! `x ← (I − M_K) ⋯ (I − M_1) x`, which converges to `x̃ = Q x`, the residual
//! of `x` on all dummies — but slowly on unbalanced panels, where the
//! fixed-effect graph is poorly connected.
//!
//! We accelerate it with conjugate gradient. The symmetric sweep
//! `T = (I − M_1) ⋯ (I − M_K) ⋯ (I − M_1)` is self-adjoint and positive
//! semi-definite in `⟨·,·⟩_W` with `‖T‖ ≤ 1`, equals the identity on the range
//! of `Q` and is a contraction on `span(D)`. Hence the fixed-effect part
//! `u = P x = x − Q x` is the solution in `span(D)` of
//!
//! ```text
//!     (I − T) u = (I − T) x,
//! ```
//!
//! a symmetric positive-definite system on `span(D)`, which CG solves in
//! `O(√κ)` sweeps instead of the `O(κ)` of plain alternating projections
//! (Hernández-Ramos, Escalante & Raydan 2011, "Unconstrained and constrained
//! least squares problems as symmetric alternating projections"). A warm start
//! `u₀` (the previous IRLS iteration's fixed-effect part) keeps the iterates in
//! `span(D)` and cuts the work as IRLS converges.
//!
//! Each sweep streams the rows once per projection; the scatter of one
//! projection is fused with the gather of the next. Columns are independent and
//! are demeaned in parallel, each sequentially, so results do not depend on the
//! number of threads.

use super::FeDim;
use rayon::prelude::*;

/// Tolerance and iteration limit of one demeaning solve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DemeanParams {
    /// Stop when `‖r‖_W ≤ tol · ‖x‖_W`, with `r` the residual of the CG system.
    pub tol: f64,
    /// Maximum number of CG iterations (each one symmetric sweep).
    pub max_iter: usize,
}

impl Default for DemeanParams {
    fn default() -> Self {
        DemeanParams {
            tol: 1e-10,
            max_iter: 10_000,
        }
    }
}

/// What one demeaning solve did.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DemeanInfo {
    /// CG iterations (symmetric sweeps).
    pub iterations: usize,
    /// Final relative residual `‖r‖_W / ‖x‖_W`.
    pub residual: f64,
    /// True if the tolerance was reached.
    pub converged: bool,
}

/// Scratch space for demeaning one column; allocate once per fit and reuse.
#[derive(Debug, Clone, Default)]
pub struct ColumnWork {
    /// The fixed-effect part `u ≈ P x`: the warm start in, the solution out.
    pub u: Vec<f64>,
    r: Vec<f64>,
    p: Vec<f64>,
    t: Vec<f64>,
    sums: Vec<Vec<f64>>,
}

impl ColumnWork {
    /// Scratch for `n` rows and the given dimensions, with `u = 0`.
    pub fn new(n: usize, dims: &[FeDim]) -> Self {
        ColumnWork {
            u: vec![0.0; n],
            r: vec![0.0; n],
            p: vec![0.0; n],
            t: vec![0.0; n],
            sums: dims.iter().map(|d| vec![0.0; d.n_levels()]).collect(),
        }
    }

    /// Scratch for `p` columns.
    pub fn many(n: usize, dims: &[FeDim], p: usize) -> Vec<Self> {
        (0..p).map(|_| ColumnWork::new(n, dims)).collect()
    }
}

/// Weighted demeaning for fixed weights: the projections `M_k`, ready to apply.
#[derive(Debug)]
pub struct Demeaner<'a> {
    dims: &'a [FeDim],
    w: &'a [f64],
    /// `1 / Σ_{i ∈ g} w_i` for each level `g` of each dimension.
    inv_wsum: Vec<Vec<f64>>,
    /// The order of the symmetric sweep: 0, 1, …, K−1, K−2, …, 0.
    sweep: Vec<usize>,
}

impl<'a> Demeaner<'a> {
    /// Prepares the projections for weights `w` (one per observation, > 0).
    pub fn new(dims: &'a [FeDim], w: &'a [f64]) -> Self {
        let inv_wsum = dims
            .iter()
            .map(|d| {
                let mut s = vec![0.0; d.n_levels()];
                for (&g, &wi) in d.codes.iter().zip(w) {
                    s[g as usize] += wi;
                }
                s.iter()
                    .map(|&v| if v > 0.0 { 1.0 / v } else { 0.0 })
                    .collect()
            })
            .collect();
        let k = dims.len();
        let sweep = (0..k).chain((0..k.saturating_sub(1)).rev()).collect();
        Demeaner {
            dims,
            w,
            inv_wsum,
            sweep,
        }
    }

    /// Number of fixed-effect dimensions.
    pub fn n_dims(&self) -> usize {
        self.dims.len()
    }

    /// Loads `t ← p` and accumulates the weighted sums of the sweep's first
    /// dimension, in one pass.
    fn load(&self, p: &[f64], t: &mut [f64], sums: &mut [Vec<f64>]) {
        let first = self.sweep[0];
        let s = &mut sums[first];
        s.iter_mut().for_each(|x| *x = 0.0);
        let codes = &self.dims[first].codes;
        for i in 0..p.len() {
            let pi = p[i];
            t[i] = pi;
            s[codes[i] as usize] += self.w[i] * pi;
        }
    }

    /// With `t = p` loaded (see [`Demeaner::load`]), overwrites `t` with
    /// `A p = p − T p` and returns `⟨p, A p⟩_W`. `T` is the symmetric sweep of
    /// projections; each projection is one pass over the rows (its subtraction
    /// is fused with the weighted sums for the next dimension, and the last one
    /// with the product `A p`).
    fn apply_a(&self, p: &[f64], t: &mut [f64], sums: &mut [Vec<f64>]) -> f64 {
        let w = self.w;
        let last = self.sweep.len() - 1;
        for step in 0..last {
            let k = self.sweep[step];
            let next = self.sweep[step + 1];
            for (s, &inv) in sums[k].iter_mut().zip(&self.inv_wsum[k]) {
                *s *= inv;
            }
            // `k != next` always: consecutive entries of the sweep differ.
            let (means, acc) = two_mut(sums, k, next);
            acc.iter_mut().for_each(|x| *x = 0.0);
            let codes_k = &self.dims[k].codes;
            let codes_n = &self.dims[next].codes;
            for i in 0..t.len() {
                let ti = t[i] - means[codes_k[i] as usize];
                t[i] = ti;
                acc[codes_n[i] as usize] += w[i] * ti;
            }
        }
        let k = self.sweep[last];
        for (s, &inv) in sums[k].iter_mut().zip(&self.inv_wsum[k]) {
            *s *= inv;
        }
        let means = &sums[k];
        let codes_k = &self.dims[k].codes;
        let mut p_ap = 0.0;
        for i in 0..t.len() {
            // t holds T p after this subtraction; store A p = p − T p.
            let ap = p[i] - (t[i] - means[codes_k[i] as usize]);
            t[i] = ap;
            p_ap += w[i] * p[i] * ap;
        }
        p_ap
    }

    /// Demeans one column: on return `work.u` holds the fixed-effect part
    /// `P x` and `x_tilde` holds `x − P x`. `work.u` on entry is the warm start
    /// (zeros, or the previous solution for a similar column).
    ///
    /// Conjugate gradient on `A u = A x`, `A = I − T`, in the `W` inner
    /// product (the variables are named as in the textbook algorithm):
    /// `r = A(x − u)`, `p = r`; repeat `α = ⟨r,r⟩/⟨p,Ap⟩`, `u += αp`,
    /// `r −= αAp`, `p = r + (⟨r,r⟩_new/⟨r,r⟩) p`.
    pub fn demean(
        &self,
        x: &[f64],
        x_tilde: &mut [f64],
        work: &mut ColumnWork,
        params: &DemeanParams,
    ) -> DemeanInfo {
        let n = x.len();
        if self.dims.is_empty() {
            x_tilde.copy_from_slice(x);
            work.u.iter_mut().for_each(|v| *v = 0.0);
            return DemeanInfo {
                iterations: 0,
                residual: 0.0,
                converged: true,
            };
        }
        let ColumnWork { u, r, p, t, sums } = work;
        let w = self.w;
        let mut xx = 0.0;
        for i in 0..n {
            xx += w[i] * x[i] * x[i];
            // r temporarily holds x − u.
            r[i] = x[i] - u[i];
        }
        if xx == 0.0 {
            u.iter_mut().for_each(|v| *v = 0.0);
            x_tilde.iter_mut().for_each(|v| *v = 0.0);
            return DemeanInfo {
                iterations: 0,
                residual: 0.0,
                converged: true,
            };
        }
        // r = A (x − u); then p = r, loaded for the first sweep.
        self.load(r, t, sums);
        self.apply_a(r, t, sums);
        let mut rr = 0.0;
        for i in 0..n {
            r[i] = t[i];
            rr += w[i] * t[i] * t[i];
        }
        self.load(r, p, sums);
        t.copy_from_slice(p);
        let target = params.tol * params.tol * xx;
        let mut iterations = 0;
        let mut converged = rr <= target;
        while !converged && iterations < params.max_iter {
            iterations += 1;
            // t = A p (t was loaded with p and the first sums accumulated).
            let p_ap = self.apply_a(p, t, sums);
            if p_ap <= 0.0 {
                // The residual has no component left in span(D): done.
                converged = true;
                break;
            }
            let alpha = rr / p_ap;
            let mut rr_new = 0.0;
            for i in 0..n {
                u[i] += alpha * p[i];
                let ri = r[i] - alpha * t[i];
                r[i] = ri;
                rr_new += w[i] * ri * ri;
            }
            let beta = rr_new / rr;
            rr = rr_new;
            converged = rr <= target;
            if !converged {
                // p = r + βp, loaded into t with the first sums, in one pass.
                let first = self.sweep[0];
                let s = &mut sums[first];
                s.iter_mut().for_each(|x| *x = 0.0);
                let codes = &self.dims[first].codes;
                for i in 0..n {
                    let pi = r[i] + beta * p[i];
                    p[i] = pi;
                    t[i] = pi;
                    s[codes[i] as usize] += w[i] * pi;
                }
            }
        }
        for i in 0..n {
            x_tilde[i] = x[i] - u[i];
        }
        DemeanInfo {
            iterations,
            residual: (rr / xx).sqrt(),
            converged,
        }
    }

    /// Demeans several columns in parallel (one task per column, each
    /// sequential, so the result does not depend on the number of threads).
    /// `x` and `x_tilde` are column-major with `n` rows.
    pub fn demean_columns(
        &self,
        x: &[f64],
        x_tilde: &mut [f64],
        work: &mut [ColumnWork],
        params: &DemeanParams,
    ) -> Vec<DemeanInfo> {
        let n = self.w.len();
        if n == 0 {
            return vec![DemeanInfo::default(); work.len()];
        }
        x.par_chunks(n)
            .zip(x_tilde.par_chunks_mut(n))
            .zip(work.par_iter_mut())
            .map(|((xc, xt), wk)| self.demean(xc, xt, wk, params))
            .collect()
    }
}

/// Two distinct mutable elements of a slice.
fn two_mut<T>(v: &mut [T], a: usize, b: usize) -> (&T, &mut T) {
    debug_assert_ne!(a, b);
    if a < b {
        let (lo, hi) = v.split_at_mut(b);
        (&lo[a], &mut hi[0])
    } else {
        let (lo, hi) = v.split_at_mut(a);
        (&hi[0], &mut lo[b])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dim(name: &str, codes: Vec<u32>) -> FeDim {
        let n = codes.iter().max().map_or(0, |m| *m as usize + 1);
        FeDim {
            name: name.into(),
            codes,
            levels: (0..n).map(|i| i.to_string()).collect(),
        }
    }

    #[test]
    fn one_dimension_is_group_mean_removal() {
        let d = vec![dim("a", vec![0, 0, 1, 1, 1])];
        let w = vec![1.0, 3.0, 1.0, 1.0, 2.0];
        let x = vec![1.0, 2.0, 3.0, 4.0, 5.0];
        let dm = Demeaner::new(&d, &w);
        let mut xt = vec![0.0; 5];
        let mut wk = ColumnWork::new(5, &d);
        let info = dm.demean(&x, &mut xt, &mut wk, &DemeanParams::default());
        assert!(info.converged);
        let m0 = (1.0 + 6.0) / 4.0;
        let m1 = (3.0 + 4.0 + 10.0) / 4.0;
        let expect = [1.0 - m0, 2.0 - m0, 3.0 - m1, 4.0 - m1, 5.0 - m1];
        for (a, b) in xt.iter().zip(expect) {
            assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        }
    }

    #[test]
    fn two_way_residual_is_orthogonal_to_every_dummy() {
        // An unbalanced two-way layout.
        let a: Vec<u32> = vec![0, 0, 0, 1, 1, 2, 2, 2, 3, 3, 4, 4];
        let b: Vec<u32> = vec![0, 1, 2, 0, 3, 1, 2, 3, 0, 4, 4, 2];
        let d = vec![dim("a", a.clone()), dim("b", b.clone())];
        let w: Vec<f64> = (0..12).map(|i| 0.5 + (i % 5) as f64).collect();
        let x: Vec<f64> = (0..12).map(|i| ((i * 7) % 11) as f64 - 3.0).collect();
        let dm = Demeaner::new(&d, &w);
        let mut xt = vec![0.0; 12];
        let mut wk = ColumnWork::new(12, &d);
        let info = dm.demean(
            &x,
            &mut xt,
            &mut wk,
            &DemeanParams {
                tol: 1e-14,
                max_iter: 1000,
            },
        );
        assert!(info.converged, "{info:?}");
        for (codes, nl) in [(&a, 5), (&b, 5)] {
            for g in 0..nl {
                let s: f64 = (0..12)
                    .filter(|&i| codes[i] == g as u32)
                    .map(|i| w[i] * xt[i])
                    .sum();
                assert!(s.abs() < 1e-10, "level {g}: {s}");
            }
        }
    }
}
