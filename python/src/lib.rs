//! `gravity_model._native`: the Python extension module over the
//! `gravity-model` library.
//!
//! Thin on purpose: it turns columns handed over by the Python layer
//! (`pysrc/gravity_model/`) into a [`Frame`], runs the library's
//! [`fit`](fn@gravity_model::fit) or [`simulate::run`] with the GIL released,
//! and gives back plain Python values (lists, tuples, strings, JSON text)
//! that the Python layer turns into pandas objects. Every error is the
//! library's [`Error`], raised as the `gravity_model` exception of its
//! [`ErrorKind`] with the library's message.

use gravity_model::fixed_effects::Normalisation;
use gravity_model::formula::subset::Subset;
use gravity_model::report::{CoefStat, Etable, EtableModel, FitReport, Format, Table, Timings};
use gravity_model::simulate::{self, Scenario};
use gravity_model::terms::PanelSpec;
use gravity_model::{
    Column, Error, ErrorKind, Estimator, Factor, Fit, FitOptions, FixefRm, Formula, Frame,
    Inference, LinearCombination, SmallSample, Values, VcovSpec,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The name of the Python exception class (in `gravity_model._errors`) of
/// an error kind.
fn exception_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Io => "GravityIOError",
        ErrorKind::InvalidData => "InvalidDataError",
        ErrorKind::Formula => "FormulaError",
        ErrorKind::Scenario => "ScenarioError",
        ErrorKind::InvalidOption => "InvalidOptionError",
        ErrorKind::UnknownColumn => "UnknownColumnError",
        ErrorKind::EmptySample => "EmptySampleError",
        ErrorKind::ZeroOutcome => "ZeroOutcomeError",
        ErrorKind::TooFewClusters => "TooFewClustersError",
        ErrorKind::Collinear => "CollinearError",
        ErrorKind::InvalidWorld => "InvalidWorldError",
        ErrorKind::NotPositiveDefinite => "NotPositiveDefiniteError",
        ErrorKind::Diverged => "DivergedError",
        ErrorKind::NonFinite => "NonFiniteError",
        ErrorKind::NoConvergence => "NoConvergenceError",
        ErrorKind::Bug => "InternalError",
        // `ErrorKind` is non-exhaustive: a kind added later is a GravityError.
        _ => "GravityError",
    }
}

/// The library's error as the Python exception of its kind, carrying the
/// library's message (with its hint, if any).
fn to_py(err: Error) -> PyErr {
    let message = err.to_string();
    let name = exception_name(err.kind());
    Python::attach(|py| {
        let made = py
            .import("gravity_model._errors")
            .and_then(|m| m.getattr(name))
            .and_then(|cls| cls.call1((message.clone(),)));
        match made {
            Ok(instance) => PyErr::from_value(instance),
            // Only if the package's own Python files are missing.
            Err(_) => PyValueError::new_err(message),
        }
    })
}

/// A plain `ValueError`-family error of kind `InvalidOption` for bad
/// arguments found here rather than in the library.
fn invalid_option(message: String) -> PyErr {
    to_py(Error::model(ErrorKind::InvalidOption, message))
}

/// One column handed over by the Python layer: its name, `"f8"` (a
/// float64 numpy array, NaN missing) or `"cat"` (native int32 codes as
/// bytes, -1 missing, with the levels), the data, and the levels of a
/// factor.
type ColumnArg<'py> = (String, String, Bound<'py, PyAny>, Option<Vec<String>>);

/// A numpy array's float64 buffer, which a frame's column reads in place.
///
/// Built only by [`NumpyBuffer::borrow`], after checking that `owner` is a
/// `numpy.ndarray` (not a subclass, whose `__array_interface__` could say
/// anything) whose interface describes one C-contiguous dimension of
/// native-endian float64 of length `len` at `ptr`, aligned for `f64` and not
/// null.
struct NumpyBuffer {
    /// Holds a reference to the array, so its buffer (owned by the array or
    /// by the array's `base` chain: a pandas block, a polars series) is not
    /// freed while any clone of the column lives.
    _owner: Py<PyAny>,
    ptr: *const f64,
    len: usize,
}

// SAFETY: the buffer is only ever read (`as_ref` gives `&[f64]`), and
// `Py<PyAny>` is itself `Send + Sync` (dropping it without the GIL defers
// the decref to pyo3's pool). Reading from several threads at once is what
// the engine's rayon loops do with any `&[f64]`. The one requirement that
// Rust cannot check is that nobody writes the array while the frame reads
// it: `fepois`/`feols` document that the data must not be mutated from
// another thread during the call (the GIL is released while it runs).
unsafe impl Send for NumpyBuffer {}
// SAFETY: as for `Send`: shared access is read-only.
unsafe impl Sync for NumpyBuffer {}

impl AsRef<[f64]> for NumpyBuffer {
    fn as_ref(&self) -> &[f64] {
        // SAFETY: `borrow` checked that `ptr` is non-null, aligned for f64,
        // and the start of `len` contiguous native float64 values owned by
        // the numpy array `_owner`, which this struct keeps alive; numpy
        // never moves or frees the data of a live array except through
        // `ndarray.resize`, which refuses while other references exist (we
        // hold one) unless called with `refcheck=False`, and the values are
        // not written while the frame is in use (the documented contract of
        // `fepois`/`feols`: no mutation of the data during the call).
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

/// How a numeric column reached the frame: `Borrowed` reads the numpy
/// array handed over in place, `Copied` is one copy made here because that
/// array's layout did not allow borrowing.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Provenance {
    Borrowed,
    Copied,
}

impl NumpyBuffer {
    /// The buffer of `array` if its layout allows reading it in place:
    /// exactly a `numpy.ndarray`, one dimension, C-contiguous, native-endian
    /// float64, aligned, non-empty (an empty column is simply owned).
    fn borrow(array: &Bound<'_, PyAny>) -> PyResult<Option<NumpyBuffer>> {
        let py = array.py();
        let ndarray = py.import("numpy")?.getattr("ndarray")?;
        if !array.get_type().is(&ndarray) {
            return Ok(None);
        }
        let interface = array.getattr("__array_interface__")?;
        let typestr: String = interface.get_item("typestr")?.extract()?;
        let native = if cfg!(target_endian = "little") {
            "<f8"
        } else {
            ">f8"
        };
        if typestr != native {
            return Ok(None);
        }
        let shape: Vec<usize> = interface.get_item("shape")?.extract()?;
        let [len] = shape[..] else {
            return Ok(None);
        };
        let strides = interface.get_item("strides")?;
        if !strides.is_none() {
            let strides: Vec<isize> = strides.extract()?;
            if strides[..] != [8] {
                return Ok(None);
            }
        }
        let (address, _read_only): (usize, bool) = interface.get_item("data")?.extract()?;
        if len == 0 || address == 0 || !address.is_multiple_of(std::mem::align_of::<f64>()) {
            return Ok(None);
        }
        Ok(Some(NumpyBuffer {
            _owner: array.clone().unbind(),
            ptr: address as *const f64,
            len,
        }))
    }
}

/// A numeric column from a float64 array: its own buffer when the layout
/// allows, otherwise one copy (`numpy.array(..., dtype=float64,
/// order="C")`, a new aligned native-endian array) whose buffer the column
/// then holds.
fn numeric_column(name: &str, data: &Bound<'_, PyAny>) -> PyResult<(Values, Provenance)> {
    if let Some(buffer) = NumpyBuffer::borrow(data)? {
        return Ok((Values::shared(Arc::new(buffer)), Provenance::Borrowed));
    }
    let py = data.py();
    let numpy = py.import("numpy")?;
    let kwargs = pyo3::types::PyDict::new(py);
    kwargs.set_item("dtype", numpy.getattr("float64")?)?;
    kwargs.set_item("order", "C")?;
    let copy = numpy.getattr("array")?.call((data,), Some(&kwargs))?;
    let shape: Vec<usize> = copy.getattr("shape")?.extract()?;
    if shape.len() != 1 {
        return Err(invalid_option(format!(
            "column '{name}': expected one dimension of numbers, found shape {shape:?}"
        )));
    }
    if shape[0] == 0 {
        return Ok((Values::from(Vec::new()), Provenance::Copied));
    }
    match NumpyBuffer::borrow(&copy)? {
        Some(buffer) => Ok((Values::shared(Arc::new(buffer)), Provenance::Copied)),
        None => Err(to_py(Error::Bug(format!(
            "column '{name}': numpy.array(dtype=float64, order=\"C\") gave an array that is not contiguous aligned float64"
        )))),
    }
}

/// Builds the engine's frame from the columns: a numeric column reads the
/// array's buffer in place when its layout allows (see [`NumpyBuffer`]),
/// else one copy; factor codes are copied into the frame. Also says how
/// each numeric column got there (`None` for factors).
fn build_frame(columns: Vec<ColumnArg<'_>>) -> PyResult<(Frame, Vec<Option<Provenance>>)> {
    let mut out = Vec::with_capacity(columns.len());
    let mut provenance = Vec::with_capacity(columns.len());
    for (name, kind, data, levels) in columns {
        let column = match kind.as_str() {
            "f8" => {
                let (values, how) = numeric_column(&name, &data)?;
                provenance.push(Some(how));
                Column::Numeric(values)
            }
            "cat" => {
                let data = data.cast_into::<PyBytes>().map_err(|_| {
                    invalid_option(format!("column '{name}': factor codes must be bytes"))
                })?;
                let bytes = data.as_bytes();
                let levels = levels.unwrap_or_default();
                if bytes.len() % 4 != 0 {
                    return Err(invalid_option(format!(
                        "column '{name}': {} bytes is not a whole number of int32 codes",
                        bytes.len()
                    )));
                }
                let mut codes = Vec::with_capacity(bytes.len() / 4);
                for c in bytes.chunks_exact(4) {
                    let mut b = [0u8; 4];
                    b.copy_from_slice(c);
                    let code = i32::from_ne_bytes(b);
                    if code < 0 {
                        codes.push(gravity_model::data::MISSING_CODE);
                    } else if (code as usize) < levels.len() {
                        codes.push(code as u32);
                    } else {
                        return Err(invalid_option(format!(
                            "column '{name}': code {code} but only {} levels",
                            levels.len()
                        )));
                    }
                }
                provenance.push(None);
                Column::Factor(Factor { codes, levels })
            }
            other => {
                return Err(invalid_option(format!(
                    "column '{name}': unknown column kind '{other}'"
                )))
            }
        };
        out.push((name, column));
    }
    Ok((Frame::from_columns(out).map_err(to_py)?, provenance))
}

/// A debugging hook of the test suite: builds the frame from the columns
/// as [`estimate`] does and reports, per column, its name, how it got
/// there (`"borrowed"`: the engine reads the given array's buffer;
/// `"copied"`: one copy made here; `"factor"`) and the address the
/// engine's column reads (0 for a factor).
#[pyfunction]
#[pyo3(name = "_frame_report")]
fn frame_report(columns: Vec<ColumnArg<'_>>) -> PyResult<Vec<(String, &'static str, usize)>> {
    let (frame, provenance) = build_frame(columns)?;
    Ok(frame
        .names()
        .iter()
        .zip(provenance)
        .map(|(name, how)| {
            let address = match frame.column(name) {
                Some(Column::Numeric(v)) => v.as_ptr() as usize,
                _ => 0,
            };
            let how = match how {
                Some(Provenance::Borrowed) => "borrowed",
                Some(Provenance::Copied) => "copied",
                None => "factor",
            };
            (name.clone(), how, address)
        })
        .collect())
}

/// The columns a model needs from the data, given the data's column names:
/// the formula's (checked against them, so an unknown name is the
/// library's formula error with its hint), the weights, the offset, the
/// cluster variables, the panel and the subset's.
#[pyfunction]
#[pyo3(signature = (fml, header, weights=None, offset=None, vcov=None, panel=None, subset=None))]
fn columns_needed(
    fml: &str,
    header: Vec<String>,
    weights: Option<String>,
    offset: Option<String>,
    vcov: Option<String>,
    panel: Option<String>,
    subset: Option<String>,
) -> PyResult<Vec<String>> {
    let formula = Formula::parse(fml).map_err(to_py)?;
    formula.check_columns(&header).map_err(to_py)?;
    let mut names: Vec<String> = formula
        .columns(gravity_model::ColumnKind::Auto)
        .into_iter()
        .map(|r| r.name)
        .collect();
    let mut extra = |name: &str, what: &str| -> PyResult<()> {
        let name = name.trim();
        if !header.iter().any(|h| h == name) {
            return Err(to_py(Error::model(
                ErrorKind::UnknownColumn,
                format!("unknown column '{name}' given as {what}"),
            )));
        }
        if !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
        Ok(())
    };
    if let Some(w) = &weights {
        extra(w, "weights")?;
    }
    if let Some(o) = &offset {
        extra(o, "offset")?;
    }
    if let Some(v) = &vcov {
        let spec = VcovSpec::parse(v).map_err(to_py)?;
        for c in spec.clusters() {
            for part in c.split('^') {
                extra(part, "a cluster variable")?;
            }
        }
    }
    if let Some(p) = &panel {
        let p = PanelSpec::parse(p).map_err(to_py)?;
        for part in p.unit.split('^') {
            extra(part, "the panel unit")?;
        }
        extra(&p.time, "the panel time")?;
    }
    if let Some(s) = &subset {
        let s = Subset::parse(s).map_err(to_py)?;
        for t in s.terms() {
            extra(&t.name, "a column of the subset")?;
        }
    }
    Ok(names)
}

/// The fixed-effect dimensions of a formula (of its first model) and the
/// number of models it holds.
#[pyfunction]
fn formula_info(fml: &str) -> PyResult<(Vec<String>, usize)> {
    let formula = Formula::parse(fml).map_err(to_py)?;
    let fixef = formula.fixed_effects.iter().map(|f| f.name()).collect();
    Ok((fixef, formula.expand().len()))
}

/// The options of a fit, as the Python layer passes them.
#[allow(clippy::too_many_arguments)]
fn options(
    vcov: &str,
    ssc: &str,
    weights: Option<String>,
    offset: Option<String>,
    fixef_tol: Option<f64>,
    iwls_tol: Option<f64>,
    iwls_maxiter: Option<usize>,
    separation: Option<Vec<String>>,
    fixef_rm: Option<String>,
    collin_tol: Option<f64>,
    panel: Option<String>,
    subset: Option<String>,
) -> PyResult<FitOptions> {
    let vcov = VcovSpec::parse(vcov).map_err(to_py)?;
    let ssc = SmallSample::parse(ssc).map_err(to_py)?;
    let mut o = FitOptions::default().vcov(vcov).ssc(ssc);
    if let Some(t) = fixef_tol {
        o = o.fixef_tol(t);
    }
    if let Some(t) = iwls_tol {
        o = o.irls_tol(t);
    }
    if let Some(n) = iwls_maxiter {
        o = o.irls_max_iter(n);
    }
    if let Some(t) = collin_tol {
        o = o.collin_tol(t);
    }
    let singletons = match fixef_rm.as_deref() {
        None | Some("singleton") | Some("both") => true,
        Some("none") => false,
        Some(other) => {
            return Err(invalid_option(format!(
                "unknown fixef_rm '{other}': expected \"singleton\" or \"none\""
            )))
        }
    };
    let (fe, ir) = match &separation {
        None => (true, true),
        Some(list) => {
            for s in list {
                if s != "fe" && s != "ir" {
                    return Err(invalid_option(format!(
                        "unknown separation check '{s}': expected \"fe\" and/or \"ir\""
                    )));
                }
            }
            (
                list.iter().any(|s| s == "fe"),
                list.iter().any(|s| s == "ir"),
            )
        }
    };
    o = o
        .fixef_rm(match (fe, singletons) {
            (true, true) => FixefRm::Both,
            (true, false) => FixefRm::Perfect,
            (false, true) => FixefRm::Singleton,
            (false, false) => FixefRm::None,
        })
        .separation_ir(ir);
    o.weights = weights;
    o.offset = offset;
    if let Some(p) = panel {
        o = o.panel(PanelSpec::parse(&p).map_err(to_py)?);
    }
    if let Some(s) = subset {
        o = o.subset(Subset::parse(&s).map_err(to_py)?);
    }
    Ok(o)
}

/// Estimates every model of `fml` (several with `sw()`, `csw()`, `c()`) on
/// the columns, with the GIL released; one [`NativeFit`] per model.
#[pyfunction]
#[pyo3(signature = (estimator, fml, columns, vcov, ssc, weights=None, offset=None, fixef_tol=None, iwls_tol=None, iwls_maxiter=None, separation=None, fixef_rm=None, collin_tol=None, panel=None, subset=None))]
#[allow(clippy::too_many_arguments)]
fn estimate(
    py: Python<'_>,
    estimator: &str,
    fml: &str,
    columns: Vec<ColumnArg<'_>>,
    vcov: &str,
    ssc: &str,
    weights: Option<String>,
    offset: Option<String>,
    fixef_tol: Option<f64>,
    iwls_tol: Option<f64>,
    iwls_maxiter: Option<usize>,
    separation: Option<Vec<String>>,
    fixef_rm: Option<String>,
    collin_tol: Option<f64>,
    panel: Option<String>,
    subset: Option<String>,
) -> PyResult<Vec<NativeFit>> {
    let estimator = match estimator {
        "ppml" => Estimator::Ppml,
        "ols" => Estimator::Ols,
        other => return Err(invalid_option(format!("unknown estimator '{other}'"))),
    };
    let formula = Formula::parse(fml).map_err(to_py)?;
    let options = options(
        vcov,
        ssc,
        weights,
        offset,
        fixef_tol,
        iwls_tol,
        iwls_maxiter,
        separation,
        fixef_rm,
        collin_tol,
        panel,
        subset,
    )?;
    // The frame may read the arrays' buffers in place: it is used with the
    // GIL released and dropped here, attached, after the fits (which hold
    // their own copies of the estimation sample) are made.
    let (frame, _) = build_frame(columns)?;
    let frame = &frame;
    let result = py.detach(move || -> gravity_model::Result<Vec<NativeFit>> {
        let mut fits = Vec::new();
        // One fixed-effect set-up for all the models, as `gravity fit`.
        let mut fitter = gravity_model::Fitter::new(frame);
        for model in formula.expand() {
            let t0 = std::time::Instant::now();
            let fitted = fitter.fit(&model, estimator, &options)?;
            let fit_s = t0.elapsed().as_secs_f64();
            let t1 = std::time::Instant::now();
            let inference = fitted.summary()?;
            let inference_s = t1.elapsed().as_secs_f64();
            let timings = Timings {
                load_s: 0.0,
                prepare_s: (fit_s - fitted.info.seconds).max(0.0),
                estimate_s: fitted.info.seconds,
                inference_s,
                total_s: fit_s + inference_s,
            };
            fits.push(NativeFit {
                fit: Arc::new(fitted),
                inference: Arc::new(inference),
                timings,
            });
        }
        Ok(fits)
    });
    result.map_err(to_py)
}

/// One estimated model and its inference (immutable; another variance
/// estimator gives another object, see [`NativeFit::with_vcov`]).
#[pyclass(frozen, module = "gravity_model._native")]
struct NativeFit {
    fit: Arc<Fit>,
    inference: Arc<Inference>,
    timings: Timings,
}

/// A coefficient row for Python: name, estimate, std. error, statistic,
/// p-value, CI low, CI high, and why the statistics are missing (if so).
type CoefTuple = (String, f64, f64, f64, f64, f64, f64, Option<String>);

/// One fixed-effect dimension for Python: its name, levels and values.
type FixefTuple = (String, Vec<String>, Vec<f64>);

fn coef_tuple(r: &gravity_model::CoefRow) -> CoefTuple {
    (
        r.name.clone(),
        r.estimate,
        r.std_error,
        r.statistic,
        r.p_value,
        r.ci_low,
        r.ci_high,
        r.problem.clone(),
    )
}

#[pymethods]
impl NativeFit {
    /// `"ppml"` or `"ols"`.
    #[getter]
    fn estimator(&self) -> String {
        self.fit.estimator.to_string()
    }

    /// The model's formula (its canonical form for one of several models).
    #[getter]
    fn formula(&self) -> String {
        self.fit.formula.to_string()
    }

    /// The outcome's name.
    #[getter]
    fn depvar(&self) -> String {
        self.fit.formula.response.name.clone()
    }

    /// Observations used.
    #[getter]
    fn nobs(&self) -> usize {
        self.fit.nobs()
    }

    /// Rows given (the data's length).
    #[getter]
    fn nobs_full(&self) -> usize {
        self.fit.sample.n_full
    }

    /// True if IRLS met its tolerance.
    #[getter]
    fn converged(&self) -> bool {
        self.fit.info.converged
    }

    /// IRLS iterations.
    #[getter]
    fn iterations(&self) -> usize {
        self.fit.info.iterations
    }

    /// The final deviance.
    #[getter]
    fn deviance(&self) -> f64 {
        self.fit.info.deviance
    }

    /// The variance estimator, in the CLI's words (`cluster:pair`, …).
    #[getter]
    fn vcov_type(&self) -> String {
        self.inference.spec.to_string()
    }

    /// The cluster variables of the inference (resolved for `twoway`).
    #[getter]
    fn clusters(&self) -> Vec<String> {
        self.inference.clusters.clone()
    }

    /// Clusters per cluster variable.
    #[getter]
    fn n_clusters(&self) -> Vec<usize> {
        self.inference.n_clusters.clone()
    }

    /// Regressors dropped as collinear.
    #[getter]
    fn collinear(&self) -> Vec<String> {
        self.fit.collinear.clone()
    }

    /// The fixed-effect dimensions, in formula order.
    #[getter]
    fn fixef_names(&self) -> Vec<String> {
        self.fit
            .formula
            .fixed_effects
            .iter()
            .map(|f| f.name())
            .collect()
    }

    /// The fit's and the inference's notes (dropped rows, separation,
    /// collinearity, non-convergence).
    #[getter]
    fn notes(&self) -> Vec<String> {
        self.fit
            .notes
            .iter()
            .chain(&self.inference.notes)
            .cloned()
            .collect()
    }

    /// Counts of dropped rows: missing, singletons, separated (fixed
    /// effects, ReLU) and excluded by the subset.
    fn dropped(&self) -> Vec<(String, usize)> {
        let d = &self.fit.sample.dropped;
        vec![
            ("missing".into(), d.missing),
            ("singletons".into(), d.singletons),
            ("separated".into(), d.separated),
            ("separated_fe".into(), d.separated_fe),
            ("separated_relu".into(), d.separated_relu),
            ("excluded".into(), d.excluded),
        ]
    }

    /// The coefficient table rows.
    fn coefficients(&self) -> Vec<CoefTuple> {
        self.inference.coefficients.iter().map(coef_tuple).collect()
    }

    /// The coefficient names and the covariance matrix, row by row.
    fn vcov_matrix(&self) -> (Vec<String>, Vec<Vec<f64>>) {
        let v = &self.inference.vcov;
        let names = self
            .inference
            .coefficients
            .iter()
            .map(|c| c.name.clone())
            .collect();
        let rows = (0..v.nrows())
            .map(|i| (0..v.ncols()).map(|j| v[(i, j)]).collect())
            .collect();
        (names, rows)
    }

    /// What became of every input row: `used`, `missing`, `singleton`,
    /// `separated` or `excluded`.
    fn sample_status(&self) -> Vec<&'static str> {
        self.fit.sample.status.iter().map(|s| s.as_str()).collect()
    }

    /// The fitted mean of every input row (`None` where the row was not
    /// used).
    fn fitted_by_row(&self) -> Vec<Option<f64>> {
        self.fit.fitted_by_row()
    }

    /// The fitted mean of the estimation sample, in row order.
    fn fitted(&self) -> Vec<f64> {
        self.fit.fitted()
    }

    /// The input rows (0-based) of the estimation sample, in order.
    fn sample_rows(&self) -> Vec<usize> {
        self.fit.sample_rows().to_vec()
    }

    /// The fixed effects: per dimension its name, levels and values (log
    /// scale for PPML), with the normalisation `normalisation`
    /// (`"pyfixest"`, pyfixest's `fixef()`, or `"per-component"`, the
    /// library's default).
    #[pyo3(signature = (normalisation="pyfixest"))]
    fn fixef(&self, py: Python<'_>, normalisation: &str) -> PyResult<Vec<FixefTuple>> {
        let normalisation = Normalisation::parse(normalisation).map_err(to_py)?;
        let fit = Arc::clone(&self.fit);
        let fe = py
            .detach(move || fit.fixed_effects_with(normalisation))
            .map_err(to_py)?;
        Ok(fe
            .dims
            .into_iter()
            .map(|d| (d.name, d.levels, d.values))
            .collect())
    }

    /// The linear predictor on new data given as columns (`None` where a
    /// value is missing or a level was not in the estimation sample).
    fn predict_link(
        &self,
        py: Python<'_>,
        columns: Vec<ColumnArg<'_>>,
    ) -> PyResult<Vec<Option<f64>>> {
        let (frame, _) = build_frame(columns)?;
        let frame = &frame;
        let fit = Arc::clone(&self.fit);
        py.detach(move || {
            let fe = fit.fixed_effects()?;
            fit.predict_link(frame, &fe)
        })
        .map_err(to_py)
    }

    /// The same fit with another variance estimator and small-sample
    /// preset (its cluster variables must have been carried into the fit,
    /// or be fixed effects of the model).
    fn with_vcov(&self, py: Python<'_>, vcov: &str, ssc: &str) -> PyResult<NativeFit> {
        let spec = VcovSpec::parse(vcov).map_err(to_py)?;
        let ssc = SmallSample::parse(ssc).map_err(to_py)?;
        let fit = Arc::clone(&self.fit);
        let inference = py
            .detach(move || fit.inference(&spec, ssc))
            .map_err(to_py)?;
        Ok(NativeFit {
            fit: Arc::clone(&self.fit),
            inference: Arc::new(inference),
            timings: self.timings,
        })
    }

    /// A linear combination `NAME=EXPR` of the coefficients (the CLI's
    /// `--lincom`).
    fn lincom(&self, expression: &str) -> PyResult<CoefTuple> {
        let c = LinearCombination::parse(expression).map_err(to_py)?;
        let l = self.inference.lincom(&c).map_err(to_py)?;
        Ok(coef_tuple(&l.row))
    }

    /// The Wald test that the named coefficients are jointly zero:
    /// statistic, p-value, df1, df2 (`None` for χ²) and the distribution.
    fn wald(&self, names: Vec<String>) -> PyResult<(f64, f64, usize, Option<f64>, String)> {
        let w = self.inference.wald(&names).map_err(to_py)?;
        Ok((w.stat, w.p, w.df1, w.df2, w.distribution))
    }

    /// Fit statistics: log-likelihood, null log-likelihood, deviance, null
    /// deviance, pseudo-R², R², within R² (those that apply).
    fn fit_stats(&self) -> PyResult<String> {
        let s = self.fit.fit_stats();
        serde_json::to_string(&s).map_err(|e| to_py(Error::Bug(e.to_string())))
    }

    /// The CLI's coefficient table (`gravity fit` without `--table`).
    fn summary(&self) -> String {
        Table::new(&self.fit, &self.inference).to_string()
    }

    /// The CLI's `--json` report, as text.
    fn json_report(&self) -> PyResult<String> {
        let report = FitReport::new(&self.fit, &self.inference, self.timings);
        serde_json::to_string(&report).map_err(|e| to_py(Error::Bug(e.to_string())))
    }
}

/// Several models side by side, as `gravity table` prints them (text,
/// markdown or latex); `lincom` gives each model's linear combinations
/// (`NAME=EXPR`, those its coefficients allow).
#[pyfunction]
#[pyo3(signature = (fits, format="text", coefstat="se", digits=None, signif=None, titles=None, lincom=None))]
fn etable(
    fits: Vec<PyRef<'_, NativeFit>>,
    format: &str,
    coefstat: &str,
    digits: Option<usize>,
    signif: Option<(f64, f64, f64)>,
    titles: Option<Vec<String>>,
    lincom: Option<Vec<String>>,
) -> PyResult<String> {
    let format = Format::parse(format).map_err(to_py)?;
    let coefstat = CoefStat::parse(coefstat).map_err(to_py)?;
    let combinations: Vec<LinearCombination> = lincom
        .unwrap_or_default()
        .iter()
        .map(|s| LinearCombination::parse(s))
        .collect::<gravity_model::Result<_>>()
        .map_err(to_py)?;
    let mut models = Vec::with_capacity(fits.len());
    for f in &fits {
        let names: Vec<&str> = f
            .inference
            .coefficients
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        let lincoms = combinations
            .iter()
            .filter(|c| c.weights.iter().all(|(n, _)| names.contains(&n.as_str())))
            .map(|c| f.inference.lincom(c))
            .collect::<gravity_model::Result<Vec<_>>>()
            .map_err(to_py)?;
        models.push(EtableModel::new(&f.fit, &f.inference).with_lincom(&lincoms));
    }
    let mut table = Etable::from_models(models).coefstat(coefstat);
    if let Some(d) = digits {
        table = table.digits(d);
    }
    if let Some((a, b, c)) = signif {
        table = table.signif([a, b, c]).map_err(to_py)?;
    }
    if let Some(t) = titles {
        table = table.titles(t);
    }
    Ok(table.render(format))
}

/// The full result of a scenario as JSON text (every pair; the CLI's
/// `--json` keeps the shocked ones). With `progress`, a count of the
/// finished draws is written to stderr as they finish.
fn run_scenario(py: Python<'_>, scenario: Scenario, progress: bool) -> PyResult<String> {
    use std::io::Write;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let total = scenario.uncertainty.draws();
    let done = AtomicUsize::new(0);
    let tick = || {
        let k = done.fetch_add(1, Ordering::Relaxed) + 1;
        if progress {
            let mut err = std::io::stderr().lock();
            // A progress line that cannot be written is not worth failing for.
            let _ = write!(err, "\rdraws {k}/{total}");
            let _ = err.flush();
        }
    };
    let cf = py
        .detach(|| simulate::run_with_progress(&scenario, &tick))
        .map_err(to_py)?;
    if progress && total > 0 {
        eprintln!();
    }
    serde_json::to_string(&cf).map_err(|e| to_py(Error::Bug(e.to_string())))
}

/// Runs the scenario file at `path` (the CLI's `gravity simulate
/// --scenario`); the result as JSON text.
#[pyfunction]
#[pyo3(signature = (path, progress=false))]
fn simulate_path(py: Python<'_>, path: PathBuf, progress: bool) -> PyResult<String> {
    let scenario = Scenario::from_toml_path(&path).map_err(to_py)?;
    run_scenario(py, scenario, progress)
}

/// Runs a scenario given as JSON text with the TOML file's keys (`shock`
/// a list of tables); relative `data` and `gdp` paths are taken from
/// `base`. The result as JSON text.
#[pyfunction]
#[pyo3(signature = (text, base, progress=false))]
fn simulate_json(py: Python<'_>, text: &str, base: PathBuf, progress: bool) -> PyResult<String> {
    let value: toml::Value = serde_json::from_str(text).map_err(|e| {
        to_py(Error::scenario(
            "(dict)",
            format!("cannot be written as TOML: {e}"),
        ))
    })?;
    let toml_text = toml::to_string(&value).map_err(|e| {
        to_py(Error::scenario(
            "(dict)",
            format!("cannot be written as TOML: {e}"),
        ))
    })?;
    let mut scenario = Scenario::from_toml_str(&toml_text).map_err(to_py)?;
    let resolve = |p: &Path| -> PathBuf {
        if p.is_relative() {
            base.join(p)
        } else {
            p.to_path_buf()
        }
    };
    scenario.data = resolve(&scenario.data);
    if let Some(g) = scenario.gdp.take() {
        scenario.gdp = Some(resolve(&g));
    }
    run_scenario(py, scenario, progress)
}

/// The engine's version.
#[pyfunction]
fn engine_version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// The extension module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(columns_needed, m)?)?;
    m.add_function(wrap_pyfunction!(formula_info, m)?)?;
    m.add_function(wrap_pyfunction!(estimate, m)?)?;
    m.add_function(wrap_pyfunction!(etable, m)?)?;
    m.add_function(wrap_pyfunction!(simulate_path, m)?)?;
    m.add_function(wrap_pyfunction!(simulate_json, m)?)?;
    m.add_function(wrap_pyfunction!(engine_version, m)?)?;
    m.add_function(wrap_pyfunction!(frame_report, m)?)?;
    m.add_class::<NativeFit>()?;
    Ok(())
}
