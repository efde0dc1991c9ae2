//! SIMULATE: the structural gravity system in general equilibrium, solved
//! directly (Anderson & van Wincoop 2003; Yotov, Piermartini, Monteiro &
//! Larch 2016, Chapter 2; Anderson, Larch & Yotov 2018).
//!
//! With `φ_ij = t_ij^(1−σ)`, output `Y_i`, expenditure `E_j`, world output
//! `Y = Σ_i Y_i` and shares `y_i = Y_i / Y`, `e_j = E_j / Y`:
//!
//! ```text
//!   X_ij = Y · y_i e_j · φ_ij / (Π_i^(1−σ) P_j^(1−σ))
//!   Π_i^(1−σ) = Σ_j φ_ij e_j / P_j^(1−σ)        (outward multilateral resistance)
//!   P_j^(1−σ) = Σ_i φ_ij y_i / Π_i^(1−σ)        (inward multilateral resistance)
//! ```
//!
//! normalised by `P_r = 1` for the reference country `r`. The **baseline**
//! and the **conditional** GE (output and expenditure fixed) solve the
//! resistances by iterative proportional fitting. The **full endowment** GE
//! lets factory-gate prices adjust: with endowments fixed, `Ŷ_i = p̂_i`,
//! expenditure follows output (`E_j / Y_j` fixed), and market clearing
//! `Y_i / Y = (β_i p_i)^(1−σ) Π_i^(1−σ)` gives, in changes,
//!
//! ```text
//!   p̂_i = (Ŷ · Π̂_i^(1−σ))^(1/σ)
//! ```
//!
//! solved jointly with the resistances by a damped fixed point in logs, to a
//! tight tolerance on both the price update and market clearing. Real GDP
//! (welfare) changes by `p̂_i / P̂_i`.

use crate::error::{Error, Result};
use serde::Serialize;

/// Solver parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeParams {
    /// Relative tolerance on prices and market clearing (default 1e-8).
    pub tol: f64,
    /// Maximum iterations (default 100,000).
    pub max_iter: usize,
    /// Damping of the price update in logs, in (0, 1] (default 1: the
    /// price map contracts by about `1/σ` per step once the resistances are
    /// solved at each step).
    pub damping: f64,
}

impl Default for GeParams {
    fn default() -> Self {
        GeParams {
            tol: 1e-8,
            max_iter: 100_000,
            damping: 1.0,
        }
    }
}

/// How a solve ended.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GeInfo {
    /// Iterations used.
    pub iterations: usize,
    /// Final relative residual (largest of price change and excess demand).
    pub residual: f64,
    /// True if `residual ≤ tol`.
    pub converged: bool,
    /// Sweeps of the resistance equations, over all iterations.
    pub sweeps: usize,
}

/// An equilibrium: resistances (in the `1−σ` power), prices and flows.
#[derive(Debug, Clone, PartialEq)]
pub struct Equilibrium {
    /// `Π_i^(1−σ)`.
    pub outward: Vec<f64>,
    /// `P_j^(1−σ)` (reference country = 1).
    pub inward: Vec<f64>,
    /// Factory-gate price changes `p̂_i` relative to the baseline (1 in the
    /// baseline and in conditional GE).
    pub price: Vec<f64>,
    /// Output `Y_i`.
    pub output: Vec<f64>,
    /// Expenditure `E_j`.
    pub expenditure: Vec<f64>,
    /// Flows `X_ij`, row-major.
    pub flows: Vec<f64>,
    /// Convergence.
    pub info: GeInfo,
}

/// The world the system is solved on.
#[derive(Debug, Clone, PartialEq)]
pub struct World {
    /// Number of countries.
    pub n: usize,
    /// `φ_ij = t_ij^(1−σ)`, row-major.
    pub phi: Vec<f64>,
    /// Output `Y_i` in the baseline.
    pub output: Vec<f64>,
    /// Expenditure `E_j` in the baseline.
    pub expenditure: Vec<f64>,
    /// Elasticity of substitution `σ > 1`.
    pub sigma: f64,
    /// Index of the reference country (`P_r = 1`).
    pub reference: usize,
}

impl World {
    /// A world from observed flows `X_ij` (row-major): `Y_i = Σ_j X_ij`,
    /// `E_j = Σ_i X_ij`.
    pub fn from_flows(flows: &[f64], phi: Vec<f64>, sigma: f64, reference: usize) -> Result<Self> {
        let n = (phi.len() as f64).sqrt() as usize;
        if n * n != phi.len() || flows.len() != phi.len() {
            return Err(Error::Bug("flows and φ must be N × N".into()));
        }
        if sigma <= 1.0 || !sigma.is_finite() {
            return Err(Error::Scenario {
                key: "sigma".into(),
                message: format!("the elasticity of substitution must be above 1, found {sigma}"),
            });
        }
        if reference >= n {
            return Err(Error::Bug("reference country out of range".into()));
        }
        let output = (0..n)
            .map(|i| (0..n).map(|j| flows[i * n + j]).sum())
            .collect();
        let expenditure = (0..n)
            .map(|j| (0..n).map(|i| flows[i * n + j]).sum())
            .collect();
        Ok(World {
            n,
            phi,
            output,
            expenditure,
            sigma,
            reference,
        })
    }
}

/// Solves the resistances for given shares by iterative proportional
/// fitting, warm-started from `a`, `b`; returns the iterations and residual.
fn resistances(
    n: usize,
    phi: &[f64],
    y: &[f64],
    e: &[f64],
    a: &mut [f64],
    b: &mut [f64],
    reference: usize,
    tol: f64,
    max_iter: usize,
) -> (usize, f64) {
    let mut residual = f64::INFINITY;
    for it in 1..=max_iter {
        // Π_i^(1−σ) = Σ_j φ_ij e_j / P_j^(1−σ). The relative change of a_i is
        // exactly the output-market excess demand of the previous state.
        residual = 0.0;
        for i in 0..n {
            let row = &phi[i * n..(i + 1) * n];
            let s: f64 = row
                .iter()
                .zip(e)
                .zip(b.iter())
                .map(|((f, e), b)| f * e / b)
                .sum();
            let v = if s > 0.0 { s } else { 1.0 };
            if y[i] > 0.0 {
                residual = f64::max(residual, (v / a[i] - 1.0).abs());
            }
            a[i] = v;
        }
        // P_j^(1−σ) = Σ_i φ_ij y_i / Π_i^(1−σ)
        let mut bn = vec![0.0; n];
        for i in 0..n {
            let w = y[i] / a[i];
            if w == 0.0 {
                continue;
            }
            let row = &phi[i * n..(i + 1) * n];
            for j in 0..n {
                bn[j] += row[j] * w;
            }
        }
        let scale = if bn[reference] > 0.0 {
            1.0 / bn[reference]
        } else {
            1.0
        };
        for j in 0..n {
            b[j] = if bn[j] > 0.0 { bn[j] * scale } else { 1.0 };
        }
        // Keep X unchanged under the normalisation: a absorbs the scale.
        for v in a.iter_mut() {
            *v /= scale;
        }
        if residual <= tol {
            return (it, residual);
        }
    }
    (max_iter, residual)
}

fn flows_of(
    n: usize,
    phi: &[f64],
    y: &[f64],
    e: &[f64],
    total: f64,
    a: &[f64],
    b: &[f64],
) -> Vec<f64> {
    let mut x = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            x[i * n + j] = total * y[i] * e[j] * phi[i * n + j] / (a[i] * b[j]);
        }
    }
    x
}

/// The baseline (or conditional) equilibrium: output and expenditure fixed.
pub fn conditional(world: &World, phi: &[f64], params: &GeParams) -> Equilibrium {
    let n = world.n;
    let total: f64 = world.output.iter().sum();
    let y: Vec<f64> = world.output.iter().map(|v| v / total).collect();
    let e: Vec<f64> = world.expenditure.iter().map(|v| v / total).collect();
    let mut a = vec![1.0; n];
    let mut b = vec![1.0; n];
    let (iterations, residual) = resistances(
        n,
        phi,
        &y,
        &e,
        &mut a,
        &mut b,
        world.reference,
        1e-13,
        params.max_iter,
    );
    let flows = flows_of(n, phi, &y, &e, total, &a, &b);
    Equilibrium {
        outward: a,
        inward: b,
        price: vec![1.0; n],
        output: world.output.clone(),
        expenditure: world.expenditure.clone(),
        flows,
        info: GeInfo {
            iterations,
            residual,
            converged: residual <= params.tol,
            sweeps: iterations,
        },
    }
}

/// The full-endowment equilibrium under costs `phi`, relative to `baseline`.
pub fn full(world: &World, baseline: &Equilibrium, phi: &[f64], params: &GeParams) -> Equilibrium {
    let n = world.n;
    let sigma = world.sigma;
    let total0: f64 = world.output.iter().sum();
    let mut a = baseline.outward.clone();
    let mut b = baseline.inward.clone();
    let mut logp: Vec<f64> = vec![0.0; n];
    let mut y = vec![0.0; n];
    let mut e = vec![0.0; n];
    let mut iterations = 0;
    let mut inner_sweeps = 0;
    let mut residual = f64::INFINITY;
    while iterations < params.max_iter {
        iterations += 1;
        let p: Vec<f64> = logp.iter().map(|v| v.exp()).collect();
        let total: f64 = (0..n).map(|i| p[i] * world.output[i]).sum();
        for i in 0..n {
            y[i] = p[i] * world.output[i] / total;
            e[i] = p[i] * world.expenditure[i] / total;
        }
        // The resistances at these prices (warm-started, to well below tol).
        let (sweeps, res_mr) = resistances(
            n,
            phi,
            &y,
            &e,
            &mut a,
            &mut b,
            world.reference,
            1e-13f64.max(params.tol * 1e-3),
            params.max_iter,
        );
        inner_sweeps += sweeps;
        let y_hat = total / total0;
        let mut res_p: f64 = 0.0;
        for i in 0..n {
            if world.output[i] == 0.0 {
                continue;
            }
            let target = (y_hat * a[i] / baseline.outward[i]).ln() / sigma;
            let step = target - logp[i];
            res_p = res_p.max(step.abs());
            logp[i] += params.damping * step;
        }
        residual = res_p.max(res_mr);
        if residual <= params.tol {
            break;
        }
    }
    let p: Vec<f64> = logp.iter().map(|v| v.exp()).collect();
    let total: f64 = (0..n).map(|i| p[i] * world.output[i]).sum();
    for i in 0..n {
        y[i] = p[i] * world.output[i] / total;
        e[i] = p[i] * world.expenditure[i] / total;
    }
    // Polish the resistances at the final prices before forming the flows.
    resistances(
        n,
        phi,
        &y,
        &e,
        &mut a,
        &mut b,
        world.reference,
        1e-13,
        params.max_iter,
    );
    let flows = flows_of(n, phi, &y, &e, total, &a, &b);
    // Market clearing, checked on the final flows.
    let mut excess: f64 = 0.0;
    for i in 0..n {
        let yi = p[i] * world.output[i];
        if yi > 0.0 {
            let s: f64 = (0..n).map(|j| flows[i * n + j]).sum();
            excess = excess.max(((s - yi) / yi).abs());
        }
    }
    let residual = residual.max(excess);
    Equilibrium {
        outward: a,
        inward: b,
        price: p.clone(),
        output: (0..n).map(|i| p[i] * world.output[i]).collect(),
        expenditure: (0..n).map(|i| p[i] * world.expenditure[i]).collect(),
        flows,
        info: GeInfo {
            iterations,
            residual,
            converged: residual <= params.tol,
            sweeps: inner_sweeps,
        },
    }
}

/// Per-country changes between two equilibria, in percent.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Changes {
    /// Exports (Σ over `j ≠ i`).
    pub exports: f64,
    /// Factory-gate price.
    pub factory_price: f64,
    /// Inward multilateral resistance `P`.
    pub inward_mr: f64,
    /// Outward multilateral resistance `Π`.
    pub outward_mr: f64,
    /// Real GDP `p̂ / P̂` (welfare).
    pub real_gdp: f64,
}

/// The changes of `cf` relative to `base` for every country.
pub fn changes(world: &World, base: &Equilibrium, cf: &Equilibrium) -> Vec<Changes> {
    let n = world.n;
    let inv = 1.0 / (1.0 - world.sigma);
    (0..n)
        .map(|i| {
            let ex = |eq: &Equilibrium| -> f64 {
                (0..n)
                    .filter(|&j| j != i)
                    .map(|j| eq.flows[i * n + j])
                    .sum()
            };
            let (x0, x1) = (ex(base), ex(cf));
            let p_hat = cf.price[i] / base.price[i];
            let big_p = (cf.inward[i] / base.inward[i]).powf(inv);
            let big_pi = (cf.outward[i] / base.outward[i]).powf(inv);
            Changes {
                exports: if x0 > 0.0 {
                    100.0 * (x1 / x0 - 1.0)
                } else {
                    0.0
                },
                factory_price: 100.0 * (p_hat - 1.0),
                inward_mr: 100.0 * (big_p - 1.0),
                outward_mr: 100.0 * (big_pi - 1.0),
                real_gdp: 100.0 * (p_hat / big_p - 1.0),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world() -> World {
        // Four countries, asymmetric costs and sizes, domestic flows included.
        let n = 4;
        let mut phi = vec![0.0; n * n];
        let mut flows = vec![0.0; n * n];
        let size = [5.0, 2.0, 1.0, 0.5];
        for i in 0..n {
            for j in 0..n {
                let d = if i == j {
                    0.3
                } else {
                    1.0 + (i as f64 - j as f64).abs()
                };
                phi[i * n + j] = d.powf(-4.0);
                flows[i * n + j] =
                    size[i] * size[j] * phi[i * n + j] * (1.0 + 0.1 * ((i + 2 * j) % 3) as f64);
            }
        }
        World::from_flows(&flows, phi, 5.0, 0).unwrap()
    }

    #[test]
    fn the_baseline_reproduces_output_and_expenditure() {
        let w = world();
        let eq = conditional(&w, &w.phi, &GeParams::default());
        assert!(eq.info.converged);
        for i in 0..w.n {
            let out: f64 = (0..w.n).map(|j| eq.flows[i * w.n + j]).sum();
            let exp: f64 = (0..w.n).map(|j| eq.flows[j * w.n + i]).sum();
            assert!((out / w.output[i] - 1.0).abs() < 1e-10);
            assert!((exp / w.expenditure[i] - 1.0).abs() < 1e-10);
        }
        assert!((eq.inward[0] - 1.0).abs() < 1e-15);
    }

    #[test]
    fn no_shock_changes_nothing() {
        let w = world();
        let p = GeParams::default();
        let base = conditional(&w, &w.phi, &p);
        let f = full(&w, &base, &w.phi, &p);
        assert!(f.info.converged);
        for c in changes(&w, &base, &f) {
            for v in [
                c.exports,
                c.factory_price,
                c.inward_mr,
                c.outward_mr,
                c.real_gdp,
            ] {
                assert!(v.abs() < 1e-10, "{c:?}");
            }
        }
    }

    #[test]
    fn full_ge_welfare_equals_the_domestic_share_formula() {
        // Arkolakis, Costinot & Rodríguez-Clare (2012): Ŵ_i = π̂_ii^(1/(1−σ))
        // when trade is balanced (E_i = Y_i).
        let n = 4;
        let mut phi = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                let d = if i == j {
                    0.3
                } else {
                    1.0 + (i as f64 - j as f64).abs()
                };
                phi[i * n + j] = d.powf(-4.0);
            }
        }
        // Balanced baseline: take the model's own flows with E = Y.
        let size = vec![5.0, 2.0, 1.0, 0.5];
        let w0 = World {
            n,
            phi: phi.clone(),
            output: size.clone(),
            expenditure: size,
            sigma: 5.0,
            reference: 0,
        };
        let p = GeParams::default();
        let base = conditional(&w0, &phi, &p);
        let w = World::from_flows(&base.flows, phi.clone(), 5.0, 0).unwrap();
        let base = conditional(&w, &phi, &p);
        let mut shocked = phi.clone();
        shocked[1] *= 1.6;
        shocked[n] *= 1.6;
        let f = full(&w, &base, &shocked, &p);
        assert!(f.info.converged, "{:?}", f.info);
        let ch = changes(&w, &base, &f);
        for i in 0..n {
            let pi0 = base.flows[i * n + i] / base.expenditure[i];
            let pi1 = f.flows[i * n + i] / f.expenditure[i];
            let acr = 100.0 * ((pi1 / pi0).powf(1.0 / (1.0 - 5.0)) - 1.0);
            assert!(
                (ch[i].real_gdp - acr).abs() < 1e-6,
                "{i}: {} vs {acr}",
                ch[i].real_gdp
            );
        }
        assert!(ch[0].real_gdp > 0.0 && ch[1].real_gdp > 0.0);
    }
}
