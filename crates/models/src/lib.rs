//! # tapegrad-models
//!
//! Models built on the tensor and optimizer crates. So far: [`LinearRegression`], trained by
//! any optimizer with stopping rules that say why it stopped, and the closed-form
//! [`least_squares`] solution it is checked against.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod least_squares;
mod linear_regression;

pub use linear_regression::{FitReport, LinearRegression};
