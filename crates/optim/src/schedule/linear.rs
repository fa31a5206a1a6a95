//! Linear scaling — PyTorch's `LinearLR`: each group's rate goes from `start_factor` times its
//! base rate to `end_factor` times it in `total_iters` equal steps, then stays:
//!
//! ```text
//! αₜ = α₀·(s + (e − s)·min(t, T)/T)
//! ```
//!
//! computed, as PyTorch does, from the previous rate (so that it chains with others):
//! α₀·s at t = 0, then αₜ = αₜ₋₁·(1 + (e − s)/(T·s + (t − 1)(e − s))) for t ≤ T.
//! The classic warm-up is `LinearLR::new(opt, 0.1, 1.0, 5)`.

use super::{ScheduleRule, Scheduler};
use crate::error::check;
use crate::{LrGroups, OptimError};

/// The settings of [`LinearLR`]: PyTorch's `start_factor`, `end_factor`, `total_iters`.
#[derive(Clone, Debug, PartialEq)]
pub struct LinearRule {
    /// s, the factor at epoch 0, in (0, 1].
    pub start_factor: f64,
    /// e, the factor from epoch T on, in [0, 1].
    pub end_factor: f64,
    /// T, the epochs it takes.
    pub total_iters: u64,
}

/// PyTorch's `LinearLR`, driving an optimizer; see the module docs.
pub type LinearLR = Scheduler<LinearRule>;

impl LinearLR {
    /// Scales every group of `optimizer` linearly from `start_factor` to `end_factor` times
    /// its initial rate over `total_iters` epochs (PyTorch's defaults are 1/3, 1 and 5); sets
    /// the epoch-0 rates.
    ///
    /// # Errors
    /// `InvalidSetting` for `start_factor` outside (0, 1], `end_factor` outside [0, 1], or
    /// `total_iters` 0.
    pub fn new<O: LrGroups + ?Sized>(
        optimizer: &mut O,
        start_factor: f64,
        end_factor: f64,
        total_iters: u64,
    ) -> Result<Self, OptimError> {
        const NAME: &str = "LinearLR";
        let s = start_factor;
        check(
            NAME,
            "start_factor",
            s,
            s > 0.0 && s <= 1.0,
            "must be in (0, 1]",
        )?;
        let e = end_factor;
        check(
            NAME,
            "end_factor",
            e,
            (0.0..=1.0).contains(&e),
            "must be in [0, 1]",
        )?;
        let t = total_iters;
        check(NAME, "total_iters", t as f64, t > 0, "must be ≥ 1")?;
        let rule = LinearRule {
            start_factor,
            end_factor,
            total_iters,
        };
        Ok(Scheduler::on(rule, optimizer))
    }
}

impl ScheduleRule for LinearRule {
    const NAME: &'static str = "LinearLR";

    fn lr(&self, epoch: u64, _group: usize, _base: f64, lr: f64, initial: bool) -> f64 {
        let (s, e, total) = (self.start_factor, self.end_factor, self.total_iters);
        if epoch == 0 {
            lr * s
        } else if initial || epoch > total {
            lr
        } else {
            lr * (1.0 + (e - s) / (total as f64 * s + (epoch - 1) as f64 * (e - s)))
        }
    }

    fn closed_form(&self, epoch: u64, _group: usize, base: f64, _lr: f64) -> f64 {
        let (s, e, total) = (self.start_factor, self.end_factor, self.total_iters);
        base * (s + (e - s) * total.min(epoch) as f64 / total as f64)
    }
}
