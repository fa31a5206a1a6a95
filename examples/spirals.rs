//! # Three interleaved spirals, classified by an MLP
//!
//! 300 points on three spiral arms (100 each, with a little noise) cannot be separated by
//! straight lines. A network 2 → 64 → ReLU → 64 → ReLU → 3 (Xavier-initialised),
//! trained with Adam in mini-batches of 32 on the cross-entropy, learns the curved
//! boundaries. The loss and accuracy are printed every 50 epochs.
//!
//! Run: `cargo run --release --example spirals`

use std::process::ExitCode;

use tapegrad::models::data::batches;
use tapegrad::models::loss::cross_entropy;
use tapegrad::models::module::{Activation, Linear, Module, Sequential};
use tapegrad::optim::{Adam, AdamConfig, Optimizer};
use tapegrad::{no_grad, Tensor};

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

fn accuracy(model: &Sequential<f64>, x: &Tensor<f64>, labels: &[usize]) -> f64 {
    let predicted = no_grad(|| model.forward(x)).argmax(1);
    let correct = predicted.iter().zip(labels).filter(|(p, l)| p == l).count();
    correct as f64 / labels.len() as f64
}

fn main() -> ExitCode {
    let (x, labels) = spirals();
    let model = Sequential::new(vec![
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
    let rows: Vec<usize> = (0..labels.len()).collect();

    for epoch in 0..=300 {
        let mut epoch_loss = 0.0;
        for batch in batches(&rows, 32, epoch) {
            let batch_labels: Vec<usize> = batch.iter().map(|&i| labels[i]).collect();
            let loss = cross_entropy(&model.forward(&x.index_select(0, &batch)), &batch_labels);
            epoch_loss += loss.item() * batch.len() as f64;
            loss.backward();
            adam.step();
            adam.zero_grad();
        }
        if epoch % 50 == 0 {
            let acc = accuracy(&model, &x, &labels);
            println!(
                "epoch {epoch:>3}  loss {:.4}  train accuracy {:.1}%",
                epoch_loss / rows.len() as f64,
                100.0 * acc
            );
        }
    }
    let acc = accuracy(&model, &x, &labels);
    if acc >= 0.97 {
        println!("check: train accuracy {:.1}% ≥ 97%", 100.0 * acc);
        ExitCode::SUCCESS
    } else {
        eprintln!("check FAILED: train accuracy {:.1}% < 97%", 100.0 * acc);
        ExitCode::FAILURE
    }
}
