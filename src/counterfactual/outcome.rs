//! Per-country and per-pair outcomes of a counterfactual.

use super::baseline::{solve_baseline, FullGe, GeInfo, GeParams, Resistances};
use super::conditional::solve_conditional;
use super::full::{first_step, solve_full, FullEquilibrium};
use super::world::World;
use crate::error::Result;
use serde::{Deserialize, Serialize};

/// Percentage changes (counterfactual vs baseline) for one country.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CountryOutcome {
    /// Country name.
    pub country: String,
    /// Change in exports `Σ_{j≠i} X_ij` under conditional GE, in %.
    pub exports_change_conditional_pct: f64,
    /// Change in exports under full endowment GE, in %.
    pub exports_change_full_pct: f64,
    /// Change in the factory-gate price `p̂_i`, in % (numeraire `P̂_r = 1`).
    pub factory_price_change_pct: f64,
    /// Change in the inward multilateral resistance `P_i` (full GE), in %.
    pub inward_mr_change_pct: f64,
    /// Change in the outward multilateral resistance `Π_i` (full GE), in %.
    pub outward_mr_change_pct: f64,
    /// Change in real GDP = welfare `Ŵ_i = p̂_i / P̂_i` (full GE), in %.
    pub real_gdp_change_pct: f64,
}

/// Baseline and counterfactual flows for one ordered pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairOutcome {
    /// Exporter name.
    pub exporter: String,
    /// Importer name.
    pub importer: String,
    /// Fitted baseline flow.
    pub baseline: f64,
    /// Conditional-GE flow (new MRs, output and expenditure fixed).
    pub conditional: f64,
    /// Full endowment GE flow.
    pub full: f64,
    /// Partial-equilibrium flow: direct cost effect only,
    /// `X_ij phi'_ij / phi_ij` with MRs and incomes fixed.
    pub partial: f64,
}

/// Everything a counterfactual produces.
#[derive(Debug, Clone, PartialEq)]
pub struct GeOutcome {
    /// One row per country, in world order.
    pub countries: Vec<CountryOutcome>,
    /// One row per ordered pair (domestic included), exporter-major.
    pub pairs: Vec<PairOutcome>,
    /// Baseline MRs.
    pub baseline: Resistances,
    /// Conditional-GE MRs.
    pub conditional: Resistances,
    /// Full-GE equilibrium.
    pub full: FullEquilibrium,
}

impl GeOutcome {
    /// Solver reports: baseline, conditional, full.
    pub fn infos(&self) -> [GeInfo; 3] {
        [
            self.baseline.info,
            self.conditional.info,
            self.full.resistances.info,
        ]
    }
}

fn pct(new: f64, old: f64) -> f64 {
    (new / old - 1.0) * 100.0
}

fn exports(x: &[f64], n: usize, i: usize) -> f64 {
    (0..n).filter(|&j| j != i).map(|j| x[i * n + j]).sum()
}

/// Runs the baseline, conditional and full endowment GE for counterfactual
/// costs `phi_cf` and collects every outcome. `params.full_ge` chooses the
/// full GE: the market-clearing equilibrium (default) or gegravity's first
/// step.
///
/// ```
/// use gravity_model::counterfactual::{solve_counterfactual, GeParams, World};
/// let names: Vec<String> = ["A", "B", "C"].iter().map(|s| s.to_string()).collect();
/// let trade = [50.0, 5.0, 3.0, 4.0, 40.0, 2.0, 3.0, 2.0, 30.0];
/// let phi = vec![1.0, 0.1, 0.05, 0.1, 1.0, 0.04, 0.05, 0.04, 1.0];
/// let world = World::from_trade(names, &trade, phi.clone(), 5.0, 0)?;
/// // an FTA between A and B halves their bilateral trade cost
/// let mut phi_cf = phi;
/// phi_cf[1] *= 1.5;
/// phi_cf[3] *= 1.5;
/// let out = solve_counterfactual(&world, &phi_cf, &GeParams::default())?;
/// assert!(out.countries[0].real_gdp_change_pct > 0.0);
/// assert!(out.countries[2].real_gdp_change_pct < 0.0);
/// # Ok::<(), gravity_model::Error>(())
/// ```
///
/// The one GE solve of a given world and given counterfactual costs; the
/// scenario pipeline ([`crate::simulate::run`]) builds both from a panel
/// and calls this.
///
/// # Errors
///
/// As [`solve_baseline`], [`solve_conditional`] and [`solve_full`].
pub fn solve_counterfactual(world: &World, phi_cf: &[f64], params: &GeParams) -> Result<GeOutcome> {
    let baseline = solve_baseline(world, params)?;
    let conditional = solve_conditional(world, phi_cf, params)?;
    let full = match params.full_ge {
        FullGe::MarketClearing => solve_full(world, &baseline, phi_cf, params)?,
        FullGe::FirstStep => first_step(world, &baseline, &conditional),
    };
    Ok(assemble(world, phi_cf, baseline, conditional, full))
}

fn assemble(
    world: &World,
    phi_cf: &[f64],
    baseline: Resistances,
    conditional: Resistances,
    full: FullEquilibrium,
) -> GeOutcome {
    let n = world.n();
    let sigma = world.sigma;
    let x0 = baseline.flows(&world.phi, &world.output, &world.expenditure);
    let xc = conditional.flows(phi_cf, &world.output, &world.expenditure);
    let xf = full
        .resistances
        .flows(phi_cf, &full.output, &full.expenditure);
    let xp = baseline.flows(phi_cf, &world.output, &world.expenditure);
    let p0 = baseline.inward(sigma);
    let pi0 = baseline.outward(sigma);
    let p1 = full.resistances.inward(sigma);
    let pi1 = full.resistances.outward(sigma);
    let countries = (0..n)
        .map(|i| {
            let p_hat = full.price_change[i];
            CountryOutcome {
                country: world.countries[i].clone(),
                exports_change_conditional_pct: pct(exports(&xc, n, i), exports(&x0, n, i)),
                exports_change_full_pct: pct(exports(&xf, n, i), exports(&x0, n, i)),
                factory_price_change_pct: (p_hat - 1.0) * 100.0,
                inward_mr_change_pct: pct(p1[i], p0[i]),
                outward_mr_change_pct: pct(pi1[i], pi0[i]),
                real_gdp_change_pct: (p_hat / (p1[i] / p0[i]) - 1.0) * 100.0,
            }
        })
        .collect();
    let mut pairs = Vec::with_capacity(n * n);
    for i in 0..n {
        for j in 0..n {
            let k = i * n + j;
            pairs.push(PairOutcome {
                exporter: world.countries[i].clone(),
                importer: world.countries[j].clone(),
                baseline: x0[k],
                conditional: xc[k],
                full: xf[k],
                partial: xp[k],
            });
        }
    }
    GeOutcome {
        countries,
        pairs,
        baseline,
        conditional,
        full,
    }
}
