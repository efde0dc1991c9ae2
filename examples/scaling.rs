//! Scaling of one PPML fit in the number of rows: time and peak memory.
//!
//!   cargo run --release --example scaling -- COUNTRIES YEARS
//!
//! Generates a balanced seeded synthetic panel (COUNTRIES² × YEARS rows), fits
//! `trade ~ rta + sanction | exporter^year + importer^year + exporter^importer`
//! by PPML with pair-clustered inference, and prints one line:
//! rows, generation seconds, fit + inference seconds, IRLS seconds, iterations,
//! and the peak resident memory of the process (VmHWM, Linux) in MB.
//! Run each size in its own process so peak memory is per size, e.g.
//!   for s in "50 40" "150 20" "200 40" "400 40"; do
//!     cargo run -q --release --example scaling -- $s; done

use gravity_model::synthetic::{generate, PanelSpec};
use gravity_model::{fit, Estimator, FitOptions, Formula, SmallSample, VcovSpec};
use std::time::Instant;

fn peak_mb() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|s| s.parse().expect("COUNTRIES YEARS"))
        .collect();
    let (n, t) = match args[..] {
        [n, t] => (n, t),
        _ => (50, 40),
    };
    let t0 = Instant::now();
    let frame = generate(&PanelSpec::balanced(n, t, 1)).expect("panel");
    let gen_s = t0.elapsed().as_secs_f64();
    let formula = Formula::parse(
        "trade ~ rta + sanction | exporter^year + importer^year + exporter^importer",
    )
    .expect("formula");
    let opts = FitOptions::default().vcov(gravity_model::VcovSpec::Cluster(vec![
        "exporter^importer".into(),
    ]));
    let t1 = Instant::now();
    let f = fit(&frame, &formula, Estimator::Ppml, &opts).expect("fit");
    let inf = f
        .inference(
            &VcovSpec::Cluster(vec!["exporter^importer".into()]),
            SmallSample::fixest(),
        )
        .expect("inference");
    let fit_s = t1.elapsed().as_secs_f64();
    let coefs: Vec<String> = inf
        .coefficients
        .iter()
        .map(|c| format!("{}={:.4}", c.name, c.estimate))
        .collect();
    println!(
        "rows={} gen_s={:.2} fit_s={:.2} irls_s={:.2} iters={} peak_MB={:.0} {}",
        frame.nrows(),
        gen_s,
        fit_s,
        f.info.seconds,
        f.info.iterations,
        peak_mb().unwrap_or(f64::NAN),
        coefs.join(" ")
    );
}
