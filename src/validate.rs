//! Checks of option values before any work is done, each error giving the
//! rule and the value that broke it.

use crate::error::{Error, ErrorKind, Result};
use crate::fit::FitOptions;

impl FitOptions {
    /// Checks the numeric options: `tol` and `inner_tol` in (0, 1),
    /// `collinearity_tol` in (0, 1), `max_iter` at least 1. Called first by
    /// [`fit`](crate::fit()).
    ///
    /// ```
    /// use gravity_model::FitOptions;
    /// assert!(FitOptions::default().validate().is_ok());
    /// let bad = FitOptions { max_iter: 0, ..FitOptions::default() };
    /// assert_eq!(bad.validate().unwrap_err().to_string(), "max_iter must be at least 1, found 0");
    /// ```
    pub fn validate(&self) -> Result<()> {
        let unit = |v: f64| v > 0.0 && v < 1.0;
        for (name, value) in [
            ("tol", self.tol),
            ("inner_tol", self.inner_tol),
            ("collinearity_tol", self.collinearity_tol),
        ] {
            if !unit(value) {
                return Err(Error::model(
                    ErrorKind::InvalidOption,
                    format!("{name} must be greater than 0 and less than 1, found {value}"),
                ));
            }
        }
        if self.max_iter < 1 {
            return Err(Error::model(
                ErrorKind::InvalidOption,
                format!("max_iter must be at least 1, found {}", self.max_iter),
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
            (
                FitOptions {
                    tol: 0.0,
                    ..FitOptions::default()
                },
                "tol must be",
            ),
            (
                FitOptions {
                    tol: f64::NAN,
                    ..FitOptions::default()
                },
                "found NaN",
            ),
            (
                FitOptions {
                    tol: 1.0,
                    ..FitOptions::default()
                },
                "found 1",
            ),
            (
                FitOptions {
                    inner_tol: -1.0,
                    ..FitOptions::default()
                },
                "inner_tol",
            ),
            (
                FitOptions {
                    collinearity_tol: f64::INFINITY,
                    ..FitOptions::default()
                },
                "collinearity_tol",
            ),
            (
                FitOptions {
                    max_iter: 0,
                    ..FitOptions::default()
                },
                "max_iter",
            ),
        ] {
            let err = options.validate().unwrap_err().to_string();
            assert!(err.contains(needle), "{err}");
        }
    }
}
