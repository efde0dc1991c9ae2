//! Bad input and the command line: each malformed input gives its clear error
//! (naming the file, line and column) and a non-zero exit — never a panic —
//! or its documented behaviour; checked through the binary and the library.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn gravity(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gravity"))
        .args(args)
        .output()
        .expect("the gravity binary runs")
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    let mut f = std::fs::File::create(&p).unwrap();
    f.write_all(bytes).unwrap();
    p
}

/// A small valid panel: 4 exporters × 4 importers × 3 years.
fn panel() -> String {
    let mut s = String::from("exporter,importer,year,trade,rta,dist,const\n");
    let cs = ["AAA", "BBB", "CCC", "DDD"];
    let mut k = 0u32;
    for (i, a) in cs.iter().enumerate() {
        for (j, b) in cs.iter().enumerate() {
            for y in 2000..2003 {
                k += 1;
                let rta = u8::from(i != j && (i + j) % 3 == 0 && y >= 2001);
                let trade = ((k * 37) % 23) as f64 + if i == j { 50.0 } else { 0.0 };
                let dist = 100.0 + 10.0 * ((i as f64) - (j as f64)).abs();
                s.push_str(&format!("{a},{b},{y},{trade},{rta},{dist},1\n"));
            }
        }
    }
    s
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn fails_with(o: &Output, needles: &[&str]) {
    assert!(!o.status.success(), "expected failure, got success");
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(o);
    assert!(e.starts_with("gravity: "), "stderr: {e}");
    assert!(!e.contains("panicked"), "panic: {e}");
    for n in needles {
        assert!(e.contains(n), "stderr lacks {n:?}:\n{e}");
    }
}

const F: &str = "trade ~ rta | exporter^year + importer^year";

#[test]
fn a_valid_panel_fits_and_prints_json() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "ok.csv", panel().as_bytes());
    let o = gravity(&[
        "fit",
        "--data",
        p.to_str().unwrap(),
        "--formula",
        "trade ~ rta | exporter^year + importer^year + exporter^importer",
        "--vcov",
        "cluster:exporter^importer",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for key in [
        "estimator",
        "formula",
        "nobs",
        "converged",
        "iterations",
        "deviance",
        "dropped",
        "collinear",
        "vcov",
        "coefficients",
        "timings",
    ] {
        assert!(v.get(key).is_some(), "JSON lacks {key}");
    }
    for key in ["missing", "singletons", "separated"] {
        assert!(v["dropped"].get(key).is_some(), "dropped lacks {key}");
    }
    assert_eq!(v["vcov"]["type"], "cluster");
    let c = &v["coefficients"][0];
    for key in [
        "name",
        "estimate",
        "std_error",
        "statistic",
        "p_value",
        "ci_low",
        "ci_high",
    ] {
        assert!(c.get(key).is_some(), "coefficient lacks {key}");
    }
    for key in [
        "load_s",
        "prepare_s",
        "estimate_s",
        "inference_s",
        "total_s",
    ] {
        assert!(v["timings"].get(key).is_some(), "timings lacks {key}");
    }
}

#[test]
fn negative_outcome_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = panel();
    s = s.replacen("AAA,BBB,2001,", "AAA,BBB,2001,-3", 1);
    // The replaced cell now reads e.g. "-312": find its line.
    let line = s
        .lines()
        .position(|l| l.starts_with("AAA,BBB,2001,-"))
        .unwrap()
        + 1;
    let p = write(dir.path(), "neg.csv", s.as_bytes());
    let o = gravity(&["fit", "--data", p.to_str().unwrap(), "--formula", F]);
    fails_with(
        &o,
        &["neg.csv", &format!(":{line}"), "trade", "non-negative"],
    );
}

#[test]
fn nan_and_infinite_outcomes_are_errors_not_missing() {
    let dir = tempfile::tempdir().unwrap();
    for bad in ["NaN", "inf"] {
        let s = panel().replacen("AAA,BBB,2001,", &format!("AAA,BBB,2001,{bad}#"), 1);
        let s = s
            .lines()
            .map(|l| match l.find('#') {
                Some(k) => {
                    let rest = &l[k + 1..];
                    let after = rest.find(',').map(|c| &rest[c..]).unwrap_or("");
                    format!("{}{}", &l[..k], after)
                }
                None => l.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("\n")
            + "\n";
        let p = write(dir.path(), "nan.csv", s.as_bytes());
        let o = gravity(&["fit", "--data", p.to_str().unwrap(), "--formula", F]);
        fails_with(&o, &["nan.csv", "trade"]);
    }
}

#[test]
fn non_numeric_regressor_names_the_cell() {
    let dir = tempfile::tempdir().unwrap();
    let s = panel().replacen(",1,110,1\n", ",yes,110,1\n", 1);
    let line = s.lines().position(|l| l.contains(",yes,")).unwrap() + 1;
    let p = write(dir.path(), "text.csv", s.as_bytes());
    let o = gravity(&["fit", "--data", p.to_str().unwrap(), "--formula", F]);
    fails_with(&o, &["text.csv", &format!(":{line}"), "rta", "yes"]);
}

#[test]
fn unknown_column_points_at_the_formula_with_a_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "ok.csv", panel().as_bytes());
    let o = gravity(&[
        "fit",
        "--data",
        p.to_str().unwrap(),
        "--formula",
        "trade ~ rtaa | exporter^year",
    ]);
    fails_with(&o, &["rtaa", "^^^^", "rta"]);
}

#[test]
fn formula_syntax_error_points_at_the_position() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "ok.csv", panel().as_bytes());
    let o = gravity(&[
        "fit",
        "--data",
        p.to_str().unwrap(),
        "--formula",
        "trade ~ rta | exporter^",
    ]);
    fails_with(&o, &["formula", "^"]);
}

#[test]
fn empty_file_and_missing_file_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "empty.csv", b"");
    let o = gravity(&["fit", "--data", p.to_str().unwrap(), "--formula", F]);
    fails_with(&o, &["empty.csv"]);
    let missing = dir.path().join("nope.csv");
    let o = gravity(&["fit", "--data", missing.to_str().unwrap(), "--formula", F]);
    fails_with(&o, &["nope.csv"]);
}

#[test]
fn file_without_header_reports_the_unknown_columns() {
    let dir = tempfile::tempdir().unwrap();
    let body: String = panel().lines().skip(1).map(|l| format!("{l}\n")).collect();
    let p = write(dir.path(), "nohead.csv", body.as_bytes());
    let o = gravity(&["fit", "--data", p.to_str().unwrap(), "--formula", F]);
    // The first data row is taken as the header: its repeated cells are
    // reported at line 1 of the file.
    fails_with(&o, &["nohead.csv:1", "header"]);
}

#[test]
fn ragged_row_names_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = panel();
    s.push_str("AAA,BBB,2003,5\n");
    let line = s.lines().count();
    let p = write(dir.path(), "ragged.csv", s.as_bytes());
    let o = gravity(&["fit", "--data", p.to_str().unwrap(), "--formula", F]);
    fails_with(&o, &["ragged.csv", &format!("{line}")]);
}

#[test]
fn all_zero_outcome_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let s: String = panel()
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                format!("{l}\n")
            } else {
                let mut f: Vec<&str> = l.split(',').collect();
                f[3] = "0";
                format!("{}\n", f.join(","))
            }
        })
        .collect();
    let p = write(dir.path(), "zero.csv", s.as_bytes());
    let o = gravity(&["fit", "--data", p.to_str().unwrap(), "--formula", F]);
    fails_with(&o, &["zero in every observation"]);
}

#[test]
fn real_world_csv_quirks_load() {
    // UTF-8 byte-order mark, CRLF line endings, quoted fields with commas.
    let dir = tempfile::tempdir().unwrap();
    let s = panel()
        .replace("AAA", "\"Korea, Republic of\"")
        .replace('\n', "\r\n");
    let mut bytes = vec![0xEF, 0xBB, 0xBF];
    bytes.extend_from_slice(s.as_bytes());
    let p = write(dir.path(), "quirks.csv", &bytes);
    let o = gravity(&["fit", "--data", p.to_str().unwrap(), "--formula", F]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn missing_values_are_dropped_counted_and_listed() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines: Vec<String> = panel().lines().map(str::to_owned).collect();
    // Data rows 3, 5 and 7 (file lines 4, 6, 8): empty, NA and "." cells.
    for (row, marker) in [(3usize, ""), (5, "NA"), (7, ".")] {
        let mut f: Vec<String> = lines[row].split(',').map(str::to_owned).collect();
        f[4] = marker.to_owned();
        lines[row] = f.join(",");
    }
    let s = lines.join("\n") + "\n";
    let p = write(dir.path(), "miss.csv", s.as_bytes());
    let sample = dir.path().join("sample.csv");
    let o = gravity(&[
        "fit",
        "--data",
        p.to_str().unwrap(),
        "--formula",
        F,
        "--json",
        "--save-sample",
        sample.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["dropped"]["missing"], 3);
    let saved = std::fs::read_to_string(&sample).unwrap();
    let rows: Vec<&str> = saved.lines().collect();
    assert_eq!(rows[0], "row,status,fitted");
    assert_eq!(rows.len(), 1 + 48);
    for r in [3, 5, 7] {
        assert_eq!(rows[r], format!("{r},missing,"));
    }
    assert!(rows[1].starts_with("1,used,"));
}

#[test]
fn constant_regressor_is_dropped_as_collinear_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "ok.csv", panel().as_bytes());
    let o = gravity(&[
        "fit",
        "--data",
        p.to_str().unwrap(),
        "--formula",
        "trade ~ rta + const | exporter^year + importer^year",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["collinear"][0], "const");
    assert!(stderr(&o).contains("collinear"));
}

#[test]
fn fixed_effect_with_one_level_acts_as_an_intercept() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "ok.csv", panel().as_bytes());
    let with_fe = gravity(&[
        "fit",
        "--data",
        p.to_str().unwrap(),
        "--formula",
        "trade ~ rta + dist | const",
        "--json",
    ]);
    let with_intercept = gravity(&[
        "fit",
        "--data",
        p.to_str().unwrap(),
        "--formula",
        "trade ~ rta + dist",
        "--json",
    ]);
    assert!(with_fe.status.success(), "{}", stderr(&with_fe));
    assert!(
        with_intercept.status.success(),
        "{}",
        stderr(&with_intercept)
    );
    let a: serde_json::Value = serde_json::from_slice(&with_fe.stdout).unwrap();
    let b: serde_json::Value = serde_json::from_slice(&with_intercept.stdout).unwrap();
    let est = |v: &serde_json::Value, name: &str| {
        v["coefficients"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()["estimate"]
            .as_f64()
            .unwrap()
    };
    assert!((est(&a, "rta") - est(&b, "rta")).abs() < 1e-6);
}

#[test]
fn help_documents_every_flag() {
    let o = gravity(&["fit", "--help"]);
    assert!(o.status.success());
    let h = String::from_utf8_lossy(&o.stdout);
    for flag in [
        "--data",
        "--formula",
        "--estimator",
        "--vcov",
        "--ssc",
        "--weights",
        "--offset",
        "--tol",
        "--json",
        "--save-sample",
        "--delimiter",
    ] {
        assert!(h.contains(flag), "--help lacks {flag}");
    }
}

#[test]
fn the_library_reports_the_same_errors_as_typed_values() {
    let dir = tempfile::tempdir().unwrap();
    let s = panel().replacen("AAA,BBB,2001,", "AAA,BBB,2001,-", 1);
    let p = write(dir.path(), "neg.csv", s.as_bytes());
    let req = gravity_model::Formula::parse(F)
        .unwrap()
        .columns(gravity_model::ColumnKind::NonNegative);
    let err = gravity_model::Frame::read_csv(&p, &Default::default(), Some(&req)).unwrap_err();
    let loc = err.location().expect("a data error has a location");
    assert_eq!(loc.column.as_deref(), Some("trade"));
    assert!(loc.line.unwrap() > 1);
    assert!(matches!(err, gravity_model::Error::Data { .. }));
    let ferr = gravity_model::Formula::parse("trade ~ ").unwrap_err();
    assert!(matches!(ferr, gravity_model::Error::Formula { .. }));
}

/// The input-format fixtures of the library (`tools/fixtures/formats.py`).
fn formats_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/formats")
        .join(name)
}

#[test]
fn stata_and_parquet_data_give_the_csvs_fit() {
    let run = |name: &str| {
        let p = formats_fixture(name);
        let o = gravity(&[
            "fit",
            "--data",
            p.to_str().unwrap(),
            "--formula",
            "trade ~ ldist + contig + lang + rta + sanction | exporter^year + importer^year",
            "--vcov",
            "cluster:pair",
            "--json",
        ]);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        let e = stderr(&o);
        assert!(
            e.contains("4 rows dropped because of missing values"),
            "{name}: {e}"
        );
        let mut v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v.as_object_mut().unwrap().remove("timings");
        v
    };
    let csv = run("small.csv");
    for name in [
        "small_114.dta",
        "small_118_msf.dta",
        "small_119.dta",
        "small.parquet",
    ] {
        assert_eq!(run(name), csv, "{name}");
    }
}
