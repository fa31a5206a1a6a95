//! Step decay — PyTorch's `StepLR`: αₜ = α₀·γ^⌊t/s⌋, the rate multiplied by γ every s epochs.

use super::Schedule;
use crate::error::{check, check_lr};
use crate::OptimError;

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

#[cfg(test)]
mod tests {
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
