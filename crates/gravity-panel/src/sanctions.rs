//! GSDB release 3 cases → unordered sender–target–year dyads.

use crate::agreements::unordered;
use crate::names::{Code, Groups, Names};
use anyhow::{bail, Context, Result};
use std::collections::{BTreeMap, HashSet};

/// Tokens that GSDB writes after a comma as part of one name
/// ("Korea, South", "Egypt, Arab Rep.", "Gambia, The", …): when a
/// comma-separated token is one of these, it is joined to the previous one.
pub const NAME_SUFFIXES: [&str; 5] = [
    "South",
    "North",
    "The",
    "Arab Rep.",
    "Democratic Republic of the",
];

/// Group aliases: GSDB's "EEC" is the same membership table as "EU".
pub const GROUP_ALIASES: [(&str, &str); 1] = [("EEC", "EU")];

/// Groups and non-state names in GSDB that are deliberately not expanded,
/// with the reason (reported in the build report).
pub const NOT_EXPANDED: [(&str, &str); 30] = [
    (
        "UN",
        "UN sanctions bind all member states; not a bilateral measure",
    ),
    (
        "African Union",
        "regional organisation sanctioning a member; not bilateral",
    ),
    (
        "Organisation of African Unity",
        "regional organisation (pre-2002); not bilateral",
    ),
    (
        "ECOWAS",
        "regional organisation sanctioning a member; not bilateral",
    ),
    (
        "League of Arab States",
        "regional organisation; not bilateral",
    ),
    (
        "Organization of American States",
        "regional organisation; not bilateral",
    ),
    (
        "Organization of Eastern Carribean States",
        "regional organisation; not bilateral",
    ),
    (
        "Commonwealth",
        "membership suspension; not a trade measure by each member",
    ),
    ("CSCE", "conference, no fixed membership table"),
    ("OSCE", "organisation, no fixed membership table"),
    ("ChinCom", "Cold-War export-control committee; before 2000"),
    ("CoCom", "Cold-War export-control committee; before 2000"),
    ("Comecon", "Soviet-bloc council; before 2000"),
    (
        "MERCOSUR",
        "regional bloc suspending a member; not bilateral",
    ),
    ("NAFTA", "trade bloc; single case"),
    ("UNASUR", "regional organisation; not bilateral"),
    ("SADC", "regional organisation; not bilateral"),
    ("OAPEC", "1973 oil embargo; before 2000"),
    ("OIC", "organisation; not bilateral"),
    (
        "Pacific Islands Forum",
        "regional organisation; not bilateral",
    ),
    (
        "ICC Rome Statute Signatories",
        "treaty signatories, not a sender group",
    ),
    (
        "Kimberly Process Participants",
        "certification scheme participants",
    ),
    (
        "Paris Agreement Signatories",
        "treaty signatories, not a sender group",
    ),
    ("Western countries", "unspecified group"),
    (
        "Balkans",
        "region, not a state (target of US measures on persons)",
    ),
    (
        "Western Balkans",
        "region, not a state (target of US measures on persons)",
    ),
    ("Terrorist Organizations (Al-Qaeda)", "non-state target"),
    ("Terrorist Organizations (ISIL and ANF)", "non-state target"),
    (
        "Terrorist Organizations (Taliban and Al-Qaeda)",
        "non-state target",
    ),
    ("Terrorist Organizations (Taliban)", "non-state target"),
];

/// Splits a GSDB name list on commas, rejoining name suffixes.
pub fn split_names(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in s.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        match out.last_mut() {
            Some(prev) if NAME_SUFFIXES.contains(&t) => {
                prev.push_str(", ");
                prev.push_str(t);
            }
            _ => out.push(t.to_string()),
        }
    }
    out
}

/// A name left as is: (cases, cases overlapping the panel years).
#[derive(Default, Clone, Copy)]
pub struct Skipped {
    pub cases: u64,
    pub cases_in_window: u64,
}

pub struct Sanctions {
    /// Unordered pair-years with any sanction.
    pub any: HashSet<(Code, Code, u16)>,
    /// Unordered pair-years with a trade sanction (`trade == 1`).
    pub trade: HashSet<(Code, Code, u16)>,
    pub cases: u64,
    pub trade_cases: u64,
    pub self_dyads_skipped: u64,
    pub groups_expanded: BTreeMap<String, u64>,
    pub not_expanded: BTreeMap<String, Skipped>,
    pub unmapped: BTreeMap<String, Skipped>,
}

enum Resolved {
    Fixed(Code),
    Group(String),
    Skip,
}

pub fn read(
    bytes: &[u8],
    file: &str,
    names: &Names,
    groups: &Groups,
    window: (u16, u16),
) -> Result<Sanctions> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut rdr = csv::Reader::from_reader(bytes);
    let header = rdr.headers().with_context(|| file.to_string())?.clone();
    let col = |name: &str| -> Result<usize> {
        header
            .iter()
            .position(|h| h == name)
            .with_context(|| format!("{file} line 1: no column {name}"))
    };
    let (itgt, isnd, ib, ie, itr) = (
        col("sanctioned_state")?,
        col("sanctioning_state")?,
        col("begin")?,
        col("end")?,
        col("trade")?,
    );
    let mut out = Sanctions {
        any: HashSet::new(),
        trade: HashSet::new(),
        cases: 0,
        trade_cases: 0,
        self_dyads_skipped: 0,
        groups_expanded: BTreeMap::new(),
        not_expanded: BTreeMap::new(),
        unmapped: BTreeMap::new(),
    };
    for rec in rdr.records() {
        let rec = rec.with_context(|| format!("{file}: CSV error"))?;
        out.cases += 1;
        let line = rec.position().map_or(0, |p| p.line());
        let year = |i: usize, what: &str| -> Result<u16> {
            rec[i]
                .trim()
                .parse()
                .with_context(|| format!("{file} line {line}: bad {what} {:?}", &rec[i]))
        };
        let (begin, end) = (year(ib, "begin")?, year(ie, "end")?);
        if end < begin {
            bail!("{file} line {line}: end {end} before begin {begin}");
        }
        let is_trade = match rec[itr].trim() {
            "1" => true,
            "0" => false,
            other => bail!("{file} line {line}: trade is {other:?}, not 0/1"),
        };
        if is_trade {
            out.trade_cases += 1;
        }
        let in_window = begin <= window.1 && end >= window.0;
        let mut resolve = |name: &str| -> Resolved {
            let g = GROUP_ALIASES
                .iter()
                .find(|(a, _)| *a == name)
                .map_or(name, |(_, g)| *g);
            if groups.map.contains_key(g) {
                *out.groups_expanded.entry(name.to_string()).or_default() += 1;
                return Resolved::Group(g.to_string());
            }
            if let Some(c) = names.get("gsdb", name) {
                return Resolved::Fixed(c);
            }
            let slot = if NOT_EXPANDED.iter().any(|(n, _)| *n == name) {
                out.not_expanded.entry(name.to_string()).or_default()
            } else {
                out.unmapped.entry(name.to_string()).or_default()
            };
            slot.cases += 1;
            if in_window {
                slot.cases_in_window += 1;
            }
            Resolved::Skip
        };
        let targets: Vec<Resolved> = split_names(&rec[itgt]).iter().map(|n| resolve(n)).collect();
        let senders: Vec<Resolved> = split_names(&rec[isnd]).iter().map(|n| resolve(n)).collect();
        for y in begin..=end {
            let expand = |r: &Resolved| -> Vec<Code> {
                match r {
                    Resolved::Fixed(c) => vec![*c],
                    Resolved::Group(g) => groups.members(g, y).unwrap_or_default(),
                    Resolved::Skip => Vec::new(),
                }
            };
            let t: Vec<Code> = targets.iter().flat_map(expand).collect();
            let s: Vec<Code> = senders.iter().flat_map(expand).collect();
            for &a in &t {
                for &b in &s {
                    if a == b {
                        out.self_dyads_skipped += 1;
                        continue;
                    }
                    let (x, z) = unordered(a, b);
                    out.any.insert((x, z, y));
                    if is_trade {
                        out.trade.insert((x, z, y));
                    }
                }
            }
        }
    }
    Ok(out)
}
