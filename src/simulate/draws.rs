//! Monte Carlo over the policy coefficients: `β ~ N(β̂, V̂)`, one GE per draw,
//! and the percentile intervals of every per-country quantity. The draws,
//! their parallel evaluation and the percentiles are the pure GE module's
//! helpers ([`crate::counterfactual::draw_coefficients`],
//! [`crate::counterfactual::run_draws`],
//! [`crate::counterfactual::percentile_interval`]).

use super::costs::{shocked_phi, GeData, PolicyChange};
use super::results::{CountryChanges, CountryIntervals, Interval};
use super::solve_once;
use crate::counterfactual::{draw_coefficients, percentile_interval, run_draws, GeParams, World};
use crate::error::{Error, ErrorKind, Result};
use nalgebra::DMatrix;

/// One Monte Carlo draw that converged: every country's quantities, and the
/// coefficient of each shock's variable in the draw.
#[derive(Debug, Clone)]
pub(super) struct Draw {
    /// Per country, in world order.
    pub(super) countries: Vec<CountryChanges>,
    /// Per shock, in scenario order.
    pub(super) coefficients: Vec<f64>,
}

/// The policy coefficients of the shocks, the estimated ones (indices
/// `random` into `beta`) drawn `draws` times from `N(β̂, V̂)`, and the GE
/// solved for each draw; `None` where a solve failed. `progress` is called
/// once per finished draw.
#[allow(clippy::too_many_arguments)]
pub(super) fn coefficient_draws(
    data: &GeData,
    world: &World,
    params: &GeParams,
    beta: &[f64],
    vcov: &DMatrix<f64>,
    random: &[usize],
    changes: &[PolicyChange],
    (draws, seed): (usize, u64),
    progress: &(dyn Fn() + Sync),
) -> Result<Vec<Option<Draw>>> {
    let m = random.len();
    let beta_random: Vec<f64> = random.iter().map(|&k| beta[k]).collect();
    let v = DMatrix::from_fn(m, m, |a, b| vcov[(random[a], random[b])]);
    let drawn = draw_coefficients(&beta_random, &v, draws, seed).map_err(|e| {
        if e.kind() == ErrorKind::NotPositiveDefinite {
            Error::numerical(
                ErrorKind::NotPositiveDefinite,
                "the covariance of the policy coefficients is not positive definite".into(),
            )
        } else {
            e
        }
    })?;
    let results = run_draws(&drawn, |_, b_random| {
        let mut b = beta.to_vec();
        for (&k, &v) in random.iter().zip(b_random) {
            b[k] = v;
        }
        let phi_d = shocked_phi(data, &b, changes);
        let coefficients: Vec<f64> = changes.iter().map(|c| b[c.policy]).collect();
        let result = solve_once(world, &phi_d, params).map(|(countries, _)| Draw {
            countries,
            coefficients,
        });
        progress();
        result
    });
    Ok(results.results)
}

/// The 95% interval of every per-country quantity over the draws that
/// converged (`None` when none did). A quantity with a non-finite value in
/// some draw gets a NaN interval, which the report refuses (no interval is
/// ever computed from a NaN).
pub(super) fn intervals_of(results: &[Option<Draw>], n: usize) -> Option<Vec<CountryIntervals>> {
    let ok: Vec<&Draw> = results.iter().flatten().collect();
    if ok.is_empty() {
        return None;
    }
    let intervals = (0..n)
        .map(|i| {
            CountryChanges::from_fn(|q| {
                let v: Vec<f64> = ok.iter().map(|d| *d.countries[i].get(q)).collect();
                percentile_interval(&v).unwrap_or(Interval {
                    low: f64::NAN,
                    high: f64::NAN,
                })
            })
        })
        .collect();
    Some(intervals)
}
