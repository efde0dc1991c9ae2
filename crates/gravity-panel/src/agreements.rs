//! `fta` (DGD `rta`, cross-checked against DESTA) and `eaeu`.

use crate::dgd::{Dgd, FIRST_YEAR, LAST_YEAR};
use crate::names::{code, text, Code, Names};
use anyhow::{bail, Context, Result};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// EAEU membership by first full-member year. The treaty entered into force
/// on 1 Jan 2015 (RUS, BLR, KAZ); Armenia acceded on 2 Jan 2015; Kyrgyzstan
/// on 12 Aug 2015. Rule: a country counts from the first calendar year in
/// which it was a member for at least half of the year, so KGZ from 2016.
pub const EAEU_FROM: [(&str, u16); 5] = [
    ("RUS", 2015),
    ("BLR", 2015),
    ("KAZ", 2015),
    ("ARM", 2015),
    ("KGZ", 2016),
];

/// 1 when both `a` and `b` (distinct) are EAEU members in `year`.
pub fn eaeu(a: Code, b: Code, year: u16) -> u8 {
    let member = |c: Code| {
        EAEU_FROM
            .iter()
            .any(|(iso, from)| c == iso.as_bytes() && year >= *from)
    };
    u8::from(a != b && member(a) && member(b))
}

/// Pairs whose DGD `rta = 1` is treated as an error and set to 0 (unordered,
/// codes in order). RUS–TUR: DGD codes rta=1 for 1994–2015, but no trade
/// agreement between Russia and Turkey exists; DESTA has no treaty for the
/// pair and the World Bank deep-trade-agreements ids in shared/data's
/// penppml extract are 0 for RUS–TUR in every year.
pub const DGD_ERRORS: [(&str, &str); 1] = [("RUS", "TUR")];

/// Whether the unordered pair is listed in [`DGD_ERRORS`].
pub fn is_dgd_error(a: Code, b: Code) -> bool {
    let (a, b) = unordered(a, b);
    DGD_ERRORS
        .iter()
        .any(|(x, y)| a == x.as_bytes() && b == y.as_bytes())
}

/// DESTA treaties of one unordered pair.
#[derive(Default, Debug)]
pub struct DestaPair {
    /// Earliest entry-into-force year of any treaty of the pair.
    pub first_in_force: Option<(u16, String)>,
    /// The pair has a treaty without an entry-into-force year.
    pub treaty_without_eif: bool,
}

pub struct Desta {
    pub pairs: HashMap<(Code, Code), DestaPair>,
    pub countries: BTreeSet<Code>,
    pub rows_read: u64,
    pub rows_without_eif: u64,
    pub unmapped: BTreeMap<String, u64>,
}

pub fn unordered(a: Code, b: Code) -> (Code, Code) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

pub fn read_desta(bytes: &[u8], file: &str, names: &Names) -> Result<Desta> {
    // The file starts with a UTF-8 byte-order mark.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut rdr = csv::Reader::from_reader(bytes);
    let header = rdr.headers().with_context(|| file.to_string())?.clone();
    let col = |name: &str| -> Result<usize> {
        header
            .iter()
            .position(|h| h == name)
            .with_context(|| format!("{file} line 1: no column {name}"))
    };
    let (i1, i2, inum, iname, ieif) = (
        col("country1")?,
        col("country2")?,
        col("number")?,
        col("name")?,
        col("entryforceyear")?,
    );
    let mut out = Desta {
        pairs: HashMap::new(),
        countries: BTreeSet::new(),
        rows_read: 0,
        rows_without_eif: 0,
        unmapped: BTreeMap::new(),
    };
    for rec in rdr.records() {
        let rec = rec.with_context(|| format!("{file}: CSV error"))?;
        out.rows_read += 1;
        let line = rec.position().map_or(0, |p| p.line());
        let mut isos = [None, None];
        for (k, i) in [i1, i2].into_iter().enumerate() {
            isos[k] = names.get("desta", &rec[i]);
            if isos[k].is_none() {
                *out.unmapped.entry(rec[i].to_string()).or_default() += 1;
            }
        }
        let (Some(a), Some(b)) = (isos[0], isos[1]) else {
            continue;
        };
        out.countries.insert(a);
        out.countries.insert(b);
        if a == b {
            continue;
        }
        let p = out.pairs.entry(unordered(a, b)).or_default();
        let eif = rec[ieif].trim();
        if eif.is_empty() {
            out.rows_without_eif += 1;
            p.treaty_without_eif = true;
            continue;
        }
        let y: u16 = eif
            .parse()
            .with_context(|| format!("{file} line {line}: bad entryforceyear {eif:?}"))?;
        let label = format!("{} (DESTA {})", &rec[iname], &rec[inum]);
        if p.first_in_force.as_ref().is_none_or(|(f, _)| y < *f) {
            p.first_in_force = Some((y, label));
        }
    }
    if out.rows_read == 0 {
        bail!("{file}: no rows");
    }
    Ok(out)
}

/// How a pair-year was classified when DGD and DESTA were compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Category {
    Agree1,
    Agree0,
    DgdOnlyDestaLater,
    DgdOnlyDestaNoEif,
    DgdOnlyDestaNoTreaty,
    DgdOnlyNotInDesta,
    DestaOnlyDgdHole,
    DestaOnlyDgdLongGap,
    DestaOnlyDgdEnded,
    DestaOnlyDgdLater,
    DestaOnlyDgdNever,
    NoDgdDesta1,
    NoDgdDesta0,
}

impl Category {
    pub const ALL: [Category; 13] = [
        Category::Agree1,
        Category::Agree0,
        Category::DgdOnlyDestaLater,
        Category::DgdOnlyDestaNoEif,
        Category::DgdOnlyDestaNoTreaty,
        Category::DgdOnlyNotInDesta,
        Category::DestaOnlyDgdHole,
        Category::DestaOnlyDgdLongGap,
        Category::DestaOnlyDgdEnded,
        Category::DestaOnlyDgdLater,
        Category::DestaOnlyDgdNever,
        Category::NoDgdDesta1,
        Category::NoDgdDesta0,
    ];

    /// (description, resolution)
    pub fn describe(self) -> (&'static str, &'static str) {
        match self {
            Category::Agree1 => ("DGD rta=1, DESTA in force", "fta=1"),
            Category::Agree0 => ("DGD rta=0, no DESTA treaty in force", "fta=0"),
            Category::DgdOnlyDestaLater => (
                "DGD rta=1; DESTA's first entry into force is later",
                "fta=1 (DGD)",
            ),
            Category::DgdOnlyDestaNoEif => (
                "DGD rta=1; DESTA has the pair only without entry-into-force year",
                "fta=1 (DGD)",
            ),
            Category::DgdOnlyDestaNoTreaty => (
                "DGD rta=1; DESTA covers both countries but has no treaty for the pair",
                "fta=1 (DGD)",
            ),
            Category::DgdOnlyNotInDesta => ("DGD rta=1; a country is not in DESTA", "fta=1 (DGD)"),
            Category::DestaOnlyDgdHole => (
                "DGD rta=0 in a gap of at most 3 years between 1s; DESTA in force",
                "fta=1 (gap in DGD filled)",
            ),
            Category::DestaOnlyDgdLongGap => (
                "DGD rta=0 in a gap of more than 3 years between 1s; DESTA in force",
                "fta=0 (DGD)",
            ),
            Category::DestaOnlyDgdEnded => (
                "DGD rta=0 after earlier 1s (agreement ended); DESTA in force (no end dates)",
                "fta=0 (DGD)",
            ),
            Category::DestaOnlyDgdLater => (
                "DGD rta=0, becomes 1 later; DESTA's entry into force is earlier",
                "fta=0 (DGD)",
            ),
            Category::DestaOnlyDgdNever => (
                "DGD rta=0 in every year; DESTA treaty in force",
                "fta=0 (DGD)",
            ),
            Category::NoDgdDesta1 => ("no DGD record; DESTA in force", "fta=1 (DESTA)"),
            Category::NoDgdDesta0 => ("no DGD record; no DESTA treaty in force", "fta=0 (DESTA)"),
        }
    }
}

/// Longest run of DGD `rta = 0` years between two `rta = 1` years that is
/// treated as a coding gap (and filled) when DESTA has a treaty in force.
pub const MAX_FILLED_GAP: u32 = 3;

/// Classifies an unordered pair-year and returns (fta before the EAEU rule, category).
pub fn resolve(dgd: &Dgd, desta: &Desta, a: Code, b: Code, year: u16) -> (u8, Category) {
    let d = desta.pairs.get(&unordered(a, b));
    let desta_first = d.and_then(|p| p.first_in_force.as_ref().map(|(y, _)| *y));
    let desta_on = desta_first.is_some_and(|y| y <= year);
    let h = dgd.pair(a, b);
    if !(FIRST_YEAR..=LAST_YEAR).contains(&year) {
        return if desta_on {
            (1, Category::NoDgdDesta1)
        } else {
            (0, Category::NoDgdDesta0)
        };
    }
    let bit = 1u64 << (year - FIRST_YEAR);
    if h.present & bit == 0 {
        return if desta_on {
            (1, Category::NoDgdDesta1)
        } else {
            (0, Category::NoDgdDesta0)
        };
    }
    let dgd_on = h.one & bit != 0;
    match (dgd_on, desta_on) {
        (true, true) => (1, Category::Agree1),
        (false, false) => (0, Category::Agree0),
        (true, false) => {
            let cat = if !desta.countries.contains(&a) || !desta.countries.contains(&b) {
                Category::DgdOnlyNotInDesta
            } else if desta_first.is_some() {
                Category::DgdOnlyDestaLater
            } else if d.is_some_and(|p| p.treaty_without_eif) {
                Category::DgdOnlyDestaNoEif
            } else {
                Category::DgdOnlyDestaNoTreaty
            };
            (1, cat)
        }
        (false, true) => {
            let below = h.one & (bit - 1);
            let above = h.one & !((bit << 1) - 1);
            match (below != 0, above != 0) {
                (true, true) => {
                    // Years strictly between the last 1 before and the first 1 after.
                    let prev = 63 - below.leading_zeros();
                    let next = above.trailing_zeros();
                    if next - prev - 1 <= MAX_FILLED_GAP {
                        (1, Category::DestaOnlyDgdHole)
                    } else {
                        (0, Category::DestaOnlyDgdLongGap)
                    }
                }
                (true, false) => (0, Category::DestaOnlyDgdEnded),
                (false, true) => (0, Category::DestaOnlyDgdLater),
                (false, false) => (0, Category::DestaOnlyDgdNever),
            }
        }
    }
}

/// Per-category counts of unordered pair-years, with the years of each pair
/// (for named examples).
#[derive(Default)]
pub struct Tally {
    pub by_cat: BTreeMap<Category, BTreeMap<(Code, Code), Vec<u16>>>,
    /// Pair-years set to 0 because DGD's rta=1 is a documented error.
    pub dgd_error: BTreeMap<(Code, Code), Vec<u16>>,
    /// Pair-years set to 1 by the EAEU rule after the comparison.
    pub eaeu_override: BTreeMap<(Code, Code), Vec<u16>>,
}

/// Countries whose pairs are named first in examples.
pub const FOCUS: [&str; 10] = [
    "KOR", "RUS", "KAZ", "BLR", "ARM", "KGZ", "USA", "CHN", "JPN", "DEU",
];

fn focus_rank(c: Code) -> usize {
    FOCUS
        .iter()
        .position(|f| c == f.as_bytes())
        .unwrap_or(FOCUS.len())
}

/// "2013–2015, 2018" from sorted years.
pub fn ranges(years: &[u16]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < years.len() {
        let mut j = i;
        while j + 1 < years.len() && years[j + 1] == years[j] + 1 {
            j += 1;
        }
        out.push(if i == j {
            years[i].to_string()
        } else {
            format!("{}–{}", years[i], years[j])
        });
        i = j + 1;
    }
    out.join(", ")
}

/// Up to `n` named examples, pairs with KOR/EAEU/major countries first.
pub fn examples(pairs: &BTreeMap<(Code, Code), Vec<u16>>, desta: &Desta, n: usize) -> Vec<String> {
    let mut v: Vec<(&(Code, Code), &Vec<u16>)> = pairs.iter().collect();
    v.sort_by_key(|((a, b), _)| {
        let (ra, rb) = (focus_rank(*a), focus_rank(*b));
        (ra.min(rb), ra.max(rb), *a, *b)
    });
    v.into_iter()
        .take(n)
        .map(|((a, b), years)| {
            let treaty = desta
                .pairs
                .get(&(*a, *b))
                .and_then(|p| p.first_in_force.as_ref())
                .map(|(y, name)| format!("; DESTA: {name}, in force {y}"))
                .unwrap_or_default();
            format!("{}–{} {}{}", text(a), text(b), ranges(years), treaty)
        })
        .collect()
}

/// The codes DESTA must know for the report (sanity check).
pub fn check_focus(desta: &Desta) -> Vec<String> {
    FOCUS
        .iter()
        .filter_map(|f| code(f.as_bytes()))
        .filter(|c| !desta.countries.contains(c))
        .map(|c| text(&c).to_string())
        .collect()
}
