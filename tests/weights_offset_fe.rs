//! Weights, offsets and fixed-effect recovery, checked by identities that
//! hold exactly for any correct estimator.

use gravity_model::{fit, Column, CsvOptions, Estimator, FitOptions, Formula, Frame};
use std::path::PathBuf;

fn balanced() -> Frame {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/parity/balanced.csv");
    Frame::read_csv(&p, &CsvOptions::default(), None).unwrap()
}

const F: &str = "trade ~ rta + sanction | exporter^year + importer^year + exporter^importer";

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-12)
}

#[test]
fn an_offset_shifts_the_coefficient_of_its_variable() {
    // With offset o = c·rta, the coefficient on rta becomes β − c.
    let mut frame = balanced();
    let rta = frame.numeric("rta").unwrap().to_vec();
    frame
        .insert(
            "off",
            Column::Numeric(rta.iter().map(|r| 0.3 * r).collect()),
        )
        .unwrap();
    let formula = Formula::parse(F).unwrap();
    let base = fit(&frame, &formula, Estimator::Ppml, &FitOptions::default()).unwrap();
    let with = fit(
        &frame,
        &formula,
        Estimator::Ppml,
        &FitOptions::default().offset("off"),
    )
    .unwrap();
    assert!((with.coef("rta").unwrap() - (base.coef("rta").unwrap() - 0.3)).abs() < 1e-7);
    assert!(
        rel(
            with.coef("sanction").unwrap(),
            base.coef("sanction").unwrap()
        ) < 1e-7
    );
    // OLS too.
    let lformula =
        Formula::parse("ltrade ~ rta + sanction | exporter^year + importer^year").unwrap();
    let ob = fit(&frame, &lformula, Estimator::Ols, &FitOptions::default()).unwrap();
    let ow = fit(
        &frame,
        &lformula,
        Estimator::Ols,
        &FitOptions::default().offset("off"),
    )
    .unwrap();
    assert!((ow.coef("rta").unwrap() - (ob.coef("rta").unwrap() - 0.3)).abs() < 1e-8);
}

#[test]
fn integer_weights_equal_duplicated_rows() {
    // Weight 2 on every other row = those rows written twice.
    let frame = balanced();
    let n = frame.nrows();
    let w: Vec<f64> = (0..n).map(|i| if i % 2 == 0 { 2.0 } else { 1.0 }).collect();
    let mut weighted = frame.clone();
    weighted.insert("w", Column::Numeric(w.into())).unwrap();
    let dup_rows: Vec<usize> = (0..n)
        .flat_map(|i| if i % 2 == 0 { vec![i, i] } else { vec![i] })
        .collect();
    let mut cols = Vec::new();
    for name in frame.names() {
        let col = match frame.column(name).unwrap() {
            Column::Numeric(v) => Column::Numeric(dup_rows.iter().map(|&i| v[i]).collect()),
            Column::Factor(f) => Column::Factor(gravity_model::Factor {
                codes: dup_rows.iter().map(|&i| f.codes[i]).collect(),
                levels: f.levels.clone(),
            }),
        };
        cols.push((name.clone(), col));
    }
    let duplicated = Frame::from_columns(cols).unwrap();
    for (est, text) in [
        (Estimator::Ppml, F),
        (
            Estimator::Ols,
            "ltrade ~ rta + sanction | exporter^year + importer^year",
        ),
    ] {
        let formula = Formula::parse(text).unwrap();
        let a = fit(
            &weighted,
            &formula,
            est,
            &FitOptions::default().weights("w"),
        )
        .unwrap();
        let b = fit(&duplicated, &formula, est, &FitOptions::default()).unwrap();
        for name in ["rta", "sanction"] {
            assert!(
                rel(a.coef(name).unwrap(), b.coef(name).unwrap()) < 1e-7,
                "{est:?} {name}: {} vs {}",
                a.coef(name).unwrap(),
                b.coef(name).unwrap()
            );
        }
    }
}

#[test]
fn recovered_fixed_effects_reproduce_the_fitted_values() {
    let frame = balanced();
    let formula = Formula::parse(F).unwrap();
    let f = fit(&frame, &formula, Estimator::Ppml, &FitOptions::default()).unwrap();
    let fe = f.fixed_effects().unwrap();
    assert_eq!(fe.dims.len(), 3);
    let link = f.predict_link(&frame, &fe).unwrap();
    let fitted = f.fitted_by_row();
    let mut compared = 0;
    for (l, m) in link.iter().zip(&fitted) {
        if let (Some(l), Some(m)) = (l, m) {
            assert!(rel(l.exp(), *m) < 1e-8, "{} vs {m}", l.exp());
            compared += 1;
        }
    }
    assert_eq!(compared, f.nobs());
    // Separated pairs (no estimated pair effect) cannot be predicted.
    let unpredictable = link.iter().filter(|l| l.is_none()).count();
    assert_eq!(unpredictable, frame.nrows() - f.nobs());
    // The normalisation: the first level of each later dimension is zero in
    // every connected component (here the graph is connected).
    assert_eq!(fe.components, 1);
    assert_eq!(fe.dims[1].values[0], 0.0);
    assert_eq!(fe.dims[2].values[0], 0.0);
}
