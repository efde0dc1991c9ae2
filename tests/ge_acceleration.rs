//! The accelerated multilateral-resistance and full-GE solvers on a world
//! where the plain iterations are slow: costs `phi = d^-5` (strong home bias,
//! nearly block-diagonal trade).

mod common;

use common::random_world;
use gravity_model::counterfactual::*;

/// `n` countries on a circle, `phi_ij = d_ij^-5`, sizes deterministic.
fn steep_world(n: usize) -> (World, Vec<f64>) {
    let size: Vec<f64> = (0..n).map(|i| 1.0 + ((i * 37) % 101) as f64).collect();
    let mut phi = vec![0.0; n * n];
    let mut trade = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            let d = if i == j {
                0.2
            } else {
                let k = (i as f64 - j as f64).abs();
                1.0 + k.min(n as f64 - k) / 10.0
            };
            phi[i * n + j] = d.powf(-5.0);
            trade[i * n + j] =
                size[i] * size[j] * phi[i * n + j] * (1.0 + 0.2 * ((i + 3 * j) % 5) as f64);
        }
    }
    let names = (0..n).map(|i| format!("C{i:03}")).collect();
    let w = World::from_trade(names, &trade, phi.clone(), 7.0, 0).unwrap();
    let mut phi_cf = phi;
    for i in 0..6 {
        for j in 0..6 {
            if i != j {
                phi_cf[i * n + j] *= 1.1;
            }
        }
    }
    (w, phi_cf)
}

/// `a` and `b` agree to `tol` relative (absolute near zero).
fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + b.abs())
}

/// Every output of two counterfactuals agrees: percentage changes to
/// `pct_tol` percentage points, flows to `tol` relative.
fn same_outcome(a: &GeOutcome, b: &GeOutcome, pct_tol: f64, tol: f64) {
    for (ca, cb) in a.countries.iter().zip(&b.countries) {
        for (x, y) in [
            (
                ca.exports_change_conditional_pct,
                cb.exports_change_conditional_pct,
            ),
            (ca.exports_change_full_pct, cb.exports_change_full_pct),
            (ca.factory_price_change_pct, cb.factory_price_change_pct),
            (ca.inward_mr_change_pct, cb.inward_mr_change_pct),
            (ca.outward_mr_change_pct, cb.outward_mr_change_pct),
            (ca.real_gdp_change_pct, cb.real_gdp_change_pct),
        ] {
            assert!((x - y).abs() <= pct_tol, "{}: {x} vs {y}", ca.country);
        }
    }
    for (pa, pb) in a.pairs.iter().zip(&b.pairs) {
        for (x, y) in [
            (pa.baseline, pb.baseline),
            (pa.conditional, pb.conditional),
            (pa.full, pb.full),
            (pa.partial, pb.partial),
        ] {
            assert!(
                (x - y).abs() <= tol * y.abs().max(1e-300),
                "{} -> {}: {x} vs {y}",
                pa.exporter,
                pa.importer
            );
        }
    }
}

fn newton() -> GeParams {
    GeParams::default()
}

fn plain(max_iter: usize) -> GeParams {
    GeParams {
        method: GeMethod::FixedPoint,
        max_iter,
        ..GeParams::default()
    }
}

#[test]
fn newton_converges_in_few_steps_where_the_plain_iteration_needs_tens_of_thousands() {
    let (w, phi_cf) = steep_world(69);
    // the plain iterations do not converge within the default 10,000 steps
    let base = solve_baseline(&w, &plain(10_000));
    assert!(
        matches!(base, Err(gravity_model::Error::NoConvergence { .. })),
        "{base:?}"
    );
    // The plain iterations contract at a rate near 1 here, so their error
    // is far above their residual (about residual / (1 − rate)): they are
    // run to 1e-14 to be the reference.
    let slow = solve_counterfactual(
        &w,
        &phi_cf,
        &GeParams {
            tol: 1e-14,
            ..plain(1_000_000)
        },
    )
    .unwrap();
    let fast = solve_counterfactual(&w, &phi_cf, &newton()).unwrap();
    let fast_tight = solve_counterfactual(
        &w,
        &phi_cf,
        &GeParams {
            tol: 1e-14,
            ..newton()
        },
    )
    .unwrap();
    let [b0, c0, f0] = slow.infos();
    let [b1, c1, f1] = fast.infos();
    eprintln!(
        "iterations: plain {} / {} / {}, newton {} / {} / {}",
        b0.iterations, c0.iterations, f0.iterations, b1.iterations, c1.iterations, f1.iterations
    );
    assert!(b0.iterations > 10_000 && c0.iterations > 10_000 && f0.iterations > 10_000);
    let [b0, c0, f0] = solve_counterfactual(&w, &phi_cf, &plain(1_000_000))
        .unwrap()
        .infos();
    eprintln!(
        "to the default 1e-12: plain {} / {} / {}",
        b0.iterations, c0.iterations, f0.iterations
    );
    assert!(b1.iterations <= 20 && c1.iterations <= 20 && f1.iterations <= 20);
    assert!(b1.residual <= 1e-12 && c1.residual <= 1e-12 && f1.residual <= 1e-12);
    eprintln!(
        "final residuals: newton {:.1e} / {:.1e} / {:.1e}",
        b1.residual, c1.residual, f1.residual
    );
    // The system is ill-conditioned (that is why the plain iterations are
    // slow): a residual pins the solution down only to about 1e4 times
    // itself, so when both are solved to 1e-14 the changes `new/old` agree
    // to 1e-10 (1e-8 percentage points) and the flows to 1e-9, and to 1e-8
    // and 1e-8 at the default 1e-12 (to 1e-10 percentage points on the
    // well-conditioned worlds below).
    same_outcome(&fast_tight, &slow, 1e-8, 1e-9);
    same_outcome(&fast, &slow, 1e-6, 1e-8);
}

#[test]
fn newton_converges_on_the_200_country_steep_world() {
    let (w, phi_cf) = steep_world(200);
    let t = std::time::Instant::now();
    let out = solve_counterfactual(&w, &phi_cf, &newton()).unwrap();
    let [b, c, f] = out.infos();
    eprintln!(
        "200 countries, phi = d^-5: newton {} / {} / {} iterations, {:?}",
        b.iterations,
        c.iterations,
        f.iterations,
        t.elapsed()
    );
    assert!(b.iterations <= 20 && c.iterations <= 20 && f.iterations <= 20);
}

#[test]
fn newton_and_the_plain_iterations_give_the_same_solution() {
    for (seed, n, sigma, reference, factor) in [
        (1u64, 9usize, 6.0, 0usize, 1.8),
        (2, 10, 5.0, 3, 3.0),
        (3, 11, 7.0, 0, 1.8),
        (4, 8, 5.0, 5, 2.0),
        (5, 30, 2.5, 7, 0.4),
    ] {
        let w = random_world(n, seed, sigma, reference);
        let mut phi_cf = w.phi.clone();
        for i in 0..n / 2 {
            for j in 0..n / 2 {
                if i != j {
                    phi_cf[i * n + j] *= factor;
                }
            }
        }
        let tight = |method| GeParams {
            tol: 1e-13,
            method,
            max_iter: 100_000,
            ..GeParams::default()
        };
        let a = solve_counterfactual(&w, &phi_cf, &tight(GeMethod::Newton)).unwrap();
        let b = solve_counterfactual(&w, &phi_cf, &tight(GeMethod::FixedPoint)).unwrap();
        same_outcome(&a, &b, 1e-10, 1e-10);
        for (fa, fb) in a.full.price_change.iter().zip(&b.full.price_change) {
            assert!(close(*fa, *fb, 1e-10), "seed {seed}: {fa} vs {fb}");
        }
    }
}

/// The Advanced Guide's borders scenario (69 countries, every border
/// removed, the largest shock of the test suite) through `gravity
/// simulate`'s pipeline: the same numbers with either solver.
#[test]
fn the_guides_scenario_gives_the_same_numbers_with_either_solver() {
    use gravity_model::simulate::{Scenario, Uncertainty};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut s =
        Scenario::from_toml_path(root.join("examples/agtpa_trade_without_borders.toml")).unwrap();
    s.uncertainty = Uncertainty::None;
    let a = gravity_model::simulate::run(&s).unwrap();
    s.solver = GeMethod::FixedPoint;
    let b = gravity_model::simulate::run(&s).unwrap();
    eprintln!(
        "borders scenario: full GE in {} (newton) vs {} (plain) iterations",
        a.iterations, b.iterations
    );
    for (ca, cb) in a.countries.iter().zip(&b.countries) {
        let (x, y) = (&ca.changes, &cb.changes);
        for (u, v) in [
            (x.exports_change_partial_pct, y.exports_change_partial_pct),
            (
                x.exports_change_conditional_pct,
                y.exports_change_conditional_pct,
            ),
            (x.exports_change_full_pct, y.exports_change_full_pct),
            (x.factory_price_change_pct, y.factory_price_change_pct),
            (x.inward_mr_change_pct, y.inward_mr_change_pct),
            (x.outward_mr_change_pct, y.outward_mr_change_pct),
            (x.real_gdp_change_pct, y.real_gdp_change_pct),
        ] {
            assert!(close(u, v, 1e-10), "{}: {u} vs {v}", ca.country);
        }
    }
    for (pa, pb) in a.pairs.iter().zip(&b.pairs) {
        for (u, v) in [(pa.conditional, pb.conditional), (pa.full, pb.full)] {
            assert!((u - v).abs() <= 1e-10 * v.abs().max(1e-300));
        }
    }
}

/// Two blocks of countries that do not trade with each other, trade balanced
/// country by country: the systems are singular (a scale per block; the
/// second block's price level is arbitrary), Newton cannot solve them as
/// they are, and the solvers must still converge (finishing with the plain
/// iterations where Newton stops).
#[test]
fn a_singular_newton_system_falls_back_to_the_plain_iteration() {
    let n = 8;
    let mut phi = vec![0.0; n * n];
    let mut trade = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            if (i < 4) == (j < 4) {
                let d = if i == j {
                    1.0
                } else {
                    2.0 + (i + j) as f64 / 4.0
                };
                phi[i * n + j] = d.powf(-4.0);
                trade[i * n + j] = (1.0 + i as f64) * (1.0 + j as f64) * phi[i * n + j];
            }
        }
    }
    let names = (0..n).map(|i| format!("C{i}")).collect();
    let w = World::from_trade(names, &trade, phi.clone(), 5.0, 0).unwrap();
    let mut phi_cf = phi;
    phi_cf[1] *= 1.5;
    phi_cf[n] *= 1.5;
    let out = solve_counterfactual(&w, &phi_cf, &newton()).unwrap();
    let [b, c, f] = out.infos();
    eprintln!(
        "two blocks: {} / {} / {} iterations",
        b.iterations, c.iterations, f.iterations
    );
    for info in out.infos() {
        assert!(info.converged && info.residual <= 1e-12, "{info:?}");
    }
    let plain = solve_counterfactual(&w, &phi_cf, &plain(100_000)).unwrap();
    // real outcomes do not depend on the arbitrary price level
    for i in 0..n {
        let (a, b) = (&out.countries[i], &plain.countries[i]);
        assert!(
            (a.real_gdp_change_pct - b.real_gdp_change_pct).abs() < 1e-9,
            "{a:?} vs {b:?}"
        );
    }
}
