//! ENCODE: a formula's terms evaluated on a [`Frame`]: expressions
//! (`log(dist)`, `I(x^2)`), interactions (`a:b`), fixest's `i()` terms, leads
//! and lags over a panel (`l(x, 4)` with `--panel id,time`), and `--subset`
//! conditions.
//!
//! A value that is missing, or not finite after a function (`log(0)`), is
//! missing: its row leaves the sample, counted with the missing values.

use crate::data::{format_number, Column, Factor, Frame, MISSING_CODE};
use crate::error::{Error, ErrorKind, Result};
use crate::formula::subset::{CmpOp, Cond, Operand, Subset};
use crate::formula::{BinOp, Expr, Func, RegTerm, Regressor, Term};
use std::borrow::Cow;
use std::collections::HashMap;

/// The panel structure that leads and lags follow (fixest's `panel.id`):
/// the unit (a column or an interaction `a^b`) and the time (a numeric
/// column of whole numbers, e.g. the year). `l(x, k)` is the value of `x`
/// for the same unit at time `t − k` (time units, not rows).
///
/// ```
/// use gravity_model::terms::PanelSpec;
/// let p = PanelSpec::parse("exporter^importer, year")?;
/// assert_eq!((p.unit.as_str(), p.time.as_str()), ("exporter^importer", "year"));
/// # Ok::<(), gravity_model::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PanelSpec {
    /// The unit: a column or an interaction `a^b`.
    pub unit: String,
    /// The time: a numeric column of whole numbers.
    pub time: String,
}

impl PanelSpec {
    /// Parses `UNIT,TIME` (as `--panel` takes it).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidOption`] unless there are exactly two non-empty
    /// parts.
    pub fn parse(s: &str) -> Result<PanelSpec> {
        let parts: Vec<&str> = s.split(',').map(str::trim).collect();
        match parts[..] {
            [unit, time] if !unit.is_empty() && !time.is_empty() => Ok(PanelSpec {
                unit: unit.split('^').map(str::trim).collect::<Vec<_>>().join("^"),
                time: time.to_owned(),
            }),
            _ => Err(Error::model(
                ErrorKind::InvalidOption,
                format!("panel '{s}' must be UNIT,TIME, e.g. exporter^importer,year"),
            )),
        }
    }

    /// The columns it reads: the unit's factors, then the time.
    pub fn columns(&self) -> Vec<String> {
        self.unit
            .split('^')
            .map(str::to_owned)
            .chain(std::iter::once(self.time.clone()))
            .collect()
    }
}

/// Each row's place in the panel: `(unit, time) → row`.
pub(crate) struct PanelIndex {
    unit: Vec<u32>,
    time: Vec<i64>,
    rows: HashMap<(u32, i64), usize>,
}

impl PanelIndex {
    /// Indexes `frame` by `spec`.
    pub(crate) fn build(frame: &Frame, spec: &PanelSpec) -> Result<PanelIndex> {
        let unit = crate::design::encode_interaction(frame, &spec.unit, "panel")?;
        let t = crate::design::numeric(frame, &spec.time, "panel")?;
        let n = frame.nrows();
        let mut time = vec![i64::MIN; n];
        let mut rows = HashMap::with_capacity(n);
        for i in 0..n {
            let (u, v) = (unit.codes[i], t[i]);
            if u == MISSING_CODE || v.is_nan() {
                continue;
            }
            if v.fract() != 0.0 || v.abs() > 1e15 {
                return Err(Error::data(
                    frame.location(i, &spec.time),
                    format!(
                        "the panel's time '{}' must hold whole numbers, found {v}",
                        spec.time
                    ),
                ));
            }
            time[i] = v as i64;
            if let Some(j) = rows.insert((u, v as i64), i) {
                return Err(Error::Data {
                    location: frame.location(i, &spec.time),
                    message: format!(
                        "the panel ({}, {}) has two rows for the same unit and time \
                         (lines {} and {})",
                        spec.unit,
                        spec.time,
                        frame.line(j),
                        frame.line(i)
                    ),
                    hint: Some(
                        "leads and lags need one row per unit and time; choose a finer unit".into(),
                    ),
                });
            }
        }
        Ok(PanelIndex {
            unit: unit.codes,
            time,
            rows,
        })
    }

    /// `v` lagged by `k` time units (a lead for `k < 0`): missing where the
    /// unit has no row at `t − k`.
    fn lag(&self, v: &[f64], k: i64) -> Vec<f64> {
        (0..v.len())
            .map(|i| {
                let u = self.unit[i];
                if u == MISSING_CODE || self.time[i] == i64::MIN {
                    return f64::NAN;
                }
                match self.time[i]
                    .checked_sub(k)
                    .and_then(|t| self.rows.get(&(u, t)))
                {
                    Some(&j) => v[j],
                    None => f64::NAN,
                }
            })
            .collect()
    }
}

/// What evaluation needs beside the frame.
pub(crate) struct Context<'a> {
    pub frame: &'a Frame,
    pub panel: Option<&'a PanelIndex>,
    /// The formula text, for errors that underline a term.
    pub formula: &'a str,
}

impl Context<'_> {
    fn formula_error(
        &self,
        start: usize,
        len: usize,
        message: String,
        hint: Option<String>,
    ) -> Error {
        Error::formula(self.formula, start, len, message, hint)
    }
}

/// The values of a numeric expression on every row (NaN where missing or
/// not finite).
pub(crate) fn eval(ctx: &Context, e: &Expr) -> Result<Vec<f64>> {
    let n = ctx.frame.nrows();
    let finite = |mut v: Vec<f64>| {
        v.iter_mut().for_each(|x| {
            if !x.is_finite() {
                *x = f64::NAN
            }
        });
        v
    };
    Ok(match e {
        Expr::Col(t) => crate::design::numeric(ctx.frame, &t.name, "regressors")?.to_vec(),
        Expr::Num(v) => vec![*v; n],
        Expr::Neg(a) => eval(ctx, a)?.into_iter().map(|x| -x).collect(),
        Expr::Bin(op, a, b) => {
            let (a, b) = (eval(ctx, a)?, eval(ctx, b)?);
            finite(
                a.iter()
                    .zip(&b)
                    .map(|(&x, &y)| match op {
                        BinOp::Add => x + y,
                        BinOp::Sub => x - y,
                        BinOp::Mul => x * y,
                        BinOp::Div => x / y,
                        BinOp::Pow => x.powf(y),
                    })
                    .collect(),
            )
        }
        Expr::Func(f, a) => finite(
            eval(ctx, a)?
                .into_iter()
                .map(|x| match f {
                    Func::Log => x.ln(),
                    Func::Exp => x.exp(),
                    Func::Sqrt => x.sqrt(),
                    Func::Abs => x.abs(),
                })
                .collect(),
        ),
        Expr::Identity(a) => eval(ctx, a)?,
        Expr::Lag(a, k) => {
            let v = eval(ctx, a)?;
            panel(ctx, e)?.lag(&v, *k)
        }
        Expr::Diff(a, k) => {
            let v = eval(ctx, a)?;
            let lagged = panel(ctx, e)?.lag(&v, *k);
            v.iter().zip(&lagged).map(|(x, y)| x - y).collect()
        }
    })
}

fn panel<'a>(ctx: &'a Context, e: &Expr) -> Result<&'a PanelIndex> {
    ctx.panel.ok_or_else(|| {
        let mut cols = Vec::new();
        e.columns(&mut cols);
        let (start, len) = cols.first().map_or((0, 0), |t| (t.start, t.len));
        ctx.formula_error(
            start,
            len,
            format!("'{e}' needs the panel's unit and time"),
            Some("give them with --panel UNIT,TIME (FitOptions::panel), e.g. --panel exporter^importer,year".into()),
        )
    })
}

/// The levels of a factor in display order (numerically when they are all
/// numbers, else as text) with their codes.
fn sorted_levels(f: &Factor) -> Vec<(u32, &str)> {
    let mut levels: Vec<(u32, &str)> = f
        .levels
        .iter()
        .enumerate()
        .map(|(c, l)| (c as u32, l.as_str()))
        .collect();
    let numbers: Option<Vec<f64>> = levels.iter().map(|(_, l)| l.parse::<f64>().ok()).collect();
    match numbers {
        Some(nums) => {
            let mut keyed: Vec<(f64, (u32, &str))> = nums.into_iter().zip(levels).collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
            keyed.into_iter().map(|(_, l)| l).collect()
        }
        None => {
            levels.sort_by(|a, b| a.1.cmp(b.1));
            levels
        }
    }
}

/// The columns of one regressor term: `(name, values)`, one for a numeric
/// term, one per level for `i()` and factor interactions.
pub(crate) fn columns(ctx: &Context, r: &Regressor) -> Result<Vec<(String, Vec<f64>)>> {
    match &r.term {
        RegTerm::Numeric(e) => Ok(vec![(r.name(), eval(ctx, e)?)]),
        RegTerm::Interaction(parts) => interaction(ctx, parts),
        RegTerm::Factor { factor, var, refs } => {
            let f = ctx.frame.factor(&factor.name)?;
            let levels = sorted_levels(&f);
            for r in refs {
                if !levels.iter().any(|(_, l)| l == r) {
                    return Err(ctx.formula_error(
                        factor.start,
                        factor.len,
                        format!("ref = {r}: not a level of '{}'", factor.name),
                        None,
                    ));
                }
            }
            let v = match var {
                Some(e) => Some(eval(ctx, e)?),
                None => None,
            };
            let suffix = var.as_ref().map(|e| format!(":{e}")).unwrap_or_default();
            Ok(levels
                .iter()
                .filter(|(_, l)| !refs.iter().any(|r| r == l))
                .map(|&(code, level)| {
                    let values = f
                        .codes
                        .iter()
                        .enumerate()
                        .map(|(i, &c)| {
                            if c == MISSING_CODE {
                                return f64::NAN;
                            }
                            let d = if c == code { 1.0 } else { 0.0 };
                            match &v {
                                Some(v) if v[i].is_nan() => f64::NAN,
                                Some(v) => d * v[i],
                                None => d,
                            }
                        })
                        .collect();
                    (format!("{}::{level}{suffix}", factor.name), values)
                })
                .collect())
        }
    }
}

/// `a:b:…`: numeric parts multiplied; a plain column holding text makes
/// one column per category present (R's names: `aLEVEL:b`).
fn interaction(ctx: &Context, parts: &[Expr]) -> Result<Vec<(String, Vec<f64>)>> {
    let n = ctx.frame.nrows();
    // Columns so far: (name pieces, values).
    let mut out: Vec<(Vec<String>, Vec<f64>)> = vec![(Vec::new(), vec![1.0; n])];
    for p in parts {
        let factor: Option<Cow<Factor>> = match p {
            Expr::Col(t) => match ctx.frame.column(&t.name) {
                Some(Column::Factor(_)) => Some(ctx.frame.factor(&t.name)?),
                _ => None,
            },
            _ => None,
        };
        match factor {
            None => {
                let v = eval(ctx, p)?;
                for (names, vals) in &mut out {
                    names.push(p.to_string());
                    vals.iter_mut().zip(&v).for_each(|(a, b)| *a *= b);
                }
            }
            Some(f) => {
                let Expr::Col(t) = p else {
                    unreachable!("only a plain column is a factor")
                };
                let mut next = Vec::new();
                for (names, vals) in &out {
                    for &(code, level) in &sorted_levels(&f) {
                        let v: Vec<f64> = vals
                            .iter()
                            .zip(&f.codes)
                            .map(|(&a, &c)| {
                                if c == MISSING_CODE {
                                    f64::NAN
                                } else if c == code {
                                    a
                                } else {
                                    0.0 * a
                                }
                            })
                            .collect();
                        let mut names = names.clone();
                        names.push(format!("{}{level}", t.name));
                        next.push((names, v));
                    }
                }
                out = next;
            }
        }
    }
    Ok(out
        .into_iter()
        .map(|(names, v)| (names.join(":"), v))
        .collect())
}

/// The rows that satisfy `subset` (a missing compared value fails).
pub(crate) fn rows_in(ctx: &Context, subset: &Subset) -> Result<Vec<bool>> {
    cond(ctx, &subset.cond)
}

/// One side of a comparison: numbers, or text when it is quoted text or a
/// column of categories.
enum Side {
    Numbers(Vec<f64>),
    Text(Vec<Option<String>>),
    Literal(String),
}

fn side(ctx: &Context, o: &Operand) -> Result<Side> {
    Ok(match o {
        Operand::Text(s) => Side::Literal(s.clone()),
        Operand::Expr(Expr::Col(t)) if is_factor(ctx.frame, t) => {
            let f = ctx.frame.factor(&t.name)?;
            Side::Text(
                f.codes
                    .iter()
                    .map(|&c| (c != MISSING_CODE).then(|| f.levels[c as usize].clone()))
                    .collect(),
            )
        }
        Operand::Expr(e) => Side::Numbers(eval(ctx, e)?),
    })
}

fn is_factor(frame: &Frame, t: &Term) -> bool {
    matches!(frame.column(&t.name), Some(Column::Factor(_)))
}

fn cond(ctx: &Context, c: &Cond) -> Result<Vec<bool>> {
    let n = ctx.frame.nrows();
    Ok(match c {
        Cond::And(a, b) => {
            let (a, b) = (cond(ctx, a)?, cond(ctx, b)?);
            a.iter().zip(&b).map(|(x, y)| *x && *y).collect()
        }
        Cond::Or(a, b) => {
            let (a, b) = (cond(ctx, a)?, cond(ctx, b)?);
            a.iter().zip(&b).map(|(x, y)| *x || *y).collect()
        }
        Cond::Not(a) => cond(ctx, a)?.into_iter().map(|x| !x).collect(),
        Cond::Compare(a, op, b) => {
            let test = |o: std::cmp::Ordering| match op {
                CmpOp::Eq => o.is_eq(),
                CmpOp::Ne => o.is_ne(),
                CmpOp::Lt => o.is_lt(),
                CmpOp::Le => o.is_le(),
                CmpOp::Gt => o.is_gt(),
                CmpOp::Ge => o.is_ge(),
            };
            let text_at = |s: &Side, i: usize| -> Option<String> {
                match s {
                    Side::Literal(l) => Some(l.clone()),
                    Side::Text(v) => v[i].clone(),
                    Side::Numbers(v) => (!v[i].is_nan()).then(|| format_number(v[i])),
                }
            };
            match (side(ctx, a)?, side(ctx, b)?) {
                (Side::Numbers(x), Side::Numbers(y)) => x
                    .iter()
                    .zip(&y)
                    .map(|(p, q)| p.partial_cmp(q).is_some_and(test))
                    .collect(),
                (l, r) => (0..n)
                    .map(|i| match (text_at(&l, i), text_at(&r, i)) {
                        (Some(p), Some(q)) => test(p.cmp(&q)),
                        _ => false,
                    })
                    .collect(),
            }
        }
    })
}

/// The columns of one regressor term on `frame` (`(name, values)`, NaN
/// where missing): one for a numeric term, one per level for `i()` and for
/// interactions with a column of categories. `panel` is needed for leads,
/// lags and differences.
///
/// ```
/// use gravity_model::{terms, Column, Formula, Frame};
/// let frame = Frame::from_columns(vec![
///     ("y".into(), Column::Numeric(vec![1.0, 2.0, 3.0].into())),
///     ("dist".into(), Column::Numeric(vec![1.0, std::f64::consts::E, 0.0].into())),
/// ])?;
/// let f = Formula::parse("y ~ log(dist)")?;
/// let cols = terms::evaluate(&frame, &f.regressors[0], None)?;
/// assert_eq!(cols[0].0, "log(dist)");
/// assert_eq!(&cols[0].1[..2], &[0.0, 1.0]);
/// assert!(cols[0].1[2].is_nan()); // log(0) is missing
/// # Ok::<(), gravity_model::Error>(())
/// ```
///
/// # Errors
///
/// [`ErrorKind::InvalidData`] for a missing or non-numeric column or a
/// panel with two rows for a unit and time; [`ErrorKind::Formula`] for a
/// lag without a panel or a `ref` that is not a level.
pub fn evaluate(
    frame: &Frame,
    regressor: &Regressor,
    panel: Option<&PanelSpec>,
) -> Result<Vec<(String, Vec<f64>)>> {
    let index = match panel {
        Some(p) => Some(PanelIndex::build(frame, p)?),
        None => None,
    };
    let ctx = Context {
        frame,
        panel: index.as_ref(),
        formula: "",
    };
    columns(&ctx, regressor)
}
