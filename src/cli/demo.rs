//! The main job, `tapegrad` with no arguments: linear regression on a real data set by
//! gradient descent through the tape, checked against the closed-form least squares.
//!
//! The data are Francis Galton's family heights, the study in which he named "regression"
//! (F. Galton, 1886, "Regression towards mediocrity in hereditary stature", Journal of the
//! Anthropological Institute 15, 246–263; public domain): 934 adult children of 205 families,
//! in inches, as transcribed from his notebook by B. Shipley and J. A. Hanley (2004, The
//! American Statistician 58, 237–243) and distributed as `GaltonFamilies` in R's HistData
//! package. `data/galton_heights.csv` keeps the father's and mother's heights, the child's
//! sex (`male` = 1 or 0) and the child's height.

use std::path::Path;

use tapegrad::models::least_squares::fit_with_bias;
use tapegrad::models::preprocess::Standardizer;
use tapegrad::Tensor;

use super::console::say;
use super::dataset::{feature_matrix, Targets, Task};
use super::error::CliError;
use super::model::{Model, ModelKind};
use super::table::Table;
use super::train::{train, Display, OptimizerKind, Settings, TrainingRows};

/// Galton's heights, embedded in the binary so the main job needs no file.
const GALTON: &str = include_str!("../../data/galton_heights.csv");

/// Where the embedded data come from, for messages.
const GALTON_PATH: &str = "data/galton_heights.csv";

/// The learning rate of the main job's gradient descent.
const LR: f64 = 0.1;

/// The feature columns of the main job.
const FEATURES: [&str; 3] = ["father", "mother", "male"];

/// Runs the main job.
///
/// # Errors
/// None in practice: the embedded data are known to be well-formed.
pub fn run() -> Result<(), CliError> {
    let (x, y) = galton()?;
    say!(
        "Galton's family heights (1886): a child's adult height from the father's and mother's heights and the child's sex ({} children, inches).",
        y.shape()[0]
    );
    say!("Model: height ≈ w·(father, mother, male) + b, loss = mean squared error, gradient descent at lr {LR}; every gradient comes from the tape.");
    let scaler = Standardizer::fit(&x);
    say!("Features standardised to mean 0, sd 1, so the loss curves alike in every direction and one learning rate suits every weight (on raw heights near 70 in., lr {LR} diverges).\n");
    let (w, b) = descend(&scaler.transform(&x), &y)?;
    let (w, b) = scaler.unscale_linear(&w, b);
    let exact = fit_with_bias(&x, &y).ok_or_else(|| CliError::TooLittleData {
        path: GALTON_PATH.into(),
        detail: "the features are collinear".into(),
    })?;
    print_comparison(&w, b, &exact);
    say!("\nEach parent inch adds under half an inch to the child: heights regress towards the mean, as Galton found.");
    Ok(())
}

/// X ([934, 3]: father, mother, male) and y ([934, 1]: the child's height).
fn galton() -> Result<(Tensor<f64>, Tensor<f64>), CliError> {
    let table = Table::from_reader(Path::new(GALTON_PATH), GALTON.as_bytes())?;
    let x = feature_matrix(&table, &FEATURES.map(String::from))?;
    let y = table.numbers("height")?;
    let n = y.len();
    Ok((x, Tensor::from_vec(y, &[n, 1])))
}

/// Plain gradient descent on the standardised features, printing the loss every 10 epochs;
/// returns the weights and the bias, and prints R² and why it stopped.
fn descend(x: &Tensor<f64>, y: &Tensor<f64>) -> Result<(Vec<f64>, f64), CliError> {
    let mut model = Model::new(
        ModelKind::Linear,
        Task::Regression,
        3,
        Vec::new(),
        Vec::new(),
        0,
    );
    let settings = Settings {
        lr: Some(LR),
        ..Settings::new(OptimizerKind::Sgd, 10_000, 0)
    };
    let targets = Targets::Values(y.clone());
    let rows = TrainingRows {
        x,
        targets: &targets,
    };
    let outcome = train(&mut model, &rows, None, &settings, Display::Every(10), None)?;
    say!("stopped: {} ({:.1?})", outcome.stop_line(), outcome.elapsed);
    say!("fit: {}\n", model.score(x, &targets));
    let params = model.parameters();
    let weights = params[0].value().iter().copied().collect();
    let bias = params[1].value()[[0]];
    Ok((weights, bias))
}

/// The table of coefficients: gradient descent, closed form, and their difference.
fn print_comparison(w: &[f64], b: f64, exact: &[f64]) {
    say!(
        "Coefficients on the original scale (inches per inch of parent; `male`: inches for a son):"
    );
    say!(
        "{:<8}{:>18}{:>18}{:>12}",
        "",
        "gradient descent",
        "closed form",
        "|diff|"
    );
    let names = FEATURES.into_iter().chain(["bias"]);
    for ((name, got), want) in names.zip(w.iter().chain([&b])).zip(exact) {
        say!(
            "{name:<8}{got:>18.10}{want:>18.10}{:>12.1e}",
            (got - want).abs()
        );
    }
}
