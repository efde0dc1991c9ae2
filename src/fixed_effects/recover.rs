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

/// How the recovered fixed effects are pinned down (they are identified
/// only up to constants that move between dimensions; every choice gives
/// the same sums `Σ_k α_k`, and so the same fitted values and predictions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Normalisation {
    /// [`NORMALISATION`]: in each connected component, the first level in
    /// order of appearance of every dimension after the first is 0 (with
    /// two dimensions, fixest's `fixef()`). The default.
    #[default]
    PerComponent,
    /// pyfixest 0.60's `fixef()`: the first level in sorted order (numeric
    /// order if every level is a number, else text order) of every
    /// dimension after the first is 0, and of the solutions that remain the
    /// one with the least sum of squares, which is what its `lsqr` on the
    /// dummies of `-1 + C(f1) + C(f2) + …` converges to. Exact when the
    /// remaining freedom is one constant per dimension and component (two
    /// dimensions, or plain crossed ones such as exporter, importer and
    /// year); where further redundancies exist the sums stay exact and the
    /// individual effects are the per-component least-squares choice.
    Pyfixest,
}

impl Normalisation {
    /// Parses `per-component` (also `component`, `fixest`) or `pyfixest`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidOption`] for any other name.
    pub fn parse(name: &str) -> Result<Normalisation> {
        match name.trim().to_ascii_lowercase().as_str() {
            "per-component" | "component" | "fixest" => Ok(Normalisation::PerComponent),
            "pyfixest" => Ok(Normalisation::Pyfixest),
            other => Err(Error::model(
                ErrorKind::InvalidOption,
                format!(
                    "unknown fixed-effect normalisation '{other}': expected \"pyfixest\" or \"per-component\""
                ),
            )),
        }
    }
}

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

/// Solves `Σ_k α_k[g_k(i)] = s_i` for the levels and normalises them
/// ([`Normalisation::PerComponent`]).
#[cfg(test)]
pub(crate) fn recover(dims: &[FeDim], s: &[f64]) -> Result<FixedEffectEstimates> {
    recover_with(dims, s, Normalisation::PerComponent)
}

/// Solves `Σ_k α_k[g_k(i)] = s_i` for the levels and normalises them as
/// `normalisation` says.
pub(crate) fn recover_with(
    dims: &[FeDim],
    s: &[f64],
    normalisation: Normalisation,
) -> Result<FixedEffectEstimates> {
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
    if normalisation == Normalisation::Pyfixest {
        least_squares_references(dims, &comp, n_comp, &mut alpha);
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

/// The index of the first level of `levels` in sorted order: numeric
/// order if every level is a number (as formulaic sorts a numeric column
/// used as a factor), else the order of the text (Python's `sorted` on
/// `str`, which compares code points as Rust compares UTF-8 bytes).
fn first_sorted(levels: &[String]) -> Option<usize> {
    let numbers: Option<Vec<f64>> = levels
        .iter()
        .map(|l| l.trim().parse::<f64>().ok())
        .collect();
    match numbers {
        Some(x) if x.iter().all(|v| v.is_finite()) => {
            (0..x.len()).min_by(|&a, &b| x[a].total_cmp(&x[b]))
        }
        _ => (0..levels.len()).min_by(|&a, &b| levels[a].cmp(&levels[b])),
    }
}

/// [`Normalisation::Pyfixest`] from any solution `alpha` (the sums are
/// kept exactly: every change adds constants `d_k` to the levels of each
/// dimension within one connected component with `Σ_k d_k = 0`).
///
/// First, globally, the first sorted level of every dimension after the
/// first becomes 0 (the first dimension absorbs the constants). Then in
/// each component, with `F` the dimensions free to move there (the first,
/// and every other whose reference level lies in another component), the
/// shifts minimise `Σ_k Σ_g (α_kg + d_k)²` subject to `Σ_F d_k = 0`:
/// `d_k = (μ − S_k)/n_k` with `S_k`, `n_k` the sum and the number of the
/// component's levels of dimension `k` and `μ = Σ_F (S_k/n_k) / Σ_F (1/n_k)`.
fn least_squares_references(
    dims: &[FeDim],
    comp: &[Vec<usize>],
    n_comp: usize,
    alpha: &mut [Vec<f64>],
) {
    if dims.len() < 2 || alpha.is_empty() {
        // One dimension is identified; none has nothing to normalise.
        return;
    }
    let refs: Vec<Option<usize>> = dims.iter().map(|d| first_sorted(&d.levels)).collect();
    for k in 1..dims.len() {
        let Some(r) = refs[k] else { continue };
        let shift = alpha[k][r];
        for a in alpha[k].iter_mut() {
            *a -= shift;
        }
        for a in alpha[0].iter_mut() {
            *a += shift;
        }
    }
    // Per component and dimension: the sum and the number of levels.
    let k_dims = dims.len();
    let mut sum = vec![0.0; n_comp * k_dims];
    let mut count = vec![0.0; n_comp * k_dims];
    for k in 0..k_dims {
        for (g, &c) in comp[k].iter().enumerate() {
            sum[c * k_dims + k] += alpha[k][g];
            count[c * k_dims + k] += 1.0;
        }
    }
    let mut fixed = vec![false; n_comp * k_dims];
    for k in 1..k_dims {
        if let Some(r) = refs[k] {
            fixed[comp[k][r] * k_dims + k] = true;
        }
    }
    let mut shift = vec![0.0; n_comp * k_dims];
    for c in 0..n_comp {
        let free = |k: usize| !fixed[c * k_dims + k] && count[c * k_dims + k] > 0.0;
        let (num, den) = (0..k_dims)
            .filter(|&k| free(k))
            .fold((0.0, 0.0), |(a, b), k| {
                let n = count[c * k_dims + k];
                (a + sum[c * k_dims + k] / n, b + 1.0 / n)
            });
        if den == 0.0 {
            continue;
        }
        let mu = num / den;
        for k in (0..k_dims).filter(|&k| free(k)) {
            shift[c * k_dims + k] = (mu - sum[c * k_dims + k]) / count[c * k_dims + k];
        }
    }
    for k in 0..k_dims {
        for (g, &c) in comp[k].iter().enumerate() {
            alpha[k][g] += shift[c * k_dims + k];
        }
    }
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

#[cfg(test)]
mod pyfixest_tests {
    use super::*;

    fn sums(dims: &[FeDim], fe: &FixedEffectEstimates) -> Vec<f64> {
        (0..dims[0].codes.len())
            .map(|i| {
                dims.iter()
                    .zip(&fe.dims)
                    .map(|(d, v)| v.values[d.codes[i] as usize])
                    .sum()
            })
            .collect()
    }

    fn dim(name: &str, codes: Vec<u32>, levels: &[&str]) -> FeDim {
        FeDim {
            name: name.into(),
            codes,
            levels: levels.iter().map(|l| l.to_string()).collect(),
        }
    }

    #[test]
    fn two_way_connected_takes_the_first_sorted_level_as_reference() {
        // Levels in order of appearance "b1", "b0": pyfixest's reference is "b0".
        let a = dim("a", vec![0, 0, 1, 1, 2], &["a0", "a1", "a2"]);
        let b = dim("b", vec![0, 1, 0, 1, 1], &["b1", "b0"]);
        let (ta, tb) = ([1.0, 2.0, 5.0], [0.5, -1.0]);
        let s: Vec<f64> = (0..5)
            .map(|i| ta[a.codes[i] as usize] + tb[b.codes[i] as usize])
            .collect();
        let dims = [a, b];
        let fe = recover_with(&dims, &s, Normalisation::Pyfixest).unwrap();
        let per = recover(&dims, &s).unwrap();
        assert!(fe.dims[1].get("b0").unwrap().abs() < 1e-12);
        assert!((fe.dims[1].get("b1").unwrap() - 1.5).abs() < 1e-10);
        assert!((fe.dims[0].values[0] - 0.0).abs() < 1e-10);
        assert!((fe.dims[0].values[2] - 4.0).abs() < 1e-10);
        assert!(
            per.dims[1].get("b1").unwrap().abs() < 1e-12,
            "the default is unchanged"
        );
        for (x, y) in sums(&dims, &fe).iter().zip(&s) {
            assert!((x - y).abs() < 1e-10);
        }
    }

    #[test]
    fn other_components_take_the_least_squares_constant() {
        // Components {a0,a1,b0,b1} (holding b's reference b0) and {a2,b2}.
        let a = dim("a", vec![0, 0, 1, 1, 2, 2], &["a0", "a1", "a2"]);
        let b = dim("b", vec![0, 1, 0, 1, 2, 2], &["b0", "b1", "b2"]);
        let (ta, tb) = ([1.0, 2.0, 5.0], [0.5, -1.0, 3.0]);
        let s: Vec<f64> = (0..6)
            .map(|i| ta[a.codes[i] as usize] + tb[b.codes[i] as usize])
            .collect();
        let dims = [a, b];
        let fe = recover_with(&dims, &s, Normalisation::Pyfixest).unwrap();
        // a2 + b2 = 8 with the least a2² + b2²: 4 and 4 (lsqr's minimum norm).
        assert!((fe.dims[0].values[2] - 4.0).abs() < 1e-10);
        assert!((fe.dims[1].values[2] - 4.0).abs() < 1e-10);
        assert!(fe.dims[1].values[0].abs() < 1e-12);
        for (x, y) in sums(&dims, &fe).iter().zip(&s) {
            assert!((x - y).abs() < 1e-10);
        }
    }

    #[test]
    fn numeric_levels_sort_as_numbers() {
        let levels: Vec<String> = ["10", "9", "100"].iter().map(|s| s.to_string()).collect();
        assert_eq!(first_sorted(&levels), Some(1));
        let text: Vec<String> = ["b", "a10", "a9"].iter().map(|s| s.to_string()).collect();
        assert_eq!(first_sorted(&text), Some(1));
        assert_eq!(first_sorted(&[]), None);
    }

    #[test]
    fn parses_names() {
        assert_eq!(
            Normalisation::parse("pyfixest").unwrap(),
            Normalisation::Pyfixest
        );
        assert_eq!(
            Normalisation::parse("per-component").unwrap(),
            Normalisation::PerComponent
        );
        assert_eq!(Normalisation::default(), Normalisation::PerComponent);
        let err = Normalisation::parse("stata").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidOption);
    }
}
