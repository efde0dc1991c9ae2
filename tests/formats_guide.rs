//! Opt-in (`cargo test --release -- --ignored`, needs `../shared/data` or
//! `$GRAVITY_RAW_DATA`): the Advanced Guide's own Stata files (Yotov,
//! Piermartini, Monteiro & Larch 2016; releases 113 and 115) load, with the
//! shapes `shared/data/PROVENANCE.md` gives and the missing cells pandas
//! counts, and the workhorse of Chapter 1, Application 3 estimated straight
//! from `Chapter2Application2.dta` is the book's. These tests fail, never
//! skip, when the files are absent.

use gravity_model::{
    fit, Column, CsvOptions, Estimator, Factor, FitOptions, Formula, Frame, SmallSample, VcovSpec,
};
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

fn read(name: &str) -> Frame {
    let path = raw_dir().join("agtpa").join(name);
    Frame::read_path(&path, &CsvOptions::default(), None)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn missing_cells(frame: &Frame) -> usize {
    frame
        .names()
        .iter()
        .map(|n| {
            let c = frame.column(n).unwrap();
            (0..c.len()).filter(|&i| c.is_missing(i)).count()
        })
        .sum()
}

/// A file, its release, rows, columns, first columns, and its missing cells
/// as pandas counts them.
type Expected = (
    &'static str,
    u8,
    usize,
    usize,
    &'static [&'static str],
    usize,
);

#[test]
#[ignore = "needs ../shared/data"]
fn the_guides_stata_files_load() {
    let files: [Expected; 10] = [
        (
            "Chapter1Application1.dta",
            113,
            99_981,
            9,
            &["exporter", "importer", "pair_id", "year", "trade", "DIST"],
            0,
        ),
        (
            "Chapter1Application2.dta",
            113,
            99_981,
            9,
            &["exporter", "importer", "pair_id", "year", "trade", "DIST"],
            0,
        ),
        (
            "Chapter2Application1.dta",
            113,
            99_981,
            9,
            &["exporter", "importer", "pair_id", "year", "trade", "DIST"],
            0,
        ),
        (
            "Chapter2Application2.dta",
            113,
            99_981,
            10,
            &["exporter", "importer", "pair_id", "year", "trade", "DIST"],
            0,
        ),
        (
            "Chapter2Exercise2.dta",
            113,
            99_981,
            10,
            &["exporter", "importer", "pair_id", "year", "trade", "DIST"],
            0,
        ),
        (
            "Chapter2Exercise1.dta",
            113,
            99_981,
            7,
            &[
                "exporter", "importer", "pair_id", "year", "trade", "DIST", "CNTG",
            ],
            0,
        ),
        (
            "Chapter1Exercise1.dta",
            113,
            25_350,
            10,
            &["exporter", "importer", "year", "trade", "DIST"],
            0,
        ),
        (
            "Chapter1Exercise2.dta",
            113,
            18_928,
            13,
            &["exporter", "importer", "year", "trade", "RTA_LAG3"],
            364,
        ),
        (
            "1_TradeWithoutBorder.dta",
            115,
            4_761,
            153,
            &["exporter", "importer", "pair_id", "year", "trade"],
            4_692,
        ),
        (
            "1_RemovingSpecificBorder.dta",
            115,
            4_761,
            152,
            &["exporter", "importer", "pair_id", "year", "trade"],
            4_692,
        ),
    ];
    for (name, release, rows, cols, first, missing) in files {
        let path = raw_dir().join("agtpa").join(name);
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes[0], release, "{name}");
        let frame = read(name);
        assert_eq!((frame.nrows(), frame.names().len()), (rows, cols), "{name}");
        assert_eq!(&frame.names()[..first.len()], first, "{name}");
        assert_eq!(missing_cells(&frame), missing, "{name}");
        // The trade flows are numbers, none negative.
        let trade = frame.numeric("trade").unwrap();
        assert!(trade.iter().all(|&t| t.is_nan() || t >= 0.0), "{name}");
    }
    // Chapter 1's data: 69 exporters (str3), 1986-2006.
    let frame = read("Chapter1Application1.dta");
    let exporter = frame.factor("exporter").unwrap();
    assert_eq!(exporter.n_levels(), 69);
    assert!(exporter.levels.iter().any(|l| l == "KOR"));
    let years = frame.numeric("year").unwrap();
    assert_eq!(years.iter().cloned().fold(f64::INFINITY, f64::min), 1986.0);
    assert_eq!(years.iter().cloned().fold(0.0, f64::max), 2006.0);
    // The three copies of the Chapter 1 data are the same data.
    let other = read("Chapter2Application1.dta");
    for col in ["trade", "DIST", "year"] {
        let (a, b) = (frame.numeric(col).unwrap(), other.numeric(col).unwrap());
        assert!(
            a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits()),
            "{col}"
        );
    }
}

#[test]
#[ignore = "needs ../shared/data"]
fn the_workhorse_from_the_guides_dta_is_the_books() {
    let frame = read("Chapter2Application2.dta");
    // The 4-year sample, as Chapter 1, Application 3.
    let years = frame.numeric("year").unwrap();
    let keep: Vec<bool> = years
        .iter()
        .map(|y| [1986.0, 1990.0, 1994.0, 1998.0, 2002.0, 2006.0].contains(y))
        .collect();
    let mut frame = frame.filter(&keep);
    // Symmetric pair effects, one common effect for every domestic pair.
    let pair = frame.factor("pair_id").unwrap().into_owned();
    let (ex, im) = (
        frame.factor("exporter").unwrap(),
        frame.factor("importer").unwrap(),
    );
    let domestic = pair.levels.len() as u32;
    let codes: Vec<u32> = (0..frame.nrows())
        .map(|i| {
            if ex.levels[ex.codes[i] as usize] == im.levels[im.codes[i] as usize] {
                domestic
            } else {
                pair.codes[i]
            }
        })
        .collect();
    let mut levels = pair.levels.clone();
    levels.push("DOMESTIC".into());
    drop((ex, im));
    frame
        .insert("pair_sym", Column::Factor(Factor { codes, levels }))
        .unwrap();
    let formula = Formula::parse("trade ~ RTA | exporter^year + importer^year + pair_sym").unwrap();
    let vcov = VcovSpec::Cluster(vec!["pair_id".into()]);
    let fitted = fit(
        &frame,
        &formula,
        Estimator::Ppml,
        &FitOptions::default().vcov(vcov.clone()),
    )
    .unwrap();
    assert_eq!(fitted.nobs(), 28_482, "N of Table 1, column (4)");
    let rta = fitted.inference(&vcov, SmallSample::ppmlhdfe()).unwrap();
    let rta = rta.coef("RTA").unwrap();
    assert!(
        (rta.estimate - 0.5572).abs() < 5e-5,
        "RTA = {}",
        rta.estimate
    );
    assert!(
        (rta.std_error - 0.1022).abs() < 5e-5,
        "s.e. = {}",
        rta.std_error
    );

    // The same as the committed CSV fixture built from the book's files.
    let csv = Frame::read_path(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/agtpa/ch1_app3.csv.gz"),
        &CsvOptions::default(),
        None,
    )
    .unwrap();
    let f = Formula::parse("trade ~ rta | exporter^year + importer^year + pair_sym").unwrap();
    let from_csv = fit(&csv, &f, Estimator::Ppml, &FitOptions::default()).unwrap();
    let (a, b) = (fitted.beta[0], from_csv.beta[0]);
    assert!((a - b).abs() <= 1e-8 * b.abs(), "{a} vs {b}");
}
