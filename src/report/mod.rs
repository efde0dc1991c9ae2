//! REPORT: the coefficient table for people and the JSON object for programs.
//! Nothing here refits or re-reads data.

use crate::fit::Fit;
use crate::vcov::{Inference, VcovSpec};
use serde::Serialize;
use std::fmt;

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

/// The machine-readable result of a fit: what `gravity fit --json` prints.
#[derive(Debug, Clone, Serialize)]
pub struct FitReport<'a> {
    /// `ppml` or `ols`.
    pub estimator: String,
    /// The formula, in canonical form.
    pub formula: String,
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
    /// The variance estimator.
    pub vcov: VcovReport,
    /// The coefficient table.
    pub coefficients: &'a [crate::vcov::CoefRow],
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
    /// `iid`, `hetero` or `cluster`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Cluster variables.
    pub clusters: Vec<String>,
    /// Number of clusters in each.
    pub n_clusters: Vec<usize>,
    /// Small-sample preset.
    pub ssc: crate::vcov::SmallSample,
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
    /// Assembles the report.
    pub fn new(fit: &'a Fit, inf: &'a Inference, timings: Timings) -> Self {
        FitReport {
            estimator: fit.estimator.to_string(),
            formula: fit.formula.text.clone(),
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
                clusters: inf.spec.clusters().to_vec(),
                n_clusters: inf.n_clusters.clone(),
                ssc: inf.ssc,
            },
            coefficients: &inf.coefficients,
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
}

/// A coefficient table for people, in the spirit of fixest's `summary`.
pub struct Table<'a> {
    fit: &'a Fit,
    inf: &'a Inference,
}

impl<'a> Table<'a> {
    /// The table of `fit` with inference `inf`.
    pub fn new(fit: &'a Fit, inf: &'a Inference) -> Self {
        Table { fit, inf }
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
            VcovSpec::Cluster(v) => {
                let parts: Vec<String> = v
                    .iter()
                    .zip(&inf.n_clusters)
                    .map(|(n, g)| format!("{n} ({} clusters)", thousands(*g)))
                    .collect();
                format!("clustered by {}", parts.join(" and "))
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
        let w = fit.names.iter().map(|n| n.len()).max().unwrap_or(4).max(4);
        writeln!(
            f,
            "{:w$}  {:>12} {:>12} {:>9} {:>10}",
            "", "Estimate", "Std. Error", stat, pcol
        )?;
        for c in &inf.coefficients {
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
