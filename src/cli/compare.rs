//! `tapegrad compare`: optimizers (all, or those of `--optimizers`), each at its default
//! learning rate or at `--lr`, from the same starting weights on the same rows, side by side
//! with their training and validation losses.

use tapegrad::models::trainer::Stop;
use tapegrad::optim::stop::StopReason;

use super::console::say;
use super::error::CliError;
use super::problem::Problem;
use super::train::{plural, train, Display, OptimizerKind, Outcome, Settings, TrainingRows};
use super::CompareArgs;

/// Runs `compare` and prints its table.
///
/// # Errors
/// Bad input or options.
pub fn run(args: &CompareArgs) -> Result<(), CliError> {
    let problem = Problem::prepare(&args.problem, args.val_split)?;
    let rows = TrainingRows {
        x: &problem.x_train,
        targets: &problem.y_train,
    };
    let val = problem
        .val
        .as_ref()
        .map(|(x, targets)| TrainingRows { x, targets });
    let optimizers = args
        .optimizers
        .clone()
        .unwrap_or(OptimizerKind::ALL.to_vec());
    let rate = match args.lr {
        Some(lr) => format!("lr {lr} (L-BFGS: its line search)"),
        None => "each optimizer at its default learning rate".into(),
    };
    say!(
        "{} {} on {} training and {} validation rows, at most {} each (L-BFGS: iterations), {rate}",
        problem.kind.name(),
        problem.task.name(),
        problem.x_train.shape()[0],
        val.as_ref().map_or(0, |v| v.x.shape()[0]),
        plural(args.budget.epochs, "epoch")
    );
    say!(
        "{:<10}{:>8}{:>8}{:>10}{:>14}{:>14}  stop reason",
        "optimizer",
        "lr",
        "epochs",
        "time",
        "train loss",
        "val loss"
    );
    for optimizer in optimizers {
        let lbfgs = optimizer == OptimizerKind::Lbfgs;
        let settings = Settings {
            lr: args.lr.filter(|_| !lbfgs),
            batch_size: args.budget.batch_size.filter(|_| !lbfgs),
            ..Settings::new(optimizer, args.budget.epochs, args.problem.seed)
        };
        settings.check(val.is_some())?;
        let mut model = problem.new_model();
        let outcome = train(
            &mut model,
            &rows,
            val.as_ref(),
            &settings,
            Display::Quiet,
            None,
        )?;
        say!(
            "{:<10}{:>8}{:>8}{:>10}{:>14.6e}{:>14}  {}",
            optimizer.name(),
            settings
                .lr()
                .map_or_else(|| "-".into(), |lr| lr.to_string()),
            outcome.iterations,
            format!("{:.1?}", outcome.elapsed),
            outcome.loss,
            outcome
                .val_loss
                .map_or_else(|| "-".into(), |v| format!("{v:.6e}")),
            short_reason(&outcome)
        );
    }
    if args.budget.batch_size.is_some() {
        say!("(L-BFGS ran on the full batch: its line search needs the same loss at every evaluation)");
    }
    Ok(())
}

/// The stop reason without the iteration count the table already shows.
fn short_reason(outcome: &Outcome) -> String {
    if outcome.failure().is_some() {
        return format!(
            "diverged (loss {:.2e} → {:.2e})",
            outcome.initial_loss, outcome.loss
        );
    }
    match &outcome.stop {
        Stop::EpochBudget { .. } => "did not converge (ran out of epochs)".into(),
        Stop::StepBudget { steps } => format!("did not converge (ran out of {steps} steps)"),
        Stop::EarlyStopping { best_epoch, .. } => {
            format!("early stopping (best epoch {best_epoch})")
        }
        Stop::Callback { reason, .. } => reason.clone(),
        Stop::Rule(reason) => match reason {
            StopReason::MaxIterations { .. } => "did not converge (ran out of epochs)".into(),
            StopReason::LossBelow { threshold, .. } => format!("loss below {threshold:e}"),
            StopReason::RelativeChange { tol, .. } => {
                format!("loss changed by less than {tol:e}")
            }
            StopReason::GradientNorm { norm, gtol, .. } => {
                format!("gradient norm {norm:.1e} < {gtol:e}")
            }
            StopReason::NoProgress { .. } => "no step lowers the loss (f64 precision)".into(),
            StopReason::Diverged { loss, .. } => format!("diverged (loss {loss:.2e})"),
        },
    }
}
