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

pub mod counterfactual;
pub mod data;
pub mod error;
pub mod formula;

pub use data::{Column, ColumnKind, ColumnRequest, CsvOptions, Factor, Frame};
pub use error::{Error, Location, Result};
pub use formula::{FixedEffect, Formula, Term};
