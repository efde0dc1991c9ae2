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

/// One measure named in GSDB's `descr_trade`: an export or an import
/// sanction, complete (a ban) or partial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TradeMeasure {
    /// `exp_compl`: a complete export ban.
    ExportComplete,
    /// `imp_compl`: a complete import ban.
    ImportComplete,
    /// `exp_part`: a partial export sanction.
    ExportPartial,
    /// `imp_part`: a partial import sanction.
    ImportPartial,
}

impl TradeMeasure {
    /// GSDB's four codes (the GSDB codebook's values of `descr_trade`).
    pub const CODES: [(&'static str, TradeMeasure); 4] = [
        ("exp_compl", TradeMeasure::ExportComplete),
        ("imp_compl", TradeMeasure::ImportComplete),
        ("exp_part", TradeMeasure::ExportPartial),
        ("imp_part", TradeMeasure::ImportPartial),
    ];

    /// Whether the measure is a complete ban.
    pub fn is_complete(self) -> bool {
        matches!(
            self,
            TradeMeasure::ExportComplete | TradeMeasure::ImportComplete
        )
    }
}

/// Why a `descr_trade` value was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DescrTradeError {
    /// A comma-separated token that is not one of GSDB's four codes.
    UnknownCode(String),
    /// `trade == 1` but `descr_trade` names no measure (the split would be
    /// undefined).
    TradeWithoutMeasure,
    /// `trade == 0` but `descr_trade` names measures.
    MeasureWithoutTrade(String),
}

impl std::fmt::Display for DescrTradeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DescrTradeError::UnknownCode(t) => write!(
                f,
                "unknown code {t:?} (expected a comma-separated list of exp_compl, imp_compl, exp_part, imp_part)"
            ),
            DescrTradeError::TradeWithoutMeasure => {
                write!(f, "empty, but trade == 1 (a trade sanction must name its measures)")
            }
            DescrTradeError::MeasureWithoutTrade(v) => {
                write!(f, "{v:?} names trade measures, but trade == 0")
            }
        }
    }
}

impl std::error::Error for DescrTradeError {}

/// Parses GSDB's `descr_trade`: a comma-separated list of `exp_compl`,
/// `imp_compl`, `exp_part`, `imp_part`. Spaces around tokens and empty
/// tokens (a doubled or trailing comma) are ignored; an empty value is an
/// empty list; repeated codes are kept once. Case matters (GSDB writes them
/// in lower case).
///
/// # Errors
///
/// [`DescrTradeError::UnknownCode`] for any other token.
pub fn parse_descr_trade(s: &str) -> Result<Vec<TradeMeasure>, DescrTradeError> {
    let mut out = Vec::new();
    for t in s.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let m = TradeMeasure::CODES
            .iter()
            .find(|(c, _)| *c == t)
            .map(|(_, m)| *m)
            .ok_or_else(|| DescrTradeError::UnknownCode(t.to_string()))?;
        if !out.contains(&m) {
            out.push(m);
        }
    }
    Ok(out)
}

/// The severity of one case's trade sanction from its `trade` flag and its
/// `descr_trade` value: `None` without a trade sanction, `Some(true)` when
/// it includes a complete export or import ban, `Some(false)` when every
/// measure is partial.
///
/// # Errors
///
/// An unknown code, or `trade` and `descr_trade` that disagree.
pub fn trade_severity(is_trade: bool, descr: &str) -> Result<Option<bool>, DescrTradeError> {
    let measures = parse_descr_trade(descr)?;
    match (is_trade, measures.is_empty()) {
        (false, true) => Ok(None),
        (false, false) => Err(DescrTradeError::MeasureWithoutTrade(descr.to_string())),
        (true, true) => Err(DescrTradeError::TradeWithoutMeasure),
        (true, false) => Ok(Some(measures.iter().any(|m| m.is_complete()))),
    }
}

/// The three trade-sanction dummies of an unordered pair-year:
/// `(sanction_trade, sanction_complete, sanction_partial)`. `complete` is 1
/// when any active trade case on the pair includes a complete ban,
/// `partial` when a trade case is active and none is complete; so
/// `complete + partial == trade` (`complete` is a subset of `trade` by
/// construction in [`read`]).
pub fn trade_split(s: &Sanctions, key: &(Code, Code, u16)) -> (u8, u8, u8) {
    let trade = s.trade.contains(key);
    let complete = trade && s.complete.contains(key);
    (
        u8::from(trade),
        u8::from(complete),
        u8::from(trade && !complete),
    )
}

pub struct Sanctions {
    /// Unordered pair-years with any sanction.
    pub any: HashSet<(Code, Code, u16)>,
    /// Unordered pair-years with a trade sanction (`trade == 1`).
    pub trade: HashSet<(Code, Code, u16)>,
    /// Unordered pair-years with a trade sanction case that includes a
    /// complete export or import ban (`exp_compl` or `imp_compl`); a subset
    /// of `trade`.
    pub complete: HashSet<(Code, Code, u16)>,
    pub cases: u64,
    pub trade_cases: u64,
    /// Trade cases with a complete ban (the rest are partial).
    pub complete_cases: u64,
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
    let (itgt, isnd, ib, ie, itr, idescr) = (
        col("sanctioned_state")?,
        col("sanctioning_state")?,
        col("begin")?,
        col("end")?,
        col("trade")?,
        col("descr_trade")?,
    );
    let mut out = Sanctions {
        any: HashSet::new(),
        trade: HashSet::new(),
        complete: HashSet::new(),
        cases: 0,
        trade_cases: 0,
        complete_cases: 0,
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
        let severity = trade_severity(is_trade, &rec[idescr]).map_err(|e| {
            anyhow::anyhow!(
                "{file} line {line}, column {} (field {}): {e}",
                &header[idescr],
                idescr + 1
            )
        })?;
        let is_complete = severity == Some(true);
        if is_trade {
            out.trade_cases += 1;
        }
        if is_complete {
            out.complete_cases += 1;
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
                    if is_complete {
                        out.complete.insert((x, z, y));
                    }
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use TradeMeasure::*;

    const HEADER: &str = "case_id,sanctioned_state,sanctioning_state,begin,end,trade,descr_trade,arms,military,financial,travel,other,target_mult,sender_mult,objective,success\n";

    fn read_str(body: &str) -> Result<Sanctions> {
        let text = format!("{HEADER}{body}");
        read(
            text.as_bytes(),
            "gsdb/test.csv",
            &Names::load()?,
            &Groups::load()?,
            (2000, 2019),
        )
    }

    fn key(a: &str, b: &str, y: u16) -> (Code, Code, u16) {
        let code = |s: &str| crate::names::code(s.as_bytes()).unwrap_or(*b"???");
        let (x, z) = unordered(code(a), code(b));
        (x, z, y)
    }

    #[test]
    fn descr_trade_codes_and_spacing() {
        let ok = |s: &str| parse_descr_trade(s).unwrap_or_else(|e| panic!("{s:?}: {e}"));
        assert_eq!(ok(""), vec![]);
        assert_eq!(ok("   "), vec![]);
        assert_eq!(ok(","), vec![]);
        assert_eq!(ok("exp_part"), vec![ExportPartial]);
        assert_eq!(ok("imp_compl"), vec![ImportComplete]);
        assert_eq!(
            ok("exp_compl, imp_compl"),
            vec![ExportComplete, ImportComplete]
        );
        // GSDB writes both "a, b" and "a,b".
        assert_eq!(
            ok("exp_part,imp_compl"),
            vec![ExportPartial, ImportComplete]
        );
        assert_eq!(
            ok("  exp_compl ,imp_part  "),
            vec![ExportComplete, ImportPartial]
        );
        assert_eq!(
            ok("exp_part,,imp_part,"),
            vec![ExportPartial, ImportPartial]
        );
        assert_eq!(ok("\texp_part\t"), vec![ExportPartial]);
        // A repeated code counts once.
        assert_eq!(ok("imp_part, imp_part"), vec![ImportPartial]);
    }

    #[test]
    fn descr_trade_rejects_unknown_codes() {
        for (s, bad) in [
            ("exp_full", "exp_full"),
            ("exp_part; imp_part", "exp_part; imp_part"),
            ("EXP_COMPL", "EXP_COMPL"),
            ("exp_part, 1", "1"),
            ("exp part", "exp part"),
        ] {
            assert_eq!(
                parse_descr_trade(s),
                Err(DescrTradeError::UnknownCode(bad.to_string())),
                "{s:?}"
            );
        }
    }

    #[test]
    fn severity_of_a_case() {
        assert_eq!(trade_severity(false, ""), Ok(None));
        assert_eq!(trade_severity(false, " "), Ok(None));
        assert_eq!(trade_severity(true, "exp_part"), Ok(Some(false)));
        assert_eq!(trade_severity(true, "exp_part, imp_part"), Ok(Some(false)));
        assert_eq!(trade_severity(true, "imp_compl"), Ok(Some(true)));
        assert_eq!(trade_severity(true, "exp_compl,imp_part"), Ok(Some(true)));
        assert_eq!(trade_severity(true, "exp_part, imp_compl"), Ok(Some(true)));
        assert_eq!(
            trade_severity(true, " , "),
            Err(DescrTradeError::TradeWithoutMeasure)
        );
        assert_eq!(
            trade_severity(false, "exp_part"),
            Err(DescrTradeError::MeasureWithoutTrade("exp_part".into()))
        );
    }

    #[test]
    fn split_is_complete_if_any_case_is_and_sums_to_trade() -> Result<()> {
        // USA–CUB: a complete case 2000–2010 and a partial one 2005–2015 (the
        // target and sender swapped: the pair is unordered). USA–IRN: partial
        // only. DEU–RUS: a non-trade case. USA–RUS: partial, 2014 on.
        let s = read_str(
            "1,Cuba,United States,2000,2010,1,\"exp_compl, imp_compl\",0,0,0,0,0,0,0,x,y\n\
             2,United States,Cuba,2005,2015,1,exp_part,0,0,0,0,0,0,0,x,y\n\
             3,Iran,United States,2001,2003,1,\" exp_part ,imp_part\",0,0,0,0,0,0,0,x,y\n\
             4,Russia,Germany,2008,2009,0,,0,0,1,0,0,0,0,x,y\n\
             5,Russia,United States,2014,2019,1,\"exp_part,imp_compl\",0,0,0,0,0,0,0,x,y\n",
        )?;
        assert_eq!((s.cases, s.trade_cases, s.complete_cases), (5, 4, 2));
        for (a, b, y, want) in [
            ("USA", "CUB", 1999, (0, 0, 0)),
            ("USA", "CUB", 2000, (1, 1, 0)),
            ("CUB", "USA", 2007, (1, 1, 0)),
            ("USA", "CUB", 2010, (1, 1, 0)),
            ("USA", "CUB", 2011, (1, 0, 1)),
            ("USA", "CUB", 2015, (1, 0, 1)),
            ("USA", "CUB", 2016, (0, 0, 0)),
            ("IRN", "USA", 2002, (1, 0, 1)),
            ("DEU", "RUS", 2008, (0, 0, 0)),
            ("USA", "RUS", 2014, (1, 1, 0)),
        ] {
            assert_eq!(trade_split(&s, &key(a, b, y)), want, "{a}-{b} {y}");
        }
        assert!(s.any.contains(&key("DEU", "RUS", 2008)));
        // complete ⊆ trade, and complete + partial == trade on every key.
        assert!(s.complete.is_subset(&s.trade));
        for k in s.any.iter().chain(&s.trade) {
            let (t, c, p) = trade_split(&s, k);
            assert_eq!(c + p, t, "{k:?}");
        }
        Ok(())
    }

    #[test]
    fn malformed_descr_trade_names_file_line_and_column() {
        let err = |body: &str| match read_str(body) {
            Ok(_) => panic!("accepted {body:?}"),
            Err(e) => format!("{e:#}"),
        };
        let e = err(
            "1,Cuba,United States,2000,2010,1,exp_part,0,0,0,0,0,0,0,x,y\n\
             2,Iran,United States,2000,2010,1,\"exp_part, exp_total\",0,0,0,0,0,0,0,x,y\n",
        );
        assert!(
            e.contains("gsdb/test.csv line 3, column descr_trade (field 7)")
                && e.contains("\"exp_total\""),
            "{e}"
        );
        let e = err("1,Cuba,United States,2000,2010,1,,0,0,0,0,0,0,0,x,y\n");
        assert!(
            e.contains("line 2, column descr_trade") && e.contains("trade == 1"),
            "{e}"
        );
        let e = err("1,Cuba,United States,2000,2010,0,imp_part,0,0,0,0,0,0,0,x,y\n");
        assert!(
            e.contains("line 2, column descr_trade") && e.contains("trade == 0"),
            "{e}"
        );
    }
}
