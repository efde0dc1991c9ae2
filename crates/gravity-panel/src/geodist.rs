//! CEPII GeoDist `dist_cepii.csv` → time-invariant pair covariates.

use crate::names::{code, Code};
use anyhow::{bail, Context, Result};
use std::collections::HashMap;

/// Covariates of one ordered pair.
#[derive(Clone, Copy, Debug)]
pub struct Geo {
    /// ln(distw), distw = population-weighted distance in km; ln(dist)
    /// (great-circle distance between the main cities) where GeoDist has no
    /// distw.
    pub ldist: Option<f64>,
    /// `ldist` comes from `dist` because distw is missing.
    pub from_dist: bool,
    pub contig: u8,
    /// comlang_off: a common official language.
    pub lang: u8,
    /// colony: ever in a colonial relationship.
    pub colony: u8,
}

/// GeoDist's legacy codes and the ISO3 codes used by ITPD-E.
pub const RECODE: [(Code, Code); 5] = [
    (*b"ROM", *b"ROU"),
    (*b"ZAR", *b"COD"),
    (*b"TMP", *b"TLS"),
    (*b"PAL", *b"PSE"),
    // GeoDist's YUG is the Federal Republic of Yugoslavia (Serbia and
    // Montenegro), ITPD-E's SCG (2003–2005); not used for SRB or MNE.
    (*b"YUG", *b"SCG"),
];

pub struct GeoDist {
    pub pairs: HashMap<(Code, Code), Geo>,
    pub missing_distw: u64,
    pub missing_both: u64,
}

fn recode(c: Code) -> Code {
    RECODE
        .iter()
        .find(|(from, _)| *from == c)
        .map_or(c, |(_, to)| *to)
}

pub fn read(bytes: &[u8], file: &str) -> Result<GeoDist> {
    let mut rdr = csv::ReaderBuilder::new().delimiter(b';').from_reader(bytes);
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
    let (io, id, ic, il, icol, idw, idist) = (
        col("iso_o")?,
        col("iso_d")?,
        col("contig")?,
        col("comlang_off")?,
        col("colony")?,
        col("distw")?,
        col("dist")?,
    );
    let mut pairs = HashMap::new();
    let mut missing_distw = 0;
    let mut missing_both = 0;
    let mut rec = csv::ByteRecord::new();
    while rdr
        .read_byte_record(&mut rec)
        .with_context(|| format!("{file}: CSV error"))?
    {
        let line = rec.position().map_or(0, |p| p.line());
        let at = || format!("{file} line {line}");
        let o = recode(code(&rec[io]).with_context(|| format!("{}: bad iso_o", at()))?);
        let d = recode(code(&rec[id]).with_context(|| format!("{}: bad iso_d", at()))?);
        let dummy = |i: usize, name: &str| -> Result<u8> {
            match &rec[i] {
                b"0" => Ok(0),
                b"1" => Ok(1),
                _ => bail!("{}: {name} is not 0/1", at()),
            }
        };
        let km = |i: usize| {
            std::str::from_utf8(&rec[i])
                .ok()
                .and_then(|s| s.parse::<f64>().ok())
                .filter(|d| d.is_finite() && *d > 0.0)
        };
        let distw = km(idw);
        let from_dist = distw.is_none();
        let distance = distw.or_else(|| km(idist));
        if from_dist {
            missing_distw += 1;
        }
        if distance.is_none() {
            missing_both += 1;
        }
        let geo = Geo {
            ldist: distance.map(f64::ln),
            from_dist,
            contig: dummy(ic, "contig")?,
            lang: dummy(il, "comlang_off")?,
            colony: dummy(icol, "colony")?,
        };
        if pairs.insert((o, d), geo).is_some() {
            bail!("{}: duplicate pair", at());
        }
    }
    Ok(GeoDist {
        pairs,
        missing_distw,
        missing_both,
    })
}
