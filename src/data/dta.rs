//! Stata `.dta` → [`Frame`]: format releases 113, 114 and 115 (Stata 8 to
//! 12: a binary header) and 117, 118 and 119 (Stata 13 and later: sections
//! in XML-like tags), either byte order, as StataCorp documents them
//! (`help dta`).
//!
//! One pass through one stream, front to back, no seeking: the reader
//! follows the sections in the order the file holds them (header,
//! descriptors, data, then strLs and value labels), so a `.dta.gz` is read
//! as it is decompressed. Every count the file gives (variables,
//! observations, lengths) is checked against the bytes that actually
//! follow before anything is allocated for it, so a truncated or lying file
//! is an error naming the file and the byte offset, never a panic or an
//! allocation the input does not pay for.
//!
//! What becomes of the cells:
//! - `byte`, `int`, `long`, `float`, `double` are numbers; Stata's missing
//!   values, the system missing `.` and the extended `.a`–`.z` (every value
//!   above the type's largest non-missing value, as Stata itself decides),
//!   are missing (`NaN`).
//! - `strN` and `strL` are text, read by the CSV reader's rules: an empty
//!   string is missing (Stata's missing string), text requested as numbers
//!   must parse as numbers. Text of releases before 118 that is not UTF-8 is
//!   read as Windows-1252, what Stata wrote then.
//! - A numeric column with value labels (what `encode` makes) is a number
//!   column, and read as a factor its levels are named by the labels.

use super::csv::{resolve, CellProblem};
use super::typed::{Collector, Labels};
use super::{ColumnKind, ColumnRequest, Frame};
use crate::error::{Error, Location, Result};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;

/// The releases this reader reads, for messages.
const SUPPORTED: &str =
    "113, 114 and 115 (Stata 8 to 12) and 117, 118 and 119 (Stata 13 and later)";

/// More variables than any Stata writes (Stata/MP's limit is 120,000; a
/// release-119 strL reference has 24 bits for the variable).
const MAX_VARIABLES: u64 = 1 << 24;

/// Size of the read buffer.
const BUFFER: usize = 1 << 20;

/// A variable's storage type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Byte,
    Int,
    Long,
    Float,
    Double,
    /// A fixed-width string of this many bytes.
    Str(usize),
    /// A long string: an 8-byte reference into the strL section.
    StrL,
}

impl Ty {
    /// Bytes of one cell.
    fn width(self) -> usize {
        match self {
            Ty::Byte => 1,
            Ty::Int => 2,
            Ty::Long | Ty::Float => 4,
            Ty::Double | Ty::StrL => 8,
            Ty::Str(n) => n,
        }
    }

    fn is_text(self) -> bool {
        matches!(self, Ty::Str(_) | Ty::StrL)
    }
}

/// What the header says about the layout.
struct Layout {
    release: u16,
    big_endian: bool,
    nvar: u64,
    nobs: u64,
    /// The offsets of the sections (117+).
    map: Option<[u64; 14]>,
}

impl Layout {
    fn xml(&self) -> bool {
        self.release >= 117
    }

    /// Bytes of a variable name and of a value-label name.
    fn name_len(&self) -> u64 {
        if self.release >= 118 {
            129
        } else {
            33
        }
    }
}

/// The stream: position, limits and the file's byte order, with every
/// read checked.
struct Src<R: Read> {
    inner: BufReader<R>,
    pos: u64,
    limit: u64,
    file: Option<PathBuf>,
    gzip: bool,
    big_endian: bool,
}

impl<R: Read> Src<R> {
    fn location(&self, column: Option<&str>) -> Location {
        Location::new(self.file.clone(), None, column)
    }

    /// A data error at byte offset `at`.
    fn error(&self, at: u64, column: Option<&str>, message: impl std::fmt::Display) -> Error {
        Error::data(
            self.location(column),
            format!("{message} (at byte offset {at})"),
        )
    }

    /// A data error at byte offset `at`, with a hint.
    fn error_hint(
        &self,
        at: u64,
        column: Option<&str>,
        message: impl std::fmt::Display,
        hint: impl Into<String>,
    ) -> Error {
        Error::data_hint(
            self.location(column),
            format!("{message} (at byte offset {at})"),
            hint,
        )
    }

    fn truncated(&self, at: u64, what: &str) -> Error {
        self.error_hint(
            at,
            None,
            format!("the file ends inside {what}"),
            "the file is truncated (an interrupted download or copy?), or its header is wrong",
        )
    }

    fn io_error(&self, e: std::io::Error) -> Error {
        use std::io::ErrorKind::{InvalidData, InvalidInput, UnexpectedEof};
        if self.gzip && matches!(e.kind(), InvalidData | InvalidInput | UnexpectedEof) {
            return Error::data(self.location(None), format!("not a valid gzip stream: {e}"));
        }
        match &self.file {
            Some(path) => Error::Io {
                path: path.clone(),
                source: e,
            },
            None => Error::data(self.location(None), format!("cannot read: {e}")),
        }
    }

    /// Fails if reading `n` more bytes would pass the limit.
    fn check_limit(&self, n: u64) -> Result<()> {
        if self.pos.saturating_add(n) > self.limit {
            return Err(Error::data_hint(
                self.location(None),
                format!("the input is larger than the limit of {} bytes", self.limit),
                "raise the limit (--max-bytes, CsvOptions::max_total_bytes) if the file is right",
            ));
        }
        Ok(())
    }

    /// Fills `buf` from the stream; `what` names the part for errors.
    fn fill(&mut self, buf: &mut [u8], what: &str) -> Result<()> {
        self.fill_with(buf, &|| what.to_owned())
    }

    /// As [`Src::fill`], the part named only if there is an error.
    fn fill_with(&mut self, buf: &mut [u8], what: &dyn Fn() -> String) -> Result<()> {
        self.check_limit(buf.len() as u64)?;
        let at = self.pos;
        let mut done = 0;
        while done < buf.len() {
            match self.inner.read(&mut buf[done..]) {
                Ok(0) => return Err(self.truncated(at + done as u64, &what())),
                Ok(n) => done += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.io_error(e)),
            }
        }
        self.pos += buf.len() as u64;
        Ok(())
    }

    /// Skips `n` bytes.
    fn skip(&mut self, n: u64, what: &str) -> Result<()> {
        self.skip_with(n, &|| what.to_owned())
    }

    /// As [`Src::skip`], the part named only if there is an error.
    fn skip_with(&mut self, n: u64, what: &dyn Fn() -> String) -> Result<()> {
        self.check_limit(n)?;
        let at = self.pos;
        let mut left = n;
        while left > 0 {
            let available = match self.inner.fill_buf() {
                Ok(b) => b.len(),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.io_error(e)),
            };
            if available == 0 {
                return Err(self.truncated(at + (n - left), &what()));
            }
            let k = available.min(usize::try_from(left).unwrap_or(usize::MAX));
            self.inner.consume(k);
            left -= k as u64;
            self.pos += k as u64;
        }
        Ok(())
    }

    /// Reads `n` bytes into a vector that grows with the bytes actually
    /// read, so a lying length costs nothing before the file ends.
    fn bytes(&mut self, n: u64, what: &str) -> Result<Vec<u8>> {
        self.check_limit(n)?;
        let mut out = Vec::new();
        let mut chunk = [0u8; 1 << 16];
        let mut left = n;
        while left > 0 {
            let k = chunk.len().min(usize::try_from(left).unwrap_or(usize::MAX));
            self.fill(&mut chunk[..k], what)?;
            out.try_reserve(k).map_err(|_| {
                Error::data(
                    self.location(None),
                    format!("out of memory reading {what} of {n} bytes"),
                )
            })?;
            out.extend_from_slice(&chunk[..k]);
            left -= k as u64;
        }
        Ok(out)
    }

    /// True at the end of the stream.
    fn at_end(&mut self) -> Result<bool> {
        loop {
            match self.inner.fill_buf() {
                Ok(b) => return Ok(b.is_empty()),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.io_error(e)),
            }
        }
    }

    fn u8(&mut self, what: &str) -> Result<u8> {
        let mut b = [0u8; 1];
        self.fill(&mut b, what)?;
        Ok(b[0])
    }

    fn u16(&mut self, what: &str) -> Result<u16> {
        let mut b = [0u8; 2];
        self.fill(&mut b, what)?;
        Ok(if self.big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    }

    fn u32(&mut self, what: &str) -> Result<u32> {
        let mut b = [0u8; 4];
        self.fill(&mut b, what)?;
        Ok(if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    fn u64(&mut self, what: &str) -> Result<u64> {
        let mut b = [0u8; 8];
        self.fill(&mut b, what)?;
        Ok(if self.big_endian {
            u64::from_be_bytes(b)
        } else {
            u64::from_le_bytes(b)
        })
    }

    /// A length stored as a signed 32-bit integer, which must not be negative.
    fn len32(&mut self, what: &str) -> Result<u64> {
        let at = self.pos;
        let v = self.u32(what)? as i32;
        u64::try_from(v).map_err(|_| self.error(at, None, format!("{what} is negative ({v})")))
    }

    /// Reads the exact bytes of `tag`.
    fn tag(&mut self, tag: &str) -> Result<()> {
        let at = self.pos;
        let mut buf = vec![0u8; tag.len()];
        self.fill(&mut buf, tag)?;
        if buf != tag.as_bytes() {
            return Err(self.error_hint(
                at,
                None,
                format!("expected {tag}, found {}", show(&buf)),
                "the file is damaged, or its header gives wrong counts or lengths",
            ));
        }
        Ok(())
    }

    /// Reads `open` (true) or `close` (false), whichever comes; `open` is
    /// the shorter and `close` does not start with it.
    fn open_or_close(&mut self, open: &str, close: &str) -> Result<bool> {
        let at = self.pos;
        let mut buf = vec![0u8; open.len()];
        self.fill(&mut buf, open)?;
        if buf == open.as_bytes() {
            return Ok(true);
        }
        if close.as_bytes().starts_with(&buf) {
            let rest = &close[open.len()..];
            let mut tail = vec![0u8; rest.len()];
            self.fill(&mut tail, close)?;
            if tail == rest.as_bytes() {
                return Ok(false);
            }
            buf.extend_from_slice(&tail);
        }
        Err(self.error_hint(
            at,
            None,
            format!("expected {open} or {close}, found {}", show(&buf)),
            "the file is damaged, or a length inside it is wrong",
        ))
    }
}

/// Bytes for a message: printable ASCII as text, the rest as hex.
fn show(bytes: &[u8]) -> String {
    let b = &bytes[..bytes.len().min(24)];
    if b.iter().all(|c| c.is_ascii_graphic() || *c == b' ') {
        format!("{:?}", String::from_utf8_lossy(b))
    } else {
        let hex: Vec<String> = b.iter().map(|c| format!("{c:02x}")).collect();
        format!("bytes {}", hex.join(" "))
    }
}

/// Text as Stata wrote it: UTF-8 from release 118 on; before, UTF-8 if it
/// is, else Windows-1252 (the encoding of Stata for Windows, of which
/// Latin-1 is a subset). Cut at the first NUL.
fn text(bytes: &[u8], release: u16) -> Cow<'_, [u8]> {
    let bytes = match bytes.iter().position(|&b| b == 0) {
        Some(k) => &bytes[..k],
        None => bytes,
    };
    if release >= 118 || bytes.is_ascii() || std::str::from_utf8(bytes).is_ok() {
        return Cow::Borrowed(bytes);
    }
    let mut out = String::with_capacity(bytes.len() + bytes.len() / 2);
    for &b in bytes {
        out.push(windows_1252(b));
    }
    Cow::Owned(out.into_bytes())
}

/// The character of a Windows-1252 byte (the five undefined bytes map to
/// the control characters of the same number, as Windows does).
fn windows_1252(b: u8) -> char {
    const HIGH: [u16; 32] = [
        0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
        0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
        0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
    ];
    match b {
        0x80..=0x9F => char::from_u32(u32::from(HIGH[usize::from(b - 0x80)])).unwrap_or('\u{FFFD}'),
        _ => char::from(b),
    }
}

/// A name (of a variable or a value label) as text.
fn name_text(bytes: &[u8], release: u16) -> Option<String> {
    String::from_utf8(text(bytes, release).into_owned()).ok()
}

/// Reads a `.dta` stream: the requested columns, chosen by `plan` from the
/// variable names (all of them, as [`ColumnKind::Auto`], when it returns
/// `None`). `len` is the stream's length where it is known (a file, bytes),
/// to check the header's number of observations before the data are read.
pub(super) fn read<R: Read, F>(
    reader: R,
    file: Option<PathBuf>,
    gzip: bool,
    len: Option<u64>,
    max_bytes: u64,
    plan: F,
) -> Result<Frame>
where
    F: FnOnce(&[String]) -> Result<Option<Vec<ColumnRequest>>>,
{
    let mut src = Src {
        inner: BufReader::with_capacity(BUFFER, reader),
        pos: 0,
        limit: max_bytes,
        file,
        gzip,
        big_endian: false,
    };
    let mut first = [0u8; 1];
    src.fill(&mut first, "the header")?;
    let (layout, vars) = if first[0] == b'<' {
        read_xml_descriptors(&mut src)?
    } else {
        read_old_descriptors(&mut src, first[0])?
    };
    let names: Vec<String> = vars.iter().map(|v| v.name.clone()).collect();
    let requests = plan(&names)?;
    let planned = resolve(&names, requests.as_deref(), src.file.as_deref(), None)?;
    if vars.is_empty() {
        return Err(src.error(src.pos, None, "the file has no variables"));
    }
    if layout.nobs == 0 {
        return Err(Error::data_hint(
            src.location(None),
            "no observations: the file has variables but no rows",
            "check that the right file was given, and that it was saved completely",
        ));
    }

    // The cells to read in each row: the bytes to skip before each planned
    // variable, and after the last.
    let mut slot_of: HashMap<usize, usize> = HashMap::new();
    for (slot, p) in planned.iter().enumerate() {
        slot_of.insert(p.index, slot);
    }
    let mut segments: Vec<(u64, usize, usize)> = Vec::new();
    let mut gap = 0u64;
    for (j, var) in vars.iter().enumerate() {
        match slot_of.get(&j) {
            Some(&slot) => {
                segments.push((gap, j, slot));
                gap = 0;
            }
            None => gap += var.ty.width() as u64,
        }
    }
    let mut slots: Vec<Slot> = planned
        .iter()
        .map(|p| {
            let ty = vars[p.index].ty;
            if ty == Ty::StrL {
                Slot::StrL(Vec::new())
            } else if ty.is_text() {
                Slot::Direct(Collector::text(p.kind))
            } else {
                Slot::Direct(Collector::number(p.kind))
            }
        })
        .collect();

    if layout.xml() {
        src.tag("<data>")?;
    }
    let data_at = src.pos;
    check_data_size(&src, &layout, &vars, data_at, len)?;
    let mut cell = [0u8; 2045];
    let mut obs: u64 = 0;
    while obs < layout.nobs {
        for &(skip, j, slot) in &segments {
            let var = &vars[j];
            let part = || observation_part(obs, layout.nobs, Some(&var.name));
            if skip > 0 {
                src.skip_with(skip, &part)?;
            }
            let w = var.ty.width();
            src.fill_with(&mut cell[..w], &part)?;
            let bytes = &cell[..w];
            let pushed = match &mut slots[slot] {
                Slot::Direct(c) => match var.ty {
                    Ty::Str(_) => c.push_text(&text(bytes, layout.release)),
                    ty => c.push_number(number(ty, bytes, layout.big_endian)),
                },
                Slot::StrL(refs) => {
                    let key = strl_ref(bytes, layout.release, layout.big_endian);
                    refs.try_reserve(1)
                        .map_err(|_| CellProblem::OutOfMemory)
                        .map(|()| refs.push(key))
                }
            };
            if let Err(problem) = pushed {
                let shown = match var.ty {
                    Ty::Str(_) => text(bytes, layout.release).into_owned(),
                    ty => number(ty, bytes, layout.big_endian)
                        .map(super::format_number)
                        .unwrap_or_default()
                        .into_bytes(),
                };
                return Err(cell_error(&src, problem, obs, &var.name, &shown));
            }
        }
        if gap > 0 {
            src.skip_with(gap, &|| observation_part(obs, layout.nobs, None))?;
        }
        obs += 1;
    }
    if layout.xml() {
        src.tag("</data>").map_err(|e| {
            with_hint(
                e,
                format!(
                    "the header says {} observations, and the data section (from byte offset {data_at}) does not end after them: the header is wrong or the file damaged",
                    layout.nobs
                ),
            )
        })?;
    }

    // strLs (117+), kept only where a requested column refers to them.
    let wanted: HashSet<(u32, u64)> = slots
        .iter()
        .filter_map(|s| match s {
            Slot::StrL(refs) => Some(refs.iter().copied()),
            Slot::Direct(_) => None,
        })
        .flatten()
        .filter(|&key| key != (0, 0))
        .collect();
    let mut strls: HashMap<(u32, u64), Vec<u8>> = HashMap::new();
    if layout.xml() {
        src.tag("<strls>")?;
        while src.open_or_close("GSO", "</strls>")? {
            let at = src.pos - 3;
            let v = src.u32("a strL")?;
            let o = if layout.release == 117 {
                u64::from(src.u32("a strL")?)
            } else {
                src.u64("a strL")?
            };
            let t = src.u8("a strL")?;
            if t != 129 && t != 130 {
                return Err(src.error(
                    at,
                    None,
                    format!("a strL has the unknown type {t} (expected 129 or 130)"),
                ));
            }
            let len = u64::from(src.u32("a strL")?);
            if wanted.contains(&(v, o)) {
                let mut bytes = src.bytes(len, "a strL")?;
                if t == 130 && bytes.last() == Some(&0) {
                    bytes.pop();
                }
                strls.insert((v, o), bytes);
            } else {
                src.skip(len, "a strL")?;
            }
        }
    }

    // Value labels, kept for the numeric columns read as factors.
    let wanted_labels: HashSet<&str> = planned
        .iter()
        .filter(|p| p.kind == ColumnKind::Factor && !vars[p.index].ty.is_text())
        .map(|p| vars[p.index].label.as_str())
        .filter(|l| !l.is_empty())
        .collect();
    let mut labels: HashMap<String, Labels> = HashMap::new();
    if layout.xml() {
        src.tag("<value_labels>")?;
        while src.open_or_close("<lbl>", "</value_labels>")? {
            read_label_table(&mut src, &layout, &wanted_labels, &mut labels)?;
            src.tag("</lbl>")?;
        }
        src.tag("</stata_dta>")?;
    } else {
        while !src.at_end()? {
            read_label_table(&mut src, &layout, &wanted_labels, &mut labels).map_err(|e| {
                with_hint(
                    e,
                    format!(
                        "value labels follow the data; if these bytes are data, the header's number of observations ({}) is wrong",
                        layout.nobs
                    ),
                )
            })?;
        }
    }

    let mut columns = Vec::with_capacity(slots.len());
    for (slot, p) in slots.into_iter().zip(&planned) {
        let var = &vars[p.index];
        let collector = match slot {
            Slot::Direct(c) => c,
            Slot::StrL(refs) => {
                let mut c = Collector::text(p.kind);
                for (i, key) in refs.into_iter().enumerate() {
                    let bytes: &[u8] = if key == (0, 0) {
                        b""
                    } else {
                        match strls.get(&key) {
                            Some(b) => b,
                            None => {
                                return Err(Error::data_hint(
                                    src.location(Some(&var.name)),
                                    format!(
                                        "observation {} refers to the strL (v = {}, o = {}), which the file does not hold",
                                        i + 1,
                                        key.0,
                                        key.1
                                    ),
                                    "the file is damaged",
                                ))
                            }
                        }
                    };
                    let cell = text(bytes, layout.release);
                    if let Err(problem) = c.push_text(&cell) {
                        return Err(cell_error(&src, problem, i as u64, &var.name, &cell));
                    }
                }
                c
            }
        };
        let rows = collector.len() as u64;
        let column = collector
            .finish(labels.get(&var.label))
            .map_err(|problem| cell_error(&src, problem, rows.saturating_sub(1), &var.name, b""))?;
        columns.push(column);
    }
    let names = planned.into_iter().map(|p| p.name).collect();
    let lines = (0..layout.nobs).map(|i| i + 2).collect();
    Ok(Frame::from_parts(names, columns, src.file, lines))
}

/// Checks the header's number of observations against the bytes the file
/// has after the descriptors, and (117+) against the map, where the map is
/// right about where the data start.
fn check_data_size<R: Read>(
    src: &Src<R>,
    layout: &Layout,
    vars: &[Var],
    data_at: u64,
    len: Option<u64>,
) -> Result<()> {
    let width: u64 = vars.iter().map(|v| v.ty.width() as u64).sum();
    let need = layout.nobs.checked_mul(width);
    let says = format!(
        "the header says {} observations of {width} bytes{}",
        layout.nobs,
        need.map(|n| format!(" ({n} bytes of data)"))
            .unwrap_or_default()
    );
    let hint = "the file is truncated, or its header gives a wrong number of observations";
    if let Some(len) = len {
        let available = len.saturating_sub(data_at);
        if need.is_none_or(|n| n > available) {
            return Err(src.error_hint(
                data_at,
                None,
                format!("{says}, but only {available} bytes follow the descriptors"),
                hint,
            ));
        }
    }
    if let (Some(map), Some(need)) = (layout.map, need) {
        // map[9] is where `<data>` starts, map[10] where `<strls>` does.
        if map[9].checked_add(6) == Some(data_at) && map[10] >= data_at {
            let between = map[10] - data_at;
            if between != need.saturating_add(7) {
                return Err(src.error_hint(
                    data_at,
                    None,
                    format!(
                        "{says}, but the file's map puts {} bytes of data between <data> and </data>",
                        between.saturating_sub(7)
                    ),
                    hint,
                ));
            }
        }
    }
    Ok(())
}

/// One requested column while the data are read.
enum Slot {
    Direct(Collector),
    /// strL references, resolved once the strL section is read.
    StrL(Vec<(u32, u64)>),
}

/// A variable from the descriptors.
struct Var {
    name: String,
    ty: Ty,
    /// The name of its value-label set; empty for none.
    label: String,
}

fn observation_part(obs: u64, nobs: u64, variable: Option<&str>) -> String {
    match variable {
        Some(v) => format!(
            "variable '{v}' of observation {} of the {nobs} the header gives",
            obs + 1
        ),
        None => format!("observation {} of the {nobs} the header gives", obs + 1),
    }
}

/// An error of a cell, naming the observation (1-based, as Stata's `_n`).
fn cell_error<R: Read>(
    src: &Src<R>,
    problem: CellProblem,
    obs: u64,
    column: &str,
    cell: &[u8],
) -> Error {
    match problem.into_error(src.file.as_deref(), obs.saturating_add(2), column, cell) {
        Error::Data {
            mut location,
            message,
            hint,
        } => {
            location.line = None;
            Error::Data {
                location,
                message: format!("{message} in observation {}", obs + 1),
                hint,
            }
        }
        other => other,
    }
}

/// `err` with `hint` instead of its own.
fn with_hint(err: Error, hint: String) -> Error {
    match err {
        Error::Data {
            location, message, ..
        } => Error::Data {
            location,
            message,
            hint: Some(hint),
        },
        other => other,
    }
}

/// A numeric cell; `None` for Stata's missing values.
fn number(ty: Ty, b: &[u8], big_endian: bool) -> Option<f64> {
    macro_rules! get {
        ($t:ty, $n:expr) => {{
            let mut a = [0u8; $n];
            a.copy_from_slice(&b[..$n]);
            if big_endian {
                <$t>::from_be_bytes(a)
            } else {
                <$t>::from_le_bytes(a)
            }
        }};
    }
    match ty {
        // Above the largest non-missing value is missing: `.` and `.a`–`.z`.
        Ty::Byte => {
            let v = b[0] as i8;
            (v <= 100).then(|| f64::from(v))
        }
        Ty::Int => {
            let v = get!(i16, 2);
            (v <= 32_740).then(|| f64::from(v))
        }
        Ty::Long => {
            let v = get!(i32, 4);
            (v <= 2_147_483_620).then(|| f64::from(v))
        }
        Ty::Float => {
            let v = get!(f32, 4);
            // The largest float is 2^127 (1 - 2^-24) (0x7effffff); `.` is 2^127.
            (v <= f32::from_bits(0x7eff_ffff)).then(|| f64::from(v))
        }
        Ty::Double => {
            let v = get!(f64, 8);
            // The largest double is 2^1023 (1 - 2^-53) (0x7fdfffffffffffff); `.` is 2^1023.
            (v <= f64::from_bits(0x7fdf_ffff_ffff_ffff)).then_some(v)
        }
        Ty::Str(_) | Ty::StrL => None,
    }
}

/// The (variable, observation) a strL cell refers to: two 4-byte integers
/// in release 117, 2 + 6 bytes in 118, 3 + 5 bytes in 119, each in the
/// file's byte order.
fn strl_ref(b: &[u8], release: u16, big_endian: bool) -> (u32, u64) {
    let v_len = match release {
        117 => 4,
        118 => 2,
        _ => 3,
    };
    let int = |bytes: &[u8]| -> u64 {
        let mut v = 0u64;
        if big_endian {
            for &x in bytes {
                v = (v << 8) | u64::from(x);
            }
        } else {
            for &x in bytes.iter().rev() {
                v = (v << 8) | u64::from(x);
            }
        }
        v
    };
    // At most 4 bytes: fits.
    let v = int(&b[..v_len]) as u32;
    (v, int(&b[v_len..8]))
}

/// Reads one value-label set (`len`, name, padding, table) and keeps it if
/// it is wanted.
fn read_label_table<R: Read>(
    src: &mut Src<R>,
    layout: &Layout,
    wanted: &HashSet<&str>,
    labels: &mut HashMap<String, Labels>,
) -> Result<()> {
    let at = src.pos;
    let len = src.len32("a value-label set")?;
    let mut name = vec![0u8; layout.name_len() as usize];
    src.fill(&mut name, "a value-label set")?;
    let name = name_text(&name, layout.release)
        .ok_or_else(|| src.error(at, None, "a value-label set's name is not valid UTF-8"))?;
    src.skip(3, "a value-label set")?;
    let table_at = src.pos;
    if !wanted.contains(name.as_str()) {
        return src.skip(len, "a value-label set");
    }
    let table = src.bytes(len, &format!("the value labels '{name}'"))?;
    let parsed = parse_label_table(&table, src.big_endian, layout.release).map_err(|message| {
        src.error(table_at, None, format!("value labels '{name}': {message}"))
    })?;
    labels.insert(name, parsed);
    Ok(())
}

/// A value-label table: `n`, `txtlen`, `n` text offsets, `n` values, the
/// text.
fn parse_label_table(
    t: &[u8],
    big_endian: bool,
    release: u16,
) -> std::result::Result<Labels, String> {
    let int = |at: usize| -> Option<i32> {
        let b: [u8; 4] = t.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if big_endian {
            i32::from_be_bytes(b)
        } else {
            i32::from_le_bytes(b)
        })
    };
    let (Some(n), Some(txtlen)) = (int(0), int(4)) else {
        return Err(format!(
            "a table of {} bytes is too short for its counts",
            t.len()
        ));
    };
    let (Ok(n), Ok(txtlen)) = (usize::try_from(n), usize::try_from(txtlen)) else {
        return Err(format!("negative counts (n = {n}, txtlen = {txtlen})"));
    };
    let need = n
        .checked_mul(8)
        .and_then(|x| x.checked_add(8))
        .and_then(|x| x.checked_add(txtlen));
    if need.is_none_or(|need| need > t.len()) {
        return Err(format!(
            "{n} labels with {txtlen} bytes of text do not fit in a table of {} bytes",
            t.len()
        ));
    }
    let txt = &t[8 + 8 * n..8 + 8 * n + txtlen];
    let mut out = Labels::new();
    for i in 0..n {
        // In range: checked against `need` above.
        let (Some(off), Some(value)) = (int(8 + 4 * i), int(8 + 4 * n + 4 * i)) else {
            return Err(format!("entry {} is outside the table", i + 1));
        };
        let off = usize::try_from(off)
            .ok()
            .filter(|&o| o < txtlen)
            .ok_or_else(|| {
                format!(
                    "the text of entry {} (value {value}) starts at {off}, outside the {txtlen} bytes of text",
                    i + 1
                )
            })?;
        let label = String::from_utf8(text(&txt[off..], release).into_owned())
            .map_err(|_| format!("the label of value {value} is not valid UTF-8"))?;
        out.insert(value, label);
    }
    Ok(out)
}

/// Reads descriptors of releases 113–115, whose first byte (the release)
/// is already read.
fn read_old_descriptors<R: Read>(src: &mut Src<R>, release: u8) -> Result<(Layout, Vec<Var>)> {
    let mut start = [release, 0, 0, 0];
    src.fill(&mut start[1..], "the header")?;
    let [release, order, filetype, _] = start;
    // Releases 102 to 115 start with the release, the byte order (1: most
    // significant byte first, 2: least) and the file type 1.
    if !(102..=115).contains(&release) || !matches!(order, 1 | 2) || filetype != 1 {
        return Err(src.error_hint(
            0,
            None,
            format!(
                "not a Stata file: it starts with {}, neither <stata_dta> nor a release byte, byte order and file type",
                show(&start)
            ),
            "give a Stata .dta file (release 113 or later), a CSV or a Parquet file",
        ));
    }
    let release = u16::from(release);
    if release < 113 {
        return Err(unsupported(src, release));
    }
    src.big_endian = order == 1;
    let nvar = u64::from(src.u16("the header")?);
    let nobs = u64::from(src.u32("the header")?);
    src.skip(81 + 18, "the header")?;
    let layout = Layout {
        release,
        big_endian: src.big_endian,
        nvar,
        nobs,
        map: None,
    };
    let mut types = Vec::new();
    for j in 0..nvar {
        let at = src.pos;
        let code = src.u8("the variable types")?;
        let ty = match code {
            1..=244 => Ty::Str(usize::from(code)),
            251 => Ty::Byte,
            252 => Ty::Int,
            253 => Ty::Long,
            254 => Ty::Float,
            255 => Ty::Double,
            other => {
                return Err(src.error(
                    at,
                    None,
                    format!("variable {} has the unknown type code {other}", j + 1),
                ))
            }
        };
        types.push(ty);
    }
    let names = read_names(src, &layout, "the variable names")?;
    src.skip(2 * (nvar + 1), "the sort order")?;
    let fmt = if release == 113 { 12 } else { 49 };
    src.skip(fmt * nvar, "the display formats")?;
    let value_labels = read_label_names(src, &layout)?;
    src.skip(81 * nvar, "the variable labels")?;
    // Expansion fields: type (1 byte) and length (4), until a type 0.
    loop {
        let t = src.u8("the expansion fields")?;
        let len = src.len32("an expansion field's length")?;
        if t == 0 {
            break;
        }
        src.skip(len, "an expansion field")?;
    }
    let vars = make_vars(src, types, names, value_labels)?;
    Ok((layout, vars))
}

/// Reads the header and descriptors of releases 117–119, whose first byte
/// (`<`) is already read.
fn read_xml_descriptors<R: Read>(src: &mut Src<R>) -> Result<(Layout, Vec<Var>)> {
    let at = src.pos - 1;
    let mut head = [0u8; 10];
    src.fill(&mut head, "the header")?;
    if &head != b"stata_dta>" {
        return Err(src.error_hint(
            at,
            None,
            format!(
                "not a Stata file: expected <stata_dta>, found {}",
                show(&[b"<".as_slice(), &head].concat())
            ),
            "give a Stata .dta file (release 113 or later), a CSV or a Parquet file",
        ));
    }
    src.tag("<header>")?;
    src.tag("<release>")?;
    let release_at = src.pos;
    let mut digits = [0u8; 3];
    src.fill(&mut digits, "the release")?;
    let release: u16 = std::str::from_utf8(&digits)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| {
            src.error(
                release_at,
                None,
                format!("the release is not a number: {}", show(&digits)),
            )
        })?;
    if !(117..=119).contains(&release) {
        return Err(unsupported(src, release));
    }
    src.tag("</release>")?;
    src.tag("<byteorder>")?;
    let order_at = src.pos;
    let mut order = [0u8; 3];
    src.fill(&mut order, "the byte order")?;
    src.big_endian = match &order {
        b"MSF" => true,
        b"LSF" => false,
        _ => {
            return Err(src.error(
                order_at,
                None,
                format!("unknown byte order {} (expected MSF or LSF)", show(&order)),
            ))
        }
    };
    src.tag("</byteorder>")?;
    src.tag("<K>")?;
    let nvar_at = src.pos;
    let nvar = if release == 119 {
        u64::from(src.u32("the number of variables")?)
    } else {
        u64::from(src.u16("the number of variables")?)
    };
    if nvar > MAX_VARIABLES {
        return Err(src.error(
            nvar_at,
            None,
            format!("the header says {nvar} variables, more than any Stata writes"),
        ));
    }
    src.tag("</K>")?;
    src.tag("<N>")?;
    let nobs = if release == 117 {
        u64::from(src.u32("the number of observations")?)
    } else {
        src.u64("the number of observations")?
    };
    src.tag("</N>")?;
    src.tag("<label>")?;
    let label_len = if release == 117 {
        u64::from(src.u8("the data label")?)
    } else {
        u64::from(src.u16("the data label")?)
    };
    src.skip(label_len, "the data label")?;
    src.tag("</label>")?;
    src.tag("<timestamp>")?;
    let stamp = u64::from(src.u8("the time stamp")?);
    src.skip(stamp, "the time stamp")?;
    src.tag("</timestamp>")?;
    src.tag("</header>")?;
    // The map gives the offset of each section; the sections are read in
    // order, so it is only skipped.
    src.tag("<map>")?;
    let mut map = [0u64; 14];
    for m in &mut map {
        *m = src.u64("the map")?;
    }
    src.tag("</map>")?;
    let layout = Layout {
        release,
        big_endian: src.big_endian,
        nvar,
        nobs,
        map: Some(map),
    };
    src.tag("<variable_types>")?;
    let mut types = Vec::new();
    for j in 0..nvar {
        let at = src.pos;
        let code = src.u16("the variable types")?;
        let ty = match code {
            1..=2045 => Ty::Str(usize::from(code)),
            32768 => Ty::StrL,
            65526 => Ty::Double,
            65527 => Ty::Float,
            65528 => Ty::Long,
            65529 => Ty::Int,
            65530 => Ty::Byte,
            other => {
                return Err(src.error(
                    at,
                    None,
                    format!("variable {} has the unknown type code {other}", j + 1),
                ))
            }
        };
        types
            .try_reserve(1)
            .map_err(|_| src.error(at, None, "out of memory"))?;
        types.push(ty);
    }
    src.tag("</variable_types>")?;
    src.tag("<varnames>")?;
    let names = read_names(src, &layout, "the variable names")?;
    src.tag("</varnames>")?;
    src.tag("<sortlist>")?;
    let sort_entry = if release == 119 { 4 } else { 2 };
    src.skip(sort_entry * (nvar + 1), "the sort order")?;
    src.tag("</sortlist>")?;
    src.tag("<formats>")?;
    let fmt = if release == 117 { 49 } else { 57 };
    src.skip(fmt * nvar, "the display formats")?;
    src.tag("</formats>")?;
    src.tag("<value_label_names>")?;
    let value_labels = read_label_names(src, &layout)?;
    src.tag("</value_label_names>")?;
    src.tag("<variable_labels>")?;
    let varlab = if release == 117 { 81 } else { 321 };
    src.skip(varlab * nvar, "the variable labels")?;
    src.tag("</variable_labels>")?;
    src.tag("<characteristics>")?;
    while src.open_or_close("<ch>", "</characteristics>")? {
        let len = u64::from(src.u32("a characteristic")?);
        src.skip(len, "a characteristic")?;
        src.tag("</ch>")?;
    }
    let vars = make_vars(src, types, names, value_labels)?;
    Ok((layout, vars))
}

fn unsupported<R: Read>(src: &Src<R>, release: u16) -> Error {
    let advice = if release < 113 {
        "save it from Stata 8 or later, or as CSV"
    } else {
        "save it with `saveold` for Stata 13 to 18 (release 117 to 119), or as CSV"
    };
    Error::data_hint(
        src.location(None),
        format!("Stata file format release {release} is not supported (supported: {SUPPORTED})"),
        advice,
    )
}

/// `nvar` names of the layout's name length.
fn read_names<R: Read>(src: &mut Src<R>, layout: &Layout, what: &str) -> Result<Vec<String>> {
    let mut names: Vec<String> = Vec::new();
    let mut buf = vec![0u8; layout.name_len() as usize];
    for j in 0..layout.nvar {
        let at = src.pos;
        src.fill(&mut buf, what)?;
        let name = name_text(&buf, layout.release).ok_or_else(|| {
            src.error(
                at,
                None,
                format!("the name of variable {} is not valid UTF-8", j + 1),
            )
        })?;
        names
            .try_reserve(1)
            .map_err(|_| src.error(at, None, "out of memory"))?;
        names.push(name);
    }
    Ok(names)
}

/// The value-label set name of each variable.
fn read_label_names<R: Read>(src: &mut Src<R>, layout: &Layout) -> Result<Vec<String>> {
    read_names(src, layout, "the value-label names")
}

/// Variables from their descriptors; names must be present and distinct.
fn make_vars<R: Read>(
    src: &Src<R>,
    types: Vec<Ty>,
    names: Vec<String>,
    labels: Vec<String>,
) -> Result<Vec<Var>> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (j, name) in names.iter().enumerate() {
        if name.is_empty() {
            return Err(Error::data_hint(
                src.location(None),
                format!("variable {} has no name", j + 1),
                "the file is damaged",
            ));
        }
        if let Some(first) = seen.insert(name, j) {
            return Err(Error::data_hint(
                src.location(Some(name)),
                format!(
                    "duplicate variable name '{name}' (variables {} and {})",
                    first + 1,
                    j + 1
                ),
                "the file is damaged",
            ));
        }
    }
    Ok(types
        .into_iter()
        .zip(names)
        .zip(labels)
        .map(|((ty, name), label)| Var { name, ty, label })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Column, MISSING_CODE};

    /// A variable of a test file: name, type, value-label set, cells (raw
    /// bytes in the file's byte order).
    struct TestVar {
        name: &'static str,
        ty: Ty,
        label: &'static str,
        cells: Vec<Vec<u8>>,
    }

    /// A value-label set of a test file: name, (value, label) pairs.
    type LabelSet = (&'static str, Vec<(i32, &'static [u8])>);
    type LabelSets = [LabelSet];

    /// Encodes numbers in a byte order.
    struct Enc(bool);

    impl Enc {
        fn i16(&self, v: i16) -> Vec<u8> {
            if self.0 {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
            .to_vec()
        }
        fn i32(&self, v: i32) -> Vec<u8> {
            if self.0 {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
            .to_vec()
        }
        fn u16(&self, v: u16) -> Vec<u8> {
            if self.0 {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
            .to_vec()
        }
        fn u32(&self, v: u32) -> Vec<u8> {
            if self.0 {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
            .to_vec()
        }
        fn u64(&self, v: u64) -> Vec<u8> {
            if self.0 {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
            .to_vec()
        }
        fn f32(&self, bits: u32) -> Vec<u8> {
            self.u32(bits)
        }
        fn f64(&self, bits: u64) -> Vec<u8> {
            self.u64(bits)
        }
    }

    fn fixed(text: &[u8], len: usize) -> Vec<u8> {
        let mut b = text.to_vec();
        b.resize(len, 0);
        b
    }

    /// A value-label table.
    fn label_table(e: &Enc, entries: &[(i32, &[u8])]) -> Vec<u8> {
        let mut txt = Vec::new();
        let mut offs = Vec::new();
        for (_, t) in entries {
            offs.push(txt.len() as i32);
            txt.extend_from_slice(t);
            txt.push(0);
        }
        let mut b = e.i32(entries.len() as i32);
        b.extend(e.i32(txt.len() as i32));
        for o in offs {
            b.extend(e.i32(o));
        }
        for (v, _) in entries {
            b.extend(e.i32(*v));
        }
        b.extend(txt);
        b
    }

    fn old_code(ty: Ty) -> u8 {
        match ty {
            Ty::Byte => 251,
            Ty::Int => 252,
            Ty::Long => 253,
            Ty::Float => 254,
            Ty::Double => 255,
            Ty::Str(n) => n as u8,
            Ty::StrL => unreachable!(),
        }
    }

    fn new_code(ty: Ty) -> u16 {
        match ty {
            Ty::Byte => 65530,
            Ty::Int => 65529,
            Ty::Long => 65528,
            Ty::Float => 65527,
            Ty::Double => 65526,
            Ty::Str(n) => n as u16,
            Ty::StrL => 32768,
        }
    }

    /// A file of release 113–115, as StataCorp documents it.
    fn old_file(release: u8, big: bool, vars: &[TestVar], labels: &LabelSets) -> Vec<u8> {
        let e = Enc(big);
        let nobs = vars[0].cells.len();
        let mut b = vec![release, if big { 1 } else { 2 }, 1, 0];
        b.extend(e.u16(vars.len() as u16));
        b.extend(e.u32(nobs as u32));
        b.extend(fixed(b"a test file", 81));
        b.extend(fixed(b" 1 Jan 2026 12:00", 18));
        for v in vars {
            b.push(old_code(v.ty));
        }
        for v in vars {
            b.extend(fixed(v.name.as_bytes(), 33));
        }
        b.extend(vec![0; 2 * (vars.len() + 1)]);
        let fmt = if release == 113 { 12 } else { 49 };
        for _ in vars {
            b.extend(fixed(b"%9.0g", fmt));
        }
        for v in vars {
            b.extend(fixed(v.label.as_bytes(), 33));
        }
        b.extend(vec![0; 81 * vars.len()]);
        // One expansion field, then the end.
        b.push(1);
        b.extend(e.u32(3));
        b.extend(b"abc");
        b.push(0);
        b.extend(e.u32(0));
        for i in 0..nobs {
            for v in vars {
                b.extend(&v.cells[i]);
            }
        }
        for (name, entries) in labels {
            let t = label_table(&e, entries);
            b.extend(e.i32(t.len() as i32));
            b.extend(fixed(name.as_bytes(), 33));
            b.extend([0, 0, 0]);
            b.extend(t);
        }
        b
    }

    /// A file of release 117–119, with strLs `(v, o, text)`.
    fn xml_file(
        release: u16,
        big: bool,
        vars: &[TestVar],
        strls: &[(u32, u64, &[u8])],
        labels: &LabelSets,
    ) -> Vec<u8> {
        let e = Enc(big);
        let nobs = vars[0].cells.len() as u64;
        let name_len = if release >= 118 { 129 } else { 33 };
        let mut b = b"<stata_dta><header><release>".to_vec();
        b.extend(release.to_string().as_bytes());
        b.extend(b"</release><byteorder>");
        b.extend(if big { b"MSF" } else { b"LSF" });
        b.extend(b"</byteorder><K>");
        if release == 119 {
            b.extend(e.u32(vars.len() as u32));
        } else {
            b.extend(e.u16(vars.len() as u16));
        }
        b.extend(b"</K><N>");
        if release == 117 {
            b.extend(e.u32(nobs as u32));
        } else {
            b.extend(e.u64(nobs));
        }
        b.extend(b"</N><label>");
        if release == 117 {
            b.push(4);
        } else {
            b.extend(e.u16(4));
        }
        b.extend(b"test</label><timestamp>");
        b.push(17);
        b.extend(b" 1 Jan 2026 12:00</timestamp></header><map>");
        // A map of zeros: the reader does not need it.
        b.extend(vec![0; 14 * 8]);
        b.extend(b"</map><variable_types>");
        for v in vars {
            b.extend(e.u16(new_code(v.ty)));
        }
        b.extend(b"</variable_types><varnames>");
        for v in vars {
            b.extend(fixed(v.name.as_bytes(), name_len));
        }
        b.extend(b"</varnames><sortlist>");
        b.extend(vec![
            0;
            (if release == 119 { 4 } else { 2 }) * (vars.len() + 1)
        ]);
        b.extend(b"</sortlist><formats>");
        for _ in vars {
            b.extend(fixed(b"%9.0g", if release == 117 { 49 } else { 57 }));
        }
        b.extend(b"</formats><value_label_names>");
        for v in vars {
            b.extend(fixed(v.label.as_bytes(), name_len));
        }
        b.extend(b"</value_label_names><variable_labels>");
        b.extend(vec![
            0;
            (if release == 117 { 81 } else { 321 }) * vars.len()
        ]);
        b.extend(b"</variable_labels><characteristics><ch>");
        b.extend(e.u32(2));
        b.extend(b"xy</ch></characteristics><data>");
        for i in 0..nobs as usize {
            for v in vars {
                b.extend(&v.cells[i]);
            }
        }
        b.extend(b"</data><strls>");
        for (v, o, text) in strls {
            b.extend(b"GSO");
            b.extend(e.u32(*v));
            if release == 117 {
                b.extend(e.u32(*o as u32));
            } else {
                b.extend(e.u64(*o));
            }
            b.push(130);
            b.extend(e.u32(text.len() as u32 + 1));
            b.extend(*text);
            b.push(0);
        }
        b.extend(b"</strls><value_labels>");
        for (name, entries) in labels {
            let t = label_table(&e, entries);
            b.extend(b"<lbl>");
            b.extend(e.i32(t.len() as i32));
            b.extend(fixed(name.as_bytes(), name_len));
            b.extend([0, 0, 0]);
            b.extend(t);
            b.extend(b"</lbl>");
        }
        b.extend(b"</value_labels></stata_dta>");
        b
    }

    /// A strL reference of a release, in a byte order.
    fn strl_cell(release: u16, big: bool, v: u32, o: u64) -> Vec<u8> {
        let v_len = match release {
            117 => 4,
            118 => 2,
            _ => 3,
        };
        let mut out = Vec::new();
        let be = |x: u64, n: usize| (0..n).rev().map(move |k| (x >> (8 * k)) as u8);
        let le = |x: u64, n: usize| (0..n).map(move |k| (x >> (8 * k)) as u8);
        if big {
            out.extend(be(u64::from(v), v_len));
            out.extend(be(o, 8 - v_len));
        } else {
            out.extend(le(u64::from(v), v_len));
            out.extend(le(o, 8 - v_len));
        }
        out
    }

    /// The numeric variables of every type, with the extremes Stata allows
    /// and its missing values `.`, `.a` and `.z`.
    fn numeric_vars(e: &Enc) -> Vec<TestVar> {
        vec![
            TestVar {
                name: "b",
                ty: Ty::Byte,
                label: "",
                cells: vec![
                    vec![100],
                    vec![(-127i8) as u8],
                    vec![101],
                    vec![102],
                    vec![127],
                ],
            },
            TestVar {
                name: "i",
                ty: Ty::Int,
                label: "",
                cells: vec![
                    e.i16(32_740),
                    e.i16(-32_767),
                    e.i16(32_741),
                    e.i16(32_742),
                    e.i16(32_767),
                ],
            },
            TestVar {
                name: "l",
                ty: Ty::Long,
                label: "",
                cells: vec![
                    e.i32(2_147_483_620),
                    e.i32(-2_147_483_647),
                    e.i32(2_147_483_621),
                    e.i32(2_147_483_622),
                    e.i32(i32::MAX),
                ],
            },
            TestVar {
                name: "f",
                ty: Ty::Float,
                label: "",
                cells: vec![
                    e.f32(0x7eff_ffff),
                    e.f32((-1.5f32).to_bits()),
                    e.f32(0x7f00_0000),
                    e.f32(0x7f00_0800),
                    e.f32(0x7f00_d000),
                ],
            },
            TestVar {
                name: "d",
                ty: Ty::Double,
                label: "",
                cells: vec![
                    e.f64(0x7fdf_ffff_ffff_ffff),
                    e.f64((-0.25f64).to_bits()),
                    e.f64(0x7fe0_0000_0000_0000),
                    e.f64(0x7fe0_0100_0000_0000),
                    e.f64(0x7fe0_1a00_0000_0000),
                ],
            },
            TestVar {
                name: "g",
                ty: Ty::Int,
                label: "country",
                cells: vec![e.i16(2), e.i16(1), e.i16(3), e.i16(2), e.i16(32_742)],
            },
        ]
    }

    fn country_labels() -> Vec<LabelSet> {
        vec![
            ("unused", vec![(1, b"nothing".as_slice())]),
            (
                "country",
                vec![(1, b"DEU".as_slice()), (2, b"FRA".as_slice())],
            ),
        ]
    }

    fn read_all(bytes: &[u8]) -> Frame {
        read(
            bytes,
            None,
            false,
            Some(bytes.len() as u64),
            u64::MAX,
            |_| Ok(None),
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn read_as(bytes: &[u8], name: &str, kind: ColumnKind) -> Result<Frame> {
        let req = vec![ColumnRequest {
            name: name.to_owned(),
            kind,
        }];
        read(bytes, None, false, None, u64::MAX, |_| Ok(Some(req)))
    }

    fn check_numbers(frame: &Frame, what: &str) {
        let col = |n: &str| frame.numeric(n).unwrap().to_vec();
        let missing3 = |v: &[f64]| v[2].is_nan() && v[3].is_nan() && v[4].is_nan();
        assert_eq!(col("b")[..2], [100.0, -127.0], "{what}");
        assert_eq!(col("i")[..2], [32_740.0, -32_767.0], "{what}");
        assert_eq!(col("l")[..2], [2_147_483_620.0, -2_147_483_647.0], "{what}");
        assert_eq!(
            col("f")[..2],
            [f64::from(f32::from_bits(0x7eff_ffff)), -1.5],
            "{what}"
        );
        assert_eq!(
            col("d")[..2],
            [f64::from_bits(0x7fdf_ffff_ffff_ffff), -0.25],
            "{what}"
        );
        for n in ["b", "i", "l", "f", "d"] {
            assert!(missing3(&col(n)), "{what}: {n}");
        }
        assert_eq!(col("g")[..4], [2.0, 1.0, 3.0, 2.0], "{what}");
        assert!(col("g")[4].is_nan(), "{what}");
    }

    fn check_labels(bytes: &[u8], what: &str) {
        let frame = read_as(bytes, "g", ColumnKind::Factor).unwrap();
        let g = frame.factor("g").unwrap();
        // First appearance; 3 has no label; `.a` is missing.
        assert_eq!(g.levels, ["FRA", "DEU", "3"], "{what}");
        assert_eq!(g.codes, [0, 1, 2, 0, MISSING_CODE], "{what}");
        // A numeric column without labels as a factor: its numbers.
        let frame = read_as(bytes, "b", ColumnKind::Factor).unwrap();
        assert_eq!(frame.factor("b").unwrap().levels, ["100", "-127"], "{what}");
    }

    #[test]
    fn releases_113_to_115_in_both_byte_orders() {
        for release in [113, 114, 115] {
            for big in [false, true] {
                let e = Enc(big);
                let mut vars = numeric_vars(&e);
                vars.push(TestVar {
                    name: "s",
                    ty: Ty::Str(5),
                    label: "",
                    // Windows-1252: the euro sign and é; an empty string is
                    // missing; a full-width string has no NUL.
                    cells: vec![
                        fixed(b"\x80 \xe9", 5),
                        fixed(b"", 5),
                        b"abcde".to_vec(),
                        fixed(b"x", 5),
                        fixed(b"x", 5),
                    ],
                });
                let bytes = old_file(release, big, &vars, &country_labels());
                let what = format!("release {release}, big-endian {big}");
                let frame = read_all(&bytes);
                assert_eq!(frame.names(), ["b", "i", "l", "f", "d", "g", "s"], "{what}");
                assert_eq!(frame.nrows(), 5);
                check_numbers(&frame, &what);
                let s = frame.factor("s").unwrap();
                assert_eq!(s.levels, ["€ é", "abcde", "x"], "{what}");
                assert_eq!(s.codes, [0, MISSING_CODE, 1, 2, 2], "{what}");
                check_labels(&bytes, &what);
            }
        }
    }

    #[test]
    fn releases_117_to_119_in_both_byte_orders_with_strls() {
        for release in [117, 118, 119] {
            for big in [false, true] {
                let e = Enc(big);
                let mut vars = numeric_vars(&e);
                // strL cells: (v, o) of the variable (7) and observation;
                // (0, 0) is the empty string; the fourth refers to the
                // first's strL.
                vars.push(TestVar {
                    name: "t",
                    ty: Ty::StrL,
                    label: "",
                    cells: vec![
                        strl_cell(release, big, 7, 1),
                        strl_cell(release, big, 0, 0),
                        strl_cell(release, big, 7, 3),
                        strl_cell(release, big, 7, 1),
                        strl_cell(release, big, 7, 5),
                    ],
                });
                vars.push(TestVar {
                    name: "s",
                    ty: Ty::Str(4),
                    label: "",
                    cells: vec![
                        fixed(b"K\xc3\xb6", 4),
                        fixed(b"", 4),
                        fixed(b"1", 4),
                        fixed(b"2", 4),
                        fixed(b"3", 4),
                    ],
                });
                let long = b"a long string ".repeat(40);
                let strls: Vec<(u32, u64, &[u8])> = vec![
                    (7, 1, b"first"),
                    (7, 3, &long),
                    (7, 5, b"fifth"),
                    (3, 9, b"unused"),
                ];
                let bytes = xml_file(release, big, &vars, &strls, &country_labels());
                let what = format!("release {release}, big-endian {big}");
                let frame = read_all(&bytes);
                check_numbers(&frame, &what);
                let t = frame.factor("t").unwrap();
                assert_eq!(
                    t.levels,
                    ["first", std::str::from_utf8(&long).unwrap(), "fifth"],
                    "{what}"
                );
                assert_eq!(t.codes, [0, MISSING_CODE, 1, 0, 2], "{what}");
                let s = frame.factor("s").unwrap();
                assert_eq!(s.levels, ["Kö", "1", "2", "3"], "{what}");
                check_labels(&bytes, &what);
                // Text requested as numbers fails as in CSV, naming the
                // observation.
                let frame = read_as(&bytes, "s", ColumnKind::Numeric);
                let text = frame.unwrap_err().to_string();
                assert!(
                    text.contains("column 's' must be a number, found \"Kö\" in observation 1"),
                    "{text}"
                );
            }
        }
    }

    #[test]
    fn text_of_numbers_reads_as_numbers_under_auto() {
        let vars = vec![TestVar {
            name: "code",
            ty: Ty::Str(3),
            label: "",
            cells: vec![fixed(b"01", 3), fixed(b"", 3), fixed(b"7.5", 3)],
        }];
        let frame = read_all(&old_file(114, false, &vars, &[]));
        let v = frame.numeric("code").unwrap();
        assert_eq!((v[0], v[2]), (1.0, 7.5));
        assert!(v[1].is_nan());
    }

    #[test]
    fn limits_counts_and_empty_files() {
        let e = Enc(false);
        let vars = numeric_vars(&e);
        let bytes = old_file(114, false, &vars, &country_labels());
        let err = read(&bytes[..], None, false, None, 100, |_| Ok(None)).unwrap_err();
        assert!(
            err.to_string()
                .contains("larger than the limit of 100 bytes"),
            "{err}"
        );
        // No observations.
        let mut none = bytes.clone();
        none[6..10].copy_from_slice(&0u32.to_le_bytes());
        let err = read(&none[..], None, false, None, u64::MAX, |_| Ok(None)).unwrap_err();
        assert!(err.to_string().contains("no observations"), "{err}");
        // No variables.
        let mut empty = old_file(114, false, &vars[..1], &[]);
        empty[4..6].copy_from_slice(&0u16.to_le_bytes());
        let err = read(&empty[..], None, false, None, u64::MAX, |_| Ok(None)).unwrap_err();
        assert!(err.to_string().contains("no variables"), "{err}");
        // Nothing at all.
        let err = read(&b""[..], None, false, None, u64::MAX, |_| Ok(None)).unwrap_err();
        assert!(
            err.to_string()
                .contains("the file ends inside the header (at byte offset 0)"),
            "{err}"
        );
    }

    #[test]
    fn the_plan_sees_the_variable_names_and_its_error_is_returned() {
        let e = Enc(false);
        let bytes = old_file(114, false, &numeric_vars(&e), &[]);
        let err = read(&bytes[..], None, false, None, u64::MAX, |names| {
            assert_eq!(names, ["b", "i", "l", "f", "d", "g"]);
            Err(Error::data(Location::default(), "planned failure"))
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "planned failure");
        // A column requested twice is read once.
        let req = vec![
            ColumnRequest {
                name: "d".into(),
                kind: ColumnKind::Numeric,
            },
            ColumnRequest {
                name: "d".into(),
                kind: ColumnKind::Factor,
            },
        ];
        let frame = read(&bytes[..], None, false, None, u64::MAX, |_| Ok(Some(req))).unwrap();
        assert_eq!(frame.names(), ["d"]);
        assert!(matches!(frame.column("d"), Some(Column::Numeric(_))));
    }

    #[test]
    fn windows_1252_and_utf8() {
        assert_eq!(text(b"caf\xe9\0junk", 117).as_ref(), "café".as_bytes());
        assert_eq!(
            text(b"\x93q\x94 \x80", 115).as_ref(),
            "\u{201c}q\u{201d} €".as_bytes()
        );
        assert_eq!(text("Kö".as_bytes(), 114).as_ref(), "Kö".as_bytes());
        // Release 118 is UTF-8: bytes kept as they are (the factor builder
        // rejects invalid UTF-8).
        assert_eq!(text(b"\xe9", 118).as_ref(), b"\xe9");
    }
}
