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
//! * [`MultiWorld`] of [`SectorWorld`]s and
//!   [`solve_multisector_counterfactual`]: the multi-sector endowment GE
//!   (per-sector costs, `σ_k` and resistances; Cobb-Douglas expenditure),
//!   giving a [`MultiOutcome`]: per country ([`MultiCountryOutcome`]: real
//!   income, consumer prices, output and exports over all sectors), per
//!   sector ([`SectorOutcome`], [`SectorCountryOutcome`]) and per pair.
//! * [`GeMethod`]: Newton's method (default) or the plain iterations.
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
//! # Solving
//!
//! By default ([`GeMethod::Newton`]) both systems are solved by Newton's
//! method in logs: the resistances on the convex dual of the scaling
//! problem (its Hessian is dense `N×N`), the prices on the market-clearing
//! conditions with their analytic Jacobian (`KN×KN` with `K` sectors); each
//! step is backtracked, and if one fails the plain iteration (RAS, the damped
//! price fixed point) continues from the last iterate. The plain iterations
//! converge linearly at a rate that tends to 1 as trade becomes home-biased
//! (a 69-country world with `phi = d^-5` needs 69,523 RAS steps for the
//! baseline and 48,617 price steps; Newton 6 and 2). The stopping rule is the
//! same (`tol` on the largest relative residual), so both give the same
//! solution to the precision the residual implies.
//!
//! # Multi-sector endowment general equilibrium
//!
//! Sectors `k = 1…K` (Anderson & Yotov 2016, "Terms of trade and global
//! efficiency effects of free trade agreements"; the Guide's Chapter 2 with a
//! sector index). Each sector has costs `phi^k_ij = (t^k_ij)^(1-σ_k)`, fixed
//! endowments (`Y^k_i = p^k_i Q^k_i`), its own resistances and `σ_k`;
//! consumers spend fixed Cobb-Douglas shares `s^k_j = E^k_j / E_j` of their
//! expenditure `E_j = Σ_k E^k_j` on each sector. Per sector, with
//! `Y^k = Σ_i Y^k_i`,
//!
//! ```text
//! X^k_ij = (Y^k_i E^k_j / Y^k) · phi^k_ij / (Π^k_i^(1-σ_k) P^k_j^(1-σ_k))
//! Π^k_i^(1-σ_k) = Σ_j phi^k_ij (E^k_j / Y^k) / P^k_j^(1-σ_k)
//! P^k_j^(1-σ_k) = Σ_i phi^k_ij (Y^k_i / Y^k) / Π^k_i^(1-σ_k),     P^k_r = 1
//! ```
//!
//! (baseline and conditional GE: each sector on its own, as above). In the
//! full GE, with `a^k_i = (Y^k_i/Y^k)/Π^k_i^(1-σ_k)` from the baseline and
//! `φ_j = E_j / Σ_k Y^k_j` the trade-imbalance factor,
//!
//! ```text
//! Y'^k_i = p̂^k_i Y^k_i
//! E'_j   = κ φ_j Σ_k Y'^k_j     (κ: Σ_j E'_j = Σ_j Σ_k Y'^k_j),   E'^k_j = s^k_j E'_j
//! P'^k_j^(1-σ_k) = Σ_i phi'^k_ij a^k_i p̂^k_i^(1-σ_k)
//! p̂^k_i Y^k_i = Σ_j phi'^k_ij a^k_i p̂^k_i^(1-σ_k) E'^k_j / P'^k_j^(1-σ_k)   (every k, i)
//! P̂_r = Π_k (P̂^k_r)^(s^k_r) = 1                                          (numeraire)
//! ```
//!
//! solved for the `K·N` prices `p̂^k_i`. A country's consumer price index is
//! `P_i = Π_k (P^k_i)^(s^k_i)` and its real income `W_i = Σ_k Y^k_i / P_i`,
//! so `Ŵ_i = (Σ_k Y'^k_i / Σ_k Y^k_i) / Π_k (P̂^k_i)^(s^k_i)`. With one sector
//! this is the one-sector model above (`s = 1`, `Ŵ_i = p̂_i / P̂_i`).
//!
//! Every percentage change is `(new/old − 1)·100`. A country with zero
//! baseline exports has a `NaN` export change.

mod baseline;
mod conditional;
mod full;
mod market;
mod multisector;
mod newton;
mod outcome;
mod uncertainty;
mod world;

pub use baseline::{solve_baseline, FullGe, GeInfo, GeMethod, GeParams, Resistances};
pub use conditional::solve_conditional;
pub use full::{first_step, solve_full, FullEquilibrium};
pub use multisector::{
    solve_multisector_counterfactual, MultiCountryOutcome, MultiOutcome, MultiWorld,
    SectorCountryOutcome, SectorOutcome, SectorWorld,
};
pub use outcome::{solve_counterfactual, CountryOutcome, GeOutcome, PairOutcome};
pub use uncertainty::{
    draw_coefficients, percentile_interval, quantile, run_draws, run_indexed, DrawResults, Interval,
};
pub(crate) use uncertainty::{stream, BOOTSTRAP_SALT};
pub(crate) use world::shift_phi_in_place;
pub use world::{shift_phi, World};
