//! # Handwritten digits: a small CNN beside an MLP and logistic regression
//!
//! The 1,797 8×8 digit images of the UCI "Optical Recognition of Handwritten Digits" set
//! (`data/digits.csv`: 64 pixels of intensity 0–16 and the digit; see `data/README.md`) are
//! split 80/20 by a seeded stratified split, and a tenth of the training rows is held out
//! again, stratified, as a validation set. Three models learn the same training rows:
//!
//! - logistic regression on the 64 pixels (a linear classifier);
//! - an MLP, 64 → 128 → ReLU → 10;
//! - a CNN that sees each image as a 1×8×8 picture: conv 3×3 (1 → 32, padding 1) → ReLU →
//!   conv 3×3 (32 → 64, padding 1) → ReLU → max-pool 2×2 → flatten (64·4·4 = 1024) →
//!   linear 1024 → 128 → ReLU → linear 128 → 10.
//!
//! Each is trained by the library's `Trainer` with Adam on the softmax cross-entropy, in
//! seeded mini-batches of 32 reshuffled every epoch. The number of epochs is not set by hand:
//! after every epoch the trainer measures the validation loss, stops once it has not
//! improved for ten epochs (early stopping), and puts back the weights of the best epoch.
//! The learning rates were set by hand in a few trials. The test images are used once, for
//! the final scores. The example prints each model's test accuracy, the epoch whose weights
//! it kept and its training time, why each run stopped (from the history the trainer
//! returns), and the CNN's confusion matrix (rows: the true digit, columns: the prediction).
//! Progress goes to standard error. It ends with a check: the CNN reaches at least 98.5 % on
//! the held-out images.
//!
//! Run: `cargo run --release --example digits_cnn`

use std::process::ExitCode;
use std::time::Instant;

use tapegrad::models::loader::DataLoader;
use tapegrad::models::loss::cross_entropy;
use tapegrad::models::metrics::{accuracy, confusion_matrix};
use tapegrad::models::module::{
    Activation, Conv2d, Flatten, Linear, MaxPool2d, Module, Sequential,
};
use tapegrad::models::trainer::{EarlyStopping, History, Progress, Stop, Trainer};
use tapegrad::optim::{Adam, AdamConfig};
use tapegrad::tensor::{Conv2dOptions, MaxPool2dOptions, Padding};
use tapegrad::{no_grad, Tensor};

/// The digits' loaders: image tensors `[n, 1, 8, 8]` with their labels.
type Digits = DataLoader<f32, Vec<usize>>;

/// The bundled data, embedded so the example needs no file at run time.
const DIGITS: &str = include_str!("../data/digits.csv");

/// The images `[1797, 1, 8, 8]` (pixels scaled to [0, 1]) and their digits.
fn digits() -> (Tensor<f32>, Vec<usize>) {
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    for line in DIGITS.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        pixels.extend(
            cells[..64]
                .iter()
                .map(|c| c.parse::<f32>().expect("a pixel") / 16.0),
        );
        labels.push(cells[64].parse().expect("a digit"));
    }
    let n = labels.len();
    (Tensor::from_vec(pixels, &[n, 1, 8, 8]), labels)
}

fn cnn() -> Sequential<f32> {
    let same = Conv2dOptions {
        padding: Padding::Symmetric([1, 1]),
        ..Default::default()
    };
    Sequential::new(vec![
        Box::new(Conv2d::new(1, 32, [3, 3], same, 1)),
        Box::new(Activation::Relu),
        Box::new(Conv2d::new(32, 64, [3, 3], same, 3)),
        Box::new(Activation::Relu),
        Box::new(MaxPool2d::new(MaxPool2dOptions::new([2, 2]))),
        Box::new(Flatten::default()),
        Box::new(Linear::new(1024, 128, 5)),
        Box::new(Activation::Relu),
        Box::new(Linear::new(128, 10, 6)),
    ])
}

fn mlp() -> Sequential<f32> {
    Sequential::new(vec![
        Box::new(Flatten::default()),
        Box::new(Linear::new(64, 128, 11)),
        Box::new(Activation::Relu),
        Box::new(Linear::new(128, 10, 12)),
    ])
}

fn logistic() -> Sequential<f32> {
    Sequential::new(vec![
        Box::new(Flatten::default()),
        Box::new(Linear::zeros(64, 10)),
    ])
}

/// The fraction of `logits`' rows whose largest entry is at the label.
fn hits(logits: &Tensor<f32>, labels: &[usize]) -> f64 {
    accuracy(labels, &logits.argmax(1).into_iter().collect::<Vec<_>>())
}

/// Epochs without a better validation loss before training stops. With 145 validation
/// images the loss is noisy from epoch to epoch, so the rule waits a while.
const PATIENCE: usize = 10;

/// Trains `model` with Adam at `lr` on `train` for at most `epochs` epochs, stopping early
/// when the validation loss has not improved for [`PATIENCE`] epochs and keeping the best
/// epoch's weights. Returns the history and the seconds it took.
fn train(
    model: &mut Sequential<f32>,
    lr: f64,
    epochs: usize,
    train: &Digits,
    val: &Digits,
) -> (History, f64) {
    let start = Instant::now();
    let config = AdamConfig {
        lr,
        ..Default::default()
    };
    let mut adam = Adam::new(model.parameters(), config).expect("a valid rate");
    let history = Trainer::new(epochs, |logits: &Tensor<f32>, y: &Vec<usize>| {
        cross_entropy(logits, y)
    })
    .metric("accuracy", |logits, y| hits(logits, y))
    .early_stopping(EarlyStopping::new(PATIENCE))
    .progress(Progress::Auto)
    .fit(model, &mut adam, train, Some(val))
    .expect("a validation loader for early stopping");
    (history, start.elapsed().as_secs_f64())
}

/// The most probable digit of each image, in evaluation mode.
fn predict(model: &mut Sequential<f32>, images: &Tensor<f32>) -> Vec<usize> {
    model.set_training(false);
    let predicted = no_grad(|| model.forward(images).argmax(1).into_iter().collect());
    model.set_training(true);
    predicted
}

fn main() -> ExitCode {
    let (images, labels) = digits();
    let all = DataLoader::new(images, labels, 32);
    let (train_rows, test) = all.stratified_split(0.2, 0);
    let (fit_rows, val) = train_rows.stratified_split(0.1, 1);
    let fit = fit_rows.shuffle(100);
    println!(
        "digits: {} images of 8×8 pixels, {} for training ({} of them held out for validation), {} for testing\n",
        all.num_rows(),
        train_rows.num_rows(),
        val.num_rows(),
        test.num_rows()
    );
    let runs = [
        ("logistic regression", logistic(), 0.01, 200),
        ("MLP 64-128-10", mlp(), 0.003, 100),
        ("CNN", cnn(), 0.001, 40),
    ];
    let mut table = Vec::new();
    let mut stops = Vec::new();
    let mut cnn_predictions = Vec::new();
    let mut cnn_accuracy = 0.0;
    for (name, mut model, lr, epochs) in runs {
        eprintln!("training {name}:");
        let (history, seconds) = train(&mut model, lr, epochs, &fit, &val);
        let predicted = predict(&mut model, test.x());
        let score = accuracy(test.y(), &predicted);
        let ran = history.epochs.len();
        let kept = history.kept().expect("a finished run").epoch;
        table.push(format!(
            "{name:<22}{:>13.2}%{:>12}{:>11.1}s",
            100.0 * score,
            format!("{kept} of {ran}"),
            seconds
        ));
        let stop = history.stop.as_ref().expect("a finished run");
        let restored = match (stop, history.restored_epoch) {
            // Early stopping's own sentence says whether it restored the best weights.
            (Stop::EarlyStopping { .. }, _) | (_, None) => String::new(),
            (_, Some(epoch)) => format!("; the weights of epoch {epoch} were restored"),
        };
        stops.push(format!("  {name}: {stop}{restored}"));
        if name == "CNN" {
            cnn_accuracy = score;
            cnn_predictions = predicted;
        }
    }
    println!(
        "{:<22}{:>14}{:>12}{:>12}",
        "model", "test accuracy", "epoch kept", "train time"
    );
    println!("{}", table.join("\n"));
    println!("\nwhy each run stopped:\n{}", stops.join("\n"));

    println!("\nCNN confusion matrix on the held-out images (row: true digit, column: predicted):");
    let confusion = confusion_matrix(test.y(), &cnn_predictions, 10);
    println!(
        "     {}",
        (0..10).map(|d| format!("{d:>4}")).collect::<String>()
    );
    for (digit, row) in confusion.iter().enumerate() {
        let cells: String = row.iter().map(|c| format!("{c:>4}")).collect();
        println!("  {digit}: {cells}");
    }

    if cnn_accuracy >= 0.985 {
        println!(
            "\ncheck: the CNN reaches {:.2}% ≥ 98.5% on held-out digits",
            100.0 * cnn_accuracy
        );
        ExitCode::SUCCESS
    } else {
        println!(
            "\ncheck FAILED: the CNN reaches {:.2}% < 98.5%",
            100.0 * cnn_accuracy
        );
        ExitCode::FAILURE
    }
}
