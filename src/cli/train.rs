//! The training loop: any optimizer of `tapegrad-optim` on a [`Model`], full-batch or in
//! seeded mini-batches, with a progress display and the reason it stopped.
//!
//! An epoch updates the weights — once on the full-batch gradient, or once per mini-batch —
//! and then measures the training loss of the new weights, so `--epochs N` is N updates (N
//! passes). On the full batch that measurement is also the next update's gradient and the
//! stopping rule's gradient norm; with mini-batches it runs under `no_grad`, costing no
//! backward pass. L-BFGS always uses the full batch: its line search must see the same
//! function at every evaluation.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tapegrad::models::data::batches;
use tapegrad::optim::clip::grad_norm;
use tapegrad::optim::stop::{StopReason, StopRules};
use tapegrad::optim::{
    Adam, AdamConfig, AdamW, AdamWConfig, Lbfgs, LbfgsConfig, Optimizer, Sgd, SgdConfig,
};
use tapegrad::{no_grad, Param, Tensor};

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

/// How to train.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The optimizer.
    pub optimizer: OptimizerKind,
    /// The learning rate (the optimizer's default when `None`).
    pub lr: Option<f64>,
    /// The most epochs (L-BFGS: iterations) to run.
    pub epochs: usize,
    /// Rows per mini-batch; `None` for the full batch.
    pub batch_size: Option<usize>,
    /// Seeds the mini-batch order.
    pub seed: u64,
}

impl Settings {
    /// The learning rate this run uses, if the optimizer takes one.
    pub fn lr(&self) -> Option<f64> {
        self.lr.or(self.optimizer.default_lr())
    }

    /// Rejects options the optimizer cannot use.
    ///
    /// # Errors
    /// `Usage` for a learning rate that is not positive, a learning rate or a batch size given
    /// to L-BFGS, or 0 epochs or rows.
    pub fn check(&self) -> Result<(), CliError> {
        let usage = |s: &str| Err(CliError::Usage(s.to_string()));
        if self.optimizer == OptimizerKind::Lbfgs && self.lr.is_some() {
            return usage("--lr: L-BFGS takes no learning rate; its line search picks each step");
        }
        if self.optimizer == OptimizerKind::Lbfgs && self.batch_size.is_some() {
            return usage(
                "--batch-size: L-BFGS uses the full batch; its line search needs the same loss at every evaluation",
            );
        }
        if let Some(lr) = self.lr.filter(|lr| !(lr.is_finite() && *lr > 0.0)) {
            return Err(CliError::Usage(format!(
                "--lr {lr}: a learning rate must be a positive number"
            )));
        }
        if self.epochs == 0 {
            return usage("--epochs 0: training needs at least 1");
        }
        if self.batch_size == Some(0) {
            return usage("--batch-size 0: a batch needs at least 1 row");
        }
        Ok(())
    }
}

/// The rows to train on: X (already standardised if asked) and the targets.
pub struct TrainingRows<'a> {
    /// X of the training rows.
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
    /// The full-batch gradient norm at the final weights, where it was computed.
    pub grad_norm: Option<f64>,
    /// Why it stopped.
    pub reason: StopReason,
    /// The training loss at the start and after each epoch (L-BFGS: each loss evaluation).
    pub curve: Vec<f64>,
    /// What one point of `curve` is: "epoch" or "loss evaluation".
    pub curve_unit: &'static str,
    /// What one iteration is: "epoch", or for L-BFGS "iteration".
    pub unit: &'static str,
    /// Wall-clock time.
    pub elapsed: Duration,
}

impl Outcome {
    /// Why the run failed, if it did: the loss overflowed or grew past the divergence rule,
    /// or it simply ended above where it started — a slow divergence that the budget cut
    /// short is still a model worse than its starting point, and must not be saved.
    pub fn failure(&self) -> Option<String> {
        if matches!(self.reason, StopReason::Diverged { .. }) {
            return Some(self.reason.describe(self.unit));
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

    /// One line on why training stopped. A first-order run that used its whole budget
    /// without meeting a stopping rule says that it did not converge (as scikit-learn's
    /// ConvergenceWarning does), with how far from the rule it ended.
    pub fn stop_line(&self) -> String {
        match (&self.reason, self.grad_norm) {
            (StopReason::MaxIterations { iters }, Some(norm)) => format!(
                "did not converge: the gradient norm is still {norm:.2e} (the rule is < {GTOL:e}) after {}; more --epochs or another --lr may help",
                plural(*iters, self.unit)
            ),
            (StopReason::MaxIterations { iters }, None) if self.unit == "epoch" => {
                let change = match self.curve.as_slice() {
                    [.., before, last] => format!(
                        "; the last epoch changed the training loss by {:.2e} (relative)",
                        ((last - before) / before.abs().max(f64::MIN_POSITIVE)).abs()
                    ),
                    _ => String::new(),
                };
                format!(
                    "did not converge: ran all {} in mini-batches{change}",
                    plural(*iters, self.unit)
                )
            }
            (reason @ StopReason::MaxIterations { .. }, None) => {
                format!("did not converge: {}", reason.describe(self.unit))
            }
            (reason, _) => reason.describe(self.unit),
        }
    }
}

/// "1 epoch", "2 epochs".
pub fn plural(n: usize, unit: &str) -> String {
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// Where the loss goes while training.
pub enum Progress {
    /// A live bar with the current loss (stdout is a terminal).
    Bar {
        /// The bar.
        bar: ProgressBar,
        /// What a step is.
        unit: &'static str,
    },
    /// A plain line every `every` steps (stdout is a file or a pipe).
    Lines {
        /// Steps between lines.
        every: usize,
        /// What a step is: "epoch", or for L-BFGS "evaluation".
        unit: &'static str,
    },
    /// Nothing (`compare` prints only its table).
    Quiet,
}

impl Progress {
    /// A bar when stdout is a terminal, about ten plain lines otherwise.
    pub fn for_stdout(settings: &Settings) -> Progress {
        let unit = if settings.optimizer == OptimizerKind::Lbfgs {
            "evaluation"
        } else {
            "epoch"
        };
        if super::console::is_quiet() {
            Progress::Quiet
        } else if std::io::stdout().is_terminal() {
            let bar = ProgressBar::with_draw_target(
                Some(settings.epochs as u64),
                ProgressDrawTarget::stdout(),
            );
            let template = format!("{{bar:30}} {unit} {{pos}}/{{len}}  loss {{msg}}");
            let style = ProgressStyle::with_template(&template)
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            Progress::Bar { bar, unit }
        } else {
            Progress::Lines {
                every: settings.epochs.div_ceil(10).max(1),
                unit,
            }
        }
    }

    /// Shows the loss after `step` steps (0: the starting loss).
    fn show(&self, step: usize, loss: f64) {
        match self {
            Progress::Bar { bar, .. } => {
                bar.set_position(step as u64);
                bar.set_message(format!("{loss:.6e}"));
            }
            Progress::Lines { every, unit } if step.is_multiple_of(*every) => {
                say!("{unit} {step:>6}  loss {loss:.6e}");
            }
            _ => {}
        }
    }

    /// Replaces the bar with a plain line: how many steps ran and the last loss.
    fn finish(&self, steps: usize, loss: f64) {
        if let Progress::Bar { bar, unit } = self {
            bar.finish_and_clear();
            say!(
                "{unit} {steps}/{}  loss {loss:.6e}",
                bar.length().unwrap_or_default()
            );
        }
    }
}

/// The gradient norm below which a full-batch run has converged.
const GTOL: f64 = 1e-8;

/// The stopping rules of every first-order run besides its epoch budget: a vanishing
/// gradient, or divergence (a loss a million times its starting value, or not finite).
fn rules() -> StopRules {
    StopRules {
        grad_norm_below: Some(GTOL),
        loss_growth_above: Some(1e6),
        ..Default::default()
    }
}

/// Trains `model` on `rows` as `settings` say, showing the loss on `progress`.
///
/// # Errors
/// `Optimizer` when the optimizer rejects the learning rate.
pub fn train(
    model: &Model,
    rows: &TrainingRows,
    settings: &Settings,
    progress: &Progress,
) -> Result<Outcome, CliError> {
    let start = Instant::now();
    let params = model.parameters();
    let mut outcome = match make_first_order(settings, params.clone())? {
        Some(mut optimizer) => first_order(model, rows, settings, optimizer.as_mut(), progress),
        None => lbfgs(model, rows, settings, params, progress)?,
    };
    progress.finish(outcome.curve.len() - 1, outcome.loss);
    outcome.elapsed = start.elapsed();
    Ok(outcome)
}

/// The optimizer of `settings` over `params`, or `None` for L-BFGS.
fn make_first_order(
    settings: &Settings,
    params: Vec<Param<f64>>,
) -> Result<Option<Box<dyn Optimizer<f64>>>, CliError> {
    let lr = settings.lr().unwrap_or_default();
    let sgd = |momentum: f64, nesterov: bool| SgdConfig {
        lr,
        momentum,
        nesterov,
        ..Default::default()
    };
    let adam = AdamConfig {
        lr,
        ..Default::default()
    };
    Ok(Some(match settings.optimizer {
        OptimizerKind::Sgd => Box::new(Sgd::new(params, sgd(0.0, false))?),
        OptimizerKind::Momentum => Box::new(Sgd::new(params, sgd(0.9, false))?),
        OptimizerKind::Nesterov => Box::new(Sgd::new(params, sgd(0.9, true))?),
        OptimizerKind::Adam => Box::new(Adam::new(params, adam)?),
        OptimizerKind::Adamw => Box::new(AdamW::new(
            params,
            AdamWConfig {
                lr,
                ..Default::default()
            },
        )?),
        OptimizerKind::Lbfgs => return Ok(None),
    }))
}

/// The training loss at the current weights. On the full batch it is recorded and
/// back-propagated, leaving in the parameters the gradient that the next update uses and
/// the stopping rule reads, so an epoch costs one forward and one backward pass. With
/// mini-batches it is only evaluated, under `no_grad`: the updates take their gradients
/// from the batches.
fn evaluate(
    model: &Model,
    rows: &TrainingRows,
    optimizer: &mut dyn Optimizer<f64>,
    full_batch: bool,
) -> (f64, Option<f64>) {
    if full_batch {
        optimizer.zero_grad();
        let loss = model.loss(rows.x, rows.targets);
        loss.backward();
        (loss.item(), Some(grad_norm(optimizer.params())))
    } else {
        (no_grad(|| model.loss(rows.x, rows.targets)).item(), None)
    }
}

/// `settings.epochs` epochs of a first-order optimizer, fewer if a stopping rule fires:
/// each epoch updates the weights (once on the full batch, or once per mini-batch), then
/// measures the training loss of the new weights. `--epochs N` is N updates of the full
/// batch, N passes over the mini-batches.
fn first_order(
    model: &Model,
    rows: &TrainingRows,
    settings: &Settings,
    optimizer: &mut dyn Optimizer<f64>,
    progress: &Progress,
) -> Outcome {
    let n = rows.x.shape()[0];
    let batch_size = settings.batch_size.filter(|&b| b < n);
    let all: Vec<usize> = (0..n).collect();
    let (initial_loss, mut grad_norm) = evaluate(model, rows, optimizer, batch_size.is_none());
    progress.show(0, initial_loss);
    let mut stopper = rules().start_at(initial_loss);
    let mut curve = vec![initial_loss];
    let mut reason = StopReason::MaxIterations {
        iters: settings.epochs,
    };
    for epoch in 1..=settings.epochs {
        match batch_size {
            None => optimizer.step(),
            Some(size) => {
                let epoch_seed = settings.seed.wrapping_add(epoch as u64 - 1);
                for batch in batches(&all, size, epoch_seed) {
                    optimizer.zero_grad();
                    let x = rows.x.index_select(0, &batch);
                    model.loss(&x, &select(rows.targets, &batch)).backward();
                    optimizer.step();
                }
            }
        }
        let (loss, norm) = evaluate(model, rows, optimizer, batch_size.is_none());
        grad_norm = norm;
        curve.push(loss);
        progress.show(epoch, loss);
        if let Some(stop) = stopper.check(loss, norm) {
            reason = stop;
            break;
        }
    }
    Outcome {
        iterations: stopper.iters(),
        initial_loss,
        loss: *curve.last().expect("the initial loss is there"),
        grad_norm,
        reason,
        curve,
        curve_unit: "epoch",
        unit: "epoch",
        elapsed: Duration::ZERO,
    }
}

/// L-BFGS on the full batch; the curve records every loss evaluation.
fn lbfgs(
    model: &Model,
    rows: &TrainingRows,
    settings: &Settings,
    params: Vec<Param<f64>>,
    progress: &Progress,
) -> Result<Outcome, CliError> {
    let config = LbfgsConfig {
        max_iters: settings.epochs,
        gtol: GTOL,
        ..Default::default()
    };
    let mut optimizer = Lbfgs::new(params, config)?;
    let mut curve = Vec::new();
    let report = optimizer.minimize(|| {
        let loss = model.loss(rows.x, rows.targets);
        curve.push(loss.item());
        progress.show(curve.len() - 1, loss.item());
        loss
    });
    Ok(Outcome {
        iterations: report.iterations,
        initial_loss: curve.first().copied().unwrap_or(report.loss),
        loss: report.loss,
        grad_norm: None,
        reason: report.reason,
        curve,
        curve_unit: "loss evaluation",
        unit: "iteration",
        elapsed: Duration::ZERO,
    })
}

/// The targets of the rows `batch`.
fn select(targets: &Targets, batch: &[usize]) -> Targets {
    match targets {
        Targets::Values(y) => Targets::Values(y.index_select(0, batch)),
        Targets::Classes(labels) => Targets::Classes(batch.iter().map(|&i| labels[i]).collect()),
    }
}
