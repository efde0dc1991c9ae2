//! One PPML fit end to end — `trade ~ rta + sanction | exporter^year +
//! importer^year + exporter^importer`, then pair-clustered inference — on
//! balanced synthetic panels of 0.1M (50 × 50 × 40), 0.45M (150 × 150 × 20)
//! and 1.6M (200 × 200 × 40) rows. Panel generation is outside the timing.
//!
//! `PPML_BENCH_MAX_ROWS=N` skips the sizes above N rows (CI uses it to keep
//! the bench stage short).

mod common;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode};
use gravity_model::synthetic::PanelSpec;
use gravity_model::{fit, Estimator, FitOptions, SmallSample, VcovSpec};
use std::hint::black_box;

fn bench_ppml(c: &mut Criterion) {
    let max_rows: usize = std::env::var("PPML_BENCH_MAX_ROWS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(usize::MAX);
    let formula = common::formula(3);
    let opts = FitOptions::default().vcov(gravity_model::VcovSpec::Cluster(vec![
        "exporter^importer".into(),
    ]));
    let vcov = VcovSpec::Cluster(vec!["exporter^importer".into()]);
    let mut group = c.benchmark_group("ppml");
    group.sample_size(10);
    // one fit per sample: each takes seconds
    group.sampling_mode(SamplingMode::Flat);
    for (label, n, t) in [("0.1M", 50, 40), ("0.45M", 150, 20), ("1.6M", 200, 40)] {
        if n * n * t > max_rows {
            continue;
        }
        let frame = common::panel(&PanelSpec::balanced(n, t, 1));
        group.bench_function(BenchmarkId::new("fit_3fe_cluster", label), |b| {
            b.iter(|| {
                let f = fit(black_box(&frame), &formula, Estimator::Ppml, &opts).expect("fit");
                let inf = f
                    .inference(&vcov, SmallSample::fixest())
                    .expect("inference");
                black_box((f, inf))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_ppml);
criterion_main!(benches);
