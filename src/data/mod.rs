//! LOAD: a panel of named columns, read from CSV, Stata `.dta` or Parquet
//! (the `parquet` feature), or built in memory.
//!
//! [`Frame::read_path`] chooses the reader by the file's content and name;
//! [`Frame::read_csv`], [`Frame::read_dta`] and `Frame::read_parquet` read
//! one format. Every reader makes the same columns by the same rules (see
//! `typed.rs` for the typed formats).
//!
//! Numeric columns hold `f64` with `NaN` marking a missing cell (an empty
//! field, `NA` or `.` in the file; a literal `NaN` or `inf` in a file is an
//! error, never a missing value). Categorical columns are encoded once into
//! dense `u32` codes with [`MISSING_CODE`] marking a missing cell.

mod csv;
mod dta;
mod format;
#[cfg(feature = "parquet")]
mod parquet;
mod typed;
mod values;

pub use self::csv::{ColumnKind, ColumnRequest, CsvOptions};
pub use self::format::DataFormat;
pub use self::values::Values;

use crate::error::{Error, Location, Result};
use std::borrow::Cow;
use std::path::{Path, PathBuf};

/// Code of a missing cell in a [`Factor`].
pub const MISSING_CODE: u32 = u32::MAX;

/// A categorical column encoded to dense codes `0..levels.len()`.
#[derive(Debug, Clone, PartialEq)]
pub struct Factor {
    /// One code per row; [`MISSING_CODE`] where the cell is missing.
    pub codes: Vec<u32>,
    /// The text of each level, indexed by code.
    pub levels: Vec<String>,
}

impl Factor {
    /// Encodes numeric values as a factor, levels sorted ascending; `NaN` is missing.
    pub fn from_numeric(values: &[f64]) -> Factor {
        let mut distinct: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
        distinct.sort_by(f64::total_cmp);
        distinct.dedup();
        let codes = values
            .iter()
            .map(|v| {
                if v.is_nan() {
                    MISSING_CODE
                } else {
                    // The value is in `distinct` by construction.
                    distinct.partition_point(|d| d < v) as u32
                }
            })
            .collect();
        let levels = distinct.iter().map(|v| format_number(*v)).collect();
        Factor { codes, levels }
    }

    /// Encodes text values as a factor, levels in order of first appearance;
    /// `None` is missing.
    pub fn from_strings<S: AsRef<str>>(values: &[Option<S>]) -> Factor {
        let mut map: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
        let mut levels = Vec::new();
        let codes = values
            .iter()
            .map(|v| match v {
                None => MISSING_CODE,
                Some(s) => {
                    let s = s.as_ref();
                    if let Some(&c) = map.get(s) {
                        c
                    } else {
                        let c = levels.len() as u32;
                        levels.push(s.to_owned());
                        map.insert(s.to_owned(), c);
                        c
                    }
                }
            })
            .collect();
        Factor { codes, levels }
    }

    /// Number of levels.
    pub fn n_levels(&self) -> usize {
        self.levels.len()
    }
}

/// Formats a number the way a user typed it: integers without a decimal point.
pub(crate) fn format_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// One column of a [`Frame`].
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    /// Numbers; `NaN` marks a missing cell. Owned by the frame, or shared
    /// with an embedder without a copy ([`Values::shared`]); build one
    /// from a `Vec<f64>` with `.into()`.
    Numeric(Values),
    /// Categories (text, or numbers used as categories).
    Factor(Factor),
}

impl Column {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            Column::Numeric(v) => v.len(),
            Column::Factor(f) => f.codes.len(),
        }
    }

    /// True if the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True if row `i` is missing.
    pub fn is_missing(&self, i: usize) -> bool {
        match self {
            Column::Numeric(v) => v[i].is_nan(),
            Column::Factor(f) => f.codes[i] == MISSING_CODE,
        }
    }
}

/// A panel: named columns of equal length, and for each row the line of the
/// source file it came from (for error messages and `--save-sample`).
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    names: Vec<String>,
    columns: Vec<Column>,
    source: Option<PathBuf>,
    /// Editor line (header = line 1) of each row in `source`; row index + 2
    /// for in-memory frames.
    lines: Vec<u64>,
}

impl Frame {
    /// Builds a frame in memory, so a host program can skip CSV.
    ///
    /// ```
    /// use gravity_model::{Column, Frame};
    /// let frame = Frame::from_columns(vec![
    ///     ("trade".to_string(), Column::Numeric(vec![1.0, 0.0, 2.5].into())),
    ///     ("rta".to_string(), Column::Numeric(vec![0.0, 1.0, 1.0].into())),
    /// ])?;
    /// assert_eq!(frame.nrows(), 3);
    /// # Ok::<(), gravity_model::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidData`](crate::ErrorKind::InvalidData) if the
    /// columns differ in length or a name repeats.
    pub fn from_columns(columns: Vec<(String, Column)>) -> Result<Frame> {
        let n = columns.first().map_or(0, |(_, c)| c.len());
        let mut names = Vec::with_capacity(columns.len());
        let mut cols = Vec::with_capacity(columns.len());
        for (name, col) in columns {
            if col.len() != n {
                return Err(Error::data(
                    Location::new(None, None, Some(&name)),
                    format!("column has {} rows but the first column has {n}", col.len()),
                ));
            }
            if names.contains(&name) {
                return Err(Error::data(
                    Location::new(None, None, Some(&name)),
                    "duplicate column name",
                ));
            }
            names.push(name);
            cols.push(col);
        }
        Ok(Frame {
            names,
            columns: cols,
            source: None,
            lines: (0..n as u64).map(|i| i + 2).collect(),
        })
    }

    pub(crate) fn from_parts(
        names: Vec<String>,
        columns: Vec<Column>,
        source: Option<PathBuf>,
        lines: Vec<u64>,
    ) -> Frame {
        Frame {
            names,
            columns,
            source,
            lines,
        }
    }

    /// Number of rows.
    pub fn nrows(&self) -> usize {
        self.lines.len()
    }

    /// Column names, in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The column called `name`, if any.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|i| &self.columns[i])
    }

    /// The numeric column called `name` (`NaN` marks a missing cell).
    ///
    /// Fails, naming the column, if there is no such column or it holds
    /// categories.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidData`](crate::ErrorKind::InvalidData) if there is
    /// no such column or it is not numeric.
    pub fn numeric(&self, name: &str) -> Result<&[f64]> {
        match self.column(name) {
            Some(Column::Numeric(values)) => Ok(values),
            Some(Column::Factor(_)) => Err(Error::data_hint(
                Location::new(self.source.clone(), None, Some(name)),
                format!("column '{name}' holds text (categories), expected numbers"),
                "use it as a fixed effect, or fix the cells that are not numbers",
            )),
            None => Err(self.unknown_column(name)),
        }
    }

    /// The column called `name` as categories: a factor column as is, a
    /// numeric column encoded with [`Factor::from_numeric`] (levels sorted).
    ///
    /// Fails, naming the column, if there is no such column.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidData`](crate::ErrorKind::InvalidData) if there is
    /// no such column.
    pub fn factor(&self, name: &str) -> Result<Cow<'_, Factor>> {
        match self.column(name) {
            Some(Column::Factor(factor)) => Ok(Cow::Borrowed(factor)),
            Some(Column::Numeric(values)) => Ok(Cow::Owned(Factor::from_numeric(values))),
            None => Err(self.unknown_column(name)),
        }
    }

    fn unknown_column(&self, name: &str) -> Error {
        Error::data_hint(
            Location::new(self.source.clone(), None, Some(name)),
            format!("unknown column '{name}'"),
            crate::text::unknown_column_hint(name, &self.names),
        )
    }

    /// The file the frame was read from, if any.
    pub fn source(&self) -> Option<&Path> {
        self.source.as_deref()
    }

    /// Editor line (header = line 1) of row `row`: for a Stata or Parquet
    /// file, and a frame built in memory, the line the row has in a CSV
    /// export with a header (observation `n`, counted from 1, is line
    /// `n + 1`).
    pub fn line(&self, row: usize) -> u64 {
        self.lines[row]
    }

    /// A [`Location`] for row `row` (0-based) and column `column`.
    pub fn location(&self, row: usize, column: &str) -> Location {
        Location::new(self.source.clone(), Some(self.lines[row]), Some(column))
    }

    /// The rows where `keep` is true (line numbers are kept, so errors and
    /// `--save-sample` still point at the source file).
    ///
    /// ```
    /// use gravity_model::{Column, Frame};
    /// let frame = Frame::from_columns(vec![("x".into(), Column::Numeric(vec![1.0, 2.0, 3.0].into()))])?;
    /// let sub = frame.filter(&[true, false, true]);
    /// assert_eq!(sub.nrows(), 2);
    /// assert_eq!(sub.line(1), 4);
    /// # Ok::<(), gravity_model::Error>(())
    /// ```
    pub fn filter(&self, keep: &[bool]) -> Frame {
        let pick = |i: usize| keep.get(i).copied().unwrap_or(false);
        let columns = self
            .columns
            .iter()
            .map(|c| match c {
                Column::Numeric(v) => Column::Numeric(
                    v.iter()
                        .enumerate()
                        .filter(|(i, _)| pick(*i))
                        .map(|(_, x)| *x)
                        .collect(),
                ),
                Column::Factor(f) => Column::Factor(Factor {
                    codes: f
                        .codes
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| pick(*i))
                        .map(|(_, x)| *x)
                        .collect(),
                    levels: f.levels.clone(),
                }),
            })
            .collect();
        Frame {
            names: self.names.clone(),
            columns,
            source: self.source.clone(),
            lines: self
                .lines
                .iter()
                .enumerate()
                .filter(|(i, _)| pick(*i))
                .map(|(_, l)| *l)
                .collect(),
        }
    }

    /// Adds (or replaces) a column.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidData`](crate::ErrorKind::InvalidData) if the
    /// column's length differs from the frame's.
    pub fn insert(&mut self, name: &str, column: Column) -> Result<()> {
        if column.len() != self.nrows() {
            return Err(Error::data(
                Location::new(None, None, Some(name)),
                format!(
                    "column has {} rows but the frame has {}",
                    column.len(),
                    self.nrows()
                ),
            ));
        }
        match self.names.iter().position(|n| n == name) {
            Some(i) => self.columns[i] = column,
            None => {
                self.names.push(name.to_owned());
                self.columns.push(column);
            }
        }
        Ok(())
    }
}
