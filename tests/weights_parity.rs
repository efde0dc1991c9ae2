//! Prior weights against pyfixest (its default analytic weights): weighted
//! PPML with three-way fixed effects and weighted OLS with two-way fixed
//! effects, heteroskedasticity-robust and pair-clustered standard errors.
//! Fixture: `tests/fixtures/weights/pyfixest.json` (`tools/fixtures/weights.py`);
//! the weight `w = 0.5 + 0.25·(year mod 4) + 0.5·lang` is rebuilt here from the
//! committed panel. Tolerances as in `tests/parity.rs`: coefficients 1e-6
//! relative, standard errors 1e-4 relative.

use gravity_model::{
    fit, Column, CsvOptions, Estimator, FitOptions, Formula, Frame, SmallSample, VcovSpec,
};
use serde_json::Value;
use std::path::PathBuf;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

#[test]
fn weighted_ppml_and_ols_agree_with_pyfixest() {
    let doc: Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("weights/pyfixest.json")).unwrap(),
    )
    .unwrap();
    let mut frame = Frame::read_csv(
        &fixtures().join("parity/balanced.csv"),
        &CsvOptions::default(),
        None,
    )
    .unwrap();
    let (year, lang) = (
        frame.numeric("year").unwrap(),
        frame.numeric("lang").unwrap(),
    );
    let w: Vec<f64> = year
        .iter()
        .zip(lang)
        .map(|(y, l)| 0.5 + 0.25 * y.rem_euclid(4.0) + 0.5 * l)
        .collect();
    frame.insert("w", Column::Numeric(w.into())).unwrap();
    let models = doc["models"].as_array().unwrap();
    assert_eq!(models.len(), 4);
    for m in models {
        let id = m["id"].as_str().unwrap();
        let estimator = match m["estimator"].as_str().unwrap() {
            "ppml" => Estimator::Ppml,
            _ => Estimator::Ols,
        };
        // OLS on `ltrade`, missing where trade = 0: the same rows drop as in
        // the peer's `trade > 0` sample.
        let formula = Formula::parse(m["formula"].as_str().unwrap()).unwrap();
        let spec = match m["vcov"].as_str().unwrap() {
            "hetero" => VcovSpec::Hetero,
            _ => VcovSpec::Cluster(vec!["pair".into()]),
        };
        let options = FitOptions::default()
            .weights("w")
            .vcov(gravity_model::VcovSpec::Cluster(match &spec {
                VcovSpec::Cluster(c) => c.clone(),
                _ => vec![],
            }));
        let f = fit(&frame, &formula, estimator, &options).unwrap();
        assert_eq!(f.nobs() as u64, m["nobs"].as_u64().unwrap(), "{id}: N");
        let inf = f.inference(&spec, SmallSample::fixest()).unwrap();
        for c in m["coefficients"].as_array().unwrap() {
            let name = c["name"].as_str().unwrap();
            let ours = inf.coef(name).unwrap();
            let (b, se) = (
                c["estimate"].as_f64().unwrap(),
                c["std_error"].as_f64().unwrap(),
            );
            assert!(
                (ours.estimate - b).abs() <= 1e-6 * b.abs(),
                "{id} {name}: {} vs {b}",
                ours.estimate
            );
            assert!(
                (ours.std_error - se).abs() <= 1e-4 * se,
                "{id} {name} s.e.: {} vs {se}",
                ours.std_error
            );
        }
    }
}
