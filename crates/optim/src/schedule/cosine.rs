//! Cosine annealing (Loshchilov & Hutter, 2017, "SGDR") — PyTorch's `CosineAnnealingLR`:
//!
//! ```text
//! αₜ = α_min + ½(α₀ − α_min)(1 + cos(π·t/T))
//! ```
//!
//! for every t: past T the rate rises again along the cosine (t keeps counting; there is no
//! restart — for restarts see [`CosineAnnealingWarmRestarts`](super::CosineAnnealingWarmRestarts)).
//!
//! NOTE: until this version [`CosineAnnealing`] stayed at α_min after T, which is not
//! PyTorch's definition: `CosineAnnealing::new(1.0, 1, 0.0)` gave [1, 0, 0] where PyTorch
//! gives [1, 0, 1]. It now follows PyTorch.
//!
//! [`CosineAnnealingLR`] drives an optimizer and computes each rate from the group's current
//! one, as PyTorch's `get_lr` does (so that it chains with other schedulers):
//!
//! ```text
//! αₜ = α_min + (αₜ₋₁ − α_min)·(1 + cos(πt/T)) / (1 + cos(π(t − 1)/T))
//! αₜ = αₜ₋₁ + ½(α₀ − α_min)(1 − cos(π/T))        when t − 1 − T is a multiple of 2T
//! ```
//!
//! (the second line where the first would divide by zero, at the bottom of the cosine).

use std::f64::consts::PI;

use super::{Schedule, ScheduleRule, Scheduler};
use crate::error::{check, check_lr, check_non_negative};
use crate::{LrGroups, OptimError};

/// α_min + (α₀ − α_min)(1 + cos(πt/T))/2, in PyTorch's order of operations.
pub(crate) fn cosine(base: f64, eta_min: f64, t: f64, period: f64) -> f64 {
    eta_min + (base - eta_min) * (1.0 + (PI * t / period).cos()) / 2.0
}

/// From α₀ down to α_min along half a cosine over `period` epochs, and up again after.
#[derive(Clone, Debug, PartialEq)]
pub struct CosineAnnealing {
    base_lr: f64,
    period: usize,
    min_lr: f64,
}

impl CosineAnnealing {
    /// Anneals `base_lr` to `min_lr` over `period` epochs, then rises back along the cosine
    /// (PyTorch's `CosineAnnealingLR` closed form).
    ///
    /// # Errors
    /// `InvalidSetting` for a bad base rate, `period` 0, or `min_lr` < 0 or above `base_lr`.
    pub fn new(base_lr: f64, period: usize, min_lr: f64) -> Result<Self, OptimError> {
        check_lr("CosineAnnealing", base_lr)?;
        check_period("CosineAnnealing", period)?;
        check_non_negative("CosineAnnealing", "min_lr", min_lr)?;
        check(
            "CosineAnnealing",
            "min_lr",
            min_lr,
            min_lr <= base_lr,
            "must not exceed base_lr",
        )?;
        Ok(CosineAnnealing {
            base_lr,
            period,
            min_lr,
        })
    }
}

fn check_period(name: &'static str, period: usize) -> Result<(), OptimError> {
    check(name, "period", period as f64, period > 0, "must be ≥ 1")
}

impl Schedule for CosineAnnealing {
    fn lr(&self, t: usize) -> f64 {
        cosine(self.base_lr, self.min_lr, t as f64, self.period as f64)
    }
}

/// The settings of [`CosineAnnealingLR`]: PyTorch's `T_max` and `eta_min`.
#[derive(Clone, Debug, PartialEq)]
pub struct CosineAnnealingRule {
    /// T: half the cosine's period, in epochs.
    pub t_max: u64,
    /// α_min, the rate at the bottom.
    pub eta_min: f64,
}

/// PyTorch's `CosineAnnealingLR`, driving an optimizer; see the module docs.
pub type CosineAnnealingLR = Scheduler<CosineAnnealingRule>;

impl CosineAnnealingLR {
    /// Anneals every group of `optimizer` from its initial rate to `eta_min` over `t_max`
    /// epochs (and back up over the next `t_max`); sets the epoch-0 rates.
    ///
    /// # Errors
    /// `InvalidSetting` for `t_max` 0 or a negative `eta_min`.
    pub fn new<O: LrGroups + ?Sized>(
        optimizer: &mut O,
        t_max: u64,
        eta_min: f64,
    ) -> Result<Self, OptimError> {
        const NAME: &str = "CosineAnnealingLR";
        check(NAME, "t_max", t_max as f64, t_max > 0, "must be ≥ 1")?;
        check_non_negative(NAME, "eta_min", eta_min)?;
        Ok(Scheduler::on(
            CosineAnnealingRule { t_max, eta_min },
            optimizer,
        ))
    }
}

impl ScheduleRule for CosineAnnealingRule {
    const NAME: &'static str = "CosineAnnealingLR";

    fn lr(&self, epoch: u64, _group: usize, base: f64, lr: f64, initial: bool) -> f64 {
        let (t, period, eta_min) = (epoch as f64, self.t_max as f64, self.eta_min);
        let t_max = self.t_max as i64;
        if initial {
            lr
        } else if (epoch as i64 - 1 - t_max).rem_euclid(2 * t_max) == 0 {
            lr + (base - eta_min) * (1.0 - (PI / period).cos()) / 2.0
        } else {
            (1.0 + (PI * t / period).cos()) / (1.0 + (PI * (t - 1.0) / period).cos())
                * (lr - eta_min)
                + eta_min
        }
    }

    fn closed_form(&self, epoch: u64, _group: usize, base: f64, _lr: f64) -> f64 {
        cosine(base, self.eta_min, epoch as f64, self.t_max as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::LrScheduler;
    use crate::testing::{param, set_grad};
    use crate::{Optimizer, Sgd, SgdConfig};

    #[test]
    fn sequence() {
        // Peak at 0, halfway at T/2, the floor at T, and back up along the cosine after:
        // t = 6 is a whole period, at the peak again (PyTorch's definition).
        let s = CosineAnnealing::new(1.0, 4, 0.2).unwrap();
        assert_eq!(s.lr(0), 1.0);
        assert!((s.lr(2) - 0.6).abs() < 1e-15);
        assert!((s.lr(4) - 0.2).abs() < 1e-15);
        assert!((s.lr(6) - 0.6).abs() < 1e-15);
        assert!((s.lr(8) - 1.0).abs() < 1e-15);
        assert!((s.lr(1) - (0.2 + 0.4 * (1.0 + std::f64::consts::FRAC_1_SQRT_2))).abs() < 1e-15);
    }

    #[test]
    fn past_t_max_the_rate_rises_as_in_torch() {
        // The issue's example: T = 1, α_min = 0, SGD at lr 1 on gradient 1 for 3 steps.
        // PyTorch's rates are [1, 0, 1], so w = 0 − 1 − 0 − 1 = −2.
        let schedule = CosineAnnealing::new(1.0, 1, 0.0).unwrap();
        let lrs: Vec<f64> = (0..3).map(|t| schedule.lr(t)).collect();
        assert_eq!(lrs, vec![1.0, 0.0, 1.0]);

        let w = param(&[0.0]);
        let config = SgdConfig {
            lr: 1.0,
            ..Default::default()
        };
        let mut sgd = Sgd::new(vec![w.clone()], config).unwrap();
        let mut scheduler = CosineAnnealingLR::new(&mut sgd, 1, 0.0).unwrap();
        let mut seen = vec![];
        for _ in 0..3 {
            seen.push(crate::LrGroups::lr(&sgd));
            set_grad(&w, &[1.0]);
            sgd.step();
            scheduler.step(&mut sgd);
        }
        assert_eq!(seen, vec![1.0, 0.0, 1.0]);
        assert_eq!(w.value()[[0]], -2.0);
    }
}
