//! # Yearly sunspots: an LSTM forecaster beside persistence and AR(10)
//!
//! `data/sunspots.csv` holds the yearly mean sunspot numbers 1700–2008 (see `data/README.md`).
//! Each model forecasts year t from the ten years t − 10 … t − 1 (one step ahead). The years
//! 1969–2008 are the test years and are used only for the final scores; everything is fitted
//! on the years up to 1968.
//!
//! - **persistence**: next year is this year;
//! - **AR(10)**: ŷₜ = b + Σₖ wₖ·yₜ₋ₖ, the closed-form least-squares fit on the training years;
//! - **LSTM**: one layer reading the ten (scaled) values in order, its last hidden state
//!   through a linear layer, trained with Adam on the mean squared error. Its hidden size and
//!   epoch count are chosen on a validation slice — the last 40 training targets, 1929–1968 —
//!   after training on the years before it; the chosen setting is then trained again on all
//!   the training years.
//!
//! It prints each model's test RMSE (in sunspot numbers) and ends with a check: the LSTM
//! beats persistence by at least 25 %. AR(10) is the classical model for this series and
//! is hard to beat with 259 training windows; the table says honestly which one wins.
//!
//! Run: `cargo run --release --example sunspots_lstm`

use std::process::ExitCode;

use tapegrad::models::least_squares::fit_with_bias;
use tapegrad::models::loss::mse;
use tapegrad::models::module::{Linear, Lstm, Module};
use tapegrad::optim::{Adam, AdamConfig, Optimizer};
use tapegrad::{no_grad, Param, Tensor};

/// The bundled data, embedded so the example needs no file at run time.
const SUNSPOTS: &str = include_str!("../data/sunspots.csv");

/// How many past years each forecast reads.
const WINDOW: usize = 10;

/// The first test year.
const FIRST_TEST_YEAR: usize = 1969;

/// The validation slice: the last this many training targets.
const VALIDATION: usize = 40;

/// (year, sunspot number) rows, in order.
fn series() -> Vec<(usize, f64)> {
    SUNSPOTS
        .lines()
        .skip(1)
        .map(|line| {
            let (year, value) = line.split_once(',').expect("two columns");
            (
                year.parse().expect("a year"),
                value.parse().expect("a number"),
            )
        })
        .collect()
}

/// The windows and targets for the target indices `targets` of `values`.
fn windows(values: &[f64], targets: &[usize]) -> (Vec<Vec<f64>>, Vec<f64>) {
    let x = targets
        .iter()
        .map(|&t| values[t - WINDOW..t].to_vec())
        .collect();
    let y = targets.iter().map(|&t| values[t]).collect();
    (x, y)
}

fn rmse(y: &[f64], y_hat: &[f64]) -> f64 {
    let sum: f64 = y.iter().zip(y_hat).map(|(a, b)| (a - b).powi(2)).sum();
    (sum / y.len() as f64).sqrt()
}

/// An LSTM forecaster on values scaled by the training mean and deviation.
struct Forecaster {
    lstm: Lstm<f64>,
    head: Linear<f64>,
    mean: f64,
    scale: f64,
}

impl Forecaster {
    fn new(hidden: usize, mean: f64, scale: f64) -> Self {
        Forecaster {
            lstm: Lstm::new(1, hidden, 7),
            head: Linear::new(hidden, 1, 8),
            mean,
            scale,
        }
    }

    fn parameters(&self) -> Vec<Param<f64>> {
        let mut params = self.lstm.parameters();
        params.extend(self.head.parameters());
        params
    }

    /// Scaled forecasts `[n, 1]` for windows `x`: the LSTM reads them time-major, `[10, n, 1]`.
    fn forward(&self, x: &[Vec<f64>]) -> Tensor<f64> {
        let n = x.len();
        let steps: Vec<f64> = (0..WINDOW)
            .flat_map(|k| x.iter().map(move |w| w[k]))
            .map(|v| (v - self.mean) / self.scale)
            .collect();
        let (out, _) = self
            .lstm
            .forward_with_state(&Tensor::from_vec(steps, &[WINDOW, n, 1]), None);
        self.head.forward(
            &out.narrow(0, WINDOW - 1, 1)
                .reshape(&[n, self.lstm.hidden_size()]),
        )
    }

    /// Full-batch Adam on the scaled squared error for `epochs` steps.
    fn train(&self, x: &[Vec<f64>], y: &[f64], epochs: usize) {
        let scaled: Vec<f64> = y.iter().map(|v| (v - self.mean) / self.scale).collect();
        let target = Tensor::from_vec(scaled, &[y.len(), 1]);
        let config = AdamConfig {
            lr: 0.01,
            ..Default::default()
        };
        let mut adam = Adam::new(self.parameters(), config).expect("a valid rate");
        for _ in 0..epochs {
            adam.zero_grad();
            mse(&self.forward(x), &target).backward();
            adam.step();
        }
    }

    /// Forecasts in sunspot numbers.
    fn predict(&self, x: &[Vec<f64>]) -> Vec<f64> {
        no_grad(|| self.forward(x))
            .to_vec()
            .iter()
            .map(|v| v * self.scale + self.mean)
            .collect()
    }
}

fn main() -> ExitCode {
    let rows = series();
    let values: Vec<f64> = rows.iter().map(|&(_, v)| v).collect();
    let first_test = rows
        .iter()
        .position(|&(year, _)| year == FIRST_TEST_YEAR)
        .expect("the test years are in the file");
    let train_targets: Vec<usize> = (WINDOW..first_test).collect();
    let test_targets: Vec<usize> = (first_test..values.len()).collect();
    let (x_train, y_train) = windows(&values, &train_targets);
    let (x_test, y_test) = windows(&values, &test_targets);
    let fit_part = train_targets.len() - VALIDATION;
    println!(
        "sunspots {}–{}: {} training windows (to {}), {} test years ({FIRST_TEST_YEAR}–{})\n",
        rows[0].0,
        rows[rows.len() - 1].0,
        train_targets.len(),
        FIRST_TEST_YEAR - 1,
        test_targets.len(),
        rows[rows.len() - 1].0
    );

    // Persistence: ŷₜ = yₜ₋₁.
    let persistence: Vec<f64> = x_test.iter().map(|w| w[WINDOW - 1]).collect();

    // AR(10): least squares on the training windows.
    let as_matrix = |x: &[Vec<f64>]| {
        Tensor::from_vec(x.iter().flatten().copied().collect(), &[x.len(), WINDOW])
    };
    let y_column = Tensor::from_vec(y_train.clone(), &[y_train.len(), 1]);
    let wb = fit_with_bias(&as_matrix(&x_train), &y_column).expect("a unique AR(10) fit");
    let ar: Vec<f64> = x_test
        .iter()
        .map(|w| wb[WINDOW] + w.iter().zip(&wb).map(|(x, w)| x * w).sum::<f64>())
        .collect();

    // LSTM: choose hidden size and epochs on the validation slice, then refit on all.
    let fit_values = &y_train[..fit_part];
    let mean = fit_values.iter().sum::<f64>() / fit_values.len() as f64;
    let scale = (fit_values.iter().map(|v| (v - mean).powi(2)).sum::<f64>()
        / fit_values.len() as f64)
        .sqrt();
    println!("LSTM settings on the validation years 1929–1968 (trained on the years before):");
    let mut best = (f64::INFINITY, 0, 0);
    for hidden in [8, 16, 32] {
        for epochs in [150, 300, 600] {
            let model = Forecaster::new(hidden, mean, scale);
            model.train(&x_train[..fit_part], &y_train[..fit_part], epochs);
            let score = rmse(&y_train[fit_part..], &model.predict(&x_train[fit_part..]));
            println!("  hidden {hidden:>2}, {epochs:>3} epochs: validation RMSE {score:.2}");
            if score < best.0 {
                best = (score, hidden, epochs);
            }
        }
    }
    let (_, hidden, epochs) = best;
    let model = Forecaster::new(hidden, mean, scale);
    model.train(&x_train, &y_train, epochs);
    let lstm = model.predict(&x_test);

    let scores = [
        ("persistence (last year)", rmse(&y_test, &persistence)),
        ("AR(10), least squares", rmse(&y_test, &ar)),
        ("LSTM", rmse(&y_test, &lstm)),
    ];
    println!("\nchosen: hidden {hidden}, {epochs} epochs\n");
    println!("{:<26}{:>10}", "model", "test RMSE");
    for (name, score) in scores {
        println!("{name:<26}{score:>10.2}");
    }
    let (persistence, ar, lstm) = (scores[0].1, scores[1].1, scores[2].1);
    let winner = if lstm < ar { "LSTM" } else { "AR(10)" };
    println!(
        "\n{winner} has the lower test error (LSTM/AR(10) = {:.2})",
        lstm / ar
    );
    if lstm <= 0.75 * persistence {
        println!(
            "check: the LSTM's RMSE is {:.0}% of persistence's (≤ 75%)",
            100.0 * lstm / persistence
        );
        ExitCode::SUCCESS
    } else {
        println!(
            "check FAILED: the LSTM's RMSE is {:.0}% of persistence's",
            100.0 * lstm / persistence
        );
        ExitCode::FAILURE
    }
}
