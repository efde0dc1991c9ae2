//! USITC Dynamic Gravity Dataset 2.1 extract → `rta` by ordered pair and year.

use crate::names::{code, Code};
use anyhow::{bail, Context, Result};
use flate2::read::GzDecoder;
use std::collections::HashMap;

/// First year of the DGD; years are stored as bits `year - FIRST_YEAR`.
pub const FIRST_YEAR: u16 = 1980;
/// Last year of the DGD.
pub const LAST_YEAR: u16 = 2019;

/// `rta` history of one ordered pair: bit `t - FIRST_YEAR` set in `present`
/// when the pair-year has a record, and in `one` when its `rta` is 1.
#[derive(Clone, Copy, Default, Debug)]
pub struct History {
    pub present: u64,
    pub one: u64,
}

pub struct Dgd {
    pub pairs: HashMap<(Code, Code), History>,
    pub rows_read: u64,
    pub duplicate_rows: u64,
    pub conflicting_duplicates: u64,
}

impl Dgd {
    /// The symmetric history of an unordered pair: a year counts as present
    /// when either direction has a record, and as `rta == 1` when either
    /// direction says 1.
    pub fn pair(&self, a: Code, b: Code) -> History {
        let x = self.pairs.get(&(a, b)).copied().unwrap_or_default();
        let y = self.pairs.get(&(b, a)).copied().unwrap_or_default();
        History {
            present: x.present | y.present,
            one: x.one | y.one,
        }
    }

    /// Pair-years where both directions exist and disagree on `rta`.
    pub fn asymmetric_pair_years(&self) -> u64 {
        let mut n = 0u64;
        for (&(a, b), x) in &self.pairs {
            if a < b {
                if let Some(y) = self.pairs.get(&(b, a)) {
                    n += u64::from(((x.one ^ y.one) & x.present & y.present).count_ones());
                }
            }
        }
        n
    }
}

pub fn read(bytes: &[u8], file: &str) -> Result<Dgd> {
    let mut rdr = csv::Reader::from_reader(GzDecoder::new(bytes));
    let header = rdr
        .byte_headers()
        .with_context(|| file.to_string())?
        .clone();
    let col = |name: &str| -> Result<usize> {
        header
            .iter()
            .position(|h| h == name.as_bytes())
            .with_context(|| format!("{file} line 1: no column {name}"))
    };
    let (iy, ie, ii, ir) = (
        col("year")?,
        col("exporter")?,
        col("importer")?,
        col("rta")?,
    );
    let mut pairs: HashMap<(Code, Code), History> = HashMap::new();
    let (mut rows_read, mut duplicate_rows, mut conflicting_duplicates) = (0u64, 0u64, 0u64);
    let mut rec = csv::ByteRecord::new();
    while rdr
        .read_byte_record(&mut rec)
        .with_context(|| format!("{file}: CSV error"))?
    {
        rows_read += 1;
        let line = rec.position().map_or(0, |p| p.line());
        let at = || format!("{file} line {line}");
        let year: u16 = std::str::from_utf8(&rec[iy])
            .ok()
            .and_then(|s| s.parse().ok())
            .with_context(|| format!("{}: bad year", at()))?;
        if !(FIRST_YEAR..=LAST_YEAR).contains(&year) {
            bail!("{}: year {year} outside {FIRST_YEAR}–{LAST_YEAR}", at());
        }
        let e = code(&rec[ie]).with_context(|| format!("{}: bad exporter", at()))?;
        let i = code(&rec[ii]).with_context(|| format!("{}: bad importer", at()))?;
        let rta = match &rec[ir] {
            b"0.0" | b"0" => false,
            b"1.0" | b"1" => true,
            _ => bail!("{}: rta is not 0/1", at()),
        };
        let bit = 1u64 << (year - FIRST_YEAR);
        let h = pairs.entry((e, i)).or_default();
        if h.present & bit != 0 {
            duplicate_rows += 1;
            if (h.one & bit != 0) != rta {
                // Resolved as rta = 1 (either record says an agreement is in force).
                conflicting_duplicates += 1;
            }
        }
        h.present |= bit;
        if rta {
            h.one |= bit;
        }
    }
    Ok(Dgd {
        pairs,
        rows_read,
        duplicate_rows,
        conflicting_duplicates,
    })
}
