//! Full endowment general equilibrium: factory-gate prices adjust.

use super::baseline::{GeInfo, GeParams, Resistances};
use super::market::{Market, Sector, Solution};
use super::world::{check_phi, World};
use crate::error::Result;

/// The full-GE counterfactual equilibrium.
#[derive(Debug, Clone, PartialEq)]
pub struct FullEquilibrium {
    /// Factory-gate price changes `p̂_i` (numeraire: `P̂_r = 1`).
    pub price_change: Vec<f64>,
    /// Counterfactual output `Y'_i = p̂_i Y_i`.
    pub output: Vec<f64>,
    /// Counterfactual expenditure `E'_j` (see [`solve_full`] for the
    /// treatment of trade imbalances).
    pub expenditure: Vec<f64>,
    /// Counterfactual MRs, normalised `P'_r = 1`.
    pub resistances: Resistances,
}

/// Solves the full endowment GE of Yotov et al. (2016, Ch. 2) / Anderson,
/// Larch & Yotov (2018) for counterfactual costs `phi_cf`.
///
/// With endowments fixed, `Y_i = p_i Q_i`, so `Y'_i = p̂_i Y_i`. With CES
/// demand, `X'_ij = phi'_ij a_i p̂_i^(1-σ) E'_j / P'_j^(1-σ)` where
/// `a_i = (Y_i/Y)/Π_i^(1-σ)` comes from the baseline and
/// `P'_j^(1-σ) = Σ_k phi'_kj a_k p̂_k^(1-σ)`. Market clearing
/// `p̂_i Y_i = Σ_j X'_ij` is solved for `p̂` by Newton's method on
/// `ln p̂` with the analytic Jacobian ([`GeMethod::Newton`](super::GeMethod),
/// the default), continued if a step fails (or with
/// [`GeMethod::FixedPoint`](super::GeMethod) from the start) by the damped
/// fixed point `p̂_i ← p̂_i (D_i)^(damping/σ)`, `D_i = Σ_j X'_ij / (p̂_i Y_i)`,
/// renormalising each step so that `P̂_r = 1`. The stopping rule is
/// `max_i |D_i − 1| ≤ tol`.
///
/// Trade imbalances: expenditure keeps its baseline ratio to output,
/// `E'_j ∝ φ_j Y'_j` with `φ_j = E_j/Y_j`, scaled by one common factor so
/// that world expenditure equals world output (without it market clearing
/// has no solution when `φ ≠ 1`). With balanced trade the factor is 1.
///
/// # Errors
///
/// [`ErrorKind::InvalidWorld`](crate::ErrorKind::InvalidWorld) for an
/// inconsistent world or cost matrix,
/// [`ErrorKind::InvalidOption`](crate::ErrorKind::InvalidOption) for invalid
/// [`GeParams`], [`Error::NoConvergence`](crate::Error::NoConvergence) if the
/// iteration limit is reached first and
/// [`ErrorKind::Diverged`](crate::ErrorKind::Diverged) if the iteration
/// overflows.
pub fn solve_full(
    world: &World,
    baseline: &Resistances,
    phi_cf: &[f64],
    params: &GeParams,
) -> Result<FullEquilibrium> {
    world.validate()?;
    check_phi(&world.countries, phi_cf)?;
    params.check()?;
    let n = world.n();
    let y_world = world.world_output();
    let market = Market {
        sectors: vec![Sector {
            phi: phi_cf,
            a: (0..n)
                .map(|i| world.output[i] / y_world / baseline.outward_pow[i])
                .collect(),
            output: &world.output,
            share: vec![1.0; n],
            inward_pow_ref: baseline.inward_pow[world.reference],
            sigma: world.sigma,
        }],
        ratio: (0..n)
            .map(|j| world.expenditure[j] / world.output[j])
            .collect(),
        reference: world.reference,
    };
    let solution = market.solve(params, "full GE factory-gate prices")?;
    let Solution {
        mut price,
        state,
        iterations,
        residual,
    } = solution;
    let (Some(price_change), Some(output), Some(expenditure), Some(inward_pow)) = (
        price.pop(),
        state.output.into_iter().next(),
        state.expenditure.into_iter().next(),
        state.inward_pow.into_iter().next(),
    ) else {
        // one sector in, one sector out
        unreachable!("a one-sector market has one sector of results")
    };
    let y_cf_world: f64 = output.iter().sum();
    let outward_pow: Vec<f64> = (0..n)
        .map(|i| {
            (0..n)
                .map(|j| phi_cf[i * n + j] * expenditure[j] / y_cf_world / inward_pow[j])
                .sum()
        })
        .collect();
    Ok(FullEquilibrium {
        price_change,
        output,
        expenditure,
        resistances: Resistances {
            outward_pow,
            inward_pow,
            info: GeInfo {
                iterations,
                residual,
                converged: true,
            },
        },
    })
}

/// The first pass of the Yotov et al. (2016, Ch. 2) GE loop, as gegravity
/// 0.3 reports its "full GE" ([`FullGe::FirstStep`](super::FullGe::FirstStep)):
/// the MRs stay at their conditional values, factory-gate prices follow the
/// change in the outward MR, `p̂_i^(1-σ) = Π_i^(1-σ) / Π'_i^(1-σ)`, output
/// `Y'_i = p̂_i Y_i` and expenditure `E'_j = (E_j/Y_j) Y'_j` (no rescaling).
/// A closed form, no iterations: `info` is the conditional solve's.
///
/// ```
/// use gravity_model::counterfactual::*;
/// let names: Vec<String> = ["A", "B", "C"].iter().map(|s| s.to_string()).collect();
/// let trade = [50.0, 5.0, 3.0, 4.0, 40.0, 2.0, 3.0, 2.0, 30.0];
/// let phi = vec![1.0, 0.1, 0.05, 0.1, 1.0, 0.04, 0.05, 0.04, 1.0];
/// let world = World::from_trade(names, &trade, phi.clone(), 5.0, 0)?;
/// let mut phi_cf = phi;
/// phi_cf[1] *= 1.5;
/// let params = GeParams::default();
/// let base = solve_baseline(&world, &params)?;
/// let cond = solve_conditional(&world, &phi_cf, &params)?;
/// let step = first_step(&world, &base, &cond);
/// assert_eq!(step.resistances, cond);
/// assert!(step.price_change[0] > 1.0);
/// # Ok::<(), gravity_model::Error>(())
/// ```
pub fn first_step(
    world: &World,
    baseline: &Resistances,
    conditional: &Resistances,
) -> FullEquilibrium {
    let n = world.n();
    let inv = 1.0 / (1.0 - world.sigma);
    let price_change: Vec<f64> = (0..n)
        .map(|i| (baseline.outward_pow[i] / conditional.outward_pow[i]).powf(inv))
        .collect();
    let output: Vec<f64> = (0..n).map(|i| price_change[i] * world.output[i]).collect();
    let expenditure: Vec<f64> = (0..n)
        .map(|j| world.expenditure[j] / world.output[j] * output[j])
        .collect();
    FullEquilibrium {
        price_change,
        output,
        expenditure,
        resistances: conditional.clone(),
    }
}
