//! Entry points of the fuzz targets in `fuzz/` and of the corpus replay in
//! `tests/fuzz_corpus.rs`: each takes arbitrary bytes, runs one parser, and
//! renders whatever error comes out. None may panic, abort or hang.
//!
//! Not part of the stable API.

use crate::data::{ColumnKind, ColumnRequest, CsvOptions, Frame};
use crate::formula::Formula;
use crate::simulate::Scenario;

/// Formula text → [`Formula`]; on success, its columns, its display form
/// (which must parse again) and a check against a small header.
pub fn formula(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Formula::parse(text) {
        Ok(f) => {
            let _ = f.columns(ColumnKind::NonNegative);
            let header: Vec<String> = ["trade", "fta", "exporter", "importer", "year"]
                .iter()
                .map(|s| s.to_string())
                .collect();
            if let Err(e) = f.check_columns(&header) {
                let _ = e.to_string();
            }
            let shown = f.to_string();
            let _ = Formula::parse(&shown);
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
}

/// Scenario TOML text → [`Scenario`].
pub fn scenario(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Scenario::from_toml_str(text) {
        Ok(s) => {
            let _ = format!("{s:?}");
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
}

/// CSV bytes → [`Frame`], every column as [`ColumnKind::Auto`], with small
/// limits so that a fuzzer cannot make it slow.
pub fn csv(data: &[u8]) {
    let options = CsvOptions::default();
    match Frame::read_csv_bytes(data, &options, None) {
        Ok(frame) => {
            let _ = frame.nrows();
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
}

/// Stata `.dta` bytes → [`Frame`]: every variable as [`ColumnKind::Auto`],
/// then (if that reads) every variable as a factor, which reads the value
/// labels and the strLs.
pub fn dta(data: &[u8]) {
    match Frame::read_dta_bytes(data, None) {
        Ok(frame) => {
            let requests: Vec<ColumnRequest> = frame
                .names()
                .iter()
                .map(|n| ColumnRequest {
                    name: n.clone(),
                    kind: ColumnKind::Factor,
                })
                .collect();
            if let Err(e) = Frame::read_dta_bytes(data, Some(&requests)) {
                let _ = e.to_string();
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
}
