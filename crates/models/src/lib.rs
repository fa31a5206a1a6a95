//! # tapegrad-models
//!
//! Models built on the tensor and optimizer crates. So far: [`LinearRegression`] and [`LogisticRegression`], trained by
//! any optimizer with stopping rules that say why it stopped, the closed-form
//! [`least_squares`] solution it is checked against, and the [`loss`] functions (MSE, MAE,
//! Huber, cross-entropy from logits, binary cross-entropy with logits); layers behind the
//! [`module::Module`] trait (`Linear`, activations, `Sequential`) with seeded [`init`]ialisers.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod data;
pub mod init;
pub mod io;
pub mod least_squares;
mod linear_regression;
mod logistic_regression;
pub mod loss;
pub mod model_selection;
pub mod module;
pub mod preprocess;
mod train;

pub use linear_regression::LinearRegression;
pub use logistic_regression::LogisticRegression;
pub use train::FitReport;
