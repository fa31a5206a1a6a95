//! `tapegrad fit`: train one model, report how well it fits and why training stopped, then
//! write the weights and the loss curve.

use std::path::Path;

use tapegrad::models::trainer::checkpoint;

use super::console::{self, say};
use super::dataset::Target;
use super::error::CliError;
use super::model::{Model, Score};
use super::output::{check_outputs, write_atomically};
use super::plot::loss_curve_svg;
use super::problem::Problem;
use super::saved::metadata;
use super::train::{plural, train, Display, Outcome, SaveTo, Settings, TrainingRows};
use super::FitArgs;

/// Runs `fit`. Output paths are checked before training and written only after it
/// succeeded, each atomically.
///
/// # Errors
/// Bad input, an output that cannot be written, or a diverged training (nothing is saved).
pub fn run(args: &FitArgs) -> Result<(), CliError> {
    let settings = Settings {
        lr: args.lr,
        batch_size: args.budget.batch_size,
        weight_decay: args.weight_decay,
        schedule: args.schedule,
        patience: args.patience,
        resume: args.resume.clone(),
        ..Settings::new(args.optimizer, args.budget.epochs, args.problem.seed)
    };
    settings.check(args.val_split > 0.0)?;
    if args.quiet || args.json {
        console::set_quiet();
    }
    if let Some(path) = &args.plot {
        check_svg(path)?;
    }
    let outputs: Vec<(&str, &Path)> = [("--save", &args.save), ("--plot", &args.plot)]
        .into_iter()
        .filter_map(|(flag, path)| path.as_deref().map(|p| (flag, p)))
        .collect();
    check_outputs(&outputs, &[("--csv", args.problem.csv.as_path())])?;
    if let Some(resume) = &args.resume {
        check_resumable(resume)?;
    }
    let problem = Problem::prepare(&args.problem, args.val_split)?;
    describe(&problem, &settings);

    let mut model = problem.new_model();
    let rows = TrainingRows {
        x: &problem.x_train,
        targets: &problem.y_train,
    };
    let val = problem
        .val
        .as_ref()
        .map(|(x, targets)| TrainingRows { x, targets });
    let save = args.save.as_deref().map(|path| SaveTo {
        path,
        metadata: metadata(
            &model,
            &problem.data.features,
            &problem.data.target_name,
            problem.standardizer.as_ref(),
        ),
    });
    let outcome = train(
        &mut model,
        &rows,
        val.as_ref(),
        &settings,
        Display::for_stdout(),
        save,
    )?;
    say!("stopped: {} ({:.2?})", outcome.stop_line(), outcome.elapsed);
    if let Some(failure) = outcome.failure() {
        return Err(CliError::Diverged {
            reason: failure,
            standardized: args.problem.standardize,
        });
    }
    let train_score = model.score(&problem.x_train, &problem.y_train);
    say!(
        "train: {train_score} on {}",
        count_rows(problem.x_train.shape()[0])
    );
    let val_score = problem
        .val
        .as_ref()
        .map(|(x, y)| (model.score(x, y), x.shape()[0]));
    if let Some((score, rows)) = &val_score {
        say!("val:   {score} on {}", count_rows(*rows));
    }
    let test_score =
        (problem.test_rows() > 0).then(|| model.score(&problem.x_test, &problem.y_test));
    if let Some(score) = &test_score {
        say!("test:  {score} on {}", count_rows(problem.test_rows()));
    }
    let summary = args.json.then(|| {
        serde_json::json!({
            "model": problem.kind.name(),
            "task": problem.task.name(),
            "optimizer": settings.optimizer.name(),
            "lr": settings.lr(),
            "epochs": outcome.iterations,
            "stop": outcome.stop_line(),
            "converged": outcome.stop.converged(),
            "initial_loss": outcome.initial_loss,
            "final_loss": outcome.loss,
            "val_loss": outcome.val_loss,
            "train": score_json(&train_score, problem.x_train.shape()[0]),
            "val": val_score.map(|(s, rows)| score_json(&s, rows)),
            "test": test_score.map(|s| score_json(&s, problem.test_rows())),
            "model_file": args.save,
            "plot_file": args.plot,
            "seconds": outcome.elapsed.as_secs_f64(),
        })
    });

    if let Some(path) = &args.plot {
        write_atomically(path, plot(&outcome, &settings, &model)?.as_bytes())?;
        say!("loss curve: {}", path.display());
    }
    if let Some(path) = &args.save {
        say!("model: {}", path.display());
    }
    match summary {
        Some(line) => console::write_all(format!("{line}\n").as_bytes()),
        None => Ok(()),
    }
}

/// `--resume` must name a checkpoint, which only first-order runs of this version write.
fn check_resumable(path: &Path) -> Result<(), CliError> {
    if !checkpoint::is_checkpoint(path)? {
        return Err(CliError::Usage(format!(
            "--resume {:?}: the file holds weights but no training state (written by L-BFGS or by an earlier version); fit without --resume",
            path.display()
        )));
    }
    Ok(())
}

/// A score as JSON: `{"rows", "mse", "r2"}` or `{"rows", "accuracy"}` (R² is `null` when the
/// targets do not vary).
fn score_json(score: &Score, rows: usize) -> serde_json::Value {
    match *score {
        Score::Regression { mse, r2 } => serde_json::json!({
            "rows": rows,
            "mse": mse,
            "r2": r2.is_finite().then_some(r2),
        }),
        Score::Classification { accuracy } => {
            serde_json::json!({ "rows": rows, "accuracy": accuracy })
        }
    }
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
    let unit = settings.unit();
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

/// The loss curves as SVG text.
fn plot(outcome: &Outcome, settings: &Settings, model: &Model) -> Result<String, CliError> {
    let title = format!(
        "{} {}, {}",
        model.kind.name(),
        model.task.name(),
        settings.optimizer.name()
    );
    let mut curves = vec![("training loss", outcome.curve.as_slice())];
    if !outcome.val_curve.is_empty() {
        curves.push(("validation loss", outcome.val_curve.as_slice()));
    }
    loss_curve_svg(&curves, outcome.unit, &title)
        .map_err(|detail| CliError::Usage(format!("plot: {detail}")))
}
