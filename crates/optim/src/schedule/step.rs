//! Step decay — PyTorch's `StepLR`: αₜ = α₀·γ^⌊t/s⌋, the rate multiplied by γ every s epochs.
//! [`StepLR`] drives an optimizer; [`StepDecay`] is the pure function.

use super::{Schedule, ScheduleRule, Scheduler};
use crate::error::{check, check_lr};
use crate::{LrGroups, OptimError};

/// α₀·γ^⌊t/step_size⌋.
#[derive(Clone, Debug, PartialEq)]
pub struct StepDecay {
    base_lr: f64,
    step_size: usize,
    gamma: f64,
}

impl StepDecay {
    /// Multiplies `base_lr` by `gamma` every `step_size` epochs.
    ///
    /// # Errors
    /// `InvalidSetting` for a bad base rate, `step_size` 0, or γ outside (0, 1].
    pub fn new(base_lr: f64, step_size: usize, gamma: f64) -> Result<Self, OptimError> {
        check_lr("StepDecay", base_lr)?;
        check(
            "StepDecay",
            "step_size",
            step_size as f64,
            step_size > 0,
            "must be ≥ 1",
        )?;
        check(
            "StepDecay",
            "gamma",
            gamma,
            gamma > 0.0 && gamma <= 1.0,
            "must be in (0, 1]",
        )?;
        Ok(StepDecay {
            base_lr,
            step_size,
            gamma,
        })
    }
}

impl Schedule for StepDecay {
    fn lr(&self, t: usize) -> f64 {
        self.base_lr * self.gamma.powi((t / self.step_size) as i32)
    }
}

/// The settings of [`StepLR`]: every `step_size` epochs, the rate is multiplied by `gamma`.
#[derive(Clone, Debug, PartialEq)]
pub struct StepRule {
    /// Epochs between reductions (≥ 1).
    pub step_size: u64,
    /// The factor of each reduction.
    pub gamma: f64,
}

/// PyTorch's `StepLR`, driving an optimizer.
pub type StepLR = Scheduler<StepRule>;

impl StepLR {
    /// Multiplies every group's rate by `gamma` every `step_size` epochs.
    ///
    /// # Errors
    /// `InvalidSetting` for a `step_size` of 0 or γ outside (0, 1].
    pub fn new<O: LrGroups + ?Sized>(
        optimizer: &mut O,
        step_size: u64,
        gamma: f64,
    ) -> Result<Self, OptimError> {
        const NAME: &str = "StepLR";
        check(
            NAME,
            "step_size",
            step_size as f64,
            step_size > 0,
            "must be ≥ 1",
        )?;
        check(
            NAME,
            "gamma",
            gamma,
            gamma > 0.0 && gamma <= 1.0,
            "must be in (0, 1]",
        )?;
        Ok(Scheduler::on(StepRule { step_size, gamma }, optimizer))
    }
}

impl ScheduleRule for StepRule {
    const NAME: &'static str = "StepLR";

    fn lr(&self, epoch: u64, _group: usize, _base: f64, lr: f64, initial: bool) -> f64 {
        if initial || epoch == 0 || !epoch.is_multiple_of(self.step_size) {
            lr
        } else {
            lr * self.gamma
        }
    }

    fn closed_form(&self, epoch: u64, _group: usize, base: f64, _lr: f64) -> f64 {
        base * self.gamma.powf((epoch / self.step_size) as f64)
    }
}

#[cfg(test)]
mod tests {
    use crate::schedule::LrScheduler;
    use crate::{LrGroups, Sgd, SgdConfig};

    #[test]
    fn step_lr_matches_torch() {
        // torch.optim.lr_scheduler.StepLR(SGD(lr=0.1), step_size=3, gamma=0.5): the rate of
        // each of the first 8 epochs, printed by PyTorch 2.15.
        let torch = [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025];
        let w = tapegrad_tensor::Param::<f64>::new("w", ndarray::arr1(&[0.0]).into_dyn());
        let mut sgd = Sgd::new(
            vec![w],
            SgdConfig {
                lr: 0.1,
                ..Default::default()
            },
        )
        .unwrap();
        let mut scheduler = StepLR::new(&mut sgd, 3, 0.5).unwrap();
        for want in torch {
            assert!((sgd.lr() - want).abs() < 1e-15, "{} vs {want}", sgd.lr());
            scheduler.step(&mut sgd);
        }
        assert!(StepLR::new(&mut sgd, 0, 0.5).is_err());
    }

    use super::*;

    #[test]
    fn sequence() {
        let s = StepDecay::new(1.0, 2, 0.5).unwrap();
        let lrs: Vec<f64> = (0..6).map(|t| s.lr(t)).collect();
        assert_eq!(lrs, vec![1.0, 1.0, 0.5, 0.5, 0.25, 0.25]);
        assert_eq!(
            StepDecay::new(1.0, 0, 0.5).unwrap_err().to_string(),
            "StepDecay: step_size = 0: must be ≥ 1"
        );
    }
}
