//! The general-equilibrium solve: baseline, conditional and full endowment GE
//! on a synthetic world (the size of the shipped panel's GE year, ~200
//! countries), for a free trade agreement among a few of them; and the same
//! with costs `d^-5` instead of `d^-3`.

use criterion::{criterion_group, criterion_main, Criterion};
use gravity_model::counterfactual::{solve_counterfactual, GeParams, World};
use std::hint::black_box;

fn world(n: usize, power: f64) -> (World, Vec<f64>) {
    // Deterministic sizes and distances on a circle; strong home bias.
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
            phi[i * n + j] = d.powf(power);
            trade[i * n + j] =
                size[i] * size[j] * phi[i * n + j] * (1.0 + 0.2 * ((i + 3 * j) % 5) as f64);
        }
    }
    let names = (0..n).map(|i| format!("C{i:03}")).collect();
    let w = World::from_trade(names, &trade, phi.clone(), 7.0, 0).expect("a valid world");
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

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("ge");
    g.sample_size(10);
    // phi = d^-3, and phi = d^-5 (strong home bias: the plain iterations
    // need tens of thousands of steps there, Newton a handful)
    for (n, power, name) in [(69usize, -3.0, ""), (200, -3.0, ""), (200, -5.0, "_steep")] {
        let (w, phi_cf) = world(n, power);
        g.bench_function(format!("simulate_{n}_countries{name}"), |b| {
            b.iter(|| {
                solve_counterfactual(black_box(&w), black_box(&phi_cf), &GeParams::default())
                    .expect("converges")
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
