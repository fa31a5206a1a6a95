//! Early stopping: stop when a monitored value has not improved for `patience` epochs, and
//! put back the weights of the best epoch (Keras's `EarlyStopping(restore_best_weights=True)`).

use ndarray::ArrayD;
use tapegrad_tensor::Float;

use super::history::EpochRecord;
use crate::buffer::Buffer;
use crate::module::Module;

/// Which number of an epoch's record to watch.
#[derive(Clone, Debug, PartialEq)]
pub enum Monitor {
    /// The validation loss (lower is better); fitting without a validation loader is then an
    /// error, never a silent switch to the training loss.
    ValLoss,
    /// The training loss (lower is better).
    TrainLoss,
    /// A metric given to the trainer, by name.
    Metric {
        /// The metric's name.
        name: String,
        /// Whether larger values are better (accuracy) or smaller ones (error rates).
        higher_is_better: bool,
    },
}

impl Monitor {
    /// The monitored value's name as history shows it.
    pub fn name(&self) -> &str {
        match self {
            Monitor::ValLoss => "val_loss",
            Monitor::TrainLoss => "train_loss",
            Monitor::Metric { name, .. } => name,
        }
    }

    /// The value in `record`, if it has one.
    pub fn read(&self, record: &EpochRecord) -> Option<f64> {
        match self {
            Monitor::ValLoss => record.val_loss,
            Monitor::TrainLoss => Some(record.train_loss),
            Monitor::Metric { name, .. } => record.metrics.get(name).copied(),
        }
    }

    /// Whether `value` improves on `best` by more than `min_delta`. NaN never improves.
    pub fn improves(&self, value: f64, best: f64, min_delta: f64) -> bool {
        match self {
            Monitor::Metric {
                higher_is_better: true,
                ..
            } => value > best + min_delta,
            _ => value < best - min_delta,
        }
    }
}

/// Stop after `patience` epochs without improvement of `monitor` by more than `min_delta`.
#[derive(Clone, Debug, PartialEq)]
pub struct EarlyStopping {
    /// What to watch (default: the validation loss).
    pub monitor: Monitor,
    /// Epochs without improvement before stopping (≥ 1).
    pub patience: usize,
    /// The smallest change that counts as an improvement (default 0).
    pub min_delta: f64,
    /// Whether to put back the best epoch's weights when training ends (default true).
    pub restore_best_weights: bool,
}

impl EarlyStopping {
    /// Watch the validation loss with `patience`, restoring the best weights.
    pub fn new(patience: usize) -> Self {
        EarlyStopping {
            monitor: Monitor::ValLoss,
            patience,
            min_delta: 0.0,
            restore_best_weights: true,
        }
    }

    /// The same rule watching `monitor`.
    pub fn monitor(mut self, monitor: Monitor) -> Self {
        self.monitor = monitor;
        self
    }
}

/// A copy of a module's parameters and buffers, in its listing order.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Weights<F: Float> {
    /// One array per parameter, then one per float buffer.
    pub(crate) arrays: Vec<ArrayD<F>>,
    /// One count per counter buffer.
    pub(crate) counts: Vec<i64>,
}

impl<F: Float> Weights<F> {
    /// What `module` holds now.
    pub(crate) fn of<M: Module<F> + ?Sized>(module: &M) -> Self {
        let mut arrays: Vec<ArrayD<F>> = module
            .parameters()
            .iter()
            .map(|p| (*p.value()).clone())
            .collect();
        let mut counts = Vec::new();
        for (_, buffer) in module.named_buffers() {
            match buffer {
                Buffer::Float(p) => arrays.push((*p.value()).clone()),
                Buffer::Count(c) => counts.push(c.get()),
            }
        }
        Weights { arrays, counts }
    }

    /// Puts these values back into `module` (the module they were taken from).
    pub(crate) fn restore<M: Module<F> + ?Sized>(&self, module: &M) {
        let params = module.parameters();
        let mut arrays = self.arrays.iter();
        let mut counts = self.counts.iter();
        for p in &params {
            p.set_value(arrays.next().expect("a copy of this module").clone())
                .expect("the module's own shapes");
        }
        for (_, buffer) in module.named_buffers() {
            match buffer {
                Buffer::Float(p) => p
                    .set_value(arrays.next().expect("a copy of this module").clone())
                    .expect("the module's own shapes"),
                Buffer::Count(c) => c.set(*counts.next().expect("a copy of this module")),
            }
        }
    }
}

/// Where early stopping stands during a run (saved in checkpoints).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Watch<F: Float> {
    /// The best value so far (±∞ before the first epoch).
    pub(crate) best: f64,
    /// Its epoch (0: the weights before training).
    pub(crate) best_epoch: usize,
    /// Epochs since the last improvement.
    pub(crate) bad_epochs: usize,
    /// The best epoch's weights, when they are to be restored.
    pub(crate) best_weights: Option<Weights<F>>,
}

impl<F: Float> Watch<F> {
    /// Nothing seen yet.
    pub(crate) fn new(rule: &EarlyStopping) -> Self {
        let higher = matches!(
            rule.monitor,
            Monitor::Metric {
                higher_is_better: true,
                ..
            }
        );
        Watch {
            best: if higher {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            },
            best_epoch: 0,
            bad_epochs: 0,
            best_weights: None,
        }
    }

    /// Takes in an epoch's value; returns whether patience has run out.
    pub(crate) fn observe<M: Module<F> + ?Sized>(
        &mut self,
        rule: &EarlyStopping,
        epoch: usize,
        value: f64,
        module: &M,
    ) -> bool {
        if rule.monitor.improves(value, self.best, rule.min_delta) {
            self.best = value;
            self.best_epoch = epoch;
            self.bad_epochs = 0;
            if rule.restore_best_weights {
                self.best_weights = Some(Weights::of(module));
            }
        } else {
            self.bad_epochs += 1;
        }
        self.bad_epochs >= rule.patience
    }
}
