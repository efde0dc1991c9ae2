//! The named results of a counterfactual: per country, per pair, per
//! policy coefficient, and the imputed values.

use crate::error::{Error, ErrorKind, Result};
use serde::Serialize;

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
    /// How the draws were made: `coefficients` (also when none were drawn)
    /// or `pairs`.
    pub uncertainty: super::IntervalMethod,
    /// Draws whose GE did not converge (left out of the intervals).
    pub draws_failed: usize,
    /// Imputed domestic flows and pair effects.
    pub imputed: Vec<Imputed>,
    /// The second-stage regression that imputed missing pair effects.
    pub second_stage: Option<super::SecondStage>,
    /// Notes and warnings.
    pub notes: Vec<String>,
    /// The baseline estimation: observations and convergence.
    pub baseline_nobs: usize,
}

/// Every reported number must be finite: a NaN or infinity is an error
/// naming the country (or pair) and the quantity, never a `null` in JSON.
pub(super) fn check_finite(
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
