//! Learning-rate schedules, in two forms.
//!
//! **Schedulers that drive an optimizer** (PyTorch's `torch.optim.lr_scheduler`): built on
//! the optimizer, they set every parameter group's rate themselves, each from the group's own
//! initial rate, once per [`step`](LrScheduler::step):
//!
//! ```
//! use tapegrad_optim::schedule::{CosineAnnealingLR, LinearLR, LrScheduler, SequentialLR};
//! use tapegrad_optim::{LrGroups, Optimizer, Sgd, SgdConfig};
//! use tapegrad_tensor::Param;
//!
//! let w = Param::<f64>::new("w", ndarray::arr1(&[1.0]).into_dyn());
//! let mut opt = Sgd::new(vec![w], SgdConfig { lr: 0.1, ..Default::default() }).unwrap();
//! // Warm up linearly from 0.01 over 2 epochs, then anneal along a cosine over 10.
//! let warmup = LinearLR::new(&mut opt, 0.1, 1.0, 2).unwrap();
//! let cosine = CosineAnnealingLR::new(&mut opt, 10, 0.0).unwrap();
//! let mut schedule = SequentialLR::new(&mut opt, vec![Box::new(warmup), Box::new(cosine)], &[2]).unwrap();
//! assert!((opt.lr() - 0.01).abs() < 1e-15);
//! for _epoch in 0..2 {
//!     // … opt.step() for every batch …
//!     schedule.step(&mut opt);
//! }
//! assert_eq!(opt.lr(), 0.1); // warm, and the cosine starts at its peak
//! ```
//!
//! The schedules follow PyTorch's definitions step for step, including their *chainable*
//! form (each computes the next rate from the group's current one), so that
//! [`ChainedScheduler`] multiplies their effects as PyTorch's does. Their state (epoch
//! counter, base and last rates) is saved with [`LrScheduler::state`], a list of named
//! numbers. [`ReduceLROnPlateau`] watches a metric instead of counting epochs.
//!
//! **Schedules as functions** ([`Schedule`]): the rate as a pure function of the epoch, for
//! a loop that sets it by hand (`opt.set_lr(schedule.lr(epoch))`), as before.

mod compose;
mod cosine;
mod exponential;
mod linear;
mod one_cycle;
mod plateau;
mod step;
mod warm_restarts;
mod warmup;

pub use compose::{ChainedScheduler, SequentialLR};
pub use cosine::{CosineAnnealing, CosineAnnealingLR, CosineAnnealingRule};
pub use exponential::{Exponential, ExponentialLR, ExponentialRule};
pub use linear::{LinearLR, LinearRule};
pub use one_cycle::{Anneal, OneCycleConfig, OneCycleLR, OneCycleRule};
pub use plateau::{PlateauConfig, PlateauMode, ReduceLROnPlateau, ReduceOnPlateau, ThresholdMode};
pub use step::{StepDecay, StepLR, StepRule};
pub use warm_restarts::{CosineAnnealingWarmRestarts, WarmRestartsRule};
pub use warmup::LinearWarmup;

use crate::{LrGroups, OptimError};

/// A learning rate for every epoch t = 0, 1, 2, …, as a pure function.
pub trait Schedule {
    /// The learning rate to use during epoch `t`.
    fn lr(&self, t: usize) -> f64;
}

/// A scheduler's saved state: named numbers (`"last_epoch"`, `"base_lr.0"`, …), the form
/// the optimizer's scalar state takes too, easy to write into any checkpoint format.
pub type SchedulerState = Vec<(String, f64)>;

/// A scheduler that sets an optimizer's learning rates (PyTorch's `LRScheduler`).
///
/// The core works on a slice holding each group's current rate, so that schedulers compose
/// ([`ChainedScheduler`], [`SequentialLR`]); [`step`](LrScheduler::step) applies it to an
/// optimizer.
pub trait LrScheduler {
    /// Advances one epoch: `lrs` holds each group's current rate and receives the new ones.
    fn step_lrs(&mut self, lrs: &mut [f64]);

    /// The first step, taken when the scheduler is built (PyTorch's `_initial_step`).
    fn initial_step_lrs(&mut self, lrs: &mut [f64]);

    /// Jumps to epoch 0 with the closed form (how [`SequentialLR`] starts a scheduler at its
    /// milestone).
    fn restart_lrs(&mut self, lrs: &mut [f64]);

    /// Moves the epoch counter back one (how [`SequentialLR`] undoes the first step each
    /// scheduler took when built).
    fn undo_step(&mut self);

    /// The rates the last step set (PyTorch's `get_last_lr`).
    fn last_lrs(&self) -> &[f64];

    /// The running state, to save with a checkpoint.
    fn state(&self) -> SchedulerState;

    /// Restores a state saved by [`state`](LrScheduler::state).
    ///
    /// # Errors
    /// `StateMismatch` when a value is missing or the group count differs.
    fn load_state(&mut self, state: &[(String, f64)]) -> Result<(), OptimError>;

    /// Advances one epoch and sets `optimizer`'s rates: call it after the epoch's
    /// `optimizer.step()`s, as in PyTorch.
    fn step<O: LrGroups + ?Sized>(&mut self, optimizer: &mut O)
    where
        Self: Sized,
    {
        let mut lrs = optimizer.lrs();
        self.step_lrs(&mut lrs);
        set_lrs(optimizer, &lrs);
    }
}

/// Writes `lrs` into the optimizer's groups.
pub(crate) fn set_lrs<O: LrGroups + ?Sized>(optimizer: &mut O, lrs: &[f64]) {
    for (group, &lr) in lrs.iter().enumerate() {
        optimizer.set_group_lr(group, lr);
    }
}

/// The formula of a scheduler built by [`Scheduler`]: PyTorch's `get_lr` for one group.
pub trait ScheduleRule: Clone + std::fmt::Debug {
    /// The scheduler's name, for errors.
    const NAME: &'static str;

    /// Group `group`'s rate at `epoch` (0 for the step taken when built, then 1, 2, …), from
    /// its base rate and its current rate `lr`; `initial` during the step taken when built.
    fn lr(&self, epoch: u64, group: usize, base: f64, lr: f64, initial: bool) -> f64;

    /// The closed form at `epoch` (PyTorch's `_get_closed_form_lr`), from the base rate.
    fn closed_form(&self, epoch: u64, group: usize, base: f64, lr: f64) -> f64 {
        self.lr(epoch, group, base, lr, false)
    }
}

/// A scheduler made of a [`ScheduleRule`]: the epoch counter, each group's base rate, and the
/// last rates set. [`CosineAnnealingLR`], [`LinearLR`] and the others are this type.
#[derive(Clone, Debug)]
pub struct Scheduler<K> {
    rule: K,
    base_lrs: Vec<f64>,
    /// −1 before the first step, as in PyTorch.
    last_epoch: i64,
    last_lrs: Vec<f64>,
}

impl<K: ScheduleRule> Scheduler<K> {
    /// Builds the scheduler on `optimizer` with bases `base_lrs` and takes its first step.
    pub(crate) fn start<O: LrGroups + ?Sized>(
        rule: K,
        optimizer: &mut O,
        base_lrs: Vec<f64>,
    ) -> Self {
        let mut scheduler = Scheduler {
            rule,
            base_lrs,
            last_epoch: -1,
            last_lrs: Vec::new(),
        };
        let mut lrs = optimizer.lrs();
        scheduler.initial_step_lrs(&mut lrs);
        set_lrs(optimizer, &lrs);
        scheduler
    }

    /// Builds the scheduler with every group's initial rate as its base.
    pub(crate) fn on<O: LrGroups + ?Sized>(rule: K, optimizer: &mut O) -> Self {
        let bases = (0..optimizer.num_groups())
            .map(|g| optimizer.initial_lr(g))
            .collect();
        Self::start(rule, optimizer, bases)
    }

    /// The formula's settings.
    pub fn rule(&self) -> &K {
        &self.rule
    }

    /// The epoch counter: 0 after the step taken when built, +1 per step.
    pub fn last_epoch(&self) -> i64 {
        self.last_epoch
    }

    fn apply(&mut self, lrs: &mut [f64], initial: bool, closed: bool) {
        let epoch = self.last_epoch.max(0) as u64;
        for (group, lr) in lrs.iter_mut().enumerate() {
            let base = self.base_lrs[group];
            *lr = if closed {
                self.rule.closed_form(epoch, group, base, *lr)
            } else {
                self.rule.lr(epoch, group, base, *lr, initial)
            };
        }
        self.last_lrs = lrs.to_vec();
    }
}

impl<K: ScheduleRule> LrScheduler for Scheduler<K> {
    fn step_lrs(&mut self, lrs: &mut [f64]) {
        self.last_epoch += 1;
        self.apply(lrs, false, false);
    }

    fn initial_step_lrs(&mut self, lrs: &mut [f64]) {
        self.last_epoch += 1;
        self.apply(lrs, true, false);
    }

    fn restart_lrs(&mut self, lrs: &mut [f64]) {
        self.last_epoch = 0;
        self.apply(lrs, false, true);
    }

    fn undo_step(&mut self) {
        self.last_epoch -= 1;
    }

    fn last_lrs(&self) -> &[f64] {
        &self.last_lrs
    }

    fn state(&self) -> SchedulerState {
        let mut state = vec![("last_epoch".to_string(), self.last_epoch as f64)];
        for (g, (base, last)) in self.base_lrs.iter().zip(&self.last_lrs).enumerate() {
            state.push((format!("base_lr.{g}"), *base));
            state.push((format!("last_lr.{g}"), *last));
        }
        state
    }

    fn load_state(&mut self, state: &[(String, f64)]) -> Result<(), OptimError> {
        let read = StateReader::new(K::NAME, state);
        let groups = self.base_lrs.len();
        let base_lrs = (0..groups)
            .map(|g| read.get(&format!("base_lr.{g}")))
            .collect::<Result<Vec<_>, _>>()?;
        let last_lrs = (0..groups)
            .map(|g| read.get(&format!("last_lr.{g}")))
            .collect::<Result<Vec<_>, _>>()?;
        read.groups(groups)?;
        self.last_epoch = read.get("last_epoch")? as i64;
        self.base_lrs = base_lrs;
        self.last_lrs = last_lrs;
        Ok(())
    }
}

/// Looks values up in a saved [`SchedulerState`].
pub(crate) struct StateReader<'a> {
    name: &'static str,
    state: &'a [(String, f64)],
}

impl<'a> StateReader<'a> {
    pub(crate) fn new(name: &'static str, state: &'a [(String, f64)]) -> Self {
        StateReader { name, state }
    }

    fn mismatch<T>(&self, detail: String) -> Result<T, OptimError> {
        Err(OptimError::StateMismatch {
            optimizer: self.name,
            detail,
        })
    }

    /// The value named `key`.
    pub(crate) fn get(&self, key: &str) -> Result<f64, OptimError> {
        match self.state.iter().find(|(k, _)| k == key) {
            Some((_, v)) => Ok(*v),
            None => self.mismatch(format!("no \"{key}\" in the saved state")),
        }
    }

    /// Checks that the state is for `groups` groups (no `base_lr.{groups}` entry).
    pub(crate) fn groups(&self, groups: usize) -> Result<(), OptimError> {
        let key = format!("base_lr.{groups}");
        if self.state.iter().any(|(k, _)| *k == key) {
            return self.mismatch(format!("state for more than {groups} groups"));
        }
        Ok(())
    }

    /// The entries under `prefix` ("0/…"), with the prefix removed.
    pub(crate) fn under(&self, prefix: &str) -> Vec<(String, f64)> {
        self.state
            .iter()
            .filter_map(|(k, v)| k.strip_prefix(prefix).map(|k| (k.to_string(), *v)))
            .collect()
    }
}
