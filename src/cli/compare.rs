//! `tapegrad compare`: every optimizer, each at its default learning rate, from the same
//! starting weights on the same rows, side by side.

use tapegrad::optim::stop::StopReason;

use super::console::say;
use super::error::CliError;
use super::problem::Problem;
use super::train::{plural, train, OptimizerKind, Outcome, Progress, Settings, TrainingRows};
use super::CompareArgs;

/// Runs `compare` and prints its table.
///
/// # Errors
/// Bad input or options.
pub fn run(args: &CompareArgs) -> Result<(), CliError> {
    let problem = Problem::prepare(&args.problem)?;
    let rows = TrainingRows {
        x: &problem.x_train,
        targets: &problem.y_train,
    };
    say!(
        "{} {} on {} training rows, at most {} each (L-BFGS: iterations), each optimizer at its default learning rate",
        problem.kind.name(),
        problem.task.name(),
        problem.x_train.shape()[0],
        plural(args.budget.epochs, "epoch")
    );
    say!(
        "{:<10}{:>8}{:>12}{:>12}{:>16}  stop reason",
        "optimizer",
        "lr",
        "iterations",
        "time",
        "final loss"
    );
    for optimizer in OptimizerKind::ALL {
        let lbfgs = optimizer == OptimizerKind::Lbfgs;
        let settings = Settings {
            optimizer,
            lr: None,
            epochs: args.budget.epochs,
            batch_size: args.budget.batch_size.filter(|_| !lbfgs),
            seed: args.problem.seed,
        };
        settings.check()?;
        let outcome = train(&problem.new_model(), &rows, &settings, &Progress::Quiet)?;
        say!(
            "{:<10}{:>8}{:>12}{:>12}{:>16.9e}  {}",
            optimizer.name(),
            settings
                .lr()
                .map_or_else(|| "-".into(), |lr| lr.to_string()),
            outcome.iterations,
            format!("{:.1?}", outcome.elapsed),
            outcome.loss,
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
    match &outcome.reason {
        StopReason::MaxIterations { .. } => "did not converge (ran out of epochs)".into(),
        StopReason::LossBelow { threshold, .. } => format!("loss below {threshold:e}"),
        StopReason::RelativeChange { tol, .. } => format!("loss changed by less than {tol:e}"),
        StopReason::GradientNorm { norm, gtol, .. } => {
            format!("gradient norm {norm:.1e} < {gtol:e}")
        }
        StopReason::NoProgress { .. } => "no step lowers the loss (f64 precision)".into(),
        StopReason::Diverged { loss, .. } => format!("diverged (loss {loss:.2e})"),
    }
}
