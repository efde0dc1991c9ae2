//! World Bank GDP (current US$, `NY.GDP.MKTP.CD`) → `gdp.csv`: one row per
//! panel country and year, in millions of US$ (the panel's unit), for the
//! plausibility bound on imputed domestic flows.

use crate::names::{code, Code};
use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;

/// GDP in millions of US$ by (ISO3, year). World Bank aggregates (WLD, EUU,
/// …) are never looked up: only panel countries are written.
pub fn read(bytes: &[u8], rel: &str) -> Result<BTreeMap<(Code, u16), f64>> {
    let mut r = csv::ReaderBuilder::new().from_reader(bytes);
    let header = r
        .headers()
        .with_context(|| format!("{rel}: header"))?
        .clone();
    let col = |name: &str| -> Result<usize> {
        header
            .iter()
            .position(|h| h == name)
            .with_context(|| format!("{rel}: no column '{name}'"))
    };
    let (c_code, c_year, c_value) = (col("Country Code")?, col("Year")?, col("Value")?);
    let mut out = BTreeMap::new();
    for (k, rec) in r.records().enumerate() {
        let rec = rec.with_context(|| format!("{rel}: line {}", k + 2))?;
        let field = |c: usize| rec.get(c).unwrap_or("");
        let Some(iso) = code(field(c_code).as_bytes()) else {
            continue;
        };
        let year: u16 = field(c_year)
            .parse()
            .with_context(|| format!("{rel}: line {}: year", k + 2))?;
        let value: f64 = field(c_value)
            .parse()
            .with_context(|| format!("{rel}: line {}: value", k + 2))?;
        if !(value.is_finite() && value > 0.0) {
            bail!("{rel}: line {}: GDP must be positive, found {value}", k + 2);
        }
        out.insert((iso, year), value / 1e6);
    }
    Ok(out)
}
