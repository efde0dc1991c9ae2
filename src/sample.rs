//! VALIDATE: which input rows an estimation used, and why the others were dropped.
//!
//! This is Stata's `e(sample)` plus ppmlhdfe's separation tag: every row of the
//! input [`Frame`](crate::Frame) gets a [`RowStatus`], and the counts are kept
//! as data so that JSON output and embedding programs see them.

use serde::Serialize;

/// What happened to one input row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum RowStatus {
    /// The row entered the estimation.
    Used,
    /// A used column was missing (empty, `NA` or `.`), or the weight was zero.
    Missing,
    /// The row was alone in a level of some fixed effect (dropped iteratively).
    Singleton,
    /// PPML only: the row is separated (its conditional mean is zero at the
    /// MLE): by a fixed-effect level with an all-zero outcome or by the ReLU
    /// test of Correia, Guimarães & Zylkin (2019).
    Separated,
    /// Outside the sample restriction (`--subset`).
    Excluded,
}

impl RowStatus {
    /// The lower-case name used in `--save-sample` files.
    pub fn as_str(self) -> &'static str {
        match self {
            RowStatus::Used => "used",
            RowStatus::Missing => "missing",
            RowStatus::Singleton => "singleton",
            RowStatus::Separated => "separated",
            RowStatus::Excluded => "excluded",
        }
    }
}

/// Counts of dropped rows, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Dropped {
    /// Rows with a missing value in a used column (or a zero weight).
    pub missing: usize,
    /// Rows dropped as singletons.
    pub singletons: usize,
    /// Rows dropped as separated (fixed effects and ReLU together).
    pub separated: usize,
    /// Of `separated`: rows in a fixed-effect level whose outcome is all zero.
    pub separated_fe: usize,
    /// Of `separated`: rows found by the ReLU method.
    pub separated_relu: usize,
    /// Rows outside the sample restriction (`--subset`).
    #[serde(skip_serializing_if = "is_zero")]
    pub excluded: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The sample an estimation used.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SampleReport {
    /// Rows in the input.
    pub n_full: usize,
    /// Rows used.
    pub n_used: usize,
    /// Dropped rows, by reason.
    pub dropped: Dropped,
    /// Iterations of the ReLU separation check (0 when not run).
    pub relu_iterations: usize,
    /// False if the ReLU check reached its iteration limit: separated
    /// observations may remain.
    pub relu_converged: bool,
    /// One status per input row.
    #[serde(skip)]
    pub status: Vec<RowStatus>,
}

impl SampleReport {
    pub(crate) fn new(status: Vec<RowStatus>, relu_iterations: usize) -> Self {
        let mut d = Dropped::default();
        let mut used = 0;
        for s in &status {
            match s {
                RowStatus::Used => used += 1,
                RowStatus::Missing => d.missing += 1,
                RowStatus::Singleton => d.singletons += 1,
                RowStatus::Separated => d.separated += 1,
                RowStatus::Excluded => d.excluded += 1,
            }
        }
        SampleReport {
            n_full: status.len(),
            n_used: used,
            dropped: d,
            relu_iterations,
            relu_converged: true,
            status,
        }
    }
}
