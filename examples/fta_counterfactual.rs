//! The headline: a hypothetical Korea–EAEU free trade agreement against the
//! observed series, by sector, phased in, in partial and general equilibrium
//! on the same observed base, with a sensitivity table (issue 16).
//!
//! ```sh
//! cargo run --release --example fta_counterfactual [-- --start-year 2015 --sigma 7 --out DIR]
//! ```
//!
//! All the work is in `korea_eaeu::run`; this file prints.

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
            "--out" => o.out = val()?.into(),
            "--help" | "-h" => {
                return Err(
                    "usage: fta_counterfactual [--start-year Y] [--sigma S] [--out DIR]".into(),
                )
            }
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
    println!("1. Structural gravity, PPML, ITPD-E 2000–2019, by sector; exporter-year, importer-year and pair effects");
    println!(
        "   Agreements: {} pairs enter within the sample (lags built from these only), {} pre-sample.",
        h.entry.in_sample_pairs, h.entry.pre_sample_pairs
    );
    println!(
        "   China–Hong Kong excluded from the estimation ({} rows); international flows only; s.e. clustered by pair.",
        h.entry.chn_hkg_rows
    );
    println!(
        "   {:<15} {:>7} {:>22} {:>22} {:>22}",
        "sector", "N", "on entry", "after 4 years", "after 8 years (total)"
    );
    for (s, e) in &h.effects {
        let c = |k: i32| {
            let (b, se) = e.at(k);
            format!("{b:.3} ({se:.3})")
        };
        println!(
            "   {:<15} {:>7} {:>22} {:>22} {:>22}",
            s,
            e.nobs,
            c(0),
            c(4),
            c(8)
        );
    }
    match &h.services {
        Ok(e) => {
            let c = |k: i32| {
                let (b, se) = e.at(k);
                format!("{b:.3} ({se:.3})")
            };
            println!(
                "   {:<15} {:>7} {:>22} {:>22} {:>22}   (beside, not in the totals)",
                "services",
                e.nobs,
                c(0),
                c(4),
                c(8)
            );
        }
        Err(e) => println!("   services: not estimated ({e})"),
    }
    println!(
        "   Lead test (manufacturing): fta at t+4 = {:.3} ({:.3})",
        h.lead.0, h.lead.1
    );

    println!("\n2. Observed Korea–EAEU trade, USD billions, exports to / imports from (all three sectors)");
    print!("   {:<6}", "year");
    for p in EAEU.iter().chain(["EAEU"].iter()) {
        print!(" {:>15}", p);
    }
    println!();
    let years: std::collections::BTreeSet<i32> = h.series.iter().map(|r| r.year).collect();
    for y in &years {
        print!("   {:<6}", y);
        for p in EAEU.iter().chain(["EAEU"].iter()) {
            let get = |flow: &str| -> f64 {
                h.series
                    .iter()
                    .filter(|r| r.year == *y && r.partner == *p && r.flow == flow)
                    .map(|r| r.observed_usd)
                    .sum()
            };
            print!(" {:>7}/{:<7}", bn(get("exports")), bn(get("imports")));
        }
        println!();
    }
    println!(
        "   Check: Korea–Russia goods trade (both directions) in 2019 in the data: ${} bn; the Korea International Trade Association reports $22.34 bn.",
        bn(h.korea_russia_goods_2019_usd)
    );

    println!(
        "\n3. Korea–EAEU FTA from {}, phased in, partial equilibrium on observed flows (exports + imports, USD bn)",
        options.start_year
    );
    println!(
        "   {:<6} {:>10} {:>10} {:>18} {:>10} {:>10}",
        "year", "manuf obs", "manuf FTA", "95% band", "all obs", "all FTA"
    );
    let m = totals_billions(&h.series, &["manufacturing"]);
    let all = totals_billions(
        &h.series,
        &["agriculture", "mining_energy", "manufacturing"],
    );
    for (t, a) in m.iter().zip(&all) {
        println!(
            "   {:<6} {:>10.2} {:>10.2} {:>18} {:>10.2} {:>10.2}",
            t.year,
            t.observed,
            t.counterfactual,
            format!("[{:.2}, {:.2}]", t.interval.low, t.interval.high),
            a.observed,
            a.counterfactual
        );
    }

    println!(
        "\n4. By sector, {} (USD bn; manufacturing in general equilibrium, the others in partial)",
        options.ge_year
    );
    println!(
        "   {:<15} {:>16} {:>8} {:>9} {:>9} {:>7} {:>7} {:>10} {:>10}",
        "sector",
        "total (s.e.)",
        "applied",
        "observed",
        "with FTA",
        "PE %",
        "GE %",
        "KOR exp",
        "exp chg"
    );
    for s in &h.sectors {
        println!(
            "   {:<15} {:>16} {:>8.3} {:>9.2} {:>9.2} {:>7.2} {:>7} {:>10.2} {:>+10.3}",
            s.sector,
            format!("{:.3} ({:.3})", s.fta_total, s.fta_total_se),
            s.effect_applied,
            s.observed_usd_bn,
            s.counterfactual_usd_bn,
            s.pe_change_pct,
            s.ge_change_pct.map_or("—".into(), |g| format!("{g:.2}")),
            s.korea_exports_observed_usd_bn,
            s.korea_exports_change_usd_bn
        );
    }
    println!(
        "   {:<15} {:>16} {:>8} {:>9.2} {:>9.2} {:>7.2}",
        "total",
        "",
        "",
        h.total_observed_usd_bn,
        h.total_counterfactual_usd_bn,
        100.0 * (h.total_counterfactual_usd_bn / h.total_observed_usd_bn - 1.0)
    );
    println!(
        "   Korean exports to the EAEU: {:+.2} bn in {} (effects as phased in by then), {:+.2} bn with every effect fully phased in (PE on {} exports); the ex-ante study (KIEP–VAVT, 2017): +{:.1} bn.",
        h.korea_exports_change_usd_bn, options.ge_year, h.korea_exports_change_long_run_usd_bn, options.ge_year, h.ex_ante_korea_exports_usd_bn
    );

    let (g, lo, hi) = &h.ge_main;
    println!(
        "\n5. General equilibrium of manufacturing, {} (effect {:.3}; in brackets the effect at its 95% limits)",
        options.ge_year, g.effect
    );
    println!(
        "   {:<8} {:>28} {:>28} {:>28}",
        "country", "real income %", "exports %", "factory-gate price %"
    );
    for ((r, l), u) in h.ge.iter().zip(&h.ge_low).zip(&h.ge_high) {
        let f = |v: f64, a: f64, b: f64| format!("{v:>8.3} [{:>7.3}, {:>7.3}]", a.min(b), a.max(b));
        println!(
            "   {:<8} {:>28} {:>28} {:>28}",
            r.country,
            f(
                r.changes.real_gdp_change_pct,
                l.changes.real_gdp_change_pct,
                u.changes.real_gdp_change_pct
            ),
            f(
                r.changes.exports_change_full_pct,
                l.changes.exports_change_full_pct,
                u.changes.exports_change_full_pct
            ),
            f(
                r.changes.factory_price_change_pct,
                l.changes.factory_price_change_pct,
                u.changes.factory_price_change_pct
            ),
        );
    }
    println!(
        "   Korea–EAEU manufacturing trade: observed (= GE baseline) ${} bn; with the FTA (full GE) ${} bn ({:+.1}%), 95% [{}, {}] — the chart's GE point",
        bn(g.korea_eaeu_base_usd),
        bn(g.korea_eaeu_full_usd),
        100.0 * (g.korea_eaeu_full_usd / g.korea_eaeu_base_usd - 1.0),
        bn(lo.korea_eaeu_full_usd.min(hi.korea_eaeu_full_usd)),
        bn(lo.korea_eaeu_full_usd.max(hi.korea_eaeu_full_usd))
    );
    println!("   Other base years (same effect):");
    for r in std::iter::once(g).chain(&h.ge_base_years) {
        println!(
            "   {}: observed ${} bn, with the FTA ${} bn ({:+.1}%), Korea's real income {:+.4}%",
            r.year,
            bn(r.korea_eaeu_base_usd),
            bn(r.korea_eaeu_full_usd),
            100.0 * (r.korea_eaeu_full_usd / r.korea_eaeu_base_usd - 1.0),
            r.korea_real_income_pct
        );
    }
    for n in &h.ge_notes {
        println!("   note: {n}");
    }

    println!(
        "\n6. Sensitivity (manufacturing; GE {}, effect as phased in by then)",
        options.ge_year
    );
    println!(
        "   {:<52} {:>8} {:>7} {:>8} {:>11} {:>8} {:>10}",
        "specification", "total", "s.e.", "N", "KOR–EAEU bn", "%", "KOR real %"
    );
    for s in &h.sensitivity {
        println!(
            "   {:<52} {:>8.3} {:>7.3} {:>8} {:>+11.2} {:>+8.2} {:>+10.4}",
            s.name,
            s.fta_total,
            s.fta_total_se,
            s.nobs,
            s.korea_eaeu_change_usd_bn,
            s.korea_eaeu_change_pct,
            s.korea_real_income_pct
        );
    }
    println!("   Sanction coefficients (s.e. as in the row):");
    for s in &h.sensitivity {
        let coefs: Vec<String> = s
            .sanctions
            .iter()
            .map(|c| format!("{} {:.3} ({:.3})", c.name, c.estimate, c.std_error))
            .collect();
        println!("   {:<52} {}", s.name, coefs.join(", "));
    }

    println!("\n7. Assumptions");
    for a in &h.assumptions {
        println!("   - {a}");
    }
    println!("\nWrote (in {:.1} s):", h.seconds);
    for f in &h.files {
        println!("   {}", f.display());
    }
    ExitCode::SUCCESS
}
