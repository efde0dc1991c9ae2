//! Checks of option values before any work is done, each error giving the
//! rule and the value that broke it.

use crate::error::{Error, ErrorKind, Result};
use crate::fit::FitOptions;

impl FitOptions {
    /// Checks the numeric options: `irls_tol`, `fixef_tol` and `collin_tol`
    /// in (0, 1), `irls_max_iter` at least 1. Called first by
    /// [`fit`](crate::fit()).
    ///
    /// ```
    /// use gravity_model::FitOptions;
    /// assert!(FitOptions::default().validate().is_ok());
    /// let bad = FitOptions::default().irls_max_iter(0);
    /// assert_eq!(bad.validate().unwrap_err().to_string(), "irls_max_iter must be at least 1, found 0");
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidOption`] naming the first option out of range
    /// and its value.
    pub fn validate(&self) -> Result<()> {
        let unit = |v: f64| v > 0.0 && v < 1.0;
        for (name, value) in [
            ("irls_tol", self.irls_tol),
            ("fixef_tol", self.fixef_tol),
            ("collin_tol", self.collin_tol),
        ] {
            if !unit(value) {
                return Err(Error::model(
                    ErrorKind::InvalidOption,
                    format!("{name} must be greater than 0 and less than 1, found {value}"),
                ));
            }
        }
        if self.irls_max_iter < 1 {
            return Err(Error::model(
                ErrorKind::InvalidOption,
                format!(
                    "irls_max_iter must be at least 1, found {}",
                    self.irls_max_iter
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_bad_value_is_named() {
        for (options, needle) in [
            (FitOptions::default().irls_tol(0.0), "irls_tol must be"),
            (FitOptions::default().irls_tol(f64::NAN), "found NaN"),
            (FitOptions::default().irls_tol(1.0), "found 1"),
            (FitOptions::default().fixef_tol(-1.0), "fixef_tol"),
            (
                FitOptions::default().collin_tol(f64::INFINITY),
                "collin_tol",
            ),
            (FitOptions::default().irls_max_iter(0), "irls_max_iter"),
        ] {
            let err = options.validate().unwrap_err().to_string();
            assert!(err.contains(needle), "{err}");
        }
    }
}
