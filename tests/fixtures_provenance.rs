//! Opt-in (`cargo test --release -- --ignored`, needs `../shared/data` or
//! `$GRAVITY_RAW_DATA`): the committed test fixtures carry exactly the values
//! of the raw public files they were built from by `tools/fixtures/`. These
//! tests fail, never skip, when the raw files are absent.

use gravity_model::{Column, CsvOptions, Frame};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn raw_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut candidates = Vec::new();
    if let Some(p) = std::env::var_os("GRAVITY_RAW_DATA") {
        candidates.push(PathBuf::from(p));
    }
    candidates.push(root.join("../shared/data"));
    candidates.push(root.join("../../shared/data"));
    for c in &candidates {
        if c.join("agtpa").is_dir() {
            return c.clone();
        }
    }
    panic!("raw data not found (tried {candidates:?}); set GRAVITY_RAW_DATA")
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The raw AGTPA file and one fixture built from it.
fn agtpa_and_fixture(fixture: &str) -> (Frame, Frame) {
    let read = |p: PathBuf| Frame::read_csv(&p, &CsvOptions::default(), None).unwrap();
    (
        read(raw_dir().join("agtpa/agtpa_applications.csv")),
        read(fixtures().join(fixture)),
    )
}

fn text(f: &Frame, name: &str, i: usize) -> String {
    match f.column(name).unwrap() {
        Column::Factor(x) => x.levels[x.codes[i] as usize].clone(),
        Column::Numeric(v) => format!("{}", v[i]),
    }
}

#[test]
#[ignore = "needs ../shared/data"]
fn agtpa_fixture_equals_the_books_data_for_the_four_year_sample() {
    let (raw, fx) = agtpa_and_fixture("agtpa/ch1_app3.csv.gz");
    let years = [1986.0, 1990.0, 1994.0, 1998.0, 2002.0, 2006.0];
    let ry = raw.numeric("year").unwrap();
    let (rt, rr) = (raw.numeric("trade").unwrap(), raw.numeric("rta").unwrap());
    let mut expected: HashMap<(String, String, i64), (f64, f64)> = HashMap::new();
    for i in 0..raw.nrows() {
        if years.contains(&ry[i]) {
            expected.insert(
                (
                    text(&raw, "exporter", i),
                    text(&raw, "importer", i),
                    ry[i] as i64,
                ),
                (rt[i], rr[i]),
            );
        }
    }
    assert_eq!(fx.nrows(), expected.len());
    let fy = fx.numeric("year").unwrap();
    let (ft, fr) = (fx.numeric("trade").unwrap(), fx.numeric("rta").unwrap());
    for i in 0..fx.nrows() {
        let key = (
            text(&fx, "exporter", i),
            text(&fx, "importer", i),
            fy[i] as i64,
        );
        let (t, r) = expected[&key];
        assert!((ft[i] - t).abs() <= 1e-9 * t.abs(), "{key:?}: trade");
        assert_eq!(fr[i], r, "{key:?}: rta");
        let domestic = key.0 == key.1;
        assert_eq!(text(&fx, "pair_sym", i) == "DOMESTIC", domestic, "{key:?}");
    }
}

#[test]
#[ignore = "needs ../shared/data"]
fn separation_fixtures_equal_ppmlhdfes_datasets() {
    for k in 1..=18 {
        let name = format!("{k:02}.csv");
        let raw = Frame::read_csv(
            &raw_dir().join("ppmlhdfe_separation").join(&name),
            &CsvOptions::default(),
            None,
        )
        .unwrap();
        let fx = Frame::read_csv(
            &fixtures().join("separation").join(&name),
            &CsvOptions::default(),
            None,
        )
        .unwrap();
        assert_eq!(raw.names(), fx.names(), "{name}");
        assert_eq!(raw.nrows(), fx.nrows(), "{name}");
        for col in raw.names() {
            assert_eq!(
                raw.numeric(col).unwrap(),
                fx.numeric(col).unwrap(),
                "{name} {col}"
            );
        }
    }
}

#[test]
#[ignore = "needs ../shared/data"]
fn trade_without_borders_fixture_is_the_books_2006_cross_section() {
    let (raw, fx) = agtpa_and_fixture("agtpa/ch2_app1_2006.csv");
    let ry = raw.numeric("year").unwrap();
    let (rt, rd) = (raw.numeric("trade").unwrap(), raw.numeric("dist").unwrap());
    let rc = raw.numeric("cntg").unwrap();
    let mut expected: HashMap<(String, String), (f64, f64, f64)> = HashMap::new();
    for i in 0..raw.nrows() {
        if ry[i] == 2006.0 {
            expected.insert(
                (text(&raw, "exporter", i), text(&raw, "importer", i)),
                (rt[i], rd[i], rc[i]),
            );
        }
    }
    assert_eq!(expected.len(), 69 * 69);
    assert_eq!(fx.nrows(), expected.len());
    let (ft, fl) = (fx.numeric("trade").unwrap(), fx.numeric("ldist").unwrap());
    let (fc, fb) = (
        fx.numeric("cntg").unwrap(),
        fx.numeric("intl_brdr").unwrap(),
    );
    for i in 0..fx.nrows() {
        let key = (text(&fx, "exporter", i), text(&fx, "importer", i));
        let (t, d, c) = expected[&key];
        assert!((ft[i] - t).abs() <= 1e-9 * t.abs(), "{key:?}: trade");
        assert!((fl[i] - d.ln()).abs() <= 1e-12, "{key:?}: ldist");
        assert_eq!(fc[i], c, "{key:?}: cntg");
        assert_eq!(
            fb[i],
            if key.0 == key.1 { 0.0 } else { 1.0 },
            "{key:?}: intl_brdr"
        );
    }
}

#[test]
#[ignore = "needs ../shared/data"]
fn rta_lag_fixture_carries_the_books_lag_columns() {
    let (raw, fx) = agtpa_and_fixture("inference/ch1_rta_lags.csv.gz");
    let (_, app3) = agtpa_and_fixture("agtpa/ch1_app3.csv.gz");
    let cols = ["trade", "rta", "rta_lag4", "rta_lag8", "rta_lag12"];
    let ry = raw.numeric("year").unwrap();
    let mut expected: HashMap<(String, String, i64), Vec<f64>> = HashMap::new();
    for (i, y) in ry.iter().enumerate() {
        let key = (
            text(&raw, "exporter", i),
            text(&raw, "importer", i),
            *y as i64,
        );
        let values = cols.iter().map(|c| raw.numeric(c).unwrap()[i]).collect();
        expected.insert(key, values);
    }
    // The rows of ch1_app3.csv.gz, in its order.
    assert_eq!(fx.nrows(), app3.nrows());
    let fy = fx.numeric("year").unwrap();
    for (i, y) in fy.iter().enumerate() {
        let key = (
            text(&fx, "exporter", i),
            text(&fx, "importer", i),
            *y as i64,
        );
        assert_eq!(key.0, text(&app3, "exporter", i));
        assert_eq!(key.1, text(&app3, "importer", i));
        assert_eq!(text(&fx, "pair_sym", i), text(&app3, "pair_sym", i));
        let want = &expected[&key];
        for (c, w) in cols.iter().zip(want) {
            let v = fx.numeric(c).unwrap()[i];
            assert!((v - w).abs() <= 1e-9 * w.abs(), "{key:?}: {c}");
        }
    }
}

#[test]
#[ignore = "needs ../shared/data"]
fn chapter1_tables_fixture_is_the_books_panel_with_its_built_columns() {
    let (raw, fx) = agtpa_and_fixture("agtpa/ch1_tables.csv.gz");
    let years = [1986.0, 1990.0, 1994.0, 1998.0, 2002.0, 2006.0];
    let copied = [
        "pair_id",
        "trade",
        "dist",
        "cntg",
        "lang",
        "clny",
        "rta",
        "rta_lag4",
        "rta_lag8",
        "rta_lag12",
        "rta_lead4",
    ];
    let ry = raw.numeric("year").unwrap();
    let mut expected: HashMap<(String, String, i64), Vec<f64>> = HashMap::new();
    for (i, &year) in ry.iter().enumerate() {
        if years.contains(&year) {
            let values = copied.iter().map(|c| raw.numeric(c).unwrap()[i]).collect();
            expected.insert(
                (
                    text(&raw, "exporter", i),
                    text(&raw, "importer", i),
                    year as i64,
                ),
                values,
            );
        }
    }
    assert_eq!(fx.nrows(), expected.len());
    let fy = fx.numeric("year").unwrap();
    let intl = fx.numeric("intl").unwrap();
    for i in 0..fx.nrows() {
        let key = (
            text(&fx, "exporter", i),
            text(&fx, "importer", i),
            fy[i] as i64,
        );
        for (c, want) in copied.iter().zip(&expected[&key]) {
            let got = fx.numeric(c).unwrap()[i];
            assert!((got - want).abs() <= 1e-12 * want.abs(), "{key:?}: {c}");
        }
        let domestic = key.0 == key.1;
        assert_eq!(intl[i], if domestic { 0.0 } else { 1.0 }, "{key:?}: intl");
        let pair = text(&fx, "pair_id", i);
        let sym = if domestic {
            "DOMESTIC".to_owned()
        } else {
            pair
        };
        assert_eq!(text(&fx, "pair_sym", i), sym, "{key:?}: pair_sym");
        let intra = if domestic {
            key.0.clone()
        } else {
            "inter".to_owned()
        };
        assert_eq!(text(&fx, "intra_pair", i), intra, "{key:?}: intra_pair");
    }
}
