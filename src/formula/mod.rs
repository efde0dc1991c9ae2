//! VALIDATE: fixest-style model formulas, `y ~ x1 + x2 | fe1 + fe2^fe3`.
//!
//! The grammar is fixest's (`fml` in `R/estimation.R`), restricted to what
//! the estimators use:
//!
//! | Formula                            | Meaning                                           |
//! |------------------------------------|---------------------------------------------------|
//! | `trade ~ fta + dist`               | regressors and an intercept                       |
//! | `trade ~ 0 + fta` / `trade ~ fta - 1` | no intercept                                   |
//! | `trade ~ 1`                        | intercept only                                    |
//! | `trade ~ fta \| exp + imp`         | two fixed effects (they absorb the intercept)     |
//! | `trade ~ 1 \| exp^year`            | one fixed effect per exporter-year, no regressors |
//!
//! Column names are `[A-Za-z_.][A-Za-z0-9_.]*`, or any text in backticks
//! (`` `trade value` ``). Every [`Term`] keeps its byte span in the text so
//! that errors can underline it.

pub mod expr;
mod parse;
pub mod subset;

use expr::write_name;
pub use expr::{BinOp, Expr, Func, RegTerm, Regressor, Use};

use crate::data::{ColumnKind, ColumnRequest};
use crate::error::{Error, Result};
use crate::text;
use std::fmt;
use std::str::FromStr;

/// A column name in a formula, with its byte span in the formula text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// The column name.
    pub name: String,
    /// Byte offset of the name in the formula text.
    pub start: usize,
    /// Byte length of the name.
    pub len: usize,
}

/// One fixed-effect dimension: a single factor, or an interaction `a^b^...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixedEffect {
    /// The interacted factors (one for a plain fixed effect).
    pub factors: Vec<Term>,
}

impl FixedEffect {
    /// The name as written, e.g. `exporter^year`.
    pub fn name(&self) -> String {
        self.factors
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>()
            .join("^")
    }
}

/// A multiple-estimation operator (fixest's stepwise functions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MultiKind {
    /// `sw(a, b)`: one model with `a`, one with `b`.
    Sw,
    /// `csw(a, b)`: cumulative: `a`, then `a + b`.
    Csw,
    /// `sw0(a, b)`: as `sw`, after a model with neither.
    Sw0,
    /// `csw0(a, b)`: as `csw`, after a model with neither.
    Csw0,
}

impl MultiKind {
    /// The operator's name in the formula.
    pub fn name(self) -> &'static str {
        match self {
            MultiKind::Sw => "sw",
            MultiKind::Csw => "csw",
            MultiKind::Sw0 => "sw0",
            MultiKind::Csw0 => "csw0",
        }
    }
}

/// What makes a formula several models: several outcomes `c(y1, y2)` and
/// one stepwise operator in the regressors.
#[derive(Debug, Clone, PartialEq)]
pub struct Multi {
    /// Every outcome (one unless `c()` was used), with its expression.
    pub responses: Vec<(Term, Expr)>,
    /// The stepwise operator, if any.
    pub kind: Option<MultiKind>,
    /// Its arguments, each a list of terms.
    pub alternatives: Vec<Vec<Regressor>>,
    /// Where its terms go among the other regressors.
    pub position: usize,
}

/// A parsed formula.
#[derive(Debug, Clone, PartialEq)]
pub struct Formula {
    /// The original text.
    pub text: String,
    /// The dependent variable (the first one when there are several):
    /// a column, or an expression such as `log(trade)` named as written.
    pub response: Term,
    /// The response as an expression (`Expr::Col` for a plain column).
    pub response_expr: Expr,
    /// Regressors, in order (without the stepwise ones, see [`Formula::multi`]).
    pub regressors: Vec<Regressor>,
    /// True when the model has an intercept (no fixed effects and no `0`/`-1`).
    pub intercept: bool,
    /// Fixed-effect dimensions, in order.
    pub fixed_effects: Vec<FixedEffect>,
    /// Set when the formula holds several models ([`Formula::expand`]).
    pub multi: Option<Multi>,
}

impl Formula {
    /// Parses `text`, e.g. `trade ~ fta + rta | exp^year + imp^year`.
    ///
    /// Beyond column names, the regressors take fixest's terms: `log(x)`,
    /// `exp()`, `sqrt()`, `abs()`, `I(x^2)` (with `+ - * / ^`),
    /// interactions `a:b` and `a*b` (`= a + b + a:b`), `i(f)`, `i(f, x)`,
    /// `i(f, x, ref = v)`, leads and lags `l(x, k)`, `f(x, k)`, `l(x, 0:3)`,
    /// differences `d(x)`, and one stepwise operator `sw()`, `csw()`,
    /// `sw0()`, `csw0()`; the response may be `c(y1, y2)`.
    ///
    /// ```
    /// use gravity_model::Formula;
    /// let f = Formula::parse("trade ~ fta + rta | exp^year + imp^year")?;
    /// assert_eq!(f.response.name, "trade");
    /// assert_eq!(f.regressors.len(), 2);
    /// assert_eq!(f.fixed_effects[0].name(), "exp^year");
    /// assert!(!f.intercept); // absorbed by the fixed effects
    ///
    /// let f = Formula::parse("trade ~ i(year, log(dist), ref = 1986) + l(rta, 0:2) | pair")?;
    /// let names: Vec<String> = f.regressors.iter().map(|r| r.name()).collect();
    /// assert_eq!(names, ["i(year, log(dist), ref = 1986)", "rta", "l(rta, 1)", "l(rta, 2)"]);
    ///
    /// let err = Formula::parse("trade ~ fta | exp^").unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "formula: expected a column name after '^' in the fixed effects, found end of input\n  \
    ///      trade ~ fta | exp^\n                    ^"
    /// );
    /// # Ok::<(), gravity_model::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Formula`](crate::ErrorKind::Formula), underlining the
    /// token that does not parse.
    pub fn parse(text: &str) -> Result<Formula> {
        parse::parse(text)
    }

    /// True if the formula holds several models (`c()`, `sw()`, …).
    pub fn is_multiple(&self) -> bool {
        self.multi.is_some()
    }

    /// The models of a formula, in fixest's order (outcome by outcome, then
    /// step by step); a formula of one model gives itself.
    ///
    /// ```
    /// use gravity_model::Formula;
    /// let f = Formula::parse("c(y1, y2) ~ x + csw0(a, b) | fe")?;
    /// let models: Vec<String> = f.expand().iter().map(|m| m.to_string()).collect();
    /// assert_eq!(models, [
    ///     "y1 ~ x | fe", "y1 ~ x + a | fe", "y1 ~ x + a + b | fe",
    ///     "y2 ~ x | fe", "y2 ~ x + a | fe", "y2 ~ x + a + b | fe",
    /// ]);
    /// # Ok::<(), gravity_model::Error>(())
    /// ```
    pub fn expand(&self) -> Vec<Formula> {
        let Some(m) = &self.multi else {
            return vec![self.clone()];
        };
        let steps: Vec<Vec<Regressor>> = match m.kind {
            None => vec![Vec::new()],
            Some(kind) => {
                let mut steps = Vec::new();
                if matches!(kind, MultiKind::Sw0 | MultiKind::Csw0) {
                    steps.push(Vec::new());
                }
                let mut acc: Vec<Regressor> = Vec::new();
                for alt in &m.alternatives {
                    match kind {
                        MultiKind::Sw | MultiKind::Sw0 => steps.push(alt.clone()),
                        MultiKind::Csw | MultiKind::Csw0 => {
                            acc.extend(alt.iter().cloned());
                            steps.push(acc.clone());
                        }
                    }
                }
                steps
            }
        };
        let mut out = Vec::new();
        for (response, expr) in &m.responses {
            for step in &steps {
                let mut regressors = self.regressors.clone();
                let at = m.position.min(regressors.len());
                regressors.splice(at..at, step.iter().cloned());
                let mut model = Formula {
                    text: String::new(),
                    response: response.clone(),
                    response_expr: expr.clone(),
                    regressors,
                    intercept: self.intercept,
                    fixed_effects: self.fixed_effects.clone(),
                    multi: None,
                };
                model.text = model.to_string();
                // Spans point into the original text; the model's own text
                // is its canonical form.
                out.push(model);
            }
        }
        out
    }

    /// Checks that every column the formula names is in `available`
    /// (the CSV header); errors point at the token and name the formula part.
    ///
    /// The hint suggests a near match (edit distance at most 2), or lists
    /// the available columns.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Formula`](crate::ErrorKind::Formula) naming the first
    /// variable that is not in `available`, with the closest name as a hint.
    pub fn check_columns(&self, available: &[String]) -> Result<()> {
        for (part, term, _) in self.terms() {
            if !available.contains(&term.name) {
                return Err(Error::formula(
                    &self.text,
                    term.start,
                    term.len,
                    format!("unknown column '{}' in {part}", term.name),
                    Some(text::unknown_column_hint(&term.name, available)),
                ));
            }
        }
        Ok(())
    }

    /// The columns to read from the data, each once: the response as
    /// `response_kind` ([`ColumnKind::NonNegative`] for PPML,
    /// [`ColumnKind::Numeric`] for OLS; an expression's columns as numbers),
    /// the regressors' columns as numbers (the factor of `i()` as
    /// categories, a plain part of an interaction as either), and the
    /// factors of the fixed effects as categories. A column used both as
    /// numbers and as categories is requested as numbers
    /// ([`Frame::factor`](crate::Frame::factor) converts it).
    pub fn columns(&self, response_kind: ColumnKind) -> Vec<ColumnRequest> {
        let mut out: Vec<ColumnRequest> = Vec::new();
        for (part, term, usage) in self.terms() {
            let kind = match (part, usage) {
                (parse::Part::Response, _) if self.response_is_plain(term) => response_kind,
                (_, Use::Numeric) => ColumnKind::Numeric,
                (_, Use::Either) => ColumnKind::Auto,
                (_, Use::Factor) => ColumnKind::Factor,
            };
            match out.iter_mut().find(|c| c.name == term.name) {
                None => out.push(ColumnRequest {
                    name: term.name.clone(),
                    kind,
                }),
                Some(c) => {
                    c.kind = match (c.kind, kind) {
                        (ColumnKind::NonNegative, _) | (_, ColumnKind::NonNegative) => {
                            ColumnKind::NonNegative
                        }
                        (ColumnKind::Numeric, _) | (_, ColumnKind::Numeric) => ColumnKind::Numeric,
                        (ColumnKind::Auto, _) | (_, ColumnKind::Auto) => ColumnKind::Auto,
                        _ => ColumnKind::Factor,
                    }
                }
            }
        }
        out
    }

    /// True if `term` is a response that is a plain column.
    fn response_is_plain(&self, term: &Term) -> bool {
        let plain = |e: &Expr| matches!(e, Expr::Col(t) if t.name == term.name);
        match &self.multi {
            Some(m) => m.responses.iter().any(|(_, e)| plain(e)),
            None => plain(&self.response_expr),
        }
    }

    /// True if some term takes a lag, lead or difference.
    pub fn uses_panel(&self) -> bool {
        self.all_regressors().any(|r| r.term.uses_panel())
            || self.responses().any(|(_, e)| e.uses_panel())
    }

    fn responses(&self) -> Box<dyn Iterator<Item = (&Term, &Expr)> + '_> {
        match &self.multi {
            Some(m) => Box::new(m.responses.iter().map(|(t, e)| (t, e))),
            None => Box::new(std::iter::once((&self.response, &self.response_expr))),
        }
    }

    fn all_regressors(&self) -> impl Iterator<Item = &Regressor> {
        self.regressors.iter().chain(
            self.multi
                .iter()
                .flat_map(|m| m.alternatives.iter().flatten()),
        )
    }

    /// Every column with the part it belongs to and how it is used, in
    /// formula order.
    fn terms(&self) -> Vec<(parse::Part, &Term, Use)> {
        let mut out: Vec<(parse::Part, &Term, Use)> = Vec::new();
        for (_, e) in self.responses() {
            let mut cols = Vec::new();
            e.columns(&mut cols);
            out.extend(
                cols.into_iter()
                    .map(|t| (parse::Part::Response, t, Use::Numeric)),
            );
        }
        for r in self.all_regressors() {
            out.extend(
                r.term
                    .columns()
                    .into_iter()
                    .map(|(t, u)| (parse::Part::Regressors, t, u)),
            );
        }
        for fe in &self.fixed_effects {
            out.extend(
                fe.factors
                    .iter()
                    .map(|t| (parse::Part::FixedEffects, t, Use::Factor)),
            );
        }
        out
    }
}

impl FromStr for Formula {
    type Err = Error;

    fn from_str(text: &str) -> Result<Formula> {
        Formula::parse(text)
    }
}

/// The canonical form, `y ~ x1 + x2 | a + b^c`, which parses back to the
/// same formula (up to spans and text).
impl fmt::Display for Formula {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.multi {
            Some(m) if m.responses.len() > 1 => {
                f.write_str("c(")?;
                for (k, (_, e)) in m.responses.iter().enumerate() {
                    if k > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{e}")?;
                }
                f.write_str(")")?;
            }
            _ => write!(f, "{}", self.response_expr)?,
        }
        f.write_str(" ~ ")?;
        let mut first = true;
        if !self.intercept && self.fixed_effects.is_empty() {
            f.write_str("0")?;
            first = false;
        }
        let mut sep = |f: &mut fmt::Formatter<'_>| -> fmt::Result {
            if !first {
                f.write_str(" + ")?;
            }
            first = false;
            Ok(())
        };
        let stepwise = self.multi.as_ref().and_then(|m| m.kind.map(|k| (k, m)));
        for (k, r) in self.regressors.iter().enumerate() {
            if let Some((kind, m)) = stepwise {
                if k == m.position {
                    sep(f)?;
                    write_multi(f, kind, m)?;
                }
            }
            sep(f)?;
            write!(f, "{}", r.term)?;
        }
        if let Some((kind, m)) = stepwise {
            if m.position >= self.regressors.len() {
                sep(f)?;
                write_multi(f, kind, m)?;
            }
        }
        if first {
            f.write_str("1")?;
        }
        for (i, fe) in self.fixed_effects.iter().enumerate() {
            f.write_str(if i == 0 { " | " } else { " + " })?;
            for (j, term) in fe.factors.iter().enumerate() {
                if j > 0 {
                    f.write_str("^")?;
                }
                write_name(f, &term.name)?;
            }
        }
        Ok(())
    }
}

fn write_multi(f: &mut fmt::Formatter<'_>, kind: MultiKind, m: &Multi) -> fmt::Result {
    write!(f, "{}(", kind.name())?;
    for (k, alt) in m.alternatives.iter().enumerate() {
        if k > 0 {
            f.write_str(", ")?;
        }
        for (j, r) in alt.iter().enumerate() {
            if j > 0 {
                f.write_str(" + ")?;
            }
            write!(f, "{}", r.term)?;
        }
    }
    f.write_str(")")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(terms: &[Regressor]) -> Vec<String> {
        terms.iter().map(|t| t.name()).collect()
    }

    fn fe_names(f: &Formula) -> Vec<String> {
        f.fixed_effects.iter().map(FixedEffect::name).collect()
    }

    /// The span, message and hint of a formula error.
    fn error(text: &str) -> (usize, usize, String, Option<String>) {
        match Formula::parse(text) {
            Err(Error::Formula {
                formula,
                start,
                len,
                message,
                hint,
            }) => {
                assert_eq!(formula, text);
                (start, len, message, hint)
            }
            other => panic!("expected a formula error for {text:?}, got {other:?}"),
        }
    }

    #[test]
    fn full_formula() {
        let f = Formula::parse("trade ~ fta + rta | exp^year + imp^year + exp^imp").unwrap();
        assert_eq!(f.response.name, "trade");
        assert_eq!((f.response.start, f.response.len), (0, 5));
        assert_eq!(names(&f.regressors), ["fta", "rta"]);
        assert_eq!((f.regressors[1].start, f.regressors[1].len), (14, 3));
        assert_eq!(fe_names(&f), ["exp^year", "imp^year", "exp^imp"]);
        assert_eq!(f.fixed_effects[0].factors[1].start, 24);
        assert!(!f.intercept);
        assert_eq!(f.text, "trade ~ fta + rta | exp^year + imp^year + exp^imp");
    }

    #[test]
    fn intercepts() {
        let f = Formula::parse("y ~ x1 + x2").unwrap();
        assert!(f.intercept);
        assert_eq!(names(&f.regressors), ["x1", "x2"]);
        let f = Formula::parse("y ~ 1").unwrap();
        assert!(f.intercept && f.regressors.is_empty());
        let f = Formula::parse("y ~ 1 | fe1 + fe2").unwrap();
        assert!(!f.intercept && f.regressors.is_empty());
        assert_eq!(fe_names(&f), ["fe1", "fe2"]);
        for text in ["y ~ 0 + x", "y ~ x + 0", "y ~ x - 1", "y ~ -1 + x", "y~x-1"] {
            let f = Formula::parse(text).unwrap();
            assert!(!f.intercept, "{text}");
            assert_eq!(names(&f.regressors), ["x"], "{text}");
        }
        let f = Formula::parse("y ~ 0").unwrap();
        assert!(!f.intercept && f.regressors.is_empty());
        let f = Formula::parse("y ~ 1 + x").unwrap();
        assert!(f.intercept);
    }

    #[test]
    fn whitespace_and_names() {
        let f = Formula::parse("  log.trade~x_1+.x\t|\n a ^ b ").unwrap();
        assert_eq!(f.response.name, "log.trade");
        assert_eq!(names(&f.regressors), ["x_1", ".x"]);
        assert_eq!(fe_names(&f), ["a^b"]);
        let f = Formula::parse("`trade value` ~ `2 fta` | `exp id`^year").unwrap();
        assert_eq!(f.response.name, "trade value");
        assert_eq!((f.response.start, f.response.len), (0, 13));
        assert_eq!(names(&f.regressors), ["2 fta"]);
        assert_eq!(fe_names(&f), ["exp id^year"]);
        let f = Formula::parse("handel ~ zoll_ä").unwrap();
        assert_eq!(names(&f.regressors), ["zoll_ä"]);
    }

    #[test]
    fn from_str_and_display() {
        let f: Formula = "trade~fta+rta|exp^year+imp".parse().unwrap();
        assert_eq!(f.to_string(), "trade ~ fta + rta | exp^year + imp");
        assert_eq!(Formula::parse("y ~ 1").unwrap().to_string(), "y ~ 1");
        assert_eq!(Formula::parse("y ~ 0").unwrap().to_string(), "y ~ 0");
        assert_eq!(
            Formula::parse("y ~ x - 1").unwrap().to_string(),
            "y ~ 0 + x"
        );
        assert_eq!(
            Formula::parse("y ~ 0 | a").unwrap().to_string(),
            "y ~ 1 | a"
        );
        assert_eq!(
            Formula::parse("`a b` ~ x | `c d`^e").unwrap().to_string(),
            "`a b` ~ x | `c d`^e"
        );
    }

    #[test]
    fn display_round_trips() {
        let texts = [
            "y ~ x1 + x2",
            "y ~ 1",
            "y ~ 0",
            "y ~ -1 + x",
            "y ~ 1 | fe1 + fe2",
            "trade ~ fta + rta | exp^year + imp^year + exp^imp",
            "`trade value` ~ `2x` + .z | `a b`^c^d",
            "y~x+0",
        ];
        let same = |a: &Formula, b: &Formula| {
            a.response.name == b.response.name
                && names(&a.regressors) == names(&b.regressors)
                && a.intercept == b.intercept
                && fe_names(a) == fe_names(b)
        };
        for text in texts {
            let f = Formula::parse(text).unwrap();
            let shown = f.to_string();
            let g = Formula::parse(&shown).unwrap();
            assert!(same(&f, &g), "{text} -> {shown}");
            assert_eq!(g.to_string(), shown, "display is canonical");
        }
    }

    #[test]
    fn numbers_with_signed_exponents() {
        let f = Formula::parse("I(y * 1e-12) ~ I(x / 2.5E+3) + I(x - 1e2)").unwrap();
        let nums = |e: &Expr| -> Vec<f64> {
            let mut out = Vec::new();
            fn walk(e: &Expr, out: &mut Vec<f64>) {
                match e {
                    Expr::Num(v) => out.push(*v),
                    Expr::Bin(_, a, b) => {
                        walk(a, out);
                        walk(b, out);
                    }
                    Expr::Identity(a) | Expr::Neg(a) | Expr::Func(_, a) => walk(a, out),
                    _ => {}
                }
            }
            walk(e, &mut out);
            out
        };
        assert_eq!(nums(&f.response_expr), [1e-12]);
        let RegTerm::Numeric(x) = &f.regressors[0].term else {
            panic!("{:?}", f.regressors[0].term)
        };
        assert_eq!(nums(x), [2.5e3]);
        let RegTerm::Numeric(x) = &f.regressors[1].term else {
            panic!("{:?}", f.regressors[1].term)
        };
        assert_eq!(nums(x), [100.0]);
        // A sign after an `e` with no digit is the operator, as before.
        assert!(Formula::parse("y ~ I(x * 2e - 3)").is_err());
    }

    #[test]
    fn empty_formula() {
        let (start, len, message, _) = error("");
        assert_eq!((start, len, message.as_str()), (0, 0, "empty formula"));
        let (start, _, message, _) = error("   ");
        assert_eq!((start, message.as_str()), (3, "empty formula"));
    }

    #[test]
    fn response_errors() {
        assert_eq!(
            error("trade fta"),
            (
                6,
                3,
                "missing '~' between the response and the regressors".to_owned(),
                Some("write the formula as `response ~ regressors | fixed effects`".to_owned())
            )
        );
        let (start, len, message, _) = error("trade");
        assert_eq!((start, len), (5, 0));
        assert_eq!(
            message,
            "missing '~' between the response and the regressors"
        );
        let (start, _, message, _) = error("~ x");
        assert_eq!(
            (start, message.as_str()),
            (0, "missing response before '~'")
        );
        let (start, _, message, _) = error("y + z ~ x");
        assert_eq!(start, 2);
        assert_eq!(message, "the response must be a single column, found '+'");
        let (start, _, message, hint) = error("lg(y) ~ x");
        assert_eq!(start, 0);
        assert_eq!(message, "unknown function 'lg' in the response");
        assert!(hint.unwrap().contains("log, exp"));
        let (start, _, message, _) = error("1 ~ x");
        assert_eq!(start, 0);
        assert_eq!(message, "expected a column name in the response, found '1'");
    }

    #[test]
    fn regressor_errors() {
        let (start, len, message, hint) = error("y ~ x1 [ x2");
        assert_eq!((start, len), (7, 1));
        assert_eq!(message, "unexpected character '[' in the regressors");
        assert!(hint.is_some());
        let (start, len, message, _) = error("y ~");
        assert_eq!((start, len), (3, 0));
        assert_eq!(
            message,
            "expected a column name after '~' in the regressors, found end of input"
        );
        let (start, _, message, _) = error("y ~ x +");
        assert_eq!(start, 7);
        assert_eq!(
            message,
            "expected a column name after '+' in the regressors, found end of input"
        );
        let (start, _, message, hint) = error("y ~ | fe");
        assert_eq!(start, 4);
        assert!(message.ends_with("found '|'"), "{message}");
        assert_eq!(
            hint.as_deref(),
            Some("write `y ~ 1 | fe` for a model with fixed effects only")
        );
        let (start, len, message, _) = error("y ~ x + z + x");
        assert_eq!((start, len), (12, 1));
        assert_eq!(message, "regressor 'x' appears twice in the regressors");
        let (start, _, message, _) = error("y ~ x1 x2");
        assert_eq!(start, 7);
        assert_eq!(message, "expected '+' between the regressors, found 'x2'");
        let (start, len, message, _) = error("y ~ x - z");
        assert_eq!((start, len), (8, 1));
        assert!(message.starts_with("only '-1' (no intercept) can be subtracted"));
        let (start, _, message, _) = error("y ~ a^b");
        assert_eq!(start, 5);
        assert_eq!(message, "unexpected '^' in the regressors");
        let (start, _, message, _) = error("y ~ y");
        assert_eq!(start, 4);
        assert_eq!(message, "the response 'y' is also a regressor");
        let (start, _, message, _) = error("y ~ 1 + x + 0");
        assert_eq!(start, 12);
        assert!(message.contains("both keep"));
        let (start, len, message, hint) = error("y ~ 2x");
        assert_eq!((start, len), (4, 2));
        assert_eq!(
            message,
            "expected a column name after '~' in the regressors, found '2x'"
        );
        assert!(hint.unwrap().contains("backticks"));
        let (start, len, message, _) = error("y ~ `x");
        assert_eq!((start, len), (4, 2));
        assert_eq!(message, "unterminated '`' in the regressors");
        let (_, _, message, _) = error("y ~ x ~ z");
        assert_eq!(
            message,
            "expected '+', '|' or the end in the regressors, found '~'"
        );
    }

    #[test]
    fn fixed_effect_errors() {
        let text = "trade ~ fta | exp^year + imp^";
        let (start, len, message, _) = error(text);
        assert_eq!((start, len), (29, 0));
        assert_eq!(
            message,
            "expected a column name after '^' in the fixed effects, found end of input"
        );
        let (start, _, message, _) = error("y ~ x |");
        assert_eq!(start, 7);
        assert_eq!(
            message,
            "expected a column name after '|' in the fixed effects, found end of input"
        );
        let (start, _, message, _) = error("y ~ x | a + ");
        assert_eq!(start, 12);
        assert_eq!(
            message,
            "expected a column name after '+' in the fixed effects, found end of input"
        );
        let (start, len, message, _) = error("y ~ x | a^b + c + a^b");
        assert_eq!((start, len), (18, 3));
        assert_eq!(message, "fixed effect 'a^b' appears twice");
        let (start, len, message, _) = error("y ~ x | a^b + b^a");
        assert_eq!((start, len), (14, 3));
        assert_eq!(message, "fixed effect 'b^a' is the same as 'a^b'");
        let (start, _, message, _) = error("y ~ x | a^a");
        assert_eq!(start, 10);
        assert_eq!(
            message,
            "'a' is interacted with itself in the fixed effects"
        );
        let (start, _, message, _) = error("y ~ x | a | z");
        assert_eq!(start, 10);
        assert_eq!(message, "unexpected second '|' in the fixed effects");
        let (start, _, message, hint) = error("y ~ x | a[x]");
        assert_eq!(start, 9);
        assert_eq!(message, "unexpected character '[' in the fixed effects");
        assert!(hint.unwrap().contains("varying slopes"));
        let (start, _, message, _) = error("y ~ x | a b");
        assert_eq!(start, 10);
        assert_eq!(message, "expected '+' between the fixed effects, found 'b'");
        let (_, _, message, _) = error("y ~ x | y");
        assert_eq!(message, "the response 'y' is also a fixed effect");
        let (_, _, message, _) = error("y ~ x | 0");
        assert_eq!(
            message,
            "expected a column name after '|' in the fixed effects, found '0'"
        );
    }

    #[test]
    fn rendered_errors_underline_the_token() {
        let err = Formula::parse("trade ~ fta | exp^year + imp^").unwrap_err();
        assert_eq!(
            err.to_string(),
            "formula: expected a column name after '^' in the fixed effects, found end of input\n  \
             trade ~ fta | exp^year + imp^\n  \
             \u{20}                            ^"
        );
        let err = Formula::parse("y ~ x1 [ x2").unwrap_err();
        let shown = err.to_string();
        let lines: Vec<&str> = shown.lines().collect();
        assert_eq!(
            lines[0],
            "formula: unexpected character '[' in the regressors"
        );
        assert_eq!(lines[1], "  y ~ x1 [ x2");
        assert_eq!(lines[2], "         ^");
        assert!(lines[3].starts_with("hint: "));

        // Carets count characters, not bytes.
        let err = Formula::parse("händel ~ zöll [ x").unwrap_err();
        let shown = err.to_string();
        let lines: Vec<&str> = shown.lines().collect();
        assert_eq!(lines[1], "  händel ~ zöll [ x");
        assert_eq!(lines[2], "                ^");
        let f = Formula::parse("händel ~ zölle").unwrap();
        let err = f
            .check_columns(&["händel".to_owned(), "zöll".to_owned()])
            .unwrap_err();
        let shown = err.to_string();
        let lines: Vec<&str> = shown.lines().collect();
        assert_eq!(lines[2], "           ^^^^^");
    }

    fn header(cols: &[&str]) -> Vec<String> {
        cols.iter().map(|c| c.to_string()).collect()
    }

    #[test]
    fn check_columns() {
        let available = header(&["trade", "fta", "sanction", "exp", "imp", "year"]);
        let f = Formula::parse("trade ~ fta + sanction | exp^year + imp^year").unwrap();
        assert!(f.check_columns(&available).is_ok());

        let f = Formula::parse("trade ~ ftaa + sanction | exp^year + imp^year").unwrap();
        let err = f.check_columns(&available).unwrap_err();
        assert_eq!(
            err.to_string(),
            "formula: unknown column 'ftaa' in the regressors\n  \
             trade ~ ftaa + sanction | exp^year + imp^year\n  \
             \u{20}       ^^^^\n\
             hint: did you mean 'fta'?"
        );

        let f = Formula::parse("flows ~ fta").unwrap();
        let Err(Error::Formula {
            start,
            len,
            message,
            hint,
            ..
        }) = f.check_columns(&available)
        else {
            panic!("expected a formula error")
        };
        assert_eq!((start, len), (0, 5));
        assert_eq!(message, "unknown column 'flows' in the response");
        assert_eq!(
            hint.as_deref(),
            Some("available columns: trade, fta, sanction, exp, imp, year")
        );

        let f = Formula::parse("trade ~ fta | exp^yr").unwrap();
        let Err(Error::Formula {
            start,
            message,
            hint,
            ..
        }) = f.check_columns(&available)
        else {
            panic!("expected a formula error")
        };
        assert_eq!(start, 18);
        assert_eq!(message, "unknown column 'yr' in the fixed effects");
        assert_eq!(hint.as_deref(), Some("did you mean 'year'?"));

        let many: Vec<String> = (0..12).map(|i| format!("col{i}")).collect();
        let f = Formula::parse("zzzzz ~ 1").unwrap();
        let Err(Error::Formula { hint, .. }) = f.check_columns(&many) else {
            panic!("expected a formula error")
        };
        assert_eq!(
            hint.as_deref(),
            Some("available columns: col0, col1, col2, col3, col4, col5, col6, col7 … and 4 more")
        );
    }

    #[test]
    fn columns_to_read() {
        let f = Formula::parse("trade ~ fta + year | exp^year + imp^year + exp").unwrap();
        let cols = f.columns(ColumnKind::NonNegative);
        let got: Vec<(&str, ColumnKind)> = cols.iter().map(|c| (c.name.as_str(), c.kind)).collect();
        assert_eq!(
            got,
            [
                ("trade", ColumnKind::NonNegative),
                ("fta", ColumnKind::Numeric),
                ("year", ColumnKind::Numeric),
                ("exp", ColumnKind::Factor),
                ("imp", ColumnKind::Factor),
            ]
        );
        let f = Formula::parse("y ~ x").unwrap();
        assert_eq!(f.columns(ColumnKind::Numeric)[0].kind, ColumnKind::Numeric);
    }
}
