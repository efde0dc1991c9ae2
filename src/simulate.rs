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

use crate::data::{Column, Factor, Frame, MISSING_CODE};
use crate::design::interact;
use crate::error::{Error, ErrorKind, Result};
use crate::fit::{Estimator, Fit, FitOptions};
use crate::formula::Formula;
use serde::Serialize;
use std::collections::HashMap;

/// How domestic flows enter the GE year (the scenario's `domestic` key).
pub use crate::counterfactual::Domestic;

/// A value that was not in the data and was imputed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Imputed {
    /// What was imputed: `domestic_flow` or `pair_effect`.
    pub kind: String,
    /// Exporter.
    pub exporter: String,
    /// Importer.
    pub importer: String,
    /// The imputed value (flow in data units, or pair effect on the log scale).
    pub value: f64,
    /// How.
    pub method: String,
    /// For an imputed domestic flow with a GDP table: the plausibility check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<DomesticCheck>,
}

/// The check of an imputed domestic flow against the country's GDP (same
/// unit as the flows): the imputed domestic sales are never above
/// `bound × GDP`, the bound being the largest ratio of domestic sales to GDP
/// observed in any country-year of the panel (and at most 1).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DomesticCheck {
    /// The country's GDP in the GE year (or the nearest year with one).
    pub gdp: f64,
    /// Imputed domestic sales / GDP.
    pub share_of_gdp: f64,
    /// The country's exports in the GE year (the same flows).
    pub exports: f64,
}

/// GDP by country and year, in the unit of the trade flows (a CSV with
/// columns `country`, `year`, `gdp`; the shipped panel's is `data/gdp.csv`,
/// World Bank GDP in millions of current US$).
#[derive(Debug, Clone, Default)]
pub struct GdpTable {
    by_country: HashMap<String, std::collections::BTreeMap<i64, f64>>,
}

impl GdpTable {
    /// Reads the CSV; every GDP must be a positive number.
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

fn factor_of(frame: &Frame, name: &str) -> Result<Factor> {
    match frame.column(name) {
        Some(Column::Factor(f)) => Ok(f.clone()),
        Some(Column::Numeric(v)) => Ok(Factor::from_numeric(v)),
        None => Err(Error::Scenario {
            key: name.into(),
            message: format!("the data have no column '{name}'"),
        }),
    }
}

fn numeric_of<'f>(frame: &'f Frame, name: &str) -> Result<&'f [f64]> {
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
fn ge_data_with(
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
                    kind: "domestic_flow".into(),
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
                        kind: "pair_effect".into(),
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

/// Counterfactual costs: `φ'_ij = φ_ij · exp(Σ_k β_k (x'_ijk − x_ijk))` where
/// `changes` lists, per policy variable index, the pairs and their new value.
pub fn shocked_phi(data: &GeData, beta: &[f64], changes: &[(usize, Vec<usize>, f64)]) -> Vec<f64> {
    let mut phi = data.phi.clone();
    for (k, pairs, value) in changes {
        let old = &data.policy[*k].1;
        for &p in pairs {
            phi[p] *= (beta[*k] * (value - old[p])).exp();
        }
    }
    phi
}

/// Results for one country (every `_pct` is counterfactual relative to the
/// baseline, in percent). The `_ci_low`/`_ci_high` siblings are the 2.5% and
/// 97.5% percentiles over the Monte Carlo draws, when draws were run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CountryResult {
    /// ISO3 code.
    pub country: String,
    /// Exports, direct effect only (output, expenditure and resistances fixed).
    pub exports_change_partial_pct: f64,
    /// Exports, conditional GE (output and expenditure fixed).
    pub exports_change_conditional_pct: f64,
    /// Exports, full endowment GE.
    pub exports_change_full_pct: f64,
    /// Factory-gate price (full GE).
    pub factory_price_change_pct: f64,
    /// Inward multilateral resistance (full GE).
    pub inward_mr_change_pct: f64,
    /// Outward multilateral resistance (full GE).
    pub outward_mr_change_pct: f64,
    /// Real GDP, `p̂/P̂` (full GE): the welfare effect.
    pub real_gdp_change_pct: f64,
    #[serde(flatten)]
    /// Intervals, when draws were run.
    pub intervals: Option<CountryIntervals>,
}

/// 95% intervals of a [`CountryResult`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[allow(missing_docs)]
pub struct CountryIntervals {
    pub exports_change_partial_pct_ci_low: f64,
    pub exports_change_partial_pct_ci_high: f64,
    pub exports_change_conditional_pct_ci_low: f64,
    pub exports_change_conditional_pct_ci_high: f64,
    pub exports_change_full_pct_ci_low: f64,
    pub exports_change_full_pct_ci_high: f64,
    pub factory_price_change_pct_ci_low: f64,
    pub factory_price_change_pct_ci_high: f64,
    pub inward_mr_change_pct_ci_low: f64,
    pub inward_mr_change_pct_ci_high: f64,
    pub outward_mr_change_pct_ci_low: f64,
    pub outward_mr_change_pct_ci_high: f64,
    pub real_gdp_change_pct_ci_low: f64,
    pub real_gdp_change_pct_ci_high: f64,
}

/// Baseline and counterfactual flows of one pair.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairResult {
    /// Exporter.
    pub exporter: String,
    /// Importer.
    pub importer: String,
    /// True if a shock applies to the pair.
    pub shocked: bool,
    /// Baseline (fitted) flow.
    pub baseline: f64,
    /// Partial equilibrium.
    pub partial: f64,
    /// Conditional GE.
    pub conditional: f64,
    /// Full endowment GE.
    pub full: f64,
}

/// The policy coefficient used for a shocked variable.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyCoefficient {
    /// Variable.
    pub variable: String,
    /// The value used.
    pub estimate: f64,
    /// Its standard error (0 when overridden).
    pub std_error: f64,
    /// True when the scenario overrides the estimate.
    pub overridden: bool,
    /// Mean of the coefficient over the draws that converged (when draws ran).
    pub draws_mean: Option<f64>,
    /// Standard deviation of the coefficient over the draws that converged:
    /// with `uncertainty = "pairs"`, the pair-cluster bootstrap standard error.
    pub draws_std_error: Option<f64>,
}

/// The outcome of a counterfactual.
#[derive(Debug, Clone, Serialize)]
pub struct Counterfactual {
    /// The GE year.
    pub year: i64,
    /// σ.
    pub sigma: f64,
    /// Reference country.
    pub reference: String,
    /// Iterations of the full-GE price fixed point.
    pub iterations: usize,
    /// Final residual of the full GE.
    pub residual: f64,
    /// Policy coefficients used.
    pub coefficients: Vec<PolicyCoefficient>,
    /// Per-country results.
    pub countries: Vec<CountryResult>,
    /// Per-pair results.
    pub pairs: Vec<PairResult>,
    /// Draws requested.
    pub draws: usize,
    /// How the draws were made: `coefficients` or `pairs`.
    pub uncertainty: String,
    /// Draws whose GE did not converge (left out of the intervals).
    pub draws_failed: usize,
    /// Imputed domestic flows and pair effects.
    pub imputed: Vec<Imputed>,
    /// The second-stage regression that imputed missing pair effects.
    pub second_stage: Option<SecondStage>,
    /// Notes and warnings.
    pub notes: Vec<String>,
    /// The baseline estimation: observations and convergence.
    pub baseline_nobs: usize,
}

/// Percentile with linear interpolation between order statistics (R type 7).
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// All per-country quantities of one solve: partial, conditional, full
/// exports, price, inward, outward, real GDP; and the outcome itself.
fn solve_once(
    world: &crate::counterfactual::World,
    phi_cf: &[f64],
    params: &crate::counterfactual::GeParams,
) -> Result<(Vec<[f64; 7]>, crate::counterfactual::GeOutcome)> {
    let n = world.n();
    let out = crate::counterfactual::simulate(world, phi_cf, params)?;
    let rows = (0..n)
        .map(|i| {
            let ex = |f: &dyn Fn(&crate::counterfactual::PairOutcome) -> f64| -> f64 {
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
            [
                pe,
                c.exports_change_conditional_pct,
                c.exports_change_full_pct,
                c.factory_price_change_pct,
                c.inward_mr_change_pct,
                c.outward_mr_change_pct,
                c.real_gdp_change_pct,
            ]
        })
        .collect();
    Ok((rows, out))
}

/// 2.5% and 97.5% percentiles of every per-country quantity over the draws
/// that converged (`None` when none did).
/// One Monte Carlo draw: every country's quantities, and the coefficient of
/// each shock's variable in the draw.
type Draw = (Vec<[f64; 7]>, Vec<f64>);

fn intervals_of(results: &[Option<Draw>], n: usize) -> Option<Vec<CountryIntervals>> {
    let ok: Vec<&Vec<[f64; 7]>> = results.iter().flatten().map(|(r, _)| r).collect();
    if ok.is_empty() {
        return None;
    }
    let mut iv = Vec::with_capacity(n);
    for i in 0..n {
        let mut q = [[0.0; 2]; 7];
        for (k, qk) in q.iter_mut().enumerate() {
            let mut v: Vec<f64> = ok.iter().map(|r| r[i][k]).collect();
            v.sort_by(f64::total_cmp);
            *qk = [percentile(&v, 0.025), percentile(&v, 0.975)];
        }
        iv.push(CountryIntervals {
            exports_change_partial_pct_ci_low: q[0][0],
            exports_change_partial_pct_ci_high: q[0][1],
            exports_change_conditional_pct_ci_low: q[1][0],
            exports_change_conditional_pct_ci_high: q[1][1],
            exports_change_full_pct_ci_low: q[2][0],
            exports_change_full_pct_ci_high: q[2][1],
            factory_price_change_pct_ci_low: q[3][0],
            factory_price_change_pct_ci_high: q[3][1],
            inward_mr_change_pct_ci_low: q[4][0],
            inward_mr_change_pct_ci_high: q[4][1],
            outward_mr_change_pct_ci_low: q[5][0],
            outward_mr_change_pct_ci_high: q[5][1],
            real_gdp_change_pct_ci_low: q[6][0],
            real_gdp_change_pct_ci_high: q[6][1],
        });
    }
    Some(iv)
}

/// The fixed effects of the baseline model on the whole panel with the
/// coefficients held at `beta` (the regressors enter as an offset `x'β`).
///
/// A bootstrap draw estimates β on the resampled clusters, but the fixed
/// effects it estimates do not determine the costs of the GE world: a pair
/// whose cluster was not drawn has no pair effect in the draw (the treated
/// NAFTA pairs in about one draw in three each), and a country whose domestic
/// flows were not drawn has its domestic-versus-international level left
/// arbitrary by the estimation's normalisation (with a common domestic
/// effect, only the domestic rows pin it down). Either made the draw's GE
/// another world's. So the costs of every draw are rebuilt from the pair
/// effects that the whole panel gives at the draw's β: every pair keeps a
/// pair effect estimated on its own flows, consistent with the draw's
/// coefficients, and the pairs without one are imputed as in the point
/// estimate.
fn fixed_effects_at(
    frame: &Frame,
    baseline: &Fit,
    beta: &[f64],
) -> Result<crate::fixed_effects::FixedEffectEstimates> {
    let n = frame.nrows();
    let mut offset = vec![0.0; n];
    for (name, b) in baseline.names.iter().zip(beta) {
        let col = numeric_of(frame, name)?;
        for (o, v) in offset.iter_mut().zip(col) {
            *o += b * v;
        }
    }
    let text = &baseline.formula.text;
    let fe_part = text.split_once('|').map(|(_, f)| f.trim()).ok_or_else(|| {
        Error::Bug("the pair bootstrap needs a formula with fixed effects".into())
    })?;
    let formula = Formula::parse(&format!(
        "{} ~ 1 | {fe_part}",
        baseline.formula.response.name
    ))?;
    let mut f = frame.clone();
    f.insert("__bootstrap_offset", Column::Numeric(offset))?;
    let options = FitOptions::default().offset("__bootstrap_offset");
    let fit = crate::fit::fit(&f, &formula, Estimator::Ppml, &options)?;
    if !fit.info.converged {
        return Err(Error::numerical(
            ErrorKind::NoConvergence,
            "the fixed effects of a bootstrap draw did not converge".into(),
        ));
    }
    fit.fixed_effects()
}

/// The pair-cluster bootstrap of the whole pipeline. Drawing clusters with
/// replacement is the same as giving every row the number of times its
/// cluster was drawn as a frequency weight (a duplicated pair has the same
/// pair effect as the original), so each draw is a weighted re-estimation;
/// the pair effects and costs are rebuilt from it and the GE is solved on the
/// observed flows of the GE year.
#[allow(clippy::too_many_arguments)]
fn pair_bootstrap(
    scenario: &crate::counterfactual::Scenario,
    frame: &Frame,
    baseline: &Fit,
    keys: &PanelKeys,
    domestic: Domestic,
    year: i64,
    data: &GeData,
    countries: &[String],
    world: &crate::counterfactual::World,
    params: &crate::counterfactual::GeParams,
    gdp: Option<&GdpTable>,
    progress: &(dyn Fn() + Sync),
) -> Result<Vec<Option<Draw>>> {
    use rand::{Rng, SeedableRng};
    use rayon::prelude::*;
    let cluster = crate::vcov::VcovSpec::parse(scenario.vcov.as_deref().unwrap_or("hetero"))?
        .clusters()
        .first()
        .cloned()
        .unwrap_or_else(|| format!("{}^{}", keys.exporter, keys.importer));
    let factors: Vec<Factor> = cluster
        .split('^')
        .map(|c| factor_of(frame, c.trim()))
        .collect::<Result<_>>()?;
    let refs: Vec<&Factor> = factors.iter().collect();
    let dim = interact(&cluster, &refs);
    let g = dim.n_levels();
    let n = countries.len();
    let calibrated = scenario.costs.as_deref() == Some("calibrated");
    let results = (0..scenario.draws)
        .into_par_iter()
        .map(|d| {
            let mut rng = rand::rngs::StdRng::seed_from_u64(
                scenario
                    .seed
                    .wrapping_mul(0xD1B5_4A32_D192_ED03)
                    .wrapping_add(d as u64),
            );
            let mut count = vec![0.0f64; g];
            for _ in 0..g {
                count[rng.random_range(0..g)] += 1.0;
            }
            let w: Vec<f64> = dim
                .codes
                .iter()
                .map(|&c| {
                    if c == MISSING_CODE {
                        0.0
                    } else {
                        count[c as usize]
                    }
                })
                .collect();
            let result = (|| -> Result<Draw> {
                let mut f = frame.clone();
                f.insert("__bootstrap_weight", Column::Numeric(w))?;
                let options = FitOptions::default().weights("__bootstrap_weight");
                let fit_b = crate::fit::fit(&f, &baseline.formula, Estimator::Ppml, &options)?;
                if !fit_b.info.converged {
                    return Err(Error::numerical(
                        ErrorKind::NoConvergence,
                        "bootstrap fit did not converge".into(),
                    ));
                }
                let data_b = if calibrated {
                    None
                } else {
                    let fe_b = fixed_effects_at(frame, baseline, &fit_b.beta)?;
                    Some(ge_data_with(
                        frame,
                        &baseline.formula,
                        &fit_b.names,
                        &fit_b.beta,
                        &fe_b,
                        keys,
                        year as f64,
                        domestic,
                        &scenario.impute_pair_effects,
                        gdp,
                    )?)
                };
                let d_b = data_b.as_ref().unwrap_or(data);
                let mut beta_b: Vec<f64> = d_b
                    .policy
                    .iter()
                    .map(|(name, _)| fit_b.coef(name).unwrap_or(0.0))
                    .collect();
                let mut changes = Vec::new();
                let mut used = Vec::new();
                for (k, s) in scenario.shocks.iter().enumerate() {
                    let idx = d_b
                        .policy
                        .iter()
                        .position(|(name, _)| *name == s.variable)
                        .ok_or_else(|| {
                            Error::numerical(
                                ErrorKind::Collinear,
                                format!("'{}' dropped in a bootstrap draw", s.variable),
                            )
                        })?;
                    if let Some(c) = s.coefficient {
                        beta_b[idx] = c;
                    }
                    used.push(beta_b[idx]);
                    let pairs: Vec<usize> = s
                        .pairs_at(k, countries)?
                        .into_iter()
                        .map(|(i, j)| i * n + j)
                        .collect();
                    changes.push((idx, pairs, s.value));
                }
                let w_b = if calibrated {
                    world.clone()
                } else {
                    crate::counterfactual::World::from_trade(
                        countries.to_vec(),
                        &data.flows,
                        d_b.phi.clone(),
                        world.sigma,
                        world.reference,
                    )?
                };
                let phi_cf = if calibrated {
                    let mut scaled = data.clone();
                    scaled.phi = world.phi.clone();
                    shocked_phi(&scaled, &beta_b, &changes)
                } else {
                    shocked_phi(d_b, &beta_b, &changes)
                };
                Ok((solve_once(&w_b, &phi_cf, params)?.0, used))
            })();
            progress();
            result.ok()
        })
        .collect();
    Ok(results)
}

/// Runs a scenario end to end: estimate, build the GE year, solve the
/// baseline, conditional and full GE, and the Monte Carlo draws.
///
/// ```no_run
/// use gravity_model::counterfactual::Scenario;
/// let scenario = Scenario::from_toml_path("examples/agtpa_nafta.toml")?;
/// let cf = gravity_model::simulate::simulate(&scenario)?;
/// for c in &cf.countries {
///     println!("{}: real GDP {:+.3}%", c.country, c.real_gdp_change_pct);
/// }
/// # Ok::<(), gravity_model::Error>(())
/// ```
pub fn simulate(scenario: &crate::counterfactual::Scenario) -> Result<Counterfactual> {
    simulate_with_progress(scenario, &|| {})
}

/// As [`simulate`], calling `progress` once per finished draw (for a
/// progress bar).
pub fn simulate_with_progress(
    scenario: &crate::counterfactual::Scenario,
    progress: &(dyn Fn() + Sync),
) -> Result<Counterfactual> {
    use crate::vcov::{SmallSample, VcovSpec};
    scenario.validate()?;
    let formula = Formula::parse(&scenario.formula)?;
    let csv = crate::data::CsvOptions::default();
    // One read of the file: the formula's columns are checked against the
    // header of the same read that gives the rows.
    let frame = Frame::read_path_with(&scenario.data, &csv, |header| {
        formula.check_columns(header)?;
        Ok(None)
    })?;
    let vcov = VcovSpec::parse(scenario.vcov.as_deref().unwrap_or("hetero"))?;
    let ssc = match &scenario.ssc {
        Some(s) => SmallSample::parse(s)?,
        None => SmallSample::fixest(),
    };
    let options = FitOptions::default().vcov(crate::VcovSpec::Cluster(vcov.clusters().to_vec()));
    let baseline = crate::fit::fit(&frame, &formula, Estimator::Ppml, &options)?;
    if !baseline.info.converged {
        return Err(Error::numerical(
            ErrorKind::NoConvergence,
            "the baseline estimation did not converge; no counterfactual is computed".into(),
        ));
    }
    let inference = baseline.inference(&vcov, ssc)?;
    simulate_with_fit(scenario, &frame, &baseline, &inference, progress)
}

/// [`simulate`] on an already loaded panel and an already estimated baseline
/// (its `formula` must be the scenario's).
pub fn simulate_with_fit(
    scenario: &crate::counterfactual::Scenario,
    frame: &Frame,
    baseline: &Fit,
    inference: &crate::vcov::Inference,
    progress: &(dyn Fn() + Sync),
) -> Result<Counterfactual> {
    use crate::counterfactual::{FullGe, GeParams, World};
    use rand::SeedableRng;
    use rand_distr::{Distribution, StandardNormal};
    use rayon::prelude::*;
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
    // Shocks → (policy index, pairs, value); coefficients.
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
            .pairs_at(k, &countries)?
            .into_iter()
            .map(|(i, j)| i * n + j)
            .collect();
        for &p in &pairs {
            shocked[p] = true;
        }
        let row = inference.coef(&s.variable);
        match s.coefficient {
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
        changes_spec.push((idx, pairs, s.value));
    }
    let mut data = data;
    match scenario.costs.as_deref().unwrap_or("estimated") {
        "estimated" => {}
        "calibrated" => {
            // Exact hat algebra: φ_ij = X_ij Y / (Y_i E_j) makes the baseline
            // resistances one and the baseline flows the data.
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
        other => {
            return Err(Error::Scenario {
                key: "costs".into(),
                message: format!("expected estimated or calibrated, found '{other}'"),
            })
        }
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
        full_ge: match &scenario.full_ge {
            Some(f) => f.parse()?,
            None => FullGe::MarketClearing,
        },
        ..GeParams::default()
    };
    let phi_cf = shocked_phi(&data, &beta, &changes_spec);
    // A solve that does not converge is an error: no unconverged number is
    // ever reported.
    let (point, outcome) = solve_once(&world, &phi_cf, &params)?;
    let [_, _, full_info] = outcome.infos();
    // Monte Carlo over the estimated policy coefficients: β ~ N(β̂, V̂).
    let mut draws_failed = 0;
    let mut intervals: Option<Vec<CountryIntervals>> = None;
    let mut draw_results: Vec<Option<Draw>> = Vec::new();
    let bootstrap = match scenario.uncertainty.as_deref().unwrap_or("coefficients") {
        "coefficients" => false,
        "pairs" => true,
        other => {
            return Err(Error::Scenario {
                key: "uncertainty".into(),
                message: format!("expected coefficients or pairs, found '{other}'"),
            })
        }
    };
    if scenario.draws > 0 && bootstrap {
        let results = pair_bootstrap(
            scenario,
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
        )?;
        draws_failed = results.iter().filter(|r| r.is_none()).count();
        intervals = intervals_of(&results, n);
        draw_results = results;
    } else if scenario.draws > 0 && !random.is_empty() {
        let m = random.len();
        let v = nalgebra::DMatrix::from_fn(m, m, |a, b| inference.vcov[(random[a], random[b])]);
        let chol = v.clone().cholesky().ok_or_else(|| {
            Error::numerical(
                ErrorKind::NotPositiveDefinite,
                "the covariance of the policy coefficients is not positive definite".into(),
            )
        })?;
        let l = chol.l();
        let results: Vec<Option<Draw>> = (0..scenario.draws)
            .into_par_iter()
            .map(|d| {
                // One stream per draw: the same draws on any thread count.
                let mut rng = rand::rngs::StdRng::seed_from_u64(
                    scenario
                        .seed
                        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                        .wrapping_add(d as u64),
                );
                let z: Vec<f64> = (0..m).map(|_| StandardNormal.sample(&mut rng)).collect();
                let mut b = beta.clone();
                for a in 0..m {
                    let shift: f64 = (0..=a).map(|c| l[(a, c)] * z[c]).sum();
                    b[random[a]] += shift;
                }
                let phi_d = shocked_phi(&data, &b, &changes_spec);
                let used: Vec<f64> = changes_spec.iter().map(|(k, _, _)| b[*k]).collect();
                let result = solve_once(&world, &phi_d, &params)
                    .ok()
                    .map(|(rows, _)| (rows, used));
                progress();
                result
            })
            .collect();
        draws_failed = results.iter().filter(|r| r.is_none()).count();
        intervals = intervals_of(&results, n);
        draw_results = results;
    }
    // The spread of each policy coefficient over the draws that converged:
    // with `uncertainty = "pairs"` the bootstrap standard error.
    let ok: Vec<&Vec<f64>> = draw_results.iter().flatten().map(|(_, b)| b).collect();
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
            scenario.draws
        ));
    }
    let countries_out: Vec<CountryResult> = (0..n)
        .map(|i| {
            let r = point[i];
            CountryResult {
                country: countries[i].clone(),
                exports_change_partial_pct: r[0],
                exports_change_conditional_pct: r[1],
                exports_change_full_pct: r[2],
                factory_price_change_pct: r[3],
                inward_mr_change_pct: r[4],
                outward_mr_change_pct: r[5],
                real_gdp_change_pct: r[6],
                intervals: intervals.as_ref().map(|iv| iv[i].clone()),
            }
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
        draws: scenario.draws,
        uncertainty: if bootstrap { "pairs" } else { "coefficients" }.into(),
        draws_failed,
        imputed: data.imputed,
        second_stage: data.second_stage,
        notes,
        baseline_nobs: baseline.nobs(),
    })
}

/// Every reported number must be finite: a NaN or infinity is an error
/// naming the country (or pair) and the quantity, never a `null` in JSON.
fn check_finite(
    countries: &[CountryResult],
    pairs: &[PairResult],
    coefficients: &[PolicyCoefficient],
) -> Result<()> {
    let bad = |what: String, v: f64| -> Result<()> {
        if v.is_finite() {
            Ok(())
        } else {
            Err(Error::numerical(
                ErrorKind::NonFinite,
                format!(
                "{what} is {v}: no counterfactual is reported (check sigma, the shock and the data)"
            ),
            ))
        }
    };
    for c in countries {
        let json = serde_json::to_value(c).map_err(|e| Error::Bug(e.to_string()))?;
        if let Some(map) = json.as_object() {
            for (k, v) in map {
                if k == "country" {
                    continue;
                }
                // serde_json writes a non-finite f64 as null
                bad(
                    format!("{} of {}", k, c.country),
                    v.as_f64().unwrap_or(f64::NAN),
                )?;
            }
        }
    }
    for p in pairs {
        for (k, v) in [
            ("baseline", p.baseline),
            ("partial", p.partial),
            ("conditional", p.conditional),
            ("full", p.full),
        ] {
            bad(format!("the {k} flow {} → {}", p.exporter, p.importer), v)?;
        }
    }
    for c in coefficients {
        bad(format!("the coefficient of {}", c.variable), c.estimate)?;
        bad(format!("the standard error of {}", c.variable), c.std_error)?;
        for v in [c.draws_mean, c.draws_std_error].into_iter().flatten() {
            bad(format!("the spread over draws of {}", c.variable), v)?;
        }
    }
    Ok(())
}

/// The conditional GE by the GEPPML route (Anderson, Larch & Yotov 2018):
/// PPML of the baseline flows on exporter and importer fixed effects with the
/// offset `ln φ'`; its fitted values are the conditional counterfactual
/// flows. An independent cross-check of [`crate::counterfactual::solve_conditional`].
pub fn conditional_by_ppml(countries: &[String], flows: &[f64], phi: &[f64]) -> Result<Vec<f64>> {
    let n = countries.len();
    let keep: Vec<usize> = (0..n * n).filter(|&k| phi[k] > 0.0).collect();
    let frame = Frame::from_columns(vec![
        (
            "exporter".into(),
            Column::Factor(Factor {
                codes: keep.iter().map(|&k| (k / n) as u32).collect(),
                levels: countries.to_vec(),
            }),
        ),
        (
            "importer".into(),
            Column::Factor(Factor {
                codes: keep.iter().map(|&k| (k % n) as u32).collect(),
                levels: countries.to_vec(),
            }),
        ),
        (
            "x".into(),
            Column::Numeric(keep.iter().map(|&k| flows[k]).collect()),
        ),
        (
            "o".into(),
            Column::Numeric(keep.iter().map(|&k| phi[k].ln()).collect()),
        ),
    ])?;
    let f = Formula::parse("x ~ 1 | exporter + importer")?;
    let options = FitOptions::default()
        .offset("o")
        .irls_tol(1e-14)
        .fixef_tol(1e-13)
        .irls_max_iter(1000)
        .fixef_rm(crate::FixefRm::None)
        .separation_ir(false);
    let fitted = crate::fit::fit(&frame, &f, Estimator::Ppml, &options)?;
    let by_row = fitted.fitted_by_row();
    let mut out = vec![0.0; n * n];
    for (r, &k) in keep.iter().enumerate() {
        out[k] = by_row[r].unwrap_or(0.0);
    }
    Ok(out)
}
