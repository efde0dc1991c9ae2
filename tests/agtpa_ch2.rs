//! The Advanced Guide's Chapter 2 general-equilibrium applications (Yotov,
//! Piermartini, Monteiro & Larch 2016), run from the scenario files in
//! `examples/` and checked against the book's published Stata logs.
//!
//! * Application 1, trade without borders (`examples/agtpa_trade_without_borders.toml`):
//!   the 2006 cross-section with exporter and importer effects, log distance,
//!   contiguity and an international-border dummy; every border removed.
//! * Application 2, NAFTA (`examples/agtpa_nafta.toml`): the 1986–2006 panel
//!   with exporter-year, importer-year and pair effects, second-stage
//!   imputation of missing pair effects, NAFTA removed in 1994.
//!
//! The logs (`tests/fixtures/agtpa/published/*.csv`, transcribed from the
//! book's application files: see the files' headers) print the coefficients
//! of every regression, including the exporter and importer fixed effects of
//! the baseline and of the conditional-GE PPML. From them the book's
//! conditional-GE changes follow exactly: with output and expenditure fixed,
//! `OMR_CDL/OMR_BLN = exp(π_BLN − π_CDL)` and `IMR_CDL/IMR_BLN = exp(χ_BLN − χ_CDL)`
//! (the do-files' `change_OMR_CDL`, `change_IMR_CDL`, raised to `1/(1−σ)`), and
//! for Application 1 the fitted flows `exp(π + χ + β·x)` give the conditional
//! change in exports (`change_Xi_CDL`).
//!
//! Tolerances. The logs print 7 significant digits. A fixed effect near 16
//! carries a rounding error up to 5e-6, a difference of two up to 1e-5, which
//! is 1.7e-6 after the power 1/(1−σ) with σ = 7: the resistance changes must
//! agree to 5e-6 relative (3 times that). Export sums add the rounding of β
//! (5e-8 times log distance ≈ 10): 2e-5 relative, checked at 5e-5. Stata's
//! `ppml` stops on its own deviance rule, not at our 1e-10; where that matters
//! more than rounding, the tolerance says so.
//!
//! The book's full-endowment GE is not compared: its do-files stop the
//! price iteration when the change is below 1e-2 (five passes here), far from
//! the equilibrium our solver reaches (checked instead for market clearing in
//! `tests/ge_properties.rs` and against gegravity in `tests/ge_gegravity.rs`).

use gravity_model::counterfactual::{solve_counterfactual, GeOutcome, GeParams, World};
use gravity_model::simulate::{
    ge_data, shocked_phi, GeData, PanelKeys, PolicyChange, Scenario, Uncertainty,
};
use gravity_model::{
    fit, CsvOptions, Estimator, Fit, FitOptions, Formula, Frame, SmallSample, VcovSpec,
};
use std::collections::HashMap;
use std::path::PathBuf;

const SIGMA: f64 = 7.0;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `(table, name) -> (coef, std_err)` from a transcribed log.
fn published(file: &str) -> HashMap<(String, String), (f64, f64)> {
    let path = root().join("tests/fixtures/agtpa/published").join(file);
    let text = std::fs::read_to_string(&path).expect("published log transcription");
    let mut out = HashMap::new();
    let mut header = true;
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        if header {
            assert_eq!(line.trim(), "table,name,coef,std_err");
            header = false;
            continue;
        }
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), 4, "{line}");
        let num = |s: &str| s.trim().parse::<f64>().unwrap_or_else(|_| panic!("{line}"));
        out.insert((f[0].to_string(), f[1].to_string()), (num(f[2]), num(f[3])));
    }
    out
}

/// The log's numbering of countries: alphabetical, with DEU recoded `ZZZ`
/// (so last). Exporter dummy `k` and importer dummy `k` name `order[k-1]`.
fn log_order(countries: &[String]) -> Vec<String> {
    let mut order: Vec<String> = countries.iter().filter(|c| *c != "DEU").cloned().collect();
    order.sort();
    order.push("DEU".into());
    order
}

/// Exporter (`π`) and importer (`χ`, DEU = 0) effects of one logged table.
fn fixed_effects(
    log: &HashMap<(String, String), (f64, f64)>,
    table: &str,
    order: &[String],
) -> (HashMap<String, f64>, HashMap<String, f64>) {
    let mut pi = HashMap::new();
    let mut chi = HashMap::new();
    for (k, c) in order.iter().enumerate() {
        let get = |name: String| log[&(table.to_string(), name)].0;
        pi.insert(c.clone(), get(format!("EXPORTER_FE{}", k + 1)));
        let x = if c == "DEU" {
            0.0
        } else {
            get(format!("IMPORTER_FE{}", k + 1))
        };
        chi.insert(c.clone(), x);
    }
    (pi, chi)
}

struct Run {
    scenario: Scenario,
    fit: Fit,
    data: GeData,
    outcome: GeOutcome,
}

/// Runs a scenario's pieces step by step so the resistances are visible.
fn run(file: &str) -> Run {
    let mut scenario = Scenario::from_toml_path(root().join("examples").join(file)).unwrap();
    scenario.uncertainty = Uncertainty::None;
    let frame = Frame::read_csv(&scenario.data, &CsvOptions::default(), None).unwrap();
    let formula = Formula::parse(&scenario.formula).unwrap();
    let fit = fit(&frame, &formula, Estimator::Ppml, &FitOptions::default()).unwrap();
    assert!(fit.info.converged);
    let year = scenario.year.unwrap() as f64;
    let data = ge_data(
        &frame,
        &fit,
        &PanelKeys::default(),
        year,
        scenario.domestic,
        &scenario.impute_pair_effects,
    )
    .unwrap();
    let n = data.countries.len();
    let shock = &scenario.shocks[0];
    let k = fit.names.iter().position(|v| *v == shock.variable).unwrap();
    let pairs: Vec<usize> = shock
        .pairs(&data.countries)
        .unwrap()
        .into_iter()
        .map(|(i, j)| i * n + j)
        .collect();
    let change = PolicyChange {
        policy: k,
        pairs,
        value: shock.value,
    };
    let phi_cf = shocked_phi(&data, &fit.beta, &[change]);
    let reference = data.countries.iter().position(|c| c == "DEU").unwrap();
    let world = World::from_trade(
        data.countries.clone(),
        &data.flows,
        data.phi.clone(),
        SIGMA,
        reference,
    )
    .unwrap();
    let outcome = solve_counterfactual(&world, &phi_cf, &GeParams::default()).unwrap();
    Run {
        scenario,
        fit,
        data,
        outcome,
    }
}

/// The book's conditional resistance changes against ours, country by country.
fn check_conditional_resistances(r: &Run, log: &HashMap<(String, String), (f64, f64)>, tol: f64) {
    let countries = &r.data.countries;
    let order = log_order(countries);
    let (pi_b, chi_b) = fixed_effects(log, "baseline", &order);
    let (pi_c, chi_c) = fixed_effects(log, "conditional", &order);
    let power = 1.0 / (1.0 - SIGMA);
    let o = &r.outcome;
    let mut worst: f64 = 0.0;
    for (i, c) in countries.iter().enumerate() {
        let book_omr = (pi_b[c] - pi_c[c]).exp().powf(power);
        let book_imr = (chi_b[c] - chi_c[c]).exp().powf(power);
        let ours_omr = (o.conditional.outward_pow[i] / o.baseline.outward_pow[i]).powf(power);
        let ours_imr = (o.conditional.inward_pow[i] / o.baseline.inward_pow[i]).powf(power);
        for (what, ours, book) in [("OMR", ours_omr, book_omr), ("IMR", ours_imr, book_imr)] {
            let rel = (ours / book - 1.0).abs();
            worst = worst.max(rel);
            assert!(
                rel <= tol,
                "{c}: conditional {what} change {:.6}% (ours) vs {:.6}% (book)",
                100.0 * (ours - 1.0),
                100.0 * (book - 1.0)
            );
        }
    }
    eprintln!("worst relative gap in conditional resistances: {worst:.2e}");
}

#[test]
fn trade_without_borders_baseline_is_the_books_regression() {
    let log = published("ch2_app1_stata.csv");
    let r = run("agtpa_trade_without_borders.toml");
    assert_eq!(r.fit.nobs(), 4761);
    let inf = r
        .fit
        .inference(&VcovSpec::Hetero, SmallSample::ppmlhdfe())
        .unwrap();
    for (ours, book) in [
        ("ldist", "ln_DIST"),
        ("cntg", "CNTG"),
        ("intl_brdr", "INTL_BRDR"),
    ] {
        let (b, se) = log[&("baseline".to_string(), book.to_string())];
        let row = inf.coef(ours).unwrap();
        // 7 significant digits in the log.
        assert!(
            (row.estimate - b).abs() <= 5e-7 * b.abs().max(1.0),
            "{ours}: {} vs {b}",
            row.estimate
        );
        // Stata's robust ("Semirobust") s.e. = HC0 · sqrt(N/(N−1)), our `ppmlhdfe` preset.
        assert!(
            (row.std_error - se).abs() <= 5e-7 * se.max(1.0),
            "{ours} s.e.: {} vs {se}",
            row.std_error
        );
    }
    // And pyfixest on the same file (tools/fixtures/agtpa_ch2.py), full precision.
    let doc: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/agtpa/ch2_pyfixest.json")).unwrap(),
    )
    .unwrap();
    let fixest = r
        .fit
        .inference(&VcovSpec::Hetero, SmallSample::fixest())
        .unwrap();
    let m = &doc["models"][1];
    assert_eq!(m["id"], "ppml_ch2_app1_hetero_fixest");
    for c in m["coefficients"].as_array().unwrap() {
        let row = fixest.coef(c["name"].as_str().unwrap()).unwrap();
        let (b, se) = (
            c["estimate"].as_f64().unwrap(),
            c["std_error"].as_f64().unwrap(),
        );
        assert!((row.estimate - b).abs() <= 1e-6 * b.abs(), "{}", row.name);
        assert!((row.std_error - se).abs() <= 1e-4 * se, "{} s.e.", row.name);
    }
}

#[test]
fn trade_without_borders_conditional_ge_matches_the_books_log() {
    let log = published("ch2_app1_stata.csv");
    let r = run("agtpa_trade_without_borders.toml");
    check_conditional_resistances(&r, &log, 5e-6);

    // Conditional change in exports from the book's fixed effects and
    // coefficients: X = exp(π_i + χ_j + β·x_ij), borders removed in the
    // counterfactual.
    let countries = &r.data.countries;
    let n = countries.len();
    let order = log_order(countries);
    let (pi_b, chi_b) = fixed_effects(&log, "baseline", &order);
    let (pi_c, chi_c) = fixed_effects(&log, "conditional", &order);
    let beta = |name: &str| log[&("baseline".to_string(), name.to_string())].0;
    let (b_dist, b_cntg, b_brdr) = (beta("ln_DIST"), beta("CNTG"), beta("INTL_BRDR"));
    let col = |name: &str| &r.data.policy.iter().find(|(v, _)| v == name).unwrap().1;
    let (ldist, cntg, brdr) = (col("ldist"), col("cntg"), col("intl_brdr"));
    let mut worst: f64 = 0.0;
    for (i, c) in countries.iter().enumerate() {
        let (mut x_b, mut x_c) = (0.0, 0.0);
        for (j, d) in countries.iter().enumerate() {
            if i == j {
                continue;
            }
            let k = i * n + j;
            let geo = b_dist * ldist[k] + b_cntg * cntg[k];
            x_b += (pi_b[c] + chi_b[d] + geo + b_brdr * brdr[k]).exp();
            x_c += (pi_c[c] + chi_c[d] + geo).exp();
        }
        let book = x_c / x_b;
        let ours = 1.0 + r.outcome.countries[i].exports_change_conditional_pct / 100.0;
        let rel = (ours / book - 1.0).abs();
        worst = worst.max(rel);
        assert!(
            rel <= 5e-5,
            "{c}: conditional exports {:.4}% (ours) vs {:.4}% (book)",
            100.0 * (ours - 1.0),
            100.0 * (book - 1.0)
        );
    }
    eprintln!("worst relative gap in conditional exports: {worst:.2e}");
}

#[test]
fn trade_without_borders_runs_from_its_scenario_file() {
    let mut s =
        Scenario::from_toml_path(root().join("examples/agtpa_trade_without_borders.toml")).unwrap();
    s.uncertainty = Uncertainty::CoefficientDraws { draws: 20, seed: 1 };
    let cf = gravity_model::simulate::run(&s).unwrap();
    // An unconverged GE is an error; the residual is the solver's own.
    assert!(cf.residual <= 1e-12, "full-GE residual {}", cf.residual);
    assert_eq!(cf.countries.len(), 69);
    assert!(cf.imputed.is_empty());
    assert_eq!(cf.draws_failed, 0);
    // Every international pair is shocked; no domestic one.
    assert_eq!(cf.pairs.iter().filter(|p| p.shocked).count(), 69 * 68);
    // The book's reading (Figure 2.1): removing borders raises every
    // country's real GDP, more so for small economies.
    for c in &cf.countries {
        assert!(c.changes.real_gdp_change_pct > 0.0, "{}", c.country);
        let iv = c.intervals.as_ref().unwrap();
        assert!(iv.real_gdp_change_pct.low > 0.0, "{}", c.country);
    }
    let usa = cf.countries.iter().find(|c| c.country == "USA").unwrap();
    let npl = cf.countries.iter().find(|c| c.country == "NPL").unwrap();
    assert!(npl.changes.real_gdp_change_pct > usa.changes.real_gdp_change_pct);
}

#[test]
fn nafta_estimates_are_the_books() {
    let log = published("ch2_app2_stata.csv");
    let r = run("agtpa_nafta.toml");
    assert_eq!(r.scenario.year, Some(1994));
    // Stage 1: the panel PPML (the book's Table 1 (4)), 7 digits in the log.
    let (rta, _) = log[&("panel".to_string(), "RTA".to_string())];
    assert!(
        (r.fit.beta[0] - rta).abs() <= 5e-7,
        "rta {} vs {rta}",
        r.fit.beta[0]
    );
    // Stage 2: exp(γ_ij) on gravity covariates, international pairs of 1994
    // with an estimated pair effect (4,678 in the log).
    let s2 = r
        .data
        .second_stage
        .as_ref()
        .expect("pair effects were imputed");
    assert_eq!(s2.nobs, 4678);
    for (ours, book) in [
        ("ldist", "ln_DIST"),
        ("cntg", "CNTG"),
        ("lang", "LANG"),
        ("clny", "CLNY"),
    ] {
        let (b, _) = log[&("stage2".to_string(), book.to_string())];
        let est = s2.coefficients.iter().find(|(n, _)| n == ours).unwrap().1;
        assert!((est - b).abs() <= 5e-6, "second stage {ours}: {est} vs {b}");
    }
}

#[test]
fn nafta_conditional_ge_matches_the_books_log() {
    let log = published("ch2_app2_stata.csv");
    let r = run("agtpa_nafta.toml");
    check_conditional_resistances(&r, &log, 5e-6);
}
