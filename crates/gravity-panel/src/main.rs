//! `build-panel`: builds `data/gravity_panel.csv.gz` from the raw files in
//! `shared/data` (see `data/README.md`).
//!
//! ```text
//! cargo run --release --bin build-panel -- --raw ../shared/data --out data/
//! ```
//!
//! The output is deterministic: the same inputs give the same bytes.

mod agreements;
mod dgd;
mod gdp;
mod geodist;
mod inputs;
mod itpde;
mod names;
mod report;
mod sanctions;

use anyhow::{bail, Context, Result};
use clap::Parser;
use flate2::{Compression, GzBuilder};
use names::{text, Code};
use report::{thousands, Report};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::PathBuf;

/// Builds the Korea–EAEU gravity panel from the raw data.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Directory holding the raw files (shared/data).
    #[arg(long)]
    raw: PathBuf,
    /// Output directory (gravity_panel.csv.gz and build_report.txt).
    #[arg(long)]
    out: PathBuf,
}

/// Panel columns, in order (shared with the library).
use gravity_panel::COLUMNS;

/// Industries per broad sector in ITPD-E R02.
const N_MANU: u32 = 118;
const N_AGRI: u32 = 28;
const N_MINE: u32 = 7;
const N_SERV: u32 = 17;
/// A domestic row is kept when at least this many manufacturing industries
/// report (100 of 118, about 85%).
const DOMESTIC_MIN_MANU: u32 = 100;
/// Domestic `trade_goods` is filled only when agriculture and mining are
/// equally near complete (about 85% of their industries).
const DOMESTIC_MIN_AGRI: u32 = 24;
const DOMESTIC_MIN_MINE: u32 = 6;
/// A domestic sector column is filled under the same rule: at least about
/// 85% of the sector's industries report (24 of 28, 6 of 7, 15 of 17).
const DOMESTIC_MIN_SERV: u32 = 15;
/// gzip level of the output (fixed for reproducibility).
const GZIP_LEVEL: u32 = 9;

fn main() {
    let args = Args::parse();
    if let Err(e) = run(&args) {
        eprintln!("build-panel: error: {e:#}");
        std::process::exit(1);
    }
}

/// Formats a non-negative value with at most 6 decimals, trailing zeros trimmed.
fn num(x: f64) -> String {
    let s = format!("{x:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" || s.is_empty() {
        "0".to_string()
    } else {
        s.to_string()
    }
}

fn run(args: &Args) -> Result<()> {
    let mut rep = Report::default();
    rep.line("# gravity panel build report");
    rep.line("");
    rep.line("## inputs (SHA-256 verified)");
    // Verify every input before parsing any.
    let mut bytes = Vec::new();
    for input in inputs::ALL {
        bytes.push(inputs::load(&args.raw, input)?);
        rep.line(format!("- {}  {}", input.sha256, input.rel));
    }
    let [b_itpde, b_dgd, b_geo, b_desta, b_gsdb, b_gdp]: [Vec<u8>; 6] = bytes
        .try_into()
        .map_err(|_| anyhow::anyhow!("internal: input count"))?;

    let names = names::Names::load()?;
    let groups = names::Groups::load()?;

    let itpde = itpde::read(&b_itpde, inputs::ITPDE.rel)?;
    let geo = geodist::read(&b_geo, inputs::GEODIST.rel)?;
    let dgd = dgd::read(&b_dgd, inputs::DGD.rel)?;
    let desta = agreements::read_desta(&b_desta, inputs::DESTA.rel, &names)?;
    let gdp = gdp::read(&b_gdp, inputs::GDP.rel)?;

    let years: BTreeSet<u16> = itpde.cells.keys().map(|k| k.2).collect();
    let (y0, y1) = match (years.first(), years.last()) {
        (Some(a), Some(b)) => (*a, *b),
        _ => bail!("{}: no goods rows", inputs::ITPDE.rel),
    };
    let gsdb = sanctions::read(&b_gsdb, inputs::GSDB.rel, &names, &groups, (y0, y1))?;

    // ---- build rows -------------------------------------------------------
    let path = args.out.join("gravity_panel.csv.gz");
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let file =
        std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
    let gz = GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(std::io::BufWriter::new(file), Compression::new(GZIP_LEVEL));
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(gz);
    w.write_record(COLUMNS)?;

    let mut n_rows = 0u64;
    let mut n_intl = 0u64;
    let mut n_dom = 0u64;
    let mut zeros_trade = 0u64;
    let mut zeros_goods = 0u64;
    let mut missing_trade = 0u64;
    let mut dom_goods_filled = 0u64;
    // Per sector (agriculture, mining & energy, services): rows with a
    // value, zeros, and domestic values filled.
    let mut sector_rows = [0u64; 3];
    let mut sector_zeros = [0u64; 3];
    let mut sector_dom = [0u64; 3];
    let mut services_only = 0u64;
    let mut dom_dropped_low = 0u64;
    let mut dom_dropped_nomanu = 0u64;
    let mut dom_kept: BTreeMap<Code, Vec<u16>> = BTreeMap::new();
    let mut dom_dropped_focus: BTreeMap<Code, Vec<(u16, u32)>> = BTreeMap::new();
    let mut countries: BTreeSet<Code> = BTreeSet::new();
    let mut exporters: BTreeSet<Code> = BTreeSet::new();
    let mut importers: BTreeSet<Code> = BTreeSet::new();
    let mut rows_no_geo = 0u64;
    let mut no_geo_codes: BTreeSet<Code> = BTreeSet::new();
    let mut rows_no_ldist = 0u64;
    let mut rows_ldist_from_dist = 0u64;
    let mut fta_rows = 0u64;
    let mut eaeu_rows = 0u64;
    let mut st_rows = 0u64;
    let mut sa_rows = 0u64;
    let mut sc_rows = 0u64;
    let mut sp_rows = 0u64;
    let mut tally = agreements::Tally::default();
    let mut seen_pair_years: BTreeSet<(Code, Code, u16)> = BTreeSet::new();

    for (&(e, i, y), cell) in &itpde.cells {
        let domestic = e == i;
        let (trade, goods): (Option<f64>, Option<f64>);
        // The broad sectors beside manufacturing; on domestic rows only when
        // the sector's coverage is near complete.
        let sector = |s: Option<itpde::Sector>, min: u32| -> Option<f64> {
            s.filter(|s| !domestic || s.n_ind >= min).map(|s| s.trade)
        };
        let sectors = [
            sector(cell.agri, DOMESTIC_MIN_AGRI),
            sector(cell.mine, DOMESTIC_MIN_MINE),
            sector(cell.serv, DOMESTIC_MIN_SERV),
        ];
        if domestic {
            match cell.manu {
                None => {
                    dom_dropped_nomanu += 1;
                    continue;
                }
                Some(m) if m.n_ind < DOMESTIC_MIN_MANU => {
                    dom_dropped_low += 1;
                    if agreements::FOCUS.iter().any(|f| e == f.as_bytes()) {
                        dom_dropped_focus.entry(e).or_default().push((y, m.n_ind));
                    }
                    continue;
                }
                Some(m) => {
                    trade = Some(m.trade);
                    goods = match (cell.agri, cell.mine) {
                        (Some(a), Some(mi))
                            if a.n_ind >= DOMESTIC_MIN_AGRI && mi.n_ind >= DOMESTIC_MIN_MINE =>
                        {
                            dom_goods_filled += 1;
                            Some(a.trade + mi.trade + m.trade)
                        }
                        _ => None,
                    };
                    dom_kept.entry(e).or_default().push(y);
                    n_dom += 1;
                }
            }
        } else {
            trade = cell.manu.map(|m| m.trade);
            // Sum of the goods sectors that have a record (fixed order);
            // missing on a cell with services only.
            let any_goods = cell.agri.is_some() || cell.mine.is_some() || cell.manu.is_some();
            goods = any_goods.then(|| {
                cell.agri.map_or(0.0, |s| s.trade)
                    + cell.mine.map_or(0.0, |s| s.trade)
                    + cell.manu.map_or(0.0, |s| s.trade)
            });
            services_only += u64::from(!any_goods);
            n_intl += 1;
        }
        for (k, v) in sectors.iter().enumerate() {
            if let Some(v) = v {
                sector_rows[k] += 1;
                sector_zeros[k] += u64::from(*v == 0.0);
                sector_dom[k] += u64::from(domestic);
            }
        }
        if trade.is_none() {
            missing_trade += 1;
        } else if trade == Some(0.0) {
            zeros_trade += 1;
        }
        if goods == Some(0.0) {
            zeros_goods += 1;
        }
        countries.insert(e);
        countries.insert(i);
        exporters.insert(e);
        importers.insert(i);

        let g = geo.pairs.get(&(e, i));
        if g.is_none() {
            rows_no_geo += 1;
            for c in [e, i] {
                if !geo.pairs.contains_key(&(c, c)) {
                    no_geo_codes.insert(c);
                }
            }
        } else if g.is_some_and(|g| g.ldist.is_none()) {
            rows_no_ldist += 1;
        } else if g.is_some_and(|g| g.from_dist) {
            rows_ldist_from_dist += 1;
        }

        let (fta, eaeu, st, sa, sc, sp) = if domestic {
            (0u8, 0u8, 0u8, 0u8, 0u8, 0u8)
        } else {
            let (a, b) = agreements::unordered(e, i);
            let (mut fta, cat) = agreements::resolve(&dgd, &desta, a, b, y);
            let eaeu = agreements::eaeu(a, b, y);
            let first = seen_pair_years.insert((a, b, y));
            if fta == 1 && agreements::is_dgd_error(a, b) {
                fta = 0;
                if first {
                    tally.dgd_error.entry((a, b)).or_default().push(y);
                }
            }
            if first {
                tally
                    .by_cat
                    .entry(cat)
                    .or_default()
                    .entry((a, b))
                    .or_default()
                    .push(y);
            }
            if eaeu == 1 && fta == 0 {
                fta = 1;
                if first {
                    tally.eaeu_override.entry((a, b)).or_default().push(y);
                }
            }
            let (st, sc, sp) = sanctions::trade_split(&gsdb, &(a, b, y));
            let sa = u8::from(gsdb.any.contains(&(a, b, y)));
            (fta, eaeu, st, sa, sc, sp)
        };
        if sc + sp != st {
            bail!(
                "internal: {}->{} {y}: sanction_complete {sc} + sanction_partial {sp} != sanction_trade {st}",
                text(&e),
                text(&i)
            );
        }
        fta_rows += u64::from(fta);
        eaeu_rows += u64::from(eaeu);
        st_rows += u64::from(st);
        sa_rows += u64::from(sa);
        sc_rows += u64::from(sc);
        sp_rows += u64::from(sp);

        let opt = |v: Option<f64>| v.map(num).unwrap_or_default();
        let dummy = |f: fn(&geodist::Geo) -> u8| g.map(|g| f(g).to_string()).unwrap_or_default();
        w.write_record([
            text(&e).to_string(),
            text(&i).to_string(),
            y.to_string(),
            opt(trade),
            opt(goods),
            opt(sectors[0]),
            opt(sectors[1]),
            opt(sectors[2]),
            u8::from(domestic).to_string(),
            opt(g.and_then(|g| g.ldist)),
            dummy(|g| g.contig),
            dummy(|g| g.lang),
            dummy(|g| g.colony),
            fta.to_string(),
            eaeu.to_string(),
            st.to_string(),
            sa.to_string(),
            sc.to_string(),
            sp.to_string(),
        ])
        .with_context(|| format!("writing {}", path.display()))?;
        n_rows += 1;
    }
    let gz = w
        .into_inner()
        .map_err(|e| anyhow::anyhow!("writing {}: {}", path.display(), e.error()))?;
    let mut inner = gz
        .finish()
        .with_context(|| format!("writing {}", path.display()))?;
    inner
        .flush()
        .with_context(|| format!("writing {}", path.display()))?;
    drop(inner);

    // ---- report -----------------------------------------------------------
    rep.line("");
    rep.line("## panel");
    rep.kv("rows", n_rows);
    rep.kv("international rows", n_intl);
    rep.kv("domestic rows", n_dom);
    rep.kv("countries", countries.len());
    rep.kv("exporters", exporters.len());
    rep.kv("importers", importers.len());
    rep.kv("years", format!("{y0}-{y1} ({} years)", years.len()));
    rep.kv("trade zeros", zeros_trade);
    rep.kv("trade missing (no manufacturing record)", missing_trade);
    rep.kv("trade_goods zeros", zeros_goods);
    rep.kv(
        "trade_goods missing (domestic, agri/mining incomplete)",
        n_dom - dom_goods_filled,
    );
    rep.kv("fta rows", fta_rows);
    rep.kv("eaeu rows", eaeu_rows);
    rep.kv("sanction_trade rows", st_rows);
    rep.kv("sanction_any rows", sa_rows);
    rep.kv("sanction_complete rows", sc_rows);
    rep.kv("sanction_partial rows", sp_rows);
    rep.kv("rows without GeoDist covariates", rows_no_geo);
    rep.kv(
        "rows with ldist from GeoDist dist (no distw)",
        rows_ldist_from_dist,
    );
    rep.kv("rows with GeoDist pair but no distance", rows_no_ldist);
    rep.kv(
        "codes absent from GeoDist",
        no_geo_codes.iter().map(text).collect::<Vec<_>>().join(" "),
    );
    rep.kv(
        "output",
        format!("gravity_panel.csv.gz (gzip level {GZIP_LEVEL}, mtime 0, no file name)"),
    );

    rep.line("");
    rep.line("## ITPD-E input");
    rep.kv("ITPD-E rows read", itpde.rows_read);
    rep.kv("ITPD-E services rows", itpde.services_rows);
    rep.kv(
        "cells (exporter-importer-year, any sector)",
        itpde.cells.len(),
    );
    rep.kv("international rows with services only", services_only);
    for (k, (name, n, min)) in [
        ("trade_agriculture", N_AGRI, DOMESTIC_MIN_AGRI),
        ("trade_mining_energy", N_MINE, DOMESTIC_MIN_MINE),
        ("trade_services", N_SERV, DOMESTIC_MIN_SERV),
    ]
    .into_iter()
    .enumerate()
    {
        rep.kv(
            &format!("{name} rows with a value"),
            format!(
                "{} ({} zeros; {} domestic, n_ind >= {min} of {n})",
                sector_rows[k], sector_zeros[k], sector_dom[k]
            ),
        );
    }
    rep.kv(
        "domestic rows dropped: manufacturing below threshold",
        format!("{dom_dropped_low} (n_ind < {DOMESTIC_MIN_MANU} of {N_MANU})"),
    );
    rep.kv(
        "domestic rows dropped: no manufacturing record",
        dom_dropped_nomanu,
    );
    rep.kv(
        "domestic trade_goods filled",
        format!(
            "{dom_goods_filled} (agriculture n_ind >= {DOMESTIC_MIN_AGRI} of {N_AGRI} and mining n_ind >= {DOMESTIC_MIN_MINE} of {N_MINE})"
        ),
    );
    rep.line("domestic rows kept (country: years):");
    for (c, ys) in &dom_kept {
        rep.line(format!("- {}: {}", text(c), agreements::ranges(ys)));
    }
    rep.line("domestic rows dropped for KOR/EAEU/major countries (year: n_ind):");
    for (c, v) in &dom_dropped_focus {
        let s: Vec<String> = v.iter().map(|(y, n)| format!("{y}:{n}")).collect();
        rep.line(format!("- {}: {}", text(c), s.join(" ")));
    }

    rep.line("");
    rep.line("## GeoDist input");
    rep.kv("GeoDist pairs", geo.pairs.len());
    rep.kv("GeoDist pairs without distw (dist used)", geo.missing_distw);
    rep.kv("GeoDist pairs without distw or dist", geo.missing_both);
    let rec: Vec<String> = geodist::RECODE
        .iter()
        .map(|(a, b)| format!("{}->{}", names::text(a), names::text(b)))
        .collect();
    rep.kv("GeoDist codes recoded", rec.join(" "));

    rep.line("");
    rep.line("## fta: DGD rta vs DESTA (unordered pair-years in the panel)");
    rep.kv("DGD rows read", dgd.rows_read);
    rep.kv(
        "DGD exact duplicate rows dropped",
        dgd.duplicate_rows - dgd.conflicting_duplicates,
    );
    rep.kv(
        "DGD conflicting duplicate rows (rta=1 kept)",
        dgd.conflicting_duplicates,
    );
    rep.kv(
        "DGD asymmetric pair-years (rta=1 if either direction)",
        dgd.asymmetric_pair_years(),
    );
    rep.kv("DESTA dyad rows read", desta.rows_read);
    rep.kv(
        "DESTA dyad rows without entry-into-force year",
        desta.rows_without_eif,
    );
    rep.kv("DESTA names unmapped", desta.unmapped.len());
    for (n, c) in &desta.unmapped {
        rep.line(format!("- DESTA unmapped name {n:?} ({c} rows)"));
    }
    let missing_focus = agreements::check_focus(&desta);
    if !missing_focus.is_empty() {
        rep.kv("focus countries absent from DESTA", missing_focus.join(" "));
    }
    rep.line("| category | pair-years | pairs | resolution | examples |");
    rep.line("|---|---:|---:|---|---|");
    for cat in agreements::Category::ALL {
        let (desc, res) = cat.describe();
        let empty = BTreeMap::new();
        let pairs = tally.by_cat.get(&cat).unwrap_or(&empty);
        let n: usize = pairs.values().map(Vec::len).sum();
        let ex = if matches!(
            cat,
            agreements::Category::Agree1 | agreements::Category::Agree0
        ) {
            String::new()
        } else {
            agreements::examples(pairs, &desta, 4).join("<br>")
        };
        rep.line(format!(
            "| {desc} | {} | {} | {res} | {ex} |",
            thousands(n as u64),
            thousands(pairs.len() as u64)
        ));
    }
    let n_err: usize = tally.dgd_error.values().map(Vec::len).sum();
    rep.kv("pair-years set to fta=0 as documented DGD errors", n_err);
    for ex in agreements::examples(&tally.dgd_error, &desta, 10) {
        rep.line(format!("- {ex}"));
    }
    let n_over: usize = tally.eaeu_override.values().map(Vec::len).sum();
    rep.kv("pair-years set to fta=1 by the EAEU rule", n_over);
    for ex in agreements::examples(&tally.eaeu_override, &desta, 10) {
        rep.line(format!("- {ex}"));
    }

    rep.line("");
    rep.line("## sanctions (GSDB)");
    rep.kv("GSDB cases", gsdb.cases);
    rep.kv("GSDB trade cases", gsdb.trade_cases);
    rep.kv(
        "GSDB trade cases with a complete ban (exp_compl or imp_compl)",
        gsdb.complete_cases,
    );
    rep.kv(
        "GSDB trade cases with partial measures only",
        gsdb.trade_cases - gsdb.complete_cases,
    );
    rep.kv(
        "unordered dyad-years, any sanction (all years)",
        gsdb.any.len(),
    );
    rep.kv(
        "unordered dyad-years, trade sanction (all years)",
        gsdb.trade.len(),
    );
    rep.kv(
        "unordered dyad-years, complete trade sanction (all years)",
        gsdb.complete.len(),
    );
    rep.kv(
        "self dyads skipped (sender group contains target)",
        gsdb.self_dyads_skipped,
    );
    rep.line("groups expanded to members (name: case mentions):");
    for (g, n) in &gsdb.groups_expanded {
        rep.line(format!("- {g}: {n}"));
    }
    rep.line(format!(
        "groups / non-state names not expanded (name: cases, cases overlapping {y0}-{y1}; reason):"
    ));
    for (g, s) in &gsdb.not_expanded {
        let reason = sanctions::NOT_EXPANDED
            .iter()
            .find(|(n, _)| n == g)
            .map_or("", |(_, r)| *r);
        rep.line(format!(
            "- {g}: {}, {}; {reason}",
            s.cases, s.cases_in_window
        ));
    }
    rep.kv("GSDB names unmapped", gsdb.unmapped.len());
    for (n, s) in &gsdb.unmapped {
        rep.line(format!(
            "- GSDB unmapped name {n:?}: {} cases, {} overlapping {y0}-{y1}",
            s.cases, s.cases_in_window
        ));
    }

    // ---- GDP of the panel's countries (World Bank, millions of US$) ------
    let gdp_path = args.out.join("gdp.csv");
    let mut g = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_path(&gdp_path)
        .with_context(|| format!("creating {}", gdp_path.display()))?;
    g.write_record(["country", "year", "gdp"])?;
    let mut gdp_rows = 0u64;
    let mut gdp_missing: Vec<Code> = Vec::new();
    for c in &countries {
        let mut any = false;
        for y in y0..=y1 {
            if let Some(v) = gdp.get(&(*c, y)) {
                g.write_record([
                    String::from_utf8_lossy(c).into_owned(),
                    y.to_string(),
                    num(*v),
                ])?;
                gdp_rows += 1;
                any = true;
            }
        }
        if !any {
            gdp_missing.push(*c);
        }
    }
    g.flush()?;
    rep.line("");
    rep.line("## GDP (World Bank, current US$, millions)");
    rep.kv("country-years with GDP", gdp_rows);
    rep.kv(
        "panel countries without any GDP",
        gdp_missing
            .iter()
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" "),
    );

    let report_path = args.out.join("build_report.txt");
    std::fs::write(&report_path, rep.text())
        .with_context(|| format!("writing {}", report_path.display()))?;
    print!("{}", rep.text());
    println!("wrote {} and {}", path.display(), report_path.display());
    Ok(())
}
