//! What makes one first-order optimizer differ from another: its update rule.
//!
//! An optimizer here *is* its update rule — the pure update of one parameter from its
//! gradient, its own state and its group's settings — plus one shared driver,
//! [`FirstOrder`](crate::FirstOrder), that owns the parameter groups, the state, the step
//! loop and saving. The pieces every rule shares are applied by the driver, before the rule
//! sees the gradient, in PyTorch's order:
//!
//! ```text
//! g ← −g                       when maximizing (ascend the objective instead)
//! g ← g + λ·w                  L2 weight decay (coupled: through the gradient), or
//! w ← w·(1 − α·λ)              decoupled weight decay (AdamW)
//! w, state ← rule(w, g, state, t)
//! ```
//!
//! Adding an optimizer means one file: its settings struct implementing [`UpdateRule`] (the
//! formula in its doc and in [`update`](UpdateRule::update)), the buffers it keeps, and a test
//! worked by hand. The ideas come from burn's `SimpleOptimizer` and optax's
//! `GradientTransformation`; the code is this crate's. Signed gradient descent with momentum,
//! w ← w − α·sign(b), b ← μb + g, in full:
//!
//! ```
//! use ndarray::{ArrayD, Zip};
//! use tapegrad_optim::rule::{Buffer, UpdateRule, WeightDecay};
//! use tapegrad_optim::{FirstOrder, OptimError, Optimizer};
//! use tapegrad_tensor::{Float, Param};
//!
//! #[derive(Clone, Debug)]
//! struct SignSgd { lr: f64, momentum: f64 }
//!
//! impl UpdateRule for SignSgd {
//!     const NAME: &'static str = "SignSGD";
//!     fn check(&self) -> Result<(), OptimError> { Ok(()) }
//!     fn lr(&self) -> f64 { self.lr }
//!     fn set_lr(&mut self, lr: f64) { self.lr = lr }
//!     fn weight_decay(&self) -> Option<WeightDecay> { None }
//!     fn maximize(&self) -> bool { false }
//!     fn buffers(&self) -> Vec<Buffer> { vec![Buffer::like_param("momentum_buffer")] }
//!     fn update<F: Float>(&self, _t: u64, w: &mut ArrayD<F>, g: &ArrayD<F>, state: &mut [ArrayD<F>]) {
//!         let (lr, mu) = (F::from_f64(self.lr), F::from_f64(self.momentum));
//!         Zip::from(w).and(g).and(&mut state[0]).for_each(|w, &g, b| {
//!             *b = mu * *b + g;
//!             *w -= lr * b.signum();
//!         });
//!     }
//! }
//!
//! let w = Param::<f64>::new("w", ndarray::arr1(&[1.0, 1.0]).into_dyn());
//! let mut opt = FirstOrder::new(vec![w.clone()], SignSgd { lr: 0.1, momentum: 0.9 }).unwrap();
//! (w.tensor() * tapegrad_tensor::Tensor::from_vec(vec![3.0, -0.01], &[2])).sum().backward();
//! opt.step();
//! assert_eq!(w.value().as_slice().unwrap(), &[0.9, 1.1]);
//! ```

use std::fmt;

use ndarray::{ArrayD, IxDyn};
use tapegrad_tensor::Float;

use crate::OptimError;

/// How weight decay λ enters a step (applied by the driver, before the rule).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum WeightDecay {
    /// g ← g + λ·w: an L2 penalty ½λ‖w‖² added to the loss (SGD, Adam, RMSProp, …).
    L2(f64),
    /// w ← w·(1 − α·λ) before the rule, whatever the gradient (Loshchilov & Hutter, 2019).
    Decoupled(f64),
}

impl WeightDecay {
    /// The decay a config with a `decoupled_weight_decay` switch asks for (Adam, NAdam,
    /// RAdam): decoupled when the switch is on, L2 otherwise.
    pub fn chosen(weight_decay: f64, decoupled: bool) -> WeightDecay {
        if decoupled {
            WeightDecay::Decoupled(weight_decay)
        } else {
            WeightDecay::L2(weight_decay)
        }
    }
}

/// One buffer of per-parameter state: its name in the saved state, whether it is an array
/// shaped like the parameter or one number, and the value it starts from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Buffer {
    /// The name in [`OptimizerState::buffers`](crate::OptimizerState::buffers).
    pub name: &'static str,
    /// One number per parameter (shape `[]`) instead of one per element.
    pub scalar: bool,
    /// The value every element starts from.
    pub init: f64,
}

impl Buffer {
    /// An array shaped like the parameter, starting at 0 (a moment average, a momentum buffer).
    pub const fn like_param(name: &'static str) -> Buffer {
        Buffer {
            name,
            scalar: false,
            init: 0.0,
        }
    }

    /// One number per parameter, starting at `init` (NAdam's running product of μ).
    pub const fn scalar(name: &'static str, init: f64) -> Buffer {
        Buffer {
            name,
            scalar: true,
            init,
        }
    }

    /// The shape this buffer has for a parameter of shape `param_shape`.
    pub fn shape<'a>(&self, param_shape: &'a [usize]) -> &'a [usize] {
        if self.scalar {
            &[]
        } else {
            param_shape
        }
    }

    pub(crate) fn create<F: Float>(&self, param_shape: &[usize]) -> ArrayD<F> {
        ArrayD::from_elem(IxDyn(self.shape(param_shape)), F::from_f64(self.init))
    }
}

/// The update rule of a first-order optimizer, implemented by its settings struct (the
/// settings of one parameter group).
pub trait UpdateRule: Clone + fmt::Debug {
    /// The optimizer's name in errors: `"Adam"`.
    const NAME: &'static str;

    /// Rejects settings outside their valid range.
    ///
    /// # Errors
    /// `InvalidSetting` naming the setting.
    fn check(&self) -> Result<(), OptimError>;

    /// The learning rate α.
    fn lr(&self) -> f64;

    /// Sets the learning rate α.
    fn set_lr(&mut self, lr: f64);

    /// The weight decay the driver applies before the rule (`None` for none).
    fn weight_decay(&self) -> Option<WeightDecay>;

    /// Whether to maximize: the driver negates the gradient before everything else.
    fn maximize(&self) -> bool;

    /// The per-parameter buffers these settings use, in the order
    /// [`update`](UpdateRule::update) receives them.
    fn buffers(&self) -> Vec<Buffer>;

    /// Updates one parameter `w` in place from its gradient `g` (already negated and
    /// weight-decayed by the driver) and its buffers, at step `t` (1 on the first update).
    fn update<F: Float>(&self, t: u64, w: &mut ArrayD<F>, g: &ArrayD<F>, state: &mut [ArrayD<F>]);
}
