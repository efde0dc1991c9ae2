//! Replays the minimised fuzz corpora (`tests/fuzz_corpus/<target>/`, made
//! by the cargo-fuzz targets in `fuzz/`) through the same entry points, on
//! stable: every input must give `Ok` or `Err`, never a panic.

use std::path::PathBuf;

fn replay(target: &str, run: fn(&[u8])) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz_corpus")
        .join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let outcome = std::panic::catch_unwind(|| run(&bytes));
        assert!(outcome.is_ok(), "{} panicked", path.display());
        n += 1;
    }
    assert!(n > 0, "empty corpus in {}", dir.display());
}

#[test]
fn csv_corpus() {
    replay("csv", gravity_model::fuzzing::csv);
}

#[test]
fn formula_corpus() {
    replay("formula", gravity_model::fuzzing::formula);
}

#[test]
fn scenario_corpus() {
    replay("scenario", gravity_model::fuzzing::scenario);
}

#[test]
fn dta_corpus() {
    replay("dta", gravity_model::fuzzing::dta);
}
