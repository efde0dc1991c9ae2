//! The separation check on real sparse panels: every row of the shipped
//! panel's sector outcomes (data/gravity_panel.csv.gz) and of the penppml
//! long-run panel (../shared/data/penppml_trade/trade.csv) is classified
//! exactly as the check before the rewrite of issue 14 classified it
//! (tests/fixtures/separation/panels/, made by
//! tools/fixtures/separation_panels.sh from commit ac23052), the estimates
//! are those of that release to 1e-8, and the check now finishes — proving
//! that nothing more is separated — where the old ReLU stopped at its
//! iteration limit on four of the five panels.
//!
//! Opt-in (a few seconds each in release; the penppml panel needs
//! ../shared): `cargo test --release --test separation_panels -- --ignored`.

use gravity_model::{fit, Estimator, FitOptions, Formula, Frame, RowStatus, VcovSpec};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The fixture's rows (1-based) that are separated or singletons.
fn expected(name: &str) -> BTreeMap<usize, String> {
    let path = root().join(format!("tests/fixtures/separation/panels/{name}.csv.gz"));
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut text = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let (row, status) = l.split_once(',').unwrap();
            (row.parse().unwrap(), status.to_owned())
        })
        .collect()
}

/// Fits `formula` on `data` and checks the classification, the estimates
/// against `beta` (the old release's) and that the check converged.
fn check(name: &str, data: &Path, formula: &str, cluster: &str, beta: &[f64]) {
    let frame = Frame::read_path(data, &Default::default(), None)
        .unwrap_or_else(|e| panic!("{}: {e}", data.display()));
    let options = FitOptions::default().vcov(VcovSpec::Cluster(vec![cluster.into()]));
    let f = fit(
        &frame,
        &Formula::parse(formula).unwrap(),
        Estimator::Ppml,
        &options,
    )
    .unwrap();
    let got: BTreeMap<usize, String> = f
        .sample
        .status
        .iter()
        .enumerate()
        .filter_map(|(i, s)| match s {
            RowStatus::Separated => Some((i + 1, "separated".to_owned())),
            RowStatus::Singleton => Some((i + 1, "singleton".to_owned())),
            _ => None,
        })
        .collect();
    let want = expected(name);
    let missing: Vec<_> = want
        .iter()
        .filter(|(r, s)| got.get(r) != Some(s))
        .take(5)
        .collect();
    let extra: Vec<_> = got
        .iter()
        .filter(|(r, s)| want.get(r) != Some(s))
        .take(5)
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{name}: {} rows expected, {} found; first differences: expected {missing:?}, found {extra:?}",
        want.len(),
        got.len()
    );
    assert!(
        f.sample.relu_converged,
        "{name}: the ReLU check did not finish"
    );
    assert!(
        f.sample.relu_iterations <= 20,
        "{name}: {} ReLU iterations (the rewrite needs at most a few)",
        f.sample.relu_iterations
    );
    assert!(f.info.converged, "{name}: IRLS did not converge");
    assert_eq!(f.beta.len(), beta.len(), "{name}");
    for (b, want) in f.beta.iter().zip(beta) {
        assert!(
            (b - want).abs() <= 1e-8 * want.abs(),
            "{name}: coefficient {b} against {want}"
        );
    }
}

const MODEL: &str = "fta + sanction_trade | exporter^year + importer^year + exporter^importer";

fn shipped(name: &str, beta: &[f64]) {
    check(
        name,
        &root().join("data/gravity_panel.csv.gz"),
        &format!("{name} ~ {MODEL}"),
        "exporter^importer",
        beta,
    );
}

// The estimates printed by `gravity fit --json` at commit ac23052.

#[test]
#[ignore = "opt-in: a few seconds in release (run by .ci/run)"]
fn manufacturing_is_classified_as_before() {
    shipped("trade", &[0.09045494368591626, -0.09358436182035246]);
}

#[test]
#[ignore = "opt-in: a few seconds in release (run by .ci/run)"]
fn agriculture_is_classified_as_before() {
    shipped(
        "trade_agriculture",
        &[0.014535244021760756, -0.15934277814892436],
    );
}

#[test]
#[ignore = "opt-in: a few seconds in release (run by .ci/run)"]
fn mining_and_energy_is_classified_as_before() {
    shipped(
        "trade_mining_energy",
        &[-0.1297168801280889, -0.198902415481537],
    );
}

#[test]
#[ignore = "opt-in: a few seconds in release (run by .ci/run)"]
fn services_is_classified_as_before() {
    shipped(
        "trade_services",
        &[0.016495968340585122, 0.03931414280840106],
    );
}

#[test]
#[ignore = "opt-in: needs ../shared/data/penppml_trade/trade.csv"]
fn penppml_long_run_panel_is_classified_as_before() {
    let data = root().join("../shared/data/penppml_trade/trade.csv");
    assert!(
        data.exists(),
        "{} not found: this opt-in test needs ../shared beside the repository",
        data.display()
    );
    check(
        "penppml",
        &data,
        "export ~ cp_prov_23 | exp^year + imp^year + exp^imp",
        "exp^imp",
        &[0.3651333903449429],
    );
}
