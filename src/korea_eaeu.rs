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

use crate::data::{Column, Frame};
use crate::error::{Error, Result};
use crate::fit::Fit;
use crate::vcov::Inference;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
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
        _ => Err(Error::Model(format!(
            "the panel needs a text column '{name}' (ISO3 codes)"
        ))),
    }
}

fn numeric_col<'f>(frame: &'f Frame, name: &str) -> Result<&'f [f64]> {
    match frame.column(name) {
        Some(Column::Numeric(v)) => Ok(v),
        _ => Err(Error::Model(format!(
            "the panel needs a numeric column '{name}'"
        ))),
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
    let fta = inference
        .coef("fta")
        .ok_or_else(|| Error::Model("the model has no coefficient 'fta'".into()))?;
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
        if e == crate::data::MISSING_CODE || im == crate::data::MISSING_CODE {
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
    let io = |e: std::io::Error| Error::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).map_err(io)?);
    writeln!(
        f,
        "year,partner,flow,observed_usd,observed_goods_usd,baseline_usd,counterfactual_usd,counterfactual_low_usd,counterfactual_high_usd,unfitted_rows"
    )
    .map_err(io)?;
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
        )
        .map_err(io)?;
    }
    f.flush().map_err(io)
}

/// Korea–EAEU totals (exports + imports) by year, in USD billions:
/// `(year, observed, baseline, counterfactual, low, high)`.
pub fn totals_billions(rows: &[SeriesRow]) -> Vec<(i32, f64, f64, f64, f64, f64)> {
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
        .map(|(y, v)| (y, v[0], v[1], v[2], v[3], v[4]))
        .collect()
}

/// Draws the chart: observed Korea–EAEU manufacturing trade, the model's
/// baseline, and the counterfactual with its 95% band, in USD billions.
/// `ge` is an optional general-equilibrium point `(year, value, low, high)`.
pub fn plot_svg(
    path: &Path,
    rows: &[SeriesRow],
    start_year: i32,
    ge: Option<(i32, f64, f64, f64)>,
) -> Result<()> {
    use plotters::prelude::*;
    let totals = totals_billions(rows);
    if totals.is_empty() {
        return Err(Error::Model("no Korea–EAEU rows to plot".into()));
    }
    let plot_err = |e: String| Error::Numerical(format!("cannot draw {}: {e}", path.display()));
    let (y0, y1) = (totals[0].0, totals[totals.len() - 1].0);
    let top = totals
        .iter()
        .map(|t| t.1.max(t.5))
        .chain(ge.map(|g| g.3))
        .fold(0.0f64, f64::max)
        * 1.12;
    let root = SVGBackend::new(path, (960, 600)).into_drawing_area();
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
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 15))
        .draw()
        .map_err(|e| plot_err(e.to_string()))?;
    let band: Vec<(f64, f64, f64)> = totals
        .iter()
        .filter(|t| t.0 >= start_year)
        .map(|t| (t.0 as f64, t.4, t.5))
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
            totals.iter().map(|t| (t.0 as f64, t.1)),
            ShapeStyle::from(&blue).stroke_width(3),
        ))
        .map_err(|e| plot_err(e.to_string()))?
        .label("Observed (ITPD-E, manufacturing)")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], blue.stroke_width(3)));
    chart
        .draw_series(LineSeries::new(
            totals.iter().map(|t| (t.0 as f64, t.2)),
            ShapeStyle::from(&grey).stroke_width(2),
        ))
        .map_err(|e| plot_err(e.to_string()))?
        .label("Model baseline (fitted, no FTA)")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], grey.stroke_width(2)));
    chart
        .draw_series(LineSeries::new(
            totals
                .iter()
                .filter(|t| t.0 >= start_year - 1)
                .map(|t| (t.0 as f64, if t.0 >= start_year { t.3 } else { t.2 })),
            ShapeStyle::from(&orange).stroke_width(3),
        ))
        .map_err(|e| plot_err(e.to_string()))?
        .label("Counterfactual: Korea–EAEU FTA (partial equilibrium)")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], orange.stroke_width(3)));
    if let Some((gy, gv, gl, gh)) = ge {
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
            .label(format!("General equilibrium, {gy} (95% interval)"))
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
    Ok(())
}
