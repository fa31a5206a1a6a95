//! # tapegrad-tensor: n-d tensors and a reverse-mode autograd tape
//!
//! A [`Tensor`] is an n-dimensional array (on [`ndarray`]) that can take part in automatic
//! differentiation. Mark the values you want gradients for with
//! [`requires_grad`](Tensor::requires_grad) (or own them as a [`Param`]); every op on them is
//! then *recorded* as one node on a [`Tape`] — an explicit, numbered list of what was computed.
//! [`Tensor::backward`] walks that list once, last node first, applying each op's backward
//! rule (the chain rule, one node at a time) and adds the result into each leaf's `grad`;
//! [`Tensor::backward_traced`] does the same and returns a [`Trace`] that prints each node's
//! adjoint as the loop reaches it.
//!
//! ```
//! use tapegrad_tensor::Tensor;
//!
//! // Fit y = w·x by gradient descent on L = 1/(2n)·Σ(y − w·x)², so ∂L/∂w = −(1/n)·Σ x(y − w·x).
//! let x = Tensor::<f64>::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[4]);
//! let y = &x * 2.0;
//! let w = Tensor::<f64>::zeros(&[1]).requires_grad();
//! for _ in 0..200 {
//!     let residual = &y - &(&x * &w);
//!     let loss = (&residual * &residual).mean() * 0.5;
//!     loss.backward();                     // w.grad() = ∂L/∂w
//!     w.param().unwrap().update(|w, g| *w -= &(g * 0.05)); // descend: w ← w − α·∂L/∂w
//!     w.zero_grad();
//! }
//! assert!((w.item() - 2.0).abs() < 1e-6);
//! ```
//!
//! Where things are: `tensor.rs` (the handle), `param.rs` (long-lived leaves), `shape.rs`
//! (NumPy broadcasting), `tape/` (recording, the reverse sweep, printing), `gradcheck.rs`
//! (finite-difference checks), and `ops/`, one file per op with its forward pass, backward
//! rule, the rule's maths, and its tests.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod float;
pub mod forward;
pub mod func;
pub mod gradcheck;
mod heap;
mod ops;
mod parallel;
mod param;
mod pool;
pub mod shape;
pub mod tape;
mod tensor;

pub use error::{Result, TensorError};
pub use float::Float;
/// The array crate tensors are built on (re-exported: use its version, not another).
pub use ndarray;
pub use ops::avg_pool::{AvgPool1dOptions, AvgPool2dOptions, AvgPoolOptions};
pub use ops::conv::{Conv1dOptions, Conv2dOptions, ConvOptions, Padding};
pub use ops::conv_transpose::{
    ConvTranspose1dOptions, ConvTranspose2dOptions, ConvTransposeOptions,
};
pub use ops::custom::{custom_jvp, CustomCtx, CustomOp, CustomRef};
pub use ops::gather::GatherIndex;
pub use ops::gelu::GeluApproximate;
pub use ops::max_pool::{MaxPool1dOptions, MaxPool2dOptions, MaxPoolOptions};
pub use ops::scaled_dot_product_attention::{AttnMask, SdpaOptions};
pub use ops::tril::{tril_mask, triu_mask};
pub use ops::unfold::Window;
pub use param::Param;
pub use shape::Dim;
pub use tape::anomaly::{detect_anomaly, is_anomaly_enabled, Anomaly};
pub use tape::hooks::{GradHook, HookHandle};
pub use tape::{
    debug, grad, grad_with, is_grad_enabled, no_grad, GradOptions, NodeId, Op, Tape, Trace,
};
pub use tensor::Tensor;
