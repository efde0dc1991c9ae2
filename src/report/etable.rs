//! Several models side by side, as fixest's `etable`: a column per model,
//! coefficients with their standard errors (or statistics, or intervals)
//! below and significance stars, linear combinations, one row per
//! fixed-effect set (`Yes`/`No`), then the variance estimator, the number of
//! observations and the R²s. Rendered as text, Markdown or LaTeX (booktabs).

use super::{number, thousands, vcov_label};
use crate::error::{Error, ErrorKind, Result};
use crate::fit::{Estimator, Fit};
use crate::fitstat::FitStats;
use crate::vcov::{CoefRow, Inference, Lincom};
use serde::Deserialize;

/// How a table is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Aligned plain text, for a terminal.
    Text,
    /// A Markdown (pipe) table.
    Markdown,
    /// A LaTeX `table` with a booktabs `tabular` (needs
    /// `\usepackage{booktabs}`).
    Latex,
}

impl Format {
    /// Parses `text`, `markdown` (or `md`), `latex` (or `tex`).
    ///
    /// ```
    /// use gravity_model::report::Format;
    /// assert_eq!("LaTeX".parse::<Format>()?, Format::Latex);
    /// # Ok::<(), gravity_model::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidOption`] for any other text.
    pub fn parse(s: &str) -> Result<Format> {
        match s.trim().to_ascii_lowercase().as_str() {
            "text" | "txt" => Ok(Format::Text),
            "markdown" | "md" => Ok(Format::Markdown),
            "latex" | "tex" => Ok(Format::Latex),
            other => Err(Error::model(
                ErrorKind::InvalidOption,
                format!("unknown table format '{other}': expected text, markdown or latex"),
            )),
        }
    }
}

impl std::str::FromStr for Format {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Format::parse(s)
    }
}

/// What is shown below each coefficient (fixest's `coefstat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CoefStat {
    /// The standard error, in parentheses (the default; fixest's `"se"`).
    #[default]
    StdError,
    /// The t or z statistic, in parentheses (fixest's `"tstat"`).
    Statistic,
    /// The 95% confidence interval, in brackets (fixest's `"confint"`).
    ConfInt,
}

impl CoefStat {
    /// Parses fixest's names `se`, `tstat` (or `stat`), `confint` (or `ci`).
    ///
    /// ```
    /// use gravity_model::report::CoefStat;
    /// assert_eq!(CoefStat::parse("confint")?, CoefStat::ConfInt);
    /// # Ok::<(), gravity_model::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidOption`] for any other text.
    pub fn parse(s: &str) -> Result<CoefStat> {
        match s.trim().to_ascii_lowercase().as_str() {
            "se" => Ok(CoefStat::StdError),
            "tstat" | "stat" | "zstat" => Ok(CoefStat::Statistic),
            "confint" | "ci" => Ok(CoefStat::ConfInt),
            other => Err(Error::model(
                ErrorKind::InvalidOption,
                format!("unknown coefstat '{other}': expected se, tstat or confint"),
            )),
        }
    }
}

impl std::str::FromStr for CoefStat {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        CoefStat::parse(s)
    }
}

/// One column of an [`Etable`]: what the table shows of one model, owned,
/// so that it can come from a fit ([`EtableModel::new`]) or from a report
/// saved with `gravity fit --json` ([`EtableModel::from_json`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct EtableModel {
    /// The estimator.
    pub estimator: Estimator,
    /// The outcome.
    pub depvar: String,
    /// The coefficients with their inference.
    pub coefficients: Vec<CoefRow>,
    /// Linear combinations, shown in their own block.
    pub lincom: Vec<CoefRow>,
    /// The fixed-effect dimensions, e.g. `exporter^year`.
    pub fixed_effects: Vec<String>,
    /// Observations used.
    pub nobs: usize,
    /// The fit statistics.
    pub stats: FitStats,
    /// The variance estimator's label (`IID`, `Heteroskedas.-rob.`,
    /// `by: pair`, `by: exporter & importer`).
    pub vcov: String,
    /// True if the statistics are t (false: z).
    pub t_stat: bool,
}

/// The subset of a [`FitReport`](super::FitReport) a table needs.
#[derive(Deserialize)]
struct SavedReport {
    estimator: Estimator,
    formula: String,
    #[serde(default)]
    depvar: Option<String>,
    nobs: usize,
    #[serde(default = "yes")]
    converged: bool,
    vcov: SavedVcov,
    coefficients: Vec<CoefRow>,
    #[serde(default)]
    fixed_effects: Vec<SavedFe>,
    #[serde(default)]
    fit_stats: Option<FitStats>,
    #[serde(default)]
    lincom: Vec<Lincom>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
struct SavedVcov {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    clusters: Vec<String>,
    #[serde(default)]
    df_t: Option<f64>,
}

#[derive(Deserialize)]
struct SavedFe {
    name: String,
}

impl EtableModel {
    /// The column of `fit` with inference `inf`.
    pub fn new(fit: &Fit, inf: &Inference) -> EtableModel {
        EtableModel {
            estimator: fit.estimator,
            depvar: fit.formula.response.name.clone(),
            coefficients: inf.coefficients.clone(),
            lincom: Vec::new(),
            fixed_effects: fit
                .fixed_effect_dims()
                .iter()
                .map(|d| d.name.clone())
                .collect(),
            nobs: fit.nobs(),
            stats: fit.fit_stats(),
            vcov: vcov_label(inf.spec.kind(), &inf.clusters),
            t_stat: inf.df_t.is_some(),
        }
    }

    /// The column with linear combinations ([`Inference::lincom`]).
    #[must_use]
    pub fn with_lincom(mut self, lincom: &[Lincom]) -> EtableModel {
        self.lincom = lincom.iter().map(|l| l.row.clone()).collect();
        self
    }

    /// The columns of a report saved by `gravity fit --json`: one JSON
    /// object ([`FitReport`](super::FitReport)), or an array of them.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidData`] if the text is not JSON, lacks a field the
    /// table needs (estimator, formula, nobs, vcov, coefficients), or is
    /// the report of an estimation that did not converge.
    pub fn from_json(text: &str) -> Result<Vec<EtableModel>> {
        let bad = |e: String| Error::model(ErrorKind::InvalidData, e);
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| bad(format!("not JSON: {e}")))?;
        let items = match value {
            serde_json::Value::Array(v) => v,
            other => vec![other],
        };
        if items.is_empty() {
            return Err(bad("an empty array: no fit report".into()));
        }
        items
            .into_iter()
            .enumerate()
            .map(|(k, v)| {
                let r: SavedReport = serde_json::from_value(v)
                    .map_err(|e| bad(format!("not a gravity fit report (item {}): {e}", k + 1)))?;
                if !r.converged {
                    return Err(bad(format!(
                        "the fit of '{}' did not converge: its numbers are not estimates",
                        r.formula
                    )));
                }
                let depvar = r.depvar.unwrap_or_else(|| {
                    r.formula
                        .split('~')
                        .next()
                        .unwrap_or_default()
                        .trim()
                        .to_owned()
                });
                Ok(EtableModel {
                    estimator: r.estimator,
                    depvar,
                    coefficients: r.coefficients,
                    lincom: r.lincom.into_iter().map(|l| l.row).collect(),
                    fixed_effects: r.fixed_effects.into_iter().map(|f| f.name).collect(),
                    nobs: r.nobs,
                    stats: r.fit_stats.unwrap_or_default(),
                    vcov: vcov_label(&r.vcov.kind, &r.vcov.clusters),
                    t_stat: r.vcov.df_t.is_some(),
                })
            })
            .collect()
    }
}

/// Several models side by side, as fixest's `etable`.
///
/// ```
/// use gravity_model::{fit, Column, Estimator, FitOptions, Formula, Frame};
/// use gravity_model::report::{Etable, Format};
/// let frame = Frame::from_columns(vec![
///     ("y".into(), Column::Numeric(vec![1.0, 3.0, 2.0, 5.0, 4.0, 9.0, 2.0, 6.0].into())),
///     ("a".into(), Column::Numeric(vec![0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0].into())),
///     ("b".into(), Column::Numeric(vec![1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0].into())),
///     ("g".into(), Column::Numeric(vec![1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0].into())),
/// ])?;
/// let options = FitOptions::default();
/// let one = fit(&frame, &Formula::parse("y ~ a")?, Estimator::Ppml, &options)?;
/// let two = fit(&frame, &Formula::parse("y ~ a + b | g")?, Estimator::Ppml, &options)?;
/// let (i1, i2) = (one.summary()?, two.summary()?);
/// let table = Etable::new(&[(&one, &i1), (&two, &i2)]);
/// let text = table.render(Format::Text);
/// assert!(text.contains("Pseudo R2"));
/// assert!(text.lines().any(|l| l.starts_with("g ") && l.contains("No") && l.contains("Yes")));
/// let latex = table.render(Format::Latex);
/// assert!(latex.contains("\\toprule") && latex.contains("\\bottomrule"));
/// # Ok::<(), gravity_model::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Etable {
    models: Vec<EtableModel>,
    coefstat: CoefStat,
    signif: [f64; 3],
    digits: usize,
    titles: Option<Vec<String>>,
}

/// One row of the table body, before layout.
#[derive(Debug, Clone, PartialEq)]
pub struct EtableRow {
    /// The block: `header`, `coef`, `lincom`, `fe` or `stats`.
    pub section: &'static str,
    /// The row's label (empty for the line below a coefficient).
    pub label: String,
    /// One cell per model; stars are `***`, `**`, `*` after the number.
    pub cells: Vec<String>,
}

impl Etable {
    /// The table of `models`, each a fit with its inference.
    pub fn new(models: &[(&Fit, &Inference)]) -> Etable {
        Etable::from_models(models.iter().map(|(f, i)| EtableModel::new(f, i)).collect())
    }

    /// The table of columns built by hand (e.g. with linear combinations,
    /// or read from saved reports).
    pub fn from_models(models: Vec<EtableModel>) -> Etable {
        Etable {
            models,
            coefstat: CoefStat::StdError,
            signif: [0.001, 0.01, 0.05],
            digits: 4,
            titles: None,
        }
    }

    /// The table of the reports saved by `gravity fit --json`, in order
    /// (each text one report or an array of them).
    ///
    /// ```
    /// use gravity_model::{fit, Column, Estimator, FitOptions, Formula, Frame};
    /// use gravity_model::report::{Etable, FitReport, Format, Timings};
    /// let frame = Frame::from_columns(vec![
    ///     ("y".into(), Column::Numeric(vec![1.0, 3.0, 2.0, 5.0, 4.0, 9.0, 2.0, 6.0].into())),
    ///     ("a".into(), Column::Numeric(vec![0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0].into())),
    ///     ("g".into(), Column::Numeric(vec![1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0].into())),
    /// ])?;
    /// let fitted = fit(&frame, &Formula::parse("y ~ a | g")?, Estimator::Ppml, &FitOptions::default())?;
    /// let inf = fitted.summary()?;
    /// let saved = serde_json::to_string(&FitReport::new(&fitted, &inf, Timings::default()))?;
    /// // The same table from the fit and from its saved report.
    /// let from_json = Etable::from_json_reports(&[saved])?;
    /// assert_eq!(from_json.render(Format::Text), Etable::new(&[(&fitted, &inf)]).render(Format::Text));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`EtableModel::from_json`].
    pub fn from_json_reports<S: AsRef<str>>(texts: &[S]) -> Result<Etable> {
        let mut models = Vec::new();
        for t in texts {
            models.extend(EtableModel::from_json(t.as_ref())?);
        }
        Ok(Etable::from_models(models))
    }

    /// What is shown below the coefficients (default: the standard error).
    #[must_use]
    pub fn coefstat(mut self, coefstat: CoefStat) -> Etable {
        self.coefstat = coefstat;
        self
    }

    /// The p-value thresholds of `***`, `**` and `*` (default
    /// `[0.001, 0.01, 0.05]`, pyfixest's and R's; fixest's etable uses
    /// `[0.01, 0.05, 0.1]`).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidOption`] unless `0 < a < b < c < 1`.
    pub fn signif(mut self, levels: [f64; 3]) -> Result<Etable> {
        let [a, b, c] = levels;
        if !(0.0 < a && a < b && b < c && c < 1.0) {
            return Err(Error::model(
                ErrorKind::InvalidOption,
                format!(
                    "significance levels must increase strictly within (0, 1), found {a}, {b}, {c}"
                ),
            ));
        }
        self.signif = levels;
        Ok(self)
    }

    /// Decimal places of the coefficients and their statistics (default 4;
    /// the R²s get one more).
    #[must_use]
    pub fn digits(mut self, digits: usize) -> Etable {
        self.digits = digits.clamp(1, 12);
        self
    }

    /// Column titles instead of `(1)`, `(2)`, … (one per model; extra or
    /// missing ones fall back to the numbers).
    #[must_use]
    pub fn titles(mut self, titles: Vec<String>) -> Etable {
        self.titles = Some(titles);
        self
    }

    /// The models, in column order.
    pub fn models(&self) -> &[EtableModel] {
        &self.models
    }

    fn stars(&self, p: f64) -> &'static str {
        if !p.is_finite() {
            ""
        } else if p < self.signif[0] {
            "***"
        } else if p < self.signif[1] {
            "**"
        } else if p < self.signif[2] {
            "*"
        } else {
            ""
        }
    }

    /// The coefficient cell and the cell below it.
    fn coef_cells(&self, c: &CoefRow) -> (String, String) {
        let d = self.digits;
        let top = format!("{}{}", number(c.estimate, d), self.stars(c.p_value));
        let below = match self.coefstat {
            CoefStat::StdError => format!("({})", number(c.std_error, d)),
            CoefStat::Statistic => format!("({})", number(c.statistic, d.clamp(2, 3))),
            CoefStat::ConfInt => {
                format!("[{}; {}]", number(c.ci_low, d), number(c.ci_high, d))
            }
        };
        (top, below)
    }

    /// The table body, row by row, before layout: the numbers a renderer
    /// prints (for checks against a peer's table).
    pub fn rows(&self) -> Vec<EtableRow> {
        let m = &self.models;
        let mut rows = Vec::new();
        let header = |label: &str, f: &dyn Fn(&EtableModel) -> String| EtableRow {
            section: "header",
            label: label.to_owned(),
            cells: m.iter().map(f).collect(),
        };
        rows.push(header("Dependent Var.:", &|x| x.depvar.clone()));
        rows.push(header("Estimator:", &|x| {
            match x.estimator {
                Estimator::Ppml => "PPML",
                Estimator::Ols => "OLS",
            }
            .to_owned()
        }));
        for (section, pick) in [
            (
                "coef",
                (|x: &EtableModel| &x.coefficients) as fn(&EtableModel) -> &Vec<CoefRow>,
            ),
            ("lincom", |x: &EtableModel| &x.lincom),
        ] {
            let mut names: Vec<&str> = Vec::new();
            for x in m {
                for c in pick(x) {
                    if !names.contains(&c.name.as_str()) {
                        names.push(&c.name);
                    }
                }
            }
            for name in names {
                let (mut top, mut below) = (Vec::new(), Vec::new());
                for x in m {
                    match pick(x).iter().find(|c| c.name == name) {
                        Some(c) => {
                            let (t, b) = self.coef_cells(c);
                            top.push(t);
                            below.push(b);
                        }
                        None => {
                            top.push(String::new());
                            below.push(String::new());
                        }
                    }
                }
                rows.push(EtableRow {
                    section,
                    label: name.to_owned(),
                    cells: top,
                });
                rows.push(EtableRow {
                    section,
                    label: String::new(),
                    cells: below,
                });
            }
        }
        let norm = |s: &str| s.replace(' ', "");
        let mut fes: Vec<String> = Vec::new();
        for x in m {
            for f in &x.fixed_effects {
                if !fes.iter().any(|g| norm(g) == norm(f)) {
                    fes.push(f.clone());
                }
            }
        }
        for f in &fes {
            rows.push(EtableRow {
                section: "fe",
                label: f.clone(),
                cells: m
                    .iter()
                    .map(|x| {
                        if x.fixed_effects.iter().any(|g| norm(g) == norm(f)) {
                            "Yes"
                        } else {
                            "No"
                        }
                        .to_owned()
                    })
                    .collect(),
            });
        }
        let stat = |label: &str, f: &dyn Fn(&EtableModel) -> String| EtableRow {
            section: "stats",
            label: label.to_owned(),
            cells: m.iter().map(f).collect(),
        };
        rows.push(stat("S.E. type", &|x| x.vcov.clone()));
        rows.push(stat("Observations", &|x| thousands(x.nobs)));
        let d = self.digits + 1;
        let opt = |v: Option<f64>| v.map_or(String::new(), |v| number(v, d));
        type Pick = fn(&FitStats) -> Option<f64>;
        let stats: [(&str, Pick); 3] = [
            ("R2", |s| s.r2),
            ("Within R2", |s| s.within_r2),
            ("Pseudo R2", |s| s.pseudo_r2),
        ];
        for (label, pick) in stats {
            if m.iter().any(|x| pick(&x.stats).is_some()) {
                rows.push(stat(label, &|x| opt(pick(&x.stats))));
            }
        }
        rows
    }

    fn titles_or_numbers(&self) -> Vec<String> {
        (0..self.models.len())
            .map(|k| {
                self.titles
                    .as_ref()
                    .and_then(|t| t.get(k).cloned())
                    .unwrap_or_else(|| format!("({})", k + 1))
            })
            .collect()
    }

    /// The note below the table: what is in parentheses, the stars.
    fn note(&self) -> (String, String) {
        let all_t = self.models.iter().all(|m| m.t_stat);
        let all_z = self.models.iter().all(|m| !m.t_stat);
        let stat = if all_t {
            "t statistics"
        } else if all_z {
            "z statistics"
        } else {
            "t (OLS) and z (PPML) statistics"
        };
        let what = match self.coefstat {
            CoefStat::StdError => "Standard errors in parentheses".to_owned(),
            CoefStat::Statistic => format!("{} in parentheses", capitalise(stat)),
            CoefStat::ConfInt => "95% confidence intervals in brackets".to_owned(),
        };
        let [a, b, c] = self.signif;
        (what, format!("Signif. codes: ***: {a}, **: {b}, *: {c}"))
    }

    /// The table as `format`.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Text => self.render_text(),
            Format::Markdown => self.render_markdown(),
            Format::Latex => self.render_latex(),
        }
    }

    fn render_text(&self) -> String {
        let rows = self.rows();
        let k = self.models.len();
        let titles = self.titles_or_numbers();
        // Stars take three characters after every number, so that the
        // decimal points line up; the line below a coefficient ends with
        // ')' or ']', one of them.
        let cell = |r: &EtableRow, s: &str| -> String {
            if s.is_empty() {
                return String::new();
            }
            if r.section == "coef" || r.section == "lincom" {
                if r.label.is_empty() {
                    format!("{s}  ")
                } else {
                    let stars = s.chars().rev().take_while(|c| *c == '*').count();
                    format!("{s}{}", " ".repeat(3 - stars.min(3)))
                }
            } else {
                s.to_owned()
            }
        };
        let label_w = rows
            .iter()
            .map(|r| r.label.chars().count())
            .chain(["Linear combinations:".len(), "Fixed-Effects:".len()])
            .max()
            .unwrap_or(0);
        let mut widths: Vec<usize> = titles.iter().map(|t| t.chars().count()).collect();
        for r in &rows {
            for (j, c) in r.cells.iter().enumerate() {
                widths[j] = widths[j].max(cell(r, c).chars().count());
            }
        }
        let line = |label: &str, cells: &[String]| -> String {
            let mut s = format!("{label:<label_w$}");
            for (j, c) in cells.iter().enumerate() {
                let w = widths[j];
                s.push_str(&format!("  {c:>w$}"));
            }
            s.trim_end().to_owned()
        };
        let rule = |label: &str, ch: char| -> String {
            let cells: Vec<String> = widths.iter().map(|w| ch.to_string().repeat(*w)).collect();
            line(label, &cells)
        };
        let mut out = Vec::new();
        out.push(line("", &titles));
        let mut last = "header";
        for r in &rows {
            if r.section != last {
                match r.section {
                    "coef" => out.push(String::new()),
                    "lincom" => out.push(rule("Linear combinations:", '-')),
                    "fe" => out.push(rule("Fixed-Effects:", '-')),
                    "stats" => out.push(rule(&"_".repeat(label_w), '_')),
                    _ => {}
                }
                last = r.section;
            }
            let cells: Vec<String> = r.cells.iter().map(|c| cell(r, c)).collect();
            out.push(line(&r.label, &cells));
        }
        let (what, codes) = self.note();
        out.push("---".to_owned());
        out.push(format!("{what}. {codes}"));
        let _ = k;
        out.join("\n") + "\n"
    }

    fn render_markdown(&self) -> String {
        let esc = |s: &str| s.replace('|', "\\|").replace('*', "\\*");
        let titles = self.titles_or_numbers();
        let mut out = Vec::new();
        let head: Vec<String> = titles.iter().map(|t| esc(t)).collect();
        out.push(format!("| | {} |", head.join(" | ")));
        out.push(format!(
            "|:---|{}",
            titles.iter().map(|_| ":---:|").collect::<String>()
        ));
        let empty = vec![String::new(); titles.len()];
        let mut last = "header";
        for r in self.rows() {
            if r.section != last {
                let heading = match r.section {
                    "lincom" => Some("*Linear combinations*"),
                    "fe" => Some("*Fixed effects*"),
                    _ => None,
                };
                if let Some(h) = heading {
                    out.push(format!("| {h} | {} |", empty.join(" | ")));
                }
                last = r.section;
            }
            let cells: Vec<String> = r.cells.iter().map(|c| esc(c)).collect();
            out.push(format!("| {} | {} |", esc(&r.label), cells.join(" | ")));
        }
        let (what, codes) = self.note();
        out.push(String::new());
        out.push(esc(&format!("{what}. {codes}")));
        out.join("\n") + "\n"
    }

    fn render_latex(&self) -> String {
        let titles = self.titles_or_numbers();
        let k = titles.len();
        let num = |s: &str| -> String {
            // Stars as superscripts, minus signs as math minus.
            let stars = s.chars().rev().take_while(|c| *c == '*').count();
            let (body, st) = s.split_at(s.len() - stars);
            let body = latex_escape(body).replace('-', "$-$");
            if stars > 0 {
                format!("{body}$^{{{st}}}$")
            } else {
                body
            }
        };
        let mut out = vec![
            "% Written by gravity (gravity-model): a regression table in the style of fixest's \
             etable."
                .to_owned(),
            "% Needs \\usepackage{booktabs} in the preamble.".to_owned(),
            "\\begin{table}[htbp]".to_owned(),
            "\\centering".to_owned(),
            format!("\\begin{{tabular}}{{l*{{{k}}}{{c}}}}"),
            "\\toprule".to_owned(),
        ];
        let row = |label: &str, cells: Vec<String>| format!("{label} & {} \\\\", cells.join(" & "));
        out.push(row("", titles.iter().map(|t| latex_escape(t)).collect()));
        let empty = vec![String::new(); k];
        let mut last = "header";
        for r in self.rows() {
            if r.section != last {
                out.push("\\midrule".to_owned());
                match r.section {
                    "lincom" => out.push(row("\\emph{Linear combinations}", empty.clone())),
                    "fe" => out.push(row("\\emph{Fixed effects}", empty.clone())),
                    _ => {}
                }
                last = r.section;
            }
            let cells: Vec<String> = match r.section {
                "coef" | "lincom" | "stats" => r.cells.iter().map(|c| num(c)).collect(),
                _ => r.cells.iter().map(|c| latex_escape(c)).collect(),
            };
            let label = match r.label.as_str() {
                "R2" => "R$^2$".to_owned(),
                "Within R2" => "Within R$^2$".to_owned(),
                "Pseudo R2" => "Pseudo R$^2$".to_owned(),
                other => latex_escape(other),
            };
            out.push(row(&label, cells));
        }
        out.push("\\bottomrule".to_owned());
        out.push("\\end{tabular}".to_owned());
        let (what, codes) = self.note();
        let codes = codes
            .replace("***", "$^{***}$")
            .replace("**:", "$^{**}$:")
            .replace(" *:", " $^{*}$:");
        out.push(format!(
            "\\par\\smallskip{{\\footnotesize {}.\\\\ {}}}",
            latex_escape(&what),
            codes
        ));
        out.push("\\end{table}".to_owned());
        out.join("\n") + "\n"
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// Text made safe for LaTeX: `\ { } _ ^ & % # $ ~` escaped.
pub(crate) fn latex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\textbackslash{}"),
            '{' => out.push_str("\\{"),
            '}' => out.push_str("\\}"),
            '_' => out.push_str("\\_"),
            '^' => out.push_str("\\^{}"),
            '&' => out.push_str("\\&"),
            '%' => out.push_str("\\%"),
            '#' => out.push_str("\\#"),
            '$' => out.push_str("\\$"),
            '~' => out.push_str("\\textasciitilde{}"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(est: Estimator, coefs: &[(&str, f64, f64, f64)], fe: &[&str]) -> EtableModel {
        EtableModel {
            estimator: est,
            depvar: "trade".into(),
            coefficients: coefs
                .iter()
                .map(|(n, b, se, p)| CoefRow {
                    name: (*n).into(),
                    estimate: *b,
                    std_error: *se,
                    statistic: b / se,
                    p_value: *p,
                    ci_low: b - 1.96 * se,
                    ci_high: b + 1.96 * se,
                    problem: None,
                })
                .collect(),
            lincom: vec![],
            fixed_effects: fe.iter().map(|s| (*s).to_owned()).collect(),
            nobs: 28482,
            stats: FitStats {
                pseudo_r2: Some(0.99669),
                ..FitStats::default()
            },
            vcov: "by: cluster_pair".into(),
            t_stat: false,
        }
    }

    fn table() -> Etable {
        Etable::from_models(vec![
            model(
                Estimator::Ppml,
                &[("rta", 0.5572, 0.1084, 2e-7)],
                &["exporter^year", "pair_sym"],
            ),
            model(
                Estimator::Ppml,
                &[
                    ("rta", 0.2914, 0.0946, 0.002),
                    ("rta_lag4", -0.41, 0.07, 0.03),
                ],
                &["exporter^year"],
            ),
        ])
    }

    #[test]
    fn rows_align_models_and_mark_fixed_effects() {
        let rows = table().rows();
        let get = |label: &str| {
            rows.iter()
                .find(|r| r.label == label)
                .unwrap()
                .cells
                .clone()
        };
        assert_eq!(get("rta"), vec!["0.5572***", "0.2914**"]);
        assert_eq!(get("rta_lag4"), vec!["", "-0.4100*"]);
        assert_eq!(get("pair_sym"), vec!["Yes", "No"]);
        assert_eq!(get("Observations"), vec!["28,482", "28,482"]);
        assert_eq!(get("Pseudo R2"), vec!["0.99669", "0.99669"]);
        assert!(!rows.iter().any(|r| r.label == "R2"));
        let below = &rows[rows.iter().position(|r| r.label == "rta").unwrap() + 1];
        assert_eq!(below.cells, vec!["(0.1084)", "(0.0946)"]);
    }

    #[test]
    fn text_lines_up_decimal_points() {
        let text = table().render(Format::Text);
        let line = |start: &str| text.lines().find(|l| l.starts_with(start)).unwrap();
        let rta = line("rta ");
        let se = text
            .lines()
            .skip_while(|l| !l.starts_with("rta "))
            .nth(1)
            .unwrap();
        assert_eq!(rta.find("0.5572").unwrap(), se.find("0.1084").unwrap());
        assert!(text.contains("Fixed-Effects:"));
        assert!(text.ends_with("Signif. codes: ***: 0.001, **: 0.01, *: 0.05\n"));
    }

    #[test]
    fn latex_escapes_and_marks_stars() {
        let tex = table().render(Format::Latex);
        assert!(tex.contains("exporter\\^{}year & Yes & Yes \\\\"), "{tex}");
        assert!(tex.contains("pair\\_sym & Yes & No \\\\"), "{tex}");
        assert!(tex.contains("0.5572$^{***}$"), "{tex}");
        assert!(tex.contains("$-$0.4100$^{*}$"), "{tex}");
        assert!(tex.contains("by: cluster\\_pair"), "{tex}");
        assert!(tex.contains("\\begin{tabular}{l*{2}{c}}"));
        assert_eq!(
            latex_escape("a_b^c & 5% #1 $x {y} ~ \\"),
            "a\\_b\\^{}c \\& 5\\% \\#1 \\$x \\{y\\} \\textasciitilde{} \\textbackslash{}"
        );
    }

    #[test]
    fn markdown_escapes_stars_and_pipes() {
        let md = table().render(Format::Markdown);
        assert!(
            md.contains("| rta | 0.5572\\*\\*\\* | 0.2914\\*\\* |"),
            "{md}"
        );
        assert!(md.contains("| pair_sym | Yes | No |"), "{md}");
    }

    #[test]
    fn options() {
        let t = table().coefstat(CoefStat::ConfInt).digits(2);
        let rows = t.rows();
        assert_eq!(rows[3].cells[0], "[0.34; 0.77]");
        let t = table().signif([0.01, 0.05, 0.1]).unwrap();
        assert_eq!(t.rows()[2].cells, vec!["0.5572***", "0.2914***"]);
        assert!(table().signif([0.05, 0.01, 0.1]).is_err());
        assert_eq!(Format::parse("md").unwrap(), Format::Markdown);
        assert!(Format::parse("html").is_err());
        assert_eq!(CoefStat::parse("tstat").unwrap(), CoefStat::Statistic);
    }
}
