//! ITPD-E release 2 broad-sector totals → one cell per exporter–importer–year.

use crate::names::{code, Code};
use anyhow::{bail, Context, Result};
use flate2::read::GzDecoder;
use std::collections::BTreeMap;

/// A sector value and the number of industries behind it.
#[derive(Clone, Copy, Debug)]
pub struct Sector {
    pub trade: f64,
    pub n_ind: u32,
}

/// The goods sectors of one exporter–importer–year (services are not used).
#[derive(Clone, Copy, Debug, Default)]
pub struct Cell {
    pub agri: Option<Sector>,
    pub mine: Option<Sector>,
    pub manu: Option<Sector>,
    pub serv: Option<Sector>,
}

pub type Key = (Code, Code, u16);

pub struct Itpde {
    pub cells: BTreeMap<Key, Cell>,
    pub rows_read: u64,
    pub services_rows: u64,
}

/// Parses the gzipped CSV (exporter_iso3,importer_iso3,year,broad_sector,trade,n_ind).
pub fn read(bytes: &[u8], file: &str) -> Result<Itpde> {
    let mut rdr = csv::Reader::from_reader(GzDecoder::new(bytes));
    let header = rdr
        .byte_headers()
        .with_context(|| file.to_string())?
        .clone();
    let expected = [
        "exporter_iso3",
        "importer_iso3",
        "year",
        "broad_sector",
        "trade",
        "n_ind",
    ];
    if header.len() != expected.len()
        || header
            .iter()
            .zip(expected.iter())
            .any(|(h, e)| h != e.as_bytes())
    {
        bail!("{file} line 1: unexpected header (expected {expected:?})");
    }
    let mut cells: BTreeMap<Key, Cell> = BTreeMap::new();
    let mut rec = csv::ByteRecord::new();
    let (mut rows_read, mut services_rows) = (0u64, 0u64);
    while rdr
        .read_byte_record(&mut rec)
        .with_context(|| format!("{file}: CSV error"))?
    {
        rows_read += 1;
        let line = rec.position().map_or(0, |p| p.line());
        let at = || format!("{file} line {line}");
        let exp = code(&rec[0]).with_context(|| format!("{}: bad exporter code", at()))?;
        let imp = code(&rec[1]).with_context(|| format!("{}: bad importer code", at()))?;
        let year: u16 = parse(&rec[2]).with_context(|| format!("{}: bad year", at()))?;
        let trade: f64 = parse(&rec[4]).with_context(|| format!("{}: bad trade", at()))?;
        let n_ind: u32 = parse(&rec[5]).with_context(|| format!("{}: bad n_ind", at()))?;
        if !trade.is_finite() || trade < 0.0 {
            bail!("{}: trade must be finite and non-negative", at());
        }
        let sector = Sector { trade, n_ind };
        let cell = cells.entry((exp, imp, year)).or_default();
        let slot = match &rec[3] {
            b"Manufacturing" => &mut cell.manu,
            b"Agriculture" => &mut cell.agri,
            b"Mining and Energy" => &mut cell.mine,
            b"Services" => {
                services_rows += 1;
                &mut cell.serv
            }
            other => bail!(
                "{}: unknown broad_sector {:?}",
                at(),
                String::from_utf8_lossy(other)
            ),
        };
        if slot.is_some() {
            bail!("{}: duplicate exporter–importer–year–sector row", at());
        }
        *slot = Some(sector);
    }
    // A services-only cell has no goods data: drop it.
    cells.retain(|_, c| c.agri.is_some() || c.mine.is_some() || c.manu.is_some());
    Ok(Itpde {
        cells,
        rows_read,
        services_rows,
    })
}

fn parse<T: std::str::FromStr>(b: &[u8]) -> Option<T> {
    std::str::from_utf8(b).ok()?.parse().ok()
}
