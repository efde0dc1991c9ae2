//! The conditional GE by the GEPPML route, an independent cross-check of the
//! GE solver.

use crate::data::{Column, Factor, Frame};
use crate::error::Result;
use crate::fit::{Estimator, FitOptions};
use crate::formula::Formula;

/// The conditional GE by the GEPPML route (Anderson, Larch & Yotov 2018):
/// PPML of the baseline flows on exporter and importer fixed effects with the
/// offset `ln φ'`; its fitted values are the conditional counterfactual
/// flows. An independent cross-check of [`crate::counterfactual::solve_conditional`].
///
/// # Errors
///
/// The PPML's errors (e.g. [`ErrorKind::EmptySample`](crate::ErrorKind::EmptySample)
/// when no pair can trade).
pub fn conditional_by_ppml(countries: &[String], flows: &[f64], phi: &[f64]) -> Result<Vec<f64>> {
    let n = countries.len();
    let keep: Vec<usize> = (0..n * n).filter(|&k| phi[k] > 0.0).collect();
    let frame = Frame::from_columns(vec![
        (
            "exporter".into(),
            Column::Factor(Factor {
                codes: keep.iter().map(|&k| (k / n) as u32).collect(),
                levels: countries.to_vec(),
            }),
        ),
        (
            "importer".into(),
            Column::Factor(Factor {
                codes: keep.iter().map(|&k| (k % n) as u32).collect(),
                levels: countries.to_vec(),
            }),
        ),
        (
            "x".into(),
            Column::Numeric(keep.iter().map(|&k| flows[k]).collect()),
        ),
        (
            "o".into(),
            Column::Numeric(keep.iter().map(|&k| phi[k].ln()).collect()),
        ),
    ])?;
    let f = Formula::parse("x ~ 1 | exporter + importer")?;
    let options = FitOptions::default()
        .offset("o")
        .irls_tol(1e-14)
        .fixef_tol(1e-13)
        .irls_max_iter(1000)
        .fixef_rm(crate::FixefRm::None)
        .separation_ir(false);
    let fitted = crate::fit::fit(&frame, &f, Estimator::Ppml, &options)?;
    let by_row = fitted.fitted_by_row();
    let mut out = vec![0.0; n * n];
    for (r, &k) in keep.iter().enumerate() {
        out[k] = by_row[r].unwrap_or(0.0);
    }
    Ok(out)
}
