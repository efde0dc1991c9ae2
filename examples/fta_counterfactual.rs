//! The headline: a hypothetical Korea–EAEU free trade agreement against the
//! observed series, in partial and general equilibrium, with 95% intervals.
//!
//! ```sh
//! cargo run --release --example fta_counterfactual [-- --start-year 2015 --sigma 7 --draws 200 --out DIR]
//! ```
//!
//! All the work is in `gravity_model::korea_eaeu::run`; this file prints.

use korea_eaeu::{run, totals_billions, HeadlineOptions, EAEU};
use std::process::ExitCode;

fn parse_args() -> Result<HeadlineOptions, String> {
    let mut o = HeadlineOptions::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--start-year" => {
                o.start_year = val()?.parse().map_err(|e| format!("--start-year: {e}"))?
            }
            "--sigma" => o.sigma = val()?.parse().map_err(|e| format!("--sigma: {e}"))?,
            "--draws" => o.draws = val()?.parse().map_err(|e| format!("--draws: {e}"))?,
            "--out" => o.out = val()?.into(),
            "--help" | "-h" => return Err(
                "usage: fta_counterfactual [--start-year Y] [--sigma S] [--draws N] [--out DIR]"
                    .into(),
            ),
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(o)
}

fn bn(x: f64) -> String {
    format!("{:.2}", x / 1e9)
}

fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("fta_counterfactual: {e}");
            return ExitCode::from(2);
        }
    };
    let h = match run(&options) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("fta_counterfactual: {e}");
            return ExitCode::from(2);
        }
    };
    println!("Korea and the Eurasian Economic Union (RUS, KAZ, BLR, ARM, KGZ): a hypothetical FTA");
    println!(
        "==================================================================================\n"
    );
    println!("1. Structural gravity, PPML, ITPD-E manufacturing 2000–2019, all countries");
    println!("   trade ~ fta + sanction_trade | exporter^year + importer^year + exporter^importer");
    println!(
        "   N = {} of {} rows; dropped: {} missing, {} singletons, {} separated; converged in {} iterations",
        h.nobs, h.nobs_full, h.dropped.missing, h.dropped.singletons, h.dropped.separated, h.iterations
    );
    println!(
        "   {:<16} {:>9} {:>9} {:>8}   (s.e. clustered by pair)",
        "", "estimate", "s.e.", "p"
    );
    for c in &h.model {
        println!(
            "   {:<16} {:>9.4} {:>9.4} {:>8.4}",
            c.name, c.estimate, c.std_error, c.p_value
        );
    }
    println!("   With the EAEU's own effect:");
    for c in &h.model_eaeu {
        println!(
            "   {:<16} {:>9.4} {:>9.4} {:>8.4}",
            c.name, c.estimate, c.std_error, c.p_value
        );
    }
    println!(
        "\n2. Observed Korea–EAEU manufacturing trade, USD billions (exports to / imports from)"
    );
    print!("   {:<6}", "year");
    for p in EAEU.iter().chain(["EAEU"].iter()) {
        print!(" {:>15}", p);
    }
    println!();
    let years: std::collections::BTreeSet<i32> = h.series.iter().map(|r| r.year).collect();
    for y in &years {
        print!("   {:<6}", y);
        for p in EAEU.iter().chain(["EAEU"].iter()) {
            let get = |flow: &str| {
                h.series
                    .iter()
                    .find(|r| r.year == *y && r.partner == *p && r.flow == flow)
                    .map_or(0.0, |r| r.observed_usd)
            };
            print!(" {:>7}/{:<7}", bn(get("exports")), bn(get("imports")));
        }
        println!();
    }
    println!(
        "\n   Check: Korea–Russia goods trade (both directions) in 2019 in the data: ${} bn; \
         the Korea International Trade Association reports $22.34 bn.",
        bn(h.korea_russia_goods_2019_usd)
    );
    println!(
        "\n3. Korea–EAEU FTA from {} (partial equilibrium), exports + imports, USD billions",
        options.start_year
    );
    println!(
        "   {:<6} {:>9} {:>9} {:>15} {:>22}",
        "year", "observed", "baseline", "counterfactual", "95% interval"
    );
    for t in totals_billions(&h.series) {
        println!(
            "   {:<6} {:>9.2} {:>9.2} {:>15.2} {:>22}",
            t.year,
            t.observed,
            t.baseline,
            t.counterfactual,
            format!("[{:.2}, {:.2}]", t.interval.low, t.interval.high)
        );
    }
    println!(
        "\n4. General equilibrium, {} (full endowment; % change, 95% interval over {} draws)",
        options.ge_year, options.draws
    );
    println!(
        "   {:<8} {:>28} {:>28} {:>28}",
        "country", "real GDP", "exports", "factory-gate price"
    );
    for r in &h.ge {
        let iv = r.intervals.as_ref();
        let f = |v: f64, lo: Option<f64>, hi: Option<f64>| match (lo, hi) {
            (Some(l), Some(h)) => format!("{v:>8.3} [{l:>7.3}, {h:>7.3}]"),
            _ => format!("{v:>8.3}"),
        };
        println!(
            "   {:<8} {:>28} {:>28} {:>28}",
            r.country,
            f(
                r.changes.real_gdp_change_pct,
                iv.map(|i| i.real_gdp_change_pct.low),
                iv.map(|i| i.real_gdp_change_pct.high)
            ),
            f(
                r.changes.exports_change_full_pct,
                iv.map(|i| i.exports_change_full_pct.low),
                iv.map(|i| i.exports_change_full_pct.high)
            ),
            f(
                r.changes.factory_price_change_pct,
                iv.map(|i| i.factory_price_change_pct.low),
                iv.map(|i| i.factory_price_change_pct.high)
            ),
        );
    }
    let (b, f) = h.ge_korea_eaeu_trade;
    println!(
        "   Korea–EAEU trade in the GE baseline: ${} bn; with the FTA (full GE): ${} bn ({:+.1}%)",
        bn(b),
        bn(f),
        100.0 * (f / b - 1.0)
    );
    for n in &h.ge_notes {
        println!("   note: {n}");
    }
    println!("\n5. Assumptions");
    for a in &h.assumptions {
        println!("   - {a}");
    }
    println!("\nWrote (in {:.1} s):", h.seconds);
    for f in &h.files {
        println!("   {}", f.display());
    }
    ExitCode::SUCCESS
}
