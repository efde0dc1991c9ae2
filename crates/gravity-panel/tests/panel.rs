//! Facts about the shipped panel `data/gravity_panel.csv.gz`.
//!
//! The default tests read the committed file directly (flate2 + csv), so they
//! need nothing outside the repository. The `#[ignore]`d tests rebuild the
//! panel from the raw files in `../shared/data` (or `$GRAVITY_RAW_DATA`):
//! run them with `cargo test --release -- --ignored`. They fail, not skip,
//! when the raw files are absent.

use flate2::read::GzDecoder;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const EXPECTED_HEADER: [&str; 19] = [
    "exporter",
    "importer",
    "year",
    "trade",
    "trade_goods",
    "trade_agriculture",
    "trade_mining_energy",
    "trade_services",
    "domestic_complete",
    "ldist",
    "contig",
    "lang",
    "colony",
    "fta",
    "eaeu",
    "sanction_trade",
    "sanction_any",
    "sanction_complete",
    "sanction_partial",
];

fn data_dir() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("data")
}

/// One panel row; the 0/1 columns in `dummies` (domestic_complete, contig,
/// lang, colony, fta, eaeu, sanction_trade, sanction_any, sanction_complete,
/// sanction_partial), `None` when empty.
#[derive(Debug, Clone)]
struct Row {
    trade: Option<f64>,
    trade_goods: Option<f64>,
    /// Agriculture, mining & energy, services.
    sectors: [Option<f64>; 3],
    ldist: Option<f64>,
    dummies: [Option<u8>; 10],
}

const D_DOMESTIC: usize = 0;
const D_FTA: usize = 4;
const D_EAEU: usize = 5;
const D_STRADE: usize = 6;
const D_SANY: usize = 7;
const D_SCOMPLETE: usize = 8;
const D_SPARTIAL: usize = 9;

struct Panel {
    header: Vec<String>,
    keys: Vec<(String, String, u16)>,
    rows: HashMap<(String, String, u16), Row>,
}

fn opt_f64(s: &str, what: &str, line: usize) -> Option<f64> {
    if s.is_empty() {
        None
    } else {
        let v: f64 = s
            .parse()
            .unwrap_or_else(|_| panic!("line {line}: {what} {s:?} is not a number"));
        assert!(v.is_finite(), "line {line}: {what} not finite");
        Some(v)
    }
}

fn read_panel(path: &Path) -> Panel {
    let file =
        std::fs::File::open(path).unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    let mut rdr = csv::Reader::from_reader(GzDecoder::new(file));
    let header: Vec<String> = rdr
        .headers()
        .unwrap_or_else(|e| panic!("{}: header: {e}", path.display()))
        .iter()
        .map(String::from)
        .collect();
    let mut keys = Vec::new();
    let mut rows = HashMap::new();
    for (n, rec) in rdr.records().enumerate() {
        let line = n + 2;
        let rec = rec.unwrap_or_else(|e| panic!("{} line {line}: {e}", path.display()));
        assert_eq!(rec.len(), EXPECTED_HEADER.len(), "line {line}: field count");
        let year: u16 = rec[2]
            .parse()
            .unwrap_or_else(|_| panic!("line {line}: bad year"));
        let mut dummies = [None; 10];
        for (k, i) in [8usize, 10, 11, 12, 13, 14, 15, 16, 17, 18]
            .into_iter()
            .enumerate()
        {
            dummies[k] = match &rec[i] {
                "" => None,
                "0" => Some(0),
                "1" => Some(1),
                other => panic!("line {line}: column {} is {other:?}, not 0/1", header[i]),
            };
        }
        let row = Row {
            trade: opt_f64(&rec[3], "trade", line),
            trade_goods: opt_f64(&rec[4], "trade_goods", line),
            sectors: [
                opt_f64(&rec[5], "trade_agriculture", line),
                opt_f64(&rec[6], "trade_mining_energy", line),
                opt_f64(&rec[7], "trade_services", line),
            ],
            ldist: opt_f64(&rec[9], "ldist", line),
            dummies,
        };
        let key = (rec[0].to_string(), rec[1].to_string(), year);
        keys.push(key.clone());
        assert!(
            rows.insert(key.clone(), row).is_none(),
            "duplicate row {key:?} at line {line}"
        );
    }
    Panel { header, keys, rows }
}

fn panel() -> &'static Panel {
    static PANEL: OnceLock<Panel> = OnceLock::new();
    PANEL.get_or_init(|| read_panel(&data_dir().join("gravity_panel.csv.gz")))
}

fn row(e: &str, i: &str, y: u16) -> &'static Row {
    panel()
        .rows
        .get(&(e.to_string(), i.to_string(), y))
        .unwrap_or_else(|| panic!("no row {e}->{i} {y}"))
}

fn dummy(e: &str, i: &str, y: u16, k: usize) -> u8 {
    row(e, i, y).dummies[k].unwrap_or_else(|| panic!("{e}->{i} {y}: dummy {k} empty"))
}

/// "rows: N" from a build report.
fn report_rows(report: &str) -> usize {
    report
        .lines()
        .find_map(|l| l.strip_prefix("rows: "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("build report has no 'rows: N' line:\n{report}"))
}

#[test]
fn header_is_exact() {
    assert_eq!(panel().header, EXPECTED_HEADER);
}

#[test]
fn rows_are_unique_and_sorted() {
    let keys = &panel().keys;
    assert_eq!(keys.len(), panel().rows.len(), "duplicate keys");
    assert!(
        keys.windows(2).all(|w| w[0] < w[1]),
        "rows not sorted by exporter, importer, year"
    );
}

#[test]
fn kor_rus_manufacturing() {
    let t2008 = row("KOR", "RUS", 2008).trade.unwrap_or(f64::NAN);
    let t2019 = row("KOR", "RUS", 2019).trade.unwrap_or(f64::NAN);
    assert_eq!((t2008 * 10.0).round() / 10.0, 10_517.7, "2008: {t2008}");
    assert_eq!((t2019 * 10.0).round() / 10.0, 7_980.1, "2019: {t2019}");
}

/// Each broad sector as ITPD-E R02 lists it (`itpde_r02_broad_sector_totals`,
/// read with zcat/awk on 2026-12-02), and the goods total is their sum with
/// manufacturing.
#[test]
fn broad_sectors_match_the_raw_file() {
    let cases: [(&str, &str, u16, [Option<f64>; 3]); 3] = [
        (
            "KOR",
            "RUS",
            2008,
            [Some(3.967634), Some(0.022874), Some(393.078822)],
        ),
        (
            "KOR",
            "RUS",
            2019,
            [Some(31.235534), Some(0.292733), Some(0.0)],
        ),
        (
            "RUS",
            "KOR",
            2019,
            [Some(430.487866), Some(8795.697975), Some(0.0)],
        ),
    ];
    for (e, i, y, want) in cases {
        let r = row(e, i, y);
        for (k, w) in want.iter().enumerate() {
            let (got, w) = (r.sectors[k].unwrap(), w.unwrap());
            assert!(
                (got - w).abs() < 5e-7,
                "{e}->{i} {y} sector {k}: {got} vs {w}"
            );
        }
        let goods = r.sectors[0].unwrap() + r.sectors[1].unwrap() + r.trade.unwrap();
        assert!(
            (r.trade_goods.unwrap() - goods).abs() < 2e-6,
            "{e}->{i} {y} goods"
        );
    }
    // Mining & energy is most of Korea's imports from Russia.
    let r = row("RUS", "KOR", 2019);
    assert!(r.sectors[1].unwrap() > r.trade.unwrap());
    // Domestic rows carry a sector only with near-complete coverage: none for
    // agriculture and services, a few for mining and energy.
    let p = panel();
    let dom = |k: usize| {
        p.rows
            .iter()
            .filter(|((e, i, _), r)| e == i && r.sectors[k].is_some())
            .count()
    };
    assert_eq!((dom(0), dom(1), dom(2)), (0, 23, 0));
    // Every row's sector columns are non-negative where present.
    assert!(p
        .rows
        .values()
        .all(|r| r.sectors.iter().flatten().all(|v| *v >= 0.0)));
}

#[test]
fn kor_rus_goods_trade_2019_matches_kita() {
    // Korea International Trade Association: KOR–RUS goods trade 2019 = $22.34 bn.
    let a = row("KOR", "RUS", 2019).trade_goods.unwrap_or(f64::NAN);
    let b = row("RUS", "KOR", 2019).trade_goods.unwrap_or(f64::NAN);
    let total = a + b; // millions of US$
    let kita = 22_340.0;
    assert!(
        (total / kita - 1.0).abs() < 0.05,
        "KOR–RUS goods trade 2019 = {total} million, KITA {kita}"
    );
}

#[test]
fn eaeu_and_customs_union() {
    for (a, b) in [("RUS", "KAZ"), ("RUS", "BLR")] {
        for (e, i) in [(a, b), (b, a)] {
            assert_eq!(dummy(e, i, 2016, D_EAEU), 1, "{e}->{i} eaeu 2016");
            assert_eq!(dummy(e, i, 2012, D_FTA), 1, "{e}->{i} fta 2012");
            assert_eq!(dummy(e, i, 2012, D_EAEU), 0, "{e}->{i} eaeu 2012");
        }
    }
}

#[test]
fn kor_rus_never_fta() {
    for (e, i) in [("KOR", "RUS"), ("RUS", "KOR")] {
        for y in 2000..=2019 {
            assert_eq!(dummy(e, i, y, D_FTA), 0, "{e}->{i} fta {y}");
        }
    }
}

#[test]
fn sanctions_on_russia() {
    for s in ["USA", "DEU"] {
        for (e, i) in [(s, "RUS"), ("RUS", s)] {
            assert_eq!(
                dummy(e, i, 2016, D_STRADE),
                1,
                "{e}->{i} sanction_trade 2016"
            );
            assert_eq!(dummy(e, i, 2008, D_SANY), 0, "{e}->{i} sanction_any 2008");
        }
    }
    for (e, i) in [("UKR", "RUS"), ("RUS", "UKR")] {
        // GSDB's 1990s Russia–Ukraine cases end in 1996.
        assert_eq!(
            dummy(e, i, 2000, D_STRADE),
            0,
            "{e}->{i} sanction_trade 2000"
        );
    }
}

/// `sanction_complete` + `sanction_partial` == `sanction_trade` on every row;
/// the counts equal the committed build report; named cases as GSDB codes
/// them (`descr_trade` of the cases in force, read from GSDB_V3.csv).
#[test]
fn sanctions_split_into_complete_and_partial() {
    let p = panel();
    let (mut st, mut sc, mut sp) = (0usize, 0usize, 0usize);
    for ((e, i, y), r) in &p.rows {
        let d = |k: usize| r.dummies[k].unwrap_or_else(|| panic!("{e}->{i} {y}: dummy {k} empty"));
        let (t, c, q) = (d(D_STRADE), d(D_SCOMPLETE), d(D_SPARTIAL));
        assert_eq!(
            c + q,
            t,
            "{e}->{i} {y}: complete {c} + partial {q} != trade {t}"
        );
        st += usize::from(t);
        sc += usize::from(c);
        sp += usize::from(q);
    }
    let report = std::fs::read_to_string(data_dir().join("build_report.txt"))
        .unwrap_or_else(|e| panic!("data/build_report.txt: {e}"));
    let count = |key: &str| -> usize {
        report
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("build report has no '{key} N' line"))
    };
    assert_eq!(st, count("sanction_trade rows:"));
    assert_eq!(sc, count("sanction_complete rows:"));
    assert_eq!(sp, count("sanction_partial rows:"));
    assert!(sc > 0 && sp > 0);
    // (pair, year, complete, partial), both directions of each pair.
    for (a, b, y, c, q) in [
        // The US embargo on Cuba (exp_compl, imp_compl).
        ("USA", "CUB", 2016, 1, 0),
        // North Korea: complete US and South Korean measures.
        ("USA", "PRK", 2005, 1, 0),
        ("KOR", "PRK", 2016, 1, 0),
        // Russia from 2014: the US and EU cases are partial.
        ("USA", "RUS", 2016, 0, 1),
        ("DEU", "RUS", 2016, 0, 1),
        // No trade sanction: both 0.
        ("KOR", "RUS", 2016, 0, 0),
    ] {
        for (e, i) in [(a, b), (b, a)] {
            assert_eq!(
                (dummy(e, i, y, D_SCOMPLETE), dummy(e, i, y, D_SPARTIAL)),
                (c, q),
                "{e}->{i} {y}"
            );
        }
    }
}

#[test]
fn domestic_rows_are_marked_and_complete() {
    let mut n_dom = 0;
    for ((e, i, y), r) in &panel().rows {
        let domestic = e == i;
        assert_eq!(
            r.dummies[D_DOMESTIC],
            Some(u8::from(domestic)),
            "{e}->{i} {y}: domestic_complete"
        );
        if domestic {
            n_dom += 1;
            assert!(r.trade.is_some(), "{e} {y}: domestic row without trade");
            for k in [D_FTA, D_EAEU, D_STRADE, D_SANY, D_SCOMPLETE, D_SPARTIAL] {
                assert_eq!(r.dummies[k], Some(0), "{e} {y}: domestic dummy {k}");
            }
        }
        for v in [r.trade, r.trade_goods].into_iter().flatten() {
            assert!(v >= 0.0, "{e}->{i} {y}: negative flow");
        }
        if let Some(d) = r.ldist {
            assert!(d > 0.0 && d < 10.0, "{e}->{i} {y}: ldist {d}");
        }
    }
    assert!(n_dom > 0, "no domestic rows");
    // KOR 2018–2019 has no domestic value in ITPD-E: never invented.
    assert!(!panel()
        .rows
        .contains_key(&("KOR".to_string(), "KOR".to_string(), 2019)));
}

#[test]
fn row_count_equals_committed_build_report() {
    let report = std::fs::read_to_string(data_dir().join("build_report.txt"))
        .unwrap_or_else(|e| panic!("data/build_report.txt: {e}"));
    assert_eq!(panel().rows.len(), report_rows(&report));
}

/// The raw data directory: `$GRAVITY_RAW_DATA`, else `../shared/data` beside
/// the crate (or `../../shared/data` for a worktree one level deeper).
/// Panics (the test fails) when none holds the raw files.
fn raw_dir() -> PathBuf {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let mut tried = Vec::new();
    let mut candidates = Vec::new();
    if let Some(p) = std::env::var_os("GRAVITY_RAW_DATA") {
        candidates.push(PathBuf::from(p));
    }
    candidates.push(root.join("../shared/data"));
    candidates.push(root.join("../../shared/data"));
    for c in candidates {
        if c.join("itpde_r02").is_dir() {
            return c;
        }
        tried.push(c.display().to_string());
    }
    panic!(
        "raw data not found (tried {}); set GRAVITY_RAW_DATA to shared/data",
        tried.join(", ")
    );
}

#[test]
#[ignore = "needs the raw files in ../shared/data"]
fn rebuild_gives_identical_bytes_and_matching_report() {
    let raw = raw_dir();
    let out = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_build-panel"))
        .arg("--raw")
        .arg(&raw)
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap_or_else(|e| panic!("running build-panel: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "build-panel failed:\n{}\n{}",
        stdout,
        String::from_utf8_lossy(&output.stderr)
    );
    for name in ["gravity_panel.csv.gz", "build_report.txt", "gdp.csv"] {
        let fresh =
            std::fs::read(out.path().join(name)).unwrap_or_else(|e| panic!("rebuilt {name}: {e}"));
        let shipped =
            std::fs::read(data_dir().join(name)).unwrap_or_else(|e| panic!("data/{name}: {e}"));
        assert!(fresh == shipped, "rebuilt {name} differs from data/{name}");
    }
    // The printed report's row count equals the rows of the rebuilt file.
    let rebuilt = read_panel(&out.path().join("gravity_panel.csv.gz"));
    assert_eq!(rebuilt.rows.len(), report_rows(&stdout));
}

#[test]
#[ignore = "needs the raw files in ../shared/data"]
fn builder_rejects_a_changed_input() {
    let raw = raw_dir();
    let fake = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    // Copy the tree structure with one file altered (in a temp dir only).
    for rel in [
        "itpde_r02/itpde_r02_broad_sector_totals.csv.gz",
        "usitc_dgd/dgd_2_1_rob.csv.gz",
        "cepii_geodist/dist_cepii.csv",
        "desta/desta_list_of_treaties_02_02_dyads.csv",
        "gsdb/GSDB_V3.csv",
        "wb_gdp/gdp.csv",
    ] {
        let dst = fake.path().join(rel);
        std::fs::create_dir_all(dst.parent().unwrap_or(fake.path()))
            .unwrap_or_else(|e| panic!("mkdir: {e}"));
        let mut bytes = std::fs::read(raw.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
        if rel.starts_with("gsdb") {
            bytes.extend_from_slice(b"\n");
        }
        std::fs::write(&dst, bytes).unwrap_or_else(|e| panic!("write {rel}: {e}"));
    }
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_build-panel"))
        .arg("--raw")
        .arg(fake.path())
        .arg("--out")
        .arg(fake.path().join("out"))
        .output()
        .unwrap_or_else(|e| panic!("running build-panel: {e}"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "changed input accepted");
    assert!(
        stderr.contains("GSDB_V3.csv") && stderr.contains("SHA-256"),
        "unclear error: {stderr}"
    );
}

#[test]
fn load_shipped_panel_has_expected_columns_and_rows() {
    let frame =
        gravity_panel::load_shipped_panel().unwrap_or_else(|e| panic!("load_shipped_panel: {e}"));
    assert_eq!(frame.names(), &gravity_panel::COLUMNS.map(String::from)[..]);
    assert_eq!(frame.nrows(), panel().rows.len());
}

#[test]
fn builder_names_a_missing_input() {
    // Needs no raw data: an empty --raw directory must fail with the file named.
    let empty = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_build-panel"))
        .arg("--raw")
        .arg(empty.path())
        .arg("--out")
        .arg(empty.path().join("out"))
        .output()
        .unwrap_or_else(|e| panic!("running build-panel: {e}"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "missing input accepted");
    assert!(
        stderr.contains("raw input missing")
            && stderr.contains("itpde_r02_broad_sector_totals.csv.gz"),
        "unclear error: {stderr}"
    );
    assert!(
        !empty.path().join("out").exists(),
        "output written despite the error"
    );
}
