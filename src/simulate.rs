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
use crate::error::{Error, Result};
use crate::fit::{Estimator, Fit, FitOptions};
use crate::formula::Formula;
use serde::Serialize;
use std::collections::HashMap;

/// How domestic flows enter the GE year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Domestic {
    /// Every country must have an observed domestic flow in the GE year.
    Observed,
    /// Missing domestic flows are imputed (listed in the output).
    Impute,
    /// No domestic flows: an international-only world.
    None,
}

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
    let formula = &fit.formula;
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

    // Fixed effects and the pair dimension: the term without the time column.
    let fe = fit.fixed_effects()?;
    let pair_term = formula
        .fixed_effects
        .iter()
        .position(|t| t.factors.iter().all(|f| f.name != keys.year));
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
    let policy_names: Vec<String> = fit.names.clone();
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
                let (s, method) = match (nearest, median) {
                    (Some((t, s)), _) => (s, format!("domestic share of output in {t} ({s:.4}) applied to {year} exports")),
                    (None, Some(m)) => (m, format!("no domestic flow in any year: median domestic share ({m:.4}) applied to {year} exports")),
                    (None, None) => {
                        return Err(Error::Scenario {
                            key: "domestic".into(),
                            message: "no country has a domestic flow to impute from".into(),
                        })
                    }
                };
                let v = exports * s / (1.0 - s);
                flows[i * n + i] = v;
                imputed.push(Imputed {
                    kind: "domestic_flow".into(),
                    exporter: names[i].clone(),
                    importer: names[i].clone(),
                    value: v,
                    method,
                });
            }
        }
    }

    // Pair effects missing: second-stage PPML on time-invariant covariates.
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
        let pairs: Vec<usize> = (0..n * n)
            .filter(|&k| !(domestic == Domestic::None && k / n == k % n))
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
        let pf = Frame::from_columns(columns)?;
        let text = format!(
            "tij ~ {} | exporter + importer",
            impute_covariates.join(" + ")
        );
        let f2 = Formula::parse(&text)?;
        let second = crate::fit::fit(&pf, &f2, Estimator::Ppml, &FitOptions::default())?;
        if !second.info.converged {
            return Err(Error::Numerical(
                "the second-stage PPML for missing pair effects did not converge".into(),
            ));
        }
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
                let xb: f64 = policy
                    .iter()
                    .zip(&fit.beta)
                    .map(|((_, v), b)| b * v[k])
                    .sum();
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
