//! `tapegrad fit`: train one model, report how well it fits and why training stopped, then
//! write the weights and the loss curve.

use std::path::Path;

use super::console::say;
use super::dataset::Target;
use super::error::CliError;
use super::model::Model;
use super::output::{check_outputs, write_atomically};
use super::plot::loss_curve_svg;
use super::problem::Problem;
use super::saved::SavedModel;
use super::train::{plural, train, OptimizerKind, Outcome, Progress, Settings, TrainingRows};
use super::FitArgs;

/// Runs `fit`. Output paths are checked before training and written only after it
/// succeeded, each atomically.
///
/// # Errors
/// Bad input, an output that cannot be written, or a diverged training (nothing is saved).
pub fn run(args: &FitArgs) -> Result<(), CliError> {
    let settings = Settings {
        optimizer: args.optimizer,
        lr: args.lr,
        epochs: args.budget.epochs,
        batch_size: args.budget.batch_size,
        seed: args.problem.seed,
    };
    settings.check()?;
    if let Some(path) = &args.plot {
        check_svg(path)?;
    }
    let outputs: Vec<(&str, &Path)> = [("--save", &args.save), ("--plot", &args.plot)]
        .into_iter()
        .filter_map(|(flag, path)| path.as_deref().map(|p| (flag, p)))
        .collect();
    check_outputs(&outputs, &[("--csv", args.problem.csv.as_path())])?;
    let problem = Problem::prepare(&args.problem)?;
    describe(&problem, &settings);

    let model = problem.new_model();
    let rows = TrainingRows {
        x: &problem.x_train,
        targets: &problem.y_train,
    };
    let outcome = train(&model, &rows, &settings, &Progress::for_stdout(&settings))?;
    say!("stopped: {} ({:.2?})", outcome.stop_line(), outcome.elapsed);
    if let Some(failure) = outcome.failure() {
        return Err(CliError::Diverged {
            reason: failure,
            standardized: args.problem.standardize,
        });
    }
    say!(
        "train: {} on {}",
        model.score(&problem.x_train, &problem.y_train),
        count_rows(problem.x_train.shape()[0])
    );
    if problem.test_rows() > 0 {
        say!(
            "test:  {} on {}",
            model.score(&problem.x_test, &problem.y_test),
            count_rows(problem.test_rows())
        );
    }

    if let Some(path) = &args.plot {
        write_atomically(path, plot(&outcome, &settings, &model)?.as_bytes())?;
        say!("loss curve: {}", path.display());
    }
    if let Some(path) = &args.save {
        let saved = SavedModel {
            model,
            features: problem.data.features.clone(),
            target: problem.data.target_name.clone(),
            standardizer: problem.standardizer.clone(),
        };
        saved.save(path)?;
        say!("model: {}", path.display());
    }
    Ok(())
}

/// "1 row", "2 rows".
fn count_rows(n: usize) -> String {
    if n == 1 {
        "1 row".into()
    } else {
        format!("{n} rows")
    }
}

/// Only SVG can be drawn without system font libraries, so `--plot` must name an .svg file.
fn check_svg(path: &Path) -> Result<(), CliError> {
    match path.extension() {
        Some(e) if e.eq_ignore_ascii_case("svg") => Ok(()),
        _ => Err(CliError::Usage(format!(
            "--plot {:?}: the loss curve is drawn as SVG; name the file *.svg",
            path.display()
        ))),
    }
}

/// The lines that say what is about to be trained.
fn describe(problem: &Problem, settings: &Settings) {
    let data = &problem.data;
    say!(
        "data: {} rows ({} for training, {} for testing); {:?} from {}",
        data.len(),
        problem.x_train.shape()[0],
        problem.test_rows(),
        data.target_name,
        data.features.join(", ")
    );
    let batch = match settings.batch_size {
        Some(size) => format!("mini-batches of {size}"),
        None => "full batch".into(),
    };
    let lr = settings
        .lr()
        .map_or_else(|| "line search".into(), |lr| format!("lr {lr}"));
    let unit = match settings.optimizer {
        OptimizerKind::Lbfgs => "iteration",
        _ => "epoch",
    };
    say!(
        "model: {} {}; optimizer: {}, {lr}, {batch}, at most {}",
        problem.kind.name(),
        problem.task.name(),
        settings.optimizer.name(),
        plural(settings.epochs, unit)
    );
    if let Some(reason) = &problem.task_reason {
        say!("task: {} ({reason})", problem.task.name());
    }
    if let Target::Classes { labels, names } = &data.target {
        let mut counts = vec![0; names.len()];
        labels.iter().for_each(|&l| counts[l] += 1);
        for (name, _) in names.iter().zip(&counts).filter(|(_, &c)| c < 2) {
            say!("note: class {name:?} has a single row; it is kept for training, so no test row shows it");
        }
    }
    if problem.standardizer.is_some() {
        say!(
            "features standardised on the training rows (mean 0, sd 1): one learning rate suits every weight"
        );
    }
}

/// The loss curve as SVG text.
fn plot(outcome: &Outcome, settings: &Settings, model: &Model) -> Result<String, CliError> {
    let title = format!(
        "{} {}, {}",
        model.kind.name(),
        model.task.name(),
        settings.optimizer.name()
    );
    loss_curve_svg(&outcome.curve, outcome.curve_unit, &title)
        .map_err(|detail| CliError::Usage(format!("plot: {detail}")))
}
