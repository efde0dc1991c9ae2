//! Shared helpers of the benchmarks: seeded synthetic panels and the
//! three-way gravity formula, built in Rust so `cargo bench` needs no files.

#![allow(dead_code)]

use gravity_model::synthetic::{generate, PanelSpec};
use gravity_model::{Formula, Frame};

/// The first `n_fe` fixed effects of
/// `trade ~ rta + sanction | exporter^year + importer^year + exporter^importer`.
pub fn formula(n_fe: usize) -> Formula {
    let fes = ["exporter^year", "importer^year", "exporter^importer"];
    Formula::parse(&format!(
        "trade ~ rta + sanction | {}",
        fes[..n_fe].join(" + ")
    ))
    .expect("formula")
}

/// A seeded synthetic panel (seed 1).
pub fn panel(spec: &PanelSpec) -> Frame {
    generate(spec).expect("synthetic panel")
}
