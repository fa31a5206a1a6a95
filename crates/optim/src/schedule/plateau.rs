//! Reduce on plateau — PyTorch's `ReduceLROnPlateau` (mode "min", relative threshold): when
//! the watched loss has not improved on its best by a relative margin for more than
//! `patience` epochs, the rate is multiplied by `factor` (not below `min_lr`), and the
//! count starts again.

use crate::error::{check, check_lr, check_non_negative};
use crate::OptimError;

/// Watches a loss and lowers the learning rate when it stalls.
#[derive(Clone, Debug, PartialEq)]
pub struct ReduceOnPlateau {
    lr: f64,
    factor: f64,
    patience: usize,
    threshold: f64,
    min_lr: f64,
    best: f64,
    bad_epochs: usize,
}

impl ReduceOnPlateau {
    /// Starts at `lr`; multiplies it by `factor` after more than `patience` epochs without a
    /// loss below best·(1 − `threshold`); never goes below `min_lr`.
    ///
    /// # Errors
    /// `InvalidSetting` for a bad rate, `factor` outside (0, 1), negative `threshold` or
    /// `min_lr`.
    pub fn new(
        lr: f64,
        factor: f64,
        patience: usize,
        threshold: f64,
        min_lr: f64,
    ) -> Result<Self, OptimError> {
        check_lr("ReduceOnPlateau", lr)?;
        check(
            "ReduceOnPlateau",
            "factor",
            factor,
            factor > 0.0 && factor < 1.0,
            "must be in (0, 1)",
        )?;
        check_non_negative("ReduceOnPlateau", "threshold", threshold)?;
        check_non_negative("ReduceOnPlateau", "min_lr", min_lr)?;
        Ok(ReduceOnPlateau {
            lr,
            factor,
            patience,
            threshold,
            min_lr,
            best: f64::INFINITY,
            bad_epochs: 0,
        })
    }

    /// Records one epoch's loss and returns the learning rate for the next epoch.
    pub fn observe(&mut self, loss: f64) -> f64 {
        if loss < self.best * (1.0 - self.threshold) {
            self.best = loss;
            self.bad_epochs = 0;
        } else {
            self.bad_epochs += 1;
        }
        if self.bad_epochs > self.patience {
            self.lr = (self.lr * self.factor).max(self.min_lr);
            self.bad_epochs = 0;
        }
        self.lr
    }

    /// The current learning rate.
    pub fn lr(&self) -> f64 {
        self.lr
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_after_patience_runs_out() {
        // patience 1: the second epoch without improvement halves the rate.
        let mut s = ReduceOnPlateau::new(1.0, 0.5, 1, 0.0, 0.3).unwrap();
        let lrs: Vec<f64> = [3.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0]
            .iter()
            .map(|&l| s.observe(l))
            .collect();
        assert_eq!(lrs, vec![1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.3, 0.3, 0.3]);
        assert!(ReduceOnPlateau::new(1.0, 1.0, 1, 0.0, 0.0).is_err());
    }
}
