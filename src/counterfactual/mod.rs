//! SIMULATE: general-equilibrium counterfactuals of the structural gravity
//! model (Yotov, Piermartini, Monteiro & Larch 2016, *An Advanced Guide to
//! Trade Policy Analysis*, Ch. 2; Anderson, Larch & Yotov 2018, "GEPPML").
//!
//! # Brief overview
//!
//! * [`World`]: countries, costs `phi_ij = t_ij^(1-σ)`, output `Y_i`,
//!   expenditure `E_j`, `σ` and a reference country `r`.
//! * [`solve_baseline`] / [`solve_conditional`]: multilateral resistances
//!   (MRs) for given costs with `Y`, `E` fixed.
//! * [`solve_full`]: full endowment GE, factory-gate prices adjust until
//!   markets clear; [`first_step`]: the first pass of that loop, which is
//!   what gegravity 0.3 reports ([`FullGe`] chooses).
//! * [`solve_counterfactual`]: all three plus per-country [`CountryOutcome`] and
//!   per-pair [`PairOutcome`] changes, and the partial-equilibrium effect.
//! * [`shift_phi`]: counterfactual costs for a change in log trade costs.
//! * [`draw_coefficients`], [`run_draws`] / [`run_indexed`],
//!   [`percentile_interval`] (an [`Interval`]), [`quantile`]: Monte Carlo
//!   uncertainty, the one set of these helpers (the scenario pipeline in
//!   [`crate::simulate`] uses them).
//!
//! This module is the pure solver: it knows nothing of files, panels or
//! scenarios (those are [`crate::simulate`]'s).
//!
//! # Equations
//!
//! Structural gravity with `Y = Σ_i Y_i`:
//!
//! ```text
//! X_ij = (Y_i E_j / Y) · phi_ij / (Π_i^(1-σ) P_j^(1-σ))
//! Π_i^(1-σ) = Σ_j phi_ij (E_j / Y) / P_j^(1-σ)
//! P_j^(1-σ) = Σ_i phi_ij (Y_i / Y) / Π_i^(1-σ),      P_r = 1
//! ```
//!
//! The baseline and conditional MRs are found by iterative scaling
//! (RAS/Sinkhorn) on the two balance conditions; the fitted flows then add
//! up to the given `Y_i` and `E_j` exactly (as PPML fitted values with
//! exporter and importer fixed effects do).
//!
//! Full endowment GE (`Y_i = p_i Q_i`, `Q_i` fixed). With
//! `a_i = (Y_i/Y)/Π_i^(1-σ)` from the baseline (that is `(β_i p_i)^(1-σ)`
//! up to a constant), the counterfactual is
//!
//! ```text
//! Y'_i = p̂_i Y_i,   E'_j = κ φ_j Y'_j  (φ_j = E_j/Y_j, κ: Σ E' = Σ Y')
//! P'_j^(1-σ) = Σ_k phi'_kj a_k p̂_k^(1-σ)
//! p̂_i Y_i = Σ_j phi'_ij a_i p̂_i^(1-σ) E'_j / P'_j^(1-σ)     (market clearing)
//! P̂_r = 1                                                  (numeraire)
//! ```
//!
//! solved for `p̂` by the damped fixed point in [`solve_full`]. Real GDP
//! (welfare) changes by `Ŵ_i = p̂_i / P̂_i`, which equals the
//! Arkolakis–Costinot–Rodríguez-Clare formula `π̂_ii^(1/(1-σ))` whenever
//! domestic costs are unchanged (checked in the tests).
//!
//! Every percentage change is `(new/old − 1)·100`. A country with zero
//! baseline exports has a `NaN` export change.

mod baseline;
mod conditional;
mod full;
mod market;
mod newton;
mod outcome;
mod uncertainty;
mod world;

pub use baseline::{solve_baseline, FullGe, GeInfo, GeMethod, GeParams, Resistances};
pub use conditional::solve_conditional;
pub use full::{first_step, solve_full, FullEquilibrium};
pub use outcome::{solve_counterfactual, CountryOutcome, GeOutcome, PairOutcome};
pub use uncertainty::{
    draw_coefficients, percentile_interval, quantile, run_draws, run_indexed, DrawResults, Interval,
};
pub(crate) use uncertainty::{stream, BOOTSTRAP_SALT};
pub(crate) use world::shift_phi_in_place;
pub use world::{shift_phi, World};
