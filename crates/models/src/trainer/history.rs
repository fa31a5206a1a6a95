//! What a training run returns: one [`EpochRecord`] per epoch, and why it stopped.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{json, Value};
use tapegrad_optim::stop::StopReason;

/// The measurements of one epoch.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochRecord {
    /// 1 for the first epoch; 0 for the evaluation before training.
    pub epoch: usize,
    /// The training loss: by default the mean of the epoch's batch losses, weighted by batch
    /// size (measured while the weights moved, as Keras and Lightning report it; on the full
    /// batch, the loss at the weights the epoch started from); with
    /// [`TrainLoss::Evaluate`](super::TrainLoss::Evaluate), the loss of the weights at the
    /// epoch's end.
    pub train_loss: f64,
    /// The validation loss at the epoch's end, when a validation loader was given.
    pub val_loss: Option<f64>,
    /// The metrics at the epoch's end, on the validation data when given, else on the
    /// training data.
    pub metrics: BTreeMap<String, f64>,
    /// The learning rate of the first parameter group during the epoch.
    pub lr: f64,
    /// On a full batch: the gradient norm the epoch's update used (first-order) or the one at
    /// its end (L-BFGS). `None` with mini-batches, where no full gradient is computed.
    pub grad_norm: Option<f64>,
    /// Wall-clock seconds the epoch took, evaluation included (checkpoints leave it out, so
    /// that the same run writes the same bytes: a resumed history reads 0 for earlier epochs).
    pub seconds: f64,
}

/// Why training stopped.
#[derive(Clone, Debug, PartialEq)]
pub enum Stop {
    /// Every epoch of the budget ran and no rule fired: the run did not converge by any rule
    /// (scikit-learn's ConvergenceWarning).
    EpochBudget {
        /// The budget.
        epochs: usize,
    },
    /// The step budget of [`Trainer::max_steps`](super::Trainer::max_steps) was spent.
    StepBudget {
        /// Optimizer steps taken.
        steps: usize,
    },
    /// The monitored value stopped improving for `patience` epochs.
    EarlyStopping {
        /// The epoch at which it stopped.
        epoch: usize,
        /// The best epoch.
        best_epoch: usize,
        /// The monitored value there.
        best: f64,
        /// The monitored value's name (`"val_loss"`, a metric).
        monitor: String,
        /// Whether the best epoch's weights were put back.
        restored: bool,
    },
    /// A stopping rule of `tapegrad-optim` fired: converged (gradient norm, loss change,
    /// loss below) or diverged (non-finite or growing loss).
    Rule(StopReason),
    /// A callback asked to stop.
    Callback {
        /// The epoch during which it asked.
        epoch: usize,
        /// The callback's reason.
        reason: String,
    },
}

impl Stop {
    /// Whether training diverged (the loss became non-finite or grew past the rule).
    pub fn diverged(&self) -> bool {
        matches!(self, Stop::Rule(StopReason::Diverged { .. }))
    }

    /// Whether a convergence rule fired.
    pub fn converged(&self) -> bool {
        matches!(self, Stop::Rule(reason) if reason.converged())
    }
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stop::EpochBudget { epochs } => write!(
                f,
                "did not converge: ran all {epochs} epoch{} without meeting a stopping rule",
                if *epochs == 1 { "" } else { "s" }
            ),
            Stop::StepBudget { steps } => write!(
                f,
                "did not converge: took all {steps} step{} of the budget without meeting a stopping rule",
                if *steps == 1 { "" } else { "s" }
            ),
            Stop::EarlyStopping {
                epoch,
                best_epoch,
                best,
                monitor,
                restored,
            } => write!(
                f,
                "early stopping at epoch {epoch}: {monitor} last improved at epoch {best_epoch} ({best:.6e}){}",
                if *restored { "; its weights were restored" } else { "" }
            ),
            Stop::Rule(reason) => f.write_str(&reason.describe("epoch")),
            Stop::Callback { epoch, reason } => {
                write!(f, "stopped by a callback at epoch {epoch}: {reason}")
            }
        }
    }
}

/// Everything a run measured, returned by [`Trainer::fit`](super::Trainer::fit) (and saved
/// in checkpoints): never only printed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    /// The evaluation before the first update (epoch 0), when the trainer makes one.
    pub start: Option<EpochRecord>,
    /// One record per epoch run, in order.
    pub epochs: Vec<EpochRecord>,
    /// Why it stopped (`None` only while running).
    pub stop: Option<Stop>,
    /// The epoch whose weights early stopping put back at the end, if it did.
    pub restored_epoch: Option<usize>,
}

impl History {
    /// The training losses, epoch 0 first when measured.
    pub fn train_losses(&self) -> Vec<f64> {
        self.records().map(|r| r.train_loss).collect()
    }

    /// The validation losses, epoch 0 first when measured (empty without validation).
    pub fn val_losses(&self) -> Vec<f64> {
        self.records().filter_map(|r| r.val_loss).collect()
    }

    /// A metric's values, epoch 0 first when measured.
    pub fn metric(&self, name: &str) -> Vec<f64> {
        self.records()
            .filter_map(|r| r.metrics.get(name).copied())
            .collect()
    }

    /// The last epoch's record.
    pub fn last(&self) -> Option<&EpochRecord> {
        self.epochs.last()
    }

    /// The record of the epoch whose weights the model holds after the run: the one early
    /// stopping put back, else the last one run (epoch 0 when none ran). Its validation loss
    /// and metrics are the trained model's, where [`last`](Self::last) may describe weights
    /// that were discarded.
    pub fn kept(&self) -> Option<&EpochRecord> {
        match self.restored_epoch {
            Some(epoch) => self.records().find(|r| r.epoch == epoch),
            None => self.records().last(),
        }
    }

    /// Epoch 0 (when measured), then every epoch.
    pub fn records(&self) -> impl Iterator<Item = &EpochRecord> {
        self.start.iter().chain(&self.epochs)
    }

    /// The history as JSON (how a checkpoint stores it; non-finite numbers as strings),
    /// without the epochs' wall-clock times: the same run must save the same bytes.
    pub fn to_json(&self) -> Value {
        json!({
            "start": self.start.as_ref().map(record_to_json),
            "epochs": self.epochs.iter().map(record_to_json).collect::<Vec<_>>(),
        })
    }

    /// Reads [`to_json`](Self::to_json)'s form (without the stop, which a resumed run sets
    /// anew); `None` when it is not that.
    pub fn from_json(value: &Value) -> Option<Self> {
        let start = match &value["start"] {
            Value::Null => None,
            record => Some(record_from_json(record)?),
        };
        let epochs = value["epochs"]
            .as_array()?
            .iter()
            .map(record_from_json)
            .collect::<Option<Vec<_>>>()?;
        Some(History {
            start,
            epochs,
            ..History::default()
        })
    }
}

/// A float as JSON: a number when finite (serde_json writes the shortest text that reads
/// back to the same bits), else the string `"NaN"`, `"inf"` or `"-inf"`.
pub(crate) fn number(x: f64) -> Value {
    if x.is_finite() {
        json!(x)
    } else {
        Value::String(x.to_string())
    }
}

/// Reads [`number`]'s form.
pub(crate) fn read_number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn record_to_json(r: &EpochRecord) -> Value {
    let metrics: serde_json::Map<String, Value> = r
        .metrics
        .iter()
        .map(|(k, v)| (k.clone(), number(*v)))
        .collect();
    json!({
        "epoch": r.epoch,
        "train_loss": number(r.train_loss),
        "val_loss": r.val_loss.map(number),
        "metrics": metrics,
        "lr": number(r.lr),
        "grad_norm": r.grad_norm.map(number),
    })
}

fn record_from_json(value: &Value) -> Option<EpochRecord> {
    let optional = |v: &Value| match v {
        Value::Null => Some(None),
        v => read_number(v).map(Some),
    };
    Some(EpochRecord {
        epoch: usize::try_from(value["epoch"].as_u64()?).ok()?,
        train_loss: read_number(&value["train_loss"])?,
        val_loss: optional(&value["val_loss"])?,
        metrics: value["metrics"]
            .as_object()?
            .iter()
            .map(|(k, v)| Some((k.clone(), read_number(v)?)))
            .collect::<Option<_>>()?,
        lr: read_number(&value["lr"])?,
        grad_norm: optional(&value["grad_norm"])?,
        seconds: 0.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_history_survives_json_bit_for_bit() {
        let record = |epoch: usize, loss: f64| EpochRecord {
            epoch,
            train_loss: loss,
            val_loss: Some(loss * 1.1),
            metrics: [("accuracy".to_string(), 0.1 + 0.2)].into(),
            lr: 1e-3 / 3.0,
            grad_norm: (epoch == 1).then_some(f64::INFINITY),
            seconds: 0.0,
        };
        let history = History {
            start: Some(record(0, f64::NAN)),
            epochs: vec![record(1, 2.0 / 3.0), record(2, 1e-300)],
            ..History::default()
        };
        let back = History::from_json(&history.to_json()).unwrap();
        assert!(back.start.as_ref().unwrap().train_loss.is_nan());
        assert_eq!(back.epochs, history.epochs);
        assert_eq!(back.train_losses()[1..], [2.0 / 3.0, 1e-300]);
    }

    #[test]
    fn stops_read_as_sentences() {
        assert_eq!(
            Stop::EpochBudget { epochs: 1 }.to_string(),
            "did not converge: ran all 1 epoch without meeting a stopping rule"
        );
        let early = Stop::EarlyStopping {
            epoch: 9,
            best_epoch: 4,
            best: 0.5,
            monitor: "val_loss".into(),
            restored: true,
        };
        assert_eq!(
            early.to_string(),
            "early stopping at epoch 9: val_loss last improved at epoch 4 (5.000000e-1); its weights were restored"
        );
        assert!(Stop::Rule(StopReason::Diverged {
            loss: f64::NAN,
            iters: 3
        })
        .diverged());
    }
}
