//! `gravity fit`.

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use gravity_model::formula::subset::Subset;
use gravity_model::report::Timings;
use gravity_model::terms::PanelSpec;
use gravity_model::LinearCombination;
use gravity_model::{
    fit, ColumnKind, ColumnRequest, CsvOptions, Error, Estimator, FitOptions, FixefRm, Formula,
    Frame, SmallSample, VcovSpec,
};
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum EstimatorArg {
    /// Poisson pseudo-maximum likelihood.
    Ppml,
    /// Ordinary least squares.
    Ols,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SscArg {
    /// fixest / pyfixest conventions.
    Fixest,
    /// ppmlhdfe conventions.
    Ppmlhdfe,
}

/// Estimate a model on a panel (CSV, Stata .dta or Parquet).
#[derive(Args, Debug)]
pub struct FitArgs {
    /// Data file: CSV (header row; gzip-compressed read transparently), Stata .dta or Parquet,
    /// chosen by content.
    #[arg(long, value_name = "FILE")]
    pub data: PathBuf,
    /// Model formula in fixest syntax, e.g.
    /// "trade ~ fta + sanction | exporter^year + importer^year + exporter^importer".
    #[arg(long, value_name = "FORMULA")]
    pub formula: String,
    /// Estimator.
    #[arg(long, value_enum, default_value = "ppml")]
    pub estimator: EstimatorArg,
    /// Variance estimator: iid, hetero (or HC1), twoway (clustered by the first two fixed
    /// effects, as fixest), or cluster:VAR or cluster:VAR1,VAR2,... (each VAR may be an
    /// interaction such as exporter^importer; two or more variables give
    /// multi-way clustering).
    #[arg(long, default_value = "hetero", value_name = "SPEC")]
    pub vcov: String,
    /// Small-sample conventions: fixest (its defaults) or ppmlhdfe.
    #[arg(long, value_enum, default_value = "fixest")]
    pub ssc: SscArg,
    /// Column of prior weights.
    #[arg(long, value_name = "VAR")]
    pub weights: Option<String>,
    /// Column added to the linear predictor with coefficient one.
    #[arg(long, value_name = "VAR")]
    pub offset: Option<String>,
    /// Convergence tolerance on the relative change in deviance.
    #[arg(long, default_value_t = 1e-8, value_name = "X")]
    pub tol: f64,
    /// Maximum number of IRLS iterations.
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub max_iter: usize,
    /// Field delimiter of the CSV file (one character).
    #[arg(long, default_value = ",", value_name = "CHAR")]
    pub delimiter: String,
    /// Skip the separation checks (PPML).
    #[arg(long)]
    pub no_separation: bool,
    /// Keep singleton observations.
    #[arg(long)]
    pub keep_singletons: bool,
    /// Number of threads, 1 to 1024 (default: all cores). Results do not depend on it.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Largest input accepted, in bytes after decompression (default 64G);
    /// suffixes K, M, G (powers of 1024) allowed.
    #[arg(long, value_name = "BYTES", value_parser = parse_bytes)]
    pub max_bytes: Option<u64>,
    /// Longest field accepted, in bytes (default 1M); suffixes K, M, G allowed.
    #[arg(long, value_name = "BYTES", value_parser = parse_bytes)]
    pub max_field_bytes: Option<u64>,
    /// Print one JSON object on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Write a CSV with one line per data row: row, status (used, missing,
    /// singleton, separated, excluded) and fitted value.
    #[arg(long, value_name = "FILE")]
    pub save_sample: Option<PathBuf>,
    /// The panel that leads, lags and differences follow (fixest's
    /// panel.id): UNIT,TIME, e.g. exporter^importer,year. l(x, 4) is x of
    /// the same unit 4 time units earlier (missing if that period is absent).
    #[arg(long, value_name = "UNIT,TIME")]
    pub panel: Option<String>,
    /// Estimate on the rows where this condition holds, e.g.
    /// "year >= 2000 & exporter != importer" (comparisons == != < <= > >=,
    /// & | ! and parentheses; text in quotes). Other rows are counted as
    /// excluded.
    #[arg(long, value_name = "EXPR")]
    pub subset: Option<String>,
    /// Inference and tables: --lincom, --wald, --table, --save-fe (crate::tables).
    #[command(flatten)]
    pub tables: crate::tables::TableArgs,
}

/// Most threads `--threads` accepts.
pub const MAX_THREADS: usize = 1024;

/// A size in bytes: digits with an optional K, M or G suffix (powers of 1024).
fn parse_bytes(text: &str) -> std::result::Result<u64, String> {
    let t = text.trim();
    let (digits, unit) = match t.char_indices().last() {
        Some((k, c)) if c.is_ascii_alphabetic() => (&t[..k], c.to_ascii_uppercase()),
        _ => (t, 'B'),
    };
    let shift = match unit {
        'B' => 0,
        'K' => 10,
        'M' => 20,
        'G' => 30,
        _ => return Err(format!("unknown unit '{unit}': use K, M or G")),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("expected a number of bytes such as 100M, found \"{text}\""))?;
    match n.checked_mul(1u64 << shift) {
        Some(v) if v > 0 => Ok(v),
        Some(_) => Err("must be at least 1 byte".to_owned()),
        None => Err(format!("{text} is too large")),
    }
}

/// Checks the numeric options, each with the rule and the value that broke it.
fn check_options(args: &FitArgs) -> Result<()> {
    if !(args.tol > 0.0 && args.tol < 1.0) {
        anyhow::bail!(
            "--tol must be greater than 0 and less than 1, found {}",
            args.tol
        );
    }
    if args.max_iter < 1 {
        anyhow::bail!("--max-iter must be at least 1, found {}", args.max_iter);
    }
    if let Some(t) = args.threads {
        if !(1..=MAX_THREADS).contains(&t) {
            anyhow::bail!("--threads must be between 1 and {MAX_THREADS}, found {t}");
        }
    }
    Ok(())
}

pub fn run(args: FitArgs) -> Result<()> {
    check_options(&args)?;
    if let Some(path) = &args.save_sample {
        gravity_model::output::check_output(path, &[&args.data])
            .with_context(|| format!("--save-sample {}", path.display()))?;
    }
    let pool = {
        let mut b = rayon::ThreadPoolBuilder::new();
        if let Some(t) = args.threads {
            b = b.num_threads(t);
        }
        b.build().context("cannot start the thread pool")?
    };
    pool.install(|| run_inner(&args))
}

fn run_inner(args: &FitArgs) -> Result<()> {
    let t0 = Instant::now();
    let delimiter = match args.delimiter.as_bytes() {
        [b] => *b,
        b"\\t" => b'\t',
        _ => anyhow::bail!(
            "--delimiter must be one character, found \"{}\"",
            args.delimiter
        ),
    };
    let estimator = match args.estimator {
        EstimatorArg::Ppml => Estimator::Ppml,
        EstimatorArg::Ols => Estimator::Ols,
    };
    let ssc = match args.ssc {
        SscArg::Fixest => SmallSample::fixest(),
        SscArg::Ppmlhdfe => SmallSample::ppmlhdfe(),
    };
    let vcov = VcovSpec::parse(&args.vcov)?;
    let formula = Formula::parse(&args.formula)?;
    let panel = args.panel.as_deref().map(PanelSpec::parse).transpose()?;
    let subset = args.subset.as_deref().map(Subset::parse).transpose()?;
    // Inference and tables: checked before any work (crate::tables).
    let combinations = args.tables.check(&args.data)?;
    let mut csv = CsvOptions {
        delimiter,
        ..CsvOptions::default()
    };
    if let Some(n) = args.max_bytes {
        csv.max_total_bytes = n;
    }
    if let Some(n) = args.max_field_bytes {
        csv.max_field_bytes = usize::try_from(n).unwrap_or(usize::MAX);
    }
    let response_kind = match estimator {
        Estimator::Ppml => ColumnKind::NonNegative,
        Estimator::Ols => ColumnKind::Numeric,
    };
    let clusters: Vec<String> = vcov.clusters().to_vec();
    // Header and rows come from one read of the file: the columns to read
    // are chosen once the header is known.
    let frame = Frame::read_path_with(&args.data, &csv, |header| {
        formula.check_columns(header)?;
        let mut requests = formula.columns(response_kind);
        let mut extra = |name: &str, kind: ColumnKind, what: &str| -> gravity_model::Result<()> {
            if !header.iter().any(|h| h == name) {
                return Err(Error::data(
                    gravity_model::Location::new(Some(args.data.clone()), Some(1), Some(name)),
                    format!("unknown column '{name}' given as {what}"),
                ));
            }
            if !requests.iter().any(|r| r.name == name) {
                requests.push(ColumnRequest {
                    name: name.to_owned(),
                    kind,
                });
            }
            Ok(())
        };
        if let Some(w) = &args.weights {
            extra(w, ColumnKind::Numeric, "--weights")?;
        }
        if let Some(o) = &args.offset {
            extra(o, ColumnKind::Numeric, "--offset")?;
        }
        for c in &clusters {
            for part in c.split('^') {
                extra(part.trim(), ColumnKind::Factor, "a cluster variable")?;
            }
        }
        if let Some(p) = &panel {
            for part in p.unit.split('^') {
                extra(part, ColumnKind::Factor, "the --panel unit")?;
            }
            extra(&p.time, ColumnKind::Numeric, "the --panel time")?;
            // The time is read as numbers even if a fixed effect uses it
            // (the fixed effect converts numbers to levels).
            if let Some(r) = requests.iter_mut().find(|r| r.name == p.time) {
                if r.kind == ColumnKind::Factor || r.kind == ColumnKind::Auto {
                    r.kind = ColumnKind::Numeric;
                }
            }
        } else if formula.uses_panel() {
            panel_needed_error(&formula)?;
        }
        if let Some(s) = &subset {
            for t in s.terms() {
                if !header.contains(&t.name) {
                    return Err(Error::formula(
                        &s.text,
                        t.start,
                        t.len,
                        format!("unknown column '{}' in --subset", t.name),
                        None,
                    ));
                }
                if !requests.iter().any(|r| r.name == t.name) {
                    requests.push(ColumnRequest {
                        name: t.name.clone(),
                        kind: ColumnKind::Auto,
                    });
                }
            }
        }
        Ok(Some(requests))
    })?;
    let load_s = t0.elapsed().as_secs_f64();

    let mut options = FitOptions::default()
        .irls_tol(args.tol)
        .irls_max_iter(args.max_iter)
        .fixef_rm(match (args.no_separation, args.keep_singletons) {
            (false, false) => FixefRm::Both,
            (false, true) => FixefRm::Perfect,
            (true, false) => FixefRm::Singleton,
            (true, true) => FixefRm::None,
        })
        .separation_ir(!args.no_separation)
        .vcov(vcov.clone())
        .ssc(ssc);
    options.weights = args.weights.clone();
    options.offset = args.offset.clone();
    options.panel = panel;
    options.subset = subset;
    let models = formula.expand();
    if models.len() > 1 {
        return run_models(
            args,
            &frame,
            &models,
            estimator,
            &options,
            &combinations,
            t0,
            load_s,
        );
    }
    let t1 = Instant::now();
    let fitted = fit(&frame, &formula, estimator, &options)?;
    let fit_s = t1.elapsed().as_secs_f64();
    let t2 = Instant::now();
    let inference = fitted.inference(&vcov, ssc)?;
    let tests = args.tables.tests(&inference, &combinations)?;
    let inference_s = t2.elapsed().as_secs_f64();

    if let Some(path) = &args.save_sample {
        write_sample(path, &fitted).context("cannot write --save-sample")?;
    }
    args.tables.save_fixed_effects(&fitted)?;
    for note in fitted.notes.iter().chain(&inference.notes) {
        eprintln!("note: {note}");
    }
    print_dropped(&fitted, "");
    let timings = Timings {
        load_s,
        prepare_s: (fit_s - fitted.info.seconds).max(0.0),
        estimate_s: fitted.info.seconds,
        inference_s,
        total_s: t0.elapsed().as_secs_f64(),
    };
    let mut out = std::io::stdout().lock();
    args.tables
        .print(&mut out, args.json, &fitted, &inference, tests, timings)?;
    if !fitted.info.converged {
        anyhow::bail!(
            "the estimation did not converge ({:?} after {} iterations); the numbers above are not estimates",
            fitted.info.termination,
            fitted.info.iterations
        );
    }
    Ok(())
}

/// The error for a lag without `--panel`, as the library words it.
fn panel_needed_error(formula: &Formula) -> gravity_model::Result<()> {
    let r = formula.regressors.iter().find(|r| r.term.uses_panel());
    let (start, len, name) = r.map_or((0, 0, String::new()), |r| (r.start, r.len, r.name()));
    Err(Error::formula(
        &formula.text,
        start,
        len,
        format!("'{name}' needs the panel's unit and time"),
        Some("give them with --panel UNIT,TIME, e.g. --panel exporter^importer,year".into()),
    ))
}

/// The notes on rows dropped for missing values and by `--subset`.
fn print_dropped(fitted: &gravity_model::Fit, prefix: &str) {
    if fitted.sample.dropped.missing > 0 {
        eprintln!(
            "note: {prefix}{} rows dropped because of missing values",
            fitted.sample.dropped.missing
        );
    }
    if fitted.sample.dropped.excluded > 0 {
        eprintln!(
            "note: {prefix}{} rows outside --subset excluded",
            fitted.sample.dropped.excluded
        );
    }
}

/// Several models from one formula (`sw()`, `csw()`, `c()`): each is
/// estimated on the same data, the fixed effects set up once for all
/// (`gravity_model::Fitter`), and printed in turn (one JSON array with
/// `--json`).
#[allow(clippy::too_many_arguments)]
fn run_models(
    args: &FitArgs,
    frame: &Frame,
    models: &[Formula],
    estimator: Estimator,
    options: &FitOptions,
    combinations: &[LinearCombination],
    t0: Instant,
    load_s: f64,
) -> Result<()> {
    if args.save_sample.is_some() {
        anyhow::bail!(
            "--save-sample takes one model; the formula holds {}",
            models.len()
        );
    }
    let mut fits = Vec::with_capacity(models.len());
    // One fixed-effect set-up for all the models (gravity_model::Fitter).
    let mut fitter = gravity_model::Fitter::new(frame);
    for (k, model) in models.iter().enumerate() {
        let t1 = Instant::now();
        let fitted = fitter
            .fit(model, estimator, options)
            .with_context(|| format!("model {} ({model})", k + 1))?;
        let fit_s = t1.elapsed().as_secs_f64();
        let t2 = Instant::now();
        let inference = fitted
            .summary()
            .with_context(|| format!("model {} ({model})", k + 1))?;
        let inference_s = t2.elapsed().as_secs_f64();
        for note in fitted.notes.iter().chain(&inference.notes) {
            eprintln!("note: model {}: {note}", k + 1);
        }
        print_dropped(&fitted, &format!("model {}: ", k + 1));
        let timings = Timings {
            load_s: if k == 0 { load_s } else { 0.0 },
            prepare_s: (fit_s - fitted.info.seconds).max(0.0),
            estimate_s: fitted.info.seconds,
            inference_s,
            total_s: t0.elapsed().as_secs_f64(),
        };
        fits.push((fitted, inference, timings));
    }
    let mut out = std::io::stdout().lock();
    args.tables
        .print_many(&mut out, args.json, &fits, combinations)?;
    if let Some((k, (f, _, _))) = fits
        .iter()
        .enumerate()
        .find(|(_, (f, _, _))| !f.info.converged)
    {
        anyhow::bail!(
            "model {} did not converge ({:?} after {} iterations); its numbers are not estimates",
            k + 1,
            f.info.termination,
            f.info.iterations
        );
    }
    Ok(())
}

fn write_sample(path: &std::path::Path, fit: &gravity_model::Fit) -> gravity_model::Result<()> {
    gravity_model::output::write_atomic(path, |w| {
        writeln!(w, "row,status,fitted")?;
        let fitted = fit.fitted_by_row();
        for (i, (s, f)) in fit.sample.status.iter().zip(fitted).enumerate() {
            match f {
                Some(v) => writeln!(w, "{},{},{}", i + 1, s.as_str(), v)?,
                None => writeln!(w, "{},{},", i + 1, s.as_str())?,
            }
        }
        Ok(())
    })
}
