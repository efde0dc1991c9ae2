//! CSV → [`Frame`], with every cell error located by file, line and column.
//!
//! STUB: being implemented (see the data-loading work item).

use super::Frame;
use crate::error::Result;
use std::path::Path;

/// How to read a CSV file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvOptions {
    /// Field delimiter (default `,`).
    pub delimiter: u8,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions { delimiter: b',' }
    }
}

/// How a requested column is to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// Numbers (f64); a non-numeric cell is an error; missing cells become NaN.
    Numeric,
    /// The PPML dependent variable: a number, finite and non-negative.
    NonNegative,
    /// Categories: any text (or numbers, kept as their text).
    Factor,
    /// Numeric if every non-missing cell is a finite number, else a factor.
    Auto,
}

/// One column to read, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnRequest {
    /// Column name as in the header.
    pub name: String,
    /// How to read it.
    pub kind: ColumnKind,
}

impl Frame {
    /// Reads the header of a CSV (or `.csv.gz`) file.
    pub fn read_header(path: &Path, options: &CsvOptions) -> Result<Vec<String>> {
        let _ = (path, options);
        todo!()
    }

    /// Reads a CSV (or `.csv.gz`) file: the requested columns, or every column
    /// (as [`ColumnKind::Auto`]) when `columns` is `None`.
    pub fn read_csv(
        path: &Path,
        options: &CsvOptions,
        columns: Option<&[ColumnRequest]>,
    ) -> Result<Frame> {
        let _ = (path, options, columns);
        todo!()
    }
}
