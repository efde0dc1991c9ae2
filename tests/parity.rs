//! Parity with the peers. Fixtures are written by `tools/make_fixtures.sh`
//! (pyfixest 0.60 and statsmodels, installed from PyPI in a throwaway virtual
//! environment, run with tight tolerances): coefficients must agree to 1e-6
//! relative and standard errors to 1e-4 relative, with the matching preset.

use gravity_model::{
    fit, CsvOptions, Estimator, FitOptions, Formula, Frame, SmallSample, VcovSpec,
};
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/parity")
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

fn check_models(json_file: &str, ssc_of: impl Fn(&str) -> Option<SmallSample>) -> usize {
    let text = std::fs::read_to_string(fixtures().join(json_file)).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    let mut frames: HashMap<String, Frame> = HashMap::new();
    let mut checked = 0;
    for m in doc["models"].as_array().unwrap() {
        let id = format!(
            "{} on {}",
            m["id"].as_str().unwrap(),
            m["panel"].as_str().unwrap()
        );
        let Some(ssc) = ssc_of(m["ssc"].as_str().unwrap()) else {
            continue;
        };
        let panel = m["panel"].as_str().unwrap().to_owned();
        let full = frames.entry(panel.clone()).or_insert_with(|| {
            Frame::read_csv(&fixtures().join(&panel), &CsvOptions::default(), None).unwrap()
        });
        // The peer's sample: "all rows", "trade > 0" (the outcome `ltrade` is
        // missing elsewhere, so the same rows drop here) or "embargo == 0".
        let filtered;
        let frame = match m["sample"].as_str().unwrap() {
            "embargo == 0" => {
                let Some(gravity_model::Column::Numeric(e)) = full.column("embargo") else {
                    panic!("{id}: no embargo column")
                };
                let keep: Vec<bool> = e.iter().map(|v| *v == 0.0).collect();
                filtered = full.filter(&keep);
                &filtered
            }
            s if s.starts_with("all rows") || s == "trade > 0" => &*full,
            other => panic!("{id}: unknown sample {other}"),
        };
        let estimator = match m["estimator"].as_str().unwrap() {
            "ppml" => Estimator::Ppml,
            "ols" => Estimator::Ols,
            other => panic!("unknown estimator {other}"),
        };
        let clusters: Vec<String> = m["vcov"]["clusters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_owned())
            .collect();
        let spec = match m["vcov"]["type"].as_str().unwrap() {
            "iid" => VcovSpec::Iid,
            "hetero" => VcovSpec::Hetero,
            "cluster" => VcovSpec::Cluster(clusters.clone()),
            other => panic!("unknown vcov {other}"),
        };
        let formula = Formula::parse(m["formula"].as_str().unwrap()).unwrap();
        let options = FitOptions::default().vcov(gravity_model::VcovSpec::Cluster(clusters));
        let f = fit(frame, &formula, estimator, &options).unwrap_or_else(|e| panic!("{id}: {e}"));
        assert!(f.info.converged, "{id}: did not converge");
        assert_eq!(f.nobs() as u64, m["nobs"].as_u64().unwrap(), "{id}: nobs");
        let inf = f.inference(&spec, ssc).unwrap();
        for c in m["coefficients"].as_array().unwrap() {
            let name = match c["name"].as_str().unwrap() {
                "Intercept" => "(Intercept)",
                other => other,
            };
            let ours = inf
                .coef(name)
                .unwrap_or_else(|| panic!("{id}: no coefficient {name}"));
            let est = c["estimate"].as_f64().unwrap();
            let se = c["std_error"].as_f64().unwrap();
            assert!(
                rel(ours.estimate, est) < 1e-6,
                "{id}: {name} estimate {} vs peer {est}",
                ours.estimate
            );
            assert!(
                rel(ours.std_error, se) < 1e-4,
                "{id}: {name} std. error {} vs peer {se}",
                ours.std_error
            );
            for key in ["ci_low", "ci_high"] {
                let peer = c[key].as_f64().unwrap();
                let mine = if key == "ci_low" {
                    ours.ci_low
                } else {
                    ours.ci_high
                };
                assert!(
                    (mine - peer).abs() < 1e-4 * se.max(1e-12) + 1e-6 * peer.abs(),
                    "{id}: {name} {key} {mine} vs peer {peer}"
                );
            }
            let p = c["p_value"].as_f64().unwrap();
            assert!(
                (ours.p_value - p).abs() < 1e-6 + 1e-3 * p,
                "{id}: {name} p-value {} vs peer {p}",
                ours.p_value
            );
        }
        checked += 1;
    }
    checked
}

#[test]
fn ppml_and_ols_agree_with_pyfixest_on_balanced_and_unbalanced_panels() {
    let n = check_models("pyfixest.json", |ssc| {
        (ssc == "fixest").then_some(SmallSample::fixest())
    });
    assert!(n >= 20, "only {n} models checked");
}

#[test]
fn ppmlhdfe_preset_agrees_with_statsmodels_sandwich() {
    let n = check_models("statsmodels_small.json", |ssc| match ssc {
        "stata" => Some(SmallSample::ppmlhdfe()),
        _ => None,
    });
    assert_eq!(n, 2);
}
