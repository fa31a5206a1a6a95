//! # tapegrad-models
//!
//! Models built on the tensor and optimizer crates. So far: the closed-form least-squares
//! solution, the reference every gradient-based fit of a linear model is checked against.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod least_squares;
