//! The headline analysis: a hypothetical Korea–EAEU free trade agreement
//! against the observed series (issue 16). The `fta_counterfactual` example
//! is a thin wrapper over [`run`]; tests call the same code.
//!
//! Steps: load the shipped panel → derive each pair's agreement entry year
//! (the first switch of `fta` from 0 to 1 inside 2001–2019; pairs with an
//! agreement already in 2000 are pre-sample) and build the lags `fta_l4`,
//! `fta_l8` and the lead `fta_f4` from the in-sample agreements only →
//! estimate structural gravity by PPML with exporter-year, importer-year and
//! pair fixed effects, pair-clustered, on international flows without the
//! China–Hong Kong pair, separately for agriculture, mining & energy and
//! manufacturing → the partial equilibrium applied to *observed* flows,
//! phased in year by year as the lags imply → the general equilibrium of
//! manufacturing on the same observed base → a sensitivity table, tables,
//! CSV, JSON and an SVG chart that draws exactly the printed numbers.

use gravity_model::data::{Column, Frame, MISSING_CODE};
use gravity_model::error::{Error, ErrorKind, Result};
use gravity_model::fit::Fit;
use gravity_model::simulate::Interval;
use gravity_model::vcov::{CoefRow, Inference, LinearCombination, SmallSample, VcovSpec};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// The five members of the Eurasian Economic Union.
pub const EAEU: [&str; 5] = ["RUS", "KAZ", "BLR", "ARM", "KGZ"];

/// Millions of USD (the panel's unit) to USD.
const MILLION: f64 = 1e6;

/// The standard normal's 97.5% quantile.
const Z975: f64 = 1.959963984540054;

/// The sectors estimated separately: (name, the panel's column). The
/// headline's totals are sums over these.
pub const SECTORS: [(&str, &str); 3] = [
    ("agriculture", "trade_agriculture"),
    ("mining_energy", "trade_mining_energy"),
    ("manufacturing", "trade"),
];

/// The first and last year of the panel; agreements entering in
/// `FIRST_YEAR + 1 ..= LAST_YEAR` are "in-sample".
pub const FIRST_YEAR: i32 = 2000;
/// See [`FIRST_YEAR`].
pub const LAST_YEAR: i32 = 2019;

/// The fixed effects of every model.
const FE: &str = "exporter^year + importer^year + exporter^importer";

/// The estimated FTA effect of one specification, phased in: the
/// cumulative effect after 0, 4 and 8 years in force (`fta`,
/// `fta + fta_l4`, `fta + fta_l4 + fta_l8`), each with its s.e. from the
/// covariance matrix ([`Inference::lincom`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Effect {
    /// Specification name (`main`, …).
    pub name: String,
    /// The formula as estimated.
    pub formula: String,
    /// The sample restriction (`None`: every row).
    pub subset: Option<String>,
    /// `(years in force, cumulative effect, its s.e.)`, ascending years.
    pub phases: Vec<(i32, f64, f64)>,
    /// The total (the last phase's effect).
    pub total: f64,
    /// Its s.e.
    pub total_se: f64,
    /// Observations used.
    pub nobs: usize,
    /// IRLS iterations.
    pub iterations: usize,
    /// The coefficient table.
    pub coefficients: Vec<CoefRow>,
}

impl Effect {
    /// The cumulative effect and its s.e. after `years` in force (0 before
    /// the agreement).
    pub fn at(&self, years: i32) -> (f64, f64) {
        if years < 0 {
            return (0.0, 0.0);
        }
        self.phases
            .iter()
            .rev()
            .find(|p| p.0 <= years)
            .map_or((0.0, 0.0), |p| (p.1, p.2))
    }
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

/// The exporter and importer of every row (`None` for a missing code).
fn pairs_of(frame: &Frame) -> Result<Vec<Option<(&str, &str)>>> {
    let (ec, el) = factor_text(frame, "exporter")?;
    let (ic, il) = factor_text(frame, "importer")?;
    Ok(ec
        .iter()
        .zip(ic)
        .map(|(&e, &i)| {
            if e == MISSING_CODE || i == MISSING_CODE {
                None
            } else {
                Some((el[e as usize].as_str(), il[i as usize].as_str()))
            }
        })
        .collect())
}

/// What [`prepare`] derived about agreement entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EntryInfo {
    /// Unordered pairs with an agreement entering inside the sample.
    pub in_sample_pairs: usize,
    /// Unordered pairs with an agreement already in force in their first
    /// year in the panel (pre-sample; they get no lags).
    pub pre_sample_pairs: usize,
    /// Rows of the China–Hong Kong pair (both directions), excluded from
    /// the main estimation.
    pub chn_hkg_rows: usize,
}

/// Adds the columns the specifications need to the panel:
///
/// - `entry`-based lags and lead from in-sample agreements only: for a pair
///   whose `fta` first switches from 0 to 1 in year `e` inside 2001–2019,
///   `fta_l4` (`fta_l8`) is `fta` four (eight) years earlier, and `fta_f4`
///   is 1 from `e − 4` on (anticipation; entries after 2019 are unknown and
///   count as none). Pairs with `fta = 1` in their first year are
///   pre-sample and get 0 in all three.
/// - `kor`: 1 when Korea is the exporter or the importer; `fta_k`,
///   `fta_l4_k`, `fta_l8_k` the Korea part and `fta_o`, `fta_l4_o`,
///   `fta_l8_o` the rest.
/// - `chn_hkg`: 1 on the China–Hong Kong pair (both directions).
///
/// # Errors
///
/// [`ErrorKind::UnknownColumn`] without `exporter`, `importer`, `year` or `fta`.
pub fn prepare(frame: &mut Frame) -> Result<EntryInfo> {
    let n = frame.nrows();
    let year = numeric_col(frame, "year")?.to_vec();
    let fta = numeric_col(frame, "fta")?.to_vec();
    let pairs: Vec<Option<(String, String)>> = pairs_of(frame)?
        .into_iter()
        .map(|p| {
            p.map(|(e, i)| {
                if e <= i {
                    (e.to_owned(), i.to_owned())
                } else {
                    (i.to_owned(), e.to_owned())
                }
            })
        })
        .collect();
    // Unordered pair -> year -> fta (1 if either direction says 1).
    let mut by_pair: HashMap<&(String, String), BTreeMap<i32, f64>> = HashMap::new();
    for r in 0..n {
        if let Some(p) = &pairs[r] {
            if p.0 != p.1 && fta[r].is_finite() {
                let e = by_pair
                    .entry(p)
                    .or_default()
                    .entry(year[r] as i32)
                    .or_insert(0.0);
                *e = e.max(fta[r]);
            }
        }
    }
    // Entry years of in-sample agreements.
    let mut entry: HashMap<&(String, String), i32> = HashMap::new();
    let (mut pre, mut inside) = (0, 0);
    for (p, years) in &by_pair {
        let Some((_, &first)) = years.iter().next() else {
            continue;
        };
        if first > 0.0 {
            pre += 1;
            continue;
        }
        if let Some((&y, _)) = years.iter().find(|(_, &v)| v > 0.0) {
            entry.insert(*p, y);
            inside += 1;
        }
    }
    let mut cols: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for name in [
        "fta_l4", "fta_l8", "fta_f4", "kor", "fta_k", "fta_l4_k", "fta_l8_k", "fta_o", "fta_l4_o",
        "fta_l8_o", "chn_hkg",
    ] {
        cols.insert(name, vec![0.0; n]);
    }
    let mut chn_hkg_rows = 0;
    for r in 0..n {
        let Some(p) = &pairs[r] else { continue };
        let t = year[r] as i32;
        let is_kor = p.0 == "KOR" || p.1 == "KOR";
        if p.0 == "CHN" && p.1 == "HKG" {
            chn_hkg_rows += 1;
            set(&mut cols, "chn_hkg", r, 1.0);
        }
        let (mut l4, mut l8, mut f4) = (0.0, 0.0, 0.0);
        if let Some(&e) = entry.get(p) {
            let lag = |k: i32| {
                by_pair
                    .get(p)
                    .and_then(|m| m.get(&(t - k)))
                    .copied()
                    .unwrap_or(if t - k >= e { 1.0 } else { 0.0 })
            };
            l4 = lag(4);
            l8 = lag(8);
            f4 = if t + 4 >= e { 1.0 } else { 0.0 };
        }
        set(&mut cols, "fta_l4", r, l4);
        set(&mut cols, "fta_l8", r, l8);
        set(&mut cols, "fta_f4", r, f4);
        let k = if is_kor { 1.0 } else { 0.0 };
        let f = if fta[r].is_finite() { fta[r] } else { f64::NAN };
        set(&mut cols, "kor", r, k);
        set(&mut cols, "fta_k", r, f * k);
        set(&mut cols, "fta_l4_k", r, l4 * k);
        set(&mut cols, "fta_l8_k", r, l8 * k);
        set(&mut cols, "fta_o", r, f * (1.0 - k));
        set(&mut cols, "fta_l4_o", r, l4 * (1.0 - k));
        set(&mut cols, "fta_l8_o", r, l8 * (1.0 - k));
    }
    for (name, v) in cols {
        frame.insert(name, Column::Numeric(v.into()))?;
    }
    Ok(EntryInfo {
        in_sample_pairs: inside,
        pre_sample_pairs: pre,
        chn_hkg_rows,
    })
}

fn set(cols: &mut BTreeMap<&str, Vec<f64>>, name: &str, row: usize, v: f64) {
    if let Some(c) = cols.get_mut(name) {
        c[row] = v;
    }
}

/// The sanction control of every specification but one: the GSDB
/// trade-sanction dummy.
pub const SANCTION_TRADE: [&str; 1] = ["sanction_trade"];

/// The sanction controls of the "sanctions split" row: `sanction_trade`
/// split by GSDB's `descr_trade` into cases with a complete export or import
/// ban and trade sanctions that are all partial (the two sum to
/// `sanction_trade`; see `data/README.md`).
pub const SANCTIONS_SPLIT: [&str; 2] = ["sanction_complete", "sanction_partial"];

/// The name of the sensitivity row with [`SANCTIONS_SPLIT`].
pub const SANCTIONS_SPLIT_ROW: &str = "sanctions split (complete / partial)";

/// Fits `outcome ~ terms + sanction_trade | FE` by PPML on `frame`
/// restricted to `subset`, with pair, exporter and importer cluster
/// variables carried for inference.
///
/// # Errors
///
/// The fit's errors; [`ErrorKind::NoConvergence`] if IRLS does not converge.
pub fn estimate(frame: &Frame, outcome: &str, terms: &[&str], subset: Option<&str>) -> Result<Fit> {
    estimate_with(frame, outcome, terms, &SANCTION_TRADE, subset)
}

/// [`estimate`] with the sanction controls `sanctions` in place of
/// `sanction_trade` (e.g. [`SANCTIONS_SPLIT`]).
///
/// # Errors
///
/// As [`estimate`].
pub fn estimate_with(
    frame: &Frame,
    outcome: &str,
    terms: &[&str],
    sanctions: &[&str],
    subset: Option<&str>,
) -> Result<Fit> {
    use gravity_model::fit::{fit, Estimator, FitOptions};
    use gravity_model::formula::{subset::Subset, Formula};
    let text = formula_text_with(outcome, terms, sanctions);
    let mut opts = FitOptions::default().vcov(VcovSpec::Cluster(vec![
        "exporter^importer".into(),
        "exporter".into(),
        "importer".into(),
    ]));
    if let Some(s) = subset {
        opts = opts.subset(Subset::parse(s)?);
    }
    let f = fit(frame, &Formula::parse(&text)?, Estimator::Ppml, &opts)?;
    if !f.info.converged {
        return Err(Error::numerical(
            ErrorKind::NoConvergence,
            format!("{text} did not converge"),
        ));
    }
    Ok(f)
}

/// The model's formula text.
pub fn formula_text(outcome: &str, terms: &[&str]) -> String {
    formula_text_with(outcome, terms, &SANCTION_TRADE)
}

/// The model's formula text with the sanction controls `sanctions`.
pub fn formula_text_with(outcome: &str, terms: &[&str], sanctions: &[&str]) -> String {
    let rhs: Vec<&str> = terms.iter().chain(sanctions).copied().collect();
    format!("{outcome} ~ {} | {FE}", rhs.join(" + "))
}

/// Pair-clustered inference (as fixest's `cluster = ~pair`).
pub fn pair_vcov() -> VcovSpec {
    VcovSpec::Cluster(vec!["exporter^importer".into()])
}

/// Two-way clustering by exporter and importer.
pub fn twoway_vcov() -> VcovSpec {
    VcovSpec::Cluster(vec!["exporter".into(), "importer".into()])
}

/// The phased effect of `phase_terms` (cumulative sums after 0, 4, 8 years
/// in force, as many as terms) from a fit and its inference.
///
/// # Errors
///
/// [`ErrorKind::UnknownColumn`] if a term is not in the model.
pub fn effect(
    name: &str,
    fit: &Fit,
    inf: &Inference,
    phase_terms: &[&str],
    subset: Option<&str>,
) -> Result<Effect> {
    let mut phases = Vec::new();
    for k in 0..phase_terms.len() {
        let weights: Vec<(&str, f64)> = phase_terms[..=k].iter().map(|t| (*t, 1.0)).collect();
        let l = inf.lincom(&LinearCombination::new(
            &format!("after {}", 4 * k),
            &weights,
        ))?;
        phases.push((4 * k as i32, l.row.estimate, l.row.std_error));
    }
    let (total, total_se) = phases.last().map_or((f64::NAN, f64::NAN), |p| (p.1, p.2));
    Ok(Effect {
        name: name.into(),
        formula: fit.formula.to_string(),
        subset: subset.map(str::to_owned),
        phases,
        total,
        total_se,
        nobs: fit.nobs(),
        iterations: fit.info.iterations,
        coefficients: inf.coefficients.clone(),
    })
}

/// One line of the series table: a year, a sector, a partner (an EAEU
/// member or `EAEU` for the union), a direction, in current USD.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesRow {
    /// Year.
    pub year: i32,
    /// Sector (one of [`SECTORS`]).
    pub sector: String,
    /// `RUS`, `KAZ`, `BLR`, `ARM`, `KGZ` or `EAEU` (their sum).
    pub partner: String,
    /// `exports` (Korea to the partner) or `imports` (partner to Korea).
    pub flow: String,
    /// Observed trade of the sector, USD (missing cells count as 0).
    pub observed_usd: f64,
    /// The log effect of the FTA in that year, as phased in (0 before the
    /// start year).
    pub effect: f64,
    /// Partial equilibrium: `observed × (exp(effect) − 1)`, USD.
    pub pe_change_usd: f64,
    /// `observed + pe_change`, USD.
    pub counterfactual_usd: f64,
    /// Lower end of the 95% interval (the effect's uncertainty only), USD.
    pub counterfactual_low_usd: f64,
    /// Upper end, USD.
    pub counterfactual_high_usd: f64,
}

/// The observed Korea–EAEU series of every sector and the partial
/// equilibrium applied to the observed flows: from `start_year` on, each
/// flow `X` becomes `X · exp(b_t)` with `b_t` the sector's effect after
/// `t − start_year` years in force ([`Effect::at`]); its 95% interval is
/// `X · exp(b_t ± z₀.₉₇₅ · se_t)` (exact, as the counterfactual is monotone
/// in `b_t`).
///
/// # Errors
///
/// [`ErrorKind::UnknownColumn`] for a missing column.
pub fn series(
    frame: &Frame,
    effects: &[(&str, &str, &Effect)],
    start_year: i32,
) -> Result<Vec<SeriesRow>> {
    let pairs = pairs_of(frame)?;
    let year = numeric_col(frame, "year")?;
    let mut cells: BTreeMap<(String, i32, String, &'static str), SeriesRow> = BTreeMap::new();
    for (sector, column, eff) in effects {
        let trade = numeric_col(frame, column)?;
        for (i, p) in pairs.iter().enumerate() {
            let Some((e, im)) = p else { continue };
            let (partner, flow) = if *e == "KOR" && EAEU.contains(im) {
                (*im, "exports")
            } else if *im == "KOR" && EAEU.contains(e) {
                (*e, "imports")
            } else {
                continue;
            };
            let y = year[i] as i32;
            let x = if trade[i].is_finite() {
                trade[i] * MILLION
            } else {
                0.0
            };
            for part in [partner, "EAEU"] {
                let row = cells
                    .entry((sector.to_string(), y, part.to_owned(), flow))
                    .or_insert_with(|| SeriesRow {
                        year: y,
                        sector: sector.to_string(),
                        partner: part.to_owned(),
                        flow: flow.to_owned(),
                        observed_usd: 0.0,
                        effect: 0.0,
                        pe_change_usd: 0.0,
                        counterfactual_usd: 0.0,
                        counterfactual_low_usd: 0.0,
                        counterfactual_high_usd: 0.0,
                    });
                row.observed_usd += x;
            }
        }
        for row in cells.values_mut().filter(|r| r.sector == *sector) {
            let (b, se) = eff.at(row.year - start_year);
            let x = row.observed_usd;
            row.effect = b;
            row.pe_change_usd = pe_change(x, b);
            row.counterfactual_usd = x + row.pe_change_usd;
            row.counterfactual_low_usd = x + pe_change(x, b - Z975 * se);
            row.counterfactual_high_usd = x + pe_change(x, b + Z975 * se);
        }
    }
    Ok(cells.into_values().collect())
}

/// The partial-equilibrium change of an observed flow `x` under a log
/// effect `b`: `x · (exp(b) − 1)`.
pub fn pe_change(x: f64, b: f64) -> f64 {
    x * b.exp_m1()
}

/// Writes the series as CSV.
pub fn write_series_csv(path: &Path, rows: &[SeriesRow]) -> Result<()> {
    gravity_model::output::write_atomic(path, |f| {
        writeln!(
            f,
            "year,sector,partner,flow,observed_usd,effect,pe_change_usd,counterfactual_usd,counterfactual_low_usd,counterfactual_high_usd"
        )?;
        for r in rows {
            writeln!(
                f,
                "{},{},{},{},{:.0},{:.6},{:.0},{:.0},{:.0},{:.0}",
                r.year,
                r.sector,
                r.partner,
                r.flow,
                r.observed_usd,
                r.effect,
                r.pe_change_usd,
                r.counterfactual_usd,
                r.counterfactual_low_usd,
                r.counterfactual_high_usd
            )?;
        }
        Ok(())
    })
}

/// Korea–EAEU totals (exports + imports) of one year and sector, in USD
/// billions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct YearTotals {
    /// Year.
    pub year: i32,
    /// Observed trade.
    pub observed: f64,
    /// The partial-equilibrium counterfactual (observed × exp(effect)).
    pub counterfactual: f64,
    /// Its 95% interval.
    pub interval: Interval,
}

/// Korea–EAEU totals (exports + imports) by year, in USD billions, of the
/// sectors `sectors` (summed).
pub fn totals_billions(rows: &[SeriesRow], sectors: &[&str]) -> Vec<YearTotals> {
    let mut by_year: BTreeMap<i32, [f64; 4]> = BTreeMap::new();
    for r in rows
        .iter()
        .filter(|r| r.partner == "EAEU" && sectors.contains(&r.sector.as_str()))
    {
        let e = by_year.entry(r.year).or_insert([0.0; 4]);
        e[0] += r.observed_usd / 1e9;
        e[1] += r.counterfactual_usd / 1e9;
        e[2] += r.counterfactual_low_usd / 1e9;
        e[3] += r.counterfactual_high_usd / 1e9;
    }
    by_year
        .into_iter()
        .map(|(year, v)| YearTotals {
            year,
            observed: v[0],
            counterfactual: v[1],
            interval: Interval {
                low: v[2],
                high: v[3],
            },
        })
        .collect()
}

/// A general-equilibrium point on the chart: the year, the value and its
/// interval, in USD billions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GePoint {
    /// Year.
    pub year: i32,
    /// Korea–EAEU manufacturing trade with the FTA in full GE.
    pub value: f64,
    /// Its 95% interval (the effect's uncertainty only).
    pub interval: Interval,
}

/// The label the chart writes beside its GE point (the test reads it back).
pub fn ge_label(p: &GePoint) -> String {
    format!("GE {}: ${:.2} bn", p.year, p.value)
}

/// Draws the chart: observed Korea–EAEU manufacturing trade, the
/// partial-equilibrium counterfactual on it with its 95% band, the GE point
/// of the GE year at exactly its printed value, a marker at `start_year`,
/// and a source note.
///
/// # Errors
///
/// [`ErrorKind::EmptySample`] without rows; [`ErrorKind::Io`] if drawing
/// or writing fails.
pub fn plot_svg(
    path: &Path,
    rows: &[SeriesRow],
    start_year: i32,
    ge: Option<GePoint>,
) -> Result<()> {
    use plotters::prelude::*;
    let totals = totals_billions(rows, &["manufacturing"]);
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
        .chain(ge.map(|g| g.interval.high.max(g.value)))
        .fold(0.0f64, f64::max)
        * 1.15;
    let mut svg = String::new();
    let root = SVGBackend::with_string(&mut svg, (960, 640)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_err(e.to_string()))?;
    let (main_area, note_area) = root.split_vertically(590);
    let title = format!(
        "Korea–EAEU manufacturing trade: observed vs. a hypothetical FTA from {start_year}"
    );
    let mut chart = ChartBuilder::on(&main_area)
        .caption(title, ("sans-serif", 22))
        .margin(20)
        .x_label_area_size(45)
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
    let blue = RGBColor(31, 119, 180);
    let orange = RGBColor(230, 120, 20);
    let grey = RGBColor(110, 110, 110);
    let red = RGBColor(200, 30, 30);
    // The start year.
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(start_year as f64, 0.0), (start_year as f64, top)],
            grey.stroke_width(1),
        )))
        .map_err(|e| plot_err(e.to_string()))?;
    chart
        .draw_series(std::iter::once(Text::new(
            format!("{start_year}: FTA assumed in force"),
            (start_year as f64 + 0.1, top * 0.97),
            ("sans-serif", 13).into_font().color(&grey),
        )))
        .map_err(|e| plot_err(e.to_string()))?;
    let band: Vec<(f64, f64, f64)> = totals
        .iter()
        .filter(|t| t.year >= start_year)
        .map(|t| (t.year as f64, t.interval.low, t.interval.high))
        .collect();
    if !band.is_empty() {
        let mut poly: Vec<(f64, f64)> = band.iter().map(|b| (b.0, b.2)).collect();
        poly.extend(band.iter().rev().map(|b| (b.0, b.1)));
        chart
            .draw_series(std::iter::once(Polygon::new(
                poly,
                orange.mix(0.18).filled(),
            )))
            .map_err(|e| plot_err(e.to_string()))?
            .label("95% band: uncertainty of the FTA coefficients only")
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
            totals
                .iter()
                .filter(|t| t.year >= start_year - 1)
                .map(|t| (t.year as f64, t.counterfactual)),
            ShapeStyle::from(&orange).stroke_width(3),
        ))
        .map_err(|e| plot_err(e.to_string()))?
        .label("With the FTA, phased in (partial equilibrium on observed flows)")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], orange.stroke_width(3)));
    if let Some(g) = ge {
        let (gy, gv) = (g.year as f64, g.value);
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(gy, g.interval.low), (gy, g.interval.high)],
                red.stroke_width(2),
            )))
            .map_err(|e| plot_err(e.to_string()))?;
        chart
            .draw_series(std::iter::once(Circle::new((gy, gv), 6, red.filled())))
            .map_err(|e| plot_err(e.to_string()))?
            .label(format!(
                "With the FTA in general equilibrium, {} (same observed base)",
                g.year
            ))
            .legend(move |(x, y)| Circle::new((x + 9, y), 5, red.filled()));
        chart
            .draw_series(std::iter::once(Text::new(
                ge_label(&g),
                (gy - 2.3, gv + top * 0.04),
                ("sans-serif", 13).into_font().color(&red),
            )))
            .map_err(|e| plot_err(e.to_string()))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.3))
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(|e| plot_err(e.to_string()))?;
    let note = "Source: USITC ITPD-E release 2 (manufacturing); USITC DGD and DESTA (agreements); GSDB (sanctions); own PPML estimates. \
                The band and the bar cover the uncertainty of the FTA coefficients only, not of σ, the data or the model.";
    let (n1, n2) = note.split_at(note.find("The band").unwrap_or(note.len()));
    for (k, line) in [n1.trim(), n2.trim()].iter().enumerate() {
        note_area
            .draw(&Text::new(
                line.to_string(),
                (20, 5 + 18 * k as i32),
                ("sans-serif", 12).into_font().color(&grey),
            ))
            .map_err(|e| plot_err(e.to_string()))?;
    }
    root.present().map_err(|e| plot_err(e.to_string()))?;
    drop(chart);
    drop(main_area);
    drop(note_area);
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
    /// Further GE base years for robustness (default 2017 and 2018), solved
    /// with the effect of the GE year.
    pub other_ge_years: Vec<i64>,
    /// Elasticity of substitution (default 7, as in Yotov et al. 2016).
    pub sigma: f64,
    /// Output directory.
    pub out: std::path::PathBuf,
}

impl Default for HeadlineOptions {
    fn default() -> Self {
        HeadlineOptions {
            start_year: 2015,
            ge_year: 2019,
            other_ge_years: vec![2017, 2018],
            sigma: 7.0,
            out: std::path::PathBuf::from("target/fta_counterfactual"),
        }
    }
}

/// One general-equilibrium solve of manufacturing: a Korea–EAEU FTA with a
/// given log effect in one base year, costs calibrated to the observed flows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GeRun {
    /// Base year.
    pub year: i64,
    /// The log effect applied to the Korea–EAEU pairs.
    pub effect: f64,
    /// Korea–EAEU trade (both directions) in the baseline (= observed), USD.
    pub korea_eaeu_base_usd: f64,
    /// … with the FTA, USD.
    pub korea_eaeu_full_usd: f64,
    /// Korean exports to the EAEU in the baseline, USD.
    pub korea_exports_base_usd: f64,
    /// … with the FTA, USD.
    pub korea_exports_full_usd: f64,
    /// Korea's real income change, %.
    pub korea_real_income_pct: f64,
}

/// A row of the sensitivity table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SensitivityRow {
    /// Specification (`main`, …).
    pub name: String,
    /// The total FTA effect (sum of the contemporaneous and lagged terms).
    pub fta_total: f64,
    /// Its s.e.
    pub fta_total_se: f64,
    /// Observations.
    pub nobs: usize,
    /// GE change of Korea–EAEU manufacturing trade in the GE year, USD bn.
    pub korea_eaeu_change_usd_bn: f64,
    /// … in %.
    pub korea_eaeu_change_pct: f64,
    /// Korea's real income change (manufacturing GE), %.
    pub korea_real_income_pct: f64,
    /// The sanction coefficients of the row's fit (`sanction_trade`, or
    /// `sanction_complete` and `sanction_partial`), with the row's s.e.
    pub sanctions: Vec<SanctionCoef>,
}

/// A sanction coefficient of a sensitivity row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SanctionCoef {
    /// The term (`sanction_trade`, `sanction_complete`, `sanction_partial`).
    pub name: String,
    /// Estimate.
    pub estimate: f64,
    /// Its s.e. (the row's clustering).
    pub std_error: f64,
}

/// The sanction coefficients (terms named `sanction_*`) of an effect's
/// coefficient table, in table order.
pub fn sanction_coefs(e: &Effect) -> Vec<SanctionCoef> {
    e.coefficients
        .iter()
        .filter(|c| c.name.starts_with("sanction_"))
        .map(|c| SanctionCoef {
            name: c.name.clone(),
            estimate: c.estimate,
            std_error: c.std_error,
        })
        .collect()
}

/// A row of the sector table (the GE year).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SectorRow {
    /// Sector.
    pub sector: String,
    /// The total effect and its s.e.
    pub fta_total: f64,
    /// See `fta_total`.
    pub fta_total_se: f64,
    /// The effect applied in the GE year (as phased in).
    pub effect_applied: f64,
    /// Observed Korea–EAEU trade, USD bn.
    pub observed_usd_bn: f64,
    /// With the FTA, USD bn (GE for manufacturing; PE where no GE is solved).
    pub counterfactual_usd_bn: f64,
    /// The partial-equilibrium change, %.
    pub pe_change_pct: f64,
    /// The general-equilibrium change, % (`None` where no GE is solved).
    pub ge_change_pct: Option<f64>,
    /// Korean exports to the EAEU: observed, USD bn.
    pub korea_exports_observed_usd_bn: f64,
    /// … their change with the FTA (GE where solved, else PE), USD bn.
    pub korea_exports_change_usd_bn: f64,
}

/// Everything the headline analysis produces.
#[derive(Debug, Clone, Serialize)]
pub struct Headline {
    /// Agreement entry as derived from the panel.
    pub entry: EntryInfo,
    /// The main specification of each sector (manufacturing is `main`).
    pub effects: Vec<(String, Effect)>,
    /// Services (reported beside the sectors, not in the totals), or why not.
    pub services: std::result::Result<Effect, String>,
    /// The lead test: `fta_f4`'s estimate and s.e. (manufacturing).
    pub lead: (f64, f64),
    /// The variants of the sensitivity table.
    pub variants: Vec<Effect>,
    /// The sensitivity table.
    pub sensitivity: Vec<SensitivityRow>,
    /// The sector table (GE year).
    pub sectors: Vec<SectorRow>,
    /// Sum over sectors: observed, counterfactual and PE change, USD bn.
    pub total_observed_usd_bn: f64,
    /// See `total_observed_usd_bn`.
    pub total_counterfactual_usd_bn: f64,
    /// The sum over sectors of the Korean exports' change, USD bn.
    pub korea_exports_change_usd_bn: f64,
    /// The same with every sector's effect fully phased in (its total), PE
    /// on observed GE-year exports, USD bn.
    pub korea_exports_change_long_run_usd_bn: f64,
    /// The ex-ante study's figure (+$1.8 bn).
    pub ex_ante_korea_exports_usd_bn: f64,
    /// Observed series and PE by sector.
    pub series: Vec<SeriesRow>,
    /// GE of manufacturing: the main run at the point, low and high effect.
    pub ge_main: (GeRun, GeRun, GeRun),
    /// GE on other base years with the GE year's effect.
    pub ge_base_years: Vec<GeRun>,
    /// GE results for the countries of interest (main, point).
    pub ge: Vec<gravity_model::simulate::CountryResult>,
    /// The same at the lower end of the effect's 95% interval.
    pub ge_low: Vec<gravity_model::simulate::CountryResult>,
    /// The same at the upper end.
    pub ge_high: Vec<gravity_model::simulate::CountryResult>,
    /// The GE point the chart draws.
    pub chart_ge_point: GePoint,
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

/// The ex-ante figure: Korean exports to the EAEU +$1.8 bn (Korea's trade
/// ministry, 2017, on the KIEP–VAVT joint feasibility study).
pub const EX_ANTE_EXPORTS_USD_BN: f64 = 1.8;

/// The main sample: international flows without the China–Hong Kong pair.
pub const MAIN_SUBSET: &str = "chn_hkg == 0 & domestic_complete == 0";

/// The phased-in terms of the main specification.
pub const PHASE_TERMS: [&str; 3] = ["fta", "fta_l4", "fta_l8"];

/// The panel for a GE on base year `year`: the rows of that year of every
/// country without international manufacturing exports or without imports
/// in it (e.g. Puerto Rico, all zeros in 2016–2018) moved out of the year
/// (their exports change would be 0/0). Returns the frame and those countries.
///
/// # Errors
///
/// [`ErrorKind::UnknownColumn`] for a missing column.
pub fn ge_frame(frame: &Frame, year: i64) -> Result<(Frame, Vec<String>)> {
    let pairs = pairs_of(frame)?;
    let years = numeric_col(frame, "year")?;
    let trade = numeric_col(frame, "trade")?;
    let y = year as f64;
    let mut exports: BTreeMap<&str, f64> = BTreeMap::new();
    let mut imports: BTreeMap<&str, f64> = BTreeMap::new();
    for (i, p) in pairs.iter().enumerate() {
        let Some((e, m)) = p else { continue };
        if years[i] != y || e == m {
            continue;
        }
        let x = if trade[i].is_finite() { trade[i] } else { 0.0 };
        *exports.entry(e).or_default() += x;
        *imports.entry(m).or_default() += x;
        exports.entry(m).or_default();
        imports.entry(e).or_default();
    }
    let without: Vec<&str> = exports
        .keys()
        .copied()
        .filter(|c| {
            exports.get(c).is_none_or(|v| *v <= 0.0) || imports.get(c).is_none_or(|v| *v <= 0.0)
        })
        .collect();
    let mut out = frame.clone();
    if !without.is_empty() {
        let moved: Vec<f64> = years
            .iter()
            .zip(&pairs)
            .map(|(&t, p)| match p {
                Some((e, m)) if t == y && (without.contains(e) || without.contains(m)) => f64::NAN,
                _ => t,
            })
            .collect();
        out.insert("year", Column::Numeric(moved.into()))?;
    }
    Ok((out, without.iter().map(|s| s.to_string()).collect()))
}

/// Solves the manufacturing GE of a Korea–EAEU FTA with log effect `effect`
/// in `year` (calibrated costs on the observed flows, imputed domestic flows).
fn solve_ge(
    frame: &Frame,
    fit: &Fit,
    inf: &Inference,
    sigma: f64,
    year: i64,
    effect: f64,
    tolerance: Option<f64>,
) -> Result<(GeRun, gravity_model::simulate::Counterfactual)> {
    use gravity_model::simulate::{Costs, Domestic, Scenario, Shock, Uncertainty};
    let path = gravity_panel::shipped_panel_path();
    let eaeu: Vec<String> = EAEU.iter().map(|s| s.to_string()).collect();
    let shock = Shock {
        variable: if fit.names.iter().any(|n| n == "fta") {
            "fta"
        } else {
            "fta_k"
        }
        .into(),
        value: 1.0,
        between: None,
        from: Some(vec!["KOR".into()].into()),
        to: Some(eaeu.into()),
        both_directions: true,
        coefficient: Some(effect),
    };
    let mut scenario = Scenario::new(
        path.clone(),
        fit.formula.to_string(),
        sigma,
        "DEU",
        vec![shock],
    );
    scenario.gdp = Some(path.with_file_name("gdp.csv"));
    scenario.vcov = pair_vcov();
    scenario.year = Some(year);
    scenario.domestic = Domestic::Impute;
    scenario.impute_pair_effects = vec![
        "ldist".into(),
        "contig".into(),
        "lang".into(),
        "colony".into(),
    ];
    scenario.uncertainty = Uncertainty::None;
    scenario.costs = Costs::Calibrated;
    scenario.tolerance = tolerance;
    let cf =
        gravity_model::simulate::run_with_fit(&scenario, frame, fit, inf, &|| {}).map_err(|e| {
            Error::numerical(
                ErrorKind::NoConvergence,
                format!(
                    "GE of {year} with effect {effect:.4} ({}): {e}",
                    fit.formula
                ),
            )
        })?;
    let mut run = GeRun {
        year,
        effect,
        korea_eaeu_base_usd: 0.0,
        korea_eaeu_full_usd: 0.0,
        korea_exports_base_usd: 0.0,
        korea_exports_full_usd: 0.0,
        korea_real_income_pct: cf
            .countries
            .iter()
            .find(|c| c.country == "KOR")
            .map_or(f64::NAN, |c| c.changes.real_gdp_change_pct),
    };
    for p in &cf.pairs {
        let exports = p.exporter == "KOR" && EAEU.contains(&p.importer.as_str());
        let imports = p.importer == "KOR" && EAEU.contains(&p.exporter.as_str());
        if exports || imports {
            run.korea_eaeu_base_usd += p.baseline * MILLION;
            run.korea_eaeu_full_usd += p.full * MILLION;
        }
        if exports {
            run.korea_exports_base_usd += p.baseline * MILLION;
            run.korea_exports_full_usd += p.full * MILLION;
        }
    }
    Ok((run, cf))
}

fn sensitivity_row(name: &str, e: &Effect, total_se: f64, g: &GeRun) -> SensitivityRow {
    SensitivityRow {
        name: name.into(),
        fta_total: e.total,
        fta_total_se: total_se,
        nobs: e.nobs,
        korea_eaeu_change_usd_bn: (g.korea_eaeu_full_usd - g.korea_eaeu_base_usd) / 1e9,
        korea_eaeu_change_pct: 100.0 * (g.korea_eaeu_full_usd / g.korea_eaeu_base_usd - 1.0),
        korea_real_income_pct: g.korea_real_income_pct,
        sanctions: sanction_coefs(e),
    }
}

/// Runs the whole headline analysis on the shipped panel and writes
/// `series.csv`, `ge.csv`, `summary.json` and `korea_eaeu.svg` into
/// `options.out`.
///
/// # Errors
///
/// The panel's, the fits' and the GE's errors; [`Error::Io`] for the files.
pub fn run(options: &HeadlineOptions) -> Result<Headline> {
    let t0 = std::time::Instant::now();
    let mut frame = gravity_panel::load_shipped_panel()?;
    let entry = prepare(&mut frame)?;
    let ssc = SmallSample::fixest();
    let years_at_ge = options.ge_year as i32 - options.start_year;

    // The main specification, by sector.
    let terms = PHASE_TERMS;
    let mut effects: Vec<(String, Effect)> = Vec::new();
    let mut main_fit = None;
    for (sector, column) in SECTORS {
        let f = estimate(&frame, column, &terms, Some(MAIN_SUBSET))?;
        let inf = f.inference(&pair_vcov(), ssc)?;
        let name = if sector == "manufacturing" {
            "main"
        } else {
            sector
        };
        effects.push((
            sector.into(),
            effect(name, &f, &inf, &terms, Some(MAIN_SUBSET))?,
        ));
        if sector == "manufacturing" {
            main_fit = Some((f, inf));
        }
    }
    let (fit_m, inf_m) = main_fit.ok_or_else(|| Error::Bug("no manufacturing sector".into()))?;
    let main = effects
        .iter()
        .find(|(s, _)| s == "manufacturing")
        .map(|(_, e)| e.clone())
        .ok_or_else(|| Error::Bug("no manufacturing sector".into()))?;

    // Services, beside the goods sectors (not in the totals: no domestic
    // flows and sparse coverage); an estimation failure is reported, not fatal.
    let services = estimate(&frame, "trade_services", &terms, Some(MAIN_SUBSET))
        .and_then(|f| {
            let inf = f.inference(&pair_vcov(), ssc)?;
            effect("services", &f, &inf, &terms, Some(MAIN_SUBSET))
        })
        .map_err(|e| e.to_string());

    // The lead test.
    let lead_fit = estimate(
        &frame,
        "trade",
        &["fta_f4", "fta", "fta_l4", "fta_l8"],
        Some(MAIN_SUBSET),
    )?;
    let lead_inf = lead_fit.inference(&pair_vcov(), ssc)?;
    let lead = lead_inf
        .coef("fta_f4")
        .map(|c| (c.estimate, c.std_error))
        .unwrap_or((f64::NAN, f64::NAN));

    // Variants (manufacturing).
    let today_fit = estimate(&frame, "trade", &["fta"], None)?;
    let today = effect(
        "annual contemporaneous only (the previous headline)",
        &today_fit,
        &today_fit.inference(&pair_vcov(), ssc)?,
        &["fta"],
        None,
    )?;
    let hk_subset = "domestic_complete == 0";
    let hk_fit = estimate(&frame, "trade", &terms, Some(hk_subset))?;
    let with_hk = effect(
        "with CHN–HKG",
        &hk_fit,
        &hk_fit.inference(&pair_vcov(), ssc)?,
        &terms,
        Some(hk_subset),
    )?;
    let twoway_inf = fit_m.inference(&twoway_vcov(), ssc)?;
    let twoway = effect(
        "two-way clustering (exporter, importer)",
        &fit_m,
        &twoway_inf,
        &terms,
        Some(MAIN_SUBSET),
    )?;
    let kor_terms = [
        "fta_k", "fta_l4_k", "fta_l8_k", "fta_o", "fta_l4_o", "fta_l8_o",
    ];
    let kor_fit = estimate(&frame, "trade", &kor_terms, Some(MAIN_SUBSET))?;
    let korea = effect(
        "Korea's own agreements",
        &kor_fit,
        &kor_fit.inference(&pair_vcov(), ssc)?,
        &kor_terms[..3],
        Some(MAIN_SUBSET),
    )?;

    let split_fit = estimate_with(&frame, "trade", &terms, &SANCTIONS_SPLIT, Some(MAIN_SUBSET))?;
    let split_inf = split_fit.inference(&pair_vcov(), ssc)?;
    let split = effect(
        SANCTIONS_SPLIT_ROW,
        &split_fit,
        &split_inf,
        &terms,
        Some(MAIN_SUBSET),
    )?;

    // PE on observed flows, every sector.
    let eff_refs: Vec<(&str, &str, &Effect)> = SECTORS
        .iter()
        .zip(&effects)
        .map(|((s, c), (_, e))| (*s, *c, e))
        .collect();
    let rows = series(&frame, &eff_refs, options.start_year)?;

    // GE of manufacturing in the GE year: the point and the ends of the
    // effect's 95% interval (the GE trade is monotone in the effect).
    let (b, se) = main.at(years_at_ge);
    let (g_point, cf) = solve_ge(
        &frame,
        &fit_m,
        &inf_m,
        options.sigma,
        options.ge_year,
        b,
        None,
    )?;
    let (g_low, cf_low) = solve_ge(
        &frame,
        &fit_m,
        &inf_m,
        options.sigma,
        options.ge_year,
        b - Z975 * se,
        None,
    )?;
    let (g_high, cf_high) = solve_ge(
        &frame,
        &fit_m,
        &inf_m,
        options.sigma,
        options.ge_year,
        b + Z975 * se,
        None,
    )?;
    let mut ge_base_years = Vec::new();
    let mut base_year_notes = Vec::new();
    for &y in &options.other_ge_years {
        // A looser tolerance on the robustness years: 2017's full-GE prices
        // stall at a residual of about 7e-7 (immaterial at USD bn precision).
        let (gframe, without) = ge_frame(&frame, y)?;
        if !without.is_empty() {
            base_year_notes.push(format!(
                "GE on base year {y}: left out {} (no manufacturing exports or imports that year)",
                without.join(", ")
            ));
        }
        match solve_ge(&gframe, &fit_m, &inf_m, options.sigma, y, b, Some(1e-6)) {
            Ok((g, _)) => ge_base_years.push(g),
            Err(e) => base_year_notes.push(format!("GE on base year {y} not solved: {e}")),
        }
    }
    let pick = |cf: &gravity_model::simulate::Counterfactual| -> Vec<gravity_model::simulate::CountryResult> {
        GE_COUNTRIES
            .iter()
            .filter_map(|c| cf.countries.iter().find(|r| r.country == *c).cloned())
            .collect()
    };
    let (ge, ge_low, ge_high) = (pick(&cf), pick(&cf_low), pick(&cf_high));
    let chart_ge_point = GePoint {
        year: options.ge_year as i32,
        value: g_point.korea_eaeu_full_usd / 1e9,
        interval: Interval {
            low: (g_low.korea_eaeu_full_usd / 1e9).min(g_high.korea_eaeu_full_usd / 1e9),
            high: (g_low.korea_eaeu_full_usd / 1e9).max(g_high.korea_eaeu_full_usd / 1e9),
        },
    };

    // Variants' GE: each on its own fit, at its effect as phased in by the GE year.
    let variant_ge = |fit: &Fit, inf: &Inference, effect: f64| -> Result<GeRun> {
        Ok(solve_ge(
            &frame,
            fit,
            inf,
            options.sigma,
            options.ge_year,
            effect,
            None,
        )?
        .0)
    };
    let g_today = variant_ge(
        &today_fit,
        &today_fit.inference(&pair_vcov(), ssc)?,
        today.at(years_at_ge).0,
    )?;
    let g_hk = variant_ge(
        &hk_fit,
        &hk_fit.inference(&pair_vcov(), ssc)?,
        with_hk.at(years_at_ge).0,
    )?;
    let g_kor = variant_ge(
        &kor_fit,
        &kor_fit.inference(&pair_vcov(), ssc)?,
        korea.at(years_at_ge).0,
    )?;
    let g_split = variant_ge(&split_fit, &split_inf, split.at(years_at_ge).0)?;
    let sensitivity = vec![
        sensitivity_row("main", &main, main.total_se, &g_point),
        sensitivity_row(&today.name, &today, today.total_se, &g_today),
        sensitivity_row(&with_hk.name, &with_hk, with_hk.total_se, &g_hk),
        sensitivity_row(&twoway.name, &twoway, twoway.total_se, &g_point),
        sensitivity_row(&korea.name, &korea, korea.total_se, &g_kor),
        sensitivity_row(&split.name, &split, split.total_se, &g_split),
    ];

    // The sector table, GE year.
    let ge_year = options.ge_year as i32;
    let cell = |sector: &str, flow: Option<&str>| -> (f64, f64) {
        rows.iter()
            .filter(|r| {
                r.year == ge_year
                    && r.partner == "EAEU"
                    && r.sector == sector
                    && flow.is_none_or(|f| r.flow == f)
            })
            .fold((0.0, 0.0), |a, r| {
                (a.0 + r.observed_usd, a.1 + r.pe_change_usd)
            })
    };
    let mut sectors = Vec::new();
    let mut long_run = 0.0;
    for (sector, e) in &effects {
        let (obs, pe) = cell(sector, None);
        let (obs_x, pe_x) = cell(sector, Some("exports"));
        long_run += pe_change(obs_x, e.total);
        let is_m = sector == "manufacturing";
        let (cf_usd, ge_pct, exp_change) = if is_m {
            (
                g_point.korea_eaeu_full_usd,
                Some(100.0 * (g_point.korea_eaeu_full_usd / g_point.korea_eaeu_base_usd - 1.0)),
                g_point.korea_exports_full_usd - g_point.korea_exports_base_usd,
            )
        } else {
            (obs + pe, None, pe_x)
        };
        sectors.push(SectorRow {
            sector: sector.clone(),
            fta_total: e.total,
            fta_total_se: e.total_se,
            effect_applied: e.at(years_at_ge).0,
            observed_usd_bn: obs / 1e9,
            counterfactual_usd_bn: cf_usd / 1e9,
            pe_change_pct: 100.0 * pe / obs,
            ge_change_pct: ge_pct,
            korea_exports_observed_usd_bn: obs_x / 1e9,
            korea_exports_change_usd_bn: exp_change / 1e9,
        });
    }
    let total_observed_usd_bn = sectors.iter().map(|s| s.observed_usd_bn).sum();
    let total_counterfactual_usd_bn = sectors.iter().map(|s| s.counterfactual_usd_bn).sum();
    let korea_exports_change_usd_bn = sectors.iter().map(|s| s.korea_exports_change_usd_bn).sum();

    // The check against Korean statistics.
    let pairs = pairs_of(&frame)?;
    let (year, goods) = (
        numeric_col(&frame, "year")?,
        numeric_col(&frame, "trade_goods")?,
    );
    let kor_rus: f64 = (0..frame.nrows())
        .filter(|&i| {
            year[i] == 2019.0
                && goods[i].is_finite()
                && matches!(pairs[i], Some(("KOR", "RUS")) | Some(("RUS", "KOR")))
        })
        .map(|i| goods[i] * MILLION)
        .sum();

    let assumptions = assumptions(options, &entry, &main, &split, &cf);
    std::fs::create_dir_all(&options.out).map_err(|e| Error::Io {
        path: options.out.clone(),
        source: e,
    })?;
    let series_path = options.out.join("series.csv");
    write_series_csv(&series_path, &rows)?;
    let ge_path = options.out.join("ge.csv");
    write_ge_csv(&ge_path, &ge, &ge_low, &ge_high)?;
    let svg_path = options.out.join("korea_eaeu.svg");
    plot_svg(&svg_path, &rows, options.start_year, Some(chart_ge_point))?;
    let json_path = options.out.join("summary.json");
    let mut head = Headline {
        entry,
        effects,
        services,
        lead,
        variants: vec![today, with_hk, twoway, korea, split],
        sensitivity,
        sectors,
        total_observed_usd_bn,
        total_counterfactual_usd_bn,
        korea_exports_change_usd_bn,
        korea_exports_change_long_run_usd_bn: long_run / 1e9,
        ex_ante_korea_exports_usd_bn: EX_ANTE_EXPORTS_USD_BN,
        series: rows,
        ge_main: (g_point, g_low, g_high),
        ge_base_years,
        ge,
        ge_low,
        ge_high,
        chart_ge_point,
        ge_notes: cf.notes.iter().cloned().chain(base_year_notes).collect(),
        ge_imputed: cf.imputed.len(),
        korea_russia_goods_2019_usd: kor_rus,
        assumptions,
        files: vec![series_path, ge_path, svg_path, json_path.clone()],
        seconds: 0.0,
    };
    head.seconds = t0.elapsed().as_secs_f64();
    let mut summary = serde_json::to_value(&head).map_err(|e| Error::Bug(e.to_string()))?;
    summary["imputed"] =
        serde_json::to_value(&cf.imputed).map_err(|e| Error::Bug(e.to_string()))?;
    let text = serde_json::to_string_pretty(&summary).map_err(|e| Error::Bug(e.to_string()))?;
    gravity_model::output::write_atomic(&json_path, |f| f.write_all(text.as_bytes()))?;
    Ok(head)
}

fn assumptions(
    options: &HeadlineOptions,
    entry: &EntryInfo,
    main: &Effect,
    split: &Effect,
    cf: &gravity_model::simulate::Counterfactual,
) -> Vec<String> {
    use gravity_model::simulate::ImputedKind;
    let p = |k: i32| main.at(k);
    vec![
        format!(
            "The FTA effect is that of the agreements entering 2001–2019, phased in: fta, fta_l4 and fta_l8 (the agreement in force 4 and 8 years earlier) are built only from the {} pairs whose agreement enters within the sample (the entry year derived as the first switch of fta from 0 to 1; the {} pairs with an agreement already in their first year are pre-sample, absorbed by the pair effects). Cumulative effect {:.3} ({:.3}) on entry, {:.3} ({:.3}) after 4 years, {:.3} ({:.3}) after 8 (s.e. clustered by pair).",
            entry.in_sample_pairs, entry.pre_sample_pairs, p(0).0, p(0).1, p(4).0, p(4).1, p(8).0, p(8).1
        ),
        format!(
            "China–Hong Kong is excluded from the estimation ({} rows; CEPA 2003, Hong Kong is an entrepôt): it alone moves the contemporaneous fta estimate. Estimation uses international flows only (domestic_complete == 0): the panel's few domestic rows cover 18 countries in scattered years and no EAEU member.",
            entry.chn_hkg_rows
        ),
        "By sector: agriculture, mining & energy and manufacturing (ITPD-E release 2) are estimated separately, each with its own phased effect; totals are sums over the three. Services are not included (no domestic flows, sparse coverage).".into(),
        format!(
            "Partial equilibrium on observed flows: from {} on, each observed Korea–EAEU flow X becomes X·exp(b_t), b_t the sector's cumulative effect after t − {} years in force; nothing else changes.",
            options.start_year, options.start_year
        ),
        format!(
            "General equilibrium of manufacturing in {} on the same observed base (costs calibrated to the observed flows, exact hat algebra) with σ = {}, DEU's inward resistance normalised, imbalances as fixed ratios of output; the Korea–EAEU costs change by the effect as phased in by {}. Agriculture and mining & energy are reported in partial equilibrium only: ITPD-E's domestic values for them are partial sums (no country-year reports more than 19 of the 28 agricultural industries; in 2019 two countries report 6 or 7 of the 7 mining industries) and no sectoral output data are at hand to impute them, so a multi-sector GE here would rest on invented domestic sales (the multi-sector solver itself is in the library: `gravity simulate` with [[sector]]); the real income change is that of a manufacturing-only economy.",
            options.ge_year, options.sigma, options.ge_year
        ),
        {
            let dom = cf.imputed.iter().filter(|i| i.kind == ImputedKind::DomesticFlow).count();
            format!(
                "Domestic manufacturing flows missing in {} ({} values, every EAEU member among them) are imputed from the country's domestic share of output in its nearest complete year, or from the median ratio of domestic sales to GDP (World Bank) times GDP, capped at GDP; each imputed value is in summary.json.",
                options.ge_year, dom
            )
        },
        "Intervals and bands cover the uncertainty of the FTA coefficients only (the effect at its 95% limits; exact because trade is monotone in the effect), not that of σ, the data or the model.".into(),
        sanctions_sentence(main, split),
    ]
}

/// The assumption on sanctions, with the estimates of the main row and of
/// the split row.
fn sanctions_sentence(main: &Effect, split: &Effect) -> String {
    let c = |e: &Effect, name: &str| -> String {
        sanction_coefs(e)
            .iter()
            .find(|c| c.name == name)
            .map_or("not estimated".into(), |c| {
                format!("{:.3} ({:.3})", c.estimate, c.std_error)
            })
    };
    format!(
        "Sanctions enter as the GSDB trade-sanction dummy sanction_trade ({} in manufacturing, s.e. by pair). Split by GSDB's descr_trade into sanction_complete (a trade case in force on the pair with a complete export or import ban) and sanction_partial (trade sanctions in force, none complete), the estimates are complete {} and partial {}; the FTA total is then {:.3} ({:.3}) against {:.3} ({:.3}) (sensitivity row \"{}\").",
        c(main, "sanction_trade"),
        c(split, "sanction_complete"),
        c(split, "sanction_partial"),
        split.total,
        split.total_se,
        main.total,
        main.total_se,
        SANCTIONS_SPLIT_ROW
    )
}

fn write_ge_csv(
    path: &Path,
    rows: &[gravity_model::simulate::CountryResult],
    low: &[gravity_model::simulate::CountryResult],
    high: &[gravity_model::simulate::CountryResult],
) -> Result<()> {
    use gravity_model::simulate::Quantity;
    gravity_model::output::write_atomic(path, |f| {
        writeln!(f, "country,real_gdp_change_pct,real_gdp_ci_low,real_gdp_ci_high,exports_change_full_pct,exports_ci_low,exports_ci_high,factory_price_change_pct,price_ci_low,price_ci_high,exports_change_conditional_pct,exports_change_partial_pct,inward_mr_change_pct,outward_mr_change_pct")?;
        for ((r, l), h) in rows.iter().zip(low).zip(high) {
            let c = &r.changes;
            let with_interval = |q: Quantity| {
                let (a, b) = (*l.changes.get(q), *h.changes.get(q));
                format!("{},{},{}", c.get(q), a.min(b), a.max(b))
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
