//! Inference and tables (issue 15): the `gravity fit` flags `--lincom`,
//! `--wald`, `--table`, `--save-fe` and their output, and the `gravity
//! table` subcommand. Everything is computed by the library
//! (`Inference::lincom`, `Inference::wald`, `report::Etable`,
//! `report::write_fixed_effects_csv`); this file only reads arguments and
//! writes files.

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use gravity_model::report::{CoefStat, Etable, EtableModel, FitReport, Format, Table, Timings};
use gravity_model::{Fit, Inference, Lincom, LinearCombination, WaldTest};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    /// Aligned plain text.
    Text,
    /// A Markdown pipe table.
    Markdown,
    /// A LaTeX table (booktabs).
    Latex,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Text => Format::Text,
            FormatArg::Markdown => Format::Markdown,
            FormatArg::Latex => Format::Latex,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CoefStatArg {
    /// Standard errors in parentheses.
    Se,
    /// t or z statistics in parentheses.
    Tstat,
    /// 95% confidence intervals in brackets.
    Confint,
}

/// How a multi-model table looks (`gravity fit --table`, `gravity table`).
#[derive(Args, Debug, Clone)]
pub struct StyleArgs {
    /// Below each coefficient: se, tstat or confint (fixest's coefstat).
    #[arg(long, value_enum, default_value = "se")]
    pub coefstat: CoefStatArg,
    /// Decimal places of the coefficients (the R²s get one more).
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub digits: usize,
    /// P-value thresholds of ***, ** and *, increasing (fixest's etable: 0.01,0.05,0.1).
    #[arg(long, default_value = "0.001,0.01,0.05", value_name = "A,B,C")]
    pub signif: String,
}

impl StyleArgs {
    fn apply(&self, table: Etable) -> Result<Etable> {
        let levels: Vec<f64> = self
            .signif
            .split(',')
            .map(|s| s.trim().parse::<f64>())
            .collect::<std::result::Result<_, _>>()
            .with_context(|| {
                format!("--signif must be three numbers, found \"{}\"", self.signif)
            })?;
        let [a, b, c] = levels[..] else {
            anyhow::bail!("--signif must be three numbers, found \"{}\"", self.signif);
        };
        if !(1..=12).contains(&self.digits) {
            anyhow::bail!("--digits must be between 1 and 12, found {}", self.digits);
        }
        Ok(table
            .coefstat(match self.coefstat {
                CoefStatArg::Se => CoefStat::StdError,
                CoefStatArg::Tstat => CoefStat::Statistic,
                CoefStatArg::Confint => CoefStat::ConfInt,
            })
            .digits(self.digits)
            .signif([a, b, c])?)
    }
}

/// The `gravity fit` flags of issue 15, flattened into `FitArgs`.
#[derive(Args, Debug)]
pub struct TableArgs {
    /// A linear combination of the coefficients, NAME=EXPR, e.g.
    /// "total=rta + rta_lag4 + 2*rta_lag8"; names with spaces or parentheses in backticks.
    /// Repeatable.
    #[arg(long, value_name = "NAME=EXPR")]
    pub lincom: Vec<String>,
    /// A Wald test that the coefficients VAR,VAR,... are jointly zero (fixest's wald()).
    /// Repeatable.
    #[arg(long, value_name = "VAR,VAR,...")]
    pub wald: Vec<String>,
    /// Print the model as a regression table (etable style) in this format instead of the
    /// coefficient table.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub table: Option<FormatArg>,
    #[command(flatten)]
    pub style: StyleArgs,
    /// Write the estimated fixed effects to a CSV file: dimension,level,estimate (the
    /// normalisation is stated in its header).
    #[arg(long, value_name = "FILE")]
    pub save_fe: Option<PathBuf>,
}

impl TableArgs {
    /// Checks what can be checked before the fit: the expressions parse,
    /// the style is valid, the output path is not an input.
    pub fn check(&self, data: &Path) -> Result<Vec<LinearCombination>> {
        if let Some(path) = &self.save_fe {
            gravity_model::output::check_output(path, &[data])
                .with_context(|| format!("--save-fe {}", path.display()))?;
        }
        self.style.apply(Etable::from_models(Vec::new()))?;
        self.lincom
            .iter()
            .map(|s| LinearCombination::parse(s).map_err(anyhow::Error::from))
            .collect()
    }

    /// The linear combinations and Wald tests on `inf`.
    pub fn tests(
        &self,
        inf: &Inference,
        combinations: &[LinearCombination],
    ) -> Result<(Vec<Lincom>, Vec<WaldTest>)> {
        let lincom = combinations
            .iter()
            .map(|c| inf.lincom(c))
            .collect::<gravity_model::Result<Vec<_>>>()?;
        let wald = self
            .wald
            .iter()
            .map(|list| {
                let names: Vec<&str> = list.split(',').map(str::trim).collect();
                inf.wald(&names)
            })
            .collect::<gravity_model::Result<Vec<_>>>()?;
        Ok((lincom, wald))
    }

    /// Writes `--save-fe`, if asked.
    pub fn save_fixed_effects(&self, fit: &Fit) -> Result<()> {
        let Some(path) = &self.save_fe else {
            return Ok(());
        };
        if fit.fixed_effect_dims().is_empty() {
            anyhow::bail!("--save-fe: the model has no fixed effects");
        }
        let fe = fit.fixed_effects()?;
        gravity_model::output::write_atomic(path, |w| {
            gravity_model::report::write_fixed_effects_csv(w, fit, &fe)
        })
        .context("cannot write --save-fe")?;
        Ok(())
    }

    /// Prints the result: the JSON report, the regression table, or the
    /// coefficient table, each with the tests.
    pub fn print(
        &self,
        out: &mut dyn Write,
        json: bool,
        fit: &Fit,
        inf: &Inference,
        tests: (Vec<Lincom>, Vec<WaldTest>),
        timings: Timings,
    ) -> Result<()> {
        let (lincom, wald) = tests;
        if json {
            let report = FitReport::new(fit, inf, timings).with_tests(lincom, wald);
            serde_json::to_writer_pretty(&mut *out, &report)?;
            writeln!(out)?;
        } else if let Some(format) = self.table {
            let model = EtableModel::new(fit, inf).with_lincom(&lincom);
            let table = self.style.apply(Etable::from_models(vec![model]))?;
            write!(out, "{}", table.render(format.into()))?;
            for t in &wald {
                writeln!(out, "{}", wald_line(t, format.into()))?;
            }
        } else {
            write!(out, "{}", Table::new(fit, inf).lincom(&lincom).wald(&wald))?;
        }
        Ok(())
    }
}

impl TableArgs {
    /// Prints several models of one formula (`sw()`, `csw()`, `c()`): one
    /// regression table with the models side by side (text unless `--table`
    /// says otherwise), or a JSON array of reports; each model gets the
    /// `--lincom` and `--wald` tests that its coefficients allow.
    pub fn print_many(
        &self,
        out: &mut dyn Write,
        json: bool,
        fits: &[(Fit, Inference, Timings)],
        combinations: &[LinearCombination],
    ) -> Result<()> {
        let mut tested = Vec::with_capacity(fits.len());
        for (k, (_, inf, _)) in fits.iter().enumerate() {
            tested.push(
                self.tests(inf, combinations)
                    .with_context(|| format!("model {}", k + 1))?,
            );
        }
        if json {
            let reports: Vec<FitReport> = fits
                .iter()
                .zip(tested)
                .map(|((f, i, t), (l, w))| FitReport::new(f, i, *t).with_tests(l, w))
                .collect();
            serde_json::to_writer_pretty(&mut *out, &reports)?;
            writeln!(out)?;
            return Ok(());
        }
        let format: Format = self.table.unwrap_or(FormatArg::Text).into();
        let models: Vec<EtableModel> = fits
            .iter()
            .zip(&tested)
            .map(|((f, i, _), (l, _))| EtableModel::new(f, i).with_lincom(l))
            .collect();
        let table = self.style.apply(Etable::from_models(models))?;
        write!(out, "{}", table.render(format))?;
        for (k, (_, w)) in tested.iter().enumerate() {
            for t in w {
                writeln!(out, "({}) {}", k + 1, wald_line(t, format))?;
            }
        }
        Ok(())
    }
}

/// A Wald test below a table (a LaTeX comment in LaTeX).
fn wald_line(t: &WaldTest, format: Format) -> String {
    let df = match t.df2 {
        Some(d) => format!("F({}, {d})", t.df1),
        None => format!("chi2({})", t.df1),
    };
    let text = format!(
        "Wald test of {}: stat = {:.4}, p = {:.3e}, {df}, VCOV {}",
        t.coefficients.join(", "),
        t.stat,
        t.p,
        t.vcov
    );
    match format {
        Format::Latex => format!("% {text}"),
        _ => text,
    }
}

/// Combine fits saved with `gravity fit --json` into one regression table.
#[derive(Args, Debug)]
pub struct TableCmdArgs {
    /// JSON reports written by `gravity fit --json` (each one fit, or an array of fits), in
    /// column order.
    #[arg(required = true, value_name = "JSON")]
    pub reports: Vec<PathBuf>,
    /// Output format.
    #[arg(
        long = "format",
        visible_alias = "table",
        value_enum,
        default_value = "text"
    )]
    pub format: FormatArg,
    #[command(flatten)]
    pub style: StyleArgs,
    /// Column titles, comma-separated (default (1), (2), ...).
    #[arg(long, value_name = "A,B,...")]
    pub titles: Option<String>,
    /// Write the table to FILE (atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

pub fn run_table(args: TableCmdArgs) -> Result<()> {
    if let Some(path) = &args.out {
        let inputs: Vec<&Path> = args.reports.iter().map(PathBuf::as_path).collect();
        gravity_model::output::check_output(path, &inputs)
            .with_context(|| format!("--out {}", path.display()))?;
    }
    let mut models = Vec::new();
    for path in &args.reports {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        models.extend(EtableModel::from_json(&text).with_context(|| path.display().to_string())?);
    }
    let mut table = args.style.apply(Etable::from_models(models))?;
    if let Some(t) = &args.titles {
        table = table.titles(t.split(',').map(|s| s.trim().to_owned()).collect());
    }
    let text = table.render(args.format.into());
    match &args.out {
        Some(path) => gravity_model::output::write_atomic(path, |w| w.write_all(text.as_bytes()))
            .context("cannot write --out")?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
        }
    }
    Ok(())
}
