//! # Three interleaved spirals, classified by an MLP
//!
//! 300 points on three spiral arms (100 each, with a little noise) cannot be separated by
//! straight lines. A network 2 → 64 → ReLU → 64 → ReLU → 3 (Xavier-initialised),
//! trained with Adam in mini-batches of 32 on the cross-entropy, learns the curved
//! boundaries. The library's `Trainer` runs the epochs; the loss and accuracy it recorded
//! every 50 epochs are printed from the history it returns.
//!
//! Run: `cargo run --release --example spirals`

use std::process::ExitCode;

use tapegrad::models::loader::DataLoader;
use tapegrad::models::loss::cross_entropy;
use tapegrad::models::metrics::accuracy;
use tapegrad::models::module::{Activation, Linear, Module, Sequential};
use tapegrad::models::trainer::Trainer;
use tapegrad::optim::{Adam, AdamConfig};
use tapegrad::Tensor;

const PER_CLASS: usize = 100;
const CLASSES: usize = 3;

/// Points (r·sin t, r·cos t) with r from 0 to 1 and t winding 4 radians per arm, plus noise.
fn spirals() -> (Tensor<f64>, Vec<usize>) {
    let noise = Tensor::<f64>::randn(&[PER_CLASS * CLASSES], 0.0, 0.2, 1).to_vec();
    let mut points = Vec::new();
    let mut labels = Vec::new();
    for class in 0..CLASSES {
        for i in 0..PER_CLASS {
            let r = i as f64 / PER_CLASS as f64;
            let t = class as f64 * 4.0 + 4.0 * r + noise[class * PER_CLASS + i];
            points.extend([r * t.sin(), r * t.cos()]);
            labels.push(class);
        }
    }
    (Tensor::from_vec(points, &[PER_CLASS * CLASSES, 2]), labels)
}

fn main() -> ExitCode {
    let (x, labels) = spirals();
    let data = DataLoader::new(x, labels, 32).shuffle(0);
    let mut model = Sequential::new(vec![
        Box::new(Linear::new(2, 64, 10)),
        Box::new(Activation::Relu),
        Box::new(Linear::new(64, 64, 11)),
        Box::new(Activation::Relu),
        Box::new(Linear::new(64, CLASSES, 12)),
    ]);
    let mut adam = Adam::new(
        model.parameters(),
        AdamConfig {
            lr: 0.01,
            ..Default::default()
        },
    )
    .expect("valid");

    // Without validation data the metric is measured on the training points.
    let history = Trainer::new(300, |logits: &Tensor<f64>, y: &Vec<usize>| {
        cross_entropy(logits, y)
    })
    .metric("accuracy", |logits, y| {
        accuracy(y, &logits.argmax(1).into_iter().collect::<Vec<_>>())
    })
    .fit(&mut model, &mut adam, &data, None)
    .expect("settings that work together");
    for record in history.records().filter(|r| r.epoch % 50 == 0) {
        println!(
            "epoch {:>3}  loss {:.4}  train accuracy {:.1}%",
            record.epoch,
            record.train_loss,
            100.0 * record.metrics["accuracy"]
        );
    }
    let acc = history.last().expect("300 epochs ran").metrics["accuracy"];
    if acc >= 0.97 {
        println!("check: train accuracy {:.1}% ≥ 97%", 100.0 * acc);
        ExitCode::SUCCESS
    } else {
        eprintln!("check FAILED: train accuracy {:.1}% < 97%", 100.0 * acc);
        ExitCode::FAILURE
    }
}
