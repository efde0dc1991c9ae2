//! The market-clearing core of the full endowment GE, for any number of
//! sectors: [`solve_full`](super::solve_full) is its one-sector case and
//! [`solve_multisector_counterfactual`](super::solve_multisector_counterfactual)
//! the general one.
//!
//! Unknowns `z^k_i = ln p̂^k_i`. With `a^k_i = (Y^k_i/Y^k)/Π^k_i^(1-σ_k)` from
//! the baseline,
//!
//! ```text
//! A^k_i = a^k_i p̂^k_i^(1-σ_k),   Y'^k_i = p̂^k_i Y^k_i,   T_j = Σ_k Y'^k_j
//! E'_j = κ φ_j T_j,  κ = Σ_j T_j / Σ_j φ_j T_j,   E'^k_j = s^k_j E'_j
//! P'^k_j^(1-σ_k) = Σ_i phi'^k_ij A^k_i,   X'^k_ij = phi'^k_ij A^k_i E'^k_j / P'^k_j^(1-σ_k)
//! F^k_i = ln Σ_j X'^k_ij − ln Y'^k_i = 0
//! ```
//!
//! Its Jacobian, with `w^k_ij = X'^k_ij / Σ_l X'^k_il` (the exporter's sales
//! shares), `c^k_lj = phi'^k_lj A^k_l / P'^k_j^(1-σ_k)` (the importer's
//! purchase shares), `S = Σ T`, `G = Σ φ T`:
//!
//! ```text
//! ∂F^k_i/∂z^m_l = −σ_k δ_km δ_il + Y'^m_l (1/S − φ_l/G) + w^k_il Y'^m_l / T_l
//!                 − δ_km (1−σ_k) Σ_j w^k_ij c^k_lj
//! ```
//!
//! `F` is homogeneous of degree 0 in `p̂` and `Σ Y' (e^F − 1) = 0` (Walras'
//! law), so one `z` is held at 0 and its equation dropped; the price level
//! is set afterwards by the numeraire (the reference country's consumer
//! price index `P̂_r = Π_k (P̂^k_r)^(s^k_r) = 1`). Newton steps are
//! backtracked on `‖F‖²` (or accepted when the largest residual falls); if
//! a step fails, the damped fixed point
//! `p̂^k_i ← p̂^k_i (D^k_i)^(damping/σ_k)`, `D^k_i = Σ_j X'^k_ij / Y'^k_i`
//! (renormalised each step), continues from the last iterate.

use super::baseline::{GeMethod, GeParams};
use crate::error::{Error, ErrorKind, Result};
use nalgebra::{DMatrix, DVector};

/// The most Newton steps tried before handing over to the fixed point.
const MAX_NEWTON_STEPS: usize = 100;

/// The largest change of a log price in one Newton step.
const MAX_LOG_STEP: f64 = 2.0;

/// One sector of the market-clearing system.
pub(crate) struct Sector<'a> {
    /// Counterfactual costs `phi'^k`, row-major `N×N`.
    pub phi: &'a [f64],
    /// Baseline `a^k_i = (Y^k_i/Y^k)/Π^k_i^(1-σ_k)`.
    pub a: Vec<f64>,
    /// Baseline output `Y^k_i`.
    pub output: &'a [f64],
    /// Expenditure shares `s^k_j` (summing to 1 over sectors).
    pub share: Vec<f64>,
    /// Baseline `P^k_r^(1-σ_k)` of the reference country.
    pub inward_pow_ref: f64,
    /// `σ_k`.
    pub sigma: f64,
}

/// The system: sectors, trade-imbalance ratios `φ_j`, the reference.
pub(crate) struct Market<'a> {
    pub sectors: Vec<Sector<'a>>,
    /// `φ_j = E_j / Σ_k Y^k_j`.
    pub ratio: Vec<f64>,
    pub reference: usize,
}

/// The state at given prices (per sector, country-indexed).
pub(crate) struct State {
    /// `A^k_i`.
    pub big_a: Vec<Vec<f64>>,
    /// `Y'^k_i`.
    pub output: Vec<Vec<f64>>,
    /// `E'^k_j`.
    pub expenditure: Vec<Vec<f64>>,
    /// `P'^k_j^(1-σ_k)`.
    pub inward_pow: Vec<Vec<f64>>,
    /// `D^k_i = Σ_j X'^k_ij / Y'^k_i`.
    pub ratio: Vec<Vec<f64>>,
    /// `max |D − 1|`.
    pub residual: f64,
    /// `T_j`.
    total: Vec<f64>,
}

/// The solution.
pub(crate) struct Solution {
    /// `p̂^k_i`, normalised by the numeraire.
    pub price: Vec<Vec<f64>>,
    /// The state at `price`.
    pub state: State,
    /// Newton plus fixed-point steps.
    pub iterations: usize,
    /// The residual at convergence (before the numeraire's rescaling, which
    /// leaves the system unchanged up to rounding).
    pub residual: f64,
}

impl Market<'_> {
    fn n(&self) -> usize {
        self.ratio.len()
    }

    pub(crate) fn eval(&self, p: &[Vec<f64>]) -> State {
        let n = self.n();
        let k = self.sectors.len();
        let mut big_a = vec![vec![0.0; n]; k];
        let mut output = vec![vec![0.0; n]; k];
        let mut total = vec![0.0; n];
        for (s, sec) in self.sectors.iter().enumerate() {
            for i in 0..n {
                big_a[s][i] = sec.a[i] * p[s][i].powf(1.0 - sec.sigma);
                output[s][i] = p[s][i] * sec.output[i];
                total[i] += output[s][i];
            }
        }
        let mut e_total: Vec<f64> = (0..n).map(|j| self.ratio[j] * total[j]).collect();
        let scale = total.iter().sum::<f64>() / e_total.iter().sum::<f64>();
        e_total.iter_mut().for_each(|e| *e *= scale);
        let mut expenditure = vec![vec![0.0; n]; k];
        let mut inward_pow = vec![vec![0.0; n]; k];
        let mut ratio = vec![vec![0.0; n]; k];
        let mut residual: f64 = 0.0;
        for (s, sec) in self.sectors.iter().enumerate() {
            let phi = sec.phi;
            for j in 0..n {
                expenditure[s][j] = sec.share[j] * e_total[j];
                inward_pow[s][j] = (0..n).map(|l| phi[l * n + j] * big_a[s][l]).sum();
            }
            for i in 0..n {
                // a country that does not produce in the sector (only in a
                // multi-sector world) has no market to clear
                if sec.output[i] == 0.0 {
                    ratio[s][i] = 1.0;
                    continue;
                }
                let demand: f64 = (0..n)
                    .filter(|&j| expenditure[s][j] > 0.0)
                    .map(|j| phi[i * n + j] * big_a[s][i] * expenditure[s][j] / inward_pow[s][j])
                    .sum();
                ratio[s][i] = demand / output[s][i];
                residual = residual.max((ratio[s][i] - 1.0).abs());
            }
        }
        if !residual.is_finite() {
            residual = f64::INFINITY;
        }
        State {
            big_a,
            output,
            expenditure,
            inward_pow,
            ratio,
            residual,
            total,
        }
    }

    /// The factor `c` that makes the reference's consumer price index 1
    /// when every price is multiplied by it (`P'^k` scales by `c`).
    fn numeraire_factor(&self, p: &[Vec<f64>]) -> f64 {
        let n = self.n();
        let r = self.reference;
        let total_share: f64 = self.sectors.iter().map(|s| s.share[r]).sum();
        let ln_cpi: f64 = self
            .sectors
            .iter()
            .enumerate()
            .filter(|(_, sec)| sec.share[r] > 0.0)
            .map(|(s, sec)| {
                let pow: f64 = (0..n)
                    .map(|l| sec.phi[l * n + r] * sec.a[l] * p[s][l].powf(1.0 - sec.sigma))
                    .sum();
                sec.share[r] / total_share * (pow / sec.inward_pow_ref).ln() / (1.0 - sec.sigma)
            })
            .sum();
        (-ln_cpi).exp()
    }

    /// The Jacobian `∂F/∂z` (flattened `s·n + i`), see the module doc.
    fn jacobian(&self, st: &State) -> DMatrix<f64> {
        let n = self.n();
        let k = self.sectors.len();
        let big_s: f64 = st.total.iter().sum();
        let big_g: f64 = (0..n).map(|j| self.ratio[j] * st.total[j]).sum();
        let mut jac = DMatrix::zeros(k * n, k * n);
        // column terms common to every row: Y'^m_l (1/S − φ_l/G)
        for m in 0..k {
            for l in 0..n {
                let g = st.output[m][l] * (1.0 / big_s - self.ratio[l] / big_g);
                for row in 0..k * n {
                    jac[(row, m * n + l)] = g;
                }
            }
        }
        for (s, sec) in self.sectors.iter().enumerate() {
            let phi = sec.phi;
            // w^s_ij and c^s_lj
            let mut w = DMatrix::zeros(n, n);
            let mut c = DMatrix::zeros(n, n);
            for i in 0..n {
                if sec.output[i] == 0.0 {
                    continue; // its row and column are not in the system
                }
                let demand = st.ratio[s][i] * st.output[s][i];
                for j in 0..n {
                    if st.expenditure[s][j] == 0.0 {
                        continue; // no purchases, no shares
                    }
                    let share = phi[i * n + j] * st.big_a[s][i] / st.inward_pow[s][j];
                    c[(i, j)] = share;
                    w[(i, j)] = share * st.expenditure[s][j] / demand;
                }
            }
            let wc = &w * c.transpose();
            for i in 0..n {
                let row = s * n + i;
                jac[(row, row)] -= sec.sigma;
                for m in 0..k {
                    for l in 0..n {
                        jac[(row, m * n + l)] += w[(i, l)] * st.output[m][l] / st.total[l];
                    }
                }
                for l in 0..n {
                    jac[(row, s * n + l)] -= (1.0 - sec.sigma) * wc[(i, l)];
                }
            }
        }
        jac
    }

    /// Whether prices `p` give a finite state once normalised by the
    /// numeraire.
    fn usable(&self, p: &[Vec<f64>]) -> bool {
        let c = self.numeraire_factor(p);
        if !(c.is_finite() && c > 0.0) {
            return false;
        }
        let q: Vec<Vec<f64>> = p
            .iter()
            .map(|row| row.iter().map(|v| v * c).collect())
            .collect();
        q.iter().flatten().all(|v| v.is_finite() && *v > 0.0) && self.eval(&q).residual.is_finite()
    }

    fn merit(st: &State) -> f64 {
        // a country that does not produce has ratio 1: no term
        st.ratio.iter().flatten().map(|d| d.ln().powi(2)).sum()
    }

    /// Newton steps from `p` (in place); returns the steps taken.
    fn newton(&self, p: &mut [Vec<f64>], tol: f64, max_steps: usize) -> usize {
        let n = self.n();
        let k = self.sectors.len();
        // hold the largest baseline output's price
        let mut pin = 0;
        for s in 0..k {
            for i in 0..n {
                if self.sectors[s].output[i] > self.sectors[pin / n].output[pin % n] {
                    pin = s * n + i;
                }
            }
        }
        // prices of what a country does not produce are not unknowns
        let free: Vec<usize> = (0..k * n)
            .filter(|&v| v != pin && self.sectors[v / n].output[v % n] > 0.0)
            .collect();
        let m = free.len();
        let mut st = self.eval(p);
        let mut steps = 0;
        while st.residual > tol && st.residual.is_finite() && steps < max_steps && m > 0 {
            let jac = self.jacobian(&st);
            let reduced = DMatrix::from_fn(m, m, |a, b| jac[(free[a], free[b])]);
            let f = DVector::from_fn(m, |a, _| st.ratio[free[a] / n][free[a] % n].ln());
            let Some(step) = reduced.lu().solve(&(-&f)) else {
                break;
            };
            if !step.iter().all(|v| v.is_finite()) {
                break;
            }
            // at most a factor e^2 per price and step: a (near-)singular
            // system gives huge steps along its null space
            let big = step.amax();
            let step = if big > MAX_LOG_STEP {
                step * (MAX_LOG_STEP / big)
            } else {
                step
            };
            let merit = Self::merit(&st);
            let mut t = 1.0;
            let mut accepted = None;
            for _ in 0..40 {
                let mut trial = p.to_vec();
                for (a, &v) in free.iter().enumerate() {
                    trial[v / n][v % n] *= (t * step[a]).exp();
                }
                let e = self.eval(&trial);
                if e.residual.is_finite()
                    && (Self::merit(&e) <= (1.0 - 1e-4 * t) * merit || e.residual < st.residual)
                {
                    accepted = Some((trial, e));
                    break;
                }
                t *= 0.5;
            }
            let Some((trial, e)) = accepted else {
                break;
            };
            p.clone_from_slice(&trial);
            st = e;
            steps += 1;
        }
        steps
    }

    /// Solves the system: Newton ([`GeMethod::Newton`]), then the damped
    /// fixed point until `max |D − 1| ≤ tol`; prices normalised by the
    /// numeraire.
    pub(crate) fn solve(&self, params: &GeParams, what: &str) -> Result<Solution> {
        let n = self.n();
        let k = self.sectors.len();
        let mut p = vec![vec![1.0; n]; k];
        let mut used = 0;
        if params.method == GeMethod::Newton {
            used = self.newton(&mut p, params.tol, params.max_iter.min(MAX_NEWTON_STEPS));
            if !self.usable(&p) {
                // Newton ran off along a direction the system does not pin
                // down (prices that overflow once normalised): the plain
                // iteration starts afresh, its steps counted after Newton's
                p = vec![vec![1.0; n]; k];
            }
        }
        // Iterations as the plain loop counts them (its first check is of
        // the starting prices); a Newton iterate is checked without a count
        // of its own.
        let offset = used.saturating_sub(1);
        let mut residual = f64::INFINITY;
        for iter in 1.. {
            let total = iter + offset;
            let st = self.eval(&p);
            residual = st.residual;
            if !residual.is_finite() {
                return Err(Error::numerical(
                    ErrorKind::Diverged,
                    format!("{what} became non-finite at iteration {total}"),
                ));
            }
            if residual <= params.tol {
                let c = self.numeraire_factor(&p);
                p.iter_mut().flatten().for_each(|v| *v *= c);
                let state = self.eval(&p);
                if !(state.residual.is_finite() && p.iter().flatten().all(|v| v.is_finite())) {
                    return Err(Error::numerical(
                        ErrorKind::Diverged,
                        format!("{what} became non-finite when normalised by the numeraire"),
                    ));
                }
                return Ok(Solution {
                    price: p,
                    state,
                    iterations: total,
                    residual,
                });
            }
            if total >= params.max_iter {
                break;
            }
            for (s, sec) in self.sectors.iter().enumerate() {
                for i in 0..n {
                    p[s][i] *= st.ratio[s][i].powf(params.damping / sec.sigma);
                }
            }
            let c = self.numeraire_factor(&p);
            p.iter_mut().flatten().for_each(|v| *v *= c);
        }
        Err(Error::NoConvergence {
            solver: what.into(),
            iterations: params.max_iter,
            residual,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 3-sector, 4-country market with trade imbalances, different σ_k
    /// and prices away from 1 (numbers fixed, no randomness).
    /// Per sector, a country-indexed (or pair-indexed) vector.
    type BySector = Vec<Vec<f64>>;

    /// Costs, outputs and baseline `a` per sector.
    fn fixture() -> (BySector, BySector, BySector) {
        let n = 4;
        let phi: Vec<Vec<f64>> = (0..3)
            .map(|s| {
                (0..n * n)
                    .map(|q| {
                        if q % (n + 1) == 0 {
                            1.0
                        } else {
                            0.05 + 0.1 * (((q * 7 + s * 3) % 11) as f64) / 11.0
                        }
                    })
                    .collect()
            })
            .collect();
        let output: Vec<Vec<f64>> = (0..3)
            .map(|s| (0..n).map(|i| 1.0 + ((i * 5 + s * 2) % 7) as f64).collect())
            .collect();
        let a: Vec<Vec<f64>> = (0..3)
            .map(|s| (0..n).map(|i| 0.2 + 0.1 * ((i + s) % 3) as f64).collect())
            .collect();
        (phi, output, a)
    }

    #[test]
    fn the_jacobian_is_the_derivative_of_the_residuals() {
        let n = 4;
        let (phi, output, a) = fixture();
        let sigmas = [5.0, 8.0, 3.5];
        let share = [
            [0.5, 0.6, 0.3, 0.4],
            [0.3, 0.1, 0.5, 0.2],
            [0.2, 0.3, 0.2, 0.4],
        ];
        let market = Market {
            sectors: (0..3)
                .map(|s| Sector {
                    phi: &phi[s],
                    a: a[s].clone(),
                    output: &output[s],
                    share: share[s].to_vec(),
                    inward_pow_ref: 1.0,
                    sigma: sigmas[s],
                })
                .collect(),
            ratio: vec![1.2, 0.8, 1.1, 0.95],
            reference: 0,
        };
        let p: Vec<Vec<f64>> = (0..3)
            .map(|s| {
                (0..n)
                    .map(|i| 0.9 + 0.05 * ((i * 3 + s) % 5) as f64)
                    .collect()
            })
            .collect();
        let jac = market.jacobian(&market.eval(&p));
        let f = |p: &[Vec<f64>]| -> Vec<f64> {
            market
                .eval(p)
                .ratio
                .iter()
                .flatten()
                .map(|d| d.ln())
                .collect()
        };
        let h: f64 = 1e-6;
        for col in 0..3 * n {
            let mut up = p.clone();
            up[col / n][col % n] *= h.exp();
            let mut down = p.clone();
            down[col / n][col % n] *= (-h).exp();
            let (fu, fd) = (f(&up), f(&down));
            for row in 0..3 * n {
                let fd_value = (fu[row] - fd[row]) / (2.0 * h);
                assert!(
                    (jac[(row, col)] - fd_value).abs() < 1e-7,
                    "({row}, {col}): analytic {} vs numerical {fd_value}",
                    jac[(row, col)]
                );
            }
        }
    }
}
