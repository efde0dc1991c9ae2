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

/// The largest number of Monte Carlo draws a scenario may ask for: each draw
/// keeps one row of results per country (and a pair bootstrap re-estimates
/// the model), so more than this is a mistake, not a finer interval.
pub const MAX_DRAWS: usize = 100_000;

/// The smallest elasticity of substitution a scenario accepts. The GE
/// reports changes in resistances, prices and welfare as powers
/// `1/(1 − σ)` of the solved quantities (`P̂ = (P̂^(1−σ))^(1/(1−σ))`, with the
/// estimated `φ = t^(1−σ)` held fixed): as σ → 1 these powers amplify any
/// change without bound (σ = 1.001 raises them to the power −1000), so the
/// numbers say nothing. Estimates of σ in the trade literature lie between
/// about 2 and 12 (the Advanced Guide uses 7).
pub const MIN_SIGMA: f64 = 1.01;

fn default_seed() -> u64 {
    1
}

/// A set of countries in a shock: a list of codes, or every country of the
/// GE year (`"all"` in the scenario file).
///
/// ```
/// use gravity_model::simulate::{Countries, Shock};
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
    /// GDP by country and year in the unit of the flows (a CSV with columns
    /// `country`, `year`, `gdp`; resolved relative to the scenario file). With
    /// `domestic = "impute"`, a country without any domestic flow gets the
    /// median ratio of domestic sales to GDP of the countries with one, and
    /// every imputed domestic flow is capped at the largest observed ratio
    /// times GDP (never above GDP); each check is listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gdp: Option<PathBuf>,
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
    ///
    /// Syntax and type errors give the line and column and, where there is
    /// one, the key:
    ///
    /// ```
    /// use gravity_model::simulate::Scenario;
    /// let e = Scenario::from_toml_str("data = \"p.csv\"\nsigma = \"seven\"\n").unwrap_err();
    /// assert!(e.to_string().contains("sigma") && e.to_string().contains("line 2, column 9"), "{e}");
    /// ```
    pub fn from_toml_str(text: &str) -> Result<Scenario> {
        Scenario::parse_toml(text, None)
    }

    fn parse_toml(text: &str, file: Option<&Path>) -> Result<Scenario> {
        let s: Scenario = toml::from_str(text).map_err(|e| toml_error(text, file, &e))?;
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
        let mut s = Scenario::parse_toml(&text, Some(path))?;
        if let Some(dir) = path.parent() {
            if s.data.is_relative() {
                s.data = dir.join(&s.data);
            }
            if let Some(g) = s.gdp.as_mut().filter(|g| g.is_relative()) {
                *g = dir.join(&*g);
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
        if self.sigma < MIN_SIGMA {
            return Err(Error::scenario(
                "sigma",
                format!(
                    "must be at least {MIN_SIGMA}, found {}: the GE changes are powers 1/(1 − σ) of the solved \
                     quantities (the estimated costs φ = t^(1−σ) held fixed), which grow without bound as σ → 1 \
                     (σ = {} raises them to the power {:.0}); trade elasticities estimated in the literature \
                     put σ between about 2 and 12",
                    self.sigma,
                    self.sigma,
                    1.0 / (1.0 - self.sigma)
                ),
            ));
        }
        if self.draws > MAX_DRAWS {
            return Err(Error::scenario(
                "draws",
                format!(
                    "must be at most {MAX_DRAWS}, found {}: percentile intervals are stable long before that \
                     (200 is the default)",
                    self.draws
                ),
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
            f.parse::<crate::counterfactual::FullGe>()?;
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

/// 1-based line and column (in characters) of byte offset `at` in `text`.
fn line_column(text: &str, at: usize) -> (usize, usize) {
    let at = at.min(text.len());
    let before = text.get(..at).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |k| k + 1);
    let column = before.get(start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

/// The scenario key at byte offset `at`: the key of the nearest `key = ` at
/// or above it, inside its table (`shock[k].` for the k-th `[[shock]]`).
fn key_at(text: &str, at: usize) -> Option<String> {
    let at = at.min(text.len());
    let mut table: Option<String> = None;
    let mut shocks = 0usize;
    let mut key: Option<String> = None;
    let mut offset = 0usize;
    for line in text.split_inclusive('\n') {
        if offset > at {
            break;
        }
        offset += line.len();
        let t = line.trim();
        if t.starts_with("[[") {
            let name = t
                .trim_start_matches('[')
                .split(']')
                .next()
                .unwrap_or("")
                .trim();
            if name == "shock" {
                table = Some(format!("shock[{shocks}]"));
                shocks += 1;
            } else {
                table = Some(name.to_string());
            }
            key = None;
        } else if t.starts_with('[') {
            table = Some(t.trim_matches(|c| c == '[' || c == ']').trim().to_string());
            key = None;
        } else if let Some((k, _)) = t.split_once('=') {
            let k = k.trim().trim_matches('"');
            if !k.is_empty() && !k.starts_with('#') && !k.contains(' ') {
                key = Some(k.to_string());
            }
        }
    }
    match (table, key) {
        (Some(t), Some(k)) => Some(format!("{t}.{k}")),
        (Some(t), None) => Some(t),
        (None, k) => k,
    }
}

/// A TOML syntax or type error as a scenario error naming the file, line,
/// column and key.
fn toml_error(text: &str, file: Option<&Path>, e: &toml::de::Error) -> Error {
    let message = e.message().trim().to_string();
    let span = e.span();
    let key = unknown_key(&message)
        .or_else(|| span.as_ref().and_then(|s| key_at(text, s.start)))
        .unwrap_or_else(|| "scenario".to_string());
    let place = match (span, file) {
        (Some(s), Some(f)) => {
            let (l, c) = line_column(text, s.start);
            format!("{}: line {l}, column {c}: ", f.display())
        }
        (Some(s), None) => {
            let (l, c) = line_column(text, s.start);
            format!("line {l}, column {c}: ")
        }
        (None, Some(f)) => format!("{}: ", f.display()),
        (None, None) => String::new(),
    };
    Error::scenario(key, format!("{place}{message}"))
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
        for (field, set) in [
            ("between", &self.between),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if let Some(Countries::List(names)) = set {
                for (a, name) in names.iter().enumerate() {
                    if names[..a].contains(name) {
                        return Err(Error::scenario(key(field), format!("lists '{name}' twice")));
                    }
                }
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
    /// A shock that touches no pair (`from = ["A"]`, `to = ["A"]`) is an
    /// error.
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
        if out.is_empty() {
            return Err(Error::scenario(
                format!("shock[{index}]"),
                "matches no pair of distinct countries: it would change nothing",
            ));
        }
        Ok(out)
    }
}
