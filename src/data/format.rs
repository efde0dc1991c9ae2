//! Which reader a file needs, by its content and its name, and the entry
//! points that read any supported file into a [`Frame`].
//!
//! The content decides where it is recognisable (the first bytes of a
//! gzip stream, a Parquet file, a Stata file of either generation); the
//! extension only confirms it (a `.dta` or `.parquet` that holds something
//! else is an error naming what was found). Text is CSV. A file of another
//! known kind (Excel, an R data file, SPSS, Feather, another compression)
//! or unknown binary content is an error that says what the file seems to
//! be and how to convert it. The file is opened once: the bytes looked at
//! are the first bytes of the one read.

use super::{dta, ColumnRequest, CsvOptions, Frame};
use crate::error::{Error, Location, Result};
use std::fs::File;
use std::io::{Cursor, Read};
use std::path::Path;

/// The formats [`Frame::read_path`] reads.
///
/// ```
/// use gravity_model::DataFormat;
/// assert_eq!(DataFormat::from_content(b"<stata_dta><header>"), Some(DataFormat::Dta));
/// assert_eq!(DataFormat::from_content(b"PAR1\x15\x04"), Some(DataFormat::Parquet));
/// assert_eq!(DataFormat::from_content(b"exporter,importer\n"), Some(DataFormat::Csv));
/// assert_eq!(DataFormat::from_content(b"PK\x03\x04"), None); // a zip archive (Excel)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DataFormat {
    /// Comma- (or otherwise) delimited text, optionally gzip-compressed.
    Csv,
    /// A Stata dataset, releases 113–115 and 117–119, optionally
    /// gzip-compressed.
    Dta,
    /// An Apache Parquet file (read with the library's `parquet` feature).
    Parquet,
}

impl DataFormat {
    /// The format's name in messages.
    pub fn name(self) -> &'static str {
        match self {
            DataFormat::Csv => "CSV",
            DataFormat::Dta => "Stata .dta",
            DataFormat::Parquet => "Parquet",
        }
    }

    /// The format of a file from its first bytes, if they are of a
    /// supported format (gzip-compressed content counts as CSV here; the
    /// readers look inside it).
    pub fn from_content(first: &[u8]) -> Option<DataFormat> {
        match sniff(first) {
            Sniff::Csv | Sniff::Gzip => Some(DataFormat::Csv),
            Sniff::Dta => Some(DataFormat::Dta),
            Sniff::Parquet => Some(DataFormat::Parquet),
            Sniff::Other { .. } => None,
        }
    }

    /// The format a file name suggests: `.dta`, `.parquet` (or `.pq`), and
    /// CSV for anything else (`.csv`, `.tsv`, `.txt`, `.gz`, none).
    pub fn from_extension(path: &Path) -> DataFormat {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let name = name.strip_suffix(".gz").unwrap_or(&name);
        if name.ends_with(".dta") {
            DataFormat::Dta
        } else if name.ends_with(".parquet") || name.ends_with(".pq") {
            DataFormat::Parquet
        } else {
            DataFormat::Csv
        }
    }
}

/// What the first bytes say.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Sniff {
    Csv,
    Gzip,
    Dta,
    Parquet,
    /// A format this crate does not read: what it seems to be, and advice.
    Other {
        what: String,
        hint: &'static str,
    },
}

const CONVERT: &str =
    "gravity reads CSV (optionally gzip-compressed), Stata .dta and Parquet: save or export the data as one of them";

fn sniff(first: &[u8]) -> Sniff {
    let starts = |m: &[u8]| first.starts_with(m);
    let other = |what: &str, hint| Sniff::Other {
        what: what.to_owned(),
        hint,
    };
    if starts(b"\x1f\x8b") {
        return Sniff::Gzip;
    }
    if starts(b"PAR1") {
        return Sniff::Parquet;
    }
    if starts(b"<stata_dta>") {
        return Sniff::Dta;
    }
    if let [102..=115, 1 | 2, 1, ..] = first {
        // Releases 102–115 (binary header); the reader names the release.
        return Sniff::Dta;
    }
    if starts(b"PK\x03\x04") {
        return other(
            "a zip archive (an Excel .xlsx or OpenDocument spreadsheet?)",
            "export the sheet as CSV",
        );
    }
    if starts(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1") {
        return other("an old Excel workbook (.xls)", "export the sheet as CSV");
    }
    if starts(b"RDX2\n") || starts(b"RDX3\n") || starts(b"RDA2\n") || starts(b"RDA3\n") {
        return other(
            "an R data file (.rda/.RData)",
            "write the data frame from R with write.csv() or arrow::write_parquet()",
        );
    }
    if starts(b"X\n\0\0") || (starts(b"A\n") && first.len() > 2 && first[2].is_ascii_digit()) {
        return other(
            "an R serialised object (.rds)",
            "write the data frame from R with write.csv() or arrow::write_parquet()",
        );
    }
    if starts(b"$FL2") || starts(b"$FL3") {
        return other(
            "an SPSS data file (.sav)",
            "read it into Stata, R or Python and save it as .dta, Parquet or CSV",
        );
    }
    if starts(b"ARROW1") || starts(b"FEA1") {
        return other(
            "an Arrow IPC / Feather file",
            "write Parquet instead (pyarrow.parquet.write_table, arrow::write_parquet, polars write_parquet)",
        );
    }
    if starts(b"BZh") {
        return other(
            "a bzip2-compressed file",
            "decompress it, or compress it with gzip instead",
        );
    }
    if starts(b"\xfd7zXZ\x00") {
        return other(
            "an xz-compressed file",
            "decompress it, or compress it with gzip instead",
        );
    }
    if starts(b"\x28\xb5\x2f\xfd") {
        return other(
            "a zstd-compressed file",
            "decompress it, or compress it with gzip instead",
        );
    }
    if starts(b"\x89HDF\r\n") {
        return other("an HDF5 file", CONVERT);
    }
    if starts(b"\xff\xfe") || starts(b"\xfe\xff") {
        return other("UTF-16 text", "save the file as UTF-8");
    }
    // Text has no NUL; binary formats have one in their first bytes (a
    // stray NUL deep in a CSV is the CSV reader's to report, by cell).
    if first[..first.len().min(16)].contains(&0) {
        return Sniff::Other {
            what: format!(
                "binary data of an unknown format (it starts with {})",
                hex(first)
            ),
            hint: CONVERT,
        };
    }
    Sniff::Csv
}

fn hex(bytes: &[u8]) -> String {
    let b = &bytes[..bytes.len().min(8)];
    b.iter()
        .map(|c| format!("{c:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// How many bytes are looked at.
const PREFIX: usize = 4096;

/// Reads up to [`PREFIX`] bytes (fewer only at the end of the stream).
fn prefix<R: Read>(reader: &mut R) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(PREFIX);
    reader.by_ref().take(PREFIX as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

fn data_error(path: &Path, message: impl Into<String>, hint: impl Into<String>) -> Error {
    Error::data_hint(
        Location::new(Some(path.to_owned()), None, None),
        message,
        hint,
    )
}

/// The error for a file whose content is not of the format its name says.
fn mismatch(path: &Path, named: DataFormat, found: &str) -> Error {
    data_error(
        path,
        format!(
            "not a {} file: its name says {}, but it holds {found}",
            named.name(),
            named.name()
        ),
        CONVERT,
    )
}

impl Frame {
    /// Reads a data file of any supported format, chosen by its content
    /// (and checked against its name): CSV (`options` apply; `.gz` or any
    /// gzip-compressed content is decompressed), Stata `.dta` (releases
    /// 113–115 and 117–119, also gzip-compressed) and Parquet (with the
    /// library's `parquet` feature). The requested columns are read as by
    /// [`Frame::read_csv`], or every column (as
    /// [`ColumnKind::Auto`](crate::ColumnKind::Auto)) when `columns` is
    /// `None`.
    ///
    /// ```
    /// use gravity_model::{ColumnKind, ColumnRequest, CsvOptions, Frame};
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("trade.csv");
    /// # std::fs::write(&path, "exporter,trade\nDEU,10.5\nFRA,\n")?;
    /// let columns = [ColumnRequest { name: "trade".into(), kind: ColumnKind::NonNegative }];
    /// let frame = Frame::read_path(&path, &CsvOptions::default(), Some(&columns))?;
    /// assert_eq!(frame.numeric("trade")?[0], 10.5);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`](crate::ErrorKind::Io) if the file cannot be read;
    /// [`ErrorKind::InvalidData`](crate::ErrorKind::InvalidData) for a file
    /// of an unsupported format (naming what it seems to be), a Parquet file
    /// in a build without the `parquet` feature, and every error of the
    /// format's reader (a malformed file, a bad cell, a value of the wrong
    /// type), with the file and, where there is one, the line, observation
    /// or byte offset.
    pub fn read_path(
        path: &Path,
        options: &CsvOptions,
        columns: Option<&[ColumnRequest]>,
    ) -> Result<Frame> {
        let columns = columns.map(<[ColumnRequest]>::to_vec);
        Frame::read_path_with(path, options, |_| Ok(columns))
    }

    /// As [`Frame::read_path`], with the columns chosen once the column
    /// names are known, as [`Frame::read_csv_with`] does.
    ///
    /// # Errors
    ///
    /// As [`Frame::read_path`], and the error `plan` returns.
    pub fn read_path_with<F>(path: &Path, options: &CsvOptions, plan: F) -> Result<Frame>
    where
        F: FnOnce(&[String]) -> Result<Option<Vec<ColumnRequest>>>,
    {
        let io = |source| Error::Io {
            path: path.to_owned(),
            source,
        };
        let mut file = File::open(path).map_err(io)?;
        let meta = file.metadata().map_err(io)?;
        if meta.is_dir() {
            return Err(data_error(
                path,
                "is a directory, expected a data file",
                "give the path of the data file itself",
            ));
        }
        // The length bounds what the header may claim, for a regular file
        // (a FIFO or a device has none).
        let len = meta.is_file().then_some(meta.len());
        let head = prefix(&mut file).map_err(io)?;
        let named = DataFormat::from_extension(path);
        if head.is_empty() && named != DataFormat::Csv {
            return Err(data_error(
                path,
                format!("the file is empty: expected a {} file", named.name()),
                "check that the right file was given, and that it was written completely",
            ));
        }
        let owned = Some(path.to_owned());
        let sniffed = sniff(&head);
        let gz_name = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("gz"));
        if gz_name && sniffed != Sniff::Gzip && !head.is_empty() {
            return Err(data_error(
                path,
                "not a valid gzip stream: its name ends in .gz, but it is not gzip-compressed",
                "compress it with gzip, or give it a name without .gz",
            ));
        }
        match sniffed {
            Sniff::Parquet => read_parquet_file(file, path, plan),
            Sniff::Dta => dta::read(
                Cursor::new(head).chain(file),
                owned,
                false,
                len,
                options.max_total_bytes,
                plan,
            ),
            Sniff::Csv => match named {
                // A damaged Stata 13+ file: its reader says what is wrong.
                DataFormat::Dta if head.starts_with(b"<") => dta::read(
                    Cursor::new(head).chain(file),
                    owned,
                    false,
                    len,
                    options.max_total_bytes,
                    plan,
                ),
                DataFormat::Dta | DataFormat::Parquet => Err(mismatch(path, named, "text")),
                DataFormat::Csv => super::csv::read_stream(
                    Box::new(Cursor::new(head).chain(file)),
                    owned,
                    false,
                    options,
                    plan,
                ),
            },
            Sniff::Other { what, hint } => Err(data_error(
                path,
                format!("not a data file gravity reads: it is {what}"),
                hint,
            )),
            Sniff::Gzip => {
                let mut decoder = flate2::read::MultiGzDecoder::new(
                    std::io::BufReader::with_capacity(1 << 20, Cursor::new(head).chain(file)),
                );
                let inner = prefix(&mut decoder).map_err(|e| {
                    data_error(
                        path,
                        format!("not a valid gzip stream: {e}"),
                        "the file is damaged or truncated",
                    )
                })?;
                let stream = Cursor::new(inner.clone()).chain(decoder);
                match sniff(&inner) {
                    Sniff::Dta => {
                        dta::read(stream, owned, true, None, options.max_total_bytes, plan)
                    }
                    Sniff::Csv if named == DataFormat::Csv => {
                        super::csv::read_stream(Box::new(stream), owned, true, options, plan)
                    }
                    Sniff::Csv => Err(mismatch(path, named, "gzip-compressed text")),
                    Sniff::Parquet => Err(data_error(
                        path,
                        "a gzip-compressed Parquet file",
                        "decompress it first: Parquet compresses its pages itself",
                    )),
                    Sniff::Gzip => Err(data_error(
                        path,
                        "a gzip stream inside a gzip stream",
                        "decompress it once and give the result",
                    )),
                    Sniff::Other { what, hint } => Err(data_error(
                        path,
                        format!("not a data file gravity reads: it is gzip-compressed {what}"),
                        hint,
                    )),
                }
            }
        }
    }

    /// Reads a Stata `.dta` file (releases 113–115 and 117–119, either byte
    /// order; gzip-compressed if its name ends in `.gz`): the requested
    /// columns, or every variable (as
    /// [`ColumnKind::Auto`](crate::ColumnKind::Auto)) when `columns` is
    /// `None`.
    ///
    /// Numeric variables are numbers, Stata's missing values (`.` and
    /// `.a`–`.z`) missing; string variables (`strN`, `strL`) are text read
    /// as CSV cells are (an empty string is missing); a numeric variable
    /// with value labels requested as
    /// [`ColumnKind::Factor`](crate::ColumnKind::Factor) has its levels
    /// named by the labels. [`Frame::line`] of observation `n` (Stata's
    /// `_n`) is `n + 1`, its line in a CSV export with a header.
    ///
    /// ```no_run
    /// use gravity_model::Frame;
    /// let frame = Frame::read_dta("Chapter1Application1.dta".as_ref(), None)?;
    /// println!("{} observations of {:?}", frame.nrows(), frame.names());
    /// # Ok::<(), gravity_model::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`](crate::ErrorKind::Io) if the file cannot be read;
    /// [`ErrorKind::InvalidData`](crate::ErrorKind::InvalidData) for a file
    /// that is not a Stata file of a supported release, is truncated or
    /// damaged (naming the byte offset), or has a cell of the wrong type for
    /// its request (naming the variable and the observation).
    pub fn read_dta(path: &Path, columns: Option<&[ColumnRequest]>) -> Result<Frame> {
        let io = |source| Error::Io {
            path: path.to_owned(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        let columns = columns.map(<[ColumnRequest]>::to_vec);
        let owned = Some(path.to_owned());
        let max = CsvOptions::DEFAULT_MAX_TOTAL_BYTES;
        if path.extension().is_some_and(|e| e == "gz") {
            let decoder = flate2::read::MultiGzDecoder::new(std::io::BufReader::new(file));
            dta::read(decoder, owned, true, None, max, |_| Ok(columns))
        } else {
            let meta = file.metadata().map_err(io)?;
            let len = meta.is_file().then_some(meta.len());
            dta::read(file, owned, false, len, max, |_| Ok(columns))
        }
    }

    /// Reads a Stata `.dta` file from bytes in memory (no file name in
    /// errors), as [`Frame::read_dta`].
    ///
    /// # Errors
    ///
    /// As [`Frame::read_dta`].
    pub fn read_dta_bytes(bytes: &[u8], columns: Option<&[ColumnRequest]>) -> Result<Frame> {
        let columns = columns.map(<[ColumnRequest]>::to_vec);
        dta::read(
            bytes,
            None,
            false,
            Some(bytes.len() as u64),
            CsvOptions::DEFAULT_MAX_TOTAL_BYTES,
            |_| Ok(columns),
        )
    }
}

#[cfg(feature = "parquet")]
impl Frame {
    /// Reads an Apache Parquet file (the `parquet` feature): the requested
    /// columns, or every top-level column (as
    /// [`ColumnKind::Auto`](crate::ColumnKind::Auto)) when `columns` is
    /// `None`.
    ///
    /// Numbers (booleans as 0/1, integers, decimals, floats) are numbers, a
    /// null or `NaN` missing; strings (also dictionary-encoded ones, as
    /// pandas writes a categorical) are text read as CSV cells are (an empty
    /// string is missing). Pages may be uncompressed, Snappy or gzip.
    /// [`Frame::line`] of row `n` (1-based) is `n + 1`, its line in a CSV
    /// export with a header.
    ///
    /// ```no_run
    /// use gravity_model::Frame;
    /// let frame = Frame::read_parquet("trade.parquet".as_ref(), None)?;
    /// println!("{} rows of {:?}", frame.nrows(), frame.names());
    /// # Ok::<(), gravity_model::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`](crate::ErrorKind::Io) if the file cannot be read;
    /// [`ErrorKind::InvalidData`](crate::ErrorKind::InvalidData) for a file
    /// that is not a readable Parquet file (damaged, truncated, a codec this
    /// build lacks), a requested column of a type it does not read (nested,
    /// repeated, `INT96`, fixed-length), or a cell of the wrong type for its
    /// request (naming the column and the row).
    pub fn read_parquet(path: &Path, columns: Option<&[ColumnRequest]>) -> Result<Frame> {
        let file = File::open(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        let columns = columns.map(<[ColumnRequest]>::to_vec);
        super::parquet::read_file(file, path, |_| Ok(columns))
    }

    /// Reads Parquet from bytes in memory (no file name in errors), as
    /// [`Frame::read_parquet`].
    ///
    /// # Errors
    ///
    /// As [`Frame::read_parquet`].
    pub fn read_parquet_bytes(bytes: &[u8], columns: Option<&[ColumnRequest]>) -> Result<Frame> {
        let columns = columns.map(<[ColumnRequest]>::to_vec);
        super::parquet::read_bytes(bytes, |_| Ok(columns))
    }
}

#[cfg(feature = "parquet")]
fn read_parquet_file<F>(file: File, path: &Path, plan: F) -> Result<Frame>
where
    F: FnOnce(&[String]) -> Result<Option<Vec<ColumnRequest>>>,
{
    super::parquet::read_file(file, path, plan)
}

#[cfg(not(feature = "parquet"))]
fn read_parquet_file<F>(_file: File, path: &Path, _plan: F) -> Result<Frame>
where
    F: FnOnce(&[String]) -> Result<Option<Vec<ColumnRequest>>>,
{
    Err(parquet_disabled(Some(path.to_owned())))
}

/// The error for a Parquet file in a build without the `parquet` feature.
#[cfg(not(feature = "parquet"))]
pub(super) fn parquet_disabled(path: Option<std::path::PathBuf>) -> Error {
    Error::data_hint(
        Location::new(path, None, None),
        "a Parquet file, and this build of gravity-model reads Parquet only with its `parquet` feature",
        "rebuild with the `parquet` feature (cargo build --features parquet; the gravity command has it), or convert the file to CSV or .dta",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_decides() {
        assert_eq!(sniff(b"\x1f\x8b\x08\x00"), Sniff::Gzip);
        assert_eq!(sniff(b"PAR1\x15"), Sniff::Parquet);
        assert_eq!(sniff(b"<stata_dta><header>"), Sniff::Dta);
        assert_eq!(sniff(&[113, 2, 1, 0, 9, 0]), Sniff::Dta);
        assert_eq!(sniff(&[115, 1, 1, 0]), Sniff::Dta);
        assert_eq!(sniff(b"y,x\n1,2\n"), Sniff::Csv);
        assert_eq!(sniff(b""), Sniff::Csv);
        assert_eq!(
            sniff(b"q,x\n"),
            Sniff::Csv,
            "a CSV starting with 'q' (113) is text"
        );
        for (bytes, what) in [
            (&b"PK\x03\x04rest"[..], "zip"),
            (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "Excel"),
            (b"RDX3\nX\n", "R data"),
            (b"$FL2@(#)", "SPSS"),
            (b"ARROW1\0\0", "Arrow"),
            (b"BZh91AY", "bzip2"),
            (b"\xff\xfey\0", "UTF-16"),
            (b"\x89PNG\r\n\x1a\n\0\0", "unknown"),
        ] {
            match sniff(bytes) {
                Sniff::Other { what: w, .. } => assert!(w.contains(what), "{w}"),
                other => panic!("{bytes:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn extension_suggests() {
        let f = |s: &str| DataFormat::from_extension(Path::new(s));
        assert_eq!(f("a/Chapter1.DTA"), DataFormat::Dta);
        assert_eq!(f("x.dta.gz"), DataFormat::Dta);
        assert_eq!(f("x.parquet"), DataFormat::Parquet);
        assert_eq!(f("x.pq"), DataFormat::Parquet);
        assert_eq!(f("x.csv.gz"), DataFormat::Csv);
        assert_eq!(f("x.tsv"), DataFormat::Csv);
        assert_eq!(f("x"), DataFormat::Csv);
    }
}
