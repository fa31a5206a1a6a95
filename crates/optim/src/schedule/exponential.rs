//! Exponential decay — PyTorch's `ExponentialLR`: αₜ = α₀·γᵗ. [`ExponentialLR`] drives an
//! optimizer (αₜ = γ·αₜ₋₁, the chainable form); [`Exponential`] is the pure function.

use super::{Schedule, ScheduleRule, Scheduler};
use crate::error::{check, check_lr};
use crate::{LrGroups, OptimError};

/// α₀·γᵗ.
#[derive(Clone, Debug, PartialEq)]
pub struct Exponential {
    base_lr: f64,
    gamma: f64,
}

fn check_gamma(name: &'static str, gamma: f64) -> Result<(), OptimError> {
    check(
        name,
        "gamma",
        gamma,
        gamma > 0.0 && gamma <= 1.0,
        "must be in (0, 1]",
    )
}

impl Exponential {
    /// Multiplies `base_lr` by `gamma` every epoch.
    ///
    /// # Errors
    /// `InvalidSetting` for a bad base rate or γ outside (0, 1].
    pub fn new(base_lr: f64, gamma: f64) -> Result<Self, OptimError> {
        check_lr("Exponential", base_lr)?;
        check_gamma("Exponential", gamma)?;
        Ok(Exponential { base_lr, gamma })
    }
}

impl Schedule for Exponential {
    fn lr(&self, t: usize) -> f64 {
        self.base_lr * self.gamma.powi(t as i32)
    }
}

/// The setting of [`ExponentialLR`]: γ.
#[derive(Clone, Debug, PartialEq)]
pub struct ExponentialRule {
    /// γ, the factor per epoch.
    pub gamma: f64,
}

/// PyTorch's `ExponentialLR`, driving an optimizer.
pub type ExponentialLR = Scheduler<ExponentialRule>;

impl ExponentialLR {
    /// Multiplies every group's rate by `gamma` each epoch.
    ///
    /// # Errors
    /// `InvalidSetting` for γ outside (0, 1].
    pub fn new<O: LrGroups + ?Sized>(optimizer: &mut O, gamma: f64) -> Result<Self, OptimError> {
        check_gamma("ExponentialLR", gamma)?;
        Ok(Scheduler::on(ExponentialRule { gamma }, optimizer))
    }
}

impl ScheduleRule for ExponentialRule {
    const NAME: &'static str = "ExponentialLR";

    fn lr(&self, _epoch: u64, _group: usize, _base: f64, lr: f64, initial: bool) -> f64 {
        if initial {
            lr
        } else {
            lr * self.gamma
        }
    }

    fn closed_form(&self, epoch: u64, _group: usize, base: f64, _lr: f64) -> f64 {
        base * self.gamma.powf(epoch as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence() {
        let s = Exponential::new(2.0, 0.5).unwrap();
        assert_eq!(
            (0..4).map(|t| s.lr(t)).collect::<Vec<_>>(),
            vec![2.0, 1.0, 0.5, 0.25]
        );
        assert!(Exponential::new(1.0, 1.5).is_err());
    }
}
