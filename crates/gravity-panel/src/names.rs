//! Country codes, the reviewed name → ISO3 table and the country-group table
//! (both committed under `data/` and compiled into the builder).

use anyhow::{bail, Context, Result};
use std::collections::{BTreeMap, HashMap};

/// An ISO 3166-1 alpha-3 code (or an ISO 3166-3 / user-assigned code for a
/// former or partially recognised state, or a source-specific code such as
/// the DGD's `KN1`), as three ASCII bytes.
pub type Code = [u8; 3];

/// Parses a three-character code (upper-case letters and digits).
pub fn code(s: &[u8]) -> Option<Code> {
    match s {
        [a, b, c]
            if s.iter()
                .all(|x| x.is_ascii_uppercase() || x.is_ascii_digit()) =>
        {
            Some([*a, *b, *c])
        }
        _ => None,
    }
}

/// The code as text (codes are ASCII: `code` admits nothing else, so the
/// conversion never replaces a byte).
pub fn text(c: &Code) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(c)
}

/// The name table, `data/country_names.csv` (source,name,iso3).
pub const NAMES_CSV: &str = include_str!("../../../data/country_names.csv");
/// The group table, `data/country_groups.csv` (group,iso3,from,to).
pub const GROUPS_CSV: &str = include_str!("../../../data/country_groups.csv");

/// name → ISO3 for one source ("desta" or "gsdb").
pub struct Names {
    map: HashMap<(String, String), Code>,
}

impl Names {
    pub fn load() -> Result<Names> {
        let mut map = HashMap::new();
        let mut rdr = csv::Reader::from_reader(NAMES_CSV.as_bytes());
        for rec in rdr.records() {
            let rec = rec.context("data/country_names.csv")?;
            let line = rec.position().map_or(0, |p| p.line());
            if rec.len() != 3 {
                bail!("data/country_names.csv line {line}: expected 3 fields");
            }
            let c = code(rec[2].as_bytes()).with_context(|| {
                format!("data/country_names.csv line {line}: bad ISO3 {:?}", &rec[2])
            })?;
            if map
                .insert((rec[0].to_string(), rec[1].to_string()), c)
                .is_some()
            {
                bail!(
                    "data/country_names.csv line {line}: duplicate name {:?}",
                    &rec[1]
                );
            }
        }
        Ok(Names { map })
    }

    pub fn get(&self, source: &str, name: &str) -> Option<Code> {
        self.map
            .get(&(source.to_string(), name.to_string()))
            .copied()
    }
}

/// One membership spell: member from `from` to `to` (inclusive; open-ended
/// when `None`).
#[derive(Clone, Copy)]
pub struct Spell {
    pub iso: Code,
    pub from: u16,
    pub to: Option<u16>,
}

/// Group name → membership spells.
pub struct Groups {
    pub map: BTreeMap<String, Vec<Spell>>,
}

impl Groups {
    pub fn load() -> Result<Groups> {
        let mut map: BTreeMap<String, Vec<Spell>> = BTreeMap::new();
        let mut rdr = csv::Reader::from_reader(GROUPS_CSV.as_bytes());
        for rec in rdr.records() {
            let rec = rec.context("data/country_groups.csv")?;
            let line = rec.position().map_or(0, |p| p.line());
            let bad = || format!("data/country_groups.csv line {line}: malformed row");
            if rec.len() != 4 {
                bail!(bad());
            }
            let iso = code(rec[1].as_bytes()).with_context(bad)?;
            let from: u16 = rec[2].parse().with_context(bad)?;
            let to: Option<u16> = if rec[3].is_empty() {
                None
            } else {
                Some(rec[3].parse().with_context(bad)?)
            };
            map.entry(rec[0].to_string())
                .or_default()
                .push(Spell { iso, from, to });
        }
        Ok(Groups { map })
    }

    /// Members of `group` in `year`, or `None` if the group is not in the table.
    pub fn members(&self, group: &str, year: u16) -> Option<Vec<Code>> {
        self.map.get(group).map(|spells| {
            spells
                .iter()
                .filter(|s| s.from <= year && s.to.is_none_or(|t| year <= t))
                .map(|s| s.iso)
                .collect()
        })
    }
}
