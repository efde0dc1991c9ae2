//! The headline analysis: a hypothetical Korea–EAEU free trade agreement
//! against the observed series. The `fta_counterfactual` example is a thin
//! wrapper over [`run`]; tests call the same code.
//!
//! Steps: load the shipped panel → estimate structural gravity by PPML with
//! exporter-year, importer-year and pair fixed effects (pair-clustered) →
//! the observed Korea–EAEU series → the partial-equilibrium counterfactual
//! for every year (fitted flows with and without the agreement) → the
//! general-equilibrium counterfactual for one year → tables, CSV, JSON and an
//! SVG chart.

use gravity_model::data::{Column, Frame};
use gravity_model::error::{Error, ErrorKind, Result};
use gravity_model::fit::Fit;
use gravity_model::simulate::Interval;
use gravity_model::vcov::Inference;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The five members of the Eurasian Economic Union.
pub const EAEU: [&str; 5] = ["RUS", "KAZ", "BLR", "ARM", "KGZ"];

/// Millions of USD (the panel's unit) to USD.
const MILLION: f64 = 1e6;

/// One line of the series table: a year, a partner (an EAEU member or
/// `EAEU` for the union), a direction, in current USD.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesRow {
    /// Year.
    pub year: i32,
    /// `RUS`, `KAZ`, `BLR`, `ARM`, `KGZ` or `EAEU` (their sum).
    pub partner: String,
    /// `exports` (Korea to the partner) or `imports` (partner to Korea).
    pub flow: String,
    /// Observed manufacturing trade (the model's outcome), USD.
    pub observed_usd: f64,
    /// Observed goods trade (agriculture + mining + manufacturing), USD.
    pub observed_goods_usd: f64,
    /// The model's fitted flow with the agreements as observed (no
    /// Korea–EAEU FTA), USD; sums over the pair-years in the estimation sample.
    pub baseline_usd: f64,
    /// The fitted flow with a Korea–EAEU FTA in force from the start year
    /// (partial equilibrium: the direct effect `exp(β_fta)` only), USD.
    pub counterfactual_usd: f64,
    /// Lower end of the 95% interval of the counterfactual, USD.
    pub counterfactual_low_usd: f64,
    /// Upper end of the 95% interval of the counterfactual, USD.
    pub counterfactual_high_usd: f64,
    /// Pair-years of this cell missing from the estimation sample (no fitted
    /// value; e.g. dropped as separated).
    pub unfitted_rows: usize,
}

fn factor_text<'f>(frame: &'f Frame, name: &str) -> Result<(&'f [u32], &'f [String])> {
    match frame.column(name) {
        Some(Column::Factor(f)) => Ok((&f.codes, &f.levels)),
        _ => Err(Error::model(
            ErrorKind::UnknownColumn,
            format!("the panel needs a text column '{name}' (ISO3 codes)"),
        )),
    }
}

fn numeric_col<'f>(frame: &'f Frame, name: &str) -> Result<&'f [f64]> {
    match frame.column(name) {
        Some(Column::Numeric(v)) => Ok(v),
        _ => Err(Error::model(
            ErrorKind::UnknownColumn,
            format!("the panel needs a numeric column '{name}'"),
        )),
    }
}

/// The observed Korea–EAEU series and the partial-equilibrium counterfactual
/// of a Korea–EAEU FTA in force from `start_year`, for every year.
///
/// `fit` must have been estimated on `frame` with a regressor `fta` (its
/// fitted values are the baseline: in the data Korea has no agreement with any
/// EAEU member). The counterfactual multiplies the baseline of the years from
/// `start_year` on by `exp(β_fta)`; its 95% interval uses
/// `exp(β_fta ± z₀.₉₇₅ · se)` (exact, as the counterfactual is monotone in β).
pub fn series(
    frame: &Frame,
    fit: &Fit,
    inference: &Inference,
    start_year: i32,
) -> Result<Vec<SeriesRow>> {
    let (ex_codes, ex_levels) = factor_text(frame, "exporter")?;
    let (im_codes, im_levels) = factor_text(frame, "importer")?;
    let year = numeric_col(frame, "year")?;
    let trade = numeric_col(frame, "trade")?;
    let goods = numeric_col(frame, "trade_goods")?;
    let fta = inference.coef("fta").ok_or_else(|| {
        Error::model(
            ErrorKind::UnknownColumn,
            "the model has no coefficient 'fta'".into(),
        )
    })?;
    let z = 1.959963984540054;
    let (m, lo, hi) = (
        fta.estimate.exp(),
        (fta.estimate - z * fta.std_error).exp(),
        (fta.estimate + z * fta.std_error).exp(),
    );
    let fitted = fit.fitted_by_row();
    // (year, partner, flow) -> row
    let mut cells: BTreeMap<(i32, String, &'static str), SeriesRow> = BTreeMap::new();
    for i in 0..frame.nrows() {
        let (e, im) = (ex_codes[i], im_codes[i]);
        if e == gravity_model::data::MISSING_CODE || im == gravity_model::data::MISSING_CODE {
            continue;
        }
        let (e, im) = (
            ex_levels[e as usize].as_str(),
            im_levels[im as usize].as_str(),
        );
        let (partner, flow) = if e == "KOR" && EAEU.contains(&im) {
            (im, "exports")
        } else if im == "KOR" && EAEU.contains(&e) {
            (e, "imports")
        } else {
            continue;
        };
        let y = year[i] as i32;
        let factor = if y >= start_year {
            (m, lo, hi)
        } else {
            (1.0, 1.0, 1.0)
        };
        for p in [partner, "EAEU"] {
            let row = cells
                .entry((y, p.to_owned(), flow))
                .or_insert_with(|| SeriesRow {
                    year: y,
                    partner: p.to_owned(),
                    flow: flow.to_owned(),
                    observed_usd: 0.0,
                    observed_goods_usd: 0.0,
                    baseline_usd: 0.0,
                    counterfactual_usd: 0.0,
                    counterfactual_low_usd: 0.0,
                    counterfactual_high_usd: 0.0,
                    unfitted_rows: 0,
                });
            if trade[i].is_finite() {
                row.observed_usd += trade[i] * MILLION;
            }
            if goods[i].is_finite() {
                row.observed_goods_usd += goods[i] * MILLION;
            }
            match fitted[i] {
                Some(f) => {
                    let f = f * MILLION;
                    row.baseline_usd += f;
                    row.counterfactual_usd += f * factor.0;
                    row.counterfactual_low_usd += f * factor.1;
                    row.counterfactual_high_usd += f * factor.2;
                }
                None => row.unfitted_rows += 1,
            }
        }
    }
    Ok(cells.into_values().collect())
}

/// Writes the series as CSV.
pub fn write_series_csv(path: &Path, rows: &[SeriesRow]) -> Result<()> {
    gravity_model::output::write_atomic(path, |f| {
        writeln!(
        f,
        "year,partner,flow,observed_usd,observed_goods_usd,baseline_usd,counterfactual_usd,counterfactual_low_usd,counterfactual_high_usd,unfitted_rows"
    )
    ?;
        for r in rows {
            writeln!(
                f,
                "{},{},{},{:.0},{:.0},{:.0},{:.0},{:.0},{:.0},{}",
                r.year,
                r.partner,
                r.flow,
                r.observed_usd,
                r.observed_goods_usd,
                r.baseline_usd,
                r.counterfactual_usd,
                r.counterfactual_low_usd,
                r.counterfactual_high_usd,
                r.unfitted_rows
            )?;
        }
        Ok(())
    })
}

/// Korea–EAEU totals (exports + imports) of one year, in USD billions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct YearTotals {
    /// Year.
    pub year: i32,
    /// Observed manufacturing trade.
    pub observed: f64,
    /// The model's baseline (fitted, no FTA).
    pub baseline: f64,
    /// The partial-equilibrium counterfactual with the FTA.
    pub counterfactual: f64,
    /// Its 95% interval.
    pub interval: Interval,
}

/// Korea–EAEU totals (exports + imports) by year, in USD billions.
pub fn totals_billions(rows: &[SeriesRow]) -> Vec<YearTotals> {
    let mut by_year: BTreeMap<i32, [f64; 5]> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.partner == "EAEU") {
        let e = by_year.entry(r.year).or_insert([0.0; 5]);
        e[0] += r.observed_usd / 1e9;
        e[1] += r.baseline_usd / 1e9;
        e[2] += r.counterfactual_usd / 1e9;
        e[3] += r.counterfactual_low_usd / 1e9;
        e[4] += r.counterfactual_high_usd / 1e9;
    }
    by_year
        .into_iter()
        .map(|(year, v)| YearTotals {
            year,
            observed: v[0],
            baseline: v[1],
            counterfactual: v[2],
            interval: Interval {
                low: v[3],
                high: v[4],
            },
        })
        .collect()
}

/// A general-equilibrium point on the chart: the year, the value and its
/// interval, in USD billions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GePoint {
    /// Year.
    pub year: i32,
    /// Korea–EAEU trade with the FTA in full GE.
    pub value: f64,
    /// Its interval (drawn as a bar).
    pub interval: Interval,
}

/// Draws the chart: observed Korea–EAEU manufacturing trade, the model's
/// baseline, and the counterfactual with its 95% band, in USD billions.
/// `ge` is an optional general-equilibrium point.
pub fn plot_svg(
    path: &Path,
    rows: &[SeriesRow],
    start_year: i32,
    ge: Option<GePoint>,
) -> Result<()> {
    use plotters::prelude::*;
    let totals = totals_billions(rows);
    if totals.is_empty() {
        return Err(Error::model(
            ErrorKind::EmptySample,
            "no Korea–EAEU rows to plot".into(),
        ));
    }
    let plot_err = |e: String| {
        Error::numerical(
            ErrorKind::Io,
            format!("cannot draw {}: {e}", path.display()),
        )
    };
    let (y0, y1) = (totals[0].year, totals[totals.len() - 1].year);
    let top = totals
        .iter()
        .map(|t| t.observed.max(t.interval.high))
        .chain(ge.map(|g| g.interval.high))
        .fold(0.0f64, f64::max)
        * 1.12;
    // Drawn in memory, then written atomically.
    let mut svg = String::new();
    let root = SVGBackend::with_string(&mut svg, (960, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_err(e.to_string()))?;
    let title = format!(
        "Korea–EAEU manufacturing trade: observed vs. a hypothetical FTA from {start_year}"
    );
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d((y0 as f64 - 0.5)..(y1 as f64 + 0.5), 0.0..top)
        .map_err(|e| plot_err(e.to_string()))?;
    chart
        .configure_mesh()
        .x_desc("Year")
        .y_desc("USD billions (current), exports + imports")
        .x_labels((y1 - y0 + 1) as usize)
        .x_label_formatter(&|x| format!("{:.0}", x))
        .y_label_formatter(&|y| format!("{:.0}", y))
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(BLACK.mix(0.08))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 15))
        .draw()
        .map_err(|e| plot_err(e.to_string()))?;
    let band: Vec<(f64, f64, f64)> = totals
        .iter()
        .filter(|t| t.year >= start_year)
        .map(|t| (t.year as f64, t.interval.low, t.interval.high))
        .collect();
    let blue = RGBColor(31, 119, 180);
    let orange = RGBColor(230, 120, 20);
    let grey = RGBColor(110, 110, 110);
    if !band.is_empty() {
        let mut poly: Vec<(f64, f64)> = band.iter().map(|b| (b.0, b.2)).collect();
        poly.extend(band.iter().rev().map(|b| (b.0, b.1)));
        chart
            .draw_series(std::iter::once(Polygon::new(
                poly,
                orange.mix(0.18).filled(),
            )))
            .map_err(|e| plot_err(e.to_string()))?
            .label("95% interval of the counterfactual")
            .legend(move |(x, y)| {
                Rectangle::new([(x, y - 5), (x + 18, y + 5)], orange.mix(0.18).filled())
            });
    }
    chart
        .draw_series(LineSeries::new(
            totals.iter().map(|t| (t.year as f64, t.observed)),
            ShapeStyle::from(&blue).stroke_width(3),
        ))
        .map_err(|e| plot_err(e.to_string()))?
        .label("Observed (ITPD-E, manufacturing)")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], blue.stroke_width(3)));
    chart
        .draw_series(LineSeries::new(
            totals.iter().map(|t| (t.year as f64, t.baseline)),
            ShapeStyle::from(&grey).stroke_width(2),
        ))
        .map_err(|e| plot_err(e.to_string()))?
        .label("Model baseline (fitted, no FTA)")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], grey.stroke_width(2)));
    chart
        .draw_series(LineSeries::new(
            totals.iter().filter(|t| t.year >= start_year - 1).map(|t| {
                let v = if t.year >= start_year {
                    t.counterfactual
                } else {
                    t.baseline
                };
                (t.year as f64, v)
            }),
            ShapeStyle::from(&orange).stroke_width(3),
        ))
        .map_err(|e| plot_err(e.to_string()))?
        .label("Counterfactual: Korea–EAEU FTA (partial equilibrium)")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], orange.stroke_width(3)));
    if let Some(GePoint {
        year: gy,
        value: gv,
        interval: Interval { low: gl, high: gh },
    }) = ge
    {
        let red = RGBColor(200, 30, 30);
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(gy as f64, gl), (gy as f64, gh)],
                red.stroke_width(2),
            )))
            .map_err(|e| plot_err(e.to_string()))?;
        chart
            .draw_series(std::iter::once(Circle::new(
                (gy as f64, gv),
                6,
                red.filled(),
            )))
            .map_err(|e| plot_err(e.to_string()))?
            .label(format!("Counterfactual in general equilibrium, {gy}"))
            .legend(move |(x, y)| Circle::new((x + 9, y), 5, red.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.3))
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(|e| plot_err(e.to_string()))?;
    root.present().map_err(|e| plot_err(e.to_string()))?;
    drop(chart);
    drop(root);
    gravity_model::output::write_atomic(path, |f| f.write_all(svg.as_bytes()))
}

/// Options of the headline analysis (every one has a default).
#[derive(Debug, Clone, PartialEq)]
pub struct HeadlineOptions {
    /// First year the hypothetical FTA is in force (default 2015, the year the
    /// EAEU itself entered into force).
    pub start_year: i32,
    /// The year the GE system is solved on (default 2019, the panel's last).
    pub ge_year: i64,
    /// Elasticity of substitution (default 7, as in Yotov et al. 2016).
    pub sigma: f64,
    /// Monte Carlo draws for the GE intervals (default 200).
    pub draws: usize,
    /// Seed of the draws.
    pub seed: u64,
    /// Output directory.
    pub out: std::path::PathBuf,
}

impl Default for HeadlineOptions {
    fn default() -> Self {
        HeadlineOptions {
            start_year: 2015,
            ge_year: 2019,
            sigma: 7.0,
            draws: 200,
            seed: 1,
            out: std::path::PathBuf::from("target/fta_counterfactual"),
        }
    }
}

/// Everything the headline analysis produces.
#[derive(Debug, Clone, Serialize)]
pub struct Headline {
    /// The main model's coefficient table (PPML, pair-clustered).
    pub model: Vec<gravity_model::vcov::CoefRow>,
    /// The variant with the EAEU's own effect.
    pub model_eaeu: Vec<gravity_model::vcov::CoefRow>,
    /// Observations used, rows in the panel, dropped by reason.
    pub nobs: usize,
    /// Rows in the panel.
    pub nobs_full: usize,
    /// Dropped rows by reason.
    pub dropped: gravity_model::sample::Dropped,
    /// IRLS iterations of the main model (which converged: a model that
    /// does not is an error).
    pub iterations: usize,
    /// The observed series and the partial-equilibrium counterfactual.
    pub series: Vec<SeriesRow>,
    /// General-equilibrium results for the countries of interest.
    pub ge: Vec<gravity_model::simulate::CountryResult>,
    /// Korea–EAEU trade (exports + imports, manufacturing, USD) in the GE
    /// year: GE baseline and full-GE counterfactual.
    pub ge_korea_eaeu_trade: (f64, f64),
    /// Notes of the GE (imputations, warnings).
    pub ge_notes: Vec<String>,
    /// Number of imputed domestic flows and pair effects in the GE year.
    pub ge_imputed: usize,
    /// Observed Korea–Russia goods trade (both directions) in 2019, USD.
    pub korea_russia_goods_2019_usd: f64,
    /// The assumptions, in words.
    pub assumptions: Vec<String>,
    /// Files written.
    pub files: Vec<std::path::PathBuf>,
    /// Seconds the whole analysis took.
    pub seconds: f64,
}

/// The countries of the GE table.
pub const GE_COUNTRIES: [&str; 10] = [
    "KOR", "RUS", "KAZ", "BLR", "ARM", "KGZ", "CHN", "JPN", "USA", "DEU",
];

/// Runs the whole headline analysis on the shipped panel and writes
/// `series.csv`, `ge.csv`, `summary.json` and `korea_eaeu.svg` into
/// `options.out`.
pub fn run(options: &HeadlineOptions) -> Result<Headline> {
    use gravity_model::fit::{fit, Estimator, FitOptions};
    use gravity_model::formula::Formula;
    use gravity_model::simulate::{Costs, Domestic, ImputedKind, Scenario, Shock, Uncertainty};
    use gravity_model::vcov::{SmallSample, VcovSpec};
    let t0 = std::time::Instant::now();
    let path = gravity_panel::shipped_panel_path();
    let frame = gravity_panel::load_shipped_panel()?;
    let cluster = "exporter^importer".to_string();
    let fit_opts =
        FitOptions::default().vcov(gravity_model::VcovSpec::Cluster(vec![cluster.clone()]));
    let vcov = VcovSpec::Cluster(vec![cluster.clone()]);
    let main_text =
        "trade ~ fta + sanction_trade | exporter^year + importer^year + exporter^importer";
    let main = fit(
        &frame,
        &Formula::parse(main_text)?,
        Estimator::Ppml,
        &fit_opts,
    )?;
    if !main.info.converged {
        return Err(Error::numerical(
            ErrorKind::NoConvergence,
            "the gravity model did not converge".into(),
        ));
    }
    let inf = main.inference(&vcov, SmallSample::fixest())?;
    let eaeu_text =
        "trade ~ fta + eaeu + sanction_trade | exporter^year + importer^year + exporter^importer";
    let variant = fit(
        &frame,
        &Formula::parse(eaeu_text)?,
        Estimator::Ppml,
        &fit_opts,
    )?;
    let inf_e = variant.inference(&vcov, SmallSample::fixest())?;
    let rows = series(&frame, &main, &inf, options.start_year)?;

    // General equilibrium: a Korea–EAEU FTA in the GE year.
    let eaeu: Vec<String> = EAEU.iter().map(|s| s.to_string()).collect();
    let gdp_path = path.with_file_name("gdp.csv");
    let shock = Shock {
        variable: "fta".into(),
        value: 1.0,
        between: None,
        from: Some(vec!["KOR".into()].into()),
        to: Some(eaeu.into()),
        both_directions: true,
        coefficient: None,
    };
    let mut scenario = Scenario::new(path, main_text, options.sigma, "DEU", vec![shock]);
    scenario.gdp = Some(gdp_path);
    scenario.vcov = vcov.clone();
    scenario.year = Some(options.ge_year);
    scenario.domestic = Domestic::Impute;
    scenario.impute_pair_effects = vec![
        "ldist".into(),
        "contig".into(),
        "lang".into(),
        "colony".into(),
    ];
    scenario.uncertainty = if options.draws == 0 {
        Uncertainty::None
    } else {
        Uncertainty::CoefficientDraws {
            draws: options.draws,
            seed: options.seed,
        }
    };
    scenario.costs = Costs::Calibrated;
    let cf = gravity_model::simulate::run_with_fit(&scenario, &frame, &main, &inf, &|| {})?;
    let ge: Vec<gravity_model::simulate::CountryResult> = GE_COUNTRIES
        .iter()
        .filter_map(|c| cf.countries.iter().find(|r| r.country == *c).cloned())
        .collect();
    let ge_trade = cf
        .pairs
        .iter()
        .filter(|p| {
            (p.exporter == "KOR" && EAEU.contains(&p.importer.as_str()))
                || (p.importer == "KOR" && EAEU.contains(&p.exporter.as_str()))
        })
        .fold((0.0, 0.0), |(b, f), p| {
            (b + p.baseline * MILLION, f + p.full * MILLION)
        });

    // The check against Korean statistics.
    let (ex, im) = (
        factor_text(&frame, "exporter")?,
        factor_text(&frame, "importer")?,
    );
    let (year, goods) = (
        numeric_col(&frame, "year")?,
        numeric_col(&frame, "trade_goods")?,
    );
    let mut kor_rus = 0.0;
    for i in 0..frame.nrows() {
        let (e, m) = (ex.0[i], im.0[i]);
        if e == gravity_model::data::MISSING_CODE
            || m == gravity_model::data::MISSING_CODE
            || year[i] != 2019.0
        {
            continue;
        }
        let (e, m) = (ex.1[e as usize].as_str(), im.1[m as usize].as_str());
        if ((e, m) == ("KOR", "RUS") || (e, m) == ("RUS", "KOR")) && goods[i].is_finite() {
            kor_rus += goods[i] * MILLION;
        }
    }
    let fta = inf
        .coef("fta")
        .map(|c| (c.estimate, c.std_error))
        .unwrap_or_default();
    let assumptions = vec![
        format!(
            "The FTA effect is the average effect of the trade agreements in force in the data (fta = {:.3}, s.e. {:.3}, clustered by pair): a Korea–EAEU agreement is assumed to work like the average agreement of 2000–2019.",
            fta.0, fta.1
        ),
        "Trade is manufacturing (ITPD-E release 2, millions of current USD), the standard outcome for structural gravity and FTA effects; goods trade (agriculture, mining and energy, manufacturing) is shown only for comparison with trade statistics.".into(),
        "Sanctions enter as a trade-sanction dummy from the Global Sanctions Data Base (either direction); Korea had no trade sanction on Russia before 2022, so the counterfactual keeps sanctions as observed.".into(),
        "Exporter-year, importer-year and pair fixed effects absorb multilateral resistances and all time-invariant pair costs; the partial-equilibrium counterfactual multiplies the model's fitted Korea–EAEU flows by exp(β_fta) from the start year on, holding everything else fixed.".into(),
        format!(
            "General equilibrium for {} with σ = {} (elasticity of substitution), DEU's inward multilateral resistance normalised to 1, trade imbalances held as fixed ratios of output (rescaled to keep world expenditure equal to world output). Baseline costs are calibrated to the {} flows (exact hat algebra) rather than built from pair effects: ITPD-E lacks domestic flows and gravity covariates for many pairs, so estimated pair effects cannot cover the whole world; the FTA changes the Korea–EAEU costs by exp(β_fta).",
            options.ge_year, options.sigma, options.ge_year
        ),
        {
            let dom: Vec<&gravity_model::simulate::Imputed> =
                cf.imputed.iter().filter(|i| i.kind == ImputedKind::DomesticFlow).collect();
            let worst = dom
                .iter()
                .filter_map(|i| i.check.as_ref().map(|c| (c.share_of_gdp, i.exporter.as_str())))
                .max_by(|a, b| a.0.total_cmp(&b.0));
            format!(
                "Domestic flows: ITPD-E's domestic manufacturing is complete for few countries (none of the EAEU members); missing ones in {} are imputed from the country's domestic share of output in its nearest complete year, or, for a country without any (every EAEU member), as the median ratio of domestic sales to GDP (World Bank, data/gdp.csv) over the country-years with an observed domestic flow times its {} GDP; every imputed value is capped at the largest observed ratio times GDP and never exceeds GDP ({} values imputed, each with its GDP and ratio in summary.json; the largest ratio {}). Welfare effects inherit this imputation.",
                options.ge_year,
                options.ge_year,
                dom.len(),
                worst.map_or("not checked".to_string(), |(r, c)| format!("{c}, {r:.2} of GDP"))
            )
        },
        format!(
            "Intervals: 95% intervals from {} draws of the FTA coefficient from its estimated sampling distribution; they reflect estimation uncertainty in β only, not in σ or in the data.",
            options.draws
        ),
    ];
    std::fs::create_dir_all(&options.out).map_err(|e| Error::Io {
        path: options.out.clone(),
        source: e,
    })?;
    let series_path = options.out.join("series.csv");
    write_series_csv(&series_path, &rows)?;
    let ge_path = options.out.join("ge.csv");
    write_ge_csv(&ge_path, &cf.countries)?;
    let svg_path = options.out.join("korea_eaeu.svg");
    let ge_point = if ge_trade.0 > 0.0 {
        // The GE change applied to the model's fitted baseline of that year.
        totals_billions(&rows)
            .iter()
            .find(|t| t.year as i64 == options.ge_year)
            .map(|t| {
                let ratio = ge_trade.1 / ge_trade.0;
                GePoint {
                    year: options.ge_year as i32,
                    value: t.baseline * ratio,
                    interval: Interval {
                        low: t.baseline * ratio,
                        high: t.baseline * ratio,
                    },
                }
            })
    } else {
        None
    };
    plot_svg(&svg_path, &rows, options.start_year, ge_point)?;
    let mut head = Headline {
        model: inf.coefficients.clone(),
        model_eaeu: inf_e.coefficients.clone(),
        nobs: main.nobs(),
        nobs_full: main.sample.n_full,
        dropped: main.sample.dropped,
        iterations: main.info.iterations,
        series: rows,
        ge,
        ge_korea_eaeu_trade: ge_trade,
        ge_notes: cf.notes.clone(),
        ge_imputed: cf.imputed.len(),
        korea_russia_goods_2019_usd: kor_rus,
        assumptions,
        files: vec![
            series_path,
            ge_path,
            svg_path,
            options.out.join("summary.json"),
        ],
        seconds: 0.0,
    };
    head.seconds = t0.elapsed().as_secs_f64();
    let json_path = options.out.join("summary.json");
    let mut summary = serde_json::to_value(&head).map_err(|e| Error::Bug(e.to_string()))?;
    summary["imputed"] =
        serde_json::to_value(&cf.imputed).map_err(|e| Error::Bug(e.to_string()))?;
    let text = serde_json::to_string_pretty(&summary).map_err(|e| Error::Bug(e.to_string()))?;
    gravity_model::output::write_atomic(&json_path, |f| f.write_all(text.as_bytes()))?;
    Ok(head)
}

fn write_ge_csv(path: &Path, rows: &[gravity_model::simulate::CountryResult]) -> Result<()> {
    use gravity_model::simulate::Quantity;
    gravity_model::output::write_atomic(path, |f| {
        writeln!(f, "country,real_gdp_change_pct,real_gdp_ci_low,real_gdp_ci_high,exports_change_full_pct,exports_ci_low,exports_ci_high,factory_price_change_pct,price_ci_low,price_ci_high,exports_change_conditional_pct,exports_change_partial_pct,inward_mr_change_pct,outward_mr_change_pct")?;
        for r in rows {
            let c = &r.changes;
            // The value, then its interval's ends (empty without draws).
            let with_interval = |q: Quantity| {
                let (low, high) = r
                    .intervals
                    .as_ref()
                    .map(|iv| (iv.get(q).low.to_string(), iv.get(q).high.to_string()))
                    .unwrap_or_default();
                format!("{},{low},{high}", c.get(q))
            };
            writeln!(
                f,
                "{},{},{},{},{},{},{},{}",
                r.country,
                with_interval(Quantity::RealGdp),
                with_interval(Quantity::ExportsFull),
                with_interval(Quantity::FactoryPrice),
                c.exports_change_conditional_pct,
                c.exports_change_partial_pct,
                c.inward_mr_change_pct,
                c.outward_mr_change_pct
            )?;
        }
        Ok(())
    })
}
