//! ENCODE: a [`Frame`] and a [`Formula`] become a [`Design`]: the outcome, the
//! regressors as a column-major `f64` matrix, every fixed effect (and cluster
//! variable) as dense `u32` codes, weights and offset — on the rows without a
//! missing value. Rows with a missing value are recorded, never silently lost.

use crate::data::{Column, Factor, Frame, MISSING_CODE};
use crate::error::{Error, ErrorKind, Location, Result};
use crate::fixed_effects::{subset_vec, FeDim};
use crate::formula::{Expr, Formula};
use crate::sample::RowStatus;
use rayon::prelude::*;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

/// Name of the intercept column, as fixest prints it.
pub const INTERCEPT: &str = "(Intercept)";

/// The encoded model on the estimation sample.
#[derive(Debug, Clone)]
pub struct Design {
    /// Rows in the input frame.
    pub n_full: usize,
    /// Input-frame row of each observation.
    pub rows: Vec<usize>,
    /// The outcome.
    pub y: Vec<f64>,
    /// Regressors, column-major, `n × p`.
    pub x: Vec<f64>,
    /// Regressor names (including `(Intercept)` when the model has one).
    pub x_names: Vec<String>,
    /// Fixed-effect dimensions.
    pub fe: Vec<FeDim>,
    /// Prior (frequency or analytic) weights.
    pub weights: Option<Vec<f64>>,
    /// Offset added to the linear predictor with coefficient one.
    pub offset: Option<Vec<f64>>,
    /// Cluster variables requested for inference, encoded like fixed effects.
    pub clusters: Vec<FeDim>,
    /// Status of every input row so far (`Used` or `Missing`).
    pub status: Vec<RowStatus>,
}

impl Design {
    /// Number of observations.
    pub fn n(&self) -> usize {
        self.y.len()
    }

    /// Number of regressors.
    pub fn p(&self) -> usize {
        self.x_names.len()
    }

    /// Regressor `j` as a slice.
    pub fn x_col(&self, j: usize) -> &[f64] {
        let n = self.n();
        &self.x[j * n..(j + 1) * n]
    }

    /// Keeps the observations where `keep` is true, marking the others in
    /// `status` with `reason`.
    pub fn subset(&self, keep: &[bool], reason: RowStatus) -> Design {
        let why: Vec<Option<RowStatus>> = keep.iter().map(|&k| (!k).then_some(reason)).collect();
        self.subset_why(keep, &why)
    }

    /// Keeps the observations where `keep` is true, marking each other one
    /// in `status` with its own reason `why[i]`. The columns are copied in
    /// parallel.
    pub(crate) fn subset_why(&self, keep: &[bool], why: &[Option<RowStatus>]) -> Design {
        let n = self.n();
        let mut status = self.status.clone();
        for (&row, w) in self.rows.iter().zip(why) {
            if let Some(r) = w {
                status[row] = *r;
            }
        }
        let p = self.p();
        let ((rows, y), ((x, fe), (clusters, (weights, offset)))) = rayon::join(
            || {
                rayon::join(
                    || subset_vec(&self.rows, keep),
                    || subset_vec(&self.y, keep),
                )
            },
            || {
                rayon::join(
                    || {
                        rayon::join(
                            || {
                                (0..p)
                                    .into_par_iter()
                                    .map(|j| subset_vec(&self.x[j * n..(j + 1) * n], keep))
                                    .collect::<Vec<Vec<f64>>>()
                                    .concat()
                            },
                            || self.fe.par_iter().map(|d| d.subset(keep)).collect(),
                        )
                    },
                    || {
                        rayon::join(
                            || self.clusters.par_iter().map(|d| d.subset(keep)).collect(),
                            || {
                                rayon::join(
                                    || self.weights.as_ref().map(|w| subset_vec(w, keep)),
                                    || self.offset.as_ref().map(|o| subset_vec(o, keep)),
                                )
                            },
                        )
                    },
                )
            },
        );
        Design {
            n_full: self.n_full,
            rows,
            y,
            x,
            x_names: self.x_names.clone(),
            fe,
            weights,
            offset,
            clusters,
            status,
        }
    }

    /// Drops regressor columns by index (collinear ones).
    pub fn drop_regressors(&mut self, drop: &[usize]) {
        if drop.is_empty() {
            return;
        }
        let n = self.n();
        let keep: Vec<usize> = (0..self.p()).filter(|j| !drop.contains(j)).collect();
        let mut x = Vec::with_capacity(n * keep.len());
        for &j in &keep {
            x.extend_from_slice(&self.x[j * n..(j + 1) * n]);
        }
        self.x = x;
        self.x_names = keep.iter().map(|&j| self.x_names[j].clone()).collect();
    }
}

/// What the design needs beyond the formula.
#[derive(Debug, Clone, Default)]
pub struct DesignSpec {
    /// True for PPML: the outcome must be non-negative.
    pub nonnegative_outcome: bool,
    /// Column of prior weights.
    pub weights: Option<String>,
    /// Column of the offset.
    pub offset: Option<String>,
    /// Cluster variables; each is one factor or an interaction `a^b`.
    pub clusters: Vec<String>,
    /// The panel that leads and lags follow.
    pub panel: Option<crate::terms::PanelSpec>,
    /// Rows outside this condition leave the sample (as excluded).
    pub subset: Option<crate::formula::subset::Subset>,
}

/// The fixed-effect set-up of one frame, kept across the designs of several
/// models on it (multiple estimation, [`crate::fit::Fitter`]): every fixed
/// effect and cluster variable encoded on all rows, the panel index of
/// leads and lags, and the last estimation sample's re-encoding of each
/// dimension. A model whose fixed effects, clusters and sample are those of
/// an earlier one reuses them instead of encoding them again; the design is
/// the same either way (`tests/multiple_estimation.rs`).
///
/// Encodings belong to one frame: [`crate::fit::Fitter`] holds both, so
/// they cannot be mixed up. The default keeps nothing (one model: each
/// encoding is moved into the design, as without a cache);
/// [`Encodings::retaining`] keeps them for the next model.
#[derive(Default)]
pub(crate) struct Encodings {
    /// Keep the encodings for later models (else move them into the design).
    retain: bool,
    /// Normalised specification (`a^b`, no spaces) → encoding on all rows.
    dims: HashMap<String, FeDim>,
    /// The panel of leads and lags, with its specification.
    panel: Option<(crate::terms::PanelSpec, Arc<crate::terms::PanelIndex>)>,
    /// The last sample (rows kept) and its dimensions re-encoded on it.
    sample: Option<(Vec<bool>, HashMap<String, FeDim>)>,
    /// Dimensions encoded (not found) so far, for the tests and timings.
    pub(crate) encoded: usize,
    /// Dimensions reused (found) so far.
    pub(crate) reused: usize,
}

/// A specification `a ^ b` written without spaces, the key of [`Encodings`].
fn normal_spec(spec: &str) -> String {
    spec.split('^').map(str::trim).collect::<Vec<_>>().join("^")
}

impl Encodings {
    /// Encodings kept across models.
    pub(crate) fn retaining() -> Self {
        Encodings {
            retain: true,
            ..Encodings::default()
        }
    }

    /// The encodings of `specs` on all rows of `frame` (as the same
    /// `(spec, part)` list in order), encoding in parallel those not held;
    /// errors in the order of `specs`.
    fn on_all_rows(&mut self, frame: &Frame, specs: &[(String, &str)]) -> Result<Vec<FeDim>> {
        let mut missing: Vec<(String, &str)> = Vec::new();
        for (spec, part) in specs {
            let key = normal_spec(spec);
            if !self.dims.contains_key(&key) && !missing.iter().any(|(k, _)| *k == key) {
                missing.push((key, part));
            }
        }
        let fresh: Vec<Result<FeDim>> = missing
            .par_iter()
            .map(|(key, part)| encode_interaction(frame, key, part))
            .collect();
        // Report the first error in the order of the specification.
        let mut failed: Option<(usize, Error)> = None;
        for ((key, _), r) in missing.iter().zip(fresh) {
            match r {
                Ok(d) => {
                    self.encoded += 1;
                    self.dims.insert(key.clone(), d);
                }
                Err(e) => {
                    let at = specs
                        .iter()
                        .position(|(s, _)| normal_spec(s) == *key)
                        .unwrap_or(usize::MAX);
                    if failed.as_ref().is_none_or(|(k, _)| at < *k) {
                        failed = Some((at, e));
                    }
                }
            }
        }
        if let Some((_, e)) = failed {
            return Err(e);
        }
        self.reused += specs.len() - missing.len();
        let keys: Vec<String> = specs.iter().map(|(s, _)| normal_spec(s)).collect();
        let mut out = Vec::with_capacity(specs.len());
        for (k, (spec, _)) in specs.iter().enumerate() {
            let key = &keys[k];
            let missing_encoding = || Error::Bug(format!("no encoding of '{spec}'"));
            // Without a cache, the last use of an encoding takes it.
            let last = !keys[k + 1..].contains(key);
            let d = if !self.retain && last {
                let mut d = self.dims.remove(key).ok_or_else(missing_encoding)?;
                d.name = spec.clone();
                d
            } else {
                let d = self.dims.get(key).ok_or_else(missing_encoding)?;
                FeDim {
                    name: spec.clone(),
                    codes: d.codes.clone(),
                    levels: d.levels.clone(),
                }
            };
            out.push(d);
        }
        Ok(out)
    }

    /// The panel index of `spec`, built once.
    fn panel(
        &mut self,
        frame: &Frame,
        spec: &crate::terms::PanelSpec,
    ) -> Result<Arc<crate::terms::PanelIndex>> {
        if let Some((s, index)) = &self.panel {
            if s == spec {
                return Ok(Arc::clone(index));
            }
        }
        let index = Arc::new(crate::terms::PanelIndex::build(frame, spec)?);
        self.panel = Some((spec.clone(), Arc::clone(&index)));
        Ok(index)
    }

    /// The dimensions re-encoded on the rows `keep` (levels numbered in
    /// order of first appearance there), reusing the last sample's when
    /// `keep` is the same.
    fn on_rows(&mut self, dims: Vec<FeDim>, keep: &[bool], complete: bool) -> Vec<FeDim> {
        let on_sample = |d: FeDim| {
            if complete && in_first_appearance_order(&d.codes, d.n_levels()) {
                d
            } else {
                d.subset(keep)
            }
        };
        if !self.retain {
            return dims.into_par_iter().map(on_sample).collect();
        }
        if !matches!(&self.sample, Some((k, _)) if k.as_slice() == keep) {
            self.sample = Some((keep.to_vec(), HashMap::new()));
        }
        let cached = match &mut self.sample {
            Some((_, m)) => m,
            None => return dims, // just set above
        };
        let todo: Vec<(usize, &FeDim)> = dims
            .iter()
            .enumerate()
            .filter(|(_, d)| !cached.contains_key(&normal_spec(&d.name)))
            .collect();
        let fresh: Vec<(usize, FeDim)> = todo
            .into_par_iter()
            .map(|(j, d)| {
                let sub = if complete && in_first_appearance_order(&d.codes, d.n_levels()) {
                    d.clone()
                } else {
                    d.subset(keep)
                };
                (j, sub)
            })
            .collect();
        for (j, d) in fresh {
            cached.insert(normal_spec(&dims[j].name), d);
        }
        dims.into_iter()
            .map(|d| match cached.get(&normal_spec(&d.name)) {
                Some(c) => FeDim {
                    name: d.name,
                    codes: c.codes.clone(),
                    levels: c.levels.clone(),
                },
                None => d,
            })
            .collect()
    }
}

fn column<'f>(frame: &'f Frame, name: &str, part: &str) -> Result<&'f Column> {
    frame.column(name).ok_or_else(|| {
        Error::data(
            Location::new(frame.source().map(|p| p.to_path_buf()), None, Some(name)),
            format!("unknown column '{name}' in the {part}"),
        )
    })
}

pub(crate) fn numeric<'f>(frame: &'f Frame, name: &str, part: &str) -> Result<&'f [f64]> {
    match column(frame, name, part)? {
        Column::Numeric(v) => Ok(v),
        Column::Factor(f) => {
            let row = f.codes.iter().position(|&c| c != MISSING_CODE).unwrap_or(0);
            let found = f
                .codes
                .get(row)
                .and_then(|&c| f.levels.get(c as usize))
                .cloned()
                .unwrap_or_default();
            Err(Error::Data {
                location: frame.location(row, name),
                message: format!("column '{name}' must be a number, found \"{found}\""),
                hint: Some(format!(
                    "'{name}' is used in the {part}, which needs numbers"
                )),
            })
        }
    }
}

fn factor<'f>(frame: &'f Frame, name: &str, part: &str) -> Result<Cow<'f, Factor>> {
    match column(frame, name, part)? {
        Column::Factor(f) => Ok(Cow::Borrowed(f)),
        Column::Numeric(v) => Ok(Cow::Owned(Factor::from_numeric(v))),
    }
}

/// Encodes the interaction of several factors (one code per distinct
/// combination, in order of first appearance) as a fixed-effect dimension.
pub(crate) fn interact(name: &str, factors: &[&Factor]) -> FeDim {
    let n = factors.first().map_or(0, |f| f.codes.len());
    if factors.len() == 1 {
        return FeDim {
            name: name.to_owned(),
            codes: factors[0].codes.clone(),
            levels: factors[0].levels.clone(),
        };
    }
    let mut codes = vec![MISSING_CODE; n];
    let mut map: HashMap<Vec<u32>, u32> = HashMap::new();
    let mut levels = Vec::new();
    let mut key = Vec::with_capacity(factors.len());
    // Two factors (the common case) go through a u64 key, without allocation:
    // a dense table of all level pairs when it is small (exporter^year,
    // exporter^importer: at most a few hundred thousand cells), else a hash
    // map. Levels are numbered in order of first appearance either way.
    if factors.len() == 2 {
        let (a, b) = (factors[0], factors[1]);
        let nb = b.levels.len() as u64;
        let cells = a.levels.len() as u64 * nb;
        let mut table: Vec<u32> = if cells <= 1 << 24 {
            vec![MISSING_CODE; cells as usize]
        } else {
            Vec::new()
        };
        let mut map2: HashMap<u64, u32> = HashMap::new();
        for i in 0..n {
            let (ca, cb) = (a.codes[i], b.codes[i]);
            if ca == MISSING_CODE || cb == MISSING_CODE {
                continue;
            }
            let k = ca as u64 * nb + cb as u64;
            let next = levels.len() as u32;
            let mut new_level = || {
                levels.push(format!(
                    "{}^{}",
                    a.levels[ca as usize], b.levels[cb as usize]
                ));
                next
            };
            let c = if table.is_empty() {
                *map2.entry(k).or_insert_with(new_level)
            } else {
                let slot = &mut table[k as usize];
                if *slot == MISSING_CODE {
                    *slot = new_level();
                }
                *slot
            };
            codes[i] = c;
        }
    } else {
        'rows: for i in 0..n {
            key.clear();
            for f in factors {
                let c = f.codes[i];
                if c == MISSING_CODE {
                    continue 'rows;
                }
                key.push(c);
            }
            let next = levels.len() as u32;
            let c = match map.get(&key) {
                Some(&c) => c,
                None => {
                    let text: Vec<&str> = factors
                        .iter()
                        .zip(&key)
                        .map(|(f, &c)| f.levels[c as usize].as_str())
                        .collect();
                    levels.push(text.join("^"));
                    map.insert(key.clone(), next);
                    next
                }
            };
            codes[i] = c;
        }
    }
    FeDim {
        name: name.to_owned(),
        codes,
        levels,
    }
}

/// Encodes a fixed effect or cluster written as `a^b^…`.
pub(crate) fn encode_interaction(frame: &Frame, spec: &str, part: &str) -> Result<FeDim> {
    let names: Vec<&str> = spec.split('^').map(str::trim).collect();
    let factors: Vec<Cow<Factor>> = names
        .iter()
        .map(|n| factor(frame, n, part))
        .collect::<Result<_>>()?;
    let refs: Vec<&Factor> = factors.iter().map(|f| f.as_ref()).collect();
    Ok(interact(spec, &refs))
}

/// True if every level occurs and each first occurs after the levels
/// numbered before it.
fn in_first_appearance_order(codes: &[u32], levels: usize) -> bool {
    let mut next = 0u32;
    for &c in codes {
        if c == next {
            next += 1;
        } else if c > next {
            return false;
        }
    }
    next as usize == levels
}

/// Builds the design: reads the formula's columns from the frame, drops rows
/// with a missing value (recorded as [`RowStatus::Missing`]) and encodes the
/// fixed effects on the rows that remain.
///
/// # Errors
///
/// [`ErrorKind::Formula`] or
/// [`ErrorKind::InvalidData`] for a column
/// that is missing, of the wrong type or (for PPML) negative;
/// [`ErrorKind::UnknownColumn`] for weights,
/// offset or cluster columns that do not exist.
pub fn build(frame: &Frame, formula: &Formula, spec: &DesignSpec) -> Result<Design> {
    build_with(frame, formula, spec, &mut Encodings::default())
}

/// [`build`], taking the fixed-effect set-up from (and adding it to) the
/// encodings of earlier models on the same frame.
pub(crate) fn build_with(
    frame: &Frame,
    formula: &Formula,
    spec: &DesignSpec,
    enc: &mut Encodings,
) -> Result<Design> {
    let n_full = frame.nrows();
    if formula.is_multiple() {
        return Err(Error::model(
            ErrorKind::InvalidOption,
            format!(
                "the formula '{}' holds {} models: estimate each of Formula::expand()",
                formula.text,
                formula.expand().len()
            ),
        ));
    }
    let panel = match &spec.panel {
        Some(p) => Some(enc.panel(frame, p)?),
        None => None,
    };
    let ctx = crate::terms::Context {
        frame,
        panel: panel.as_deref(),
        formula: &formula.text,
    };
    let y_name = formula.response.name.as_str();
    let y_all: Cow<[f64]> = match &formula.response_expr {
        Expr::Col(t) => Cow::Borrowed(numeric(frame, &t.name, "response")?),
        e => Cow::Owned(crate::terms::eval(&ctx, e)?),
    };
    if spec.nonnegative_outcome {
        if let Some(i) = y_all.iter().position(|v| *v < 0.0 || v.is_infinite()) {
            return Err(Error::Data {
                location: frame.location(i, y_name),
                message: format!(
                    "column '{y_name}' must be a non-negative number, found \"{}\"",
                    y_all[i]
                ),
                hint: Some("PPML needs a non-negative outcome (zeros are fine)".into()),
            });
        }
    }
    let mut x_cols: Vec<Cow<[f64]>> = Vec::new();
    let mut x_names: Vec<String> = Vec::new();
    for r in &formula.regressors {
        let generated = match r.column() {
            Some(t) => vec![(
                t.name.clone(),
                Cow::Borrowed(numeric(frame, &t.name, "regressors")?),
            )],
            None => crate::terms::columns(&ctx, r)?
                .into_iter()
                .map(|(name, v)| (name, Cow::Owned(v)))
                .collect(),
        };
        for (name, col) in generated {
            if x_names.contains(&name) {
                return Err(Error::formula(
                    &formula.text,
                    r.start,
                    r.len,
                    format!("regressor '{name}' appears twice in the regressors"),
                    None,
                ));
            }
            x_names.push(name);
            x_cols.push(col);
        }
    }
    let in_subset = match &spec.subset {
        Some(s) => Some(crate::terms::rows_in(&ctx, s)?),
        None => None,
    };
    let w_all = match &spec.weights {
        Some(w) => Some(numeric(frame, w, "weights")?),
        None => None,
    };
    let o_all = match &spec.offset {
        Some(o) => Some(numeric(frame, o, "offset")?),
        None => None,
    };
    // Every fixed effect and cluster variable, encoded in parallel (or
    // found among the encodings of earlier models); a cluster variable that
    // is also a fixed effect (the pair, typically) is encoded once. Errors
    // are reported in the order of the specification.
    let fe_specs: Vec<(String, &str)> = formula
        .fixed_effects
        .iter()
        .map(|fe| {
            let names: Vec<&str> = fe.factors.iter().map(|t| t.name.as_str()).collect();
            (names.join("^"), "fixed effects")
        })
        .collect();
    let n_fe = fe_specs.len();
    let specs: Vec<(String, &str)> = fe_specs
        .into_iter()
        .chain(
            spec.clusters
                .iter()
                .map(|c| (c.clone(), "cluster variables")),
        )
        .collect();
    let mut fe_all = enc.on_all_rows(frame, &specs)?;
    let cl_all = fe_all.split_off(n_fe);

    // Missing values and non-positive weights.
    let mut keep = vec![true; n_full];
    let mut excluded = vec![false; n_full];
    for i in 0..n_full {
        if in_subset.as_ref().is_some_and(|s| !s[i]) {
            keep[i] = false;
            excluded[i] = true;
            continue;
        }
        let mut missing = y_all[i].is_nan()
            || x_cols.iter().any(|c| c[i].is_nan())
            || fe_all.iter().any(|d| d.codes[i] == MISSING_CODE)
            || cl_all.iter().any(|d| d.codes[i] == MISSING_CODE);
        if let Some(o) = o_all {
            missing |= !o[i].is_finite();
        }
        if let Some(w) = w_all {
            let wi = w[i];
            if wi < 0.0 || wi.is_infinite() {
                return Err(Error::Data {
                    location: frame.location(i, spec.weights.as_deref().unwrap_or("")),
                    message: format!("weights must be finite and non-negative, found {wi}"),
                    hint: None,
                });
            }
            missing |= wi.is_nan() || wi == 0.0;
        }
        if missing {
            keep[i] = false;
        }
    }
    let status: Vec<RowStatus> = keep
        .iter()
        .zip(&excluded)
        .map(|(&k, &e)| {
            if k {
                RowStatus::Used
            } else if e {
                RowStatus::Excluded
            } else {
                RowStatus::Missing
            }
        })
        .collect();
    let rows: Vec<usize> = (0..n_full).filter(|&i| keep[i]).collect();
    let n = rows.len();
    let y = subset_vec(&y_all, &keep);
    let mut x = Vec::with_capacity(n * (x_cols.len() + 1));
    if formula.intercept {
        x.extend(std::iter::repeat_n(1.0, n));
        x_names.insert(0, INTERCEPT.to_owned());
    }
    for c in &x_cols {
        x.extend(c.iter().zip(&keep).filter(|(_, k)| **k).map(|(v, _)| *v));
    }
    // On the rows kept, levels numbered in order of first appearance (a
    // dimension already so, on all rows, is kept as it is).
    let complete = n == n_full;
    let fe = enc.on_rows(fe_all, &keep, complete);
    let clusters = enc.on_rows(cl_all, &keep, complete);
    Ok(Design {
        n_full,
        rows,
        y,
        x,
        x_names,
        fe,
        weights: w_all.map(|w| subset_vec(w, &keep)),
        offset: o_all.map(|o| subset_vec(o, &keep)),
        clusters,
        status,
    })
}
