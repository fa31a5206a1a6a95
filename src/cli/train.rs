//! Training for the command line: the settings the flags give, turned into the library's
//! [`Trainer`] — the one training loop every example uses too.
//!
//! An epoch updates the weights — once on the full-batch gradient, or once per mini-batch —
//! and then measures the training loss of the new weights under `no_grad`
//! ([`TrainLoss::Evaluate`]: a forward pass, no backward pass), so `--epochs N` is N updates
//! (N passes) and the curve's point N is the loss of the weights after N epochs. L-BFGS
//! always uses the full batch (its line search must see the same function at every
//! evaluation); each of its epochs is one iteration with a strong-Wolfe line search.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::ValueEnum;
use tapegrad::models::io::{save_with_metadata, Metadata};
use tapegrad::models::loader::DataLoader;
use tapegrad::models::trainer::{
    Control, EarlyStopping, Event, History, Monitor, Progress, Schedule, Stop, TrainLoss, Trainer,
};
use tapegrad::optim::schedule::{CosineAnnealingLR, PlateauConfig, ReduceLROnPlateau, StepLR};
use tapegrad::optim::stop::StopRules;
use tapegrad::optim::{
    Adam, AdamConfig, AdamW, AdamWConfig, Lbfgs, LbfgsConfig, LbfgsStepConfig, LineSearchFn,
    Optimizer, Sgd, SgdConfig,
};
use tapegrad::{Param, Tensor};

use super::console::say;
use super::dataset::Targets;
use super::error::CliError;
use super::model::Model;

/// The optimizers the command line offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OptimizerKind {
    /// Plain gradient descent, w ← w − α·∇L (default lr 0.1).
    Sgd,
    /// SGD with heavy-ball momentum 0.9 (default lr 0.05).
    Momentum,
    /// SGD with Nesterov momentum 0.9 (default lr 0.05).
    Nesterov,
    /// Adam, β = (0.9, 0.999) (default lr 0.01).
    Adam,
    /// AdamW, Adam with decoupled weight decay 0.01 (default lr 0.01).
    Adamw,
    /// L-BFGS with a strong-Wolfe line search; it takes no learning rate.
    Lbfgs,
}

impl OptimizerKind {
    /// Every optimizer, in the order `compare` lists them.
    pub const ALL: [OptimizerKind; 6] = [
        OptimizerKind::Sgd,
        OptimizerKind::Momentum,
        OptimizerKind::Nesterov,
        OptimizerKind::Adam,
        OptimizerKind::Adamw,
        OptimizerKind::Lbfgs,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            OptimizerKind::Sgd => "sgd",
            OptimizerKind::Momentum => "momentum",
            OptimizerKind::Nesterov => "nesterov",
            OptimizerKind::Adam => "adam",
            OptimizerKind::Adamw => "adamw",
            OptimizerKind::Lbfgs => "lbfgs",
        }
    }

    /// The learning rate used when none is given (`None` for L-BFGS, whose line search picks
    /// each step's length).
    pub fn default_lr(self) -> Option<f64> {
        match self {
            OptimizerKind::Sgd => Some(0.1),
            OptimizerKind::Momentum | OptimizerKind::Nesterov => Some(0.05),
            OptimizerKind::Adam | OptimizerKind::Adamw => Some(0.01),
            OptimizerKind::Lbfgs => None,
        }
    }
}

/// The learning-rate schedules the command line offers (each steps once per epoch).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ScheduleKind {
    /// Cosine annealing from the learning rate to 0 over the epochs (`CosineAnnealingLR`).
    Cosine,
    /// The rate times 0.1 after each third of the epochs (`StepLR`).
    Step,
    /// The rate times 0.1 after 10 epochs without improvement of the validation loss (the
    /// training loss without --val-split) (`ReduceLROnPlateau`).
    Plateau,
}

/// How to train.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The optimizer.
    pub optimizer: OptimizerKind,
    /// The learning rate (the optimizer's default when `None`).
    pub lr: Option<f64>,
    /// The most epochs (L-BFGS: iterations) to run, in all (a resumed run included).
    pub epochs: usize,
    /// Rows per mini-batch; `None` for the full batch.
    pub batch_size: Option<usize>,
    /// Seeds the mini-batch order.
    pub seed: u64,
    /// Weight decay (L2 for SGD and Adam, decoupled for AdamW); `None`: the optimizer's
    /// default (AdamW 0.01, the others 0).
    pub weight_decay: Option<f64>,
    /// A learning-rate schedule.
    pub schedule: Option<ScheduleKind>,
    /// Early stopping on the validation loss after this many epochs without improvement.
    pub patience: Option<usize>,
    /// Continue the run saved in this checkpoint.
    pub resume: Option<PathBuf>,
}

impl Settings {
    /// Settings with the defaults of every flag that is not given.
    pub fn new(optimizer: OptimizerKind, epochs: usize, seed: u64) -> Self {
        Settings {
            optimizer,
            lr: None,
            epochs,
            batch_size: None,
            seed,
            weight_decay: None,
            schedule: None,
            patience: None,
            resume: None,
        }
    }

    /// The learning rate this run uses, if the optimizer takes one.
    pub fn lr(&self) -> Option<f64> {
        self.lr.or(self.optimizer.default_lr())
    }

    /// What one epoch is: "epoch", or for L-BFGS "iteration".
    pub fn unit(&self) -> &'static str {
        if self.optimizer == OptimizerKind::Lbfgs {
            "iteration"
        } else {
            "epoch"
        }
    }

    /// Rejects options the optimizer cannot use.
    ///
    /// # Errors
    /// `Usage` for a learning rate that is not positive, a learning rate, batch size,
    /// weight decay, schedule or resumption given to L-BFGS, a negative weight decay, early
    /// stopping without validation rows, or 0 epochs, rows or patience.
    pub fn check(&self, has_validation: bool) -> Result<(), CliError> {
        let usage = |s: &str| Err(CliError::Usage(s.to_string()));
        if self.optimizer == OptimizerKind::Lbfgs {
            let refused = [
                (self.lr.is_some(), "--lr: L-BFGS takes no learning rate; its line search picks each step"),
                (self.batch_size.is_some(), "--batch-size: L-BFGS uses the full batch; its line search needs the same loss at every evaluation"),
                (self.weight_decay.is_some(), "--weight-decay: L-BFGS has no weight decay; use an optimizer that does (sgd, adam, adamw)"),
                (self.schedule.is_some(), "--schedule: L-BFGS takes no learning rate; its line search picks each step"),
                (self.resume.is_some(), "--resume: L-BFGS runs cannot resume (its curvature history is not saved); fit again, it is fast"),
            ];
            if let Some((_, message)) = refused.iter().find(|(given, _)| *given) {
                return usage(message);
            }
        }
        if let Some(lr) = self.lr.filter(|lr| !(lr.is_finite() && *lr > 0.0)) {
            return Err(CliError::Usage(format!(
                "--lr {lr}: a learning rate must be a positive number"
            )));
        }
        if let Some(decay) = self.weight_decay.filter(|d| !(d.is_finite() && *d >= 0.0)) {
            return Err(CliError::Usage(format!(
                "--weight-decay {decay}: it must be a number ≥ 0"
            )));
        }
        if self.epochs == 0 {
            return usage("--epochs 0: training needs at least 1");
        }
        if self.batch_size == Some(0) {
            return usage("--batch-size 0: a batch needs at least 1 row");
        }
        match self.patience {
            Some(0) => usage("--patience 0: early stopping needs at least 1 epoch of patience"),
            Some(_) if !has_validation => usage(
                "--patience watches the validation loss: give --val-split to hold out validation rows",
            ),
            _ => Ok(()),
        }
    }
}

/// Rows to train or validate on: X (already standardised if asked) and the targets.
pub struct TrainingRows<'a> {
    /// X of the rows.
    pub x: &'a Tensor<f64>,
    /// Their targets.
    pub targets: &'a Targets,
}

/// How a training run ended.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Epochs (L-BFGS: iterations) run: the number of updates of the weights.
    pub iterations: usize,
    /// The training loss before the first update.
    pub initial_loss: f64,
    /// The training loss of the final weights.
    pub loss: f64,
    /// On the full batch, the gradient norm of the last update.
    pub grad_norm: Option<f64>,
    /// Why it stopped.
    pub stop: Stop,
    /// The training loss at the start and after each epoch.
    pub curve: Vec<f64>,
    /// The validation loss at the start and after each epoch (empty without validation).
    pub val_curve: Vec<f64>,
    /// The validation loss of the final weights.
    pub val_loss: Option<f64>,
    /// What one iteration is: "epoch", or for L-BFGS "iteration".
    pub unit: &'static str,
    /// Wall-clock time.
    pub elapsed: Duration,
}

impl Outcome {
    fn new(history: &History, unit: &'static str, elapsed: Duration) -> Outcome {
        let last = history
            .records()
            .last()
            .expect("epoch 0 is always measured");
        // After early stopping the model holds the best epoch's weights: report those.
        let final_record = history
            .restored_epoch
            .and_then(|e| history.records().find(|r| r.epoch == e))
            .unwrap_or(last);
        Outcome {
            iterations: history.epochs.len(),
            initial_loss: history.start.as_ref().map_or(f64::NAN, |r| r.train_loss),
            loss: final_record.train_loss,
            grad_norm: last.grad_norm,
            stop: history.stop.clone().expect("a finished run says why"),
            curve: history.train_losses(),
            val_curve: history.val_losses(),
            val_loss: final_record.val_loss,
            unit,
            elapsed,
        }
    }

    /// Why the run failed, if it did: the loss overflowed or grew past the divergence rule,
    /// or it simply ended above where it started — a slow divergence that the budget cut
    /// short is still a model worse than its starting point, and must not be saved.
    pub fn failure(&self) -> Option<String> {
        if self.stop.diverged() {
            return Some(self.stop.to_string().replace("epoch", self.unit));
        }
        (self.loss > self.initial_loss).then(|| {
            format!(
                "diverged: the training loss rose from {:.3e} to {:.3e} over {}",
                self.initial_loss,
                self.loss,
                plural(self.iterations, self.unit)
            )
        })
    }

    /// One line on why training stopped. A run that used its whole budget without meeting a
    /// stopping rule says that it did not converge (as scikit-learn's ConvergenceWarning
    /// does), with how far from the rule it ended.
    pub fn stop_line(&self) -> String {
        match (&self.stop, self.grad_norm) {
            (Stop::EpochBudget { epochs }, Some(norm)) => format!(
                "did not converge: the last update's gradient norm was {norm:.2e} (the rule is < {GTOL:e}) after {}; more --epochs or another --lr may help",
                plural(*epochs, self.unit)
            ),
            (Stop::EpochBudget { epochs }, None) => {
                let change = match self.curve.as_slice() {
                    [.., before, last] => format!(
                        "; the last epoch changed the training loss by {:.2e} (relative)",
                        ((last - before) / before.abs().max(f64::MIN_POSITIVE)).abs()
                    ),
                    _ => String::new(),
                };
                format!(
                    "did not converge: ran all {} in mini-batches{change}",
                    plural(*epochs, self.unit)
                )
            }
            (Stop::Rule(reason), _) => reason.describe(self.unit),
            (stop, _) => stop.to_string(),
        }
    }
}

/// "1 epoch", "2 epochs".
pub fn plural(n: usize, unit: &str) -> String {
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// Where the loss goes while training.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Display {
    /// A live bar with the current loss (stdout is a terminal; drawn on stderr).
    Bar,
    /// A plain line on stdout about every tenth of the run (stdout is a file or a pipe).
    Lines,
    /// A plain line on stdout every so many epochs.
    Every(usize),
    /// Nothing (`--quiet`, `--json`, `compare`).
    Quiet,
}

impl Display {
    /// A bar when stdout is a terminal, plain lines otherwise, nothing when quiet.
    pub fn for_stdout() -> Display {
        if super::console::is_quiet() {
            Display::Quiet
        } else if std::io::stdout().is_terminal() {
            Display::Bar
        } else {
            Display::Lines
        }
    }
}

/// The gradient norm below which a full-batch run has converged.
const GTOL: f64 = 1e-8;

/// The stopping rules of every run besides its epoch budget: a vanishing gradient (on the
/// full batch), or divergence (a loss a million times its starting value, or not finite).
fn rules() -> StopRules {
    StopRules {
        grad_norm_below: Some(GTOL),
        loss_growth_above: Some(1e6),
        ..Default::default()
    }
}

/// Where to save the trained model, if training succeeds: the file and its metadata.
pub struct SaveTo<'a> {
    /// The file.
    pub path: &'a Path,
    /// What `predict` needs besides the weights.
    pub metadata: Metadata,
}

/// Trains `model` on `rows` as `settings` say, validating on `val`, showing progress on
/// `display`, and — only when the run did not fail — saving it to `save` (a checkpoint that
/// `--resume` continues, for first-order optimizers; the weights alone for L-BFGS).
///
/// # Errors
/// `Optimizer` when the optimizer rejects a setting, `Resume` when a checkpoint does not
/// fit, `Weights` when the model cannot be saved.
pub fn train(
    model: &mut Model,
    rows: &TrainingRows,
    val: Option<&TrainingRows>,
    settings: &Settings,
    display: Display,
    save: Option<SaveTo>,
) -> Result<Outcome, CliError> {
    let start = Instant::now();
    let n = rows.x.shape()[0];
    let batch = settings.batch_size.filter(|&b| b < n).unwrap_or(n);
    let mut loader = DataLoader::try_new(rows.x.clone(), rows.targets.clone(), batch)
        .map_err(|e| CliError::Usage(e.to_string()))?;
    if batch < n {
        loader = loader.shuffle(settings.seed);
    }
    let val_loader = val
        .map(|v| DataLoader::full_batch(v.x.clone(), v.targets.clone()))
        .transpose()
        .map_err(|e| CliError::Usage(e.to_string()))?;
    let every = match display {
        Display::Every(every) => every.max(1),
        _ => settings.epochs.div_ceil(10).max(1),
    };
    let unit = settings.unit();
    let mut trainer = Trainer::new(settings.epochs, model.loss_fn())
        .train_loss(TrainLoss::Evaluate)
        .stop_rules(rules())
        .progress(match display {
            Display::Bar => Progress::Auto,
            _ => Progress::Off,
        })
        .callback(move |event| {
            if let (Event::Epoch(record), Display::Lines | Display::Every(_)) = (event, display) {
                if record.epoch.is_multiple_of(every) {
                    let val = record
                        .val_loss
                        .map_or_else(String::new, |v| format!("  val_loss {v:.6e}"));
                    say!(
                        "{unit} {:>6}  loss {:.6e}{val}",
                        record.epoch,
                        record.train_loss
                    );
                }
            }
            Control::Continue
        });
    if let Some(patience) = settings.patience {
        trainer = trainer.early_stopping(EarlyStopping::new(patience));
    }
    if let Some(path) = &settings.resume {
        trainer = trainer.resume(path);
    }
    let params = model.parameters();
    let history = match make_first_order(settings, params.clone())? {
        Some(mut optimizer) => {
            if let Some(kind) = settings.schedule {
                let monitor = if val.is_some() {
                    Monitor::ValLoss
                } else {
                    Monitor::TrainLoss
                };
                trainer = trainer.schedule(schedule(
                    kind,
                    settings.epochs,
                    optimizer.as_mut(),
                    monitor,
                )?);
            }
            if let Some(save) = &save {
                trainer = trainer.checkpoint_metadata(save.metadata.clone());
            }
            let history = trainer.fit(
                model.module_mut(),
                optimizer.as_mut(),
                &loader,
                val_loader.as_ref(),
            )?;
            let outcome = Outcome::new(&history, unit, start.elapsed());
            if let (Some(save), None) = (&save, outcome.failure()) {
                trainer.save_checkpoint(save.path, model.module(), optimizer.as_ref())?;
            }
            return Ok(outcome);
        }
        None => {
            let config = LbfgsConfig {
                step: LbfgsStepConfig {
                    max_iter: 1,
                    // PyTorch's max_eval defaults to ⌊1.25·max_iter⌋ = 1 here, which would
                    // leave the line search no evaluation beyond its first trial step.
                    max_eval: Some(26),
                    line_search_fn: LineSearchFn::StrongWolfe,
                    // The trainer's gradient rule (GTOL, on the L2 norm) decides convergence.
                    tolerance_grad: 0.0,
                    tolerance_change: 0.0,
                    ..Default::default()
                },
                ..Default::default()
            };
            let mut lbfgs = Lbfgs::new(params, config)?;
            trainer.fit_lbfgs(model.module_mut(), &mut lbfgs, &loader, val_loader.as_ref())?
        }
    };
    let outcome = Outcome::new(&history, unit, start.elapsed());
    if let (Some(save), None) = (&save, outcome.failure()) {
        save_with_metadata(model.module(), &save.metadata, save.path)?;
    }
    Ok(outcome)
}

/// The scheduler `kind` over `epochs` epochs, set up on `optimizer`.
fn schedule(
    kind: ScheduleKind,
    epochs: usize,
    optimizer: &mut dyn Optimizer<f64>,
    monitor: Monitor,
) -> Result<Schedule, CliError> {
    Ok(match kind {
        ScheduleKind::Cosine => Schedule::Epoch(Box::new(CosineAnnealingLR::new(
            optimizer,
            epochs as u64,
            0.0,
        )?)),
        ScheduleKind::Step => Schedule::Epoch(Box::new(StepLR::new(
            optimizer,
            epochs.div_ceil(3).max(1) as u64,
            0.1,
        )?)),
        ScheduleKind::Plateau => Schedule::Plateau(
            ReduceLROnPlateau::new(optimizer, PlateauConfig::default())?,
            monitor,
        ),
    })
}

/// The optimizer of `settings` over `params`, or `None` for L-BFGS.
fn make_first_order(
    settings: &Settings,
    params: Vec<Param<f64>>,
) -> Result<Option<Box<dyn Optimizer<f64>>>, CliError> {
    let lr = settings.lr().unwrap_or_default();
    let decay = settings.weight_decay;
    let sgd = |momentum: f64, nesterov: bool| SgdConfig {
        lr,
        momentum,
        nesterov,
        weight_decay: decay.unwrap_or(0.0),
        ..Default::default()
    };
    let adam = AdamConfig {
        lr,
        weight_decay: decay.unwrap_or(0.0),
        ..Default::default()
    };
    let adamw = AdamWConfig {
        lr,
        ..Default::default()
    };
    let adamw = AdamWConfig {
        weight_decay: decay.unwrap_or(adamw.weight_decay),
        ..adamw
    };
    Ok(Some(match settings.optimizer {
        OptimizerKind::Sgd => Box::new(Sgd::new(params, sgd(0.0, false))?),
        OptimizerKind::Momentum => Box::new(Sgd::new(params, sgd(0.9, false))?),
        OptimizerKind::Nesterov => Box::new(Sgd::new(params, sgd(0.9, true))?),
        OptimizerKind::Adam => Box::new(Adam::new(params, adam)?),
        OptimizerKind::Adamw => Box::new(AdamW::new(params, adamw)?),
        OptimizerKind::Lbfgs => return Ok(None),
    }))
}
