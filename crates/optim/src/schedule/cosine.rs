//! Cosine annealing (Loshchilov & Hutter, 2017, "SGDR") — PyTorch's `CosineAnnealingLR`:
//!
//! ```text
//! αₜ = α_min + ½(α₀ − α_min)(1 + cos(π·t/T))   for t ≤ T,   α_min after
//! ```

use super::Schedule;
use crate::error::{check, check_lr, check_non_negative};
use crate::OptimError;

/// From α₀ down to α_min along half a cosine over `period` epochs.
#[derive(Clone, Debug, PartialEq)]
pub struct CosineAnnealing {
    base_lr: f64,
    period: usize,
    min_lr: f64,
}

impl CosineAnnealing {
    /// Anneals `base_lr` to `min_lr` over `period` epochs, then stays at `min_lr`.
    ///
    /// # Errors
    /// `InvalidSetting` for a bad base rate, `period` 0, or `min_lr` < 0 or above `base_lr`.
    pub fn new(base_lr: f64, period: usize, min_lr: f64) -> Result<Self, OptimError> {
        check_lr("CosineAnnealing", base_lr)?;
        check(
            "CosineAnnealing",
            "period",
            period as f64,
            period > 0,
            "must be ≥ 1",
        )?;
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

impl Schedule for CosineAnnealing {
    fn lr(&self, t: usize) -> f64 {
        let progress = t.min(self.period) as f64 / self.period as f64;
        self.min_lr
            + 0.5 * (self.base_lr - self.min_lr) * (1.0 + (std::f64::consts::PI * progress).cos())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence() {
        // Peak at 0, halfway at T/2, the floor at T and after.
        let s = CosineAnnealing::new(1.0, 4, 0.2).unwrap();
        assert_eq!(s.lr(0), 1.0);
        assert!((s.lr(2) - 0.6).abs() < 1e-15);
        assert!((s.lr(4) - 0.2).abs() < 1e-15);
        assert!((s.lr(9) - 0.2).abs() < 1e-15);
        assert!((s.lr(1) - (0.2 + 0.4 * (1.0 + std::f64::consts::FRAC_1_SQRT_2))).abs() < 1e-15);
    }
}
