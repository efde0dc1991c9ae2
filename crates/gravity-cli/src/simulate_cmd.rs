//! `gravity simulate`.

use anyhow::{Context, Result};
use clap::Args;
use gravity_model::simulate::Scenario;
use gravity_model::simulate::{
    run_with_progress, Counterfactual, CountryResult, ImputedKind, IntervalMethod, PairResult,
    Quantity,
};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Run a general-equilibrium counterfactual described by a TOML scenario.
#[derive(Args, Debug)]
pub struct SimulateArgs {
    /// The scenario file (TOML; see the README for every key).
    #[arg(long, value_name = "FILE")]
    pub scenario: PathBuf,
    /// Print one JSON object on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Write countries.csv, pairs.csv and imputed.csv into this directory
    /// (and, for a multi-sector scenario, sectors.csv and sector_pairs.csv).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

pub fn run(args: SimulateArgs) -> Result<()> {
    let scenario = Scenario::from_toml_path(&args.scenario)?;
    if let Some(dir) = &args.out {
        if dir.exists() && !dir.is_dir() {
            anyhow::bail!("--out {}: is not a directory", dir.display());
        }
        let extra: &[&str] = if scenario.sectors.is_empty() {
            &[]
        } else {
            &SECTOR_OUTPUTS
        };
        for name in OUTPUTS.iter().chain(extra) {
            let path = dir.join(name);
            if dir.is_dir() {
                let mut inputs = vec![args.scenario.as_path(), scenario.data.as_path()];
                inputs.extend(scenario.gdp.as_deref());
                gravity_model::output::check_output(&path, &inputs)
                    .with_context(|| format!("--out {}", dir.display()))?;
            }
        }
    }
    let draws = scenario.uncertainty.draws();
    let bar = if std::io::stderr().is_terminal() && draws > 0 {
        let b = indicatif::ProgressBar::new(draws as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template("draws {bar:40} {pos}/{len} ({eta})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(b)
    } else {
        None
    };
    let tick = || {
        if let Some(b) = &bar {
            b.inc(1);
        }
    };
    let cf = run_with_progress(&scenario, &tick)?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    for note in &cf.notes {
        eprintln!("note: {note}");
    }
    if !cf.imputed.is_empty() {
        eprintln!(
            "note: {} values imputed (domestic flows and pair effects); listed in the JSON output and, with --out, imputed.csv",
            cf.imputed.len()
        );
    }
    for i in cf
        .imputed
        .iter()
        .filter(|i| i.kind == ImputedKind::DomesticFlow)
    {
        let check = i
            .check
            .as_ref()
            .map(|c| format!("; {:.3} of GDP {:.1}", c.share_of_gdp, c.gdp))
            .unwrap_or_default();
        eprintln!(
            "note: imputed domestic flow {}: {:.1} ({}{check})",
            i.exporter, i.value, i.method
        );
    }
    if let Some(dir) = &args.out {
        write_csv(dir, &cf).with_context(|| format!("cannot write into {}", dir.display()))?;
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        let mut v = serde_json::to_value(&cf)?;
        // Keep the JSON small: all pairs go to pairs.csv; JSON lists the shocked ones.
        if let Some(pairs) = v.get_mut("pairs").and_then(|p| p.as_array_mut()) {
            pairs.retain(|p| p["shocked"] == true);
        }
        if let Some(sectors) = v.get_mut("sectors").and_then(|s| s.as_array_mut()) {
            for sector in sectors {
                if let Some(pairs) = sector.get_mut("pairs").and_then(|p| p.as_array_mut()) {
                    pairs.retain(|p| p["shocked"] == true);
                }
            }
        }
        serde_json::to_writer_pretty(&mut out, &v)?;
        writeln!(out)?;
    } else {
        print_table(&mut out, &cf)?;
    }
    Ok(())
}

fn print_table(out: &mut impl Write, cf: &Counterfactual) -> Result<()> {
    writeln!(
        out,
        "General-equilibrium counterfactual, {} (σ = {}, reference {}), converged in {} iterations",
        cf.year, cf.sigma, cf.reference, cf.iterations
    )?;
    for c in &cf.coefficients {
        writeln!(
            out,
            "  {} = {:.4}{}",
            c.variable,
            c.estimate,
            if c.overridden {
                " (set by the scenario)".to_owned()
            } else {
                format!(" (s.e. {:.4})", c.std_error)
            }
        )?;
    }
    if !cf.sectors.is_empty() {
        let list: Vec<String> = cf
            .sectors
            .iter()
            .map(|s| {
                format!(
                    "{} ({}, σ = {}, N = {})",
                    s.sector, s.outcome, s.sigma, s.baseline_nobs
                )
            })
            .collect();
        writeln!(
            out,
            "  multi-sector GE, {} sectors: {}; totals over sectors below (price %: nominal output, \
             P %: consumer price index, real GDP %: real income); per sector in --json and --out \
             sectors.csv",
            cf.sectors.len(),
            list.join(", ")
        )?;
    }
    if let Some(s) = &cf.second_stage {
        let coefs: Vec<String> = s
            .coefficients
            .iter()
            .map(|(name, b)| format!("{name} {b:.4}"))
            .collect();
        writeln!(
            out,
            "  missing pair effects imputed by {} (N = {}): {}",
            s.formula,
            s.nobs,
            coefs.join(", ")
        )?;
    }
    writeln!(
        out,
        "{:<8} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>22}",
        "country",
        "exp PE %",
        "exp cGE %",
        "exp GE %",
        "price %",
        "P %",
        "Π %",
        "real GDP % [95% CI]"
    )?;
    let mut rows: Vec<&CountryResult> = cf.countries.iter().collect();
    rows.sort_by(|a, b| {
        b.changes
            .real_gdp_change_pct
            .abs()
            .total_cmp(&a.changes.real_gdp_change_pct.abs())
    });
    for r in rows.iter().take(20) {
        let ci = r
            .intervals
            .as_ref()
            .map(|i| {
                format!(
                    "[{:.3}, {:.3}]",
                    i.real_gdp_change_pct.low, i.real_gdp_change_pct.high
                )
            })
            .unwrap_or_default();
        let c = &r.changes;
        writeln!(
            out,
            "{:<8} {:>10.3} {:>10.3} {:>10.3} {:>10.3} {:>10.3} {:>10.3} {:>8.3} {}",
            r.country,
            c.exports_change_partial_pct,
            c.exports_change_conditional_pct,
            c.exports_change_full_pct,
            c.factory_price_change_pct,
            c.inward_mr_change_pct,
            c.outward_mr_change_pct,
            c.real_gdp_change_pct,
            ci
        )?;
    }
    if cf.countries.len() > 20 {
        writeln!(
            out,
            "… {} more countries (use --json or --out)",
            cf.countries.len() - 20
        )?;
    }
    if cf.draws > 0 {
        let what = if cf.uncertainty == IntervalMethod::Pairs {
            "draws of a pair-cluster bootstrap of the whole pipeline"
        } else {
            "draws of the policy coefficients"
        };
        writeln!(
            out,
            "Intervals: 2.5–97.5 percentiles over {} {what} ({} failed)",
            cf.draws, cf.draws_failed
        )?;
        for c in &cf.coefficients {
            if let (Some(m), Some(sd)) = (c.draws_mean, c.draws_std_error) {
                writeln!(
                    out,
                    "  {} over the draws: mean {m:.4}, standard deviation {sd:.4}",
                    c.variable
                )?;
            }
        }
    }
    Ok(())
}

/// The files `--out` writes.
const OUTPUTS: [&str; 3] = ["countries.csv", "pairs.csv", "imputed.csv"];

/// The files `--out` adds for a multi-sector scenario.
const SECTOR_OUTPUTS: [&str; 2] = ["sectors.csv", "sector_pairs.csv"];

/// Writes every file to a temporary beside its target first, then renames
/// them all: a failure leaves the old files, never a new one beside a cut one.
fn write_csv(dir: &Path, cf: &Counterfactual) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut staged = gravity_model::output::Staged::new();
    staged.add(&dir.join(OUTPUTS[0]), |out| {
        let mut w = csv::Writer::from_writer(out);
        countries_csv(&mut w, cf).map_err(std::io::Error::other)?;
        w.flush()
    })?;
    staged.add(&dir.join(OUTPUTS[1]), |out| {
        let mut w = csv::Writer::from_writer(out);
        pairs_csv(&mut w, cf).map_err(std::io::Error::other)?;
        w.flush()
    })?;
    staged.add(&dir.join(OUTPUTS[2]), |out| {
        let mut w = csv::Writer::from_writer(out);
        imputed_csv(&mut w, cf).map_err(std::io::Error::other)?;
        w.flush()
    })?;
    if !cf.sectors.is_empty() {
        staged.add(&dir.join(SECTOR_OUTPUTS[0]), |out| {
            let mut w = csv::Writer::from_writer(out);
            sectors_csv(&mut w, cf).map_err(std::io::Error::other)?;
            w.flush()
        })?;
        staged.add(&dir.join(SECTOR_OUTPUTS[1]), |out| {
            let mut w = csv::Writer::from_writer(out);
            sector_pairs_csv(&mut w, cf).map_err(std::io::Error::other)?;
            w.flush()
        })?;
    }
    staged.commit()?;
    Ok(())
}

fn countries_csv<W: Write>(w: &mut csv::Writer<W>, cf: &Counterfactual) -> csv::Result<()> {
    let mut header = vec!["country"];
    header.extend(Quantity::ALL.map(Quantity::name));
    header.extend(["real_gdp_change_pct_ci_low", "real_gdp_change_pct_ci_high"]);
    w.write_record(&header)?;
    for c in &cf.countries {
        let (lo, hi) = c
            .intervals
            .as_ref()
            .map(|i| {
                (
                    i.real_gdp_change_pct.low.to_string(),
                    i.real_gdp_change_pct.high.to_string(),
                )
            })
            .unwrap_or_default();
        let mut record = vec![c.country.clone()];
        record.extend(Quantity::ALL.map(|q| c.changes.get(q).to_string()));
        record.extend([lo, hi]);
        w.write_record(&record)?;
    }
    Ok(())
}

/// The columns of one pair's flows, in `pairs.csv` and `sector_pairs.csv`.
const PAIR_COLUMNS: [&str; 7] = [
    "exporter",
    "importer",
    "shocked",
    "baseline",
    "partial",
    "conditional",
    "full",
];

/// One pair's flows, in the order of [`PAIR_COLUMNS`].
fn pair_record(p: &PairResult) -> [String; 7] {
    [
        p.exporter.clone(),
        p.importer.clone(),
        (p.shocked as u8).to_string(),
        p.baseline.to_string(),
        p.partial.to_string(),
        p.conditional.to_string(),
        p.full.to_string(),
    ]
}

fn pairs_csv<W: Write>(w: &mut csv::Writer<W>, cf: &Counterfactual) -> csv::Result<()> {
    w.write_record(PAIR_COLUMNS)?;
    for p in &cf.pairs {
        w.write_record(pair_record(p))?;
    }
    Ok(())
}

/// Every imputed value with its check against GDP (empty where none).
fn imputed_csv<W: Write>(w: &mut csv::Writer<W>, cf: &Counterfactual) -> csv::Result<()> {
    w.write_record([
        "kind",
        "exporter",
        "importer",
        "value",
        "method",
        "gdp",
        "share_of_gdp",
    ])?;
    for i in &cf.imputed {
        let (gdp, share) = i
            .check
            .as_ref()
            .map(|c| (c.gdp.to_string(), c.share_of_gdp.to_string()))
            .unwrap_or_default();
        w.write_record([
            i.kind.as_str().to_owned(),
            i.exporter.clone(),
            i.importer.clone(),
            i.value.to_string(),
            i.method.clone(),
            gdp,
            share,
        ])?;
    }
    Ok(())
}

/// One row per sector and country of a multi-sector scenario.
fn sectors_csv<W: Write>(w: &mut csv::Writer<W>, cf: &Counterfactual) -> csv::Result<()> {
    w.write_record([
        "sector",
        "country",
        "exports_change_partial_pct",
        "exports_change_conditional_pct",
        "exports_change_full_pct",
        "factory_price_change_pct",
        "inward_mr_change_pct",
        "outward_mr_change_pct",
    ])?;
    for s in &cf.sectors {
        for c in &s.countries {
            w.write_record([
                s.sector.clone(),
                c.country.clone(),
                c.exports_change_partial_pct.to_string(),
                c.exports_change_conditional_pct.to_string(),
                c.exports_change_full_pct.to_string(),
                c.factory_price_change_pct.to_string(),
                c.inward_mr_change_pct.to_string(),
                c.outward_mr_change_pct.to_string(),
            ])?;
        }
    }
    Ok(())
}

/// One row per sector and pair of a multi-sector scenario.
fn sector_pairs_csv<W: Write>(w: &mut csv::Writer<W>, cf: &Counterfactual) -> csv::Result<()> {
    let mut header = vec!["sector"];
    header.extend(PAIR_COLUMNS);
    w.write_record(&header)?;
    for s in &cf.sectors {
        for p in &s.pairs {
            let mut record = vec![s.sector.clone()];
            record.extend(pair_record(p));
            w.write_record(&record)?;
        }
    }
    Ok(())
}
