//! Stata `.dta` and Parquet input: the same panel in every format
//! (`tests/fixtures/formats/`, written by `tools/fixtures/formats.py` from
//! `parity/statsmodels_small.csv`) gives the same frame and exactly the same
//! fit as its CSV; value labels and strings become factors; Stata's missing
//! values (system and extended) are missing; malformed files are errors
//! that say what is wrong, never panics.

use gravity_model::{
    fit, Column, ColumnKind, ColumnRequest, CsvOptions, DataFormat, Error, ErrorKind, Estimator,
    Fit, FitOptions, Formula, Frame, Inference, SmallSample, VcovSpec,
};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/formats")
        .join(name)
}

const DTA: [&str; 5] = [
    "small_114.dta",
    "small_117.dta",
    "small_118.dta",
    "small_118_msf.dta",
    "small_119.dta",
];

#[cfg(feature = "parquet")]
const PARQUET: [&str; 2] = ["small.parquet", "small_gzip.parquet"];

/// Every file of the panel this build reads (Parquet with the feature).
fn all_files() -> Vec<&'static str> {
    let files = DTA.to_vec();
    #[cfg(feature = "parquet")]
    let files = [files, PARQUET.to_vec()].concat();
    files
}

const FORMULA: &str =
    "trade ~ ldist + contig + lang + rta + sanction | exporter^year + importer^year";

/// Reads `path` as the CLI does: the formula's columns, and `pair` for the
/// clusters.
fn read_for_fit(path: &Path) -> Frame {
    let formula = Formula::parse(FORMULA).unwrap();
    Frame::read_path_with(path, &CsvOptions::default(), |header| {
        formula.check_columns(header)?;
        let mut requests = formula.columns(ColumnKind::NonNegative);
        requests.push(ColumnRequest {
            name: "pair".into(),
            kind: ColumnKind::Factor,
        });
        Ok(Some(requests))
    })
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn fit_and_infer(frame: &Frame) -> (Fit, Inference) {
    let formula = Formula::parse(FORMULA).unwrap();
    let vcov = VcovSpec::Cluster(vec!["pair".into()]);
    let options = FitOptions::default().vcov(vcov.clone());
    let fitted = fit(frame, &formula, Estimator::Ppml, &options).unwrap();
    let inference = fitted.inference(&vcov, SmallSample::fixest()).unwrap();
    (fitted, inference)
}

#[test]
fn every_format_gives_exactly_the_fit_of_the_csv() {
    let (csv_fit, csv_inf) = fit_and_infer(&read_for_fit(&fixture("small.csv")));
    assert!(csv_fit.info.converged);
    // Rows 6, 13, 31 and 41 have a missing value in a used column.
    assert_eq!(csv_fit.sample.dropped.missing, 4);
    for name in all_files() {
        let (f, inf) = fit_and_infer(&read_for_fit(&fixture(name)));
        assert_eq!(f.names, csv_fit.names, "{name}");
        assert_eq!(f.nobs(), csv_fit.nobs(), "{name}");
        assert_eq!(f.sample.dropped, csv_fit.sample.dropped, "{name}");
        assert_eq!(f.sample.status, csv_fit.sample.status, "{name}");
        for (a, b) in f.beta.iter().zip(&csv_fit.beta) {
            assert_eq!(a.to_bits(), b.to_bits(), "{name}: coefficient {a} vs {b}");
        }
        for (a, b) in inf.coefficients.iter().zip(&csv_inf.coefficients) {
            assert_eq!(
                a.std_error.to_bits(),
                b.std_error.to_bits(),
                "{name}: s.e. of {}",
                a.name
            );
        }
    }
}

#[test]
fn every_column_reads_as_in_the_csv() {
    let csv = Frame::read_path(&fixture("small.csv"), &CsvOptions::default(), None).unwrap();
    let names = [
        "exporter", "importer", "year", "trade", "ldist", "contig", "lang", "rta", "sanction",
        "pair",
    ];
    assert_eq!(csv.names(), names);
    for name in all_files() {
        let frame = Frame::read_path(&fixture(name), &CsvOptions::default(), None).unwrap();
        assert_eq!(frame.names(), names, "{name}");
        assert_eq!(frame.nrows(), 576, "{name}");
        assert_eq!(
            frame.line(0),
            2,
            "{name}: row 1 is line 2, as in a CSV export"
        );
        for col in [
            "year", "trade", "ldist", "contig", "lang", "rta", "sanction",
        ] {
            let (a, b) = (frame.numeric(col).unwrap(), csv.numeric(col).unwrap());
            assert!(
                a.iter()
                    .zip(b)
                    .all(|(x, y)| x.to_bits() == y.to_bits() || x.is_nan() && y.is_nan()),
                "{name}: column {col}"
            );
        }
        // Strings are factors, levels as in the CSV.
        for col in ["exporter", "pair"] {
            assert_eq!(frame.column(col), csv.column(col), "{name}: column {col}");
        }
        // A value-labelled column read with no request is its numbers
        // (pandas's category codes, 0..11); Parquet has no value labels, a
        // pandas categorical is a dictionary-encoded string column there.
        match frame.column("importer").unwrap() {
            Column::Numeric(codes) => {
                assert!(name.ends_with(".dta"));
                assert_eq!(codes[0], 0.0);
                assert_eq!(codes.iter().cloned().fold(0.0, f64::max), 11.0);
            }
            Column::Factor(_) => {
                assert!(name.ends_with(".parquet"));
                assert_eq!(frame.column("importer"), csv.column("importer"));
            }
        }
    }
}

#[test]
fn stata_missing_values_are_missing() {
    for name in all_files() {
        let frame = Frame::read_path(&fixture(name), &CsvOptions::default(), None).unwrap();
        let trade = frame.numeric("trade").unwrap();
        let ldist = frame.numeric("ldist").unwrap();
        let lang = frame.numeric("lang").unwrap();
        // `.` in trade, `.a` and `.z` in ldist (nulls in Parquet), a
        // missing byte in lang.
        assert!(trade[5].is_nan() && ldist[12].is_nan() && ldist[30].is_nan() && lang[40].is_nan());
        let missing = |v: &[f64]| v.iter().filter(|x| x.is_nan()).count();
        assert_eq!(
            (missing(trade), missing(ldist), missing(lang)),
            (1, 2, 1),
            "{name}"
        );
    }
}

#[test]
fn value_labels_name_the_levels_of_a_factor() {
    let req = [ColumnRequest {
        name: "importer".into(),
        kind: ColumnKind::Factor,
    }];
    let csv = Frame::read_path(&fixture("small.csv"), &CsvOptions::default(), Some(&req)).unwrap();
    let expected = csv.factor("importer").unwrap();
    assert_eq!(expected.levels[..3], ["C000", "C001", "C002"]);
    for name in all_files() {
        let frame = Frame::read_path(&fixture(name), &CsvOptions::default(), Some(&req)).unwrap();
        assert_eq!(frame.factor("importer").unwrap(), expected, "{name}");
    }
    // The same column as numbers: the codes.
    let req = [ColumnRequest {
        name: "importer".into(),
        kind: ColumnKind::Numeric,
    }];
    let frame = Frame::read_dta(&fixture("small_118.dta"), Some(&req)).unwrap();
    let codes = frame.numeric("importer").unwrap();
    assert_eq!(
        [codes[0], codes[4], codes[8], codes[575]],
        [0.0, 1.0, 2.0, 11.0]
    );
}

#[test]
fn text_requested_as_numbers_fails_as_in_csv() {
    let req = [ColumnRequest {
        name: "exporter".into(),
        kind: ColumnKind::Numeric,
    }];
    let csv = Frame::read_path(&fixture("small.csv"), &CsvOptions::default(), Some(&req))
        .unwrap_err()
        .to_string();
    assert!(
        csv.contains("column 'exporter' must be a number, found \"C000\""),
        "{csv}"
    );
    for name in all_files() {
        let err = Frame::read_path(&fixture(name), &CsvOptions::default(), Some(&req)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidData);
        let text = err.to_string();
        assert!(
            text.contains("column 'exporter' must be a number, found \"C000\""),
            "{name}: {text}"
        );
        assert!(
            text.contains("in observation 1") || text.contains("in row 1"),
            "{name}: {text}"
        );
        assert!(text.contains(name), "{name}: {text}");
    }
    // An unknown column is named, with the columns there are.
    let req = [ColumnRequest {
        name: "tarde".into(),
        kind: ColumnKind::Numeric,
    }];
    for name in all_files() {
        let text = Frame::read_path(&fixture(name), &CsvOptions::default(), Some(&req))
            .unwrap_err()
            .to_string();
        assert!(
            text.contains("unknown column 'tarde'") && text.contains("trade"),
            "{name}: {text}"
        );
    }
}

#[test]
fn negative_outcome_is_refused_naming_the_observation() {
    let mut bytes = std::fs::read(fixture("small_118.dta")).unwrap();
    // The first trade value (15.0) becomes -15.0: flip the sign bit of the
    // first double 15.0 in the data section.
    let data = find(&bytes, b"<data>").unwrap();
    let at = data + find(&bytes[data..], &15.0f64.to_le_bytes()).unwrap();
    bytes[at + 7] |= 0x80;
    let req = [ColumnRequest {
        name: "trade".into(),
        kind: ColumnKind::NonNegative,
    }];
    let text = Frame::read_dta_bytes(&bytes, Some(&req))
        .unwrap_err()
        .to_string();
    assert!(
        text.contains(
            "column 'trade' must be a non-negative number, found \"-15\" in observation 1"
        ),
        "{text}"
    );
}

/// The frames have the same names and columns, `NaN` equal to `NaN`.
fn same(a: &Frame, b: &Frame) -> bool {
    a.names() == b.names()
        && a.names()
            .iter()
            .all(|n| match (a.column(n).unwrap(), b.column(n).unwrap()) {
                (Column::Numeric(x), Column::Numeric(y)) => {
                    x.len() == y.len() && x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits())
                }
                (x, y) => x == y,
            })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn the_content_chooses_the_reader() {
    let dir = tempfile::tempdir().unwrap();
    let reference =
        Frame::read_path(&fixture("small_118.dta"), &CsvOptions::default(), None).unwrap();
    let bytes = std::fs::read(fixture("small_118.dta")).unwrap();
    // A .dta under another name, and gzip-compressed under any name.
    for (name, content) in [
        ("data.csv", bytes.clone()),
        ("data", bytes.clone()),
        ("data.dta.gz", gzip(&bytes)),
        ("data.gz", gzip(&bytes)),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, &content).unwrap();
        let frame = Frame::read_path(&path, &CsvOptions::default(), None).unwrap();
        assert!(same(&frame, &reference), "{name}");
        assert_eq!(frame.source(), Some(path.as_path()));
    }
    // Gzip-compressed CSV under a name without .gz.
    let csv = std::fs::read(fixture("small.csv")).unwrap();
    let path = dir.path().join("small.csv");
    std::fs::write(&path, gzip(&csv)).unwrap();
    let frame = Frame::read_path(&path, &CsvOptions::default(), None).unwrap();
    assert_eq!(frame.nrows(), 576);
    assert_eq!(
        Frame::read_dta(&fixture("small_114.dta"), None)
            .unwrap()
            .nrows(),
        576
    );
    let path = dir.path().join("x.dta.gz");
    std::fs::write(&path, gzip(&bytes)).unwrap();
    assert_eq!(Frame::read_dta(&path, None).unwrap().nrows(), 576);
}

/// The message of a data error, checked to be one.
fn data_message(result: gravity_model::Result<Frame>) -> String {
    match result {
        Err(e @ Error::Data { .. }) => e.to_string(),
        Err(other) => panic!("expected a data error, got {other:?}"),
        Ok(f) => panic!("expected an error, read {} rows", f.nrows()),
    }
}

#[test]
fn unsupported_and_mislabelled_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[u8], &str); 8] = [
        ("book.xlsx", b"PK\x03\x04\x14\x00\x06\x00", "zip archive"),
        (
            "old.xls",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\0\0",
            "old Excel workbook",
        ),
        ("data.sav", b"$FL2@(#) SPSS DATA FILE", "SPSS"),
        ("data.feather", b"ARROW1\0\0\xff\xff", "Arrow IPC"),
        ("data.csv.bz2", b"BZh91AY&SY", "bzip2"),
        (
            "image.png",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
            "binary data of an unknown format",
        ),
        (
            "data.dta",
            b"exporter,importer\nDEU,FRA\n",
            "not a Stata .dta file: its name says",
        ),
        (
            "data.parquet",
            b"exporter,importer\nDEU,FRA\n",
            "not a Parquet file",
        ),
    ];
    for (name, content, expected) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        let text = data_message(Frame::read_path(&path, &CsvOptions::default(), None));
        assert!(text.contains(expected), "{name}: {text}");
        assert!(text.contains(name), "{name}: {text}");
        assert!(text.contains("hint:"), "{name}: {text}");
    }
    // An R data file is gzip-compressed.
    let path = dir.path().join("data.rda");
    std::fs::write(&path, gzip(b"RDX3\nX\n\0\0\0\x03")).unwrap();
    let text = data_message(Frame::read_path(&path, &CsvOptions::default(), None));
    assert!(text.contains("gzip-compressed an R data file"), "{text}");
    // A directory, an empty .dta.
    let text = data_message(Frame::read_path(dir.path(), &CsvOptions::default(), None));
    assert!(text.contains("is a directory"), "{text}");
    let path = dir.path().join("empty.dta");
    std::fs::write(&path, b"").unwrap();
    let text = data_message(Frame::read_path(&path, &CsvOptions::default(), None));
    assert!(text.contains("empty"), "{text}");
    assert_eq!(
        DataFormat::from_extension(Path::new("x.DTA")),
        DataFormat::Dta
    );
}

#[cfg(not(feature = "parquet"))]
#[test]
fn parquet_without_the_feature_says_how_to_get_it() {
    let text = data_message(Frame::read_path(
        &fixture("small.parquet"),
        &CsvOptions::default(),
        None,
    ));
    assert!(text.contains("`parquet` feature"), "{text}");
    assert!(
        text.contains("rebuild with the `parquet` feature"),
        "{text}"
    );
}

/// Reads `bytes` as a .dta, which must fail with a message containing
/// every part of `expected`.
fn dta_fails(bytes: &[u8], expected: &[&str]) -> String {
    let text = data_message(Frame::read_dta_bytes(bytes, None));
    for part in expected {
        assert!(text.contains(part), "expected {part:?} in: {text}");
    }
    text
}

#[test]
fn truncated_dta_files_are_errors_at_a_byte_offset() {
    for name in DTA {
        let bytes = std::fs::read(fixture(name)).unwrap();
        let step = 41;
        for len in (0..bytes.len()).step_by(step).chain([bytes.len() - 1]) {
            let text = data_message(Frame::read_dta_bytes(&bytes[..len], None));
            assert!(
                text.contains("byte offset") || text.contains("not a Stata file"),
                "{name} cut at {len}: {text}"
            );
        }
    }
}

#[test]
fn damaged_dta_headers_are_errors() {
    let b118 = std::fs::read(fixture("small_118.dta")).unwrap();
    let b114 = std::fs::read(fixture("small_114.dta")).unwrap();
    let b117 = std::fs::read(fixture("small_117.dta")).unwrap();
    let patch = |bytes: &[u8], at: usize, new: &[u8]| {
        let mut b = bytes.to_vec();
        b[at..at + new.len()].copy_from_slice(new);
        b
    };
    // Wrong magic, wrong byte order, unsupported releases.
    dta_fails(
        &patch(&b118, 0, b"<stata_dtb>"),
        &["not a Stata file", "byte offset 0"],
    );
    dta_fails(&patch(&b114, 1, &[3]), &["not a Stata file"]);
    dta_fails(
        &patch(&b114, 0, &[112]),
        &["release 112 is not supported", "113, 114 and 115"],
    );
    let at = find(&b118, b"<release>").unwrap() + 9;
    dta_fails(&patch(&b118, at, b"120"), &["release 120 is not supported"]);
    let at = find(&b118, b"<byteorder>").unwrap() + 11;
    dta_fails(&patch(&b118, at, b"XSF"), &["unknown byte order \"XSF\""]);
    // A lying number of observations: more than the data hold, fewer.
    let n_at = find(&b117, b"<N>").unwrap() + 3;
    dta_fails(
        &patch(&b117, n_at, &577u32.to_le_bytes()),
        &["the header says 577 observations", "the file's map puts"],
    );
    dta_fails(
        &patch(&b117, n_at, &575u32.to_le_bytes()),
        &["the header says 575 observations", "the file's map puts"],
    );
    // Where the map is wrong too, the data section's end tag is checked.
    let mut both = patch(&b117, n_at, &575u32.to_le_bytes());
    let map = find(&both, b"<map>").unwrap() + 5;
    both[map + 8 * 10..map + 8 * 11].copy_from_slice(&0u64.to_le_bytes());
    dta_fails(
        &both,
        &["expected </data>", "the header says 575 observations"],
    );
    let n_at = find(&b118, b"<N>").unwrap() + 3;
    dta_fails(
        &patch(&b118, n_at, &u64::MAX.to_le_bytes()),
        &[
            "the header says 18446744073709551615 observations",
            "bytes follow the descriptors",
        ],
    );
    dta_fails(
        &patch(&b118, n_at, &100_000u64.to_le_bytes()),
        &[
            "the header says 100000 observations",
            "bytes follow the descriptors",
        ],
    );
    // Release 114: N at byte 6.
    dta_fails(
        &patch(&b114, 6, &577u32.to_le_bytes()),
        &["the header's number of observations (577) is wrong"],
    );
    dta_fails(
        &patch(&b114, 6, &600u32.to_le_bytes()),
        &[
            "the header says 600 observations",
            "bytes follow the descriptors",
        ],
    );
    dta_fails(
        &patch(&b114, 6, &575u32.to_le_bytes()),
        &["the header's number of observations (575) is wrong"],
    );
    dta_fails(&patch(&b114, 6, &0u32.to_le_bytes()), &["no observations"]);
    // A lying number of variables.
    let k_at = find(&b118, b"<K>").unwrap() + 3;
    dta_fails(
        &patch(&b118, k_at, &11u16.to_le_bytes()),
        &["variable 11 has the unknown type code"],
    );
    dta_fails(
        &patch(&b118, k_at, &9u16.to_le_bytes()),
        &["expected </variable_types>"],
    );
    let b119 = std::fs::read(fixture("small_119.dta")).unwrap();
    let k_at = find(&b119, b"<K>").unwrap() + 3;
    dta_fails(
        &patch(&b119, k_at, &u32::MAX.to_le_bytes()),
        &["more than any Stata writes"],
    );
    // An unknown type code, a duplicate name.
    let t_at = find(&b118, b"<variable_types>").unwrap() + 16;
    dta_fails(
        &patch(&b118, t_at, &[0x00, 0x90]),
        &["variable 1 has the unknown type code 36864"],
    );
    let names = find(&b118, b"<varnames>").unwrap() + 10;
    dta_fails(
        &patch(&b118, names + 129, b"exporter\0"),
        &["duplicate variable name 'exporter'"],
    );
    dta_fails(&patch(&b118, names, b"\0"), &["variable 1 has no name"]);
}

#[test]
fn bad_offsets_inside_dta_files_are_errors() {
    let b118 = std::fs::read(fixture("small_118.dta")).unwrap();
    let patch = |bytes: &[u8], at: usize, new: &[u8]| {
        let mut b = bytes.to_vec();
        b[at..at + new.len()].copy_from_slice(new);
        b
    };
    let req = [ColumnRequest {
        name: "importer".into(),
        kind: ColumnKind::Factor,
    }];
    // A value label's text offset outside its text.
    let lbl = find(&b118, b"<lbl>").unwrap();
    let table = lbl + 5 + 4 + 129 + 3;
    let bad = patch(&b118, table + 8, &1_000_000i32.to_le_bytes());
    let text = data_message(Frame::read_dta_bytes(&bad, Some(&req)));
    assert!(
        text.contains("value labels 'importer'") && text.contains("outside the"),
        "{text}"
    );
    // A table whose counts do not fit its length.
    let bad = patch(&b118, table, &i32::MAX.to_le_bytes());
    let text = data_message(Frame::read_dta_bytes(&bad, Some(&req)));
    assert!(text.contains("do not fit in a table"), "{text}");
    // A value-label set longer than the file.
    let bad = patch(&b118, lbl + 5, &i32::MAX.to_le_bytes());
    dta_fails(&bad, &["the file ends inside"]);
    let bad = patch(&b118, lbl + 5, &(-5i32).to_le_bytes());
    dta_fails(&bad, &["is negative"]);
    // A strL reference to nothing.
    let gso = find(&b118, b"GSO").unwrap();
    let bad = patch(&b118, gso + 3, &77u32.to_le_bytes());
    dta_fails(
        &bad,
        &[
            "observation 1 refers to the strL",
            "which the file does not hold",
        ],
    );
    // A strL of an unknown type, a characteristic longer than the file.
    let bad = patch(&b118, gso + 3 + 4 + 8, &[7]);
    dta_fails(&bad, &["unknown type 7"]);
    // Release 114: a value label's text offset (the last "importer" is the
    // name of the value-label set, after the data).
    let b114 = std::fs::read(fixture("small_114.dta")).unwrap();
    let name = rfind(&b114, b"importer\0").unwrap();
    let table = name + 33 + 3;
    let bad = patch(&b114, table + 8, &(-1i32).to_le_bytes());
    let text = data_message(Frame::read_dta_bytes(&bad, Some(&req)));
    assert!(text.contains("starts at -1"), "{text}");
}

#[test]
fn random_damage_never_panics() {
    // Deterministic pseudo-random byte changes all over each file: every
    // outcome is a frame or an error, never a panic. More rounds with
    // GRAVITY_DAMAGE_ROUNDS=N.
    let rounds: usize = std::env::var("GRAVITY_DAMAGE_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for name in all_files() {
        let original = std::fs::read(fixture(name)).unwrap();
        for _ in 0..rounds {
            let mut bytes = original.clone();
            for _ in 0..1 + next() % 4 {
                let at = (next() % bytes.len() as u64) as usize;
                bytes[at] = next() as u8;
            }
            let _ = read_bytes(name, &bytes);
        }
    }
}

fn read_bytes(name: &str, bytes: &[u8]) -> gravity_model::Result<Frame> {
    if name.ends_with(".dta") {
        return Frame::read_dta_bytes(bytes, None);
    }
    #[cfg(feature = "parquet")]
    return Frame::read_parquet_bytes(bytes, None);
    #[cfg(not(feature = "parquet"))]
    unreachable!("{name}")
}

#[cfg(feature = "parquet")]
mod parquet {
    use super::*;

    #[test]
    fn truncated_and_damaged_parquet_files_are_errors() {
        for name in PARQUET {
            let bytes = std::fs::read(fixture(name)).unwrap();
            for len in (0..bytes.len()).step_by(97) {
                let text = data_message(Frame::read_parquet_bytes(&bytes[..len], None));
                assert!(
                    text.contains("cannot read the Parquet file"),
                    "{name} cut at {len}: {text}"
                );
            }
            // The magic at the end.
            let mut bad = bytes.clone();
            let n = bad.len();
            bad[n - 4..].copy_from_slice(b"PAR2");
            let text = data_message(Frame::read_parquet_bytes(&bad, None));
            assert!(text.contains("cannot read the Parquet file"), "{text}");
            // A footer length past the start of the file.
            let mut bad = bytes.clone();
            bad[n - 8..n - 4].copy_from_slice(&u32::MAX.to_le_bytes());
            let text = data_message(Frame::read_parquet_bytes(&bad, None));
            assert!(text.contains("cannot read the Parquet file"), "{text}");
        }
    }

    #[test]
    fn a_codec_this_build_lacks_is_named() {
        let text = data_message(Frame::read_path(
            &fixture("small_zstd.parquet"),
            &CsvOptions::default(),
            None,
        ));
        assert!(text.contains("compressed with zstd"), "{text}");
        assert!(text.contains("Snappy"), "{text}");
    }

    #[test]
    fn parquet_through_a_file_and_bytes_agree() {
        let path = fixture("small.parquet");
        let a = Frame::read_parquet(&path, None).unwrap();
        let b = Frame::read_parquet_bytes(&std::fs::read(&path).unwrap(), None).unwrap();
        assert!(same(&a, &b));
        assert_eq!(a.source(), Some(path.as_path()));
        assert_eq!(b.source(), None);
    }
}

/// The format is chosen from the first bytes of the one read: a FIFO,
/// which hands out a different file on each open, gives the first file.
#[cfg(unix)]
#[test]
fn the_file_is_opened_once_to_choose_and_read() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("data.dta");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !matches!(made, Ok(s) if s.success()) {
        eprintln!("mkfifo unavailable: test skipped");
        return;
    }
    let first = std::fs::read(fixture("small_118.dta")).unwrap();
    let writer = fifo.clone();
    let content = first.clone();
    std::thread::spawn(move || {
        let files: [&[u8]; 2] = [&content, b"name,y\nXXX,7\n"];
        for (k, bytes) in files.into_iter().enumerate() {
            if k > 0 {
                std::thread::sleep(std::time::Duration::from_millis(500));
            }
            let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(&writer) else {
                return;
            };
            let _ = f.write_all(bytes);
        }
    });
    let frame = Frame::read_path(&fifo, &CsvOptions::default(), None).unwrap();
    assert_eq!(frame.nrows(), 576);
    let _ = std::fs::File::open(&fifo);
}
