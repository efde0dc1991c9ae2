//! Weighted demeaning (the inner solve of every PPML iteration) with 1, 2 and
//! 3 fixed effects — exporter^year; + importer^year; + exporter^importer — on
//! a balanced (100 × 20 = 200k rows) and an unbalanced (150 × 20, about half
//! the pairs kept, ~200k rows) synthetic panel. The demeaned column is `rta`,
//! the weights are all one, the tolerance is 1e-8. Two solvers: `{k}fe` is
//! the one PPML and the ReLU check use (CG on the normal equations of the
//! fixed-effect coefficients, `fixed_effects::normal`; layout built outside
//! the timing, as once per fit), `{k}fe_rows` the row-space solver OLS uses
//! (`fixed_effects::demean`).

mod common;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use gravity_model::design::{self, DesignSpec};
use gravity_model::fixed_effects::demean::{ColumnWork, DemeanParams, Demeaner};
use gravity_model::fixed_effects::{CoefJob, Coefficients, Layout, NormalEquations};
use gravity_model::synthetic::PanelSpec;
use std::hint::black_box;

fn bench_demean(c: &mut Criterion) {
    let panels = [
        ("balanced", PanelSpec::balanced(100, 20, 1)),
        ("unbalanced", PanelSpec::unbalanced(150, 20, 1, 0.5)),
    ];
    let mut group = c.benchmark_group("demean");
    group.sample_size(10);
    for (label, spec) in panels {
        let frame = common::panel(&spec);
        for n_fe in 1..=3 {
            let d = design::build(&frame, &common::formula(n_fe), &DesignSpec::default())
                .expect("design");
            let n = d.n();
            let w = vec![1.0; n];
            let x = d.x_col(0).to_vec();
            let params = DemeanParams {
                tol: 1e-8,
                max_iter: 10_000,
            };
            let case = format!("{label}_{}k", n / 1000);
            let layout = Layout::new(&d.fe);
            let id = BenchmarkId::new(&case, format!("{n_fe}fe"));
            group.bench_function(id, |b| {
                let mut eq = NormalEquations::new(&layout, &w);
                let mut x_tilde = vec![0.0; n];
                let mut alpha = Coefficients::zeros(&layout);
                b.iter(|| {
                    // cold start each time (α = 0)
                    alpha = Coefficients::zeros(&layout);
                    let info = eq.solve(
                        &mut [CoefJob {
                            x: black_box(&x),
                            x_tilde: &mut x_tilde,
                            alpha: &mut alpha,
                            known_residual: false,
                        }],
                        &params,
                    );
                    black_box(x_tilde[0]);
                    black_box(info)
                })
            });
            let id = BenchmarkId::new(&case, format!("{n_fe}fe_rows"));
            group.bench_function(id, |b| {
                let demeaner = Demeaner::new(&d.fe, &w);
                let mut x_tilde = vec![0.0; n];
                let mut work = ColumnWork::new(n, &d.fe);
                b.iter(|| {
                    // cold start each time (u = 0), scratch reused as in a fit
                    work.u.fill(0.0);
                    let info = demeaner.demean(black_box(&x), &mut x_tilde, &mut work, &params);
                    black_box(x_tilde[0]);
                    black_box(info)
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench_demean);
criterion_main!(benches);
