//! CSV → [`Frame`], with every cell error located by file, line and column.
//!
//! One pass over the file with [`csv::ByteRecord`]s: only the requested
//! columns are parsed, numbers straight from bytes, categories encoded to
//! dense `u32` codes as they are read (levels in order of first appearance).
//! Files whose name ends in `.gz` are decompressed on the fly.
//!
//! A missing cell is an empty field, `NA` or `.` (surrounding spaces
//! allowed). It becomes `NaN` in a numeric column and [`MISSING_CODE`] in a
//! factor; the row is kept, and the sample stage drops and counts it.

use super::{Column, Factor, Frame, MISSING_CODE};
use crate::error::{Error, Location, Result};
use crate::text;
use std::collections::HashMap;
use std::fs::File;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{BufReader, Read};
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

/// The hint attached to every bad numeric cell.
const MISSING_HINT: &str =
    "leave the cell empty to mark it missing; empty cells are dropped and counted";

/// Size of the CSV reader's buffer.
const BUFFER: usize = 1 << 20;

impl Frame {
    /// Reads the header of a CSV (or `.csv.gz`) file: the column names, with
    /// a UTF-8 byte-order mark and surrounding whitespace removed.
    ///
    /// Fails if the file cannot be read, is empty, or has an empty or
    /// duplicate column name.
    pub fn read_header(path: &Path, options: &CsvOptions) -> Result<Vec<String>> {
        let mut reader = open(path, options)?;
        read_header_row(&mut reader, path)
    }

    /// Reads a CSV (or `.csv.gz`) file: the requested columns, or every column
    /// (as [`ColumnKind::Auto`]) when `columns` is `None`.
    ///
    /// Columns come out in the order requested (header order for `None`); a
    /// name requested twice is read once. Every row is kept, missing cells
    /// included, and [`Frame::line`] gives the line of the file it came from.
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
    pub fn read_csv(
        path: &Path,
        options: &CsvOptions,
        columns: Option<&[ColumnRequest]>,
    ) -> Result<Frame> {
        let mut reader = open(path, options)?;
        let header = read_header_row(&mut reader, path)?;
        let plan = resolve(&header, columns, path)?;
        let mut builders: Vec<Builder> = plan.iter().map(|p| Builder::new(p.kind)).collect();
        let lines = scan(&mut reader, path, &header, &plan, &mut builders)?;

        // Auto columns that met a non-number are read again, as factors, so
        // that every level keeps the exact text of the file.
        let redo: Vec<usize> = builders
            .iter()
            .enumerate()
            .filter(|(_, b)| matches!(b, Builder::Auto { failed: true, .. }))
            .map(|(i, _)| i)
            .collect();
        if !redo.is_empty() {
            let mut reader = open(path, options)?;
            read_header_row(&mut reader, path)?;
            let plan2: Vec<Planned> = redo.iter().map(|&i| plan[i].clone()).collect();
            let mut factors: Vec<Builder> = redo
                .iter()
                .map(|_| Builder::new(ColumnKind::Factor))
                .collect();
            scan(&mut reader, path, &header, &plan2, &mut factors)?;
            for (i, b) in redo.into_iter().zip(factors) {
                builders[i] = b;
            }
        }

        let names = plan.into_iter().map(|p| p.name).collect();
        let columns = builders.into_iter().map(Builder::finish).collect();
        Ok(Frame::from_parts(
            names,
            columns,
            Some(path.to_owned()),
            lines,
        ))
    }
}

type CsvReader = csv::Reader<Box<dyn Read>>;

fn open(path: &Path, options: &CsvOptions) -> Result<CsvReader> {
    let file = File::open(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    let input: Box<dyn Read> = if path.extension().is_some_and(|e| e == "gz") {
        Box::new(flate2::read::MultiGzDecoder::new(BufReader::with_capacity(
            BUFFER, file,
        )))
    } else {
        Box::new(file)
    };
    Ok(csv::ReaderBuilder::new()
        .delimiter(options.delimiter)
        // Records end at '\n' and a '\r' before it is removed by `cell`: the
        // `csv` crate's own CRLF mode counts the lines of CRLF files wrong.
        .terminator(csv::Terminator::Any(b'\n'))
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(BUFFER)
        .from_reader(input))
}

/// Turns an error of the `csv` crate into ours.
fn csv_error(path: &Path, err: csv::Error) -> Error {
    let line = err.position().map(csv::Position::line);
    let message = err.to_string();
    match err.into_kind() {
        csv::ErrorKind::Io(source) => Error::Io {
            path: path.to_owned(),
            source,
        },
        _ => Error::data(
            Location::new(Some(path.to_owned()), line, None),
            format!("cannot read the CSV: {message}"),
        ),
    }
}

/// Reads the next record that is not a blank line.
fn read_record(reader: &mut CsvReader, path: &Path, record: &mut csv::ByteRecord) -> Result<bool> {
    loop {
        let more = reader
            .read_byte_record(record)
            .map_err(|e| csv_error(path, e))?;
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

fn read_header_row(reader: &mut CsvReader, path: &Path) -> Result<Vec<String>> {
    let mut record = csv::ByteRecord::new();
    if !read_record(reader, path, &mut record)? {
        return Err(Error::data(
            Location::new(Some(path.to_owned()), None, None),
            "file is empty: expected a header row",
        ));
    }
    let line = record.position().map_or(1, csv::Position::line);
    let location = |column: Option<&str>| Location::new(Some(path.to_owned()), Some(line), column);
    let mut names: Vec<String> = Vec::with_capacity(record.len());
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
        if name.is_empty() {
            return Err(Error::data_hint(
                location(None),
                format!("column {} of the header has no name", i + 1),
                "give every column a name in the header row",
            ));
        }
        if let Some(first) = names.iter().position(|n| n == name) {
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
        names.push(name.to_owned());
    }
    Ok(names)
}

/// A column to read: its position in the header, name and kind.
#[derive(Debug, Clone)]
struct Planned {
    index: usize,
    name: String,
    kind: ColumnKind,
}

/// Matches the requests against the header; a name requested twice is read
/// once, with the stricter kind.
fn resolve(
    header: &[String],
    requests: Option<&[ColumnRequest]>,
    path: &Path,
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
    let mut plan: Vec<Planned> = Vec::with_capacity(requests.len());
    for request in requests {
        let Some(index) = header.iter().position(|h| *h == request.name) else {
            return Err(Error::data_hint(
                Location::new(Some(path.to_owned()), Some(1), None),
                format!("unknown column '{}'", request.name),
                text::unknown_column_hint(&request.name, header),
            ));
        };
        match plan.iter_mut().find(|p| p.index == index) {
            Some(p) => p.kind = stricter(p.kind, request.kind),
            None => plan.push(Planned {
                index,
                name: request.name.clone(),
                kind: request.kind,
            }),
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

/// Reads every remaining row of `reader`, feeding each planned column to
/// its builder; returns the editor line of each row.
fn scan(
    reader: &mut CsvReader,
    path: &Path,
    header: &[String],
    plan: &[Planned],
    builders: &mut [Builder],
) -> Result<Vec<u64>> {
    let mut record = csv::ByteRecord::new();
    let mut lines = Vec::new();
    while read_record(reader, path, &mut record)? {
        let line = record.position().map_or(0, csv::Position::line);
        if record.len() != header.len() {
            return Err(Error::data_hint(
                Location::new(Some(path.to_owned()), Some(line), None),
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
                return Err(problem.into_error(path, line, &p.name, value));
            }
        }
        lines.push(line);
    }
    Ok(lines)
}

/// Why a cell was rejected.
enum CellProblem {
    NotNumber,
    NotFinite,
    Negative,
    InvalidUtf8,
    TooManyLevels,
}

impl CellProblem {
    fn into_error(self, path: &Path, line: u64, column: &str, cell: &[u8]) -> Error {
        let location = Location::new(Some(path.to_owned()), Some(line), Some(column));
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
        }
    }
}

/// A cell for an error message: quoted, escaped, at most 40 characters.
fn quote(cell: &[u8]) -> String {
    let text = String::from_utf8_lossy(cell);
    if text.chars().count() > 40 {
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
struct FxHasher(u64);

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

/// Accumulates one column while the file is read.
enum Builder {
    Numeric {
        values: Vec<f64>,
        non_negative: bool,
    },
    /// Numeric until a cell is not a finite number; then `failed`, and the
    /// column is read again as a factor.
    Auto { values: Vec<f64>, failed: bool },
    Factor {
        codes: Vec<u32>,
        map: LevelMap,
        levels: Vec<String>,
    },
}

impl Builder {
    fn new(kind: ColumnKind) -> Builder {
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
                failed: false,
            },
            ColumnKind::Factor => Builder::Factor {
                codes: Vec::new(),
                map: LevelMap::default(),
                levels: Vec::new(),
            },
        }
    }

    #[inline]
    fn push(&mut self, cell: &[u8]) -> std::result::Result<(), CellProblem> {
        match self {
            Builder::Numeric {
                values,
                non_negative,
            } => match parse_number(cell) {
                Number::Missing => values.push(f64::NAN),
                Number::Value(v) if *non_negative && v < 0.0 => return Err(CellProblem::Negative),
                Number::Value(v) => values.push(v),
                Number::NotFinite if *non_negative => return Err(CellProblem::Negative),
                Number::NotFinite => return Err(CellProblem::NotFinite),
                Number::Text if *non_negative => return Err(CellProblem::Negative),
                Number::Text => return Err(CellProblem::NotNumber),
            },
            Builder::Auto { values, failed } => {
                if !*failed {
                    match parse_number(cell) {
                        Number::Missing => values.push(f64::NAN),
                        Number::Value(v) => values.push(v),
                        Number::NotFinite | Number::Text => {
                            *failed = true;
                            *values = Vec::new();
                        }
                    }
                }
            }
            Builder::Factor { codes, map, levels } => {
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
                    levels.push(level.to_owned());
                    map.insert(cell.into(), code);
                    codes.push(code);
                }
            }
        }
        Ok(())
    }

    fn finish(self) -> Column {
        match self {
            Builder::Numeric { values, .. } | Builder::Auto { values, .. } => {
                Column::Numeric(values)
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
        let options = CsvOptions { delimiter: b';' };
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
    fn header_only_is_an_empty_frame() {
        let frame = read("y,x\n", &[req("y", ColumnKind::Numeric)]).unwrap();
        assert_eq!(frame.nrows(), 0);
        assert_eq!(frame.numeric("y").unwrap().len(), 0);
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
    fn corrupt_gzip_is_an_io_error() {
        let (_dir, path) = file("data.csv.gz", b"not gzip at all");
        assert!(matches!(
            Frame::read_csv(&path, &CsvOptions::default(), None),
            Err(Error::Io { .. })
        ));
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
