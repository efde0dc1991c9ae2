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

use crate::counterfactual::{FullGe, GeMethod};
use crate::error::{Error, ErrorKind, Result};
use crate::vcov::{SmallSample, VcovSpec};
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
/// )?;
/// assert_eq!(shock.between, Some(Countries::All));
/// let names = vec!["CAN".to_string(), "MEX".to_string(), "USA".to_string()];
/// assert_eq!(shock.pairs(&names)?.len(), 6); // every ordered pair, no domestic ones
/// # Ok::<(), Box<dyn std::error::Error>>(())
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

/// How the model's intervals are drawn: the scenario's `uncertainty`,
/// `draws` and `seed` keys, read together.
///
/// ```
/// use gravity_model::simulate::{IntervalMethod, Scenario, Uncertainty};
/// let base = "data = \"p.csv\"\nformula = \"y ~ x\"\nsigma = 5\nreference = \"A\"\n";
/// let shock = "[[shock]]\nvariable = \"x\"\nvalue = 0\nbetween = \"all\"\n";
/// let s = Scenario::from_toml_str(&format!("{base}{shock}"))?;
/// assert_eq!(s.uncertainty, Uncertainty::CoefficientDraws { draws: 200, seed: 1 });
/// let s = Scenario::from_toml_str(&format!("{base}uncertainty = \"pairs\"\ndraws = 50\n{shock}"))?;
/// assert_eq!(s.uncertainty, Uncertainty::PairBootstrap { draws: 50, seed: 1 });
/// assert_eq!(s.uncertainty.method(), IntervalMethod::Pairs);
/// let s = Scenario::from_toml_str(&format!("{base}draws = 0\n{shock}"))?;
/// assert_eq!(s.uncertainty, Uncertainty::None);
/// # Ok::<(), gravity_model::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Uncertainty {
    /// No intervals (`draws = 0`).
    None,
    /// `uncertainty = "coefficients"` (the default): the policy coefficients
    /// drawn from `N(β̂, V̂)`, the GE solved for every draw.
    CoefficientDraws {
        /// Number of draws (`draws`, default 200, at most [`MAX_DRAWS`]).
        draws: usize,
        /// Seed of the draws (`seed`, default 1).
        seed: u64,
    },
    /// `uncertainty = "pairs"`: a pair-cluster bootstrap of the whole
    /// pipeline (clusters of the `vcov` variable, or exporter-importer pairs,
    /// resampled with replacement, the model re-estimated, the costs rebuilt
    /// and the GE solved for every draw).
    PairBootstrap {
        /// Number of bootstrap draws (`draws`).
        draws: usize,
        /// Seed of the resampling (`seed`).
        seed: u64,
    },
}

impl Default for Uncertainty {
    /// 200 coefficient draws with seed 1, as a scenario file without any of
    /// the three keys.
    fn default() -> Self {
        Uncertainty::CoefficientDraws {
            draws: default_draws(),
            seed: default_seed(),
        }
    }
}

impl Uncertainty {
    /// The intervals `method` with `draws` draws from `seed`; no draws is
    /// [`Uncertainty::None`] whatever the method.
    pub fn new(method: IntervalMethod, draws: usize, seed: u64) -> Uncertainty {
        match (draws, method) {
            (0, _) => Uncertainty::None,
            (draws, IntervalMethod::Coefficients) => Uncertainty::CoefficientDraws { draws, seed },
            (draws, IntervalMethod::Pairs) => Uncertainty::PairBootstrap { draws, seed },
        }
    }

    /// The number of draws (0 for [`Uncertainty::None`]).
    pub fn draws(&self) -> usize {
        match *self {
            Uncertainty::None => 0,
            Uncertainty::CoefficientDraws { draws, .. }
            | Uncertainty::PairBootstrap { draws, .. } => draws,
        }
    }

    /// How the intervals are drawn, as the report names it:
    /// [`IntervalMethod::Coefficients`] also when nothing is drawn (the
    /// default method).
    pub fn method(&self) -> IntervalMethod {
        match self {
            Uncertainty::PairBootstrap { .. } => IntervalMethod::Pairs,
            Uncertainty::None | Uncertainty::CoefficientDraws { .. } => {
                IntervalMethod::Coefficients
            }
        }
    }
}

/// The word of the scenario's `uncertainty` key, and of the report's
/// `uncertainty` field: `coefficients` or `pairs`.
///
/// ```
/// use gravity_model::simulate::IntervalMethod;
/// assert_eq!("pairs".parse::<IntervalMethod>()?, IntervalMethod::Pairs);
/// assert!("jackknife".parse::<IntervalMethod>().is_err());
/// # Ok::<(), gravity_model::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum IntervalMethod {
    /// Draws of the policy coefficients from `N(β̂, V̂)`.
    #[default]
    Coefficients,
    /// The pair-cluster bootstrap of the whole pipeline.
    Pairs,
}

impl std::str::FromStr for IntervalMethod {
    type Err = Error;
    /// # Errors
    ///
    /// [`ErrorKind::InvalidOption`](crate::ErrorKind::InvalidOption) for any
    /// other word.
    fn from_str(s: &str) -> Result<IntervalMethod> {
        match s {
            "coefficients" => Ok(IntervalMethod::Coefficients),
            "pairs" => Ok(IntervalMethod::Pairs),
            other => Err(Error::model(
                ErrorKind::InvalidOption,
                format!("expected coefficients or pairs, found '{other}'"),
            )),
        }
    }
}

/// The baseline trade costs (the scenario's `costs` key).
///
/// ```
/// use gravity_model::simulate::Costs;
/// assert_eq!("calibrated".parse::<Costs>()?, Costs::Calibrated);
/// assert_eq!(Costs::default(), Costs::Estimated);
/// # Ok::<(), gravity_model::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Costs {
    /// `estimated` (the default): `φ_ij = exp(pair effect + Σβx)`, with
    /// imputation for pairs without a pair effect.
    #[default]
    Estimated,
    /// `calibrated`: exact hat algebra, `φ_ij = X_ij Y / (Y_i E_j)`, so the
    /// baseline reproduces the GE year's observed and imputed flows exactly;
    /// pairs without trade stay without trade.
    Calibrated,
}

impl std::str::FromStr for Costs {
    type Err = Error;
    /// # Errors
    ///
    /// [`ErrorKind::InvalidOption`](crate::ErrorKind::InvalidOption) for any
    /// other word.
    fn from_str(s: &str) -> Result<Costs> {
        match s {
            "estimated" => Ok(Costs::Estimated),
            "calibrated" => Ok(Costs::Calibrated),
            other => Err(Error::model(
                ErrorKind::InvalidOption,
                format!("expected estimated or calibrated, found '{other}'"),
            )),
        }
    }
}

/// A counterfactual scenario, every option parsed into its type when the
/// file is read ([`Scenario::from_toml_path`], [`Scenario::from_toml_str`])
/// or set in code ([`Scenario::new`] and the public fields).
///
/// ```
/// use gravity_model::simulate::{Costs, Countries, Scenario, Shock, Uncertainty};
/// use gravity_model::VcovSpec;
/// let shock = Shock {
///     variable: "rta".into(),
///     value: 0.0,
///     between: Some(Countries::List(vec!["CAN".into(), "MEX".into(), "USA".into()])),
///     from: None,
///     to: None,
///     both_directions: false,
///     coefficient: None,
/// };
/// let mut s = Scenario::new("panel.csv", "trade ~ rta | exporter^year + importer^year + pair", 7.0, "DEU", vec![shock]);
/// s.vcov = VcovSpec::Cluster(vec!["pair".into()]);
/// s.year = Some(1994);
/// s.costs = Costs::Calibrated;
/// s.uncertainty = Uncertainty::None;
/// s.validate()?;
/// # Ok::<(), gravity_model::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(from = "ScenarioFile")]
#[non_exhaustive]
pub struct Scenario {
    /// The panel (`data`; resolved relative to the scenario file): CSV,
    /// Stata .dta or Parquet, chosen by content.
    pub data: PathBuf,
    /// Estimation formula (`formula`), e.g. `trade ~ rta | exporter^year + importer^year + pair`.
    pub formula: String,
    /// Variance of the baseline estimates (`vcov`: `iid`, `hetero` (the
    /// default) or `cluster:VAR[,VAR]`, as [`VcovSpec::parse`] reads it).
    pub vcov: VcovSpec,
    /// The baseline year of the counterfactual (`year`).
    pub year: Option<i64>,
    /// Elasticity of substitution `σ > 1` (`sigma`).
    pub sigma: f64,
    /// Reference country whose inward MR is normalised to 1 (`reference`).
    pub reference: String,
    /// How domestic flows are obtained (`domestic`).
    pub domestic: Domestic,
    /// Pair covariates used to impute missing pair effects
    /// (`impute_pair_effects`).
    pub impute_pair_effects: Vec<String>,
    /// GDP by country and year in the unit of the flows (`gdp`: a CSV with
    /// columns `country`, `year`, `gdp`; resolved relative to the scenario
    /// file). With `domestic = "impute"`, a country without any domestic flow
    /// gets the median ratio of domestic sales to GDP of the countries with
    /// one, and every imputed domestic flow is capped at the largest observed
    /// ratio times GDP (never above GDP); each check is listed.
    pub gdp: Option<PathBuf>,
    /// How the intervals are drawn (`uncertainty`, `draws`, `seed`).
    pub uncertainty: Uncertainty,
    /// Small-sample preset of the baseline inference (`ssc`: `fixest`, the
    /// default when `None`, or `ppmlhdfe`; read by [`SmallSample::parse`]).
    pub ssc: Option<SmallSample>,
    /// Baseline trade costs (`costs`).
    pub costs: Costs,
    /// Exporter column of the panel (`exporter`, default `exporter`).
    pub exporter: Option<String>,
    /// Importer column of the panel (`importer`, default `importer`).
    pub importer: Option<String>,
    /// Time column of the panel (`time`, default `year`).
    pub time: Option<String>,
    /// Which full endowment GE to report (`full_ge`: `market_clearing`, the
    /// default, the equilibrium solved to `tolerance`; or `first_step`, the
    /// first pass of the Yotov et al. 2016 loop, as gegravity 0.3 reports it,
    /// for replication).
    pub full_ge: FullGe,
    /// How the GE is solved (`solver`: `newton`, the default, or
    /// `fixed_point`, the plain iterations; the same solution, see
    /// [`GeMethod`]).
    pub solver: GeMethod,
    /// Solver tolerance (`tolerance`, default 1e-12).
    pub tolerance: Option<f64>,
    /// Solver iteration limit (`max_iter`, default 10000).
    pub max_iter: Option<usize>,
    /// The shocks, applied together (`[[shock]]`).
    pub shocks: Vec<Shock>,
    /// The sectors of a multi-sector GE (`[[sector]]`; empty: the one-sector
    /// model). Each sector is estimated with its own outcome column and
    /// simulated with its own coefficients, costs and `σ`.
    pub sectors: Vec<SectorSpec>,
}

/// One sector of a multi-sector scenario (`[[sector]]`): the formula is
/// estimated once per sector with the sector's outcome column on its left,
/// every shock applies in every sector with the sector's own estimated
/// coefficient (or the override here), and the sectors' GE cross-sections
/// form one multi-sector world.
///
/// ```
/// use gravity_model::simulate::SectorSpec;
/// let s: SectorSpec = toml::from_str(
///     "name = \"agriculture\"\noutcome = \"trade_agriculture\"\nsigma = 8.0\ncoefficients = { fta = 0.0 }",
/// )?;
/// assert_eq!(s.coefficients["fta"], 0.0);
/// # Ok::<(), toml::de::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SectorSpec {
    /// Sector name (unique; the results' `sector`).
    pub name: String,
    /// The outcome column of the sector's trade flows (replaces the
    /// formula's left-hand side).
    pub outcome: String,
    /// The sector's `σ_k` (default: the scenario's `sigma`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sigma: Option<f64>,
    /// Coefficients that override the sector's estimates of shocked
    /// variables (e.g. `{ fta = 0.0 }`: no effect of the agreement here).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub coefficients: std::collections::BTreeMap<String, f64>,
}

/// The scenario file as written: the keys and their TOML types, each word
/// already parsed into its type (so that an unknown word is an error with
/// the line and column of its value).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    data: PathBuf,
    formula: String,
    #[serde(default, deserialize_with = "parsed")]
    vcov: Option<VcovSpec>,
    #[serde(default)]
    year: Option<i64>,
    sigma: f64,
    reference: String,
    #[serde(default)]
    domestic: Domestic,
    #[serde(default)]
    impute_pair_effects: Vec<String>,
    #[serde(default)]
    gdp: Option<PathBuf>,
    #[serde(default = "default_draws")]
    draws: usize,
    #[serde(default = "default_seed")]
    seed: u64,
    #[serde(default, deserialize_with = "small_sample")]
    ssc: Option<SmallSample>,
    #[serde(default, deserialize_with = "parsed")]
    uncertainty: Option<IntervalMethod>,
    #[serde(default, deserialize_with = "parsed")]
    costs: Option<Costs>,
    #[serde(default)]
    exporter: Option<String>,
    #[serde(default)]
    importer: Option<String>,
    #[serde(default)]
    time: Option<String>,
    #[serde(default, deserialize_with = "parsed")]
    full_ge: Option<FullGe>,
    #[serde(default, deserialize_with = "parsed")]
    solver: Option<GeMethod>,
    #[serde(default)]
    tolerance: Option<f64>,
    #[serde(default)]
    max_iter: Option<usize>,
    #[serde(default, rename = "shock")]
    shocks: Vec<Shock>,
    #[serde(default, rename = "sector")]
    sectors: Vec<SectorSpec>,
}

impl From<ScenarioFile> for Scenario {
    fn from(f: ScenarioFile) -> Scenario {
        Scenario {
            data: f.data,
            formula: f.formula,
            vcov: f.vcov.unwrap_or(VcovSpec::Hetero),
            year: f.year,
            sigma: f.sigma,
            reference: f.reference,
            domestic: f.domestic,
            impute_pair_effects: f.impute_pair_effects,
            gdp: f.gdp,
            uncertainty: Uncertainty::new(f.uncertainty.unwrap_or_default(), f.draws, f.seed),
            ssc: f.ssc,
            costs: f.costs.unwrap_or_default(),
            exporter: f.exporter,
            importer: f.importer,
            time: f.time,
            full_ge: f.full_ge.unwrap_or_default(),
            solver: f.solver.unwrap_or_default(),
            tolerance: f.tolerance,
            max_iter: f.max_iter,
            shocks: f.shocks,
            sectors: f.sectors,
        }
    }
}

/// The message of an option error without the `scenario: key:` prefix that
/// [`toml_error`] adds with the place.
fn bare_message(e: &Error) -> String {
    match e {
        Error::Scenario { message, .. } | Error::Model { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

/// A word of the scenario file parsed by the type's `FromStr`.
fn parsed<'de, D, T>(d: D) -> std::result::Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr<Err = Error>,
{
    let word = String::deserialize(d)?;
    word.parse::<T>()
        .map(Some)
        .map_err(|e| serde::de::Error::custom(bare_message(&e)))
}

/// The `ssc` word, read by [`SmallSample::parse`].
fn small_sample<'de, D>(d: D) -> std::result::Result<Option<SmallSample>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let word = String::deserialize(d)?;
    SmallSample::parse(&word)
        .map(Some)
        .map_err(|e| serde::de::Error::custom(bare_message(&e)))
}

impl Scenario {
    /// A scenario with the given data, formula, `σ`, reference country and
    /// shocks, and every other option at the default a scenario file without
    /// that key gets (`vcov = "hetero"`, no year, observed domestic flows,
    /// 200 coefficient draws with seed 1, estimated costs, the
    /// market-clearing full GE). Set the public fields for the rest; nothing
    /// is checked until [`Scenario::validate`] (which the pipeline runs).
    pub fn new(
        data: impl Into<PathBuf>,
        formula: impl Into<String>,
        sigma: f64,
        reference: impl Into<String>,
        shocks: Vec<Shock>,
    ) -> Scenario {
        Scenario {
            data: data.into(),
            formula: formula.into(),
            vcov: VcovSpec::Hetero,
            year: None,
            sigma,
            reference: reference.into(),
            domestic: Domestic::default(),
            impute_pair_effects: Vec::new(),
            gdp: None,
            uncertainty: Uncertainty::default(),
            ssc: None,
            costs: Costs::default(),
            exporter: None,
            importer: None,
            time: None,
            full_ge: FullGe::default(),
            solver: GeMethod::default(),
            tolerance: None,
            max_iter: None,
            shocks,
            sectors: Vec::new(),
        }
    }

    /// Parses and validates a scenario from TOML text; relative paths stay
    /// as written. Every word (`vcov`, `ssc`, `uncertainty`, `costs`,
    /// `full_ge`, `domestic`) is parsed here, not when the scenario runs.
    ///
    /// # Errors
    ///
    /// [`Error::Scenario`] naming the key: a TOML syntax or type error, an
    /// unknown key or word (with the line and column), or a value that
    /// [`Scenario::validate`] refuses.
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

    /// Reads a scenario file; `data` and `gdp` are resolved relative to the
    /// file's directory.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the file cannot be read; otherwise as
    /// [`Scenario::from_toml_str`], the place naming the file.
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

    /// Checks every value: `σ` at least [`MIN_SIGMA`], at most [`MAX_DRAWS`]
    /// draws, a formula and a reference country, a positive tolerance, an
    /// iteration limit of at least 1, covariates when domestic flows are
    /// imputed, and at least one well-formed shock.
    ///
    /// # Errors
    ///
    /// [`Error::Scenario`] naming the key of the first value refused.
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
        if self.uncertainty.draws() > MAX_DRAWS {
            return Err(Error::scenario(
                "draws",
                format!(
                    "must be at most {MAX_DRAWS}, found {}: percentile intervals are stable long before that \
                     (200 is the default)",
                    self.uncertainty.draws()
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
        for (k, sector) in self.sectors.iter().enumerate() {
            if sector.name.trim().is_empty() {
                return Err(Error::scenario(
                    format!("sector[{k}].name"),
                    "must name the sector",
                ));
            }
            if self.sectors[..k].iter().any(|s| s.name == sector.name) {
                return Err(Error::scenario(
                    format!("sector[{k}].name"),
                    format!("sector '{}' is listed twice", sector.name),
                ));
            }
            if sector.outcome.trim().is_empty() {
                return Err(Error::scenario(
                    format!("sector[{k}].outcome"),
                    "must name the sector's outcome column",
                ));
            }
            if let Some(sigma) = sector.sigma {
                if !(sigma.is_finite() && sigma >= MIN_SIGMA) {
                    return Err(Error::scenario(
                        format!("sector[{k}].sigma"),
                        format!("must be at least {MIN_SIGMA}, found {sigma}"),
                    ));
                }
            }
            if let Some((v, c)) = sector.coefficients.iter().find(|(_, c)| !c.is_finite()) {
                return Err(Error::scenario(
                    format!("sector[{k}].coefficients"),
                    format!("the coefficient of {v} must be finite, found {c}"),
                ));
            }
            if let Some(v) = sector
                .coefficients
                .keys()
                .find(|v| !self.shocks.iter().any(|s| &s.variable == *v))
            {
                return Err(Error::scenario(
                    format!("sector[{k}].coefficients"),
                    format!("'{v}' is not the variable of any [[shock]]"),
                ));
            }
        }
        if !self.sectors.is_empty() && self.full_ge == FullGe::FirstStep {
            return Err(Error::scenario(
                "full_ge",
                "a multi-sector scenario is solved to market clearing: first_step (gegravity's \
                 one-sector first pass) has no multi-sector counterpart",
            ));
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
    ///
    /// # Errors
    ///
    /// [`Error::Scenario`] keyed `shock[0]…` for an ill-formed shock, a
    /// country not in `countries`, or a shock that touches no pair
    /// (`from = ["A"]`, `to = ["A"]`).
    pub fn pairs(&self, countries: &[String]) -> Result<Vec<(usize, usize)>> {
        self.pairs_at(0, countries)
    }

    /// As [`Shock::pairs`], naming the shock `shock[index]` in errors.
    ///
    /// # Errors
    ///
    /// As [`Shock::pairs`], keyed `shock[index]…`.
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

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "data = \"p.csv\"\nformula = \"y ~ x\"\nsigma = 5\nreference = \"A\"\n";
    const SHOCK: &str = "[[shock]]\nvariable = \"x\"\nvalue = 0\nbetween = \"all\"\n";

    fn with(line: &str) -> Result<Scenario> {
        Scenario::from_toml_str(&format!("{BASE}{line}\n{SHOCK}"))
    }

    #[test]
    fn every_word_is_parsed_when_the_scenario_is_read() {
        let s = with("vcov = \"cluster:pair\"\nssc = \"ppmlhdfe\"\ncosts = \"calibrated\"\nfull_ge = \"first_step\"\nsolver = \"fixed_point\"\nuncertainty = \"pairs\"\ndraws = 7\nseed = 3").unwrap();
        assert_eq!(s.solver, GeMethod::FixedPoint);
        assert_eq!(s.vcov, VcovSpec::Cluster(vec!["pair".into()]));
        assert_eq!(s.ssc, Some(SmallSample::parse("ppmlhdfe").unwrap()));
        assert_eq!(s.costs, Costs::Calibrated);
        assert_eq!(s.full_ge, FullGe::FirstStep);
        assert_eq!(
            s.uncertainty,
            Uncertainty::PairBootstrap { draws: 7, seed: 3 }
        );
        let d = with("").unwrap();
        assert_eq!(d.vcov, VcovSpec::Hetero);
        assert_eq!(d.ssc, None);
        assert_eq!(d.costs, Costs::Estimated);
        assert_eq!(d.full_ge, FullGe::MarketClearing);
        assert_eq!(d.solver, GeMethod::Newton);
        assert_eq!(d.uncertainty, Uncertainty::default());
        assert_eq!(
            with("draws = 0\nuncertainty = \"pairs\"")
                .unwrap()
                .uncertainty,
            Uncertainty::None
        );
    }

    #[test]
    fn an_unknown_word_names_its_key_line_and_column() {
        for (line, key, found) in [
            ("vcov = \"bogus\"", "vcov", "unknown vcov 'bogus'"),
            ("ssc = \"stata\"", "ssc", "'stata'"),
            (
                "costs = \"guessed\"",
                "costs",
                "expected estimated or calibrated, found 'guessed'",
            ),
            (
                "full_ge = \"loop\"",
                "full_ge",
                "expected market_clearing or first_step, found 'loop'",
            ),
            (
                "solver = \"anderson\"",
                "solver",
                "expected newton or fixed_point, found 'anderson'",
            ),
            (
                "uncertainty = \"jackknife\"",
                "uncertainty",
                "expected coefficients or pairs, found 'jackknife'",
            ),
        ] {
            let e = with(line).unwrap_err();
            let text = e.to_string();
            match &e {
                Error::Scenario { key: k, .. } => assert_eq!(k, key, "{text}"),
                other => panic!("{other:?}"),
            }
            assert!(
                text.contains(found) && text.contains("line 5, column"),
                "{text}"
            );
        }
    }
}
