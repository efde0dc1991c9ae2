//! VALIDATE: fixest-style model formulas, `y ~ x1 + x2 | fe1 + fe2^fe3`.
//!
//! STUB: being implemented (see the formula work item).

use crate::error::Result;

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

/// A parsed formula.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Formula {
    /// The original text.
    pub text: String,
    /// The dependent variable.
    pub response: Term,
    /// Regressors, in order.
    pub regressors: Vec<Term>,
    /// True when the model has an intercept (no fixed effects and no `0`/`-1`).
    pub intercept: bool,
    /// Fixed-effect dimensions, in order.
    pub fixed_effects: Vec<FixedEffect>,
}

impl Formula {
    /// Parses `text`.
    pub fn parse(text: &str) -> Result<Formula> {
        let _ = text;
        todo!()
    }

    /// Checks that every column the formula names is in `available`
    /// (the CSV header); errors point at the token and name the formula part.
    pub fn check_columns(&self, available: &[String]) -> Result<()> {
        let _ = available;
        todo!()
    }
}
