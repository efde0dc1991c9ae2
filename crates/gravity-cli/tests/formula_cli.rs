//! The formula language through the binary: terms, `--panel`, `--subset`,
//! and several models from one formula.

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

fn data() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .join("tests/fixtures/formula/ch1_terms.csv.gz")
}

fn gravity(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_gravity"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_distance_puzzle_in_one_line() {
    let d = data();
    let (code, stdout, stderr) = gravity(&[
        "fit",
        "--data",
        d.to_str().unwrap(),
        "--formula",
        "trade ~ i(year, log(dist)) + cntg + lang + clny | exporter^year + importer^year",
        "--subset",
        "exporter != importer",
        "--vcov",
        "cluster:pair_id",
        "--json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    let names: Vec<&str> = v["coefficients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names[0], "year::1986:log(dist)");
    assert_eq!(names[5], "year::2006:log(dist)");
    assert_eq!(v["dropped"]["excluded"], 69 * 6);
    assert!(
        stderr.contains("414 rows outside --subset excluded"),
        "{stderr}"
    );
}

#[test]
fn lags_need_a_panel_and_use_it() {
    let d = data();
    let formula = "trade ~ rta + l(rta, 4) | exporter^year + importer^year + pair_id";
    let (code, _, stderr) = gravity(&["fit", "--data", d.to_str().unwrap(), "--formula", formula]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--panel UNIT,TIME"), "{stderr}");
    let (code, stdout, stderr) = gravity(&[
        "fit",
        "--data",
        d.to_str().unwrap(),
        "--formula",
        formula,
        "--panel",
        "exporter^importer,year",
        "--json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["coefficients"][1]["name"], "l(rta, 4)");
    // 1986 has no earlier period in the panel: its rows are missing.
    assert!(v["dropped"]["missing"].as_u64().unwrap() >= 69 * 69);
}

#[test]
fn csw_prints_every_model() {
    let d = data();
    let (code, stdout, stderr) = gravity(&[
        "fit",
        "--data",
        d.to_str().unwrap(),
        "--formula",
        "trade ~ log(dist) + csw0(cntg, lang) | exporter^year + importer^year",
        "--subset",
        "exporter != importer",
    ]);
    assert_eq!(code, 0, "{stderr}");
    // One table, the three models side by side.
    let header = stdout.lines().next().unwrap();
    assert!(header.contains("(1)") && header.contains("(3)"), "{stdout}");
    let lang = stdout.lines().find(|l| l.starts_with("lang")).unwrap();
    assert_eq!(
        lang.split_whitespace().count(),
        2,
        "lang only in model 3: {lang}"
    );
    assert!(
        stderr.contains("note: model 3: 414 rows outside --subset excluded"),
        "{stderr}"
    );
    let (code, stdout, _) = gravity(&[
        "fit",
        "--data",
        d.to_str().unwrap(),
        "--formula",
        "c(trade, rta) ~ cntg | exporter^year",
        "--json",
    ]);
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
}

#[test]
fn bad_subset_conditions_are_clear_errors() {
    let d = data();
    for (subset, needle) in [
        ("year = 1990", "use '==' to compare"),
        ("yeer > 1990", "unknown column 'yeer' in --subset"),
        ("year >", "expected a value"),
        ("(year > 1990", "expected"),
    ] {
        let (code, stdout, stderr) = gravity(&[
            "fit",
            "--data",
            d.to_str().unwrap(),
            "--formula",
            "trade ~ rta | exporter^year",
            "--subset",
            subset,
        ]);
        assert_eq!(code, 2, "{subset}: {stdout}{stderr}");
        assert!(stderr.contains(needle), "{subset}: {stderr}");
    }
}
