//! The named results of a counterfactual: per country, per pair, per
//! policy coefficient, and the imputed values.

pub use crate::counterfactual::Interval;
use crate::error::{Error, ErrorKind, Result};
use serde::Serialize;

/// What an [`Imputed`] value is (`kind` in the JSON and `imputed.csv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ImputedKind {
    /// `domestic_flow`: a domestic flow missing in the GE year.
    DomesticFlow,
    /// `pair_effect`: a pair effect from the second-stage PPML.
    PairEffect,
}

impl ImputedKind {
    /// The name in the JSON and CSV outputs: `domestic_flow` or `pair_effect`.
    pub fn as_str(self) -> &'static str {
        match self {
            ImputedKind::DomesticFlow => "domestic_flow",
            ImputedKind::PairEffect => "pair_effect",
        }
    }
}

impl std::fmt::Display for ImputedKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A value that was not in the data and was imputed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Imputed {
    /// What was imputed.
    pub kind: ImputedKind,
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
#[non_exhaustive]
pub struct DomesticCheck {
    /// The country's GDP in the GE year (or the nearest year with one).
    pub gdp: f64,
    /// Imputed domestic sales / GDP.
    pub share_of_gdp: f64,
    /// The country's exports in the GE year (the same flows).
    pub exports: f64,
}

/// One of the seven per-country quantities of a counterfactual, each a
/// change in percent (counterfactual relative to the baseline).
///
/// ```
/// use gravity_model::simulate::Quantity;
/// assert_eq!(Quantity::RealGdp.name(), "real_gdp_change_pct");
/// assert_eq!(Quantity::ALL.len(), 7);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Quantity {
    /// Exports, direct effect only (output, expenditure and resistances fixed).
    ExportsPartial,
    /// Exports, conditional GE (output and expenditure fixed).
    ExportsConditional,
    /// Exports, full endowment GE.
    ExportsFull,
    /// Factory-gate price (full GE).
    FactoryPrice,
    /// Inward multilateral resistance (full GE).
    InwardMr,
    /// Outward multilateral resistance (full GE).
    OutwardMr,
    /// Real GDP, `p̂/P̂` (full GE): the welfare effect.
    RealGdp,
}

impl Quantity {
    /// Every quantity, in the order of the outputs' columns.
    pub const ALL: [Quantity; 7] = [
        Quantity::ExportsPartial,
        Quantity::ExportsConditional,
        Quantity::ExportsFull,
        Quantity::FactoryPrice,
        Quantity::InwardMr,
        Quantity::OutwardMr,
        Quantity::RealGdp,
    ];

    /// The field name in the JSON and CSV outputs (`real_gdp_change_pct`).
    pub fn name(self) -> &'static str {
        self.names()[0]
    }

    /// The name, and the names of the ends of its interval
    /// (`…_ci_low`, `…_ci_high`).
    fn names(self) -> [&'static str; 3] {
        match self {
            Quantity::ExportsPartial => [
                "exports_change_partial_pct",
                "exports_change_partial_pct_ci_low",
                "exports_change_partial_pct_ci_high",
            ],
            Quantity::ExportsConditional => [
                "exports_change_conditional_pct",
                "exports_change_conditional_pct_ci_low",
                "exports_change_conditional_pct_ci_high",
            ],
            Quantity::ExportsFull => [
                "exports_change_full_pct",
                "exports_change_full_pct_ci_low",
                "exports_change_full_pct_ci_high",
            ],
            Quantity::FactoryPrice => [
                "factory_price_change_pct",
                "factory_price_change_pct_ci_low",
                "factory_price_change_pct_ci_high",
            ],
            Quantity::InwardMr => [
                "inward_mr_change_pct",
                "inward_mr_change_pct_ci_low",
                "inward_mr_change_pct_ci_high",
            ],
            Quantity::OutwardMr => [
                "outward_mr_change_pct",
                "outward_mr_change_pct_ci_low",
                "outward_mr_change_pct_ci_high",
            ],
            Quantity::RealGdp => [
                "real_gdp_change_pct",
                "real_gdp_change_pct_ci_low",
                "real_gdp_change_pct_ci_high",
            ],
        }
    }
}

/// The seven per-country quantities of a counterfactual, by name: the point
/// estimates as `CountryChanges<f64>` (every field a change in percent,
/// counterfactual relative to the baseline), their 95% intervals as
/// [`CountryIntervals`] (`CountryChanges<Interval>`).
///
/// Serialised flat: `CountryChanges<f64>` as the seven names
/// (`real_gdp_change_pct`, …), `CountryIntervals` as each name with
/// `_ci_low` and `_ci_high`.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct CountryChanges<T = f64> {
    /// Exports, direct effect only (output, expenditure and resistances fixed).
    pub exports_change_partial_pct: T,
    /// Exports, conditional GE (output and expenditure fixed).
    pub exports_change_conditional_pct: T,
    /// Exports, full endowment GE.
    pub exports_change_full_pct: T,
    /// Factory-gate price (full GE).
    pub factory_price_change_pct: T,
    /// Inward multilateral resistance (full GE).
    pub inward_mr_change_pct: T,
    /// Outward multilateral resistance (full GE).
    pub outward_mr_change_pct: T,
    /// Real GDP, `p̂/P̂` (full GE): the welfare effect.
    pub real_gdp_change_pct: T,
}

/// The 95% intervals (2.5% and 97.5% percentiles over the draws) of the
/// quantities of a [`CountryResult`].
pub type CountryIntervals = CountryChanges<Interval>;

impl<T> CountryChanges<T> {
    /// The quantities computed one by one.
    pub fn from_fn(mut f: impl FnMut(Quantity) -> T) -> Self {
        CountryChanges {
            exports_change_partial_pct: f(Quantity::ExportsPartial),
            exports_change_conditional_pct: f(Quantity::ExportsConditional),
            exports_change_full_pct: f(Quantity::ExportsFull),
            factory_price_change_pct: f(Quantity::FactoryPrice),
            inward_mr_change_pct: f(Quantity::InwardMr),
            outward_mr_change_pct: f(Quantity::OutwardMr),
            real_gdp_change_pct: f(Quantity::RealGdp),
        }
    }

    /// The value of quantity `q`.
    pub fn get(&self, q: Quantity) -> &T {
        match q {
            Quantity::ExportsPartial => &self.exports_change_partial_pct,
            Quantity::ExportsConditional => &self.exports_change_conditional_pct,
            Quantity::ExportsFull => &self.exports_change_full_pct,
            Quantity::FactoryPrice => &self.factory_price_change_pct,
            Quantity::InwardMr => &self.inward_mr_change_pct,
            Quantity::OutwardMr => &self.outward_mr_change_pct,
            Quantity::RealGdp => &self.real_gdp_change_pct,
        }
    }
}

impl Serialize for CountryChanges<f64> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("CountryChanges", Quantity::ALL.len())?;
        for q in Quantity::ALL {
            st.serialize_field(q.name(), self.get(q))?;
        }
        st.end()
    }
}

impl Serialize for CountryChanges<Interval> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("CountryIntervals", 2 * Quantity::ALL.len())?;
        for q in Quantity::ALL {
            let [_, low, high] = q.names();
            let iv = self.get(q);
            st.serialize_field(low, &iv.low)?;
            st.serialize_field(high, &iv.high)?;
        }
        st.end()
    }
}

/// Results for one country: the point estimates and, when draws ran, their
/// intervals (in the JSON, flat: `real_gdp_change_pct`,
/// `real_gdp_change_pct_ci_low`, `real_gdp_change_pct_ci_high`, …).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct CountryResult {
    /// ISO3 code.
    pub country: String,
    /// The changes, in percent.
    #[serde(flatten)]
    pub changes: CountryChanges,
    /// Their 95% intervals, when draws were run.
    #[serde(flatten)]
    pub intervals: Option<CountryIntervals>,
}

/// Baseline and counterfactual flows of one pair.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
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
#[non_exhaustive]
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
#[non_exhaustive]
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
    /// A multi-sector scenario's sectors (empty for one sector, and then
    /// left out of the JSON). With sectors, `countries` and `pairs` are
    /// totals over the sectors (see [`SectorResult`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sectors: Vec<SectorResult>,
}

/// One sector of a multi-sector counterfactual.
///
/// The [`Counterfactual`]'s own `countries` then hold each country over all
/// sectors: exports summed over sectors, `real_gdp_change_pct` the change in
/// real income `Σ_k Y^k_i / P_i` (`P_i = Π_k (P^k_i)^(s^k_i)`, the consumer
/// price index), `inward_mr_change_pct` the change in `P_i`,
/// `factory_price_change_pct` the change in nominal output `Σ_k Y^k_i` (the
/// output-weighted factory-gate price change) and `outward_mr_change_pct`
/// the baseline-output-weighted mean of the sectors' outward-MR changes;
/// `pairs` hold flows summed over sectors (`shocked` if a shock applies to the
/// pair). No intervals are drawn for a multi-sector scenario.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct SectorResult {
    /// Sector name.
    pub sector: String,
    /// Its outcome column.
    pub outcome: String,
    /// Its `σ_k`.
    pub sigma: f64,
    /// Observations of its baseline estimation.
    pub baseline_nobs: usize,
    /// Its policy coefficients.
    pub coefficients: Vec<PolicyCoefficient>,
    /// Per country, in the sector.
    pub countries: Vec<crate::counterfactual::SectorCountryOutcome>,
    /// Per pair, in the sector.
    pub pairs: Vec<PairResult>,
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
