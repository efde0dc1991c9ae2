//! Invariances of the estimators on small random panels (issue 12):
//! the units of `y` and of each `x`, the order of the rows, a constant added
//! to a regressor that a fixed effect absorbs, and duplicating every row
//! against a weight of two leave the estimates unchanged (up to the known
//! rescaling) to 1e-8 relative, with the default options.

use gravity_model::{fit, Column, Estimator, Fit, FitOptions, Formula, Frame};
use proptest::prelude::*;

/// A panel of `e` exporters × `m` importers × `t` years with two regressors
/// (`x1` continuous, `x2` a dummy that switches on within pairs), an outcome
/// with about a fifth of zeros, and prior weights of one.
#[derive(Debug, Clone)]
struct Panel {
    exporter: Vec<f64>,
    importer: Vec<f64>,
    year: Vec<f64>,
    x1: Vec<f64>,
    x2: Vec<f64>,
    y: Vec<f64>,
}

impl Panel {
    fn frame(&self, weights: Option<&[f64]>) -> Frame {
        let mut cols = vec![
            (
                "exporter".to_owned(),
                Column::Numeric(self.exporter.clone().into()),
            ),
            (
                "importer".to_owned(),
                Column::Numeric(self.importer.clone().into()),
            ),
            ("year".to_owned(), Column::Numeric(self.year.clone().into())),
            ("x1".to_owned(), Column::Numeric(self.x1.clone().into())),
            ("x2".to_owned(), Column::Numeric(self.x2.clone().into())),
            ("y".to_owned(), Column::Numeric(self.y.clone().into())),
        ];
        if let Some(w) = weights {
            cols.push(("w".to_owned(), Column::Numeric(w.to_vec().into())));
        }
        Frame::from_columns(cols).expect("a valid frame")
    }

    fn map_rows(&self, order: &[usize]) -> Panel {
        let pick = |v: &[f64]| order.iter().map(|&i| v[i]).collect::<Vec<_>>();
        Panel {
            exporter: pick(&self.exporter),
            importer: pick(&self.importer),
            year: pick(&self.year),
            x1: pick(&self.x1),
            x2: pick(&self.x2),
            y: pick(&self.y),
        }
    }
}

fn panel() -> impl Strategy<Value = Panel> {
    (4usize..7, 4usize..7, 3usize..5, any::<u64>()).prop_map(|(e, m, t, seed)| {
        // A small deterministic generator (SplitMix64), so a case is its seed.
        let mut state = seed;
        let mut next = move || {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut p = Panel {
            exporter: vec![],
            importer: vec![],
            year: vec![],
            x1: vec![],
            x2: vec![],
            y: vec![],
        };
        for i in 0..e {
            for j in 0..m {
                let switch = (next() * (t as f64 + 1.0)) as usize;
                for k in 0..t {
                    let x1 = next() * 2.0 - 1.0;
                    let x2 = f64::from(u8::from(k >= switch));
                    let eta = 0.4 * x1 + 0.3 * x2 + 0.2 * i as f64 - 0.1 * j as f64
                        + 0.05 * k as f64
                        + (next() - 0.5);
                    let y = if next() < 0.2 { 0.0 } else { (2.0 + eta).exp() };
                    p.exporter.push(i as f64);
                    p.importer.push(j as f64);
                    p.year.push(k as f64);
                    p.x1.push(x1);
                    p.x2.push(x2);
                    p.y.push(y);
                }
            }
        }
        p
    })
}

const FORMULA: &str = "y ~ x1 + x2 | exporter^year + importer^year + exporter^importer";
const OLS_FORMULA: &str = "y ~ x1 + x2 | exporter^year + importer";

fn estimate(frame: &Frame, estimator: Estimator, weights: bool) -> Option<Fit> {
    let text = match estimator {
        Estimator::Ppml => FORMULA,
        Estimator::Ols => OLS_FORMULA,
    };
    let formula = Formula::parse(text).expect("formula");
    let options = {
        let mut o = FitOptions::default();
        o.weights = weights.then(|| "w".to_owned());
        o
    };
    // A random panel may leave nothing to estimate (everything separated or
    // a singleton); such a case says nothing about invariance. Any other
    // error fails the test.
    match fit(frame, &formula, estimator, &options) {
        Ok(f) => Some(f),
        Err(e) if e.kind() == gravity_model::ErrorKind::EmptySample => None,
        Err(e) => panic!("{estimator}: {e}"),
    }
}

/// `a` equals `b` coefficient by coefficient, to 1e-8 relative (with an
/// absolute floor of 1e-8 times the largest coefficient, for one near 0).
fn same(a: &Fit, b: &Fit, scale: &[f64]) -> std::result::Result<(), TestCaseError> {
    prop_assert_eq!(&a.names, &b.names);
    let big = b.beta.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    for ((name, (x, y)), s) in a.names.iter().zip(a.beta.iter().zip(&b.beta)).zip(scale) {
        let want = y * s;
        let err = (x - want).abs();
        prop_assert!(
            err <= 1e-8 * want.abs().max(big * s.abs()),
            "{}: {} vs {} (relative {:e})",
            name,
            x,
            want,
            err / want.abs()
        );
    }
    Ok(())
}

fn ones(p: usize) -> Vec<f64> {
    vec![1.0; p]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn outcome_units(p in panel(), k in -15i32..=15) {
        let c = 10f64.powi(k);
        let base = p.frame(None);
        let mut q = p.clone();
        q.y.iter_mut().for_each(|y| *y *= c);
        let scaled = q.frame(None);
        for estimator in [Estimator::Ppml, Estimator::Ols] {
            let (Some(a), Some(b)) = (estimate(&scaled, estimator, false), estimate(&base, estimator, false)) else {
                continue;
            };
            // PPML: β unchanged; OLS: β × c.
            let s = match estimator {
                Estimator::Ppml => 1.0,
                Estimator::Ols => c,
            };
            same(&a, &b, &vec![s; b.beta.len()])?;
        }
    }

    #[test]
    fn regressor_units(p in panel(), k in -15i32..=15) {
        let c = 10f64.powi(k);
        let base = p.frame(None);
        let mut q = p.clone();
        q.x1.iter_mut().for_each(|x| *x *= c);
        let scaled = q.frame(None);
        for estimator in [Estimator::Ppml, Estimator::Ols] {
            let (Some(a), Some(b)) = (estimate(&scaled, estimator, false), estimate(&base, estimator, false)) else {
                continue;
            };
            let s: Vec<f64> = b.names.iter().map(|n| if n == "x1" { 1.0 / c } else { 1.0 }).collect();
            same(&a, &b, &s)?;
        }
    }

    #[test]
    fn row_order(p in panel(), seed in any::<u64>()) {
        let n = p.y.len();
        let mut order: Vec<usize> = (0..n).collect();
        // Fisher–Yates with a seeded LCG.
        let mut s = seed | 1;
        for i in (1..n).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            order.swap(i, (s >> 33) as usize % (i + 1));
        }
        let base = p.frame(None);
        let shuffled = p.map_rows(&order).frame(None);
        for estimator in [Estimator::Ppml, Estimator::Ols] {
            let (Some(a), Some(b)) = (estimate(&shuffled, estimator, false), estimate(&base, estimator, false)) else {
                continue;
            };
            same(&a, &b, &ones(b.beta.len()))?;
        }
    }

    #[test]
    fn constant_absorbed_by_a_fixed_effect(p in panel(), a in -1.0e6f64..1.0e6) {
        let base = p.frame(None);
        let mut q = p.clone();
        q.x1.iter_mut().for_each(|x| *x += a);
        let shifted = q.frame(None);
        for estimator in [Estimator::Ppml, Estimator::Ols] {
            let (Some(f), Some(b)) = (estimate(&shifted, estimator, false), estimate(&base, estimator, false)) else {
                continue;
            };
            same(&f, &b, &ones(b.beta.len()))?;
        }
    }

    #[test]
    fn duplicated_rows_equal_weight_two(p in panel()) {
        let n = p.y.len();
        let twice: Vec<usize> = (0..n).chain(0..n).collect();
        let doubled = p.map_rows(&twice).frame(None);
        let weighted = p.frame(Some(&vec![2.0; n]));
        for estimator in [Estimator::Ppml, Estimator::Ols] {
            let (Some(a), Some(b)) = (estimate(&doubled, estimator, false), estimate(&weighted, estimator, true)) else {
                continue;
            };
            same(&a, &b, &ones(b.beta.len()))?;
        }
    }
}
