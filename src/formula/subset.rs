//! VALIDATE: sample restrictions (`--subset`), e.g.
//! `year >= 2000 & exporter != importer`, parsed with the formula's lexer.
//!
//! ```text
//! cond    := and ('|' and)*
//! and     := not ('&' not)*
//! not     := '!' not | '(' cond ')' | compare
//! compare := operand ('==' | '!=' | '<' | '<=' | '>' | '>=') operand
//! operand := arith | "text"
//! ```
//!
//! A comparison with a text column (or with quoted text) compares the text
//! of the values; otherwise numbers. A row where a compared value is missing
//! does not satisfy the condition (it is dropped, as fixest's `subset`).

use super::parse::{describe, lex, Parser, Part, Tok};
use super::{Expr, Term};
use crate::error::{Error, Result};

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// One side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// A numeric expression (or a plain column, compared as text when it
    /// holds text).
    Expr(Expr),
    /// Quoted text.
    Text(String),
}

/// A condition on the rows.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    /// `a op b`.
    Compare(Operand, CmpOp, Operand),
    /// `a & b`.
    And(Box<Cond>, Box<Cond>),
    /// `a | b`.
    Or(Box<Cond>, Box<Cond>),
    /// `!a`.
    Not(Box<Cond>),
}

/// A parsed `--subset` condition with its text.
#[derive(Debug, Clone, PartialEq)]
pub struct Subset {
    /// The text as given.
    pub text: String,
    /// The condition.
    pub cond: Cond,
}

impl Subset {
    /// Parses a condition.
    ///
    /// ```
    /// use gravity_model::formula::subset::Subset;
    /// let s = Subset::parse("year >= 2000 & exporter != importer")?;
    /// assert_eq!(s.columns(), ["year", "exporter", "importer"]);
    /// assert!(Subset::parse("year >").is_err());
    /// # Ok::<(), gravity_model::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Formula`](crate::ErrorKind::Formula), underlining the
    /// token that does not parse.
    pub fn parse(text: &str) -> Result<Subset> {
        let mut p = Parser {
            text,
            tokens: lex(text),
            i: 0,
        };
        if p.tokens.len() == 1 {
            let t = p.peek().clone();
            return Err(p.error(&t, "empty subset condition", None));
        }
        let cond = or(&mut p)?;
        let t = p.peek().clone();
        if t.tok != Tok::End {
            return Err(p.error(
                &t,
                format!("expected '&', '|' or the end, found {}", describe(&t.tok)),
                None,
            ));
        }
        Ok(Subset {
            text: text.to_owned(),
            cond,
        })
    }

    /// The columns the condition reads, each once, in order.
    pub fn columns(&self) -> Vec<String> {
        let mut terms: Vec<&Term> = Vec::new();
        collect(&self.cond, &mut terms);
        let mut out: Vec<String> = Vec::new();
        for t in terms {
            if !out.contains(&t.name) {
                out.push(t.name.clone());
            }
        }
        out
    }

    /// Every column reference, with its span (for errors).
    pub fn terms(&self) -> Vec<&Term> {
        let mut terms = Vec::new();
        collect(&self.cond, &mut terms);
        terms
    }
}

fn collect<'a>(c: &'a Cond, out: &mut Vec<&'a Term>) {
    match c {
        Cond::Compare(a, _, b) => {
            for o in [a, b] {
                if let Operand::Expr(e) = o {
                    e.columns(out);
                }
            }
        }
        Cond::And(a, b) | Cond::Or(a, b) => {
            collect(a, out);
            collect(b, out);
        }
        Cond::Not(a) => collect(a, out),
    }
}

fn or(p: &mut Parser) -> Result<Cond> {
    let mut c = and(p)?;
    while p.peek().tok == Tok::Pipe {
        p.bump();
        let r = and(p)?;
        c = Cond::Or(Box::new(c), Box::new(r));
    }
    Ok(c)
}

fn and(p: &mut Parser) -> Result<Cond> {
    let mut c = not(p)?;
    while p.peek().tok == Tok::And {
        p.bump();
        let r = not(p)?;
        c = Cond::And(Box::new(c), Box::new(r));
    }
    Ok(c)
}

fn not(p: &mut Parser) -> Result<Cond> {
    match p.peek().tok {
        Tok::Not => {
            p.bump();
            Ok(Cond::Not(Box::new(not(p)?)))
        }
        Tok::LParen => {
            // A parenthesised condition, or an arithmetic operand in
            // parentheses: try the condition first.
            let save = p.i;
            p.bump();
            if let Ok(c) = or(p) {
                if p.peek().tok == Tok::RParen {
                    p.bump();
                    if !matches!(p.peek().tok, Tok::Cmp(_)) {
                        return Ok(c);
                    }
                }
            }
            p.i = save;
            compare(p)
        }
        _ => compare(p),
    }
}

fn compare(p: &mut Parser) -> Result<Cond> {
    let a = operand(p)?;
    let t = p.bump();
    let op = match t.tok {
        Tok::Cmp("==") => CmpOp::Eq,
        Tok::Cmp("!=") => CmpOp::Ne,
        Tok::Cmp("<") => CmpOp::Lt,
        Tok::Cmp("<=") => CmpOp::Le,
        Tok::Cmp(">") => CmpOp::Gt,
        Tok::Cmp(">=") => CmpOp::Ge,
        Tok::Assign => {
            return Err(p.error(&t, "use '==' to compare, not '='", None));
        }
        ref other => {
            return Err(p.error(
                &t,
                format!(
                    "expected a comparison (==, !=, <, <=, >, >=), found {}",
                    describe(other)
                ),
                None,
            ))
        }
    };
    let b = operand(p)?;
    Ok(Cond::Compare(a, op, b))
}

fn operand(p: &mut Parser) -> Result<Operand> {
    if let Tok::Str(s) = &p.peek().tok {
        let s = s.clone();
        p.bump();
        return Ok(Operand::Text(s));
    }
    let t = p.peek().clone();
    if matches!(t.tok, Tok::End | Tok::And | Tok::Pipe | Tok::RParen) {
        return Err(Error::formula(
            p.text,
            t.start,
            t.len,
            format!("expected a value, found {}", describe(&t.tok)),
            None,
        ));
    }
    Ok(Operand::Expr(p.arith(Part::Subset)?))
}
