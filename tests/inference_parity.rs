//! Inference and tables (issue 15) against pyfixest 0.60: two-way
//! clustering (`VcovSpec::TwoWay`, fixest's `vcov = "twoway"`), `HC1`, the
//! full covariance matrix, linear combinations, Wald tests (fixest's
//! definition, and pyfixest's statistic), log-likelihood, null deviance and
//! McFadden's pseudo-R² (PPML), R² and within R² (OLS), and the numbers of an
//! etable of two models. Fixtures: `tools/fixtures/inference.py`
//! (`tests/fixtures/inference/pyfixest.json`). Coefficients to 1e-6 and
//! standard errors to 1e-4 relative, as `tests/parity.rs`.

use gravity_model::report::{Etable, EtableModel};
use gravity_model::{
    fit, Column, CsvOptions, Estimator, Fit, FitOptions, Formula, Frame, Inference,
    LinearCombination, SmallSample, VcovSpec,
};
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/inference")
}

fn fixture() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        serde_json::from_str(&std::fs::read_to_string(dir().join("pyfixest.json")).unwrap())
            .unwrap()
    })
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// The model `id` of the fixture, fitted here as the peer did, with its
/// inference.
fn fitted(id: &str) -> (&'static Value, Fit, Inference) {
    let m = fixture()["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == id)
        .unwrap_or_else(|| panic!("no model {id}"));
    let frame = Frame::read_csv(
        &dir().join(m["panel"].as_str().unwrap()),
        &CsvOptions::default(),
        None,
    )
    .unwrap();
    // "trade > 0": the outcome ltrade is missing elsewhere, so the same rows drop.
    assert!(matches!(
        m["sample"].as_str().unwrap(),
        "all rows" | "trade > 0"
    ));
    let estimator = match m["estimator"].as_str().unwrap() {
        "ppml" => Estimator::Ppml,
        _ => Estimator::Ols,
    };
    let spec = VcovSpec::parse(m["vcov"]["gravity"].as_str().unwrap()).unwrap();
    let formula = Formula::parse(m["formula"].as_str().unwrap()).unwrap();
    let options = FitOptions::default().vcov(spec.clone());
    let fit = fit(&frame, &formula, estimator, &options).unwrap_or_else(|e| panic!("{id}: {e}"));
    assert!(fit.info.converged, "{id}");
    assert_eq!(fit.nobs() as u64, m["nobs"].as_u64().unwrap(), "{id}: nobs");
    let inf = fit.summary().unwrap();
    (m, fit, inf)
}

fn check_coefficients_and_vcov(id: &str, m: &Value, inf: &Inference) {
    let peer: Vec<&Value> = m["coefficients"].as_array().unwrap().iter().collect();
    let name = |c: &Value| match c["name"].as_str().unwrap() {
        "Intercept" => "(Intercept)".to_owned(),
        other => other.to_owned(),
    };
    for c in &peer {
        let ours = inf
            .coef(&name(c))
            .unwrap_or_else(|| panic!("{id}: {}", name(c)));
        assert!(
            rel(ours.estimate, f(&c["estimate"])) < 1e-6,
            "{id}: {}",
            ours.name
        );
        assert!(
            rel(ours.std_error, f(&c["std_error"])) < 1e-4,
            "{id}: {} se",
            ours.name
        );
        let p = f(&c["p_value"]);
        assert!(
            (ours.p_value - p).abs() < 1e-6 + 1e-3 * p,
            "{id}: {} p",
            ours.name
        );
    }
    // The full matrix, entry by entry relative to sqrt(V_aa V_bb).
    let pos: HashMap<String, usize> = inf
        .coefficients
        .iter()
        .enumerate()
        .map(|(j, c)| (c.name.clone(), j))
        .collect();
    let vm = m["vcov_matrix"].as_array().unwrap();
    for (a, ca) in peer.iter().enumerate() {
        for (b, cb) in peer.iter().enumerate() {
            let (ja, jb) = (pos[&name(ca)], pos[&name(cb)]);
            let scale = (inf.vcov[(ja, ja)] * inf.vcov[(jb, jb)]).sqrt();
            let theirs = f(&vm[a][b]);
            assert!(
                (inf.vcov[(ja, jb)] - theirs).abs() < 2e-4 * scale,
                "{id}: vcov[{a}][{b}] {} vs {theirs}",
                inf.vcov[(ja, jb)]
            );
        }
    }
}

fn check_tests(id: &str, m: &Value, inf: &Inference) -> usize {
    let mut n = 0;
    for l in m["lincom"].as_array().into_iter().flatten() {
        let expr = format!(
            "{}={}",
            l["name"].as_str().unwrap(),
            l["expression"].as_str().unwrap()
        );
        let ours = inf
            .lincom(&LinearCombination::parse(&expr).unwrap())
            .unwrap();
        let r = &ours.row;
        assert!(rel(r.estimate, f(&l["estimate"])) < 1e-6, "{id} {expr}");
        assert!(
            rel(r.std_error, f(&l["std_error"])) < 1e-4,
            "{id} {expr} se"
        );
        assert!(
            rel(r.statistic, f(&l["statistic"])) < 1e-4,
            "{id} {expr} stat"
        );
        let se = r.std_error;
        for (mine, key) in [(r.ci_low, "ci_low"), (r.ci_high, "ci_high")] {
            assert!((mine - f(&l[key])).abs() < 1e-4 * se, "{id} {expr} {key}");
        }
        let p = f(&l["p_value"]);
        assert!((r.p_value - p).abs() < 1e-6 + 1e-3 * p, "{id} {expr} p");
        n += 1;
    }
    for w in m["wald"].as_array().into_iter().flatten() {
        let names: Vec<&str> = w["coefficients"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        let ours = inf.wald(&names).unwrap();
        // fixest's definition: W/q against F(q, nobs − nparams).
        let fx = &w["fixest"];
        assert_eq!(ours.distribution, "F");
        assert_eq!(ours.df1 as u64, fx["df1"].as_u64().unwrap(), "{id}");
        assert_eq!(ours.df2, Some(f(&fx["df2"])), "{id}: df2");
        assert!(rel(ours.stat, f(&fx["stat"])) < 1e-4, "{id}: wald stat");
        // pyfixest's own statistic is the same number.
        assert!(
            rel(ours.stat, f(&w["pyfixest"]["statistic"])) < 1e-4,
            "{id}"
        );
        let close_p = |mine: f64, peer: f64| {
            if peer == 0.0 {
                // Below the smallest double for the peer too.
                mine < 1e-250
            } else if peer > 1e-12 {
                rel(mine, peer) < 1e-3
            } else {
                // Far in the tail a relative error δ of the statistic moves
                // log p by about δ·W/2.
                (mine.ln() - peer.ln()).abs() < 1e-2 * peer.ln().abs().max(1.0)
            }
        };
        assert!(
            close_p(ours.p, f(&fx["p"])),
            "{id}: p {} vs {}",
            ours.p,
            fx["p"]
        );
        // z statistics: W against chi2(q).
        let z = SmallSample {
            t_dist: false,
            ..SmallSample::fixest()
        };
        let chi = inf.clone();
        let chi = gravity_model::Inference { ssc: z, ..chi };
        let ours = chi.wald(&names).unwrap();
        assert_eq!((ours.distribution.as_str(), ours.df2), ("chi2", None));
        assert!(rel(ours.stat, f(&w["chi2"]["stat"])) < 1e-4, "{id}: chi2");
        assert!(close_p(ours.p, f(&w["chi2"]["p"])), "{id}: chi2 p");
        n += 1;
    }
    n
}

fn check_fit_stats(id: &str, m: &Value, fit: &Fit) {
    let s = fit.fit_stats();
    match fit.estimator {
        Estimator::Ppml => {
            assert!(
                rel(s.loglik.unwrap(), f(&m["loglik"])) < 1e-8,
                "{id}: loglik"
            );
            assert!(
                rel(s.loglik_null.unwrap(), f(&m["loglik_null"])) < 1e-10,
                "{id}: ll0"
            );
            assert!(
                (s.pseudo_r2.unwrap() - f(&m["pseudo_r2"])).abs() < 1e-9,
                "{id}: pr2"
            );
            assert!(
                rel(s.null_deviance.unwrap(), f(&m["null_deviance"])) < 1e-10,
                "{id}"
            );
            assert!(rel(s.deviance, f(&m["deviance"])) < 1e-6, "{id}: deviance");
            assert_eq!((s.r2, s.within_r2), (None, None));
        }
        Estimator::Ols => {
            assert!((s.r2.unwrap() - f(&m["r2"])).abs() < 1e-9, "{id}: r2");
            match m["r2_within"].as_f64() {
                Some(w) => assert!((s.within_r2.unwrap() - w).abs() < 1e-8, "{id}: wr2"),
                None => assert_eq!(s.within_r2, None, "{id}"),
            }
            assert!(rel(s.deviance, f(&m["rss"])) < 1e-8, "{id}: rss");
            assert_eq!((s.loglik, s.pseudo_r2), (None, None));
        }
    }
}

#[test]
fn twoway_hc1_lincom_wald_and_fit_statistics_agree_with_pyfixest() {
    let mut tests = 0;
    for id in [
        "ppml_twoway",
        "ppml_hc1",
        "ols_twoway",
        "ols_iid",
        "ols_nofe_hetero",
    ] {
        let (m, fit, inf) = fitted(id);
        if m["vcov"]["gravity"] == "twoway" {
            // fixest's twoway: the first two fixed effects.
            assert_eq!(inf.spec, VcovSpec::TwoWay);
            assert_eq!(inf.clusters, vec!["exporter", "importer"]);
            assert_eq!(inf.n_clusters, vec![40, 40]);
            assert_eq!(inf.df_t.is_some(), fit.estimator == Estimator::Ols);
            if let Some(df) = inf.df_t {
                assert_eq!(df, f(&m["df_t"]));
            }
        }
        assert_eq!(
            inf.df_resid,
            (fit.nobs() as u64 - m["nparams"].as_u64().unwrap()) as f64,
            "{id}: nobs - nparams"
        );
        check_coefficients_and_vcov(id, m, &inf);
        tests += check_tests(id, m, &inf);
        check_fit_stats(id, m, &fit);
    }
    assert_eq!(tests, 11);
}

/// The Advanced Guide's Chapter 1, Application 3: RTA effects without and
/// with lags (and their total), then the table of both against pyfixest's
/// etable.
#[test]
fn agtpa_rta_lags_total_effect_and_etable_agree_with_pyfixest() {
    let (ma, fa, ia) = fitted("agtpa_rta");
    let (mb, fb, ib) = fitted("agtpa_rta_lags");
    for (m, fit, inf) in [(ma, &fa, &ia), (mb, &fb, &ib)] {
        let id = m["id"].as_str().unwrap();
        check_coefficients_and_vcov(id, m, inf);
        check_fit_stats(id, m, fit);
    }
    assert_eq!(check_tests("agtpa_rta_lags", mb, &ib), 2);
    let total = ib
        .lincom(&LinearCombination::parse("total=rta+rta_lag4+rta_lag8+rta_lag12").unwrap())
        .unwrap();
    // The Guide's total effect of the RTAs over twelve years.
    assert!(
        (total.row.estimate - 0.9926).abs() < 1e-4,
        "{:?}",
        total.row
    );

    // Twoway on these fixed effects is clustering by exporter^year and
    // importer^year, the first two.
    let tw = fb
        .inference(&VcovSpec::TwoWay, SmallSample::fixest())
        .unwrap();
    let cl = fb
        .inference(
            &VcovSpec::Cluster(vec!["exporter^year".into(), "importer^year".into()]),
            SmallSample::fixest(),
        )
        .unwrap();
    assert_eq!(tw.vcov, cl.vcov);
    assert_eq!(tw.clusters, cl.clusters);

    let table = Etable::from_models(vec![
        EtableModel::new(&fa, &ia),
        EtableModel::new(&fb, &ib).with_lincom(&[total]),
    ])
    .digits(6);
    let t = &fixture()["etables"][0];
    assert_eq!(t["models"][0], "agtpa_rta");
    check_etable(&table, t, &[ma, mb]);
    let rows = table.rows();
    let lincom: Vec<_> = rows.iter().filter(|r| r.section == "lincom").collect();
    assert_eq!(lincom[0].label, "total");
    assert_eq!(lincom[0].cells[0], "");
    assert_eq!(lincom[0].cells[1], "0.992619***");
}

#[test]
fn a_ppml_and_an_ols_column_agree_with_pyfixests_etable() {
    let (ma, fa, ia) = fitted("ppml_twoway");
    let (mb, fb, ib) = fitted("ols_twoway");
    let table = Etable::new(&[(&fa, &ia), (&fb, &ib)]).digits(6);
    let t = &fixture()["etables"][1];
    check_etable(&table, t, &[ma, mb]);
    let rows = table.rows();
    let get = |label: &str| {
        rows.iter()
            .find(|r| r.label == label)
            .unwrap()
            .cells
            .clone()
    };
    // pyfixest prints R² with 3 decimals.
    let peer_r2 = t["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["label"] == "R²")
        .unwrap()["cells"][1]
        .as_str()
        .unwrap()
        .parse::<f64>()
        .unwrap();
    let ours: f64 = get("R2")[1].parse().unwrap();
    assert!((ours - peer_r2).abs() <= 5e-4, "{ours} vs {peer_r2}");
    assert_eq!(get("R2")[0], "");
    assert_eq!(get("S.E. type"), vec!["by: exporter & importer"; 2]);
    assert_eq!(get("Estimator:"), vec!["PPML", "OLS"]);
}

/// A number with its stars, e.g. `-0.984792***`.
fn number_and_stars(s: &str) -> (f64, String) {
    let s = s.trim();
    let stars = s.chars().rev().take_while(|c| *c == '*').count();
    let (n, st) = s.split_at(s.len() - stars);
    (n.parse().unwrap_or_else(|_| panic!("{s:?}")), st.to_owned())
}

/// Our table's numbers against the cells of pyfixest's etable (printed with
/// six decimals) and the models' own fixed effects and pseudo-R².
fn check_etable(table: &Etable, peer: &Value, models: &[&Value]) {
    let rows = table.rows();
    let ours = |label: &str| -> (Vec<String>, Vec<String>) {
        let k = rows
            .iter()
            .position(|r| r.label == label)
            .unwrap_or_else(|| panic!("no row {label}"));
        let below = rows.get(k + 1).map_or(vec![], |r| r.cells.clone());
        (rows[k].cells.clone(), below)
    };
    let mut coefs = 0;
    for r in peer["rows"].as_array().unwrap() {
        let label = r["label"].as_str().unwrap();
        let cells: Vec<&str> = r["cells"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        match r["section"].as_str().unwrap() {
            "coef" => {
                let (top, below) = ours(label);
                for (j, cell) in cells.iter().enumerate() {
                    if cell.is_empty() {
                        assert_eq!(top[j], "", "{label} ({})", j + 1);
                        continue;
                    }
                    let (b, se) = cell.split_once('\n').unwrap();
                    let (pb, pstars) = number_and_stars(b);
                    let pse: f64 = se.trim().trim_matches(['(', ')']).parse().unwrap();
                    let (mb, mstars) = number_and_stars(&top[j]);
                    let mse: f64 = below[j].trim_matches(['(', ')']).parse().unwrap();
                    // Both printed to 6 decimals: rounding plus 1e-6 relative.
                    assert!(
                        (mb - pb).abs() <= 1.01e-6 + 1e-6 * pb.abs(),
                        "{label}: {mb} vs {pb}"
                    );
                    assert!(
                        (mse - pse).abs() <= 1.01e-6 + 1e-4 * pse,
                        "{label}: {mse} vs {pse}"
                    );
                    assert_eq!(mstars, pstars, "{label} ({}) stars", j + 1);
                    coefs += 1;
                }
            }
            "stats" if label == "Observations" => {
                let (cells_ours, _) = ours("Observations");
                let theirs: Vec<String> = cells.iter().map(|s| s.to_string()).collect();
                assert_eq!(cells_ours, theirs);
            }
            // pyfixest 0.60 prints "-" for every fixed effect, present or
            // not (see tools/fixtures/inference.py): compared below with
            // the models' own fixed effects.
            _ => {}
        }
    }
    assert!(coefs >= 5, "{coefs}");
    for (j, m) in models.iter().enumerate() {
        let fes: Vec<&str> = m["fixed_effects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        for r in rows.iter().filter(|r| r.section == "fe") {
            let want = if fes.contains(&r.label.as_str()) {
                "Yes"
            } else {
                "No"
            };
            assert_eq!(r.cells[j], want, "{}: {}", m["id"], r.label);
        }
        assert!(rows.iter().filter(|r| r.section == "fe").count() >= fes.len());
        if let Some(pr2) = m["pseudo_r2"].as_f64() {
            let (cells, _) = ours("Pseudo R2");
            let mine: f64 = cells[j].parse().unwrap();
            assert!((mine - pr2).abs() <= 6e-8, "{}: {mine} vs {pr2}", m["id"]);
        }
    }
}

#[test]
fn twoway_needs_two_fixed_effects_and_hc1_is_hetero() {
    let frame = Frame::from_columns(vec![
        (
            "y".into(),
            Column::Numeric(vec![1.0, 3.0, 2.0, 5.0, 4.0, 9.0, 2.0, 6.0].into()),
        ),
        (
            "x".into(),
            Column::Numeric(vec![0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0].into()),
        ),
        (
            "g".into(),
            Column::Numeric(vec![1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0].into()),
        ),
    ])
    .unwrap();
    let fitted = fit(
        &frame,
        &Formula::parse("y ~ x | g").unwrap(),
        Estimator::Ppml,
        &FitOptions::default(),
    )
    .unwrap();
    let err = fitted
        .inference(&VcovSpec::TwoWay, SmallSample::fixest())
        .unwrap_err();
    assert_eq!(err.kind(), gravity_model::ErrorKind::InvalidOption);
    assert!(err.to_string().contains("has one (g)"), "{err}");
    for s in ["HC1", "hc1", "Hetero", "robust"] {
        assert_eq!(VcovSpec::parse(s).unwrap(), VcovSpec::Hetero, "{s}");
    }
    assert_eq!(VcovSpec::parse("TWOWAY").unwrap(), VcovSpec::TwoWay);
    assert_eq!(VcovSpec::parse("standard").unwrap(), VcovSpec::Iid);
    assert_eq!(
        VcovSpec::parse("Cluster:a,b").unwrap(),
        VcovSpec::Cluster(vec!["a".into(), "b".into()])
    );
    // Unknown coefficients and repeated ones are errors, with the names.
    let inf = fitted.summary().unwrap();
    let e = inf.wald(&["x", "x"]).unwrap_err();
    assert!(e.to_string().contains("listed twice"), "{e}");
    let e = inf
        .lincom(&LinearCombination::parse("a = x + z").unwrap())
        .unwrap_err();
    assert_eq!(e.kind(), gravity_model::ErrorKind::UnknownColumn);
    assert!(e.to_string().contains("no coefficient 'z'"), "{e}");
    assert!(e.to_string().contains("its coefficients: x"), "{e}");
}
