//! Seeded synthetic gravity panels, of the same design as the project's
//! `gen_panel.py` benchmark generator, so benchmarks and tests need no files.
//!
//! `μ_ijt = exp(c + a_it + b_jt + p_ij + 0.5·rta_ijt − 0.8·sanction_ijt)` with
//! pair effects `p_ij = −ldist_ij + 0.4·contig_ij + 0.3·lang_ij + η_ij`,
//! `η ~ N(0, 0.5²)`; trade is Poisson-lognormal with mean `μ` (overdispersed,
//! PPML-consistent), and `c` is set so that about 30% of flows are zero.
//! The true coefficients are `rta = 0.5`, `sanction = −0.8`.
//!
//! The same seed gives the same panel on every machine and thread count (the
//! draws come from one sequential stream). The values are not those of the
//! Python generator (a different random-number generator), only the design.

use crate::data::{Column, Factor, Frame};
use crate::error::Result;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Normal, Poisson};

/// The size and shape of a synthetic panel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PanelSpec {
    /// Number of countries `N` (the panel has up to `N² T` rows).
    pub countries: usize,
    /// Number of years `T`.
    pub years: usize,
    /// Seed of the random stream.
    pub seed: u64,
    /// Expected share of zero flows (default 0.3).
    pub zero_share: f64,
    /// `Some(F)`: an unbalanced panel keeping a share `F` of international
    /// pairs (more likely for large, close pairs), then 5% of the remaining
    /// pair-years at random; domestic pairs are always kept.
    pub keep_share: Option<f64>,
}

impl PanelSpec {
    /// A balanced panel of `countries × countries × years` rows.
    pub fn balanced(countries: usize, years: usize, seed: u64) -> Self {
        PanelSpec {
            countries,
            years,
            seed,
            zero_share: 0.3,
            keep_share: None,
        }
    }

    /// An unbalanced panel (see [`PanelSpec::keep_share`]).
    pub fn unbalanced(countries: usize, years: usize, seed: u64, keep_share: f64) -> Self {
        PanelSpec {
            keep_share: Some(keep_share),
            ..PanelSpec::balanced(countries, years, seed)
        }
    }

    /// The benchmark sizes of `gen_panel.py`: small (50 × 10), medium
    /// (150 × 20, 450k rows) and large (200 × 40, 1.6M rows).
    pub fn named(size: &str, seed: u64) -> Option<Self> {
        let (n, t) = match size {
            "small" => (50, 10),
            "medium" => (150, 20),
            "large" => (200, 40),
            _ => return None,
        };
        Some(PanelSpec::balanced(n, t, seed))
    }
}

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Generates the panel: columns `exporter, importer, year, trade, ldist,
/// contig, lang, rta, sanction`.
///
/// ```
/// use gravity_model::synthetic::{generate, PanelSpec};
/// let frame = generate(&PanelSpec::balanced(10, 3, 1))?;
/// assert_eq!(frame.nrows(), 10 * 10 * 3);
/// # Ok::<(), gravity_model::Error>(())
/// ```
///
/// # Errors
///
/// Only those of [`Frame::from_columns`] (columns of unequal length), which
/// the generator's own columns cannot produce.
pub fn generate(spec: &PanelSpec) -> Result<Frame> {
    let (n, t) = (spec.countries, spec.years);
    let mut rng = rand::rngs::StdRng::seed_from_u64(spec.seed);
    let std = |s: f64| Normal::new(0.0, s).unwrap_or_else(|_| unreachable_normal());
    // Geography: random points on a sphere, away from the poles.
    let lat: Vec<f64> = (0..n)
        .map(|_| rng.random_range(-0.8f64..0.8).asin())
        .collect();
    let lon: Vec<f64> = (0..n)
        .map(|_| rng.random_range(-std::f64::consts::PI..std::f64::consts::PI))
        .collect();
    let mut dist = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            let h = ((lat[i] - lat[j]) / 2.0).sin().powi(2)
                + lat[i].cos() * lat[j].cos() * ((lon[i] - lon[j]) / 2.0).sin().powi(2);
            dist[i * n + j] = 2.0 * 6371.0 * h.clamp(0.0, 1.0).sqrt().asin();
        }
    }
    for i in 0..n {
        let nearest = (0..n)
            .filter(|&j| j != i)
            .map(|j| dist[i * n + j])
            .fold(f64::INFINITY, f64::min);
        dist[i * n + i] = if nearest.is_finite() {
            nearest / 3.0
        } else {
            100.0
        };
    }
    let ldist: Vec<f64> = dist.iter().map(|d| d.max(1e-3).ln()).collect();
    let mut off: Vec<f64> = (0..n * n)
        .filter(|k| k / n != k % n)
        .map(|k| dist[k])
        .collect();
    off.sort_by(f64::total_cmp);
    let thr = off
        .get(((off.len() as f64) * 0.06) as usize)
        .copied()
        .unwrap_or(0.0);
    let contig: Vec<f64> = (0..n * n)
        .map(|k| f64::from(k / n != k % n && dist[k] <= thr))
        .collect();
    let group: Vec<usize> = (0..n).map(|_| rng.random_range(0..12usize)).collect();
    let lang: Vec<f64> = (0..n * n)
        .map(|k| f64::from(group[k / n] == group[k % n]))
        .collect();
    // Sizes.
    let y0: Vec<f64> = (0..n).map(|_| std(1.5).sample(&mut rng)).collect();
    let growth: Vec<f64> = (0..n).map(|_| 0.02 + std(0.02).sample(&mut rng)).collect();
    let mut log_y = vec![0.0; n * t];
    for i in 0..n {
        let mut shock = 0.0;
        for s in 0..t {
            if s > 0 {
                shock = 0.8 * shock + std(0.05).sample(&mut rng);
            }
            log_y[i * t + s] = y0[i] + growth[i] * s as f64 + shock;
        }
    }
    let e_level: Vec<f64> = (0..n).map(|_| std(0.5).sample(&mut rng)).collect();
    let log_e: Vec<f64> = (0..n * t)
        .map(|k| 0.8 * log_y[k] + e_level[k / t] + std(0.05).sample(&mut rng))
        .collect();
    // Pair effects.
    let pair: Vec<f64> = (0..n * n)
        .map(|k| -ldist[k] + 0.4 * contig[k] + 0.3 * lang[k] + std(0.5).sample(&mut rng))
        .collect();
    // RTA: symmetric, more likely for close pairs, on from a start year.
    let mean_ld = {
        let v: Vec<f64> = (0..n * n)
            .filter(|k| k / n < k % n)
            .map(|k| ldist[k])
            .collect();
        let m = v.iter().sum::<f64>() / v.len().max(1) as f64;
        let s = (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len().max(1) as f64).sqrt();
        (m, s.max(1e-12))
    };
    let mut rta_start = vec![usize::MAX; n * n];
    for i in 0..n {
        for j in (i + 1)..n {
            let z = (ldist[i * n + j] - mean_ld.0) / mean_ld.1;
            let ever = rng.random::<f64>() < logistic(-0.95 - 1.2 * z);
            let start = rng.random_range(-((t / 2) as i64)..t as i64).max(0) as usize;
            if ever {
                rta_start[i * n + j] = start;
                rta_start[j * n + i] = start;
            }
        }
    }
    // Sanctions: directed, one spell of 2..6 years.
    let mut sanction_spell = vec![(usize::MAX, 0usize); n * n];
    for (k, spell) in sanction_spell.iter_mut().enumerate() {
        if k / n != k % n && rng.random::<f64>() < 0.05 {
            let s0 = rng.random_range(0..(t.max(2) - 1));
            let len = rng.random_range(2..7usize);
            *spell = (s0, s0 + len);
        }
    }
    // Means, with a lognormal multiplicative error.
    let rows = n * n * t;
    let sig = 0.7;
    let noise = Normal::new(-sig * sig / 2.0, sig).unwrap_or_else(|_| unreachable_normal());
    let mut base = vec![0.0; rows];
    let mut rta = vec![0.0; rows];
    let mut sanction = vec![0.0; rows];
    for i in 0..n {
        for j in 0..n {
            for s in 0..t {
                let r = (i * n + j) * t + s;
                let k = i * n + j;
                rta[r] = f64::from(s >= rta_start[k]);
                sanction[r] = f64::from(s >= sanction_spell[k].0 && s < sanction_spell[k].1);
                base[r] = log_y[i * t + s] + log_e[j * t + s] + pair[k] + 0.5 * rta[r]
                    - 0.8 * sanction[r]
                    + noise.sample(&mut rng);
            }
        }
    }
    // Intercept so that the expected share of zeros is `zero_share`.
    let (mut lo, mut hi) = (-40.0f64, 40.0f64);
    for _ in 0..50 {
        let c = 0.5 * (lo + hi);
        let pz: f64 = base
            .iter()
            .map(|b| (-(b + c).min(50.0).exp()).exp())
            .sum::<f64>()
            / rows as f64;
        if pz > spec.zero_share {
            lo = c;
        } else {
            hi = c;
        }
    }
    let c = 0.5 * (lo + hi);
    let trade: Vec<f64> = base
        .iter()
        .map(|b| {
            let lam = (b + c).exp();
            if lam < 1e7 {
                Poisson::new(lam.max(1e-300))
                    .map(|p| p.sample(&mut rng))
                    .unwrap_or(0.0)
            } else {
                (lam + lam.sqrt() * std(1.0).sample(&mut rng))
                    .round()
                    .max(0.0)
            }
        })
        .collect();
    // Unbalanced panels: keep pairs by size, then drop 5% of pair-years.
    let keep: Vec<bool> = match spec.keep_share {
        None => vec![true; rows],
        Some(share) => {
            let mut rng2 = rand::rngs::StdRng::seed_from_u64(spec.seed.wrapping_add(1_000_003));
            let size: Vec<f64> = (0..n * n)
                .map(|k| {
                    let (i, j) = (k / n, k % n);
                    let m: f64 = (0..t)
                        .map(|s| (log_y[i * t + s] + log_e[j * t + s] + pair[k] + c).exp())
                        .sum::<f64>()
                        / t as f64;
                    (m + 1e-12).ln()
                })
                .collect();
            let offd: Vec<f64> = (0..n * n)
                .filter(|k| k / n != k % n)
                .map(|k| size[k])
                .collect();
            let m = offd.iter().sum::<f64>() / offd.len().max(1) as f64;
            let sd = (offd.iter().map(|x| (x - m).powi(2)).sum::<f64>() / offd.len().max(1) as f64)
                .sqrt()
                .max(1e-12);
            let (mut lo, mut hi) = (-20.0f64, 20.0f64);
            for _ in 0..60 {
                let a = 0.5 * (lo + hi);
                let mean = offd
                    .iter()
                    .map(|s| logistic(a + 1.5 * (s - m) / sd))
                    .sum::<f64>()
                    / offd.len().max(1) as f64;
                if mean > share {
                    hi = a;
                } else {
                    lo = a;
                }
            }
            let a = 0.5 * (lo + hi);
            let pair_kept: Vec<bool> = (0..n * n)
                .map(|k| {
                    let u: f64 = rng2.random();
                    k / n == k % n || u < logistic(a + 1.5 * (size[k] - m) / sd)
                })
                .collect();
            (0..rows)
                .map(|r| {
                    let k = r / t;
                    let u: f64 = rng2.random();
                    pair_kept[k] && (k / n == k % n || u >= 0.05)
                })
                .collect()
        }
    };
    let names: Vec<String> = (0..n).map(|i| format!("C{i:03}")).collect();
    let kept = keep.iter().filter(|k| **k).count();
    let mut exporter = Vec::with_capacity(kept);
    let mut importer = Vec::with_capacity(kept);
    let mut year = Vec::with_capacity(kept);
    let mut cols: [Vec<f64>; 6] = Default::default();
    for r in 0..rows {
        if !keep[r] {
            continue;
        }
        let (k, s) = (r / t, r % t);
        exporter.push((k / n) as u32);
        importer.push((k % n) as u32);
        year.push(2000.0 + s as f64);
        cols[0].push(trade[r]);
        cols[1].push(ldist[k]);
        cols[2].push(contig[k]);
        cols[3].push(lang[k]);
        cols[4].push(rta[r]);
        cols[5].push(sanction[r]);
    }
    let [tr, ld, co, la, rt, sa] = cols;
    Frame::from_columns(vec![
        (
            "exporter".into(),
            Column::Factor(Factor {
                codes: exporter,
                levels: names.clone(),
            }),
        ),
        (
            "importer".into(),
            Column::Factor(Factor {
                codes: importer,
                levels: names,
            }),
        ),
        ("year".into(), Column::Numeric(year.into())),
        ("trade".into(), Column::Numeric(tr.into())),
        ("ldist".into(), Column::Numeric(ld.into())),
        ("contig".into(), Column::Numeric(co.into())),
        ("lang".into(), Column::Numeric(la.into())),
        ("rta".into(), Column::Numeric(rt.into())),
        ("sanction".into(), Column::Numeric(sa.into())),
    ])
}

/// `Normal::new` fails only for a negative or NaN standard deviation, which
/// this module never passes.
fn unreachable_normal() -> Normal<f64> {
    // A constant, valid distribution: N(0, 1) cannot fail to construct.
    match Normal::new(0.0, 1.0) {
        Ok(d) => d,
        Err(_) => unreachable!("N(0, 1) is a valid distribution"),
    }
}
