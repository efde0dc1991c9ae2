//! Baseline (and conditional) multilateral resistances by iterative scaling.

use super::world::World;
use crate::error::{Error, ErrorKind, Result};

/// Solver parameters shared by every GE solver.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeParams {
    /// Convergence tolerance on the largest relative residual of the
    /// equilibrium conditions (default `1e-12`; the fitted flows then add up to 1e-12 relative;
    /// the full-GE price loop uses the same bound).
    pub tol: f64,
    /// Maximum number of iterations before [`Error::NoConvergence`].
    pub max_iter: usize,
    /// Damping in `(0, 1]` of the full-GE price update (1 = undamped).
    pub damping: f64,
    /// Which full endowment GE to report (default: the market-clearing
    /// equilibrium).
    pub full_ge: FullGe,
    /// How the equilibrium conditions are solved (default: Newton's method,
    /// finishing with the plain iteration if a Newton step fails).
    pub method: GeMethod,
}

/// How the GE solvers iterate.
///
/// Both give the same solution (it is unique up to the normalisation); they
/// differ in speed. Iterations count Newton steps plus any plain steps.
///
/// ```
/// use gravity_model::counterfactual::{GeMethod, GeParams};
/// assert_eq!(GeParams::default().method, GeMethod::Newton);
/// assert_eq!("fixed_point".parse::<GeMethod>()?, GeMethod::FixedPoint);
/// # Ok::<(), gravity_model::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GeMethod {
    /// Newton's method in log space (multilateral resistances: on the convex
    /// dual of the scaling problem; factory-gate prices: on the
    /// market-clearing conditions with their analytic Jacobian), each step
    /// backtracked; if a step cannot be solved or makes no progress, the
    /// plain iteration continues from the last iterate.
    #[default]
    Newton,
    /// The plain iterations only: iterative scaling (RAS) for the
    /// resistances, the damped price fixed point for the full GE. Converges
    /// linearly, slowly when trade is strongly home-biased.
    FixedPoint,
}

impl std::str::FromStr for GeMethod {
    type Err = Error;
    /// Reads `newton` or `fixed_point`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidOption`] for any other word.
    fn from_str(s: &str) -> Result<GeMethod> {
        match s {
            "newton" => Ok(GeMethod::Newton),
            "fixed_point" => Ok(GeMethod::FixedPoint),
            other => Err(Error::model(
                ErrorKind::InvalidOption,
                format!("expected newton or fixed_point, found '{other}'"),
            )),
        }
    }
}

/// Which "full endowment GE" a counterfactual reports.
///
/// ```
/// use gravity_model::counterfactual::{FullGe, GeParams};
/// assert_eq!(GeParams::default().full_ge, FullGe::MarketClearing);
/// assert_eq!("first_step".parse::<FullGe>()?, FullGe::FirstStep);
/// # Ok::<(), gravity_model::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FullGe {
    /// The fixed point: factory-gate prices, output and expenditure such
    /// that every market clears at the new incomes (see [`solve_full`](super::solve_full)).
    #[default]
    MarketClearing,
    /// The first pass of the Yotov et al. (2016, Ch. 2) loop, which is what
    /// gegravity 0.3 (USITC) reports as its "full GE": the conditional MRs,
    /// `p̂_i = (Π_i^(1-σ) / Π'_i^(1-σ))^(1/(1-σ))` from the conditional
    /// outward MRs, `Y' = p̂ Y`, `E' = (E/Y) Y'`; markets do not clear at
    /// the new incomes. For replicating gegravity; the gap to the
    /// equilibrium is second order in the shock.
    FirstStep,
}

impl std::str::FromStr for FullGe {
    type Err = Error;
    /// Reads `market_clearing` or `first_step`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidOption`] for any other word.
    fn from_str(s: &str) -> Result<FullGe> {
        match s {
            "market_clearing" => Ok(FullGe::MarketClearing),
            "first_step" => Ok(FullGe::FirstStep),
            other => Err(Error::model(
                ErrorKind::InvalidOption,
                format!("expected market_clearing or first_step, found '{other}'"),
            )),
        }
    }
}

impl Default for GeParams {
    fn default() -> Self {
        GeParams {
            tol: 1e-12,
            max_iter: 10_000,
            damping: 1.0,
            full_ge: FullGe::MarketClearing,
            method: GeMethod::Newton,
        }
    }
}

impl GeParams {
    pub(crate) fn check(&self) -> Result<()> {
        if !(self.tol.is_finite() && self.tol > 0.0) {
            return Err(Error::model(
                ErrorKind::InvalidOption,
                format!("tolerance must be positive, found {}", self.tol),
            ));
        }
        if self.max_iter == 0 {
            return Err(Error::model(
                ErrorKind::InvalidOption,
                "max_iter must be at least 1, found 0".into(),
            ));
        }
        if !(self.damping > 0.0 && self.damping <= 1.0) {
            return Err(Error::model(
                ErrorKind::InvalidOption,
                format!("damping must be in (0, 1], found {}", self.damping),
            ));
        }
        Ok(())
    }
}

/// How a solver stopped (returned only on success).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeInfo {
    /// Iterations used.
    pub iterations: usize,
    /// Final largest relative residual of the equilibrium conditions.
    pub residual: f64,
    /// Always `true` in a returned `GeInfo`: an unconverged solve is an
    /// [`Error::NoConvergence`].
    pub converged: bool,
}

/// Multilateral resistances solving the structural-gravity system for
/// given costs, output and expenditure.
///
/// Stored as powers: `outward_pow[i] = Π_i^(1-σ)`, `inward_pow[j] = P_j^(1-σ)`,
/// normalised so that `P_r = 1` for the reference country.
#[derive(Debug, Clone, PartialEq)]
pub struct Resistances {
    /// `Π_i^(1-σ)`.
    pub outward_pow: Vec<f64>,
    /// `P_j^(1-σ)`.
    pub inward_pow: Vec<f64>,
    /// Solver report.
    pub info: GeInfo,
}

impl Resistances {
    /// Outward MR `Π_i`.
    pub fn outward(&self, sigma: f64) -> Vec<f64> {
        self.outward_pow
            .iter()
            .map(|v| v.powf(1.0 / (1.0 - sigma)))
            .collect()
    }

    /// Inward MR `P_j`.
    pub fn inward(&self, sigma: f64) -> Vec<f64> {
        self.inward_pow
            .iter()
            .map(|v| v.powf(1.0 / (1.0 - sigma)))
            .collect()
    }

    /// Fitted flows `X_ij = phi_ij Y_i E_j / (Y Π_i^(1-σ) P_j^(1-σ))`, row-major.
    pub fn flows(&self, phi: &[f64], output: &[f64], expenditure: &[f64]) -> Vec<f64> {
        let n = output.len();
        let y: f64 = output.iter().sum();
        let mut x = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                x[i * n + j] = phi[i * n + j] * output[i] * expenditure[j]
                    / (y * self.outward_pow[i] * self.inward_pow[j]);
            }
        }
        x
    }
}

/// Solves the baseline MRs of `world` (Yotov et al. 2016, Ch. 2, eqs. (6)–(7)):
/// `Π_i^(1-σ) = Σ_j phi_ij (E_j/Y) / P_j^(1-σ)`,
/// `P_j^(1-σ) = Σ_i phi_ij (Y_i/Y) / Π_i^(1-σ)`, `P_r = 1`.
///
/// ```
/// use gravity_model::counterfactual::{solve_baseline, GeParams, World};
/// let names = vec!["A".to_string(), "B".to_string()];
/// let trade = [8.0, 2.0, 1.0, 9.0];
/// let phi = vec![1.0, 0.2, 0.2, 1.0];
/// let world = World::from_trade(names, &trade, phi, 5.0, 0)?;
/// let mr = solve_baseline(&world, &GeParams::default())?;
/// assert!((mr.inward_pow[0] - 1.0).abs() < 1e-12);
/// # Ok::<(), gravity_model::Error>(())
/// ```
///
/// # Errors
///
/// [`ErrorKind::InvalidWorld`] for an inconsistent world,
/// [`ErrorKind::InvalidOption`] for invalid [`GeParams`],
/// [`Error::NoConvergence`] if the iteration limit is reached first and
/// [`ErrorKind::Diverged`] if the iteration overflows.
pub fn solve_baseline(world: &World, params: &GeParams) -> Result<Resistances> {
    world.validate()?;
    solve_mr(
        &world.phi,
        &world.output,
        &world.expenditure,
        world.reference,
        params,
    )
}

/// The multilateral resistances: Newton's method on the balance conditions
/// ([`GeMethod::Newton`], see `newton.rs`), then, unless it converged, the
/// iterative scaling (Sinkhorn/RAS) from its last iterate.
/// `a_i = 1/Π_i^(1-σ)`, `b_j = 1/P_j^(1-σ)`.
pub(crate) fn solve_mr(
    phi: &[f64],
    output: &[f64],
    expenditure: &[f64],
    reference: usize,
    params: &GeParams,
) -> Result<Resistances> {
    params.check()?;
    let n = output.len();
    let y: f64 = output.iter().sum();
    let mut a = vec![1.0; n];
    let mut b = vec![1.0; n];
    // Steps already spent; after Newton steps (a, b) is its last iterate,
    // b from a, to be checked before any plain step.
    let mut used = 0;
    if params.method == GeMethod::Newton {
        let newton = super::newton::scale(phi, output, expenditure, params.tol, params.max_iter);
        used = newton.steps;
        if newton.steps > 0 {
            let mut bn = vec![0.0; n];
            for (j, bj) in bn.iter_mut().enumerate() {
                let s: f64 = (0..n)
                    .map(|i| phi[i * n + j] * output[i] * newton.a[i])
                    .sum();
                *bj = if s > 0.0 { y / s } else { 1.0 };
            }
            // a Newton iterate that overflows (run off along a direction the
            // system does not pin down) leaves the plain iteration to start
            // afresh, its steps counted after Newton's
            if newton
                .a
                .iter()
                .chain(&bn)
                .all(|v| v.is_finite() && *v > 0.0)
            {
                a = newton.a;
                b = bn;
            }
        }
    }
    let mut residual = f64::INFINITY;
    let mut row = vec![0.0; n];
    // Iteration `iter` checks the balance of iterate `iter − 1` with the
    // same row sums its a-step needs, so each iteration is two passes over
    // phi, not three.
    for iter in used..=params.max_iter {
        // row_i = Σ_j phi_ij E_j b_j
        for (i, r) in row.iter_mut().enumerate() {
            *r = (0..n).map(|j| phi[i * n + j] * expenditure[j] * b[j]).sum();
        }
        if iter > 0 {
            // residual: row sums (column sums hold exactly after the b step)
            residual = 0.0;
            // (a country without output, possible only in a multi-sector
            // world's sector, has no balance condition)
            for i in (0..n).filter(|&i| output[i] > 0.0) {
                residual = f64::max(residual, (row[i] * a[i] / y - 1.0).abs());
            }
            if !residual.is_finite() {
                return Err(Error::numerical(
                    ErrorKind::Diverged,
                    format!("multilateral resistances became non-finite at iteration {iter}"),
                ));
            }
        }
        if iter > 0 && residual <= params.tol {
            // normalise P_r = 1: b_r = 1, a scaled inversely
            let c = b[reference];
            // rescale b by 1/c and a by c (the product a_i b_j is unchanged)
            let inward_pow: Vec<f64> = b.iter().map(|v| c / v).collect();
            let outward_pow: Vec<f64> = a.iter().map(|v| 1.0 / (v * c)).collect();
            return Ok(Resistances {
                outward_pow,
                inward_pow,
                info: GeInfo {
                    iterations: iter,
                    residual,
                    converged: true,
                },
            });
        }
        if iter == params.max_iter {
            break;
        }
        // a_i = Y / Σ_j phi_ij E_j b_j
        // (a sum is zero only for a country that neither sells to a buyer
        // nor buys from a producer in a multi-sector world's sector: its
        // terms are irrelevant and kept at 1)
        for i in 0..n {
            a[i] = if row[i] > 0.0 { y / row[i] } else { 1.0 };
        }
        // b_j = Y / Σ_i phi_ij Y_i a_i
        for j in 0..n {
            let s: f64 = (0..n).map(|i| phi[i * n + j] * output[i] * a[i]).sum();
            b[j] = if s > 0.0 { y / s } else { 1.0 };
        }
    }
    Err(Error::NoConvergence {
        solver: "multilateral resistances".into(),
        iterations: params.max_iter,
        residual,
    })
}
