//! Multiple estimation with one fixed-effect set-up (`Fitter`): every model
//! is, bit for bit, the fit it gets alone, while each fixed effect, cluster
//! variable and panel index is built once. On the Advanced Guide's Chapter 1
//! panel: models that share their sample, a model whose lags change it, a
//! cluster variable that is also a fixed effect and one that is not.

use gravity_model::formula::subset::Subset;
use gravity_model::terms::PanelSpec;
use gravity_model::{
    fit, CsvOptions, ErrorKind, Estimator, Fit, FitOptions, Fitter, Formula, Frame, VcovSpec,
};
use std::path::PathBuf;

fn frame() -> Frame {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/agtpa/ch1_tables.csv.gz");
    Frame::read_csv(&path, &CsvOptions::default(), None).unwrap()
}

fn same(a: &Fit, b: &Fit, what: &str) {
    assert_eq!(a.names, b.names, "{what}: names");
    assert_eq!(a.beta, b.beta, "{what}: coefficients");
    assert_eq!(a.nobs(), b.nobs(), "{what}: N");
    assert_eq!(a.sample.status, b.sample.status, "{what}: row status");
    assert_eq!(a.info.iterations, b.info.iterations, "{what}: iterations");
    let (ia, ib) = (a.summary().unwrap(), b.summary().unwrap());
    let se = |i: &gravity_model::Inference| -> Vec<f64> {
        i.coefficients.iter().map(|c| c.std_error).collect()
    };
    assert_eq!(se(&ia), se(&ib), "{what}: standard errors");
    for (da, db) in a.fixed_effect_dims().iter().zip(b.fixed_effect_dims()) {
        assert_eq!(da.name, db.name, "{what}");
        assert_eq!(da.codes, db.codes, "{what}: {}", da.name);
        assert_eq!(da.levels, db.levels, "{what}: {}", da.name);
    }
}

#[test]
fn each_model_is_the_fit_it_gets_alone() {
    let frame = frame();
    let fe = "exporter^year + importer^year + pair_sym";
    let cases = [
        // Stepwise on one sample; the cluster is not a fixed effect.
        (
            format!("trade ~ csw(rta, rta_lag4, rta_lag8) | {fe}"),
            FitOptions::default().vcov(VcovSpec::Cluster(vec!["pair_id".into()])),
            Estimator::Ppml,
            4, // three fixed effects and pair_id
        ),
        // Lags over the panel: the models' samples differ; the cluster is a
        // fixed effect.
        (
            format!("trade ~ sw(rta, l(rta, 4), l(rta, 8)) | {fe}"),
            FitOptions::default()
                .vcov(VcovSpec::Cluster(vec!["pair_sym".into()]))
                .panel(PanelSpec::parse("exporter^importer,year").unwrap()),
            Estimator::Ppml,
            3, // the cluster is the fixed effect pair_sym
        ),
        // Several outcomes, a subset, OLS, two-way clustering.
        (
            "c(log(trade), I(log(trade) / 2)) ~ log(dist) + cntg | exporter^year + importer^year"
                .to_owned(),
            FitOptions::default()
                .vcov(VcovSpec::Cluster(vec![
                    "exporter".into(),
                    "importer".into(),
                ]))
                .subset(Subset::parse("intl == 1 & trade > 0").unwrap()),
            Estimator::Ols,
            4, // two fixed effects, two cluster variables
        ),
    ];
    for (text, options, estimator, encoded) in &cases {
        let formula = Formula::parse(text).unwrap();
        let models = formula.expand();
        assert!(models.len() >= 2, "{text}");
        let mut fitter = Fitter::new(&frame);
        let together = fitter.fit_all(&formula, *estimator, options).unwrap();
        assert_eq!(together.len(), models.len());
        for (m, f) in models.iter().zip(&together) {
            let alone = fit(&frame, m, *estimator, options).unwrap();
            same(f, &alone, &m.text);
        }
        // Each fixed effect and cluster variable was encoded once, by the
        // first model, and found by the others.
        let fe_dims = models[0].fixed_effects.len();
        let clusters = options.vcov.clusters().len();
        assert_eq!(fitter.encoded(), *encoded, "{text}");
        assert_eq!(
            fitter.reused() + fitter.encoded(),
            models.len() * (fe_dims + clusters),
            "{text}"
        );
    }
}

#[test]
fn errors_are_those_of_a_fit_alone() {
    let frame = frame();
    let mut fitter = Fitter::new(&frame);
    let formula = Formula::parse("trade ~ csw(rta, rta_lag4) | exporter^year + nowhere").unwrap();
    let opts = FitOptions::default();
    let together = fitter
        .fit_all(&formula, Estimator::Ppml, &opts)
        .unwrap_err();
    let alone = fit(&frame, &formula.expand()[0], Estimator::Ppml, &opts).unwrap_err();
    assert_eq!(together.to_string(), alone.to_string());
    assert!(together.to_string().contains("nowhere"), "{together}");
    // A fitter's single-model fit refuses a formula of several models.
    let e = fitter.fit(&formula, Estimator::Ppml, &opts).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidOption);
    // After an error the fitter still fits.
    let ok = Formula::parse("trade ~ rta | exporter^year + importer^year").unwrap();
    let f = fitter.fit(&ok, Estimator::Ppml, &opts).unwrap();
    same(
        &f,
        &fit(&frame, &ok, Estimator::Ppml, &opts).unwrap(),
        "after an error",
    );
}
