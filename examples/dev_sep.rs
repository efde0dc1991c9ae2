use gravity_model::formula::{FixedEffect, Formula, Term};
use gravity_model::*;
fn t(s: &str) -> Term {
    Term {
        name: s.into(),
        start: 0,
        len: s.len(),
    }
}
fn main() {
    for k in 1..=18 {
        let path = format!("/work/shared/data/ppmlhdfe_separation/{k:02}.csv");
        let mut rdr = csv::Reader::from_path(&path).unwrap();
        let headers: Vec<String> = rdr
            .headers()
            .unwrap()
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut cols: Vec<Vec<f64>> = vec![vec![]; headers.len()];
        for r in rdr.records() {
            let r = r.unwrap();
            for (j, v) in r.iter().enumerate() {
                cols[j].push(v.trim().parse().unwrap_or(f64::NAN));
            }
        }
        let mut frame_cols = vec![];
        for (h, c) in headers.iter().zip(&cols) {
            frame_cols.push((h.clone(), Column::Numeric(c.clone())));
        }
        let frame = Frame::from_columns(frame_cols).unwrap();
        let xs: Vec<Term> = headers
            .iter()
            .filter(|h| h.starts_with('x'))
            .map(|h| t(h))
            .collect();
        let ids: Vec<FixedEffect> = headers
            .iter()
            .filter(|h| h.starts_with("id"))
            .map(|h| FixedEffect {
                factors: vec![t(h)],
            })
            .collect();
        let f = Formula {
            text: format!(
                "y ~ {:?} | {:?}",
                xs.iter().map(|x| &x.name).collect::<Vec<_>>(),
                ids.len()
            ),
            response: t(&headers[0]),
            regressors: xs.clone(),
            intercept: ids.is_empty(),
            fixed_effects: ids,
        };
        let sep_col = headers.iter().position(|h| h == "separated").unwrap();
        match fit(&frame, &f, Estimator::Ppml, &FitOptions::default()) {
            Ok(fit) => {
                let mut bad = 0;
                let mut nsep = 0;
                for (i, s) in fit.sample.status.iter().enumerate() {
                    let truth = cols[sep_col][i] == 1.0;
                    if truth {
                        nsep += 1;
                    }
                    let ok = match s {
                        RowStatus::Separated => truth,
                        RowStatus::Singleton => true,
                        _ => !truth,
                    };
                    if !ok {
                        bad += 1;
                    }
                }
                println!("{k:02}: n={} truth_sep={nsep} status_sep={} singletons={} wrong={bad} conv={} iters={} relu_it={} beta={:?} collinear={:?}", frame.nrows(), fit.sample.dropped.separated, fit.sample.dropped.singletons, fit.info.converged, fit.info.iterations, fit.sample.relu_iterations, fit.beta, fit.collinear);
            }
            Err(e) => println!("{k:02}: ERROR {e}"),
        }
    }
}
