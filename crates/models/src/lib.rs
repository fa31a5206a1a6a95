//! # tapegrad-models
//!
//! Models built on the tensor and optimizer crates:
//!
//! - [`LinearRegression`] and [`LogisticRegression`], trained by any optimizer with stopping
//!   rules that say why they stopped, and the closed-form [`least_squares`] solution they are
//!   checked against;
//! - [`preprocess::Standardizer`] (and why it matters for the learning rate), and
//!   [`model_selection`] of the learning rate by k-fold cross-validation;
//! - the [`loss`] functions (MSE, MAE, Huber, cross-entropy from logits, binary cross-entropy
//!   with logits);
//! - layers behind the [`module::Module`] trait (`Linear`, activations, `Sequential`,
//!   `Dropout`, `Embedding`, `LayerNorm`, convolutions, recurrent layers, and for
//!   transformers `MultiheadAttention`, `TransformerEncoderLayer`, `TransformerEncoder`,
//!   `TiedLinear`) with seeded [`init`]ialisers;
//! - seeded [`data`] splits and mini-batches, and safetensors weights in [`io`].
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod atomic;
pub mod buffer;
pub mod data;
pub mod init;
pub mod io;
mod layers;
pub mod least_squares;
mod linear_regression;
mod logistic_regression;
pub mod loss;
pub mod metrics;
pub mod model_selection;
pub mod module;
pub mod preprocess;
mod train;

pub use linear_regression::LinearRegression;
pub use logistic_regression::LogisticRegression;
pub use train::FitReport;
