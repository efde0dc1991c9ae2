//! The multi-sector endowment GE: it reduces to the one-sector solver, it
//! agrees with Newton's method on the equations written out from scratch, and
//! it has the properties the model implies (adding up, a non-traded sector,
//! identical sectors aggregate, no shock changes nothing).
#![allow(clippy::needless_range_loop)] // index loops mirror the equations

use gravity_model::counterfactual::*;
use nalgebra::{DMatrix, DVector};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Random costs and flows for `n` countries in one sector (trade imbalanced
/// unless `symmetric`).
fn random_sector(
    rng: &mut StdRng,
    n: usize,
    sigma: f64,
    scale: f64,
    symmetric: bool,
) -> (Vec<f64>, Vec<f64>) {
    let mut phi = vec![0.0; n * n];
    let mut trade = vec![0.0; n * n];
    let size: Vec<f64> = (0..n).map(|_| rng.random_range(1.0..100.0)).collect();
    for i in 0..n {
        for j in 0..n {
            if symmetric && j < i {
                phi[i * n + j] = phi[j * n + i];
                trade[i * n + j] = trade[j * n + i];
                continue;
            }
            let t: f64 = if i == j {
                1.0
            } else {
                rng.random_range(1.2..3.0)
            };
            phi[i * n + j] = t.powf(1.0 - sigma);
            trade[i * n + j] =
                scale * size[i] * size[j] * phi[i * n + j] * rng.random_range(0.5..1.5);
        }
    }
    (phi, trade)
}

fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("C{i:02}")).collect()
}

fn fta(phi: &[f64], n: usize, members: &[usize], factor: f64) -> Vec<f64> {
    let mut out = phi.to_vec();
    for &i in members {
        for &j in members {
            if i != j {
                out[i * n + j] *= factor;
            }
        }
    }
    out
}

fn tight() -> GeParams {
    GeParams {
        tol: 1e-13,
        ..GeParams::default()
    }
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + b.abs())
}

#[test]
fn one_sector_reproduces_the_one_sector_solver() {
    for (seed, n, sigma, reference, factor) in [
        (1u64, 9usize, 6.0, 0usize, 1.8),
        (2, 10, 5.0, 3, 3.0),
        (3, 12, 7.0, 11, 0.5),
    ] {
        let mut rng = StdRng::seed_from_u64(seed);
        let (phi, trade) = random_sector(&mut rng, n, sigma, 1.0, false);
        let world = World::from_trade(names(n), &trade, phi.clone(), sigma, reference).unwrap();
        let phi_cf = fta(&phi, n, &[0, 1, 4, 5], factor);
        let one = solve_counterfactual(&world, &phi_cf, &tight()).unwrap();
        let sector = SectorWorld::from_trade("all", &trade, phi, sigma).unwrap();
        let multi = MultiWorld::new(names(n), vec![sector], reference).unwrap();
        let many = solve_multisector_counterfactual(&multi, &[phi_cf], &tight()).unwrap();
        let s = &many.sectors[0];
        for i in 0..n {
            let (a, c, b) = (&one.countries[i], &many.countries[i], &s.countries[i]);
            for (x, y) in [
                (a.real_gdp_change_pct, c.real_income_change_pct),
                (
                    a.exports_change_conditional_pct,
                    c.exports_change_conditional_pct,
                ),
                (a.exports_change_full_pct, c.exports_change_full_pct),
                (a.factory_price_change_pct, c.output_change_pct),
                (a.inward_mr_change_pct, c.consumer_price_change_pct),
                (
                    a.exports_change_conditional_pct,
                    b.exports_change_conditional_pct,
                ),
                (a.exports_change_full_pct, b.exports_change_full_pct),
                (a.factory_price_change_pct, b.factory_price_change_pct),
                (a.inward_mr_change_pct, b.inward_mr_change_pct),
                (a.outward_mr_change_pct, b.outward_mr_change_pct),
            ] {
                assert!(
                    (x - y).abs() <= 1e-10,
                    "seed {seed}, {}: {x} vs {y}",
                    a.country
                );
            }
            assert!(close(one.full.price_change[i], s.price_change[i], 1e-12));
            assert!(close(one.full.output[i], s.output[i], 1e-12));
            assert!(close(one.full.expenditure[i], s.expenditure[i], 1e-12));
        }
        for (pairs, what) in [(&s.pairs, "sector"), (&many.pairs, "total")] {
            for (p, q) in one.pairs.iter().zip(pairs.iter()) {
                assert_eq!((&p.exporter, &p.importer), (&q.exporter, &q.importer));
                for (x, y) in [
                    (p.baseline, q.baseline),
                    (p.conditional, q.conditional),
                    (p.full, q.full),
                    (p.partial, q.partial),
                ] {
                    assert!((x - y).abs() <= 1e-10 * x.abs(), "{what} {p:?} vs {q:?}");
                }
            }
        }
    }
}

/// A 3-sector, 5-country world with different `σ_k`, trade imbalanced, an
/// FTA that lowers costs in two sectors by different amounts.
fn small_world() -> (MultiWorld, Vec<Vec<f64>>) {
    let n = 5;
    let mut rng = StdRng::seed_from_u64(42);
    let mut sectors = Vec::new();
    let mut phi_cf = Vec::new();
    for (k, (sigma, scale, factor)) in [(5.0, 1.0, 1.8), (8.0, 0.4, 1.0), (3.5, 0.2, 1.3)]
        .into_iter()
        .enumerate()
    {
        let (phi, trade) = random_sector(&mut rng, n, sigma, scale, false);
        phi_cf.push(fta(&phi, n, &[0, 2, 3], factor));
        sectors.push(SectorWorld::from_trade(format!("S{k}"), &trade, phi, sigma).unwrap());
    }
    (MultiWorld::new(names(n), sectors, 1).unwrap(), phi_cf)
}

/// The full-GE equations written out from scratch, in unknowns
/// `z = ln p̂` (flattened `k·n + i`): market clearing for every sector and
/// country but the last, and the numeraire `ln P̂_r = 0`.
fn residuals(
    w: &MultiWorld,
    a: &[Vec<f64>],
    pr0: &[f64],
    phi: &[Vec<f64>],
    z: &[f64],
) -> DVector<f64> {
    let n = w.n();
    let k = w.sectors.len();
    let p = |s: usize, i: usize| z[s * n + i].exp();
    let e0: Vec<f64> = (0..n)
        .map(|j| w.sectors.iter().map(|s| s.expenditure[j]).sum())
        .collect();
    let y0: Vec<f64> = (0..n)
        .map(|i| w.sectors.iter().map(|s| s.output[i]).sum())
        .collect();
    let y1: Vec<f64> = (0..n)
        .map(|i| (0..k).map(|s| p(s, i) * w.sectors[s].output[i]).sum())
        .collect();
    let raw: Vec<f64> = (0..n).map(|j| e0[j] / y0[j] * y1[j]).collect();
    let kappa = y1.iter().sum::<f64>() / raw.iter().sum::<f64>();
    let mut f = DVector::zeros(k * n);
    let mut ln_cpi = 0.0;
    for s in 0..k {
        let sec = &w.sectors[s];
        let ss = sec.sigma;
        let pp: Vec<f64> = (0..n)
            .map(|j| {
                (0..n)
                    .map(|i| phi[s][i * n + j] * a[s][i] * p(s, i).powf(1.0 - ss))
                    .sum()
            })
            .collect();
        for i in 0..n {
            let sales: f64 = (0..n)
                .map(|j| {
                    let e = sec.expenditure[j] / e0[j] * kappa * raw[j];
                    phi[s][i * n + j] * a[s][i] * p(s, i).powf(1.0 - ss) * e / pp[j]
                })
                .sum();
            f[s * n + i] = sales.ln() - (p(s, i) * sec.output[i]).ln();
        }
        let r = w.reference;
        ln_cpi += sec.expenditure[r] / e0[r] * (pp[r] / pr0[s]).ln() / (1.0 - ss);
    }
    f[k * n - 1] = ln_cpi;
    f
}

#[test]
fn full_ge_matches_newton_on_the_equations() {
    let (w, phi_cf) = small_world();
    let n = w.n();
    let k = w.sectors.len();
    let out = solve_multisector_counterfactual(&w, &phi_cf, &tight()).unwrap();
    // the baseline by the plain iterative scaling (not the code under test)
    let plain = GeParams {
        method: GeMethod::FixedPoint,
        max_iter: 100_000,
        tol: 1e-14,
        ..GeParams::default()
    };
    let mut a = Vec::new();
    let mut pr0 = Vec::new();
    for s in &w.sectors {
        let one = World::new(
            w.countries.clone(),
            s.phi.clone(),
            s.output.clone(),
            s.expenditure.clone(),
            s.sigma,
            w.reference,
        )
        .unwrap();
        let base = solve_baseline(&one, &plain).unwrap();
        let y: f64 = s.output.iter().sum();
        a.push(
            (0..n)
                .map(|i| s.output[i] / y / base.outward_pow[i])
                .collect::<Vec<_>>(),
        );
        pr0.push(base.inward_pow[w.reference]);
    }
    let mut z = vec![0.0; k * n];
    for _ in 0..50 {
        let f = residuals(&w, &a, &pr0, &phi_cf, &z);
        if f.amax() < 1e-14 {
            break;
        }
        let mut jac = DMatrix::zeros(k * n, k * n);
        for c in 0..k * n {
            let h = 1e-7;
            let mut zp = z.clone();
            zp[c] += h;
            let mut zm = z.clone();
            zm[c] -= h;
            let col = (residuals(&w, &a, &pr0, &phi_cf, &zp)
                - residuals(&w, &a, &pr0, &phi_cf, &zm))
                / (2.0 * h);
            jac.set_column(c, &col);
        }
        let step = jac.lu().solve(&(-f)).unwrap();
        for c in 0..k * n {
            z[c] += step[c];
        }
    }
    assert!(residuals(&w, &a, &pr0, &phi_cf, &z).amax() < 1e-12);
    let mut worst: f64 = 0.0;
    for s in 0..k {
        for i in 0..n {
            let newton = z[s * n + i].exp();
            let ours = out.sectors[s].price_change[i];
            worst = worst.max((newton / ours - 1.0).abs());
            assert!(
                (newton / ours - 1.0).abs() < 1e-8,
                "sector {s}, country {i}: newton {newton} vs ours {ours}"
            );
        }
    }
    eprintln!("largest relative gap to Newton on the equations: {worst:.1e}");
    // real income from the Newton prices, computed by hand
    for i in 0..n {
        let e0: f64 = w.sectors.iter().map(|s| s.expenditure[i]).sum();
        let y0: f64 = w.sectors.iter().map(|s| s.output[i]).sum();
        let y1: f64 = (0..k)
            .map(|s| z[s * n + i].exp() * w.sectors[s].output[i])
            .sum();
        let mut ln_cpi = 0.0;
        for s in 0..k {
            let sec = &w.sectors[s];
            let pow = |pp: &dyn Fn(usize) -> f64| -> f64 {
                (0..n).map(|l| phi_cf[s][l * n + i] * a[s][l] * pp(l)).sum()
            };
            let new = pow(&|l| z[s * n + l].exp().powf(1.0 - sec.sigma));
            let old: f64 = (0..n).map(|l| sec.phi[l * n + i] * a[s][l]).sum();
            ln_cpi += sec.expenditure[i] / e0 * (new / old).ln() / (1.0 - sec.sigma);
        }
        let w_hat = y1 / y0 / ln_cpi.exp();
        let ours = 1.0 + out.countries[i].real_income_change_pct / 100.0;
        assert!((w_hat / ours - 1.0).abs() < 1e-8, "{i}: {w_hat} vs {ours}");
    }
    assert!(out.countries[0].real_income_change_pct > 0.0);
    assert!(out.countries[1].real_income_change_pct < 0.0);
}

#[test]
fn flows_add_up_over_sectors() {
    let (w, phi_cf) = small_world();
    let n = w.n();
    let out = solve_multisector_counterfactual(&w, &phi_cf, &tight()).unwrap();
    let mut e_total = vec![0.0; n];
    let mut y_total = vec![0.0; n];
    for (s, sec) in out.sectors.iter().enumerate() {
        for i in 0..n {
            let sales: f64 = (0..n).map(|j| sec.pairs[i * n + j].full).sum();
            let purchases: f64 = (0..n).map(|j| sec.pairs[j * n + i].full).sum();
            assert!(close(sales, sec.output[i], 1e-12), "sector {s} output {i}");
            assert!(
                close(purchases, sec.expenditure[i], 1e-12),
                "sector {s} expenditure {i}"
            );
            // baseline and conditional flows add up to the data's totals
            let base: f64 = (0..n).map(|j| sec.pairs[i * n + j].baseline).sum();
            let cond: f64 = (0..n).map(|j| sec.pairs[j * n + i].conditional).sum();
            assert!(close(base, w.sectors[s].output[i], 1e-12));
            assert!(close(cond, w.sectors[s].expenditure[i], 1e-12));
            e_total[i] += sec.expenditure[i];
            y_total[i] += sec.output[i];
            // expenditure shares stay fixed
            let share0 = w.expenditure_share(s, i);
            let total1: f64 = out.sectors.iter().map(|x| x.expenditure[i]).sum();
            assert!(close(sec.expenditure[i] / total1, share0, 1e-12));
        }
    }
    // total flows are the sectors' sums; world expenditure = world output;
    // each country keeps its expenditure-to-output ratio up to one factor
    for q in 0..n * n {
        let sum: f64 = out.sectors.iter().map(|s| s.pairs[q].full).sum();
        assert!(close(out.pairs[q].full, sum, 1e-12));
        let sum: f64 = out.sectors.iter().map(|s| s.pairs[q].partial).sum();
        assert!(close(out.pairs[q].partial, sum, 1e-12));
    }
    let ew: f64 = e_total.iter().sum();
    let yw: f64 = y_total.iter().sum();
    assert!(close(ew, yw, 1e-12));
    let ratio0 = |i: usize| {
        let e: f64 = w.sectors.iter().map(|s| s.expenditure[i]).sum();
        let y: f64 = w.sectors.iter().map(|s| s.output[i]).sum();
        e / y
    };
    let kappa = e_total[0] / y_total[0] / ratio0(0);
    for i in 0..n {
        assert!(close(e_total[i] / y_total[i] / ratio0(i), kappa, 1e-12));
    }
    // the numeraire: the reference's consumer price index is unchanged
    assert!(out.countries[w.reference].consumer_price_change_pct.abs() < 1e-10);
}

#[test]
fn no_shock_changes_nothing() {
    let (w, _) = small_world();
    let phi: Vec<Vec<f64>> = w.sectors.iter().map(|s| s.phi.clone()).collect();
    let out = solve_multisector_counterfactual(&w, &phi, &tight()).unwrap();
    for c in &out.countries {
        for v in [
            c.real_income_change_pct,
            c.consumer_price_change_pct,
            c.output_change_pct,
            c.exports_change_partial_pct,
            c.exports_change_conditional_pct,
            c.exports_change_full_pct,
        ] {
            assert!(v.abs() < 1e-10, "{c:?}");
        }
    }
    for s in &out.sectors {
        for c in &s.countries {
            assert!(c.factory_price_change_pct.abs() < 1e-10, "{c:?}");
            assert!(c.inward_mr_change_pct.abs() < 1e-10, "{c:?}");
        }
    }
}

/// A sector traded by nobody (only domestic costs) and not shocked changes
/// nothing in the traded sectors (balanced trade): their relative prices and
/// their flows relative to a common deflator are those of the world without
/// it (its share taken out of the Cobb-Douglas shares).
#[test]
fn a_non_traded_unshocked_sector_leaves_the_traded_sectors_unchanged() {
    let n = 6;
    let mut rng = StdRng::seed_from_u64(7);
    let mut traded = Vec::new();
    let mut phi_cf = Vec::new();
    for (k, sigma) in [5.0, 7.0].into_iter().enumerate() {
        let (phi, trade) = random_sector(&mut rng, n, sigma, 1.0 + k as f64, true);
        phi_cf.push(fta(&phi, n, &[0, 1, 2], 1.6 + 0.3 * k as f64));
        traded.push(SectorWorld::from_trade(format!("T{k}"), &trade, phi, sigma).unwrap());
    }
    let mut phi_n = vec![0.0; n * n];
    let mut trade_n = vec![0.0; n * n];
    for i in 0..n {
        phi_n[i * n + i] = 1.0;
        trade_n[i * n + i] = rng.random_range(10.0..500.0);
    }
    let services = SectorWorld::from_trade("N", &trade_n, phi_n.clone(), 4.0).unwrap();
    let small = MultiWorld::new(names(n), traded.clone(), 2).unwrap();
    let mut all = traded;
    all.push(services);
    let big = MultiWorld::new(names(n), all, 2).unwrap();
    let a = solve_multisector_counterfactual(&small, &phi_cf, &tight()).unwrap();
    let mut phi_big = phi_cf.clone();
    phi_big.push(phi_n);
    let b = solve_multisector_counterfactual(&big, &phi_big, &tight()).unwrap();
    let da = a.sectors[0].price_change[0];
    let db = b.sectors[0].price_change[0];
    for s in 0..2 {
        for i in 0..n {
            let (pa, pb) = (
                a.sectors[s].price_change[i] / da,
                b.sectors[s].price_change[i] / db,
            );
            assert!(close(pa, pb, 1e-10), "sector {s}, {i}: {pa} vs {pb}");
        }
        for q in 0..n * n {
            let (xa, xb) = (
                a.sectors[s].pairs[q].full / da,
                b.sectors[s].pairs[q].full / db,
            );
            assert!((xa - xb).abs() <= 1e-10 * xa, "sector {s}, pair {q}");
        }
    }
}

/// Two sectors with the same costs and `σ` and proportional flows are one
/// sector: splitting a sector in two changes no outcome.
#[test]
fn identical_sectors_aggregate() {
    let n = 7;
    let mut rng = StdRng::seed_from_u64(9);
    let (phi, trade) = random_sector(&mut rng, n, 6.0, 1.0, false);
    let phi_cf = fta(&phi, n, &[1, 3, 4], 2.0);
    let one = MultiWorld::new(
        names(n),
        vec![SectorWorld::from_trade("all", &trade, phi.clone(), 6.0).unwrap()],
        0,
    )
    .unwrap();
    let third: Vec<f64> = trade.iter().map(|x| x / 3.0).collect();
    let two_thirds: Vec<f64> = trade.iter().map(|x| 2.0 * x / 3.0).collect();
    let two = MultiWorld::new(
        names(n),
        vec![
            SectorWorld::from_trade("a", &third, phi.clone(), 6.0).unwrap(),
            SectorWorld::from_trade("b", &two_thirds, phi, 6.0).unwrap(),
        ],
        0,
    )
    .unwrap();
    let a =
        solve_multisector_counterfactual(&one, std::slice::from_ref(&phi_cf), &tight()).unwrap();
    let b = solve_multisector_counterfactual(&two, &[phi_cf.clone(), phi_cf], &tight()).unwrap();
    for (x, y) in a.countries.iter().zip(&b.countries) {
        for (u, v) in [
            (x.real_income_change_pct, y.real_income_change_pct),
            (x.consumer_price_change_pct, y.consumer_price_change_pct),
            (x.exports_change_full_pct, y.exports_change_full_pct),
            (
                x.exports_change_conditional_pct,
                y.exports_change_conditional_pct,
            ),
        ] {
            assert!((u - v).abs() < 1e-10, "{}: {u} vs {v}", x.country);
        }
    }
    for (p, q) in a.pairs.iter().zip(&b.pairs) {
        assert!((p.full - q.full).abs() <= 1e-10 * p.full);
    }
}

#[test]
fn bad_inputs_are_errors() {
    let (w, phi_cf) = small_world();
    let e = solve_multisector_counterfactual(&w, &phi_cf[..2], &tight()).unwrap_err();
    assert!(e.to_string().contains("3 sectors need 3"), "{e}");
    let first = GeParams {
        full_ge: FullGe::FirstStep,
        ..tight()
    };
    assert!(solve_multisector_counterfactual(&w, &phi_cf, &first).is_err());
    let mut bad = w.clone();
    bad.sectors[1].sigma = 1.0;
    let e = bad.validate().unwrap_err();
    assert!(e.to_string().contains("sector S1"), "{e}");
}

/// A country that produces nothing in one sector (it still buys there) and
/// one that buys nothing in another: the solver clears the other markets,
/// both methods agree, and the results are the limit of a tiny positive
/// output.
#[test]
fn a_country_may_produce_or_buy_nothing_in_a_sector() {
    let n = 5;
    let mut rng = StdRng::seed_from_u64(21);
    let build = |rng: &mut StdRng, eps: f64| {
        let mut sectors = Vec::new();
        let mut phi_cf = Vec::new();
        for (k, sigma) in [5.0, 7.0].into_iter().enumerate() {
            let (phi, mut trade) = random_sector(rng, n, sigma, 1.0, false);
            if k == 1 {
                // country 4 produces (almost) nothing in sector 1
                for j in 0..n {
                    trade[4 * n + j] *= eps;
                }
            } else {
                // country 3 buys (almost) nothing in sector 0
                for i in 0..n {
                    trade[i * n + 3] *= eps;
                }
            }
            phi_cf.push(fta(&phi, n, &[0, 1, 4], 1.7));
            sectors.push(SectorWorld::from_trade(format!("S{k}"), &trade, phi, sigma).unwrap());
        }
        (MultiWorld::new(names(n), sectors, 0).unwrap(), phi_cf)
    };
    let (w, phi_cf) = build(&mut rng.clone(), 0.0);
    let (w_eps, phi_eps) = build(&mut rng, 1e-9);
    assert_eq!(w.sectors[1].output[4], 0.0);
    assert_eq!(w.sectors[0].expenditure[3], 0.0);
    let out = solve_multisector_counterfactual(&w, &phi_cf, &tight()).unwrap();
    let plain = GeParams {
        method: GeMethod::FixedPoint,
        max_iter: 100_000,
        ..tight()
    };
    let slow = solve_multisector_counterfactual(&w, &phi_cf, &plain).unwrap();
    let near = solve_multisector_counterfactual(&w_eps, &phi_eps, &tight()).unwrap();
    for i in 0..n {
        let (a, b, c) = (&out.countries[i], &slow.countries[i], &near.countries[i]);
        assert!(a.real_income_change_pct.is_finite(), "{a:?}");
        assert!(
            (a.real_income_change_pct - b.real_income_change_pct).abs() < 1e-9,
            "{a:?} vs {b:?}"
        );
        assert!(
            (a.real_income_change_pct - c.real_income_change_pct).abs() < 1e-5,
            "{a:?} vs {c:?}"
        );
    }
    // markets clear for every producer; the non-producer sells nothing
    for (s, sec) in out.sectors.iter().enumerate() {
        for i in 0..n {
            let sales: f64 = (0..n).map(|j| sec.pairs[i * n + j].full).sum();
            let purchases: f64 = (0..n).map(|j| sec.pairs[j * n + i].full).sum();
            assert!(close(sales, sec.output[i], 1e-12), "sector {s}, {i}");
            assert!(
                close(purchases, sec.expenditure[i], 1e-12),
                "sector {s}, {i}"
            );
        }
    }
    assert_eq!(out.sectors[1].output[4], 0.0);
}
