//! Fixed-effect coefficients after estimation, with an explicit normalisation.
//!
//! The estimation never forms the fixed effects. Afterwards, the sum
//! `s_i = Σ_k α_k[g_k(i)]` is known exactly (it is `η_i − o_i − x_i'β`), and
//! the individual `α_k` are found by Gauss–Seidel on the levels. They are
//! identified only up to constants: with two or more dimensions, within each
//! connected component of the fixed-effect graph (levels linked by shared
//! observations) a constant can move between dimensions.
//!
//! **Normalisation.** In each connected component, the first level (in order
//! of appearance) of every dimension after the first is set to zero and the
//! constants are moved into the first dimension. With two dimensions this is
//! exactly fixest's choice of one reference level per component; with three or
//! more, further redundancies (e.g. `exporter^year`, `importer^year`,
//! `exporter^importer`) leave the individual effects one of many equivalent
//! solutions — the sums, and so fitted values and predictions, are unique.

use super::FeDim;

/// The normalisation of the recovered fixed effects, in one sentence (the
/// header of `gravity fit --save-fe` and the README quote it).
pub const NORMALISATION: &str = "in each connected component of the fixed-effect graph \
(levels linked by shared observations), the first level in order of appearance of every \
dimension after the first is 0 and the first dimension absorbs the constants; with two \
dimensions this is fixest's fixef() (one reference per component), with three or more only \
the sums across dimensions (and so fitted values and predictions) are identified";
use crate::error::{Error, ErrorKind, Result};
use serde::Serialize;

/// The estimated coefficients of one fixed-effect dimension.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FixedEffectValues {
    /// Dimension name, e.g. `exporter^importer`.
    pub name: String,
    /// Level names.
    pub levels: Vec<String>,
    /// Coefficient of each level (log scale for PPML).
    pub values: Vec<f64>,
}

impl FixedEffectValues {
    /// The coefficient of level `level`.
    pub fn get(&self, level: &str) -> Option<f64> {
        self.levels
            .iter()
            .position(|l| l == level)
            .map(|i| self.values[i])
    }
}

/// All fixed effects of a fit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FixedEffectEstimates {
    /// One entry per dimension, in formula order.
    pub dims: Vec<FixedEffectValues>,
    /// Number of connected components of the fixed-effect graph.
    pub components: usize,
    /// Gauss–Seidel sweeps used.
    pub sweeps: usize,
    /// Largest absolute error in reproducing the fixed-effect sums.
    pub max_error: f64,
}

/// Connected components of the graph whose nodes are all levels of all
/// dimensions and whose edges join the levels of each observation.
/// Returns the component of each level of each dimension.
fn components(dims: &[FeDim]) -> (Vec<Vec<usize>>, usize) {
    let offsets: Vec<usize> = dims
        .iter()
        .scan(0, |acc, d| {
            let o = *acc;
            *acc += d.n_levels();
            Some(o)
        })
        .collect();
    let total: usize = dims.iter().map(|d| d.n_levels()).sum();
    let mut parent: Vec<usize> = (0..total).collect();
    fn find(p: &mut [usize], mut x: usize) -> usize {
        while p[x] != x {
            p[x] = p[p[x]];
            x = p[x];
        }
        x
    }
    let n = dims.first().map_or(0, |d| d.codes.len());
    for i in 0..n {
        let a = find(&mut parent, offsets[0] + dims[0].codes[i] as usize);
        for (k, d) in dims.iter().enumerate().skip(1) {
            let b = find(&mut parent, offsets[k] + d.codes[i] as usize);
            if a != b {
                parent[b] = a;
            }
        }
    }
    let mut label = vec![usize::MAX; total];
    let mut count = 0;
    let mut comp = Vec::with_capacity(dims.len());
    for (k, d) in dims.iter().enumerate() {
        let mut c = Vec::with_capacity(d.n_levels());
        for g in 0..d.n_levels() {
            let r = find(&mut parent, offsets[k] + g);
            if label[r] == usize::MAX {
                label[r] = count;
                count += 1;
            }
            c.push(label[r]);
        }
        comp.push(c);
    }
    (comp, count)
}

/// Solves `Σ_k α_k[g_k(i)] = s_i` for the levels and normalises them.
pub(crate) fn recover(dims: &[FeDim], s: &[f64]) -> Result<FixedEffectEstimates> {
    let n = s.len();
    let mut alpha: Vec<Vec<f64>> = dims.iter().map(|d| vec![0.0; d.n_levels()]).collect();
    let counts: Vec<Vec<f64>> = dims
        .iter()
        .map(|d| d.counts().iter().map(|&c| c as f64).collect())
        .collect();
    let scale = s.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1.0);
    let mut r: Vec<f64> = s.to_vec(); // residual s − Σ α
    let mut sweeps = 0;
    let mut max_error = f64::INFINITY;
    let max_sweeps = 100_000;
    while sweeps < max_sweeps {
        sweeps += 1;
        for (k, d) in dims.iter().enumerate() {
            let mut sum = vec![0.0; d.n_levels()];
            for i in 0..n {
                sum[d.codes[i] as usize] += r[i];
            }
            for g in 0..d.n_levels() {
                sum[g] /= counts[k][g];
                alpha[k][g] += sum[g];
            }
            for i in 0..n {
                r[i] -= sum[d.codes[i] as usize];
            }
        }
        max_error = r.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        if max_error <= 1e-11 * scale {
            break;
        }
    }
    if max_error > 1e-6 * scale {
        return Err(Error::numerical(ErrorKind::NoConvergence, format!(
            "fixed-effect recovery did not converge in {max_sweeps} sweeps (max error {max_error:e})"
        )));
    }
    let (comp, n_comp) = if dims.is_empty() {
        (vec![], 0)
    } else {
        components(dims)
    };
    // Normalise: the first level of dimensions 2.. in each component is zero.
    for k in 1..dims.len() {
        let mut reference = vec![None; n_comp];
        for g in 0..dims[k].n_levels() {
            let c = comp[k][g];
            if reference[c].is_none() {
                reference[c] = Some(alpha[k][g]);
            }
        }
        for g in 0..dims[k].n_levels() {
            alpha[k][g] -= reference[comp[k][g]].unwrap_or(0.0);
        }
        for g in 0..dims[0].n_levels() {
            alpha[0][g] += reference[comp[0][g]].unwrap_or(0.0);
        }
    }
    Ok(FixedEffectEstimates {
        dims: dims
            .iter()
            .zip(alpha)
            .map(|(d, values)| FixedEffectValues {
                name: d.name.clone(),
                levels: d.levels.clone(),
                values,
            })
            .collect(),
        components: n_comp,
        sweeps,
        max_error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_way_effects_are_recovered_with_one_reference_per_component() {
        // Two components: {a0,a1,b0,b1} and {a2,b2}.
        let a = FeDim {
            name: "a".into(),
            codes: vec![0, 0, 1, 1, 2, 2],
            levels: vec!["a0".into(), "a1".into(), "a2".into()],
        };
        let b = FeDim {
            name: "b".into(),
            codes: vec![0, 1, 0, 1, 2, 2],
            levels: vec!["b0".into(), "b1".into(), "b2".into()],
        };
        let (ta, tb) = ([1.0, 2.0, 5.0], [0.5, -1.0, 3.0]);
        let s: Vec<f64> = (0..6)
            .map(|i| ta[a.codes[i] as usize] + tb[b.codes[i] as usize])
            .collect();
        let fe = recover(&[a, b], &s).unwrap();
        assert_eq!(fe.components, 2);
        // b's first level in each component is the reference.
        assert!((fe.dims[1].values[0]).abs() < 1e-12);
        assert!((fe.dims[1].values[2]).abs() < 1e-12);
        assert!((fe.dims[1].values[1] - (-1.5)).abs() < 1e-10);
        assert!((fe.dims[0].values[0] - 1.5).abs() < 1e-10);
        assert!((fe.dims[0].values[2] - 8.0).abs() < 1e-10);
    }
}
