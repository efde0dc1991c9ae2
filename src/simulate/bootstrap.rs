//! The pair-cluster bootstrap of the whole pipeline: clusters resampled
//! with replacement, the model re-estimated, the costs rebuilt and the GE
//! solved for every draw.

use super::costs::{
    factor_of, ge_data_with, numeric_of, shocked_phi, GdpTable, GeData, PanelKeys, PolicyChange,
};
use super::draws::Draw;
use super::{solve_once, Domestic};
use crate::counterfactual::{run_indexed, stream, BOOTSTRAP_SALT};
use crate::data::{Column, Factor, Frame, MISSING_CODE};
use crate::design::interact;
use crate::error::{Error, ErrorKind, Result};
use crate::fit::{Estimator, Fit, FitOptions};
use crate::formula::Formula;

/// The fixed effects of the baseline model on the whole panel with the
/// coefficients held at `beta` (the regressors enter as an offset `x'β`).
///
/// A bootstrap draw estimates β on the resampled clusters, but the fixed
/// effects it estimates do not determine the costs of the GE world: a pair
/// whose cluster was not drawn has no pair effect in the draw (the treated
/// NAFTA pairs in about one draw in three each), and a country whose domestic
/// flows were not drawn has its domestic-versus-international level left
/// arbitrary by the estimation's normalisation (with a common domestic
/// effect, only the domestic rows pin it down). Either made the draw's GE
/// another world's. So the costs of every draw are rebuilt from the pair
/// effects that the whole panel gives at the draw's β: every pair keeps a
/// pair effect estimated on its own flows, consistent with the draw's
/// coefficients, and the pairs without one are imputed as in the point
/// estimate.
fn fixed_effects_at(
    frame: &Frame,
    baseline: &Fit,
    beta: &[f64],
) -> Result<crate::fixed_effects::FixedEffectEstimates> {
    let n = frame.nrows();
    let mut offset = vec![0.0; n];
    for (name, b) in baseline.names.iter().zip(beta) {
        let col = numeric_of(frame, name)?;
        for (o, v) in offset.iter_mut().zip(col) {
            *o += b * v;
        }
    }
    let text = &baseline.formula.text;
    let fe_part = text.split_once('|').map(|(_, f)| f.trim()).ok_or_else(|| {
        Error::Bug("the pair bootstrap needs a formula with fixed effects".into())
    })?;
    let formula = Formula::parse(&format!(
        "{} ~ 1 | {fe_part}",
        baseline.formula.response.name
    ))?;
    let mut f = frame.clone();
    f.insert("__bootstrap_offset", Column::Numeric(offset.into()))?;
    let options = FitOptions::default().offset("__bootstrap_offset");
    let fit = crate::fit::fit(&f, &formula, Estimator::Ppml, &options)?;
    if !fit.info.converged {
        return Err(Error::numerical(
            ErrorKind::NoConvergence,
            "the fixed effects of a bootstrap draw did not converge".into(),
        ));
    }
    fit.fixed_effects()
}

/// The pair-cluster bootstrap of the whole pipeline. Drawing clusters with
/// replacement is the same as giving every row the number of times its
/// cluster was drawn as a frequency weight (a duplicated pair has the same
/// pair effect as the original), so each draw is a weighted re-estimation;
/// the pair effects and costs are rebuilt from it and the GE is solved on the
/// observed flows of the GE year.
#[allow(clippy::too_many_arguments)]
pub(super) fn pair_bootstrap(
    scenario: &super::Scenario,
    draws: usize,
    seed: u64,
    frame: &Frame,
    baseline: &Fit,
    keys: &PanelKeys,
    domestic: Domestic,
    year: i64,
    data: &GeData,
    countries: &[String],
    world: &crate::counterfactual::World,
    params: &crate::counterfactual::GeParams,
    gdp: Option<&GdpTable>,
    progress: &(dyn Fn() + Sync),
) -> Result<Vec<Option<Draw>>> {
    use rand::Rng;
    let cluster = scenario
        .vcov
        .clusters()
        .first()
        .cloned()
        .unwrap_or_else(|| format!("{}^{}", keys.exporter, keys.importer));
    let factors: Vec<Factor> = cluster
        .split('^')
        .map(|c| factor_of(frame, c.trim()))
        .collect::<Result<_>>()?;
    let refs: Vec<&Factor> = factors.iter().collect();
    let dim = interact(&cluster, &refs);
    let g = dim.n_levels();
    let n = countries.len();
    let calibrated = scenario.costs == super::Costs::Calibrated;
    let results = run_indexed(draws, |d| {
        let mut rng = stream(seed, BOOTSTRAP_SALT, d);
        let mut count = vec![0.0f64; g];
        for _ in 0..g {
            count[rng.random_range(0..g)] += 1.0;
        }
        let w: Vec<f64> = dim
            .codes
            .iter()
            .map(|&c| {
                if c == MISSING_CODE {
                    0.0
                } else {
                    count[c as usize]
                }
            })
            .collect();
        let result = (|| -> Result<Draw> {
            let mut f = frame.clone();
            f.insert("__bootstrap_weight", Column::Numeric(w.into()))?;
            let options = FitOptions::default().weights("__bootstrap_weight");
            let fit_b = crate::fit::fit(&f, &baseline.formula, Estimator::Ppml, &options)?;
            if !fit_b.info.converged {
                return Err(Error::numerical(
                    ErrorKind::NoConvergence,
                    "bootstrap fit did not converge".into(),
                ));
            }
            let data_b = if calibrated {
                None
            } else {
                let fe_b = fixed_effects_at(frame, baseline, &fit_b.beta)?;
                Some(ge_data_with(
                    frame,
                    &baseline.formula,
                    &fit_b.names,
                    &fit_b.beta,
                    &fe_b,
                    keys,
                    year as f64,
                    domestic,
                    &scenario.impute_pair_effects,
                    gdp,
                )?)
            };
            let d_b = data_b.as_ref().unwrap_or(data);
            let mut beta_b: Vec<f64> = d_b
                .policy
                .iter()
                .map(|(name, _)| fit_b.coef(name).unwrap_or(0.0))
                .collect();
            let mut changes = Vec::new();
            let mut used = Vec::new();
            for (k, s) in scenario.shocks.iter().enumerate() {
                let idx = d_b
                    .policy
                    .iter()
                    .position(|(name, _)| *name == s.variable)
                    .ok_or_else(|| {
                        Error::numerical(
                            ErrorKind::Collinear,
                            format!("'{}' dropped in a bootstrap draw", s.variable),
                        )
                    })?;
                if let Some(c) = s.coefficient {
                    beta_b[idx] = c;
                }
                used.push(beta_b[idx]);
                let pairs: Vec<usize> = s
                    .pairs_at(k, countries)?
                    .into_iter()
                    .map(|(i, j)| i * n + j)
                    .collect();
                changes.push(PolicyChange {
                    policy: idx,
                    pairs,
                    value: s.value,
                });
            }
            let w_b = if calibrated {
                world.clone()
            } else {
                crate::counterfactual::World::from_trade(
                    countries.to_vec(),
                    &data.flows,
                    d_b.phi.clone(),
                    world.sigma,
                    world.reference,
                )?
            };
            let phi_cf = if calibrated {
                let mut scaled = data.clone();
                scaled.phi = world.phi.clone();
                shocked_phi(&scaled, &beta_b, &changes)
            } else {
                shocked_phi(d_b, &beta_b, &changes)
            };
            Ok(Draw {
                countries: solve_once(&w_b, &phi_cf, params)?.0,
                coefficients: used,
            })
        })();
        progress();
        result
    });
    Ok(results.results)
}
