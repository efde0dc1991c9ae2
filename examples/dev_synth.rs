use gravity_model::formula::{FixedEffect, Formula, Term};
use gravity_model::synthetic::{generate, PanelSpec};
use gravity_model::*;
fn t(s: &str) -> Term {
    Term {
        name: s.into(),
        start: 0,
        len: s.len(),
    }
}
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(40);
    let tt: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(6);
    let keep: Option<f64> = args.get(3).and_then(|s| s.parse().ok());
    let spec = match keep {
        Some(k) => PanelSpec::unbalanced(n, tt, 1, k),
        None => PanelSpec::balanced(n, tt, 1),
    };
    let t0 = std::time::Instant::now();
    let frame = generate(&spec).unwrap();
    eprintln!("generated {} rows in {:?}", frame.nrows(), t0.elapsed());
    let f = Formula {
        text: "trade ~ rta + sanction | exporter^year + importer^year + exporter^importer".into(),
        response: t("trade"),
        regressors: vec![t("rta"), t("sanction")],
        intercept: false,
        fixed_effects: vec![
            FixedEffect {
                factors: vec![t("exporter"), t("year")],
            },
            FixedEffect {
                factors: vec![t("importer"), t("year")],
            },
            FixedEffect {
                factors: vec![t("exporter"), t("importer")],
            },
        ],
    };
    let opts = FitOptions {
        clusters: vec!["exporter^importer".into()],
        ..Default::default()
    };
    let t0 = std::time::Instant::now();
    let fit = fit(&frame, &f, Estimator::Ppml, &opts).unwrap();
    eprintln!(
        "fit in {:?} (irls {:.3}s) {:?}",
        t0.elapsed(),
        fit.info.seconds,
        fit.info
    );
    let inf = fit
        .inference(
            &VcovSpec::Cluster(vec!["exporter^importer".into()]),
            SmallSample::Fixest,
        )
        .unwrap();
    println!("{}", report::Table::new(&fit, &inf));
    for n in &fit.notes {
        println!("note: {n}");
    }
}
