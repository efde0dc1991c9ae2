//! Demeaning in the space of fixed-effect coefficients: preconditioned
//! conjugate gradient on the normal equations, over rows laid out by level.
//!
//! Projecting the fixed effects out of `x` means finding the coefficients
//! `α = (α_1, …, α_K)` (one vector per dimension) that solve the normal
//! equations
//!
//! ```text
//!     A α = b,    A = D'WD,    b = D'W x,
//! ```
//!
//! `D = [D_1 ⋯ D_K]` the dummies, and returning `x̃ = x − Dα`. `A` has one
//! block `A_kl = D_k'WD_l` per pair of dimensions; its diagonal blocks
//! `D_k'WD_k` are diagonal (the weight of each level). We solve it by
//! conjugate gradient preconditioned by symmetric block Gauss–Seidel (SGS):
//! `M = (Δ + L) Δ⁻¹ (Δ + L')` with `Δ` the block diagonal and `L` the strictly
//! lower blocks. One SGS application is a forward and a backward sweep over
//! the dimensions — the alternating projections of fixest, reghdfe and
//! ppmlhdfe, done on the coefficients — so this is the method of
//! [`Demeaner`](super::Demeaner) (CG on symmetric alternating projections;
//! Hernández-Ramos, Escalante & Raydan 2011) moved from the `n` rows to the
//! levels, with Eisenstat's (1981) observation that the backward sweep gives
//! `A z = L z + Δ y` for free, `y` being the forward sweep's result.
//!
//! Why move it: every product `A_kl v_l` is one pass over the rows that
//! reads the codes and the weight of each row and gathers from `v_l`, a
//! vector as long as a dimension's levels (cache-resident), never an
//! `n`-long column. All the columns of an IRLS step share each pass, so one
//! CG iteration streams `3(K−1)` times 12 bytes per row (16 when a
//! dimension has more than 65,536 levels; `K = 3`) whatever the number of
//! columns, where the row-space solver streams each column through every
//! projection. The CG vectors live on the levels, so its updates cost
//! nothing next to the passes.
//!
//! Layout: for each dimension `k`, the rows sorted by their level of `k`
//! (stable, a counting sort), with the other dimensions' codes and the
//! weights stored in that order. A pass computing `Σ_{i∈g} w_i v[h(i)]` for
//! every level `g` of `k` then streams memory, and each level's sum is one
//! sequential loop: the levels are split among threads, and results do not
//! depend on the number of threads.
//!
//! Stopping rule: `ρ' M⁻¹ ρ ≤ tol² ‖x‖²_W`, `ρ = b − Aα`. Since `M⁻¹ ≈ A⁻¹`
//! and `ρ'A⁻¹ρ = ‖Dα* − Dα‖²_W`, this bounds the error of `x̃` in the `W`
//! norm relative to `‖x‖_W`.

use super::{DemeanInfo, DemeanParams, FeDim};
use rayon::prelude::*;

/// Rows per task in the row-order passes (fixed, so sums split the same way
/// on any number of threads).
const ROWS: usize = 1 << 14;

/// The rows laid out by the levels of each fixed-effect dimension; built once
/// per design, independent of the weights.
///
/// ```
/// use gravity_model::fixed_effects::{FeDim, Layout};
/// let dim = |codes: Vec<u32>, n: usize| FeDim {
///     name: "d".into(),
///     codes,
///     levels: (0..n).map(|i| i.to_string()).collect(),
/// };
/// let layout = Layout::new(&[dim(vec![0, 1, 0, 1], 2), dim(vec![0, 0, 1, 2], 3)]);
/// assert_eq!(layout.n(), 4);
/// assert_eq!(layout.levels(), &[2, 3]);
/// ```
#[derive(Debug, Clone)]
pub struct Layout {
    n: usize,
    levels: Vec<usize>,
    /// Codes in row order, one vector per dimension.
    codes: Vec<Vec<u32>>,
    by: Vec<ByDim>,
}

/// Codes of the other dimensions in a sorted order, two bytes each when
/// every one of them has at most 65,536 levels (the passes stream these: at
/// 1.6M rows a two-byte code saves ~10% of the IRLS loop), else four.
#[derive(Debug, Clone)]
enum OtherCodes {
    Narrow(Vec<u16>),
    Wide(Vec<u32>),
}

impl OtherCodes {
    /// Slot `m` of position `pos` (`km1` codes per position).
    fn at(&self, pos: usize, km1: usize, m: usize) -> usize {
        match self {
            OtherCodes::Narrow(c) => c[pos * km1 + m] as usize,
            OtherCodes::Wide(c) => c[pos * km1 + m] as usize,
        }
    }
}

impl ByDim {
    /// `out[g·M..(g+1)·M] = sum(a, b)` for every level `g`, `a..b` being the
    /// positions of `g`. The levels are split among tasks in fixed chunks
    /// (`per_task`) and each level's sum is one call, so the results do not
    /// depend on the number of threads.
    fn level_sums<const M: usize>(
        &self,
        out: &mut [f64],
        sum: impl Fn(usize, usize) -> [f64; M] + Sync,
    ) {
        out.par_chunks_mut(self.per_task * M)
            .enumerate()
            .for_each(|(t, out)| {
                let g0 = t * self.per_task;
                for (gi, o) in out.chunks_exact_mut(M).enumerate() {
                    let g = g0 + gi;
                    o.copy_from_slice(&sum(self.start[g], self.start[g + 1]));
                }
            });
    }
}

/// A level code as stored in [`OtherCodes`].
trait Code: Copy + Send + Sync {
    fn index(self) -> usize;
}

impl Code for u16 {
    fn index(self) -> usize {
        self as usize
    }
}

impl Code for u32 {
    fn index(self) -> usize {
        self as usize
    }
}

/// The rows sorted by the levels of one dimension.
#[derive(Debug, Clone)]
struct ByDim {
    /// Sorted position → row (empty when `identity`).
    order: Vec<u32>,
    /// Level `g` occupies positions `start[g]..start[g + 1]`.
    start: Vec<usize>,
    /// The other dimensions' codes (in dimension order), `K − 1` per position.
    others: OtherCodes,
    /// Levels per task in the level-order passes.
    per_task: usize,
    /// True if the rows already come in this order (the sorted order is the
    /// identity, as for the pair dimension of a panel sorted by pair): the
    /// row-order weights and columns are read directly.
    identity: bool,
}

impl Layout {
    /// Sorts the rows by each dimension's levels (counting sort, stable).
    ///
    /// # Panics
    ///
    /// If a code is not below its dimension's number of levels, or the
    /// dimensions differ in length (a malformed [`FeDim`]; the designs this
    /// crate builds never are). The solver's passes rely on this check.
    pub fn new(dims: &[FeDim]) -> Self {
        let n = dims.first().map_or(0, |d| d.codes.len());
        let k = dims.len();
        let levels: Vec<usize> = dims.iter().map(FeDim::n_levels).collect();
        for dim in dims {
            assert_eq!(dim.codes.len(), n, "fixed effects of different lengths");
        }
        let by = (0..k)
            .into_par_iter()
            .map(|d| {
                let codes = &dims[d].codes;
                let mut start = vec![0usize; levels[d] + 1];
                for &g in codes {
                    // Every code below its number of levels: checked here,
                    // once, so that the passes may gather without bounds
                    // checks.
                    match start.get_mut(g as usize + 1) {
                        Some(count) => *count += 1,
                        None => panic!(
                            "fixed effect '{}' has a code beyond its levels",
                            dims[d].name
                        ),
                    }
                }
                for g in 0..levels[d] {
                    start[g + 1] += start[g];
                }
                let mut next = start.clone();
                let mut order = vec![0u32; n];
                for (i, &g) in codes.iter().enumerate() {
                    let slot = &mut next[g as usize];
                    order[*slot] = i as u32;
                    *slot += 1;
                }
                let narrow = (0..k).all(|l| l == d || levels[l] <= 1 << 16);
                let others = if narrow {
                    // Lossless: every code is below its levels, ≤ 65,536.
                    OtherCodes::Narrow(gather_others(&order, dims, d, |c| c as u16))
                } else {
                    OtherCodes::Wide(gather_others(&order, dims, d, |c| c))
                };
                let per_task = (ROWS * levels[d]).div_ceil(n.max(1)).max(1);
                let identity = order.iter().enumerate().all(|(p, &i)| p == i as usize);
                ByDim {
                    // Not kept when it is the identity: nothing reads it then.
                    order: if identity { Vec::new() } else { order },
                    start,
                    others,
                    per_task,
                    identity,
                }
            })
            .collect();
        Layout {
            n,
            levels,
            codes: dims.iter().map(|d| d.codes.clone()).collect(),
            by,
        }
    }

    /// Number of rows.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Number of levels of each dimension.
    pub fn levels(&self) -> &[usize] {
        &self.levels
    }
}

/// The codes of every dimension but `d`, in `d`'s sorted order `order`
/// (`K − 1` per position), filled in parallel.
fn gather_others<T: Copy + Default + Send>(
    order: &[u32],
    dims: &[FeDim],
    d: usize,
    convert: impl Fn(u32) -> T + Sync,
) -> Vec<T> {
    let km1 = dims.len().saturating_sub(1);
    let mut others = vec![T::default(); order.len() * km1];
    if km1 > 0 {
        others
            .par_chunks_mut(ROWS * km1)
            .zip(order.par_chunks(ROWS))
            .for_each(|(out, order)| {
                let mut slots = out.iter_mut();
                for &i in order {
                    for (l, dim) in dims.iter().enumerate() {
                        if l != d {
                            if let Some(slot) = slots.next() {
                                *slot = convert(dim.codes[i as usize]);
                            }
                        }
                    }
                }
            });
    }
    others
}

/// The fixed-effect coefficients of one column, one vector per dimension:
/// the warm start of a solve on entry, its solution on return.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Coefficients {
    /// `values[k][g]`: the coefficient of level `g` of dimension `k`.
    pub values: Vec<Vec<f64>>,
}

impl Coefficients {
    /// All zero.
    pub fn zeros(layout: &Layout) -> Self {
        Coefficients {
            values: layout.levels.iter().map(|&l| vec![0.0; l]).collect(),
        }
    }

    /// `p` columns of zeros.
    pub fn many(layout: &Layout, p: usize) -> Vec<Self> {
        (0..p).map(|_| Coefficients::zeros(layout)).collect()
    }
}

/// One column of a solve: its values, its output and its coefficients.
pub struct CoefJob<'a> {
    /// The column `x`, in row order.
    pub x: &'a [f64],
    /// Receives `x − Dα`.
    pub x_tilde: &'a mut [f64],
    /// Warm start in, solution out.
    pub alpha: &'a mut Coefficients,
    /// True if `x_tilde` already holds `x − Dα` for the warm start `α` on
    /// entry (as the previous solve of the same `x` left it, or updated by
    /// the change in `x`): saves a pass over the rows. False: it is computed.
    pub known_residual: bool,
}

impl<'a> CoefJob<'a> {
    /// The job for one column `y` (IRLS's working outcome, the ReLU check's
    /// `u`) followed by [`Self::columns`] of `x`: the jobs of one IRLS step.
    pub fn outcome_and_columns(
        y: &'a [f64],
        y_tilde: &'a mut [f64],
        y_alpha: &'a mut Coefficients,
        x: &'a [f64],
        x_tilde: &'a mut [f64],
        x_alpha: &'a mut [Coefficients],
        known_residual: bool,
    ) -> Vec<CoefJob<'a>> {
        std::iter::once(CoefJob {
            x: y,
            x_tilde: y_tilde,
            alpha: y_alpha,
            known_residual,
        })
        .chain(Self::columns(x, x_tilde, x_alpha, known_residual))
        .collect()
    }

    /// One job per column of the column-major `x` (`alpha.len()` columns),
    /// writing into the matching column of `x_tilde`.
    pub fn columns(
        x: &'a [f64],
        x_tilde: &'a mut [f64],
        alpha: &'a mut [Coefficients],
        known_residual: bool,
    ) -> impl Iterator<Item = CoefJob<'a>> {
        let n = x.len().checked_div(alpha.len()).unwrap_or(0).max(1);
        x.chunks(n)
            .zip(x_tilde.chunks_mut(n))
            .zip(alpha.iter_mut())
            .map(move |((x, x_tilde), alpha)| CoefJob {
                x,
                x_tilde,
                alpha,
                known_residual,
            })
    }
}

/// The layout with one set of weights: the normal equations, ready to solve.
///
/// ```
/// use gravity_model::fixed_effects::{Coefficients, CoefJob, DemeanParams, FeDim, Layout, NormalEquations};
/// let dim = |codes: Vec<u32>, n: usize| FeDim {
///     name: "d".into(),
///     codes,
///     levels: (0..n).map(|i| i.to_string()).collect(),
/// };
/// let layout = Layout::new(&[dim(vec![0, 0, 1, 1, 1], 2)]);
/// let w = [1.0, 3.0, 1.0, 1.0, 2.0];
/// let x = [1.0, 2.0, 3.0, 4.0, 5.0];
/// let mut x_tilde = [0.0; 5];
/// let mut alpha = Coefficients::zeros(&layout);
/// let mut eq = NormalEquations::new(&layout, &w);
/// let info = eq.solve(
///     &mut [CoefJob { x: &x, x_tilde: &mut x_tilde, alpha: &mut alpha, known_residual: false }],
///     &DemeanParams::default(),
/// );
/// assert!(info[0].converged);
/// // one dimension: the weighted group means
/// assert!((alpha.values[0][0] - 7.0 / 4.0).abs() < 1e-12);
/// assert!((alpha.values[0][1] - 17.0 / 4.0).abs() < 1e-12);
/// ```
#[derive(Debug)]
pub struct NormalEquations<'a> {
    layout: &'a Layout,
    /// The weights in row order.
    w: Vec<f64>,
    /// The weights in each dimension's sorted order (empty for a dimension
    /// whose order is the rows': `w` serves).
    w_by: Vec<Vec<f64>>,
    /// True when `w` changed since `w_by` and the diagonal were laid out
    /// (the next solve lays them out first).
    stale: bool,
    /// `Δ_k`: the weight of each level.
    diag: Vec<Vec<f64>>,
    /// `Δ_k⁻¹` (0 for a level without weight).
    inv_diag: Vec<Vec<f64>>,
    /// The CG vectors of a block, kept between solves (IRLS solves once per
    /// step: fresh pages for them cost more than the passes that fill them).
    scratch: Scratch,
}

/// The level vectors of one block solve: `α, ρ, y, z, Az, p, Ap` and a
/// temporary, each `levels × M` per dimension.
#[derive(Debug, Default)]
struct Scratch {
    blocks: [Block; 8],
}

/// Which other dimensions a pass sums over, relative to its target `k`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Blocks {
    /// `l < k`: the strictly lower blocks.
    Below,
    /// `l > k`: the strictly upper blocks.
    Above,
}

impl Blocks {
    fn includes(self, l: usize, k: usize) -> bool {
        match self {
            Blocks::Below => l < k,
            Blocks::Above => l > k,
        }
    }
}

/// Vectors on the levels for a block of `M` columns, interleaved:
/// `v[k][g * M + c]` is column `c`'s value at level `g` of dimension `k`.
type Block = Vec<Vec<f64>>;

impl<'a> NormalEquations<'a> {
    /// Lays out weights `w` (row order, one per row of `layout`; a layout
    /// without dimensions takes any number of rows).
    pub fn new(layout: &'a Layout, w: &[f64]) -> Self {
        NormalEquations {
            layout,
            w: w.to_vec(),
            w_by: layout
                .by
                .iter()
                .map(|by| {
                    if by.identity {
                        Vec::new()
                    } else {
                        vec![0.0; layout.n]
                    }
                })
                .collect(),
            stale: true,
            diag: layout.levels.iter().map(|&l| vec![0.0; l]).collect(),
            inv_diag: layout.levels.iter().map(|&l| vec![0.0; l]).collect(),
            scratch: Scratch::default(),
        }
    }

    /// The weights in row order (as many as given to [`Self::new`]), to be
    /// replaced in place, as IRLS computes them; the next solve lays them
    /// out.
    pub fn weights_mut(&mut self) -> &mut [f64] {
        self.stale = true;
        &mut self.w
    }

    /// The weights in row order.
    pub fn weights(&self) -> &[f64] {
        &self.w
    }

    /// The weights in dimension `k`'s sorted order.
    fn wk(&self, k: usize) -> &[f64] {
        if self.layout.by[k].identity {
            &self.w
        } else {
            &self.w_by[k]
        }
    }

    /// Lays out the weights by level of each dimension, and the diagonal.
    fn lay_out_weights(&mut self) {
        let layout = self.layout;
        let w = &self.w;
        for (k, by) in layout.by.iter().enumerate() {
            if !by.identity {
                self.w_by[k]
                    .par_chunks_mut(ROWS)
                    .zip(by.order.par_chunks(ROWS))
                    .for_each(|(wk, order)| {
                        for (v, &i) in wk.iter_mut().zip(order) {
                            *v = w[i as usize];
                        }
                    });
            }
            let wk = if by.identity { w } else { &self.w_by[k] };
            by.level_sums::<1>(&mut self.diag[k], |a, b| [wk[a..b].iter().sum()]);
            for (ig, &dg) in self.inv_diag[k].iter_mut().zip(&self.diag[k]) {
                *ig = if dg > 0.0 { 1.0 / dg } else { 0.0 };
            }
        }
        self.stale = false;
    }

    /// Solves for every job: on return `alpha` holds the coefficients and
    /// `x_tilde` the residual `x − Dα`. Columns are solved in blocks of up to
    /// four that share every pass over the rows; each column's arithmetic is
    /// its own, so the results do not depend on the blocks or on the number
    /// of threads.
    pub fn solve(&mut self, jobs: &mut [CoefJob<'_>], params: &DemeanParams) -> Vec<DemeanInfo> {
        if self.stale {
            self.lay_out_weights();
        }
        let mut infos = Vec::with_capacity(jobs.len());
        let mut scratch = std::mem::take(&mut self.scratch);
        for block in jobs.chunks_mut(MAX_BLOCK) {
            let b = &mut scratch.blocks;
            infos.extend(match block.len() {
                1 => self.solve_block::<1>(block, params, b).to_vec(),
                2 => self.solve_block::<2>(block, params, b).to_vec(),
                3 => self.solve_block::<3>(block, params, b).to_vec(),
                _ => self.solve_block::<4>(block, params, b).to_vec(),
            });
        }
        self.scratch = scratch;
        infos
    }

    /// Sizes `v` for a block of `M` columns, reusing its allocation. The
    /// contents are left as they are: every vector of a block solve is
    /// written in full before it is read.
    fn size_for<const M: usize>(&self, v: &mut Block) {
        v.resize_with(self.layout.levels.len(), Vec::new);
        for (vk, &l) in v.iter_mut().zip(&self.layout.levels) {
            vk.resize(l * M, 0.0);
        }
    }

    /// `out[g·M + c] = Σ_{i ∈ g} w_i Σ_{l ∈ blocks} v[l][h_l(i)·M + c]` for every
    /// level `g` of dimension `k`: the product `Σ_l A_kl v_l`, one pass over
    /// the rows in `k`'s order.
    fn pass<const M: usize>(&self, k: usize, v: &Block, blocks: Blocks, out: &mut [f64]) {
        // The sources, each as (its slot among the other codes, its vector).
        let sources = || {
            (0..self.layout.by.len())
                .filter(move |&l| blocks.includes(l, k))
                .map(move |l| (if l < k { l } else { l - 1 }, &v[l][..]))
        };
        let mut first = sources();
        match (first.next(), first.next(), first.next()) {
            (None, _, _) => out.iter_mut().for_each(|o| *o = 0.0),
            (Some(a), None, _) => self.pass_from::<M, 1>(k, [a], out),
            (Some(a), Some(b), None) => self.pass_from::<M, 2>(k, [a, b], out),
            _ => {
                // More than three dimensions: the same sum, one source at a
                // time added in dimension order (as the fixed-size arms do).
                let chosen: Vec<(usize, &[f64])> = sources().collect();
                let by = &self.layout.by[k];
                let km1 = self.layout.by.len() - 1;
                let wk = self.wk(k);
                by.level_sums::<M>(out, |a, b| {
                    let mut acc = [0.0; M];
                    for pos in a..b {
                        let mut s = [0.0; M];
                        for &(m, src) in &chosen {
                            let h = by.others.at(pos, km1, m) * M;
                            let src = &src[h..h + M];
                            for c in 0..M {
                                s[c] += src[c];
                            }
                        }
                        for c in 0..M {
                            acc[c] += wk[pos] * s[c];
                        }
                    }
                    acc
                });
            }
        }
    }

    /// [`Self::pass`] with `S` source dimensions, each given as (its slot
    /// among the other codes, its vector).
    fn pass_from<const M: usize, const S: usize>(
        &self,
        k: usize,
        src: [(usize, &[f64]); S],
        out: &mut [f64],
    ) {
        match &self.layout.by[k].others {
            OtherCodes::Narrow(codes) => self.pass_codes::<M, S, u16>(k, codes, src, out),
            OtherCodes::Wide(codes) => self.pass_codes::<M, S, u32>(k, codes, src, out),
        }
    }

    /// [`Self::pass_from`] over the other codes `others` of dimension `k`.
    // The one unsafe block of the library: an unchecked gather, justified
    // at its SAFETY comment below.
    #[allow(unsafe_code)]
    fn pass_codes<const M: usize, const S: usize, T: Code>(
        &self,
        k: usize,
        others: &[T],
        src: [(usize, &[f64]); S],
        out: &mut [f64],
    ) {
        let by = &self.layout.by[k];
        let km1 = self.layout.by.len() - 1;
        let wk = self.wk(k);
        for &(m, v) in &src {
            let l = if m < k { m } else { m + 1 };
            // With the codes checked in `Layout::new` (and the layout's
            // fields private), this makes every gather below in bounds.
            assert_eq!(
                v.len(),
                self.layout.levels[l] * M,
                "source sized for the layout"
            );
        }
        by.level_sums::<M>(out, |a, b| {
            let mut acc = [0.0; M];
            for (codes, &wi) in others[a * km1..b * km1].chunks_exact(km1).zip(&wk[a..b]) {
                let mut s = [0.0; M];
                for &(m, v) in &src {
                    let h = codes[m].index() * M;
                    // SAFETY: `codes[m]` is a code of dimension `l`
                    // (slot `m` of the other codes), below
                    // `levels[l]` (checked in `Layout::new`), and
                    // `v.len() == levels[l] * M` (asserted above), so
                    // `h + M <= v.len()`. The unchecked gather is ~7%
                    // of a 1.6M-row fit (A/B, medians of 5).
                    let v = unsafe { v.get_unchecked(h..h + M) };
                    for c in 0..M {
                        s[c] += v[c];
                    }
                }
                for c in 0..M {
                    acc[c] += wi * s[c];
                }
            }
            acc
        });
    }

    /// `r = x − Dα` in row order, for one column.
    fn residual(&self, x: &[f64], alpha: &[Vec<f64>], r: &mut [f64]) {
        let codes = &self.layout.codes;
        r.par_chunks_mut(ROWS).enumerate().for_each(|(t, r)| {
            let i0 = t * ROWS;
            for (j, ri) in r.iter_mut().enumerate() {
                let i = i0 + j;
                let mut fe = 0.0;
                for (a, c) in alpha.iter().zip(codes) {
                    fe += a[c[i] as usize];
                }
                *ri = x[i] - fe;
            }
        });
    }

    /// `b_k = D_k'W x` for every dimension, columns interleaved, into `b`
    /// (sized for the block).
    fn rhs<const M: usize>(&self, x: [&[f64]; M], b: &mut Block) {
        for (k, bk) in b.iter_mut().enumerate() {
            let by = &self.layout.by[k];
            let wk = self.wk(k);
            by.level_sums::<M>(bk, |a, b| {
                let mut acc = [0.0; M];
                for pos in a..b {
                    let i = if by.identity {
                        pos
                    } else {
                        by.order[pos] as usize
                    };
                    for c in 0..M {
                        acc[c] += wk[pos] * x[c][i];
                    }
                }
                acc
            });
        }
    }

    /// The SGS preconditioner: `z = M⁻¹ ρ`, keeping the forward sweep's `y`.
    /// Forward `y_k = Δ_k⁻¹(ρ_k − Σ_{l<k} A_kl y_l)`; backward
    /// `z_k = y_k − Δ_k⁻¹ Σ_{l>k} A_kl z_l` (`z_K = y_K`).
    fn precondition<const M: usize>(
        &self,
        rho: &Block,
        y: &mut Block,
        z: &mut Block,
        tmp: &mut Block,
    ) {
        let kk = self.layout.by.len();
        for k in 0..kk {
            if k > 0 {
                self.pass::<M>(k, y, Blocks::Below, &mut tmp[k]);
            }
            let inv = &self.inv_diag[k];
            for (g, &d) in inv.iter().enumerate() {
                for c in 0..M {
                    let i = g * M + c;
                    let lower = if k > 0 { tmp[k][i] } else { 0.0 };
                    y[k][i] = d * (rho[k][i] - lower);
                }
            }
        }
        z[kk - 1].copy_from_slice(&y[kk - 1]);
        for k in (0..kk - 1).rev() {
            self.pass::<M>(k, z, Blocks::Above, &mut tmp[k]);
            let inv = &self.inv_diag[k];
            for (g, &d) in inv.iter().enumerate() {
                for c in 0..M {
                    let i = g * M + c;
                    z[k][i] = y[k][i] - d * tmp[k][i];
                }
            }
        }
    }

    /// `A z = L z + Δ y` after [`Self::precondition`] (Eisenstat 1981:
    /// the backward sweep solved `(Δ + L') z = Δ y`).
    fn a_of_z<const M: usize>(&self, y: &Block, z: &Block, az: &mut Block) {
        for k in 0..self.layout.by.len() {
            if k > 0 {
                self.pass::<M>(k, z, Blocks::Below, &mut az[k]);
            } else {
                az[k].iter_mut().for_each(|v| *v = 0.0);
            }
            for (g, &d) in self.diag[k].iter().enumerate() {
                for c in 0..M {
                    az[k][g * M + c] += d * y[k][g * M + c];
                }
            }
        }
    }

    /// Column-wise dot products of two level vectors.
    fn dots<const M: usize>(a: &Block, b: &Block) -> [f64; M] {
        let mut s = [0.0; M];
        for (ak, bk) in a.iter().zip(b) {
            for (ag, bg) in ak.chunks_exact(M).zip(bk.chunks_exact(M)) {
                for c in 0..M {
                    s[c] += ag[c] * bg[c];
                }
            }
        }
        s
    }

    /// `‖x‖²_W` per column, summed in fixed row chunks.
    fn norms<const M: usize>(&self, x: [&[f64]; M]) -> [f64; M] {
        let w = &self.w;
        let parts: Vec<[f64; M]> = (0..w.len().div_ceil(ROWS))
            .into_par_iter()
            .map(|t| {
                let mut s = [0.0; M];
                for i in t * ROWS..((t + 1) * ROWS).min(w.len()) {
                    for c in 0..M {
                        s[c] += w[i] * x[c][i] * x[c][i];
                    }
                }
                s
            })
            .collect();
        let mut s = [0.0; M];
        for part in parts {
            for c in 0..M {
                s[c] += part[c];
            }
        }
        s
    }

    /// Preconditioned CG for `M` columns at once, each with its own scalars.
    fn solve_block<const M: usize>(
        &self,
        jobs: &mut [CoefJob<'_>],
        params: &DemeanParams,
        scratch: &mut [Block; 8],
    ) -> [DemeanInfo; M] {
        let layout = self.layout;
        let kk = layout.by.len();
        let mut info = [DemeanInfo {
            iterations: 0,
            residual: 0.0,
            converged: true,
        }; M];
        if kk == 0 || layout.n == 0 {
            for job in jobs.iter_mut() {
                job.x_tilde.copy_from_slice(job.x);
            }
            return info;
        }
        let x: [&[f64]; M] = std::array::from_fn(|c| jobs[c].x);
        let xx = self.norms::<M>(x);
        let target: [f64; M] = std::array::from_fn(|c| params.tol * params.tol * xx[c]);
        for v in scratch.iter_mut() {
            self.size_for::<M>(v);
        }
        let [alpha, rho, tmp, y, z, az, p, ap] = scratch;
        // α: the warm starts, interleaved.
        for (c, job) in jobs.iter().enumerate() {
            for (k, ak) in alpha.iter_mut().enumerate() {
                for (g, &v) in job.alpha.values[k].iter().enumerate() {
                    ak[g * M + c] = v;
                }
            }
        }
        // ρ = b − Aα = D'W(x − Dα): the residual of the warm start, in row
        // order (given, or one pass), then summed by level.
        for job in jobs.iter_mut() {
            if !job.known_residual {
                self.residual(job.x, &job.alpha.values, job.x_tilde);
            }
        }
        {
            let r: [&[f64]; M] = std::array::from_fn(|c| &*jobs[c].x_tilde);
            self.rhs::<M>(r, rho);
        }
        self.precondition::<M>(rho, y, z, tmp);
        self.a_of_z::<M>(y, z, az);
        for k in 0..kk {
            p[k].copy_from_slice(&z[k]);
            ap[k].copy_from_slice(&az[k]);
        }
        let mut rz = Self::dots::<M>(rho, z);
        let mut live = [false; M];
        for c in 0..M {
            info[c].residual = if xx[c] > 0.0 {
                (rz[c] / xx[c]).sqrt()
            } else {
                0.0
            };
            info[c].converged = xx[c] == 0.0 || rz[c] <= target[c];
            live[c] = !info[c].converged;
        }
        while live.iter().any(|&l| l) {
            let pap = Self::dots::<M>(p, ap);
            let mut a = [0.0; M];
            for c in 0..M {
                if !live[c] {
                    continue;
                }
                info[c].iterations += 1;
                if pap[c] <= 0.0 {
                    // Nothing of ρ left in the range of A.
                    info[c].converged = true;
                    live[c] = false;
                } else {
                    a[c] = rz[c] / pap[c];
                }
            }
            for k in 0..kk {
                for i in 0..alpha[k].len() {
                    let c = i % M;
                    if a[c] != 0.0 {
                        alpha[k][i] += a[c] * p[k][i];
                        rho[k][i] -= a[c] * ap[k][i];
                    }
                }
            }
            self.precondition::<M>(rho, y, z, tmp);
            self.a_of_z::<M>(y, z, az);
            let rz_new = Self::dots::<M>(rho, z);
            let mut beta = [0.0; M];
            for c in 0..M {
                if !live[c] {
                    continue;
                }
                beta[c] = rz_new[c] / rz[c];
                rz[c] = rz_new[c];
                info[c].residual = (rz[c].max(0.0) / xx[c]).sqrt();
                info[c].converged = rz[c] <= target[c];
                if info[c].converged || info[c].iterations >= params.max_iter {
                    live[c] = false;
                }
            }
            for k in 0..kk {
                for i in 0..p[k].len() {
                    let c = i % M;
                    p[k][i] = z[k][i] + beta[c] * p[k][i];
                    ap[k][i] = az[k][i] + beta[c] * ap[k][i];
                }
            }
        }
        // Coefficients out, and x̃ = x − Dα in row order.
        for (c, job) in jobs.iter_mut().enumerate() {
            for (k, ak) in alpha.iter().enumerate() {
                for (g, v) in job.alpha.values[k].iter_mut().enumerate() {
                    *v = ak[g * M + c];
                }
            }
        }
        let codes = &layout.codes;
        let mut outs: Vec<[&mut [f64]; M]> = Vec::new();
        {
            let mut iters: Vec<std::slice::ChunksMut<'_, f64>> = jobs
                .iter_mut()
                .map(|j| j.x_tilde.chunks_mut(ROWS))
                .collect();
            'rows: loop {
                let mut chunk: [Option<&mut [f64]>; M] = std::array::from_fn(|_| None);
                for (c, it) in iters.iter_mut().enumerate() {
                    match it.next() {
                        Some(s) => chunk[c] = Some(s),
                        None => break 'rows,
                    }
                }
                outs.push(chunk.map(|s| s.unwrap_or_default()));
            }
        }
        outs.into_par_iter().enumerate().for_each(|(t, out)| {
            let i0 = t * ROWS;
            for r in 0..out[0].len() {
                let i = i0 + r;
                let mut fe = [0.0; M];
                for k in 0..kk {
                    let h = codes[k][i] as usize * M;
                    for c in 0..M {
                        fe[c] += alpha[k][h + c];
                    }
                }
                for c in 0..M {
                    out[c][r] = x[c][i] - fe[c];
                }
            }
        });
        info
    }
}

/// Columns per block (each pass gathers from `M` interleaved vectors).
pub const MAX_BLOCK: usize = 4;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixed_effects::{ColumnWork, Demeaner};

    fn dim(codes: Vec<u32>) -> FeDim {
        let n = codes.iter().max().map_or(0, |m| *m as usize + 1);
        FeDim {
            name: "d".into(),
            codes,
            levels: (0..n).map(|i| i.to_string()).collect(),
        }
    }

    fn design(n: usize) -> (Vec<FeDim>, Vec<f64>, Vec<f64>) {
        let a: Vec<u32> = (0..n).map(|i| (i * 7 % 23) as u32).collect();
        let b: Vec<u32> = (0..n).map(|i| (i * 11 % 17) as u32).collect();
        let c: Vec<u32> = (0..n).map(|i| ((i * i) % 41) as u32).collect();
        let w: Vec<f64> = (0..n).map(|i| 0.3 + ((i * 13) % 7) as f64).collect();
        let x: Vec<f64> = (0..n * 5)
            .map(|k| ((k * 31) % 97) as f64 / 9.0 - 4.0)
            .collect();
        (vec![dim(a), dim(b), dim(c)], w, x)
    }

    #[test]
    #[should_panic(expected = "beyond its levels")]
    fn a_code_beyond_the_levels_is_refused() {
        let bad = FeDim {
            name: "d".into(),
            codes: vec![0, 1, 2],
            levels: vec!["a".into(), "b".into()],
        };
        Layout::new(&[bad]);
    }

    /// Both solvers on the columns `x` (`n` rows each), to `tol`: the
    /// row-space result, then this solver's, with its infos.
    fn both_solvers(
        dims: &[FeDim],
        w: &[f64],
        x: &[f64],
        tol: f64,
    ) -> (Vec<f64>, Vec<f64>, Vec<DemeanInfo>) {
        let n = w.len();
        let p = x.len() / n;
        let params = DemeanParams {
            tol,
            max_iter: 10_000,
        };
        let dm = Demeaner::new(dims, w);
        let mut rows = vec![0.0; n * p];
        let mut work = ColumnWork::many(n, dims, p);
        dm.demean_columns(x, &mut rows, &mut work, &params);
        let layout = Layout::new(dims);
        let mut eq = NormalEquations::new(&layout, w);
        let mut coef = vec![0.0; n * p];
        let mut alpha = Coefficients::many(&layout, p);
        let mut jobs: Vec<CoefJob<'_>> =
            CoefJob::columns(x, &mut coef, &mut alpha, false).collect();
        let info = eq.solve(&mut jobs, &params);
        (rows, coef, info)
    }

    #[test]
    fn agrees_with_the_row_space_solver() {
        let n = 400;
        let (dims, w, x) = design(n);
        let (rows, coef, info) = both_solvers(&dims, &w, &x, 1e-13);
        assert!(info.iter().all(|i| i.converged), "{info:?}");
        for (a, b) in coef.iter().zip(&rows) {
            assert!((a - b).abs() < 1e-9, "{a} vs {b}");
        }
        // the residual is orthogonal to every dummy
        for d in &dims {
            for g in 0..d.n_levels() {
                for c in 0..5 {
                    let s: f64 = (0..n)
                        .filter(|&i| d.codes[i] == g as u32)
                        .map(|i| w[i] * coef[c * n + i])
                        .sum();
                    assert!(s.abs() < 1e-9, "{s}");
                }
            }
        }
    }

    #[test]
    fn four_byte_codes_beyond_65536_levels_agree_with_the_row_space_solver() {
        // `c` has 70,000 levels: the passes of `a` and `b` read four-byte
        // codes, those of `c` two-byte ones.
        let n = 140_000;
        let dims = vec![
            dim((0..n).map(|i| (i % 23) as u32).collect()),
            dim((0..n).map(|i| ((i * 7) % 17) as u32).collect()),
            dim((0..n).map(|i| (i / 2) as u32).collect()),
        ];
        let w: Vec<f64> = (0..n).map(|i| 0.5 + ((i * 13) % 7) as f64).collect();
        let x: Vec<f64> = (0..n * 2)
            .map(|k| ((k * 31) % 97) as f64 / 9.0 - 4.0)
            .collect();
        let layout = Layout::new(&dims);
        assert!(matches!(layout.by[0].others, OtherCodes::Wide(_)));
        assert!(matches!(layout.by[1].others, OtherCodes::Wide(_)));
        assert!(matches!(layout.by[2].others, OtherCodes::Narrow(_)));
        let (rows, coef, info) = both_solvers(&dims, &w, &x, 1e-12);
        assert!(info.iter().all(|i| i.converged), "{info:?}");
        let worst = coef
            .iter()
            .zip(&rows)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(worst < 1e-8, "{worst}");
    }

    #[test]
    fn blocks_threads_and_warm_starts_change_nothing_but_speed() {
        let n = 400;
        let (dims, w, x) = design(n);
        let layout = Layout::new(&dims);
        let mut eq = NormalEquations::new(&layout, &w);
        let params = DemeanParams {
            tol: 1e-12,
            max_iter: 10_000,
        };
        let warm = || {
            let mut a = Coefficients::many(&layout, 5);
            for (j, aj) in a.iter_mut().enumerate() {
                for (k, v) in aj.values.iter_mut().enumerate() {
                    v.iter_mut()
                        .enumerate()
                        .for_each(|(g, v)| *v = ((g + j + k) % 5) as f64 * 0.01);
                }
            }
            a
        };
        // column by column, one thread
        let one_thread = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let mut single = vec![0.0; n * 5];
        let mut single_alpha = warm();
        let single_info: Vec<DemeanInfo> = one_thread.install(|| {
            (0..5)
                .map(|c| {
                    eq.solve(
                        &mut [CoefJob {
                            x: &x[c * n..(c + 1) * n],
                            x_tilde: &mut single[c * n..(c + 1) * n],
                            alpha: &mut single_alpha[c],
                            known_residual: false,
                        }],
                        &params,
                    )[0]
                })
                .collect()
        });
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let mut joint = vec![0.0; n * 5];
            let mut alpha = warm();
            let info = pool.install(|| {
                let mut jobs: Vec<CoefJob<'_>> =
                    CoefJob::columns(&x, &mut joint, &mut alpha, false).collect();
                eq.solve(&mut jobs, &params)
            });
            assert_eq!(info, single_info, "{threads} threads");
            assert_eq!(joint, single, "{threads} threads");
            assert_eq!(alpha, single_alpha);
        }
    }

    #[test]
    fn no_dimensions_and_one_dimension() {
        let x = [1.0, 2.0, 3.0];
        let layout = Layout::new(&[]);
        // Without dimensions the layout has no row count: every weight given
        // is kept (PPML without fixed effects needs them for X'WX).
        let mut eq = NormalEquations::new(&layout, &[1.0, 1.0, 1.0]);
        eq.weights_mut()[1] = 5.0;
        let mut xt = [0.0; 3];
        let mut alpha = Coefficients::zeros(&layout);
        eq.solve(
            &mut CoefJob::columns(&x, &mut xt, std::slice::from_mut(&mut alpha), false)
                .collect::<Vec<_>>(),
            &DemeanParams::default(),
        );
        assert_eq!(xt, x);
        assert_eq!(eq.weights(), &[1.0, 5.0, 1.0]);
        let dims = [dim(vec![0, 1, 1])];
        let layout = Layout::new(&dims);
        let mut eq = NormalEquations::new(&layout, &[1.0, 1.0, 3.0]);
        let mut alpha = Coefficients::zeros(&layout);
        let info = eq.solve(
            &mut CoefJob::columns(&x, &mut xt, std::slice::from_mut(&mut alpha), false)
                .collect::<Vec<_>>(),
            &DemeanParams::default(),
        );
        assert!(info[0].converged && info[0].iterations <= 1, "{info:?}");
        assert!((xt[1] - (2.0 - 11.0 / 4.0)).abs() < 1e-14);
    }
}
