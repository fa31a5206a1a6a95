//! # The adding problem: why recurrent networks have gates
//!
//! Hochreiter & Schmidhuber's adding problem (1997): each input is a sequence of T = 50 steps
//! of two numbers, a value drawn uniformly from [0, 1) and a marker that is 1 at exactly two
//! steps (one in each half) and 0 elsewhere. The target is the sum of the two marked values.
//! Always guessing the mean, 1, scores the variance of a sum of two uniforms: MSE 1/6 ≈ 0.167.
//! To do better a network must carry the first marked value across up to 50 steps.
//!
//! A plain tanh RNN, an LSTM and a GRU of the same width (32) train on the same seeded
//! batches (Adam, lr 0.01, batch 64) and are scored on 1,000 held-out sequences. The plain
//! RNN's gradient through 50 tanh steps fades, and it stays near the baseline; the gated
//! networks learn the task. The example prints each one's test MSE beside 0.167 and ends with
//! a check: the LSTM and the GRU both reach a test MSE below a quarter of the baseline.
//!
//! Run: `cargo run --release --example adding_problem`

use std::process::ExitCode;
use std::time::Instant;

use tapegrad::models::loss::mse;
use tapegrad::models::module::{Gru, Linear, Lstm, Module, Rnn};
use tapegrad::optim::{Adam, AdamConfig, Optimizer};
use tapegrad::{no_grad, Tensor};

/// Sequence length.
const T: usize = 50;
/// Hidden width of every network.
const HIDDEN: usize = 32;
/// Sequences per training step.
const BATCH: usize = 64;
/// Training steps.
const STEPS: u64 = 1500;

/// `n` sequences `[T, n, 2]` (time-major: value, marker) and their targets `[n, 1]`, seeded.
fn sequences(n: usize, seed: u64) -> (Tensor<f32>, Tensor<f32>) {
    let values = Tensor::<f32>::rand_uniform(&[T, n], 0.0, 1.0, seed).to_vec();
    let picks = Tensor::<f32>::rand_uniform(&[n, 2], 0.0, 1.0, seed + 1).to_vec();
    let mut x = vec![0.0; T * n * 2];
    let mut y = vec![0.0; n];
    for i in 0..n {
        // One marker in each half of the sequence.
        let first = (picks[2 * i] * (T / 2) as f32) as usize;
        let second = T / 2 + (picks[2 * i + 1] * (T / 2) as f32) as usize;
        for t in 0..T {
            x[(t * n + i) * 2] = values[t * n + i];
        }
        for t in [first, second] {
            x[(t * n + i) * 2 + 1] = 1.0;
            y[i] += values[t * n + i];
        }
    }
    (
        Tensor::from_vec(x, &[T, n, 2]),
        Tensor::from_vec(y, &[n, 1]),
    )
}

/// A recurrent network read at its last step through a linear head.
struct Net {
    name: &'static str,
    cell: Box<dyn Module<f32>>,
    head: Linear<f32>,
}

impl Net {
    fn forward(&self, x: &Tensor<f32>) -> Tensor<f32> {
        let out = self.cell.forward(x);
        let n = x.shape()[1];
        self.head
            .forward(&out.narrow(0, T - 1, 1).reshape(&[n, HIDDEN]))
    }
}

fn main() -> ExitCode {
    let (x_test, y_test) = sequences(1000, 1);
    let baseline = 1.0 / 6.0;
    println!("adding problem, T = {T}: always guessing 1 scores MSE {baseline:.3}\n");
    let nets = [
        Net {
            name: "RNN (tanh)",
            cell: Box::new(Rnn::new(2, HIDDEN, 10)),
            head: Linear::new(HIDDEN, 1, 11),
        },
        Net {
            name: "LSTM",
            cell: Box::new(Lstm::new(2, HIDDEN, 10)),
            head: Linear::new(HIDDEN, 1, 11),
        },
        Net {
            name: "GRU",
            cell: Box::new(Gru::new(2, HIDDEN, 10)),
            head: Linear::new(HIDDEN, 1, 11),
        },
    ];
    println!(
        "{:<12}{:>10}{:>14}{:>10}",
        "network", "test MSE", "÷ baseline", "time"
    );
    let mut scores = Vec::new();
    for net in &nets {
        let start = Instant::now();
        let mut params = net.cell.parameters();
        params.extend(net.head.parameters());
        let config = AdamConfig {
            lr: 0.01,
            ..Default::default()
        };
        let mut adam = Adam::new(params, config).expect("a valid rate");
        for step in 0..STEPS {
            let (x, y) = sequences(BATCH, 1000 + 2 * step);
            adam.zero_grad();
            mse(&net.forward(&x), &y).backward();
            adam.step();
        }
        let test = no_grad(|| mse(&net.forward(&x_test), &y_test).item()) as f64;
        println!(
            "{:<12}{test:>10.4}{:>14.2}{:>9.1}s",
            net.name,
            test / baseline,
            start.elapsed().as_secs_f64()
        );
        scores.push(test);
    }
    let gated_learn = scores[1] < baseline / 4.0 && scores[2] < baseline / 4.0;
    if gated_learn {
        println!("\ncheck: the LSTM and the GRU reach below a quarter of the baseline's MSE");
        ExitCode::SUCCESS
    } else {
        println!("\ncheck FAILED: a gated network stayed above a quarter of the baseline");
        ExitCode::FAILURE
    }
}
