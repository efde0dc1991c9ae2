//! ESTIMATE: options, the entry point [`fit`], and the fitted model [`Fit`].

use crate::data::Frame;
use crate::design::{self, Design, DesignSpec};
use crate::error::{Error, ErrorKind, Result};
use crate::fixed_effects::FeDim;
use crate::formula::subset::Subset;
use crate::formula::Formula;
use crate::sample::{RowStatus, SampleReport};
use crate::separation::{self, Separation};
use crate::terms::PanelSpec;
use crate::vcov::{Inference, SmallSample, VcovSpec};
use serde::Serialize;

/// The estimator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Estimator {
    /// Poisson pseudo-maximum likelihood (Santos Silva & Tenreyro 2006).
    Ppml,
    /// Ordinary (weighted) least squares.
    Ols,
}

impl std::fmt::Display for Estimator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Estimator::Ppml => "ppml",
            Estimator::Ols => "ols",
        })
    }
}

/// Which observations leave the sample because of the fixed effects
/// (fixest's `fixef.rm`). Default: [`FixefRm::Both`], as ppmlhdfe and
/// pyfixest (fixest's own default for `fepois` is `"perfect"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FixefRm {
    /// Nothing is removed.
    None,
    /// PPML: the observations in a fixed-effect level whose outcome is zero
    /// throughout (they are fitted perfectly and separated; ppmlhdfe's `fe`
    /// separation check). Ignored by OLS.
    Perfect,
    /// Singletons: an observation alone in a level of some fixed effect,
    /// removed iteratively (Correia 2015).
    Singleton,
    /// Both, alternated until neither removes anything.
    #[default]
    Both,
}

impl FixefRm {
    /// Parses fixest's words: `none`, `perfect`, `singleton`, `both`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidOption`] for any other text.
    pub fn parse(s: &str) -> Result<FixefRm> {
        match s.trim() {
            "none" => Ok(FixefRm::None),
            "perfect" => Ok(FixefRm::Perfect),
            "singleton" => Ok(FixefRm::Singleton),
            "both" => Ok(FixefRm::Both),
            other => Err(Error::model(
                ErrorKind::InvalidOption,
                format!("unknown fixef_rm '{other}': expected none, perfect, singleton or both"),
            )),
        }
    }

    /// True if singletons are removed.
    pub fn singletons(self) -> bool {
        matches!(self, FixefRm::Singleton | FixefRm::Both)
    }

    /// True if perfectly fitted (all-zero) fixed-effect levels are removed.
    pub fn perfect(self) -> bool {
        matches!(self, FixefRm::Perfect | FixefRm::Both)
    }
}

/// Options of an estimation, named as fixest names them (`glm.tol` →
/// `irls_tol`, `fixef.tol` → `fixef_tol`, `fixef.rm`, `collin.tol`, `vcov`,
/// `ssc`). `FitOptions::default()` gives the defaults of ppmlhdfe and
/// fixest; set options with the builder methods of the same names.
///
/// ```
/// use gravity_model::{FitOptions, FixefRm, VcovSpec};
/// let options = FitOptions::default()
///     .irls_tol(1e-10)
///     .fixef_rm(FixefRm::Perfect)
///     .vcov(VcovSpec::Cluster(vec!["exporter^importer".into()]));
/// assert_eq!(options.irls_tol, 1e-10);
/// assert!(options.validate().is_ok());
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FitOptions {
    /// Convergence tolerance of IRLS on the relative deviance change
    /// `|ΔD| / max(min(D, D_old), 0.1)` (default 1e-8; fixest's `glm.tol`).
    pub irls_tol: f64,
    /// Maximum number of IRLS iterations (default 100; fixest's `glm.iter`).
    pub irls_max_iter: usize,
    /// Tolerance of the demeaning at convergence (default 1e-8; fixest's
    /// `fixef.tol`): the error of each demeaned column in the weighted norm,
    /// relative to the column's norm. Early IRLS iterations use a looser
    /// one. (fixest and pyfixest stop their demeaning at 1e-6 on the change
    /// of the coefficients; 1e-8 here moves coefficients by less than 1e-10
    /// relative from 1e-10's, standard errors by less than 1e-7, on the
    /// benchmark panels.)
    pub fixef_tol: f64,
    /// Observations removed because of the fixed effects (default both).
    pub fixef_rm: FixefRm,
    /// PPML: the iterative-rectifier (ReLU) separation check of Correia,
    /// Guimarães & Zylkin (2019) for separation by the regressors and fixed
    /// effects together (default true; pyfixest's `"ir"`, ppmlhdfe's `ir`).
    pub separation_ir: bool,
    /// Iteration limit of the ReLU separation check (default 1000); reaching
    /// it is reported in the notes and in [`SampleReport::relu_converged`].
    pub ir_max_iter: usize,
    /// Relative tolerance of the collinearity check (default 1e-9; fixest's
    /// `collin.tol`): a regressor is dropped when what the fixed effects and
    /// the earlier regressors leave of it is below this share of its centred
    /// sum of squares (its uncentred one if the model has no constant).
    pub collin_tol: f64,
    /// Column of prior weights.
    pub weights: Option<String>,
    /// Column of the offset (coefficient fixed at one).
    pub offset: Option<String>,
    /// The variance estimator of [`Fit::summary`] (default iid); its cluster
    /// variables are carried into the fit, so any of them can also be used
    /// with [`Fit::inference`].
    pub vcov: VcovSpec,
    /// The small-sample corrections of [`Fit::summary`] (default fixest's).
    pub ssc: SmallSample,
    /// The panel that leads, lags and differences in the formula follow
    /// (fixest's `panel.id`; the CLI's `--panel UNIT,TIME`).
    pub panel: Option<PanelSpec>,
    /// A sample restriction (fixest's `subset`; the CLI's `--subset`): rows
    /// outside it are excluded, and counted.
    pub subset: Option<Subset>,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            irls_tol: 1e-8,
            irls_max_iter: 100,
            fixef_tol: 1e-8,
            fixef_rm: FixefRm::Both,
            separation_ir: true,
            ir_max_iter: 1000,
            collin_tol: 1e-9,
            weights: None,
            offset: None,
            vcov: VcovSpec::Iid,
            ssc: SmallSample::fixest(),
            panel: None,
            subset: None,
        }
    }
}

macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident: $ty:ty),* $(,)?) => {
        impl FitOptions {
            $(
                $(#[$doc])*
                #[must_use]
                pub fn $name(mut self, value: $ty) -> Self {
                    self.$name = value;
                    self
                }
            )*
        }
    };
}

setters! {
    /// Sets [`FitOptions::irls_tol`].
    irls_tol: f64,
    /// Sets [`FitOptions::irls_max_iter`].
    irls_max_iter: usize,
    /// Sets [`FitOptions::fixef_tol`].
    fixef_tol: f64,
    /// Sets [`FitOptions::fixef_rm`].
    fixef_rm: FixefRm,
    /// Sets [`FitOptions::separation_ir`].
    separation_ir: bool,
    /// Sets [`FitOptions::ir_max_iter`].
    ir_max_iter: usize,
    /// Sets [`FitOptions::collin_tol`].
    collin_tol: f64,
    /// Sets [`FitOptions::vcov`].
    vcov: VcovSpec,
    /// Sets [`FitOptions::ssc`].
    ssc: SmallSample,
}

impl FitOptions {
    /// Sets [`FitOptions::panel`].
    #[must_use]
    pub fn panel(mut self, panel: PanelSpec) -> Self {
        self.panel = Some(panel);
        self
    }

    /// Sets [`FitOptions::subset`].
    #[must_use]
    pub fn subset(mut self, subset: Subset) -> Self {
        self.subset = Some(subset);
        self
    }
}

impl FitOptions {
    /// Sets [`FitOptions::weights`] to a column.
    #[must_use]
    pub fn weights(mut self, column: impl Into<String>) -> Self {
        self.weights = Some(column.into());
        self
    }

    /// Sets [`FitOptions::offset`] to a column.
    #[must_use]
    pub fn offset(mut self, column: impl Into<String>) -> Self {
        self.offset = Some(column.into());
        self
    }

    /// No separation checks at all: neither perfectly fitted fixed-effect
    /// levels nor ReLU (singletons are still removed if `fixef_rm` says so).
    #[must_use]
    pub fn no_separation(mut self) -> Self {
        self.fixef_rm = match self.fixef_rm {
            FixefRm::Both | FixefRm::Singleton => FixefRm::Singleton,
            FixefRm::Perfect | FixefRm::None => FixefRm::None,
        };
        self.separation_ir = false;
        self
    }

    /// The separation checks these options ask for (PPML).
    pub(crate) fn separation(&self) -> Separation {
        Separation {
            fixed_effects: self.fixef_rm.perfect(),
            relu: self.separation_ir,
        }
    }
}

/// Why the estimation stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Termination {
    /// The convergence criterion was met.
    Converged,
    /// The maximum number of iterations was reached first.
    MaxIterations,
    /// The fitted means overflowed (a sign of undetected separation).
    Diverged,
}

/// Diagnostics of the estimation loop.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FitInfo {
    /// IRLS iterations (1 for OLS).
    pub iterations: usize,
    /// Final deviance (PPML) or residual sum of squares (OLS).
    pub deviance: f64,
    /// True if the convergence criterion was met.
    pub converged: bool,
    /// Why the loop stopped.
    pub termination: Termination,
    /// Total demeaning sweeps, over all columns and iterations.
    pub demean_sweeps: usize,
    /// Step-halvings applied because the deviance rose.
    pub step_halvings: usize,
    /// Seconds spent in the estimation loop.
    pub seconds: f64,
}

/// A fitted model: coefficients, the sample, and what inference needs.
#[derive(Debug, Clone)]
pub struct Fit {
    /// The estimator.
    pub estimator: Estimator,
    /// The formula as parsed.
    pub formula: Formula,
    /// Names of the estimated coefficients (collinear ones removed).
    pub names: Vec<String>,
    /// The estimates, in the order of `names`.
    pub beta: Vec<f64>,
    /// Regressors dropped as collinear, by name.
    pub collinear: Vec<String>,
    /// The sample: counts and per-row status.
    pub sample: SampleReport,
    /// Convergence diagnostics.
    pub info: FitInfo,
    /// Extra notes for the user (e.g. separation, collinearity).
    pub notes: Vec<String>,
    pub(crate) offset_name: Option<String>,
    /// Zero-outcome observations whose fitted mean vanished (PPML).
    pub(crate) vanishing_mu: usize,
    /// The variance estimator and corrections of [`Fit::summary`].
    pub(crate) vcov: VcovSpec,
    pub(crate) ssc: SmallSample,
    pub(crate) core: Core,
}

/// The estimation-sample quantities inference and prediction need.
#[derive(Debug, Clone)]
pub(crate) struct Core {
    pub n: usize,
    /// Input-frame row of each observation.
    pub rows: Vec<usize>,
    /// The outcome, in the data's units (for the fit statistics).
    pub y: Vec<f64>,
    /// Prior weights, if any.
    pub prior_weights: Option<Vec<f64>>,
    /// Raw regressors (column-major; kept columns only).
    pub x: Vec<f64>,
    /// Demeaned regressors with the final weights (column-major).
    pub x_tilde: Vec<f64>,
    /// Final working weights (PPML: prior weight × μ; OLS: prior weight).
    pub w: Vec<f64>,
    /// Residual entering the score: prior weight × (y − μ) for PPML,
    /// prior weight × (y − ŷ) for OLS.
    pub score_resid: Vec<f64>,
    /// Fitted linear predictor η (PPML, log scale, offset included) or ŷ (OLS).
    pub eta: Vec<f64>,
    /// Set when `x_tilde` holds the regressors centred on an intercept
    /// (no fixed effects): `(intercept column, centres)`; inference maps its
    /// variance back with `A = I − e_intercept m'`.
    pub reparametrisation: Option<(usize, Vec<f64>)>,
    pub offset: Option<Vec<f64>>,
    pub fe: Vec<FeDim>,
    pub clusters: Vec<FeDim>,
}

/// What inference needs from a fit, borrowed from it ([`Fit::scores`]).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Scores<'a> {
    /// Observations in the estimation sample.
    pub n: usize,
    /// Demeaned regressors with the final working weights, column-major
    /// `n × p` (centred on the intercept when `reparametrisation` is set).
    pub x_tilde: &'a [f64],
    /// Final working weights (PPML: prior weight × μ; OLS: prior weight).
    pub weights: &'a [f64],
    /// Residuals entering the score: prior weight × (y − μ) for PPML, prior
    /// weight × (y − ŷ) for OLS.
    pub residuals: &'a [f64],
    /// Set when `x_tilde` holds the regressors centred on an intercept (no
    /// fixed effects): `(intercept column, centres)`; the variance of the
    /// original coefficients is `A V A'` with `A = I − e_intercept m'`.
    pub reparametrisation: Option<(usize, &'a [f64])>,
}

/// What an estimator hands back, before it becomes a [`Fit`].
pub(crate) struct Estimate {
    pub beta: Vec<f64>,
    pub collinear: Vec<String>,
    pub info: FitInfo,
    pub x_tilde: Vec<f64>,
    pub w: Vec<f64>,
    pub score_resid: Vec<f64>,
    pub eta: Vec<f64>,
    pub reparametrisation: Option<(usize, Vec<f64>)>,
    /// Zero-outcome observations whose fitted mean vanished (PPML).
    pub vanishing_mu: usize,
    /// PPML: the zero-outcome rows whose linear predictor fell by more than
    /// 0.1 in the last productive step (at any fitted mean); empty for OLS.
    pub falling: Vec<bool>,
    /// The estimator's own notes (e.g. an approximate last demeaning).
    pub notes: Vec<String>,
}

impl Fit {
    /// The fit of `estimator` on the (pruned) design `d`.
    pub(crate) fn assemble(
        estimator: Estimator,
        d: Design,
        formula: &Formula,
        options: &FitOptions,
        e: Estimate,
    ) -> Fit {
        Fit {
            estimator,
            formula: formula.clone(),
            names: d.x_names.clone(),
            beta: e.beta,
            collinear: e.collinear,
            sample: SampleReport::new(d.status, 0),
            info: e.info,
            notes: e.notes,
            offset_name: options.offset.clone(),
            vanishing_mu: e.vanishing_mu,
            vcov: options.vcov.clone(),
            ssc: options.ssc,
            core: Core {
                n: d.y.len(),
                rows: d.rows,
                y: d.y,
                prior_weights: d.weights,
                x: d.x,
                x_tilde: e.x_tilde,
                w: e.w,
                score_resid: e.score_resid,
                eta: e.eta,
                reparametrisation: e.reparametrisation,
                offset: d.offset,
                fe: d.fe,
                clusters: d.clusters,
            },
        }
    }

    /// Number of observations used.
    pub fn nobs(&self) -> usize {
        self.core.n
    }

    /// What inference needs from the fit, on the estimation sample: the
    /// demeaned regressors, the working weights and the score residuals.
    /// [`infer`](crate::vcov::infer) reads the fit only through this and
    /// [`Fit::cluster_dim`]; a caller can build its own variance estimator
    /// on it.
    pub fn scores(&self) -> Scores<'_> {
        let c = &self.core;
        Scores {
            n: c.n,
            x_tilde: &c.x_tilde,
            weights: &c.w,
            residuals: &c.score_resid,
            reparametrisation: c.reparametrisation.as_ref().map(|(i, m)| (*i, &m[..])),
        }
    }

    /// A cluster variable carried into the fit (named in
    /// [`FitOptions::vcov`]), or one of its fixed-effect dimensions, on the
    /// estimation sample. Spaces in `name` are ignored (`a ^ b` = `a^b`).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownColumn`] if it is neither.
    pub fn cluster_dim(&self, name: &str) -> Result<FeDim> {
        let c = &self.core;
        let norm = |s: &str| s.replace(' ', "");
        if let Some(d) = c.clusters.iter().find(|d| norm(&d.name) == norm(name)) {
            return Ok(d.clone());
        }
        if let Some(d) = c.fe.iter().find(|d| norm(&d.name) == norm(name)) {
            return Ok(d.clone());
        }
        Err(Error::model(
            ErrorKind::UnknownColumn,
            format!(
                "cluster variable '{name}' was not carried into the fit: name it in FitOptions::vcov"
            ),
        ))
    }

    /// Inference with the variance estimator and small-sample corrections
    /// of the options the model was fitted with ([`FitOptions::vcov`],
    /// [`FitOptions::ssc`]), as fixest's `summary(fit)`.
    ///
    /// ```
    /// use gravity_model::{fit, Column, Estimator, FitOptions, Formula, Frame, VcovSpec};
    /// let frame = Frame::from_columns(vec![
    ///     ("y".into(), Column::Numeric(vec![1.0, 3.0, 2.0, 5.0, 4.0, 9.0, 2.0, 6.0].into())),
    ///     ("x".into(), Column::Numeric(vec![0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0].into())),
    ///     ("g".into(), Column::Numeric(vec![1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0].into())),
    /// ])?;
    /// let formula = Formula::parse("y ~ x | g")?;
    /// let options = FitOptions::default().vcov(VcovSpec::Cluster(vec!["g".into()]));
    /// let fitted = fit(&frame, &formula, Estimator::Ppml, &options)?;
    /// let summary = fitted.summary()?;
    /// assert_eq!(summary.n_clusters, vec![4]);
    /// # Ok::<(), gravity_model::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`infer`](crate::vcov::infer).
    pub fn summary(&self) -> Result<Inference> {
        crate::vcov::infer(self, &self.vcov, self.ssc)
    }

    /// Inference for another variance estimator `spec` with small-sample
    /// corrections `ssc`, without refitting (fixest's `summary(fit, vcov =
    /// …)`). Its cluster variables must have been carried into the fit
    /// ([`FitOptions::vcov`]) or be fixed effects of the model.
    ///
    /// # Errors
    ///
    /// As [`infer`](crate::vcov::infer).
    pub fn inference(&self, spec: &VcovSpec, ssc: SmallSample) -> Result<Inference> {
        crate::vcov::infer(self, spec, ssc)
    }

    /// Fitted values on the estimation sample (μ for PPML, ŷ for OLS), in
    /// sample order; see [`Fit::fitted_by_row`] for input-row order.
    pub fn fitted(&self) -> Vec<f64> {
        match self.estimator {
            Estimator::Ppml => self.core.eta.iter().map(|e| e.exp()).collect(),
            Estimator::Ols => self.core.eta.clone(),
        }
    }

    /// Fitted values by input row: `None` for rows not used.
    pub fn fitted_by_row(&self) -> Vec<Option<f64>> {
        let mut out = vec![None; self.sample.n_full];
        for (v, &r) in self.fitted().into_iter().zip(&self.core.rows) {
            out[r] = Some(v);
        }
        out
    }

    /// The estimate of the coefficient called `name`.
    pub fn coef(&self, name: &str) -> Option<f64> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|i| self.beta[i])
    }

    /// The fixed-effect dimensions on the estimation sample.
    pub fn fixed_effect_dims(&self) -> &[FeDim] {
        &self.core.fe
    }

    /// Input-frame row of each observation used, in sample order.
    pub fn sample_rows(&self) -> &[usize] {
        &self.core.rows
    }
}

/// Estimates `formula` on `frame`.
///
/// Data flow: the design is built (rows with missing values dropped and
/// counted), singletons and (PPML) separated observations are dropped
/// iteratively, collinear regressors are dropped and named, then the model is
/// estimated by IRLS (PPML) or least squares (OLS) on demeaned data.
///
/// ```
/// use gravity_model::{fit, Column, Estimator, FitOptions, Formula, Frame};
/// let frame = Frame::from_columns(vec![
///     ("y".into(), Column::Numeric(vec![1.0, 3.0, 2.0, 5.0, 4.0, 9.0].into())),
///     ("x".into(), Column::Numeric(vec![0.0, 1.0, 0.0, 1.0, 0.0, 1.0].into())),
///     ("g".into(), Column::Numeric(vec![1.0, 1.0, 2.0, 2.0, 3.0, 3.0].into())),
/// ])?;
/// let formula = Formula::parse("y ~ x | g")?;
/// let fit = fit(&frame, &formula, Estimator::Ppml, &FitOptions::default())?;
/// assert!(fit.info.converged);
/// assert!(fit.coef("x").is_some_and(|b| b > 0.0));
/// # Ok::<(), gravity_model::Error>(())
/// ```
///
/// # Errors
///
/// [`ErrorKind::InvalidOption`] for options out of range
/// ([`FitOptions::validate`]); the errors of building the design (a missing
/// or non-numeric column, a negative PPML outcome);
/// [`ErrorKind::ZeroOutcome`] and [`ErrorKind::EmptySample`] when nothing can
/// be estimated; [`ErrorKind::NotPositiveDefinite`] or
/// [`ErrorKind::Diverged`] for numerical failures the checks could not
/// prevent. Non-convergence is not an error: it is in [`Fit::info`] and
/// [`Fit::notes`].
pub fn fit(
    frame: &Frame,
    formula: &Formula,
    estimator: Estimator,
    options: &FitOptions,
) -> Result<Fit> {
    Fitter::new(frame).fit(formula, estimator, options)
}

/// Fits several models on one frame, setting up each fixed effect once:
/// fixest's multiple estimation. Every fixed effect and cluster variable is
/// encoded on the first model that uses it, the panel of leads and lags is
/// indexed once, and a model estimated on the same rows as the one before
/// takes its fixed effects' re-encoding on that sample from it. Each fit is
/// the one [`fit`] gives alone, bit for bit.
///
/// ```
/// use gravity_model::{Column, Estimator, Fitter, FitOptions, Formula, Frame};
/// let frame = Frame::from_columns(vec![
///     ("y".into(), Column::Numeric(vec![1.0, 3.0, 2.0, 5.0, 4.0, 9.0, 2.0, 6.0].into())),
///     ("x".into(), Column::Numeric(vec![0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0].into())),
///     ("z".into(), Column::Numeric(vec![0.5, 0.1, 0.9, 0.3, 0.2, 0.8, 0.4, 0.6].into())),
///     ("g".into(), Column::Numeric(vec![1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0].into())),
/// ])?;
/// let formula = Formula::parse("y ~ csw(x, z) | g")?;
/// let mut fitter = Fitter::new(&frame);
/// let fits = fitter.fit_all(&formula, Estimator::Ppml, &FitOptions::default())?;
/// assert_eq!(fits.len(), 2);
/// assert_eq!(fits[1].names, ["x", "z"]);
/// assert_eq!(fitter.reused(), 1); // `g` was encoded once
/// # Ok::<(), gravity_model::Error>(())
/// ```
pub struct Fitter<'f> {
    frame: &'f Frame,
    encodings: design::Encodings,
}

impl<'f> Fitter<'f> {
    /// A fitter for models on `frame`.
    pub fn new(frame: &'f Frame) -> Self {
        Fitter {
            frame,
            encodings: design::Encodings::retaining(),
        }
    }

    /// Estimates one model, as [`fit`] does.
    ///
    /// # Errors
    ///
    /// Those of [`fit`]; a formula holding several models
    /// ([`Formula::is_multiple`]) is [`ErrorKind::InvalidOption`]: use
    /// [`Fitter::fit_all`].
    pub fn fit(
        &mut self,
        formula: &Formula,
        estimator: Estimator,
        options: &FitOptions,
    ) -> Result<Fit> {
        options.validate()?;
        let spec = DesignSpec {
            nonnegative_outcome: estimator == Estimator::Ppml,
            weights: options.weights.clone(),
            offset: options.offset.clone(),
            clusters: options.vcov.clusters().to_vec(),
            panel: options.panel.clone(),
            subset: options.subset.clone(),
        };
        let d = design::build_with(self.frame, formula, &spec, &mut self.encodings)?;
        fit_design(d, formula, estimator, options)
    }

    /// Estimates every model of `formula` ([`Formula::expand`]: `sw()`,
    /// `csw()`, `sw0()`, `csw0()`, `c(y1, y2)`), in order; a single model
    /// gives one fit.
    ///
    /// # Errors
    ///
    /// The first error of [`Fitter::fit`], as it is (to know which model
    /// failed, call [`Fitter::fit`] on each of [`Formula::expand`], as the
    /// `gravity` command does).
    pub fn fit_all(
        &mut self,
        formula: &Formula,
        estimator: Estimator,
        options: &FitOptions,
    ) -> Result<Vec<Fit>> {
        formula
            .expand()
            .iter()
            .map(|m| self.fit(m, estimator, options))
            .collect()
    }

    /// Fixed-effect and cluster dimensions encoded so far.
    pub fn encoded(&self) -> usize {
        self.encodings.encoded
    }

    /// Fixed-effect and cluster dimensions taken from an earlier model.
    pub fn reused(&self) -> usize {
        self.encodings.reused
    }
}

/// Estimates on an already-built design.
/// The pruned design can be estimated: some rows left, and (PPML) some
/// positive outcome among them.
fn usable(d: &Design, estimator: Estimator) -> Result<()> {
    if d.n() == 0 {
        return Err(Error::model(
            ErrorKind::EmptySample,
            "no observations left after dropping missing values, singletons and separated observations"
                .into(),
        ));
    }
    if estimator == Estimator::Ppml && d.y.iter().all(|&y| y == 0.0) {
        return Err(Error::model(
            ErrorKind::ZeroOutcome,
            "the outcome is zero in every observation: PPML has no solution".into(),
        ));
    }
    Ok(())
}

pub(crate) fn fit_design(
    d: Design,
    formula: &Formula,
    estimator: Estimator,
    options: &FitOptions,
) -> Result<Fit> {
    let sep = match estimator {
        Estimator::Ppml => options.separation(),
        Estimator::Ols => Separation::none(),
    };
    let mut notes = Vec::new();
    if estimator == Estimator::Ppml && d.n() > 0 && d.y.iter().all(|&y| y == 0.0) {
        return Err(Error::model(
            ErrorKind::ZeroOutcome,
            format!(
                "the outcome '{}' is zero in every observation: PPML has no solution",
                formula.response.name
            ),
        ));
    }
    let mut d = separation::prune(d, options.fixef_rm.singletons(), sep);
    let mut relu_iterations = 0;
    let mut relu_dropped = 0;
    let mut relu_converged = true;
    // PPML with the regressor check: fit, and let the fit say whether
    // anything is separated (see `separation`'s module doc). The estimate of
    // the last round is the fit's when nothing was dropped in it.
    let mut fitted: Option<(Design, Estimate)> = None;
    // After rows are dropped, the next fit continues the last converged one
    // from its linear predictor; the IRLS time and steps of the fits it
    // continues count as estimation.
    let mut start: Option<Vec<f64>> = None;
    let (mut earlier_seconds, mut earlier_iterations) = (0.0, 0);
    if estimator == Estimator::Ppml && sep.relu {
        let params = separation::ReluParams {
            max_iter: options.ir_max_iter,
            ..separation::ReluParams::default()
        };
        loop {
            usable(&d, estimator)?;
            // The fit's score residual `μ − y` is a Stiemke certificate of
            // non-separation wherever `μ` is clearly positive: only the zero
            // rows with a vanishing mean can be separated. A fit that does
            // not converge (or overflows, as separated data can make it)
            // proves nothing, and every zero row stays a candidate.
            let (candidates, first) =
                match crate::ppml::estimate(d.clone(), options, None, start.as_deref()) {
                    // (A regressor dropped as collinear in the fit's weights has
                    // no score condition there: the certificate does not hold.)
                    Ok((d_fit, est)) if est.info.converged && est.collinear.is_empty() => {
                        let c = separation::candidates(&d.y, &est.eta, &est.falling);
                        if !c.iter().any(|&c| c) {
                            fitted = Some((d_fit, est));
                            break;
                        }
                        (Some(c), Some((d_fit, est)))
                    }
                    Ok(unconverged) => (None, Some(unconverged)),
                    Err(e) if e.kind() == ErrorKind::Diverged => (None, None),
                    Err(e) => return Err(e),
                };
            let outcome = separation::relu(&d, params, candidates.as_deref())?;
            relu_iterations += outcome.iterations;
            if !outcome.converged {
                relu_converged = false;
            }
            let found = outcome.separated;
            let k = found.iter().filter(|s| **s).count();
            if k == 0 {
                // Nothing to drop: the first fit is the fit (if it failed,
                // the estimate below says why).
                fitted = first;
                break;
            }
            relu_dropped += k;
            let keep: Vec<bool> = found.iter().map(|s| !s).collect();
            d = d.subset(&keep, RowStatus::Separated);
            d = separation::prune(d, options.fixef_rm.singletons(), sep);
            start = match first {
                Some((d_fit, est)) if est.info.converged => {
                    earlier_seconds += est.info.seconds;
                    earlier_iterations += est.info.iterations;
                    let mut by_row = vec![0.0; d_fit.rows.iter().max().map_or(0, |m| m + 1)];
                    for (&r, &e) in d_fit.rows.iter().zip(&est.eta) {
                        by_row[r] = e;
                    }
                    // Every row left was a row of that fit (rows only leave).
                    Some(d.rows.iter().map(|&r| by_row[r]).collect())
                }
                _ => None,
            };
        }
    }
    usable(&d, estimator)?;
    let before = SampleReport::new(d.status.clone(), relu_iterations);
    if before.dropped.singletons > 0 {
        notes.push(format!(
            "{} singleton observations dropped (iteratively)",
            before.dropped.singletons
        ));
    }
    let fe_sep = before.dropped.separated - relu_dropped;
    if fe_sep > 0 {
        notes.push(format!(
            "{fe_sep} observations dropped: separated by a fixed effect (outcome always zero in the level)"
        ));
    }
    if relu_dropped > 0 {
        notes.push(format!(
            "ReLU method dropped {relu_dropped} separated observations in {relu_iterations} iterations \
             (IRLS then continued from the fit before; its steps and time count both)"
        ));
    }
    if !relu_converged {
        notes.push(format!(
            "the ReLU separation check did NOT converge ({relu_iterations} iterations): \
             separated observations may remain, and the estimates of the regressors that \
             separate them may be unreliable"
        ));
    }
    // ESTIMATE, then the one place a Fit is built.
    let (d, estimate) = match (fitted, estimator) {
        (Some(done), _) => done,
        (None, Estimator::Ppml) => crate::ppml::estimate(d, options, None, start.as_deref())?,
        (None, Estimator::Ols) => crate::ols::estimate(d, options)?,
    };
    let mut fit = Fit::assemble(estimator, d, formula, options, estimate);
    fit.info.seconds += earlier_seconds;
    fit.info.iterations += earlier_iterations;
    fit.sample.dropped.separated_fe = fe_sep;
    fit.sample.dropped.separated_relu = relu_dropped;
    fit.sample.relu_iterations = relu_iterations;
    fit.sample.relu_converged = relu_converged;
    // With the checks on and finished, separation is ruled out: tiny means
    // that still fall are those of nearly separated rows, which the
    // likelihood barely sees, and are not reported.
    if fit.vanishing_mu > 0 && (!sep.relu || !relu_converged) {
        let why = if !sep.relu {
            "the ReLU separation check was off"
        } else {
            "the separation check did not converge"
        };
        notes.push(format!(
            "{} observations with a zero outcome have fitted values that fall towards zero \
             (below {:e} of the mean outcome and still falling; {why}): the data may be \
             separated, and the estimates of the regressors that separate them diverge",
            fit.vanishing_mu,
            crate::ppml::MU_TOL
        ));
    }
    if !fit.collinear.is_empty() {
        notes.push(format!(
            "collinear regressors dropped: {}",
            fit.collinear.join(", ")
        ));
    }
    if !fit.info.converged {
        notes.push(format!(
            "estimation did NOT converge ({:?} after {} iterations, deviance {})",
            fit.info.termination, fit.info.iterations, fit.info.deviance
        ));
    }
    notes.append(&mut fit.notes);
    fit.notes = notes;
    Ok(fit)
}

impl Fit {
    /// The fixed-effect coefficients, recovered after estimation with the
    /// normalisation documented in [`crate::fixed_effects::recover`].
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NoConvergence`] if the recovery of the fixed effects does
    /// not reach its tolerance.
    pub fn fixed_effects(&self) -> Result<crate::fixed_effects::FixedEffectEstimates> {
        self.fixed_effects_with(crate::fixed_effects::Normalisation::PerComponent)
    }

    /// The fixed-effect coefficients with the normalisation `normalisation`
    /// (e.g. [`Normalisation::Pyfixest`](crate::fixed_effects::Normalisation::Pyfixest),
    /// pyfixest's `fixef()`); their sums, and so fitted values and
    /// predictions, are the same under every normalisation.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NoConvergence`] if the recovery of the fixed effects does
    /// not reach its tolerance.
    pub fn fixed_effects_with(
        &self,
        normalisation: crate::fixed_effects::Normalisation,
    ) -> Result<crate::fixed_effects::FixedEffectEstimates> {
        let c = &self.core;
        let n = c.n;
        let p = self.beta.len();
        let s: Vec<f64> = (0..n)
            .map(|i| {
                let mut xb = 0.0;
                for j in 0..p {
                    xb += c.x[j * n + i] * self.beta[j];
                }
                let off = c.offset.as_ref().map_or(0.0, |o| o[i]);
                c.eta[i] - off - xb
            })
            .collect();
        crate::fixed_effects::recover::recover_with(&c.fe, &s, normalisation)
    }

    /// The linear predictor `x'β + Σ_k α_k (+ offset)` for the rows of
    /// `frame` (which must have the formula's regressor and fixed-effect
    /// columns, and the offset column if the fit had one). Rows with a missing
    /// value or a fixed-effect level not in the estimation sample get `None`.
    /// For PPML the prediction of the mean is `exp` of this.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownColumn`] if a regressor, fixed effect or the
    /// offset is missing from `frame`.
    pub fn predict_link(
        &self,
        frame: &Frame,
        fixed_effects: &crate::fixed_effects::FixedEffectEstimates,
    ) -> Result<Vec<Option<f64>>> {
        use std::collections::HashMap;
        let n = frame.nrows();
        let mut out: Vec<Option<f64>> = vec![Some(0.0); n];
        for (j, name) in self.names.iter().enumerate() {
            if name == crate::design::INTERCEPT {
                for o in out.iter_mut().flatten() {
                    *o += self.beta[j];
                }
                continue;
            }
            let col = match frame.column(name) {
                Some(crate::data::Column::Numeric(v)) => v,
                _ => {
                    return Err(Error::model(
                        ErrorKind::UnknownColumn,
                        format!("cannot predict: column '{name}' is missing or not numeric"),
                    ))
                }
            };
            for (o, v) in out.iter_mut().zip(col) {
                if let Some(acc) = o {
                    if v.is_nan() {
                        *o = None;
                    } else {
                        *acc += self.beta[j] * v;
                    }
                }
            }
        }
        for (fe, est) in self.formula.fixed_effects.iter().zip(&fixed_effects.dims) {
            let names: Vec<&str> = fe.factors.iter().map(|t| t.name.as_str()).collect();
            let factors: Vec<std::borrow::Cow<crate::data::Factor>> = names
                .iter()
                .map(|nm| match frame.column(nm) {
                    Some(crate::data::Column::Factor(f)) => Ok(std::borrow::Cow::Borrowed(f)),
                    Some(crate::data::Column::Numeric(v)) => Ok(std::borrow::Cow::Owned(
                        crate::data::Factor::from_numeric(v),
                    )),
                    None => Err(Error::model(
                        ErrorKind::UnknownColumn,
                        format!("cannot predict: column '{nm}' is missing"),
                    )),
                })
                .collect::<Result<_>>()?;
            let refs: Vec<&crate::data::Factor> = factors.iter().map(|f| f.as_ref()).collect();
            let dim = crate::design::interact(&est.name, &refs);
            let lookup: HashMap<&str, f64> = est
                .levels
                .iter()
                .map(|s| s.as_str())
                .zip(est.values.iter().copied())
                .collect();
            let value: Vec<Option<f64>> = dim
                .levels
                .iter()
                .map(|l| lookup.get(l.as_str()).copied())
                .collect();
            for (o, &g) in out.iter_mut().zip(&dim.codes) {
                if let Some(acc) = o {
                    match value.get(g as usize).copied().flatten() {
                        Some(v) => *acc += v,
                        None => *o = None,
                    }
                }
            }
        }
        if let Some(name) = &self.offset_name {
            let col = match frame.column(name) {
                Some(crate::data::Column::Numeric(v)) => v,
                _ => {
                    return Err(Error::model(
                        ErrorKind::UnknownColumn,
                        format!("cannot predict: offset column '{name}' is missing or not numeric"),
                    ))
                }
            };
            for (o, v) in out.iter_mut().zip(col) {
                if let Some(acc) = o {
                    *acc += v;
                }
            }
        }
        Ok(out)
    }
}
