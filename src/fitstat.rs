//! Fit statistics of a fitted model, with fixest's definitions (its
//! `fitstat()` and `r2()`): the log-likelihood and McFadden's pseudo-R² for
//! PPML, R² and within R² for OLS.
//!
//! **PPML.** With prior weights `w` (1 without), fitted means `μ` and the
//! outcome `y`:
//! - log-likelihood `ll = Σ w (y log μ − μ − log Γ(y + 1))` (fixest's
//!   `logLik`, pyfixest's `_loglik`);
//! - the null model is the intercept alone, without fixed effects (fixest's
//!   `ll_null`): `μ₀ = Σ w y / Σ w`, or with an offset `o`,
//!   `μ₀ᵢ = e^{oᵢ} Σ w y / Σ w e^{o}` (the offset stays, as in R's `glm`);
//!   `ll_null` is its log-likelihood;
//! - null deviance `2 Σ w (y log(y/μ₀) − (y − μ₀))` (glm's `null.deviance`),
//!   deviance the fit's own ([`FitInfo::deviance`](crate::FitInfo));
//! - pseudo-R² `1 − ll / ll_null` (fixest's `pr2`, pyfixest's `_pseudo_r2`).
//!
//! **OLS.** `R² = 1 − RSS / TSS` with `TSS = Σ w (y − ȳ_w)²` (fixest's `r2`);
//! with fixed effects, within `R² = 1 − RSS / RSS₀` with `RSS₀` the residual
//! sum of squares of the fixed effects alone (fixest's `wr2`). The OLS
//! log-likelihood and the PPML within pseudo-R² (which needs a fit of the
//! fixed effects alone) are not computed.

use crate::fit::{Estimator, Fit};
use serde::{Deserialize, Serialize};
use statrs::function::gamma::ln_gamma;

/// The fit statistics of a model ([`Fit::fit_stats`]); `None` where a
/// statistic does not apply to the estimator (see the
/// [module](crate::fitstat) for the definitions).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FitStats {
    /// PPML: the log-likelihood.
    pub loglik: Option<f64>,
    /// PPML: the log-likelihood of the null model (the intercept alone).
    pub loglik_null: Option<f64>,
    /// PPML: the deviance; OLS: the residual sum of squares.
    pub deviance: f64,
    /// PPML: the deviance of the null model.
    pub null_deviance: Option<f64>,
    /// PPML: McFadden's pseudo-R², `1 − ll / ll_null`.
    pub pseudo_r2: Option<f64>,
    /// OLS: R².
    pub r2: Option<f64>,
    /// OLS with fixed effects: the within R².
    pub within_r2: Option<f64>,
}

impl Fit {
    /// The fit statistics, as fixest defines them (see [`crate::fitstat`]).
    ///
    /// ```
    /// use gravity_model::{fit, Column, Estimator, FitOptions, Formula, Frame};
    /// let frame = Frame::from_columns(vec![
    ///     ("y".into(), Column::Numeric(vec![1.0, 3.0, 2.0, 5.0, 4.0, 9.0].into())),
    ///     ("x".into(), Column::Numeric(vec![0.0, 1.0, 0.0, 1.0, 0.0, 1.0].into())),
    ///     ("g".into(), Column::Numeric(vec![1.0, 1.0, 2.0, 2.0, 3.0, 3.0].into())),
    /// ])?;
    /// let fitted = fit(&frame, &Formula::parse("y ~ x | g")?, Estimator::Ppml, &FitOptions::default())?;
    /// let s = fitted.fit_stats();
    /// let (ll, ll0) = (s.loglik.unwrap_or(f64::NAN), s.loglik_null.unwrap_or(f64::NAN));
    /// assert!(ll > ll0); // (PPML has both: NaN would fail)
    /// assert_eq!(s.pseudo_r2, Some(1.0 - ll / ll0));
    /// assert_eq!(s.r2, None);
    /// # Ok::<(), gravity_model::Error>(())
    /// ```
    pub fn fit_stats(&self) -> FitStats {
        match self.estimator {
            Estimator::Ppml => {
                let (ll, ll0, dev0) = self.poisson_stats();
                FitStats {
                    loglik: Some(ll),
                    loglik_null: Some(ll0),
                    deviance: self.info.deviance,
                    null_deviance: Some(dev0),
                    pseudo_r2: Some(1.0 - ll / ll0),
                    r2: None,
                    within_r2: None,
                }
            }
            Estimator::Ols => {
                let (r2, within) = self.ols_r2();
                FitStats {
                    loglik: None,
                    loglik_null: None,
                    deviance: self.info.deviance,
                    null_deviance: None,
                    pseudo_r2: None,
                    r2: Some(r2),
                    within_r2: within,
                }
            }
        }
    }

    /// PPML: the log-likelihood (`None` for OLS).
    pub fn loglik(&self) -> Option<f64> {
        self.fit_stats().loglik
    }

    /// PPML: McFadden's pseudo-R² `1 − ll / ll_null` (`None` for OLS).
    pub fn pseudo_r2(&self) -> Option<f64> {
        self.fit_stats().pseudo_r2
    }

    /// OLS: R² (`None` for PPML).
    pub fn r2(&self) -> Option<f64> {
        self.fit_stats().r2
    }

    /// (ll, ll_null, null deviance) of a Poisson fit.
    fn poisson_stats(&self) -> (f64, f64, f64) {
        let c = &self.core;
        let w = |i: usize| c.prior_weights.as_ref().map_or(1.0, |p| p[i]);
        let mu = self.fitted();
        // The null model's mean: μ₀ᵢ = e^{oᵢ} · Σ w y / Σ w e^{o}.
        let (mut sy, mut so) = (0.0, 0.0);
        for i in 0..c.n {
            sy += w(i) * c.y[i];
            so += w(i) * c.offset.as_ref().map_or(1.0, |o| o[i].exp());
        }
        let ratio = sy / so;
        let (mut ll, mut ll0, mut dev0) = (0.0, 0.0, 0.0);
        for i in 0..c.n {
            let (y, wi) = (c.y[i], w(i));
            let mu0 = ratio * c.offset.as_ref().map_or(1.0, |o| o[i].exp());
            let lg = ln_gamma(y + 1.0);
            // y log μ is 0 for y = 0, whatever μ.
            let ylog = |m: f64| if y > 0.0 { y * m.ln() } else { 0.0 };
            ll += wi * (ylog(mu[i]) - mu[i] - lg);
            ll0 += wi * (ylog(mu0) - mu0 - lg);
            let ylogy = if y > 0.0 { y * (y / mu0).ln() } else { 0.0 };
            dev0 += 2.0 * wi * (ylogy - (y - mu0));
        }
        (ll, ll0, dev0)
    }

    /// (R², within R²) of an OLS fit.
    fn ols_r2(&self) -> (f64, Option<f64>) {
        let c = &self.core;
        let n = c.n;
        let w = |i: usize| c.prior_weights.as_ref().map_or(1.0, |p| p[i]);
        let (mut sw, mut swy) = (0.0, 0.0);
        for i in 0..n {
            sw += w(i);
            swy += w(i) * c.y[i];
        }
        let ybar = swy / sw;
        let (mut rss, mut tss, mut rss_fe) = (0.0, 0.0, 0.0);
        let p = self.beta.len();
        for i in 0..n {
            let e = c.y[i] - c.eta[i];
            rss += w(i) * e * e;
            tss += w(i) * (c.y[i] - ybar) * (c.y[i] - ybar);
            // What the fixed effects alone leave of y: the residual plus the
            // demeaned regressors' part, ỹ = e + X̃β.
            let mut yt = e;
            for j in 0..p {
                yt += c.x_tilde[j * n + i] * self.beta[j];
            }
            rss_fe += w(i) * yt * yt;
        }
        let within = (!c.fe.is_empty()).then(|| 1.0 - rss / rss_fe);
        (1.0 - rss / tss, within)
    }
}
