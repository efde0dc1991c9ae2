//! `gravity simulate` refuses what it cannot mean (issue 12, item 6): every
//! case through the binary, with the error it must give.

use gravity_model::simulate::{Scenario, Uncertainty};
use std::path::{Path, PathBuf};
use std::process::Output;

fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn fixture() -> PathBuf {
    root().join("tests/fixtures/agtpa/ch1_app3.csv.gz")
}

/// The NAFTA scenario with `data` pointing at `data` and the lines of
/// `edit` replacing those with the same key (or appended).
fn scenario(data: &Path, edit: &[(&str, &str)], shock: &str) -> String {
    let mut top = vec![
        ("data", format!("{:?}", data.display().to_string())),
        (
            "formula",
            "\"trade ~ rta | exporter^year + importer^year + pair_sym\"".to_string(),
        ),
        ("vcov", "\"cluster:cluster_pair\"".to_string()),
        ("year", "1994".to_string()),
        ("sigma", "7.0".to_string()),
        ("reference", "\"DEU\"".to_string()),
        (
            "impute_pair_effects",
            "[\"ldist\", \"cntg\", \"lang\", \"clny\"]".to_string(),
        ),
        ("draws", "0".to_string()),
    ];
    for (k, v) in edit {
        match top.iter_mut().find(|(key, _)| key == k) {
            Some(e) => e.1 = v.to_string(),
            None => top.push((k, v.to_string())),
        }
    }
    let mut text: String = top.iter().map(|(k, v)| format!("{k} = {v}\n")).collect();
    text.push_str("\n[[shock]]\nvariable = \"rta\"\nvalue = 0.0\n");
    text.push_str(shock);
    text.push('\n');
    text
}

const NAFTA: &str = "between = [\"CAN\", \"MEX\", \"USA\"]";

fn run(dir: &Path, text: &str) -> Output {
    let path = dir.join("scenario.toml");
    std::fs::write(&path, text).unwrap();
    std::process::Command::new(env!("CARGO_BIN_EXE_gravity"))
        .args(["simulate", "--scenario", path.to_str().unwrap(), "--json"])
        .output()
        .unwrap()
}

fn refused(o: &Output, needles: &[&str]) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        o.status.code(),
        Some(2),
        "exit {:?}; stderr: {err}",
        o.status
    );
    assert!(o.stdout.is_empty(), "printed results despite the error");
    for n in needles {
        assert!(err.contains(n), "stderr lacks {n:?}: {err}");
    }
}

#[test]
fn duplicate_panel_rows_are_an_error_naming_both_lines() {
    let dir = tempfile::tempdir().unwrap();
    let text = {
        use std::io::Read;
        let mut s = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(fixture()).unwrap())
            .read_to_string(&mut s)
            .unwrap();
        s
    };
    // A second CAN → USA 1994 row at the end of the file (the original is
    // on line 10,075 as an editor counts it, the header being line 1).
    let original = text
        .lines()
        .position(|l| l.starts_with("CAN,USA,950,1994,"))
        .unwrap()
        + 1;
    let last = text.lines().count() + 1;
    let data = dir.path().join("panel.csv");
    std::fs::write(
        &data,
        format!("{text}CAN,USA,950,1994,5000,1,7.63978500081581,1,1,0,950,950\n"),
    )
    .unwrap();
    let o = run(dir.path(), &scenario(&data, &[], NAFTA));
    refused(
        &o,
        &[
            "duplicate row",
            "CAN → USA",
            "1994",
            &format!("lines {original} and {last}"),
            "panel.csv",
        ],
    );
}

#[test]
fn sigma_close_to_one_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    for sigma in ["1.001", "1.0000000001"] {
        let o = run(
            dir.path(),
            &scenario(&fixture(), &[("sigma", sigma)], NAFTA),
        );
        refused(&o, &["sigma", "at least 1.01", "1/(1 − σ)"]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!err.contains("NaN") && !err.contains("null"), "{err}");
    }
    // 1.01 itself is accepted and gives finite numbers.
    let o = run(
        dir.path(),
        &scenario(&fixture(), &[("sigma", "1.01")], NAFTA),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for c in v["countries"].as_array().unwrap() {
        assert!(
            c["real_gdp_change_pct"].as_f64().unwrap().is_finite(),
            "{c}"
        );
    }
}

#[test]
fn a_shock_with_a_country_twice_or_no_pair_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(
        dir.path(),
        &scenario(&fixture(), &[], "between = [\"CAN\", \"CAN\"]"),
    );
    refused(&o, &["shock[0].between", "'CAN' twice"]);
    let o = run(
        dir.path(),
        &scenario(&fixture(), &[], "from = [\"CAN\"]\nto = [\"CAN\"]"),
    );
    refused(&o, &["shock[0]", "matches no pair"]);
}

#[test]
fn draws_are_bounded_in_the_binary_and_the_library() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(
        dir.path(),
        &scenario(&fixture(), &[("draws", "1000000000")], NAFTA),
    );
    refused(&o, &["draws", "at most 100000", "1000000000"]);
    // 2^64 − 1 (it panicked in the seed arithmetic): the same error.
    let o = run(
        dir.path(),
        &scenario(&fixture(), &[("draws", "18446744073709551615")], NAFTA),
    );
    refused(&o, &["draws", "at most 100000"]);
    let mut s = Scenario::from_toml_path(root().join("examples/agtpa_nafta.toml")).unwrap();
    s.uncertainty = Uncertainty::CoefficientDraws {
        draws: 1_000_000_000,
        seed: 1,
    };
    let e = s.validate().unwrap_err().to_string();
    assert!(e.contains("draws") && e.contains("100000"), "{e}");
    let e = gravity_model::simulate::run(&s).unwrap_err().to_string();
    assert!(e.contains("draws"), "{e}");
}

#[test]
fn toml_errors_name_the_line_column_and_key() {
    let dir = tempfile::tempdir().unwrap();
    // A type error: sigma is line 5, its value starts in column 9.
    let o = run(
        dir.path(),
        &scenario(&fixture(), &[("sigma", "\"seven\"")], NAFTA),
    );
    refused(&o, &["sigma", "scenario.toml", "line 5, column 9"]);
    // A type error inside the shock table names shock[0].value.
    let text = scenario(&fixture(), &[], NAFTA).replace("value = 0.0", "value = \"zero\"");
    let line = text.lines().position(|l| l.starts_with("value")).unwrap() + 1;
    let o = run(dir.path(), &text);
    refused(&o, &["shock[0].value", &format!("line {line}, column 9")]);
    // A syntax error: a value missing.
    let o = run(dir.path(), &scenario(&fixture(), &[("year", "")], NAFTA));
    refused(&o, &["year", "line 4"]);
}
