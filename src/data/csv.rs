//! CSV → [`Frame`], with every cell error located by file, line and column.
//!
//! One pass over the input through one handle, with [`csv::ByteRecord`]s:
//! only the requested columns are parsed, numbers straight from bytes,
//! categories encoded to dense `u32` codes as they are read (levels in order
//! of first appearance). Files whose name ends in `.gz` are decompressed on
//! the fly.
//!
//! Before the `csv` crate sees a byte, a guard checks the quoting (an
//! unterminated or misplaced quote is an error naming its line, never a
//! silently merged field) and the limits of [`CsvOptions`] (field, record
//! and total size), so that no input can make the reader allocate without
//! bound.
//!
//! A missing cell is an empty field, `NA` or `.` (surrounding spaces
//! allowed). It becomes `NaN` in a numeric column and [`MISSING_CODE`] in a
//! factor; the row is kept, and the sample stage drops and counts it.

use super::{Column, Factor, Frame, MISSING_CODE};
use crate::error::{Error, Location, Result};
use crate::text;
use std::cell::RefCell;
use std::collections::HashMap;
use std::fs::File;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// How to read a CSV file, and the bounds that keep a hostile file from
/// exhausting memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvOptions {
    /// Field delimiter (default `,`).
    pub delimiter: u8,
    /// Longest field, in bytes (default 1 MiB).
    pub max_field_bytes: usize,
    /// Longest record (one row, all its fields), in bytes (default 256 MiB).
    pub max_record_bytes: usize,
    /// Largest input, in bytes after decompression (default 64 GiB).
    pub max_total_bytes: u64,
}

impl CsvOptions {
    /// Default [`CsvOptions::max_field_bytes`]: 1 MiB.
    pub const DEFAULT_MAX_FIELD_BYTES: usize = 1 << 20;
    /// Default [`CsvOptions::max_record_bytes`]: 256 MiB.
    pub const DEFAULT_MAX_RECORD_BYTES: usize = 256 << 20;
    /// Default [`CsvOptions::max_total_bytes`]: 64 GiB.
    pub const DEFAULT_MAX_TOTAL_BYTES: u64 = 64 << 30;
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            delimiter: b',',
            max_field_bytes: Self::DEFAULT_MAX_FIELD_BYTES,
            max_record_bytes: Self::DEFAULT_MAX_RECORD_BYTES,
            max_total_bytes: Self::DEFAULT_MAX_TOTAL_BYTES,
        }
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

/// The hint attached to every bad numeric cell.
pub(super) const MISSING_HINT: &str =
    "leave the cell empty to mark it missing; empty cells are dropped and counted";

/// Size of the CSV reader's buffer.
const BUFFER: usize = 1 << 20;

impl Frame {
    /// Reads the header of a CSV (or `.csv.gz`) file: the column names, with
    /// a UTF-8 byte-order mark and surrounding whitespace removed.
    ///
    /// Fails if the file cannot be read, is empty, or has an empty or
    /// duplicate column name.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`](crate::ErrorKind::Io) if the file cannot be read;
    /// [`ErrorKind::InvalidData`](crate::ErrorKind::InvalidData) for an
    /// empty, duplicate or malformed header.
    pub fn read_header(path: &Path, options: &CsvOptions) -> Result<Vec<String>> {
        let mut input = Input::open(path, options)?;
        let header = read_header_row(&mut input);
        input.finish(header)
    }

    /// Reads a CSV (or `.csv.gz`) file: the requested columns, or every column
    /// (as [`ColumnKind::Auto`]) when `columns` is `None`.
    ///
    /// Columns come out in the order requested (header order for `None`); a
    /// name requested twice is read once. Every row is kept, missing cells
    /// included, and [`Frame::line`] gives the line of the file it came from.
    /// The file is opened once and read once: a file replaced while it is
    /// read cannot mix two files' rows.
    ///
    /// Fails, naming the file (and the line and column where there is one),
    /// on a malformed file, a bad cell, a file with a header but no data
    /// rows, or an input beyond the limits of [`CsvOptions`].
    ///
    /// ```
    /// use gravity_model::{ColumnKind, ColumnRequest, CsvOptions, Frame};
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("trade.csv");
    /// # std::fs::write(&path, "exporter,importer,trade\nDEU,FRA,10.5\nFRA,DEU,\n")?;
    /// let columns = [
    ///     ColumnRequest { name: "trade".into(), kind: ColumnKind::NonNegative },
    ///     ColumnRequest { name: "exporter".into(), kind: ColumnKind::Factor },
    /// ];
    /// let frame = Frame::read_csv(&path, &CsvOptions::default(), Some(&columns))?;
    /// assert_eq!(frame.nrows(), 2);
    /// assert_eq!(frame.numeric("trade")?[0], 10.5);
    /// assert!(frame.numeric("trade")?[1].is_nan()); // empty cell: missing
    /// assert_eq!(frame.factor("exporter")?.levels, ["DEU", "FRA"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`](crate::ErrorKind::Io) if the file cannot be read;
    /// [`ErrorKind::InvalidData`](crate::ErrorKind::InvalidData), with the
    /// file, line and column, for a malformed row or cell, a value of the
    /// wrong type, or input over the limits of `options`.
    pub fn read_csv(
        path: &Path,
        options: &CsvOptions,
        columns: Option<&[ColumnRequest]>,
    ) -> Result<Frame> {
        let columns = columns.map(<[ColumnRequest]>::to_vec);
        Frame::read_csv_with(path, options, |_| Ok(columns))
    }

    /// As [`Frame::read_csv`], with the columns chosen once the header is
    /// known: `plan` receives the header and returns the columns to read
    /// (`None` for all), or an error (e.g. a formula naming a column the file
    /// lacks). Header and rows come from the same single read of the file.
    ///
    /// # Errors
    ///
    /// As [`Frame::read_csv`], and the error `plan` returns.
    pub fn read_csv_with<F>(path: &Path, options: &CsvOptions, plan: F) -> Result<Frame>
    where
        F: FnOnce(&[String]) -> Result<Option<Vec<ColumnRequest>>>,
    {
        let input = Input::open(path, options)?;
        read_input(input, plan)
    }

    /// Reads CSV from any reader (not decompressed): `name`, if given, is the
    /// file named in error messages and kept as [`Frame::source`].
    ///
    /// ```
    /// use gravity_model::{CsvOptions, Frame};
    /// let frame = Frame::read_csv_reader(&b"y,f\n1,a\n2,b\n"[..], None, &CsvOptions::default(), None)?;
    /// assert_eq!(frame.numeric("y")?, [1.0, 2.0]);
    /// # Ok::<(), gravity_model::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Frame::read_csv`].
    pub fn read_csv_reader<R: Read + 'static>(
        reader: R,
        name: Option<&Path>,
        options: &CsvOptions,
        columns: Option<&[ColumnRequest]>,
    ) -> Result<Frame> {
        let input = Input::new(
            Box::new(reader),
            name.map(Path::to_owned),
            false,
            options,
            BUFFER,
        );
        let columns = columns.map(<[ColumnRequest]>::to_vec);
        read_input(input, |_| Ok(columns))
    }

    /// Reads CSV from bytes in memory (no file name in errors).
    ///
    /// # Errors
    ///
    /// As [`Frame::read_csv`].
    pub fn read_csv_bytes(
        bytes: &[u8],
        options: &CsvOptions,
        columns: Option<&[ColumnRequest]>,
    ) -> Result<Frame> {
        Frame::read_csv_reader(std::io::Cursor::new(bytes.to_vec()), None, options, columns)
    }
}

/// Reads CSV from an already opened stream (the format chooser's): `gzip`
/// says the stream is decompressed gzip, so that its errors are named as such.
pub(super) fn read_stream<F>(
    reader: Box<dyn Read>,
    file: Option<PathBuf>,
    gzip: bool,
    options: &CsvOptions,
    plan: F,
) -> Result<Frame>
where
    F: FnOnce(&[String]) -> Result<Option<Vec<ColumnRequest>>>,
{
    read_input(Input::new(reader, file, gzip, options, BUFFER), plan)
}

fn read_input<F>(mut input: Input, plan: F) -> Result<Frame>
where
    F: FnOnce(&[String]) -> Result<Option<Vec<ColumnRequest>>>,
{
    let result = (|| {
        let header = read_header_row(&mut input)?;
        let requests = plan(&header)?;
        let plan = resolve(&header, requests.as_deref(), input.file.as_deref(), Some(1))?;
        let mut builders: Vec<Builder> = plan.iter().map(|p| Builder::new(p.kind)).collect();
        let lines = scan(&mut input, &header, &plan, &mut builders)?;
        if lines.is_empty() {
            return Err(Error::data_hint(
                input.location(None, None),
                "no data rows: the file has a header but no rows below it",
                "check that the right file was given, and that it was written completely",
            ));
        }
        let names = plan.into_iter().map(|p| p.name).collect();
        let mut columns = Vec::with_capacity(builders.len());
        for builder in builders {
            columns.push(builder.finish());
        }
        Ok((names, columns, lines))
    })();
    let (names, columns, lines) = input.finish(result)?;
    Ok(Frame::from_parts(names, columns, input.file, lines))
}

/// An open input: the `csv` reader over the guarded byte stream, and the
/// guard's state (where an error found below the `csv` crate is kept).
struct Input {
    reader: csv::Reader<Guard>,
    state: Rc<RefCell<GuardState>>,
    file: Option<PathBuf>,
    gzip: bool,
}

impl Input {
    fn open(path: &Path, options: &CsvOptions) -> Result<Input> {
        let io = |source| Error::Io {
            path: path.to_owned(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        if file.metadata().map_err(io)?.is_dir() {
            return Err(Error::data_hint(
                Location::new(Some(path.to_owned()), None, None),
                "is a directory, expected a CSV file",
                "give the path of the CSV file itself",
            ));
        }
        let gzip = path.extension().is_some_and(|e| e == "gz");
        let input: Box<dyn Read> = if gzip {
            Box::new(flate2::read::MultiGzDecoder::new(BufReader::with_capacity(
                BUFFER, file,
            )))
        } else {
            Box::new(file)
        };
        Ok(Input::new(
            input,
            Some(path.to_owned()),
            gzip,
            options,
            BUFFER,
        ))
    }

    fn new(
        input: Box<dyn Read>,
        file: Option<PathBuf>,
        gzip: bool,
        options: &CsvOptions,
        buffer: usize,
    ) -> Input {
        let state = Rc::new(RefCell::new(GuardState::new(options, gzip)));
        let guard = Guard {
            inner: input,
            state: Rc::clone(&state),
        };
        let reader = csv::ReaderBuilder::new()
            .delimiter(options.delimiter)
            // Records end at '\n' and a '\r' before it is removed by `cell`: the
            // `csv` crate's own CRLF mode counts the lines of CRLF files wrong.
            .terminator(csv::Terminator::Any(b'\n'))
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(buffer)
            .from_reader(guard);
        Input {
            reader,
            state,
            file,
            gzip,
        }
    }

    fn location(&self, line: Option<u64>, column: Option<&str>) -> Location {
        Location::new(self.file.clone(), line, column)
    }

    /// The result of reading, except that in a gzip file an error of the
    /// data is replaced by the gzip stream's own error, if it has one: a
    /// corrupt stream can decode to garbage before its checksum fails.
    fn finish<T>(&mut self, result: Result<T>) -> Result<T> {
        let err = match result {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        if self.gzip && matches!(err, Error::Data { .. }) && !self.state.borrow().gzip_failed {
            self.state.borrow_mut().draining = true;
            let mut sink = [0u8; 1 << 16];
            let guard = self.reader.get_mut();
            loop {
                match guard.read(&mut sink) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            let mut state = self.state.borrow_mut();
            if state.gzip_failed {
                if let Some(gz) = state.error.take() {
                    return Err(with_file(gz, self.file.as_deref()));
                }
            }
        }
        Err(err)
    }
}

/// Turns an error of the `csv` crate into ours: an error found by the guard
/// (quoting, limits, gzip) is taken from its state.
fn csv_error(input: &Input, err: csv::Error) -> Error {
    if let Some(found) = input.state.borrow_mut().error.take() {
        return with_file(found, input.file.as_deref());
    }
    let line = err.position().map(csv::Position::line);
    let message = err.to_string();
    match err.into_kind() {
        csv::ErrorKind::Io(source) => match &input.file {
            Some(path) => Error::Io {
                path: path.clone(),
                source,
            },
            None => Error::data(input.location(line, None), format!("cannot read: {source}")),
        },
        _ => Error::data(
            input.location(line, None),
            format!("cannot read the CSV: {message}"),
        ),
    }
}

/// Where the guard is in the CSV grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quoting {
    /// At the first byte of a field.
    FieldStart,
    /// In an unquoted field.
    Unquoted,
    /// Inside a quoted field.
    Quoted,
    /// Just after the quote that closed a quoted field (or the first of a
    /// doubled quote).
    AfterClose,
    /// After a closing quote and a '\r': only '\n' may follow.
    AfterCloseCr,
}

/// The state of the guard between reads.
struct GuardState {
    delimiter: u8,
    /// The stream is decompressed gzip: its read errors are the stream's.
    gzip: bool,
    max_field: usize,
    max_record: usize,
    max_total: u64,
    total: u64,
    /// Current line (1-based).
    line: u64,
    quoting: Quoting,
    /// Line where the open quoted field started.
    quote_line: u64,
    field_len: usize,
    record_len: usize,
    /// Line where the current record started.
    record_line: u64,
    /// An error found here, for [`csv_error`] to return.
    error: Option<Error>,
    /// The error is the gzip stream's.
    gzip_failed: bool,
    /// Read to the end only to find a gzip error: no checks of the CSV.
    draining: bool,
    /// An error was found: every further read fails.
    failed: bool,
}

impl GuardState {
    fn new(options: &CsvOptions, gzip: bool) -> GuardState {
        GuardState {
            delimiter: options.delimiter,
            gzip,
            max_field: options.max_field_bytes,
            max_record: options.max_record_bytes,
            max_total: options.max_total_bytes,
            total: 0,
            line: 1,
            quoting: Quoting::FieldStart,
            quote_line: 1,
            field_len: 0,
            record_len: 0,
            record_line: 1,
            error: None,
            gzip_failed: false,
            draining: false,
            failed: false,
        }
    }

    /// Checks `bytes`; returns the length of the good prefix and, if a byte
    /// broke a rule, the problem (message, hint, line).
    fn check(&mut self, bytes: &[u8]) -> (usize, Option<(String, &'static str, u64)>) {
        for (k, &b) in bytes.iter().enumerate() {
            if let Some(problem) = self.step(b) {
                return (k, Some(problem));
            }
        }
        (bytes.len(), None)
    }

    #[inline]
    fn step(&mut self, b: u8) -> Option<(String, &'static str, u64)> {
        self.record_len += 1;
        match self.quoting {
            Quoting::FieldStart | Quoting::Unquoted => {
                if b == b'"' {
                    if self.quoting == Quoting::FieldStart {
                        self.quoting = Quoting::Quoted;
                        self.quote_line = self.line;
                    } else {
                        return Some((
                            "a quote inside an unquoted field".to_owned(),
                            "quote the whole field and double the quotes inside it: \"5'10\"\" tall\"",
                            self.line,
                        ));
                    }
                } else if b == self.delimiter {
                    self.end_field();
                } else if b == b'\n' {
                    self.end_record();
                } else {
                    self.quoting = Quoting::Unquoted;
                    self.field_len += 1;
                }
            }
            Quoting::Quoted => {
                if b == b'"' {
                    self.quoting = Quoting::AfterClose;
                } else {
                    if b == b'\n' {
                        self.line += 1;
                    }
                    self.field_len += 1;
                }
            }
            Quoting::AfterClose => {
                if b == b'"' {
                    // A doubled quote: one quote in the field.
                    self.quoting = Quoting::Quoted;
                    self.field_len += 1;
                } else if b == self.delimiter {
                    self.end_field();
                } else if b == b'\n' {
                    self.end_record();
                } else if b == b'\r' {
                    self.quoting = Quoting::AfterCloseCr;
                } else {
                    return Some((
                        format!(
                            "a quoted field must end at a delimiter or the end of the line, found {} after its closing quote",
                            quote(&[b])
                        ),
                        "double a quote that is part of the field's text",
                        self.line,
                    ));
                }
            }
            Quoting::AfterCloseCr => {
                if b == b'\n' {
                    self.end_record();
                } else {
                    return Some((
                        "a carriage return after a closing quote, not followed by a line feed"
                            .to_owned(),
                        "save the file with LF or CRLF line endings",
                        self.line,
                    ));
                }
            }
        }
        if self.field_len > self.max_field {
            return Some((
                format!(
                    "a field is longer than the limit of {} bytes",
                    self.max_field
                ),
                if self.quoting == Quoting::Quoted {
                    "check for a quote that is never closed, or raise the limit (--max-field-bytes, CsvOptions::max_field_bytes)"
                } else {
                    "check the line endings and the delimiter, or raise the limit (--max-field-bytes, CsvOptions::max_field_bytes)"
                },
                if self.quoting == Quoting::Quoted {
                    self.quote_line
                } else {
                    self.line
                },
            ));
        }
        if self.record_len > self.max_record {
            return Some((
                format!(
                    "a row is longer than the limit of {} bytes",
                    self.max_record
                ),
                "check the line endings (old Mac files end lines with a carriage return only), or raise the limit (CsvOptions::max_record_bytes)",
                self.record_line,
            ));
        }
        None
    }

    #[inline]
    fn end_field(&mut self) {
        self.quoting = Quoting::FieldStart;
        self.field_len = 0;
    }

    #[inline]
    fn end_record(&mut self) {
        self.end_field();
        self.line += 1;
        self.record_len = 0;
        self.record_line = self.line;
    }
}

/// The byte stream under the `csv` reader: counts bytes and lines, checks
/// quoting and limits, and names gzip errors as such.
struct Guard {
    inner: Box<dyn Read>,
    state: Rc<RefCell<GuardState>>,
}

/// The marker error handed to the `csv` crate when the guard has stored its own.
fn marker() -> std::io::Error {
    std::io::Error::other("input rejected (see the stored error)")
}

impl Read for Guard {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut state = self.state.borrow_mut();
        if state.failed {
            return Err(marker());
        }
        let n = match self.inner.read(buf) {
            Ok(n) => n,
            Err(e) => {
                use std::io::ErrorKind::{InvalidData, InvalidInput, UnexpectedEof};
                if state.gzip && matches!(e.kind(), InvalidData | InvalidInput | UnexpectedEof) {
                    let what = if e.kind() == UnexpectedEof {
                        format!("{e} (the file is truncated)")
                    } else {
                        e.to_string()
                    };
                    state.error = Some(Error::data(
                        Location::default(),
                        format!("not a valid gzip stream: {what}"),
                    ));
                    state.gzip_failed = true;
                    state.failed = true;
                    return Err(marker());
                }
                return Err(e);
            }
        };
        state.total = state.total.saturating_add(n as u64);
        if state.total > state.max_total {
            let limit = state.max_total;
            state.error = Some(Error::data_hint(
                Location::default(),
                format!("the input is larger than the limit of {limit} bytes"),
                "raise the limit (--max-bytes, CsvOptions::max_total_bytes) if the file is right",
            ));
            state.failed = true;
            return Err(marker());
        }
        if state.draining {
            return Ok(n);
        }
        if n == 0 {
            if state.quoting == Quoting::Quoted {
                let line = state.quote_line;
                state.error = Some(Error::data_hint(
                    Location::new(None, Some(line), None),
                    "unterminated quote: the quoted field that starts on this line never ends",
                    "close the quote, or double a quote that is part of the text",
                ));
                state.failed = true;
                return Err(marker());
            }
            return Ok(0);
        }
        let (good, problem) = state.check(&buf[..n]);
        if let Some((message, hint, line)) = problem {
            state.error = Some(Error::data_hint(
                Location::new(None, Some(line), None),
                message,
                hint,
            ));
            state.failed = true;
            if good == 0 {
                return Err(marker());
            }
        }
        Ok(good)
    }
}

/// `err` located in `file` if it names no file yet.
fn with_file(err: Error, file: Option<&Path>) -> Error {
    match err {
        Error::Data {
            mut location,
            message,
            hint,
        } => {
            if location.file.is_none() {
                location.file = file.map(Path::to_owned);
            }
            Error::Data {
                location,
                message,
                hint,
            }
        }
        other => other,
    }
}

/// Reads the next record that is not a blank line.
fn read_record(input: &mut Input, record: &mut csv::ByteRecord) -> Result<bool> {
    loop {
        let more = match input.reader.read_byte_record(record) {
            Ok(more) => more,
            Err(e) => return Err(csv_error(input, e)),
        };
        // A blank CRLF line reads as one field holding "\r".
        let blank = record.len() == 1 && matches!(&record[0], b"" | b"\r");
        if !more || !blank {
            return Ok(more);
        }
    }
}

/// Field `index` of `record`, without the '\r' of a CRLF line ending.
#[inline]
fn cell(record: &csv::ByteRecord, index: usize) -> &[u8] {
    let field = &record[index];
    if index + 1 == record.len() {
        field.strip_suffix(b"\r").unwrap_or(field)
    } else {
        field
    }
}

fn read_header_row(input: &mut Input) -> Result<Vec<String>> {
    let mut record = csv::ByteRecord::new();
    if !read_record(input, &mut record)? {
        return Err(Error::data(
            input.location(None, None),
            "file is empty: expected a header row",
        ));
    }
    let line = record.position().map_or(1, csv::Position::line);
    let location = |column: Option<&str>| input.location(Some(line), column);
    let mut names: Vec<String> = Vec::new();
    names.try_reserve(record.len()).map_err(|_| {
        Error::data(
            location(None),
            format!(
                "cannot allocate memory for a header of {} columns",
                record.len()
            ),
        )
    })?;
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut fields: Vec<&str> = Vec::with_capacity(record.len());
    for i in 0..record.len() {
        let field = cell(&record, i);
        let field = if i == 0 {
            field.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(field)
        } else {
            field
        };
        let name = std::str::from_utf8(field)
            .map_err(|_| {
                Error::data_hint(
                    location(None),
                    format!(
                        "column {} of the header is not valid UTF-8, found {}",
                        i + 1,
                        quote(field)
                    ),
                    "save the file as UTF-8",
                )
            })?
            .trim();
        if name.contains('\r') {
            return Err(Error::data_hint(
                location(None),
                "the header contains a carriage return: the file seems to use old Mac (CR) line endings",
                "save the file with LF or CRLF line endings",
            ));
        }
        if name.chars().any(|c| c.is_control() && c != '\t') {
            return Err(Error::data_hint(
                location(None),
                format!(
                    "column {} of the header contains a control character, found {}",
                    i + 1,
                    quote(field)
                ),
                "is this a CSV file? save it as UTF-8 text with a header row",
            ));
        }
        if name.is_empty() {
            return Err(Error::data_hint(
                location(None),
                format!("column {} of the header has no name", i + 1),
                "give every column a name in the header row",
            ));
        }
        fields.push(name);
    }
    for (i, name) in fields.iter().enumerate() {
        if let Some(first) = seen.insert(name, i) {
            return Err(Error::data_hint(
                location(Some(name)),
                format!(
                    "duplicate column name '{name}' in the header (columns {} and {})",
                    first + 1,
                    i + 1
                ),
                "give every column a distinct name",
            ));
        }
        names.push((*name).to_owned());
    }
    Ok(names)
}

/// A column to read: its position in the header, name and kind.
#[derive(Debug, Clone)]
pub(super) struct Planned {
    pub(super) index: usize,
    pub(super) name: String,
    pub(super) kind: ColumnKind,
}

/// Matches the requests against the header; a name requested twice is read
/// once, with the stricter kind. `line` is where the header is (line 1 of a
/// CSV file; none in a binary file).
pub(super) fn resolve(
    header: &[String],
    requests: Option<&[ColumnRequest]>,
    path: Option<&Path>,
    line: Option<u64>,
) -> Result<Vec<Planned>> {
    let Some(requests) = requests else {
        return Ok(header
            .iter()
            .enumerate()
            .map(|(index, name)| Planned {
                index,
                name: name.clone(),
                kind: ColumnKind::Auto,
            })
            .collect());
    };
    let positions: HashMap<&str, usize> = header
        .iter()
        .enumerate()
        .map(|(i, h)| (h.as_str(), i))
        .collect();
    let mut plan: Vec<Planned> = Vec::with_capacity(requests.len());
    let mut planned: HashMap<usize, usize> = HashMap::new();
    for request in requests {
        let Some(&index) = positions.get(request.name.as_str()) else {
            return Err(Error::data_hint(
                Location::new(path.map(Path::to_owned), line, None),
                format!("unknown column '{}'", request.name),
                text::unknown_column_hint(&request.name, header),
            ));
        };
        match planned.get(&index) {
            Some(&k) => plan[k].kind = stricter(plan[k].kind, request.kind),
            None => {
                planned.insert(index, plan.len());
                plan.push(Planned {
                    index,
                    name: request.name.clone(),
                    kind: request.kind,
                });
            }
        }
    }
    Ok(plan)
}

/// The kind that satisfies both requests for the same column.
fn stricter(a: ColumnKind, b: ColumnKind) -> ColumnKind {
    use ColumnKind::*;
    match (a, b) {
        (NonNegative, _) | (_, NonNegative) => NonNegative,
        (Numeric, _) | (_, Numeric) => Numeric,
        (Factor, _) | (_, Factor) => Factor,
        (Auto, Auto) => Auto,
    }
}

/// Reads every remaining row of `input`, feeding each planned column to
/// its builder; returns the editor line of each row.
fn scan(
    input: &mut Input,
    header: &[String],
    plan: &[Planned],
    builders: &mut [Builder],
) -> Result<Vec<u64>> {
    let mut record = csv::ByteRecord::new();
    let mut lines = Vec::new();
    while read_record(input, &mut record)? {
        let line = record.position().map_or(0, csv::Position::line);
        if record.len() != header.len() {
            return Err(Error::data_hint(
                input.location(Some(line), None),
                format!(
                    "row has {} fields but the header has {} (columns: {})",
                    record.len(),
                    header.len(),
                    text::list_columns(header)
                ),
                "quote fields that contain the delimiter, and check for a missing or extra delimiter",
            ));
        }
        for (p, builder) in plan.iter().zip(builders.iter_mut()) {
            let value = cell(&record, p.index);
            if let Err(problem) = builder.push(value) {
                return Err(problem.into_error(input.file.as_deref(), line, &p.name, value));
            }
        }
        if grow(&mut lines).is_err() {
            return Err(CellProblem::OutOfMemory.into_error(
                input.file.as_deref(),
                line,
                &header[0],
                b"",
            ));
        }
        lines.push(line);
    }
    Ok(lines)
}

/// Makes room for one more element, failing instead of aborting when the
/// memory is not there (the number of rows comes from the input).
#[inline]
pub(super) fn grow<T>(v: &mut Vec<T>) -> std::result::Result<(), CellProblem> {
    if v.len() == v.capacity() {
        let more = v.capacity().max(1024);
        v.try_reserve_exact(more)
            .map_err(|_| CellProblem::OutOfMemory)?;
    }
    Ok(())
}

/// Why a cell was rejected.
#[derive(Debug)]
pub(super) enum CellProblem {
    NotNumber,
    NotFinite,
    Negative,
    InvalidUtf8,
    TooManyLevels,
    OutOfMemory,
}

impl CellProblem {
    pub(super) fn into_error(
        self,
        path: Option<&Path>,
        line: u64,
        column: &str,
        cell: &[u8],
    ) -> Error {
        let location = Location::new(path.map(Path::to_owned), Some(line), Some(column));
        let found = quote(cell);
        match self {
            CellProblem::NotNumber => Error::data_hint(
                location,
                format!("column '{column}' must be a number, found {found}"),
                MISSING_HINT,
            ),
            CellProblem::NotFinite => Error::data_hint(
                location,
                format!("column '{column}' must be a finite number, found {found}"),
                MISSING_HINT,
            ),
            CellProblem::Negative => Error::data_hint(
                location,
                format!("column '{column}' must be a non-negative number, found {found}"),
                MISSING_HINT,
            ),
            CellProblem::InvalidUtf8 => Error::data_hint(
                location,
                format!("column '{column}' is not valid UTF-8, found {found}"),
                "save the file as UTF-8",
            ),
            CellProblem::TooManyLevels => Error::data(
                location,
                format!("column '{column}' has more than {MISSING_CODE} distinct values"),
            ),
            CellProblem::OutOfMemory => Error::data_hint(
                Location::new(location.file, location.line, None),
                "out of memory: the rows up to this line do not fit in memory",
                "read fewer columns, or use a machine with more memory",
            ),
        }
    }
}

/// A cell for an error message: quoted, escaped, at most 40 characters.
pub(super) fn quote(cell: &[u8]) -> String {
    let text = String::from_utf8_lossy(&cell[..cell.len().min(160)]);
    if text.chars().count() > 40 || cell.len() > 160 {
        let short: String = text.chars().take(40).collect();
        format!("{short:?}…")
    } else {
        format!("{text:?}")
    }
}

/// Removes ASCII spaces and tabs around a cell.
fn trim(cell: &[u8]) -> &[u8] {
    let is_space = |b: &u8| *b == b' ' || *b == b'\t';
    let start = cell.iter().position(|b| !is_space(b)).unwrap_or(cell.len());
    let end = cell
        .iter()
        .rposition(|b| !is_space(b))
        .map_or(start, |e| e + 1);
    &cell[start..end]
}

/// True for the missing-value markers: an empty field, `NA`, `.`.
fn is_missing(trimmed: &[u8]) -> bool {
    matches!(trimmed, b"" | b"NA" | b".")
}

/// A parsed numeric cell.
enum Number {
    Missing,
    Value(f64),
    NotFinite,
    Text,
}

fn parse_number(cell: &[u8]) -> Number {
    let cell = trim(cell);
    if is_missing(cell) {
        return Number::Missing;
    }
    match std::str::from_utf8(cell)
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
    {
        Some(v) if v.is_finite() => Number::Value(v),
        Some(_) => Number::NotFinite,
        None => Number::Text,
    }
}

/// FxHash (as in rustc): fast, and good enough for the levels of a factor.
#[derive(Default)]
pub(super) struct FxHasher(u64);

impl FxHasher {
    const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(Self::SEED);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type LevelMap = HashMap<Box<[u8]>, u32, BuildHasherDefault<FxHasher>>;

/// Accumulates one column while the file is read (the text cells of any
/// format: CSV fields, Stata strings, Parquet strings).
pub(super) enum Builder {
    Numeric {
        values: Vec<f64>,
        non_negative: bool,
    },
    /// Numeric until a cell is not a finite number; the exact text of every
    /// cell is kept meanwhile (`text`, cell `i` ending at `ends[i]`), so that
    /// the column can turn into a factor without reading the file again.
    Auto {
        values: Vec<f64>,
        text: Vec<u8>,
        ends: Vec<usize>,
    },
    Factor {
        codes: Vec<u32>,
        map: LevelMap,
        levels: Vec<String>,
    },
}

impl Builder {
    pub(super) fn new(kind: ColumnKind) -> Builder {
        match kind {
            ColumnKind::Numeric => Builder::Numeric {
                values: Vec::new(),
                non_negative: false,
            },
            ColumnKind::NonNegative => Builder::Numeric {
                values: Vec::new(),
                non_negative: true,
            },
            ColumnKind::Auto => Builder::Auto {
                values: Vec::new(),
                text: Vec::new(),
                ends: Vec::new(),
            },
            ColumnKind::Factor => Builder::Factor {
                codes: Vec::new(),
                map: LevelMap::default(),
                levels: Vec::new(),
            },
        }
    }

    #[inline]
    pub(super) fn push(&mut self, cell: &[u8]) -> std::result::Result<(), CellProblem> {
        match self {
            Builder::Numeric {
                values,
                non_negative,
            } => {
                let v = match parse_number(cell) {
                    Number::Missing => f64::NAN,
                    Number::Value(v) if *non_negative && v < 0.0 => {
                        return Err(CellProblem::Negative)
                    }
                    Number::Value(v) => v,
                    Number::NotFinite if *non_negative => return Err(CellProblem::Negative),
                    Number::NotFinite => return Err(CellProblem::NotFinite),
                    Number::Text if *non_negative => return Err(CellProblem::Negative),
                    Number::Text => return Err(CellProblem::NotNumber),
                };
                grow(values)?;
                values.push(v);
            }
            Builder::Auto { values, text, ends } => match parse_number(cell) {
                Number::Missing | Number::Value(_) => {
                    let v = match parse_number(cell) {
                        Number::Value(v) => v,
                        _ => f64::NAN,
                    };
                    grow(values)?;
                    grow(ends)?;
                    text.try_reserve(cell.len())
                        .map_err(|_| CellProblem::OutOfMemory)?;
                    values.push(v);
                    text.extend_from_slice(cell);
                    ends.push(text.len());
                }
                Number::NotFinite | Number::Text => {
                    let mut factor = Builder::new(ColumnKind::Factor);
                    let mut start = 0;
                    for &end in ends.iter() {
                        factor.push(&text[start..end])?;
                        start = end;
                    }
                    factor.push(cell)?;
                    *self = factor;
                }
            },
            Builder::Factor { codes, map, levels } => {
                grow(codes)?;
                if is_missing(trim(cell)) {
                    codes.push(MISSING_CODE);
                } else if let Some(&code) = map.get(cell) {
                    codes.push(code);
                } else {
                    let level = std::str::from_utf8(cell).map_err(|_| CellProblem::InvalidUtf8)?;
                    // A code never equals MISSING_CODE.
                    let code = u32::try_from(levels.len())
                        .ok()
                        .filter(|&c| c != MISSING_CODE)
                        .ok_or(CellProblem::TooManyLevels)?;
                    grow(levels)?;
                    map.try_reserve(1).map_err(|_| CellProblem::OutOfMemory)?;
                    levels.push(level.to_owned());
                    map.insert(cell.into(), code);
                    codes.push(code);
                }
            }
        }
        Ok(())
    }

    /// Number of cells so far.
    pub(super) fn len(&self) -> usize {
        match self {
            Builder::Numeric { values, .. } | Builder::Auto { values, .. } => values.len(),
            Builder::Factor { codes, .. } => codes.len(),
        }
    }

    pub(super) fn finish(self) -> Column {
        match self {
            Builder::Numeric { values, .. } | Builder::Auto { values, .. } => {
                Column::Numeric(values.into())
            }
            Builder::Factor { codes, levels, .. } => Column::Factor(Factor { codes, levels }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;
    use std::io::Write;
    use std::path::PathBuf;

    /// Writes `content` to `name` in a fresh temporary directory.
    fn file(name: &str, content: &[u8]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join(name);
        std::fs::write(&path, content).expect("write test file");
        (dir, path)
    }

    fn req(name: &str, kind: ColumnKind) -> ColumnRequest {
        ColumnRequest {
            name: name.to_owned(),
            kind,
        }
    }

    fn read(content: &str, columns: &[ColumnRequest]) -> Result<Frame> {
        let (_dir, path) = file("data.csv", content.as_bytes());
        Frame::read_csv(&path, &CsvOptions::default(), Some(columns))
    }

    fn read_all(content: &str) -> Result<Frame> {
        let (_dir, path) = file("data.csv", content.as_bytes());
        Frame::read_csv(&path, &CsvOptions::default(), None)
    }

    /// The location line and message of a data error.
    fn data_error(result: Result<Frame>) -> (Option<u64>, Option<String>, String, Option<String>) {
        match result {
            Err(Error::Data {
                location,
                message,
                hint,
            }) => (location.line, location.column, message, hint),
            other => panic!("expected a data error, got {other:?}"),
        }
    }

    fn is_nan_at(values: &[f64], i: usize) -> bool {
        values[i].is_nan()
    }

    #[test]
    fn reads_numeric_and_factor_columns() {
        let frame = read(
            "exporter,importer,year,trade\nDEU,FRA,2000,1.5\nFRA,DEU,2000,0\nDEU,ITA,2001,3e2\n",
            &[
                req("trade", ColumnKind::NonNegative),
                req("exporter", ColumnKind::Factor),
                req("year", ColumnKind::Factor),
            ],
        )
        .unwrap();
        assert_eq!(frame.names(), ["trade", "exporter", "year"]);
        assert_eq!(frame.nrows(), 3);
        assert_eq!(frame.numeric("trade").unwrap(), [1.5, 0.0, 300.0]);
        let exporter = frame.factor("exporter").unwrap();
        assert_eq!(exporter.codes, [0, 1, 0]);
        assert_eq!(exporter.levels, ["DEU", "FRA"]);
        assert_eq!(frame.factor("year").unwrap().levels, ["2000", "2001"]);
        assert_eq!(frame.line(0), 2);
        assert_eq!(frame.line(2), 4);
        assert!(frame.column("importer").is_none());
        assert_eq!(frame.source().unwrap().file_name().unwrap(), "data.csv");
    }

    #[test]
    fn header() {
        let (_dir, path) = file("h.csv", b"\xEF\xBB\xBFa, b ,c\r\n1,2,3\r\n");
        let names = Frame::read_header(&path, &CsvOptions::default()).unwrap();
        assert_eq!(names, ["a", "b", "c"]);
    }

    #[test]
    fn bom_is_stripped() {
        let frame = read("\u{feff}y,x\n1,2\n", &[req("y", ColumnKind::Numeric)]).unwrap();
        assert_eq!(frame.numeric("y").unwrap(), [1.0]);
    }

    #[test]
    fn crlf_line_endings() {
        let frame = read(
            "y,f\r\n1,a\r\n2,b\r\n",
            &[req("y", ColumnKind::Numeric), req("f", ColumnKind::Factor)],
        )
        .unwrap();
        assert_eq!(frame.numeric("y").unwrap(), [1.0, 2.0]);
        assert_eq!(frame.factor("f").unwrap().levels, ["a", "b"]);
        assert_eq!(frame.line(1), 3);
    }

    #[test]
    fn quoted_fields_with_commas() {
        let frame = read(
            "name,y\n\"Korea, Republic of\",1\n\"Congo, Dem. Rep.\",\"2\"\n",
            &[
                req("name", ColumnKind::Factor),
                req("y", ColumnKind::Numeric),
            ],
        )
        .unwrap();
        assert_eq!(
            frame.factor("name").unwrap().levels,
            ["Korea, Republic of", "Congo, Dem. Rep."]
        );
        assert_eq!(frame.numeric("y").unwrap(), [1.0, 2.0]);
    }

    #[test]
    fn gzip_files() {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(b"y,f\n1,a\n2,b\n").unwrap();
        let bytes = encoder.finish().unwrap();
        let (_dir, path) = file("data.csv.gz", &bytes);
        let frame = Frame::read_csv(&path, &CsvOptions::default(), None).unwrap();
        assert_eq!(frame.numeric("y").unwrap(), [1.0, 2.0]);
        assert_eq!(frame.factor("f").unwrap().levels, ["a", "b"]);
        assert_eq!(
            Frame::read_header(&path, &CsvOptions::default()).unwrap(),
            ["y", "f"]
        );
    }

    #[test]
    fn semicolon_delimiter() {
        let (_dir, path) = file("data.csv", b"y;f\n1,5;a,b\n");
        let options = CsvOptions {
            delimiter: b';',
            ..CsvOptions::default()
        };
        let frame = Frame::read_csv(&path, &options, None).unwrap();
        // "1,5" is not a number: the Auto column becomes a factor.
        assert_eq!(frame.factor("f").unwrap().levels, ["a,b"]);
        assert_eq!(frame.factor("y").unwrap().levels, ["1,5"]);
    }

    #[test]
    fn missing_markers() {
        let frame = read(
            "y,f\n,\nNA,NA\n.,.\n  NA ,  \n 4 ,x\n",
            &[
                req("y", ColumnKind::NonNegative),
                req("f", ColumnKind::Factor),
            ],
        )
        .unwrap();
        let y = frame.numeric("y").unwrap();
        assert!((0..4).all(|i| is_nan_at(y, i)));
        assert_eq!(y[4], 4.0);
        let f = frame.factor("f").unwrap();
        assert_eq!(f.codes[..4], [MISSING_CODE; 4]);
        assert_eq!(f.levels, ["x"]);
        assert_eq!(frame.nrows(), 5);
    }

    #[test]
    fn factor_cells_keep_their_text() {
        let frame = read("f\n 01\n1\n01\n", &[req("f", ColumnKind::Factor)]).unwrap();
        let f = frame.factor("f").unwrap();
        assert_eq!(f.levels, [" 01", "1", "01"]);
        assert_eq!(f.codes, [0, 1, 2]);
    }

    #[test]
    fn auto_columns() {
        let frame = read_all("a,b,c,d\n1,004,x,NA\n2.5,8,y,\n,ABC,,\n").unwrap();
        assert_eq!(frame.names(), ["a", "b", "c", "d"]);
        let a = frame.numeric("a").unwrap();
        assert_eq!(a[..2], [1.0, 2.5]);
        assert!(a[2].is_nan());
        // A non-number late in the column: earlier cells keep their exact text.
        let b = frame.factor("b").unwrap();
        assert_eq!(b.levels, ["004", "8", "ABC"]);
        let c = frame.factor("c").unwrap();
        assert_eq!(c.codes, [0, 1, MISSING_CODE]);
        // Only missing cells: numeric.
        assert!(frame.numeric("d").unwrap().iter().all(|v| v.is_nan()));
    }

    #[test]
    fn auto_with_nan_literal_is_a_factor() {
        let frame = read_all("a\n1\nNaN\n").unwrap();
        assert_eq!(frame.factor("a").unwrap().levels, ["1", "NaN"]);
        assert!(matches!(frame.column("a"), Some(Column::Factor(_))));
    }

    #[test]
    fn header_only_is_an_error_naming_the_file() {
        let err = read("y,x\n", &[req("y", ColumnKind::Numeric)]).unwrap_err();
        assert!(err.to_string().contains("data.csv: no data rows"), "{err}");
        let (line, _, message, _) = data_error(Err(err));
        assert_eq!(line, None);
        assert_eq!(
            message,
            "no data rows: the file has a header but no rows below it"
        );
        // Blank lines below the header are no rows either.
        assert!(read_all("y,x\n\n\r\n").is_err());
    }

    #[test]
    fn duplicate_requests_are_read_once() {
        let frame = read(
            "y,x\n1,2\n",
            &[
                req("x", ColumnKind::Numeric),
                req("y", ColumnKind::Numeric),
                req("x", ColumnKind::Factor),
            ],
        )
        .unwrap();
        assert_eq!(frame.names(), ["x", "y"]);
        assert_eq!(frame.numeric("x").unwrap(), [2.0]);
        assert_eq!(
            stricter(ColumnKind::Numeric, ColumnKind::NonNegative),
            ColumnKind::NonNegative
        );
    }

    #[test]
    fn not_a_number() {
        let (line, column, message, hint) =
            data_error(read("y,x\n1,2\n3,n/a\n", &[req("x", ColumnKind::Numeric)]));
        assert_eq!(line, Some(3));
        assert_eq!(column.as_deref(), Some("x"));
        assert_eq!(message, "column 'x' must be a number, found \"n/a\"");
        assert_eq!(
            hint.as_deref(),
            Some("leave the cell empty to mark it missing; empty cells are dropped and counted")
        );
    }

    #[test]
    fn literal_nan_and_inf_are_errors() {
        for (cell, expect) in [
            ("NaN", "NaN"),
            ("inf", "inf"),
            ("-inf", "-inf"),
            ("nan", "nan"),
        ] {
            let (line, _, message, _) = data_error(read(
                &format!("x\n1\n{cell}\n"),
                &[req("x", ColumnKind::Numeric)],
            ));
            assert_eq!(line, Some(3));
            assert_eq!(
                message,
                format!("column 'x' must be a finite number, found \"{expect}\"")
            );
        }
    }

    #[test]
    fn negative_response() {
        let (line, _, message, _) = data_error(read(
            "trade\n1\n0\n-3\n",
            &[req("trade", ColumnKind::NonNegative)],
        ));
        assert_eq!(line, Some(4));
        assert_eq!(
            message,
            "column 'trade' must be a non-negative number, found \"-3\""
        );
        let (_, _, message, _) = data_error(read(
            "trade\ninf\n",
            &[req("trade", ColumnKind::NonNegative)],
        ));
        assert_eq!(
            message,
            "column 'trade' must be a non-negative number, found \"inf\""
        );
        let (_, _, message, _) = data_error(read(
            "trade\nabc\n",
            &[req("trade", ColumnKind::NonNegative)],
        ));
        assert_eq!(
            message,
            "column 'trade' must be a non-negative number, found \"abc\""
        );
    }

    #[test]
    fn multi_line_quoted_field_shifts_lines() {
        let content = "note,x\n\"two\nlines\",1\nok,2\nbad,z\n";
        let (line, _, _, _) = data_error(read(content, &[req("x", ColumnKind::Numeric)]));
        assert_eq!(line, Some(5));
        let frame = read(
            "note,x\n\"two\nlines\",1\nok,2\n",
            &[
                req("note", ColumnKind::Factor),
                req("x", ColumnKind::Numeric),
            ],
        )
        .unwrap();
        assert_eq!(frame.line(0), 2);
        assert_eq!(frame.line(1), 4);
        assert_eq!(frame.factor("note").unwrap().levels[0], "two\nlines");
    }

    #[test]
    fn crlf_with_blank_lines_and_quoted_last_field() {
        let frame = read(
            "f,y\r\n\r\na,\"1\"\r\n\r\n\"b\",2\r\nc,\"\"\r\n",
            &[req("f", ColumnKind::Factor), req("y", ColumnKind::Numeric)],
        )
        .unwrap();
        assert_eq!(frame.factor("f").unwrap().levels, ["a", "b", "c"]);
        let y = frame.numeric("y").unwrap();
        assert_eq!(y[..2], [1.0, 2.0]);
        assert!(y[2].is_nan());
        assert_eq!((frame.line(0), frame.line(1), frame.line(2)), (3, 5, 6));
    }

    #[test]
    fn line_numbers_with_crlf() {
        let (line, _, _, _) = data_error(read(
            "x\r\n1\r\n2\r\nq\r\n",
            &[req("x", ColumnKind::Numeric)],
        ));
        assert_eq!(line, Some(4));
    }

    #[test]
    fn missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nope.csv");
        match Frame::read_csv(&path, &CsvOptions::default(), None) {
            Err(Error::Io { path: p, .. }) => assert_eq!(p, path),
            other => panic!("expected an I/O error, got {other:?}"),
        }
        assert!(matches!(
            Frame::read_header(&path, &CsvOptions::default()),
            Err(Error::Io { .. })
        ));
    }

    #[test]
    fn empty_file() {
        let (line, _, message, _) = data_error(read("", &[]));
        assert_eq!(line, None);
        assert_eq!(message, "file is empty: expected a header row");
    }

    #[test]
    fn empty_and_duplicate_header_names() {
        let (line, _, message, _) = data_error(read_all("a,,c\n1,2,3\n"));
        assert_eq!(line, Some(1));
        assert_eq!(message, "column 2 of the header has no name");
        let (line, column, message, _) = data_error(read_all("a,b,a\n1,2,3\n"));
        assert_eq!(line, Some(1));
        assert_eq!(column.as_deref(), Some("a"));
        assert_eq!(
            message,
            "duplicate column name 'a' in the header (columns 1 and 3)"
        );
    }

    #[test]
    fn cr_line_endings_are_reported() {
        let (line, _, message, _) = data_error(read_all("a,b\r1,2\r"));
        assert_eq!(line, Some(1));
        assert!(message.contains("carriage return"), "{message}");
    }

    #[test]
    fn corrupt_gzip_is_named_as_gzip() {
        let (_dir, path) = file("data.csv.gz", b"not gzip at all");
        let err = Frame::read_csv(&path, &CsvOptions::default(), None).unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with(&format!("{}: not a valid gzip stream: ", path.display())),
            "{text}"
        );
    }

    #[test]
    fn unknown_column() {
        let (line, _, message, hint) = data_error(read(
            "trade,fta,exporter\n1,0,A\n",
            &[req("ftaa", ColumnKind::Numeric)],
        ));
        assert_eq!(line, Some(1));
        assert_eq!(message, "unknown column 'ftaa'");
        assert_eq!(hint.as_deref(), Some("did you mean 'fta'?"));
        let (_, _, _, hint) = data_error(read(
            "trade,fta,exporter\n1,0,A\n",
            &[req("gdp", ColumnKind::Numeric)],
        ));
        assert_eq!(
            hint.as_deref(),
            Some("available columns: trade, fta, exporter")
        );
    }

    #[test]
    fn wrong_number_of_fields() {
        let (line, _, message, _) = data_error(read_all("a,b,c\n1,2,3\n1,2\n"));
        assert_eq!(line, Some(3));
        assert_eq!(
            message,
            "row has 2 fields but the header has 3 (columns: a, b, c)"
        );
        let (line, _, message, _) = data_error(read_all("a,b\r\n1,2\r\n\"x\ny\",2\r\n1,2,3\r\n"));
        assert_eq!(line, Some(5));
        assert!(message.starts_with("row has 3 fields but the header has 2"));
    }

    #[test]
    fn invalid_utf8_in_a_factor() {
        let (_dir, path) = file("data.csv", b"f\nok\nb\xFFd\n");
        let result = Frame::read_csv(
            &path,
            &CsvOptions::default(),
            Some(&[req("f", ColumnKind::Factor)]),
        );
        let (line, column, message, _) = data_error(result);
        assert_eq!(line, Some(3));
        assert_eq!(column.as_deref(), Some("f"));
        assert!(
            message.starts_with("column 'f' is not valid UTF-8"),
            "{message}"
        );
    }

    #[test]
    fn error_display() {
        let err = read("y\n1\nx\n", &[req("y", ColumnKind::Numeric)]).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("data.csv:3: column 'y' must be a number, found \"x\""),
            "{text}"
        );
        assert!(text.contains("\nhint: leave the cell empty"), "{text}");
    }

    #[test]
    fn frame_accessors_name_the_column() {
        let frame = read_all("y,f\n1,a\n").unwrap();
        let Err(Error::Data { message, hint, .. }) = frame.numeric("yy") else {
            panic!("expected an error")
        };
        assert_eq!(message, "unknown column 'yy'");
        assert_eq!(hint.as_deref(), Some("did you mean 'y'?"));
        let Err(Error::Data { message, .. }) = frame.numeric("f") else {
            panic!("expected an error")
        };
        assert!(message.starts_with("column 'f' holds text"), "{message}");
        assert!(frame.factor("zz").is_err());
        assert!(matches!(frame.factor("f"), Ok(Cow::Borrowed(_))));
        let y = frame.factor("y").unwrap();
        assert!(matches!(y, Cow::Owned(_)));
        assert_eq!(y.levels, ["1"]);
    }
}

#[cfg(test)]
mod guard_tests {
    use super::*;

    fn read_with(content: &[u8], options: &CsvOptions) -> Result<Frame> {
        Frame::read_csv_bytes(content, options, None)
    }

    fn message_and_line(result: Result<Frame>) -> (String, Option<u64>) {
        match result {
            Err(Error::Data {
                location, message, ..
            }) => (message, location.line),
            other => panic!("expected a data error, got {other:?}"),
        }
    }

    #[test]
    fn unterminated_quote_is_an_error_at_its_line() {
        // The quote opened on line 3 never closes: the csv crate alone reads
        // the rest of the file into that field and returns 2 of 5 rows.
        let content = b"id,note,y\n1,a,1\n2,\"broken, text,2\n3,c,3\n4,d,4\n5,e,5\n";
        let (message, line) = message_and_line(read_with(content, &CsvOptions::default()));
        assert_eq!(line, Some(3));
        assert!(message.starts_with("unterminated quote"), "{message}");
    }

    #[test]
    fn misplaced_quotes_are_errors_at_their_line() {
        for (content, line) in [
            (&b"a,b\n1,2\n3,ab\"c\n"[..], 3),
            (&b"a,b\n1,\"x\"y\n"[..], 2),
            (&b"a,b\n1,2\n\"x\ny\"z,1\n"[..], 4),
        ] {
            let (message, at) = message_and_line(read_with(content, &CsvOptions::default()));
            assert_eq!(at, Some(line), "{message}");
            assert!(message.contains("quote"), "{message}");
        }
        // Well-formed quoting still reads.
        let frame = read_with(
            b"a,b\r\n\"x \"\"y\"\"\",\"1\"\r\n\"\",2\r\n",
            &CsvOptions::default(),
        )
        .unwrap();
        assert_eq!(frame.factor("a").unwrap().levels, ["x \"y\""]);
        assert_eq!(frame.numeric("b").unwrap()[..], [1.0, 2.0]);
    }

    #[test]
    fn limits_are_errors_not_allocations() {
        let options = CsvOptions {
            max_field_bytes: 10,
            max_record_bytes: 40,
            max_total_bytes: 100,
            ..CsvOptions::default()
        };
        let (message, line) = message_and_line(read_with(b"a,b\n1,12345678901\n", &options));
        assert_eq!(line, Some(2));
        assert!(
            message.contains("longer than the limit of 10 bytes"),
            "{message}"
        );
        let (message, line) =
            message_and_line(read_with(b"a,b\n1,2\n\"12345\n67890\n1\",2\n", &options));
        assert_eq!(line, Some(3), "{message}");
        let wide = format!("a,b\n1,2\n{}\n", "1,".repeat(30));
        let (message, line) = message_and_line(read_with(wide.as_bytes(), &options));
        assert_eq!(line, Some(3));
        assert!(message.contains("row is longer"), "{message}");
        let long = format!("a,b\n{}", "1,2\n".repeat(40));
        let (message, _) = message_and_line(read_with(long.as_bytes(), &options));
        assert!(
            message.contains("larger than the limit of 100 bytes"),
            "{message}"
        );
    }

    #[test]
    fn endless_input_stops_at_the_limit() {
        let options = CsvOptions {
            max_total_bytes: 1 << 20,
            ..CsvOptions::default()
        };
        let zeros = std::io::repeat(0).take(u64::MAX);
        let err =
            Frame::read_csv_reader(zeros, Some(Path::new("zero")), &options, None).unwrap_err();
        assert!(err.to_string().starts_with("zero"), "{err}");
        let lines = std::io::repeat(b'1').take(u64::MAX);
        let err = Frame::read_csv_reader(lines, None, &CsvOptions::default(), None).unwrap_err();
        assert!(err.to_string().contains("limit of 1048576 bytes"), "{err}");
    }

    #[test]
    fn huge_header_is_checked_in_linear_time() {
        let names: Vec<String> = (0..200_000).map(|i| format!("c{i}")).collect();
        let mut content = names.join(",");
        content.push_str(",c7\n");
        let t = std::time::Instant::now();
        let (message, _) = message_and_line(read_with(content.as_bytes(), &CsvOptions::default()));
        assert!(message.contains("columns 8 and 200001"), "{message}");
        assert!(t.elapsed().as_secs_f64() < 5.0);
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn truncated_and_corrupt_gzip_are_named_as_gzip() {
        let dir = tempfile::tempdir().unwrap();
        let mut body = String::from("a,b,c,d,e,f,g,h\n");
        for i in 0..5000 {
            body.push_str(&format!("{i},{i},{i},{i},{i},{i},{i},{i}\n"));
        }
        let good = gzip(body.as_bytes());
        let cases: [(&str, Vec<u8>); 3] = [
            ("truncated", good[..good.len() / 2].to_vec()),
            ("no trailer", good[..good.len() - 4].to_vec()),
            ("flipped", {
                let mut g = good.clone();
                let k = g.len() / 2;
                g[k] ^= 0x55;
                g[k + 1] ^= 0xAA;
                g
            }),
        ];
        for (what, bytes) in cases {
            let path = dir.path().join("data.csv.gz");
            std::fs::write(&path, &bytes).unwrap();
            let err = Frame::read_csv(&path, &CsvOptions::default(), None).unwrap_err();
            let text = err.to_string();
            assert!(
                text.starts_with(&format!("{}: not a valid gzip stream: ", path.display())),
                "{what}: {text}"
            );
        }
    }

    /// Item 7 of issue 12: a file that changes while it is read must not
    /// mix two files. A FIFO delivers a different file on each open: the
    /// frame must come from the first alone.
    #[cfg(unix)]
    #[test]
    fn the_file_is_read_once_through_one_handle() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("data.csv");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !matches!(made, Ok(s) if s.success()) {
            eprintln!("mkfifo unavailable: test skipped");
            return;
        }
        let writer_path = fifo.clone();
        std::thread::spawn(move || {
            let first = b"name,y\nAAA,1\nBBB,2\nCCC,3\n";
            let second = b"name,y\nXXX,7\n";
            for (k, content) in [&first[..], &second[..]].into_iter().enumerate() {
                if k > 0 {
                    // Long after the reader has seen the end of the first file.
                    std::thread::sleep(std::time::Duration::from_millis(500));
                }
                let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(&writer_path) else {
                    return;
                };
                let _ = f.write_all(content);
            }
        });
        let frame = Frame::read_csv(&fifo, &CsvOptions::default(), None).unwrap();
        assert_eq!(frame.nrows(), 3);
        assert_eq!(frame.factor("name").unwrap().levels, ["AAA", "BBB", "CCC"]);
        assert_eq!(frame.numeric("y").unwrap(), [1.0, 2.0, 3.0]);
        // Unblock the writer's second open, if it is waiting.
        let _ = std::fs::File::open(&fifo);
    }
}
