//! Reduce on plateau — PyTorch's `ReduceLROnPlateau`: when the watched metric has not
//! improved on its best for more than `patience` epochs, every group's rate is multiplied by
//! `factor` (not below `min_lr`), then `cooldown` epochs pass before bad epochs count again.
//!
//! "Improved" means, with ε = `threshold`:
//!
//! ```text
//! min, rel:  m < best·(1 − ε)      min, abs:  m < best − ε
//! max, rel:  m > best·(1 + ε)      max, abs:  m > best + ε
//! ```
//!
//! A reduction smaller than `eps` is skipped (PyTorch's rule, so rates at `min_lr` stay put).

use super::{SchedulerState, StateReader};
use crate::error::{check, check_lr, check_non_negative};
use crate::{LrGroups, OptimError};

/// Whether a lower or a higher metric is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlateauMode {
    /// A loss: lower is better (the default).
    Min,
    /// An accuracy: higher is better.
    Max,
}

/// How `threshold` measures an improvement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThresholdMode {
    /// Relative to the best value (the default).
    Rel,
    /// In the metric's units.
    Abs,
}

/// Settings of [`ReduceLROnPlateau`]; `Default` gives PyTorch's: min, factor 0.1,
/// patience 10, threshold 1e-4 relative, no cooldown, min_lr 0, eps 1e-8.
#[derive(Clone, Debug, PartialEq)]
pub struct PlateauConfig {
    /// Lower or higher is better.
    pub mode: PlateauMode,
    /// The factor applied to the rates, in (0, 1).
    pub factor: f64,
    /// Bad epochs tolerated before reducing.
    pub patience: u64,
    /// The margin an improvement must clear.
    pub threshold: f64,
    /// Whether the margin is relative or absolute.
    pub threshold_mode: ThresholdMode,
    /// Epochs after a reduction during which bad epochs are not counted.
    pub cooldown: u64,
    /// The lowest rate a group is reduced to.
    pub min_lr: f64,
    /// Reductions smaller than this are skipped.
    pub eps: f64,
}

impl Default for PlateauConfig {
    fn default() -> Self {
        PlateauConfig {
            mode: PlateauMode::Min,
            factor: 0.1,
            patience: 10,
            threshold: 1e-4,
            threshold_mode: ThresholdMode::Rel,
            cooldown: 0,
            min_lr: 0.0,
            eps: 1e-8,
        }
    }
}

/// The plateau detector: the best metric so far, and the bad and cooldown epochs.
#[derive(Clone, Debug, PartialEq)]
struct Detector {
    config: PlateauConfig,
    best: f64,
    bad_epochs: u64,
    cooldown_left: u64,
}

impl Detector {
    fn new(config: PlateauConfig) -> Self {
        let best = match config.mode {
            PlateauMode::Min => f64::INFINITY,
            PlateauMode::Max => f64::NEG_INFINITY,
        };
        Detector {
            config,
            best,
            bad_epochs: 0,
            cooldown_left: 0,
        }
    }

    fn is_better(&self, metric: f64) -> bool {
        let (best, eps) = (self.best, self.config.threshold);
        match (self.config.mode, self.config.threshold_mode) {
            (PlateauMode::Min, ThresholdMode::Rel) => metric < best * (1.0 - eps),
            (PlateauMode::Min, ThresholdMode::Abs) => metric < best - eps,
            (PlateauMode::Max, ThresholdMode::Rel) => metric > best * (eps + 1.0),
            (PlateauMode::Max, ThresholdMode::Abs) => metric > best + eps,
        }
    }

    /// Records one epoch's metric; `true` when the rates should be reduced now.
    fn observe(&mut self, metric: f64) -> bool {
        if self.is_better(metric) {
            self.best = metric;
            self.bad_epochs = 0;
        } else {
            self.bad_epochs += 1;
        }
        if self.cooldown_left > 0 {
            self.cooldown_left -= 1;
            self.bad_epochs = 0;
        }
        if self.bad_epochs > self.config.patience {
            self.cooldown_left = self.config.cooldown;
            self.bad_epochs = 0;
            return true;
        }
        false
    }

    /// max(lr·factor, min_lr), unless that changes lr by less than eps.
    fn reduced(&self, lr: f64) -> f64 {
        let new = (lr * self.config.factor).max(self.config.min_lr);
        if lr - new > self.config.eps {
            new
        } else {
            lr
        }
    }
}

fn check_config(name: &'static str, c: &PlateauConfig) -> Result<(), OptimError> {
    let f = c.factor;
    check(name, "factor", f, f > 0.0 && f < 1.0, "must be in (0, 1)")?;
    check_non_negative(name, "threshold", c.threshold)?;
    check_non_negative(name, "min_lr", c.min_lr)?;
    check_non_negative(name, "eps", c.eps)
}

/// PyTorch's `ReduceLROnPlateau`, driving an optimizer; see the module docs.
#[derive(Clone, Debug, PartialEq)]
pub struct ReduceLROnPlateau {
    detector: Detector,
    last_epoch: u64,
}

impl ReduceLROnPlateau {
    /// Watches a metric for the rates of `optimizer` (which it does not change yet).
    ///
    /// # Errors
    /// `InvalidSetting` for `factor` outside (0, 1), or negative `threshold`, `min_lr`, `eps`.
    pub fn new<O: LrGroups + ?Sized>(
        _optimizer: &O,
        config: PlateauConfig,
    ) -> Result<Self, OptimError> {
        check_config("ReduceLROnPlateau", &config)?;
        Ok(ReduceLROnPlateau {
            detector: Detector::new(config),
            last_epoch: 0,
        })
    }

    /// Records one epoch's `metric` and, on a plateau, reduces every group's rate of
    /// `optimizer`.
    pub fn step<O: LrGroups + ?Sized>(&mut self, metric: f64, optimizer: &mut O) {
        self.last_epoch += 1;
        if self.detector.observe(metric) {
            for group in 0..optimizer.num_groups() {
                let lr = self.detector.reduced(optimizer.group_lr(group));
                optimizer.set_group_lr(group, lr);
            }
        }
    }

    /// The best metric so far.
    pub fn best(&self) -> f64 {
        self.detector.best
    }

    /// `"best"`, `"num_bad_epochs"`, `"cooldown_counter"`, `"last_epoch"`.
    pub fn state(&self) -> SchedulerState {
        let d = &self.detector;
        [
            ("best", d.best),
            ("num_bad_epochs", d.bad_epochs as f64),
            ("cooldown_counter", d.cooldown_left as f64),
            ("last_epoch", self.last_epoch as f64),
        ]
        .map(|(k, v)| (k.to_string(), v))
        .to_vec()
    }

    /// Restores a state saved by [`state`](ReduceLROnPlateau::state).
    ///
    /// # Errors
    /// `StateMismatch` when a value is missing.
    pub fn load_state(&mut self, state: &[(String, f64)]) -> Result<(), OptimError> {
        let read = StateReader::new("ReduceLROnPlateau", state);
        let (best, bad, cooldown, epoch) = (
            read.get("best")?,
            read.get("num_bad_epochs")?,
            read.get("cooldown_counter")?,
            read.get("last_epoch")?,
        );
        self.detector.best = best;
        self.detector.bad_epochs = bad as u64;
        self.detector.cooldown_left = cooldown as u64;
        self.last_epoch = epoch as u64;
        Ok(())
    }
}

/// Watches a loss and lowers one learning rate when it stalls: [`ReduceLROnPlateau`]'s rule
/// (mode min, relative threshold, no cooldown) on a rate it holds itself.
#[derive(Clone, Debug, PartialEq)]
pub struct ReduceOnPlateau {
    lr: f64,
    detector: Detector,
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
        let config = PlateauConfig {
            factor,
            patience: patience as u64,
            threshold,
            min_lr,
            eps: 0.0,
            ..Default::default()
        };
        check_config("ReduceOnPlateau", &config)?;
        Ok(ReduceOnPlateau {
            lr,
            detector: Detector::new(config),
        })
    }

    /// Records one epoch's loss and returns the learning rate for the next epoch.
    pub fn observe(&mut self, loss: f64) -> f64 {
        if self.detector.observe(loss) {
            self.lr = self.detector.reduced(self.lr);
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
