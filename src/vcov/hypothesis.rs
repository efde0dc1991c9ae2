//! Tests on the coefficients of one fit, from its [`Inference`]: linear
//! combinations (Stata's `lincom`; fixest has none, its users compute
//! `a'β` and `sqrt(a'Va)` by hand) and Wald tests of joint nullity (fixest's
//! `wald()`). Both use the inference's variance matrix, so they follow its
//! estimator and small-sample corrections.

use super::{coef_row, CoefRow, Inference};
use crate::error::{Error, ErrorKind, Result};
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};
use statrs::distribution::{ChiSquared, ContinuousCDF, FisherSnedecor};

/// A linear combination `Σ a_j β_j + c` of the coefficients, named.
///
/// Written as `NAME=EXPR` (or `EXPR` alone, then named by its text), where
/// `EXPR` is built from coefficient names, numbers, `+ - * /` and
/// parentheses, and is linear: a product needs a number on one side, a
/// division a number below. Names are as in the coefficient table; a name
/// with spaces, parentheses or operators goes between backticks
/// (`` `l(rta, 4)` ``, `` `(Intercept)` ``); `Intercept` also finds
/// `(Intercept)`.
///
/// ```
/// use gravity_model::vcov::LinearCombination;
/// let c = LinearCombination::parse("total = rta + `l(rta, 4)` + 2*rta_lag8 - x/2")?;
/// assert_eq!(c.name, "total");
/// assert_eq!(
///     c.weights,
///     vec![("rta".into(), 1.0), ("l(rta, 4)".into(), 1.0), ("rta_lag8".into(), 2.0), ("x".into(), -0.5)]
/// );
/// assert_eq!(c.constant, 0.0);
/// # Ok::<(), gravity_model::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct LinearCombination {
    /// Its name (the text before `=`, or the expression itself).
    pub name: String,
    /// The expression as written.
    pub expression: String,
    /// `(coefficient, weight)`, in order of first appearance, repeated
    /// names summed, zero weights left out.
    pub weights: Vec<(String, f64)>,
    /// The constant `c` (0 unless the expression has a number on its own).
    pub constant: f64,
}

/// A coefficient's weight in a [`Lincom`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Weight {
    /// The coefficient.
    pub coefficient: String,
    /// Its weight.
    pub weight: f64,
}

/// A linear combination with its inference: the row (estimate `a'β + c`,
/// standard error `sqrt(a'Va)`, statistic, p-value and 95% interval, with
/// the t or normal distribution of the coefficient table) and what it
/// combines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lincom {
    /// The estimate and its inference; `row.name` is the combination's name.
    #[serde(flatten)]
    pub row: CoefRow,
    /// The expression as written.
    pub expression: String,
    /// The coefficients combined and their weights.
    pub weights: Vec<Weight>,
    /// The constant added.
    pub constant: f64,
}

/// A Wald test that several coefficients are jointly zero, as fixest's
/// `wald()`: with `W = β'V⁻¹β` over the `q` coefficients,
///
/// - with t statistics ([`SmallSample::t_dist`](super::SmallSample), the
///   fixest preset), `stat = W / q` against `F(q, df2)` with
///   `df2 = nobs − nparams` ([`Inference::df_resid`]) — fixest's definition,
///   for OLS and PPML alike;
/// - with z statistics (the ppmlhdfe preset), `stat = W` against `χ²(q)`
///   (Stata's `test` after ppmlhdfe); `df2` is `None`.
///
/// (pyfixest's `wald_test` takes `df2 = G − 1` when clustered and switches to
/// χ² when not all coefficients are tested; its statistic is the same.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaldTest {
    /// The coefficients tested.
    pub coefficients: Vec<String>,
    /// The statistic (`W / q` for F, `W` for χ²).
    pub stat: f64,
    /// Its p-value.
    pub p: f64,
    /// `q`, the number of coefficients tested.
    pub df1: usize,
    /// The second degrees of freedom of the F distribution (`None` for χ²).
    pub df2: Option<f64>,
    /// `F` or `chi2`.
    pub distribution: String,
    /// The variance estimator (`iid`, `hetero`, `cluster:a,b`, `twoway`).
    pub vcov: String,
}

impl LinearCombination {
    /// Parses `NAME=EXPR` or `EXPR` (see [`LinearCombination`]).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidOption`] for an empty name or expression, a token
    /// that is neither a name, a number, an operator nor a parenthesis, an
    /// unterminated backtick, a product of two coefficients or a division by
    /// one, or an expression with no coefficient; the message shows where.
    pub fn parse(spec: &str) -> Result<LinearCombination> {
        // The first '=' outside backticks separates the name.
        let mut in_tick = false;
        let mut eq = None;
        for (k, ch) in spec.char_indices() {
            match ch {
                '`' => in_tick = !in_tick,
                '=' if !in_tick => {
                    eq = Some(k);
                    break;
                }
                _ => {}
            }
        }
        let (name, expr, offset) = match eq {
            Some(k) => (spec[..k].trim(), &spec[k + 1..], k + 1),
            None => (spec.trim(), spec, 0),
        };
        let fail = |at: usize, what: &str| -> Error {
            Error::model(
                ErrorKind::InvalidOption,
                format!(
                    "linear combination '{spec}': {what}\n  {spec}\n  {}^",
                    " ".repeat(spec[..at.min(spec.len())].chars().count())
                ),
            )
        };
        if name.is_empty() {
            return Err(fail(0, "the name before '=' is empty (write NAME=EXPR)"));
        }
        if expr.trim().is_empty() {
            return Err(fail(spec.len(), "the expression is empty"));
        }
        let tokens = tokenize(expr).map_err(|(at, what)| fail(offset + at, &what))?;
        let mut p = Parser {
            tokens: &tokens,
            pos: 0,
            end: expr.len(),
        };
        let value = p.expr().map_err(|(at, what)| fail(offset + at, &what))?;
        if p.pos < tokens.len() {
            return Err(fail(
                offset + tokens[p.pos].at,
                "expected an operator (+ - * /) or the end",
            ));
        }
        let weights: Vec<(String, f64)> = value.w.into_iter().filter(|(_, w)| *w != 0.0).collect();
        if weights.is_empty() {
            return Err(fail(offset, "the expression has no coefficient"));
        }
        Ok(LinearCombination {
            name: name.to_owned(),
            expression: expr.trim().to_owned(),
            weights,
            constant: value.c,
        })
    }

    /// The combination `Σ weights` named `name`, with no constant.
    ///
    /// ```
    /// use gravity_model::vcov::LinearCombination;
    /// let c = LinearCombination::new("total", &[("rta", 1.0), ("rta_lag4", 1.0)]);
    /// assert_eq!(c.expression, "rta + rta_lag4");
    /// ```
    pub fn new(name: &str, weights: &[(&str, f64)]) -> LinearCombination {
        let mut expression = String::new();
        for (k, (coef, w)) in weights.iter().enumerate() {
            let sign = if *w < 0.0 { "-" } else { "+" };
            if k > 0 {
                expression.push_str(&format!(" {sign} "));
            } else if *w < 0.0 {
                expression.push('-');
            }
            if w.abs() != 1.0 {
                expression.push_str(&format!("{}*", w.abs()));
            }
            expression.push_str(coef);
        }
        LinearCombination {
            name: name.to_owned(),
            expression,
            weights: weights.iter().map(|(c, w)| ((*c).to_owned(), *w)).collect(),
            constant: 0.0,
        }
    }
}

impl std::str::FromStr for LinearCombination {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        LinearCombination::parse(s)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Name(String),
    Op(char),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    at: usize,
}

fn tokenize(s: &str) -> std::result::Result<Vec<Token>, (usize, String)> {
    let b: Vec<(usize, char)> = s.char_indices().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let name_char = |c: char| c.is_alphanumeric() || matches!(c, '_' | '.' | ':');
    while i < b.len() {
        let (at, c) = b[i];
        if c.is_whitespace() {
            i += 1;
        } else if matches!(c, '+' | '-' | '*' | '/' | '(' | ')') {
            out.push(Token {
                tok: Tok::Op(c),
                at,
            });
            i += 1;
        } else if c == '`' {
            let start = i + 1;
            let mut j = start;
            while j < b.len() && b[j].1 != '`' {
                j += 1;
            }
            if j == b.len() {
                return Err((at, "unterminated backtick".to_owned()));
            }
            let name: String = b[start..j].iter().map(|(_, c)| c).collect();
            if name.trim().is_empty() {
                return Err((at, "empty name between backticks".to_owned()));
            }
            out.push(Token {
                tok: Tok::Name(name),
                at,
            });
            i = j + 1;
        } else if c.is_ascii_digit()
            || (c == '.' && b.get(i + 1).is_some_and(|(_, d)| d.is_ascii_digit()))
        {
            let mut j = i;
            while j < b.len() && (b[j].1.is_ascii_digit() || b[j].1 == '.') {
                j += 1;
            }
            // An exponent: e or E, an optional sign, digits.
            if j < b.len() && matches!(b[j].1, 'e' | 'E') {
                let mut k = j + 1;
                if k < b.len() && matches!(b[k].1, '+' | '-') {
                    k += 1;
                }
                if k < b.len() && b[k].1.is_ascii_digit() {
                    while k < b.len() && b[k].1.is_ascii_digit() {
                        k += 1;
                    }
                    j = k;
                }
            }
            if j < b.len() && name_char(b[j].1) {
                return Err((
                    b[j].0,
                    "a number followed by a name: write 2*x for a product".to_owned(),
                ));
            }
            let end = b.get(j).map_or(s.len(), |(k, _)| *k);
            let text = &s[at..end];
            let v: f64 = text
                .parse()
                .map_err(|_| (at, format!("'{text}' is not a number")))?;
            out.push(Token {
                tok: Tok::Num(v),
                at,
            });
            i = j;
        } else if name_char(c) {
            let mut j = i;
            while j < b.len() && name_char(b[j].1) {
                j += 1;
            }
            let end = b.get(j).map_or(s.len(), |(k, _)| *k);
            out.push(Token {
                tok: Tok::Name(s[at..end].to_owned()),
                at,
            });
            i = j;
        } else {
            return Err((
                at,
                format!(
                    "unexpected character '{c}' (a name with it goes between backticks: `name`)"
                ),
            ));
        }
    }
    Ok(out)
}

/// `c + Σ w_j β_j`.
#[derive(Debug, Clone, Default)]
struct Linear {
    c: f64,
    w: Vec<(String, f64)>,
}

impl Linear {
    fn is_constant(&self) -> bool {
        self.w.iter().all(|(_, w)| *w == 0.0)
    }
    fn scale(mut self, k: f64) -> Linear {
        self.c *= k;
        self.w.iter_mut().for_each(|(_, w)| *w *= k);
        self
    }
    fn add(mut self, other: Linear, sign: f64) -> Linear {
        self.c += sign * other.c;
        for (name, w) in other.w {
            match self.w.iter_mut().find(|(n, _)| *n == name) {
                Some((_, v)) => *v += sign * w,
                None => self.w.push((name, sign * w)),
            }
        }
        self
    }
}

struct Parser<'t> {
    tokens: &'t [Token],
    pos: usize,
    end: usize,
}

type ParseResult = std::result::Result<Linear, (usize, String)>;

impl Parser<'_> {
    fn peek_op(&self) -> Option<char> {
        match self.tokens.get(self.pos).map(|t| &t.tok) {
            Some(Tok::Op(c)) => Some(*c),
            _ => None,
        }
    }
    fn at(&self) -> usize {
        self.tokens.get(self.pos).map_or(self.end, |t| t.at)
    }
    fn expr(&mut self) -> ParseResult {
        let mut v = self.term()?;
        while let Some(op @ ('+' | '-')) = self.peek_op() {
            self.pos += 1;
            let rhs = self.term()?;
            v = v.add(rhs, if op == '+' { 1.0 } else { -1.0 });
        }
        Ok(v)
    }
    fn term(&mut self) -> ParseResult {
        let mut v = self.unary()?;
        while let Some(op @ ('*' | '/')) = self.peek_op() {
            let at = self.at();
            self.pos += 1;
            let rhs = self.unary()?;
            if op == '*' {
                v = if rhs.is_constant() {
                    v.scale(rhs.c)
                } else if v.is_constant() {
                    rhs.scale(v.c)
                } else {
                    return Err((at, "a product of two coefficients is not linear".to_owned()));
                };
            } else {
                if !rhs.is_constant() {
                    return Err((at, "a division by a coefficient is not linear".to_owned()));
                }
                if rhs.c == 0.0 {
                    return Err((at, "a division by zero".to_owned()));
                }
                v = v.scale(1.0 / rhs.c);
            }
        }
        Ok(v)
    }
    fn unary(&mut self) -> ParseResult {
        match self.peek_op() {
            Some('-') => {
                self.pos += 1;
                Ok(self.unary()?.scale(-1.0))
            }
            Some('+') => {
                self.pos += 1;
                self.unary()
            }
            _ => self.atom(),
        }
    }
    fn atom(&mut self) -> ParseResult {
        let at = self.at();
        match self.tokens.get(self.pos).map(|t| t.tok.clone()) {
            Some(Tok::Num(v)) => {
                self.pos += 1;
                Ok(Linear { c: v, w: vec![] })
            }
            Some(Tok::Name(n)) => {
                self.pos += 1;
                Ok(Linear {
                    c: 0.0,
                    w: vec![(n, 1.0)],
                })
            }
            Some(Tok::Op('(')) => {
                self.pos += 1;
                let v = self.expr()?;
                if self.peek_op() != Some(')') {
                    return Err((self.at(), "expected ')'".to_owned()));
                }
                self.pos += 1;
                Ok(v)
            }
            _ => Err((at, "expected a coefficient, a number or '('".to_owned())),
        }
    }
}

impl Inference {
    /// The index of coefficient `name` (`Intercept` also finds
    /// `(Intercept)`).
    fn coef_index(&self, name: &str, what: &str) -> Result<usize> {
        let find = |n: &str| self.coefficients.iter().position(|c| c.name == n);
        find(name)
            .or_else(|| (name == "Intercept").then(|| find("(Intercept)")).flatten())
            .ok_or_else(|| {
                let names: Vec<&str> = self.coefficients.iter().map(|c| c.name.as_str()).collect();
                Error::model(
                    ErrorKind::UnknownColumn,
                    format!(
                        "{what}: no coefficient '{name}' in the model (its coefficients: {}; \
                         a coefficient dropped as collinear has no estimate)",
                        if names.is_empty() {
                            "none".to_owned()
                        } else {
                            names.join(", ")
                        }
                    ),
                )
            })
    }

    /// The linear combination `a'β + c` with standard error `sqrt(a'Va)`,
    /// its statistic, p-value and 95% interval from the distribution of the
    /// coefficient table (t with [`Inference::df_t`] degrees of freedom, or
    /// the normal).
    ///
    /// ```
    /// use gravity_model::{fit, Column, Estimator, FitOptions, Formula, Frame};
    /// use gravity_model::vcov::LinearCombination;
    /// let frame = Frame::from_columns(vec![
    ///     ("y".into(), Column::Numeric(vec![1.0, 3.0, 2.0, 5.0, 4.0, 9.0, 2.0, 6.0].into())),
    ///     ("a".into(), Column::Numeric(vec![0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0].into())),
    ///     ("b".into(), Column::Numeric(vec![1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0].into())),
    /// ])?;
    /// let fitted = fit(&frame, &Formula::parse("y ~ a + b")?, Estimator::Ols, &FitOptions::default())?;
    /// let inf = fitted.summary()?;
    /// let sum = inf.lincom(&LinearCombination::parse("total = a + b")?)?;
    /// let (va, vb, vab) = (inf.vcov[(1, 1)], inf.vcov[(2, 2)], inf.vcov[(1, 2)]);
    /// assert!((sum.row.estimate - (fitted.beta[1] + fitted.beta[2])).abs() < 1e-12);
    /// assert!((sum.row.std_error - (va + vb + 2.0 * vab).sqrt()).abs() < 1e-12);
    /// # Ok::<(), gravity_model::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownColumn`] if a coefficient is not in the model.
    /// A combination whose variance is not positive is not an error: its
    /// row has NaN statistics and a `problem`.
    pub fn lincom(&self, combination: &LinearCombination) -> Result<Lincom> {
        let what = format!("linear combination '{}'", combination.name);
        let p = self.coefficients.len();
        let mut a = vec![0.0; p];
        for (name, w) in &combination.weights {
            a[self.coef_index(name, &what)?] += w;
        }
        let mut est = combination.constant;
        let mut var = 0.0;
        for j in 0..p {
            if a[j] == 0.0 {
                continue;
            }
            est += a[j] * self.coefficients[j].estimate;
            for k in 0..p {
                var += a[j] * self.vcov[(j, k)] * a[k];
            }
        }
        let mut notes = Vec::new();
        let row = coef_row(&combination.name, est, var, self.df_t, &mut notes)?;
        Ok(Lincom {
            row,
            expression: combination.expression.clone(),
            weights: combination
                .weights
                .iter()
                .map(|(c, w)| Weight {
                    coefficient: c.clone(),
                    weight: *w,
                })
                .collect(),
            constant: combination.constant,
        })
    }

    /// The Wald test that the coefficients `names` are jointly zero
    /// ([`WaldTest`] gives the definitions, fixest's).
    ///
    /// ```
    /// use gravity_model::{fit, Column, Estimator, FitOptions, Formula, Frame};
    /// let frame = Frame::from_columns(vec![
    ///     ("y".into(), Column::Numeric(vec![1.0, 3.0, 2.0, 5.0, 4.0, 9.0, 2.0, 6.0].into())),
    ///     ("a".into(), Column::Numeric(vec![0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0].into())),
    ///     ("b".into(), Column::Numeric(vec![1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0].into())),
    /// ])?;
    /// let fitted = fit(&frame, &Formula::parse("y ~ a + b")?, Estimator::Ols, &FitOptions::default())?;
    /// let inf = fitted.summary()?;
    /// let one = inf.wald(&["a"])?;
    /// // One coefficient: the F statistic is the square of its t statistic.
    /// let t = inf.coef("a").map(|c| c.statistic).unwrap_or(f64::NAN);
    /// assert!((one.stat - t * t).abs() < 1e-9 * t * t);
    /// assert_eq!((one.df1, one.df2), (1, Some(5.0)));
    /// # Ok::<(), gravity_model::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidOption`] for an empty list or a coefficient
    /// listed twice; [`ErrorKind::UnknownColumn`] for a coefficient not in
    /// the model; [`ErrorKind::NotPositiveDefinite`] if their variance
    /// matrix is not positive definite (a coefficient without a standard
    /// error, or a two-way clustered matrix that lost rank).
    pub fn wald<S: AsRef<str>>(&self, names: &[S]) -> Result<WaldTest> {
        let list: Vec<&str> = names.iter().map(|s| s.as_ref().trim()).collect();
        if list.is_empty() {
            return Err(Error::model(
                ErrorKind::InvalidOption,
                "wald: no coefficient to test".into(),
            ));
        }
        let mut idx = Vec::with_capacity(list.len());
        for name in &list {
            let j = self.coef_index(name, "wald")?;
            if idx.contains(&j) {
                return Err(Error::model(
                    ErrorKind::InvalidOption,
                    format!("wald: coefficient '{name}' is listed twice"),
                ));
            }
            idx.push(j);
        }
        let q = idx.len();
        let b =
            nalgebra::DVector::from_iterator(q, idx.iter().map(|&j| self.coefficients[j].estimate));
        let v = DMatrix::from_fn(q, q, |r, c| self.vcov[(idx[r], idx[c])]);
        let not_pd = || {
            Error::numerical(
                ErrorKind::NotPositiveDefinite,
                format!(
                    "wald: the variance matrix of {} is not positive definite",
                    list.join(", ")
                ),
            )
        };
        if v.iter().any(|x| !x.is_finite()) {
            return Err(not_pd());
        }
        let chol = nalgebra::Cholesky::new(v).ok_or_else(not_pd)?;
        let w = b.dot(&chol.solve(&b));
        let (stat, p, df2, distribution) = if self.ssc.t_dist {
            let df2 = self.df_resid;
            let stat = w / q as f64;
            let p = if df2 > 0.0 {
                // FisherSnedecor::new fails only for non-positive degrees of
                // freedom, excluded here.
                FisherSnedecor::new(q as f64, df2)
                    .map_err(|e| Error::Bug(format!("F distribution: {e}")))?
                    .sf(stat)
            } else {
                f64::NAN
            };
            (stat, p, Some(df2), "F")
        } else {
            // ChiSquared::new fails only for non-positive degrees of freedom;
            // q >= 1 here.
            let chi = ChiSquared::new(q as f64)
                .map_err(|e| Error::Bug(format!("chi-squared distribution: {e}")))?;
            (w, chi.sf(w), None, "chi2")
        };
        Ok(WaldTest {
            coefficients: idx
                .iter()
                .map(|&j| self.coefficients[j].name.clone())
                .collect(),
            stat,
            p,
            df1: q,
            df2,
            distribution: distribution.to_owned(),
            vcov: self.spec.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weights(s: &str) -> (Vec<(String, f64)>, f64) {
        let c = LinearCombination::parse(s).unwrap();
        (c.weights, c.constant)
    }

    #[test]
    fn expressions_are_linear_and_combined() {
        assert_eq!(
            weights("a + a - 2*b"),
            (vec![("a".into(), 2.0), ("b".into(), -2.0)], 0.0)
        );
        assert_eq!(
            weights("-(a - b)/4 + 1"),
            (vec![("a".into(), -0.25), ("b".into(), 0.25)], 1.0)
        );
        assert_eq!(
            weights("year::1990:ldist*3 + `l(rta, 4)` * 1e-1"),
            (
                vec![("year::1990:ldist".into(), 3.0), ("l(rta, 4)".into(), 0.1)],
                0.0
            )
        );
        assert_eq!(weights("a - a + b"), (vec![("b".into(), 1.0)], 0.0));
        let c = LinearCombination::parse("x + y").unwrap();
        assert_eq!((c.name.as_str(), c.expression.as_str()), ("x + y", "x + y"));
    }

    #[test]
    fn bad_expressions_say_where() {
        for (bad, needle) in [
            ("t=a*b", "product of two coefficients"),
            ("t=a/b", "division by a coefficient"),
            ("t=a/0", "division by zero"),
            ("t=a +", "expected a coefficient"),
            ("t=2a", "a number followed by a name"),
            ("t=(a + b", "expected ')'"),
            ("t=`a", "unterminated backtick"),
            ("t=a $ b", "unexpected character '$'"),
            ("=a", "name before '=' is empty"),
            ("t=", "expression is empty"),
            ("t=a - a", "no coefficient"),
            ("t=a b", "expected an operator"),
        ] {
            let e = LinearCombination::parse(bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidOption, "{bad}");
            assert!(e.to_string().contains(needle), "{bad}: {e}");
        }
        let e = LinearCombination::parse("t=a * b").unwrap_err().to_string();
        // The caret is under the operator.
        assert!(e.ends_with("  t=a * b\n      ^"), "{e}");
    }

    #[test]
    fn new_writes_the_expression() {
        let c = LinearCombination::new("d", &[("a", 1.0), ("b", -2.0), ("c", 0.5)]);
        assert_eq!(c.expression, "a - 2*b + 0.5*c");
        assert_eq!(
            LinearCombination::parse(&format!("d={}", c.expression)).unwrap(),
            c
        );
    }
}
