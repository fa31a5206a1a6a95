//! Cosine annealing with warm restarts (Loshchilov & Hutter, 2017, "SGDR: Stochastic Gradient
//! Descent with Warm Restarts") — PyTorch's `CosineAnnealingWarmRestarts`.
//!
//! The rate follows half a cosine from the base rate α₀ down towards α_min over a cycle of
//! Tᵢ epochs, then jumps back to α₀ ("restart"); each cycle is `t_mult` times as long as the
//! one before, the first `t_0` long:
//!
//! ```text
//! αₜ = α_min + ½(α₀ − α_min)(1 + cos(π·T_cur/Tᵢ))
//! T_cur: epochs since the last restart;  T₀ = t_0,  Tᵢ₊₁ = t_mult·Tᵢ
//! ```
//!
//! Unlike [`CosineAnnealingLR`](super::CosineAnnealingLR), the rate never reaches α_min
//! exactly: the epoch that would is the restart.

use super::cosine::cosine;
use super::{ScheduleRule, Scheduler};
use crate::error::{check, check_non_negative};
use crate::{LrGroups, OptimError};

/// The settings of [`CosineAnnealingWarmRestarts`]: PyTorch's `T_0`, `T_mult`, `eta_min`.
#[derive(Clone, Debug, PartialEq)]
pub struct WarmRestartsRule {
    /// T₀, the first cycle's length in epochs.
    pub t_0: u64,
    /// How much longer each cycle is than the one before (1: all equal).
    pub t_mult: u64,
    /// α_min.
    pub eta_min: f64,
}

/// PyTorch's `CosineAnnealingWarmRestarts`, driving an optimizer; see the module docs.
pub type CosineAnnealingWarmRestarts = Scheduler<WarmRestartsRule>;

impl CosineAnnealingWarmRestarts {
    /// Cycles every group of `optimizer` from its initial rate towards `eta_min`, restarting
    /// after `t_0`, then `t_0·t_mult`, … epochs (PyTorch's defaults: `t_mult` 1, `eta_min` 0).
    ///
    /// # Errors
    /// `InvalidSetting` for `t_0` or `t_mult` 0, or a negative `eta_min`.
    pub fn new<O: LrGroups + ?Sized>(
        optimizer: &mut O,
        t_0: u64,
        t_mult: u64,
        eta_min: f64,
    ) -> Result<Self, OptimError> {
        const NAME: &str = "CosineAnnealingWarmRestarts";
        check(NAME, "t_0", t_0 as f64, t_0 > 0, "must be ≥ 1")?;
        check(NAME, "t_mult", t_mult as f64, t_mult > 0, "must be ≥ 1")?;
        check_non_negative(NAME, "eta_min", eta_min)?;
        let rule = WarmRestartsRule {
            t_0,
            t_mult,
            eta_min,
        };
        Ok(Scheduler::on(rule, optimizer))
    }
}

impl WarmRestartsRule {
    /// (T_cur, Tᵢ) at `epoch`: where in which cycle.
    pub fn position(&self, epoch: u64) -> (u64, u64) {
        if self.t_mult == 1 {
            return (epoch % self.t_0, self.t_0);
        }
        let (mut start, mut length) = (0, self.t_0);
        while epoch >= start + length {
            start += length;
            length *= self.t_mult;
        }
        (epoch - start, length)
    }
}

impl ScheduleRule for WarmRestartsRule {
    const NAME: &'static str = "CosineAnnealingWarmRestarts";

    fn lr(&self, epoch: u64, _group: usize, base: f64, _lr: f64, _initial: bool) -> f64 {
        let (t_cur, t_i) = self.position(epoch);
        cosine(base, self.eta_min, t_cur as f64, t_i as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycles_grow_by_t_mult() {
        // T₀ = 3, T_mult = 2: cycles [0, 3), [3, 9), [9, 21).
        let rule = WarmRestartsRule {
            t_0: 3,
            t_mult: 2,
            eta_min: 0.0,
        };
        let positions: Vec<_> = [0, 2, 3, 8, 9, 20, 21].map(|e| rule.position(e)).to_vec();
        assert_eq!(
            positions,
            vec![(0, 3), (2, 3), (0, 6), (5, 6), (0, 12), (11, 12), (0, 24)]
        );
    }
}
