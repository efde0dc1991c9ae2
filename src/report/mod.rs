//! REPORT: the coefficient table for people ([`Table`]), the table of
//! several models side by side ([`Etable`], fixest's `etable`), the JSON
//! object for programs ([`FitReport`]) and the fixed effects as CSV
//! ([`write_fixed_effects_csv`]). Nothing here refits or re-reads data.

use crate::fit::Fit;
use crate::fitstat::FitStats;
use crate::vcov::{Inference, Lincom, VcovSpec, WaldTest};
use serde::Serialize;
use std::fmt;

mod etable;
mod fixed_effects_csv;
pub use etable::{CoefStat, Etable, EtableModel, Format};
pub use fixed_effects_csv::write_fixed_effects_csv;

/// Wall-clock seconds spent in each stage of `gravity fit`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Timings {
    /// Reading and parsing the file.
    pub load_s: f64,
    /// Encoding, missing values, singletons, separation.
    pub prepare_s: f64,
    /// The estimation loop (IRLS or least squares).
    pub estimate_s: f64,
    /// Variance–covariance and the coefficient table.
    pub inference_s: f64,
    /// Everything.
    pub total_s: f64,
}

/// The machine-readable result of a fit: what `gravity fit --json` prints,
/// and what `gravity table` reads back ([`EtableModel::from_json`]).
#[derive(Debug, Clone, Serialize)]
pub struct FitReport<'a> {
    /// `ppml` or `ols`.
    pub estimator: String,
    /// The formula, in canonical form.
    pub formula: String,
    /// The outcome's name.
    pub depvar: String,
    /// Observations used.
    pub nobs: usize,
    /// Rows in the input.
    pub nobs_full: usize,
    /// True if the estimation converged.
    pub converged: bool,
    /// Why it stopped.
    pub termination: crate::fit::Termination,
    /// IRLS iterations.
    pub iterations: usize,
    /// Final deviance (PPML) or residual sum of squares (OLS).
    pub deviance: f64,
    /// Dropped rows by reason.
    pub dropped: crate::sample::Dropped,
    /// Regressors dropped as collinear.
    pub collinear: &'a [String],
    /// The variance estimator and the covariance matrix.
    pub vcov: VcovReport,
    /// The coefficient table.
    pub coefficients: &'a [crate::vcov::CoefRow],
    /// Log-likelihood, null deviance, pseudo-R² (PPML); R², within R² (OLS).
    pub fit_stats: FitStats,
    /// Linear combinations asked for ([`FitReport::with_tests`]).
    pub lincom: Vec<Lincom>,
    /// Wald tests asked for ([`FitReport::with_tests`]).
    pub wald: Vec<WaldTest>,
    /// Fixed-effect dimensions and their number of levels.
    pub fixed_effects: Vec<FixedEffectReport>,
    /// Diagnostic notes: the fit's, then the inference's.
    pub notes: Vec<String>,
    /// The ReLU separation check: iterations run and whether it finished.
    pub separation: SeparationReport,
    /// Where time went.
    pub timings: Timings,
}

/// The variance estimator in a [`FitReport`].
#[derive(Debug, Clone, Serialize)]
pub struct VcovReport {
    /// `iid`, `hetero`, `cluster` or `twoway`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Cluster variables (for `twoway`, the first two fixed effects).
    pub clusters: Vec<String>,
    /// Number of clusters in each.
    pub n_clusters: Vec<usize>,
    /// Small-sample preset.
    pub ssc: crate::vcov::SmallSample,
    /// Degrees of freedom of the t distribution (`null`: normal).
    pub df_t: Option<f64>,
    /// The coefficients, in the order of `matrix`'s rows and columns.
    pub names: Vec<String>,
    /// The variance–covariance matrix, row by row.
    pub matrix: Vec<Vec<f64>>,
}

/// The ReLU separation check in a [`FitReport`].
#[derive(Debug, Clone, Copy, Serialize)]
pub struct SeparationReport {
    /// Iterations of the ReLU check (0 when not run).
    pub relu_iterations: usize,
    /// False if the check reached its iteration limit: separated
    /// observations may remain.
    pub relu_converged: bool,
}

/// A fixed-effect dimension in a [`FitReport`].
#[derive(Debug, Clone, Serialize)]
pub struct FixedEffectReport {
    /// Its name, e.g. `exporter^year`.
    pub name: String,
    /// Number of levels on the estimation sample.
    pub levels: usize,
}

impl<'a> FitReport<'a> {
    /// Assembles the report (without linear combinations or Wald tests:
    /// see [`FitReport::with_tests`]).
    pub fn new(fit: &'a Fit, inf: &'a Inference, timings: Timings) -> Self {
        let p = inf.coefficients.len();
        FitReport {
            estimator: fit.estimator.to_string(),
            formula: fit.formula.text.clone(),
            depvar: fit.formula.response.name.clone(),
            nobs: fit.nobs(),
            nobs_full: fit.sample.n_full,
            converged: fit.info.converged,
            termination: fit.info.termination,
            iterations: fit.info.iterations,
            deviance: fit.info.deviance,
            dropped: fit.sample.dropped,
            collinear: &fit.collinear,
            vcov: VcovReport {
                kind: inf.spec.kind().to_owned(),
                clusters: inf.clusters.clone(),
                n_clusters: inf.n_clusters.clone(),
                ssc: inf.ssc,
                df_t: inf.df_t,
                names: inf.coefficients.iter().map(|c| c.name.clone()).collect(),
                matrix: (0..p)
                    .map(|r| (0..p).map(|c| inf.vcov[(r, c)]).collect())
                    .collect(),
            },
            coefficients: &inf.coefficients,
            fit_stats: fit.fit_stats(),
            lincom: Vec::new(),
            wald: Vec::new(),
            fixed_effects: fit
                .fixed_effect_dims()
                .iter()
                .map(|d| FixedEffectReport {
                    name: d.name.clone(),
                    levels: d.n_levels(),
                })
                .collect(),
            notes: fit.notes.iter().chain(&inf.notes).cloned().collect(),
            separation: SeparationReport {
                relu_iterations: fit.sample.relu_iterations,
                relu_converged: fit.sample.relu_converged,
            },
            timings,
        }
    }

    /// The report with linear combinations and Wald tests
    /// ([`Inference::lincom`], [`Inference::wald`]).
    #[must_use]
    pub fn with_tests(mut self, lincom: Vec<Lincom>, wald: Vec<WaldTest>) -> Self {
        self.lincom = lincom;
        self.wald = wald;
        self
    }
}

/// A coefficient table for people, in the spirit of fixest's `summary`:
/// the coefficients, then (if given) linear combinations and Wald tests, and
/// the fit statistics.
///
/// ```
/// use gravity_model::{fit, Column, Estimator, FitOptions, Formula, Frame, LinearCombination};
/// use gravity_model::report::Table;
/// let frame = Frame::from_columns(vec![
///     ("y".into(), Column::Numeric(vec![1.0, 3.0, 2.0, 5.0, 4.0, 9.0, 2.0, 6.0].into())),
///     ("a".into(), Column::Numeric(vec![0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0].into())),
///     ("b".into(), Column::Numeric(vec![1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0].into())),
/// ])?;
/// let fitted = fit(&frame, &Formula::parse("y ~ a + b")?, Estimator::Ppml, &FitOptions::default())?;
/// let inf = fitted.summary()?;
/// let sum = [inf.lincom(&LinearCombination::parse("sum = a + b")?)?];
/// let wald = [inf.wald(&["a", "b"])?];
/// let text = Table::new(&fitted, &inf).lincom(&sum).wald(&wald).to_string();
/// assert!(text.contains("Linear combinations:"));
/// assert!(text.contains("Wald test, H0: joint nullity of a, b"));
/// assert!(text.contains("Pseudo R2:"));
/// # Ok::<(), gravity_model::Error>(())
/// ```
pub struct Table<'a> {
    fit: &'a Fit,
    inf: &'a Inference,
    lincom: &'a [Lincom],
    wald: &'a [WaldTest],
}

impl<'a> Table<'a> {
    /// The table of `fit` with inference `inf`.
    pub fn new(fit: &'a Fit, inf: &'a Inference) -> Self {
        Table {
            fit,
            inf,
            lincom: &[],
            wald: &[],
        }
    }

    /// Adds linear combinations, printed below the coefficients.
    #[must_use]
    pub fn lincom(mut self, lincom: &'a [Lincom]) -> Self {
        self.lincom = lincom;
        self
    }

    /// Adds Wald tests, printed below the table.
    #[must_use]
    pub fn wald(mut self, wald: &'a [WaldTest]) -> Self {
        self.wald = wald;
        self
    }
}

/// A number for people: fixed with `decimals`, or in scientific notation
/// when that would show nothing or too much.
pub(crate) fn number(x: f64, decimals: usize) -> String {
    if !x.is_finite() {
        return "n/a".to_owned();
    }
    let a = x.abs();
    if a != 0.0 && (a < 0.5 * 10f64.powi(-(decimals as i32)) || a >= 1e9) {
        format!("{:.*e}", decimals.saturating_sub(1).max(1), x)
    } else {
        format!("{x:.decimals$}")
    }
}

/// The label of a variance estimator in a table: `IID`,
/// `Heteroskedas.-rob.`, `by: a` or `by: a & b` (fixest's words).
pub(crate) fn vcov_label(kind: &str, clusters: &[String]) -> String {
    match kind {
        "iid" => "IID".to_owned(),
        "hetero" => "Heteroskedas.-rob.".to_owned(),
        _ if !clusters.is_empty() => format!("by: {}", clusters.join(" & ")),
        other => other.to_owned(),
    }
}

fn stars(p: f64) -> &'static str {
    if p < 0.001 {
        "***"
    } else if p < 0.01 {
        "**"
    } else if p < 0.05 {
        "*"
    } else if p < 0.1 {
        "."
    } else {
        ""
    }
}

/// Formats an integer with thousands separators.
pub fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl fmt::Display for Table<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fit = self.fit;
        let inf = self.inf;
        let est = match fit.estimator {
            crate::fit::Estimator::Ppml => "PPML",
            crate::fit::Estimator::Ols => "OLS",
        };
        writeln!(
            f,
            "{est} estimation, outcome: {}",
            fit.formula.response.name
        )?;
        writeln!(f, "Formula: {}", fit.formula.text)?;
        writeln!(
            f,
            "Observations: {} (of {} rows)",
            thousands(fit.nobs()),
            thousands(fit.sample.n_full)
        )?;
        if !fit.fixed_effect_dims().is_empty() {
            let fes: Vec<String> = fit
                .fixed_effect_dims()
                .iter()
                .map(|d| format!("{} ({})", d.name, thousands(d.n_levels())))
                .collect();
            writeln!(f, "Fixed effects: {}", fes.join(", "))?;
        }
        let se_kind = match &inf.spec {
            VcovSpec::Iid => "IID".to_owned(),
            VcovSpec::Hetero => "heteroskedasticity-robust".to_owned(),
            VcovSpec::Cluster(_) | VcovSpec::TwoWay => {
                let parts: Vec<String> = inf
                    .clusters
                    .iter()
                    .zip(&inf.n_clusters)
                    .map(|(n, g)| format!("{n} ({} clusters)", thousands(*g)))
                    .collect();
                let how = if inf.spec == VcovSpec::TwoWay {
                    "two-way clustered"
                } else {
                    "clustered"
                };
                format!("{how} by {}", parts.join(" and "))
            }
        };
        writeln!(
            f,
            "Standard errors: {se_kind}, {} small-sample preset",
            inf.ssc
        )?;
        let stat = if inf.df_t.is_some() {
            "t value"
        } else {
            "z value"
        };
        let pcol = if inf.df_t.is_some() {
            "Pr(>|t|)"
        } else {
            "Pr(>|z|)"
        };
        let w = fit
            .names
            .iter()
            .chain(self.lincom.iter().map(|l| &l.row.name))
            .map(|n| n.len())
            .max()
            .unwrap_or(4)
            .max(4);
        writeln!(
            f,
            "{:w$}  {:>12} {:>12} {:>9} {:>10}",
            "", "Estimate", "Std. Error", stat, pcol
        )?;
        let rows = inf.coefficients.iter().map(|c| (c, None));
        let lincom_rows = self.lincom.iter().map(|l| (&l.row, Some(l)));
        for (k, (c, lincom)) in rows.chain(lincom_rows).enumerate() {
            if k == inf.coefficients.len() {
                writeln!(f, "Linear combinations:")?;
            }
            if let Some(l) = lincom {
                if l.row.name != l.expression {
                    writeln!(f, "  {} = {}", l.row.name, l.expression)?;
                }
            }
            if c.problem.is_some() {
                // No standard error: said so, never printed as a number.
                writeln!(
                    f,
                    "{:w$}  {:>12.6} {:>12} {:>9} {:>10}",
                    c.name, c.estimate, "n/a", "n/a", "n/a"
                )?;
                continue;
            }
            let p = if c.p_value < 1e-300 {
                "<1e-300".to_owned()
            } else {
                format!("{:.3e}", c.p_value)
            };
            writeln!(
                f,
                "{:w$}  {:>12.6} {:>12.6} {:>9.3} {:>10} {}",
                c.name,
                c.estimate,
                c.std_error,
                c.statistic,
                p,
                stars(c.p_value)
            )?;
        }
        writeln!(f, "---")?;
        writeln!(
            f,
            "Signif. codes: 0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1"
        )?;
        let label = match fit.estimator {
            crate::fit::Estimator::Ppml => "Deviance",
            crate::fit::Estimator::Ols => "RSS",
        };
        writeln!(
            f,
            "{label}: {:.6e}   Iterations: {}   Converged: {}",
            fit.info.deviance,
            fit.info.iterations,
            if fit.info.converged { "yes" } else { "NO" }
        )?;
        let stats = fit.fit_stats();
        match fit.estimator {
            crate::fit::Estimator::Ppml => writeln!(
                f,
                "Log-likelihood: {}   Null deviance: {}   Pseudo R2: {}",
                stat_text(stats.loglik, 2),
                stats
                    .null_deviance
                    .map_or("n/a".to_owned(), |d| format!("{d:.6e}")),
                stat_text(stats.pseudo_r2, 6)
            )?,
            crate::fit::Estimator::Ols => {
                write!(f, "R2: {}", stat_text(stats.r2, 6))?;
                if stats.within_r2.is_some() {
                    write!(f, "   Within R2: {}", stat_text(stats.within_r2, 6))?;
                }
                writeln!(f)?;
            }
        }
        for t in self.wald {
            writeln!(f, "{}", wald_text(t))?;
        }
        let d = &fit.sample.dropped;
        if d.missing + d.singletons + d.separated > 0 {
            writeln!(
                f,
                "Dropped: {} missing, {} singletons, {} separated ({} by fixed effects, {} by ReLU)",
                thousands(d.missing),
                thousands(d.singletons),
                thousands(d.separated),
                thousands(d.separated_fe),
                thousands(d.separated_relu)
            )?;
        }
        if d.excluded > 0 {
            writeln!(f, "Excluded by the subset: {}", thousands(d.excluded))?;
        }
        for note in fit.notes.iter().chain(&inf.notes) {
            writeln!(f, "Note: {note}")?;
        }
        Ok(())
    }
}

/// A fit statistic: `decimals` places, or scientific notation for large
/// magnitudes; `n/a` if absent or not finite.
fn stat_text(x: Option<f64>, decimals: usize) -> String {
    match x {
        Some(v) if v.is_finite() && v.abs() >= 1e7 => format!("{v:.6e}"),
        Some(v) if v.is_finite() => format!("{v:.decimals$}"),
        _ => "n/a".to_owned(),
    }
}

/// A Wald test in fixest's words: `Wald test, H0: joint nullity of a, b:
/// stat = 12.3, p-value = 4.5e-6, on 2 and 95 DoF, VCOV: hetero.`
pub(crate) fn wald_text(t: &WaldTest) -> String {
    let p = if t.p < 1e-300 {
        "< 1e-300".to_owned()
    } else {
        format!("= {:.3e}", t.p)
    };
    let dof = match t.df2 {
        Some(d2) => format!(
            "on {} and {} DoF",
            t.df1,
            thousands(d2.max(0.0).round() as usize)
        ),
        None => format!("chi2 on {} DoF", t.df1),
    };
    format!(
        "Wald test, H0: {}nullity of {}: stat = {:.4}, p-value {p}, {dof}, VCOV: {}.",
        if t.coefficients.len() > 1 {
            "joint "
        } else {
            ""
        },
        t.coefficients.join(", "),
        t.stat,
        t.vcov
    )
}
