//! Exponential decay — PyTorch's `ExponentialLR`: αₜ = α₀·γᵗ.

use super::Schedule;
use crate::error::{check, check_lr};
use crate::OptimError;

/// α₀·γᵗ.
#[derive(Clone, Debug, PartialEq)]
pub struct Exponential {
    base_lr: f64,
    gamma: f64,
}

impl Exponential {
    /// Multiplies `base_lr` by `gamma` every epoch.
    ///
    /// # Errors
    /// `InvalidSetting` for a bad base rate or γ outside (0, 1].
    pub fn new(base_lr: f64, gamma: f64) -> Result<Self, OptimError> {
        check_lr("Exponential", base_lr)?;
        check(
            "Exponential",
            "gamma",
            gamma,
            gamma > 0.0 && gamma <= 1.0,
            "must be in (0, 1]",
        )?;
        Ok(Exponential { base_lr, gamma })
    }
}

impl Schedule for Exponential {
    fn lr(&self, t: usize) -> f64 {
        self.base_lr * self.gamma.powi(t as i32)
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
