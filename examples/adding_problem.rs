//! # The adding problem: why recurrent networks have gates
//!
//! Hochreiter & Schmidhuber's adding problem (1997): each input is a sequence of T = 50 steps
//! of two numbers, a value drawn uniformly from [0, 1) and a marker that is 1 at exactly two
//! steps (one in each half) and 0 elsewhere. The target is the sum of the two marked values.
//! Always guessing the mean, 1, scores the variance of a sum of two uniforms: MSE 1/6 ≈ 0.167.
//! To do better a network must carry the first marked value across up to 50 steps.
//!
//! A plain tanh RNN, an LSTM and a GRU of the same width (32) are trained by the library's
//! `Trainer` on the same 9,600 seeded sequences (Adam, lr 0.01, mini-batches of 64
//! reshuffled every epoch, at most 10 epochs: 1,500 steps). After each epoch the trainer
//! measures the loss on 1,000 validation sequences, stops when it has not improved for three
//! epochs, and keeps the best epoch's weights; 1,000 further sequences are the test set, used
//! once. The plain RNN's gradient through 50 tanh steps fades, and it stays near the
//! baseline; the gated networks learn the task. The example prints each one's test MSE beside
//! 0.167, the epoch it kept, and ends with a check: the LSTM and the GRU both reach a test
//! MSE below a quarter of the baseline.
//!
//! Run: `cargo run --release --example adding_problem`

use std::process::ExitCode;
use std::time::Instant;

use tapegrad::models::loader::DataLoader;
use tapegrad::models::loss::mse;
use tapegrad::models::module::{Gru, Linear, Lstm, Module, RecurrentConfig, Rnn};
use tapegrad::models::trainer::{EarlyStopping, Progress, Trainer};
use tapegrad::optim::{Adam, AdamConfig};
use tapegrad::Tensor;

/// Sequence length.
const T: usize = 50;
/// Hidden width of every network.
const HIDDEN: usize = 32;
/// Sequences per training step.
const BATCH: usize = 64;
/// Training sequences: 150 batches an epoch.
const TRAIN: usize = 9_600;
/// The most epochs a network trains for.
const EPOCHS: usize = 10;

/// `n` sequences `[n, T, 2]` (value, marker at each step) and their targets `[n, 1]`, seeded.
fn sequences(n: usize, seed: u64) -> DataLoader<f32, Tensor<f32>> {
    let values = Tensor::<f32>::rand_uniform(&[n, T], 0.0, 1.0, seed).to_vec();
    let picks = Tensor::<f32>::rand_uniform(&[n, 2], 0.0, 1.0, seed + 1).to_vec();
    let mut x = vec![0.0; n * T * 2];
    let mut y = vec![0.0; n];
    for i in 0..n {
        // One marker in each half of the sequence.
        let first = (picks[2 * i] * (T / 2) as f32) as usize;
        let second = T / 2 + (picks[2 * i + 1] * (T / 2) as f32) as usize;
        for t in 0..T {
            x[(i * T + t) * 2] = values[i * T + t];
        }
        for t in [first, second] {
            x[(i * T + t) * 2 + 1] = 1.0;
            y[i] += values[i * T + t];
        }
    }
    DataLoader::new(
        Tensor::from_vec(x, &[n, T, 2]),
        Tensor::from_vec(y, &[n, 1]),
        BATCH,
    )
}

/// A recurrent network (batch first) read at its last step through a linear head.
#[derive(Module)]
#[module(crate = tapegrad::models, float = f32)]
struct Net {
    #[module(skip)]
    name: &'static str,
    cell: Box<dyn Module<f32>>,
    head: Linear<f32>,
}

impl Net {
    fn forward(&self, x: &Tensor<f32>) -> Tensor<f32> {
        let out = self.cell.forward(x);
        let n = x.shape()[0];
        self.head
            .forward(&out.narrow(1, T - 1, 1).reshape(&[n, HIDDEN]))
    }
}

fn main() -> ExitCode {
    let train = sequences(TRAIN, 1000).shuffle(5);
    let val = sequences(1000, 3);
    let test = sequences(1000, 1);
    let baseline = 1.0 / 6.0;
    println!("adding problem, T = {T}: always guessing 1 scores MSE {baseline:.3}\n");
    let batch_first = RecurrentConfig {
        batch_first: true,
        ..Default::default()
    };
    let nets = [
        Net {
            name: "RNN (tanh)",
            cell: Box::new(Rnn::with_config(2, HIDDEN, batch_first, 10)),
            head: Linear::new(HIDDEN, 1, 11),
        },
        Net {
            name: "LSTM",
            cell: Box::new(Lstm::with_config(2, HIDDEN, batch_first, 10)),
            head: Linear::new(HIDDEN, 1, 11),
        },
        Net {
            name: "GRU",
            cell: Box::new(Gru::with_config(2, HIDDEN, batch_first, 10)),
            head: Linear::new(HIDDEN, 1, 11),
        },
    ];
    let mut table = Vec::new();
    let mut scores = Vec::new();
    for mut net in nets {
        eprintln!("training the {}:", net.name);
        let start = Instant::now();
        let config = AdamConfig {
            lr: 0.01,
            ..Default::default()
        };
        let mut adam = Adam::new(net.parameters(), config).expect("a valid rate");
        let mut trainer = Trainer::new(EPOCHS, mse)
            .early_stopping(EarlyStopping::new(3))
            .progress(Progress::Auto);
        let history = trainer
            .fit(&mut net, &mut adam, &train, Some(&val))
            .expect("a validation loader for early stopping");
        let (test_mse, _) = trainer.evaluate(&mut net, &test, false);
        let ran = history.epochs.len();
        let kept = history.kept().expect("a finished run").epoch;
        table.push(format!(
            "{:<12}{test_mse:>10.4}{:>14.2}{:>12}{:>9.1}s",
            net.name,
            test_mse / baseline,
            format!("{kept} of {ran}"),
            start.elapsed().as_secs_f64()
        ));
        scores.push(test_mse);
    }
    println!(
        "{:<12}{:>10}{:>14}{:>12}{:>10}",
        "network", "test MSE", "÷ baseline", "epoch kept", "time"
    );
    println!("{}", table.join("\n"));
    let gated_learn = scores[1] < baseline / 4.0 && scores[2] < baseline / 4.0;
    if gated_learn {
        println!("\ncheck: the LSTM and the GRU reach below a quarter of the baseline's MSE");
        ExitCode::SUCCESS
    } else {
        println!("\ncheck FAILED: a gated network stayed above a quarter of the baseline");
        ExitCode::FAILURE
    }
}
