//! INFER: variance–covariance of the estimates, without refitting.
//!
//! The sandwich `V = c · B M B` with bread `B = (X̃'WX̃)⁻¹` and meat
//! `M = Σ_g s_g s_g'`, where `s_g` sums the scores `x̃_i e_i` over cluster `g`
//! (for PPML `e_i = y_i − μ_i`; for OLS `e_i = w_i(y_i − ŷ_i)`). Multi-way
//! clustering follows Cameron, Gelbach & Miller (2011): inclusion–exclusion
//! over the intersections of the cluster variables. The scalar `c` is the
//! small-sample correction of the chosen [`SmallSample`] preset.

use crate::design::interact;
use crate::error::{Error, ErrorKind, Result};
use crate::fit::{Estimator, Fit};
use crate::fixed_effects::{is_nested, FeDim};
use crate::linalg;
use crate::scaling::power_of_two_near;
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

mod hypothesis;
pub use hypothesis::{Lincom, LinearCombination, WaldTest, Weight};

/// Which variance estimator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VcovSpec {
    /// Classical: `σ² (X̃'X̃)⁻¹` for OLS, the inverse information for PPML.
    Iid,
    /// Heteroskedasticity-robust (HC1 with the fixest preset).
    Hetero,
    /// Clustered by one or more variables (each a column or an interaction
    /// `a^b`); two or more give multi-way clustering.
    Cluster(Vec<String>),
    /// Two-way clustered by the first two fixed-effect dimensions of the
    /// model (fixest's `vcov = "twoway"`), resolved when inference is done:
    /// [`Inference::clusters`] names them. A model with fewer than two
    /// fixed-effect dimensions has no two-way variance (an error).
    TwoWay,
}

impl VcovSpec {
    /// Parses fixest's names: `iid` (or `standard`), `hetero` (or `HC1`,
    /// `robust`), `twoway`, `cluster:VAR[,VAR…]`; the names are not case
    /// sensitive, the variables are.
    ///
    /// ```
    /// use gravity_model::VcovSpec;
    /// assert_eq!(
    ///     "cluster:exporter^importer".parse::<VcovSpec>()?,
    ///     VcovSpec::Cluster(vec!["exporter^importer".into()])
    /// );
    /// assert_eq!(VcovSpec::parse("HC1")?, VcovSpec::Hetero);
    /// assert_eq!(VcovSpec::parse("twoway")?, VcovSpec::TwoWay);
    /// assert_eq!(VcovSpec::TwoWay.to_string(), "twoway");
    /// # Ok::<(), gravity_model::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidOption`] for an unknown type or `cluster:` without
    /// a variable.
    pub fn parse(s: &str) -> Result<VcovSpec> {
        let s = s.trim();
        match s.to_ascii_lowercase().as_str() {
            "iid" | "standard" => return Ok(VcovSpec::Iid),
            "hetero" | "robust" | "hc1" => return Ok(VcovSpec::Hetero),
            "twoway" => return Ok(VcovSpec::TwoWay),
            _ => {}
        }
        let prefix = s.get(..8).filter(|p| p.eq_ignore_ascii_case("cluster:"));
        if let Some(rest) = prefix.map(|_| &s[8..]) {
            let vars: Vec<String> = rest
                .split(',')
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .collect();
            if vars.is_empty() {
                return Err(Error::model(
                    ErrorKind::InvalidOption,
                    "vcov 'cluster:' needs at least one variable, e.g. cluster:exporter^importer"
                        .into(),
                ));
            }
            return Ok(VcovSpec::Cluster(vars));
        }
        Err(Error::model(
            ErrorKind::InvalidOption,
            format!("unknown vcov '{s}': expected iid, hetero (HC1), twoway or cluster:VAR[,VAR]"),
        ))
    }

    /// The cluster variables named (empty unless [`VcovSpec::Cluster`]; the
    /// fixed effects of [`VcovSpec::TwoWay`] are known only with the fit,
    /// see [`VcovSpec::resolve`]).
    pub fn clusters(&self) -> &[String] {
        match self {
            VcovSpec::Cluster(v) => v,
            _ => &[],
        }
    }

    /// A short name: `iid`, `hetero`, `cluster` or `twoway`.
    pub fn kind(&self) -> &'static str {
        match self {
            VcovSpec::Iid => "iid",
            VcovSpec::Hetero => "hetero",
            VcovSpec::Cluster(_) => "cluster",
            VcovSpec::TwoWay => "twoway",
        }
    }

    /// The estimator for `fit`: [`VcovSpec::TwoWay`] becomes clustering by
    /// the fit's first two fixed-effect dimensions; the others are unchanged.
    ///
    /// ```
    /// use gravity_model::{fit, Column, Estimator, FitOptions, Formula, Frame, VcovSpec};
    /// let frame = Frame::from_columns(vec![
    ///     ("y".into(), Column::Numeric(vec![1.0, 3.0, 2.0, 5.0, 4.0, 9.0, 2.0, 6.0].into())),
    ///     ("x".into(), Column::Numeric(vec![0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0].into())),
    ///     ("a".into(), Column::Numeric(vec![1.0, 1.0, 2.0, 2.0, 1.0, 1.0, 2.0, 2.0].into())),
    ///     ("b".into(), Column::Numeric(vec![1.0, 2.0, 1.0, 2.0, 2.0, 1.0, 2.0, 1.0].into())),
    /// ])?;
    /// let fitted = fit(&frame, &Formula::parse("y ~ x | a + b")?, Estimator::Ols, &FitOptions::default())?;
    /// assert_eq!(
    ///     VcovSpec::TwoWay.resolve(&fitted)?,
    ///     VcovSpec::Cluster(vec!["a".into(), "b".into()])
    /// );
    /// # Ok::<(), gravity_model::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidOption`] for `TwoWay` on a model with fewer than
    /// two fixed-effect dimensions.
    pub fn resolve(&self, fit: &Fit) -> Result<VcovSpec> {
        match self {
            VcovSpec::TwoWay => {
                let fe = fit.fixed_effect_dims();
                if fe.len() < 2 {
                    return Err(Error::model(
                        ErrorKind::InvalidOption,
                        format!(
                            "vcov twoway clusters by the first two fixed effects, but the model \
                             has {}; name the clusters instead, e.g. cluster:exporter,importer",
                            match fe.len() {
                                0 => "none".to_owned(),
                                _ => format!("one ({})", fe[0].name),
                            }
                        ),
                    ));
                }
                Ok(VcovSpec::Cluster(vec![
                    fe[0].name.clone(),
                    fe[1].name.clone(),
                ]))
            }
            other => Ok(other.clone()),
        }
    }
}

impl std::fmt::Display for VcovSpec {
    /// The form [`VcovSpec::parse`] reads: `iid`, `hetero`, `twoway`,
    /// `cluster:a,b`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VcovSpec::Cluster(v) => write!(f, "cluster:{}", v.join(",")),
            other => f.write_str(other.kind()),
        }
    }
}

impl std::str::FromStr for VcovSpec {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        VcovSpec::parse(s)
    }
}

/// How the fixed effects count in the `K` of the small-sample correction
/// (fixest's `fixef.K`, pyfixest's `fixef_k`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FixefK {
    /// The fixed effects do not count.
    None,
    /// Every dimension counts (each after the first less one level), except
    /// a dimension nested in a cluster variable (fixest's default).
    Nested,
    /// Every dimension counts, nested or not.
    Full,
}

/// Small-sample corrections of the variance, in fixest's terms (`ssc()`:
/// `adj`, `fixef.K`, `cluster.adj`, and the t or z distribution), with the
/// two presets that reproduce the peers: [`SmallSample::fixest`] (also
/// pyfixest's default) and [`SmallSample::ppmlhdfe`] (Stata's ppmlhdfe and
/// reghdfe).
///
/// With `n` observations, `K` parameters (the regressors plus the fixed
/// effects as `fixef_k` counts them) and `G` clusters (the smallest
/// dimension for multi-way clustering), the variance is multiplied by:
///
/// | vcov | `adj` | without `adj` |
/// |---|---|---|
/// | iid | `(n−1)/(n−K)` (OLS: σ² = RSS/(n−1)) | 1 (OLS: σ² = RSS/n) |
/// | hetero | `n/(n−K)` | `n/(n−1)` |
/// | cluster | `(n−1)/(n−K)` | 1 |
///
/// and by `G/(G−1)` for clustered errors when `cluster_adj`.
///
/// ```
/// use gravity_model::{FixefK, SmallSample};
/// let ssc = SmallSample::fixest();
/// assert!(ssc.adj && ssc.cluster_adj && ssc.fixef_k == FixefK::Nested);
/// assert_eq!(SmallSample::parse("ppmlhdfe")?, SmallSample::ppmlhdfe());
/// let custom = SmallSample { fixef_k: FixefK::Full, ..SmallSample::fixest() };
/// assert_eq!(custom.to_string(), "adj, fixef_k full, cluster_adj, t");
/// # Ok::<(), gravity_model::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmallSample {
    /// The `(n−1)/(n−K)` factor (`n/(n−K)` for hetero); without it, hetero
    /// gets the `n/(n−1)` of reghdfe and ppmlhdfe.
    pub adj: bool,
    /// How the fixed effects count in `K`.
    pub fixef_k: FixefK,
    /// The `G/(G−1)` factor for clustered errors.
    pub cluster_adj: bool,
    /// OLS: t statistics with `n−K` degrees of freedom (`G−1` when
    /// clustered), as fixest; false: z statistics. PPML always uses z.
    pub t_dist: bool,
}

impl SmallSample {
    /// fixest's and pyfixest's defaults: `adj`, `fixef.K = "nested"`,
    /// `cluster.adj`, t statistics for OLS.
    pub const fn fixest() -> SmallSample {
        SmallSample {
            adj: true,
            fixef_k: FixefK::Nested,
            cluster_adj: true,
            t_dist: true,
        }
    }

    /// ppmlhdfe's and reghdfe's: `n/(n−1)` for robust, `G/(G−1)` for
    /// clustered, no `K` adjustment; z statistics.
    pub const fn ppmlhdfe() -> SmallSample {
        SmallSample {
            adj: false,
            fixef_k: FixefK::None,
            cluster_adj: true,
            t_dist: false,
        }
    }

    /// The preset's name, if this is one of the two presets.
    pub fn preset(&self) -> Option<&'static str> {
        if *self == SmallSample::fixest() {
            Some("fixest")
        } else if *self == SmallSample::ppmlhdfe() {
            Some("ppmlhdfe")
        } else {
            None
        }
    }

    /// Parses a preset name, `fixest` or `ppmlhdfe`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidOption`] for any other text.
    pub fn parse(s: &str) -> Result<SmallSample> {
        match s.trim() {
            "fixest" => Ok(SmallSample::fixest()),
            "ppmlhdfe" => Ok(SmallSample::ppmlhdfe()),
            other => Err(Error::model(
                ErrorKind::InvalidOption,
                format!("unknown small-sample preset '{other}': expected fixest or ppmlhdfe"),
            )),
        }
    }

    /// The number of fixed-effect parameters counted in `K`.
    fn fixef_count(&self, fe: &[FeDim], clusters: &[&FeDim]) -> usize {
        match self.fixef_k {
            FixefK::None => 0,
            FixefK::Nested => fe_df(fe, clusters),
            FixefK::Full => fe_df(fe, &[]),
        }
    }
}

impl Default for SmallSample {
    /// [`SmallSample::fixest`].
    fn default() -> Self {
        SmallSample::fixest()
    }
}

impl std::fmt::Display for SmallSample {
    /// The preset's name, else the settings (`adj, fixef_k full, …`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(name) = self.preset() {
            return f.write_str(name);
        }
        let k = match self.fixef_k {
            FixefK::None => "none",
            FixefK::Nested => "nested",
            FixefK::Full => "full",
        };
        write!(
            f,
            "{}, fixef_k {k}, {}, {}",
            if self.adj { "adj" } else { "no adj" },
            if self.cluster_adj {
                "cluster_adj"
            } else {
                "no cluster_adj"
            },
            if self.t_dist { "t" } else { "z" }
        )
    }
}

impl Serialize for SmallSample {
    /// A preset as its name (`"fixest"`), other settings as an object.
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        if let Some(name) = self.preset() {
            return serializer.serialize_str(name);
        }
        let mut st = serializer.serialize_struct("SmallSample", 4)?;
        st.serialize_field("adj", &self.adj)?;
        st.serialize_field("fixef_k", &self.fixef_k)?;
        st.serialize_field("cluster_adj", &self.cluster_adj)?;
        st.serialize_field("t_dist", &self.t_dist)?;
        st.end()
    }
}

/// One coefficient with its inference. In JSON a NaN is `null`, and reads
/// back as NaN.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoefRow {
    /// Regressor name.
    pub name: String,
    /// Estimate.
    #[serde(deserialize_with = "nan_if_null")]
    pub estimate: f64,
    /// Standard error.
    #[serde(deserialize_with = "nan_if_null")]
    pub std_error: f64,
    /// z (PPML) or t (OLS) statistic.
    #[serde(deserialize_with = "nan_if_null")]
    pub statistic: f64,
    /// Two-sided p-value.
    #[serde(deserialize_with = "nan_if_null")]
    pub p_value: f64,
    /// Lower end of the 95% confidence interval.
    #[serde(deserialize_with = "nan_if_null")]
    pub ci_low: f64,
    /// Upper end of the 95% confidence interval.
    #[serde(deserialize_with = "nan_if_null")]
    pub ci_high: f64,
    /// Why there is no standard error, when there is none: the estimated
    /// variance was not a positive finite number (then `std_error`,
    /// `statistic`, `p_value` and the interval are NaN, `null` in JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// A number, or NaN for `null` (how serde_json writes a NaN).
pub(crate) fn nan_if_null<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// Inference on a fit for one variance estimator.
#[derive(Debug, Clone)]
pub struct Inference {
    /// The variance estimator, as asked for.
    pub spec: VcovSpec,
    /// The cluster variables used, in order (for [`VcovSpec::TwoWay`] the
    /// model's first two fixed effects; empty unless clustered).
    pub clusters: Vec<String>,
    /// The small-sample preset.
    pub ssc: SmallSample,
    /// The variance–covariance matrix of the coefficients, in the order of
    /// `coefficients`.
    pub vcov: DMatrix<f64>,
    /// Per-coefficient rows.
    pub coefficients: Vec<CoefRow>,
    /// Number of clusters in each cluster variable.
    pub n_clusters: Vec<usize>,
    /// Degrees of freedom of the t distribution (`None`: normal).
    pub df_t: Option<f64>,
    /// Observations in the estimation sample.
    pub nobs: usize,
    /// `nobs − nparams`, with fixest's `nparams`: the coefficients plus the
    /// fixed-effect parameters, `Σ (levels − 1) + 1` over the dimensions,
    /// whatever the clustering (fixest's `nobs(x) − x$nparams`). The
    /// second degrees of freedom of [`Inference::wald`].
    pub df_resid: f64,
    /// The scalar small-sample factor applied.
    pub adjustment: f64,
    /// Warnings about this inference (few clusters, a variance that is not
    /// positive).
    pub notes: Vec<String>,
}

impl Inference {
    /// Standard errors, in coefficient order.
    pub fn std_errors(&self) -> Vec<f64> {
        self.coefficients.iter().map(|c| c.std_error).collect()
    }

    /// The row of coefficient `name`.
    pub fn coef(&self, name: &str) -> Option<&CoefRow> {
        self.coefficients.iter().find(|c| c.name == name)
    }
}

/// Sum of scores by cluster: `Σ_g s_g s_g'` with `s_g = Σ_{i∈g} x̃_i e_i`.
/// Below this many clusters a note warns that clustered errors are unreliable.
const FEW_CLUSTERS: usize = 30;

/// `sqrt(Σ v² / n)`, with the squares of a scaled copy so that it neither
/// overflows nor underflows.
fn root_mean_square(v: &[f64]) -> f64 {
    let max = v.iter().fold(0.0_f64, |m, x| m.max(x.abs()));
    if !(max.is_finite() && max > 0.0) {
        return 1.0;
    }
    let s: f64 = v.iter().map(|x| (x / max) * (x / max)).sum();
    max * (s / v.len() as f64).sqrt()
}

fn meat(x_tilde: &[f64], n: usize, p: usize, e: &[f64], cluster: Option<&FeDim>) -> DMatrix<f64> {
    let mut m = DMatrix::<f64>::zeros(p, p);
    match cluster {
        None => {
            for i in 0..n {
                for a in 0..p {
                    let sa = x_tilde[a * n + i] * e[i];
                    for b in 0..=a {
                        m[(a, b)] += sa * x_tilde[b * n + i] * e[i];
                    }
                }
            }
        }
        Some(c) => {
            let g_n = c.n_levels();
            let mut s = vec![0.0; g_n * p];
            for i in 0..n {
                let g = c.codes[i] as usize;
                for a in 0..p {
                    s[g * p + a] += x_tilde[a * n + i] * e[i];
                }
            }
            for g in 0..g_n {
                let sg = &s[g * p..(g + 1) * p];
                for a in 0..p {
                    for b in 0..=a {
                        m[(a, b)] += sg[a] * sg[b];
                    }
                }
            }
        }
    }
    for a in 0..p {
        for b in 0..a {
            m[(b, a)] = m[(a, b)];
        }
    }
    m
}

/// Number of fixed-effect parameters counted in `K` by the fixest preset:
/// all levels, less one per dimension after the first, less the levels of
/// dimensions nested in a cluster variable (pyfixest's `k_fixef = "nonnested"`).
fn fe_df(fe: &[FeDim], clusters: &[&FeDim]) -> usize {
    if fe.is_empty() {
        return 0;
    }
    let total: usize = fe.iter().map(|d| d.n_levels()).sum();
    let mut k = total - (fe.len() - 1);
    for d in fe {
        if clusters
            .iter()
            .any(|c| is_nested(&d.codes, d.n_levels(), &c.codes))
        {
            // Nested dimensions do not count; one level is added back for
            // each, as fixest does.
            k = k + 1 - d.n_levels();
        }
    }
    k
}

/// INFER: inference on `fit` for variance estimator `spec` with small-sample
/// corrections `ssc`, without refitting; [`Fit::inference`] and
/// [`Fit::summary`] call it. It reads the fit only through its public
/// accessors ([`Fit::scores`], [`Fit::fixed_effect_dims`],
/// [`Fit::cluster_dim`]).
///
/// # Errors
///
/// [`ErrorKind::UnknownColumn`] if a cluster variable was neither carried
/// into the fit (by [`FitOptions::vcov`](crate::FitOptions)) nor is one of
/// its fixed effects; [`ErrorKind::TooFewClusters`] below 2 clusters;
/// [`ErrorKind::NotPositiveDefinite`] if the demeaned regressors' cross
/// product is singular.
pub fn infer(fit: &Fit, spec: &VcovSpec, ssc: SmallSample) -> Result<Inference> {
    let asked = spec;
    let resolved = spec.resolve(fit)?;
    let spec = &resolved;
    let c = fit.scores();
    let n = c.n;
    let p = fit.beta.len();
    // Weights and score residuals on a scale near one (powers of two,
    // exact), so that no product overflows or underflows whatever the
    // units of the outcome: V = B M B = (σ_e/σ_w)² B₁ M₁ B₁ with B₁, M₁
    // computed from w/σ_w and e/σ_e.
    let s_w = power_of_two_near(root_mean_square(c.weights));
    let s_e = power_of_two_near(root_mean_square(c.residuals));
    let w1: Vec<f64> = c.weights.iter().map(|w| w / s_w).collect();
    let e1: Vec<f64> = c.residuals.iter().map(|e| e / s_e).collect();
    let ratio = s_e / s_w;
    let bread = if p > 0 {
        linalg::inv_spd(&linalg::xtwx(c.x_tilde, n, Some(&w1)))?
    } else {
        DMatrix::zeros(0, 0)
    };
    let mut notes = Vec::new();
    let clusters: Vec<FeDim> = spec
        .clusters()
        .iter()
        .map(|name| fit.cluster_dim(name))
        .collect::<Result<_>>()?;
    let cl_refs: Vec<&FeDim> = clusters.iter().collect();
    let k_fe = ssc.fixef_count(fit.fixed_effect_dims(), &cl_refs);
    let df_k = (p + k_fe) as f64;
    let nf = n as f64;
    let (raw, adjustment, n_clusters, g_min) = match spec {
        VcovSpec::Iid => {
            // Every variance below is multiplied by (σ_e/σ_w)² at the
            // end. OLS: Σ e₁²/w₁ = (Σ e²/w) σ_w/σ_e² and B = B₁/σ_w, so
            // B σ² = (σ_e/σ_w)² B₁ σ₁². PPML: V = B = (σ_e/σ_w)² B₁ ·
            // 1/(σ_w (σ_e/σ_w)²).
            let (sigma2, adj) = match fit.estimator {
                Estimator::Ols => {
                    let rss: f64 = e1.iter().zip(&w1).map(|(we, w)| we * we / w).sum();
                    if ssc.adj {
                        (rss / (nf - 1.0), (nf - 1.0) / (nf - df_k))
                    } else {
                        (rss / nf, 1.0)
                    }
                }
                Estimator::Ppml => (
                    1.0 / (ratio * ratio * s_w),
                    if ssc.adj {
                        (nf - 1.0) / (nf - df_k)
                    } else {
                        1.0
                    },
                ),
            };
            (bread.clone() * sigma2, adj, vec![], None)
        }
        VcovSpec::Hetero => {
            let m = meat(c.x_tilde, n, p, &e1, None);
            let adj = if ssc.adj {
                nf / (nf - df_k)
            } else {
                nf / (nf - 1.0)
            };
            (&bread * m * &bread, adj, vec![], None)
        }
        VcovSpec::Cluster(_) | VcovSpec::TwoWay => {
            let m_dims = clusters.len();
            let mut total = DMatrix::<f64>::zeros(p, p);
            // Inclusion–exclusion over non-empty subsets of the dimensions.
            for mask in 1u32..(1u32 << m_dims) {
                let members: Vec<&FeDim> = (0..m_dims)
                    .filter(|b| mask & (1 << b) != 0)
                    .map(|b| &clusters[b])
                    .collect();
                let dim = if members.len() == 1 {
                    members[0].clone()
                } else {
                    intersect(&members)
                };
                let sign = if members.len() % 2 == 1 { 1.0 } else { -1.0 };
                total += meat(c.x_tilde, n, p, &e1, Some(&dim)) * sign;
            }
            let gs: Vec<usize> = clusters.iter().map(|d| d.n_levels()).collect();
            for (name, &g) in spec.clusters().iter().zip(&gs) {
                if g < 2 {
                    return Err(Error::model(
                        ErrorKind::TooFewClusters,
                        format!(
                            "clustered standard errors need at least 2 clusters; \
                             '{name}' has {g} in the estimation sample"
                        ),
                    ));
                }
                if g < FEW_CLUSTERS {
                    notes.push(format!(
                        "only {g} clusters in '{name}': clustered standard errors are \
                             unreliable with fewer than {FEW_CLUSTERS} (consider a wild \
                             cluster bootstrap)"
                    ));
                }
            }
            let g = *gs.iter().min().unwrap_or(&1) as f64;
            let g_adj = if ssc.cluster_adj && g > 1.0 {
                g / (g - 1.0)
            } else {
                1.0
            };
            let adj = if ssc.adj {
                g_adj * (nf - 1.0) / (nf - df_k)
            } else {
                g_adj
            };
            let mut v = &bread * total * &bread;
            if m_dims > 1 {
                v = fix_psd(v);
            }
            (v, adj, gs, Some(g))
        }
    };
    let mut vcov = raw * (adjustment * ratio * ratio);
    if let Some((i, centres)) = c.reparametrisation {
        // The regressors were centred on the intercept: V = A V_c A'.
        let mut a = DMatrix::<f64>::identity(p, p);
        for (j, m) in centres.iter().enumerate() {
            if j != i {
                a[(i, j)] = -m;
            }
        }
        vcov = &a * vcov * a.transpose();
    }
    let df_t = match fit.estimator {
        Estimator::Ols if ssc.t_dist => Some(match g_min {
            Some(g) => g - 1.0,
            None => nf - df_k,
        }),
        _ => None,
    };
    let coefficients = fit
        .names
        .iter()
        .enumerate()
        .map(|(j, name)| coef_row(name, fit.beta[j], vcov[(j, j)], df_t, &mut notes))
        .collect::<Result<Vec<_>>>()?;
    Ok(Inference {
        spec: asked.clone(),
        clusters: spec.clusters().to_vec(),
        ssc,
        vcov,
        coefficients,
        n_clusters,
        df_t,
        nobs: n,
        df_resid: nf - (p + fe_df(fit.fixed_effect_dims(), &[])) as f64,
        adjustment,
        notes,
    })
}

/// The row of an estimate `est` with variance `v`: standard error, the
/// statistic, its two-sided p-value and the 95% interval from the t
/// distribution with `df_t` degrees of freedom (the normal if `None`); a
/// variance that is not a positive finite number gives NaN statistics, a
/// `problem`, and a note.
pub(crate) fn coef_row(
    name: &str,
    est: f64,
    v: f64,
    df_t: Option<f64>,
    notes: &mut Vec<String>,
) -> Result<CoefRow> {
    // A standard error below 1e-10 of the estimate (|z| > 1e10) is
    // rounding noise of an essentially perfect fit, not information.
    let negligible = v.is_finite() && v > 0.0 && v.sqrt() < 1e-10 * est.abs();
    if !(v.is_finite() && v > 0.0) || negligible {
        let problem = if v.is_nan() || v.is_infinite() {
            format!("its variance is not a finite number ({v})")
        } else if negligible {
            format!(
                "its estimated variance is not positive beyond rounding ({v:e}; \
                 an essentially perfect fit)"
            )
        } else {
            format!("its estimated variance is not positive ({v:e})")
        };
        notes.push(format!("no standard error for '{name}': {problem}"));
        return Ok(CoefRow {
            name: name.to_owned(),
            estimate: est,
            std_error: f64::NAN,
            statistic: f64::NAN,
            p_value: f64::NAN,
            ci_low: f64::NAN,
            ci_high: f64::NAN,
            problem: Some(problem),
        });
    }
    let se = v.sqrt();
    let stat = est / se;
    let (p_value, crit) = two_sided(stat, df_t)?;
    Ok(CoefRow {
        name: name.to_owned(),
        estimate: est,
        std_error: se,
        statistic: stat,
        p_value,
        ci_low: est - crit * se,
        ci_high: est + crit * se,
        problem: None,
    })
}

/// The two-sided p-value of `stat` and the 97.5% quantile, from the t
/// distribution with `df_t` degrees of freedom or the normal.
fn two_sided(stat: f64, df_t: Option<f64>) -> Result<(f64, f64)> {
    // From the survival function: a tiny p stays tiny rather than 1 − cdf
    // rounding to 0.
    Ok(match df_t {
        Some(df) if df > 0.0 => {
            // StudentsT::new fails only for df <= 0, excluded here.
            let t = StudentsT::new(0.0, 1.0, df)
                .map_err(|e| Error::Bug(format!("t distribution: {e}")))?;
            (2.0 * t.sf(stat.abs()), t.inverse_cdf(0.975))
        }
        _ => {
            let z = Normal::standard();
            (2.0 * z.sf(stat.abs()), z.inverse_cdf(0.975))
        }
    })
}

/// The intersection of several cluster dimensions (for inclusion–exclusion).
fn intersect(dims: &[&FeDim]) -> FeDim {
    let factors: Vec<crate::data::Factor> = dims
        .iter()
        .map(|d| crate::data::Factor {
            codes: d.codes.clone(),
            levels: d.levels.clone(),
        })
        .collect();
    let refs: Vec<&crate::data::Factor> = factors.iter().collect();
    let name = dims
        .iter()
        .map(|d| d.name.as_str())
        .collect::<Vec<_>>()
        .join("&");
    interact(&name, &refs)
}

/// Multi-way clustered matrices can fail to be positive semi-definite; as
/// fixest does, replace negative eigenvalues by zero.
fn fix_psd(v: DMatrix<f64>) -> DMatrix<f64> {
    let eig = v.clone().symmetric_eigen();
    if eig.eigenvalues.iter().all(|&l| l >= 0.0) {
        return v;
    }
    let lam = eig.eigenvalues.map(|l| l.max(0.0));
    &eig.eigenvectors * DMatrix::from_diagonal(&lam) * eig.eigenvectors.transpose()
}
