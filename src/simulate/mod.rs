//! SIMULATE: from a panel and a fitted structural gravity model to the inputs
//! of a general-equilibrium counterfactual (Yotov, Piermartini, Monteiro &
//! Larch 2016, Chapter 2; Anderson, Larch & Yotov 2018, GEPPML).
//!
//! 1. The baseline is estimated on the panel (PPML with exporter-time,
//!    importer-time and pair fixed effects); its coefficients, their
//!    covariance and the fixed effects are kept.
//! 2. Trade costs in the GE year: `φ_ij = t_ij^(1−σ) = exp(γ_ij + Σ_k β_k x_ijk)`
//!    with `γ_ij` the estimated pair effect. Pairs without one (no trade in
//!    any year, or dropped as separated) get `γ_ij` from a second-stage PPML of
//!    `exp(γ_ij)` on time-invariant gravity covariates with exporter and
//!    importer fixed effects (the book's `tij_no_pair`); every imputed pair is
//!    listed.
//! 3. Output `Y_i = Σ_j X_ij` and expenditure `E_j = Σ_i X_ij` come from the
//!    observed flows of the GE year, domestic flows included: as observed,
//!    imputed from the country's domestic share in its nearest year with a
//!    complete domestic flow (listed), or left out (an international-only
//!    world, which overstates welfare effects; a warning says so).
//! 4. A shock sets a variable to a value for a set of pairs; the
//!    counterfactual costs are `φ'_ij = φ_ij · exp(Σ_k β_k (x'_ijk − x_ijk))`.
//! 5. The pure GE solver ([`crate::counterfactual`], which knows nothing of
//!    files or scenarios) solves the baseline, conditional and full GE; the
//!    intervals come from draws of the policy coefficients or a pair-cluster
//!    bootstrap of the whole pipeline.
//!
//! # Brief overview
//!
//! * [`run`] / [`run_with_progress`] / [`run_with_fit`]: a [`Scenario`] end to
//!   end, giving a [`Counterfactual`]; with `[[sector]]` tables ([`SectorSpec`])
//!   a multi-sector GE (`sectors.rs`; [`run_sectors_with_fits`] on fits already
//!   made), whose [`Counterfactual::sectors`] hold a [`SectorResult`] each.
//! * [`Scenario`] (`scenario.rs`): the TOML file, every option typed when it
//!   is read ([`Uncertainty`], [`Costs`], [`Domestic`],
//!   [`FullGe`], [`VcovSpec`](crate::VcovSpec)),
//!   and its [`Shock`]s.
//! * [`ge_data`] / [`GeData`] (`costs.rs`): the GE cross-section and its trade
//!   costs built from a fit; [`shocked_phi`] with [`PolicyChange`]s.
//! * `draws.rs` and `bootstrap.rs`: the coefficient draws and the pair
//!   bootstrap, on the GE module's one set of draw/quantile/shift helpers.
//! * [`Counterfactual`] (`results.rs`): per country a [`CountryResult`] with
//!   named [`CountryChanges`] and their [`Interval`]s, per pair a
//!   [`PairResult`], the [`PolicyCoefficient`]s and every [`Imputed`] value.
//! * [`conditional_by_ppml`] (`geppml.rs`): the GEPPML cross-check.

mod bootstrap;
mod costs;
mod draws;
mod geppml;
mod results;
mod scenario;
mod sectors;

pub use costs::{
    check_unique_keys, ge_data, ge_data_with_gdp, shocked_phi, GdpTable, GeData, PanelKeys,
    PolicyChange, SecondStage,
};
pub use geppml::conditional_by_ppml;
pub use results::{
    Counterfactual, CountryChanges, CountryIntervals, CountryResult, DomesticCheck, Imputed,
    ImputedKind, Interval, PairResult, PolicyCoefficient, Quantity, SectorResult,
};
pub use scenario::{
    Costs, Countries, Domestic, IntervalMethod, Scenario, SectorSpec, Shock, Uncertainty,
    MAX_DRAWS, MIN_SIGMA,
};
pub use sectors::run_sectors_with_fits;

use crate::counterfactual::{FullGe, GeOutcome, GeParams, PairOutcome, World};
use crate::data::Frame;
use crate::error::{Error, ErrorKind, Result};
use crate::fit::{Estimator, Fit, FitOptions};
use crate::formula::Formula;
use bootstrap::pair_bootstrap;
use draws::{coefficient_draws, intervals_of, Draw};
use results::check_finite;

/// The per-country quantities of one counterfactual solve (the GE
/// module's outcome plus the partial-equilibrium export change, from the
/// pairs), and the outcome itself.
fn solve_once(
    world: &World,
    phi_cf: &[f64],
    params: &GeParams,
) -> Result<(Vec<CountryChanges>, GeOutcome)> {
    let n = world.n();
    let out = crate::counterfactual::solve_counterfactual(world, phi_cf, params)?;
    let rows = (0..n)
        .map(|i| {
            let ex = |f: &dyn Fn(&PairOutcome) -> f64| -> f64 {
                (0..n)
                    .filter(|&j| j != i)
                    .map(|j| f(&out.pairs[i * n + j]))
                    .sum()
            };
            let x0 = ex(&|p| p.baseline);
            let pe = if x0 > 0.0 {
                100.0 * (ex(&|p| p.partial) / x0 - 1.0)
            } else {
                0.0
            };
            let c = &out.countries[i];
            CountryChanges {
                exports_change_partial_pct: pe,
                exports_change_conditional_pct: c.exports_change_conditional_pct,
                exports_change_full_pct: c.exports_change_full_pct,
                factory_price_change_pct: c.factory_price_change_pct,
                inward_mr_change_pct: c.inward_mr_change_pct,
                outward_mr_change_pct: c.outward_mr_change_pct,
                real_gdp_change_pct: c.real_gdp_change_pct,
            }
        })
        .collect();
    Ok((rows, out))
}

/// Runs a scenario end to end: read the panel, estimate the baseline, build
/// the GE year, solve the baseline, conditional and full GE, and draw the
/// intervals.
///
/// ```no_run
/// use gravity_model::simulate::Scenario;
/// let scenario = Scenario::from_toml_path("examples/agtpa_nafta.toml")?;
/// let cf = gravity_model::simulate::run(&scenario)?;
/// for c in &cf.countries {
///     println!("{}: real GDP {:+.3}%", c.country, c.changes.real_gdp_change_pct);
/// }
/// # Ok::<(), gravity_model::Error>(())
/// ```
///
/// # Errors
///
/// Whatever the steps refuse: an invalid scenario ([`Error::Scenario`],
/// naming the key), an unreadable or malformed panel ([`Error::Io`],
/// [`Error::Data`], [`Error::Formula`]), a baseline estimation that fails or
/// does not converge ([`ErrorKind::NoConvergence`]), an inconsistent GE world
/// ([`ErrorKind::InvalidWorld`]), a GE that does not converge
/// ([`Error::NoConvergence`]), a covariance that cannot be drawn from
/// ([`ErrorKind::NotPositiveDefinite`]) or a non-finite result
/// ([`ErrorKind::NonFinite`]). A draw that fails is counted in
/// [`Counterfactual::draws_failed`], not an error.
pub fn run(scenario: &Scenario) -> Result<Counterfactual> {
    run_with_progress(scenario, &|| {})
}

/// As [`run`], calling `progress` once per finished draw (for a progress
/// bar).
///
/// # Errors
///
/// As [`run`].
pub fn run_with_progress(
    scenario: &Scenario,
    progress: &(dyn Fn() + Sync),
) -> Result<Counterfactual> {
    use crate::vcov::SmallSample;
    scenario.validate()?;
    if !scenario.sectors.is_empty() {
        return sectors::run_sectors(scenario, progress);
    }
    let formula = Formula::parse(&scenario.formula)?;
    let csv = crate::data::CsvOptions::default();
    // One read of the file: the formula's columns are checked against the
    // header of the same read that gives the rows.
    let frame = Frame::read_path_with(&scenario.data, &csv, |header| {
        formula.check_columns(header)?;
        Ok(None)
    })?;
    let vcov = &scenario.vcov;
    let ssc = match &scenario.ssc {
        Some(s) => *s,
        None => SmallSample::fixest(),
    };
    let options = FitOptions::default().vcov(vcov.clone()).ssc(ssc);
    let baseline = crate::fit::fit(&frame, &formula, Estimator::Ppml, &options)?;
    if !baseline.info.converged {
        return Err(Error::numerical(
            ErrorKind::NoConvergence,
            "the baseline estimation did not converge; no counterfactual is computed".into(),
        ));
    }
    let inference = baseline.summary()?;
    run_with_fit(scenario, &frame, &baseline, &inference, progress)
}

/// [`run_with_progress`] on an already loaded panel and an already estimated
/// baseline (its `formula` must be the scenario's; `inference` gives the
/// covariance the coefficient draws use).
///
/// # Errors
///
/// As [`run`], less the reading and the estimation of the baseline.
pub fn run_with_fit(
    scenario: &Scenario,
    frame: &Frame,
    baseline: &Fit,
    inference: &crate::vcov::Inference,
    progress: &(dyn Fn() + Sync),
) -> Result<Counterfactual> {
    scenario.validate()?;
    let defaults = PanelKeys::default();
    let keys = PanelKeys {
        exporter: scenario.exporter.clone().unwrap_or(defaults.exporter),
        importer: scenario.importer.clone().unwrap_or(defaults.importer),
        year: scenario.time.clone().unwrap_or(defaults.year),
    };
    let year = scenario.year.ok_or_else(|| Error::Scenario {
        key: "year".into(),
        message: "the scenario needs the year of the GE cross-section".into(),
    })?;
    let domestic = scenario.domestic;
    let gdp = match &scenario.gdp {
        Some(path) => Some(GdpTable::read_csv(path)?),
        None => None,
    };
    let data = ge_data_with_gdp(
        frame,
        baseline,
        &keys,
        year as f64,
        domestic,
        &scenario.impute_pair_effects,
        gdp.as_ref(),
    )?;
    let countries = data.countries.clone();
    let n = countries.len();
    let reference = countries
        .iter()
        .position(|c| *c == scenario.reference)
        .ok_or_else(|| Error::Scenario {
            key: "reference".into(),
            message: format!("unknown country '{}' in {year}", scenario.reference),
        })?;
    let Policy {
        beta,
        changes: changes_spec,
        mut coefficients,
        random,
        shocked,
    } = policy(
        scenario,
        &data,
        baseline,
        inference,
        &countries,
        &Default::default(),
    )?;
    let mut data = data;
    if scenario.costs == Costs::Calibrated {
        costs::calibrate(&mut data);
    }
    let world = World::from_trade(
        countries.clone(),
        &data.flows,
        data.phi.clone(),
        scenario.sigma,
        reference,
    )?;
    let params = GeParams {
        tol: scenario.tolerance.unwrap_or(GeParams::default().tol),
        max_iter: scenario.max_iter.unwrap_or(GeParams::default().max_iter),
        full_ge: scenario.full_ge,
        method: scenario.solver,
        ..GeParams::default()
    };
    let phi_cf = shocked_phi(&data, &beta, &changes_spec);
    // A solve that does not converge is an error: no unconverged number is
    // ever reported.
    let (point, outcome) = solve_once(&world, &phi_cf, &params)?;
    let [_, _, full_info] = outcome.infos();
    // The intervals: Monte Carlo over the estimated policy coefficients
    // (β ~ N(β̂, V̂)) or the pair bootstrap of the whole pipeline.
    let draw_results: Vec<Option<Draw>> = match scenario.uncertainty {
        Uncertainty::PairBootstrap { draws, seed } => pair_bootstrap(
            scenario,
            draws,
            seed,
            frame,
            baseline,
            &keys,
            domestic,
            year,
            &data,
            &countries,
            &world,
            &params,
            gdp.as_ref(),
            progress,
        )?,
        Uncertainty::CoefficientDraws { draws, seed } if !random.is_empty() => coefficient_draws(
            &data,
            &world,
            &params,
            &beta,
            &inference.vcov,
            &random,
            &changes_spec,
            (draws, seed),
            progress,
        )?,
        _ => Vec::new(),
    };
    let draws_failed = draw_results.iter().filter(|r| r.is_none()).count();
    let intervals = intervals_of(&draw_results, n);
    // The spread of each policy coefficient over the draws that converged:
    // with `uncertainty = "pairs"` the bootstrap standard error.
    let ok: Vec<&Vec<f64>> = draw_results
        .iter()
        .flatten()
        .map(|d| &d.coefficients)
        .collect();
    if ok.len() > 1 {
        for (k, c) in coefficients.iter_mut().enumerate() {
            let v: Vec<f64> = ok.iter().map(|b| b[k]).collect();
            let mean = v.iter().sum::<f64>() / v.len() as f64;
            let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (v.len() - 1) as f64;
            c.draws_mean = Some(mean);
            c.draws_std_error = Some(var.sqrt());
        }
    }
    let mut notes = data.notes.clone();
    if params.full_ge == FullGe::FirstStep {
        notes.push(
            "full_ge = \"first_step\": the full-GE columns are the first pass of the Yotov et al. \
             (2016) loop, as gegravity 0.3 reports them (conditional MRs, p̂ = 1/Π̂); markets do \
             not clear at the new incomes"
                .into(),
        );
    }
    if draws_failed > 0 {
        notes.push(format!(
            "{draws_failed} of {} draws did not converge and are left out of the intervals",
            scenario.uncertainty.draws()
        ));
    }
    let countries_out: Vec<CountryResult> = (0..n)
        .map(|i| CountryResult {
            country: countries[i].clone(),
            changes: point[i],
            intervals: intervals.as_ref().map(|iv| iv[i]),
        })
        .collect();
    let pairs: Vec<PairResult> = outcome
        .pairs
        .iter()
        .enumerate()
        .map(|(k, p)| PairResult {
            exporter: p.exporter.clone(),
            importer: p.importer.clone(),
            shocked: shocked[k],
            baseline: p.baseline,
            partial: p.partial,
            conditional: p.conditional,
            full: p.full,
        })
        .collect();
    check_finite(&countries_out, &pairs, &coefficients)?;
    Ok(Counterfactual {
        year,
        sigma: scenario.sigma,
        reference: scenario.reference.clone(),
        iterations: full_info.iterations,
        residual: full_info.residual,
        coefficients,
        countries: countries_out,
        pairs,
        draws: scenario.uncertainty.draws(),
        uncertainty: scenario.uncertainty.method(),
        draws_failed,
        imputed: data.imputed,
        second_stage: data.second_stage,
        notes,
        baseline_nobs: baseline.nobs(),
        sectors: Vec::new(),
    })
}

/// The shocks of a scenario as policy changes on one GE cross-section.
pub(crate) struct Policy {
    /// The coefficients used (the estimates, overrides in place).
    pub beta: Vec<f64>,
    /// One change per shock.
    pub changes: Vec<PolicyChange>,
    /// The coefficient of each shock, as reported.
    pub coefficients: Vec<PolicyCoefficient>,
    /// Coefficients drawn in the Monte Carlo (not overridden).
    pub random: Vec<usize>,
    /// Whether a shock applies to each pair (row-major).
    pub shocked: Vec<bool>,
}

/// Shocks → policy changes and coefficients; `overrides` (a sector's
/// `coefficients`) take precedence over a shock's own `coefficient`.
pub(crate) fn policy(
    scenario: &Scenario,
    data: &GeData,
    baseline: &Fit,
    inference: &crate::vcov::Inference,
    countries: &[String],
    overrides: &std::collections::BTreeMap<String, f64>,
) -> Result<Policy> {
    let n = countries.len();
    let mut beta: Vec<f64> = baseline.beta.clone();
    let mut changes_spec = Vec::new();
    let mut coefficients = Vec::new();
    let mut random: Vec<usize> = Vec::new();
    let mut shocked = vec![false; n * n];
    for (k, s) in scenario.shocks.iter().enumerate() {
        let idx = data
            .policy
            .iter()
            .position(|(name, _)| *name == s.variable)
            .ok_or_else(|| Error::Scenario {
                key: format!("shock[{k}].variable"),
                message: format!(
                    "'{}' is not a regressor of the baseline formula ({})",
                    s.variable,
                    baseline.names.join(", ")
                ),
            })?;
        let pairs: Vec<usize> = s
            .pairs_at(k, countries)?
            .into_iter()
            .map(|(i, j)| i * n + j)
            .collect();
        for &p in &pairs {
            shocked[p] = true;
        }
        let row = inference.coef(&s.variable);
        match overrides.get(&s.variable).copied().or(s.coefficient) {
            Some(c) => {
                beta[idx] = c;
                coefficients.push(PolicyCoefficient {
                    variable: s.variable.clone(),
                    estimate: c,
                    std_error: 0.0,
                    overridden: true,
                    draws_mean: None,
                    draws_std_error: None,
                });
            }
            None => {
                if !random.contains(&idx) {
                    random.push(idx);
                }
                coefficients.push(PolicyCoefficient {
                    variable: s.variable.clone(),
                    estimate: beta[idx],
                    std_error: row.map_or(0.0, |r| r.std_error),
                    overridden: false,
                    draws_mean: None,
                    draws_std_error: None,
                });
            }
        }
        changes_spec.push(PolicyChange {
            policy: idx,
            pairs,
            value: s.value,
        });
    }
    Ok(Policy {
        beta,
        changes: changes_spec,
        coefficients,
        random,
        shocked,
    })
}
