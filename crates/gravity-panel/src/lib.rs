//! The shipped real-data panel: `data/gravity_panel.csv.gz`.
//!
//! Bilateral trade (USITC ITPD-E release 2, millions of current US$) for all
//! countries, 2000–2019, with gravity covariates (CEPII GeoDist), trade
//! agreements (USITC DGD cross-checked against DESTA), EAEU membership and
//! sanctions (GSDB release 3). It is built by the `build-panel` binary from
//! the raw files; `data/README.md` documents sources, licences, how each
//! column is built and the known caveats.
//!
//! # Example
//!
//! ```no_run
//! use gravity_panel::{load_shipped_panel, COLUMNS};
//!
//! let frame = load_shipped_panel()?;
//! assert_eq!(frame.names(), &COLUMNS.map(String::from)[..]);
//! println!("{} rows", frame.nrows());
//! # Ok::<(), gravity_model::Error>(())
//! ```

use gravity_model::Result;
use gravity_model::{CsvOptions, Frame};
use std::path::PathBuf;

/// Environment variable that overrides the path of the shipped panel.
pub const PANEL_ENV: &str = "GRAVITY_PANEL";

/// File name of the shipped panel under `data/`.
pub const PANEL_FILE: &str = "gravity_panel.csv.gz";

/// The panel's columns, in file order.
///
/// - `exporter`, `importer`: ISO3 codes.
/// - `year`: 2000–2019.
/// - `trade`: manufacturing flow, millions of current US$ (ITPD-E); empty
///   when ITPD-E has no manufacturing record for the cell.
/// - `trade_goods`: agriculture + mining and energy + manufacturing; empty
///   on domestic rows unless agriculture and mining are near complete, and
///   on rows with services only.
/// - `trade_agriculture`, `trade_mining_energy`, `trade_services`: the
///   broad sector's flow, millions of current US$; empty when ITPD-E has no
///   record of that sector for the cell (and on domestic rows whose sector
///   coverage is incomplete).
/// - `domestic_complete`: 1 on the domestic rows kept (exporter == importer,
///   manufacturing industry coverage near complete), 0 elsewhere.
/// - `ldist`: log population-weighted distance in km (GeoDist `distw`).
/// - `contig`, `lang`, `colony`: GeoDist contiguity, common official
///   language, colonial tie.
/// - `fta`: a trade agreement in force (DGD `rta`, cross-checked against DESTA).
/// - `eaeu`: both countries EAEU members.
/// - `sanction_trade`, `sanction_any`: a (trade) sanction in force in either
///   direction (GSDB).
/// - `sanction_complete`, `sanction_partial`: the split of `sanction_trade`
///   by GSDB's `descr_trade`: complete when any trade case in force on the
///   pair includes a complete export or import ban (`exp_compl`,
///   `imp_compl`), partial when a trade case is in force and none is
///   complete; the two sum to `sanction_trade`.
pub const COLUMNS: [&str; 19] = [
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

/// Path of the shipped panel: `$GRAVITY_PANEL` when set (and non-empty),
/// else `data/gravity_panel.csv.gz` at the root of the repository this crate
/// was built from.
pub fn shipped_panel_path() -> PathBuf {
    match std::env::var_os(PANEL_ENV) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => data_dir().join(PANEL_FILE),
    }
}

/// The repository's `data/` directory (two levels above this crate).
pub fn data_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data"))
}

/// Loads the shipped panel (every column, types inferred).
pub fn load_shipped_panel() -> Result<Frame> {
    let path = shipped_panel_path();
    Frame::read_csv(&path, &CsvOptions::default(), None)
}
