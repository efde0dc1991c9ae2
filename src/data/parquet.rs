//! Apache Parquet → [`Frame`] (the `parquet` feature), with the `parquet`
//! crate's low-level column readers (no Arrow).
//!
//! The columns are the file's top-level fields. Numbers (booleans as 0/1,
//! signed and unsigned integers, decimals stored as integers, floats,
//! doubles) are numbers, a null or a `NaN` missing; strings (and
//! dictionary-encoded strings, what pandas writes for a categorical) are
//! text, read as CSV cells are (an empty string is missing). Nested,
//! repeated, `INT96` and fixed-length columns are refused when requested,
//! with what to write instead. Only the requested columns are decoded.
//!
//! The `parquet` crate reads pages whose lengths the file gives: every
//! range is checked against the file's length before it is allocated, and a
//! panic of the crate on a malformed file is caught and reported as an
//! error of the file.

use super::csv::{resolve, CellProblem};
use super::typed::Collector;
use super::{format_number, ColumnKind, ColumnRequest, Frame};
use crate::error::{Error, Location, Result};
use parquet::basic::{ConvertedType, LogicalType, Type as PhysicalType};
use parquet::column::reader::{ColumnReader, ColumnReaderImpl};
use parquet::data_type::DataType;
use parquet::file::reader::{ChunkReader, FileReader, Length, SerializedFileReader};
use parquet::schema::types::ColumnDescriptor;
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// Values decoded per call.
const BATCH: usize = 64 * 1024;

/// A file whose every range is checked against its length before it is
/// read, so a lying page length is an error, not an allocation.
struct Bounded {
    file: File,
    len: u64,
}

impl Length for Bounded {
    fn len(&self) -> u64 {
        self.len
    }
}

impl ChunkReader for Bounded {
    type T = BufReader<File>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        if start > self.len {
            return Err(parquet::errors::ParquetError::EOF(format!(
                "offset {start} is past the end of the file ({} bytes)",
                self.len
            )));
        }
        let mut file = self.file.try_clone()?;
        file.seek(SeekFrom::Start(start))?;
        Ok(BufReader::new(file))
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<bytes::Bytes> {
        let end = start.checked_add(length as u64);
        if end.is_none_or(|end| end > self.len) {
            return Err(parquet::errors::ParquetError::EOF(format!(
                "{length} bytes at offset {start} are past the end of the file ({} bytes)",
                self.len
            )));
        }
        let mut file = self.file.try_clone()?;
        file.seek(SeekFrom::Start(start))?;
        let mut buffer = Vec::new();
        buffer.try_reserve_exact(length).map_err(|_| {
            parquet::errors::ParquetError::General(format!("cannot allocate {length} bytes"))
        })?;
        file.take(length as u64).read_to_end(&mut buffer)?;
        if buffer.len() != length {
            return Err(parquet::errors::ParquetError::EOF(format!(
                "expected {length} bytes at offset {start}, read {}",
                buffer.len()
            )));
        }
        Ok(buffer.into())
    }
}

/// Reads a Parquet file, the columns chosen by `plan` from the field names.
pub(super) fn read_file<F>(file: File, path: &Path, plan: F) -> Result<Frame>
where
    F: FnOnce(&[String]) -> Result<Option<Vec<ColumnRequest>>>,
{
    let len = file
        .metadata()
        .map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?
        .len();
    read_source(Bounded { file, len }, Some(path.to_owned()), plan)
}

/// Reads Parquet from bytes in memory (no file name in errors).
pub(super) fn read_bytes<F>(bytes: &[u8], plan: F) -> Result<Frame>
where
    F: FnOnce(&[String]) -> Result<Option<Vec<ColumnRequest>>>,
{
    read_source(bytes::Bytes::copy_from_slice(bytes), None, plan)
}

fn location(file: &Option<PathBuf>, column: Option<&str>) -> Location {
    Location::new(file.clone(), None, column)
}

fn parquet_error(file: &Option<PathBuf>, column: Option<&str>, e: impl std::fmt::Display) -> Error {
    let text = e.to_string();
    if let Some(codec) = text.split("Disabled feature at compile time: ").nth(1) {
        return Error::data_hint(
            location(file, column),
            format!("the file's pages are compressed with {codec}, which this build does not decompress (it reads uncompressed, Snappy and gzip pages)"),
            "write the file with Snappy or gzip compression (pyarrow and pandas use Snappy by default; polars: write_parquet(..., compression=\"snappy\"))",
        );
    }
    Error::data_hint(
        location(file, column),
        format!("cannot read the Parquet file: {e}"),
        "the file is damaged or truncated, or was written by a tool this reader does not understand; try writing it again (e.g. with pyarrow)",
    )
}

/// Runs `f`, turning a panic of the `parquet` crate into an error.
fn guarded<T>(file: &Option<PathBuf>, f: impl FnOnce() -> Result<T>) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown failure".to_owned());
            Err(parquet_error(
                file,
                None,
                format!("the reader failed ({what})"),
            ))
        }
    }
}

fn read_source<C, F>(source: C, file: Option<PathBuf>, plan: F) -> Result<Frame>
where
    C: ChunkReader + 'static,
    F: FnOnce(&[String]) -> Result<Option<Vec<ColumnRequest>>>,
{
    let file_len = source.len();
    let (reader, names) = guarded(&file, || {
        let reader =
            SerializedFileReader::new(source).map_err(|e| parquet_error(&file, None, e))?;
        let names: Vec<String> = reader
            .metadata()
            .file_metadata()
            .schema_descr()
            .root_schema()
            .get_fields()
            .iter()
            .map(|f| f.name().to_owned())
            .collect();
        Ok((reader, names))
    })?;
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, name) in names.iter().enumerate() {
        if let Some(first) = seen.insert(name, i) {
            return Err(Error::data(
                location(&file, Some(name)),
                format!(
                    "duplicate column name '{name}' (columns {} and {})",
                    first + 1,
                    i + 1
                ),
            ));
        }
    }
    let requests = plan(&names)?;
    let planned = resolve(&names, requests.as_deref(), file.as_deref(), None)?;
    let nrows = reader.metadata().file_metadata().num_rows();
    let nrows = u64::try_from(nrows)
        .map_err(|_| parquet_error(&file, None, format!("a negative number of rows ({nrows})")))?;
    if nrows == 0 {
        return Err(Error::data_hint(
            location(&file, None),
            "no data rows: the file has columns but no rows",
            "check that the right file was given, and that it was written completely",
        ));
    }
    let columns = guarded(&file, || {
        let schema = reader.metadata().file_metadata().schema_descr_ptr();
        // The leaf of each top-level primitive field.
        let mut leaf_of: HashMap<usize, usize> = HashMap::new();
        for leaf in 0..schema.num_columns() {
            if schema.column(leaf).path().parts().len() == 1 {
                leaf_of.insert(schema.get_column_root_idx(leaf), leaf);
            }
        }
        let mut columns = Vec::with_capacity(planned.len());
        for p in &planned {
            let Some(&leaf) = leaf_of.get(&p.index) else {
                return Err(unsupported(
                    &file,
                    &p.name,
                    "a nested column (a struct, list or map)",
                ));
            };
            let descr = schema.column(leaf);
            columns.push(read_column(
                &reader, file_len, leaf, &descr, p.kind, &p.name, nrows, &file,
            )?);
        }
        Ok(columns)
    })?;
    let names = planned.into_iter().map(|p| p.name).collect();
    // The number of rows is the file's claim, checked against the values
    // of each column read, but not if none is: no allocation it cannot pay.
    let mut lines: Vec<u64> = Vec::new();
    lines
        .try_reserve_exact(usize::try_from(nrows).unwrap_or(usize::MAX))
        .map_err(|_| parquet_error(&file, None, format!("cannot allocate {nrows} rows")))?;
    lines.extend((0..nrows).map(|i| i + 2));
    Ok(Frame::from_parts(names, columns, file, lines))
}

fn unsupported(file: &Option<PathBuf>, column: &str, what: &str) -> Error {
    Error::data_hint(
        location(file, Some(column)),
        format!("column '{column}' is {what}, which gravity does not read"),
        "write it as a number (double or integer) or a string column",
    )
}

/// How the values of a leaf become cells.
#[derive(Clone, Copy)]
enum Conv {
    Signed,
    Unsigned,
    Decimal(i32),
    Text,
}

fn conversion(descr: &ColumnDescriptor) -> std::result::Result<Conv, String> {
    let logical = descr.logical_type_ref();
    let converted = descr.converted_type();
    let physical = descr.physical_type();
    match physical {
        PhysicalType::BOOLEAN | PhysicalType::FLOAT | PhysicalType::DOUBLE => Ok(Conv::Signed),
        PhysicalType::INT32 | PhysicalType::INT64 => Ok(match (logical, converted) {
            (Some(LogicalType::Integer(t)), _) if !t.is_signed => Conv::Unsigned,
            (_, ConvertedType::UINT_8 | ConvertedType::UINT_16)
            | (_, ConvertedType::UINT_32 | ConvertedType::UINT_64) => Conv::Unsigned,
            (Some(LogicalType::Decimal(_)), _) | (_, ConvertedType::DECIMAL) => {
                Conv::Decimal(descr.type_scale())
            }
            _ => Conv::Signed,
        }),
        PhysicalType::BYTE_ARRAY => match logical {
            None | Some(LogicalType::String | LogicalType::Enum | LogicalType::Json) => {
                Ok(Conv::Text)
            }
            Some(other) => Err(format!("a binary column of logical type {other:?}")),
        },
        PhysicalType::INT96 => Err("an INT96 (legacy timestamp) column".to_owned()),
        PhysicalType::FIXED_LEN_BYTE_ARRAY => Err(format!(
            "a fixed-length binary column{}",
            logical.map(|l| format!(" ({l:?})")).unwrap_or_default()
        )),
    }
}

#[allow(clippy::too_many_arguments)]
fn read_column<R: FileReader>(
    reader: &R,
    file_len: u64,
    leaf: usize,
    descr: &ColumnDescriptor,
    kind: ColumnKind,
    name: &str,
    nrows: u64,
    file: &Option<PathBuf>,
) -> Result<super::Column> {
    if descr.max_rep_level() > 0 {
        return Err(unsupported(file, name, "a repeated (list) column"));
    }
    let conv = conversion(descr).map_err(|what| unsupported(file, name, &what))?;
    let mut collector = match conv {
        Conv::Text => Collector::text(kind),
        _ => Collector::number(kind),
    };
    let max_def = descr.max_def_level();
    let mut row: u64 = 0;
    let perr = |e: parquet::errors::ParquetError| parquet_error(file, Some(name), e);
    for g in 0..reader.num_row_groups() {
        let group = reader.get_row_group(g).map_err(perr)?;
        let expected = u64::try_from(group.metadata().num_rows()).unwrap_or(0);
        let start = row;
        // The chunk must lie inside the file (the `parquet` crate asserts
        // it, a panic; the C++ reader checks it the same way).
        let chunk = group.metadata().column(leaf);
        let (from, size) = (
            chunk
                .dictionary_page_offset()
                .unwrap_or(chunk.data_page_offset()),
            chunk.compressed_size(),
        );
        let inside = u64::try_from(from)
            .ok()
            .zip(u64::try_from(size).ok())
            .and_then(|(f, n)| f.checked_add(n))
            .is_some_and(|end| end <= file_len);
        if !inside {
            return Err(parquet_error(
                file,
                Some(name),
                format!(
                    "row group {} says the column's {size} bytes start at offset {from}, outside the file of {file_len} bytes",
                    g + 1
                ),
            ));
        }
        let column = group.get_column_reader(leaf).map_err(perr)?;
        let mut push = |cell: Cell<'_>| -> Result<()> {
            let result = match cell {
                // A text collector takes a missing number as an empty cell.
                Cell::Null => collector.push_number(None),
                Cell::Number(v) => collector.push_number(if v.is_nan() { None } else { Some(v) }),
                Cell::Text(t) => collector.push_text(t),
            };
            if let Err(problem) = result {
                let shown = match cell {
                    Cell::Null => Vec::new(),
                    Cell::Number(v) => format_number(v).into_bytes(),
                    Cell::Text(t) => t.to_vec(),
                };
                return Err(cell_error(file, problem, row, name, &shown));
            }
            row += 1;
            Ok(())
        };
        match column {
            ColumnReader::BoolColumnReader(mut r) => drain(&mut r, max_def, &perr, |v| {
                push(v.map_or(Cell::Null, |b| Cell::Number(f64::from(u8::from(*b)))))
            }),
            ColumnReader::Int32ColumnReader(mut r) => drain(&mut r, max_def, &perr, |v| {
                push(v.map_or(Cell::Null, |&x| {
                    Cell::Number(match conv {
                        Conv::Unsigned => f64::from(x as u32),
                        Conv::Decimal(s) => f64::from(x) / 10f64.powi(s),
                        _ => f64::from(x),
                    })
                }))
            }),
            ColumnReader::Int64ColumnReader(mut r) => drain(&mut r, max_def, &perr, |v| {
                push(v.map_or(Cell::Null, |&x| {
                    Cell::Number(match conv {
                        Conv::Unsigned => (x as u64) as f64,
                        Conv::Decimal(s) => x as f64 / 10f64.powi(s),
                        _ => x as f64,
                    })
                }))
            }),
            ColumnReader::FloatColumnReader(mut r) => drain(&mut r, max_def, &perr, |v| {
                push(v.map_or(Cell::Null, |&x| Cell::Number(f64::from(x))))
            }),
            ColumnReader::DoubleColumnReader(mut r) => drain(&mut r, max_def, &perr, |v| {
                push(v.map_or(Cell::Null, |&x| Cell::Number(x)))
            }),
            ColumnReader::ByteArrayColumnReader(mut r) => drain(&mut r, max_def, &perr, |v| {
                push(v.map_or(Cell::Null, |x| Cell::Text(x.data())))
            }),
            ColumnReader::Int96ColumnReader(_) | ColumnReader::FixedLenByteArrayColumnReader(_) => {
                Err(unsupported(
                    file,
                    name,
                    "a column of a type gravity does not read",
                ))
            }
        }?;
        if row - start != expected {
            return Err(parquet_error(
                file,
                Some(name),
                format!(
                    "row group {} holds {} values of the column but says it has {expected} rows",
                    g + 1,
                    row - start
                ),
            ));
        }
    }
    if row != nrows {
        return Err(parquet_error(
            file,
            Some(name),
            format!("the column has {row} values but the file says it has {nrows} rows"),
        ));
    }
    collector
        .finish(None)
        .map_err(|problem| cell_error(file, problem, row.saturating_sub(1), name, b""))
}

/// One cell as decoded.
#[derive(Clone, Copy)]
enum Cell<'a> {
    Null,
    Number(f64),
    Text(&'a [u8]),
}

/// Decodes every value of one column chunk, calling `each` with the value
/// of each row (`None` for a null).
fn drain<T: DataType>(
    reader: &mut ColumnReaderImpl<T>,
    max_def: i16,
    perr: &dyn Fn(parquet::errors::ParquetError) -> Error,
    mut each: impl FnMut(Option<&T::T>) -> Result<()>,
) -> Result<()> {
    let mut defs: Vec<i16> = Vec::new();
    let mut values: Vec<T::T> = Vec::new();
    loop {
        defs.clear();
        values.clear();
        let (records, _, levels) = reader
            .read_records(
                BATCH,
                if max_def > 0 { Some(&mut defs) } else { None },
                None,
                &mut values,
            )
            .map_err(perr)?;
        if records == 0 {
            return Ok(());
        }
        if max_def > 0 {
            let mut next = values.iter();
            for &d in defs.iter().take(levels) {
                if d == max_def {
                    each(next.next())?;
                } else {
                    each(None)?;
                }
            }
        } else {
            for v in &values {
                each(Some(v))?;
            }
        }
    }
}

/// An error of a cell, naming the row (1-based).
fn cell_error(
    file: &Option<PathBuf>,
    problem: CellProblem,
    row: u64,
    column: &str,
    cell: &[u8],
) -> Error {
    match problem.into_error(file.as_deref(), row + 2, column, cell) {
        Error::Data {
            mut location,
            message,
            hint,
        } => {
            location.line = None;
            Error::Data {
                location,
                message: format!("{message} in row {}", row + 1),
                hint,
            }
        }
        other => other,
    }
}
