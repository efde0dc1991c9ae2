//! # gravity-model
//!
//! A fast, embeddable engine for the structural gravity model of
//! international trade: PPML (Santos Silva & Tenreyro 2006) and OLS with
//! high-dimensional fixed effects, separation checks (Correia, Guimarães &
//! Zylkin 2019), clustered inference, and general-equilibrium
//! counterfactuals (Yotov, Piermartini, Monteiro & Larch 2016).
//!
//! Data flows one way: load ([`Frame`]) → validate ([`Formula`]) → encode
//! → estimate → infer → simulate → report.
#![warn(missing_docs)]
// Unsafe code is refused except where allowed locally with its proof (one
// unchecked gather in fixed_effects::normal).
#![deny(unsafe_code)]
// The numerical kernels index several parallel arrays by row, as the
// algorithms in the papers do; iterator chains over five zipped slices would
// read worse.
#![allow(clippy::needless_range_loop)]

pub mod counterfactual;
pub mod data;
pub mod error;
pub mod formula;
#[doc(hidden)]
pub mod fuzzing;

mod text;

pub use data::{Column, ColumnKind, ColumnRequest, CsvOptions, DataFormat, Factor, Frame, Values};
pub use error::{Error, ErrorKind, Location, Result};
pub use formula::{FixedEffect, Formula, Term};

pub mod design;
pub mod fit;
pub mod fitstat;
pub mod fixed_effects;

mod linalg;
mod ols;
pub mod output;
mod ppml;
pub mod report;
pub mod sample;
mod scaling;
mod separation;
pub mod simulate;
pub mod synthetic;
pub mod terms;
mod validate;
pub mod vcov;

pub use fit::{fit, Estimator, Fit, FitInfo, FitOptions, Fitter, FixefRm, Scores, Termination};
pub use fitstat::FitStats;
pub use sample::{Dropped, RowStatus, SampleReport};
pub use vcov::{
    CoefRow, FixefK, Inference, Lincom, LinearCombination, SmallSample, VcovSpec, WaldTest,
};

/// The README's code examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
