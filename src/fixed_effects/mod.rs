//! ENCODE/ESTIMATE: fixed-effect dimensions as dense codes, and the weighted
//! demeaning ("within") transformation that projects them out.
//!
//! A fixed-effect dimension `k` assigns every observation `i` a level
//! `g_k(i)`. Projecting out all dimensions means computing
//! `x̃ = x − D α̂` with `α̂ = argmin Σ_i w_i (x_i − Σ_k α_k[g_k(i)])²`
//! (Frisch–Waugh–Lovell). See [`demean`] for the solver.

pub mod demean;
pub mod normal;
pub mod recover;

pub use demean::{ColumnJob, ColumnWork, DemeanInfo, DemeanParams, Demeaner};
pub use normal::{CoefJob, Coefficients, Layout, NormalEquations};
pub use recover::{FixedEffectEstimates, FixedEffectValues, Normalisation};

/// One fixed-effect dimension (e.g. `exporter^year`) on the estimation sample.
#[derive(Debug, Clone, PartialEq)]
pub struct FeDim {
    /// Name as in the formula, e.g. `exporter^year`.
    pub name: String,
    /// Level of each observation, dense in `0..n_levels`.
    pub codes: Vec<u32>,
    /// Text of each level, e.g. `KOR^2019`.
    pub levels: Vec<String>,
}

impl FeDim {
    /// Number of levels.
    pub fn n_levels(&self) -> usize {
        self.levels.len()
    }

    /// Number of observations in each level.
    pub fn counts(&self) -> Vec<u32> {
        let mut c = vec![0u32; self.n_levels()];
        for &g in &self.codes {
            c[g as usize] += 1;
        }
        c
    }

    /// Keeps the observations where `keep` is true and re-encodes the levels
    /// densely (levels left empty disappear), preserving level order.
    pub fn subset(&self, keep: &[bool]) -> FeDim {
        let mut map = vec![u32::MAX; self.n_levels()];
        let mut levels = Vec::new();
        let mut codes = Vec::with_capacity(keep.iter().filter(|k| **k).count());
        for (&g, &k) in self.codes.iter().zip(keep) {
            if !k {
                continue;
            }
            let m = &mut map[g as usize];
            if *m == u32::MAX {
                *m = levels.len() as u32;
                levels.push(self.levels[g as usize].clone());
            }
            codes.push(*m);
        }
        FeDim {
            name: self.name.clone(),
            codes,
            levels,
        }
    }
}

/// Subsets a vector to the rows where `keep` is true.
pub(crate) fn subset_vec<T: Copy>(v: &[T], keep: &[bool]) -> Vec<T> {
    v.iter()
        .zip(keep)
        .filter(|(_, k)| **k)
        .map(|(v, _)| *v)
        .collect()
}

/// True if every level of `fe` lies within a single level of `cluster`
/// (the fixed effect is nested in the cluster variable).
pub(crate) fn is_nested(fe: &[u32], n_fe_levels: usize, cluster: &[u32]) -> bool {
    let mut owner = vec![u32::MAX; n_fe_levels];
    for (&g, &c) in fe.iter().zip(cluster) {
        let o = &mut owner[g as usize];
        if *o == u32::MAX {
            *o = c;
        } else if *o != c {
            return false;
        }
    }
    true
}
