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

use super::dataset::{feature_matrix, Targets, Task};
use super::error::CliError;
use super::model::{Model, ModelKind, Score};
use super::table::Table;
use super::train::{train, OptimizerKind, Progress, Settings, TrainingRows};

/// Galton's heights, embedded in the binary so the main job needs no file.
const GALTON: &str = include_str!("../../data/galton_heights.csv");

/// Where the embedded data come from, for messages.
const GALTON_PATH: &str = "data/galton_heights.csv";

/// The learning rate of the main job's gradient descent.
const LR: f64 = 0.1;

/// Runs the main job.
///
/// # Errors
/// None in practice: the embedded data are known to be well-formed.
pub fn run() -> Result<(), CliError> {
    let table = Table::from_reader(Path::new(GALTON_PATH), GALTON.as_bytes())?;
    let features = ["father", "mother", "male"].map(String::from);
    let x = feature_matrix(&table, &features)?;
    let y = table.numbers("height")?;
    let n = y.len();
    let y = tapegrad::Tensor::from_vec(y, &[n, 1]);
    println!(
        "Galton's family heights (1886): a child's adult height from the father's and mother's heights and the child's sex ({n} children, inches)."
    );
    println!("Model: height ≈ w·(father, mother, male) + b, loss = mean squared error, gradient descent at lr {LR}; every gradient comes from the tape.");
    let scaler = Standardizer::fit(&x);
    println!("Features standardised to mean 0, sd 1, so the loss curves alike in every direction and one learning rate suits every weight (on raw heights near 70 in., lr {LR} diverges).\n");

    let model = Model::new(
        ModelKind::Linear,
        Task::Regression,
        3,
        Vec::new(),
        Vec::new(),
        0,
    );
    let settings = Settings {
        optimizer: OptimizerKind::Sgd,
        lr: Some(LR),
        epochs: 10_000,
        batch_size: None,
        seed: 0,
    };
    let targets = Targets::Values(y.clone());
    let rows = TrainingRows {
        x: &scaler.transform(&x),
        targets: &targets,
    };
    let outcome = train(
        &model,
        &rows,
        &settings,
        &Progress::Lines {
            every: 10,
            unit: "epoch",
        },
    )?;
    println!("stopped: {} ({:.1?})\n", outcome.reason, outcome.elapsed);

    let params = model.parameters();
    let weights: Vec<f64> = params[0].value().iter().copied().collect();
    let (w, b) = scaler.unscale_linear(&weights, params[1].value()[[0]]);
    let exact = fit_with_bias(&x, &y).ok_or_else(|| CliError::TooLittleData {
        path: GALTON_PATH.into(),
        detail: "the features are collinear".into(),
    })?;
    println!("Coefficients on the original scale (inches per inch; `male` in inches):");
    println!(
        "{:<8}{:>18}{:>18}{:>12}",
        "", "gradient descent", "closed form", "|diff|"
    );
    let names = features.iter().map(String::as_str).chain(["bias"]);
    for ((name, got), want) in names.zip(w.iter().chain([&b])).zip(&exact) {
        println!(
            "{name:<8}{got:>18.10}{want:>18.10}{:>12.1e}",
            (got - want).abs()
        );
    }
    if let Score::Regression { r2, .. } = model.score(rows.x, &targets) {
        println!("\nR² = {r2:.4}. Each parent inch adds under half an inch to the child: heights regress towards the mean, as Galton found.");
    }
    Ok(())
}
