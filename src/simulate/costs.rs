//! Building the GE cross-section from a panel and a fitted model: the
//! countries, observed and imputed flows, and the trade costs
//! `φ_ij = exp(γ_ij + Σ_k β_k x_ijk)` (missing pair effects from a
//! second-stage PPML), and the counterfactual costs of a shock.

use super::results::{DomesticCheck, Imputed, ImputedKind};
use super::Domestic;
use crate::counterfactual::shift_phi_in_place;
use crate::data::{Column, Factor, Frame, MISSING_CODE};
use crate::design::interact;
use crate::error::{Error, ErrorKind, Result};
use crate::fit::{Estimator, Fit, FitOptions};
use crate::formula::Formula;
use serde::Serialize;
use std::collections::HashMap;

/// GDP by country and year, in the unit of the trade flows (a CSV with
/// columns `country`, `year`, `gdp`; the shipped panel's is `data/gdp.csv`,
/// World Bank GDP in millions of current US$).
#[derive(Debug, Clone, Default)]
pub struct GdpTable {
    by_country: HashMap<String, std::collections::BTreeMap<i64, f64>>,
}

impl GdpTable {
    /// Reads the CSV; every GDP must be a positive number.
    ///
    /// # Errors
    ///
    /// As [`Frame::read_csv`], [`Error::Scenario`] for a missing column and
    /// [`Error::Data`] (with the line) for a GDP that is not positive.
    pub fn read_csv(path: &std::path::Path) -> Result<GdpTable> {
        let frame = Frame::read_csv(path, &crate::data::CsvOptions::default(), None)?;
        let country = factor_of(&frame, "country")?;
        let year = numeric_of(&frame, "year")?;
        let gdp = numeric_of(&frame, "gdp")?;
        let mut by_country: HashMap<String, std::collections::BTreeMap<i64, f64>> = HashMap::new();
        for r in 0..frame.nrows() {
            if country.codes[r] == MISSING_CODE || !year[r].is_finite() || gdp[r].is_nan() {
                continue;
            }
            if !(gdp[r].is_finite() && gdp[r] > 0.0) {
                return Err(Error::data(
                    frame.location(r, "gdp"),
                    format!("GDP must be a positive number, found {}", gdp[r]),
                ));
            }
            by_country
                .entry(country.levels[country.codes[r] as usize].clone())
                .or_default()
                .insert(year[r] as i64, gdp[r]);
        }
        Ok(GdpTable { by_country })
    }

    /// GDP of `country` in exactly `year`.
    pub fn exact(&self, country: &str, year: i64) -> Option<f64> {
        self.by_country.get(country)?.get(&year).copied()
    }

    /// GDP of `country` in `year`, or in the nearest year with one (the
    /// earlier on a tie): `(year used, GDP)`.
    pub fn at(&self, country: &str, year: i64) -> Option<(i64, f64)> {
        self.by_country
            .get(country)?
            .iter()
            .min_by_key(|(t, _)| ((**t - year).abs(), **t))
            .map(|(t, v)| (*t, *v))
    }
}

/// The cross-section the GE system is solved on.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct GeData {
    /// Countries, sorted.
    pub countries: Vec<String>,
    /// Observed flows `X_ij` (row-major `N × N`; absent international cells
    /// are zero).
    pub flows: Vec<f64>,
    /// Baseline `φ_ij = t_ij^(1−σ)` (row-major).
    pub phi: Vec<f64>,
    /// For each policy variable, its value `x_ijk` in the GE year (row-major).
    pub policy: Vec<(String, Vec<f64>)>,
    /// Imputed domestic flows and pair effects.
    pub imputed: Vec<Imputed>,
    /// Notes (absent cells, warnings).
    pub notes: Vec<String>,
    /// The second-stage regression, when pair effects were imputed.
    pub second_stage: Option<SecondStage>,
}

/// The second-stage PPML that imputes missing pair effects: `exp(γ_ij)` on
/// time-invariant pair covariates with exporter and importer fixed effects
/// (Anderson & Yotov 2016), on the GE year's pairs with an estimated `γ_ij`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct SecondStage {
    /// The formula, e.g. `tij ~ ldist + cntg | exporter + importer`.
    pub formula: String,
    /// Observations used.
    pub nobs: usize,
    /// `(name, estimate)` of each covariate.
    pub coefficients: Vec<(String, f64)>,
}

/// Column names of the panel's identifiers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PanelKeys {
    /// Exporter column (default `exporter`).
    pub exporter: String,
    /// Importer column (default `importer`).
    pub importer: String,
    /// Time column (default `year`).
    pub year: String,
}

impl Default for PanelKeys {
    fn default() -> Self {
        PanelKeys {
            exporter: "exporter".into(),
            importer: "importer".into(),
            year: "year".into(),
        }
    }
}

pub(super) fn factor_of(frame: &Frame, name: &str) -> Result<Factor> {
    match frame.column(name) {
        Some(Column::Factor(f)) => Ok(f.clone()),
        Some(Column::Numeric(v)) => Ok(Factor::from_numeric(v)),
        None => Err(Error::Scenario {
            key: name.into(),
            message: format!("the data have no column '{name}'"),
        }),
    }
}

pub(super) fn numeric_of<'f>(frame: &'f Frame, name: &str) -> Result<&'f [f64]> {
    match frame.column(name) {
        Some(Column::Numeric(v)) => Ok(v),
        _ => Err(Error::Scenario {
            key: name.into(),
            message: format!("the data have no numeric column '{name}'"),
        }),
    }
}

/// Builds the GE cross-section from the panel and the baseline fit.
///
/// `impute_covariates` names the time-invariant covariates of the
/// second-stage regression for missing pair effects.
///
/// # Errors
///
/// As [`ge_data_with_gdp`].
pub fn ge_data(
    frame: &Frame,
    fit: &Fit,
    keys: &PanelKeys,
    year: f64,
    domestic: Domestic,
    impute_covariates: &[String],
) -> Result<GeData> {
    ge_data_with_gdp(frame, fit, keys, year, domestic, impute_covariates, None)
}

/// As [`ge_data`], with imputed domestic flows checked against (and, for
/// countries without any domestic flow, imputed from) GDP.
///
/// # Errors
///
/// [`Error::Data`] for a duplicate row ([`check_unique_keys`]),
/// [`Error::Scenario`] for a missing column, a year not in the data, missing
/// domestic flows with `domestic = "observed"`, nothing to impute domestic
/// flows from, or pair effects to impute without covariates, and the
/// second-stage PPML's errors ([`ErrorKind::NoConvergence`] if it does not
/// converge).
pub fn ge_data_with_gdp(
    frame: &Frame,
    fit: &Fit,
    keys: &PanelKeys,
    year: f64,
    domestic: Domestic,
    impute_covariates: &[String],
    gdp: Option<&GdpTable>,
) -> Result<GeData> {
    let fe = fit.fixed_effects()?;
    ge_data_with(
        frame,
        &fit.formula,
        &fit.names,
        &fit.beta,
        &fe,
        keys,
        year,
        domestic,
        impute_covariates,
        gdp,
    )
}

/// The fixed-effect term of `formula` that is the pair dimension: the term
/// without the time column that is not a country effect alone (`exporter`
/// or `importer`, as in a cross-section with exporter and importer effects).
fn pair_term(formula: &Formula, keys: &PanelKeys) -> Option<usize> {
    formula.fixed_effects.iter().position(|t| {
        let country_only = t.factors.len() == 1
            && (t.factors[0].name == keys.exporter || t.factors[0].name == keys.importer);
        !country_only && t.factors.iter().all(|f| f.name != keys.year)
    })
}

/// No two rows of the panel may share an (exporter, importer, time) key:
/// the GE year would keep only one of them, and the estimation would count
/// the flow twice. The error names both lines of the file.
///
/// # Errors
///
/// [`Error::Scenario`] for a missing key column, [`Error::Data`] for the
/// first duplicate.
pub fn check_unique_keys(frame: &Frame, keys: &PanelKeys) -> Result<()> {
    let ex = factor_of(frame, &keys.exporter)?;
    let im = factor_of(frame, &keys.importer)?;
    let years = numeric_of(frame, &keys.year)?;
    let mut first: HashMap<(u32, u32, u64), usize> = HashMap::with_capacity(frame.nrows());
    for i in 0..frame.nrows() {
        if ex.codes[i] == MISSING_CODE || im.codes[i] == MISSING_CODE || !years[i].is_finite() {
            continue;
        }
        let key = (ex.codes[i], im.codes[i], years[i].to_bits());
        if let Some(&r) = first.get(&key) {
            return Err(Error::Data {
                location: crate::error::Location::new(
                    frame.location(i, &keys.exporter).file,
                    Some(frame.line(i)),
                    None,
                ),
                message: format!(
                    "duplicate row: {} → {} in {} {} is on lines {} and {}",
                    ex.levels[ex.codes[i] as usize],
                    im.levels[im.codes[i] as usize],
                    keys.year,
                    years[i],
                    frame.line(r),
                    frame.line(i)
                ),
                hint: Some(format!(
                    "a panel has one row per ({}, {}, {}); remove or add up the duplicates",
                    keys.exporter, keys.importer, keys.year
                )),
            });
        }
        first.insert(key, i);
    }
    Ok(())
}

/// As [`ge_data`], with the coefficients `beta` of `regressors`
/// and the fixed effects of `formula` given (the pair bootstrap re-estimates
/// the fixed effects at each draw's coefficients).
#[allow(clippy::too_many_arguments)]
pub(super) fn ge_data_with(
    frame: &Frame,
    formula: &Formula,
    regressors: &[String],
    beta: &[f64],
    fe: &crate::fixed_effects::FixedEffectEstimates,
    keys: &PanelKeys,
    year: f64,
    domestic: Domestic,
    impute_covariates: &[String],
    gdp: Option<&GdpTable>,
) -> Result<GeData> {
    check_unique_keys(frame, keys)?;
    let ex = factor_of(frame, &keys.exporter)?;
    let im = factor_of(frame, &keys.importer)?;
    let years = numeric_of(frame, &keys.year)?;
    let y = numeric_of(frame, &formula.response.name)?;
    if !years.contains(&year) {
        return Err(Error::Scenario {
            key: "year".into(),
            message: format!("year {year} is not in the data"),
        });
    }
    let mut notes = Vec::new();
    let mut imputed = Vec::new();
    // Countries: every exporter or importer with a row in the GE year.
    let mut names: Vec<String> = Vec::new();
    for i in 0..frame.nrows() {
        if years[i] == year {
            for (f, c) in [(&ex, ex.codes[i]), (&im, im.codes[i])] {
                if c != MISSING_CODE {
                    names.push(f.levels[c as usize].clone());
                }
            }
        }
    }
    names.sort();
    names.dedup();
    let n = names.len();
    let index: HashMap<&str, usize> = names
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i))
        .collect();
    let pos = |f: &Factor, c: u32| -> Option<usize> {
        if c == MISSING_CODE {
            None
        } else {
            index.get(f.levels[c as usize].as_str()).copied()
        }
    };

    // Fixed effects and the pair dimension: the term without the time column
    // that is not a country effect alone (`exporter` or `importer`, as in a
    // cross-section with exporter and importer effects).
    let pair_term = pair_term(formula, keys);
    let mut gamma: Vec<Option<f64>> = vec![None; n * n];
    if let Some(k) = pair_term {
        let term = &formula.fixed_effects[k];
        let factors: Vec<Factor> = term
            .factors
            .iter()
            .map(|t| factor_of(frame, &t.name))
            .collect::<Result<_>>()?;
        let refs: Vec<&Factor> = factors.iter().collect();
        let dim = interact(&fe.dims[k].name, &refs);
        let lookup: HashMap<&str, f64> = fe.dims[k]
            .levels
            .iter()
            .map(|s| s.as_str())
            .zip(fe.dims[k].values.iter().copied())
            .collect();
        for i in 0..frame.nrows() {
            let (Some(a), Some(b)) = (pos(&ex, ex.codes[i]), pos(&im, im.codes[i])) else {
                continue;
            };
            let g = dim.codes[i];
            if g == MISSING_CODE {
                continue;
            }
            if let Some(&v) = lookup.get(dim.levels[g as usize].as_str()) {
                gamma[a * n + b] = Some(v);
            }
        }
    } else {
        notes.push("the formula has no pair fixed effect: pair effects are zero".into());
        gamma.iter_mut().for_each(|g| *g = Some(0.0));
    }

    // Observed flows and policy variables in the GE year.
    let mut flows = vec![0.0; n * n];
    let mut seen = vec![false; n * n];
    let policy_names: Vec<String> = regressors.to_vec();
    let policy_cols: Vec<&[f64]> = policy_names
        .iter()
        .map(|p| numeric_of(frame, p))
        .collect::<Result<_>>()?;
    let mut policy: Vec<(String, Vec<f64>)> = policy_names
        .iter()
        .map(|p| (p.clone(), vec![0.0; n * n]))
        .collect();
    for i in 0..frame.nrows() {
        if years[i] != year {
            continue;
        }
        let (Some(a), Some(b)) = (pos(&ex, ex.codes[i]), pos(&im, im.codes[i])) else {
            continue;
        };
        if y[i].is_finite() {
            flows[a * n + b] = y[i];
            seen[a * n + b] = true;
        }
        for (k, col) in policy_cols.iter().enumerate() {
            if col[i].is_finite() {
                policy[k].1[a * n + b] = col[i];
            }
        }
    }
    let absent = (0..n * n).filter(|&k| k / n != k % n && !seen[k]).count();
    if absent > 0 {
        notes.push(format!(
            "{absent} international pairs have no flow in {year}: taken as zero in output and expenditure"
        ));
    }

    // Domestic flows.
    match domestic {
        Domestic::Observed => {
            let missing: Vec<&str> = (0..n)
                .filter(|&i| !seen[i * n + i])
                .map(|i| names[i].as_str())
                .collect();
            if !missing.is_empty() {
                return Err(Error::Scenario {
                    key: "domestic".into(),
                    message: format!(
                        "domestic = \"observed\" but {} countries have no domestic flow in {year} ({}{}); use \"impute\" or \"none\"",
                        missing.len(),
                        missing.iter().take(8).copied().collect::<Vec<_>>().join(", "),
                        if missing.len() > 8 { ", …" } else { "" }
                    ),
                });
            }
        }
        Domestic::None => {
            for i in 0..n {
                flows[i * n + i] = 0.0;
                gamma[i * n + i] = None;
            }
            notes.push(
                "domestic = \"none\": an international-only world; welfare effects are overstated"
                    .into(),
            );
        }
        Domestic::Impute => {
            // Domestic share of output in each year with a domestic flow.
            let mut share: HashMap<(usize, i64), f64> = HashMap::new();
            let mut totals: HashMap<(usize, i64), (f64, f64)> = HashMap::new();
            for i in 0..frame.nrows() {
                let (Some(a), Some(b)) = (pos(&ex, ex.codes[i]), pos(&im, im.codes[i])) else {
                    continue;
                };
                if !y[i].is_finite() {
                    continue;
                }
                let e = totals.entry((a, years[i] as i64)).or_insert((0.0, 0.0));
                if a == b {
                    e.0 += y[i];
                } else {
                    e.1 += y[i];
                }
                if a == b {
                    share.insert((a, years[i] as i64), 0.0);
                }
            }
            for (key, s) in share.iter_mut() {
                let (d, x) = totals[key];
                *s = if d + x > 0.0 { d / (d + x) } else { 0.0 };
            }
            let mut all_shares: Vec<f64> = share
                .values()
                .copied()
                .filter(|s| *s > 0.0 && *s < 1.0)
                .collect();
            all_shares.sort_by(f64::total_cmp);
            let median = all_shares.get(all_shares.len() / 2).copied();
            // With GDP: the ratio of domestic sales to GDP (same year) over
            // every country-year with an observed domestic flow.
            let ratios: Vec<f64> = match gdp {
                Some(g) => {
                    let mut r: Vec<f64> = share
                        .keys()
                        .filter_map(|&(c, t)| {
                            let (d, _) = totals[&(c, t)];
                            g.exact(&names[c], t).map(|v| d / v)
                        })
                        .filter(|r| r.is_finite() && *r > 0.0)
                        .collect();
                    r.sort_by(f64::total_cmp);
                    r
                }
                None => Vec::new(),
            };
            let ratio_median = ratios.get(ratios.len() / 2).copied();
            // The bound: the largest observed ratio, and never above GDP.
            let ratio_max = ratios.last().copied().map(|r| r.min(1.0));
            for i in 0..n {
                if seen[i * n + i] {
                    continue;
                }
                let exports: f64 = (0..n).filter(|&j| j != i).map(|j| flows[i * n + j]).sum();
                let nearest = share
                    .iter()
                    .filter(|((c, _), s)| *c == i && **s > 0.0 && **s < 1.0)
                    .min_by_key(|((_, t), _)| ((*t - year as i64).abs(), *t))
                    .map(|((_, t), s)| (*t, *s));
                let country_gdp = gdp.and_then(|g| g.at(&names[i], year as i64));
                let (mut v, mut method) = match (nearest, country_gdp, ratio_median, median) {
                    (Some((t, s)), _, _, _) => (
                        exports * s / (1.0 - s),
                        format!("domestic share of output in {t} ({s:.4}) applied to {year} exports"),
                    ),
                    (None, Some((t, g)), Some(r), _) => (
                        r * g,
                        format!(
                            "no domestic flow in any year: the median ratio of domestic sales to GDP \
                             ({r:.4}, over {} country-years with an observed domestic flow) times GDP ({}{g:.1})",
                            ratios.len(),
                            if t == year as i64 { String::new() } else { format!("of {t}: ") }
                        ),
                    ),
                    (None, _, _, Some(m)) => (
                        exports * m / (1.0 - m),
                        format!("no domestic flow in any year: median domestic share ({m:.4}) applied to {year} exports"),
                    ),
                    (None, _, _, None) => {
                        return Err(Error::Scenario {
                            key: "domestic".into(),
                            message: "no country has a domestic flow to impute from".into(),
                        })
                    }
                };
                let mut check = None;
                if let Some((_, g)) = country_gdp {
                    if let Some(bound) = ratio_max {
                        if v > bound * g {
                            method.push_str(&format!(
                                "; {v:.1} capped at {bound:.4} × GDP (the largest observed ratio of domestic sales to GDP)"
                            ));
                            v = bound * g;
                        }
                    }
                    check = Some(DomesticCheck {
                        gdp: g,
                        share_of_gdp: v / g,
                        exports,
                    });
                } else if gdp.is_some() {
                    method.push_str("; no GDP for this country: not checked against GDP");
                }
                flows[i * n + i] = v;
                imputed.push(Imputed {
                    kind: ImputedKind::DomesticFlow,
                    exporter: names[i].clone(),
                    importer: names[i].clone(),
                    value: v,
                    method,
                    check,
                });
            }
        }
    }

    // Pair effects missing: second-stage PPML on time-invariant covariates.
    let mut second_stage = None;
    let needs: Vec<usize> = (0..n * n)
        .filter(|&k| gamma[k].is_none() && !(domestic == Domestic::None && k / n == k % n))
        .collect();
    if !needs.is_empty() {
        if impute_covariates.is_empty() {
            return Err(Error::Scenario {
                key: "impute_pair_effects".into(),
                message: format!(
                    "{} pairs have no estimated pair effect; name covariates to impute them (e.g. [\"ldist\", \"contig\", \"lang\", \"colony\"])",
                    needs.len()
                ),
            });
        }
        let cov_cols: Vec<&[f64]> = impute_covariates
            .iter()
            .map(|c| numeric_of(frame, c))
            .collect::<Result<_>>()?;
        let mut cov = vec![vec![f64::NAN; n * n]; cov_cols.len()];
        for i in 0..frame.nrows() {
            let (Some(a), Some(b)) = (pos(&ex, ex.codes[i]), pos(&im, im.codes[i])) else {
                continue;
            };
            for (c, col) in cov_cols.iter().enumerate() {
                if col[i].is_finite() && cov[c][a * n + b].is_nan() {
                    cov[c][a * n + b] = col[i];
                }
            }
        }
        // The book's second stage (Anderson & Yotov 2016; Yotov et al. 2016,
        // Ch.2 App.2) fits international pairs only. When domestic pairs also
        // lack a pair effect (domestic flows imputed), they join the sample
        // with their own intercept shift `domestic_pair`, so that internal
        // distance is not read as international distance.
        let domestic_needed = needs.iter().any(|&k| k / n == k % n);
        let pairs: Vec<usize> = (0..n * n)
            .filter(|&k| k / n != k % n || domestic_needed)
            .collect();
        let mut columns = vec![
            (
                "exporter".to_string(),
                Column::Factor(Factor {
                    codes: pairs.iter().map(|&k| (k / n) as u32).collect(),
                    levels: names.clone(),
                }),
            ),
            (
                "importer".to_string(),
                Column::Factor(Factor {
                    codes: pairs.iter().map(|&k| (k % n) as u32).collect(),
                    levels: names.clone(),
                }),
            ),
            (
                "tij".to_string(),
                Column::Numeric(
                    pairs
                        .iter()
                        .map(|&k| gamma[k].map_or(f64::NAN, f64::exp))
                        .collect(),
                ),
            ),
        ];
        for (c, name) in impute_covariates.iter().enumerate() {
            columns.push((
                name.clone(),
                Column::Numeric(pairs.iter().map(|&k| cov[c][k]).collect()),
            ));
        }
        let mut regressors = impute_covariates.to_vec();
        if domestic_needed {
            columns.push((
                "domestic_pair".to_string(),
                Column::Numeric(
                    pairs
                        .iter()
                        .map(|&k| if k / n == k % n { 1.0 } else { 0.0 })
                        .collect(),
                ),
            ));
            regressors.push("domestic_pair".to_string());
        }
        let pf = Frame::from_columns(columns)?;
        let text = format!("tij ~ {} | exporter + importer", regressors.join(" + "));
        let f2 = Formula::parse(&text)?;
        let second = crate::fit::fit(&pf, &f2, Estimator::Ppml, &FitOptions::default())?;
        if !second.info.converged {
            return Err(Error::numerical(
                ErrorKind::NoConvergence,
                "the second-stage PPML for missing pair effects did not converge".into(),
            ));
        }
        second_stage = Some(SecondStage {
            formula: text.clone(),
            nobs: second.nobs(),
            coefficients: second
                .names
                .iter()
                .cloned()
                .zip(second.beta.iter().copied())
                .collect(),
        });
        let fe2 = second.fixed_effects()?;
        let link = second.predict_link(&pf, &fe2)?;
        let mut unfilled = 0;
        for (r, &k) in pairs.iter().enumerate() {
            if gamma[k].is_some() {
                continue;
            }
            match link[r] {
                Some(v) => {
                    gamma[k] = Some(v);
                    imputed.push(Imputed {
                        kind: ImputedKind::PairEffect,
                        exporter: names[k / n].clone(),
                        importer: names[k % n].clone(),
                        value: v,
                        method: format!("second-stage PPML: {text}"),
                        check: None,
                    });
                }
                None => unfilled += 1,
            }
        }
        if unfilled > 0 {
            notes.push(format!(
                "{unfilled} pairs have neither an estimated nor an imputable pair effect: no trade possible between them (φ = 0)"
            ));
        }
    }

    let phi: Vec<f64> = (0..n * n)
        .map(|k| match gamma[k] {
            Some(g) => {
                let xb: f64 = policy.iter().zip(beta).map(|((_, v), b)| b * v[k]).sum();
                (g + xb).exp()
            }
            None => 0.0,
        })
        .collect();
    Ok(GeData {
        countries: names,
        flows,
        phi,
        policy,
        imputed,
        notes,
        second_stage,
    })
}

/// One shock resolved against the GE year: which policy variable changes
/// (its index in [`GeData::policy`] and in the coefficients), on which pairs
/// (row-major indices `i·N + j`), to which value.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyChange {
    /// Index of the variable in [`GeData::policy`] (and in `beta`).
    pub policy: usize,
    /// The pairs it changes, as row-major indices `i·N + j`.
    pub pairs: Vec<usize>,
    /// The variable's counterfactual value on those pairs.
    pub value: f64,
}

/// Counterfactual costs: `φ'_ij = φ_ij · exp(Σ_k β_k (x'_ijk − x_ijk))`,
/// each change shifting its pairs from their GE-year value of the variable to
/// the new one (by [`crate::counterfactual::shift_phi`]'s rule; changes that
/// share a pair compound).
pub fn shocked_phi(data: &GeData, beta: &[f64], changes: &[PolicyChange]) -> Vec<f64> {
    let mut phi = data.phi.clone();
    for c in changes {
        let old = &data.policy[c.policy].1;
        let b = beta[c.policy];
        shift_phi_in_place(
            &mut phi,
            c.pairs.iter().map(|&p| (p, b * (c.value - old[p]))),
        );
    }
    phi
}

/// Exact hat algebra (`costs = "calibrated"`): `φ_ij = X_ij Y / (Y_i E_j)`
/// makes the baseline resistances one and the baseline flows the data; pairs
/// without trade stay without trade.
pub(super) fn calibrate(data: &mut GeData) {
    let n = data.countries.len();
    let total: f64 = data.flows.iter().sum();
    let out: Vec<f64> = (0..n)
        .map(|i| (0..n).map(|j| data.flows[i * n + j]).sum())
        .collect();
    let exp: Vec<f64> = (0..n)
        .map(|j| (0..n).map(|i| data.flows[i * n + j]).sum())
        .collect();
    for k in 0..n * n {
        let (i, j) = (k / n, k % n);
        data.phi[k] = if out[i] > 0.0 && exp[j] > 0.0 {
            data.flows[k] * total / (out[i] * exp[j])
        } else {
            0.0
        };
    }
    data.notes.retain(|n| !n.contains("pair effect"));
    data.notes.push(
        "costs = \"calibrated\": the baseline reproduces the GE year's flows exactly (exact hat algebra); pairs without trade stay without trade".into(),
    );
}
