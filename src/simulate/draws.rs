//! Monte Carlo over the policy coefficients: `β ~ N(β̂, V̂)`, one GE per draw,
//! and the percentile intervals of every per-country quantity.

use super::results::CountryIntervals;

/// Percentile with linear interpolation between order statistics (R type 7).
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// 2.5% and 97.5% percentiles of every per-country quantity over the draws
/// that converged (`None` when none did).
/// One Monte Carlo draw: every country's quantities, and the coefficient of
/// each shock's variable in the draw.
pub(super) type Draw = (Vec<[f64; 7]>, Vec<f64>);

pub(super) fn intervals_of(results: &[Option<Draw>], n: usize) -> Option<Vec<CountryIntervals>> {
    let ok: Vec<&Vec<[f64; 7]>> = results.iter().flatten().map(|(r, _)| r).collect();
    if ok.is_empty() {
        return None;
    }
    let mut iv = Vec::with_capacity(n);
    for i in 0..n {
        let mut q = [[0.0; 2]; 7];
        for (k, qk) in q.iter_mut().enumerate() {
            let mut v: Vec<f64> = ok.iter().map(|r| r[i][k]).collect();
            v.sort_by(f64::total_cmp);
            *qk = [percentile(&v, 0.025), percentile(&v, 0.975)];
        }
        iv.push(CountryIntervals {
            exports_change_partial_pct_ci_low: q[0][0],
            exports_change_partial_pct_ci_high: q[0][1],
            exports_change_conditional_pct_ci_low: q[1][0],
            exports_change_conditional_pct_ci_high: q[1][1],
            exports_change_full_pct_ci_low: q[2][0],
            exports_change_full_pct_ci_high: q[2][1],
            factory_price_change_pct_ci_low: q[3][0],
            factory_price_change_pct_ci_high: q[3][1],
            inward_mr_change_pct_ci_low: q[4][0],
            inward_mr_change_pct_ci_high: q[4][1],
            outward_mr_change_pct_ci_low: q[5][0],
            outward_mr_change_pct_ci_high: q[5][1],
            real_gdp_change_pct_ci_low: q[6][0],
            real_gdp_change_pct_ci_high: q[6][1],
        });
    }
    Some(iv)
}
