//! Separation (Correia, Guimarães & Zylkin 2019): on every dataset of
//! ppmlhdfe's separation benchmark (re-serialised into
//! `tests/fixtures/separation/` by `tools/fixtures/`), exactly the rows marked
//! `separated == 1` get status `separated` (a row that is also a singleton may
//! be `singleton`), no other row does, and the estimates on the rest converge.

use gravity_model::{fit, Column, CsvOptions, Estimator, FitOptions, Formula, Frame, RowStatus};
use std::path::PathBuf;

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/separation")
}

fn check(path: &std::path::Path) {
    let frame = Frame::read_csv(path, &CsvOptions::default(), None).unwrap();
    let names = frame.names().to_vec();
    let y = &names[0];
    let xs: Vec<&String> = names.iter().filter(|h| h.starts_with('x')).collect();
    let ids: Vec<&String> = names.iter().filter(|h| h.starts_with("id")).collect();
    let rhs = if xs.is_empty() {
        "1".to_owned()
    } else {
        xs.iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" + ")
    };
    let text = if ids.is_empty() {
        format!("{y} ~ {rhs}")
    } else {
        format!(
            "{y} ~ {rhs} | {}",
            ids.iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" + ")
        )
    };
    let formula = Formula::parse(&text).unwrap();
    let truth = match frame.column("separated") {
        Some(Column::Numeric(v)) => v.to_vec(),
        other => panic!(
            "{}: no numeric 'separated' column: {other:?}",
            path.display()
        ),
    };
    let fit = fit(&frame, &formula, Estimator::Ppml, &FitOptions::default())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(fit.info.converged, "{}: did not converge", path.display());
    for (i, (status, t)) in fit.sample.status.iter().zip(&truth).enumerate() {
        let separated = *t == 1.0;
        let ok = match status {
            RowStatus::Separated => separated,
            RowStatus::Singleton => true,
            _ => !separated,
        };
        assert!(
            ok,
            "{}: data row {} has status {status:?} but separated == {t}",
            path.display(),
            i + 1
        );
    }
    assert!(fit.beta.iter().all(|b| b.is_finite()));
}

#[test]
fn every_ppmlhdfe_separation_dataset_is_classified_exactly() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixture_dir())
        .expect("tests/fixtures/separation exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 18, "expected the 18 ppmlhdfe datasets");
    for f in &files {
        check(f);
    }
}
