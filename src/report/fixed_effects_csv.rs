//! The fixed effects of a fit as CSV (`gravity fit --save-fe`).

use crate::fit::{Estimator, Fit};
use crate::fixed_effects::recover::NORMALISATION;
use crate::fixed_effects::FixedEffectEstimates;
use std::io::Write;

/// Writes `fe`, the fixed effects of `fit` ([`Fit::fixed_effects`]), as CSV:
/// comment lines starting with `#` (the model, the scale, the
/// normalisation, the number of connected components), then the header
/// `dimension,level,estimate` and one line per level of every dimension, in
/// formula order and order of appearance. Fields with a comma, a quote or a
/// line break are quoted; estimates are written with all their digits.
///
/// ```
/// use gravity_model::{fit, Column, Estimator, FitOptions, Formula, Frame};
/// let frame = Frame::from_columns(vec![
///     ("y".into(), Column::Numeric(vec![1.0, 3.0, 2.0, 5.0, 4.0, 9.0].into())),
///     ("x".into(), Column::Numeric(vec![0.0, 1.0, 0.0, 1.0, 0.0, 1.0].into())),
///     ("g".into(), Column::Numeric(vec![1.0, 1.0, 2.0, 2.0, 3.0, 3.0].into())),
/// ])?;
/// let fitted = fit(&frame, &Formula::parse("y ~ x | g")?, Estimator::Ppml, &FitOptions::default())?;
/// let mut out = Vec::new();
/// gravity_model::report::write_fixed_effects_csv(&mut out, &fitted, &fitted.fixed_effects()?)?;
/// let text = String::from_utf8(out)?;
/// assert!(text.starts_with("# "));
/// assert_eq!(text.lines().filter(|l| l.starts_with("g,")).count(), 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// The writer's.
pub fn write_fixed_effects_csv(
    w: &mut dyn Write,
    fit: &Fit,
    fe: &FixedEffectEstimates,
) -> std::io::Result<()> {
    let scale = match fit.estimator {
        Estimator::Ppml => "log scale (the linear predictor of PPML)",
        Estimator::Ols => "units of the outcome",
    };
    writeln!(
        w,
        "# fixed effects of {} ({}), {scale}",
        one_line(&fit.formula.text),
        fit.estimator
    )?;
    writeln!(w, "# normalisation: {NORMALISATION}")?;
    writeln!(
        w,
        "# {} connected component(s); largest error reproducing the fixed-effect sums {:e}",
        fe.components, fe.max_error
    )?;
    writeln!(w, "dimension,level,estimate")?;
    for d in &fe.dims {
        let dim = field(&d.name);
        for (level, value) in d.levels.iter().zip(&d.values) {
            writeln!(w, "{dim},{},{value}", field(level))?;
        }
    }
    Ok(())
}

fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

/// A CSV field, quoted when it must be.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) || s.starts_with('#') || s.trim() != s {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn fields_are_quoted_when_needed() {
        assert_eq!(super::field("KOR^2019"), "KOR^2019");
        assert_eq!(super::field("a,b"), "\"a,b\"");
        assert_eq!(super::field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(super::field("#1"), "\"#1\"");
        assert_eq!(super::field(" x"), "\" x\"");
    }
}
