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
//!   `Dropout`, `Embedding`, `LayerNorm`, convolutions, batch norm, recurrent layers, and for
//!   transformers `MultiheadAttention`, `TransformerEncoderLayer`, `TransformerEncoder`,
//!   `TiedLinear`) with seeded [`init`]ialisers, and `#[derive(Module)]` for models written
//!   as structs of layers (each field walked through [`submodule::Submodule`]);
//! - [`generate`], sampling from any autoregressive model (temperature, top-k, seeded);
//! - seeded [`data`] splits and mini-batches, and safetensors weights in [`io`].
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod atomic;
pub mod buffer;
pub mod data;
pub mod generate;
pub mod init;
pub mod io;
mod layers;
pub mod least_squares;
mod linear_regression;
pub mod loader;
mod logistic_regression;
pub mod loss;
pub mod metrics;
pub mod model_selection;
pub mod module;
pub mod preprocess;
pub mod rng;
pub mod submodule;
mod train;
pub mod trainer;

pub use linear_regression::LinearRegression;
pub use logistic_regression::LogisticRegression;
pub use train::FitReport;

/// What the code written by `#[derive(Module)]` names, reachable from any crate that depends
/// on this one (a user of the derive need not depend on `tapegrad-tensor` itself). Not an
/// API: it may change with the derive.
#[doc(hidden)]
pub mod __private {
    pub use tapegrad_tensor::{Param, Tensor};
}
