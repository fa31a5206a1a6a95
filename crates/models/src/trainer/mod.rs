//! The training loop, written once: [`Trainer`].
//!
//! Every framework's `fit` (Keras, PyTorch Lightning, burn's `Learner`) is the same loop:
//!
//! ```text
//! for epoch in 1..=epochs:
//!     for (x, y) in train_loader:        # a new seeded order each epoch
//!         loss = loss_fn(model(x), y)
//!         loss.backward()
//!         clip the gradients (optional)
//!         optimizer.step(); optimizer.zero_grad()
//!         per-step scheduler, callbacks
//!     evaluate on the validation loader  # under no_grad, eval mode: no backward pass
//!     record the epoch; per-epoch scheduler; early stopping; stopping rules; callbacks
//!     checkpoint (optional)
//! ```
//!
//! [`Trainer`] is that loop with its parts as settings. It returns a [`History`] — one
//! [`EpochRecord`] per epoch and the [`Stop`] reason — never only printed lines. L-BFGS,
//! whose line search evaluates the loss several times per step, runs through
//! [`fit_lbfgs`](Trainer::fit_lbfgs) with its full-batch closure.
//!
//! A run can be saved and resumed exactly: [`checkpoint`](Trainer::checkpoint) writes the
//! weights, the optimizer's and the scheduler's state, the epoch, every random generator's
//! position and the history into one safetensors file (atomically), and
//! [`resume`](Trainer::resume) continues from it: N epochs in one go and N/2, a checkpoint,
//! then N/2 more give the same weights bit for bit.
//!
//! ```
//! use tapegrad_models::loader::DataLoader;
//! use tapegrad_models::loss::mse;
//! use tapegrad_models::module::{Linear, Module};
//! use tapegrad_models::trainer::{EarlyStopping, Stop, Trainer};
//! use tapegrad_optim::{Sgd, SgdConfig};
//! use tapegrad_tensor::Tensor;
//!
//! // y = 2x + 1 on 40 points, 8 of them held out for validation.
//! let x = Tensor::<f64>::from_vec((0..40).map(|i| i as f64 / 40.0).collect(), &[40, 1]);
//! let y = &x * 2.0 + 1.0;
//! let (train, val) = DataLoader::new(x, y, 8).shuffle(1).split(0.2, 2);
//! let mut model = Linear::<f64>::zeros(1, 1);
//! let mut sgd = Sgd::new(model.parameters(), SgdConfig { lr: 0.5, ..Default::default() }).unwrap();
//! let history = Trainer::new(200, mse)
//!     .early_stopping(EarlyStopping::new(5))
//!     .fit(&mut model, &mut sgd, &train, Some(&val))
//!     .unwrap();
//! assert!(history.last().unwrap().val_loss.unwrap() < 1e-6);
//! assert!(matches!(history.stop, Some(Stop::EarlyStopping { .. })));
//! ```

pub mod checkpoint;
mod early_stopping;
mod history;
mod progress;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Instant;

use ndarray::ArrayD;
use tapegrad_optim::clip::{clip_grad_norm, clip_grad_value, grad_norm};
use tapegrad_optim::schedule::{LrScheduler, ReduceLROnPlateau};
use tapegrad_optim::stop::{StopReason, StopRules, Stopper};
use tapegrad_optim::{Lbfgs, LrGroups, OptimError, Optimizer};
use tapegrad_tensor::{no_grad, Float, Param, Tensor};

pub use early_stopping::{EarlyStopping, Monitor};
pub use history::{EpochRecord, History, Stop};
pub use progress::Progress;

use crate::io::{IoError, Metadata};
use crate::loader::{DataLoader, Rows};
use crate::module::Module;
use early_stopping::Watch;
use progress::Display;

/// A loss: predictions and targets to a scalar tensor, the mean over the batch's samples
/// (the trainer weights batch losses by batch size, so a sum would count samples twice).
pub type LossFn<'a, F, Y> = Box<dyn Fn(&Tensor<F>, &Y) -> Tensor<F> + 'a>;

/// A metric: predictions and targets of a whole data set to a number (accuracy, R², …).
pub type MetricFn<'a, F, Y> = Box<dyn Fn(&Tensor<F>, &Y) -> f64 + 'a>;

/// A callback: it sees every step and every epoch, and may stop the run.
pub type Callback<'a> = Box<dyn FnMut(&Event<'_>) -> Control + 'a>;

/// What a callback is told.
#[derive(Clone, Copy, Debug)]
pub enum Event<'e> {
    /// An optimizer step has been taken.
    Step {
        /// The epoch (1-based).
        epoch: usize,
        /// The step within the epoch (0-based).
        step: usize,
        /// The batch's loss, before the step.
        loss: f64,
        /// The gradient norm before clipping, when the trainer computed it (clipping by norm,
        /// or a gradient-norm stopping rule on the full batch).
        grad_norm: Option<f64>,
    },
    /// An epoch has ended and been evaluated (epoch 0: the evaluation before training).
    Epoch(&'e EpochRecord),
}

/// A callback's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Control {
    /// Go on.
    Continue,
    /// Stop at the end of this step's epoch, with a reason for the history.
    Stop(String),
}

/// How the epoch's training loss is measured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TrainLoss {
    /// The mean of the batch losses met during the epoch, weighted by batch size: free, but
    /// measured while the weights moved (Keras's and Lightning's `loss`).
    #[default]
    Running,
    /// The loss of the weights at the epoch's end, over the whole training set in evaluation
    /// mode under `no_grad`: one more forward pass per epoch, no backward pass.
    Evaluate,
}

/// Gradient clipping before each step (`torch.nn.utils.clip_grad_norm_` / `_value_`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Clip {
    /// Scale all gradients together so their global L2 norm is at most this.
    Norm(f64),
    /// Clamp every gradient entry to [−v, v].
    Value(f64),
}

/// A learning-rate scheduler and when it steps.
pub enum Schedule {
    /// After every epoch (most schedulers: cosine, step decay, exponential).
    Epoch(Box<dyn LrScheduler>),
    /// After every optimizer step (one-cycle, warm-up counted in steps).
    Step(Box<dyn LrScheduler>),
    /// After every epoch, on the monitored value (ReduceLROnPlateau).
    Plateau(ReduceLROnPlateau, Monitor),
}

impl fmt::Debug for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schedule::Epoch(_) => f.write_str("Schedule::Epoch(..)"),
            Schedule::Step(_) => f.write_str("Schedule::Step(..)"),
            Schedule::Plateau(_, monitor) => write!(f, "Schedule::Plateau(.., {monitor:?})"),
        }
    }
}

/// What can stop `fit` before it starts or while it saves.
#[derive(Debug)]
#[non_exhaustive]
pub enum TrainError {
    /// Settings that cannot work together (named in the message).
    Config(String),
    /// A checkpoint could not be written or read.
    Checkpoint(IoError),
    /// A checkpoint does not fit this model, optimizer or trainer.
    Resume(String),
    /// The optimizer refused a saved state.
    Optimizer(OptimError),
}

impl fmt::Display for TrainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrainError::Config(message) => write!(f, "Trainer: {message}"),
            TrainError::Checkpoint(e) => write!(f, "Trainer: {e}"),
            TrainError::Resume(message) => write!(f, "Trainer: resume: {message}"),
            TrainError::Optimizer(e) => write!(f, "Trainer: {e}"),
        }
    }
}

impl std::error::Error for TrainError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TrainError::Checkpoint(e) => Some(e),
            TrainError::Optimizer(e) => Some(e),
            _ => None,
        }
    }
}

impl From<IoError> for TrainError {
    fn from(e: IoError) -> Self {
        TrainError::Checkpoint(e)
    }
}

/// The one training loop: a module, a loss, an optimizer and loaders, with metrics,
/// callbacks, schedules, clipping, early stopping, stopping rules and checkpoints as
/// settings. See the [module docs](self) for the loop and an example.
pub struct Trainer<'a, F: Float, Y: Rows> {
    epochs: usize,
    max_steps: Option<usize>,
    loss: LossFn<'a, F, Y>,
    metrics: Vec<(String, MetricFn<'a, F, Y>)>,
    train_loss: TrainLoss,
    clip: Option<Clip>,
    schedule: Option<Schedule>,
    early_stopping: Option<EarlyStopping>,
    rules: StopRules,
    callbacks: Vec<Callback<'a>>,
    progress: Progress,
    evaluate_at_start: bool,
    checkpoint: Option<(PathBuf, usize)>,
    checkpoint_metadata: Metadata,
    resume: Option<PathBuf>,
    /// How the last run ended, for [`save_checkpoint`](Trainer::save_checkpoint).
    finished: Option<RunState<F>>,
}

/// Where a run stands: what a checkpoint saves besides the weights and optimizer.
#[derive(Clone)]
pub(crate) struct RunState<F: Float> {
    /// Epochs completed.
    pub(crate) epoch: usize,
    /// Optimizer steps taken, over all epochs.
    pub(crate) steps: usize,
    pub(crate) history: History,
    pub(crate) watch: Option<Watch<F>>,
}

/// The optimizer a run drives.
enum Driver<'o, F: Float> {
    FirstOrder(&'o mut dyn Optimizer<F>),
    Lbfgs(&'o mut Lbfgs<F>),
}

impl<F: Float> Driver<'_, F> {
    fn lrs(&self) -> &dyn LrGroups {
        match self {
            Driver::FirstOrder(o) => &**o,
            Driver::Lbfgs(o) => &**o,
        }
    }

    fn lrs_mut(&mut self) -> &mut dyn LrGroups {
        match self {
            Driver::FirstOrder(o) => &mut **o,
            Driver::Lbfgs(o) => &mut **o,
        }
    }

    fn params(&self) -> Vec<Param<F>> {
        match self {
            Driver::FirstOrder(o) => o.params().to_vec(),
            Driver::Lbfgs(o) => o.params().to_vec(),
        }
    }
}

impl<'a, F: Float, Y: Rows> Trainer<'a, F, Y> {
    /// A trainer that runs at most `epochs` epochs minimising `loss` (a mean over each
    /// batch, such as [`loss::mse`](crate::loss::mse)). Defaults: no metrics, running
    /// training loss, no clipping, schedule or early stopping, divergence stops training, no
    /// progress display, an evaluation before the first epoch (epoch 0 of the history).
    pub fn new(epochs: usize, loss: impl Fn(&Tensor<F>, &Y) -> Tensor<F> + 'a) -> Self {
        Trainer {
            epochs,
            max_steps: None,
            loss: Box::new(loss),
            metrics: Vec::new(),
            train_loss: TrainLoss::Running,
            clip: None,
            schedule: None,
            early_stopping: None,
            rules: StopRules::default(),
            callbacks: Vec::new(),
            progress: Progress::Off,
            evaluate_at_start: true,
            checkpoint: None,
            checkpoint_metadata: Metadata::new(),
            resume: None,
            finished: None,
        }
    }

    /// Stops after `steps` optimizer steps in all (resumed runs included), even in the middle
    /// of an epoch (Lightning's and Hugging Face's `max_steps`): the partial epoch is
    /// evaluated and recorded like a whole one, and the run ends with
    /// [`Stop::StepBudget`]. A run resumed from there starts the next epoch.
    pub fn max_steps(mut self, steps: usize) -> Self {
        self.max_steps = Some(steps);
        self
    }

    /// Also measures `metric` at each epoch's end (on the validation data when given, else
    /// the training data), under `name` in the history.
    pub fn metric(mut self, name: &str, metric: impl Fn(&Tensor<F>, &Y) -> f64 + 'a) -> Self {
        self.metrics.push((name.to_string(), Box::new(metric)));
        self
    }

    /// How the epoch's training loss is measured (default: [`TrainLoss::Running`]).
    pub fn train_loss(mut self, mode: TrainLoss) -> Self {
        self.train_loss = mode;
        self
    }

    /// Clips the gradients before every step.
    pub fn clip(mut self, clip: Clip) -> Self {
        self.clip = Some(clip);
        self
    }

    /// Sets the optimizer's learning rates with `schedule`. Build the scheduler on the same
    /// optimizer first (its first step sets the starting rate, as in PyTorch).
    pub fn schedule(mut self, schedule: Schedule) -> Self {
        self.schedule = Some(schedule);
        self
    }

    /// Stops when the monitored value stops improving.
    pub fn early_stopping(mut self, rule: EarlyStopping) -> Self {
        self.early_stopping = Some(rule);
        self
    }

    /// Stopping rules checked at each epoch's end on its training loss (and, on the full
    /// batch, its gradient norm): convergence tolerances and divergence. A non-finite loss
    /// always stops training, and a non-finite batch loss stops it before the step that
    /// would spread NaN into the weights.
    pub fn stop_rules(mut self, rules: StopRules) -> Self {
        self.rules = rules;
        self
    }

    /// Calls `callback` after every step and every epoch; it may stop training.
    pub fn callback(mut self, callback: impl FnMut(&Event<'_>) -> Control + 'a) -> Self {
        self.callbacks.push(Box::new(callback));
        self
    }

    /// How progress is shown (default: not at all).
    pub fn progress(mut self, progress: Progress) -> Self {
        self.progress = progress;
        self
    }

    /// Whether to evaluate before the first epoch (default true): epoch 0 of the history,
    /// the starting point of the curves and of the divergence rule.
    pub fn evaluate_at_start(mut self, evaluate: bool) -> Self {
        self.evaluate_at_start = evaluate;
        self
    }

    /// Writes a checkpoint to `path` every `every` epochs and when training ends.
    pub fn checkpoint(mut self, path: impl Into<PathBuf>, every: usize) -> Self {
        self.checkpoint = Some((path.into(), every.max(1)));
        self
    }

    /// Text to write into every checkpoint's header beside the trainer's own keys (what
    /// model it is, the feature names, …).
    pub fn checkpoint_metadata(mut self, metadata: Metadata) -> Self {
        self.checkpoint_metadata = metadata;
        self
    }

    /// Continues the run saved at `path` (by [`checkpoint`](Self::checkpoint)): its
    /// weights, optimizer and scheduler state, epoch, generators and history are loaded
    /// before training, and training goes on to this trainer's epoch budget.
    pub fn resume(mut self, path: impl Into<PathBuf>) -> Self {
        self.resume = Some(path.into());
        self
    }

    /// Trains `model` with a first-order `optimizer` (built on the model's parameters) on
    /// `train`, evaluating on `val` after every epoch.
    ///
    /// # Errors
    /// `Config` for settings that cannot work (monitoring the validation loss without a
    /// validation loader, a metric name never given), `Checkpoint` or `Resume` when a
    /// checkpoint cannot be written or does not fit, `Optimizer` when the optimizer refuses
    /// a saved state. A run that diverges is not an error: its history says so.
    pub fn fit<M: Module<F> + ?Sized>(
        &mut self,
        model: &mut M,
        optimizer: &mut dyn Optimizer<F>,
        train: &DataLoader<F, Y>,
        val: Option<&DataLoader<F, Y>>,
    ) -> Result<History, TrainError> {
        self.run(model, Driver::FirstOrder(optimizer), train, val)
    }

    /// Trains `model` with L-BFGS on the whole of `train` (its batches are joined into one):
    /// each epoch is one `lbfgs.step(closure)`, the closure evaluating the full-batch loss
    /// as often as the line search asks.
    ///
    /// # Errors
    /// As [`fit`](Self::fit); also `Config` for a per-step schedule, clipping, or a
    /// checkpoint (L-BFGS's curvature pairs are not saved, so its runs cannot resume).
    pub fn fit_lbfgs<M: Module<F> + ?Sized>(
        &mut self,
        model: &mut M,
        lbfgs: &mut Lbfgs<F>,
        train: &DataLoader<F, Y>,
        val: Option<&DataLoader<F, Y>>,
    ) -> Result<History, TrainError> {
        let refuse = |what: &str| Err(TrainError::Config(format!("L-BFGS takes no {what}")));
        if matches!(self.schedule, Some(Schedule::Step(_))) {
            return refuse("per-step schedule (each of its steps is a line search)");
        }
        if self.clip.is_some() {
            return refuse("gradient clipping (its line search needs the true gradient)");
        }
        if self.checkpoint.is_some() || self.resume.is_some() {
            return refuse("checkpoints (its curvature history is not saved)");
        }
        self.run(model, Driver::Lbfgs(lbfgs), train, val)
    }

    fn check(&self, val: Option<&DataLoader<F, Y>>) -> Result<(), TrainError> {
        let monitors =
            self.early_stopping
                .iter()
                .map(|rule| &rule.monitor)
                .chain(match &self.schedule {
                    Some(Schedule::Plateau(_, monitor)) => Some(monitor),
                    _ => None,
                });
        for monitor in monitors {
            match monitor {
                Monitor::ValLoss if val.is_none() => {
                    return Err(TrainError::Config(
                        "the validation loss is monitored but fit got no validation loader".into(),
                    ))
                }
                Monitor::Metric { name, .. } if !self.metrics.iter().any(|(n, _)| n == name) => {
                    return Err(TrainError::Config(format!(
                        "metric {name:?} is monitored but was never given with .metric()"
                    )))
                }
                _ => {}
            }
        }
        if self
            .early_stopping
            .as_ref()
            .is_some_and(|r| r.patience == 0)
        {
            return Err(TrainError::Config(
                "early stopping needs a patience of at least 1".into(),
            ));
        }
        Ok(())
    }

    fn run<M: Module<F> + ?Sized>(
        &mut self,
        model: &mut M,
        mut driver: Driver<'_, F>,
        train: &DataLoader<F, Y>,
        val: Option<&DataLoader<F, Y>>,
    ) -> Result<History, TrainError> {
        self.check(val)?;
        let params = driver.params();
        let mut state = match self.resume.clone() {
            Some(path) => {
                let Driver::FirstOrder(optimizer) = &mut driver else {
                    unreachable!("fit_lbfgs refuses checkpoints");
                };
                checkpoint::restore(
                    &path,
                    model,
                    &mut **optimizer,
                    self.schedule.as_mut(),
                    self.early_stopping.as_ref(),
                )?
            }
            None => RunState {
                epoch: 0,
                steps: 0,
                history: History::default(),
                watch: self.early_stopping.as_ref().map(Watch::new),
            },
        };
        if state.epoch == 0 && state.history.start.is_none() && self.evaluate_at_start {
            let start = Instant::now();
            let mut record = self.evaluate_epoch(model, train, val, None);
            record.epoch = 0;
            record.lr = driver.lrs().lr();
            record.seconds = start.elapsed().as_secs_f64();
            state.history.start = Some(record);
        }
        let mut stopper = self.replay_stopper(&state.history);
        let display = Display::start(self.progress, self.epochs, state.epoch);
        let mut stop = None;
        if let Some(record) = state.history.start.as_ref().filter(|_| state.epoch == 0) {
            // The starting weights are a candidate too: when no epoch improves on them,
            // early stopping puts them back.
            if let (Some(rule), Some(watch)) = (&self.early_stopping, state.watch.as_mut()) {
                if let Some(value) = rule.monitor.read(record) {
                    watch.observe(rule, 0, value, model);
                }
            }
            display.epoch(record, false);
            if let Some(reason) = self.tell(&Event::Epoch(record)) {
                stop = Some(Stop::Callback { epoch: 0, reason });
            }
        }
        let full_batch = train.is_full_batch();
        let need_norm = matches!(self.clip, Some(Clip::Norm(_)))
            || (full_batch && self.rules.grad_norm_below.is_some());
        let max_steps = self.max_steps;
        let out_of_steps = |steps: usize| max_steps.is_some_and(|max| steps >= max);
        if stop.is_none() && out_of_steps(state.steps) {
            stop = Some(Stop::StepBudget { steps: state.steps });
        }
        while stop.is_none() && state.epoch < self.epochs {
            let epoch = state.epoch + 1;
            let started = Instant::now();
            let lr = driver.lrs().lr();
            let mut asked_to_stop = None;
            let (running, grad_norm) = match &mut driver {
                Driver::FirstOrder(optimizer) => {
                    let mut sum = 0.0;
                    let mut rows = 0;
                    let mut last_norm = None;
                    let mut last_loss = f64::NAN;
                    model.set_training(true);
                    for (step, (x, y)) in train.epoch(epoch - 1).enumerate() {
                        optimizer.zero_grad();
                        let loss = (self.loss)(&model.forward(&x), &y);
                        loss.backward();
                        let value = loss.item().as_f64();
                        if !value.is_finite() {
                            stop = Some(Stop::Rule(StopReason::Diverged {
                                loss: value,
                                iters: epoch,
                            }));
                            break;
                        }
                        let norm = match self.clip {
                            Some(Clip::Norm(max)) => Some(clip_grad_norm(&params, max)),
                            Some(Clip::Value(v)) => {
                                clip_grad_value(&params, v);
                                None
                            }
                            None => None,
                        };
                        let norm = norm.or_else(|| need_norm.then(|| grad_norm(&params)));
                        last_norm = norm;
                        optimizer.step();
                        state.steps += 1;
                        if let Some(Schedule::Step(scheduler)) = &mut self.schedule {
                            step_scheduler(scheduler.as_mut(), &mut **optimizer);
                        }
                        last_loss = value;
                        sum += value * y.num_rows() as f64;
                        rows += y.num_rows();
                        display.step(sum / rows as f64);
                        let event = Event::Step {
                            epoch,
                            step,
                            loss: value,
                            grad_norm: norm,
                        };
                        if let Some(reason) = self.tell(&event) {
                            asked_to_stop = Some(reason);
                            break;
                        }
                        if out_of_steps(state.steps) {
                            break;
                        }
                    }
                    // One batch: its loss itself (sum/rows could differ in the last bit).
                    let running = if rows == train.num_rows() && train.num_batches() == 1 {
                        last_loss
                    } else {
                        sum / rows.max(1) as f64
                    };
                    (running, last_norm.filter(|_| full_batch))
                }
                Driver::Lbfgs(lbfgs) => {
                    model.set_training(true);
                    let (x, y) = (train.x().clone(), train.y().clone());
                    let loss = &self.loss;
                    let before: Vec<ArrayD<F>> =
                        params.iter().map(|p| (*p.value()).clone()).collect();
                    let value = lbfgs.step(|| loss(&model.forward(&x), &y));
                    state.steps += 1;
                    let norm = grad_norm(&params);
                    // A step that moved nothing has converged by L-BFGS's own tolerances:
                    // the gradient below `tolerance_grad` (largest entry), or a step or
                    // directional derivative below `tolerance_change`.
                    if params.iter().zip(&before).all(|(p, b)| *p.value() == *b) {
                        let tolerance = lbfgs.config().step.tolerance_grad;
                        let largest = params.iter().fold(0.0, |m: f64, p| {
                            p.grad()
                                .map_or(m, |g| g.iter().fold(m, |m, v| m.max(v.as_f64().abs())))
                        });
                        stop = Some(Stop::Rule(if largest <= tolerance {
                            StopReason::GradientNorm {
                                norm: largest,
                                gtol: tolerance,
                                iters: epoch - 1,
                            }
                        } else {
                            StopReason::NoProgress { iters: epoch - 1 }
                        }));
                    }
                    (value, Some(norm))
                }
            };
            if stop.is_some() {
                // A non-finite batch loss (the weights were not moved by it), or an L-BFGS
                // step that moved nothing: no epoch to record.
                break;
            }
            let mut record = self.evaluate_epoch(model, train, val, Some(running));
            record.epoch = epoch;
            record.lr = lr;
            record.grad_norm = grad_norm;
            record.seconds = started.elapsed().as_secs_f64();
            state.epoch = epoch;
            stop = self.end_epoch(model, &mut driver, &mut state, &record, &mut stopper);
            if stop.is_none() && out_of_steps(state.steps) {
                stop = Some(Stop::StepBudget { steps: state.steps });
            }
            if stop.is_none() {
                if let Some(reason) = asked_to_stop.or_else(|| self.tell(&Event::Epoch(&record))) {
                    stop = Some(Stop::Callback { epoch, reason });
                }
            }
            state.history.epochs.push(record);
            display.epoch(
                state.history.epochs.last().expect("pushed"),
                stop.is_some() || epoch == self.epochs,
            );
            if let Some((_, every)) = &self.checkpoint {
                if epoch.is_multiple_of(*every) && stop.is_none() && epoch < self.epochs {
                    self.write_checkpoint(model, &driver, &state)?;
                }
            }
        }
        display.finish();
        let mut stop = stop.unwrap_or(Stop::EpochBudget {
            epochs: self.epochs,
        });
        // The best epoch's weights go back whenever they are not the last epoch's: after an
        // early stop, at the end of the budget, and after a divergence alike.
        if let (Some(rule), Some(watch)) = (&self.early_stopping, &state.watch) {
            if let Some(best) = watch
                .best_weights
                .as_ref()
                .filter(|_| rule.restore_best_weights && watch.best_epoch != state.epoch)
            {
                best.restore(model);
                state.history.restored_epoch = Some(watch.best_epoch);
                if let Stop::EarlyStopping { restored, .. } = &mut stop {
                    *restored = true;
                }
            }
        }
        model.set_training(true);
        state.history.stop = Some(stop);
        if self.checkpoint.is_some() {
            self.write_checkpoint(model, &driver, &state)?;
        }
        let history = state.history.clone();
        self.finished = Some(state);
        Ok(history)
    }

    /// Writes the run [`fit`](Self::fit) just finished to `path` as a checkpoint (with the
    /// [`checkpoint_metadata`](Self::checkpoint_metadata)), for a caller that decides after
    /// the run whether it is worth keeping — the command line saves nothing from a run that
    /// diverged. `model` and `optimizer` are the ones `fit` trained.
    ///
    /// # Errors
    /// `Config` before any run, `Checkpoint` when the file cannot be written.
    pub fn save_checkpoint<M: Module<F> + ?Sized>(
        &self,
        path: impl AsRef<std::path::Path>,
        model: &M,
        optimizer: &dyn Optimizer<F>,
    ) -> Result<(), TrainError> {
        let state = self
            .finished
            .as_ref()
            .ok_or_else(|| TrainError::Config("save_checkpoint: no run has finished".into()))?;
        checkpoint::save(
            path.as_ref(),
            model,
            optimizer,
            self.schedule.as_ref(),
            state,
            &self.checkpoint_metadata,
        )
    }

    /// Writes the run as it stands to the checkpoint file, when there is one.
    fn write_checkpoint<M: Module<F> + ?Sized>(
        &self,
        model: &M,
        driver: &Driver<'_, F>,
        state: &RunState<F>,
    ) -> Result<(), TrainError> {
        let (Some((path, _)), Driver::FirstOrder(optimizer)) = (&self.checkpoint, driver) else {
            // fit_lbfgs refuses checkpoints before training.
            return Ok(());
        };
        checkpoint::save(
            path,
            model,
            &**optimizer,
            self.schedule.as_ref(),
            state,
            &self.checkpoint_metadata,
        )
    }

    /// A stopper that has seen the epochs of `history` (all of them on a fresh run: none).
    fn replay_stopper(&self, history: &History) -> Stopper {
        let mut stopper = match &history.start {
            Some(start) => self.rules.clone().start_at(start.train_loss),
            None => self.rules.clone().start(),
        };
        for record in &history.epochs {
            let _ = stopper.check(record.train_loss, record.grad_norm);
        }
        stopper
    }

    /// The schedulers, early stopping and stopping rules after epoch `state.epoch`.
    fn end_epoch<M: Module<F> + ?Sized>(
        &mut self,
        model: &M,
        driver: &mut Driver<'_, F>,
        state: &mut RunState<F>,
        record: &EpochRecord,
        stopper: &mut Stopper,
    ) -> Option<Stop> {
        match &mut self.schedule {
            Some(Schedule::Epoch(scheduler)) => {
                step_scheduler(scheduler.as_mut(), driver.lrs_mut())
            }
            Some(Schedule::Plateau(scheduler, monitor)) => {
                let value = monitor.read(record).expect("checked before training");
                scheduler.step(value, driver.lrs_mut());
            }
            Some(Schedule::Step(_)) | None => {}
        }
        if let Some(reason) = stopper.check(record.train_loss, record.grad_norm) {
            return Some(Stop::Rule(reason));
        }
        let (rule, watch) = (self.early_stopping.as_ref()?, state.watch.as_mut()?);
        let value = rule.monitor.read(record).expect("checked before training");
        watch
            .observe(rule, record.epoch, value, model)
            .then(|| Stop::EarlyStopping {
                epoch: record.epoch,
                best_epoch: watch.best_epoch,
                best: watch.best,
                monitor: rule.monitor.name().to_string(),
                restored: false,
            })
    }

    /// Passes `event` to every callback; the first that asks to stop wins.
    fn tell(&mut self, event: &Event<'_>) -> Option<String> {
        let mut reason = None;
        for callback in &mut self.callbacks {
            if let Control::Stop(why) = callback(event) {
                reason.get_or_insert(why);
            }
        }
        reason
    }

    /// The epoch's record, less its epoch number, rate and time: the training loss
    /// (`running`, or evaluated), the validation loss and the metrics.
    fn evaluate_epoch<M: Module<F> + ?Sized>(
        &self,
        model: &mut M,
        train: &DataLoader<F, Y>,
        val: Option<&DataLoader<F, Y>>,
        running: Option<f64>,
    ) -> EpochRecord {
        // The running loss stands for the training loss unless an evaluation is asked for;
        // without validation data, the metrics need a pass over the training data anyway.
        let running = running.filter(|_| self.train_loss == TrainLoss::Running);
        let metrics_on_train = val.is_none() && !self.metrics.is_empty();
        let mut metrics = BTreeMap::new();
        let train_loss = match running {
            Some(loss) if !metrics_on_train => loss,
            _ => {
                let (loss, train_metrics) = self.evaluate(model, train, val.is_none());
                metrics = train_metrics;
                running.unwrap_or(loss)
            }
        };
        let val_loss = val.map(|v| {
            let (loss, val_metrics) = self.evaluate(model, v, true);
            metrics = val_metrics;
            loss
        });
        EpochRecord {
            epoch: 0,
            train_loss,
            val_loss,
            metrics,
            lr: f64::NAN,
            grad_norm: None,
            seconds: 0.0,
        }
    }

    /// The loss (and, if asked, the metrics) of the model on all of `loader`, in evaluation
    /// mode under `no_grad`: batch by batch in the stored order, predictions joined.
    pub fn evaluate<M: Module<F> + ?Sized>(
        &self,
        model: &mut M,
        loader: &DataLoader<F, Y>,
        with_metrics: bool,
    ) -> (f64, BTreeMap<String, f64>) {
        model.set_training(false);
        let result = no_grad(|| {
            let predictions: Vec<Tensor<F>> =
                loader.in_order().map(|(x, _)| model.forward(&x)).collect();
            let joined = match predictions.as_slice() {
                [one] => one.clone(),
                many => Tensor::concat(&many.iter().collect::<Vec<_>>(), 0),
            };
            let loss = (self.loss)(&joined, loader.y()).item().as_f64();
            let metrics = if with_metrics {
                self.metrics
                    .iter()
                    .map(|(name, metric)| (name.clone(), metric(&joined, loader.y())))
                    .collect()
            } else {
                BTreeMap::new()
            };
            (loss, metrics)
        });
        model.set_training(true);
        result
    }
}

/// One scheduler step on `optimizer`'s rates.
fn step_scheduler(scheduler: &mut dyn LrScheduler, optimizer: &mut dyn LrGroups) {
    let mut lrs = optimizer.lrs();
    scheduler.step_lrs(&mut lrs);
    for (group, &lr) in lrs.iter().enumerate() {
        optimizer.set_group_lr(group, lr);
    }
}

#[cfg(test)]
mod tests;
