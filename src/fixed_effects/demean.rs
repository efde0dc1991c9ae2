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
//! projection is fused with the gather of the next. The sweep is bound by
//! memory bandwidth, so the columns of one IRLS step (the working outcome and
//! the regressors) share their passes: a joint sweep reads the codes and the
//! weights once for up to four columns, each keeping its own CG scalars and
//! its own arithmetic, and the groups of columns run in parallel. Every column
//! is computed exactly as on its own, so results do not depend on the grouping
//! or on the number of threads.

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

    /// Demeans one column: on return `work.u` holds the fixed-effect part
    /// `P x` and `x_tilde` holds `x − P x`. `work.u` on entry is the warm start
    /// (zeros, or the previous solution for a similar column).
    ///
    /// Conjugate gradient on `A u = A x`, `A = I − T`, in the `W` inner
    /// product (the variables are named as in the textbook algorithm):
    /// `r = A(x − u)`, `p = r`; repeat `α = ⟨r,r⟩/⟨p,Ap⟩`, `u += αp`,
    /// `r −= αAp`, `p = r + (⟨r,r⟩_new/⟨r,r⟩) p`. The same solve as one
    /// column of [`Demeaner::demean_jobs`].
    pub fn demean(
        &self,
        x: &[f64],
        x_tilde: &mut [f64],
        work: &mut ColumnWork,
        params: &DemeanParams,
    ) -> DemeanInfo {
        let mut job = [ColumnJob { x, x_tilde, work }];
        self.demean_block(&mut job, params)[0]
    }

    /// Demeans several columns (see [`Demeaner::demean_jobs`]; the result
    /// does not depend on the number of threads). `x` and `x_tilde` are
    /// column-major with `n` rows.
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
        let mut jobs: Vec<ColumnJob<'_>> = x
            .chunks(n)
            .zip(x_tilde.chunks_mut(n))
            .zip(work.iter_mut())
            .map(|((x, x_tilde), work)| ColumnJob { x, x_tilde, work })
            .collect();
        self.demean_jobs(&mut jobs, params)
    }

    /// Demeans an outcome `y` and the regressors `x` (column-major) together:
    /// returns the outcome's report and the regressors'.
    #[allow(clippy::too_many_arguments)]
    pub fn demean_outcome_and_columns(
        &self,
        y: &[f64],
        y_tilde: &mut [f64],
        y_work: &mut ColumnWork,
        x: &[f64],
        x_tilde: &mut [f64],
        x_work: &mut [ColumnWork],
        params: &DemeanParams,
    ) -> (DemeanInfo, Vec<DemeanInfo>) {
        let n = self.w.len();
        let mut jobs = vec![ColumnJob {
            x: y,
            x_tilde: y_tilde,
            work: y_work,
        }];
        if n > 0 {
            jobs.extend(
                x.chunks(n)
                    .zip(x_tilde.chunks_mut(n))
                    .zip(x_work.iter_mut())
                    .map(|((x, x_tilde), work)| ColumnJob { x, x_tilde, work }),
            );
        }
        let mut infos = self.demean_jobs(&mut jobs, params);
        let first = infos.remove(0);
        (first, infos)
    }
}

/// One column of a joint demeaning solve: its values, its output and its
/// scratch (whose `u` is the warm start).
pub struct ColumnJob<'a> {
    /// The column `x`.
    pub x: &'a [f64],
    /// Receives `x − P x`.
    pub x_tilde: &'a mut [f64],
    /// Scratch and warm start.
    pub work: &'a mut ColumnWork,
}

/// Conjugate-gradient state of one column in a joint solve.
struct CgState {
    xx: f64,
    rr: f64,
    target: f64,
    info: DemeanInfo,
    done: bool,
}

impl Demeaner<'_> {
    /// Demeans several columns at once. Every column follows exactly the
    /// arithmetic of [`Demeaner::demean`] (the results are bit-for-bit the
    /// same), but the columns of a group share each pass over the rows: the
    /// sweep of a projection reads the level codes and the weights once for
    /// all of them, which is where the sweep spends its memory bandwidth.
    /// The columns are split into as many groups as there are threads, the
    /// groups run in parallel; grouping changes the speed, never the result.
    pub fn demean_jobs(
        &self,
        jobs: &mut [ColumnJob<'_>],
        params: &DemeanParams,
    ) -> Vec<DemeanInfo> {
        if jobs.is_empty() {
            return Vec::new();
        }
        let groups = rayon::current_num_threads().clamp(1, jobs.len());
        let size = jobs.len().div_ceil(groups);
        let mut infos = vec![DemeanInfo::default(); jobs.len()];
        jobs.par_chunks_mut(size)
            .zip(infos.par_chunks_mut(size))
            .for_each(|(group, out)| {
                for chunk in (0..group.len()).step_by(MAX_BLOCK) {
                    let end = (chunk + MAX_BLOCK).min(group.len());
                    let res = self.demean_block(&mut group[chunk..end], params);
                    out[chunk..end].copy_from_slice(&res);
                }
            });
        infos
    }

    /// Conjugate gradient for up to [`MAX_BLOCK`] columns, each with its own
    /// scalars, sharing the sweeps (see [`Demeaner::demean`] for the method).
    fn demean_block(&self, jobs: &mut [ColumnJob<'_>], params: &DemeanParams) -> Vec<DemeanInfo> {
        if self.dims.is_empty() {
            // Nothing to project on: x̃ = x, u = 0.
            return jobs
                .iter_mut()
                .map(|j| {
                    j.x_tilde.copy_from_slice(j.x);
                    j.work.u.iter_mut().for_each(|v| *v = 0.0);
                    DemeanInfo {
                        iterations: 0,
                        residual: 0.0,
                        converged: true,
                    }
                })
                .collect();
        }
        let w = self.w;
        let n = w.len();
        let mut state: Vec<CgState> = jobs
            .iter_mut()
            .map(|j| {
                let ColumnWork { u, r, .. } = &mut *j.work;
                let mut xx = 0.0;
                for i in 0..n {
                    xx += w[i] * j.x[i] * j.x[i];
                    r[i] = j.x[i] - u[i];
                }
                CgState {
                    xx,
                    rr: 0.0,
                    target: params.tol * params.tol * xx,
                    info: DemeanInfo {
                        iterations: 0,
                        residual: 0.0,
                        converged: true,
                    },
                    done: xx == 0.0,
                }
            })
            .collect();
        for (j, st) in jobs.iter_mut().zip(&state) {
            if st.done {
                j.work.u.iter_mut().for_each(|v| *v = 0.0);
                j.x_tilde.iter_mut().for_each(|v| *v = 0.0);
            }
        }
        // r = A (x − u) for every live column, in one joint sweep.
        {
            let mut srcs = Vec::new();
            let mut ts = Vec::new();
            let mut sums = Vec::new();
            for (j, st) in jobs.iter_mut().zip(&state) {
                if st.done {
                    continue;
                }
                let ColumnWork { r, t, sums: s, .. } = &mut *j.work;
                self.load(r, t, s);
                srcs.push(&r[..]);
                ts.push(&mut t[..]);
                sums.push(s);
            }
            self.apply_a_many(srcs, ts, sums);
        }
        for (j, st) in jobs.iter_mut().zip(state.iter_mut()) {
            if st.done {
                continue;
            }
            let ColumnWork { r, p, t, sums, .. } = &mut *j.work;
            let mut rr = 0.0;
            for i in 0..n {
                r[i] = t[i];
                rr += w[i] * t[i] * t[i];
            }
            self.load(r, p, sums);
            t.copy_from_slice(p);
            st.rr = rr;
            st.info.converged = rr <= st.target;
            st.info.residual = (rr / st.xx).sqrt();
            if st.info.converged {
                st.done = true;
                finish(j.x, j.x_tilde, &j.work.u);
            }
        }
        loop {
            let live: Vec<usize> = (0..jobs.len())
                .filter(|&c| !state[c].done && state[c].info.iterations < params.max_iter)
                .collect();
            if live.is_empty() {
                break;
            }
            // t = A p for every live column, in one joint sweep.
            let p_ap = {
                let mut srcs = Vec::new();
                let mut ts = Vec::new();
                let mut sums = Vec::new();
                for (c, j) in jobs.iter_mut().enumerate() {
                    if !live.contains(&c) {
                        continue;
                    }
                    let ColumnWork { p, t, sums: s, .. } = &mut *j.work;
                    srcs.push(&p[..]);
                    ts.push(&mut t[..]);
                    sums.push(s);
                }
                self.apply_a_many(srcs, ts, sums)
            };
            for (&c, &pap) in live.iter().zip(&p_ap) {
                let st = &mut state[c];
                let j = &mut jobs[c];
                st.info.iterations += 1;
                if pap <= 0.0 {
                    // The residual has no component left in span(D): done.
                    st.info.converged = true;
                } else {
                    let ColumnWork { u, r, p, t, sums } = &mut *j.work;
                    let alpha = st.rr / pap;
                    let mut rr_new = 0.0;
                    for i in 0..n {
                        u[i] += alpha * p[i];
                        let ri = r[i] - alpha * t[i];
                        r[i] = ri;
                        rr_new += w[i] * ri * ri;
                    }
                    let beta = rr_new / st.rr;
                    st.rr = rr_new;
                    st.info.converged = rr_new <= st.target;
                    if !st.info.converged {
                        // p = r + βp, loaded into t with the first sums.
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
                st.info.residual = (st.rr / st.xx).sqrt();
                if st.info.converged || st.info.iterations >= params.max_iter {
                    st.done = true;
                    finish(j.x, j.x_tilde, &j.work.u);
                }
            }
        }
        state.into_iter().map(|s| s.info).collect()
    }

    /// `A p = p − T p` for several columns at once, `T` the symmetric sweep
    /// of projections; each `t` holds its `p` on entry (see
    /// [`Demeaner::load`]) and `A p` on return, and `⟨p, A p⟩_W` is returned
    /// per column.
    fn apply_a_many(
        &self,
        srcs: Vec<&[f64]>,
        ts: Vec<&mut [f64]>,
        sums: Vec<&mut Vec<Vec<f64>>>,
    ) -> Vec<f64> {
        macro_rules! fixed {
            ($m:literal) => {{
                // The arm matched the length of `srcs`; `ts` and `sums` were
                // pushed in the same loop, one per column, so all three
                // conversions succeed.
                let (Ok(srcs), Ok(ts), Ok(sums)) =
                    (srcs.try_into(), ts.try_into(), sums.try_into())
                else {
                    unreachable!("block of {} columns", $m)
                };
                self.apply_a_block::<$m>(srcs, ts, sums).to_vec()
            }};
        }
        match srcs.len() {
            0 => Vec::new(),
            1 => fixed!(1),
            2 => fixed!(2),
            3 => fixed!(3),
            4 => fixed!(4),
            // `demean_block` is private and only ever given at most
            // MAX_BLOCK (= 4) jobs: `demean` passes one, `demean_jobs` chunks.
            m => unreachable!("blocks hold at most {MAX_BLOCK} columns, found {m}"),
        }
    }

    /// The joint sweep for `M` columns. Each projection is one pass over the
    /// rows, reading the codes and weights once for all columns; its
    /// subtraction is fused with the weighted sums for the next dimension,
    /// and the last one with the product `A p`.
    fn apply_a_block<const M: usize>(
        &self,
        p: [&[f64]; M],
        t: [&mut [f64]; M],
        mut sums: [&mut Vec<Vec<f64>>; M],
    ) -> [f64; M] {
        let w = self.w;
        let n = w.len();
        let last = self.sweep.len() - 1;
        for step in 0..last {
            let k = self.sweep[step];
            let next = self.sweep[step + 1];
            for s in sums.iter_mut() {
                for (v, &inv) in s[k].iter_mut().zip(&self.inv_wsum[k]) {
                    *v *= inv;
                }
                s[next].iter_mut().for_each(|x| *x = 0.0);
            }
            let mut means: [&[f64]; M] = [&[]; M];
            let mut accs: [&mut [f64]; M] = std::array::from_fn(|_| Default::default());
            for (c, s) in sums.iter_mut().enumerate() {
                let (m, a) = two_mut(s, k, next);
                means[c] = m;
                accs[c] = a;
            }
            let codes_k = &self.dims[k].codes[..n];
            let codes_n = &self.dims[next].codes[..n];
            for i in 0..n {
                let (g, h, wi) = (codes_k[i] as usize, codes_n[i] as usize, w[i]);
                for c in 0..M {
                    let ti = t[c][i] - means[c][g];
                    t[c][i] = ti;
                    accs[c][h] += wi * ti;
                }
            }
        }
        let k = self.sweep[last];
        for s in sums.iter_mut() {
            for (v, &inv) in s[k].iter_mut().zip(&self.inv_wsum[k]) {
                *v *= inv;
            }
        }
        let means: [&[f64]; M] = std::array::from_fn(|c| &sums[c][k][..]);
        let codes_k = &self.dims[k].codes[..n];
        let mut p_ap = [0.0; M];
        for i in 0..n {
            let (g, wi) = (codes_k[i] as usize, w[i]);
            for c in 0..M {
                // t holds T p after this subtraction; store A p = p − T p.
                let ap = p[c][i] - (t[c][i] - means[c][g]);
                t[c][i] = ap;
                p_ap[c] += wi * p[c][i] * ap;
            }
        }
        p_ap
    }
}

/// Columns per joint sweep (more would thin the caches).
pub const MAX_BLOCK: usize = 4;

/// `x̃ = x − u`.
fn finish(x: &[f64], x_tilde: &mut [f64], u: &[f64]) {
    for ((xt, &xi), &ui) in x_tilde.iter_mut().zip(x).zip(u) {
        *xt = xi - ui;
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
    fn joint_solves_equal_column_by_column_solves_bit_for_bit() {
        // Three unbalanced dimensions, five columns (two blocks), warm starts.
        let n = 400;
        let a: Vec<u32> = (0..n).map(|i| (i * 7 % 23) as u32).collect();
        let b: Vec<u32> = (0..n).map(|i| (i * 11 % 17) as u32).collect();
        let c: Vec<u32> = (0..n).map(|i| ((i * i) % 41) as u32).collect();
        let d = vec![dim("a", a), dim("b", b), dim("c", c)];
        let w: Vec<f64> = (0..n).map(|i| 0.3 + ((i * 13) % 7) as f64).collect();
        let cols = 5;
        let x: Vec<f64> = (0..n * cols)
            .map(|k| ((k * 31) % 97) as f64 / 9.0 - 4.0)
            .collect();
        let dm = Demeaner::new(&d, &w);
        let params = DemeanParams {
            tol: 1e-12,
            max_iter: 10_000,
        };
        let warm = |k: usize| {
            let mut wk = ColumnWork::many(n, &d, cols);
            for (j, wj) in wk.iter_mut().enumerate() {
                wj.u.iter_mut()
                    .enumerate()
                    .for_each(|(i, u)| *u = (k * (i + j) % 5) as f64 * 0.01);
            }
            wk
        };
        let mut one = vec![0.0; n * cols];
        let mut one_work = warm(3);
        let one_info: Vec<DemeanInfo> = (0..cols)
            .map(|j| {
                dm.demean(
                    &x[j * n..(j + 1) * n],
                    &mut one[j * n..(j + 1) * n],
                    &mut one_work[j],
                    &params,
                )
            })
            .collect();
        for threads in [1, 2] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let mut joint = vec![0.0; n * cols];
            let mut joint_work = warm(3);
            let info = pool.install(|| dm.demean_columns(&x, &mut joint, &mut joint_work, &params));
            assert_eq!(info, one_info);
            assert_eq!(joint, one, "{threads} threads");
            for j in 0..cols {
                assert_eq!(joint_work[j].u, one_work[j].u);
            }
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
