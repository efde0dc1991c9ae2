//! The separation check on a sparse panel, as in the ITPD-E sector panels
//! (agriculture: 40% of the flows zero, whole exporter-years without trade):
//! an unbalanced synthetic panel of 150 countries × 20 years keeping 60% of
//! the pairs, with 70% of the flows zero. `check` is the whole PPML fit with
//! both checks (fixed effects and ReLU), `fe_only` with the fixed-effect
//! check alone (fixest's), `none` with neither; `check − none` is what
//! separation costs. Panel generation is outside the timing.

mod common;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode};
use gravity_model::synthetic::PanelSpec;
use gravity_model::{fit, Estimator, FitOptions};
use std::hint::black_box;

fn bench_separation(c: &mut Criterion) {
    let formula = common::formula(3);
    let spec = PanelSpec {
        zero_share: 0.7,
        ..PanelSpec::unbalanced(150, 20, 1, 0.6)
    };
    let frame = common::panel(&spec);
    let label = format!("sparse_{}k", frame.nrows() / 1000);
    let mut group = c.benchmark_group("separation");
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    let variants = [
        ("check", FitOptions::default()),
        ("fe_only", FitOptions::default().separation_ir(false)),
        ("none", FitOptions::default().no_separation()),
    ];
    for (name, opts) in variants {
        group.bench_function(BenchmarkId::new(name, &label), |b| {
            b.iter(|| {
                black_box(fit(black_box(&frame), &formula, Estimator::Ppml, &opts).expect("fit"))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_separation);
criterion_main!(benches);
