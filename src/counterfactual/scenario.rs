//! The scenario file: what to estimate, which costs to shock, how to solve.
//!
//! ```toml
//! data = "panel.csv"
//! formula = "trade ~ rta | exporter^year + importer^year + pair"
//! vcov = "cluster:pair"
//! year = 2006
//! sigma = 7.0
//! reference = "DEU"
//! domestic = "observed"        # observed | impute | none
//! impute_pair_effects = ["ldist", "cntg", "lang", "clny"]
//! draws = 200
//! seed = 1
//! [[shock]]
//! variable = "rta"
//! value = 0.0
//! between = ["CAN", "MEX", "USA"]
//! ```

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// How domestic (intra-national) trade flows are obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Domestic {
    /// Domestic flows are in the data.
    #[default]
    Observed,
    /// Domestic pair effects are imputed from pair covariates.
    Impute,
    /// No domestic flows.
    None,
}

fn default_draws() -> usize {
    200
}

fn default_seed() -> u64 {
    1
}

/// A set of countries in a shock: a list of codes, or every country of the
/// GE year (`"all"` in the scenario file).
///
/// ```
/// use gravity_model::counterfactual::{Countries, Shock};
/// let shock: Shock = toml::from_str(
///     "variable = \"intl_brdr\"\nvalue = 0.0\nbetween = \"all\"",
/// ).unwrap();
/// assert_eq!(shock.between, Some(Countries::All));
/// let names = vec!["CAN".to_string(), "MEX".to_string(), "USA".to_string()];
/// assert_eq!(shock.pairs(&names).unwrap().len(), 6); // every ordered pair, no domestic ones
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Countries {
    /// Every country of the GE year.
    All,
    /// These countries (ISO codes as in the data).
    List(Vec<String>),
}

impl From<Vec<String>> for Countries {
    fn from(v: Vec<String>) -> Self {
        Countries::List(v)
    }
}

impl Serialize for Countries {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Countries::All => s.serialize_str("all"),
            Countries::List(v) => v.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Countries {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Word(String),
            List(Vec<String>),
        }
        match Raw::deserialize(d).map_err(|_| {
            serde::de::Error::custom("expected a list of country codes or the word \"all\"")
        })? {
            Raw::Word(w) if w == "all" => Ok(Countries::All),
            Raw::Word(w) => Err(serde::de::Error::custom(format!(
                "expected a list of country codes or the word \"all\", found \"{w}\" (write [\"{w}\"] for one country)"
            ))),
            Raw::List(v) => Ok(Countries::List(v)),
        }
    }
}

impl Countries {
    fn len_hint(&self) -> Option<usize> {
        match self {
            Countries::All => None,
            Countries::List(v) => Some(v.len()),
        }
    }
}

/// One counterfactual change of a pair variable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shock {
    /// The regressor that changes (e.g. `rta`).
    pub variable: String,
    /// Its counterfactual value on the selected pairs.
    pub value: f64,
    /// Every ordered pair among these countries (or among all countries:
    /// `between = "all"`), domestic pairs excluded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub between: Option<Countries>,
    /// Exporters (with `to`; `"all"` for every country).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Countries>,
    /// Importers (with `from`; `"all"` for every country).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Countries>,
    /// With `from`/`to`: also shock the reverse direction.
    #[serde(default)]
    pub both_directions: bool,
    /// Overrides the estimated coefficient of `variable`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coefficient: Option<f64>,
}

/// A counterfactual scenario as read from a TOML file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// The panel CSV (resolved relative to the scenario file).
    pub data: PathBuf,
    /// Estimation formula, e.g. `trade ~ rta | exporter^year + importer^year + pair`.
    pub formula: String,
    /// Variance specification, e.g. `cluster:pair`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vcov: Option<String>,
    /// The baseline year of the counterfactual.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<i64>,
    /// Elasticity of substitution `σ > 1`.
    pub sigma: f64,
    /// Reference country whose inward MR is normalised to 1.
    pub reference: String,
    /// How domestic flows are obtained.
    #[serde(default)]
    pub domestic: Domestic,
    /// Pair covariates used to impute missing pair effects.
    #[serde(default)]
    pub impute_pair_effects: Vec<String>,
    /// Monte Carlo draws of the coefficients (0 = none; default 200).
    #[serde(default = "default_draws")]
    pub draws: usize,
    /// Seed of the coefficient draws (default 1).
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Small-sample preset of the baseline inference: `fixest` (default) or
    /// `ppmlhdfe`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssc: Option<String>,
    /// How the intervals are drawn: `coefficients` (default: the policy
    /// coefficients from N(β̂, V̂)) or `pairs` (a pair-cluster bootstrap of
    /// the whole pipeline: clusters of the `vcov` variable, or exporter-importer
    /// pairs, resampled with replacement, the model re-estimated, the costs
    /// rebuilt and the GE solved for every draw).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uncertainty: Option<String>,
    /// Baseline trade costs: `estimated` (default: `φ_ij = exp(pair effect +
    /// Σβx)`, with imputation for pairs without a pair effect) or
    /// `calibrated` (exact hat algebra: `φ_ij = X_ij Y / (Y_i E_j)`, so the
    /// baseline reproduces the GE year's observed and imputed flows exactly;
    /// pairs without trade stay without trade).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub costs: Option<String>,
    /// Exporter column of the panel (default `exporter`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exporter: Option<String>,
    /// Importer column of the panel (default `importer`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub importer: Option<String>,
    /// Time column of the panel (default `year`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// Which full endowment GE to report: `market_clearing` (default: the
    /// equilibrium, solved to `tolerance`) or `first_step` (the first pass of
    /// the Yotov et al. 2016 loop, as gegravity 0.3 reports it; for
    /// replication).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_ge: Option<String>,
    /// Solver tolerance (default 1e-12).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance: Option<f64>,
    /// Solver iteration limit (default 10000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_iter: Option<usize>,
    /// The shocks, applied together.
    #[serde(default, rename = "shock")]
    pub shocks: Vec<Shock>,
}

impl Scenario {
    /// Parses and validates a scenario from TOML text; relative paths stay
    /// as written.
    pub fn from_toml_str(text: &str) -> Result<Scenario> {
        let s: Scenario = toml::from_str(text).map_err(|e| {
            let message = e.message().to_string();
            let key = unknown_key(&message).unwrap_or_else(|| "scenario".to_string());
            Error::scenario(key, message)
        })?;
        s.validate()?;
        Ok(s)
    }

    /// Reads a scenario file; `data` is resolved relative to the file's
    /// directory.
    pub fn from_toml_path(path: impl AsRef<Path>) -> Result<Scenario> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut s = Scenario::from_toml_str(&text)?;
        if s.data.is_relative() {
            if let Some(dir) = path.parent() {
                s.data = dir.join(&s.data);
            }
        }
        Ok(s)
    }

    /// Checks every value; errors name the key.
    pub fn validate(&self) -> Result<()> {
        if !(self.sigma.is_finite() && self.sigma > 1.0) {
            return Err(Error::scenario(
                "sigma",
                format!("must be greater than 1, found {}", self.sigma),
            ));
        }
        if self.formula.trim().is_empty() {
            return Err(Error::scenario("formula", "must not be empty"));
        }
        if self.reference.trim().is_empty() {
            return Err(Error::scenario("reference", "must name a country"));
        }
        if let Some(t) = self.tolerance {
            if !(t.is_finite() && t > 0.0) {
                return Err(Error::scenario(
                    "tolerance",
                    format!("must be positive, found {t}"),
                ));
            }
        }
        if let Some(f) = &self.full_ge {
            f.parse::<super::FullGe>()?;
        }
        if self.max_iter == Some(0) {
            return Err(Error::scenario("max_iter", "must be at least 1, found 0"));
        }
        if self.domestic == Domestic::Impute && self.impute_pair_effects.is_empty() {
            return Err(Error::scenario(
                "impute_pair_effects",
                "must list pair covariates when domestic = \"impute\"",
            ));
        }
        if self.shocks.is_empty() {
            return Err(Error::scenario(
                "shock",
                "at least one [[shock]] is required",
            ));
        }
        for (k, shock) in self.shocks.iter().enumerate() {
            shock.validate(k)?;
        }
        Ok(())
    }
}

fn unknown_key(message: &str) -> Option<String> {
    // toml/serde: "unknown field `foo`, expected one of ..."
    let rest = message.strip_prefix("unknown field `")?;
    Some(rest.split('`').next()?.to_string())
}

impl Shock {
    fn validate(&self, k: usize) -> Result<()> {
        let key = |f: &str| format!("shock[{k}].{f}");
        if self.variable.trim().is_empty() {
            return Err(Error::scenario(key("variable"), "must not be empty"));
        }
        if !self.value.is_finite() {
            return Err(Error::scenario(
                key("value"),
                format!("must be finite, found {}", self.value),
            ));
        }
        if let Some(c) = self.coefficient {
            if !c.is_finite() {
                return Err(Error::scenario(
                    key("coefficient"),
                    format!("must be finite, found {c}"),
                ));
            }
        }
        match (&self.between, &self.from, &self.to) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => Err(Error::scenario(
                key("between"),
                "give either `between` or `from`/`to`, not both",
            )),
            (Some(b), None, None) => {
                if let Some(len) = b.len_hint().filter(|&l| l < 2) {
                    return Err(Error::scenario(
                        key("between"),
                        format!("must list at least two countries, found {len}"),
                    ));
                }
                if self.both_directions {
                    return Err(Error::scenario(
                        key("both_directions"),
                        "only applies to `from`/`to` (`between` already covers both directions)",
                    ));
                }
                Ok(())
            }
            (None, Some(f), Some(t)) => {
                if f.len_hint() == Some(0) {
                    return Err(Error::scenario(key("from"), "must not be empty"));
                }
                if t.len_hint() == Some(0) {
                    return Err(Error::scenario(key("to"), "must not be empty"));
                }
                Ok(())
            }
            (None, Some(_), None) => Err(Error::scenario(key("to"), "is required with `from`")),
            (None, None, Some(_)) => Err(Error::scenario(key("from"), "is required with `to`")),
            (None, None, None) => Err(Error::scenario(
                key("between"),
                "a shock needs `between` or `from`/`to`",
            )),
        }
    }

    /// The ordered (exporter, importer) index pairs this shock touches,
    /// sorted and without duplicates; domestic pairs are never included.
    /// `index` is the shock's position, used in error keys.
    pub fn pairs(&self, countries: &[String]) -> Result<Vec<(usize, usize)>> {
        self.pairs_at(0, countries)
    }

    /// As [`Shock::pairs`], naming the shock `shock[index]` in errors.
    pub fn pairs_at(&self, index: usize, countries: &[String]) -> Result<Vec<(usize, usize)>> {
        self.validate(index)?;
        let lookup = |field: &str, set: &Countries| -> Result<Vec<usize>> {
            let names = match set {
                Countries::All => return Ok((0..countries.len()).collect()),
                Countries::List(names) => names,
            };
            names
                .iter()
                .map(|name| {
                    countries.iter().position(|c| c == name).ok_or_else(|| {
                        Error::scenario(
                            format!("shock[{index}].{field}"),
                            format!("unknown country '{name}'"),
                        )
                    })
                })
                .collect()
        };
        let mut out = Vec::new();
        if let Some(b) = &self.between {
            let idx = lookup("between", b)?;
            for &i in &idx {
                for &j in &idx {
                    if i != j {
                        out.push((i, j));
                    }
                }
            }
        } else if let (Some(f), Some(t)) = (&self.from, &self.to) {
            let fi = lookup("from", f)?;
            let ti = lookup("to", t)?;
            for &i in &fi {
                for &j in &ti {
                    if i != j {
                        out.push((i, j));
                        if self.both_directions {
                            out.push((j, i));
                        }
                    }
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }
}

/// Applies a change in log trade costs to selected pairs:
/// `phi'_ij = phi_ij · exp(delta)` where `delta = β (value' − value)` is the
/// change in the linear predictor of the gravity equation.
pub fn shift_phi(phi: &[f64], n: usize, pairs: &[(usize, usize)], delta: f64) -> Result<Vec<f64>> {
    if phi.len() != n * n {
        return Err(Error::Model(format!(
            "cost matrix phi must have {} entries, found {}",
            n * n,
            phi.len()
        )));
    }
    let mut out = phi.to_vec();
    let factor = delta.exp();
    for &(i, j) in pairs {
        if i >= n || j >= n {
            return Err(Error::Model(format!(
                "pair ({i}, {j}) out of range for {n} countries"
            )));
        }
        out[i * n + j] *= factor;
    }
    Ok(out)
}
