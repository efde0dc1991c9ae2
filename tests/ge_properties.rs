//! Properties of the GE counterfactual solvers: zero shock, adding-up, ACR
//! welfare, reference invariance, thread invariance, scenario parsing.

use gravity_model::counterfactual::*;
use gravity_model::simulate::{Domestic, Scenario, Shock};
use gravity_model::Error;
mod common;

use common::random_world;

fn fta(world: &World, members: &[usize], factor: f64) -> Vec<f64> {
    let n = world.n();
    let mut phi = world.phi.clone();
    for &i in members {
        for &j in members {
            if i != j {
                phi[i * n + j] *= factor;
            }
        }
    }
    phi
}

fn tight() -> GeParams {
    GeParams {
        tol: 1e-13,
        ..GeParams::default()
    }
}

#[test]
fn zero_shock_changes_nothing() {
    let w = random_world(9, 1, 6.0, 0);
    let out = solve_counterfactual(&w, &w.phi, &tight()).unwrap();
    for c in &out.countries {
        for v in [
            c.exports_change_conditional_pct,
            c.exports_change_full_pct,
            c.factory_price_change_pct,
            c.inward_mr_change_pct,
            c.outward_mr_change_pct,
            c.real_gdp_change_pct,
        ] {
            assert!(v.abs() < 1e-10, "{c:?}");
        }
    }
    for p in &out.pairs {
        for v in [p.conditional, p.full, p.partial] {
            assert!(
                (v - p.baseline).abs() <= 1e-10 * p.baseline.max(1e-300),
                "{p:?}"
            );
        }
    }
}

#[test]
fn baseline_adds_up() {
    let w = random_world(10, 2, 5.0, 3);
    let mr = solve_baseline(&w, &tight()).unwrap();
    assert!(mr.info.converged);
    assert!((mr.inward_pow[3] - 1.0).abs() < 1e-14);
    let x = mr.flows(&w.phi, &w.output, &w.expenditure);
    let n = w.n();
    for i in 0..n {
        let row: f64 = (0..n).map(|j| x[i * n + j]).sum();
        let col: f64 = (0..n).map(|k| x[k * n + i]).sum();
        assert!((row / w.output[i] - 1.0).abs() < 1e-12);
        assert!((col / w.expenditure[i] - 1.0).abs() < 1e-12);
    }
}

#[test]
fn acr_welfare_matches_real_gdp() {
    let w = random_world(11, 3, 7.0, 0);
    let phi_cf = fta(&w, &[1, 2, 5], 1.8);
    let out = solve_counterfactual(&w, &phi_cf, &tight()).unwrap();
    let n = w.n();
    let x0: Vec<f64> = out.pairs.iter().map(|p| p.baseline).collect();
    let x1: Vec<f64> = out.pairs.iter().map(|p| p.full).collect();
    for i in 0..n {
        let e0: f64 = (0..n).map(|k| x0[k * n + i]).sum();
        let e1: f64 = (0..n).map(|k| x1[k * n + i]).sum();
        let pi_hat = (x1[i * n + i] / e1) / (x0[i * n + i] / e0);
        let acr = pi_hat.powf(1.0 / (1.0 - w.sigma));
        let w_hat = 1.0 + out.countries[i].real_gdp_change_pct / 100.0;
        assert!((acr - w_hat).abs() < 1e-8, "{i}: {acr} vs {w_hat}");
    }
    // members gain, and the full solve really clears markets
    assert!(out.countries[1].real_gdp_change_pct > 0.0);
    assert!(out.full.resistances.info.residual <= 1e-13);
}

#[test]
fn real_outcomes_invariant_to_reference() {
    let w0 = random_world(8, 4, 5.0, 0);
    let mut w5 = w0.clone();
    w5.reference = 5;
    let phi_cf = fta(&w0, &[0, 3, 4], 2.0);
    let a = solve_counterfactual(&w0, &phi_cf, &tight()).unwrap();
    let b = solve_counterfactual(&w5, &phi_cf, &tight()).unwrap();
    for (ca, cb) in a.countries.iter().zip(&b.countries) {
        assert!((ca.real_gdp_change_pct - cb.real_gdp_change_pct).abs() < 1e-9);
        // nominal full-GE exports scale with the numeraire: only their ratio
        // to a common deflator (country 0's price) is invariant
        let da = (1.0 + ca.exports_change_full_pct / 100.0) / a.full.price_change[0];
        let db = (1.0 + cb.exports_change_full_pct / 100.0) / b.full.price_change[0];
        assert!((da - db).abs() < 1e-10);
        assert!(
            (ca.exports_change_conditional_pct - cb.exports_change_conditional_pct).abs() < 1e-9
        );
    }
    // relative factory-gate prices are invariant too
    let r = |o: &GeOutcome, i: usize| o.full.price_change[i] / o.full.price_change[0];
    for i in 0..w0.n() {
        assert!((r(&a, i) - r(&b, i)).abs() < 1e-10);
    }
}

#[test]
fn non_convergence_is_an_error() {
    let w = random_world(8, 5, 5.0, 0);
    let phi_cf = fta(&w, &[0, 1], 3.0);
    let params = GeParams {
        tol: 1e-14,
        max_iter: 3,
        damping: 0.5,
        // the damped plain iteration (Newton clears this market in 3 steps)
        method: GeMethod::FixedPoint,
        ..GeParams::default()
    };
    let base = solve_baseline(&w, &tight()).unwrap();
    match solve_full(&w, &base, &phi_cf, &params) {
        Err(Error::NoConvergence {
            iterations,
            residual,
            ..
        }) => {
            assert_eq!(iterations, 3);
            assert!(residual > 1e-14);
        }
        other => panic!("expected NoConvergence, got {other:?}"),
    }
}

#[test]
fn draws_are_thread_invariant() {
    let w = random_world(8, 6, 5.0, 0);
    let beta = [0.4, -0.8];
    let vcov = nalgebra::DMatrix::from_row_slice(2, 2, &[0.01, 0.002, 0.002, 0.04]);
    let draws = draw_coefficients(&beta, &vcov, 64, 1).unwrap();
    assert_eq!(draws, draw_coefficients(&beta, &vcov, 64, 1).unwrap());
    let pairs = Shock {
        variable: "rta".into(),
        value: 1.0,
        between: Some(vec!["C01".into(), "C02".into(), "C06".into()].into()),
        from: None,
        to: None,
        both_directions: false,
        coefficient: None,
    }
    .pairs(&w.countries)
    .unwrap();
    let eval = |_: usize, b: &[f64]| -> gravity_model::Result<Vec<f64>> {
        let phi_cf = shift_phi(&w.phi, w.n(), &pairs, b[0])?;
        let out = solve_counterfactual(&w, &phi_cf, &GeParams::default())?;
        Ok(out
            .countries
            .iter()
            .map(|c| c.real_gdp_change_pct)
            .collect())
    };
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| run_draws(&draws, eval))
    };
    let one = run(1);
    let two = run(2);
    assert_eq!(one.failures, 0);
    let bits = |r: &DrawResults<Vec<f64>>| -> Vec<u64> {
        r.results
            .iter()
            .flat_map(|v| v.as_ref().unwrap().iter().map(|x| x.to_bits()))
            .collect()
    };
    assert_eq!(bits(&one), bits(&two));
    let member: Vec<f64> = one.results.iter().map(|v| v.as_ref().unwrap()[1]).collect();
    let Interval { low: lo, high: hi } = percentile_interval(&member).unwrap();
    assert!(lo < hi);
}

#[test]
fn draws_have_the_right_moments() {
    let beta = [1.0, -2.0];
    let vcov = nalgebra::DMatrix::from_row_slice(2, 2, &[0.04, 0.01, 0.01, 0.09]);
    let d = draw_coefficients(&beta, &vcov, 20_000, 7).unwrap();
    let m0 = d.iter().map(|b| b[0]).sum::<f64>() / d.len() as f64;
    let m1 = d.iter().map(|b| b[1]).sum::<f64>() / d.len() as f64;
    let c01 = d.iter().map(|b| (b[0] - m0) * (b[1] - m1)).sum::<f64>() / d.len() as f64;
    assert!((m0 - 1.0).abs() < 0.01 && (m1 + 2.0).abs() < 0.01);
    assert!((c01 - 0.01).abs() < 0.002);
}

#[test]
fn quantile_type7() {
    let v = [3.0, 1.0, 2.0, 4.0];
    assert_eq!(quantile(&v, 0.0).unwrap(), 1.0);
    assert_eq!(quantile(&v, 1.0).unwrap(), 4.0);
    assert!((quantile(&v, 0.5).unwrap() - 2.5).abs() < 1e-15);
    assert!((quantile(&v, 0.025).unwrap() - 1.075).abs() < 1e-12);
}

const SCENARIO: &str = r#"
data = "panel.csv"
formula = "trade ~ rta | exporter^year + importer^year + pair"
vcov = "cluster:pair"
year = 2006
sigma = 7.0
reference = "DEU"
domestic = "observed"
impute_pair_effects = ["ldist", "cntg", "lang", "clny"]
draws = 200
seed = 1
[[shock]]
variable = "rta"
value = 0.0
between = ["CAN", "MEX", "USA"]
[[shock]]
variable = "rta"
value = 1.0
from = ["KOR"]
to = ["RUS", "KAZ"]
both_directions = true
coefficient = 0.3
"#;

fn key_of(e: Error) -> String {
    match e {
        Error::Scenario { key, .. } => key,
        other => panic!("expected a scenario error, got {other:?}"),
    }
}

#[test]
fn scenario_parses() {
    let s = Scenario::from_toml_str(SCENARIO).unwrap();
    assert_eq!(s.sigma, 7.0);
    assert_eq!(s.domestic, Domestic::Observed);
    assert_eq!(s.shocks.len(), 2);
    let names: Vec<String> = ["CAN", "DEU", "KAZ", "KOR", "MEX", "RUS", "USA"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let p = s.shocks[0].pairs(&names).unwrap();
    assert_eq!(p, vec![(0, 4), (0, 6), (4, 0), (4, 6), (6, 0), (6, 4)]);
    let q = s.shocks[1].pairs(&names).unwrap();
    assert_eq!(q, vec![(2, 3), (3, 2), (3, 5), (5, 3)]);
    let bad: Vec<String> = vec!["CAN".into(), "USA".into()];
    assert_eq!(
        key_of(s.shocks[0].pairs(&bad).unwrap_err()),
        "shock[0].between"
    );
}

#[test]
fn scenario_errors_name_the_key() {
    let cases = [
        (SCENARIO.replace("sigma = 7.0", "sigma = 1.0"), "sigma"),
        (
            SCENARIO.replace("seed = 1", "seed = 1\ncolour = 2"),
            "colour",
        ),
        (
            SCENARIO.replace(
                "between = [\"CAN\", \"MEX\", \"USA\"]",
                "between = [\"CAN\"]\nfrom = [\"A\"]\nto = [\"B\"]",
            ),
            "shock[0].between",
        ),
        (
            SCENARIO.replace("between = [\"CAN\", \"MEX\", \"USA\"]", ""),
            "shock[0].between",
        ),
        (
            SCENARIO.replace("between = [\"CAN\", \"MEX\", \"USA\"]", "between = []"),
            "shock[0].between",
        ),
        (
            SCENARIO.replace("from = [\"KOR\"]", "from = []"),
            "shock[1].from",
        ),
    ];
    for (text, key) in cases {
        assert_eq!(key_of(Scenario::from_toml_str(&text).unwrap_err()), key);
    }
}

#[test]
fn scenario_path_resolves_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.toml");
    std::fs::write(&path, SCENARIO).unwrap();
    let s = Scenario::from_toml_path(&path).unwrap();
    assert_eq!(s.data, dir.path().join("panel.csv"));
}

#[test]
fn large_world_large_shock_converges() {
    let w = random_world(60, 9, 9.0, 7);
    let members: Vec<usize> = (0..60).step_by(3).collect();
    let phi_cf = fta(&w, &members, 8.0);
    let out = solve_counterfactual(&w, &phi_cf, &GeParams::default()).unwrap();
    for info in out.infos() {
        assert!(info.converged && info.residual <= 1e-12, "{info:?}");
    }
    assert!(out.countries[0].real_gdp_change_pct > 0.0);
}
