//! Results do not depend on the number of threads, and the estimator recovers
//! the true coefficients of a large synthetic panel.

use gravity_model::synthetic::{generate, PanelSpec};
use gravity_model::{fit, Estimator, Fit, FitOptions, Formula, SmallSample, VcovSpec};

const F: &str = "trade ~ rta + sanction | exporter^year + importer^year + exporter^importer";

fn run(threads: usize, spec: &PanelSpec) -> (Fit, Vec<f64>) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        let frame = generate(spec).unwrap();
        let formula = Formula::parse(F).unwrap();
        let options = FitOptions::default().vcov(gravity_model::VcovSpec::Cluster(vec![
            "exporter^importer".into(),
        ]));
        let f = fit(&frame, &formula, Estimator::Ppml, &options).unwrap();
        let se = f
            .inference(
                &VcovSpec::Cluster(vec!["exporter^importer".into()]),
                SmallSample::fixest(),
            )
            .unwrap()
            .std_errors();
        (f, se)
    })
}

#[test]
fn one_and_two_threads_give_bitwise_identical_results() {
    let spec = PanelSpec::unbalanced(60, 8, 7, 0.6);
    let (a, sa) = run(1, &spec);
    let (b, sb) = run(2, &spec);
    assert_eq!(a.beta, b.beta);
    assert_eq!(sa, sb);
    assert_eq!(a.info.iterations, b.info.iterations);
    assert_eq!(a.info.deviance.to_bits(), b.info.deviance.to_bits());
}

#[test]
fn ppml_recovers_the_true_coefficients_of_a_synthetic_panel() {
    // 120 countries × 12 years; true rta = 0.5, sanction = −0.8.
    let (f, se) = run(2, &PanelSpec::balanced(120, 12, 3));
    assert!(f.info.converged);
    let rta = f.coef("rta").unwrap();
    let sanction = f.coef("sanction").unwrap();
    assert!((rta - 0.5).abs() < 4.0 * se[0], "rta {rta} ± {}", se[0]);
    assert!(
        (sanction + 0.8).abs() < 4.0 * se[1],
        "sanction {sanction} ± {}",
        se[1]
    );
}
