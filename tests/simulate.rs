//! The counterfactual pipeline on the Advanced Guide's data (Chapter 2,
//! Application 2: dissolving NAFTA in 1994).

use gravity_model::counterfactual::FullGe;
use gravity_model::simulate::{
    conditional_by_ppml, ge_data, run, Domestic, ImputedKind, PanelKeys, Scenario, Uncertainty,
};
use gravity_model::{fit, CsvOptions, Estimator, FitOptions, Formula, Frame};
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn nafta(draws: usize) -> Scenario {
    let mut s = Scenario::from_toml_path(root().join("examples/agtpa_nafta.toml")).unwrap();
    s.uncertainty = if draws == 0 {
        Uncertainty::None
    } else {
        Uncertainty::CoefficientDraws { draws, seed: 1 }
    };
    s
}

#[test]
fn nafta_dissolution_hurts_its_members_and_helps_outsiders() {
    let cf = run(&nafta(50)).unwrap();
    assert!(cf.residual <= 1e-12, "full-GE residual {}", cf.residual);
    assert_eq!(cf.baseline_nobs, 28_482);
    assert_eq!(cf.countries.len(), 69);
    // The 7 symmetric pairs without trade get imputed pair effects (14 ordered pairs).
    assert_eq!(
        cf.imputed
            .iter()
            .filter(|i| i.kind == ImputedKind::PairEffect)
            .count(),
        14
    );
    for c in &cf.countries {
        let member = ["CAN", "MEX", "USA"].contains(&c.country.as_str());
        assert_eq!(c.changes.real_gdp_change_pct < 0.0, member, "{}", c.country);
        let iv = c.intervals.as_ref().unwrap();
        assert!(iv.real_gdp_change_pct.low <= c.changes.real_gdp_change_pct + 1e-9);
        assert!(iv.real_gdp_change_pct.high >= c.changes.real_gdp_change_pct - 1e-9);
    }
    assert_eq!(cf.draws_failed, 0);
}

#[test]
fn a_shock_that_changes_nothing_changes_nothing() {
    // Setting rta to 0 where it already is 0 (DEU–JPN had no agreement).
    let mut s = nafta(0);
    s.shocks[0].between = Some(vec!["DEU".into(), "JPN".into()].into());
    let cf = run(&s).unwrap();
    for c in &cf.countries {
        for v in [
            c.changes.exports_change_partial_pct,
            c.changes.exports_change_conditional_pct,
            c.changes.exports_change_full_pct,
            c.changes.factory_price_change_pct,
            c.changes.inward_mr_change_pct,
            c.changes.outward_mr_change_pct,
            c.changes.real_gdp_change_pct,
        ] {
            assert!(v.abs() < 1e-10, "{}: {v}", c.country);
        }
    }
    // Adding up: the baseline reproduces observed output and expenditure.
    let n = cf.countries.len();
    let frame = Frame::read_csv(
        &root().join("tests/fixtures/agtpa/ch1_app3.csv.gz"),
        &CsvOptions::default(),
        None,
    )
    .unwrap();
    let f = fit(
        &frame,
        &Formula::parse(&s.formula).unwrap(),
        Estimator::Ppml,
        &FitOptions::default(),
    )
    .unwrap();
    let data = ge_data(
        &frame,
        &f,
        &PanelKeys::default(),
        s.year.unwrap() as f64,
        Domestic::Observed,
        &s.impute_pair_effects,
    )
    .unwrap();
    for i in 0..n {
        let observed: f64 = (0..n).map(|j| data.flows[i * n + j]).sum();
        let fitted: f64 = (0..n).map(|j| cf.pairs[i * n + j].baseline).sum();
        assert!(
            (fitted / observed - 1.0).abs() < 1e-9,
            "{}",
            cf.countries[i].country
        );
    }
}

#[test]
fn conditional_ge_agrees_with_the_geppml_route() {
    // Anderson, Larch & Yotov (2018): re-estimating PPML with exporter and
    // importer fixed effects and the counterfactual costs as an offset gives
    // the conditional counterfactual flows.
    let s = nafta(0);
    let cf = run(&s).unwrap();
    let n = cf.countries.len();
    let countries: Vec<String> = cf.countries.iter().map(|c| c.country.clone()).collect();
    let baseline: Vec<f64> = cf.pairs.iter().map(|p| p.baseline).collect();
    // φ' / φ = partial / baseline; φ up to exporter and importer factors,
    // which the fixed effects absorb: use the baseline fitted flows.
    let phi_cf: Vec<f64> = cf.pairs.iter().map(|p| p.partial).collect();
    let via_ppml = conditional_by_ppml(&countries, &baseline, &phi_cf).unwrap();
    for i in 0..n {
        let x0: f64 = (0..n)
            .filter(|&j| j != i)
            .map(|j| baseline[i * n + j])
            .sum();
        let a: f64 = (0..n)
            .filter(|&j| j != i)
            .map(|j| cf.pairs[i * n + j].conditional)
            .sum();
        let b: f64 = (0..n)
            .filter(|&j| j != i)
            .map(|j| via_ppml[i * n + j])
            .sum();
        let (pa, pb) = (100.0 * (a / x0 - 1.0), 100.0 * (b / x0 - 1.0));
        assert!(
            (pa - pb).abs() < 1e-6 * (1.0 + pa.abs()),
            "{}: {pa} vs {pb}",
            countries[i]
        );
    }
}

#[test]
fn draws_do_not_depend_on_the_number_of_threads() {
    let run = |t: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build()
            .unwrap()
            .install(|| run(&nafta(16)).unwrap())
    };
    let (a, b) = (run(1), run(2));
    for (x, y) in a.countries.iter().zip(&b.countries) {
        assert_eq!(x, y);
    }
}

#[test]
fn scenario_errors_name_the_key() {
    let mut s = nafta(0);
    s.reference = "XXX".into();
    let e = run(&s).unwrap_err().to_string();
    assert!(e.contains("reference") && e.contains("XXX"), "{e}");
    let mut s = nafta(0);
    s.shocks[0].variable = "fta".into();
    let e = run(&s).unwrap_err().to_string();
    assert!(e.contains("shock[0].variable"), "{e}");
    let mut s = nafta(0);
    s.year = Some(2005);
    let e = run(&s).unwrap_err().to_string();
    assert!(e.contains("year"), "{e}");
    let e = Scenario::from_toml_str(
        "data = \"p.csv\"\nformula = \"y ~ x\"\nsigma = 5\nreference = \"A\"\n\
         full_ge = \"loop\"\n[[shock]]\nvariable = \"x\"\nvalue = 0\nbetween = \"all\"\n",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("full_ge") && e.contains("loop"), "{e}");
}

#[test]
fn first_step_mode_keeps_the_conditional_ge_and_says_so() {
    let clearing = run(&nafta(0)).unwrap();
    let mut s = nafta(0);
    s.full_ge = FullGe::FirstStep;
    let step = run(&s).unwrap();
    assert!(step.notes.iter().any(|n| n.contains("first_step")));
    assert!(!clearing.notes.iter().any(|n| n.contains("first_step")));
    for (a, b) in clearing.countries.iter().zip(&step.countries) {
        assert_eq!(
            a.changes.exports_change_conditional_pct,
            b.changes.exports_change_conditional_pct
        );
        // First order the same: the first step stops short of the fixed point
        // by a second-order gap (at most 0.06 pp here, on changes up to 3.7%;
        // the same 0.1 pp bound as against gegravity in tests/ge_gegravity.rs).
        assert!(
            (a.changes.real_gdp_change_pct - b.changes.real_gdp_change_pct).abs() <= 0.1
                && a.changes.real_gdp_change_pct.signum() == b.changes.real_gdp_change_pct.signum(),
            "{}: {} vs {}",
            a.country,
            a.changes.real_gdp_change_pct,
            b.changes.real_gdp_change_pct
        );
    }
}

#[test]
fn pair_cluster_bootstrap_of_the_whole_pipeline() {
    let mut s = nafta(6);
    s.uncertainty = Uncertainty::PairBootstrap { draws: 6, seed: 1 };
    let a = run(&s).unwrap();
    assert_eq!(a.draws, 6);
    assert!(a.draws_failed < 6);
    for c in &a.countries {
        let iv = c.intervals.as_ref().expect("bootstrap intervals");
        assert!(iv.real_gdp_change_pct.low <= iv.real_gdp_change_pct.high);
    }
    // The NAFTA members lose in every replicate.
    for m in ["CAN", "MEX", "USA"] {
        let c = a.countries.iter().find(|c| c.country == m).unwrap();
        assert!(
            c.intervals.as_ref().unwrap().real_gdp_change_pct.high < 0.0,
            "{m}"
        );
    }
    // Seeded: the same draws again.
    let b = run(&s).unwrap();
    assert_eq!(a.countries, b.countries);
    // With the shock's coefficient fixed by the scenario, a draw changes the
    // GE only through the baseline costs it rebuilds: the pair effects of
    // the whole panel at the draw's estimate, which move little. So each
    // member's interval stays within 10% of its point estimate. (Before, a
    // treated pair whose cluster was not drawn got a pair effect imputed
    // from distance, and a country whose domestic flows were not drawn an
    // arbitrary domestic cost: MEX's real-GDP interval reached up to −0.1%
    // around a point estimate of −3.7%.) Outsiders' small changes move
    // more, relatively, with the baseline costs: checked for the members.
    let mut fixed = s.clone();
    fixed.shocks[0].coefficient = Some(a.coefficients[0].estimate);
    let f = run(&fixed).unwrap();
    assert_eq!(f.draws_failed, 0);
    for c in f
        .countries
        .iter()
        .filter(|c| ["CAN", "MEX", "USA"].contains(&c.country.as_str()))
    {
        let iv = c.intervals.as_ref().unwrap();
        for v in [iv.real_gdp_change_pct.low, iv.real_gdp_change_pct.high] {
            assert!(
                (v - c.changes.real_gdp_change_pct).abs()
                    <= 0.1 * c.changes.real_gdp_change_pct.abs() + 1e-3,
                "{}: {v} vs {}",
                c.country,
                c.changes.real_gdp_change_pct
            );
        }
    }
    // An unknown method is refused when the scenario is read, naming the key.
    let text = std::fs::read_to_string(root().join("examples/agtpa_nafta.toml"))
        .unwrap()
        .replace("draws = 200", "draws = 6\nuncertainty = \"jackknife\"");
    let e = Scenario::from_toml_str(&text).unwrap_err().to_string();
    assert!(e.contains("uncertainty"), "{e}");
}

#[test]
fn pair_bootstrap_agrees_with_clustered_inference_on_a_synthetic_panel() {
    // A panel with known truth (rta = 0.5): the pair-cluster bootstrap of
    // the whole pipeline must give β a spread within Monte Carlo error of the
    // pair-clustered standard error, be centred on the estimate, and give
    // intervals that contain the point estimates.
    use gravity_model::synthetic::{generate, PanelSpec};
    use gravity_model::vcov::{SmallSample, VcovSpec};
    // Exporter-year and importer-year effects with gravity covariates, no
    // pair effects: the design in which the pair-clustered s.e. is
    // consistent (with pair effects and few years, three-way PPML's clustered
    // s.e. is biased downwards, Weidner & Zylkin 2021, and the bootstrap
    // is then wider, as it should be).
    let frame = generate(&PanelSpec::balanced(80, 2, 11)).unwrap();
    let formula =
        Formula::parse("trade ~ rta + ldist + contig + lang | exporter^year + importer^year")
            .unwrap();
    let cluster = vec!["exporter^importer".to_string()];
    let options = FitOptions::default().vcov(gravity_model::VcovSpec::Cluster(cluster.clone()));
    let baseline = fit(&frame, &formula, Estimator::Ppml, &options).unwrap();
    let inference = baseline
        .inference(&VcovSpec::Cluster(cluster), SmallSample::fixest())
        .unwrap();
    let (beta, se) = {
        let r = inference.coef("rta").unwrap();
        (r.estimate, r.std_error)
    };
    let Some(gravity_model::Column::Factor(ex)) = frame.column("exporter") else {
        panic!("exporter column")
    };
    let years = frame.numeric("year").unwrap();
    let last = years.iter().copied().fold(f64::MIN, f64::max);
    let draws = 200;
    let text = format!(
        "data = \"unused.csv\"\nformula = \"{}\"\nvcov = \"cluster:exporter^importer\"\n\
         year = {last}\nsigma = 5\nreference = \"{}\"\n\
         draws = {draws}\nseed = 3\nuncertainty = \"pairs\"\n\
         [[shock]]\nvariable = \"rta\"\nvalue = 1\nbetween = [\"{}\", \"{}\", \"{}\"]\n",
        formula.text, ex.levels[0], ex.levels[1], ex.levels[2], ex.levels[3]
    );
    let s = Scenario::from_toml_str(&text).unwrap();
    let cf =
        gravity_model::simulate::run_with_fit(&s, &frame, &baseline, &inference, &|| {}).unwrap();
    assert_eq!(cf.draws_failed, 0);
    let c = &cf.coefficients[0];
    let (mean, sd) = (c.draws_mean.unwrap(), c.draws_std_error.unwrap());
    eprintln!("rta = {beta:.4} (clustered s.e. {se:.4}); bootstrap mean {mean:.4}, s.e. {sd:.4}");
    // The s.d. of an s.d. over B normal draws is about sd/sqrt(2B) = 5% for
    // B = 200; allow four of those, and the mean within four MC s.e.
    assert!(
        (sd / se - 1.0).abs() < 0.2,
        "bootstrap s.e. {sd} vs clustered {se}"
    );
    assert!(
        (mean - beta).abs() < 4.0 * se / (draws as f64).sqrt() + 0.1 * se,
        "bootstrap mean {mean} vs estimate {beta}"
    );
    for c in &cf.countries {
        let iv = c.intervals.as_ref().unwrap();
        assert!(
            iv.real_gdp_change_pct.low <= c.changes.real_gdp_change_pct
                && c.changes.real_gdp_change_pct <= iv.real_gdp_change_pct.high,
            "{}: {} not in [{}, {}]",
            c.country,
            c.changes.real_gdp_change_pct,
            iv.real_gdp_change_pct.low,
            iv.real_gdp_change_pct.high
        );
    }
}
