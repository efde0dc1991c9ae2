//! Helpers shared by the integration tests (each test file that uses them
//! declares `mod common;`).

#![allow(dead_code)]

use gravity_model::counterfactual::World;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A random world with `n` countries, its trade perturbed so that exports
/// and imports differ.
pub fn random_world(n: usize, seed: u64, sigma: f64, reference: usize) -> World {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut phi = vec![0.0; n * n];
    let mut trade = vec![0.0; n * n];
    let size: Vec<f64> = (0..n).map(|_| rng.random_range(1.0..100.0)).collect();
    for i in 0..n {
        for j in 0..n {
            let t: f64 = if i == j {
                1.0
            } else {
                rng.random_range(1.2..3.0)
            };
            phi[i * n + j] = t.powf(1.0 - sigma);
            trade[i * n + j] = size[i] * size[j] * phi[i * n + j] * rng.random_range(0.5..1.5);
        }
    }
    let names = (0..n).map(|i| format!("C{i:02}")).collect();
    World::from_trade(names, &trade, phi, sigma, reference).unwrap()
}
