//! The baseline world: countries, trade costs `phi = t^(1-σ)`, output and
//! expenditure.

use crate::error::{Error, ErrorKind, Result};

/// A structural-gravity world of `N` countries.
///
/// `phi[i * n + j]` is `t_ij^(1-σ)` for exporter `i` and importer `j`
/// (domestic pairs included; `0` marks a prohibitive cost). Output
/// `Y_i = Σ_j X_ij` and expenditure `E_j = Σ_i X_ij` come from a baseline
/// trade matrix, so `Σ Y = Σ E`.
#[derive(Debug, Clone, PartialEq)]
pub struct World {
    /// Country names, in matrix order.
    pub countries: Vec<String>,
    /// Row-major `N×N` trade costs `phi_ij = t_ij^(1-σ)`.
    pub phi: Vec<f64>,
    /// Output (value of production) `Y_i`.
    pub output: Vec<f64>,
    /// Expenditure `E_j`.
    pub expenditure: Vec<f64>,
    /// Elasticity of substitution `σ > 1`.
    pub sigma: f64,
    /// Index of the reference country whose inward MR is normalised to 1.
    pub reference: usize,
}

impl World {
    /// Builds a world from a row-major baseline trade matrix
    /// (`trade[i * n + j]` = exports of `i` to `j`, domestic sales on the
    /// diagonal) and costs `phi`, validating shapes and values.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidWorld`] for a matrix of the wrong size, a
    /// negative or non-finite flow, or what [`World::validate`] refuses.
    pub fn from_trade(
        countries: Vec<String>,
        trade: &[f64],
        phi: Vec<f64>,
        sigma: f64,
        reference: usize,
    ) -> Result<World> {
        let n = countries.len();
        if trade.len() != n * n {
            return Err(Error::model(
                ErrorKind::InvalidWorld,
                format!(
                    "trade matrix must have {} entries for {n} countries, found {}",
                    n * n,
                    trade.len()
                ),
            ));
        }
        let mut output = vec![0.0; n];
        let mut expenditure = vec![0.0; n];
        for i in 0..n {
            for j in 0..n {
                let x = trade[i * n + j];
                if !x.is_finite() || x < 0.0 {
                    return Err(Error::model(
                        ErrorKind::InvalidWorld,
                        format!(
                            "trade flow {} -> {} must be a finite non-negative number, found {x}",
                            countries[i], countries[j]
                        ),
                    ));
                }
                output[i] += x;
                expenditure[j] += x;
            }
        }
        World::new(countries, phi, output, expenditure, sigma, reference)
    }

    /// Builds a world from output and expenditure totals directly.
    ///
    /// World output and world expenditure must agree to 1e-9 relative.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidWorld`] for what [`World::validate`] refuses.
    pub fn new(
        countries: Vec<String>,
        phi: Vec<f64>,
        output: Vec<f64>,
        expenditure: Vec<f64>,
        sigma: f64,
        reference: usize,
    ) -> Result<World> {
        let w = World {
            countries,
            phi,
            output,
            expenditure,
            sigma,
            reference,
        };
        w.validate()?;
        Ok(w)
    }

    /// Number of countries.
    pub fn n(&self) -> usize {
        self.countries.len()
    }

    /// World output `Y = Σ_i Y_i`.
    pub fn world_output(&self) -> f64 {
        self.output.iter().sum()
    }

    /// Checks the invariants the solvers rely on.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidWorld`] naming the first invariant broken (sizes,
    /// σ, the reference, signs of costs and totals, a country that cannot
    /// trade).
    pub fn validate(&self) -> Result<()> {
        let n = self.n();
        if n == 0 {
            return Err(Error::model(
                ErrorKind::InvalidWorld,
                "world has no countries".into(),
            ));
        }
        if !(self.sigma.is_finite() && self.sigma > 1.0) {
            return Err(Error::model(
                ErrorKind::InvalidWorld,
                format!("sigma must be greater than 1, found {}", self.sigma),
            ));
        }
        if self.reference >= n {
            return Err(Error::model(
                ErrorKind::InvalidWorld,
                format!(
                    "reference country index {} out of range for {n} countries",
                    self.reference
                ),
            ));
        }
        if self.output.len() != n || self.expenditure.len() != n {
            return Err(Error::model(
                ErrorKind::InvalidWorld,
                format!(
                    "output and expenditure must have {n} entries, found {} and {}",
                    self.output.len(),
                    self.expenditure.len()
                ),
            ));
        }
        check_phi(&self.countries, &self.phi)?;
        for i in 0..n {
            for (what, v) in [
                ("output", self.output[i]),
                ("expenditure", self.expenditure[i]),
            ] {
                if !(v.is_finite() && v > 0.0) {
                    return Err(Error::model(
                        ErrorKind::InvalidWorld,
                        format!(
                            "{what} of {} must be positive, found {v}",
                            self.countries[i]
                        ),
                    ));
                }
            }
        }
        let y = self.world_output();
        let e: f64 = self.expenditure.iter().sum();
        if (y - e).abs() > 1e-9 * y {
            return Err(Error::model(
                ErrorKind::InvalidWorld,
                format!("world output {y} and world expenditure {e} differ"),
            ));
        }
        Ok(())
    }
}

/// Checks a cost matrix: `N×N`, finite, non-negative, and every row and
/// column has at least one positive entry.
pub(crate) fn check_phi(countries: &[String], phi: &[f64]) -> Result<()> {
    let n = countries.len();
    if phi.len() != n * n {
        return Err(Error::model(
            ErrorKind::InvalidWorld,
            format!(
                "cost matrix phi must have {} entries for {n} countries, found {}",
                n * n,
                phi.len()
            ),
        ));
    }
    if let Some(k) = phi.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
        return Err(Error::model(
            ErrorKind::InvalidWorld,
            format!(
                "phi {} -> {} must be finite and non-negative, found {}",
                countries[k / n],
                countries[k % n],
                phi[k]
            ),
        ));
    }
    for i in 0..n {
        if (0..n).all(|j| phi[i * n + j] == 0.0) {
            return Err(Error::model(
                ErrorKind::InvalidWorld,
                format!(
                    "{} cannot sell anywhere: every phi in its row is zero",
                    countries[i]
                ),
            ));
        }
        if (0..n).all(|k| phi[k * n + i] == 0.0) {
            return Err(Error::model(
                ErrorKind::InvalidWorld,
                format!(
                    "{} cannot buy from anywhere: every phi in its column is zero",
                    countries[i]
                ),
            ));
        }
    }
    Ok(())
}

/// Applies a change in log trade costs to selected pairs:
/// `phi'_ij = phi_ij · exp(delta)` where `delta = β (value' − value)` is the
/// change in the linear predictor of the gravity equation.
///
/// ```
/// use gravity_model::counterfactual::shift_phi;
/// let phi = shift_phi(&[1.0, 0.5, 0.5, 1.0], 2, &[(0, 1)], 2f64.ln())?;
/// assert_eq!(phi, vec![1.0, 1.0, 0.5, 1.0]);
/// # Ok::<(), gravity_model::Error>(())
/// ```
///
/// # Errors
///
/// [`ErrorKind::InvalidWorld`] if `phi` is not `n×n` or a pair is out of
/// range.
pub fn shift_phi(phi: &[f64], n: usize, pairs: &[(usize, usize)], delta: f64) -> Result<Vec<f64>> {
    if phi.len() != n * n {
        return Err(Error::model(
            ErrorKind::InvalidWorld,
            format!(
                "cost matrix phi must have {} entries, found {}",
                n * n,
                phi.len()
            ),
        ));
    }
    if let Some(&(i, j)) = pairs.iter().find(|&&(i, j)| i >= n || j >= n) {
        return Err(Error::model(
            ErrorKind::InvalidWorld,
            format!("pair ({i}, {j}) out of range for {n} countries"),
        ));
    }
    let mut out = phi.to_vec();
    shift_phi_in_place(&mut out, pairs.iter().map(|&(i, j)| (i * n + j, delta)));
    Ok(out)
}

/// `phi[k] *= exp(delta)` for every `(k, delta)`, `k` a row-major pair index
/// (in range: the callers index their own `N×N` matrices); a pair listed
/// twice is shifted twice. The one place costs are shifted: [`shift_phi`]
/// and the scenario pipeline's shocks both come here.
pub(crate) fn shift_phi_in_place(phi: &mut [f64], shifts: impl IntoIterator<Item = (usize, f64)>) {
    for (k, delta) in shifts {
        phi[k] *= delta.exp();
    }
}
