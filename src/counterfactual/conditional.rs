//! Conditional general equilibrium: new costs, output and expenditure fixed.

use super::baseline::{solve_mr, GeParams, Resistances};
use super::world::{check_phi, World};
use crate::error::Result;

/// Solves the MRs under counterfactual costs `phi_cf` with `Y` and `E` held
/// at their baseline values (Yotov et al. 2016, Ch. 2, "conditional GE").
///
/// # Errors
///
/// [`ErrorKind::InvalidWorld`](crate::ErrorKind::InvalidWorld) for an
/// inconsistent world or cost matrix,
/// [`ErrorKind::InvalidOption`](crate::ErrorKind::InvalidOption) for invalid
/// [`GeParams`], [`Error::NoConvergence`](crate::Error::NoConvergence) if the
/// iteration limit is reached first and
/// [`ErrorKind::Diverged`](crate::ErrorKind::Diverged) if the iteration
/// overflows.
pub fn solve_conditional(world: &World, phi_cf: &[f64], params: &GeParams) -> Result<Resistances> {
    world.validate()?;
    check_phi(&world.countries, phi_cf)?;
    solve_mr(
        phi_cf,
        &world.output,
        &world.expenditure,
        world.reference,
        params,
    )
}
