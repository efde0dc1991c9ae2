//! A multi-sector scenario (`[[sector]]`): one baseline estimation and one GE
//! cross-section per sector, one multi-sector general equilibrium
//! ([`solve_multisector_counterfactual`]).

use super::costs::{self, ge_data_with_gdp, shocked_phi, GdpTable, PanelKeys};
use super::results::{check_finite, Counterfactual, CountryChanges, CountryResult, PairResult};
use super::scenario::{Costs, Scenario};
use super::{policy, Policy, SectorResult};
use crate::counterfactual::{solve_multisector_counterfactual, GeParams, MultiWorld, SectorWorld};
use crate::data::Frame;
use crate::error::{Error, ErrorKind, Result};
use crate::fit::{Estimator, Fit, FitOptions};
use crate::formula::Formula;
use crate::vcov::Inference;

/// The scenario's formula with `outcome` on its left-hand side.
fn sector_formula(formula: &str, outcome: &str) -> Result<String> {
    let (_, rhs) = formula.split_once('~').ok_or_else(|| {
        Error::scenario(
            "formula",
            "a multi-sector scenario needs a formula `outcome ~ regressors | fixed effects`",
        )
    })?;
    Ok(format!("{outcome} ~{rhs}"))
}

/// A scenario error of one sector's GE cross-section, its message naming
/// the sector.
fn in_sector(e: Error, sector: &str) -> Error {
    match e {
        Error::Scenario { key, message } => Error::Scenario {
            key,
            message: format!("sector {sector}: {message}"),
        },
        other => other,
    }
}

/// Runs a multi-sector scenario end to end (the `[[sector]]` arm of
/// [`super::run_with_progress`]).
pub(super) fn run_sectors(
    scenario: &Scenario,
    _progress: &(dyn Fn() + Sync),
) -> Result<Counterfactual> {
    use crate::vcov::SmallSample;
    let mut formulas = Vec::with_capacity(scenario.sectors.len());
    for sector in &scenario.sectors {
        formulas.push(Formula::parse(&sector_formula(
            &scenario.formula,
            &sector.outcome,
        )?)?);
    }
    let csv = crate::data::CsvOptions::default();
    let frame = Frame::read_path_with(&scenario.data, &csv, |header| {
        for f in &formulas {
            f.check_columns(header)?;
        }
        Ok(None)
    })?;
    let ssc = scenario.ssc.unwrap_or_else(SmallSample::fixest);
    let options = FitOptions::default().vcov(scenario.vcov.clone()).ssc(ssc);
    let mut fits = Vec::with_capacity(formulas.len());
    for (sector, formula) in scenario.sectors.iter().zip(&formulas) {
        let fit = crate::fit::fit(&frame, formula, Estimator::Ppml, &options)?;
        if !fit.info.converged {
            return Err(Error::numerical(
                ErrorKind::NoConvergence,
                format!(
                    "the baseline estimation of sector {} did not converge; no counterfactual is computed",
                    sector.name
                ),
            ));
        }
        let inference = fit.summary()?;
        fits.push((fit, inference));
    }
    let refs: Vec<(&Fit, &Inference)> = fits.iter().map(|(f, i)| (f, i)).collect();
    run_sectors_with_fits(scenario, &frame, &refs)
}

/// A multi-sector scenario (`[[sector]]`) on an already loaded panel and
/// already estimated baselines, one `(fit, inference)` per sector in the
/// scenario's order (each fit's formula must be the scenario's with the
/// sector's outcome on its left; `inference` gives the reported standard
/// errors): the multi-sector counterpart of
/// [`run_with_fit`](super::run_with_fit).
///
/// # Errors
///
/// [`Error::Scenario`] for a scenario without sectors, a number of fits
/// that is not the number of sectors, or sectors whose GE cross-sections
/// differ in their countries; otherwise as [`super::run`], less the reading
/// and the estimation.
pub fn run_sectors_with_fits(
    scenario: &Scenario,
    frame: &Frame,
    fits: &[(&Fit, &Inference)],
) -> Result<Counterfactual> {
    scenario.validate()?;
    if scenario.sectors.is_empty() || fits.len() != scenario.sectors.len() {
        return Err(Error::scenario(
            "sector",
            format!(
                "{} [[sector]] tables and {} baseline fits: one fit per sector is needed",
                scenario.sectors.len(),
                fits.len()
            ),
        ));
    }
    let defaults = PanelKeys::default();
    let keys = PanelKeys {
        exporter: scenario.exporter.clone().unwrap_or(defaults.exporter),
        importer: scenario.importer.clone().unwrap_or(defaults.importer),
        year: scenario.time.clone().unwrap_or(defaults.year),
    };
    let year = scenario.year.ok_or_else(|| {
        Error::scenario(
            "year",
            "the scenario needs the year of the GE cross-section",
        )
    })?;
    let gdp = match &scenario.gdp {
        Some(path) => Some(GdpTable::read_csv(path)?),
        None => None,
    };
    let mut countries: Option<Vec<String>> = None;
    let mut worlds = Vec::new();
    let mut phi_cf = Vec::new();
    let mut per_sector = Vec::new();
    let mut notes = Vec::new();
    let mut imputed = Vec::new();
    let mut nobs = 0;
    for (k, (sector, &(fit, inference))) in scenario.sectors.iter().zip(fits).enumerate() {
        let mut data = ge_data_with_gdp(
            frame,
            fit,
            &keys,
            year as f64,
            scenario.domestic,
            &scenario.impute_pair_effects,
            gdp.as_ref(),
        )
        .map_err(|e| in_sector(e, &sector.name))?;
        match &countries {
            None => countries = Some(data.countries.clone()),
            Some(c) if *c != data.countries => {
                let only = |a: &[String], b: &[String]| -> String {
                    let v: Vec<&str> = a
                        .iter()
                        .filter(|x| !b.contains(x))
                        .map(String::as_str)
                        .take(10)
                        .collect();
                    if v.is_empty() {
                        "none".into()
                    } else {
                        v.join(", ")
                    }
                };
                return Err(Error::scenario(
                    format!("sector[{k}]"),
                    format!(
                        "sector {} has {} countries in {year}, the first sector {}: every sector \
                         needs flows for the same countries (only in {}: {}; only in {}: {})",
                        sector.name,
                        data.countries.len(),
                        c.len(),
                        sector.name,
                        only(&data.countries, c),
                        scenario.sectors[0].name,
                        only(c, &data.countries)
                    ),
                ));
            }
            Some(_) => {}
        }
        let Policy {
            beta,
            changes,
            coefficients,
            shocked,
            ..
        } = policy(
            scenario,
            &data,
            fit,
            inference,
            &data.countries,
            &sector.coefficients,
        )?;
        if scenario.costs == Costs::Calibrated {
            costs::calibrate(&mut data);
        }
        let sigma = sector.sigma.unwrap_or(scenario.sigma);
        phi_cf.push(shocked_phi(&data, &beta, &changes));
        worlds.push(SectorWorld::from_trade(
            sector.name.clone(),
            &data.flows,
            data.phi.clone(),
            sigma,
        )?);
        notes.extend(data.notes.iter().map(|m| format!("{}: {m}", sector.name)));
        imputed.extend(data.imputed.iter().cloned());
        nobs += fit.nobs();
        per_sector.push((coefficients, shocked, fit.nobs(), sigma));
    }
    // A scenario has at least one sector here (the caller's condition).
    let countries = countries.unwrap_or_default();
    let n = countries.len();
    let reference = countries
        .iter()
        .position(|c| *c == scenario.reference)
        .ok_or_else(|| {
            Error::scenario(
                "reference",
                format!("unknown country '{}' in {year}", scenario.reference),
            )
        })?;
    let world = MultiWorld::new(countries.clone(), worlds, reference)?;
    let params = GeParams {
        tol: scenario.tolerance.unwrap_or(GeParams::default().tol),
        max_iter: scenario.max_iter.unwrap_or(GeParams::default().max_iter),
        full_ge: scenario.full_ge,
        method: scenario.solver,
        ..GeParams::default()
    };
    let out = solve_multisector_counterfactual(&world, &phi_cf, &params)?;
    if scenario.uncertainty.draws() > 0 {
        notes.push(
            "multi-sector scenario: no intervals are drawn (point estimates only); the draws \
             option is ignored"
                .into(),
        );
    }
    let mut sectors = Vec::with_capacity(out.sectors.len());
    let mut shocked_any = vec![false; n * n];
    let mut coefficients_all = Vec::new();
    for ((spec, sec), (coefficients, shocked, sector_nobs, sigma)) in
        scenario.sectors.iter().zip(&out.sectors).zip(per_sector)
    {
        for (q, s) in shocked.iter().enumerate() {
            shocked_any[q] |= *s;
        }
        let pairs: Vec<PairResult> = sec
            .pairs
            .iter()
            .zip(&shocked)
            .map(|(p, s)| PairResult {
                exporter: p.exporter.clone(),
                importer: p.importer.clone(),
                shocked: *s,
                baseline: p.baseline,
                partial: p.partial,
                conditional: p.conditional,
                full: p.full,
            })
            .collect();
        check_finite(&[], &pairs, &coefficients)?;
        coefficients_all.extend(coefficients.iter().cloned().map(|mut c| {
            c.variable = format!("{}[{}]", c.variable, spec.name);
            c
        }));
        sectors.push(SectorResult {
            sector: spec.name.clone(),
            outcome: spec.outcome.clone(),
            sigma,
            baseline_nobs: sector_nobs,
            coefficients,
            countries: sec.countries.clone(),
            pairs,
        });
    }
    let countries_out: Vec<CountryResult> = (0..n)
        .map(|i| {
            let c = &out.countries[i];
            let weight: f64 = world.sectors.iter().map(|s| s.output[i]).sum();
            let outward: f64 = world
                .sectors
                .iter()
                .zip(&out.sectors)
                .filter(|(s, _)| s.output[i] > 0.0)
                .map(|(s, o)| s.output[i] / weight * o.countries[i].outward_mr_change_pct)
                .sum();
            CountryResult {
                country: c.country.clone(),
                changes: CountryChanges {
                    exports_change_partial_pct: c.exports_change_partial_pct,
                    exports_change_conditional_pct: c.exports_change_conditional_pct,
                    exports_change_full_pct: c.exports_change_full_pct,
                    factory_price_change_pct: c.output_change_pct,
                    inward_mr_change_pct: c.consumer_price_change_pct,
                    outward_mr_change_pct: outward,
                    real_gdp_change_pct: c.real_income_change_pct,
                },
                intervals: None,
            }
        })
        .collect();
    let pairs: Vec<PairResult> = out
        .pairs
        .iter()
        .zip(&shocked_any)
        .map(|(p, s)| PairResult {
            exporter: p.exporter.clone(),
            importer: p.importer.clone(),
            shocked: *s,
            baseline: p.baseline,
            partial: p.partial,
            conditional: p.conditional,
            full: p.full,
        })
        .collect();
    check_finite(&countries_out, &pairs, &coefficients_all)?;
    Ok(Counterfactual {
        year,
        sigma: scenario.sigma,
        reference: scenario.reference.clone(),
        iterations: out.info.iterations,
        residual: out.info.residual,
        coefficients: coefficients_all,
        countries: countries_out,
        pairs,
        draws: 0,
        uncertainty: scenario.uncertainty.method(),
        draws_failed: 0,
        imputed,
        second_stage: None,
        notes,
        baseline_nobs: nobs,
        sectors,
    })
}
