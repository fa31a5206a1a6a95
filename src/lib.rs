//! # tapegrad
//!
//! A teachable reverse-mode autodiff framework. This facade re-exports the workspace's crates:
//!
//! - [`tensor`] (`tapegrad-tensor`): n-d tensors with NumPy broadcasting and the autograd tape;
//! - [`optim`] (`tapegrad-optim`): optimizers;
//! - [`models`] (`tapegrad-models`): models, layers and losses, and `#[derive(Module)]`
//!   (`tapegrad-derive`, at `models::module::Module` beside the trait; write
//!   `#[module(crate = tapegrad::models)]` when deriving through this facade).
//!
//! The most used names are at the top level: `use tapegrad::{Tensor, Param, no_grad};`.
//!
//! New to automatic differentiation, or to tapegrad? Start with the [`tutorial`]: ten
//! chapters, from gradient descent by hand to second derivatives, whose every code block is
//! a doctest.
#![forbid(unsafe_code)]

pub use tapegrad_models as models;
pub use tapegrad_optim as optim;
pub use tapegrad_tensor as tensor;
/// Forward mode: dual tensors, `dual_level`, `make_dual`, `tangent` (`tapegrad_tensor::forward`).
pub use tapegrad_tensor::forward;
/// Functional transforms — `vjp`, `jvp`, `grad`, `jacrev`, `jacfwd`, `hessian`, `hvp` — as
/// in `torch.func` and JAX (`tapegrad_tensor::func`).
pub use tapegrad_tensor::func;
/// The array crate tensors are built on, re-exported so that code using
/// `Tensor::from_array` or `Param::value` needs no `ndarray` dependency of its own, and never
/// one of another version.
pub use tapegrad_tensor::ndarray;
pub use tapegrad_tensor::{
    grad, grad_with, no_grad, Dim, Float, GradOptions, Param, Tape, Tensor, TensorError, Trace,
};

pub mod tutorial;

/// The README's examples run as doctests, so the front page cannot drift from the code.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
