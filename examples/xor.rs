//! # XOR with a two-layer network
//!
//! XOR is the classic problem a linear model cannot solve: no straight line separates
//! {(0,0), (1,1)} from {(0,1), (1,0)}. A hidden layer of tanh units bends the space so the
//! output layer can. The network below, 2 → 8 → tanh → 2 logits, is trained with Adam on the
//! cross-entropy of the four points by the library's `Trainer` (one full-batch step per
//! epoch); the loss it recorded after every step is printed as it falls, then the predictions.
//!
//! Run: `cargo run --release --example xor`

use std::process::ExitCode;

use tapegrad::models::loader::DataLoader;
use tapegrad::models::loss::cross_entropy;
use tapegrad::models::module::{Activation, Linear, Module, Sequential};
use tapegrad::models::trainer::{TrainLoss, Trainer};
use tapegrad::optim::{Adam, AdamConfig};
use tapegrad::{no_grad, Tensor};

fn main() -> ExitCode {
    let x = Tensor::<f64>::from_vec(vec![0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0], &[4, 2]);
    let labels = vec![0, 1, 1, 0];
    let data = DataLoader::full_batch(x.clone(), labels.clone()).expect("four points, four labels");
    let mut model = Sequential::new(vec![
        Box::new(Linear::new(2, 8, 1)),
        Box::new(Activation::Tanh),
        Box::new(Linear::new(8, 2, 2)),
    ]);
    let mut adam = Adam::new(
        model.parameters(),
        AdamConfig {
            lr: 0.05,
            ..Default::default()
        },
    )
    .expect("valid");

    // Evaluate: each epoch's loss is measured after its step (epoch 0: before any step).
    let history = Trainer::new(300, |logits: &Tensor<f64>, y: &Vec<usize>| {
        cross_entropy(logits, y)
    })
    .train_loss(TrainLoss::Evaluate)
    .fit(&mut model, &mut adam, &data, None)
    .expect("settings that work together");
    for record in history.records().filter(|r| r.epoch % 50 == 0) {
        println!(
            "step {:>3}  cross-entropy {:.6}",
            record.epoch, record.train_loss
        );
    }

    let probabilities = no_grad(|| model.forward(&x).softmax(1));
    let predicted = probabilities.argmax(1);
    println!("\n  x₁ x₂  label  P(1)    predicted");
    let mut correct = 0;
    for (i, &label) in labels.iter().enumerate() {
        let p1 = probabilities.value()[[i, 1]];
        let (x1, x2) = (x.value()[[i, 0]], x.value()[[i, 1]]);
        println!(
            "  {x1:.0}  {x2:.0}   {label}      {p1:.4}  {}",
            predicted[[i]]
        );
        correct += usize::from(predicted[[i]] == label);
    }
    println!("\naccuracy {correct}/4");
    if correct == 4 {
        println!("check: the network learned XOR");
        ExitCode::SUCCESS
    } else {
        eprintln!("check FAILED");
        ExitCode::FAILURE
    }
}
