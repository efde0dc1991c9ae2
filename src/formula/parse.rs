//! Text → [`Formula`]: a small hand-written lexer and recursive-descent
//! parser that keeps the byte span of every token, so that errors can
//! underline the offending part of the formula.
//!
//! Grammar (whitespace is allowed anywhere between tokens):
//!
//! ```text
//! formula   := name '~' rhs ('|' fes)?
//! rhs       := rterm (('+' rterm) | ('-' '1'))*
//! rterm     := name | '0' | '1' | '-' '1'
//! fes       := fe ('+' fe)*
//! fe        := name ('^' name)*
//! name      := [A-Za-z_.][A-Za-z0-9_.]*  |  '`' any text but '`' '`'
//! ```

use super::{FixedEffect, Formula, Term};
use crate::error::{Error, Result};
use std::fmt;

/// The part of the formula being read, named in error messages as fixest does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Part {
    Response,
    Regressors,
    FixedEffects,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Part::Response => "the response",
            Part::Regressors => "the regressors",
            Part::FixedEffects => "the fixed effects",
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// A column name (backticks removed).
    Name(String),
    /// Text starting with a digit: `0`, `1`, or a mistake like `2x`.
    Number(String),
    Tilde,
    Plus,
    Minus,
    Pipe,
    Caret,
    /// A backtick with no closing backtick.
    Unterminated,
    /// A backtick-quoted name with nothing inside.
    EmptyQuoted,
    /// Any other character.
    Unknown(char),
    End,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    start: usize,
    len: usize,
}

/// True for a character that may start a plain (unquoted) column name.
pub(super) fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || c == '.'
}

/// True for a character that may continue a plain column name.
pub(super) fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '.'
}

fn lex(text: &str) -> Vec<Token> {
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
        let (tok, end) = match c {
            '~' => (Tok::Tilde, start + 1),
            '+' => (Tok::Plus, start + 1),
            '-' => (Tok::Minus, start + 1),
            '|' => (Tok::Pipe, start + 1),
            '^' => (Tok::Caret, start + 1),
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
                let end = take_while(is_name_char);
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
fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Name(n) => format!("'{n}'"),
        Tok::Number(n) => format!("'{n}'"),
        Tok::Tilde => "'~'".to_owned(),
        Tok::Plus => "'+'".to_owned(),
        Tok::Minus => "'-'".to_owned(),
        Tok::Pipe => "'|'".to_owned(),
        Tok::Caret => "'^'".to_owned(),
        Tok::Unterminated => "an unterminated '`'".to_owned(),
        Tok::EmptyQuoted => "an empty name '``'".to_owned(),
        Tok::Unknown(c) => format!("'{c}'"),
        Tok::End => "end of input".to_owned(),
    }
}

struct Parser<'a> {
    text: &'a str,
    tokens: Vec<Token>,
    i: usize,
}

/// Parses `text` into a [`Formula`].
pub(super) fn parse(text: &str) -> Result<Formula> {
    let tokens = lex(text);
    let mut parser = Parser { text, tokens, i: 0 };
    parser.formula()
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        // `lex` always ends the list with `Tok::End`, and `bump` never moves
        // past it, so the index is in bounds.
        &self.tokens[self.i]
    }

    fn bump(&mut self) -> Token {
        let token = self.tokens[self.i].clone();
        if self.i + 1 < self.tokens.len() {
            self.i += 1;
        }
        token
    }

    fn error(&self, token: &Token, message: impl Into<String>, hint: Option<&str>) -> Error {
        Error::formula(
            self.text,
            token.start,
            token.len,
            message,
            hint.map(str::to_owned),
        )
    }

    /// The error for a token that cannot appear here; `expected` says what could.
    fn unexpected(&self, token: &Token, part: Part, expected: &str) -> Error {
        match &token.tok {
            Tok::Unknown(c) => {
                let hint = match c {
                    '*' | ':' => Some("interactions of regressors are not supported; add their product as a column"),
                    '(' | ')' => Some("functions of columns are not supported; compute the column first"),
                    '[' | ']' => Some("varying slopes (fe[x]) are not supported"),
                    ',' => Some("separate terms with '+'"),
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

    fn formula(&mut self) -> Result<Formula> {
        if self.tokens.len() == 1 {
            let token = self.peek().clone();
            return Err(self.error(
                &token,
                "empty formula",
                Some("write a formula like `trade ~ fta | exporter^year + importer^year`"),
            ));
        }

        // The response.
        let token = self.bump();
        let response = match &token.tok {
            Tok::Name(n) => Self::term(&token, n.clone()),
            Tok::Tilde => {
                return Err(self.error(
                    &token,
                    "missing response before '~'",
                    Some("write the dependent variable first, e.g. `trade ~ fta`"),
                ))
            }
            _ => return Err(self.unexpected(&token, Part::Response, "expected a column name")),
        };
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
                    None,
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
        let mut regressors: Vec<Term> = Vec::new();
        let mut one: Option<Token> = None;
        let mut zero: Option<Token> = None;
        let mut after = "'~'";
        'terms: loop {
            let token = self.bump();
            match &token.tok {
                Tok::Name(n) => {
                    if *n == response.name {
                        return Err(self.error(
                            &token,
                            format!("the response '{n}' is also a regressor"),
                            None,
                        ));
                    }
                    if regressors.iter().any(|r| r.name == *n) {
                        return Err(self.error(
                            &token,
                            format!("regressor '{n}' appears twice in the regressors"),
                            None,
                        ));
                    }
                    regressors.push(Self::term(&token, n.clone()));
                }
                Tok::Number(n) if n == "1" => one = Some(token.clone()),
                Tok::Number(n) if n == "0" => zero = Some(token.clone()),
                Tok::Minus => self.minus_one(&mut zero)?,
                Tok::Pipe if after == "'~'" => {
                    return Err(self.error(
                        &token,
                        "expected a column name, '0' or '1' after '~' in the regressors, found '|'",
                        Some("write `y ~ 1 | fe` for a model with fixed effects only"),
                    ))
                }
                _ => {
                    return Err(self.unexpected(
                        &token,
                        Part::Regressors,
                        &format!("expected a column name after {after}"),
                    ))
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
                            Some("'^' interacts fixed effects, which go after '|'"),
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
        Ok(Formula {
            text: self.text.to_owned(),
            response,
            regressors,
            intercept,
            fixed_effects,
        })
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
            if self.peek().tok != Tok::Caret {
                return Ok(FixedEffect { factors });
            }
            self.bump();
            after = "'^'".to_owned();
        }
    }
}

/// Byte range of a fixed effect, from its first factor to the end of its last.
fn span(fe: &FixedEffect) -> (usize, usize) {
    let start = fe.factors.first().map_or(0, |t| t.start);
    let end = fe.factors.last().map_or(start, |t| t.start + t.len);
    (start, end)
}
