//! Independent check of the full-GE fixed point: Newton's method (finite-
//! difference Jacobian, nalgebra LU) on the market-clearing system written
//! out from scratch, compared with `solve_full`.
#![allow(clippy::needless_range_loop)] // index loops mirror the equations

use gravity_model::counterfactual::*;
use nalgebra::{DMatrix, DVector};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Residuals in unknowns `z = ln p̂`: market clearing for every country but
/// the last (Walras' law makes it redundant) and `ln P'_r^(1-σ) = 0`.
fn residuals(w: &World, a: &[f64], phi: &[f64], z: &[f64]) -> DVector<f64> {
    let n = w.n();
    let s = w.sigma;
    let p: Vec<f64> = z.iter().map(|v| v.exp()).collect();
    let y1: Vec<f64> = (0..n).map(|i| p[i] * w.output[i]).collect();
    let mut e1: Vec<f64> = (0..n)
        .map(|i| w.expenditure[i] / w.output[i] * y1[i])
        .collect();
    let k = y1.iter().sum::<f64>() / e1.iter().sum::<f64>();
    e1.iter_mut().for_each(|v| *v *= k);
    let pp: Vec<f64> = (0..n)
        .map(|j| {
            (0..n)
                .map(|i| phi[i * n + j] * a[i] * p[i].powf(1.0 - s))
                .sum()
        })
        .collect();
    let mut f = DVector::zeros(n);
    for i in 0..n - 1 {
        let sales: f64 = (0..n)
            .map(|j| phi[i * n + j] * a[i] * p[i].powf(1.0 - s) * e1[j] / pp[j])
            .sum();
        f[i] = sales.ln() - y1[i].ln();
    }
    f[n - 1] = pp[w.reference].ln();
    f
}

#[test]
fn full_ge_matches_newton() {
    let mut rng = StdRng::seed_from_u64(11);
    let n = 9;
    let sigma = 6.0;
    let mut phi = vec![0.0; n * n];
    let mut trade = vec![0.0; n * n];
    let size: Vec<f64> = (0..n).map(|_| rng.random_range(1.0..50.0)).collect();
    for i in 0..n {
        for j in 0..n {
            let t: f64 = if i == j {
                1.0
            } else {
                rng.random_range(1.3..2.5)
            };
            phi[i * n + j] = t.powf(1.0 - sigma);
            trade[i * n + j] = size[i] * size[j] * phi[i * n + j] * rng.random_range(0.6..1.4);
        }
    }
    let names = (0..n).map(|i| format!("C{i}")).collect();
    let w = World::from_trade(names, &trade, phi.clone(), sigma, 2).unwrap();
    let mut phi1 = phi.clone();
    for &(i, j) in &[(0, 1), (1, 0), (0, 4), (4, 0), (1, 4), (4, 1), (3, 7)] {
        phi1[i * n + j] *= 2.2;
    }
    let params = GeParams {
        tol: 1e-13,
        ..GeParams::default()
    };
    let base = solve_baseline(&w, &params).unwrap();
    let full = solve_full(&w, &base, &phi1, &params).unwrap();

    let yw = w.world_output();
    let a: Vec<f64> = (0..n)
        .map(|i| w.output[i] / yw / base.outward_pow[i])
        .collect();
    let mut z = vec![0.0; n];
    for _ in 0..50 {
        let f = residuals(&w, &a, &phi1, &z);
        if f.amax() < 1e-14 {
            break;
        }
        let mut jac = DMatrix::zeros(n, n);
        for k in 0..n {
            let h = 1e-7;
            let mut zp = z.clone();
            zp[k] += h;
            let mut zm = z.clone();
            zm[k] -= h;
            let col = (residuals(&w, &a, &phi1, &zp) - residuals(&w, &a, &phi1, &zm)) / (2.0 * h);
            jac.set_column(k, &col);
        }
        let step = jac.lu().solve(&(-f)).unwrap();
        for k in 0..n {
            z[k] += step[k];
        }
    }
    assert!(residuals(&w, &a, &phi1, &z).amax() < 1e-12);
    for i in 0..n {
        let newton = z[i].exp();
        assert!(
            (newton / full.price_change[i] - 1.0).abs() < 1e-9,
            "{i}: newton {newton} vs fixed point {}",
            full.price_change[i]
        );
    }
}
