//! Typed errors for every stage of the pipeline.
//!
//! Library code returns [`Result`]; the `gravity` binary prints the
//! [`Display`](std::fmt::Display) form after a `gravity: ` prefix and exits
//! non-zero. Messages start lower-case, carry no final period, and name the
//! file, line (as an editor counts it: the header is line 1) and column where
//! there is one.

use std::fmt;
use std::path::PathBuf;

/// Where in the user's input an error was found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    /// The file, if the input came from one.
    pub file: Option<PathBuf>,
    /// 1-based line as an editor counts it (the CSV header is line 1).
    pub line: Option<u64>,
    /// The column name (for CSV input) or key (for scenario files).
    pub column: Option<String>,
}

impl Location {
    /// A location in `file` at `line`, column `column`.
    pub fn new(file: Option<PathBuf>, line: Option<u64>, column: Option<&str>) -> Self {
        Location {
            file,
            line,
            column: column.map(str::to_owned),
        }
    }
}

impl Location {
    /// The location as a message prefix: the column is left out when the
    /// message already names it (`column 'trade' must be …`).
    pub fn prefix_for(&self, message: &str) -> String {
        match &self.column {
            Some(c) if message.contains(&format!("'{c}'")) => Location {
                column: None,
                ..self.clone()
            }
            .to_string(),
            _ => self.to_string(),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut wrote = false;
        if let Some(file) = &self.file {
            write!(f, "{}", file.display())?;
            wrote = true;
        }
        if let Some(line) = self.line {
            if wrote {
                write!(f, ":")?;
            } else {
                write!(f, "line ")?;
            }
            write!(f, "{line}")?;
            wrote = true;
        }
        if let Some(col) = &self.column {
            if wrote {
                write!(f, ": ")?;
            }
            write!(f, "column '{col}'")?;
        }
        Ok(())
    }
}

/// Every failure the library reports.
///
/// The enum is `#[non_exhaustive]`: match on the variants you handle and keep
/// a wildcard arm.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be opened or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating-system error.
        #[source]
        source: std::io::Error,
    },
    /// Malformed or invalid input data: a cell, a row, a header.
    #[error("{}{message}{}", lead(location, message), hint.as_ref().map(|h| format!("\nhint: {h}")).unwrap_or_default())]
    Data {
        /// Where the bad value is.
        location: Location,
        /// What is wrong and the value found.
        message: String,
        /// How to fix it, when we know.
        hint: Option<String>,
    },
    /// A formula that does not parse, or names a column that does not exist.
    ///
    /// `Display` repeats the formula and underlines the offending token.
    #[error("formula: {message}\n  {formula}\n  {}{}", caret_line(formula, *start, *len), hint.as_ref().map(|h| format!("\nhint: {h}")).unwrap_or_default())]
    Formula {
        /// The formula text as given.
        formula: String,
        /// Byte offset of the offending token.
        start: usize,
        /// Length of the offending token in bytes.
        len: usize,
        /// What is wrong.
        message: String,
        /// How to fix it, when we know.
        hint: Option<String>,
    },
    /// A model that cannot be estimated or solved as specified (no
    /// observations left, an outcome that is zero everywhere, an invalid
    /// option value, an inconsistent world); `kind` says which.
    #[error("{message}")]
    Model {
        /// What went wrong, to match on.
        kind: ErrorKind,
        /// The message, naming the value found.
        message: String,
    },
    /// An invalid counterfactual scenario; `key` names the offending key.
    #[error("scenario: {key}: {message}")]
    Scenario {
        /// The scenario key (e.g. `shock[0].between`).
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A numerical failure that is not the user's fault and not a bug
    /// (e.g. a singular matrix after all checks).
    #[error("numerical failure: {message}")]
    Numerical {
        /// What went wrong, to match on.
        kind: ErrorKind,
        /// The message.
        message: String,
    },
    /// An iterative solver (e.g. the general-equilibrium fixed point) hit its
    /// iteration limit before meeting its tolerance; the result is discarded.
    #[error("{solver} did not converge in {iterations} iterations (residual {residual:e})")]
    NoConvergence {
        /// Which solver.
        solver: String,
        /// Iterations run.
        iterations: usize,
        /// Largest relative residual at the last iteration.
        residual: f64,
    },
    /// An internal invariant failed: this is a bug in gravity-model.
    #[error("internal error (please report this as a bug): {0}")]
    Bug(String),
}

/// What kind of failure an [`Error`] is, for a caller that handles some
/// failures and reports the rest: [`Error::kind`] gives it for every error.
///
/// ```
/// use gravity_model::{fit, Column, ErrorKind, Estimator, FitOptions, Formula, Frame};
/// let frame = Frame::from_columns(vec![
///     ("y".into(), Column::Numeric(vec![0.0, 0.0, 0.0].into())),
///     ("x".into(), Column::Numeric(vec![1.0, 2.0, 3.0].into())),
/// ])?;
/// let formula = Formula::parse("y ~ x")?;
/// let err = fit(&frame, &formula, Estimator::Ppml, &FitOptions::default()).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::ZeroOutcome);
/// # Ok::<(), gravity_model::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A file could not be opened, read or written ([`Error::Io`]).
    Io,
    /// Malformed input data: a cell, a row, a header ([`Error::Data`]).
    InvalidData,
    /// A formula that does not parse or names a column that does not exist
    /// ([`Error::Formula`]).
    Formula,
    /// An invalid counterfactual scenario ([`Error::Scenario`]).
    Scenario,
    /// An option value out of its range or not recognised (a tolerance, a
    /// vcov type, a small-sample preset, a quantile).
    InvalidOption,
    /// A column the operation needs is missing or of the wrong type.
    UnknownColumn,
    /// No observations are left to estimate on.
    EmptySample,
    /// The outcome is zero in every observation: PPML has no solution.
    ZeroOutcome,
    /// Clustered standard errors with fewer than two clusters.
    TooFewClusters,
    /// A regressor that had to be kept was collinear (e.g. in a bootstrap
    /// draw).
    Collinear,
    /// General-equilibrium inputs that are inconsistent (sizes, signs, σ, a
    /// country that cannot trade).
    InvalidWorld,
    /// A matrix that must be positive definite is not.
    NotPositiveDefinite,
    /// An iteration diverged: values overflowed or became non-finite.
    Diverged,
    /// A result that would be non-finite (NaN or infinite) is refused.
    NonFinite,
    /// An iterative solver stopped at its limit before its tolerance.
    NoConvergence,
    /// An internal invariant failed: a bug in gravity-model.
    Bug,
}

impl Error {
    /// A model error of `kind` (displayed as the message alone).
    pub fn model(kind: ErrorKind, message: String) -> Self {
        Error::Model { kind, message }
    }

    /// A numerical error of `kind` (displayed after `numerical failure: `).
    pub fn numerical(kind: ErrorKind, message: String) -> Self {
        Error::Numerical { kind, message }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Io { .. } => ErrorKind::Io,
            Error::Data { .. } => ErrorKind::InvalidData,
            Error::Formula { .. } => ErrorKind::Formula,
            Error::Scenario { .. } => ErrorKind::Scenario,
            Error::Model { kind, .. } | Error::Numerical { kind, .. } => *kind,
            Error::NoConvergence { .. } => ErrorKind::NoConvergence,
            Error::Bug(_) => ErrorKind::Bug,
        }
    }

    /// A data error at `location` with a message and no hint.
    pub fn data(location: Location, message: impl Into<String>) -> Self {
        Error::Data {
            location,
            message: message.into(),
            hint: None,
        }
    }

    /// A data error at `location` with a message and a hint.
    pub(crate) fn data_hint(
        location: Location,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Error::Data {
            location,
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    /// A formula error underlining `len` bytes of `formula` from `start`.
    pub fn formula(
        formula: &str,
        start: usize,
        len: usize,
        message: impl Into<String>,
        hint: Option<String>,
    ) -> Self {
        Error::Formula {
            formula: formula.to_owned(),
            start,
            len,
            message: message.into(),
            hint,
        }
    }

    /// A scenario error for `key`.
    pub fn scenario(key: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Scenario {
            key: key.into(),
            message: message.into(),
        }
    }

    /// The location of the error in the user's input, if it has one.
    pub fn location(&self) -> Option<&Location> {
        match self {
            Error::Data { location, .. } => Some(location),
            _ => None,
        }
    }
}

/// The location before a message, with its `: `; nothing for an empty
/// location (data read from memory, with no line or column to name).
fn lead(location: &Location, message: &str) -> String {
    let prefix = location.prefix_for(message);
    if prefix.is_empty() {
        prefix
    } else {
        format!("{prefix}: ")
    }
}

/// The line under a formula that underlines bytes `start..start + len`
/// with carets (at least one), counting characters rather than bytes so
/// that non-ASCII names line up.
fn caret_line(formula: &str, start: usize, len: usize) -> String {
    let chars = |range: Option<&str>, bytes: usize| range.map_or(bytes, |s| s.chars().count());
    let indent = chars(formula.get(..start), start);
    let width = chars(formula.get(start..start.saturating_add(len)), len).max(1);
    format!("{}{}", " ".repeat(indent), "^".repeat(width))
}

/// `Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
