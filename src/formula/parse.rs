//! Text → [`Formula`]: a small hand-written lexer and recursive-descent
//! parser that keeps the byte span of every token, so that errors can
//! underline the offending part of the formula.
//!
//! Grammar (whitespace is allowed anywhere between tokens):
//!
//! ```text
//! formula   := lhs '~' rhs ('|' fes)?
//! lhs       := name | 'c(' name (',' name)* ')' | arith
//! rhs       := rterm (('+' rterm) | ('-' '1'))*
//! rterm     := '0' | '1' | multi | product
//! multi     := ('sw' | 'csw' | 'sw0' | 'csw0') '(' sum (',' sum)* ')'
//! sum       := product ('+' product)*
//! product   := inter ('*' inter)*           (a*b = a + b + a:b)
//! inter     := factor (':' factor)*
//! factor    := name | 'i(' name (',' arith)? (',' 'ref' '=' levels)? ')'
//!            | ('l' | 'f') '(' arith ',' int (':' int)? ')'
//!            | 'd(' arith (',' int)? ')' | func '(' arith ')' | 'I(' arith ')'
//! arith     := aterm (('+' | '-') aterm)*
//! aterm     := aunary (('*' | '/') aunary)*
//! aunary    := '-' aunary | apow
//! apow      := aatom ('^' aunary)?
//! aatom     := number | name | call | '(' arith ')'
//! func      := 'log' | 'exp' | 'sqrt' | 'abs'
//! fes       := fe ('+' fe)*
//! fe        := name ('^' name)*
//! name      := [A-Za-z_.][A-Za-z0-9_.]*  |  '`' any text but '`' '`'
//! ```
//!
//! The same lexer reads `--subset` conditions (comparisons, `&`, `|`, `!`,
//! quoted text): see [`super::subset`].

use super::expr::{BinOp, Expr, Func, RegTerm, Regressor};
use super::{FixedEffect, Formula, Multi, MultiKind, Term};
use crate::error::{Error, Result};
use std::fmt;

/// The part of the formula being read, named in error messages as fixest does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Part {
    Response,
    Regressors,
    FixedEffects,
    Subset,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Part::Response => "the response",
            Part::Regressors => "the regressors",
            Part::FixedEffects => "the fixed effects",
            Part::Subset => "the subset condition",
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    /// A column name (backticks removed).
    Name(String),
    /// Text starting with a digit: `0`, `1`, `2.5`, or a mistake like `2x`.
    Number(String),
    /// Quoted text, `"KOR"` or `'KOR'` (quotes removed).
    Str(String),
    Tilde,
    Plus,
    Minus,
    Pipe,
    Caret,
    LParen,
    RParen,
    Comma,
    Colon,
    Star,
    Slash,
    /// `=`
    Assign,
    /// `==`, `!=`, `<`, `<=`, `>`, `>=`
    Cmp(&'static str),
    /// `&` (or `&&`)
    And,
    /// `!`
    Not,
    /// A backtick with no closing backtick.
    Unterminated,
    /// A backtick-quoted name with nothing inside.
    EmptyQuoted,
    /// Any other character.
    Unknown(char),
    End,
}

#[derive(Debug, Clone)]
pub(super) struct Token {
    pub(super) tok: Tok,
    pub(super) start: usize,
    pub(super) len: usize,
}

/// True for a character that may start a plain (unquoted) column name.
pub(super) fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || c == '.'
}

/// True for a character that may continue a plain column name.
pub(super) fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '.'
}

pub(super) fn lex(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if c.is_whitespace() {
            continue;
        }
        // Consumes characters while `keep` holds; returns the end offset.
        let mut take_while = |keep: fn(char) -> bool| {
            let mut end = start + c.len_utf8();
            while let Some(&(i, d)) = chars.peek() {
                if !keep(d) {
                    break;
                }
                end = i + d.len_utf8();
                chars.next();
            }
            end
        };
        let next = text[start + c.len_utf8()..].chars().next();
        let (tok, end) = match c {
            '~' => (Tok::Tilde, start + 1),
            '+' => (Tok::Plus, start + 1),
            '-' => (Tok::Minus, start + 1),
            '|' => {
                if next == Some('|') {
                    chars.next();
                    (Tok::Pipe, start + 2)
                } else {
                    (Tok::Pipe, start + 1)
                }
            }
            '^' => (Tok::Caret, start + 1),
            '(' => (Tok::LParen, start + 1),
            ')' => (Tok::RParen, start + 1),
            ',' => (Tok::Comma, start + 1),
            ':' => (Tok::Colon, start + 1),
            '*' => (Tok::Star, start + 1),
            '/' => (Tok::Slash, start + 1),
            '&' => {
                if next == Some('&') {
                    chars.next();
                    (Tok::And, start + 2)
                } else {
                    (Tok::And, start + 1)
                }
            }
            '=' | '!' | '<' | '>' => {
                if next == Some('=') {
                    chars.next();
                    let op = match c {
                        '=' => "==",
                        '!' => "!=",
                        '<' => "<=",
                        _ => ">=",
                    };
                    (Tok::Cmp(op), start + 2)
                } else {
                    match c {
                        '=' => (Tok::Assign, start + 1),
                        '!' => (Tok::Not, start + 1),
                        '<' => (Tok::Cmp("<"), start + 1),
                        _ => (Tok::Cmp(">"), start + 1),
                    }
                }
            }
            '"' | '\'' => match text[start + 1..].find(c) {
                Some(k) => {
                    let end = start + 1 + k + 1;
                    while chars.peek().is_some_and(|&(i, _)| i < end) {
                        chars.next();
                    }
                    (Tok::Str(text[start + 1..end - 1].to_owned()), end)
                }
                None => {
                    while chars.next().is_some() {}
                    (Tok::Unknown(c), text.len())
                }
            },
            '`' => match text[start + 1..].find('`') {
                Some(0) => {
                    chars.next();
                    (Tok::EmptyQuoted, start + 2)
                }
                Some(k) => {
                    let end = start + 1 + k + 1;
                    while chars.peek().is_some_and(|&(i, _)| i < end) {
                        chars.next();
                    }
                    (Tok::Name(text[start + 1..end - 1].to_owned()), end)
                }
                None => {
                    while chars.next().is_some() {}
                    (Tok::Unterminated, text.len())
                }
            },
            c if c.is_ascii_digit() => {
                let mut end = take_while(is_name_char);
                // A signed exponent (`1e-12`, `2.5E+3`): the sign and its
                // digits belong to the number.
                let rest = &text.as_bytes()[end..];
                if matches!(text.as_bytes()[end - 1], b'e' | b'E')
                    && rest.len() >= 2
                    && matches!(rest[0], b'+' | b'-')
                    && rest[1].is_ascii_digit()
                {
                    chars.next(); // the sign
                    end += 1;
                    while let Some(&(i, d)) = chars.peek() {
                        if !d.is_ascii_digit() {
                            break;
                        }
                        end = i + 1;
                        chars.next();
                    }
                }
                (Tok::Number(text[start..end].to_owned()), end)
            }
            c if is_name_start(c) => {
                let end = take_while(is_name_char);
                (Tok::Name(text[start..end].to_owned()), end)
            }
            c => (Tok::Unknown(c), start + c.len_utf8()),
        };
        tokens.push(Token {
            tok,
            start,
            len: end - start,
        });
    }
    tokens.push(Token {
        tok: Tok::End,
        start: text.len(),
        len: 0,
    });
    tokens
}

/// How a token is named in an error message.
pub(super) fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Name(n) => format!("'{n}'"),
        Tok::Number(n) => format!("'{n}'"),
        Tok::Str(s) => format!("\"{s}\""),
        Tok::Tilde => "'~'".to_owned(),
        Tok::Plus => "'+'".to_owned(),
        Tok::Minus => "'-'".to_owned(),
        Tok::Pipe => "'|'".to_owned(),
        Tok::Caret => "'^'".to_owned(),
        Tok::LParen => "'('".to_owned(),
        Tok::RParen => "')'".to_owned(),
        Tok::Comma => "','".to_owned(),
        Tok::Colon => "':'".to_owned(),
        Tok::Star => "'*'".to_owned(),
        Tok::Slash => "'/'".to_owned(),
        Tok::Assign => "'='".to_owned(),
        Tok::Cmp(op) => format!("'{op}'"),
        Tok::And => "'&'".to_owned(),
        Tok::Not => "'!'".to_owned(),
        Tok::Unterminated => "an unterminated '`'".to_owned(),
        Tok::EmptyQuoted => "an empty name '``'".to_owned(),
        Tok::Unknown(c) => format!("'{c}'"),
        Tok::End => "end of input".to_owned(),
    }
}

/// The functions a regressor term may call, for the hint of an unknown one.
const FUNCTIONS: &str = "log, exp, sqrt, abs, I, i, l, f, d, sw, csw, sw0, csw0";

pub(super) struct Parser<'a> {
    pub(super) text: &'a str,
    pub(super) tokens: Vec<Token>,
    pub(super) i: usize,
}

/// Parses `text` into a [`Formula`].
pub(super) fn parse(text: &str) -> Result<Formula> {
    let tokens = lex(text);
    let mut parser = Parser { text, tokens, i: 0 };
    parser.formula()
}

/// A multiple-estimation operator met in the regressors, before it is
/// stored: its kind, its alternatives and its span.
struct MultiAt {
    kind: MultiKind,
    alternatives: Vec<Vec<Regressor>>,
    token: Token,
}

impl Parser<'_> {
    pub(super) fn peek(&self) -> &Token {
        // `lex` always ends the list with `Tok::End`, and `bump` never moves
        // past it, so the index is in bounds.
        &self.tokens[self.i]
    }

    /// The token after the next one (`End` at the end).
    fn peek2(&self) -> &Tok {
        let j = (self.i + 1).min(self.tokens.len() - 1);
        &self.tokens[j].tok
    }

    pub(super) fn bump(&mut self) -> Token {
        let token = self.tokens[self.i].clone();
        if self.i + 1 < self.tokens.len() {
            self.i += 1;
        }
        token
    }

    pub(super) fn error(
        &self,
        token: &Token,
        message: impl Into<String>,
        hint: Option<&str>,
    ) -> Error {
        Error::formula(
            self.text,
            token.start,
            token.len,
            message,
            hint.map(str::to_owned),
        )
    }

    /// An error spanning from byte `start` to the end of the last token read.
    fn error_from(&self, start: usize, message: impl Into<String>) -> Error {
        let end = self.last_end();
        Error::formula(self.text, start, end.saturating_sub(start), message, None)
    }

    /// The end of the last token consumed.
    fn last_end(&self) -> usize {
        if self.i == 0 {
            return 0;
        }
        let t = &self.tokens[self.i - 1];
        t.start + t.len
    }

    /// The error for a token that cannot appear here; `expected` says what could.
    pub(super) fn unexpected(&self, token: &Token, part: Part, expected: &str) -> Error {
        match &token.tok {
            Tok::Unknown(c) => {
                let hint = match c {
                    '[' | ']' => Some("varying slopes (fe[x]) are not supported"),
                    '"' | '\'' => Some("close the quoted text with a second quote"),
                    _ => None,
                };
                self.error(token, format!("unexpected character '{c}' in {part}"), hint)
            }
            Tok::Unterminated => self.error(
                token,
                format!("unterminated '`' in {part}"),
                Some("close the quoted column name with a second '`'"),
            ),
            Tok::EmptyQuoted => {
                self.error(token, format!("empty column name '``' in {part}"), None)
            }
            Tok::Number(n) if n != "0" && n != "1" => self.error(
                token,
                format!("{expected} in {part}, found '{n}'"),
                Some("quote a column name that starts with a digit in backticks, e.g. `2x`"),
            ),
            Tok::Comma => self.error(
                token,
                format!("{expected} in {part}, found ','"),
                Some("separate terms with '+'"),
            ),
            other => self.error(
                token,
                format!("{expected} in {part}, found {}", describe(other)),
                None,
            ),
        }
    }

    fn term(token: &Token, name: String) -> Term {
        Term {
            name,
            start: token.start,
            len: token.len,
        }
    }

    /// Expects `tok`; else an error naming what was found.
    fn expect_token(&mut self, tok: Tok, what: &str, part: Part) -> Result<Token> {
        let token = self.bump();
        if token.tok == tok {
            Ok(token)
        } else {
            Err(self.unexpected(&token, part, &format!("expected {what}")))
        }
    }

    fn formula(&mut self) -> Result<Formula> {
        if self.tokens.len() == 1 {
            let token = self.peek().clone();
            return Err(self.error(
                &token,
                "empty formula",
                Some("write a formula like `trade ~ fta | exporter^year + importer^year`"),
            ));
        }

        // The response(s).
        let (responses, multi_response) = self.lhs()?;
        let response = responses[0].0.clone();
        let response_expr = responses[0].1.clone();
        let token = self.bump();
        match &token.tok {
            Tok::Tilde => {}
            Tok::Name(_) | Tok::End => {
                return Err(self.error(
                    &token,
                    "missing '~' between the response and the regressors",
                    Some("write the formula as `response ~ regressors | fixed effects`"),
                ))
            }
            Tok::Plus => {
                return Err(self.error(
                    &token,
                    "the response must be a single column, found '+'",
                    Some("several outcomes are written c(y1, y2)"),
                ))
            }
            _ => {
                return Err(self.unexpected(
                    &token,
                    Part::Response,
                    "expected '~' after the response",
                ))
            }
        }

        // The regressors.
        let mut regressors: Vec<Regressor> = Vec::new();
        let mut multi: Option<MultiAt> = None;
        let mut multi_at = 0;
        let mut one: Option<Token> = None;
        let mut zero: Option<Token> = None;
        let mut after = "'~'";
        'terms: loop {
            let token = self.peek().clone();
            match &token.tok {
                Tok::Number(n) if n == "1" => {
                    self.bump();
                    one = Some(token.clone());
                }
                Tok::Number(n) if n == "0" => {
                    self.bump();
                    zero = Some(token.clone());
                }
                Tok::Minus => {
                    self.bump();
                    self.minus_one(&mut zero)?;
                }
                Tok::Pipe if after == "'~'" => {
                    return Err(self.error(
                        &token,
                        "expected a column name, '0' or '1' after '~' in the regressors, found '|'",
                        Some("write `y ~ 1 | fe` for a model with fixed effects only"),
                    ))
                }
                Tok::Name(n)
                    if matches!(n.as_str(), "sw" | "csw" | "sw0" | "csw0")
                        && *self.peek2() == Tok::LParen =>
                {
                    let m = self.multi()?;
                    if let Some(previous) = &multi {
                        return Err(self.error(
                            &m.token,
                            format!(
                                "only one multiple-estimation operator is supported; '{}' is already used",
                                previous.kind.name()
                            ),
                            None,
                        ));
                    }
                    multi_at = regressors.len();
                    multi = Some(m);
                }
                Tok::Name(_) | Tok::LParen => {
                    for r in self.product()? {
                        self.add_regressor(&mut regressors, r, &response)?;
                    }
                }
                _ => {
                    self.bump();
                    return Err(self.unexpected(
                        &token,
                        Part::Regressors,
                        &format!("expected a column name after {after}"),
                    ));
                }
            }
            // What follows a term.
            loop {
                match &self.peek().tok {
                    Tok::Plus => {
                        self.bump();
                        after = "'+'";
                        continue 'terms;
                    }
                    Tok::Minus => {
                        self.bump();
                        self.minus_one(&mut zero)?;
                    }
                    Tok::Pipe | Tok::End => break 'terms,
                    Tok::Name(_) | Tok::Number(_) => {
                        let token = self.peek().clone();
                        return Err(self.error(
                            &token,
                            format!(
                                "expected '+' between the regressors, found {}",
                                describe(&token.tok)
                            ),
                            None,
                        ));
                    }
                    Tok::Caret => {
                        let token = self.peek().clone();
                        return Err(self.error(
                            &token,
                            "unexpected '^' in the regressors",
                            Some("'^' interacts fixed effects, which go after '|'; interact regressors with ':' or '*'"),
                        ));
                    }
                    _ => {
                        let token = self.peek().clone();
                        return Err(self.unexpected(
                            &token,
                            Part::Regressors,
                            "expected '+', '|' or the end",
                        ));
                    }
                }
            }
        }
        if let (Some(one), Some(zero)) = (&one, &zero) {
            let later = if one.start > zero.start { one } else { zero };
            return Err(self.error(
                later,
                "the regressors both keep ('1') and remove ('0' or '-1') the intercept",
                None,
            ));
        }
        if let Some(m) = &multi {
            for alt in &m.alternatives {
                for r in alt {
                    if let Some(dup) = regressors.iter().find(|q| q.name() == r.name()) {
                        return Err(Error::formula(
                            self.text,
                            r.start,
                            r.len,
                            format!(
                                "regressor '{}' is both in '{}' and outside it",
                                dup.name(),
                                m.kind.name()
                            ),
                            None,
                        ));
                    }
                }
            }
        }

        // The fixed effects.
        let mut fixed_effects: Vec<FixedEffect> = Vec::new();
        if self.peek().tok == Tok::Pipe {
            self.bump();
            let mut after = "'|'";
            loop {
                let fe = self.fixed_effect(after, &response)?;
                let mut key: Vec<&str> = fe.factors.iter().map(|t| t.name.as_str()).collect();
                key.sort_unstable();
                if let Some(previous) = fixed_effects.iter().find(|f| {
                    let mut other: Vec<&str> = f.factors.iter().map(|t| t.name.as_str()).collect();
                    other.sort_unstable();
                    other == key
                }) {
                    let (start, end) = span(&fe);
                    let message = if previous.name() == fe.name() {
                        format!("fixed effect '{}' appears twice", fe.name())
                    } else {
                        format!(
                            "fixed effect '{}' is the same as '{}'",
                            fe.name(),
                            previous.name()
                        )
                    };
                    return Err(Error::formula(self.text, start, end - start, message, None));
                }
                fixed_effects.push(fe);
                let token = self.bump();
                match &token.tok {
                    Tok::Plus => after = "'+'",
                    Tok::End => break,
                    Tok::Pipe => {
                        return Err(self.error(
                            &token,
                            "unexpected second '|' in the fixed effects",
                            Some("a third formula part (instrumental variables) is not supported"),
                        ))
                    }
                    Tok::Name(_) | Tok::Number(_) => {
                        return Err(self.error(
                            &token,
                            format!(
                                "expected '+' between the fixed effects, found {}",
                                describe(&token.tok)
                            ),
                            None,
                        ))
                    }
                    Tok::Unknown('[') => {
                        return Err(self.error(
                            &token,
                            "unexpected character '[' in the fixed effects",
                            Some("varying slopes (fe[x]) are not supported"),
                        ))
                    }
                    _ => {
                        return Err(self.unexpected(
                            &token,
                            Part::FixedEffects,
                            "expected '+', '^' or the end",
                        ))
                    }
                }
            }
        }

        let intercept = fixed_effects.is_empty() && zero.is_none();
        let multi = if multi.is_some() || multi_response {
            Some(Multi {
                responses,
                kind: multi.as_ref().map(|m| m.kind),
                alternatives: multi.map(|m| m.alternatives).unwrap_or_default(),
                position: multi_at,
            })
        } else {
            None
        };
        Ok(Formula {
            text: self.text.to_owned(),
            response,
            response_expr,
            regressors,
            intercept,
            fixed_effects,
            multi,
        })
    }

    /// The response: a name, `c(y1, y2, …)`, or an expression such as
    /// `log(trade)`. Returns the responses and whether `c()` was used.
    fn lhs(&mut self) -> Result<(Vec<(Term, Expr)>, bool)> {
        let token = self.peek().clone();
        match &token.tok {
            Tok::Name(n) if n == "c" && *self.peek2() == Tok::LParen => {
                self.bump();
                self.bump();
                let mut out: Vec<(Term, Expr)> = Vec::new();
                loop {
                    let start = self.peek().start;
                    let e = self.arith(Part::Response)?;
                    let t = Term {
                        name: e.to_string(),
                        start,
                        len: self.last_end() - start,
                    };
                    if out.iter().any(|(o, _)| o.name == t.name) {
                        return Err(self.error_from(
                            start,
                            format!("outcome '{}' appears twice in c()", t.name),
                        ));
                    }
                    out.push((t, e));
                    let token = self.bump();
                    match token.tok {
                        Tok::Comma => continue,
                        Tok::RParen => break,
                        _ => {
                            return Err(self.unexpected(
                                &token,
                                Part::Response,
                                "expected ',' or ')' in c()",
                            ))
                        }
                    }
                }
                Ok((out, true))
            }
            Tok::Name(_) if *self.peek2() != Tok::LParen => {
                self.bump();
                let Tok::Name(n) = &token.tok else {
                    unreachable!("matched a name above")
                };
                let t = Self::term(&token, n.clone());
                Ok((vec![(t.clone(), Expr::Col(t))], false))
            }
            Tok::Name(_) | Tok::LParen => {
                let start = token.start;
                let e = self.arith(Part::Response)?;
                let t = Term {
                    name: e.to_string(),
                    start,
                    len: self.last_end() - start,
                };
                Ok((vec![(t, e)], false))
            }
            Tok::Tilde => Err(self.error(
                &token,
                "missing response before '~'",
                Some("write the dependent variable first, e.g. `trade ~ fta`"),
            )),
            _ => {
                self.bump();
                Err(self.unexpected(&token, Part::Response, "expected a column name"))
            }
        }
    }

    /// Adds `r`, refusing the response and duplicates.
    fn add_regressor(
        &self,
        regressors: &mut Vec<Regressor>,
        r: Regressor,
        response: &Term,
    ) -> Result<()> {
        let name = r.name();
        if r.column().is_some_and(|t| t.name == response.name) {
            return Err(Error::formula(
                self.text,
                r.start,
                r.len,
                format!("the response '{}' is also a regressor", response.name),
                None,
            ));
        }
        if regressors.iter().any(|q| q.name() == name) {
            return Err(Error::formula(
                self.text,
                r.start,
                r.len,
                format!("regressor '{name}' appears twice in the regressors"),
                None,
            ));
        }
        regressors.push(r);
        Ok(())
    }

    /// `sw(…)`, `csw(…)`, `sw0(…)`, `csw0(…)`.
    fn multi(&mut self) -> Result<MultiAt> {
        let token = self.bump();
        let kind = match &token.tok {
            Tok::Name(n) if n == "sw" => MultiKind::Sw,
            Tok::Name(n) if n == "csw" => MultiKind::Csw,
            Tok::Name(n) if n == "sw0" => MultiKind::Sw0,
            _ => MultiKind::Csw0,
        };
        self.bump(); // '('
        let mut alternatives: Vec<Vec<Regressor>> = Vec::new();
        loop {
            let mut alt: Vec<Regressor> = Vec::new();
            loop {
                for r in self.product()? {
                    let name = r.name();
                    if alternatives
                        .iter()
                        .flatten()
                        .chain(&alt)
                        .any(|q| q.name() == name)
                    {
                        return Err(Error::formula(
                            self.text,
                            r.start,
                            r.len,
                            format!("regressor '{name}' appears twice in '{}'", kind.name()),
                            None,
                        ));
                    }
                    alt.push(r);
                }
                if self.peek().tok == Tok::Plus {
                    self.bump();
                } else {
                    break;
                }
            }
            alternatives.push(alt);
            let t = self.bump();
            match t.tok {
                Tok::Comma => continue,
                Tok::RParen => break,
                _ => {
                    return Err(self.unexpected(
                        &t,
                        Part::Regressors,
                        &format!("expected ',', '+' or ')' in {}()", kind.name()),
                    ))
                }
            }
        }
        Ok(MultiAt {
            kind,
            alternatives,
            token,
        })
    }

    /// `inter ('*' inter)*`, expanded: `a*b` is `a + b + a:b` (every
    /// non-empty subset, smaller first, in order, as R expands it).
    fn product(&mut self) -> Result<Vec<Regressor>> {
        let first = self.inter()?;
        if self.peek().tok != Tok::Star {
            return Ok(first);
        }
        let mut groups = vec![first];
        while self.peek().tok == Tok::Star {
            self.bump();
            groups.push(self.inter()?);
        }
        // Each group must be one term (a lag range or i() cannot be crossed).
        let mut singles: Vec<Regressor> = Vec::with_capacity(groups.len());
        for g in groups {
            let mut g = g.into_iter();
            match (g.next(), g.next()) {
                (Some(r), None) if !matches!(r.term, RegTerm::Factor { .. }) => singles.push(r),
                (Some(r), _) => {
                    return Err(Error::formula(
                        self.text,
                        r.start,
                        r.len,
                        "this term cannot be crossed with '*'",
                        Some("write i(f, x) for a factor times a variable".to_owned()),
                    ))
                }
                (None, _) => unreachable!("inter returns at least one term"),
            }
        }
        let m = singles.len();
        let mut subsets: Vec<Vec<usize>> = (1u32..(1 << m))
            .map(|mask| (0..m).filter(|b| mask & (1 << b) != 0).collect())
            .collect();
        subsets.sort_by_key(|s| s.len());
        Ok(subsets
            .into_iter()
            .map(|s| {
                let parts: Vec<Expr> = s.iter().flat_map(|&k| parts_of(&singles[k])).collect();
                let start = singles[s[0]].start;
                let last = &singles[s[s.len() - 1]];
                Regressor {
                    term: if parts.len() == 1 {
                        RegTerm::Numeric(parts.into_iter().next().unwrap_or(Expr::Num(0.0)))
                    } else {
                        RegTerm::Interaction(parts)
                    },
                    start,
                    len: last.start + last.len - start,
                }
            })
            .collect())
    }

    /// `factor (':' factor)*`: one term, or several for a lag range.
    fn inter(&mut self) -> Result<Vec<Regressor>> {
        let start = self.peek().start;
        let first = self.factor()?;
        if self.peek().tok != Tok::Colon {
            return Ok(first);
        }
        let mut parts: Vec<Expr> = Vec::new();
        let mut push = |p: &Parser, rs: Vec<Regressor>| -> Result<()> {
            let mut it = rs.into_iter();
            match (it.next(), it.next()) {
                (Some(r), None) => match r.term {
                    RegTerm::Numeric(e) => {
                        parts.push(e);
                        Ok(())
                    }
                    RegTerm::Interaction(es) => {
                        parts.extend(es);
                        Ok(())
                    }
                    RegTerm::Factor { .. } => Err(Error::formula(
                        p.text,
                        r.start,
                        r.len,
                        "i() cannot be interacted with ':'",
                        Some("write i(f, x) for a factor times a variable".to_owned()),
                    )),
                },
                (Some(r), Some(_)) => Err(Error::formula(
                    p.text,
                    r.start,
                    r.len,
                    "a range of lags cannot be interacted with ':'",
                    Some("interact one lag at a time, e.g. l(x, 1):z".to_owned()),
                )),
                (None, _) => unreachable!("factor returns at least one term"),
            }
        };
        push(self, first)?;
        while self.peek().tok == Tok::Colon {
            self.bump();
            let f = self.factor()?;
            push(self, f)?;
        }
        Ok(vec![Regressor {
            term: RegTerm::Interaction(parts),
            start,
            len: self.last_end() - start,
        }])
    }

    /// One factor of a regressor term.
    fn factor(&mut self) -> Result<Vec<Regressor>> {
        let token = self.peek().clone();
        let start = token.start;
        let one = |p: &Parser, term: RegTerm| Regressor {
            term,
            start,
            len: p.last_end() - start,
        };
        match &token.tok {
            Tok::Name(n) if *self.peek2() == Tok::LParen => match n.as_str() {
                "i" => {
                    self.bump();
                    self.bump();
                    let t = self.factor_term()?;
                    Ok(vec![one(self, t)])
                }
                "l" | "f" => {
                    self.bump();
                    self.bump();
                    let e = self.arith(Part::Regressors)?;
                    self.expect_token(Tok::Comma, "',' and the lag", Part::Regressors)?;
                    let (a, b) = self.int_range()?;
                    self.expect_token(Tok::RParen, "')'", Part::Regressors)?;
                    let sign = if n == "l" { 1 } else { -1 };
                    let end = self.last_end();
                    Ok((a..=b)
                        .map(|k| Regressor {
                            term: RegTerm::Numeric(if k == 0 {
                                e.clone()
                            } else {
                                Expr::Lag(Box::new(e.clone()), sign * k)
                            }),
                            start,
                            len: end - start,
                        })
                        .collect())
                }
                "sw" | "csw" | "sw0" | "csw0" => Err(self.error(
                    &token,
                    format!("'{n}()' must stand alone in the regressors, not inside a term"),
                    None,
                )),
                "c" => Err(self.error(
                    &token,
                    "c() lists several outcomes, on the left of '~'",
                    None,
                )),
                _ => {
                    let e = self.aatom(Part::Regressors)?;
                    let e = self.apow_rest(e, Part::Regressors)?;
                    Ok(vec![one(self, RegTerm::Numeric(e))])
                }
            },
            Tok::Name(n) => {
                self.bump();
                Ok(vec![one(
                    self,
                    RegTerm::Numeric(Expr::Col(Self::term(&token, n.clone()))),
                )])
            }
            Tok::LParen => {
                let e = self.aatom(Part::Regressors)?;
                Ok(vec![one(self, RegTerm::Numeric(e))])
            }
            _ => {
                self.bump();
                Err(self.unexpected(&token, Part::Regressors, "expected a column name"))
            }
        }
    }

    /// After `i(`: `f`, `, x`, `, ref = v`, `)`.
    fn factor_term(&mut self) -> Result<RegTerm> {
        let token = self.bump();
        let Tok::Name(n) = &token.tok else {
            return Err(self.unexpected(
                &token,
                Part::Regressors,
                "expected the factor's column name in i()",
            ));
        };
        let factor = Self::term(&token, n.clone());
        let mut var = None;
        let mut refs = Vec::new();
        loop {
            let t = self.bump();
            match t.tok {
                Tok::RParen => break,
                Tok::Comma => {}
                _ => {
                    return Err(self.unexpected(&t, Part::Regressors, "expected ',' or ')' in i()"))
                }
            }
            let is_ref = matches!(&self.peek().tok, Tok::Name(n) if n == "ref")
                && *self.peek2() == Tok::Assign;
            if is_ref {
                self.bump();
                self.bump();
                refs = self.levels()?;
            } else if var.is_none() && refs.is_empty() {
                var = Some(self.arith(Part::Regressors)?);
            } else {
                let t = self.peek().clone();
                return Err(self.error(
                    &t,
                    "i() takes a factor, a variable and ref = …",
                    Some("e.g. i(year, ldist, ref = 1986)"),
                ));
            }
        }
        Ok(RegTerm::Factor { factor, var, refs })
    }

    /// The levels of `ref =`: one value or `c(v1, v2, …)`.
    fn levels(&mut self) -> Result<Vec<String>> {
        let many =
            matches!(&self.peek().tok, Tok::Name(n) if n == "c") && *self.peek2() == Tok::LParen;
        if !many {
            return Ok(vec![self.level()?]);
        }
        self.bump();
        self.bump();
        let mut out = Vec::new();
        loop {
            out.push(self.level()?);
            let t = self.bump();
            match t.tok {
                Tok::Comma => continue,
                Tok::RParen => return Ok(out),
                _ => return Err(self.unexpected(&t, Part::Regressors, "expected ',' or ')'")),
            }
        }
    }

    /// One level: a number (possibly negative), quoted text or a bare name.
    fn level(&mut self) -> Result<String> {
        let t = self.bump();
        match &t.tok {
            Tok::Number(n) => Ok(normal_number(n)),
            Tok::Minus => {
                let t2 = self.bump();
                match &t2.tok {
                    Tok::Number(n) => Ok(format!("-{}", normal_number(n))),
                    _ => Err(self.unexpected(&t2, Part::Regressors, "expected a number")),
                }
            }
            Tok::Str(s) | Tok::Name(s) => Ok(s.clone()),
            _ => Err(self.unexpected(&t, Part::Regressors, "expected a level after 'ref ='")),
        }
    }

    /// An integer, or a range `a:b` (each possibly negative), for lags.
    fn int_range(&mut self) -> Result<(i64, i64)> {
        let a = self.int()?;
        if self.peek().tok == Tok::Colon {
            self.bump();
            let b = self.int()?;
            if b < a {
                let t = self.tokens[self.i - 1].clone();
                return Err(self.error(&t, format!("the range {a}:{b} is empty"), None));
            }
            return Ok((a, b));
        }
        Ok((a, a))
    }

    fn int(&mut self) -> Result<i64> {
        let t = self.bump();
        let (neg, t) = if t.tok == Tok::Minus {
            (true, self.bump())
        } else {
            (false, t)
        };
        match &t.tok {
            Tok::Number(n) => match n.parse::<i64>() {
                Ok(v) if v <= 1_000_000 => Ok(if neg { -v } else { v }),
                _ => Err(self.error(&t, format!("expected a whole number, found '{n}'"), None)),
            },
            _ => Err(self.unexpected(&t, Part::Regressors, "expected a whole number")),
        }
    }

    /// `aterm (('+' | '-') aterm)*`.
    pub(super) fn arith(&mut self, part: Part) -> Result<Expr> {
        let mut e = self.aterm(part)?;
        loop {
            let op = match self.peek().tok {
                Tok::Plus => BinOp::Add,
                Tok::Minus => BinOp::Sub,
                _ => return Ok(e),
            };
            self.bump();
            let r = self.aterm(part)?;
            e = Expr::Bin(op, Box::new(e), Box::new(r));
        }
    }

    fn aterm(&mut self, part: Part) -> Result<Expr> {
        let mut e = self.aunary(part)?;
        loop {
            let op = match self.peek().tok {
                Tok::Star => BinOp::Mul,
                Tok::Slash => BinOp::Div,
                _ => return Ok(e),
            };
            self.bump();
            let r = self.aunary(part)?;
            e = Expr::Bin(op, Box::new(e), Box::new(r));
        }
    }

    fn aunary(&mut self, part: Part) -> Result<Expr> {
        if self.peek().tok == Tok::Minus {
            self.bump();
            let e = self.aunary(part)?;
            return Ok(match e {
                Expr::Num(v) => Expr::Num(-v),
                e => Expr::Neg(Box::new(e)),
            });
        }
        let a = self.aatom(part)?;
        self.apow_rest(a, part)
    }

    /// `('^' aunary)?` after an atom.
    fn apow_rest(&mut self, a: Expr, part: Part) -> Result<Expr> {
        if self.peek().tok == Tok::Caret {
            self.bump();
            let b = self.aunary(part)?;
            return Ok(Expr::Bin(BinOp::Pow, Box::new(a), Box::new(b)));
        }
        Ok(a)
    }

    fn aatom(&mut self, part: Part) -> Result<Expr> {
        let token = self.bump();
        match &token.tok {
            Tok::Number(n) => match n.parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(Expr::Num(v)),
                _ => Err(self.unexpected(&token, part, "expected a number or a column name")),
            },
            Tok::LParen => {
                let e = self.arith(part)?;
                self.expect_token(Tok::RParen, "')'", part)?;
                Ok(e)
            }
            Tok::Name(n) if self.peek().tok == Tok::LParen => {
                let n = n.clone();
                self.bump();
                let e = match n.as_str() {
                    "I" => Expr::Identity(Box::new(self.arith(part)?)),
                    "l" | "f" => {
                        let e = self.arith(part)?;
                        self.expect_token(Tok::Comma, "',' and the lag", part)?;
                        let k = self.int()?;
                        let k = if n == "l" { k } else { -k };
                        if k == 0 {
                            e
                        } else {
                            Expr::Lag(Box::new(e), k)
                        }
                    }
                    "d" => {
                        let e = self.arith(part)?;
                        let k = if self.peek().tok == Tok::Comma {
                            self.bump();
                            self.int()?
                        } else {
                            1
                        };
                        if k < 1 {
                            return Err(self.error_from(
                                token.start,
                                "the difference d(x, k) needs k of at least 1",
                            ));
                        }
                        Expr::Diff(Box::new(e), k)
                    }
                    other => match Func::from_name(other) {
                        Some(f) => Expr::Func(f, Box::new(self.arith(part)?)),
                        None => {
                            return Err(self.error(
                                &token,
                                format!("unknown function '{other}' in {part}"),
                                Some(&format!("the functions are {FUNCTIONS}")),
                            ))
                        }
                    },
                };
                self.expect_token(Tok::RParen, "')'", part)?;
                Ok(e)
            }
            Tok::Name(n) => Ok(Expr::Col(Self::term(&token, n.clone()))),
            _ => Err(self.unexpected(&token, part, "expected a number or a column name")),
        }
    }

    /// After a '-' in the regressors: only `-1` is allowed.
    fn minus_one(&mut self, zero: &mut Option<Token>) -> Result<()> {
        let token = self.bump();
        match &token.tok {
            Tok::Number(n) if n == "1" => {
                *zero = Some(token);
                Ok(())
            }
            other => Err(self.error(
                &token,
                format!(
                    "only '-1' (no intercept) can be subtracted in the regressors, found {}",
                    describe(other)
                ),
                Some("remove the term instead of subtracting it"),
            )),
        }
    }

    /// One fixed effect `a` or `a^b^...`; `after` names the token before it.
    fn fixed_effect(&mut self, after: &str, response: &Term) -> Result<FixedEffect> {
        let mut factors: Vec<Term> = Vec::new();
        let mut after = after.to_owned();
        loop {
            let token = self.bump();
            let Tok::Name(n) = &token.tok else {
                return Err(self.unexpected(
                    &token,
                    Part::FixedEffects,
                    &format!("expected a column name after {after}"),
                ));
            };
            if *n == response.name {
                return Err(self.error(
                    &token,
                    format!("the response '{n}' is also a fixed effect"),
                    None,
                ));
            }
            if factors.iter().any(|t| t.name == *n) {
                return Err(self.error(
                    &token,
                    format!("'{n}' is interacted with itself in the fixed effects"),
                    None,
                ));
            }
            factors.push(Self::term(&token, n.clone()));
            if self.peek().tok == Tok::LParen {
                let t = self.peek().clone();
                return Err(self.error(
                    &t,
                    "functions are not supported in the fixed effects",
                    Some("fixed effects are columns or interactions a^b"),
                ));
            }
            if self.peek().tok != Tok::Caret {
                return Ok(FixedEffect { factors });
            }
            self.bump();
            after = "'^'".to_owned();
        }
    }
}

/// The parts of a single term, for crossing with `*`.
fn parts_of(r: &Regressor) -> Vec<Expr> {
    match &r.term {
        RegTerm::Numeric(e) => vec![e.clone()],
        RegTerm::Interaction(es) => es.clone(),
        RegTerm::Factor { .. } => Vec::new(),
    }
}

/// A number as its level text: `1990` for `1990` and `1990.0`.
fn normal_number(n: &str) -> String {
    match n.parse::<f64>() {
        Ok(v) => crate::data::format_number(v),
        Err(_) => n.to_owned(),
    }
}

/// Byte range of a fixed effect, from its first factor to the end of its last.
fn span(fe: &FixedEffect) -> (usize, usize) {
    let start = fe.factors.first().map_or(0, |t| t.start);
    let end = fe.factors.last().map_or(start, |t| t.start + t.len);
    (start, end)
}
