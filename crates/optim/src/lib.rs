//! # tapegrad-optim: optimizers that consume the tape's gradients
//!
//! Every optimizer here updates parameters from the gradients `backward` left in them;
//! nobody writes a gradient by hand. A training loop:
//!
//! ```
//! use tapegrad_optim::{Optimizer, Sgd, SgdConfig};
//! use tapegrad_tensor::{Param, Tensor};
//!
//! // Minimise L(w) = Σ (w − 3)², so ∂L/∂w = 2(w − 3).
//! let w = Param::<f64>::new("w", ndarray::arr1(&[0.0, 10.0]).into_dyn());
//! let mut opt = Sgd::new(vec![w.clone()], SgdConfig { lr: 0.1, momentum: 0.5, ..Default::default() }).unwrap();
//! for _ in 0..100 {
//!     let loss = (w.tensor() - 3.0).powf(2.0).sum();
//!     loss.backward();
//!     opt.step();
//!     opt.zero_grad();
//! }
//! assert!(w.value().iter().all(|&x| (x - 3.0).abs() < 1e-6));
//! ```
//!
//! First-order: [`Sgd`] (momentum, Nesterov), [`Adam`] (AMSGrad, decoupled decay),
//! [`AdamW`], [`NAdam`], [`RAdam`], [`RmsProp`], [`Adagrad`], all behind the [`Optimizer`]
//! trait, and all the same type: the one driver [`FirstOrder`] with their update rule
//! ([`rule::UpdateRule`]). The driver owns the parameter groups ([`ParamGroup`]: e.g. no
//! weight decay on biases), the per-parameter state, the step loop, saving and loading, and
//! the pieces every rule shares (`maximize`, weight decay); each optimizer's file holds only
//! its settings, its formula and its hand-worked test. Around them: learning-rate
//! [`schedule`]rs that set the optimizer's rates themselves, as PyTorch's do, gradient
//! clipping ([`clip`]) and stopping rules that say why training stopped ([`stop`]).
//!
//! Second-order and quasi-Newton: [`Lbfgs`] and [`ConjugateGradient`] (Polak–Ribière+), with a
//! strong-Wolfe line search, and [`NewtonCg`], whose Hessian-vector products come from the
//! tape's gradients of gradients. They take a closure that records the loss and run to a
//! stopping rule, returning a [`Report`]; [`Lbfgs::step`] also runs one PyTorch-style
//! `LBFGS.step(closure)` at a time.
//!
//! The numbers agree with `torch.optim` in f64 (see `tests/torch_parity.rs` and
//! `tests/torch_schedulers.rs`, pinned from `tests/pytorch/optim_reference.py`).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod adagrad;
mod adam;
mod adamw;
mod cg;
pub mod clip;
mod error;
mod first_order;
mod flat;
mod lbfgs;
mod line_search;
mod nadam;
mod newton_cg;
mod optimizer;
mod radam;
mod report;
mod rmsprop;
pub mod rule;
pub mod schedule;
mod sgd;
pub mod stop;
#[cfg(test)]
mod testing;

pub use adagrad::{Adagrad, AdagradConfig};
pub use adam::{Adam, AdamConfig};
pub use adamw::{AdamW, AdamWConfig};
pub use cg::{CgConfig, ConjugateGradient};
pub use error::OptimError;
pub use first_order::{FirstOrder, ParamGroup};
pub use lbfgs::{Lbfgs, LbfgsConfig, LbfgsStepConfig, LineSearchFn};
pub use nadam::{NAdam, NAdamConfig};
pub use newton_cg::{NewtonCg, NewtonCgConfig};
pub use optimizer::{GroupState, LrGroups, Optimizer, OptimizerState};
pub use radam::{RAdam, RAdamConfig};
pub use report::Report;
pub use rmsprop::{RmsProp, RmsPropConfig};
pub use sgd::{Sgd, SgdConfig};
