//! The interfaces every optimizer shares — its learning rates ([`LrGroups`]) and its step
//! ([`Optimizer`]) — and its saved state.

use std::collections::BTreeMap;

use ndarray::ArrayD;
use tapegrad_tensor::{Float, Param};

use crate::OptimError;

/// The learning rates of an optimizer's parameter groups: what a scheduler reads and sets.
///
/// Every optimizer has at least one group; one built with `new(params, config)` has exactly
/// one. Group `g`'s *initial* rate is PyTorch's `group["initial_lr"]`: the rate the group was
/// created with, from which schedulers compute theirs ("base lr").
pub trait LrGroups {
    /// How many parameter groups there are (≥ 1).
    fn num_groups(&self) -> usize;

    /// The current learning rate of group `group`.
    ///
    /// # Panics
    /// When `group` ≥ [`num_groups`](LrGroups::num_groups).
    fn group_lr(&self, group: usize) -> f64;

    /// Sets the learning rate of group `group` (schedulers call this between steps).
    ///
    /// # Panics
    /// When `group` ≥ [`num_groups`](LrGroups::num_groups).
    fn set_group_lr(&mut self, group: usize, lr: f64);

    /// The learning rate group `group` was created with (PyTorch's `initial_lr`).
    ///
    /// # Panics
    /// When `group` ≥ [`num_groups`](LrGroups::num_groups).
    fn initial_lr(&self, group: usize) -> f64;

    /// The learning rate of the first group (the only one unless groups were given).
    fn lr(&self) -> f64 {
        self.group_lr(0)
    }

    /// Sets every group's learning rate to `lr`. To keep groups' rates apart, use
    /// [`set_group_lr`](LrGroups::set_group_lr) or a scheduler, which scales each group from
    /// its own initial rate.
    fn set_lr(&mut self, lr: f64) {
        for group in 0..self.num_groups() {
            self.set_group_lr(group, lr);
        }
    }

    /// Every group's current learning rate, in group order.
    fn lrs(&self) -> Vec<f64> {
        (0..self.num_groups()).map(|g| self.group_lr(g)).collect()
    }
}

/// A first-order optimizer: it owns handles to the parameters it updates, and each
/// [`step`](Optimizer::step) moves every parameter that has a gradient.
///
/// The training loop is PyTorch's:
///
/// ```text
/// let loss = model.loss(&batch);
/// loss.backward();      // fills p.grad() for every parameter
/// opt.step();           // p ← update(p, p.grad(), state)
/// opt.zero_grad();      // forget the gradients before the next step
/// ```
///
/// Every optimizer of this crate implements it through one driver,
/// [`FirstOrder`](crate::FirstOrder); the learning rates come from the supertrait
/// [`LrGroups`].
pub trait Optimizer<F: Float>: LrGroups {
    /// The parameters this optimizer updates, every group's, in group order.
    fn params(&self) -> &[Param<F>];

    /// One update of every parameter that has a gradient (others are skipped, as in PyTorch).
    fn step(&mut self);

    /// Forgets every parameter's gradient.
    fn zero_grad(&self) {
        for p in self.params() {
            p.zero_grad();
        }
    }

    /// A copy of the optimizer's running state: step counts, moment buffers, and each
    /// group's size and learning rates.
    fn state(&self) -> OptimizerState<F>;

    /// Replaces the running state with one saved by [`state`](Optimizer::state), the groups'
    /// learning rates included (a scheduler's changes survive a checkpoint).
    ///
    /// # Errors
    /// `StateMismatch` when the state has other buffers, another parameter count, other group
    /// sizes, or buffers whose shapes differ from the parameters'.
    fn load_state(&mut self, state: OptimizerState<F>) -> Result<(), OptimError>;
}

/// An optimizer's running state: per parameter (every group's, in group order), how many
/// updates it received, and named buffers (`"exp_avg"`, `"momentum_buffer"`, …), `None` until
/// first used or where the parameter's group keeps no such buffer; and per group, its size and
/// learning rates.
#[derive(Clone, Debug, PartialEq)]
pub struct OptimizerState<F: Float> {
    /// Updates received by each parameter.
    pub steps: Vec<u64>,
    /// Buffer name → one optional array per parameter.
    pub buffers: BTreeMap<String, Vec<Option<ArrayD<F>>>>,
    /// One entry per parameter group, in order.
    pub groups: Vec<GroupState>,
}

/// What the saved state keeps of one parameter group.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupState {
    /// How many parameters the group holds.
    pub params: usize,
    /// Its learning rate when saved.
    pub lr: f64,
    /// The rate it was created with (PyTorch's `initial_lr`).
    pub initial_lr: f64,
}
