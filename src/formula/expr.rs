//! The terms of a formula's right-hand side as a tree: numeric expressions
//! (`log(dist)`, `I(x^2)`, `l(rta, 4)`), interactions (`a:b`), and
//! fixest's `i()` factor terms. Evaluation on data is in
//! [`crate::terms`]; this module only holds the tree, its names and the
//! columns it reads.

use super::Term;
use std::fmt;

/// A numeric expression over columns.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A column.
    Col(Term),
    /// A number.
    Num(f64),
    /// `-e`.
    Neg(Box<Expr>),
    /// `a op b` (`+ - * / ^`, inside `I()` and function arguments).
    Bin(BinOp, Box<Expr>, Box<Expr>),
    /// `log(e)`, `exp(e)`, `sqrt(e)`, `abs(e)`.
    Func(Func, Box<Expr>),
    /// `I(e)`: arithmetic, named as written (`I(x^2)`).
    Identity(Box<Expr>),
    /// `l(e, k)` (`k > 0`), `f(e, -k)` (a lead, `k < 0`), over the panel's
    /// time: the value of `e` for the same panel unit `k` time units before.
    Lag(Box<Expr>, i64),
    /// `d(e, k)`: `e − l(e, k)`.
    Diff(Box<Expr>, i64),
}

/// A binary arithmetic operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `^`
    Pow,
}

/// A function of one numeric argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    /// Natural logarithm (0 and negative values give a missing value).
    Log,
    /// Exponential.
    Exp,
    /// Square root (negative values give a missing value).
    Sqrt,
    /// Absolute value.
    Abs,
}

impl Func {
    /// The function of this name, if any.
    pub fn from_name(name: &str) -> Option<Func> {
        match name {
            "log" => Some(Func::Log),
            "exp" => Some(Func::Exp),
            "sqrt" => Some(Func::Sqrt),
            "abs" => Some(Func::Abs),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Func::Log => "log",
            Func::Exp => "exp",
            Func::Sqrt => "sqrt",
            Func::Abs => "abs",
        }
    }
}

/// One regressor term, before it meets the data (an `i()` term becomes one
/// column per level then).
#[derive(Debug, Clone, PartialEq)]
pub enum RegTerm {
    /// A numeric expression: one column.
    Numeric(Expr),
    /// `a:b:…`: the product of numeric parts; a part that is a plain
    /// column holding categories makes one column per category (named
    /// `aLEVEL:b`, as R names them).
    Interaction(Vec<Expr>),
    /// fixest's `i(f)`, `i(f, x)`, `i(f, x, ref = v)`, `i(f, ref = v)`:
    /// one column per level of the factor `f` (times `x` if given), the
    /// reference levels left out; named `f::level` and `f::level:x`.
    Factor {
        /// The factor.
        factor: Term,
        /// The numeric variable interacted with it.
        var: Option<Expr>,
        /// Levels left out (as their text).
        refs: Vec<String>,
    },
}

/// A regressor as written, with its byte span in the formula.
#[derive(Debug, Clone, PartialEq)]
pub struct Regressor {
    /// The term.
    pub term: RegTerm,
    /// Byte offset in the formula text.
    pub start: usize,
    /// Byte length.
    pub len: usize,
}

impl Regressor {
    /// The coefficient name (for an `i()` term, its prefix `i(f, x)`):
    /// a plain column is its own name; expressions are written as fixest
    /// writes them, e.g. `log(dist)`, `l(rta, 4)`, `I(x^2)`, `a:b`.
    pub fn name(&self) -> String {
        match self.column() {
            Some(t) => t.name.clone(),
            None => self.term.to_string(),
        }
    }

    /// The plain column this regressor is, if it is one.
    pub fn column(&self) -> Option<&Term> {
        match &self.term {
            RegTerm::Numeric(Expr::Col(t)) => Some(t),
            _ => None,
        }
    }
}

/// How a column is used by a term, for choosing how to read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    /// As numbers.
    Numeric,
    /// As categories.
    Factor,
    /// As numbers if they are numbers, else as categories.
    Either,
}

impl Expr {
    /// Every column the expression reads, in order.
    pub fn columns<'a>(&'a self, out: &mut Vec<&'a Term>) {
        match self {
            Expr::Col(t) => out.push(t),
            Expr::Num(_) => {}
            Expr::Neg(e)
            | Expr::Func(_, e)
            | Expr::Identity(e)
            | Expr::Lag(e, _)
            | Expr::Diff(e, _) => e.columns(out),
            Expr::Bin(_, a, b) => {
                a.columns(out);
                b.columns(out);
            }
        }
    }

    /// True if the expression takes a lag, lead or difference (it needs the
    /// panel's unit and time).
    pub fn uses_panel(&self) -> bool {
        match self {
            Expr::Col(_) | Expr::Num(_) => false,
            Expr::Lag(..) | Expr::Diff(..) => true,
            Expr::Neg(e) | Expr::Func(_, e) | Expr::Identity(e) => e.uses_panel(),
            Expr::Bin(_, a, b) => a.uses_panel() || b.uses_panel(),
        }
    }

    fn precedence(&self) -> u8 {
        match self {
            Expr::Bin(BinOp::Add | BinOp::Sub, ..) => 1,
            Expr::Bin(BinOp::Mul | BinOp::Div, ..) => 2,
            Expr::Neg(_) => 3,
            Expr::Bin(BinOp::Pow, ..) => 4,
            _ => 5,
        }
    }
}

impl RegTerm {
    /// Every column the term reads, with how it is used.
    pub fn columns(&self) -> Vec<(&Term, Use)> {
        fn numeric<'a>(e: &'a Expr, out: &mut Vec<(&'a Term, Use)>) {
            let mut cols = Vec::new();
            e.columns(&mut cols);
            out.extend(cols.into_iter().map(|t| (t, Use::Numeric)));
        }
        let mut out = Vec::new();
        match self {
            RegTerm::Numeric(e) => numeric(e, &mut out),
            RegTerm::Interaction(parts) => {
                for p in parts {
                    match p {
                        Expr::Col(t) => out.push((t, Use::Either)),
                        e => numeric(e, &mut out),
                    }
                }
            }
            RegTerm::Factor { factor, var, .. } => {
                out.push((factor, Use::Factor));
                if let Some(v) = var {
                    numeric(v, &mut out);
                }
            }
        }
        out
    }

    /// True if the term needs the panel's unit and time.
    pub fn uses_panel(&self) -> bool {
        match self {
            RegTerm::Numeric(e) => e.uses_panel(),
            RegTerm::Interaction(parts) => parts.iter().any(Expr::uses_panel),
            RegTerm::Factor { var, .. } => var.as_ref().is_some_and(Expr::uses_panel),
        }
    }
}

/// Writes a column name, in backticks if it is not a plain name.
pub(super) fn write_name(f: &mut fmt::Formatter<'_>, name: &str) -> fmt::Result {
    let mut chars = name.chars();
    let plain = chars.next().is_some_and(super::parse::is_name_start)
        && chars.all(super::parse::is_name_char);
    if plain {
        f.write_str(name)
    } else {
        write!(f, "`{name}`")
    }
}

fn write_number(f: &mut fmt::Formatter<'_>, v: f64) -> fmt::Result {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        write!(f, "{}", v as i64)
    } else {
        write!(f, "{v}")
    }
}

/// Written as R's `deparse` writes it (fixest's coefficient names): spaces
/// around `+ - * /`, none around `^`, `f(a, b)` for calls.
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Col(t) => write_name(f, &t.name),
            Expr::Num(v) => write_number(f, *v),
            Expr::Neg(e) => {
                f.write_str("-")?;
                if e.precedence() < 3 {
                    write!(f, "({e})")
                } else {
                    write!(f, "{e}")
                }
            }
            Expr::Bin(op, a, b) => {
                let p = self.precedence();
                // Left-associative: a right operand of the same precedence
                // needs parentheses (a - (b - c)); `^` is right-associative.
                let (pa, pb) = match op {
                    BinOp::Pow => (a.precedence() <= p, b.precedence() < p),
                    _ => (a.precedence() < p, b.precedence() <= p),
                };
                let wrap = |f: &mut fmt::Formatter<'_>, e: &Expr, paren: bool| {
                    if paren {
                        write!(f, "({e})")
                    } else {
                        write!(f, "{e}")
                    }
                };
                wrap(f, a, pa)?;
                f.write_str(match op {
                    BinOp::Add => " + ",
                    BinOp::Sub => " - ",
                    BinOp::Mul => " * ",
                    BinOp::Div => " / ",
                    BinOp::Pow => "^",
                })?;
                wrap(f, b, pb)
            }
            Expr::Func(func, e) => write!(f, "{}({e})", func.name()),
            Expr::Identity(e) => write!(f, "I({e})"),
            Expr::Lag(e, k) if *k >= 0 => write!(f, "l({e}, {k})"),
            Expr::Lag(e, k) => write!(f, "f({e}, {})", -k),
            Expr::Diff(e, 1) => write!(f, "d({e})"),
            Expr::Diff(e, k) => write!(f, "d({e}, {k})"),
        }
    }
}

impl fmt::Display for RegTerm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegTerm::Numeric(e) => write!(f, "{e}"),
            RegTerm::Interaction(parts) => {
                for (k, p) in parts.iter().enumerate() {
                    if k > 0 {
                        f.write_str(":")?;
                    }
                    write!(f, "{p}")?;
                }
                Ok(())
            }
            RegTerm::Factor { factor, var, refs } => {
                f.write_str("i(")?;
                write_name(f, &factor.name)?;
                if let Some(v) = var {
                    write!(f, ", {v}")?;
                }
                match refs.len() {
                    0 => {}
                    1 => write!(f, ", ref = {}", quote_level(&refs[0]))?,
                    _ => {
                        f.write_str(", ref = c(")?;
                        for (k, r) in refs.iter().enumerate() {
                            if k > 0 {
                                f.write_str(", ")?;
                            }
                            f.write_str(&quote_level(r))?;
                        }
                        f.write_str(")")?;
                    }
                }
                f.write_str(")")
            }
        }
    }
}

/// A level as written in `ref = …`: numbers bare, text quoted.
fn quote_level(level: &str) -> String {
    if level.parse::<f64>().is_ok() {
        level.to_owned()
    } else {
        format!("\"{level}\"")
    }
}
