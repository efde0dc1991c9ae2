//! Every failure a caller may want to handle has a kind it can match on
//! (`Error::kind`), whatever the message says.

use gravity_model::counterfactual::{draw_coefficients, World};
use gravity_model::{
    fit, Column, CsvOptions, ErrorKind, Estimator, FitOptions, Formula, Frame, SmallSample,
    VcovSpec,
};
use nalgebra::DMatrix;

fn frame(y: Vec<f64>) -> Frame {
    let n = y.len();
    Frame::from_columns(vec![
        ("y".into(), Column::Numeric(y.into())),
        (
            "x".into(),
            Column::Numeric((0..n).map(|i| (i % 3) as f64).collect()),
        ),
        (
            "g".into(),
            Column::Numeric((0..n).map(|i| (i % 4) as f64).collect()),
        ),
        ("one".into(), Column::Numeric(vec![1.0; n].into())),
    ])
    .unwrap()
}

fn y(n: usize) -> Vec<f64> {
    (0..n).map(|i| 1.0 + ((i * 7) % 5) as f64).collect()
}

#[test]
fn zero_outcome() {
    let f = Formula::parse("y ~ x | g").unwrap();
    let err = fit(
        &frame(vec![0.0; 12]),
        &f,
        Estimator::Ppml,
        &FitOptions::default(),
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ZeroOutcome, "{err}");
}

#[test]
fn empty_sample() {
    // Every observation is a singleton of `id`: none is left.
    let n = 8;
    let frame = Frame::from_columns(vec![
        ("y".into(), Column::Numeric(y(n).into())),
        (
            "x".into(),
            Column::Numeric((0..n).map(|i| i as f64).collect()),
        ),
        (
            "id".into(),
            Column::Numeric((0..n).map(|i| i as f64).collect()),
        ),
    ])
    .unwrap();
    let f = Formula::parse("y ~ x | id").unwrap();
    let err = fit(&frame, &f, Estimator::Ppml, &FitOptions::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::EmptySample, "{err}");
}

#[test]
fn invalid_options() {
    for bad in ["bogus", "cluster:", "cluster: , "] {
        let err = VcovSpec::parse(bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidOption, "{bad}: {err}");
    }
    let options = FitOptions::default().irls_tol(2.0);
    let f = Formula::parse("y ~ x | g").unwrap();
    let err = fit(&frame(y(12)), &f, Estimator::Ppml, &options).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidOption, "{err}");
}

#[test]
fn too_few_clusters_and_unknown_cluster() {
    let f = Formula::parse("y ~ x | g").unwrap();
    let options = FitOptions::default().vcov(gravity_model::VcovSpec::Cluster(vec!["one".into()]));
    let fitted = fit(&frame(y(24)), &f, Estimator::Ppml, &options).unwrap();
    let err = fitted
        .inference(
            &VcovSpec::Cluster(vec!["one".into()]),
            SmallSample::fixest(),
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooFewClusters, "{err}");
    let err = fitted
        .inference(&VcovSpec::Cluster(vec!["x".into()]), SmallSample::fixest())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownColumn, "{err}");
}

#[test]
fn invalid_world_and_not_positive_definite() {
    let err = World::from_trade(
        vec!["A".into(), "B".into()],
        &[1.0; 3],
        vec![1.0; 4],
        5.0,
        0,
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidWorld, "{err}");
    let vcov = DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 2.0, 1.0]);
    let err = draw_coefficients(&[0.0, 0.0], &vcov, 10, 1).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotPositiveDefinite, "{err}");
    assert!(err.to_string().starts_with("numerical failure: "), "{err}");
}

#[test]
fn data_and_formula() {
    let err = Frame::read_csv_bytes(b"y,x\n1,\"2\n", &CsvOptions::default(), None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData, "{err}");
    assert!(err.location().is_some());
    let err = Formula::parse("y ~ ~ x").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Formula, "{err}");
}
